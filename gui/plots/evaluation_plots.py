"""Plots of the best model's test evaluation (``engine.train.evaluation``): ROC and
precision-recall curves, residuals and predicted-vs-actual, permutation importance bars, the
refit's training curves and a forecast against the actual values over its test period.

Each plot is drawn once from an :class:`~automl_studio.engine.train.evaluation.Evaluation`
(plain data read from ``best/evaluation.json``); none keeps data of its own beyond its items.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.objectives import Objective, get_objective
from automl_studio.engine.train.evaluation import Curve, Evaluation, ForecastTest, Importance
from automl_studio.gui.qt_workarounds import protect_none_refcount
from automl_studio.gui.widgets import name_widget

protect_none_refcount()  # pyqtgraph's painting hits a PySide6 6.12 refcount bug (see module)

# One colour per class (or refit), readable on light and dark backgrounds.
SERIES_COLOURS = ("#2b6cd4", "#e07b00", "#2f9e44", "#c2255c", "#7048e8", "#0c8599", "#e8590c",
                  "#5c940d", "#862e9c", "#1864ab")
CHANCE = (128, 128, 128, 160)


def series_colour(index: int) -> str:
    """The colour of the ``index``-th class or refit (the palette repeats after ten)."""
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


def evaluation_plot(name: str, title: str, x: str, y: str, parent: QWidget | None = None) -> pg.PlotWidget:
    """A titled plot with labelled axes in the window's palette, no context menu."""
    widget = pg.PlotWidget(parent)
    widget.setObjectName(name)
    widget.setAccessibleName(title)
    widget.setMinimumSize(220, 180)
    palette = widget.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    widget.setBackground(palette.color(QPalette.ColorRole.Base))
    item = widget.getPlotItem()
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)
        item.getAxis(axis).setPen(pg.mkPen(text))
        item.getAxis(axis).setTextPen(pg.mkPen(text))
    item.setTitle(title, size="10pt", color=text)
    item.setLabel("bottom", x)
    item.setLabel("left", y)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    widget.hideButtons()
    return widget


def legend(item: pg.PlotItem, offset: tuple[int, int]) -> pg.LegendItem:
    """A legend in the window's text colour on a translucent background, at ``offset``
    (negative: from the right or bottom edge)."""
    palette = item.getViewWidget().palette() if item.getViewWidget() is not None else QPalette()
    base = palette.color(QPalette.ColorRole.Base)
    base.setAlpha(220)
    return item.addLegend(offset=offset, labelTextSize="9pt", brush=pg.mkBrush(base),
                          pen=pg.mkPen(palette.color(QPalette.ColorRole.Mid)),
                          labelTextColor=palette.color(QPalette.ColorRole.WindowText))


def test_metric(evaluation: Evaluation) -> Objective:
    """The objective's rule for its metric on the test split (``val_loss`` → ``loss``), so
    ``describe`` says e.g. "loss 0.113 (lower is better)"."""
    try:
        rule = get_objective(evaluation.objective)
    except UserError:  # a name this version does not offer: the direction the search stored
        rule = Objective(evaluation.objective, evaluation.direction, evaluation.objective, frozenset())
    return dataclasses.replace(rule, name=evaluation.metric)


class ClassScoresPlot(pg.PlotWidget):
    """Precision, recall and F1 of each class as grouped bars (0 to 1)."""

    SCORES = (("precision", "#2b6cd4"), ("recall", "#e07b00"), ("F1", "#2f9e44"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classScoresPlot")
        self.setAccessibleName("Precision, recall and F1 per class")
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        item = self.getPlotItem()
        for axis in ("left", "bottom"):
            item.getAxis(axis).setPen(pg.mkPen(text))
            item.getAxis(axis).setTextPen(pg.mkPen(text))
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.setLabel("left", "score (test split)")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumSize(260, 150)
        # One row above the bars: scores near 1 leave no room inside them.
        legend(item, (-8, 4)).setColumnCount(len(self.SCORES))
        item.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)]])
        self.bars: list[pg.BarGraphItem] = []
        for name, colour in self.SCORES:
            bars = pg.BarGraphItem(x=[], height=[], width=0.26, brush=colour, pen=None, name=name)
            self.bars.append(bars)
            item.addItem(bars)  # named: the legend lists it

    def show_scores(self, names: Sequence[str], scores: Sequence[tuple[float, float, float]]) -> None:
        """One group of three bars per class."""
        xs = np.arange(len(names), dtype=float)
        for k, bars in enumerate(self.bars):
            bars.setOpts(x=xs + (k - 1) * 0.28, height=[float(s[k]) for s in scores], width=0.26)
        self.getPlotItem().getAxis("bottom").setTicks([[(float(i), str(n)) for i, n in enumerate(names)]])
        self.setXRange(-0.6, len(names) - 0.4, padding=0)
        self.setYRange(0, 1.2, padding=0.0)


class ClassCurvesView(QWidget):
    """ROC (false- against true-positive rate) and precision-recall curves side by side: one
    curve per class against the rest (the positive class only, for two classes), each named in
    the legend with its AUC or average precision; the chance line dashed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.roc_plot = evaluation_plot("rocPlot", "ROC curve (test split)", "false positive rate",
                                        "true positive rate")
        self.pr_plot = evaluation_plot("precisionRecallPlot", "Precision-recall curve (test split)",
                                       "recall", "precision")
        for plot in (self.roc_plot, self.pr_plot):
            plot.setXRange(0, 1, padding=0.02)
            plot.setYRange(0, 1, padding=0.02)
            plot.setMouseEnabled(x=False, y=False)
            layout.addWidget(plot)

    def show_curves(self, roc: Sequence[Curve], precision_recall: Sequence[Curve]) -> None:
        """Draws the curves (replacing any drawn before)."""
        self._draw(self.roc_plot, roc, "AUC", chance=[(0.0, 0.0), (1.0, 1.0)])
        prevalence = precision_recall[0].prevalence if len(precision_recall) == 1 else None
        # A classifier that guesses has the class's share as precision at every recall.
        self._draw(self.pr_plot, precision_recall, "AP",
                   chance=[(0.0, prevalence), (1.0, prevalence)] if prevalence is not None else None)

    def _draw(self, plot: pg.PlotWidget, curves: Sequence[Curve], area: str,
              chance: list[tuple[float, float]] | None) -> None:
        item = plot.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        else:
            legend(item, (-8, -8))  # bottom right: both curves rise to the top left or right
        if chance is not None:
            xs, ys = zip(*chance, strict=True)
            item.plot(list(xs), list(ys), pen=pg.mkPen(CHANCE, width=1, style=Qt.PenStyle.DashLine))
        for index, curve in enumerate(curves):
            item.plot(list(curve.x), list(curve.y), pen=pg.mkPen(series_colour(index), width=2),
                      name=f"{curve.name} ({area} {curve.area:.3f})")

    def curve_names(self, plot: pg.PlotWidget) -> list[str]:
        """The named (class) curves a plot draws, in order; the chance line has no name."""
        return [str(item.name()) for item in plot.getPlotItem().listDataItems() if item.name()]


class RegressionView(QWidget):
    """Predicted against actual values (the diagonal is a perfect model) and residuals
    (actual - predicted) against predicted values (the zero line is no error)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.fit_plot = evaluation_plot("predictedVsActualDetail", "Predicted vs actual (test split)",
                                        "actual", "predicted")
        self.residual_plot = evaluation_plot("residualPlot", "Residuals (actual − predicted)",
                                             "predicted", "residual")
        brush = pg.mkBrush(43, 108, 212, 140)
        self.fit_points = pg.ScatterPlotItem(size=6, pen=None, brush=brush)
        self.residual_points = pg.ScatterPlotItem(size=6, pen=None, brush=brush)
        guide = pg.mkPen("#e07b00", width=2, style=Qt.PenStyle.DashLine)
        self.diagonal = self.fit_plot.getPlotItem().plot([], [], pen=guide)
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, pen=guide)
        self.fit_plot.addItem(self.fit_points)
        self.residual_plot.addItem(self.residual_points)
        self.residual_plot.addItem(self.zero)
        layout.addWidget(self.fit_plot)
        layout.addWidget(self.residual_plot)

    def show_points(self, actual: Sequence[float], predicted: Sequence[float]) -> None:
        """Draws one point per kept test row."""
        a = np.asarray(actual, dtype=float)
        p = np.asarray(predicted, dtype=float)
        self.fit_points.setData(x=a, y=p)
        self.residual_points.setData(x=p, y=a - p)
        if len(a):
            lo, hi = float(min(a.min(), p.min())), float(max(a.max(), p.max()))
            self.diagonal.setData([lo, hi], [lo, hi])


class ImportancePlot(pg.PlotWidget):
    """Permutation importance as horizontal bars, the most important column on top, each with
    its spread over the shuffles (± one standard deviation) as an error bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importancePlot")
        self.setAccessibleName("Permutation feature importance")
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        item = self.getPlotItem()
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
            item.getAxis(axis).setPen(pg.mkPen(text))
            item.getAxis(axis).setTextPen(pg.mkPen(text))
        item.showGrid(x=True, y=False, alpha=0.15)
        item.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumSize(260, 180)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.62, brush="#2b6cd4", pen=None)
        self.errors = pg.ErrorBarItem(x=np.array([]), y=np.array([]), beam=0.2, pen=pg.mkPen(text))
        self.addItem(self.bars)
        self.addItem(self.errors)
        self.addItem(pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen(CHANCE)))

    def show_importance(self, importance: Importance, metric: Objective) -> None:
        """Draws one bar per column; the x axis says what the importance measures."""
        ranked = sorted(importance.columns, key=lambda c: c.mean)  # y = 0 at the bottom
        ys = np.arange(len(ranked), dtype=float)
        means = np.array([c.mean for c in ranked])
        stds = np.array([c.std for c in ranked])
        colours = ["#2b6cd4" if m > 0 else "#9aa5b1" for m in means]
        self.bars.setOpts(x0=np.zeros(len(ranked)), y=ys, width=means, height=0.62, brushes=colours)
        self.errors.setData(x=means, y=ys, left=stds, right=stds, beam=0.2)
        item = self.getPlotItem()
        left = item.getAxis("left")
        left.setTicks([[(float(i), c.column) for i, c in enumerate(ranked)]])
        # Wide enough for the longest name now: pyqtgraph widens an axis for its labels only after
        # a paint, and hides the labels that do not fit that paint, so a plot filled in a hidden tab
        # showed its bars with no column names (seen in the README screenshots).
        metrics = QFontMetrics(left.style["tickFont"] or self.font())
        longest = max((metrics.horizontalAdvance(c.column) for c in ranked), default=0)
        left.setWidth(longest + 18)
        word = "increase" if not metric.maximize else "drop"
        item.setLabel("bottom", f"{word} in test {metric.name} when the column is shuffled "
                                f"(mean ± sd of {importance.repeats})")
        if len(ranked):
            self.setYRange(-0.6, len(ranked) - 0.4, padding=0)
            lo = float(min(0.0, np.min(means - stds)))
            hi = float(max(np.max(means + stds), 1e-9))
            self.setXRange(lo, hi, padding=0.05)

    def bar_count(self) -> int:
        """How many bars are drawn."""
        width = self.bars.opts.get("width")
        return 0 if width is None else len(width)


class RefitCurvesView(QWidget):
    """The refit's loss per epoch, and its metric where it logged one: one curve per refit
    averaged in the exported model (the refit trains on train + validation: no validation
    curve)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = evaluation_plot("refitLossPlot", "Refit: training loss", "epoch", "loss")
        self.metric_plot = evaluation_plot("refitMetricPlot", "Refit: training metric", "epoch", "metric")
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.metric_plot)

    def show_runs(self, runs: Sequence[Sequence[Mapping[str, float]]], metric: str) -> None:
        """Draws each refit's ``loss`` and ``metric`` (e.g. ``accuracy``) by epoch."""
        for plot, key in ((self.loss_plot, "loss"), (self.metric_plot, metric)):
            item = plot.getPlotItem()
            item.clear()
            # One legend names the refits (the loss falls: top right is free); the colours match.
            if plot is self.loss_plot and item.legend is None and len(runs) > 1:
                legend(item, (-8, 8))
            elif item.legend is not None:
                item.legend.clear()
            item.setLabel("left", key)
            for index, run in enumerate(runs):
                epochs = [float(e["epoch"]) for e in run]
                values = [float(e.get(key, math.nan)) for e in run]
                name = f"refit {index + 1}" if len(runs) > 1 and plot is self.loss_plot else None
                item.plot(epochs, values, pen=pg.mkPen(series_colour(index), width=2), symbol="o",
                          symbolSize=5, symbolBrush=series_colour(index), symbolPen=None, name=name)
        self.metric_plot.getPlotItem().setTitle(f"Refit: training {metric}", size="10pt")
        self.metric_plot.setVisible(metric != "loss")

    def run_count(self) -> int:
        """How many refit curves the loss plot draws."""
        return len(self.loss_plot.getPlotItem().listDataItems())


class ForecastView(QWidget):
    """A forecast against the actual values over the test period, with the search's naive
    forecast dashed beside it: one series and one step ahead at a time (chosen above the plot
    when the search has several series or forecasts several steps)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        choices = QHBoxLayout()
        self.series_combo = name_widget(QComboBox(), "forecastSeries", "Series shown",
                                        "The series whose test period is plotted")
        self.step_spin = name_widget(QSpinBox(), "forecastStep", "Steps ahead shown",
                                     "Which step of each forecast is plotted: 1 is the next time")
        self.series_label, self.step_label = QLabel("Series"), QLabel("Steps ahead")
        for w in (self.series_label, self.series_combo, self.step_label, self.step_spin):
            choices.addWidget(w)
        choices.addStretch(1)
        layout.addLayout(choices)
        self.plot = evaluation_plot("forecastPlot", "Forecast vs actual (test period)", "time", "value")
        item = self.plot.getPlotItem()
        legend(item, (8, 8))
        self.actual_curve = item.plot([], [], pen=pg.mkPen("#555555", width=2), name="actual")
        self.forecast_curve = item.plot([], [], pen=pg.mkPen(series_colour(0), width=2), name="forecast")
        self.naive_curve = item.plot([], [], pen=pg.mkPen(series_colour(1), width=1.5, style=Qt.PenStyle.DashLine),
                                     name="naive")
        self._date_axis: pg.DateAxisItem | None = None
        layout.addWidget(self.plot, 1)
        self._forecast: ForecastTest | None = None
        self.series_combo.currentIndexChanged.connect(self._draw)
        self.step_spin.valueChanged.connect(self._draw)

    def show_forecast(self, forecast: ForecastTest) -> None:
        """Draws ``forecast``'s first series one step ahead (the choices reset)."""
        self._forecast = None  # the choices' signals draw nothing while they are reset
        names = list(dict.fromkeys(forecast.series))
        self.series_combo.clear()
        self.series_combo.addItems(names)
        for widget in (self.series_label, self.series_combo, self.step_label, self.step_spin):
            shown = len(names) > 1 if widget in (self.series_label, self.series_combo) else forecast.horizon > 1
            widget.setVisible(shown)
        self.step_spin.setRange(1, max(forecast.horizon, 1))
        self.step_spin.setValue(1)
        item = self.plot.getPlotItem()
        if forecast.time_kind == "datetime" and self._date_axis is None:
            # Times are seconds since the epoch of the file's own clock: shown as UTC, unshifted.
            self._date_axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
            item.setAxisItems({"bottom": self._date_axis})
        elif forecast.time_kind != "datetime" and self._date_axis is not None:
            item.setAxisItems({"bottom": pg.AxisItem(orientation="bottom")})
            self._date_axis = None
        item.setLabel("bottom", forecast.time_column)
        item.setLabel("left", forecast.target)
        self._forecast = forecast
        self._draw()

    def points(self, series: str, step: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The (time, value) points of ``series`` for ``step`` steps ahead (1…horizon): the
        actual values, and the model's and the naive forecasts of them."""
        forecast = self._forecast
        if forecast is None:
            return {}
        at = [i for i, name in enumerate(forecast.series) if name == series]
        times = np.asarray(forecast.times, dtype=float)[at]
        h = step - 1
        # Step h of window j forecasts the time of window j + h.
        ahead = at[:len(at) - h] if h else at
        return {
            "actual": (times, np.asarray([forecast.actual[i][0] for i in at], dtype=float)),
            "forecast": (times[h:], np.asarray([forecast.predicted[i][h] for i in ahead], dtype=float)),
            "naive": (times[h:], np.asarray([forecast.naive[i][h] for i in ahead], dtype=float)),
        }

    def _draw(self, *_args: object) -> None:
        if self._forecast is None:
            return
        shown = self.points(self.series_combo.currentText(), self.step_spin.value())
        for curve, key in ((self.actual_curve, "actual"), (self.forecast_curve, "forecast"),
                           (self.naive_curve, "naive")):
            curve.setData(*shown[key])
        step = self.step_spin.value()
        ahead = "one step ahead" if step == 1 else f"{step} steps ahead"
        self.plot.getPlotItem().setTitle(f"Forecast {ahead} vs actual (test period)", size="10pt")
        self.naive_curve.opts["name"] = self._forecast.naive_rule
        legend_item = self.plot.getPlotItem().legend
        if legend_item is not None:
            legend_item.clear()
            for curve in (self.actual_curve, self.forecast_curve, self.naive_curve):
                legend_item.addItem(curve, curve.opts["name"])
