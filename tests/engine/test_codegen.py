"""The editor's KerasTuner code builds the same networks as the engine, for the same values.

Hand-made spaces (templates, branches, zoos of layer types) and, for every type in the layer
registry, a small network with its params searched.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from layer_examples import example_signature, example_spec, layer_kinds

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.search.defaults import keep_last_steps
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.registry import LAYER_TYPES, Application, Call
from automl_studio.engine.space.shapes import analyse
from automl_studio.engine.space.spec import (
    Boolean,
    Choice,
    FloatRange,
    IntRange,
    SearchSpace,
    hyperparameter_items,
)
from automl_studio.engine.space.templates import template_spec

TABULAR = DataSignature(
    "classification", 3, {"numeric": (4,), "categorical": (2,)}, categorical_tokens=9,
    numeric_mean=(5.8, 3.0, 3.7, 1.2), numeric_variance=(0.68, 0.19, 3.1, 0.58))
IMAGE = DataSignature("classification", 2, {"image": (16, 16, 3)}, image_scale=1 / 255)
SEQUENCE = DataSignature("regression", 0, {"sequence": (12, 3)}, target_mean=4.0, target_std=2.5)

BRANCHED = {
    "schema_version": 1, "name": "branched",
    "nodes": [
        {"id": "num", "type": "Input", "params": {"source": "numeric"}},
        {"id": "cat", "type": "Input", "params": {"source": "categorical", "encoding": "embedding",
                                                  "embedding_dim": {"hp": "int", "min": 2, "max": 6, "step": 2}}},
        {"id": "wide", "type": "Dense", "params": {"units": {"hp": "choice", "values": [8, 32]}}},
        {"id": "deep", "type": "Dense", "params": {"units": {"hp": "int", "min": 16, "max": 64, "step": 16},
                                                   "activation": {"hp": "choice", "values": ["relu", "tanh"]}}},
        {"id": "deep_drop", "type": "Dropout", "params": {"rate": {"hp": "float", "min": 0.0, "max": 0.4}},
         "optional": True},
        {"id": "deep_out", "type": "Dense", "params": {"units": 8, "use_bias": {"hp": "bool"}}},
        {"id": "merge", "type": "Concatenate", "params": {}},
        {"id": "norm", "type": "LayerNormalization", "params": {}, "optional": True},
        {"id": "head", "type": "Output", "params": {}},
    ],
    "edges": [["num", "wide"], ["cat", "deep"], ["deep", "deep_drop"], ["deep_drop", "deep_out"],
              ["wide", "merge"], ["deep_out", "merge"], ["num", "merge"], ["merge", "norm"],
              ["norm", "head"]],
    "repeats": [{"id": "tower", "nodes": ["deep", "deep_drop"], "min": 1, "max": 3}],
    "training": {"optimizer": {"hp": "choice", "values": ["sgd", "rmsprop"]},
                 "lr_schedule": {"hp": "choice", "values": ["constant", "cosine", "exponential"]},
                 "l1": {"hp": "choice", "values": [0.0, 1e-5]}, "learning_rate": 0.01},
}

SEQUENCE_ZOO = {
    "schema_version": 1, "name": "sequence zoo",
    "nodes": [
        {"id": "seq", "type": "Input", "params": {"source": "sequence"}},
        {"id": "conv", "type": "Conv1D", "params": {"filters": {"hp": "int", "min": 4, "max": 12, "step": 4},
                                                    "kernel_size": {"hp": "choice", "values": [3, 5]},
                                                    "padding": {"hp": "choice", "values": ["same", "valid"]}}},
        {"id": "pool", "type": "MaxPooling1D", "params": {"pool_size": 2, "padding": "same"}},
        {"id": "lstm", "type": "LSTM", "params": {"units": {"hp": "int", "min": 4, "max": 8},
                                                  "return_sequences": True}},
        {"id": "attend", "type": "MultiHeadAttention", "params": {"num_heads": {"hp": "choice", "values": [1, 2]},
                                                                  "key_dim": 4}, "optional": True},
        {"id": "norm", "type": "LayerNormalization", "params": {}},
        {"id": "bi", "type": "Bidirectional", "params": {"layer": {"hp": "choice", "values": ["LSTM", "GRU"]},
                                                         "units": 4, "return_sequences": True}},
        {"id": "avg", "type": "AveragePooling1D", "params": {"pool_size": {"hp": "int", "min": 1, "max": 2}}},
        {"id": "gap", "type": "GlobalAveragePooling1D", "params": {}},
        {"id": "flat", "type": "Flatten", "params": {}},
        {"id": "side", "type": "Dense", "params": {"units": 8, "activation": "tanh"}},
        {"id": "main", "type": "Dense", "params": {"units": 8, "use_bias": False}},
        {"id": "act", "type": "Activation", "params": {"activation": {"hp": "choice", "values": ["relu", "elu"]}}},
        {"id": "sum", "type": "Add", "params": {}},
        {"id": "gate", "type": "Multiply", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ],
    "edges": [["seq", "conv"], ["conv", "pool"], ["pool", "lstm"], ["lstm", "attend"], ["attend", "norm"],
              ["norm", "bi"], ["bi", "avg"], ["avg", "gap"], ["gap", "main"], ["seq", "flat"],
              ["flat", "side"], ["main", "act"], ["act", "sum"], ["side", "sum"], ["sum", "gate"],
              ["side", "gate"], ["gate", "head"]],
    "repeats": [{"id": "deep", "nodes": ["norm", "bi"], "min": 0, "max": 2}],
    "training": {"lr_schedule": "cosine", "optimizer": "adagrad", "l2": 1e-4,
                 "batch_size": {"hp": "int", "min": 16, "max": 64, "step": 16}},
}
IMAGE_ZOO = {
    "schema_version": 1, "name": "image zoo",
    "nodes": [
        {"id": "image", "type": "Input", "params": {"source": "image"}},
        {"id": "flip", "type": "RandomFlip", "params": {"mode": {"hp": "choice", "values": ["horizontal",
                                                                                          "vertical"]}}},
        {"id": "rotate", "type": "RandomRotation", "params": {"factor": {"hp": "float", "min": 0.0,
                                                                         "max": 0.2}}, "optional": True},
        {"id": "zoom", "type": "RandomZoom", "params": {"height_factor": 0.1}},
        {"id": "sep", "type": "SeparableConv2D", "params": {"filters": {"hp": "int", "min": 4, "max": 8},
                                                            "strides": {"hp": "choice", "values": [1, 2]}}},
        {"id": "bn", "type": "BatchNormalization", "params": {}, "optional": True},
        {"id": "avg", "type": "AveragePooling2D", "params": {"pool_size": 2, "padding": "same"}},
        {"id": "reshape", "type": "Reshape", "params": {"target_shape": [-1, 4]}},
        {"id": "tokens", "type": "GlobalAveragePooling1D", "params": {}},
        {"id": "gap_side", "type": "Conv2D", "params": {"filters": 4, "kernel_size": 1}},
        {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
        {"id": "join", "type": "Concatenate", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ],
    "edges": [["image", "flip"], ["flip", "rotate"], ["rotate", "zoom"], ["zoom", "sep"], ["sep", "bn"],
              ["bn", "avg"], ["avg", "gap_side"], ["gap_side", "reshape"], ["reshape", "tokens"],
              ["avg", "gap"], ["tokens", "join"], ["gap", "join"], ["join", "head"]],
    "repeats": [{"id": "stage", "nodes": ["sep", "bn"], "min": 1, "max": 2}],
    "training": {"optimizer": "rmsprop", "lr_schedule": {"hp": "choice", "values": ["exponential", "constant"]},
                 "l1": {"hp": "float", "min": 0.0, "max": 1e-3}},
}
EMBEDDED = {
    "schema_version": 1, "name": "embedded",
    "nodes": [
        {"id": "cat", "type": "Input", "params": {"source": "categorical",
                                                  "encoding": {"hp": "choice", "values": ["one_hot", "embedding"]},
                                                  "embedding_dim": {"hp": "int", "min": 2, "max": 4}}},
        {"id": "cat_again", "type": "Input", "params": {"source": "categorical"}},
        {"id": "tokens", "type": "Embedding", "params": {"input_dim": 10, "output_dim": 3}},
        {"id": "flat", "type": "Flatten", "params": {}},
        {"id": "join", "type": "Concatenate", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ],
    "edges": [["cat_again", "tokens"], ["tokens", "flat"], ["cat", "join"], ["flat", "join"],
              ["join", "head"]],
    "repeats": [], "training": {},
}
LAYERS_18 = {  # the layer types of issue #18: a Transformer block repeated and optional, attention
    "schema_version": 1, "name": "layers 18",
    "nodes": [
        {"id": "seq", "type": "Input", "params": {"source": "sequence"}},
        {"id": "deconv", "type": "Conv1DTranspose", "params": {
            "filters": {"hp": "int", "min": 4, "max": 8, "step": 4},
            "strides": {"hp": "choice", "values": [1, 2]}, "padding": "valid"}},
        {"id": "crop", "type": "Cropping1D", "params": {"cropping": 1}},
        {"id": "encoder", "type": "TransformerEncoder", "params": {
            "num_heads": {"hp": "choice", "values": [1, 2]}, "key_dim": 4,
            "ff_units": {"hp": "int", "min": 8, "max": 16, "step": 8},
            "dropout": {"hp": "float", "min": 0.0, "max": 0.2},
            "position_embedding": {"hp": "bool"}}, "optional": True},  # searched: an `if` in the code
        {"id": "pad", "type": "ZeroPadding1D", "params": {"padding": {"hp": "int", "min": 0, "max": 1}}},
        {"id": "up", "type": "UpSampling1D", "params": {"size": 2}},
        {"id": "rnn", "type": "SimpleRNN", "params": {"units": 4, "return_sequences": True}},
        {"id": "memory", "type": "SimpleRNN", "params": {"units": 4, "return_sequences": True,
                                                         "dropout": {"hp": "float", "min": 0.0, "max": 0.3}}},
        {"id": "attend", "type": "AdditiveAttention", "params": {"use_scale": {"hp": "bool"}}},
        {"id": "look", "type": "Attention", "params": {"score_mode": {"hp": "choice", "values": ["dot", "concat"]}}},
        {"id": "gmp", "type": "GlobalMaxPooling1D", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ],
    "edges": [["seq", "deconv"], ["deconv", "crop"], ["crop", "encoder"], ["encoder", "pad"], ["pad", "up"],
              ["up", "rnn"], ["seq", "memory"], ["rnn", "attend"], ["memory", "attend"],
              ["attend", "look"], ["memory", "look"], ["look", "gmp"], ["gmp", "head"]],
    "repeats": [{"id": "blocks", "nodes": ["encoder", "pad"], "min": 1, "max": 2}],
    "training": {},
}
REGRESSION_TABLE = DataSignature("regression", 0, {"categorical": (3,), "numeric": (2,)}, categorical_tokens=10,
                                 numeric_mean=(0.5, 1.5), numeric_variance=(2.0, 0.25), target_mean=-3.0,
                                 target_std=0.5)
IMAGE_10 = DataSignature("classification", 10, {"image": (12, 12, 3)}, image_scale=1.0)
TEXT_AND_TABLE = DataSignature("classification", 2, {"text": (10,), "numeric": (2,)}, text_tokens=30,
                               numeric_mean=(0.0, 1.0), numeric_variance=(1.0, 4.0))

CASES = [
    ("tabular", template_spec("tabular", inputs=["numeric", "categorical"]), TABULAR),
    ("image", template_spec("image"), IMAGE),
    ("residual", template_spec("residual"), IMAGE),
    ("sequence", template_spec("sequence"), SEQUENCE),
    ("text", template_spec("text", inputs=["text", "numeric"]), TEXT_AND_TABLE),
    ("branched", BRANCHED, TABULAR),
    ("sequence-zoo", SEQUENCE_ZOO, SEQUENCE),
    ("image-zoo", IMAGE_ZOO, IMAGE_10),
    ("embedded", EMBEDDED, REGRESSION_TABLE),
    ("layers-18", LAYERS_18, SEQUENCE),
    # A searched lookback: the window's last 4-12 steps (a Cropping1D of x.shape[1] - steps).
    ("forecast-lookback", keep_last_steps(SearchSpace.from_dict(template_spec("forecast")), 4, 12).to_dict(),
     SEQUENCE),
    # A forecast's head: the change from the window's last target value, added back to it.
    ("forecast-change", template_spec("forecast"),
     DataSignature("regression", 0, {"sequence": (12, 3)}, target_mean=4.0, target_std=2.5, target_width=2,
                   change_std=0.5)),
    # The forecast's attention block in every value set (a Dense projection, a Transformer encoder
    # with a position embedding), over a searched lookback.
    ("forecast-attention", keep_last_steps(SearchSpace.from_dict({**template_spec("forecast"), "repeats": [
        {"id": "attention", "nodes": ["attention_in", "transformer"], "min": 1, "max": 1}]}), 4, 12).to_dict(),
     DataSignature("regression", 0, {"sequence": (12, 2)}, target_mean=4.0, target_std=2.5, change_std=0.5)),
]


def _value_sets(space: SearchSpace, count: int, seed: int) -> list[dict[str, Any]]:
    """Smallest, largest, and random values for every hyperparameter the space may ask for."""
    rng = random.Random(seed)

    def pick(d: Any, mode: str) -> Any:
        if isinstance(d, IntRange):
            values = d.values()
            return values[0] if mode == "low" else values[-1] if mode == "high" else rng.choice(values)
        if isinstance(d, FloatRange):
            return d.min if mode == "low" else d.max if mode == "high" else rng.uniform(d.min, d.max)
        if isinstance(d, Choice):
            return d.values[0] if mode == "low" else d.values[-1] if mode == "high" else rng.choice(d.values)
        assert isinstance(d, Boolean)
        return mode == "high" or (mode == "random" and rng.random() < 0.5)

    items = list(hyperparameter_items(space))
    sets = [{name: pick(d, mode) for name, d in items}
            for mode in ["low", "high"] + ["random"] * (count - 2)]
    for values in sets:
        # The residual template's Add needs the skip and the block to agree on filters (the
        # template itself lets them differ; such a trial fails in the engine as well).
        if "stem.filters" in values:
            values["res_conv2.filters"] = values["stem.filters"]
    return sets


def _summary(model: Any) -> tuple[list[str], list[str], int]:
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    return ([type(layer).__name__ for layer in layers], [layer.name for layer in layers],
            model.count_params())


def check_code_builds_the_engines_network(name: str, space: SearchSpace, signature: DataSignature,
                                          count: int = 5) -> str:
    """Runs the code written for ``space`` and compares its networks with the engine's."""
    import keras
    import keras_tuner as kt

    from automl_studio.engine.space.spec import fixed_chooser
    from automl_studio.engine.train.hypermodel import build_model

    assert analyse(space, signature).valid  # a space the editor would let the user search
    source = kerastuner_code(space, signature)
    compile(source, f"<{name}>", "exec")  # valid Python before anything else
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the code under test
    for values in _value_sets(space, count, seed=len(name)):
        keras.backend.clear_session()
        expected = _summary(build_model(space, signature, fixed_chooser(values)))
        hp = kt.HyperParameters()
        hp.values.update(values)
        keras.backend.clear_session()
        model = namespace["build"](hp)
        assert _summary(model) == expected, values
        assert model.loss.__class__.__name__ in ("SparseCategoricalCrossentropy", "BinaryCrossentropy",
                                                 "MeanSquaredError")
    return source


@pytest.mark.parametrize(("name", "spec", "signature"), CASES, ids=[c[0] for c in CASES])
def test_generated_code_builds_the_engines_network(name: str, spec: dict, signature: DataSignature) -> None:
    check_code_builds_the_engines_network(name, SearchSpace.from_dict(spec), signature)


@pytest.mark.parametrize("kind", layer_kinds())
def test_code_for_every_registered_type_builds_the_engines_network(kind: str) -> None:
    space = SearchSpace.from_dict(example_spec(kind, searched=True))
    signature = example_signature(LAYER_TYPES[kind])
    source = check_code_builds_the_engines_network(kind, space, signature, 3)
    layer = LAYER_TYPES[kind]
    steps = layer.keras.plan({**layer.default_params(), **layer.example_params}, signature)
    for step in steps:
        called = f"keras.applications.{step.cls}," if isinstance(step, Application) else f"layers.{step.cls}("
        assert isinstance(step, Call) and called in source


def test_hyperparameters_are_registered_in_the_search_order() -> None:
    import keras
    import keras_tuner as kt

    from automl_studio.engine.train.hypermodel import build_model, kt_chooser, training_values

    space = SearchSpace.from_dict(BRANCHED)
    namespace: dict[str, Any] = {}
    exec(kerastuner_code(space, TABULAR), namespace)  # noqa: S102
    ours = kt.HyperParameters()
    namespace["build"](ours)
    engine = kt.HyperParameters()
    choose = kt_chooser(engine)
    training_values(space, choose)  # what SpecHyperModel.build does first
    build_model(space, TABULAR, choose)
    keras.backend.clear_session()
    assert [h.name for h in ours.space] == [h.name for h in engine.space]
    assert [h.get_config() for h in ours.space] == [h.get_config() for h in engine.space]


def test_code_names_the_engines_hyperparameters() -> None:
    source = kerastuner_code(SearchSpace.from_dict(template_spec("tabular")), TABULAR)
    assert 'hp.Int("block.repeats", 0, 4)' in source
    assert 'f"dense.units.{i}"' in source
    assert 'hp.Boolean(f"dropout.enabled.{i}")' in source
    assert 'hp.Float("training.learning_rate"' in source
    assert "import tensorflow" not in source
