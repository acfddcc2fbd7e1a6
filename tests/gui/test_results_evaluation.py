"""The Results page's tabs for a real finished search: per-class scores, ROC/PR curves or
residuals, permutation importance, the layer list and the refit's curves, all read from the
project's best/evaluation.json, and the same again for a reopened project (no retraining)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import IRIS
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import SearchFinished, event_from_dict
from automl_studio.engine.search.project import ProjectFile
from automl_studio.engine.train.evaluation import read_evaluation
from automl_studio.gui.pages.results_page import ResultsPage

pytestmark = pytest.mark.slow


def finished_search(folder: Path, data: Path, target: str, **settings) -> SearchConfig:
    """A real tiny search run to its end in ``folder/search`` (the engine, in this process)."""
    from automl_studio.engine.search.session import run_search

    settings = {"tuner": "random", "max_trials": 1, "max_epochs": 3, "export_keras": False, "tensorboard": False,
                **settings}
    config = SearchConfig(data_path=str(data), project_dir=str(folder / "search"), target=target, **settings)
    result = run_search(config)
    assert result.status == "completed", result.message
    return config


@pytest.fixture(scope="module")
def iris_search(tmp_path_factory) -> SearchConfig:
    return finished_search(tmp_path_factory.mktemp("iris"), IRIS, "species", refits=2, forest=False)


@pytest.fixture(scope="module")
def regression_search(tmp_path_factory) -> SearchConfig:
    folder = tmp_path_factory.mktemp("regression")
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=100), rng.normal(size=100)
    lines = ["x1,x2,y"] + [f"{a:.4f},{b:.4f},{2 * a - b:.4f}" for a, b in zip(x1, x2, strict=True)]
    (folder / "reg.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return finished_search(folder, folder / "reg.csv", "y", task="regression", refits=1, forest=False)


def finish_event(project_dir: str) -> SearchFinished:
    """The search's ``search_finished`` event, as its event log has it."""
    lines = (Path(project_dir) / "events.jsonl").read_text(encoding="utf-8").splitlines()
    event = event_from_dict([e for e in map(json.loads, lines) if e["type"] == "search_finished"][-1])
    assert isinstance(event, SearchFinished)
    return event


def show(qtbot, config: SearchConfig) -> ResultsPage:
    page = ResultsPage()
    qtbot.addWidget(page)
    page.resize(1024, 700)
    page.set_result(finish_event(config.project_dir), config.project_dir)
    return page


def check_iris_tabs(tabs, config: SearchConfig) -> None:
    evaluation = read_evaluation(Path(config.project_dir) / "best")
    assert evaluation is not None
    assert tabs.tab_titles() == ["Summary", "Per class", "ROC / PR curves", "Feature importance", "Network",
                                 "Refit curves"]
    tabs.setCurrentWidget(tabs.class_tab)  # each tab is drawn when it is first shown
    model = tabs.class_view.model()
    assert model.rowCount() == 3
    assert [model.index(r, 0).data() for r in range(3)] == ["setosa", "versicolor", "virginica"]
    assert [model.index(r, 4).data() for r in range(3)] == [str(c.support) for c in evaluation.per_class]
    assert model.index(0, 3).data() == f"{evaluation.per_class[0].f1:.3f}"

    tabs.setCurrentWidget(tabs.curves_tab)
    curves = tabs.class_curves
    names = curves.curve_names(curves.roc_plot)
    assert [n.split(" (")[0] for n in names] == ["setosa", "versicolor", "virginica"]
    assert all("AUC" in n for n in names)
    assert len(curves.curve_names(curves.pr_plot)) == 3

    tabs.setCurrentWidget(tabs.importance_tab)
    assert tabs.importance_plot.bar_count() == 4
    table = tabs.importance_view.model()
    assert sorted(table.index(r, 0).data() for r in range(table.rowCount())) == sorted(
        ["sepal_length", "sepal_width", "petal_length", "petal_width"])
    caption = tabs.importance_tab.caption.text()
    assert "test loss" in caption and "(lower is better)" in caption

    tabs.setCurrentWidget(tabs.network_tab)
    layers = tabs.layer_view.model()
    assert evaluation.network is not None and layers.rowCount() == len(evaluation.network.layers)
    assert f"{evaluation.network.total_params:,} parameters" in tabs.network_tab.caption.text()
    assert "averages 2 refits" in tabs.network_tab.caption.text()
    tabs.setCurrentWidget(tabs.refit_tab)
    assert tabs.refit_curves.run_count() == 2
    assert tabs.refit_tab.caption.text().startswith("The best configuration retrained on train + validation")


def test_an_ensemble_of_retrained_trials_says_so_on_every_tab(qtbot, tmp_path):
    from automl_studio.engine.train.ensemble import FORCE_ENSEMBLE

    config = finished_search(tmp_path, IRIS, "species", max_trials=2, ensemble=True, extra={FORCE_ENSEMBLE: True})
    page = show(qtbot, config)
    ensemble = finish_event(config.project_dir).ensemble
    assert len(ensemble["trials"]) == 2 and sorted(ensemble["refitted"]) == sorted(ensemble["trials"])
    model_row = page.findChild(QWidget, "best_Model")
    assert model_row is not None and model_row.text().endswith("; retrained on train+validation)")
    tabs = page.tabs
    tabs.setCurrentWidget(tabs.network_tab)
    assert "weighted ensemble of 2 trials' networks" in tabs.network_tab.caption.text()
    tabs.setCurrentWidget(tabs.refit_tab)
    assert tabs.refit_curves.run_count() == 2  # one curve per retrained member
    assert tabs.refit_tab.caption.text().startswith("The ensemble's members (heaviest first) retrained")


def test_a_finished_search_shows_every_tab(qtbot, iris_search):
    page = show(qtbot, iris_search)
    check_iris_tabs(page.tabs, iris_search)
    # Sorting a table by a header sorts by the number, not the text.
    view = page.tabs.importance_view
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    shown = [float(view.model().index(r, 1).data()) for r in range(4)]
    assert shown == sorted(shown, reverse=True)
    assert view.model().index(0, 3).data() == "1"  # the top column is ranked first


def test_a_reopened_project_shows_the_same_without_retraining(qtbot, window, iris_search, tmp_path):
    events = (Path(iris_search.project_dir) / "events.jsonl").read_text(encoding="utf-8")
    path = tmp_path / "iris.automl.json"
    ProjectFile(iris_search, name="iris").save(path)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(str(path))
    check_iris_tabs(window.results_page.tabs, iris_search)
    assert not window.search_page.running
    assert (Path(iris_search.project_dir) / "events.jsonl").read_text(encoding="utf-8") == events


def test_regression_shows_residuals_and_no_per_class_tab(qtbot, regression_search):
    page = show(qtbot, regression_search)
    tabs = page.tabs
    assert tabs.tab_titles() == ["Summary", "Residuals", "Feature importance", "Network", "Refit curves"]
    rows = finish_event(regression_search.project_dir).test_metrics["n"]
    assert tabs.regression.residual_points.getData()[0] is None or not len(tabs.regression.residual_points.getData()[0])
    tabs.setCurrentWidget(tabs.curves_tab)  # drawn when first shown
    x, y = tabs.regression.residual_points.getData()
    assert len(x) == len(y) == rows
    actual, predicted = tabs.regression.fit_points.getData()
    assert np.allclose(y, actual - predicted)
    tabs.setCurrentWidget(tabs.importance_tab)
    assert tabs.importance_plot.bar_count() == 2
    tabs.setCurrentWidget(tabs.refit_tab)
    assert tabs.refit_curves.run_count() == 1
    assert f"All {rows} test rows" in tabs.curves_tab.caption.text()


def test_a_damaged_or_stale_evaluation_is_explained(qtbot, regression_search, tmp_path):
    import shutil

    project = tmp_path / "copy"
    shutil.copytree(regression_search.project_dir, project)
    config = regression_search.replace(project_dir=str(project))
    stored = project / "best" / "evaluation.json"
    data = json.loads(stored.read_text(encoding="utf-8"))
    data["best_trial_id"] = "another"  # an earlier run's model
    stored.write_text(json.dumps(data), encoding="utf-8")
    page = show(qtbot, config)
    empty = page.findChild(QWidget, "importanceTabEmpty")
    assert page.tabs.importance_tab.stack.currentWidget() is empty
    assert "No test evaluation is stored" in empty.text()

    stored.write_text("{", encoding="utf-8")
    page.set_result(finish_event(config.project_dir), config.project_dir)
    assert "cannot be shown" in empty.text() and "evaluation.json" in empty.text()


def test_exporting_a_stopped_search_shows_the_evaluation_it_wrote(qtbot, tmp_path):
    """A search stopped before its export has no evaluation; exporting its best trial (in a
    child process) evaluates it, and the tabs fill in."""
    import dataclasses
    import shutil

    config = finished_search(tmp_path, IRIS, "species", refit=False)
    shutil.rmtree(Path(config.project_dir) / "best")  # as a stop leaves it: no export yet
    finish = dataclasses.replace(finish_event(config.project_dir), status="stopped", exported=())
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(finish, config.project_dir)
    assert "No test evaluation is stored" in page.findChild(QWidget, "importanceTabEmpty").text()
    with qtbot.waitSignal(page.exportFinished, timeout=300_000):
        page.export_to(str(tmp_path / "out.h5"))
    page.tabs.setCurrentWidget(page.tabs.importance_tab)
    assert page.tabs.importance_plot.bar_count() == 4
    page.tabs.setCurrentWidget(page.tabs.class_tab)
    assert page.tabs.class_view.model().rowCount() == 3
    page.tabs.setCurrentWidget(page.tabs.refit_tab)
    assert "No refit curves" in page.findChild(QWidget, "refitTabEmpty").text()


def test_importance_bars_are_named_even_when_drawn_in_a_hidden_tab(qtbot):
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QTabWidget

    from automl_studio.engine.core.objectives import get_objective
    from automl_studio.engine.train.evaluation import ColumnImportance, Importance
    from automl_studio.gui.plots.evaluation_plots import ImportancePlot

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QWidget(), "Summary")
    plot = ImportancePlot()
    tabs.addTab(plot, "Feature importance")
    tabs.resize(900, 500)
    tabs.show()
    names = ("petal_width", "a much longer column name", "sepal_length")
    columns = tuple(ColumnImportance(name, mean, 0.05, (mean,)) for name, mean in zip(names, (0.9, 0.3, 0.1), strict=True))
    plot.show_importance(Importance(metric="loss", direction="min", score=0.1, rows=30, repeats=5, columns=columns,
                                    note=""), get_objective("val_loss"))
    tabs.setCurrentIndex(1)
    left = plot.getPlotItem().getAxis("left")
    longest = QFontMetrics(left.style["tickFont"] or plot.font()).horizontalAdvance("a much longer column name")
    assert left.width() > longest  # every name fits beside its bar, so pyqtgraph draws it
    assert plot.bar_count() == 3


def test_the_best_trial_lists_only_the_hyperparameters_its_network_used(qtbot, iris_search):
    import dataclasses

    from PySide6.QtWidgets import QLabel

    finish = finish_event(iris_search.project_dir)
    # KerasTuner keeps values of repeat copies beyond the count and of skipped layers; with one
    # repeat and no dropout, dense.units.1 and dropout.rate.0 were not used.
    recorded = {**finish.best_hyperparameters, "block.repeats": 1, "dense.units.0": 32, "dense.units.1": 99,
                "dropout.enabled.0": False, "dropout.rate.0": 0.3}
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(dataclasses.replace(finish, best_hyperparameters=recorded), iris_search.project_dir)
    assert page.findChild(QLabel, "best_dense.units.0").text() == "32"
    assert page.findChild(QLabel, "best_block.repeats").text() == "1"
    assert page.findChild(QLabel, "best_dense.units.1") is None
    assert page.findChild(QLabel, "best_dropout.rate.0") is None
    # Without the project's search space every recorded value is shown, as before.
    page.set_result(dataclasses.replace(finish, best_hyperparameters=recorded), None)
    assert page.findChild(QLabel, "best_dense.units.1").text() == "99"


def test_a_random_forest_exported_in_place_of_the_networks_is_shown_as_the_model(qtbot, tmp_path):
    # A staircase of thresholds (an exclusive-or of two numbers and a category): one network of
    # two epochs does not learn it; the forest does, on the same folds, and is exported.
    rng = np.random.default_rng(0)
    a, b, colour = rng.uniform(0, 10, 400), rng.uniform(-5, 5, 400), rng.choice(["red", "green", "blue"], 400)
    label = np.where((a > 6.2) ^ (b > 1.3) ^ (colour == "blue"), "yes", "no")
    data = tmp_path / "steps.csv"
    data.write_text("a,b,colour,label\n" + "\n".join(f"{x:.3f},{y:.3f},{c},{t}" for x, y, c, t in
                                                     zip(a, b, colour, label, strict=True)) + "\n")
    config = finished_search(tmp_path, data, "label", max_epochs=2, refits=1)
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(finish_event(config.project_dir), config.project_dir)
    model = page.findChild(QWidget, "best_Model").text()
    assert re.match(r"random forest of \d+ trees \(at most \d+ leaves each\) in Keras layers, chosen on ", model), model
    race = page.race_note.text()
    assert "consider the forest itself" not in race and ("is the exported model" in race or not race), race
    tabs = page.tabs
    tabs.setCurrentWidget(tabs.network_tab)  # each tab is drawn when it is first shown
    tabs.setCurrentWidget(tabs.refit_tab)
    assert "is a random forest compiled into these standard Keras layers" in tabs.network_tab.caption.text()
    assert "a random forest, fitted on train + validation" in tabs.refit_tab.empty.text()  # it has no epochs
