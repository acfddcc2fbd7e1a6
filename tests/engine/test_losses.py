"""The loss per task — cross-entropy with label smoothing, focal loss, MSE/MAE/Huber/log-cosh —
fixed or searched, checked against the task, compiled, trained for an epoch, and written by the
code view as the engine compiles it. With more than two classes, focal loss and label smoothing
train on one-hot targets (the engine's are class indices), and the exported .h5 reloads with
plain Keras."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest
from datafiles import IRIS, WITHOUT_APP, run_without_app

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.imbalance import balanced_class_weights
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.shapes import analyse
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser, hyperparameter_items
from automl_studio.engine.train.hypermodel import build_model, fit_arrays

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
    """One epoch on random rows, targets as the engine holds them (class indices), fed as it feeds them."""
    rng = np.random.default_rng(1)
    x = {"numeric": rng.normal(size=(32, 3)).astype("float32")}
    if signature.task == "regression":
        y = rng.normal(size=32).astype("float32")
    else:
        y = rng.integers(0, signature.n_classes, size=32).astype("float32")
    history = fit_arrays(model, x, y, epochs=1, batch_size=8, verbose=0, validation_data=(x, y))
    return float(history.history["loss"][0])


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
    (THREE, {"label_smoothing": 0.1}, "CategoricalCrossentropy"),
    (THREE, {"loss": "focal"}, "CategoricalFocalCrossentropy"),
    (THREE, {"loss": "focal", "label_smoothing": 0.05}, "CategoricalFocalCrossentropy"),
    (REGRESSION, {}, "MeanSquaredError"),
    (REGRESSION, {"loss": "mae"}, "MeanAbsoluteError"),
    (REGRESSION, {"loss": "huber"}, "Huber"),
    (REGRESSION, {"loss": "log_cosh"}, "LogCosh"),
], ids=["binary-auto", "binary-smoothed", "binary-focal", "three-classes", "three-smoothed", "three-focal",
        "three-focal-smoothed", "regression-auto", "mae", "huber", "log_cosh"])
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


def accuracy_class(model: keras.Model) -> str:
    """The class of the compiled accuracy metric (compile config, as the .h5 keeps it)."""
    metrics = model.get_compile_config()["metrics"]
    return next(m["class_name"] for m in metrics if m["config"]["name"] == "accuracy")


@pytest.mark.parametrize("values", [
    {"training.loss": "focal", "training.label_smoothing": 0.1},
    {"training.loss": "crossentropy", "training.label_smoothing": 0.2},
    {"training.loss": "crossentropy", "training.label_smoothing": 0.0},
], ids=["focal", "smoothed", "sparse"])
def test_three_classes_search_focal_loss_and_smoothing_the_code_compiles_and_trains_them_alike(
        values: dict[str, Any]) -> None:
    space = SearchSpace.from_dict(spec(loss={"hp": "choice", "values": ["crossentropy", "focal"]},
                                       label_smoothing={"hp": "float", "min": 0.0, "max": 0.2}))
    assert analyse(space, THREE).valid
    engine = build_model(space, THREE, fixed_chooser(values))
    keras.backend.clear_session()
    written = written_model(space, THREE, values)
    assert loss_config(written) == loss_config(engine)
    # Accuracy reads the targets as the loss does: one-hot, or class indices without smoothing.
    one_hot = values["training.loss"] == "focal" or values["training.label_smoothing"] > 0
    expected = ("CategoricalFocalCrossentropy" if values["training.loss"] == "focal" else
                "CategoricalCrossentropy" if one_hot else "SparseCategoricalCrossentropy")
    assert type(engine.loss).__name__ == expected
    accuracy = "CategoricalAccuracy" if one_hot else "SparseCategoricalAccuracy"
    assert accuracy_class(engine) == accuracy_class(written) == accuracy
    # The written HyperModel feeds class indices to either loss (one-hot encoded where it needs them).
    namespace: dict[str, Any] = {}
    exec(kerastuner_code(space, THREE), namespace)  # noqa: S102 - the code under test
    rng = np.random.default_rng(2)
    x = {"numeric": rng.normal(size=(24, 3)).astype("float32")}
    y = rng.integers(0, 3, size=24)
    hp = kt.HyperParameters()
    hp.values.update(values)
    history = namespace["HyperModel"]().fit(hp, written, x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert np.isfinite(history.history["val_loss"][0]) and 0 <= history.history["val_accuracy"][0] <= 1


@pytest.mark.parametrize(("signature", "training", "message"), [
    (REGRESSION, {"loss": "focal"}, r"the loss 'focal' does not apply to regression; choose from auto, mse"),
    (BINARY, {"loss": {"hp": "choice", "values": ["crossentropy", "huber"]}},
     r"the loss 'huber' does not apply to two-class classification; choose from auto, crossentropy, focal"),
    (THREE, {"loss": "mae"}, r"the loss 'mae' does not apply to classification with more than two classes; "
                             r"choose from auto, crossentropy, focal$"),
    (REGRESSION, {"label_smoothing": 0.1}, r"label smoothing is for classification"),
], ids=["focal-regression", "huber-binary", "mae-three", "smoothing-regression"])
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


LOAD_WITHOUT_APP = WITHOUT_APP + r"""import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
with np.load(sys.argv[2]) as data:
    inputs = {k: data[k] for k in data.files}
print(json.dumps({"loss": type(model.loss).__name__, "loss_config": model.loss.get_config(),
                  "pred": np.asarray(model.predict(inputs, verbose=0)).tolist()}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("training", "expected"), [
    ({"loss": "focal"}, "CategoricalFocalCrossentropy"),
    ({"label_smoothing": 0.1}, "CategoricalCrossentropy"),
], ids=["focal", "smoothed"])
def test_iris_trains_an_epoch_with_focal_loss_or_smoothing_and_its_h5_reloads_with_plain_keras(
        tmp_path: Path, training: dict[str, Any], expected: str) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.data.identity import load_config_dataset, prepare_loaded
    from automl_studio.engine.export.writers import export_model

    config = SearchConfig(data_path=str(IRIS), project_dir=str(tmp_path / "p"), target="species")
    prepared = prepare_loaded(load_config_dataset(config), config)
    assert prepared.signature.n_classes == 3 and np.ndim(prepared.train.y) == 1  # class indices
    space = SearchSpace.from_dict(spec(**training))
    model = build_model(space, prepared.signature, fixed_chooser({}))
    assert type(model.loss).__name__ == expected
    history = fit_arrays(model, prepared.train.x, prepared.train.y, batch_size=16, epochs=1, verbose=0,
                         validation_data=(prepared.validation.x, prepared.validation.y),
                         class_weight=balanced_class_weights(prepared.train.y, 3))
    assert np.isfinite(history.history["val_loss"][0]) and "val_accuracy" in history.history

    sample = {k: v[:5] for k, v in prepared.test.x.items()}
    expected_pred = np.asarray(model.predict(sample, verbose=0))
    export_model(model, tmp_path / "model.h5", {"name": "iris"}, sample)
    np.savez(tmp_path / "sample.npz", **sample)
    reply = run_without_app(LOAD_WITHOUT_APP, tmp_path / "model.h5", tmp_path / "sample.npz")
    assert reply["loss"] == expected
    assert reply["loss_config"].get("label_smoothing", 0.0) == pytest.approx(training.get("label_smoothing", 0.0))
    np.testing.assert_allclose(np.asarray(reply["pred"]), expected_pred, atol=1e-5)
