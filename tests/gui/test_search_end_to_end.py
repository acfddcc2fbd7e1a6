"""Real searches driven through the window: TensorFlow trains in the engine's child process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import input_sources, wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from automl_studio.gui.models.trials_model import RECALL_COLUMN

pytestmark = pytest.mark.slow
SEARCH_TIMEOUT_MS = 300_000


def configure(window, project_dir, *, trials=2, epochs=2, tuner="random"):
    page = window.search_page
    page.project_dir.setText(str(project_dir))
    window.findChild(QWidget, "maxTrials").setValue(trials)
    page.max_epochs.setValue(epochs)
    combo = window.findChild(QWidget, "tunerChoice")
    combo.setCurrentIndex(combo.findData(tuner))


def completed_trials(window) -> int:
    return window.search_page.trials_model.count("completed")


def load_in_fresh_process(path: str) -> str:
    code = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
        m = keras.models.load_model({path!r})
        print("inputs", len(m.inputs), "params", m.count_params())
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=240, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def run_and_export(qtbot, window, tmp_path):
    start = window.findChild(QWidget, "startSearch")
    stop = window.findChild(QWidget, "stopSearch")
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert not start.isEnabled() and stop.isEnabled()
    assert window.pages.currentWidget().objectName() == "searchPage"
    qtbot.waitUntil(lambda: completed_trials(window) >= 2, timeout=SEARCH_TIMEOUT_MS)
    assert len(window.search_page.plots.trial_ids()) >= 2
    qtbot.waitUntil(lambda: window.search_page.last_finish is not None, timeout=SEARCH_TIMEOUT_MS)
    finish = window.search_page.last_finish
    assert finish.status == "completed", finish
    assert start.isEnabled() and not stop.isEnabled()
    window.search_page.plots.redraw()
    assert len(window.search_page.plots.series("scores")[0]) >= 2
    assert len(window.search_page.plots.series("best")[0]) >= 1
    export = window.findChild(QWidget, "exportModel")
    assert export.isEnabled()
    dest = tmp_path / "exported" / "model.h5"
    with qtbot.waitSignal(window.results_page.exportFinished, timeout=SEARCH_TIMEOUT_MS) as done:
        window.export_best_model(str(dest))
    result = done.args[0]
    assert result["verified"] and str(dest) in result["files"]
    assert "Reloaded and checked: the file's predictions match" in window.results_page.export_status.text()
    assert "params" in load_in_fresh_process(str(dest))
    return finish


def test_iris_search_export_and_reload(qtbot, iris_window, tmp_path):
    configure(iris_window, tmp_path / "iris-project")
    finish = run_and_export(qtbot, iris_window, tmp_path)
    metrics = finish.test_metrics
    assert "accuracy" in metrics and metrics.get("confusion_matrix")
    assert iris_window.results_page.confusion_model.rowCount() == 3
    # Each completed trial's recall of the three classes on the validation split, from the
    # engine's process through the window's store to the trials table.
    model = iris_window.search_page.trials_model
    for row in range(model.rowCount()):
        if model.index(row, 1).data() == "completed":
            cell = model.index(row, RECALL_COLUMN).data()
            assert re.fullmatch(r"0: \d\.\d\d · 1: \d\.\d\d · 2: \d\.\d\d", cell), cell
            assert "versicolor" in model.index(row, RECALL_COLUMN).data(Qt.ItemDataRole.ToolTipRole)


def test_image_npz_search_export_and_reload(qtbot, window, image_npz, tmp_path):
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_dataset(str(image_npz))
    wait_for_shapes(qtbot, window)
    assert input_sources(window) == {"image"}
    configure(window, tmp_path / "image-project")
    run_and_export(qtbot, window, tmp_path)


def test_stop_reopen_resume_and_close_mid_search(qtbot, iris_window, tmp_path):
    w = iris_window
    configure(w, tmp_path / "stop-project", trials=20, epochs=30)
    project_file = tmp_path / "stopped.automl.json"
    assert w.save_project(str(project_file))
    qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: completed_trials(w) >= 1, timeout=SEARCH_TIMEOUT_MS)
    with qtbot.waitSignal(w.search_page.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(w.findChild(QWidget, "stopSearch"), Qt.MouseButton.LeftButton)
        assert not w.findChild(QWidget, "stopSearch").isEnabled()
    assert blocker.args[0].status == "stopped"
    assert w.findChild(QWidget, "resumeSearch").isEnabled()
    done_before = completed_trials(w)
    w.close()

    from automl_studio.gui.main_window import MainWindow

    second = MainWindow(w.settings)
    second.confirm_close = lambda _parent: True
    qtbot.addWidget(second)
    second.show()
    with qtbot.waitSignal(second.data_page.datasetLoaded, timeout=20_000):
        assert second.open_project(str(project_file))
    assert second.search_page.trials_model.count("completed") == done_before
    store = second.search_page.trials_model.store
    kept = [tid for tid in store.trial_ids() if store.trial(tid).status == "completed"]
    resume = second.findChild(QWidget, "resumeSearch")
    assert resume.isEnabled()
    assert "was stopped after" in second.search_page.banner.text()  # by the user, not interrupted
    assert second.status_search.text() == "Stopped — can resume"
    with qtbot.waitSignal(second.search_page.controller.processStarted, timeout=30_000) as started:
        qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
    pid = started.args[0]
    qtbot.waitUntil(lambda: second.search_page.trials_model.rowCount() > done_before,
                    timeout=SEARCH_TIMEOUT_MS)
    assert len(kept) == done_before and all(store.trial(t).status == "completed" for t in kept)  # not rerun
    asked = []
    second.confirm_close = lambda parent: asked.append(parent) or True
    second.close()
    assert asked == [second]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not second.search_page.running


def test_two_trials_at_once_show_which_worker_ran_each(qtbot, iris_window, tmp_path):
    w = iris_window
    configure(w, tmp_path / "workers-project", trials=3, epochs=2)
    w.findChild(QWidget, "workers").setValue(2)
    with qtbot.waitSignal(w.search_page.finished, timeout=SEARCH_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "completed", blocker.args[0]
    model = w.search_page.trials_model
    assert model.count("completed") == 3
    worker_column = next(c for c in range(model.columnCount())
                         if model.headerData(c, Qt.Orientation.Horizontal) == "Worker")
    workers = {model.index(r, worker_column).data() for r in range(model.rowCount())}
    assert workers <= {"worker0", "worker1"} and len(workers) == 2
    assert w.findChild(QWidget, "startSearch").isEnabled()


def test_a_killed_engine_process_reaches_the_window_as_process_exited(qtbot, iris_window, tmp_path):
    from automl_studio.engine.core.events import ProcessExited, SearchFinished
    from automl_studio.engine.process.runner import BACKGROUND_NICE

    w = iris_window
    configure(w, tmp_path / "killed-project", trials=20, epochs=30)
    controller = w.search_page.controller
    with qtbot.waitSignal(controller.processStarted, timeout=30_000) as started:
        qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.search_page.trials_model.rowCount() >= 1, timeout=SEARCH_TIMEOUT_MS)
    # The window's engine trains at a background priority, so the window keeps its share of the CPU.
    assert os.getpriority(os.PRIO_PROCESS, started.args[0]) >= BACKGROUND_NICE
    with qtbot.waitSignal(w.search_page.finished, timeout=60_000) as finished, \
            qtbot.waitSignal(controller.processExited, timeout=60_000) as exited:
        os.kill(started.args[0], signal.SIGKILL)  # as a crash of the engine would end it
    gone = exited.args[0]
    assert isinstance(gone, ProcessExited) and (gone.exitcode, gone.signal) == (-9, 9)
    finish = finished.args[0]
    assert isinstance(finish, SearchFinished) and finish.status == "failed"
    assert "killed by SIGKILL" in finish.message and "killed by SIGKILL" in w.search_page.banner.text()
    assert w.findChild(QWidget, "resumeSearch").isEnabled()
    assert w.search_page.plots.batch_progress.format().startswith("Failed after")
