"""The Results page's tabs beyond its summary: per-class scores, ROC/PR curves (or residuals),
permutation feature importance, the network's layers, the refit's curves and, for a forecast, the
forecast against the actual values over the test period.

Everything shown comes from the engine's ``best/evaluation.json``
(:class:`~automl_studio.engine.train.evaluation.Evaluation`), computed when the search ran its
test evaluation, so a reopened project shows the same without Keras or retraining. Tables are
Qt models behind sortable views; plots are in ``gui.plots.evaluation_plots``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Slot,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.train.ensemble import ENSEMBLE_MEMBER_PREFIX
from automl_studio.engine.train.evaluation import ClassScores, Evaluation, Importance, LayerRow
from automl_studio.engine.train.forest_record import FOREST_MODEL_NAME
from automl_studio.gui.plots.evaluation_plots import (
    ClassCurvesView,
    ClassScoresPlot,
    ForecastView,
    ImportancePlot,
    RefitCurvesView,
    RegressionView,
    test_metric,
)
from automl_studio.gui.widgets import empty_state, name_widget

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole  # the number a column sorts by



class _RowsModel(QAbstractTableModel):
    """A read-only table of rows given as whole (its subclasses say what a cell shows)."""

    headers: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Shows these rows instead."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.tips):
            return self.tips[section]
        return None

    def cell(self, row: Any, column: int) -> tuple[str, Any]:
        """(text, sort value) of one cell."""
        raise NotImplementedError

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        text, value = self.cell(self._rows[index.row()], index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return self.extra(self._rows[index.row()], index.column(), role)

    def extra(self, row: Any, column: int, role: int) -> Any:
        """Other roles of a cell (colour, tooltip); none by default."""
        return None


class ClassReportModel(_RowsModel):
    """scikit-learn's classification report: one row per class, scores shaded by their value."""

    headers = ("Class", "Precision", "Recall", "F1", "Support")
    tips = ("", "Of the test rows predicted as this class, the share that are",
            "Of the test rows of this class, the share predicted as it",
            "The harmonic mean of precision and recall", "Test rows of this class")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.colour = QColor("#2b6cd4")

    def cell(self, row: ClassScores, column: int) -> tuple[str, Any]:
        values = (row.name, row.precision, row.recall, row.f1, row.support)
        value = values[column]
        if isinstance(value, float):
            return f"{value:.3f}", value
        return str(value), value

    def extra(self, row: ClassScores, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and 1 <= column <= 3:
            colour = QColor(self.colour)
            colour.setAlphaF(0.06 + 0.5 * float((row.precision, row.recall, row.f1)[column - 1]))
            return QBrush(colour)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return (f"{row.name}: {row.support} test rows; precision {row.precision:.3f}, "
                    f"recall {row.recall:.3f}, F1 {row.f1:.3f}")
        return None


class ImportanceModel(_RowsModel):
    """Permutation importance per input column: mean and standard deviation of the score drops."""

    headers = ("Column", "Importance", "± sd", "Rank")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._ranks: dict[str, int] = {}

    def set_importance(self, importance: Importance) -> None:
        """Shows every column of ``importance``, in the data's order, with its rank."""
        ranked = sorted(importance.columns, key=lambda c: -c.mean)
        self._ranks = {c.column: i + 1 for i, c in enumerate(ranked)}
        self.set_rows(importance.columns)

    def cell(self, row: Any, column: int) -> tuple[str, Any]:
        if column == 0:
            return str(row.column), str(row.column)
        if column == 1:
            return f"{row.mean:.4g}", float(row.mean)
        if column == 2:
            return f"{row.std:.2g}", float(row.std)
        rank = self._ranks.get(row.column, 0)
        return str(rank), rank

    def extra(self, row: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            drops = ", ".join(f"{d:.3g}" for d in row.drops)
            return f"{row.column}: the score's drop after each shuffle: {drops}"
        return None


class LayerModel(_RowsModel):
    """The network's layers: name, Keras type, output shape and parameters."""

    headers = ("Layer", "Type", "Output shape", "Parameters", "Trainable")
    tips = ("", "The Keras layer class", "None is the batch dimension", "Weights of the layer",
            "Weights training changes")

    def cell(self, row: LayerRow, column: int) -> tuple[str, Any]:
        values: tuple[Any, ...] = (row.name, row.type, row.output_shape, row.params, row.trainable_params)
        value = values[column]
        return (f"{value:,}" if isinstance(value, int) else str(value)), value


def _table(model: QAbstractTableModel, name: str, accessible: str, stretch: bool = True) -> QTableView:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = name_widget(QTableView(), name, accessible)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the model's own order until a click
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    if stretch:  # a few columns share the width
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    else:  # the first (a name) takes what the numbers leave
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return view


def _caption(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setProperty("role", "hint")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class _Tab(QWidget):
    """A tab: a caption over its content, or a message where there is nothing to show."""

    def __init__(self, name: str, content: QWidget, empty: str) -> None:
        super().__init__()
        self.setObjectName(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.caption = _caption(f"{name}Caption")
        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.empty = empty_state(empty, f"{name}Empty")
        self.stack.addWidget(self.empty)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)

    def show_content(self, caption: str) -> None:
        self.caption.setText(caption)
        self.caption.setVisible(bool(caption))
        self.stack.setCurrentIndex(0)

    def show_empty(self, message: str) -> None:
        self.caption.hide()
        self.empty.setText(message)
        self.stack.setCurrentIndex(1)


class EvaluationTabs(QTabWidget):
    """The Results page's tabs: its summary (given), the evaluation's five, then for a forecast's
    evaluation its plot over time (the Forecast tab, hidden otherwise).

    :meth:`show_evaluation` fills them from an :class:`Evaluation`; without one each says why.
    """

    def __init__(self, summary: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "resultsTabs", "Results sections")
        self.setDocumentMode(True)
        summary.setObjectName("summaryTab")
        self.addTab(summary, "Summary")

        self.class_model = ClassReportModel(self)
        self.class_view = _table(self.class_model, "classReport", "Scores per class")
        self.class_plot = ClassScoresPlot()
        self.class_split = QSplitter(Qt.Orientation.Vertical)
        self.class_split.addWidget(self.class_view)
        self.class_split.addWidget(self.class_plot)
        self.class_tab = _Tab("perClassTab", self.class_split, "")
        self.addTab(self.class_tab, "Per class")

        self.curves_stack = QStackedWidget()
        self.class_curves = ClassCurvesView()
        self.regression = RegressionView()
        self.curves_stack.addWidget(self.class_curves)
        self.curves_stack.addWidget(self.regression)
        self.curves_tab = _Tab("curvesTab", self.curves_stack, "")
        self.addTab(self.curves_tab, "Curves")

        self.importance_plot = ImportancePlot()
        self.importance_model = ImportanceModel(self)
        self.importance_view = _table(self.importance_model, "importanceTable", "Permutation importance per column",
                                      stretch=False)
        self.importance_view.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # by rank, as the bars
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.importance_plot)
        split.addWidget(self.importance_view)
        split.setSizes([620, 380])
        self.importance_tab = _Tab("importanceTab", split, "")
        self.addTab(self.importance_tab, "Feature importance")

        self.layer_model = LayerModel(self)
        self.layer_view = _table(self.layer_model, "layerTable", "Layers of the network")
        self.network_tab = _Tab("networkTab", self.layer_view, "")
        self.addTab(self.network_tab, "Network")

        self.refit_curves = RefitCurvesView()
        self.refit_tab = _Tab("refitTab", self.refit_curves, "")
        self.addTab(self.refit_tab, "Refit curves")
        # Last, so the other tabs keep their places (a hidden tab still has its index).
        self.forecast_view = ForecastView()
        self.forecast_tab = _Tab("forecastTab", self.forecast_view, "")
        self.addTab(self.forecast_tab, "Forecast")
        # A tab is filled when it is first shown: drawing all five plots when a search ends froze
        # the window for ~150 ms.
        self._pending: dict[QWidget, Callable[[], None]] = {}
        self.currentChanged.connect(self._fill_shown)
        self.show_evaluation(None, "")

    def tab_titles(self) -> list[str]:
        """The titles of the tabs shown, in order."""
        return [self.tabText(i) for i in range(self.count()) if self.isTabVisible(i)]

    def show_evaluation(self, evaluation: Evaluation | None, why_none: str) -> None:
        """Fills every tab from ``evaluation`` (each when it is first shown); without one, each says
        ``why_none``."""
        tabs = (self.class_tab, self.curves_tab, self.importance_tab, self.network_tab, self.refit_tab)
        self._pending = {}
        curves, classes_at = self.indexOf(self.curves_tab), self.indexOf(self.class_tab)
        self.setTabVisible(self.indexOf(self.forecast_tab), evaluation is not None and evaluation.forecast is not None)
        if evaluation is None:
            for tab in tabs:
                tab.show_empty(why_none)
            self.setTabText(curves, "Curves")
            self.setTabVisible(classes_at, True)
            return
        classes = evaluation.task == "classification"
        self.setTabVisible(classes_at, classes)
        self.setTabText(curves, "ROC / PR curves" if classes else "Residuals")
        metric = test_metric(evaluation)
        self._pending = {
            self.forecast_tab: lambda: self._fill_forecast(evaluation),
            self.class_tab: lambda: self._fill_classes(evaluation),
            self.curves_tab: lambda: self._fill_curves(evaluation),
            self.importance_tab: lambda: self._fill_importance(evaluation.importance, metric),
            self.network_tab: lambda: self._fill_network(evaluation),
            self.refit_tab: lambda: self._fill_refit(evaluation, metric.name),
        }
        self._fill_shown()

    @Slot(int)
    def _fill_shown(self, *_args: object) -> None:
        fill = self._pending.pop(self.currentWidget(), None)
        if fill is not None:
            fill()

    def _fill_forecast(self, evaluation: Evaluation) -> None:
        forecast = evaluation.forecast
        if forecast is None or not forecast.times:
            self.forecast_tab.show_empty("No forecast to plot: the test period is empty.")
            return
        self.forecast_view.show_forecast(forecast)
        kept = len(forecast.times)
        shown = (f"the latest {kept} of the {forecast.windows} test windows" if kept < forecast.windows
                 else f"all {kept} test windows")
        self.forecast_tab.show_content(
            f"The best model's forecast of {forecast.target} against its actual values over the test period "
            f"({shown}, the latest period of the data, never trained on); dashed: the {forecast.naive_rule} "
            "forecast the search compares it with.")

    def _fill_classes(self, evaluation: Evaluation) -> None:
        self.class_model.colour = self.palette().color(self.palette().ColorRole.Highlight)
        self.class_model.set_rows(evaluation.per_class)
        if not evaluation.per_class:
            self.class_tab.show_empty("No per-class scores: the test split is empty.")
            return
        self.class_plot.show_scores([c.name for c in evaluation.per_class],
                                    [(c.precision, c.recall, c.f1) for c in evaluation.per_class])
        # The table as tall as its rows (at most half the tab), the chart below it.
        view = self.class_view
        rows = view.verticalHeader().defaultSectionSize() * len(evaluation.per_class)
        table = view.horizontalHeader().sizeHint().height() + rows + 2 * view.frameWidth() + 2
        total = max(self.class_split.height(), 400)
        self.class_split.setSizes([min(table, total // 2), total - min(table, total // 2)])
        self.class_tab.show_content(
            f"Precision, recall and F1 of each class on the {evaluation.test_rows} test rows "
            "(scikit-learn's classification report; click a header to sort).")

    def _fill_curves(self, evaluation: Evaluation) -> None:
        if evaluation.task == "classification":
            if not evaluation.roc:
                self.curves_tab.show_empty("No curves: " + ("; ".join(evaluation.notes) or "no test rows") + ".")
                return
            self.class_curves.show_curves(evaluation.roc, evaluation.precision_recall)
            self.curves_stack.setCurrentWidget(self.class_curves)
            which = (f"class “{evaluation.roc[0].name}” as the positive class" if len(evaluation.class_names) == 2
                     else "each class against the rest")
            notes = "".join(f" Note: {n}." for n in evaluation.notes)
            self.curves_tab.show_content(f"Test split, {which}; the dashed line is a model that guesses.{notes}")
            return
        if not evaluation.actual:
            self.curves_tab.show_empty("No residuals: the test split is empty.")
            return
        self.regression.show_points(evaluation.actual, evaluation.predicted)
        self.curves_stack.setCurrentWidget(self.regression)
        shown = len(evaluation.actual)
        sample = (f"a random {shown} of the {evaluation.regression_rows} test rows"
                  if shown < evaluation.regression_rows else f"all {shown} test rows")
        residuals = evaluation.residuals
        mean = sum(residuals) / len(residuals)
        self.curves_tab.show_content(f"{sample.capitalize()}; mean residual {mean:.4g} "
                                     "(points on the dashed line are predicted exactly).")

    def _fill_importance(self, importance: Importance | None, metric: Any) -> None:
        if importance is None or not importance.columns:
            note = importance.note if importance is not None else "the test split is empty"
            self.importance_tab.show_empty(f"No feature importance: {note}.")
            self.importance_model.set_rows([])
            return
        self.importance_plot.show_importance(importance, metric)
        self.importance_model.set_importance(importance)
        score = "" if importance.score is None else f"; unshuffled, test {metric.describe(importance.score)}"
        word = "rise" if not metric.maximize else "drop"
        note = f" Note: {importance.note}." if importance.note else ""
        self.importance_tab.show_content(
            f"Permutation importance (scikit-learn's definition): the {word} in test {metric.name} when one "
            f"column's values are shuffled, over {importance.repeats} shuffles of {importance.rows} test rows"
            f"{score}. Near zero: the model does not rely on the column.{note}")

    def _fill_network(self, evaluation: Evaluation) -> None:
        network = evaluation.network
        if network is None:
            self.network_tab.show_empty("No layer list was stored for this model.")
            self.layer_model.set_rows([])
            return
        self.layer_model.set_rows(network.layers)
        if network.members > 1 and network.name.startswith(ENSEMBLE_MEMBER_PREFIX):
            members = (f" The exported model is a weighted ensemble of {network.members} trials' networks; "
                       f"these are the layers of the best one ({network.name}).")
        elif network.name == FOREST_MODEL_NAME:
            members = (" The exported model is a random forest compiled into these standard Keras layers: a "
                       "unit per split of every tree, a unit per leaf (the AND of its path), the leaves' values "
                       "in the last weights.")
        elif network.members > 1:
            members = (f" The exported model averages {network.members} refits of this network, so it holds "
                       f"{network.members} × {network.total_params // network.members:,} parameters.")
        else:
            members = ""
        self.network_tab.show_content(
            f"{len(network.layers)} layers; {network.total_params:,} parameters in the exported model "
            f"({network.trainable_params:,} trainable, {network.non_trainable_params:,} not).{members}")

    def _fill_refit(self, evaluation: Evaluation, metric: str) -> None:
        if not evaluation.runs:
            forest = evaluation.network is not None and evaluation.network.name == FOREST_MODEL_NAME
            self.refit_tab.show_empty(
                "No refit curves: the exported model is a random forest, fitted on train + validation by "
                "scikit-learn (it has no epochs)." if forest else
                "No refit curves: the exported model is the best trial as trained (no refit on train + validation).")
            return
        logged = [k for k in evaluation.runs[0][0] if k not in ("epoch", "loss")]
        shown = metric if metric in logged else (logged[0] if logged else "loss")
        self.refit_curves.show_runs(evaluation.runs, shown)
        epochs = max(len(run) for run in evaluation.runs)
        final = evaluation.runs[-1][-1].get("loss", math.nan)
        count = len(evaluation.runs)
        runs = f"{count} refits, one curve each" if count > 1 else "one refit"
        network = evaluation.network
        what = ("The ensemble's members (heaviest first) retrained on train + validation for up to"
                if network is not None and network.name.startswith(ENSEMBLE_MEMBER_PREFIX)
                else "The best configuration retrained on train + validation for")
        self.refit_tab.show_content(
            f"{what} {epochs} epochs ({runs}); final training loss {final:.4g}. The refit has no validation "
            "split, so only training metrics are logged.")
