"""Each control appears once (Start, Stop, Resume, Seed), and a Search-page setting is a project
edit like any other: it marks the window modified, undoes, and is saved in the project file."""

from __future__ import annotations

import json

from conftest import open_second_window
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QWidget


def _visible(window, kind, words: str) -> list[QWidget]:
    return [w for w in window.findChildren(kind) if w.isVisibleTo(window)
            and words.lower() in (w.accessibleName() + " " + getattr(w, "text", lambda: "")()).lower()]


def test_start_stop_resume_and_seed_each_appear_once(qtbot, iris_window):
    w = iris_window
    for row in range(4):  # whichever page is shown
        w.nav.setCurrentRow(row)
        for words in ("Start", "Stop", "Resume"):
            buttons = _visible(w, QAbstractButton, words + " search")
            assert len(buttons) == 1, (row, words, [b.objectName() for b in buttons])
        seeds = [s for s in w.findChildren(QAbstractSpinBox) if "seed" in s.accessibleName().lower()]
        assert [s.objectName() for s in seeds] == ["splitSeed"]
    # The toolbar's are the window's actions, and the toolbar cannot be hidden.
    start = w.findChild(QWidget, "startSearch")
    assert w.toolbar.widgetForAction(w.act_start) is start
    assert not w.toolbar.toggleViewAction().isEnabled()
    assert w.search_page.findChild(QWidget, "startSearch") is None


def test_a_search_setting_marks_the_project_modified_and_undoes(qtbot, iris_window):
    w = iris_window
    assert not w.isWindowModified()
    w.nav.setCurrentRow(2)
    trials = w.search_page.max_trials
    before = trials.value()
    trials.setFocus()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is trials, timeout=5_000)
    QTest.keyClick(trials, Qt.Key.Key_Up)
    QTest.keyClick(trials, Qt.Key.Key_Up)
    assert trials.value() == before + 2
    assert w.isWindowModified() and w.windowTitle().startswith("Untitled")
    assert w.act_undo.text().replace("&", "") == f"Undo Maximum trials: {before + 2}"  # one merged step
    w.act_undo.trigger()
    assert trials.value() == before and not w.isWindowModified()
    w.act_redo.trigger()
    assert trials.value() == before + 2 and w.isWindowModified()
    tuner = w.search_page.tuner_combo
    tuner.setCurrentIndex(tuner.findData("hyperband"))
    objective = w.search_page.objective_combo
    objective.setCurrentIndex(objective.findData("val_accuracy"))
    w.search_page.serve_workers.setChecked(True)
    w.act_undo.trigger()
    assert not w.search_page.serve_workers.isChecked()
    w.act_undo.trigger()
    assert objective.currentData() is None
    w.act_undo.trigger()
    assert tuner.currentData() != "hyperband"
    w.act_undo.trigger()
    assert not w.isWindowModified()
    # The seed, on the Data page, is a project edit too.
    w.data_page.seed_spin.setValue(7)
    assert w.isWindowModified()
    w.act_undo.trigger()
    assert w.data_page.seed_spin.value() == 1 and not w.isWindowModified()


def test_search_settings_are_saved_in_the_project(qtbot, iris_window, settings_store, tmp_path):
    w = iris_window
    page = w.search_page
    page.tuner_combo.setCurrentIndex(page.tuner_combo.findData("random"))
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("val_accuracy"))
    page.max_trials.setValue(4)
    page.max_epochs.setValue(9)
    page.time_budget.setValue(150)  # seconds, shown as "2 min 30 s"
    w.data_page.seed_spin.setValue(5)
    assert not page.ensemble.isChecked()  # opt-in: the refits are exported by default
    page.ensemble.click()
    assert page.forest.isChecked()  # on by default: a forest that scores better is exported
    page.forest.click()
    assert page.refit_all.isChecked()  # on by default: the exported model is trained again on all rows
    page.refit_all.click()
    assert w.isWindowModified()
    path = tmp_path / "settings.automl.json"
    assert w.save_project(str(path))
    assert not w.isWindowModified()
    saved = json.loads(path.read_text())["search"]
    assert (saved["tuner"], saved["objective"], saved["max_trials"], saved["max_epochs"]) == \
        ("random", "val_accuracy", 4, 9)
    assert saved["time_budget_s"] == 150 and saved["seed"] == 5 and saved["ensemble"] is True
    assert saved["forest"] is False and saved["refit_all"] is False
    second = open_second_window(qtbot, settings_store)
    with qtbot.waitSignal(second.data_page.profileChanged, timeout=20_000):
        assert second.open_project(str(path))
    p = second.search_page
    assert (p.tuner_combo.currentData(), p.objective_combo.currentData(), p.max_trials.value()) == \
        ("random", "val_accuracy", 4)
    assert second.data_page.seed_spin.value() == 5 and p.ensemble.isChecked() and not p.forest.isChecked()
    assert not p.refit_all.isChecked()
    assert p.time_budget.value() == 150 and p.time_budget.text() == "2 min 30 s"  # not rounded to 2 min
    assert not second.isWindowModified()  # opening a project is no edit
    second.close()


def test_the_time_budget_is_typed_and_shown_in_hours_minutes_and_seconds(qtbot):
    from automl_studio.gui.pages.search_page import SearchPage
    from automl_studio.gui.widgets import duration_text, parse_duration

    assert [duration_text(s) for s in (45, 150, 180, 3900, 3661)] == [
        "45 s", "2 min 30 s", "3 min", "1 h 5 min", "1 h 1 min 1 s"]
    assert [parse_duration(t) for t in ("2 min 30 s", "2.5", "2,5 min", "150s", "1 h 5 min", "1h", "")] == [
        150, 150, 150, 150, 3900, 3600, None]
    assert parse_duration("two minutes") is None and parse_duration("5 parsecs") is None
    # A bare number after a unit counts the next smaller one, as a clock reads it.
    assert [parse_duration(t) for t in ("1m30", "1h30", "2 min 30", "1 h 5 min 10")] == [90, 5400, 150, 3910]
    page = SearchPage()
    qtbot.addWidget(page)
    budget = page.time_budget
    assert budget.text() == "no limit" and page.settings()["time_budget_s"] is None
    budget.lineEdit().selectAll()
    qtbot.keyClicks(budget, "1 h 5 min")
    qtbot.keyClick(budget, Qt.Key.Key_Return)
    assert budget.value() == 3900 and page.settings()["time_budget_s"] == 3900.0
    budget.stepUp()  # the arrows step by a minute
    assert budget.text() == "1 h 6 min"
    page.extend_budget()
    assert budget.value() == 2 * 3960
    # "no limit" can be typed back, and a number too large for the box is held at its maximum.
    for typed, value in (("no limit", 0), ("99999999999999 h", budget.maximum()), ("1m30", 90)):
        budget.lineEdit().selectAll()
        qtbot.keyClicks(budget, typed)
        qtbot.keyClick(budget, Qt.Key.Key_Return)
        assert budget.value() == value, typed
    budget.setValue(0)
    assert page.settings()["time_budget_s"] is None
    # Typed without Return (Start is a toolbar button, which takes no focus): the settings read it.
    budget.lineEdit().selectAll()
    qtbot.keyClicks(budget, "30 min")
    assert page.settings()["time_budget_s"] == 1800.0
