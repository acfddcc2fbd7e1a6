"""Deploy anywhere: SavedModel, TFLite and ONNX beside .h5/.keras, each reloaded in a fresh
process with its own runtime, plus schema.json, reference.csv and MODEL_CARD.md."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datafiles import write_steps

from automl_studio.engine.core.errors import ExportError

CLI = [sys.executable, "-m", "automl_studio.engine.cli"]
ALL = ["h5", "keras", "savedmodel", "tflite", "onnx"]

pytestmark = pytest.mark.slow


def write_mixed_table(path: Path, rows: int = 160) -> Path:
    """Numbers with gaps, a category and string labels that depend on both."""
    rng = np.random.default_rng(0)
    age = rng.normal(40, 12, rows).round(1)
    income = rng.lognormal(10, 0.5, rows).round(0)
    city = rng.choice(["Paris", "Lyon", "Nice"], rows)
    score = age / 10 + (city == "Paris") * 2 + rng.normal(0, 1, rows)
    label = np.where(score > np.median(score), "Yes", "no")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["age", "income", "city", "label"])
        for i in range(rows):
            writer.writerow(["" if i % 11 == 0 else age[i], income[i], city[i], label[i]])
    return path


def write_regression_table(path: Path, rows: int = 150) -> Path:
    rng = np.random.default_rng(3)
    size = rng.uniform(20, 200, rows).round(1)
    rooms = rng.integers(1, 6, rows)
    area = rng.choice(["north", "south", "centre"], rows)
    price = 1000 * size + 5000 * rooms + (area == "centre") * 40000 + rng.normal(0, 5000, rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["size", "rooms", "area", "price"])
        for i in range(rows):
            writer.writerow([size[i], rooms[i], area[i], round(float(price[i]), 2)])
    return path


def search(folder: Path, data: Path, target: str) -> Path:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    project = folder / "project"
    result = run_search(SearchConfig(data_path=str(data), project_dir=str(project), target=target,
                                     tuner="random", max_trials=1, max_epochs=2, refit=False,
                                     export_keras=False, tensorboard=False))
    assert result.status == "completed"
    return project


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("classifier")
    return search(folder, write_mixed_table(folder / "mixed.csv"), "label")


@pytest.fixture(scope="module")
def regressor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("regressor")
    return search(folder, write_regression_table(folder / "houses.csv"), "price")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def check_bundle(project: Path, out: Path, quantize: str) -> dict:
    from automl_studio.engine.search.session import export_project

    result = export_project(str(project), str(out / "house_model.h5"), ALL, quantize=quantize)
    checks = {c["format"]: c for c in result["checks"]}
    assert sorted(checks) == sorted(ALL)
    for check in checks.values():
        assert check["passed"], check["words"]
        assert check["rows"] > 0 and check["max_abs_diff"] <= check["tolerance"]
        assert "fresh process" in check["words"] and str(check["rows"]) in check["words"]
        assert Path(check["path"]).exists() and Path(check["path"]).parent == out
    assert checks["onnx"]["runtime"] == "onnxruntime.InferenceSession"
    assert checks["tflite"]["quantize"] == quantize
    assert (out / "house_model_savedmodel" / "saved_model.pb").exists()
    assert not list(out.glob(".*")), "the working folder is removed"
    return result


def check_reference(out: Path, project: Path, task: str) -> None:
    schema = json.loads((out / "schema.json").read_text())
    assert {i["name"] for i in schema["inputs"]} == {"numeric", "categorical"}
    assert schema["task"] == task
    assert schema["preprocessing"]["categorical"]["columns"][0]["vocabulary"]
    reference = read_csv(out / "reference.csv")
    assert len(reference) == 20
    # The exported .h5, used by the command line in a fresh process, reproduces the app's outputs.
    done = subprocess.run([*CLI, "predict", str(out / "house_model.h5"), str(out / "reference.csv"),
                           "--output", str(out / "again.csv")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    again = read_csv(out / "again.csv")
    assert len(again) == 20
    for ref, new in zip(reference, again, strict=True):
        if task == "classification":
            assert ref["prediction"] == new["prediction"]
            for key in (k for k in ref if k.startswith("probability_")):
                assert float(ref[key]) == pytest.approx(float(new[key]), abs=1e-5)
        else:
            assert float(ref["prediction"]) == pytest.approx(float(new["prediction"]), rel=1e-5)


def test_classifier_exports_to_every_format_and_each_round_trips(classifier, tmp_path):
    from automl_studio.engine.export.model_info import read_metadata

    out = tmp_path / "deploy"
    result = check_bundle(classifier, out, "none")
    assert result["checks"][0]["same_class"] is not None
    check_reference(out, classifier, "classification")
    schema = json.loads((out / "schema.json").read_text())
    assert schema["classes"] == ["Yes", "no"]
    assert set(read_csv(out / "reference.csv")[0]) >= {"age", "income", "city", "label", "prediction",
                                                        "probability_Yes", "probability_no"}
    card = (out / "MODEL_CARD.md").read_text()
    metadata = read_metadata(out / "house_model.h5")
    test_rows = metadata["test_metrics"]["n"]
    assert f"test split ({test_rows} rows)" in card
    assert "| accuracy |" in card and "Trivial baseline" in card
    assert metadata["baseline_metrics"]["rule"] in card
    assert "mixed.csv" in card and metadata["dataset"]["fingerprint"] in card
    assert "Small test set" in card  # fewer than 100 test rows
    assert "| Tuner | random |" in card


def test_a_random_forest_in_keras_layers_exports_to_every_format_and_each_round_trips(tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.search.session import run_search

    project = tmp_path / "project"
    result = run_search(SearchConfig(data_path=str(write_steps(tmp_path / "steps.csv", 400)), project_dir=str(project),
                                     tuner="random", max_trials=1, max_epochs=1, refits=1, export_keras=False,
                                     tensorboard=False))
    assert result.forest, result.message  # a network of one epoch does not learn the staircase
    out = tmp_path / "deploy"
    check_bundle(project, out, "none")
    check_reference(out, project, "classification")
    assert read_metadata(out / "house_model.h5")["forest"]["trees"] == 100
    assert "random forest of 100 trees" in (out / "MODEL_CARD.md").read_text()


def test_regressor_exports_with_dynamic_tflite_and_float16_is_refused(regressor, tmp_path):
    from automl_studio.engine.search.session import export_project

    # Prices reach 2e5: float16 cannot hold the model's output scale, the check sees it.
    refused = tmp_path / "float16"
    with pytest.raises(ExportError, match=r"float16-quantised.*more than the .* allowed.*65504.*nothing was written"):
        export_project(str(regressor), str(refused), ["tflite"], quantize="float16")
    assert list(refused.iterdir()) == []
    out = tmp_path / "deploy"
    result = check_bundle(regressor, out, "dynamic")
    assert all(c["same_class"] is None for c in result["checks"])
    check_reference(out, regressor, "regression")
    card = (out / "MODEL_CARD.md").read_text()
    assert "| rmse |" in card and "always the training mean" in card


def test_command_line_export_prints_each_check_in_words(classifier, tmp_path):
    out = tmp_path / "cli"
    done = subprocess.run([*CLI, "export", str(classifier), str(out), "--format", "tflite", "--format", "onnx",
                           "--quantize", "dynamic"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "TensorFlow Lite (.tflite), dynamic-quantised: reloaded with" in done.stderr
    assert "ONNX (.onnx): reloaded with onnxruntime.InferenceSession" in done.stderr
    result = json.loads(done.stdout)
    assert result["verified"] and (out / "model.tflite").exists() and (out / "model.onnx").exists()
    assert {p.name for p in out.iterdir()} == {"model.tflite", "model.onnx", "schema.json", "reference.csv",
                                               "MODEL_CARD.md"}


def test_a_layer_tflite_cannot_run_is_named_and_nothing_is_written(tmp_path):
    import keras

    from automl_studio.engine.export.deploy import export_bundle

    codes = keras.Input(shape=(2,), dtype="int32", name="categorical")
    counts = keras.layers.CategoryEncoding(num_tokens=5, output_mode="count", name="counts")(codes)
    model = keras.Model({"categorical": codes}, keras.layers.Dense(1, activation="sigmoid", name="head")(counts))
    held_out = {"categorical": np.array([[1, 2], [3, 3], [0, 4]], dtype="int32")}
    metadata = {"task": "classification", "class_names": ["a", "b"], "input_kind": "features"}
    out = tmp_path / "out"
    with pytest.raises(ExportError) as caught:
        export_bundle(model, metadata, out, formats=["h5", "tflite"], held_out=held_out)
    message = str(caught.value)
    assert "'counts' (CategoryEncoding)" in message and "DenseBincount" in message
    assert "nothing was written" in message
    assert list(out.iterdir()) == []


def test_unknown_format_or_quantisation_is_refused_before_anything_runs():
    from automl_studio.engine.export.deploy import check_request
    from automl_studio.engine.export.formats import missing_message

    with pytest.raises(ExportError, match="unknown export format pmml"):
        check_request(["h5", "pmml"], "none")
    with pytest.raises(ExportError, match="unknown quantisation 'int4'"):
        check_request(["tflite"], "int4")
    assert missing_message("onnx") is None  # the dev extra installs automl-studio[deploy]
    assert missing_message("tflite") is None  # comes with TensorFlow


def test_a_gelu_network_exports_to_onnx_and_round_trips(tmp_path):
    """Keras' exact GELU uses TensorFlow's Erfc, which ONNX lacks; the export writes 1 - Erf."""
    import keras

    from automl_studio.engine.export.deploy import verify_exports, write_onnx

    numbers = keras.Input(shape=(4,), name="numeric")
    hidden = keras.layers.Dense(16, activation="gelu", name="dense_0")(numbers)
    model = keras.Model({"numeric": numbers}, keras.layers.Dense(3, activation="softmax", name="head")(hidden))
    inputs = {"numeric": np.random.default_rng(0).normal(size=(40, 4)).astype("float32")}
    path = tmp_path / "model.onnx"
    write_onnx(model, path)  # refused before: "No Op registered for Erfc"
    expected = np.asarray(model.predict(inputs, verbose=0))
    checks = verify_exports({"onnx": path}, inputs, expected, "classification", "none", tmp_path)
    assert len(checks) == 1 and checks[0].passed and checks[0].rows == 40 and checks[0].same_class == 40


def test_an_image_model_exports_to_every_format_and_each_round_trips(tmp_path):
    """Images are held as uint8; SavedModel, TFLite and ONNX take their Input's float32 exactly."""
    from automl_studio.engine.search.session import export_project

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    x = rng.integers(0, 90, (40, 8, 8, 3), dtype=np.uint8)
    x[y == 1, ..., 0] += 160  # reddish against dark
    np.savez(tmp_path / "pictures.npz", x=x, y=y)
    project = search(tmp_path, tmp_path / "pictures.npz", "y")
    result = export_project(str(project), str(tmp_path / "deploy" / "pictures.h5"), ALL)
    checks = {c["format"]: c for c in result["checks"]}
    assert sorted(checks) == sorted(ALL)
    assert all(check["passed"] for check in checks.values()), [c["words"] for c in checks.values()]
    schema = json.loads((tmp_path / "deploy" / "schema.json").read_text())
    assert schema["inputs"] == [{"name": "image", "dtype": "float32", "shape": [None, 8, 8, 3]}]
