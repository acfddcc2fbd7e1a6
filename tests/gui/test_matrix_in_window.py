"""The smoke matrix's window cells (the table is in tests/engine/test_matrix.py).

Each cell is driven like a user would: open the data, pick the tuner and objective on the
Search page, press Start; the engine trains in its child process. The cell ends as every cell
does: ``automl-studio predict`` on the data file agrees with the test predictions the window was
sent, and the ``.h5`` reloads with plain Keras. Both run in one fresh interpreter, so TensorFlow
never enters the window's process. The refusal cells check that the window never offers an
objective the task does not have.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_matrix import CELLS, DATA_KINDS, REFUSALS, Cell, DataFile, check_cell, run_through  # noqa: E402

from automl_studio.engine.core.config import TUNERS  # noqa: E402
from automl_studio.engine.core.objectives import OBJECTIVES, objectives_for  # noqa: E402

pytestmark = pytest.mark.slow
SEARCH_TIMEOUT_MS = 420_000

PREDICT_AND_RELOAD = r"""
import json, sys
import numpy as np
from automl_studio.engine.cli import main
model, data, output, sample = sys.argv[1:5]
code = main(["predict", model, data, "--output", output])
import keras
reloaded = keras.models.load_model(model)
with np.load(sample) as stored:
    inputs = {k: stored[k] for k in stored.files}
print(json.dumps({"exit": code, "reloaded": np.asarray(reloaded.predict(inputs, verbose=0)).tolist()}))
"""


def task_args(data: DataFile) -> tuple[str, int]:
    return {"binary": ("classification", 2), "multiclass": ("classification", 3),
            "regression": ("regression", 0)}[data.task]


def open_data(qtbot, window, data: DataFile) -> None:
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=30_000):
        window.open_dataset(str(data.path))
    qtbot.waitUntil(lambda: window.data_page.profile is not None, timeout=20_000)
    if data.target and window.data_page.profile.target != data.target:
        with qtbot.waitSignal(window.data_page.profileChanged, timeout=20_000):
            window.findChild(QWidget, "targetColumn").setCurrentText(data.target)
    wait_for_shapes(qtbot, window)


def offered_objectives(window) -> list[str | None]:
    return window.search_page.objective_names()


def offered_tuners(window) -> list[str]:
    combo = window.findChild(QComboBox, "tunerChoice")
    return [combo.itemData(i) for i in range(combo.count())]


@pytest.mark.parametrize("cell", run_through("window", CELLS))
def test_window_cell(cell: Cell, qtbot, window, tmp_path: Path) -> None:
    data = DATA_KINDS[cell.kind](tmp_path)
    open_data(qtbot, window, data)
    assert offered_objectives(window) == [None, *(o.name for o in objectives_for(*task_args(data)))]
    assert sorted(offered_tuners(window)) == sorted(TUNERS)

    page = window.search_page
    page.project_dir.setText(str(tmp_path / "project"))
    window.findChild(QWidget, "maxTrials").setValue(1)
    page.max_epochs.setValue(1)
    window.findChild(QWidget, "refits").setValue(cell.refits)
    page.forest.setChecked(False)  # the networks' matrix (the forest's own window test: test_results_evaluation.py)
    for name, value in (("tunerChoice", cell.tuner), ("objectiveChoice", cell.objective)):
        combo = window.findChild(QComboBox, name)
        combo.setCurrentIndex(combo.findData(value))
    config = window.current_config()
    assert (config.tuner, config.objective, config.target) == (cell.tuner, cell.objective, data.target)

    with qtbot.waitSignal(page.finished, timeout=SEARCH_TIMEOUT_MS) as done:
        qtbot.mouseClick(window.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    finish = done.args[0]
    assert finish.status == "completed", finish
    assert page.trials_model.count("completed") == 1
    model_path = tmp_path / "project" / "best" / "best.h5"
    assert str(model_path) in finish.exported

    predictions = tmp_path / "predictions.csv"
    proc = subprocess.run([sys.executable, "-c", PREDICT_AND_RELOAD, str(model_path), str(data.path),
                           str(predictions), str(tmp_path / "project" / "best" / "sample_inputs.npz")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reply = json.loads(proc.stdout.strip().splitlines()[-1])
    assert reply["exit"] == 0
    check_cell(cell, data, model_path, dict(finish.test_metrics), predictions, np.array(reply["reloaded"]),
               split=config)


# The window cells above check the lists for two-class data and regression from a Parquet file too.
WINDOW_REFUSALS = [r for r in REFUSALS if r.objective in OBJECTIVES and r.kind in ("strings", "folder", "regression")]


@pytest.mark.parametrize("refusal", [pytest.param(r, id=r.id.rsplit("-", 1)[0] + "-window") for r in WINDOW_REFUSALS])
def test_the_window_does_not_offer_what_the_command_line_refuses(refusal, qtbot, window, tmp_path: Path) -> None:
    data = DATA_KINDS[refusal.kind](tmp_path)
    open_data(qtbot, window, data)
    offered = offered_objectives(window)
    assert refusal.objective not in offered
    assert offered == [None, *(o.name for o in objectives_for(*task_args(data)))]
    assert sorted(offered_tuners(window)) == sorted(TUNERS)
