"""Plots that explain finished trials: hyperparameter importance, score against one
hyperparameter, and the learning curves of a few trials overlaid.

Like every plot here they draw plain data (names, numbers, :class:`~.parallel_coordinates.Axis`)
handed to them; the Compare page reads the trials and asks the engine's analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from automl_studio.gui.plots.plot_data import TRIAL_COLOURS, Axis, ScorePoint, TrialCurve
from automl_studio.gui.qt_workarounds import protect_none_refcount
from automl_studio.gui.widgets import empty_state

protect_none_refcount()

BAR_COLOUR = (43, 108, 212)
BAR_PIXELS = 17  # height of one importance bar: every name stays readable, the chart scrolls
SELECTED_BAR_COLOUR = (112, 72, 232)


def _plot(name: str, title: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setObjectName(name)
    widget.setAccessibleName(title)
    widget.setBackground(widget.palette().color(QPalette.ColorRole.Base))
    item = widget.getPlotItem()
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)
    item.setTitle(title, size="10pt")
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.getViewBox().setMouseEnabled(False, False)
    return widget


class _Placeholder(QStackedWidget):
    """A plot that says what is missing instead of drawing empty axes."""

    def __init__(self, plot: QWidget, name: str) -> None:
        super().__init__()
        self.empty = empty_state("", f"{name}Empty")
        self.addWidget(plot)
        self.addWidget(self.empty)

    def say(self, text: str | None) -> None:
        """Shows ``text`` instead of the plot (None: the plot)."""
        if text:
            self.empty.setText(text)
            self.empty.setAccessibleName(text)
            self.setCurrentWidget(self.empty)
        else:
            self.setCurrentIndex(0)


class ImportanceChart(QWidget):
    """One horizontal bar per searched hyperparameter, longest (most important) on top,
    labelled with its name; clicking a bar picks that hyperparameter.

    Signals:
        hyperparameterClicked(name): a bar was clicked.
    """

    hyperparameterClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot("importancePlot", "Hyperparameter importance")
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "share of the score's variation explained")
        item.showGrid(x=True, y=False, alpha=0.15)
        font = self.font()
        font.setPointSizeF(max(font.pointSizeF() - 1.0, 7.5))
        item.getAxis("left").setTickFont(font)
        item.getAxis("left").setStyle(tickLength=0)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.72, width=[], brush=pg.mkBrush(*BAR_COLOUR))
        item.addItem(self.bars)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.plot)
        self.stack = _Placeholder(self.scroller, "importance")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._names: list[str] = []
        self._values: list[float] = []
        self._selected: str | None = None
        self.stack.say("Importance needs at least three completed trials.")

    def set_importance(self, values: Mapping[str, float], note: str = "") -> None:
        """Draws one bar per name (most important first); ``note`` replaces an all-zero chart."""
        ordered = sorted(values.items(), key=lambda kv: -kv[1])
        self._names = [name for name, _ in ordered]
        self._values = [value for _, value in ordered]
        if not ordered or (note and not any(self._values)):
            self.stack.say(f"Importance: {note}." if note else "No hyperparameters were searched.")
            self.bars.setOpts(x0=[], y=[], width=[])
            return
        self.stack.say(None)
        n = len(ordered)
        self.plot.setMinimumHeight(70 + BAR_PIXELS * n)
        ys = [n - 1 - i for i in range(n)]
        self._draw_bars(ys)
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([[(y, name) for y, name in zip(ys, self._names, strict=True)]])
        top = max(self._values) or 1.0
        self.plot.getPlotItem().setRange(xRange=(0, top * 1.08), yRange=(-0.6, n - 0.4), padding=0)

    def _draw_bars(self, ys: list[int]) -> None:
        brushes = [pg.mkBrush(*(SELECTED_BAR_COLOUR if name == self._selected else BAR_COLOUR))
                   for name in self._names]
        self.bars.setOpts(x0=[0.0] * len(ys), y=ys, width=self._values, brushes=brushes)

    def select(self, name: str | None) -> None:
        """Marks the bar of ``name`` (the hyperparameter the scatter shows)."""
        self._selected = name
        if self._names:
            n = len(self._names)
            self._draw_bars([n - 1 - i for i in range(n)])

    def names(self) -> list[str]:
        """The bars' names, top (most important) first."""
        return list(self._names)

    def values(self) -> list[float]:
        return list(self._values)

    def bar_count(self) -> int:
        """How many bars are drawn."""
        opts = self.bars.opts
        return 0 if self.stack.currentIndex() != 0 else len(opts.get("y") or [])

    def _on_click(self, event: Any) -> None:
        view = self.plot.getPlotItem().getViewBox()
        if not self._names or not view.sceneBoundingRect().contains(event.scenePos()):
            return
        y = view.mapSceneToView(event.scenePos()).y()
        index = len(self._names) - 1 - round(y)
        if 0 <= index < len(self._names):
            self.hyperparameterClicked.emit(self._names[index])


class ScoreScatter(QWidget):
    """Each trial's score against one hyperparameter's value (categories spread along x)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot("scoreScatterPlot", "Score by hyperparameter")
        self.points = pg.ScatterPlotItem(size=9, pen=pg.mkPen(None), brush=pg.mkBrush(*BAR_COLOUR, 190))
        self.plot.getPlotItem().addItem(self.points)
        self.stack = _Placeholder(self.plot, "scoreScatter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.stack.say("Pick a hyperparameter to see how the score follows it.")

    def set_points(self, axis: Axis, points: Sequence[ScorePoint], score_label: str) -> None:
        """Draws the points of ``axis`` (its name and kind); those that did not use it are counted
        in the title."""
        used = [p for p in points if axis.position(p.value) is not None]
        if not used:
            self.stack.say(f"No completed trial used {axis.name}.")
            return
        self.stack.say(None)
        item = self.plot.getPlotItem()
        skipped = len(points) - len(used)
        title = axis.name if not skipped else f"{axis.name} ({skipped} trials did not use it)"
        item.setTitle(title, size="10pt")
        item.setLabel("left", score_label)
        bottom = item.getAxis("bottom")
        rng = np.random.default_rng(0)
        if axis.kind == "category":
            index = {i: c for i, c in enumerate(axis.categories)}
            xs = [next(i for i, c in index.items() if p.value == c and type(p.value) is type(c))
                  + float(rng.uniform(-0.12, 0.12)) for p in used]
            bottom.setTicks([[(i, str(c)) for i, c in index.items()]])
            item.setLabel("bottom", axis.name)
            x_range = (-0.6, len(axis.categories) - 0.4)
        elif axis.kind == "log":
            xs = [math.log10(float(p.value)) for p in used]
            bottom.setTicks(None)
            item.setLabel("bottom", f"log₁₀ {axis.name}")
            x_range = _padded(xs)
        else:
            xs = [float(p.value) for p in used]
            bottom.setTicks(None)
            item.setLabel("bottom", axis.name)
            x_range = _padded(xs)
        self.points.setData(x=xs, y=[p.score for p in used], data=[p.key for p in used])
        item.setRange(xRange=x_range, yRange=_padded([p.score for p in used]), padding=0)

    def point_count(self) -> int:
        return len(self.points.data) if self.stack.currentIndex() == 0 else 0


def _padded(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    return lo - pad, hi + pad


class CurvesOverlay(QWidget):
    """The compared trials' learning curves in one plot: validation loss solid, training loss
    dashed, one colour per trial, its best epoch marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot("compareCurvesPlot", "Learning curves (solid: val_loss, dashed: loss)")
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        item.getViewBox().setMouseEnabled(True, True)
        self.legend = item.addLegend(offset=(-8, 8), labelTextSize="8pt")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._items: list[Any] = []

    def set_curves(self, curves: Sequence[TrialCurve]) -> None:
        """Replaces the drawn trials by ``curves`` (colours follow their order)."""
        item = self.plot.getPlotItem()
        for drawn in self._items:
            item.removeItem(drawn)
        self._items.clear()
        self.legend.clear()
        for index, curve in enumerate(curves):
            colour = QColor(TRIAL_COLOURS[index % len(TRIAL_COLOURS)])
            for metric, style in (("val_loss", Qt.PenStyle.SolidLine), ("loss", Qt.PenStyle.DashLine)):
                series = list(curve.metrics.get(metric, ()))
                if not series:
                    continue
                epochs = list(range(1, len(series) + 1))
                line = pg.PlotDataItem(epochs, series, pen=pg.mkPen(colour, width=2.2 if style == Qt.PenStyle.SolidLine
                                                                    else 1.4, style=style),
                                       name=curve.label if metric == "val_loss" else None, connect="finite")
                item.addItem(line)
                self._items.append(line)
            val = list(curve.metrics.get("val_loss", ()))
            if curve.best_epoch is not None and 0 < curve.best_epoch <= len(val) and math.isfinite(val[curve.best_epoch - 1]):
                mark = pg.ScatterPlotItem([curve.best_epoch], [val[curve.best_epoch - 1]], size=10, symbol="star",
                                          brush=pg.mkBrush(colour), pen=pg.mkPen(colour))
                item.addItem(mark)
                self._items.append(mark)
        item.enableAutoRange()

    def curve_count(self) -> int:
        """How many lines are drawn (two per trial when both losses were logged)."""
        return sum(1 for i in self._items if isinstance(i, pg.PlotDataItem))
