"""The Compare page: what the trials already run say, with nothing trained again.

* **Parallel coordinates** of every completed trial (one axis per hyperparameter, the most
  important first, and one for the score); dragging along an axis filters the trials table below
  (through :class:`~automl_studio.gui.models.trials_model.TrialsProxyModel`'s ranges).
* **Importance**: one bar per searched hyperparameter
  (:func:`~automl_studio.engine.search.analysis.hyperparameter_importance`, computed off the GUI
  thread by a :class:`~automl_studio.gui.workers.tasks.TaskRunner`), and the score against the
  hyperparameter picked in the chart or the combo box.
* **Compare trials**: the trials selected in the table side by side — their active
  hyperparameters (differences highlighted), scores, diagnoses, learning curves overlaid, and
  their networks layer by layer with output shapes and parameter counts
  (:func:`~automl_studio.engine.search.analysis.trial_network`, the editor's shape rules; no
  Keras model is built).

The page shows the window's :class:`~automl_studio.gui.models.trial_store.TrialStore`; its plots
(and pyqtgraph) are built when it is first shown, so the window starts as fast without it. The
search space (to tell active hyperparameters from recorded ones) comes from the project's
``search_config.json`` (:meth:`ComparePage.set_project_dir`); the data's shapes (for the
networks' shapes and parameter counts) from the best model's metadata when the search exported
one, else from that file's data identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.events import Event, SearchStarted
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.search.analysis import (
    Importance,
    hyperparameter_importance,
    searched_hyperparameters,
    signature_of,
    trial_network,
)
from automl_studio.engine.space.registry import format_shape
from automl_studio.engine.space.spec import FloatRange, SearchSpace, hyperparameter_items
from automl_studio.gui.models.comparison_model import (
    ComparedNetwork,
    ComparedTrial,
    ComparisonModel,
    NetworkComparisonModel,
)
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.models.trials_model import (
    FIXED_COLUMNS,
    SCORE_COLUMN,
    SE_COLUMN,
    ColumnRange,
    TrialsModel,
    TrialsProxyModel,
    format_value,
)
from automl_studio.gui.plots.plot_data import (
    TRIAL_COLOURS,
    Axis,
    Brush,
    Line,
    ScorePoint,
    TrialCurve,
    make_axis,
    shades,
)
from automl_studio.gui.widgets import empty_state, name_widget, page_header
from automl_studio.gui.workers.tasks import TaskRunner

if TYPE_CHECKING:
    from automl_studio.gui.plots.parallel_coordinates import ParallelCoordinates
    from automl_studio.gui.plots.trial_plots import CurvesOverlay, ImportanceChart, ScoreScatter

SCORE_AXIS = "score"  # the parallel plot's score axis (no hyperparameter is called that: they have dots)
MAX_AXES = 8  # hyperparameter axes shown unless "All" is ticked; more do not fit 1024 px
REFRESH_MS = 250  # trials change in bursts (an opened project, a trial's end): redraw once after


def compute_importance(progress: Callable[[float], None], cancel: Any,
                       trials: Sequence[tuple[Mapping[str, Any], float | None]],
                       names: Sequence[str]) -> Importance:
    """The :class:`TaskRunner` job: importance of ``names`` from ``(active values, score)`` pairs."""
    result = hyperparameter_importance(trials, names, cancel=cancel.is_set)
    progress(1.0)
    return result


SELECT_TWO = "Select two or more trials in the table below (Ctrl+click or Shift+click) to compare them here."


class ComparePage(QWidget):
    """Parallel coordinates, importance and side-by-side trials of one search.

    Signals:
        trialSelected(trial_id): the user picked one trial in this page's table.
    """

    trialSelected = Signal(str)
    # Built by ensure_plots (the first time the page is shown).
    parallel: ParallelCoordinates
    importance_chart: ImportanceChart
    scatter: ScoreScatter
    curves: CurvesOverlay

    def __init__(self, store: TrialStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "comparePage", "Compare page")
        self.store = store
        self.trials_model = TrialsModel(store, self)
        self.trials_proxy = TrialsProxyModel(self)
        self.trials_proxy.setSourceModel(self.trials_model)
        self.comparison = ComparisonModel(self)
        self.networks = NetworkComparisonModel(self)
        self._space: SearchSpace | None = None
        self._signature: DataSignature | None = None
        self.importance: Importance | None = None
        self._importance_key: Any = None
        self._axis_names: list[str] = []
        self._searched: list[str] = []
        self._max_epochs: int | None = None
        self._project_dir: str | None = None
        self._brushes: dict[str, Brush] = {}
        self.plots_built = False
        self._fitted_to_rows = False
        self.task = TaskRunner(self)
        self.task.finished.connect(self._on_importance)
        self.task.failed.connect(self._on_importance_failed)
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        for signal in (store.searchReset, store.trialChanged, store.objectiveChanged):
            signal.connect(self._schedule_refresh)
        self.refresh()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(8)
        layout.addWidget(page_header(
            "Compare", "What the finished trials say: which hyperparameters mattered, how trials differ and "
            "how they learned. Read from the trials; nothing is trained again."))
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.tabs = name_widget(QTabWidget(), "compareTabs", "Compare views")
        self.tabs.addTab(self._build_parallel(), "Parallel coordinates")
        self.tabs.addTab(self._build_importance(), "Importance")
        self.tabs.addTab(self._build_comparison(), "Compare trials")
        splitter.addWidget(self.tabs)
        splitter.addWidget(self._build_table())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([400, 200])
        layout.addWidget(splitter, 1)

    def _hint(self, text: str, name: str) -> QLabel:
        label = name_widget(QLabel(text), name, text)
        label.setProperty("role", "hint")
        label.setWordWrap(True)
        return label

    def _build_parallel(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.parallel_hint = self._hint("", "parallelHint")
        row.addWidget(self.parallel_hint, 1)
        self.all_axes = name_widget(QCheckBox("All hyperparameters"), "allAxes", "Show every hyperparameter",
                                    f"Show every searched hyperparameter, not only the {MAX_AXES} most important")
        self.all_axes.toggled.connect(self._schedule_refresh)
        row.addWidget(self.all_axes)
        layout.addLayout(row)
        self.parallel_stack = QStackedWidget()
        self.parallel_host = _host()
        self.parallel_stack.addWidget(self.parallel_host)
        self.parallel_empty = empty_state("The trials appear here once one has completed.", "parallelEmpty")
        self.parallel_stack.addWidget(self.parallel_empty)
        layout.addWidget(self.parallel_stack, 1)
        return box

    def _build_importance(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 6, 6, 6)
        self.importance_hint = self._hint("", "importanceHint")
        layout.addWidget(self.importance_hint)
        row = QHBoxLayout()
        self.importance_host = _host()
        row.addWidget(self.importance_host, 1)
        right = QVBoxLayout()
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Score against"))
        self.scatter_choice = name_widget(QComboBox(), "scatterHyperparameter", "Hyperparameter of the scatter",
                                          "The hyperparameter whose values the scatter puts on x")
        self.scatter_choice.currentTextChanged.connect(self._on_scatter_choice)
        self.scatter_choice.activated.connect(self._on_scatter_picked)
        self._scatter_picked = False  # the user chose; a new importance no longer moves the scatter
        pick.addWidget(self.scatter_choice, 1)
        right.addLayout(pick)
        self.scatter_host = _host()
        right.addWidget(self.scatter_host, 1)
        row.addLayout(right, 1)
        layout.addLayout(row, 1)
        return box

    def _build_comparison(self) -> QWidget:
        self.compare_stack = QStackedWidget()
        self.compare_empty = empty_state(SELECT_TWO, "compareEmpty")
        self.compare_stack.addWidget(self.compare_empty)
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(6, 6, 6, 6)
        left = QVBoxLayout()
        self.compare_summary = self._hint("", "compareSummary")
        self.compare_summary.setTextFormat(Qt.TextFormat.RichText)
        left.addWidget(self.compare_summary)
        self.compare_table = name_widget(QTableView(), "comparisonTable", "Compared trials")
        self.compare_table.setModel(self.comparison)
        self.compare_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.compare_table.verticalHeader().setDefaultSectionSize(21)
        self.compare_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.network_table = name_widget(QTableView(), "networkComparisonTable", "Compared networks")
        self.network_table.setModel(self.networks)
        self.network_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.network_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.network_table.setWordWrap(True)
        self.network_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.compare_views = name_widget(QTabWidget(), "compareViews", "Compared trials' hyperparameters or networks")
        self.compare_views.addTab(self.compare_table, "Hyperparameters")
        self.compare_views.addTab(self.network_table, "Networks")
        left.addWidget(self.compare_views, 1)
        layout.addLayout(left, 1)
        self.curves_host = _host()
        layout.addWidget(self.curves_host, 1)
        self.compare_stack.addWidget(box)
        return self.compare_stack

    def _build_table(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.filter_label = name_widget(QLabel(), "compareFilterText", "Trials shown")
        row.addWidget(self.filter_label, 1)
        self.clear_button = name_widget(QPushButton("Clear filters"), "clearBrushes", "Clear filters",
                                        "Show every trial again (clears the ranges dragged on the axes)")
        self.clear_button.clicked.connect(self.clear_brushes)
        row.addWidget(self.clear_button)
        self.compare_button = name_widget(QPushButton("Compare selected"), "compareSelected",
                                          "Compare selected trials",
                                          "Show the selected trials side by side (select two or more)")
        self.compare_button.setProperty("role", "primary")
        self.compare_button.clicked.connect(lambda: self.tabs.setCurrentIndex(2))
        row.addWidget(self.compare_button)
        layout.addLayout(row)
        self.table = name_widget(QTableView(), "compareTrialsTable", "Trials to compare")
        self.table.setModel(self.trials_proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(SCORE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.horizontalHeader().moveSection(SE_COLUMN, SCORE_COLUMN + 1)  # "± SE" beside the score
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(86)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.trials_proxy.rowsInserted.connect(self._update_filter_text)
        self.trials_proxy.rowsRemoved.connect(self._update_filter_text)
        self.trials_proxy.modelReset.connect(self._update_filter_text)
        layout.addWidget(self.table, 1)
        return box

    def ensure_plots(self) -> None:
        """Builds the plots (importing pyqtgraph) if they are not built yet, and draws them."""
        if self.plots_built:
            return
        from automl_studio.gui.plots.parallel_coordinates import ParallelCoordinates
        from automl_studio.gui.plots.trial_plots import CurvesOverlay, ImportanceChart, ScoreScatter

        self.parallel = ParallelCoordinates()
        self.parallel.brushesChanged.connect(self._on_brushes)
        self.importance_chart = ImportanceChart()
        self.importance_chart.hyperparameterClicked.connect(self._on_bar_clicked)
        self.scatter = ScoreScatter()
        self.curves = CurvesOverlay()
        for host, plot in ((self.parallel_host, self.parallel), (self.importance_host, self.importance_chart),
                           (self.scatter_host, self.scatter), (self.curves_host, self.curves)):
            layout = host.layout()
            assert layout is not None  # _host gave it one
            layout.addWidget(plot)
        self.plots_built = True
        self._importance_key = None
        self.refresh()

    def showEvent(self, event: Any) -> None:
        self.ensure_plots()
        super().showEvent(event)

    # ----------------------------------------------------------------- the search
    def set_project_dir(self, project_dir: str | None) -> None:
        """Reads the search space (and epoch limit) of the search in ``project_dir``; without one
        (no such folder yet, a damaged file) every recorded hyperparameter counts as used."""
        from automl_studio.engine.core.errors import UserError
        from automl_studio.engine.search.project import read_search_document

        self._project_dir = project_dir
        space: SearchSpace | None = None
        max_epochs: int | None = None
        signature: DataSignature | None = None
        if project_dir:
            try:
                document = read_search_document(project_dir)
                if document is not None and document.space is not None:
                    space = SearchSpace.from_dict(document.space)
                    max_epochs = document.config.max_epochs
                    signature = signature_of(document.data)
            except (UserError, OSError, ValueError):
                space = None
            signature = _exported_signature(project_dir) or signature
        self._signature = signature
        self.set_space(space, max_epochs)

    def set_space(self, space: SearchSpace | None, max_epochs: int | None = None) -> None:
        """The search space the trials were drawn from (None: unknown) and the search's epoch limit."""
        self._max_epochs = max_epochs
        self._space = space
        self.trials_model.set_space(space, max_epochs)
        self._importance_key = None
        self._schedule_refresh()

    @Slot(object)
    def follow_event(self, event: Event) -> None:
        """Takes a new search's space from its project folder when it starts."""
        if isinstance(event, SearchStarted):
            self.set_project_dir(event.project_dir)

    # ----------------------------------------------------------------- refreshing
    @Slot()
    def _schedule_refresh(self, *_args: Any) -> None:
        self._refresh_timer.start()

    def _completed(self) -> list[str]:
        return [tid for tid in self.store.trial_ids()
                if (t := self.store.trial(tid)) is not None and t.status == "completed" and t.score is not None]

    @Slot()
    def refresh(self) -> None:
        """Redraws every view from the store (and asks for the importance when the trials changed)."""
        self._refresh_timer.stop()
        self._update_filter_text()
        self._fit_table()
        if not self.plots_built:
            return
        done = self._completed()
        space = self.trials_model.space
        self._searched = searched_hyperparameters(
            space, [self.store.trial(t).hyperparameters for t in done])  # type: ignore[union-attr]
        self._update_importance(done)
        self._draw_parallel(done)
        self._fill_scatter_choice()
        self._draw_scatter()
        self._update_comparison()

    def _ordered_names(self) -> list[str]:
        if self.importance is not None and set(self.importance.values) == set(self._searched) \
                and any(self.importance.values.values()):
            return [n for n in self.importance.values]
        return list(self._searched)

    def _axis_for(self, name: str, values: Sequence[Any]) -> Axis:
        domains = dict(hyperparameter_items(self.trials_model.space)) if self.trials_model.space else {}
        domain = domains.get(name)
        log = isinstance(domain, FloatRange) and domain.log
        choices = getattr(domain, "values", None) if not callable(getattr(domain, "values", None)) else None
        return make_axis(name, name, values, log=log, categories=tuple(choices) if choices else None)

    def _draw_parallel(self, done: list[str]) -> None:
        objective = self.store.objective
        if not done:
            self.parallel_stack.setCurrentWidget(self.parallel_empty)
            self.parallel_hint.setText("")
            self.parallel.set_data([], [])
            return
        self.parallel_stack.setCurrentWidget(self.parallel_host)
        names = self._ordered_names()
        shown = names if self.all_axes.isChecked() else names[:MAX_AXES]
        self._axis_names = shown
        self.all_axes.setVisible(len(names) > MAX_AXES)
        active = {tid: self.trials_model.active_hyperparameters(tid) for tid in done}
        axes = [self._axis_for(n, [active[t].get(n) for t in done]) for n in shown]
        scores = {tid: self.store.trial(tid).score for tid in done}  # type: ignore[union-attr]
        axes.append(make_axis(SCORE_AXIS, objective.describe(), list(scores.values())))
        shade = shades(scores, objective.maximize)
        lines = [Line(tid, tuple(active[tid].get(n) for n in shown) + (scores[tid],), shade[tid]) for tid in done]
        self.parallel.set_data(axes, lines)
        better = "highest" if objective.maximize else "lowest"
        order = "most important first" if names != self._searched else "in the space's order"
        count = (f"the {len(shown)} most important of {len(names)} hyperparameters" if len(shown) < len(names)
                 else f"{len(names)} hyperparameters, {order}")
        self.parallel_hint.setText(
            (f"{len(done)} completed trials across {count}. Blue lines have the best score ({better} "
             f"{objective.name}), orange the worst. " if len(done) > 1 else
             f"1 completed trial across {count}; with more, blue lines have the best score ({better} "
             f"{objective.name}) and orange the worst. ")
            + "Drag along an axis to keep only the trials in that range; click the axis to clear it.")
        self.parallel.highlight(self.selected_trials())

    # ----------------------------------------------------------------- importance
    def _update_importance(self, done: list[str]) -> None:
        trials = [(self.trials_model.active_hyperparameters(tid), self.store.trial(tid).score)  # type: ignore[union-attr]
                  for tid in done]
        key = (tuple(done), tuple(s for _, s in trials), tuple(self._searched))
        if key == self._importance_key:
            return
        self._importance_key = key
        if len(done) < 3:
            self.importance = None
            self.importance_chart.set_importance({n: 0.0 for n in self._searched},
                                                 f"needs at least 3 completed trials ({len(done)} so far)")
            self.importance_hint.setText("")
            return
        self.importance_hint.setText(f"Computing the importance from {len(done)} trials…")
        self.task.start(compute_importance, trials=trials, names=list(self._searched))

    @Slot(object)
    def _on_importance(self, result: Importance) -> None:
        self.importance = result
        self.importance_chart.set_importance(result.values, result.note)
        fit = f", which explains {result.fit_r2:.0%} of the score's variation" if result.fit_r2 is not None else ""
        self.importance_hint.setText(
            f"How much each hyperparameter explains {self.store.objective.describe()} over {result.trials} "
            "completed trials. Click a bar to see the score against it.")
        self.importance_hint.setToolTip(
            f"A random forest is fitted from the trials' hyperparameters to their scores{fit}; a bar is the "
            "drop in its fit when that hyperparameter's values are shuffled (scikit-learn's permutation "
            "importance). Values a trial did not use count as missing.")
        self._draw_parallel(self._completed())
        self._fill_scatter_choice()
        if not self._scatter_picked and result.values and any(result.values.values()):
            self.show_scatter_for(next(iter(result.values)))

    @Slot(str, str)
    def _on_importance_failed(self, kind: str, message: str) -> None:
        if kind != "cancelled":
            self.importance_hint.setText(f"The importance could not be computed: {message}")

    # ----------------------------------------------------------------- scatter
    def _fill_scatter_choice(self) -> None:
        names = self._ordered_names()
        if [self.scatter_choice.itemText(i) for i in range(self.scatter_choice.count())] == names:
            return
        current = self.scatter_choice.currentText()
        self.scatter_choice.blockSignals(True)
        self.scatter_choice.clear()
        self.scatter_choice.addItems(names)
        self.scatter_choice.setCurrentIndex(max(names.index(current) if current in names else 0, 0))
        self.scatter_choice.blockSignals(False)
        self._on_scatter_choice(self.scatter_choice.currentText())

    @Slot(int)
    def _on_scatter_picked(self, _index: int) -> None:
        self._scatter_picked = True

    @Slot(str)
    def _on_bar_clicked(self, name: str) -> None:
        self._scatter_picked = True
        self.show_scatter_for(name)

    @Slot(str)
    def show_scatter_for(self, name: str) -> None:
        """Plots the score against hyperparameter ``name`` (and marks its bar)."""
        index = self.scatter_choice.findText(name)
        if index >= 0:
            self.scatter_choice.setCurrentIndex(index)
        self._on_scatter_choice(name)

    @Slot(str)
    def _on_scatter_choice(self, name: str) -> None:
        self.importance_chart.select(name or None)
        self._draw_scatter()

    def _draw_scatter(self) -> None:
        name = self.scatter_choice.currentText()
        done = self._completed()
        if not name or not done:
            self.scatter.stack.say("Pick a hyperparameter to see how the score follows it.")
            return
        active = {tid: self.trials_model.active_hyperparameters(tid) for tid in done}
        axis = self._axis_for(name, [active[t].get(name) for t in done])
        points = [ScorePoint(tid, active[tid].get(name), float(self.store.trial(tid).score))  # type: ignore[union-attr, arg-type]
                  for tid in done]
        self.scatter.set_points(axis, points, self.store.objective.describe())

    # ----------------------------------------------------------------- brushing
    @Slot()
    def clear_brushes(self) -> None:
        """Shows every trial again."""
        if self.plots_built:
            self.parallel.clear_brush(None)

    @Slot(object)
    def _on_brushes(self, brushes: Mapping[str, Brush]) -> None:
        self._brushes = dict(brushes)
        ranges: dict[int, ColumnRange] = {}
        for name, brush in brushes.items():
            try:
                column = SCORE_COLUMN if name == SCORE_AXIS else self.trials_model.column_of(name)
            except ValueError:
                continue
            ranges[column] = ColumnRange(brush.low, brush.high, brush.categories)
        self.trials_proxy.set_ranges(ranges)
        self._update_filter_text()

    def _update_filter_text(self, *_args: Any) -> None:
        shown, total = self.trials_proxy.rowCount(), self.trials_model.rowCount()
        brushed = [("score" if n == SCORE_AXIS else n) for n in self._brushes]
        if brushed:
            text = f"{shown} of {total} trials in the ranges dragged on {', '.join(brushed)}"
        else:
            # With one trial there is nothing to select two of: say what comparing needs.
            text = (f"{total} trials. Select two or more to compare them." if total >= 2 else
                    f"{total} trial{'' if total == 1 else 's'}: comparing needs two or more completed trials.")
        self.filter_label.setText(text)
        self.clear_button.setEnabled(bool(brushed))

    def _fit_table(self) -> None:
        for column in range(len(FIXED_COLUMNS)):
            if column in (5, 6):  # reason and worker: rarely needed here
                self.table.setColumnHidden(column, True)
        # The standard errors only where trials were scored on folds (small tables).
        self.table.setColumnHidden(SE_COLUMN, not self.trials_model.cross_validated())
        if not self.trials_model.rowCount():
            # No rows: the columns fit their names (at the default width the score's read
            # "s (lower is"); the first rows fit them once more, to their values.
            self.table.resizeColumnsToContents()
            self._fitted_to_rows = False
        elif not self._fitted_to_rows:  # once: a column the user resized stays as it is
            self.table.resizeColumnsToContents()
            self._fitted_to_rows = True

    # ----------------------------------------------------------------- comparison
    def selected_trials(self) -> list[str]:
        """The trials selected in this page's table, in the table's order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.trials_model.trial_id_at(self.trials_proxy.mapToSource(self.trials_proxy.index(r, 0)).row())
                for r in rows]

    def select_trials(self, trial_ids: Sequence[str]) -> None:
        """Selects these trials in the table (as Ctrl+clicks would)."""
        from PySide6.QtCore import QItemSelectionModel

        model = self.table.selectionModel()
        model.clearSelection()
        ids = self.trials_model.trial_ids()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for tid in trial_ids:
            if tid in ids:
                proxy = self.trials_proxy.mapFromSource(self.trials_model.index(ids.index(tid), 0))
                if proxy.isValid():
                    model.select(proxy, flags)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, *_args: Any) -> None:
        chosen = self.selected_trials()
        if self.plots_built:
            self.parallel.highlight(chosen)
        self.compare_button.setEnabled(len(chosen) >= 2)
        self.compare_button.setText(f"Compare {len(chosen)} selected" if len(chosen) >= 2 else "Compare selected")
        if len(chosen) == 1:
            self.trialSelected.emit(chosen[0])
        self._update_comparison()

    def _update_comparison(self) -> None:
        if not self.plots_built:
            return
        chosen = self.selected_trials()
        self.compare_button.setEnabled(len(chosen) >= 2)
        if len(chosen) < 2:
            self.comparison.set_trials([])
            self.networks.set_networks([])
            self.curves.set_curves([])
            completed = self.trials_model.rowCount()
            self.compare_empty.setText(
                SELECT_TWO if completed >= 2 else
                f"{'One trial' if completed == 1 else 'No trials'} so far: comparing needs two or more "
                "completed trials.")
            self.compare_stack.setCurrentWidget(self.compare_empty)
            return
        objective = self.store.objective
        compared, curves, summary = [], [], []
        for index, tid in enumerate(chosen):
            trial = self.store.trial(tid)
            if trial is None:
                continue
            diagnosis = self.trials_model.diagnosis(tid)
            badges = " · ".join(diagnosis.badges) if diagnosis is not None else ""
            score = objective.describe(trial.score) if trial.score is not None else f"no score ({trial.status})"
            facts = {objective.describe(): format_value(trial.score) if trial.score is not None else "—",
                     "Status": trial.status, "Epochs": str(trial.epochs_run),
                     "Best epoch": str(diagnosis.best_epoch) if diagnosis and diagnosis.best_epoch else "—",
                     "Diagnosis": badges}
            compared.append(ComparedTrial(tid, facts, self.trials_model.active_hyperparameters(tid)))
            curves.append(TrialCurve(tid, f"Trial {tid}", trial.metrics,
                                     diagnosis.best_epoch if diagnosis is not None else None))
            colour = TRIAL_COLOURS[index % len(TRIAL_COLOURS)]
            summary.append(f'<span style="color:{colour}">■</span> <b>Trial {tid}</b>: {score}'
                           + (f' · <span style="color:#b7791f">{badges}</span>' if badges else ""))
        self.comparison.set_trials(compared)
        self.networks.set_networks([self._network(tid) for tid in self.comparison.trial_ids()])
        self.curves.set_curves(curves)
        differing = len(self.comparison.differing())
        summary.append(f"{differing} of {len(self.comparison.hyperparameter_names())} hyperparameters differ "
                       "(highlighted); only those the networks used are listed.")
        self.compare_summary.setText("<br>".join(summary))
        self.compare_stack.setCurrentIndex(1)

    def _network(self, tid: str) -> ComparedNetwork:
        """Trial ``tid``'s layers as the comparison shows them (none without a search space)."""
        trial = self.store.trial(tid)
        if self._space is None or trial is None:
            return ComparedNetwork(tid, [])
        try:
            layers = trial_network(trial.hyperparameters, self._space, self._signature)
        except (ValueError, KeyError, TypeError):  # a space that does not fit this trial's values
            return ComparedNetwork(tid, [])
        return ComparedNetwork(tid, [(layer.name, layer.kind, layer.settings,
                                      format_shape(layer.shape) if layer.shape is not None else "", layer.params)
                                     for layer in layers])

    def shutdown(self) -> None:
        """Stops the importance task (before the window goes)."""
        self._refresh_timer.stop()
        self.task.shutdown()


def _host() -> QWidget:
    """An empty box a plot moves into once the plots are built."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    return box


def _exported_signature(project_dir: str) -> DataSignature | None:
    """The data's shapes as the search's exported best model records them (None without one)."""
    path = Path(project_dir) / "best" / "best.h5"
    if not path.is_file():  # a new search (on Start): no import while the window repaints
        return None
    from automl_studio.engine.core.errors import UserError
    from automl_studio.engine.export.model_info import read_metadata

    try:
        data = read_metadata(path).get("signature")
        return DataSignature.from_dict(data) if data else None
    except (UserError, OSError, ValueError, KeyError, TypeError):  # a damaged file: the identity's shapes
        return None
