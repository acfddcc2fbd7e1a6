"""The window never loses work: other data starts a new search without erasing the last one, and
unsaved edits are offered for saving before the window closes or a new project starts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import IRIS, discard_changes, wait_for_shapes
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from automl_studio.gui.main_window import ask_to_save

SEARCH_TIMEOUT_MS = 300_000


def answer_next_box(button: QMessageBox.StandardButton | str) -> list[str]:
    """Clicks ``button`` (a standard button, or a button's object name) in the next message box,
    as a person would; returns the texts the box showed (filled once it has been answered)."""
    seen: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.extend([box.text(), box.informativeText()])
        target = (box.findChild(QPushButton, button) if isinstance(button, str)
                  else box.button(button))
        target.click()

    QTimer.singleShot(0, click)
    return seen


def edit_the_network(window, units_max: int = 128) -> None:
    editor = window.network_page.editor
    editor.select_nodes(["dense"])
    editor.inspector.findChild(QWidget, "param_units_max").setValue(units_max)
    assert window.isWindowModified()


def saved_units_max(path: Path) -> int:
    saved = json.loads(path.read_text())
    dense = next(n for n in saved["search"]["space"]["nodes"] if n["id"] == "dense")
    return dense["params"]["units"]["max"]


def with_real_question(window, test: Callable[[], None]) -> None:
    window.ask_to_save = ask_to_save
    try:
        test()
    finally:
        window.ask_to_save = discard_changes  # the fixture's own close must not ask again


@pytest.mark.parametrize("answer", ["Save", "Discard", "Cancel"])
def test_quitting_with_unsaved_edits_asks_to_save_them(qtbot, iris_window, tmp_path, answer):
    w = iris_window
    path = tmp_path / "irises.automl.json"
    assert w.save_project(str(path))
    before = saved_units_max(path)
    edit_the_network(w, before + 64)

    def quit_and_answer() -> None:
        seen = answer_next_box(getattr(QMessageBox.StandardButton, answer))
        w.act_quit.trigger()
        qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
        assert 'Save the changes to the project "irises"?' in seen[0]
        if answer == "Save":
            assert not w.isVisible()
            assert saved_units_max(path) == before + 64
        elif answer == "Discard":
            assert not w.isVisible()
            assert saved_units_max(path) == before
        else:  # Cancel: the window and its edits stay
            assert w.isVisible() and w.isWindowModified()
            assert saved_units_max(path) == before
            assert w.network_page.editor.inspector.findChild(QWidget, "param_units_max").value() == before + 64
            assert w.act_undo.isEnabled()

    with_real_question(w, quit_and_answer)


def test_new_project_with_unsaved_edits_asks_first_and_cancel_keeps_them(qtbot, iris_window):
    w = iris_window
    edit_the_network(w)

    def new_and_cancel() -> None:
        seen = answer_next_box(QMessageBox.StandardButton.Cancel)
        w.act_new.trigger()
        qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
        assert "Untitled" in seen[0]
        assert w.isWindowModified() and w.act_undo.isEnabled()
        assert w.network_page.editor.inspector.findChild(QWidget, "param_units_max").value() == 128

    with_real_question(w, new_and_cancel)


def completed(project: Path) -> list[str]:
    from automl_studio.engine.search.project import read_trials

    return sorted(t for t, r in read_trials(project).items() if r.status == "completed")


@pytest.mark.slow
def test_other_data_starts_a_new_search_and_keeps_the_last_one(qtbot, iris_window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "app-data"))  # where new searches' folders go
    w = iris_window
    first = tmp_path / "iris-search"
    w.search_page.project_dir.setText(str(first))
    w.findChild(QWidget, "maxTrials").setValue(1)
    w.search_page.max_epochs.setValue(1)
    with qtbot.waitSignal(w.search_page.finished, timeout=SEARCH_TIMEOUT_MS) as done:
        qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed", done.args[0]
    kept = completed(first)
    assert kept and (first / "best" / "best.h5").is_file()
    events = (first / "events.jsonl").read_text()

    other = tmp_path / "flowers.csv"
    shutil.copy(IRIS, other)
    other.write_text(other.read_text().replace("species", "kind"))
    with qtbot.waitSignal(w.data_page.datasetLoaded, timeout=20_000):
        w.open_dataset(str(other))
    wait_for_shapes(qtbot, w)
    # The Search and Results pages show no search now: the last one belongs to the iris data.
    assert w.search_page.trials_model.rowCount() == 0
    assert w.search_page.project_dir.text() == ""
    assert not w.findChild(QWidget, "resumeSearch").isEnabled() and not w.act_resume.isEnabled()
    assert not w.findChild(QWidget, "exportModel").isEnabled()

    with qtbot.waitSignal(w.search_page.finished, timeout=SEARCH_TIMEOUT_MS) as done:
        qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed", done.args[0]
    second = Path(w.search_page.project_dir.text())
    assert second != first and second.name.startswith("flowers-")
    assert second.is_relative_to(tmp_path / "app-data")
    assert completed(second)
    # The first search is untouched: its trials, its log, its model.
    assert completed(first) == kept
    assert (first / "events.jsonl").read_text() == events
    assert (first / "best" / "best.h5").is_file() and (first / "tuner").is_dir()


def test_start_in_a_folder_that_holds_a_search_asks_and_cancel_keeps_it(qtbot, iris_window, tmp_path):
    from automl_studio.engine.core.config import SearchConfig, SearchDocument
    from automl_studio.engine.data.identity import identify
    from automl_studio.engine.search.project import write_search_document

    w = iris_window
    folder = tmp_path / "old-search"
    config = SearchConfig(data_path=str(IRIS), project_dir=str(folder), target="species", tuner="random")
    write_search_document(folder, SearchDocument(config, identify(config).to_dict()))
    (folder / "tuner").mkdir()
    trials = [{"type": "trial_started", "trial_id": str(i), "hyperparameters": {}, "time": 1.0 + i}
              for i in range(3)]
    trials += [{"type": "trial_ended", "trial_id": str(i), "status": "completed", "score": 0.5}
               for i in range(3)]
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in trials))
    before = sorted(p.name for p in folder.iterdir())
    w.search_page.project_dir.setText(str(folder))
    seen = answer_next_box(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert str(folder) in seen[0] and "3 trials" in seen[0]
    assert not w.search_page.running
    assert sorted(p.name for p in folder.iterdir()) == before
    assert len((folder / "events.jsonl").read_text().splitlines()) == 6


def crash_leaving_autosave(qtbot, window) -> tuple[Path, str]:
    """Waits for the window's autosave, then closes it and puts the file back, as a crash
    (which never reaches the clean close that removes it) would have left it."""
    window.autosave_timer.setInterval(100)
    path = window.autosave.path
    qtbot.waitUntil(lambda: path.is_file() and '"max": 200' in path.read_text(), timeout=10_000)
    text = path.read_text()
    window.close()
    assert not path.exists()  # a clean close leaves nothing to recover
    path.write_text(text)
    return path, text


@pytest.mark.parametrize("answer", ["restoreAutosave", "Discard"])
def test_after_a_crash_the_next_launch_offers_the_unsaved_project(qtbot, iris_window, settings_store, answer):
    from conftest import open_second_window

    w = iris_window
    w.findChild(QWidget, "maxTrials").setValue(7)
    edit_the_network(w, 200)
    left, _ = crash_leaving_autosave(qtbot, w)

    seen = answer_next_box(answer if answer.startswith("restore") else QMessageBox.StandardButton.Discard)
    second = open_second_window(qtbot, settings_store)
    qtbot.waitUntil(lambda: bool(seen), timeout=20_000)
    assert "did not close cleanly" in seen[0] and '"Untitled"' in seen[0]
    assert not left.exists()  # offered once, whatever the answer
    if answer == "restoreAutosave":
        qtbot.waitUntil(lambda: second.data_page.dataset is not None, timeout=20_000)
        wait_for_shapes(qtbot, second)
        assert second.data_page.dataset.path.endswith("iris.csv")
        assert second.findChild(QWidget, "maxTrials").value() == 7
        dense = next(n for n in second.network_page.spec()["nodes"] if n["id"] == "dense")
        assert dense["params"]["units"]["max"] == 200
        assert second.isWindowModified()  # restored, not saved
    else:
        assert second.data_page.dataset is None and not second.isWindowModified()
    third = open_second_window(qtbot, settings_store)  # nothing is offered twice
    qtbot.waitUntil(lambda: third.ready, timeout=10_000)
    qtbot.wait(200)
    assert not isinstance(QApplication.activeModalWidget(), QMessageBox)


def test_opening_data_keeps_the_network_edits_that_still_apply(qtbot, iris_window, image_npz, tmp_path):
    w = iris_window
    dense = next(n for n in w.network_page.spec()["nodes"] if n["id"] == "dense")
    before = dense["params"]["units"]["max"]
    edit_the_network(w, 200)
    w.data_page.validation_spin.setValue(0.3)  # a Data page step, for the iris data only
    other = tmp_path / "flowers.csv"
    other.write_text(IRIS.read_text().replace("species", "kind"))
    with qtbot.waitSignal(w.data_page.datasetLoaded, timeout=20_000):
        w.open_dataset(str(other))
    qtbot.waitUntil(lambda: w.network_page.editor.signature() is not None
                    and w.status_data.text().startswith("flowers.csv"), timeout=20_000)
    qtbot.wait(300)  # the new shapes have arrived; nothing else is pending
    dense = next(n for n in w.network_page.spec()["nodes"] if n["id"] == "dense")
    assert dense["params"]["units"]["max"] == 200  # the edited network stays for the same inputs
    assert w.act_undo.isEnabled()
    w.act_undo.trigger()
    dense = next(n for n in w.network_page.spec()["nodes"] if n["id"] == "dense")
    assert dense["params"]["units"]["max"] == before
    w.act_redo.trigger()
    assert not w.act_redo.isEnabled() and w.act_undo.isEnabled()

    with qtbot.waitSignal(w.data_page.datasetLoaded, timeout=20_000):
        w.open_dataset(str(image_npz))
    qtbot.waitUntil(lambda: "network edits left the undo history" in w.statusBar().currentMessage(), timeout=20_000)
    assert not w.act_undo.isEnabled()


def test_resume_is_offered_only_for_the_search_of_the_data_on_screen(qtbot, window, tmp_path):
    from automl_studio.engine.core.config import SearchConfig, SearchDocument
    from automl_studio.engine.data.identity import identify
    from automl_studio.engine.search.project import ProjectFile, write_search_document

    folder = tmp_path / "search"
    config = SearchConfig(data_path=str(IRIS), project_dir=str(folder), target="species", tuner="random",
                          max_trials=3)
    write_search_document(folder, SearchDocument(config, identify(config).to_dict()))
    (folder / "tuner").mkdir()
    events = [{"type": "search_started", "time": 1.0},
              {"type": "trial_started", "trial_id": "0", "hyperparameters": {"units": 8}, "time": 2.0}]
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    path = tmp_path / "irises.automl.json"
    ProjectFile(config, name="irises").save(path)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=20_000):
        assert window.open_project(str(path))
    resume = window.findChild(QWidget, "resumeSearch")
    qtbot.wait(1_000)  # the project check of the data on screen has had its time: the same search
    assert resume.isEnabled()
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=10_000):
        window.findChild(QWidget, "targetColumn").setCurrentText("petal_width")
    qtbot.waitUntil(lambda: not resume.isEnabled(), timeout=20_000)
    assert not window.act_resume.isEnabled()
    text = window.search_page.banner.text()
    assert "the target differs: the search predicts 'species', this run 'petal_width'" in text
    assert "press Start, not Resume" in text
    assert "--fresh" not in text and "--project" not in text
