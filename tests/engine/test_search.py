"""End-to-end searches on tiny real data: events, export, resume, stop, failures."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from datafiles import WITHOUT_APP

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import DataError, SpecError
from automl_studio.engine.core.events import event_from_dict
from automl_studio.engine.search.project import read_trials
from automl_studio.engine.search.session import run_search

pytestmark = pytest.mark.slow

LOAD_WITHOUT_APP = WITHOUT_APP + r"""import h5py, keras, numpy as np
path, sample = sys.argv[1], sys.argv[2]
model = keras.models.load_model(path)
with np.load(sample) as data:
    inputs = {k: data[k] for k in data.files}
meta = json.loads(h5py.File(path, "r").attrs["automl_studio"])
print(json.dumps({"pred": np.asarray(model.predict(inputs, verbose=0)).tolist(), "task": meta["task"]}))
"""


def collect() -> tuple[list, callable]:
    events: list = []
    return events, events.append


def test_tabular_search_streams_events_and_exports_a_self_contained_h5(tmp_path, mixed_csv):
    events, listener = collect()
    config = SearchConfig(forest=False, data_path=str(mixed_csv), project_dir=str(tmp_path / "proj"), target="label",
                          tuner="random", max_trials=2, max_epochs=2, export_path=str(tmp_path / "out.h5"))
    result = run_search(config, listener)

    kinds = [e.type for e in events]
    assert kinds[0] == "phase_changed" and "search_started" in kinds
    assert kinds.count("trial_started") == 2 and kinds.count("trial_ended") == 2
    assert kinds[-1] == "search_finished"
    ended = [e for e in events if e.type == "trial_ended"]
    assert all(e.status == "completed" and e.score is not None and e.best_epoch for e in ended)
    for event in events:  # every event survives the JSON round trip
        assert event_from_dict(json.loads(json.dumps(event.to_dict()))).type == event.type
    started = next(e for e in events if e.type == "search_started")
    id_column = next(c for c in started.profile["columns"] if c["name"] == "id")
    assert not id_column["used"] and "ID" in id_column["reason"]

    assert result.status == "completed"
    assert result.best_score == min(e.score for e in ended)
    assert {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "confusion_matrix"} <= set(result.test_metrics)
    out = tmp_path / "out.h5"
    assert out.exists() and (tmp_path / "out.keras").exists()
    assert (tmp_path / "proj" / "best" / "best.h5").exists()
    assert list((tmp_path / "proj" / "tensorboard").rglob("events.out.tfevents*"))

    # A fresh interpreter that cannot import automl_studio loads and predicts with plain Keras.
    sample = tmp_path / "proj" / "best" / "sample_inputs.npz"
    proc = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_APP, str(out), str(sample)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reply = json.loads(proc.stdout.strip().splitlines()[-1])
    assert reply["task"] == "classification"
    import keras

    here = keras.models.load_model(out).predict(dict(np.load(sample)), verbose=0)
    assert np.allclose(np.asarray(reply["pred"]), here, atol=1e-5)

    from automl_studio.engine.export.model_info import read_metadata

    meta = read_metadata(out)
    assert meta["target"] == "label" and meta["class_names"] == ["Yes", "no"]
    assert [c["name"] for c in meta["feature_schema"]["categorical"]] == ["city"]
    assert meta["dataset"]["fingerprint"].startswith("sha256:")
    assert meta["search_space"]["schema_version"] == 1
    assert set(meta["best_hyperparameters"]) == set(result.best_hyperparameters)

    # A small table's model averages five refits, each its own seed, nested in one model.
    assert result.refits == 5 and meta["refits"] == 5 and meta["refit"] is True
    assert [e.refits for e in events if e.type == "search_finished"] == [5]
    refitting = [e.message for e in events if e.type == "phase_changed" and e.phase == "refitting"]
    retraining = [m for m in refitting if m.startswith("retraining")]
    assert [m.split("(refit ")[1][:6] for m in retraining] == [f"{i} of 5" for i in range(1, 6)]
    # Each is trained again on all rows once the test split has scored them (SearchConfig.refit_all).
    again = [m for m in refitting if "again on all" in m]
    assert [m.split("(refit ")[1][:6] for m in again] == [f"{i} of 5" for i in range(1, 6)]
    assert result.all_rows["members"] == result.all_rows["of"] == 5 and meta["all_rows"] == result.all_rows
    refit_epochs = [e.epoch for e in events if e.type == "epoch_ended" and e.trial_id == "refit"]
    assert refit_epochs.count(1) == 10  # the refits and their twins on all rows
    model = keras.models.load_model(out)
    members = [model.get_layer(f"refit_{i}") for i in range(1, 6)]
    inputs = dict(np.load(sample))
    each = [np.asarray(m.predict(inputs, verbose=0)) for m in members]
    assert np.allclose(np.mean(each, axis=0), here, atol=1e-6)
    assert not np.allclose(each[0], each[1], atol=1e-4)  # different seeds, different networks


def test_regression_search_reports_regression_metrics_in_target_units(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = 1000 + 300 * x[:, 0] - 50 * x[:, 1] + rng.normal(0, 5, 200)
    path = tmp_path / "reg.csv"
    path.write_text("a,b,c,price\n" + "\n".join(f"{r[0]},{r[1]},{r[2]},{v}" for r, v in zip(x, y, strict=False)))
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), max_trials=2,
                                     max_epochs=30, tuner="random", refits=1))
    assert {"rmse", "mae", "r2"} <= set(result.test_metrics)
    from automl_studio.engine.export.model_info import describe

    assert result.refits == 1 and "Average" not in describe(result.exported[0])["layers"]  # one plain model
    # Predictions come out in the target's units thanks to the in-model rescale.
    assert abs(np.mean(result.test_metrics["sample"]["predicted"]) - 1000) < 300


def test_image_npz_search(tmp_path, image_npz):
    result = run_search(SearchConfig(data_path=str(image_npz), project_dir=str(tmp_path / "p"), max_trials=2,
                                     max_epochs=2, tuner="random", export_keras=False))
    assert result.status == "completed" and result.exported[0].endswith("best.h5")
    assert result.test_metrics["n"] > 0
    assert result.refits == 1  # images: one refit unless asked for more


def test_a_stop_during_the_later_refits_exports_the_ones_that_finished(tmp_path, iris_csv):
    stop = threading.Event()
    events: list = []

    def listener(event):
        events.append(event)
        if event.type == "phase_changed" and "(refit 2 of 5" in event.message:
            stop.set()

    result = run_search(SearchConfig(forest=False, data_path=str(iris_csv), project_dir=str(tmp_path / "p"), max_trials=1,
                                     max_epochs=3, tuner="random"), listener, stop=stop)
    assert result.refits == 1 and result.exported
    warning = next(e.message for e in events if e.type == "warning" and "cut short" in e.message)
    assert "refit 2 of 5" in warning and "the 1 that finished" in warning
    assert next(e for e in events if e.type == "search_finished").refits == 1


def test_resume_keeps_completed_trials_and_reaches_the_requested_count(tmp_path, iris_csv):
    base = dict(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), max_epochs=1, tuner="random")
    run_search(SearchConfig(max_trials=2, refit=False, **base))
    events, listener = collect()
    run_search(SearchConfig(max_trials=3, **base), listener)
    started = next(e for e in events if e.type == "search_started")
    assert started.resumed and started.completed_trials == 2
    assert [e.trial_id for e in events if e.type == "trial_started"] == ["2"]
    trials = read_trials(tmp_path / "p")
    assert sorted(trials) == ["0", "1", "2"] and all(t.status == "completed" for t in trials.values())


def test_fresh_starts_over(tmp_path, iris_csv):
    base = dict(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), max_epochs=1, tuner="random",
                refit=False, max_trials=1)
    run_search(SearchConfig(**base))
    events, listener = collect()
    run_search(SearchConfig(fresh=True, **base), listener)
    assert not next(e for e in events if e.type == "search_started").resumed


def test_stop_lands_at_the_next_batch_and_the_best_so_far_stays_exportable(tmp_path, iris_csv):
    # How long the stop takes is measured by benchmarks/stop_and_budget.py, not asserted here.
    from automl_studio.engine.search.session import export_project

    stop = threading.Event()
    events: list = []
    stopped_after: list[int] = []

    def listener(event):
        events.append(event)
        ended = [e for e in events if e.type == "trial_ended"]
        if event.type == "epoch_ended" and len(ended) >= 1 and not stop.is_set():
            stop.set()
            stopped_after.append(len(events))

    result = run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), max_trials=50,
                                     max_epochs=200, patience=0, tuner="random"), listener, stop)
    assert result.status == "stopped"
    after = [e.type for e in events[stopped_after[0]:]]
    assert "trial_started" not in after and after.count("epoch_ended") == 0, after
    ended = [e for e in events if e.type == "trial_ended"]
    assert ended[-1].status == "stopped" and "resume" in ended[-1].error
    out = export_project(str(tmp_path / "p"), str(tmp_path / "late.h5"))
    assert out["verified"] and Path(out["files"][0]).exists()


def test_nan_loss_fails_the_trial_with_its_reason_and_the_search_goes_on(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2)) * 1e18
    y = rng.normal(size=80) * 1e18
    path = tmp_path / "huge.csv"
    path.write_text("a,b,t\n" + "\n".join(f"{r[0]},{r[1]},{v}" for r, v in zip(x, y, strict=False)))
    spec = {"schema_version": 1, "name": "linear",
            "nodes": [{"id": "in", "type": "Input", "params": {"source": "numeric"}},
                      {"id": "head", "type": "Output"}],
            "edges": [["in", "head"]],
            "training": {"optimizer": "sgd", "learning_rate": {"hp": "choice", "values": [5.0, 6.0, 7.0]},
                         "epochs": 3, "patience": 0}}
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    events, listener = collect()
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), space=str(spec_path),
                                     max_trials=3, tuner="random", max_consecutive_failures=2), listener)
    failed = [e for e in events if e.type == "trial_ended" and e.status == "failed"]
    assert failed and "loss became" in failed[0].error
    assert result.status == "failed" and "2 trials failed in a row" in result.message


def test_bad_data_and_bad_spec_fail_before_training(tmp_path, iris_csv):
    with pytest.raises(DataError, match="no column named 'nope'.*species"):
        run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "a"), target="nope"))
    spec = {"schema_version": 1, "nodes": [{"id": "in", "type": "Input", "params": {"source": "image"}},
                                           {"id": "head", "type": "Output"}], "edges": [["in", "head"]]}
    with pytest.raises(SpecError, match="'in'.*image"):
        run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "b"), space=spec))


def test_mixed_precision_and_data_parallel_options_train_and_export(tmp_path, iris_csv):
    import keras

    from automl_studio.engine.export.model_info import model_config

    result = run_search(SearchConfig(forest=False, data_path=str(iris_csv), project_dir=str(tmp_path / "p"), max_trials=1,
                                     max_epochs=2, tuner="random", device="cpu", mixed_precision=True,
                                     distribution="data-parallel", export_keras=False))
    assert result.status == "completed"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored for the process
    outer = model_config(result.exported[0])["config"]["layers"]
    average = next(layer for layer in outer if layer["class_name"] == "Average")
    assert "float32" in json.dumps(average["config"]["dtype"])  # the averaged output stays float32
    layers = next(layer for layer in outer if layer["config"]["name"] == "refit_1")["config"]["layers"]
    head = next(layer for layer in layers if layer["config"]["name"] == "head")
    assert "float32" in json.dumps(head["config"]["dtype"])
    others = [layer for layer in layers if layer["class_name"] == "Dense" and layer["config"]["name"] != "head"]
    assert all("mixed_float16" in json.dumps(layer["config"]["dtype"]) for layer in others)


def test_large_inputs_stream_batch_by_batch(tmp_path, mixed_csv, monkeypatch):
    from automl_studio.engine.train import hypermodel

    monkeypatch.setattr(hypermodel, "STREAM_BYTES", 0)  # treat this small table as a large one
    events, listener = collect()
    result = run_search(SearchConfig(data_path=str(mixed_csv), project_dir=str(tmp_path / "p"), target="label",
                                     max_trials=1, max_epochs=2, tuner="random", export_keras=False), listener)
    assert result.status == "completed" and result.test_metrics["n"] > 0
    epochs = [e for e in events if e.type == "epoch_ended" and e.trial_id == "0"]
    assert len(epochs) == 2 and "val_loss" in epochs[0].metrics


def test_big_image_folders_decode_lazily_and_still_train(tmp_path, monkeypatch):
    from PIL import Image

    from automl_studio.engine.data import images
    from automl_studio.engine.data.loading import load_dataset

    rng = np.random.default_rng(0)
    for name, shift in (("dark", 0), ("light", 120)):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(30):
            pixels = (rng.uniform(0, 100, (20, 20, 3)) + shift).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / name / f"{i}.png")
    monkeypatch.setattr(images, "LAZY_IMAGES", 10)
    loaded = load_dataset(tmp_path / "imgs", image_size=(16, 16))
    assert isinstance(loaded.x, images.LazyImages) and loaded.x.shape == (60, 16, 16, 3)
    assert loaded.x[[0, 59]].shape == (2, 16, 16, 3) and loaded.x[59].mean() > loaded.x[0].mean()
    (tmp_path / "imgs" / "dark" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png"):
        load_dataset(tmp_path / "imgs", image_size=(16, 16))  # headers are checked up front
    (tmp_path / "imgs" / "dark" / "broken.png").unlink()
    result = run_search(SearchConfig(data_path=str(tmp_path / "imgs"), project_dir=str(tmp_path / "p"),
                                     max_trials=1, max_epochs=2, tuner="random", image_size=(16, 16),
                                     export_keras=False))
    assert result.status == "completed" and result.test_metrics["n"] > 0


def test_the_trial_callback_times_training_steps_apart_from_validation():
    import time

    import keras

    from automl_studio.engine.train.hypermodel import TrialCallback

    class SlowValidation(keras.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            time.sleep(0.05)  # 4 batches: 0.2 s per validation pass, which a refit does not have

    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss=keras.losses.BinaryCrossentropy())
    reporter = TrialCallback("t", lambda _event: None, None, None, 4)
    started = time.monotonic()
    model.fit(x, y, batch_size=16, epochs=3, validation_data=(x, y), verbose=0,
              callbacks=[reporter, SlowValidation()])
    total = time.monotonic() - started
    assert len(reporter.epoch_seconds) == 3
    assert 0 < sum(reporter.epoch_seconds) < total - 3 * 0.2
    assert 3 * 0.2 <= reporter.validation_seconds < total - sum(reporter.epoch_seconds)
