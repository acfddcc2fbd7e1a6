"""The smoke matrix: tuner × objective × data kind × entry point, one trial of one epoch per cell.

Every cell trains for real on tiny data and ends the same way: the exported ``.h5`` reloads with
plain ``keras.models.load_model``, and ``automl-studio predict`` on the data file gives the
predictions the engine reported for the test rows (``test_metrics["sample"]``, what the Results
page shows) and the reloaded model's outputs for the stored sample inputs (the first test rows).

The cells are not the full cross product (TensorFlow's import alone costs seconds a process):
every tuner meets every data kind once, every objective meets every task it exists for, most
cells run in this process through ``run_search``, and a fixed few run through the real command
line (here) or the real window (``tests/gui/test_matrix_in_window.py``). Combinations that make
no sense are cells too: the command line refuses them with exit 2 and one line, and the window
never offers them.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datafiles import IRIS, make_image_folder, write_image_npz, write_mixed_table

from automl_studio.engine.core.config import TUNERS, SearchConfig
from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.objectives import OBJECTIVES, objectives_for, task_kind

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "automl_studio.engine.cli"]
IMAGE_SIZE = (16, 16)


# --- the data kinds -------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """One data kind written to disk: where it is, what to predict, which task that makes."""

    path: Path
    target: str | None  # None: arrays and image folders carry their labels
    task: str  # "binary", "multiclass" or "regression"
    image_size: tuple[int, int] = IMAGE_SIZE


def numeric_table(folder: Path) -> DataFile:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 4)).round(4)
    label = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    lines = ["a,b,c,d,label"] + [",".join(map(str, row)) + f",{k}" for row, k in zip(x, label, strict=True)]
    path = folder / "numeric.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DataFile(path, "label", "binary")


def mixed_table(folder: Path, rows: int = 160) -> DataFile:
    """Numbers, a category, missing values (empty and ``NA``), an ID column and string labels."""
    return DataFile(write_mixed_table(folder / "mixed.csv", rows), "label", "binary")


def string_labels(folder: Path) -> DataFile:
    return DataFile(IRIS, "species", "multiclass")  # setosa, versicolor, virginica


def regression_table(folder: Path) -> DataFile:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(120, 3))
    y = 1000 + 300 * x[:, 0] - 50 * x[:, 1] + rng.normal(0, 5, 120)
    lines = ["a,b,c,price"] + [f"{r[0]:.5f},{r[1]:.5f},{r[2]:.5f},{v:.3f}" for r, v in zip(x, y, strict=True)]
    path = folder / "regression.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DataFile(path, "price", "regression")


def image_folder(folder: Path) -> DataFile:
    path = make_image_folder(folder / "images", {"cat": 10, "dog": 10, "owl": 10})
    return DataFile(path, None, "multiclass")


def image_npz(folder: Path) -> DataFile:
    return DataFile(write_image_npz(folder / "images.npz"), None, "binary")


def sequence_npz(folder: Path) -> DataFile:
    rng = np.random.default_rng(3)
    y = np.arange(90) % 3
    x = (rng.normal(size=(90, 6, 2)) + y[:, None, None]).astype(np.float32)
    path = folder / "sequences.npz"
    np.savez(path, x=x, y=y)
    return DataFile(path, None, "multiclass")


def parquet_table(folder: Path) -> DataFile:
    import pandas as pd

    rng = np.random.default_rng(4)
    n = 120
    colour = rng.choice(["red", "green", "blue"], n)
    width = rng.uniform(1, 5, n)
    frame = pd.DataFrame({"width": width, "colour": colour,
                          "height": rng.uniform(1, 3, n).astype(np.float32),
                          "weight": 2.5 * width + (colour == "red") * 4 + rng.normal(0, 0.2, n)})
    path = folder / "table.parquet"
    frame.to_parquet(path)
    return DataFile(path, "weight", "regression")


def large_csv(folder: Path) -> DataFile:
    """The mixed table, read as a file over the chunked-read threshold (see ``over_threshold``)."""
    data = mixed_table(folder, rows=200)
    path = data.path.rename(folder / "large.csv")
    return DataFile(path, "label", "binary")


DATA_KINDS = {
    "numeric": numeric_table,
    "mixed": mixed_table,
    "strings": string_labels,
    "regression": regression_table,
    "folder": image_folder,
    "npz_images": image_npz,
    "npz_sequences": sequence_npz,
    "parquet": parquet_table,
    "large_csv": large_csv,
}


def over_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes every CSV count as large: float32 columns, read in chunks of 64 rows and joined."""
    from automl_studio.engine.data import dataset

    monkeypatch.setattr(dataset, "LARGE_FILE_BYTES", 0)
    monkeypatch.setattr(dataset, "_CHUNK_ROWS", 64)


# --- the matrix -----------------------------------------------------------------------------


class Combination:
    """A tuner, an objective and a data kind, through one entry point: "engine" (run_search in
    this process), "cli" or "window"."""

    tuner: str
    objective: str
    kind: str
    entry: str

    @property
    def id(self) -> str:
        """The test id: tuner-objective-kind-entry."""
        return f"{self.tuner}-{self.objective}-{self.kind}-{self.entry}"


@dataclass(frozen=True)
class Cell(Combination):
    """A combination that trains, exports and predicts."""

    tuner: str
    objective: str
    kind: str
    entry: str
    # 0: export the best trial as trained; n: average n refits on train+validation (on a small
    # table after a 5-fold cross-validation of their length, which costs as much as 5 cells).
    refits: int = 0


# Each data kind meets every tuner; each task meets every objective it has (binary: loss,
# accuracy, auc; multiclass: loss, accuracy; regression: loss, rmse, mae).
CELLS = [
    #     tuner        objective        data kind        entry
    Cell("random",    "val_loss",      "numeric",       "engine"),
    Cell("bayesian",  "val_auc",       "numeric",       "engine"),
    Cell("hyperband", "val_accuracy",  "numeric",       "engine"),
    Cell("grid",      "val_auc",       "numeric",       "engine"),

    Cell("random",    "val_auc",       "mixed",         "cli", refits=1),
    Cell("bayesian",  "val_loss",      "mixed",         "engine"),
    Cell("hyperband", "val_auc",       "mixed",         "engine"),
    Cell("grid",      "val_accuracy",  "mixed",         "window", refits=1),  # tests/gui/test_matrix_in_window.py

    Cell("random",    "val_accuracy",  "strings",       "engine"),
    Cell("bayesian",  "val_accuracy",  "strings",       "engine"),
    Cell("hyperband", "val_loss",      "strings",       "engine"),
    Cell("grid",      "val_loss",      "strings",       "engine"),

    Cell("random",    "val_rmse",      "regression",    "engine"),
    Cell("bayesian",  "val_mae",       "regression",    "engine", refits=1),
    Cell("hyperband", "val_loss",      "regression",    "engine"),
    Cell("grid",      "val_rmse",      "regression",    "engine"),

    Cell("random",    "val_loss",      "folder",        "engine"),
    Cell("bayesian",  "val_accuracy",  "folder",        "engine"),
    Cell("hyperband", "val_accuracy",  "folder",        "engine"),
    Cell("grid",      "val_loss",      "folder",        "engine"),

    Cell("random",    "val_accuracy",  "npz_images",    "engine"),
    Cell("bayesian",  "val_auc",       "npz_images",    "engine"),
    Cell("hyperband", "val_loss",      "npz_images",    "engine", refits=1),
    Cell("grid",      "val_accuracy",  "npz_images",    "engine"),

    Cell("random",    "val_loss",      "npz_sequences", "engine"),
    Cell("bayesian",  "val_loss",      "npz_sequences", "engine", refits=2),
    Cell("hyperband", "val_accuracy",  "npz_sequences", "engine"),
    Cell("grid",      "val_accuracy",  "npz_sequences", "cli"),

    Cell("random",    "val_mae",       "parquet",       "engine"),
    Cell("bayesian",  "val_rmse",      "parquet",       "engine"),
    Cell("hyperband", "val_mae",       "parquet",       "window", refits=1),  # tests/gui/test_matrix_in_window.py
    Cell("grid",      "val_loss",      "parquet",       "engine"),

    Cell("random",    "val_auc",       "large_csv",     "engine"),
    Cell("bayesian",  "val_accuracy",  "large_csv",     "engine"),
    Cell("hyperband", "val_loss",      "large_csv",     "engine"),
    Cell("grid",      "val_loss",      "large_csv",     "engine"),
]


@dataclass(frozen=True)
class Refusal(Combination):
    """A combination that makes no sense with any tuner: the command line says why (exit 2, one line)."""

    tuner = "any"
    objective: str
    kind: str
    entry: str
    says: str  # part of that line


REFUSALS = [
    Refusal("val_auc",      "strings",    "cli", "val_auc does not exist for 3-class classification"),
    Refusal("val_rmse",     "mixed",      "cli", "val_rmse does not exist for two-class classification"),
    Refusal("val_mae",      "folder",     "cli", "val_mae does not exist for 3-class classification"),
    Refusal("val_accuracy", "regression", "cli", "val_accuracy does not exist for regression"),
    Refusal("val_auc",      "parquet",    "engine", "val_auc does not exist for regression"),
    Refusal("val_f1",       "numeric",    "engine", "unknown objective 'val_f1'"),
]


def run_through(entry: str, table: list[Cell] | list[Refusal]) -> list[Any]:
    """The rows of ``table`` (:data:`CELLS` or :data:`REFUSALS`) that ``entry`` runs, as pytest
    params named by their id."""
    return [pytest.param(row, id=row.id) for row in table if row.entry == entry]


def test_the_matrix_covers_every_pair_it_promises(tmp_path):
    kinds = {name: make(tmp_path).task for name, make in DATA_KINDS.items()}
    assert {(c.tuner, c.kind) for c in CELLS} == {(t, k) for t in TUNERS for k in DATA_KINDS}
    tasks = {"binary": ("classification", 2), "multiclass": ("classification", 3), "regression": ("regression", 0)}
    promised = {(o.name, task) for task, args in tasks.items() for o in objectives_for(*args)}
    assert {(c.objective, kinds[c.kind]) for c in CELLS} == promised
    assert {c.entry for c in CELLS} == {"engine", "cli", "window"}
    assert all(c.objective in {o.name for o in objectives_for(*tasks[kinds[c.kind]])} for c in CELLS)
    refused = {(r.objective, kinds[r.kind]) for r in REFUSALS if r.objective in OBJECTIVES}
    assert refused <= {(o, t) for o in OBJECTIVES for t in tasks} - promised
    assert {r.entry for r in REFUSALS} == {"engine", "cli"}


# --- what every cell ends with --------------------------------------------------------------


def split_test_rows(data: DataFile, split: SearchConfig | None = None) -> list[Any]:
    """The keys (row numbers, or image files) of the engine's test split, in its order.

    ``split``: the search's fractions and seed (default: SearchConfig's).
    """
    from automl_studio.engine.data.features import prepare_data
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset

    split = split or SearchConfig(data_path=str(data.path), project_dir="")
    dataset = load_dataset(data.path, image_size=data.image_size)
    prepared = prepare_data(dataset, profile_dataset(dataset, data.target), seed=split.seed,
                            validation_fraction=split.validation_fraction, test_fraction=split.test_fraction)
    rows = prepared.split_indices[2]
    if dataset.files:
        return [str(Path(dataset.files[i]).resolve()) for i in rows]
    return [int(i) for i in rows]


def read_predictions(path: Path) -> tuple[dict[Any, dict[str, str]], list[str]]:
    """``automl-studio predict``'s CSV and its header: rows by image file, or by position in the data.

    The position, not the ``row`` column: that counts file lines (a header, lines above it). No
    data kind here has rows without a target, so positions are the engine's row indices too.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    if header[0] == "file":
        return {str(Path(r["file"]).resolve()): r for r in rows}, header
    return dict(enumerate(rows)), header


def check_cell(cell: Cell, data: DataFile, model_path: Path, in_app: dict[str, Any], predictions: Path,
               reloaded: np.ndarray, split: SearchConfig | None = None) -> None:
    """The checks every cell ends with.

    Args:
        in_app: the test metrics the engine reported (the ``search_finished`` event's).
        predictions: what ``automl-studio predict MODEL DATA`` wrote.
        reloaded: the outputs of ``keras.models.load_model(MODEL)`` for ``best/sample_inputs.npz``.
        split: the search's configuration, for its split (default: SearchConfig's).
    """
    from automl_studio.engine.export.model_info import read_metadata

    meta = read_metadata(model_path)
    rule = OBJECTIVES[cell.objective]
    assert meta["objective"]["name"] == cell.objective and meta["objective"]["direction"] == rule.direction
    assert math.isfinite(meta["objective"]["score"])
    assert meta["refits"] == cell.refits
    names = list(meta["class_names"])

    rows, header = read_predictions(predictions)
    keys = split_test_rows(data, split)
    # A refitted model is trained again on all rows once the test split has scored it
    # (SearchConfig.refit_all): the Results page shows the model before, the file holds the one after.
    trained_again = bool(meta.get("all_rows"))
    assert trained_again == ((meta["refits"] > 0 or "forest" in meta) and "ensemble" not in meta), meta
    if trained_again:
        assert meta["all_rows"]["rows"] == len(rows) and meta["all_rows"]["test_rows"] == len(keys)
    assert len(keys) == in_app["n"] > 0
    shown = in_app["sample"]["predicted"]  # what the Results page plots, row by row of the test split
    assert len(shown) == len(keys)
    mine = [rows[k] for k in keys]
    n = len(reloaded)
    assert 0 < n <= len(keys)
    if data.task == "regression":
        assert meta["task"] == "regression" and header == [header[0], "prediction"]
        predicted = np.array([float(r["prediction"]) for r in mine])
        scale = float(np.max(np.abs(predicted))) or 1.0
        if not trained_again:
            np.testing.assert_allclose(predicted, shown, rtol=1e-4, atol=1e-5 * scale)
        np.testing.assert_allclose(predicted[:n], np.asarray(reloaded).reshape(-1), rtol=1e-4, atol=1e-5 * scale)
        assert {"rmse", "mae", "r2"} <= set(in_app)
        return
    assert meta["task"] == "classification"
    assert len(names) == (2 if data.task == "binary" else 3)
    assert header[1:] == ["prediction"] + [f"probability_{c}" for c in names]
    if not trained_again:
        assert [r["prediction"] for r in mine] == [names[int(k)] for k in shown]
    proba = np.array([[float(r[f"probability_{c}"]) for c in names] for r in mine[:n]])
    out = np.asarray(reloaded)
    expected = np.concatenate([1 - out, out], axis=1) if out.shape[1] == 1 else out
    np.testing.assert_allclose(proba, expected, atol=2e-6, rtol=1e-5)
    matrix = np.array(in_app["confusion_matrix"])
    assert matrix.shape == (len(names), len(names)) and matrix.sum() == len(keys)


def reload_sample(model_path: Path, project: Path) -> np.ndarray:
    """Plain Keras, no automl_studio code: the .h5's outputs for the stored sample inputs."""
    import keras

    model = keras.models.load_model(model_path)
    with np.load(project / "best" / "sample_inputs.npz") as stored:
        inputs = {k: stored[k] for k in stored.files}
    return np.asarray(model.predict(inputs, verbose=0))


# --- the cells, by entry point --------------------------------------------------------------


@pytest.mark.parametrize("cell", run_through("engine", CELLS))
def test_engine_cell(cell: Cell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automl_studio.engine.cli import main
    from automl_studio.engine.search.session import run_search

    if cell.kind == "large_csv":
        over_threshold(monkeypatch)  # for the search and for predict: both read it in chunks
    data = DATA_KINDS[cell.kind](tmp_path)
    events: list[Any] = []
    project = tmp_path / "project"
    result = run_search(SearchConfig(
        data_path=str(data.path), project_dir=str(project), target=data.target, tuner=cell.tuner,
        objective=cell.objective, max_trials=1, max_epochs=1, refit=cell.refits > 0, refits=cell.refits or None,
        image_size=data.image_size, export_keras=False, tensorboard=False, forest=False), events.append)
    assert result.status == "completed", result.message
    ended = [e for e in events if e.type == "trial_ended"]
    assert [e.status for e in ended] == ["completed"] and ended[0].score == pytest.approx(result.best_score)
    epochs = [e for e in events if e.type == "epoch_ended" and e.trial_id == ended[0].trial_id]
    assert len(epochs) == 1 and cell.objective in epochs[0].metrics
    model_path = project / "best" / "best.h5"
    assert result.exported == [str(model_path)] and result.refits == cell.refits

    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(model_path), str(data.path), "--output", str(predictions)]) == 0
    check_cell(cell, data, model_path, result.test_metrics, predictions, reload_sample(model_path, project))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def cli_search_args(cell: Cell, data: DataFile) -> list[str]:
    args = ["search", str(data.path), "--tuner", cell.tuner, "--objective", cell.objective, "--max-trials", "1",
            "--max-epochs", "1", "--image-size", *map(str, data.image_size), "--project", "project", "--events", "-",
            "--no-forest"]  # the networks' matrix: a forest in their place has tests of its own (test_forest.py)
    if data.target:
        args += ["--target", data.target]
    return args + (["--refits", str(cell.refits)] if cell.refits else ["--no-refit"])


@pytest.mark.parametrize("cell", run_through("cli", CELLS))
def test_cli_cell(cell: Cell, tmp_path: Path) -> None:
    data = DATA_KINDS[cell.kind](tmp_path)
    proc = run_cli(*cli_search_args(cell, data), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    finished = events[-1]
    assert finished["type"] == "search_finished" and finished["status"] == "completed", finished
    assert [e["status"] for e in events if e["type"] == "trial_ended"] == ["completed"]
    model_path = tmp_path / "project" / "best" / "best.h5"
    assert str(model_path) in finished["exported"] or "project/best/best.h5" in finished["exported"]

    proc = run_cli("predict", str(model_path), str(data.path), "--output", "predictions.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_cell(cell, data, model_path, finished["test_metrics"], tmp_path / "predictions.csv",
               reload_sample(model_path, tmp_path / "project"))


@pytest.mark.parametrize("refusal", run_through("cli", REFUSALS))
def test_cli_refuses_with_exit_2_and_one_line(refusal: Refusal, tmp_path: Path) -> None:
    data = DATA_KINDS[refusal.kind](tmp_path)
    cell = Cell("random", refusal.objective, refusal.kind, "cli")
    proc = run_cli(*cli_search_args(cell, data), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("automl-studio: error:")]
    assert len(lines) == 1 and refusal.says in lines[0], proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert str(data.path) in lines[0]  # it names the data it refers to
    allowed = objectives_for(*(("regression", 0) if data.task == "regression"
                               else ("classification", 2 if data.task == "binary" else 3)))
    assert lines[0].endswith("choose one of " + ", ".join(o.name for o in allowed))
    assert not (tmp_path / "project" / "tuner").exists()  # refused before any trial


@pytest.mark.parametrize("refusal", run_through("engine", REFUSALS))
def test_engine_refuses_before_any_trial(refusal: Refusal, tmp_path: Path) -> None:
    from automl_studio.engine.search.session import run_search

    data = DATA_KINDS[refusal.kind](tmp_path)
    events: list[Any] = []
    with pytest.raises(UserError, match=refusal.says.replace("(", r"\(")):
        run_search(SearchConfig(data_path=str(data.path), project_dir=str(tmp_path / "p"), target=data.target,
                                objective=refusal.objective, max_trials=1, max_epochs=1), events.append)
    assert "trial_started" not in [e.type for e in events]
    assert events[-1].type == "search_finished" and events[-1].status == "failed"


def test_task_kinds_of_the_data_are_what_the_table_says(tmp_path):
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset

    for name, make in DATA_KINDS.items():
        folder = tmp_path / name
        folder.mkdir()
        data = make(folder)
        profile = profile_dataset(load_dataset(data.path, image_size=data.image_size), data.target)
        assert task_kind(profile.task, len(profile.class_names)) == data.task, name
