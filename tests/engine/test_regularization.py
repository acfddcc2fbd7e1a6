"""Regularisation per layer: L1/L2 on kernel, bias and activity, initialisers, recurrent dropout,
SpatialDropout and Gaussian noise — saved, compiled, trained for an epoch, and written by the code
view as the engine builds them (same layers, same parameter counts, same regularizers)."""

from __future__ import annotations

import json
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser, hyperparameter_items
from automl_studio.engine.train.hypermodel import build_model

SEQUENCE = DataSignature("classification", 2, {"sequence": (8, 3), "numeric": (4,)},
                         numeric_mean=(0.0,) * 4, numeric_variance=(1.0,) * 4)
IMAGE = DataSignature("classification", 3, {"image": (8, 8, 3)}, image_scale=1 / 255)


def sequence_spec(training: dict[str, Any] | None = None) -> dict[str, Any]:
    """sequence → SpatialDropout1D → LSTM (dropouts) → GRU; numeric → GaussianNoise → Dense; merged."""
    return {"schema_version": 1, "name": "regularised", "nodes": [
        {"id": "sequence", "type": "Input", "params": {"source": "sequence"}},
        {"id": "spatial", "type": "SpatialDropout1D", "params": {"rate": 0.3}},
        {"id": "lstm", "type": "LSTM", "params": {
            "units": 6, "return_sequences": True, "dropout": 0.2, "recurrent_dropout": 0.1,
            "kernel_initializer": "he_normal", "kernel_l2": 0.01}},
        {"id": "gru", "type": "GRU", "params": {"units": 5, "bias_l1": 0.001, "activity_l2": 0.002}},
        {"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
        {"id": "noise", "type": "GaussianNoise", "params": {"stddev": 0.2}},
        {"id": "dense", "type": "Dense", "params": {
            "units": 7, "kernel_initializer": "lecun_uniform",
            "kernel_l1": {"hp": "float", "min": 1e-5, "max": 1e-2, "log": True},
            "activity_l1": 0.003}},
        {"id": "plain", "type": "Dense", "params": {"units": 4}},
        {"id": "merge", "type": "Concatenate", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ], "edges": [["sequence", "spatial"], ["spatial", "lstm"], ["lstm", "gru"], ["numeric", "noise"],
                 ["noise", "dense"], ["dense", "plain"], ["gru", "merge"], ["plain", "merge"],
                 ["merge", "head"]],
        "repeats": [], "training": training or {}}


def image_spec() -> dict[str, Any]:
    return {"schema_version": 1, "name": "images", "nodes": [
        {"id": "image", "type": "Input", "params": {"source": "image"}},
        {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "kernel_initializer": "he_uniform",
                                                    "kernel_l2": 0.001}},
        {"id": "spatial", "type": "SpatialDropout2D", "params": {"rate": 0.25}},
        {"id": "sep", "type": "SeparableConv2D", "params": {"filters": 4, "kernel_l1": 0.0001}},
        {"id": "pool", "type": "GlobalAveragePooling2D", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ], "edges": [["image", "conv"], ["conv", "spatial"], ["spatial", "sep"], ["sep", "pool"],
                 ["pool", "head"]], "repeats": [], "training": {}}


def regularizers(layer: keras.layers.Layer) -> dict[str, Any]:
    """Each ``*_regularizer`` of a layer (an RNN's from its cell) as ``(l1, l2)`` or None."""
    config = layer.get_config()
    out = {}
    for key, value in config.items():
        if key.endswith("_regularizer"):
            out[key] = None if value is None else (
                round(value["config"]["l1"], 9), round(value["config"]["l2"], 9))
    return out


def initializer(layer: keras.layers.Layer, key: str = "kernel_initializer") -> str:
    return layer.get_config()[key]["class_name"]


def test_a_layers_own_penalties_initialiser_and_dropouts_reach_keras() -> None:
    space = SearchSpace.from_dict(sequence_spec())
    model = build_model(space, SEQUENCE, fixed_chooser({"dense.kernel_l1": 0.005}))

    lstm, gru, dense = model.get_layer("lstm"), model.get_layer("gru"), model.get_layer("dense")
    assert (lstm.dropout, lstm.recurrent_dropout) == (pytest.approx(0.2), pytest.approx(0.1))
    assert initializer(lstm) == "HeNormal" and initializer(dense) == "LecunUniform"
    assert initializer(gru) == "GlorotUniform"
    assert regularizers(lstm)["kernel_regularizer"] == (0.0, 0.01)
    assert regularizers(lstm)["bias_regularizer"] is None
    assert regularizers(gru)["bias_regularizer"] == (0.001, 0.0)
    assert regularizers(gru)["activity_regularizer"] == (0.0, 0.002)
    assert regularizers(dense)["kernel_regularizer"] == (0.005, 0.0)  # the trial's searched value
    assert regularizers(dense)["activity_regularizer"] == (0.003, 0.0)
    assert set(regularizers(model.get_layer("plain")).values()) == {None}
    assert type(model.get_layer("spatial")).__name__ == "SpatialDropout1D"
    assert model.get_layer("noise").stddev == pytest.approx(0.2)
    assert ("dense.kernel_l1", "float") in [(name, hp.to_dict()["hp"]) for name, hp in hyperparameter_items(space)]


def test_the_global_penalty_applies_where_a_layer_sets_none_of_its_own() -> None:
    space = SearchSpace.from_dict(sequence_spec({"l1": 0.0, "l2": 0.5}))
    model = build_model(space, SEQUENCE, fixed_chooser({"dense.kernel_l1": 0.005}))

    assert regularizers(model.get_layer("plain"))["kernel_regularizer"] == (0.0, 0.5)  # the global one
    assert regularizers(model.get_layer("dense"))["kernel_regularizer"] == (0.005, 0.0)  # its own wins
    assert regularizers(model.get_layer("dense"))["bias_regularizer"] is None  # global: kernels only


def test_a_spec_written_before_per_layer_penalties_loads_and_builds_as_before() -> None:
    old = {"schema_version": 1, "name": "old", "nodes": [
        {"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
        {"id": "dense", "type": "Dense", "params": {"units": 8}},
        {"id": "lstm_free", "type": "Dropout", "params": {"rate": 0.1}},
        {"id": "head", "type": "Output", "params": {}},
    ], "edges": [["numeric", "dense"], ["dense", "lstm_free"], ["lstm_free", "head"]], "repeats": [],
        "training": {"l1": 0.01, "l2": 0.02}}
    space = SearchSpace.from_dict(json.loads(json.dumps(old)))
    model = build_model(space, SEQUENCE, fixed_chooser({}))

    dense = model.get_layer("dense")
    assert regularizers(dense)["kernel_regularizer"] == (0.01, 0.02)
    assert initializer(dense) == "GlorotUniform"
    assert space.to_dict()["nodes"][1]["params"] == {"units": 8}  # nothing new is written for it


def test_the_spec_round_trips_through_json() -> None:
    space = SearchSpace.from_dict(sequence_spec())
    again = SearchSpace.from_dict(json.loads(space.to_json()))
    assert again == space
    assert again.node("lstm").param("recurrent_dropout") == 0.1


@pytest.mark.parametrize(("spec", "signature"), [(sequence_spec, SEQUENCE), (image_spec, IMAGE)],
                         ids=["sequence", "image"])
def test_the_network_trains_an_epoch(spec: Any, signature: DataSignature) -> None:
    space = SearchSpace.from_dict(spec())
    model = build_model(space, signature, fixed_chooser({"dense.kernel_l1": 0.005}))
    rng = np.random.default_rng(0)
    x = {name: rng.normal(size=(24, *shape)).astype("float32") for name, shape in signature.inputs.items()}
    y = rng.integers(0, signature.n_classes, size=24)
    if signature.n_classes == 2:
        y = y.astype("float32")

    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)

    assert np.isfinite(history.history["loss"][0])
    assert model.losses  # the penalties are part of the loss


@pytest.mark.parametrize(("spec", "signature"), [(sequence_spec, SEQUENCE), (image_spec, IMAGE)],
                         ids=["sequence", "image"])
def test_the_code_view_builds_the_same_layers_counts_and_penalties(spec: Any, signature: DataSignature) -> None:
    space = SearchSpace.from_dict(spec())
    source = kerastuner_code(space, signature)
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the code under test
    values = {"dense.kernel_l1": 0.005}
    keras.backend.clear_session()
    engine = build_model(space, signature, fixed_chooser(values))
    hp = kt.HyperParameters()
    hp.values.update(values)
    keras.backend.clear_session()
    written = namespace["build"](hp)

    def described(model: keras.Model) -> list[tuple[str, str, Any, Any]]:
        return [(type(layer).__name__, layer.name, regularizers(layer),
                 {k: v["class_name"] for k, v in layer.get_config().items()
                  if k.endswith("_initializer") and isinstance(v, dict)})
                for layer in model.layers if type(layer).__name__ != "InputLayer"]

    assert described(written) == described(engine)
    assert written.count_params() == engine.count_params()
    for name in ("lstm", "gru") if signature is SEQUENCE else ():
        assert (written.get_layer(name).dropout, written.get_layer(name).recurrent_dropout) == (
            engine.get_layer(name).dropout, engine.get_layer(name).recurrent_dropout)
    assert "keras.regularizers.L1L2(" in source
