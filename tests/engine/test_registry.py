"""The layer registry: a layer type declared once is known everywhere.

A throwaway type (``GaussianDropout``, mapped to ``keras.layers.GaussianDropout``) is registered
through the registry alone and must then show up in spec checks, shape inference, the real Keras
build, the generated KerasTuner code (which must run and build the same network) and the
editor's palette, inspector and id naming (real widgets). It is removed after each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_codegen import check_code_builds_the_engines_network

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import registry, shapes
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.registry import (
    LAYER_TYPES,
    KerasLayer,
    LayerType,
    ParamDef,
    register,
    registered,
    same_shape,
)
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser

NOISE = LayerType(
    "GaussianDropout", "Noise",
    (ParamDef("rate", "float", 0.1, min=0.0, max=0.95, doc="fraction of the noise variance, rate / (1 - rate)"),),
    doc="Multiplies by Gaussian noise of mean 1 while training (a regularizer)",
    shape=same_shape,
    keras=KerasLayer("GaussianDropout", lambda p: ((p["rate"],), {})),
    id_prefix="noise",
    example=((12,),),
)

TABLE = DataSignature("classification", 3, {"numeric": (4,)}, numeric_mean=(0.0,) * 4,
                      numeric_variance=(1.0,) * 4)


@pytest.fixture
def noise() -> Iterator[LayerType]:
    with registered(NOISE) as layer:
        yield layer
    assert "GaussianDropout" not in LAYER_TYPES  # the throwaway type is gone again


def noisy_spec(rate: Any = None) -> dict[str, Any]:
    """numeric → GaussianDropout → Dense → Output, the noise's rate searched unless given."""
    if rate is None:
        rate = {"hp": "float", "min": 0.05, "max": 0.5}
    return {"schema_version": 1, "name": "noisy", "nodes": [
        {"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
        {"id": "noise", "type": "GaussianDropout", "params": {"rate": rate}},
        {"id": "dense", "type": "Dense", "params": {"units": {"hp": "int", "min": 4, "max": 8}}},
        {"id": "head", "type": "Output", "params": {}},
    ], "edges": [["numeric", "noise"], ["noise", "dense"], ["dense", "head"]],
        "repeats": [], "training": {}}


# --- the engine -----------------------------------------------------------------------------


def test_a_registered_type_is_checked_like_the_built_in_ones(noise: LayerType) -> None:
    space = SearchSpace.from_dict(noisy_spec())
    assert space.node("noise").type == "GaussianDropout"
    with pytest.raises(SpecError, match=r"'rate' = 9.0 is outside 0.0…0.95"):
        SearchSpace.from_dict(noisy_spec(9.0))
    with pytest.raises(SpecError, match=r"has no param 'stddev'; it takes rate"):
        SearchSpace.from_dict({**noisy_spec(), "nodes": [
            {**n, "params": {"stddev": 0.1}} if n["id"] == "noise" else n for n in noisy_spec()["nodes"]]})


def test_an_unregistered_type_is_unknown_again() -> None:
    with registered(NOISE):
        SearchSpace.from_dict(noisy_spec())
    with pytest.raises(SpecError, match=r"node 'noise' has unknown layer type 'GaussianDropout'"):
        SearchSpace.from_dict(noisy_spec())


def test_shape_inference_runs_the_registered_rule(noise: LayerType) -> None:
    analysis = shapes.analyse(SearchSpace.from_dict(noisy_spec()), TABLE)

    assert analysis.valid, analysis.issues
    assert analysis.nodes["noise"].shape == (4,)
    assert (analysis.nodes["noise"].params_min, analysis.nodes["noise"].params_max) == (0, 0)
    assert analysis.nodes["dense"].shape == (8,)
    assert shapes.layer_output("GaussianDropout", {"rate": 0.1}, [(5, 3)], TABLE) == ((5, 3), 0)
    with pytest.raises(shapes.ShapeError, match="takes one input"):
        shapes.layer_output("GaussianDropout", {"rate": 0.1}, [(5,), (5,)], TABLE)


def test_the_engine_builds_the_registered_keras_layer(noise: LayerType) -> None:
    import keras

    from automl_studio.engine.train.hypermodel import build_model

    space = SearchSpace.from_dict(noisy_spec())
    choose = fixed_chooser({"noise.rate": 0.25, "dense.units": 6})
    model = build_model(space, TABLE, choose)

    layer = model.get_layer("noise")
    assert isinstance(layer, keras.layers.GaussianDropout)
    assert layer.rate == 0.25
    results, issues = shapes.evaluate(space, TABLE, choose)
    assert issues == []
    assert sum(p for _, p in results.values()) == model.count_params() == 4 * 6 + 6 + 6 * 3 + 3
    assert tuple(layer.output.shape[1:]) == results["noise"][0]


def test_the_code_view_writes_the_registered_layer_and_it_builds_the_same_network(noise: LayerType) -> None:
    space = SearchSpace.from_dict(noisy_spec())
    source = check_code_builds_the_engines_network("noisy", space, TABLE)
    assert 'x = layers.GaussianDropout(hp.Float("noise.rate", 0.05, 0.5), name="noise")(x)' in source

    fixed = kerastuner_code(SearchSpace.from_dict(noisy_spec(0.3)), TABLE)
    assert 'layers.GaussianDropout(0.3, name="noise")' in fixed


def test_a_registered_type_repeats_and_is_optional_like_any_layer(noise: LayerType) -> None:
    doc = noisy_spec()
    doc["nodes"][1]["optional"] = True
    doc["repeats"] = [{"id": "block", "nodes": ["noise", "dense"], "min": 1, "max": 3}]
    space = SearchSpace.from_dict(doc)
    source = check_code_builds_the_engines_network("noisy-block", space, TABLE)
    assert 'if hp.Boolean(f"noise.enabled.{i}"):' in source


def test_a_declaration_is_checked_when_registered() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(LAYER_TYPES["Dense"])
    with pytest.raises(TypeError, match="keras"):
        LayerType("Broken", "Core", shape=same_shape)  # type: ignore[call-arg]  # no Keras description
    bad = [
        LayerType("Broken", "Core", inputs="two", shape=same_shape, keras=KerasLayer("Dense")),
        LayerType("Broken", "Core", (ParamDef("mode", "choice", "a", ("b", "c")),),
                  shape=same_shape, keras=KerasLayer("Dense")),
        LayerType("Broken", "Core", shape=same_shape, keras=KerasLayer("Dense", call="twice")),
    ]
    for layer in bad:
        with pytest.raises(ValueError):
            register(layer)
        assert "Broken" not in LAYER_TYPES


def test_the_built_in_types_are_declared_completely() -> None:
    for name, layer in LAYER_TYPES.items():
        assert layer.category in registry.categories(), name
        if layer.role == "layer":
            assert layer.example, f"{name} declares no example input"
    roles = [layer.role for layer in LAYER_TYPES.values()]
    assert roles.count("input") == 1 and roles.count("output") == 1


# --- the editor (pytest-qt, real widgets) ---------------------------------------------------


def test_the_palette_offers_a_registered_type_in_its_group(qtbot, noise: LayerType) -> None:
    import json

    from automl_studio.gui.editor.node_palette import PAYLOAD_ROLE, NodePalette

    palette = NodePalette()
    qtbot.addWidget(palette)
    palette.show()

    assert "GaussianDropout" in palette.labels()
    groups = [palette.proxy.index(r, 0).data() for r in range(palette.proxy.rowCount())]
    assert groups[-1] == "Noise"  # a group no built-in type uses comes after the others
    index = palette.index_of("GaussianDropout")
    assert index.parent().data() == "Noise"
    assert "Gaussian noise" in index.data(0x0003)  # ToolTipRole: the type's help text
    assert json.loads(index.data(PAYLOAD_ROLE)) == {"type": "GaussianDropout", "params": {}}
    assert palette.mime_for("GaussianDropout").text() == "GaussianDropout"

    qtbot.keyClicks(palette.search, "gaussiandrop")
    assert palette.labels() == ["GaussianDropout"]


def test_the_editor_adds_names_and_inspects_a_registered_type(qtbot, noise: LayerType) -> None:
    from automl_studio.gui.editor.network_editor import NetworkEditor

    editor = NetworkEditor()
    qtbot.addWidget(editor)
    editor.set_signature(TABLE)
    editor.show()
    qtbot.waitExposed(editor)

    source = editor.add_node("Input", (0, 0), {"source": "numeric"})
    node = editor.add_node("GaussianDropout", (240, 0), connect_from=source)
    dense = editor.add_node("Dense", (480, 0), connect_from=node)
    editor.add_node("Output", (720, 0), connect_from=dense)

    assert node == "noise"  # the registry's id prefix
    editor.select_nodes([node])
    assert set(editor.inspector.editors) == {"rate"}
    assert editor.inspector.optional.isVisibleTo(editor.inspector)
    qtbot.waitUntil(lambda: editor.analysis() is not None and editor.analysis().valid, timeout=5_000)
    assert editor.analysis().nodes["noise"].shape == (4,)


def test_without_the_type_the_palette_no_longer_offers_it(qtbot) -> None:
    from automl_studio.gui.editor.node_palette import NodePalette

    with registered(NOISE):
        palette = NodePalette()
        qtbot.addWidget(palette)
        assert "GaussianDropout" in palette.labels()
    palette.set_signature(None)
    assert "GaussianDropout" not in palette.labels()
    groups = [palette.proxy.index(r, 0).data() for r in range(palette.proxy.rowCount())]
    assert "Noise" not in groups


def test_params_the_call_asks_for_out_of_order_are_asked_for_first() -> None:
    """KerasTuner registers a hyperparameter where the code asks for it; the engine asks in the
    declaration's order. A call placing the params otherwise gets them from locals set first."""
    import keras
    import keras_tuner as kt

    from automl_studio.engine.train.hypermodel import build_model, kt_chooser

    reordered = LayerType(
        "GaussianDropout", "Noise",
        (ParamDef("seed", "int", 1, min=0, max=100), ParamDef("rate", "float", 0.1, min=0.0, max=5.0)),
        shape=same_shape, keras=KerasLayer("GaussianDropout", lambda p: ((p["rate"],), {"seed": p["seed"]})),
        id_prefix="noise", example=((12,),))
    doc = noisy_spec()
    doc["nodes"][1]["params"]["seed"] = {"hp": "int", "min": 1, "max": 3}
    with registered(reordered):
        space = SearchSpace.from_dict(doc)
        source = check_code_builds_the_engines_network("reordered", space, TABLE)
        namespace: dict[str, Any] = {}
        exec(source, namespace)  # noqa: S102 - the code under test
        ours, engine = kt.HyperParameters(), kt.HyperParameters()
        namespace["build"](ours)
        build_model(space, TABLE, kt_chooser(engine))
        keras.backend.clear_session()
    assert 'seed = hp.Int("noise.seed", 1, 3)' in source
    assert "layers.GaussianDropout(rate, seed=seed, name=" in source
    assert [h.name for h in ours.space] == [h.name for h in engine.space]
