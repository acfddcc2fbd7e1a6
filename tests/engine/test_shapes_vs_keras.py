"""shapes.layer_output and shapes.analyse agree with what Keras itself builds.

Every layer type is built in Keras with the same params on a suitable input; its output shape
and ``count_params()`` must equal our plain-Python inference. That is done twice: with a Keras
twin written out independently below (cases for every registered type), and for every type in
the registry with the engine's own construction from its declaration, alone and in a network.
Then whole template networks are built with ``hypermodel.build_model`` and compared node by node.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import pytest
from layer_examples import example_signature, example_spec, layer_kinds

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import shapes
from automl_studio.engine.space.registry import KerasPlan
from automl_studio.engine.space.spec import (
    LAYER_TYPES,
    Boolean,
    Choice,
    FloatRange,
    IntRange,
    SearchSpace,
    fixed_chooser,
)
from automl_studio.engine.space.templates import TEMPLATES, template_spec
from automl_studio.engine.train.hypermodel import build_model, build_node
from automl_studio.engine.train.hypermodel import keras_layer as engine_layer

SIG = DataSignature(task="classification", n_classes=3, inputs={"numeric": (4,)})


def full_params(kind: str, **given: Any) -> dict[str, Any]:
    """The layer's params: its catalogue defaults overridden by ``given``."""
    params = {p.name: p.default for p in LAYER_TYPES[kind].params}
    unknown = set(given) - set(params)
    assert not unknown, f"test asks for params {kind} does not have: {unknown}"
    params.update(given)
    return params


def keras_layer(kind: str, p: dict[str, Any]) -> keras.layers.Layer:
    """The Keras layer a spec node of ``kind`` stands for, written out independently."""
    L = keras.layers
    if kind == "Dense":
        return L.Dense(p["units"], activation=p["activation"], use_bias=p["use_bias"])
    if kind == "Activation":
        return L.Activation(p["activation"])
    if kind == "Dropout":
        return L.Dropout(p["rate"])
    if kind == "Flatten":
        return L.Flatten()
    if kind == "Reshape":
        return L.Reshape(tuple(p["target_shape"]))
    if kind in ("Conv1D", "Conv2D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose"):
        return getattr(L, kind)(p["filters"], p["kernel_size"], strides=p["strides"],
                                padding=p["padding"], activation=p["activation"])
    if kind in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
        return getattr(L, kind)(pool_size=p["pool_size"], padding=p["padding"])
    if kind in ("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
                "GlobalMaxPooling2D", "BatchNormalization",
                "LayerNormalization", "Add", "Concatenate", "Multiply"):
        return getattr(L, kind)()
    if kind == "UpSampling1D":
        return L.UpSampling1D(p["size"])
    if kind == "UpSampling2D":
        return L.UpSampling2D((p["size"], p["size"]), interpolation=p["interpolation"])
    if kind in ("ZeroPadding1D", "ZeroPadding2D"):
        return getattr(L, kind)(p["padding"])
    if kind in ("Cropping1D", "Cropping2D"):
        return getattr(L, kind)(p["cropping"])
    if kind == "Attention":
        return L.Attention(use_scale=p["use_scale"], score_mode=p["score_mode"], dropout=p["dropout"])
    if kind == "AdditiveAttention":
        return L.AdditiveAttention(use_scale=p["use_scale"], dropout=p["dropout"])
    if kind == "ConvLSTM1D":
        return L.ConvLSTM1D(p["filters"], p["kernel_size"], strides=p["strides"], padding=p["padding"],
                            return_sequences=p["return_sequences"])
    if kind in ("LSTM", "GRU", "SimpleRNN"):
        return getattr(L, kind)(p["units"], return_sequences=p["return_sequences"])
    if kind == "Bidirectional":
        inner = getattr(L, p["layer"])(p["units"], return_sequences=p["return_sequences"])
        return L.Bidirectional(inner)
    if kind == "Embedding":
        return L.Embedding(p["input_dim"], p["output_dim"])
    if kind == "MultiHeadAttention":
        return L.MultiHeadAttention(p["num_heads"], p["key_dim"])
    if kind == "RandomFlip":
        return L.RandomFlip(p["mode"])
    if kind == "RandomRotation":
        return L.RandomRotation(p["factor"])
    if kind == "RandomZoom":
        return L.RandomZoom(p["height_factor"])
    if kind in ("SpatialDropout1D", "SpatialDropout2D"):
        return getattr(L, kind)(p["rate"])
    if kind == "GaussianNoise":
        return L.GaussianNoise(p["stddev"])
    raise AssertionError(f"no Keras twin for {kind}")


def transformer_twin(x: Any, p: dict[str, Any]) -> Any:
    """The Transformer encoder block of Keras' text classification example, on tensor ``x``: with
    ``position_embedding``, the example's ``Embedding(steps, width)`` of the step numbers added first."""
    L = keras.layers
    if p["position_embedding"]:
        steps = keras.ops.cumsum(keras.ops.ones_like(x[..., 0], dtype="int32"), axis=1) - 1  # 0, 1, 2...
        x = x + L.Embedding(x.shape[1], x.shape[-1])(steps)
    attended = L.MultiHeadAttention(p["num_heads"], p["key_dim"])(x, x)
    x = L.LayerNormalization()(x + L.Dropout(p["dropout"])(attended))
    ff = L.Dense(p["ff_units"], activation="relu")(x)
    ff = L.Dropout(p["dropout"])(L.Dense(x.shape[-1])(ff))
    return L.LayerNormalization()(x + ff)


def backbone_twin(x: Any, p: dict[str, Any]) -> Any:
    """A ``keras.applications`` network without its top, after its preprocessing of 0…1 pixels
    (only ResNet50's, a frozen Dense(3) from RGB to BGR less the mean, has weights)."""
    if p["backbone"] == "ResNet50":
        x = keras.layers.Dense(3, trainable=False)(x)
    network = getattr(keras.applications, p["backbone"])(include_top=False, weights=None,
                                                         input_shape=tuple(x.shape[1:]), pooling=p["pooling"])
    return network(x)


# (layer type, params, input shapes) — one row per case; every type in the catalogue appears.
CASES: list[tuple[str, dict[str, Any], list[tuple[int | None, ...]]]] = []


def case(kind: str, inputs: list[tuple[int | None, ...]], **params: Any) -> None:
    CASES.append((kind, params, inputs))


for units in (1, 7, 64):
    for bias in (True, False):
        case("Dense", [(13,)], units=units, use_bias=bias)
case("Dense", [(5, 9)], units=4)
case("Dense", [(None, 3)], units=2, activation="tanh")
case("Activation", [(6,)], activation="gelu")
case("Activation", [(4, 5, 2)], activation="sigmoid")
case("Dropout", [(10,)], rate=0.5)
case("Dropout", [(3, 4)], rate=0.0)
case("SpatialDropout1D", [(9, 4)], rate=0.3)
case("SpatialDropout2D", [(6, 5, 3)], rate=0.5)
case("GaussianNoise", [(7,)], stddev=0.5)
case("GaussianNoise", [(4, 5, 2)], stddev=0.0)
case("Flatten", [(4, 5, 3)])
case("Flatten", [(7,)])
case("Reshape", [(12,)], target_shape=[3, 4])
case("Reshape", [(12,)], target_shape=[-1, 2])
case("Reshape", [(3, 4)], target_shape=[-1])
case("Reshape", [(2, 3, 4)], target_shape=[6, -1])
for kind, shape in (("Conv1D", (23, 3)), ("Conv2D", (17, 16, 3)), ("SeparableConv2D", (15, 12, 4))):
    for padding in ("same", "valid"):
        for strides in (1, 2):
            for kernel in (1, 3, 4):
                case(kind, [shape], filters=5, kernel_size=kernel, strides=strides, padding=padding)
case("Conv1D", [(None, 3)], filters=8, kernel_size=3, strides=2, padding="same")
case("Conv2D", [(9, 9, 1)], filters=16, kernel_size=9, padding="valid", activation="linear")
for kind, shape in (("MaxPooling1D", (21, 4)), ("AveragePooling1D", (20, 3)),
                    ("MaxPooling2D", (17, 15, 2)), ("AveragePooling2D", (16, 11, 3))):
    for padding in ("valid", "same"):
        for pool in (1, 2, 3):
            case(kind, [shape], pool_size=pool, padding=padding)
case("GlobalAveragePooling1D", [(11, 6)])
case("GlobalAveragePooling1D", [(None, 6)])
case("GlobalAveragePooling2D", [(8, 7, 5)])
case("Backbone", [(48, 48, 3)], weights="none")
case("Backbone", [(32, 40, 3)], backbone="ResNet50", weights="none", pooling="max")
case("BatchNormalization", [(9,)])
case("BatchNormalization", [(6, 6, 4)])
case("LayerNormalization", [(9,)])
case("LayerNormalization", [(5, 7)])
for kind in ("LSTM", "GRU"):
    for units in (1, 8, 33):
        for seq in (False, True):
            case(kind, [(12, 5)], units=units, return_sequences=seq)
    case(kind, [(None, 3)], units=4, return_sequences=True)
for units in (1, 8, 33):
    for seq in (False, True):
        case("SimpleRNN", [(12, 5)], units=units, return_sequences=seq)
case("SimpleRNN", [(None, 3)], units=4, return_sequences=True)
for padding in ("same", "valid"):
    for strides in (1, 2):
        for seq in (False, True):
            case("ConvLSTM1D", [(5, 9, 2)], filters=3, kernel_size=3, strides=strides, padding=padding,
                 return_sequences=seq)
case("ConvLSTM1D", [(None, 8, 1)], filters=2, kernel_size=1, return_sequences=True)
for kind, shape in (("Conv1DTranspose", (11, 3)), ("Conv2DTranspose", (7, 6, 3))):
    for padding in ("same", "valid"):
        for strides in (1, 2, 3):
            for kernel in (1, 2, 5):
                case(kind, [shape], filters=4, kernel_size=kernel, strides=strides, padding=padding)
case("Conv1DTranspose", [(None, 3)], filters=2, kernel_size=3, strides=2, padding="valid")
case("GlobalMaxPooling1D", [(11, 6)])
case("GlobalMaxPooling1D", [(None, 6)])
case("GlobalMaxPooling2D", [(8, 7, 5)])
for size in (1, 3):
    case("UpSampling1D", [(9, 4)], size=size)
    for interpolation in ("nearest", "bilinear"):
        case("UpSampling2D", [(5, 7, 2)], size=size, interpolation=interpolation)
case("UpSampling1D", [(None, 4)], size=2)
for amount in (0, 2):
    case("ZeroPadding1D", [(9, 4)], padding=amount)
    case("ZeroPadding2D", [(5, 7, 2)], padding=amount)
    case("Cropping1D", [(9, 4)], cropping=amount)
    case("Cropping2D", [(6, 7, 2)], cropping=amount)
for steps in (1, 5, 9):  # a searched lookback keeps the window's last steps
    case("LastSteps", [(9, 4)], steps=steps)
case("ZeroPadding1D", [(None, 4)], padding=3)
for use_scale in (False, True):
    for mode in ("dot", "concat"):
        case("Attention", [(6, 5), (8, 5)], use_scale=use_scale, score_mode=mode)
    case("AdditiveAttention", [(6, 5), (8, 5)], use_scale=use_scale)
case("Attention", [(6, 5), (8, 3), (8, 5)])
case("AdditiveAttention", [(4, 3), (None, 2), (None, 3)], dropout=0.2)
for heads, key_dim, ff_units in ((1, 4, 8), (2, 8, 16), (4, 3, 5)):
    case("TransformerEncoder", [(6, 10)], num_heads=heads, key_dim=key_dim, ff_units=ff_units)
    case("TransformerEncoder", [(6, 10)], num_heads=heads, key_dim=key_dim, ff_units=ff_units,
         position_embedding=True)
case("TransformerEncoder", [(None, 5)], num_heads=2, key_dim=2, ff_units=7, dropout=0.0)
for inner in ("LSTM", "GRU"):
    for units in (3, 16):
        for seq in (False, True):
            case("Bidirectional", [(10, 7)], layer=inner, units=units, return_sequences=seq)
case("Embedding", [(10,)], input_dim=50, output_dim=8)
case("Embedding", [(1,)], input_dim=7, output_dim=3)
for heads, key_dim in ((1, 4), (2, 8), (4, 3)):
    case("MultiHeadAttention", [(6, 10)], num_heads=heads, key_dim=key_dim)
case("MultiHeadAttention", [(None, 5)], num_heads=2, key_dim=2)
for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
    case("RandomFlip", [(16, 12, 3)], mode=mode)
case("RandomRotation", [(16, 16, 1)], factor=0.3)
case("RandomZoom", [(10, 14, 3)], height_factor=0.2)
for kind in ("Add", "Multiply"):
    case(kind, [(8,), (8,)])
    case(kind, [(4, 3), (4, 3), (4, 3)])
case("Concatenate", [(3,), (5,)])
case("Concatenate", [(4, 2), (4, 6), (4, 1)])
case("Concatenate", [(6, 6, 2), (6, 6, 3)])


def _case_id(item: tuple[str, dict[str, Any], list[Any]]) -> str:
    kind, params, inputs = item
    detail = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{kind}[{detail}]{inputs}"


def test_every_layer_type_has_a_case() -> None:
    covered = {kind for kind, _, _ in CASES} | {"Input", "Output"}
    assert covered == set(LAYER_TYPES)


@pytest.mark.parametrize("kind", layer_kinds())
def test_every_registered_type_builds_what_its_shape_rule_says(kind: str) -> None:
    """The registry's Keras description, built as the engine builds it, on the type's example."""
    layer = LAYER_TYPES[kind]
    params = {**layer.default_params(), **layer.example_params}
    tensors = [keras.Input(shape=s) for s in layer.example]
    shape, count = shapes.layer_output(kind, params, list(layer.example), SIG)
    if isinstance(layer.keras, KerasPlan):  # several layers: counted as a model
        out = build_node(kind, params, "node", tensors, SIG, {}, None)
        assert shape == tuple(out.shape[1:])
        assert count == keras.Model(tensors, out).count_params()
        return
    built = engine_layer(kind, params)
    if layer.keras.call == "list":
        out = built(tensors)
    elif layer.keras.call == "self":
        out = built(tensors[0], tensors[0])
    else:
        out = built(tensors[0])

    assert type(built).__name__ == layer.keras.cls
    assert shape == tuple(out.shape[1:])
    assert count == built.count_params()


@pytest.mark.parametrize("item", CASES, ids=[_case_id(c) for c in CASES])
def test_layer_output_matches_keras(item: tuple[str, dict[str, Any], list[Any]]) -> None:
    kind, given, input_shapes = item
    params = full_params(kind, **given)
    dtype = "int32" if kind == "Embedding" else "float32"
    tensors = [keras.Input(shape=s, dtype=dtype) for s in input_shapes]
    shape, count = shapes.layer_output(kind, params, list(input_shapes), SIG)
    if kind in ("TransformerEncoder", "Backbone"):
        out = (transformer_twin if kind == "TransformerEncoder" else backbone_twin)(tensors[0], params)
        assert shape == tuple(out.shape[1:])
        # The position embedding's constant 1 comes from a frozen Dense(1): width + 1 weights the
        # example's Embedding of step numbers does without.
        frozen = input_shapes[0][-1] + 1 if kind == "TransformerEncoder" and params["position_embedding"] else 0
        assert count == keras.Model(tensors, out).count_params() + frozen
        return
    if kind == "LastSteps":  # Keras' own crop of the first (length - steps) steps
        out = keras.layers.Cropping1D((input_shapes[0][0] - params["steps"], 0))(tensors[0])
        assert shape == tuple(out.shape[1:]) and count == 0
        return
    layer = keras_layer(kind, params)
    if kind == "MultiHeadAttention":
        out = layer(tensors[0], tensors[0])
    elif LAYER_TYPES[kind].inputs == "many":
        out = layer(tensors)
    else:
        out = layer(tensors[0])

    assert shape == tuple(out.shape[1:])
    assert count == layer.count_params()


@pytest.mark.parametrize("kind, params, inputs, needle", [
    ("Conv2D", {"kernel_size": 5, "padding": "valid"}, [(4, 4, 3)], "smaller than the window 5"),
    ("Conv1D", {}, [(8,)], "rank 2"),
    ("Conv2D", {}, [(8,)], "rank 3"),
    ("MaxPooling2D", {"pool_size": 4}, [(3, 3, 1)], "smaller than the window 4"),
    ("LSTM", {}, [(8,)], "sequence"),
    ("GlobalAveragePooling2D", {}, [(8, 3)], "image"),
    ("RandomFlip", {}, [(8,)], "image"),
    ("Embedding", {}, [(3, 4)], "token ids"),
    ("Flatten", {}, [(None, 4)], "unknown sizes"),
    ("Reshape", {"target_shape": [5, -1]}, [(12,)], "cannot reshape"),
    ("Reshape", {"target_shape": [-1, -1]}, [(12,)], "at most one -1"),
    ("Reshape", {"target_shape": [5]}, [(12,)], "cannot reshape"),
    ("Add", {}, [(4,), (5,)], "same shape"),
    ("Add", {}, [(4,)], "at least two"),
    ("Concatenate", {}, [(4, 2), (5, 2)], "every axis but the last"),
    ("Dense", {}, [(4,), (4,)], "takes one input"),
    ("Dense", {}, [], "no input"),
    ("Output", {}, [(4, 4)], "flat input"),
    ("Conv1DTranspose", {}, [(8,)], "rank 2"),
    ("Conv2DTranspose", {}, [(8, 3)], "rank 3"),
    ("UpSampling2D", {}, [(8, 3)], "image"),
    ("GlobalMaxPooling1D", {}, [(4, 4, 3)], "sequence"),
    ("Cropping1D", {"cropping": 2}, [(4, 3)], "leaves nothing"),
    ("Cropping2D", {"cropping": 3}, [(8, 6, 3)], "leaves nothing"),
    ("LastSteps", {"steps": 10}, [(9, 4)], "last 10 steps of a sequence of only 9"),
    ("LastSteps", {}, [(9,)], "sequence"),
    ("Attention", {}, [(4, 3)], "two inputs"),
    ("Attention", {}, [(4, 3), (5, 2)], "same width"),
    ("AdditiveAttention", {}, [(4, 3), (5, 3), (6, 3)], "same length"),
    ("AdditiveAttention", {}, [(4,), (4,)], "sequence"),
    ("TransformerEncoder", {}, [(8,)], "sequence"),
    ("TransformerEncoder", {"position_embedding": True}, [(None, 8)], "known length"),
    ("ConvLSTM1D", {}, [(8, 3)], "rank 3"),
])
def test_layer_output_refuses_shapes_keras_cannot_build(kind: str, params: dict[str, Any],
                                                        inputs: list[Any], needle: str) -> None:
    with pytest.raises(shapes.ShapeError, match=needle):
        shapes.layer_output(kind, full_params(kind, **params), inputs, SIG)


@pytest.mark.parametrize("kind, given, shape", [
    ("Conv2D", {"kernel_size": 5, "padding": "valid"}, (4, 4, 3)),
    ("MaxPooling2D", {"pool_size": 4, "padding": "valid"}, (3, 3, 1)),
    ("Cropping1D", {"cropping": 2}, (4, 3)),
    ("Cropping2D", {"cropping": 3}, (8, 6, 3)),
    ("Add", {}, None),
])
def test_keras_refuses_what_layer_output_refuses(kind: str, given: dict[str, Any],
                                                 shape: tuple[int, ...] | None) -> None:
    """The ShapeErrors above are real: Keras cannot build these either."""
    params = full_params(kind, **given)
    if shape is None:
        with pytest.raises(ValueError):
            keras.layers.Add()([keras.Input((4,)), keras.Input((5,))])
        return
    with pytest.raises(ValueError):
        keras_layer(kind, params)(keras.Input(shape))


# --- whole networks: Input and Output nodes, templates ---------------------------------------


def _signature(template: str, task: str, n_classes: int) -> tuple[DataSignature, list[str]]:
    if template == "tabular":
        inputs = {"numeric": (5,), "categorical": (3,)}
        return DataSignature(task=task, n_classes=n_classes, inputs=inputs, categorical_tokens=11,
                             numeric_mean=(0.0,) * 5, numeric_variance=(1.0,) * 5,
                             target_mean=2.0, target_std=3.0), list(inputs)
    if template == "sequence":
        inputs = {"sequence": (12, 4)}
        return DataSignature(task=task, n_classes=n_classes, inputs=inputs), list(inputs)
    if template == "forecast":  # three steps ahead, the window normalised in the model
        inputs = {"sequence": (12, 4)}
        return DataSignature(task=task, n_classes=n_classes, inputs=inputs, sequence_mean=(1.0,) * 4,
                             sequence_variance=(4.0,) * 4, target_width=3), list(inputs)
    if template == "text":  # token ids beside a table's numbers: two branches merged
        inputs = {"text": (12,), "numeric": (3,)}
        return DataSignature(task=task, n_classes=n_classes, inputs=inputs, text_tokens=40,
                             numeric_mean=(0.0,) * 3, numeric_variance=(1.0,) * 3), list(inputs)
    inputs = {"image": (20, 18, 3)}
    return DataSignature(task=task, n_classes=n_classes, inputs=inputs,
                         image_scale=1 / 255), list(inputs)


def extreme_chooser(mode: str):
    """Smallest (ranges at min, optional layers off) or largest (max, all on) network."""

    def choose(name: str, hp: Any) -> Any:
        if isinstance(hp, Boolean):
            return mode == "high"
        if isinstance(hp, IntRange):
            return hp.min if mode == "low" else hp.values()[-1]
        if isinstance(hp, FloatRange):
            return hp.min if mode == "low" else hp.max
        if isinstance(hp, Choice):
            return hp.values[0] if mode == "low" else hp.values[-1]
        raise AssertionError(hp)

    return choose


def keras_output_shape(model: keras.Model, node_id: str, node_type: str,
                       signature: DataSignature) -> tuple[int | None, ...]:
    """The output shape of the Keras layer(s) a concrete node became."""
    safe = node_id.replace("#", "_")
    if node_type == "Output":
        name = "to_target_units" if signature.task == "regression" else "head"
        return tuple(model.get_layer(name).output.shape[1:])
    if node_type == "Input":
        for suffix in ("_normalize", "_piecewise_linear", "_flatten", "_encode", "_rescale", "_embed"):
            try:
                return tuple(model.get_layer(safe + suffix).output.shape[1:])
            except ValueError:
                continue
        (source,) = [k for k in signature.inputs if k in model.input]
        return tuple(model.input[source].shape[1:])
    return tuple(model.get_layer(safe).output.shape[1:])


TEMPLATE_SETTINGS: list[tuple[str, str, int, dict[str, Any]]] = []
for _task, _classes in (("classification", 2), ("classification", 5), ("regression", 0)):
    TEMPLATE_SETTINGS += [
        ("tabular", _task, _classes, {}),
        ("tabular", _task, _classes, {"block.repeats": 2, "dense.units.0": 32, "dense.units.1": 48,
                                      "batch_norm.enabled.0": True, "dropout.enabled.1": True}),
        ("sequence", _task, _classes, {"lstm.units": 48, "dropout.enabled": True}),
    ]
TEMPLATE_SETTINGS += [
    ("tabular", "classification", 3, {"block.repeats": 4, "dense.units.3": 256,
                                      "batch_norm.enabled.2": True}),
    ("image", "classification", 4, {}),
    ("image", "classification", 2, {"conv_block.repeats": 3, "conv.filters.0": 32,
                                    "conv.kernel_size.1": 5, "conv_norm.enabled.2": True,
                                    "flip.enabled": True, "dense.enabled": True,
                                    "dense.units": 64}),
    ("image", "regression", 0, {"conv_block.repeats": 2, "conv_norm.enabled.0": True,
                                "zoom.enabled": True, "dropout.enabled": True}),
    ("residual", "classification", 3, {}),
    ("residual", "classification", 2, {"stem.filters": 32, "res_conv1.filters": 48,
                                       "res_conv2.filters": 32, "dense.enabled": True}),
    ("residual", "regression", 0, {"rotate.enabled": True, "dense.enabled": True,
                                   "dense.units": 256}),
    ("text", "classification", 2, {}),
    ("text", "classification", 3, {"text.embedding_dim": 64, "rnn.enabled": True, "rnn.layer": "GRU",
                                    "rnn.units": 32, "dense.enabled": True}),
    ("text", "regression", 0, {"rnn.enabled": True, "dropout.enabled": True}),
    ("text", "classification", 2, {"rnn.enabled": True, "transformer.enabled": True, "conv.enabled": True,
                                    "transformer.ff_units": 48, "conv.filters": 32, "conv.kernel_size": 5}),
    ("forecast", "regression", 0, {}),
    ("forecast", "regression", 0, {"conv.enabled": True, "lstm.enabled": True, "gru.enabled": True,
                                   "dense.enabled": True, "conv.filters": 32, "lstm.units": 16}),
    # The attention block: a Dense projection, then a Transformer encoder with a position embedding.
    ("forecast", "regression", 0, {"attention.repeats": 1, "attention_in.units.0": 32}),
    ("forecast", "regression", 0, {"gru.enabled": True, "gru.units": 48, "attention.repeats": 1,
                                   "dense.enabled": True}),
]


def test_template_settings_cover_every_template() -> None:
    assert {t for t, _, _, _ in TEMPLATE_SETTINGS} == set(TEMPLATES)


@pytest.mark.parametrize("template, task, n_classes, values", TEMPLATE_SETTINGS,
                         ids=[f"{t}-{k}{c}-{i}" for i, (t, k, c, _) in enumerate(TEMPLATE_SETTINGS)])
def test_template_network_matches_keras(template: str, task: str, n_classes: int,
                                        values: dict[str, Any]) -> None:
    signature, sources = _signature(template, task, n_classes)
    space = SearchSpace.from_dict(template_spec(template, inputs=sources))
    choose = fixed_chooser(values)

    results, issues = shapes.evaluate(space, signature, choose)
    model = build_model(space, signature, choose)

    assert issues == []
    assert sum(p for _, p in results.values()) == model.count_params()
    nodes = {n.id: n for n in _concrete(space, choose)}
    assert set(results) == set(nodes)
    for node_id, (shape, _) in results.items():
        assert shape == keras_output_shape(model, node_id, nodes[node_id].type, signature), node_id


@pytest.mark.parametrize("kind", layer_kinds())
def test_every_registered_type_in_a_network_matches_keras(kind: str) -> None:
    """Input → the type (its params searched) → Output: analyse and build_model agree."""
    space = SearchSpace.from_dict(example_spec(kind, searched=True))
    signature = example_signature(LAYER_TYPES[kind])

    assert shapes.analyse(space, signature).valid
    for mode in ("low", "high"):
        choose = extreme_chooser(mode)
        results, issues = shapes.evaluate(space, signature, choose)
        model = build_model(space, signature, choose)
        assert issues == []
        assert sum(p for _, p in results.values()) == model.count_params(), mode
        for node in _concrete(space, choose):
            expected = keras_output_shape(model, node.id, node.type, signature)
            assert results[node.id][0] == expected, (mode, node.id)


def _concrete(space: SearchSpace, choose: Any) -> list[Any]:
    from automl_studio.engine.space.spec import instantiate

    return instantiate(space, choose)


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("task, n_classes", [("classification", 3), ("regression", 0)])
def test_analyse_ranges_are_the_smallest_and_largest_keras_models(template: str, task: str,
                                                                  n_classes: int) -> None:
    signature, sources = _signature(template, task, n_classes)
    space = SearchSpace.from_dict(template_spec(template, inputs=sources))

    analysis = shapes.analyse(space, signature)
    small = build_model(space, signature, extreme_chooser("low"))
    large = build_model(space, signature, extreme_chooser("high"))

    assert analysis.valid, analysis.issues
    assert analysis.params_min == small.count_params()
    assert analysis.params_max == large.count_params()
    large_nodes = {n.id: n for n in _concrete(space, extreme_chooser("high"))}
    for node in space.nodes:
        copies = [cid for cid in large_nodes if cid == node.id or cid.startswith(node.id + "#")]
        if copies:
            expected = keras_output_shape(large, copies[-1], node.type, signature)
            assert analysis.nodes[node.id].shape == expected, node.id
    width = signature.target_width or 1  # a forecast's head predicts every step of its horizon
    assert analysis.nodes["head"].shape == (width if task == "regression" else n_classes,)
    assert analysis.head_units == analysis.nodes["head"].shape[0]


@pytest.mark.parametrize("encoding, dim", [("one_hot", 8), ("embedding", 4), ("embedding", 9)])
def test_categorical_input_node_counts_its_encoding(encoding: str, dim: int) -> None:
    spec = {"schema_version": 1, "nodes": [
        {"id": "cats", "type": "Input", "params": {"source": "categorical", "encoding": encoding,
                                                   "embedding_dim": dim}},
        {"id": "out", "type": "Output"}], "edges": [["cats", "out"]]}
    space = SearchSpace.from_dict(spec)
    signature = DataSignature(task="classification", n_classes=4, inputs={"categorical": (3,)},
                              categorical_tokens=13)
    results, issues = shapes.evaluate(space, signature, fixed_chooser({}))
    model = build_model(space, signature, fixed_chooser({}))

    assert issues == []
    width = 3 * dim if encoding == "embedding" else 13
    assert results["cats"] == ((width,), 13 * dim if encoding == "embedding" else 0)
    assert sum(p for _, p in results.values()) == model.count_params()
    assert results["out"][0] == tuple(model.output.shape[1:]) == (4,)


def test_custom_graph_with_branches_matches_keras() -> None:
    spec = {"schema_version": 1, "nodes": [
        {"id": "seq", "type": "Input", "params": {"source": "sequence"}},
        {"id": "attn", "type": "MultiHeadAttention", "params": {"num_heads": 2, "key_dim": 4}},
        {"id": "skip", "type": "Add"},
        {"id": "norm", "type": "LayerNormalization"},
        {"id": "conv", "type": "Conv1D", "params": {"filters": 6, "strides": 2}},
        {"id": "bi", "type": "Bidirectional", "params": {"layer": "GRU", "units": 5,
                                                        "return_sequences": True}},
        {"id": "pool", "type": "GlobalAveragePooling1D"},
        {"id": "gap", "type": "GlobalAveragePooling1D"},
        {"id": "cat", "type": "Concatenate"},
        {"id": "mul_a", "type": "Dense", "params": {"units": 7}},
        {"id": "mul_b", "type": "Dense", "params": {"units": 7, "use_bias": False}},
        {"id": "mul", "type": "Multiply"},
        {"id": "out", "type": "Output"},
    ], "edges": [["seq", "attn"], ["seq", "skip"], ["attn", "skip"], ["skip", "norm"],
                 ["norm", "conv"], ["conv", "bi"], ["bi", "pool"], ["norm", "gap"],
                 ["pool", "cat"], ["gap", "cat"], ["cat", "mul_a"], ["cat", "mul_b"],
                 ["mul_a", "mul"], ["mul_b", "mul"], ["mul", "out"]]}
    space = SearchSpace.from_dict(spec)
    signature = DataSignature(task="classification", n_classes=2, inputs={"sequence": (10, 8)})
    choose = fixed_chooser({})

    results, issues = shapes.evaluate(space, signature, choose)
    model = build_model(space, signature, choose)

    assert issues == []
    assert sum(p for _, p in results.values()) == model.count_params()
    for node in _concrete(space, choose):
        assert results[node.id][0] == keras_output_shape(model, node.id, node.type, signature)
    assert math.isclose(shapes.analyse(space, signature).params_max, model.count_params())
