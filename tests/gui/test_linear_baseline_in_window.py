"""The linear model and the trivial baseline raced beside the search, on the Search and Results pages."""

from __future__ import annotations

import pytest
from conftest import IRIS
from PySide6.QtWidgets import QWidget
from test_search_truth import end_search, feed
from test_trials_and_plots import search_events

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import BaselinesScored, SearchFinished
from automl_studio.engine.search.project import ProjectFile
from automl_studio.engine.search.session import run_search
from automl_studio.engine.train.baselines import race_note


def scored(linear: float, trivial: float = 1.1) -> BaselinesScored:
    return BaselinesScored(objective="val_loss", direction="min", trivial="the majority class",
                           trivial_score=trivial, linear="LogisticRegression", linear_score=linear,
                           linear_test_metrics={"accuracy": 0.95, "balanced_accuracy": 0.94, "n": 30})


def test_the_search_page_shows_the_race_live_beside_the_best_trial(qtbot, window, tmp_path):
    page, results = window.search_page, window.results_page
    feed(page, search_events(1, 2))  # trial 000 scores val_loss 0.6
    assert not page.race_note.isVisibleTo(page)
    feed(page, [scored(0.2)])
    assert page.race_note.isVisibleTo(page)
    text = page.race_note.text()
    assert text.startswith("The linear model (0.200) scores as well as or better than the best network "
                           "(val_loss 0.600)") and "does not earn its keep" in text
    assert "The linear model (0.200)" in page.log.toPlainText()
    finish = SearchFinished.build("completed", best_trial_id="000", best_score=0.1,
                                  test_metrics={"accuracy": 0.97, "balanced_accuracy": 0.97, "n": 30},
                                  baselines=scored(0.2).summary(), exported=["/p/best/best.h5"])
    end_search(qtbot, page, finish)
    expected = ("The network (val_loss 0.100) beats the linear model (0.200) and the majority class (1.100) "
                "on the validation split.")
    assert results.race_note.text() == expected and results.race_note.isVisibleTo(results)
    assert results.findChild(QWidget, "linear_accuracy").text() == "linear 0.950"
    assert results.findChild(QWidget, "linear_n") is None
    assert "LogisticRegression" in results.findChild(QWidget, "best_Linear").text()
    # Ranked by another metric, the line does not compare unlike scores.
    page.trials.set_objective("val_accuracy")
    assert not page.race_note.isVisibleTo(page)


@pytest.mark.slow
def test_the_results_page_shows_the_random_forest_beside_the_linear_model(qtbot, window, tmp_path):
    page, results = window.search_page, window.results_page
    feed(page, search_events(1, 2))
    trees = BaselinesScored(**{**scored(0.2).summary(), "forest": "RandomForestClassifier", "forest_score": 0.05,
                               "forest_test_metrics": {"accuracy": 0.99, "balanced_accuracy": 0.985, "n": 30}})
    feed(page, [trees])
    assert page.race_note.text().startswith("A random forest (0.050) scores as well as or better than the best "
                                            "network (val_loss 0.600)")
    finish = SearchFinished.build("completed", best_trial_id="000", best_score=0.1,
                                  test_metrics={"accuracy": 0.97, "balanced_accuracy": 0.97, "n": 30},
                                  baselines=trees.summary(), exported=["/p/best/best.h5"])
    end_search(qtbot, page, finish)
    assert results.race_note.text().startswith("A random forest (0.050)")
    assert results.findChild(QWidget, "forest_accuracy").text() == "forest 0.990"
    assert results.findChild(QWidget, "linear_accuracy").text() == "linear 0.950"
    assert results.findChild(QWidget, "forest_n") is None
    assert results.metrics_box.title() == "Test metrics (linear and forest baselines below each)"
    assert "RandomForestClassifier" in results.findChild(QWidget, "best_Forest").text()


def test_a_reopened_finished_project_shows_the_linear_baseline_on_both_pages(qtbot, window, tmp_path):
    events: list = []
    search_dir = tmp_path / "search"
    config = SearchConfig(data_path=str(IRIS), project_dir=str(search_dir), target="species", tuner="random",
                          max_trials=1, max_epochs=1, refit=False, seed=1)
    run_search(config, events.append)
    finish = events[-1]
    assert isinstance(finish, SearchFinished) and finish.baselines["linear"] == "LogisticRegression"
    path = tmp_path / "done.automl.json"
    ProjectFile(config, name="done").save(path)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(str(path))
    expected = race_note(finish.baselines, finish.best_score)
    assert "the linear model" in expected.lower() and "a random forest (" in expected.lower()
    assert "the majority class" in expected
    page, results = window.search_page, window.results_page
    assert page.race_note.text() == expected and page.race_note.isVisibleTo(page)
    assert results.race_note.text() == expected
    linear = finish.baselines["linear_test_metrics"]["accuracy"]
    assert results.findChild(QWidget, "linear_accuracy").text() == f"linear {linear:.3f}"
    forest = finish.baselines["forest_test_metrics"]["accuracy"]
    assert results.findChild(QWidget, "forest_accuracy").text() == f"forest {forest:.3f}"
