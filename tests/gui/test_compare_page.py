"""The Compare page on a real finished search: brushing, importance, side-by-side trials, badges."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IRIS
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from automl_studio.engine.core.events import EpochEnded, TrialEnded, TrialStarted
from automl_studio.engine.search.analysis import active_hyperparameters, searched_hyperparameters
from automl_studio.engine.search.project import read_search_document, read_trials
from automl_studio.engine.space.spec import SearchSpace
from automl_studio.gui.models.comparison_model import DIFFERS_ROLE, NOT_USED
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.models.trials_model import DIAGNOSIS_COLUMN
from automl_studio.gui.pages.compare_page import ComparePage

pytestmark = pytest.mark.slow

TRIALS = 5


@pytest.fixture(scope="module")
def finished_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real random search on iris, run by the engine's command line in its own process."""
    project = tmp_path_factory.mktemp("compare") / "search"
    subprocess.run([sys.executable, "-m", "automl_studio.engine.cli", "search", str(IRIS), "--tuner", "random",
                    "--max-trials", str(TRIALS), "--max-epochs", "4", "--no-refit", "--seed", "2",
                    "--project", str(project)], check=True, capture_output=True, timeout=1200)
    return project


def open_page(qtbot, project: Path) -> ComparePage:
    store = TrialStore()
    page = ComparePage(store)
    qtbot.addWidget(page)
    page.resize(1000, 720)
    page.show()
    store.load_records(read_trials(project), "val_loss")
    page.set_project_dir(str(project))
    page.refresh()
    qtbot.waitUntil(lambda: page.importance is not None, timeout=60_000)
    return page


def drag(widget, start: QPointF, end: QPointF) -> None:
    """A left-button drag made of real mouse events, as a user's hand makes it."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    steps = [start + (end - start) * (i / 8) for i in range(1, 9)]
    events = [QMouseEvent(QEvent.Type.MouseButtonPress, start, widget.mapToGlobal(start), left, left,
                          Qt.KeyboardModifier.NoModifier)]
    events += [QMouseEvent(QEvent.Type.MouseMove, p, widget.mapToGlobal(p), none, left, Qt.KeyboardModifier.NoModifier)
               for p in steps]
    events.append(QMouseEvent(QEvent.Type.MouseButtonRelease, end, widget.mapToGlobal(end), left, none,
                              Qt.KeyboardModifier.NoModifier))
    for event in events:
        QApplication.sendEvent(widget, event)


def test_dragging_on_the_score_axis_filters_the_trials_table(qtbot, finished_project):
    page = open_page(qtbot, finished_project)
    plot = page.parallel
    assert plot.axes[-1].label == "val_loss (lower is better)"
    assert page.trials_proxy.rowCount() == TRIALS
    scores = sorted(page.store.trial(t).score for t in page.store.trial_ids())
    score_axis = len(plot.axes) - 1
    viewport = plot.plot_widget.viewport()
    # From just below the bottom of the score axis to the middle of it: the lower (better) half.
    drag(viewport, QPointF(plot.axis_point(score_axis, -0.02)), QPointF(plot.axis_point(score_axis, 0.5)))
    middle = (scores[0] + scores[-1]) / 2
    kept = [s for s in scores if s <= middle]
    assert 0 < len(kept) < TRIALS  # the drag really divides the trials
    assert page.trials_proxy.rowCount() == len(kept)
    shown = {page.trials_proxy.index(r, 0).data() for r in range(page.trials_proxy.rowCount())}
    assert all(page.store.trial(t).score <= middle for t in shown)
    assert f"{len(kept)} of {TRIALS} trials" in page.filter_label.text()
    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    assert page.trials_proxy.rowCount() == TRIALS and not plot.brushes()


def test_a_categorical_axis_brush_keeps_its_categories(qtbot, finished_project):
    page = open_page(qtbot, finished_project)
    page.all_axes.setChecked(True)  # every searched hyperparameter gets an axis, not only the 8 first
    page.refresh()
    plot = page.parallel
    assert [a.name for a in plot.axes[:-1]] and len(plot.axes) == len(searched_in(finished_project)) + 1
    index = next(i for i, a in enumerate(plot.axes) if a.name == "training.optimizer")
    axis = plot.axes[index]
    first = axis.categories[0]
    plot.brush_axis(index, 0.0, 0.5 / len(axis.categories) + 0.01)
    expected = [t for t in page.store.trial_ids()
                if page.trials_model.active_hyperparameters(t).get("training.optimizer") == first]
    assert page.trials_proxy.rowCount() == len(expected)


def searched_in(project: Path) -> list[str]:
    """The searched hyperparameters of a project, as the engine reads them."""
    space = SearchSpace.from_dict(read_search_document(project).space)
    return searched_hyperparameters(space, [t.hyperparameters for t in read_trials(project).values()])


def test_the_importance_chart_has_one_bar_per_searched_hyperparameter(qtbot, finished_project):
    page = open_page(qtbot, finished_project)
    space = SearchSpace.from_dict(read_search_document(finished_project).space)
    trials = read_trials(finished_project)
    searched = searched_in(finished_project)
    page.tabs.setCurrentIndex(1)
    chart = page.importance_chart
    assert chart.bar_count() == len(searched) and set(chart.names()) == set(searched)
    assert chart.values() == sorted(chart.values(), reverse=True)
    # The scatter follows the bar picked; its y axis names the objective and its direction.
    name = chart.names()[0]
    chart.hyperparameterClicked.emit(name)
    assert page.scatter_choice.currentText() == name
    assert page.scatter.plot.getPlotItem().getAxis("left").labelText == "val_loss (lower is better)"
    assert page.scatter.point_count() == sum(name in active_hyperparameters(t.hyperparameters, space)
                                             for t in trials.values())


def test_comparing_two_trials_shows_only_their_active_hyperparameters(qtbot, finished_project):
    page = open_page(qtbot, finished_project)
    trials = page.store.trial_ids()
    repeats = {t: page.trials_model.active_hyperparameters(t)["block.repeats"] for t in trials}
    few, many = min(trials, key=repeats.get), max(trials, key=repeats.get)
    assert repeats[few] < repeats[many]
    page.select_trials([few, many])
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    assert page.tabs.currentIndex() == 2
    model = page.comparison
    active_few = page.trials_model.active_hyperparameters(few)
    active_many = page.trials_model.active_hyperparameters(many)
    assert set(model.hyperparameter_names()) == set(active_few) | set(active_many)
    recorded = page.store.trial(few).hyperparameters
    assert not any(name in model.hyperparameter_names() for name in recorded
                   if name not in active_few and name not in active_many)
    names = model.row_names()
    column = model.trial_ids().index(few)
    row = names.index("block.repeats")
    assert model.index(row, 0).data(DIFFERS_ROLE) is True
    assert model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    deeper = f"dense.units.{repeats[many] - 1}"  # a layer only the deeper network had
    assert deeper in active_many
    assert model.index(names.index(deeper), column).data() == NOT_USED
    assert set(model.differing()) >= {"block.repeats", deeper}
    same = [n for n in model.hyperparameter_names() if n not in model.differing()]
    for name in same:
        assert model.index(names.index(name), 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert page.curves.curve_count() == 4  # loss and val_loss of each
    assert "val_loss" in page.compare_summary.text() and "(lower is better)" in page.compare_summary.text()


def test_comparing_two_trials_shows_their_networks_layer_by_layer(qtbot, finished_project):
    page = open_page(qtbot, finished_project)
    trials = page.store.trial_ids()
    repeats = {t: page.trials_model.active_hyperparameters(t)["block.repeats"] for t in trials}
    few, many = min(trials, key=repeats.get), max(trials, key=repeats.get)
    page.select_trials([few, many])
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    page.compare_views.setCurrentIndex(1)
    assert page.compare_views.currentWidget() is page.network_table and page.network_table.isVisible()
    networks = page.networks
    assert networks.trial_ids() == page.comparison.trial_ids()
    names = networks.layer_names()
    deepest = f"dense#{repeats[many] - 1}"  # a layer only the deeper network has
    few_column, many_column = networks.trial_ids().index(few), networks.trial_ids().index(many)
    assert names[0] == "numeric" and names[-1] == "head" and deepest in names
    row = names.index(deepest)
    assert networks.index(row, few_column).data() == NOT_USED
    assert networks.index(row, many_column).data(DIFFERS_ROLE) is True
    # The first Dense of the deeper network reads the 4 iris columns (each over its quantile bins,
    # where the trial searched them): units × inputs weights + units biases.
    units = page.store.trial(many).hyperparameters["dense.units.0"]
    inputs = 4 * (page.store.trial(many).hyperparameters.get("numeric.bins") or 1)
    first = networks.index(names.index("dense#0"), many_column).data()
    assert first.startswith(f"Dense: units {units}") and f"({units},) · {(inputs + 1) * units:,} params" in first
    assert networks.index(names.index("head"), many_column).data().split("\n")[1].startswith("(3,)")
    total = networks.index(networks.rowCount() - 1, many_column).data()
    assert networks.headerData(networks.rowCount() - 1, Qt.Orientation.Vertical) == "Total parameters"
    assert int(total.replace(",", "")) > (inputs + 1) * units


def overfitting_events(tid: str, max_epochs: int = 30) -> list:
    events: list = [TrialStarted(trial_id=tid, hyperparameters={"units": 32}, max_epochs=max_epochs)]
    for epoch in range(1, 11):
        val = 1.0 - 0.1 * epoch if epoch <= 5 else 0.5 + 0.08 * (epoch - 5)
        events.append(EpochEnded(trial_id=tid, epoch=epoch, metrics={"loss": 1.0 / epoch, "val_loss": val}))
    events.append(TrialEnded(trial_id=tid, status="completed", score=0.5, duration_s=3.0))
    return events


def test_badges_for_an_overfitting_history(qtbot):
    store = TrialStore()
    page = ComparePage(store)
    qtbot.addWidget(page)
    page.show()
    store.reset("val_loss")
    for event in overfitting_events("0") + overfitting_events("1", max_epochs=10):
        store.apply(event)
    model = page.trials_model
    assert model.index(0, DIAGNOSIS_COLUMN).data() == "over-fitting · stopped early at epoch 10"
    assert model.index(1, DIAGNOSIS_COLUMN).data() == "over-fitting"  # it ran all its epochs
    assert "val_loss rose from 0.5 to 0.9" in model.index(0, DIAGNOSIS_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    page.select_trials(["0", "1"])
    names = page.comparison.row_names()
    assert page.comparison.index(names.index("Diagnosis"), 0).data() == "over-fitting · stopped early at epoch 10"
    assert page.comparison.index(names.index("Best epoch"), 0).data() == "5"
    assert "over-fitting" in page.compare_summary.text()


def test_the_plots_wait_until_the_page_is_shown(qtbot):
    page = ComparePage(TrialStore())
    qtbot.addWidget(page)
    assert not page.plots_built  # the window starts without importing pyqtgraph for this page
    page.show()
    assert page.plots_built and page.parallel_empty.isVisible()  # no trial yet: it says so


def test_the_window_has_a_compare_step(qtbot, window):
    row = next(r for r in range(window.nav.count()) if window.nav.item(r).text().strip() == "Compare")
    window.nav.setCurrentRow(row)
    assert window.pages.currentWidget() is window.compare_page
    qtbot.mouseClick(window.compare_page.tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=window.compare_page.tabs.tabBar().tabRect(1).center())
    assert window.compare_page.tabs.currentIndex() == 1
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QComboBox

    def composite_part(widget) -> bool:  # Qt's own parts (a combo's popup, a table's corner)
        parent = widget.parentWidget()
        while parent is not None:
            if isinstance(parent, (QComboBox, QAbstractItemView)) or type(parent).__module__.startswith("pyqtgraph"):
                return True
            parent = parent.parentWidget()
        return False

    unnamed = [w for w in window.compare_page.findChildren(QWidget)
               if isinstance(w, (QAbstractButton, QComboBox, QAbstractItemView)) and not composite_part(w)
               and not (w.objectName() and w.accessibleName())]
    assert not unnamed, unnamed
