"""Cross-validated trial scores in the window (issue #16): the trials table's "± SE" column beside
the score when trials were scored on folds, the Search page's "CV folds" setting, and the
finalists cross-validated after the search (the Cross-validated column, the log, the Results
page's "Chosen by")."""

from __future__ import annotations

import pytest
from conftest import IRIS
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import (
    FinalistsScored,
    SearchStarted,
    TrialEnded,
    TrialStarted,
)
from automl_studio.gui.models.trials_model import (
    FINALIST_COLUMN,
    SCORE_COLUMN,
    SE_COLUMN,
    SORT_ROLE,
)


def trial_events(tid: str, score: float, se: float | None, folds: tuple[float, ...] = ()) -> list:
    return [TrialStarted(trial_id=tid, hyperparameters={"units": 8}),
            TrialEnded(trial_id=tid, status="completed", score=score, duration_s=3.0, score_se=se,
                       fold_scores=folds)]


def test_the_trials_table_shows_the_standard_error_beside_the_score(qtbot, window):
    page = window.search_page
    table = page.trials_table
    send = page.controller.eventReceived.emit  # as the search's worker sends them
    send(SearchStarted(profile={}, space_summary={}, settings={"objective": "val_loss", "cv_folds": 5},
                       project_dir="p"))
    for event in trial_events("00", 0.41, None):
        send(event)
    assert table.isColumnHidden(SE_COLUMN)  # one validation split: nothing to show
    folds = (0.40, 0.38, 0.47, 0.35, 0.45)
    for event in trial_events("01", 0.41, 0.0221, folds):
        send(event)
    qtbot.waitUntil(lambda: not table.isColumnHidden(SE_COLUMN), timeout=2_000)
    header = table.horizontalHeader()
    assert header.visualIndex(SE_COLUMN) == header.visualIndex(SCORE_COLUMN) + 1
    assert page.trials_model.headerData(SE_COLUMN, Qt.Orientation.Horizontal) == "± SE"
    row = page.trials_model.trial_ids().index("01")
    cell = page.trials_model.index(row, SE_COLUMN)
    assert cell.data() == "± 0.022"
    tip = cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "mean of 5 folds' best val_loss" in tip and "0.47" in tip and "first fold" in tip
    assert page.trials_model.index(page.trials_model.trial_ids().index("00"), SE_COLUMN).data() == ""
    assert "Trial 01 completed: val_loss 0.41 ± 0.022 (mean of 5 folds)" in page.log.toPlainText()


def test_the_cv_folds_setting_reaches_the_search_config(qtbot, window):
    page = window.search_page
    assert page.settings()["cv_folds"] == 0 and page.cv_folds.text() == "off"  # opt-in
    page.cv_folds.setValue(5)
    assert page.settings()["cv_folds"] == 5
    page.apply_settings(SearchConfig("data.csv", "project", cv_folds=3))  # an opened project's
    assert page.cv_folds.value() == 3 and page.settings()["cv_folds"] == 3


def _three_trials(page):
    """Starts a val_loss search on ``page`` with trials 00, 01, 02 finished; returns the sender."""
    send = page.controller.eventReceived.emit
    send(SearchStarted(profile={}, space_summary={}, settings={"objective": "val_loss"}, project_dir="p"))
    for tid, score in (("00", 0.52), ("01", 0.40), ("02", 0.44)):
        for event in trial_events(tid, score, None):
            send(event)
    return send


def test_the_finalists_cross_validation_shows_beside_the_score_and_in_the_log(qtbot, window):
    page = window.search_page
    table = page.trials_table
    send = _three_trials(page)
    assert table.isColumnHidden(FINALIST_COLUMN)  # nothing cross-validated yet
    send(FinalistsScored(objective="val_loss", folds=5, chosen="02", validation_best="01", scores={
        "01": {"score": 0.47, "se": 0.031, "fold_scores": [0.40, 0.45, 0.52, 0.44, 0.54], "epochs": 9},
        "02": {"score": 0.43, "se": 0.012, "fold_scores": [0.41, 0.42, 0.45, 0.43, 0.44], "epochs": 12},
        "00": {"score": 0.50, "se": 0.020, "fold_scores": [0.48, 0.50, 0.52, 0.47, 0.53], "epochs": 30}}))
    qtbot.waitUntil(lambda: not table.isColumnHidden(FINALIST_COLUMN), timeout=2_000)
    header = table.horizontalHeader()
    assert header.visualIndex(FINALIST_COLUMN) == header.visualIndex(SCORE_COLUMN) + 2
    model = page.trials_model
    cell = model.index(model.trial_ids().index("02"), FINALIST_COLUMN)
    assert cell.data() == "0.43 ± 0.012 · exported"
    assert cell.data(Qt.ItemDataRole.FontRole).bold()
    tip = cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "same 5 folds" in tip and "0.45" in tip and "refitted for 12 epochs" in tip
    runner_up = model.index(model.trial_ids().index("01"), FINALIST_COLUMN)
    assert runner_up.data() == "0.47 ± 0.031"
    assert "validation split ranked it first" in runner_up.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(model.trial_ids().index("01"), FINALIST_COLUMN).data(SORT_ROLE) == 0.47
    assert page.trials.exported_trial_id == "02"
    assert page.best_label.text().endswith("= 0.4 · exported: trial 02, chosen by cross-validation")
    assert [t.trial_id for t in page.trials.finalists()] == ["02", "01", "00"]
    assert ("Finalists on 5 folds (val_loss): 01 0.47 ± 0.031, 02 0.43 ± 0.012, 00 0.5 ± 0.02; trial 02 is "
            "exported, not trial 01 (the validation split's best)") in page.log.toPlainText()


def test_an_export_within_one_standard_error_says_why_it_was_chosen(qtbot, window):
    from automl_studio.gui.pages.results_page import finalists_description

    page = window.search_page
    send = _three_trials(page)
    # The linear first trial, 0.02 behind the best mean with a standard error of 0.031, is exported.
    send(FinalistsScored(objective="val_loss", folds=3, chosen="00", validation_best="01", scores={
        "01": {"score": 0.45, "se": 0.031, "fold_scores": [0.40, 0.45, 0.50], "epochs": 9, "parameters": 1665},
        "00": {"score": 0.47, "se": 0.010, "fold_scores": [0.46, 0.47, 0.48], "epochs": 30, "parameters": 10},
        "02": {"score": 0.51, "se": 0.012, "fold_scores": [0.50, 0.51, 0.52], "epochs": 12, "parameters": 8945}}))
    text = finalists_description(page.trials.finalists(), "00")
    assert text.startswith("3-fold cross-validation of 3 finalists, mean val_loss: trial 01 0.45 ± 0.031 "
                           "(the validation split's best), trial 00 0.47 ± 0.01, trial 02 0.51 ± 0.012")
    assert text.endswith("; trial 00 is exported as the smallest network (10 weights) within one standard error of "
                         "the best mean")
    model = page.trials_model
    tip = model.index(model.trial_ids().index("01"), FINALIST_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert "1,665 weights" in tip and "smallest network within a standard error of the best mean" in tip
    assert page.best_label.text().endswith("· exported: trial 00, chosen by cross-validation")


def test_a_smaller_finalist_passed_over_for_its_spread_is_named_on_the_results_page(qtbot, window):
    from automl_studio.gui.pages.results_page import finalists_description

    page = window.search_page
    send = _three_trials(page)
    # Held-out barley seed 1: the linear trial is within the best mean's standard error, but spreads
    # three times as wide; the best mean is exported and the Results page says why not the smaller one.
    send(FinalistsScored(objective="val_loss", folds=3, chosen="01", validation_best="01", scores={
        "01": {"score": 39.1, "se": 4.7, "fold_scores": [33.7, 35.0, 48.5], "epochs": 35, "parameters": 353},
        "00": {"score": 43.3, "se": 13.6, "fold_scores": [49.3, 17.4, 63.3], "epochs": 48, "parameters": 21,
               "unsteady": True}}))
    text = finalists_description(page.trials.finalists(), "01")
    assert text.endswith("; trial 00 (21 weights) is within a standard error of the best mean too, but its folds "
                         "spread wider (± 14 against the best mean's ± 4.7), so it is passed over")
    assert "is exported as the smallest network" not in text
    assert "exported: trial" not in page.best_label.text()  # the split's best is the export


def test_a_hand_edited_finalist_entry_neither_breaks_the_window_nor_misleads(qtbot, window):
    from automl_studio.gui.pages.results_page import finalists_description

    page = window.search_page
    send = _three_trials(page)
    # An entry that is no mapping reads as a finalist without scores; "unsteady" on the export is ignored.
    send(FinalistsScored(objective="val_loss", folds=3, chosen="01", validation_best="01", scores={
        "01": {"score": 39.1, "se": 4.7, "fold_scores": [33.7, 35.0, 48.5], "epochs": 35, "parameters": 353,
               "unsteady": True},
        "00": None}))
    text = finalists_description(page.trials.finalists(), "01")
    assert text.startswith("3-fold cross-validation of 2 finalists, mean val_loss: trial 01 39.1 ± 4.7")
    assert "passed over" not in text


@pytest.mark.slow
def test_a_real_search_chooses_among_finalists_and_a_reopened_project_says_so(qtbot, tmp_path):
    """Iris, three trials: all three are finalists on five folds; the Results page and the trials
    table of the reopened project show how the exported one was chosen."""
    from automl_studio.engine.search.project import last_finish, read_trials
    from automl_studio.engine.search.session import run_search
    from automl_studio.gui.models.trial_store import TrialStore
    from automl_studio.gui.models.trials_model import TrialsModel
    from automl_studio.gui.pages.results_page import ResultsPage

    config = SearchConfig(data_path=str(IRIS), project_dir=str(tmp_path / "search"), target="species",
                          tuner="random", max_trials=3, max_epochs=3, refits=1, export_keras=False,
                          tensorboard=False, forest=False)
    result = run_search(config)
    assert result.status == "completed", result.message
    records = read_trials(config.project_dir)
    finalists = {tid: r.finalist for tid, r in records.items() if r.finalist is not None}
    assert set(finalists) == set(records) and all(f["folds"] == 5 for f in finalists.values())
    assert [tid for tid, f in finalists.items() if f["chosen"]] == [result.best_trial_id]
    store = TrialStore()
    store.load_records(records, "val_loss")
    page = ResultsPage(trials=store)
    qtbot.addWidget(page)
    finish = last_finish(config.project_dir)
    assert finish is not None and finish.best_trial_id == result.best_trial_id
    page.set_result(finish, config.project_dir)
    chosen_by = page.findChild(QLabel, "best_ChosenBy")
    assert chosen_by is not None
    assert chosen_by.text().startswith("5-fold cross-validation of 3 finalists, mean val_loss: trial ")
    assert "(the validation split's best)" in chosen_by.text()
    best_mean = min(finalists, key=lambda tid: finalists[tid]["score"])
    why = f"; trial {result.best_trial_id} is exported as the smallest network ("
    assert (why in chosen_by.text()) == (best_mean != result.best_trial_id), chosen_by.text()
    model = TrialsModel(store)
    assert model.has_finalists()
    row = model.trial_ids().index(str(result.best_trial_id))
    assert model.index(row, FINALIST_COLUMN).data().endswith(" · exported")


def test_the_finalists_setting_reaches_the_search_config(qtbot, window):
    page = window.search_page
    assert page.settings()["finalists"] == 3 == SearchConfig("data.csv", "project").finalists  # on by default
    page.finalists.setValue(0)
    assert page.settings()["finalists"] == 0 and page.finalists.text() == "off"
    page.apply_settings(SearchConfig("data.csv", "project", finalists=5))  # an opened project's
    assert page.finalists.value() == 5 and page.settings()["finalists"] == 5
    assert window.undo_stack.count() == 1  # the user's change is one undo step, the opened project's none
