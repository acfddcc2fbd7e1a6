"""The trials table and the live plots, fed with synthetic event dicts (real Qt, no mocks)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt

from automl_studio.gui.models.trials_model import TrialsModel, TrialsProxyModel
from automl_studio.gui.plots.live_plots import LivePlots, maximizes


def search_events(trials: int, epochs: int, *, fail: int | None = None) -> list[dict]:
    events: list[dict] = [{"type": "search_started", "settings": {"objective": "val_loss"},
                           "time": 1000.0}]
    for t in range(trials):
        tid = f"{t:03d}"
        events.append({"type": "trial_started", "trial_id": tid, "time": 1000.0 + t,
                       "hyperparameters": {"units": 16 * (t % 4 + 1), "lr": 10 ** -(t % 3 + 2)}})
        for e in range(1, epochs + 1):  # the engine counts epochs from 1
            loss = 1.0 / e + 0.01 * t
            events.append({"type": "batch_progress", "trial_id": tid, "epoch": e, "batch": 3,
                           "batches": 10})
            events.append({"type": "epoch_ended", "trial_id": tid, "epoch": e,
                           "metrics": {"loss": loss, "val_loss": loss + 0.1,
                                       "accuracy": 1 - loss / 2, "val_accuracy": 0.9 - loss / 2}})
        if t == fail:
            events.append({"type": "trial_ended", "trial_id": tid, "status": "failed",
                           "score": None, "duration_s": 1.5, "time": 1001.0 + t,
                           "error": "ResourceExhaustedError: out of memory\ntraceback…"})
        else:
            events.append({"type": "trial_ended", "trial_id": tid, "status": "completed",
                           "score": 1.0 / epochs + 0.1 + 0.01 * t, "duration_s": 2.0 + t,
                           "time": 1001.0 + t})
    return events


def test_trials_model_rows_hyperparameters_and_failures(qtbot):
    model = TrialsModel()
    for event in search_events(3, 4, fail=1):
        model.apply_event(event)
    assert model.rowCount() == 3
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Trial", "Status", "Score", "Epochs", "Duration", "Reason", "Worker", "units", "lr"]
    assert model.index(0, 1).data() == "completed"
    assert model.index(0, 3).data() == "4"
    assert model.index(2, 6).data() == "local"  # the worker that ran it
    assert model.index(2, 7).data() == "48"
    assert model.index(1, 1).data() == "failed"
    assert model.index(1, 5).data() == "ResourceExhaustedError: out of memory"
    assert "out of memory" in model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert model.count("completed") == 2


def test_trials_proxy_sorts_numbers_and_keeps_missing_scores_last(qtbot):
    model = TrialsModel()
    for event in search_events(12, 2, fail=4):
        model.apply_event(event)
    proxy = TrialsProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    scores = [proxy.index(r, 2).data(Qt.ItemDataRole.UserRole) for r in range(proxy.rowCount())]
    assert scores[-1] is None
    assert scores[:-1] == sorted(scores[:-1])
    proxy.setFilterFixedString("failed")
    assert proxy.rowCount() == 1


def plots_after(qtbot, trials: int, epochs: int) -> LivePlots:
    """Live plots fed a synthetic search of ``trials`` × ``epochs``."""
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.reset("val_loss", started_at=1000.0)
    for event in search_events(trials, epochs):
        plots.apply_event(event)
    return plots


def test_plots_draw_synthetic_events(qtbot):
    plots = plots_after(qtbot, 3, 5)
    plots.redraw()
    x, y = plots.series("val_loss")
    assert list(x) == [1, 2, 3, 4, 5]
    assert plots.best_trial() == "000"  # lowest val_loss score wins
    best_x, best_y = plots.series("best")
    assert len(best_x) == 5
    others_x, _ = plots.series("others")
    assert len(others_x) == 2 * (5 + 1)  # two other trials, NaN-separated
    plots.highlight_trial("002")
    sel_x, _ = plots.series("selected")
    assert len(sel_x) == 5
    assert "batch 3 of 10" in plots.batch_progress.format()


def test_each_averaged_refit_starts_its_own_curve(qtbot):
    plots = plots_after(qtbot, 2, 3)
    for refit, epochs in ((1, 4), (2, 4), (3, 2)):  # three refits, the last one still running
        for e in range(1, epochs + 1):
            plots.apply_event({"type": "epoch_ended", "trial_id": "refit", "epoch": e,
                               "metrics": {"loss": 1.0 / (e + refit), "accuracy": 0.5}})
    plots.redraw()
    x, y = plots.series("loss")
    assert list(x) == [1, 2]  # the third refit's epochs, not 1-4, 1-4, 1-2 drawn as one line
    assert list(y) == [1.0 / 4, 1.0 / 5]
    assert plots.current_epochs() == 2


def test_plots_handle_200_trials_of_100_epochs(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(900, 600)
    plots.show()
    plots.reset("val_loss")
    for event in search_events(200, 100):
        plots.apply_event(event)
    plots.redraw()
    qtbot.wait(10)
    xs, ys = plots.series("others")
    assert len(xs) == 199 * 101
    assert np.isnan(ys).sum() == 199
    assert len(plots.series("scores")[0]) == 200
    best = plots.series("best_score")
    assert len(best[0]) >= 1
    assert plots.grab().width() == plots.width()


def test_redraw_on_the_timer_only_when_something_changed(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.start_timer()
    assert plots.timer_active
    for event in search_events(1, 3):
        plots.apply_event(event)
    qtbot.waitUntil(lambda: len(plots.series("loss")[0]) == 3, timeout=2000)
    plots.stop_timer()
    assert not plots.timer_active


def test_objective_direction():
    assert maximizes("val_accuracy") and maximizes("val_auc")
    assert not maximizes("val_loss") and not maximizes(None) and not maximizes("val_mae")
    assert math.isnan(float("nan"))


def test_search_page_dispatches_events_to_table_and_plots(qtbot, window):
    page = window.search_page
    for event in search_events(4, 3, fail=2):
        page.controller.eventReceived.emit(event)
    assert page.trials_model.rowCount() == 4
    assert page.plots.trial_ids() == ["000", "001", "002", "003"]
    log = page.log.toPlainText()
    assert "Trial 002 failed" in log and "out of memory" in log
    page.trials_table.selectRow(3)
    assert page.plots.selected_trial() is not None
