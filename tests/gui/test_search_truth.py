"""The Search page and the live plots show the truth: labelled axes, one x rule, legends that
name what is drawn, empty plots that say so, how a search really ended, scores named by their
metric, and a chance-level model flagged as one (real widgets, synthetic or real searches)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import IRIS, wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget
from test_trials_and_plots import plots_after, search_events

from automl_studio.engine.core.events import EpochEnded, ProcessExited, SearchFinished
from automl_studio.engine.search.project import read_trials
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.plots.live_plots import LivePlots


def test_loss_and_the_metric_each_have_their_own_labelled_axis(qtbot):
    plots = plots_after(qtbot, 2, 4)
    plots.redraw()
    item = plots.current_plot.getPlotItem()
    assert item.getAxis("left").labelText == "loss"
    assert item.getAxis("right").isVisible() and item.getAxis("right").labelText == "accuracy"
    assert len(plots.series("metric")[0]) == 4 and len(plots.series("loss")[0]) == 4
    assert "accuracy →" in plots.current_title()  # the legend points at its axis


def test_trials_are_drawn_at_their_number_live_and_after_reopening(qtbot, tmp_path):
    events = search_events(4, 2, fail=1)
    live = plots_after(qtbot, 4, 2)  # the same events, trial 001 failed
    for event in search_events(4, 2, fail=1)[len(events):]:
        live.store.apply(event)
    live.store.reset("val_loss")
    for event in events:
        live.store.apply(event)
    live.redraw()
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e.to_dict()) + "\n" for e in events))
    reopened_store = TrialStore()
    reopened = LivePlots(reopened_store)
    qtbot.addWidget(reopened)
    reopened_store.load_records(read_trials(tmp_path), "val_loss")
    reopened.redraw()
    for plots in (live, reopened):
        assert list(plots.series("scores")[0]) == [0, 2, 3]  # trials 000, 002, 003 (001 failed)
        assert list(plots.series("best_score")[0]) == [0.0, 3.0]  # 000 stays best, out to 003
        assert plots.scatter_plot.getPlotItem().getAxis("bottom").labelText == "trial"
        assert plots.best_plot.getPlotItem().getAxis("bottom").labelText == "trial"


def test_the_refit_legend_names_only_the_curves_it_draws(qtbot):
    plots = plots_after(qtbot, 2, 3)
    for e in (1, 2):
        plots.store.apply(EpochEnded(trial_id="refit", epoch=e, metrics={"loss": 0.5 / e, "accuracy": 0.8}))
    plots.redraw()
    title = plots.current_title()
    assert title.startswith("Refit of the best trial")
    assert "loss" in title and "accuracy" in title
    assert "val loss" not in title and "val accuracy" not in title  # a refit has no validation curves


def test_a_new_search_clears_the_previous_title_legend_and_curves(qtbot):
    plots = plots_after(qtbot, 3, 2)
    plots.redraw()
    assert "Current trial 002" in plots.current_title()
    plots.store.reset("val_loss")  # what Start does
    plots.redraw()
    assert plots.current_title() == "Current trial"
    assert plots.current_plot.getPlotItem().getAxis("right").labelText == ""
    assert len(plots.series("loss")[0]) == 0


def test_empty_plots_say_so_instead_of_drawing_made_up_axes(qtbot):
    store = TrialStore()
    plots = LivePlots(store)
    qtbot.addWidget(plots)
    plots.show()
    plots.redraw()
    for name, view in zip(("current", "all", "best", "scatter"), plots.views(), strict=True):
        assert plots.empty_text(name) == "No trials yet"
        assert not view.isVisible()
        assert plots.findChild(QWidget, f"{view.objectName()}Empty").isVisible()
    for event in search_events(1, 2)[:4]:  # trial 000 has run two epochs, not ended
        store.apply(event)
    plots.redraw()
    assert plots.empty_text("current") is None and plots.current_plot.isVisible()
    assert plots.empty_text("all") is None
    assert plots.empty_text("best") == "No finished trials yet"
    assert plots.empty_text("scatter") == "No finished trials yet"


def feed(page, events) -> None:
    for event in events:
        page.controller.eventReceived.emit(event)


def end_search(qtbot, page, finish: SearchFinished) -> None:
    """What the controller reports when a search ends: its event, the process's exit, not running."""
    with qtbot.waitSignal(page.finished, timeout=5000):
        page.controller.eventReceived.emit(finish)
        page.controller.searchFinished.emit(finish)
        page.controller.processExited.emit(ProcessExited(exitcode=0))
        page.controller.runningChanged.emit(False)


def test_after_a_stop_the_page_says_stopped_and_how_many_trials(qtbot, window):
    page = window.search_page
    feed(page, search_events(3, 2))
    end_search(qtbot, page, SearchFinished.build("stopped", "stopped by the user", best_trial_id="000",
                                                 best_score=0.6))
    assert page.progress_label.text().startswith("Stopped after 3 trials")
    assert "left" not in page.progress_label.text()
    assert page.plots.batch_progress.format() == "Stopped after 3 trials"
    message = window.statusBar().currentMessage()
    assert message.startswith("Stopped after 3 trials") and "finished" not in message.lower()
    assert "val_loss (lower is better) = 0.6" in message


def test_scores_are_named_by_their_metric_everywhere(qtbot, window):
    page = window.search_page
    assert not page.best_label.isVisibleTo(page)  # no search yet: nothing ranked by anything
    feed(page, search_events(3, 2, objective="val_accuracy"))
    assert page.best_label.isVisibleTo(page)
    assert page.best_label.text() == "Best so far: trial 002 · val_accuracy (higher is better) = 0.62"
    assert page.trials_model.headerData(2, Qt.Orientation.Horizontal) == "val_accuracy (higher is better)"
    page.plots.redraw()
    assert "val_accuracy" in page.plots.best_plot.getPlotItem().titleLabel.text
    assert "val_accuracy" in page.plots.scatter_plot.getPlotItem().titleLabel.text
    end_search(qtbot, page, SearchFinished.build("completed", best_trial_id="002", best_score=0.62,
                                                 test_metrics={"accuracy": 0.9}))
    assert "val_accuracy (higher is better) = 0.62" in window.statusBar().currentMessage()
    score = window.results_page.findChild(QWidget, "best_Score")
    assert window.results_page.best_form.labelForField(score).text() == "val_accuracy (higher is better)"


def write_finished_project(tmp_path, events: list[dict]) -> str:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.project import ProjectFile

    search_dir = tmp_path / "search"
    search_dir.mkdir()
    (search_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    config = SearchConfig(data_path=str(IRIS), project_dir=str(search_dir), target="species", max_trials=3)
    path = tmp_path / "done.automl.json"
    ProjectFile(config, name="done").save(path)
    return str(path)


def test_a_reopened_finished_project_shows_how_it_finished(qtbot, window, tmp_path):
    events = [e.to_dict() for e in search_events(3, 2)]
    events.append(SearchFinished.build("completed", best_trial_id="000", best_score=0.6).to_dict())
    path = write_finished_project(tmp_path, events)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(path)
    page = window.search_page
    assert page.plots.batch_progress.format() == "Finished: 3 trials"
    assert page.progress_label.text() == "Finished: 3 trials"
    assert page.best_label.text() == "Best so far: trial 000 · val_loss (lower is better) = 0.6"


def chance_level_finish() -> SearchFinished:
    return SearchFinished.build(
        "completed", best_trial_id="000", best_score=2.3,
        test_metrics={"accuracy": 0.1, "balanced_accuracy": 0.1, "n": 50,
                      "confusion_matrix": [[5] + [0] * 9] + [[5] + [0] * 9] * 9,
                      "class_names": [str(i) for i in range(10)]},
        baseline_metrics={"accuracy": 0.1, "balanced_accuracy": 0.1, "n": 50,
                          "rule": "always the most common class, 0 (10% of the training rows)"},
        exported=["/p/best/best.h5"])


def test_a_chance_level_model_is_flagged_on_both_pages(qtbot, window, tmp_path):
    page, results = window.search_page, window.results_page
    feed(page, search_events(1, 2))
    end_search(qtbot, page, chance_level_finish())
    for owner, note in ((page, page.baseline_note), (results, results.baseline_note)):
        assert note.isVisibleTo(owner)
        assert "does not beat the trivial baseline" in note.text()
        assert "most common class" in note.text() and "epochs" in note.text()
        assert note.findChild(QPushButton).text() == "Search longer"
    assert "does not beat the trivial baseline" in window.statusBar().currentMessage()
    assert "finished — the best model is on the Results page" not in window.statusBar().currentMessage()
    assert results.findChild(QWidget, "baseline_accuracy").text() == "baseline 0.100"
    assert "most common class" in results.findChild(QWidget, "best_Baseline").text()
    # A model that beats its baseline is not flagged.
    beaten = SearchFinished.build("completed", best_trial_id="000", best_score=0.2,
                                  test_metrics={"accuracy": 0.9, "balanced_accuracy": 0.9},
                                  baseline_metrics={"accuracy": 0.1, "balanced_accuracy": 0.1, "rule": "x"})
    results.set_result(beaten, str(tmp_path))
    assert not results.baseline_note.isVisibleTo(results)


def noise_csv(path) -> str:
    """Labels independent of the features, 70/30: no model beats the majority class."""
    rng = np.random.default_rng(3)
    n = 300
    labels = np.where(rng.permutation(n) < 0.7 * n, "no", "yes")
    rows = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{c}" for a, b, c in
                              zip(rng.normal(size=n), rng.normal(size=n), labels, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.mark.slow
def test_a_real_search_that_cannot_beat_the_majority_class_is_flagged(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_dataset(noise_csv(tmp_path / "noise.csv"))
    qtbot.waitUntil(lambda: window.data_page.profile is not None, timeout=10_000)
    wait_for_shapes(qtbot, window)
    page = window.search_page
    page.max_trials.setValue(1)
    page.max_epochs.setValue(3)
    page.refits.setValue(1)
    page.tuner_combo.setCurrentIndex(page.tuner_combo.findData("random"))
    page.project_dir.setText(str(tmp_path / "search"))
    with qtbot.waitSignal(page.finished, timeout=300_000) as done:
        window.findChild(QWidget, "startSearch").click()
    assert done.args[0].status == "completed", done.args[0].message
    assert done.args[0].baseline_metrics["n"] == done.args[0].test_metrics["n"]
    assert "does not beat the trivial baseline" in page.baseline_note.text(), \
        (done.args[0].test_metrics, done.args[0].baseline_metrics)
    assert "does not beat the trivial baseline" in window.results_page.baseline_note.text()
    assert "does not beat the trivial baseline" in window.statusBar().currentMessage()
    # Search longer resumes the same search with twice the trials.
    button = page.findChild(QPushButton, "searchBaselineSearchLonger")
    with qtbot.waitSignal(page.controller.runningChanged, timeout=10_000):
        button.click()
    assert page.running and page.max_trials.value() == 6
    assert not page.baseline_note.isVisible()
    assert "Resuming search" in page.log.toPlainText()


@pytest.mark.slow
def test_a_real_search_stopped_by_the_user_says_so_with_no_time_left(qtbot, iris_window, tmp_path):
    from test_search_end_to_end import SEARCH_TIMEOUT_MS, completed_trials, configure

    w = iris_window
    page = w.search_page
    configure(w, tmp_path / "stopped", trials=20, epochs=30)
    with qtbot.waitSignal(page.controller.runningChanged, timeout=10_000):
        w.findChild(QWidget, "startSearch").click()
    qtbot.waitUntil(lambda: completed_trials(w) >= 2, timeout=SEARCH_TIMEOUT_MS)
    assert "left" in page.progress_label.text()  # an estimate while it runs …
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        w.findChild(QWidget, "stopSearch").click()
    assert done.args[0].status == "stopped"
    n = completed_trials(w)
    said = f"Stopped after {n} trials"
    assert page.progress_label.text().startswith(said)  # … none once it has stopped
    assert "left" not in page.progress_label.text()
    assert page.plots.batch_progress.format().startswith(said)
    assert w.statusBar().currentMessage().startswith(said)
    assert "(lower is better) = " in w.statusBar().currentMessage()


def test_the_search_settings_fit_beside_the_plots_in_a_1024_window(qtbot, window):
    """At 1024×700 the long objective entry set the settings' minimum width past their pane: the
    boxes were cut at the right, with a blank strip between the pane and the plots."""
    from PySide6.QtWidgets import QGroupBox, QScrollArea

    window.resize(1024, 700)
    window.nav.setCurrentRow(2)
    window.search_page.ensure_plots()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    page = window.search_page
    scroll = page.findChild(QScrollArea, "searchSettings")
    assert scroll.widget().width() <= scroll.viewport().width()  # nothing scrolls sideways
    for box in scroll.widget().findChildren(QGroupBox):
        assert box.geometry().right() < scroll.viewport().width(), f"{box.title()} is cut"
    plots = page.findChild(QWidget, "livePlotsHost")
    gap = plots.mapTo(page, plots.rect().topLeft()).x() - scroll.mapTo(page, scroll.rect().topRight()).x()
    assert gap < 20, f"{gap} px of nothing between the settings and the plots"
    header = page.trials_table.horizontalHeader()
    score = page.trials_model.headerData(2, Qt.Orientation.Horizontal)
    assert score == "val_loss (lower is better)"
    assert header.sectionSize(2) > header.fontMetrics().horizontalAdvance(score)  # the name is whole
