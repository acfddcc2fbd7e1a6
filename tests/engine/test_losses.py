"""The loss per task — cross-entropy with label smoothing, focal loss, MSE/MAE/Huber/log-cosh —
fixed or searched, checked against the task, compiled, trained for an epoch, and written by the
code view as the engine compiles it."""

from __future__ import annotations

import json
import re
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.shapes import analyse
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser, hyperparameter_items
from automl_studio.engine.train.hypermodel import build_model

BINARY = DataSignature("classification", 2, {"numeric": (3,)}, numeric_mean=(0.0,) * 3,
                       numeric_variance=(1.0,) * 3)
THREE = DataSignature("classification", 3, {"numeric": (3,)}, numeric_mean=(0.0,) * 3,
                      numeric_variance=(1.0,) * 3)
REGRESSION = DataSignature("regression", 0, {"numeric": (3,)}, numeric_mean=(0.0,) * 3,
                           numeric_variance=(1.0,) * 3, target_mean=1.0, target_std=2.0)


def spec(**training: Any) -> dict[str, Any]:
    return {"schema_version": 1, "name": "losses", "nodes": [
        {"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
        {"id": "dense", "type": "Dense", "params": {"units": 4}},
        {"id": "head", "type": "Output", "params": {}},
    ], "edges": [["numeric", "dense"], ["dense", "head"]], "repeats": [], "training": training}


def trained_one_epoch(model: keras.Model, signature: DataSignature) -> float:
    rng = np.random.default_rng(1)
    x = {"numeric": rng.normal(size=(32, 3)).astype("float32")}
    if signature.task == "regression":
        y = rng.normal(size=32).astype("float32")
    else:
        y = rng.integers(0, signature.n_classes, size=32).astype("float32")
    return float(model.fit(x, y, epochs=1, batch_size=8, verbose=0).history["loss"][0])


def written_model(space: SearchSpace, signature: DataSignature, values: dict[str, Any]) -> keras.Model:
    namespace: dict[str, Any] = {}
    exec(kerastuner_code(space, signature), namespace)  # noqa: S102 - the code under test
    hp = kt.HyperParameters()
    hp.values.update(values)
    return namespace["build"](hp)


def loss_config(model: keras.Model) -> tuple[str, dict[str, Any]]:
    config = {k: v for k, v in model.loss.get_config().items() if k not in ("name", "reduction", "dtype")}
    return type(model.loss).__name__, config


@pytest.mark.parametrize(("signature", "training", "expected"), [
    (BINARY, {}, "BinaryCrossentropy"),
    (BINARY, {"loss": "crossentropy", "label_smoothing": 0.1}, "BinaryCrossentropy"),
    (BINARY, {"loss": "focal", "label_smoothing": 0.05}, "BinaryFocalCrossentropy"),
    (THREE, {"loss": "crossentropy"}, "SparseCategoricalCrossentropy"),
    (REGRESSION, {}, "MeanSquaredError"),
    (REGRESSION, {"loss": "mae"}, "MeanAbsoluteError"),
    (REGRESSION, {"loss": "huber"}, "Huber"),
    (REGRESSION, {"loss": "log_cosh"}, "LogCosh"),
], ids=["binary-auto", "binary-smoothed", "binary-focal", "three-classes", "regression-auto", "mae",
        "huber", "log_cosh"])
def test_each_loss_compiles_trains_and_is_written_the_same(signature: DataSignature, training: dict[str, Any],
                                                           expected: str) -> None:
    space = SearchSpace.from_dict(json.loads(json.dumps(spec(**training))))
    assert analyse(space, signature).valid
    model = build_model(space, signature, fixed_chooser({}))

    assert type(model.loss).__name__ == expected
    if "label_smoothing" in training:
        assert model.loss.get_config()["label_smoothing"] == pytest.approx(training["label_smoothing"])
    assert np.isfinite(trained_one_epoch(model, signature))
    keras.backend.clear_session()
    assert loss_config(written_model(space, signature, {})) == loss_config(model)


def test_a_searched_loss_and_label_smoothing_are_hyperparameters_the_code_asks_for_too() -> None:
    space = SearchSpace.from_dict(spec(loss={"hp": "choice", "values": ["crossentropy", "focal"]},
                                       label_smoothing={"hp": "float", "min": 0.0, "max": 0.2}))
    names = [name for name, _ in hyperparameter_items(space)]
    assert names == ["training.loss", "training.label_smoothing"]
    for values in ({"training.loss": "focal", "training.label_smoothing": 0.1},
                   {"training.loss": "crossentropy", "training.label_smoothing": 0.2}):
        keras.backend.clear_session()
        engine = build_model(space, BINARY, fixed_chooser(values))
        keras.backend.clear_session()
        written = written_model(space, BINARY, values)
        assert loss_config(written) == loss_config(engine)
    assert type(engine.loss).__name__ == "BinaryCrossentropy"


@pytest.mark.parametrize(("signature", "training", "message"), [
    (REGRESSION, {"loss": "focal"}, r"the loss 'focal' does not apply to regression; choose from auto, mse"),
    (BINARY, {"loss": {"hp": "choice", "values": ["crossentropy", "huber"]}},
     r"the loss 'huber' does not apply to two-class classification; choose from auto, crossentropy, focal"),
    (THREE, {"loss": "focal"}, r"focal loss needs two classes"),
    (THREE, {"label_smoothing": 0.1}, r"label smoothing needs two classes here"),
    (REGRESSION, {"label_smoothing": 0.1}, r"label smoothing is for classification"),
], ids=["focal-regression", "huber-binary", "focal-three", "smoothing-three", "smoothing-regression"])
def test_a_loss_that_does_not_fit_the_task_is_named_before_training(signature: DataSignature,
                                                                    training: dict[str, Any],
                                                                    message: str) -> None:
    space = SearchSpace.from_dict(spec(**training))
    analysis = analyse(space, signature)
    assert not analysis.valid
    assert any(re.search(message, issue.message) for issue in analysis.issues), analysis.issues
    if not isinstance(training.get("loss"), dict) and "label_smoothing" not in training:
        with pytest.raises(SpecError, match=message):
            build_model(space, signature, fixed_chooser({}))


def test_an_unknown_loss_or_smoothing_out_of_range_is_refused_when_read() -> None:
    with pytest.raises(SpecError, match=r"unknown loss 'hinge'; choose from auto, crossentropy, focal"):
        SearchSpace.from_dict(spec(loss="hinge"))
    with pytest.raises(SpecError, match=r"label smoothing must be in 0…0.5, got 0.9"):
        SearchSpace.from_dict(spec(label_smoothing=0.9))
