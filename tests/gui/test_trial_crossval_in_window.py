"""Cross-validated trial scores in the window (issue #16): the trials table's "± SE" column beside
the score when trials were scored on folds, the Search page's "CV folds" setting."""

from __future__ import annotations

from PySide6.QtCore import Qt

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import SearchStarted, TrialEnded, TrialStarted
from automl_studio.gui.models.trials_model import SCORE_COLUMN, SE_COLUMN


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
