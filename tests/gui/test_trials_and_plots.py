"""The trial store, the trials table and the live plots that show it, fed with synthetic typed
events (real Qt, no mocks)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from automl_studio.engine.core.events import (
    BatchProgress,
    EpochEnded,
    Event,
    SearchStarted,
    TrialEnded,
    TrialStarted,
)
from automl_studio.engine.core.objectives import get_objective
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.models.trials_model import RECALL_COLUMN, TrialsModel, TrialsProxyModel
from automl_studio.gui.plots.live_plots import COLOURS, LivePlots


def search_events(trials: int, epochs: int, *, fail: int | None = None,
                  objective: str = "val_loss") -> list[Event]:
    events: list[Event] = [SearchStarted(profile={}, space_summary={}, settings={"objective": objective},
                                         project_dir="p", time=1000.0)]
    for t in range(trials):
        tid = f"{t:03d}"
        events.append(TrialStarted(trial_id=tid, time=1000.0 + t,
                                   hyperparameters={"units": 16 * (t % 4 + 1), "lr": 10 ** -(t % 3 + 2)}))
        for e in range(1, epochs + 1):  # the engine counts epochs from 1
            loss = 1.0 / e + 0.01 * t
            events.append(BatchProgress(trial_id=tid, epoch=e, batch=3, batches=10))
            events.append(EpochEnded(trial_id=tid, epoch=e,
                                     metrics={"loss": loss, "val_loss": loss + 0.1,
                                              "accuracy": 1 - loss / 2, "val_accuracy": 0.9 - loss / 2}))
        if t == fail:
            events.append(TrialEnded(trial_id=tid, status="failed", score=None, duration_s=1.5,
                                     time=1001.0 + t,
                                     error="ResourceExhaustedError: out of memory\ntraceback…"))
        else:
            events.append(TrialEnded(trial_id=tid, status="completed", score=1.0 / epochs + 0.1 + 0.01 * t,
                                     duration_s=2.0 + t, time=1001.0 + t))
    return events


def fed_store(trials: int, epochs: int, **kwargs) -> TrialStore:
    store = TrialStore()
    for event in search_events(trials, epochs, **kwargs):
        store.apply(event)
    return store


def test_trials_model_rows_hyperparameters_and_failures(qtbot):
    store = TrialStore()
    model = TrialsModel(store)
    for event in search_events(3, 4, fail=1):
        store.apply(event)
    assert model.rowCount() == 3
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Trial", "Status", "val_loss (lower is better)", "Epochs", "Duration", "Reason",
                       "Worker", "Diagnosis", "Recall per class", "± SE", "Cross-validated", "units", "lr"]
    assert model.index(0, 1).data() == "completed"
    assert model.index(0, 3).data() == "4"
    assert model.index(2, 6).data() == "local"  # the worker that ran it
    assert model.index(2, model.column_of("units")).data() == "48"
    assert model.index(2, RECALL_COLUMN).data() == ""  # these events carry no per-class recall
    assert model.index(1, 1).data() == "failed"
    assert model.index(1, 5).data() == "ResourceExhaustedError: out of memory"
    assert "out of memory" in model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert model.count("completed") == 2


def test_trials_proxy_sorts_numbers_and_keeps_missing_scores_last(qtbot):
    store = TrialStore()
    model = TrialsModel(store)
    for event in search_events(12, 2, fail=4):
        store.apply(event)
    proxy = TrialsProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    scores = [proxy.index(r, 2).data(Qt.ItemDataRole.UserRole) for r in range(proxy.rowCount())]
    assert scores[-1] is None
    assert scores[:-1] == sorted(scores[:-1])
    proxy.setFilterFixedString("failed")
    assert proxy.rowCount() == 1


def test_the_recall_per_class_column_shows_each_classification_trials_recall_and_sorts_by_the_lowest(qtbot):
    store = TrialStore()
    model = TrialsModel(store)
    proxy = TrialsProxyModel()
    proxy.setSourceModel(model)
    names = ("setosa", "versicolor", "virginica")
    recalls = {"000": (1.0, 0.8, 0.95), "001": (1.0, 0.25, 0.9), "002": (0.9, None, 1.0)}
    store.apply(SearchStarted(profile={}, space_summary={}, settings={"objective": "val_loss"}, project_dir="p"))
    for tid, values in recalls.items():
        store.apply(TrialStarted(trial_id=tid, hyperparameters={"units": 8}))
        with qtbot.waitSignal(store.trialChanged, timeout=1000):
            store.apply(TrialEnded(trial_id=tid, status="completed", score=0.3, duration_s=1.0,
                                   class_recall=dict(zip(names, values, strict=True))))
    store.apply(TrialStarted(trial_id="003", hyperparameters={"units": 8}))
    store.apply(TrialEnded(trial_id="003", status="failed", score=None, duration_s=1.0, error="boom"))

    assert model.headerData(RECALL_COLUMN, Qt.Orientation.Horizontal) == "Recall per class"
    cells = [model.index(r, RECALL_COLUMN).data() for r in range(4)]
    assert cells == ["0: 1.00 · 1: 0.80 · 2: 0.95", "0: 1.00 · 1: 0.25 · 2: 0.90", "0: 0.90 · 1: – · 2: 1.00", ""]
    tip = model.index(1, RECALL_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert "1  versicolor: 0.250" in tip and "0  setosa: 1.000" in tip and "validation split" in tip
    assert "no rows of this class" in model.index(2, RECALL_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    # Sorted by its lowest class: the trial that misses versicolor most comes first, none last.
    proxy.sort(RECALL_COLUMN, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(4)] == ["001", "000", "002", "003"]
    # An opened project shows what the event log kept.
    from automl_studio.engine.search.project import TrialRecord as SavedTrial

    saved = SavedTrial("007", "completed", {"units": 8}, score=0.2, class_recall={"a": 0.5, "b": 1.0})
    store.load_records({"007": saved}, "val_loss")
    assert model.index(0, RECALL_COLUMN).data() == "0: 0.50 · 1: 1.00"


def test_recall_of_many_classes_shows_the_lowest_three():
    from automl_studio.gui.models.trials_model import format_class_recall

    recall = {f"c{i}": 1.0 - i / 20 for i in range(10)} | {"c3": 0.1, "c10": None}
    assert format_class_recall(recall) == "lowest 3: 0.10 · 9: 0.55 · 8: 0.60"


def plots_after(qtbot, trials: int, epochs: int) -> LivePlots:
    """Live plots showing a store fed a synthetic search of ``trials`` × ``epochs``."""
    store = TrialStore()
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    store.reset("val_loss", started_at=1000.0)
    for event in search_events(trials, epochs):
        store.apply(event)
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
    assert plots.all_plot.getPlotItem().getAxis("left").labelText == "val_loss<br>(lower is better)"


def test_each_averaged_refit_starts_its_own_curve(qtbot):
    plots = plots_after(qtbot, 2, 3)
    for refit, epochs in ((1, 4), (2, 4), (3, 2)):  # three refits, the last one still running
        for e in range(1, epochs + 1):
            plots.store.apply(EpochEnded(trial_id="refit", epoch=e,
                                         metrics={"loss": 1.0 / (e + refit), "accuracy": 0.5}))
    plots.redraw()
    x, y = plots.series("loss")
    assert list(x) == [1, 2]  # the third refit's epochs, not 1-4, 1-4, 1-2 drawn as one line
    assert list(y) == [1.0 / 4, 1.0 / 5]
    assert plots.current_epochs() == 2
    assert plots.store.trial_ids() == ["000", "001"]  # the refit is no trial


def test_plots_handle_200_trials_of_100_epochs(qtbot):
    store = TrialStore()
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    plots.resize(900, 600)
    plots.show()
    store.reset("val_loss")
    for event in search_events(200, 100):
        store.apply(event)
    plots.redraw()
    qtbot.wait(10)
    xs, ys = plots.series("others")
    assert len(xs) == 199 * 101
    assert np.isnan(ys).sum() == 199
    assert len(plots.series("scores")[0]) == 200
    best = plots.series("best_score")
    # Trial 000 stays the best: one flat step out to the last trial (number 199).
    assert list(best[0]) == [0.0, 199.0] and list(best[1]) == pytest.approx([0.11, 0.11])
    image = plots.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint32)
    assert (pixels & 0xFFFFFF == QColor(COLOURS["best"]).rgb() & 0xFFFFFF).sum() > 100, "nothing painted"


def test_redraw_on_the_timer_only_when_something_changed(qtbot):
    store = TrialStore()
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    plots.start_timer()
    assert plots.timer_active
    for event in search_events(1, 3):
        store.apply(event)
    assert len(plots.series("loss")[0]) == 0  # events only mark what changed
    qtbot.waitUntil(lambda: len(plots.series("loss")[0]) == 3, timeout=2000)
    plots.stop_timer()
    assert not plots.timer_active


def test_each_timer_tick_redraws_at_most_one_plot(qtbot):
    # The window paints every changed plot in one event: one plot per tick keeps each freeze short.
    from PySide6.QtCore import QTimer

    store = fed_store(2, 3)
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    timer = plots.findChild(QTimer)
    drawn = []
    for _tick in range(4):
        timer.timeout.emit()
        drawn.append((len(plots.series("loss")[0]) > 0, len(plots.series("others")[0]) > 0
                      or len(plots.series("best")[0]) > 0, len(plots.series("best_score")[0]) > 0,
                      len(plots.series("scores")[0]) > 0))
    assert [sum(state) for state in drawn] == [1, 2, 3, 4]  # one more plot each tick, all in the end


def shown_plots(qtbot) -> tuple[TrialStore, LivePlots]:
    store = TrialStore()
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    plots.resize(1100, 650)
    plots.show()
    qtbot.waitExposed(plots)
    store.reset("val_loss", started_at=1000.0)
    return store, plots


def test_a_plot_swapping_with_its_empty_text_leaves_the_others_in_place(qtbot):
    # A swap that moved the grid would resize and repaint all four plots at once (the window's
    # longest freeze of a search, when the first trial ended).
    store, plots = shown_plots(qtbot)
    events = search_events(2, 3)
    second = next(i for i, e in enumerate(events) if isinstance(e, TrialStarted) and e.trial_id == "001")
    for event in events[:second - 1]:  # the first trial's epochs: only its two plots are drawn
        store.apply(event)
    plots.redraw()
    qtbot.wait(1)
    cells = [view.parentWidget() for view in plots.views()]
    before = [cell.geometry() for cell in cells]
    store.apply(events[second - 1])  # it ends: its score shows the best and scatter plots
    plots.redraw()
    qtbot.wait(1)
    assert plots.empty_text("best") is None and plots.empty_text("scatter") is None
    assert [cell.geometry() for cell in cells] == before
    store.apply(events[second])  # the next trial starts: its plot says it waits for an epoch
    plots.redraw()
    qtbot.wait(1)
    assert plots.empty_text("current") == "Current trial 001: waiting for its first epoch"
    assert [cell.geometry() for cell in cells] == before


def test_a_redraw_fits_the_axes_to_the_new_data_before_the_paint(qtbot):
    # pyqtgraph fits them in the paint by default, and axes changed there paint the plot twice.
    store, plots = shown_plots(qtbot)
    for event in search_events(1, 3)[:-1]:  # the trial is still running
        store.apply(event)
    plots.redraw()
    qtbot.wait(1)
    store.apply(EpochEnded(trial_id="000", epoch=4, metrics={"loss": 5.0, "val_loss": 6.0}))
    plots.redraw()  # no event processed between this and the asserts: nothing painted yet
    (x_low, x_high), (_y_low, y_high) = plots.current_plot.getPlotItem().vb.viewRange()
    assert x_low <= 1 and x_high >= 4 and y_high >= 6.0


def test_the_store_ranks_by_the_objective_direction(qtbot):
    assert get_objective("val_accuracy").maximize and get_objective("val_auc").maximize
    assert not get_objective("val_loss").maximize and not get_objective(None).maximize
    assert not get_objective("val_mae").maximize and not get_objective("val_rmse").maximize
    # Later trials have a higher score: the best is the last under "max", the first under "min".
    assert fed_store(4, 2, objective="val_accuracy").best_trial_id == "003"
    assert fed_store(4, 2, objective="val_loss").best_trial_id == "000"


def test_the_store_feeds_table_and_plots_from_one_event_stream(qtbot):
    store = TrialStore()
    model = TrialsModel(store)
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    store.reset("val_accuracy", started_at=1000.0)
    signals = [store.trialAdded, store.epochAppended, store.trialChanged, store.bestChanged]
    with qtbot.waitSignals(signals, timeout=1000):
        for event in search_events(3, 2, fail=1, objective="val_accuracy"):
            store.apply(event)
    plots.redraw()
    # The table shows the store's rows, headed by the objective and its direction …
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["000", "001", "002"]
    assert model.headerData(2, Qt.Orientation.Horizontal) == "val_accuracy (higher is better)"
    assert [model.index(r, 1).data() for r in range(3)] == ["completed", "failed", "completed"]
    # … and the plots the same trials: two scores, the higher one the best.
    assert plots.best_trial() == "002" and store.best_trial_id == "002"
    assert sorted(plots.series("scores")[1]) == pytest.approx([0.6, 0.62])
    assert plots.scatter_plot.getPlotItem().getAxis("left").labelText == "val_accuracy<br>(higher is better)"
    # A resumed search reruns a trial: its row is reused and its old curve is gone.
    store.apply(TrialStarted(trial_id="001", hyperparameters={"units": 32, "lr": 0.01}, time=1010.0))
    plots.redraw()
    assert model.rowCount() == 3 and model.index(1, 1).data() == "running" and model.index(1, 3).data() == "0"
    assert plots.current_trial() == "001" and len(plots.series("loss")[0]) == 0
    # Opening a project replaces everything at once.
    store.reset()
    plots.redraw()
    assert model.rowCount() == 0 and plots.trial_ids() == [] and len(plots.series("scores")[0]) == 0
    assert model.headerData(2, Qt.Orientation.Horizontal) == "val_loss (lower is better)"


def test_search_page_dispatches_events_to_table_and_plots(qtbot, window):
    page = window.search_page
    for event in search_events(4, 3, fail=2):
        page.controller.eventReceived.emit(event)
    assert page.trials_model.rowCount() == 4
    assert page.plots.trial_ids() == ["000", "001", "002", "003"]
    log = page.log.toPlainText()
    assert "Trial 002 failed" in log and "out of memory" in log
    page.trials_table.selectRow(3)
    assert page.plots.selected_trial() == "003"
