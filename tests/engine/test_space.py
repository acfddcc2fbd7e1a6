"""The search-space spec: JSON round trips, validation messages that name the node, counting."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import shapes
from automl_studio.engine.space.spec import (
    LAYER_TYPES,
    SPEC_SCHEMA_VERSION,
    IntRange,
    SearchSpace,
    count_configurations,
    hyperparameter_items,
    instantiate,
)
from automl_studio.engine.space.templates import TEMPLATES, template_defaults, template_spec

FLAT = DataSignature(task="classification", n_classes=3, inputs={"numeric": (6,)})
IMAGE = DataSignature(task="classification", n_classes=3, inputs={"image": (16, 16, 3)})
SEQUENCE = DataSignature(task="regression", n_classes=0, inputs={"sequence": (10, 4)})
TEXT = DataSignature(task="classification", n_classes=2, inputs={"text": (12,), "numeric": (3,)},
                     text_tokens=50, numeric_mean=(0.0,) * 3, numeric_variance=(1.0,) * 3)


def spec(nodes: list[dict[str, Any]], edges: list[list[str]], **extra: Any) -> dict[str, Any]:
    return {"schema_version": SPEC_SCHEMA_VERSION, "nodes": nodes, "edges": edges, **extra}


def node(node_id: str, kind: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": kind, "params": params}


def chain(*items: tuple[str, str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A straight chain of nodes, each feeding the next."""
    nodes = [node(i, k, **p) for i, k, p in items]
    edges = [[a["id"], b["id"]] for a, b in zip(nodes, nodes[1:], strict=False)]
    return spec(nodes, edges, **extra)


def mlp(**extra: Any) -> dict[str, Any]:
    return chain(("x", "Input", {}), ("d", "Dense", {"units": 8}), ("out", "Output", {}), **extra)


# --- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("inputs", [None, ["numeric", "categorical"]])
def test_template_round_trips_through_json(name: str, inputs: list[str] | None) -> None:
    space = SearchSpace.from_dict(template_spec(name, inputs=inputs))

    again = SearchSpace.from_dict(json.loads(space.to_json()))

    assert again == space
    assert again.to_dict() == space.to_dict()
    assert dict(hyperparameter_items(again)) == dict(hyperparameter_items(space))


def test_round_trip_keeps_optional_positions_repeats_and_training(tmp_path: Path) -> None:
    data = chain(("x", "Input", {}), ("d", "Dense", {"units": {"hp": "int", "min": 4, "max": 12,
                                                                "step": 4}}),
                 ("drop", "Dropout", {"rate": {"hp": "float", "min": 0.1, "max": 0.4, "step": 0.1}}),
                 ("out", "Output", {}),
                 repeats=[{"id": "blk", "nodes": ["d", "drop"], "min": 0, "max": 3}],
                 training={"optimizer": {"hp": "choice", "values": ["adam", "sgd"]},
                           "learning_rate": {"hp": "float", "min": 1e-4, "max": 1e-2, "log": True},
                           "batch_size": 16})
    data["nodes"][2]["optional"] = True
    data["nodes"][1]["position"] = [10.5, -3.0]
    path = tmp_path / "space.json"
    path.write_text(SearchSpace.from_dict(data).to_json(), encoding="utf-8")

    loaded = SearchSpace.load(path)

    assert loaded == SearchSpace.from_dict(data)
    assert loaded.node("drop").optional and not loaded.node("d").optional
    assert loaded.node("d").position == (10.5, -3.0)
    assert loaded.repeats[0].min == 0 and loaded.repeats[0].max == 3
    assert loaded.training_value("batch_size") == 16
    assert loaded.training_value("epochs") == 50  # the default


# --- validation messages ----------------------------------------------------------------------


def issue_for(data: dict[str, Any], signature: DataSignature = FLAT) -> SpecError:
    """The SpecError that parsing or validating ``data`` raises."""
    with pytest.raises(SpecError) as info:
        shapes.validate(SearchSpace.from_dict(data), signature)
    return info.value


def test_a_valid_spec_passes() -> None:
    shapes.validate(SearchSpace.from_dict(mlp()), FLAT)


def test_cycle_names_a_node_on_it() -> None:
    data = spec([node("x", "Input"), node("a", "Dense"), node("b", "Dense"), node("m", "Add"),
                 node("out", "Output")],
                [["x", "m"], ["m", "a"], ["a", "b"], ["b", "m"], ["b", "out"]])
    error = issue_for(data)
    assert "cycle" in error.message
    assert error.node in {"a", "b", "m"}
    assert f"'{error.node}'" in error.message


def test_dangling_input_names_the_node() -> None:
    data = spec([node("x", "Input"), node("lonely", "Dense"), node("out", "Output")], [["x", "out"]])
    error = issue_for(data)
    assert error.node == "lonely"
    assert "'lonely'" in error.message and "dangling" in error.message


@pytest.mark.parametrize("kind", ["Dense2", "dense", "Lambda", 3, None, ["Dense"]])
def test_unknown_layer_type_names_the_node(kind: Any) -> None:
    data = mlp()
    data["nodes"][1]["type"] = kind
    with pytest.raises(SpecError, match=r"node 'd' has unknown layer type") as info:
        SearchSpace.from_dict(data)
    assert info.value.node == "d"
    assert len(str(info.value)) < 200, "one readable line, not the list of every layer type"


@pytest.mark.parametrize(("kind", "closest"), [("Dense2", "'Dense'"), ("dense", "'Dense'"), ("LTSM", "'LSTM'")])
def test_a_misspelt_layer_type_gets_the_closest_names(kind: str, closest: str) -> None:
    data = mlp()
    data["nodes"][1]["type"] = kind
    with pytest.raises(SpecError, match="did you mean " + closest):
        SearchSpace.from_dict(data)


def test_unknown_param_names_the_node_and_the_param() -> None:
    data = mlp()
    data["nodes"][1]["params"]["neurons"] = 8
    with pytest.raises(SpecError, match=r"node 'd' \(Dense\) has no param 'neurons'.*units") as info:
        SearchSpace.from_dict(data)
    assert info.value.node == "d"


@pytest.mark.parametrize("value, needle", [
    ({"hp": "int", "min": 64, "max": 8}, "min ≤ max"),
    ({"hp": "int", "min": 8, "max": 64, "step": 0}, "step ≥ 1"),
    ({"hp": "int", "min": 0, "max": 4}, "outside 1…65536"),
    ({"hp": "int", "min": 8.5, "max": 64}, "whole numbers"),
    ({"hp": "int", "min": "8", "max": 64}, "whole numbers"),
    ({"hp": "float", "min": 1, "max": 2}, "whole number"),
    ({"hp": "choice", "values": []}, "at least one value"),
    ({"hp": "choice", "values": [8, 8]}, "same value twice"),
    ({"hp": "choice", "values": [8, "many"]}, "whole number"),
    ({"hp": "int", "min": 1}, "malformed hyperparameter"),
    ({"hp": "int", "min": 1, "max": 1e400}, "whole numbers"),
    ({"hp": "range", "min": 1, "max": 2}, "unknown hyperparameter kind"),
    (True, "whole number"),
    ("64", "whole number"),
    (0, "outside"),
])
def test_impossible_units_name_node_and_param(value: Any, needle: str | None) -> None:
    data = mlp()
    data["nodes"][1]["params"]["units"] = value
    with pytest.raises(SpecError, match=r"node 'd' param 'units'") as info:
        SearchSpace.from_dict(data)
    assert info.value.node == "d"
    if needle:
        assert needle in info.value.message


@pytest.mark.parametrize("value, needle", [
    ({"hp": "float", "min": 0.5, "max": 0.1}, "min ≤ max"),
    ({"hp": "float", "min": 0.0, "max": 0.5, "log": True}, "log-scale range needs min > 0"),
    ({"hp": "float", "min": -0.1, "max": 0.5, "log": True}, "log-scale range needs min > 0"),
    ({"hp": "float", "min": 0.0, "max": 0.5, "step": -0.1}, "step"),
    ({"hp": "float", "min": 0.0, "max": 0.5, "step": 1e-320}, "step"),
    ({"hp": "float", "min": 0.0, "max": float("nan")}, "finite"),
    ({"hp": "float", "min": 0.0, "max": 0.99}, "outside 0.0…0.95"),
    (1.5, "outside"),
    ("half", "must be a number"),
])
def test_impossible_dropout_rate_names_node(value: Any, needle: str) -> None:
    data = chain(("x", "Input", {}), ("drop", "Dropout", {"rate": value}), ("out", "Output", {}))
    with pytest.raises(SpecError, match=r"node 'drop' param 'rate'") as info:
        SearchSpace.from_dict(data)
    assert needle in info.value.message
    assert info.value.node == "drop"


@pytest.mark.parametrize("training, needle", [
    ({"learning_rate": {"hp": "float", "min": 0.0, "max": 0.1, "log": True}}, "learning_rate"),
    ({"learning_rate": 0}, "learning rate must be in"),
    ({"optimizer": "lion"}, "unknown optimizer 'lion'"),
    ({"batch_size": {"hp": "int", "min": 0, "max": 64}}, "'batch_size'"),
    ({"epochs": 0}, "'epochs'"),
    ({"patience": -1}, "'patience'"),
    ({"l2": -0.1}, "'l2'"),
    ({"dampening": 0.9}, "unknown training setting 'dampening'"),
    ({"optimizer": "sgd", "momentum": 1.5}, "'momentum' must be a number in 0.0…0.9999"),
    ({"optimizer": "sgd", "nesterov": 1}, "'nesterov' must be true or false"),
    ({"clipnorm": -1.0}, "'clipnorm' must be ≥ 0"),
    ({"lr_schedule": "linear"}, "schedule"),
])
def test_impossible_training_settings_name_the_setting(training: dict[str, Any], needle: str) -> None:
    with pytest.raises(SpecError) as info:
        SearchSpace.from_dict(mlp(training=training))
    assert needle in info.value.message


def test_dense_to_conv2d_on_a_flat_input_names_the_conv() -> None:
    data = chain(("x", "Input", {}), ("d", "Dense", {}), ("conv", "Conv2D", {}),
                 ("gap", "GlobalAveragePooling2D", {}), ("out", "Output", {}))
    error = issue_for(data)
    assert error.node == "conv"
    assert "Conv2D 'conv' needs an image" in error.message and "(64,)" in error.message


def test_head_after_a_non_flat_tensor_names_the_output() -> None:
    data = chain(("img", "Input", {"source": "image"}), ("conv", "Conv2D", {}), ("out", "Output", {}))
    error = issue_for(data, IMAGE)
    assert error.node == "out"
    assert "flat input" in error.message and "Flatten" in error.message


def test_merge_with_mismatched_shapes_names_the_merge() -> None:
    data = spec([node("x", "Input"), node("a", "Dense", units=8), node("b", "Dense", units=16),
                 node("sum", "Add"), node("out", "Output")],
                [["x", "a"], ["x", "b"], ["a", "sum"], ["b", "sum"], ["sum", "out"]])
    error = issue_for(data)
    assert error.node == "sum"
    assert "Add 'sum'" in error.message and "(8,)" in error.message and "(16,)" in error.message


def test_merge_shape_mismatch_only_for_some_values_is_still_found() -> None:
    data = spec([node("x", "Input"), node("a", "Dense", units={"hp": "int", "min": 8, "max": 16}),
                 node("b", "Dense", units=8), node("sum", "Add"), node("out", "Output")],
                [["x", "a"], ["x", "b"], ["a", "sum"], ["b", "sum"], ["sum", "out"]])
    assert issue_for(data).node == "sum"


def test_image_shrunk_to_nothing_by_the_deepest_repeat_is_found() -> None:
    data = chain(("img", "Input", {"source": "image"}),
                 ("conv", "Conv2D", {"padding": "valid"}),
                 ("pool", "MaxPooling2D", {}), ("gap", "GlobalAveragePooling2D", {}),
                 ("out", "Output", {}), repeats=[{"id": "blk", "nodes": ["conv", "pool"],
                                                 "min": 1, "max": 4}])
    error = issue_for(data, IMAGE)
    assert error.node in {"conv", "pool"}
    assert "smaller than the window" in error.message


def test_repeat_block_that_is_not_a_chain_names_the_node() -> None:
    data = spec([node("x", "Input"), node("a", "Dense"), node("b", "Dense"), node("c", "Dense"),
                 node("out", "Output")],
                [["x", "a"], ["x", "b"], ["a", "c"], ["b", "c"], ["c", "out"]],
                repeats=[{"id": "blk", "nodes": ["a", "c"], "min": 1, "max": 2}])
    data["nodes"][3]["type"] = "Concatenate"
    error = issue_for(data)
    assert error.node == "c"
    assert "repeat block 'blk'" in error.message


def test_repeat_of_a_merge_names_the_merge() -> None:
    data = spec([node("x", "Input"), node("a", "Dense"), node("b", "Dense"), node("m", "Add"),
                 node("out", "Output")],
                [["x", "a"], ["x", "b"], ["a", "m"], ["b", "m"], ["m", "out"]],
                repeats=[{"id": "blk", "nodes": ["m"], "min": 1, "max": 2}])
    error = issue_for(data)
    assert error.node == "m" and "blk" in error.message


@pytest.mark.parametrize("repeat, needle", [
    ({"id": "blk", "nodes": ["d"], "min": 3, "max": 1}, "0 ≤ min ≤ max ≤ 64"),
    ({"id": "blk", "nodes": ["d"], "min": -1, "max": 1}, "0 ≤ min ≤ max ≤ 64"),
    ({"id": "blk", "nodes": ["d"], "min": 1, "max": 65}, "0 ≤ min ≤ max ≤ 64"),
    ({"id": "blk", "nodes": ["ghost"]}, "names no node 'ghost'"),
    ({"id": "blk", "nodes": []}, "holds no nodes"),
    ({"nodes": ["d"]}, "malformed repeat block"),
])
def test_malformed_repeat_blocks(repeat: dict[str, Any], needle: str) -> None:
    with pytest.raises(SpecError) as info:
        SearchSpace.from_dict(mlp(repeats=[repeat]))
    assert needle in info.value.message


def test_two_output_nodes_name_the_second() -> None:
    data = spec([node("x", "Input"), node("out1", "Output"), node("out2", "Output")],
                [["x", "out1"], ["x", "out2"]])
    error = issue_for(data)
    assert error.node == "out2"
    assert "exactly one Output" in error.message and "has 2" in error.message


def test_no_output_node() -> None:
    data = spec([node("x", "Input"), node("d", "Dense")], [["x", "d"]])
    assert "exactly one Output" in issue_for(data).message


def test_node_not_leading_to_output_is_named() -> None:
    data = spec([node("x", "Input"), node("d", "Dense"), node("side", "Dense"), node("out", "Output")],
                [["x", "d"], ["d", "out"], ["x", "side"]])
    error = issue_for(data)
    assert error.node == "side"
    assert "'side' does not lead to the Output" in error.message


def test_input_reading_data_the_dataset_lacks_names_it() -> None:
    data = chain(("img", "Input", {"source": "image"}), ("f", "Flatten", {}), ("out", "Output", {}))
    error = issue_for(data, FLAT)
    assert error.node == "img"
    assert "no image input" in error.message and "numeric" in error.message


def test_edge_to_a_missing_node_names_it() -> None:
    data = mlp()
    data["edges"].append(["d", "ghost"])
    with pytest.raises(SpecError, match="names no node 'ghost'") as info:
        SearchSpace.from_dict(data)
    assert info.value.node == "ghost"


def test_duplicate_node_ids_are_refused() -> None:
    data = mlp()
    data["nodes"][2]["id"] = "d"
    with pytest.raises(SpecError, match="two nodes are called 'd'"):
        SearchSpace.from_dict(data)


@pytest.mark.parametrize("version", [SPEC_SCHEMA_VERSION + 1, 99])
def test_future_schema_version_is_refused(version: int, tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(json.dumps(mlp(schema_version=version)), encoding="utf-8")
    with pytest.raises(SpecError, match=rf"{path.name}: written by a newer automl-studio \(spec schema "
                                        rf"{version}"):
        SearchSpace.load(path)


@pytest.mark.parametrize("data, needle", [
    ([], "is a JSON object"),
    ({"nodes": []}, "no schema_version"),
    ({"schema_version": "1", "nodes": []}, "no schema_version"),
    ({"schema_version": 1, "nodes": []}, "no nodes"),
    ({"schema_version": 1, "nodes": [{"type": "Dense"}]}, "node #1 has no id"),
    ({"schema_version": 1, "nodes": [{"id": "x", "type": "Input"}], "edges": 5}, "'edges' must be"),
    ({"schema_version": 1, "nodes": [{"id": "x", "type": "Input"}], "repeats": "x"}, "'repeats'"),
    ({"schema_version": 1, "nodes": [{"id": "x", "type": "Input"}], "edges": [["x"]]}, "an edge"),
    ({"schema_version": 1, "nodes": [{"id": "x", "type": "Input", "params": [1]}]}, "params must be"),
    ({"schema_version": 1, "nodes": [{"id": "x", "type": "Input"}], "training": [1]}, "'training'"),
])
def test_malformed_spec_documents(data: Any, needle: str) -> None:
    with pytest.raises(SpecError) as info:
        SearchSpace.from_dict(data)
    assert needle in info.value.message


def test_load_names_the_file_for_bad_json_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.json: not a spec file"):
        SearchSpace.load(bad)
    with pytest.raises(SpecError, match=r"nothing\.json: no such spec file"):
        SearchSpace.load(tmp_path / "nothing.json")


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_validate_for_their_data(name: str) -> None:
    signature = {"tabular": FLAT, "image": IMAGE, "residual": IMAGE, "sequence": SEQUENCE,
                 "forecast": SEQUENCE, "text": TEXT}[name]
    space = SearchSpace.from_dict(template_spec(name, inputs=list(signature.inputs)))
    shapes.validate(space, signature)


def test_template_options_that_cannot_be_are_refused() -> None:
    with pytest.raises(SpecError, match="unknown template 'cnn'"):
        template_defaults("cnn")
    with pytest.raises(SpecError, match="min is above max"):
        template_spec("tabular", {"min_units": 64, "max_units": 16})
    with pytest.raises(SpecError, match="learning-rate range"):
        template_spec("image", {"min_lr": 0.0})


# --- counting ---------------------------------------------------------------------------------


def test_a_fixed_space_has_one_configuration() -> None:
    assert count_configurations(SearchSpace.from_dict(mlp())) == 1


def test_independent_hyperparameters_multiply() -> None:
    data = chain(("x", "Input", {}),
                 ("d", "Dense", {"units": {"hp": "int", "min": 16, "max": 64, "step": 16},
                                 "activation": {"hp": "choice", "values": ["relu", "tanh", "gelu"]},
                                 "use_bias": {"hp": "bool"}}),
                 ("drop", "Dropout", {"rate": {"hp": "float", "min": 0.0, "max": 0.5, "step": 0.1}}),
                 ("out", "Output", {}),
                 training={"batch_size": {"hp": "choice", "values": [16, 32]}})
    # units 4 × activation 3 × bias 2 × rate 6 × batch 2
    assert count_configurations(SearchSpace.from_dict(data)) == 4 * 3 * 2 * 6 * 2


def test_an_optional_node_adds_one_configuration_for_off() -> None:
    data = chain(("x", "Input", {}), ("d", "Dense", {"units": {"hp": "int", "min": 1, "max": 5}}),
                 ("out", "Output", {}))
    data["nodes"][1]["optional"] = True
    space = SearchSpace.from_dict(data)
    # Off: one network; on: five. The units are never asked when the layer is off.
    assert count_configurations(space) == 6
    asked: list[str] = []

    def off(name: str, hp: Any) -> Any:
        asked.append(name)
        return False

    instantiate(space, off)
    assert asked == ["d.enabled"]


def test_a_continuous_range_makes_the_space_infinite() -> None:
    data = mlp(training={"learning_rate": {"hp": "float", "min": 1e-4, "max": 1e-2, "log": True}})
    assert math.isinf(count_configurations(SearchSpace.from_dict(data)))


@pytest.mark.parametrize("low, high, expected", [
    (1, 1, 3),            # one copy: 3
    (1, 3, 3 + 9 + 27),   # copies are independent: 3¹ + 3² + 3³
    (0, 2, 1 + 3 + 9),    # zero copies is one more network
    (0, 0, 1),
    (2, 2, 9),
])
def test_repeat_blocks_sum_over_copy_counts(low: int, high: int, expected: int) -> None:
    data = chain(("x", "Input", {}), ("d", "Dense", {"units": {"hp": "choice", "values": [8, 16, 32]}}),
                 ("out", "Output", {}), repeats=[{"id": "blk", "nodes": ["d"], "min": low, "max": high}])
    assert count_configurations(SearchSpace.from_dict(data)) == expected


def test_repeat_block_with_an_optional_member() -> None:
    data = chain(("x", "Input", {}), ("d", "Dense", {"units": {"hp": "choice", "values": [8, 16]}}),
                 ("bn", "BatchNormalization", {}), ("out", "Output", {}),
                 repeats=[{"id": "blk", "nodes": ["d", "bn"], "min": 0, "max": 2}])
    data["nodes"][2]["optional"] = True
    per_copy = 2 * 2  # units × (bn on/off)
    assert count_configurations(SearchSpace.from_dict(data)) == 1 + per_copy + per_copy ** 2


def test_count_matches_brute_force_enumeration() -> None:
    """Every distinct concrete network, enumerated, equals the count."""
    data = chain(("x", "Input", {}), ("d", "Dense", {"units": {"hp": "choice", "values": [4, 8]}}),
                 ("drop", "Dropout", {"rate": {"hp": "choice", "values": [0.1, 0.2]}}),
                 ("act", "Activation", {"activation": {"hp": "choice", "values": ["relu", "tanh"]}}),
                 ("out", "Output", {}), repeats=[{"id": "blk", "nodes": ["d", "drop"], "min": 0, "max": 2}])
    data["nodes"][2]["optional"] = True
    space = SearchSpace.from_dict(data)
    seen: set[tuple[Any, ...]] = set()

    def explore(fixed: dict[str, Any]) -> None:
        pending: list[tuple[str, Any]] = []

        def choose(name: str, hp: Any) -> Any:
            if name in fixed:
                return fixed[name]
            pending.append((name, hp))
            return hp.values[0] if hasattr(hp, "values") and not isinstance(hp, IntRange) else (
                hp.min if isinstance(hp, IntRange) else False)

        nodes = instantiate(space, choose)
        if pending:
            name, hp = pending[0]
            options = (list(hp.values) if not isinstance(hp, IntRange) else hp.values()) \
                if hasattr(hp, "values") else [False, True]
            for value in options:
                explore({**fixed, name: value})
            return
        seen.add(tuple((n.type, tuple(sorted(n.params.items()))) for n in nodes))

    explore({})
    # per copy: units 2 × dropout (off, or on with 2 rates) 3 = 6; copies 0–2: 1 + 6 + 36;
    # times the activation's 2.
    assert len(seen) == count_configurations(space) == 2 * (1 + 6 + 36)


def test_huge_integer_ranges_count_without_listing_them() -> None:
    data = mlp(training={"batch_size": {"hp": "int", "min": 1, "max": 10 ** 12}})
    assert count_configurations(SearchSpace.from_dict(data)) == 10 ** 12


def test_a_space_too_large_for_a_float_is_infinite_not_an_error() -> None:
    units = {"hp": "int", "min": 1, "max": 65536}
    data = chain(("x", "Input", {}), ("a", "Dense", {"units": units}), ("b", "Dense", {"units": units}),
                 ("out", "Output", {}), repeats=[{"id": "blk", "nodes": ["a", "b"], "min": 0, "max": 64}])
    assert math.isinf(count_configurations(SearchSpace.from_dict(data)))
    shapes.analyse(SearchSpace.from_dict(data), FLAT)


def test_hyperparameter_names_are_stable_and_readable() -> None:
    space = SearchSpace.from_dict(template_spec("tabular"))
    names = [name for name, _ in hyperparameter_items(space)]
    assert "block.repeats" in names
    assert {"dense.units.0", "dense.units.3", "dropout.enabled.2", "training.learning_rate"} <= set(names)
    assert len(names) == len(set(names))


def test_a_hundred_node_chain_analyses() -> None:
    items = [("x", "Input", {})]
    for i in range(98):
        kind = ("Dense", "BatchNormalization", "Dropout", "Activation")[i % 4]
        params = {"units": {"hp": "int", "min": 4, "max": 64, "step": 4}} if kind == "Dense" else {}
        items.append((f"n{i}", kind, params))
    items.append(("out", "Output", {}))
    space = SearchSpace.from_dict(chain(*items))
    assert len(space.nodes) == 100

    analysis = shapes.analyse(space, FLAT)

    assert analysis.valid
    assert set(analysis.nodes) == {n.id for n in space.nodes}
    assert analysis.params_min < analysis.params_max
    assert analysis.nodes["out"].shape == (3,)


def test_analysis_of_a_broken_graph_still_reports_the_healthy_nodes() -> None:
    data = spec([node("x", "Input"), node("d", "Dense", units=5), node("conv", "Conv2D"),
                 node("out", "Output")], [["x", "d"], ["d", "conv"], ["conv", "out"]])
    analysis = shapes.analyse(SearchSpace.from_dict(data), FLAT)
    assert not analysis.valid
    assert analysis.nodes["d"].shape == (5,)
    assert analysis.nodes["d"].params_min == analysis.nodes["d"].params_max == 6 * 5 + 5
    assert analysis.nodes["conv"].shape is None and analysis.nodes["out"].shape is None
    assert analysis.issues_for("conv") and not analysis.issues_for("out")


def test_every_layer_type_default_params_pass_their_own_checks() -> None:
    for kind, layer in LAYER_TYPES.items():
        params = {p.name: copy.deepcopy(p.default) for p in layer.params}
        if "target_shape" in params:
            params["target_shape"] = list(params["target_shape"])
        SearchSpace.from_dict(spec([{"id": "n", "type": kind, "params": params}], []))


def test_template_batch_sizes_follow_the_training_rows():
    from automl_studio.engine.space.templates import (
        batch_sizes_for,
        resolve_space,
        template_spec,
    )

    assert batch_sizes_for(90, [32, 64]) == [8]  # iris: 11 steps an epoch, not 2-3
    assert batch_sizes_for(343, [32, 64]) == [16, 32]
    assert batch_sizes_for(5000, [32, 64]) == [32, 64]  # enough rows: the usual sizes
    assert template_spec("tabular")["training"]["batch_size"] == {"hp": "choice", "values": [32, 64]}
    assert template_spec("tabular", train_rows=90)["training"]["batch_size"] == 8
    # A batch size the user chose is kept whatever the rows.
    chosen = template_spec("tabular", {"batch_sizes": [64]}, train_rows=90)
    assert chosen["training"]["batch_size"] == 64
    assert resolve_space("auto", ["numeric"], train_rows=266).training["batch_size"].values == (16, 32)


def test_the_image_template_follows_the_images():
    """Tiny grey digits: no mirror images, and a linear model on the pixels first (issue #16)."""
    from automl_studio.engine.data.signature import DataSignature
    from automl_studio.engine.space import shapes
    from automl_studio.engine.space.templates import resolve_space, template_spec

    def layout(shape):
        space = resolve_space("auto", ["image"], train_rows=1000, image_shape=shape)
        return {n.id: n.type for n in space.nodes}, {r.id: (r.min, r.max) for r in space.repeats}, space

    types, repeats, space = layout((8, 8, 1))
    assert "flip" not in types and types["flatten"] == "Flatten" and repeats["conv_block"] == (0, 3)
    digits = DataSignature(task="classification", n_classes=10, inputs={"image": (8, 8, 1)}, image_scale=1 / 16)
    analysis = shapes.analyse(space, digits)
    assert analysis.valid, analysis.issues
    assert analysis.params_min == 8 * 8 * 10 + 10  # softmax regression on the 64 pixels
    # Few images: the linear model's raw pixels learn too slowly; one convolution block first.
    few = resolve_space("auto", ["image"], train_rows=100, image_shape=(8, 8, 1))
    assert {r.id: (r.min, r.max) for r in few.repeats}["conv_block"] == (1, 3)
    assert "flatten" in {n.id for n in few.nodes}
    types, repeats, _ = layout((28, 28, 1))  # letters, digits: kept unmirrored, convolved
    assert "flip" not in types and types["gap"] == "GlobalAveragePooling2D" and repeats["conv_block"] == (1, 3)
    types, repeats, _ = layout((32, 32, 3))  # photos keep every augmentation
    assert types["flip"] == "RandomFlip" and "flatten" not in types and repeats["conv_block"] == (1, 3)
    types, _, _ = layout(None)
    assert "flip" in types  # shape unknown: as before
    # What the person chose wins over what the images suggest.
    chosen = template_spec("image", {"flip": True, "flatten": False, "min_blocks": 1}, inputs=["image"],
                           image_shape=(8, 8, 1))
    assert {"flip", "gap"} <= {n["id"] for n in chosen["nodes"]}


def test_the_data_signature_carries_its_training_rows(tmp_path):
    from automl_studio.engine.data.features import prepare_data
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset
    from automl_studio.engine.data.signature import DataSignature

    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{i},{i % 7},{i % 2}" for i in range(100)))
    dataset = load_dataset(str(path))
    signature = prepare_data(dataset, profile_dataset(dataset, "y")).signature
    assert signature.train_rows == 60  # 20 % validation, 20 % test
    assert DataSignature.from_dict(signature.to_dict()).train_rows == 60
    older = {k: v for k, v in signature.to_dict().items() if k != "train_rows"}  # an earlier file
    assert DataSignature.from_dict(older).train_rows == 0
