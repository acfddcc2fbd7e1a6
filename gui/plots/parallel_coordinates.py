"""A parallel-coordinates plot of trials: one vertical axis per hyperparameter and one for the
score, one line per trial, with brushing.

Dragging along an axis keeps only the trials whose value there lies in the dragged range
(:attr:`ParallelCoordinates.brushesChanged` carries every axis's :class:`Brush`); a click on an
axis clears its brush. The plot knows nothing of trial stores or tables: it draws plain
:class:`Axis` and :class:`Line` data, and says which lines the brushes keep.

Each axis runs from its lowest value (bottom) to its highest (top): linear, logarithmic (a
log-scale range such as the learning rate) or categorical (each category at its own height,
labelled). A value a trial did not use (a repeat copy beyond its count) sits in the "not used"
band under the axes and never passes a brush.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPalette, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from automl_studio.gui.plots.plot_data import Axis, Brush, Line
from automl_studio.gui.qt_workarounds import protect_none_refcount

protect_none_refcount()

UNUSED_Y = -0.1  # where a value the trial did not use is drawn
BRUSH_HALF_WIDTH = 0.09  # of the brush rectangle, in axis spacings
PICK_DISTANCE = 0.3  # how near an axis (in axis spacings) a drag must start to brush it
BEST_COLOUR = (43, 108, 212)
WORST_COLOUR = (232, 140, 40)
FILTERED_COLOUR = (150, 150, 150, 55)


def _shade_colour(shade: float | None) -> QColor:
    if shade is None:
        return QColor(120, 120, 120, 150)
    mix = [round(w + (b - w) * shade) for w, b in zip(WORST_COLOUR, BEST_COLOUR, strict=True)]
    return QColor(mix[0], mix[1], mix[2], 200)


class _BrushingViewBox(pg.ViewBox):
    """A view box whose left-button drags brush the axis they start on."""

    def __init__(self, owner: ParallelCoordinates) -> None:
        super().__init__(enableMenu=False)
        self.owner = owner
        self.setMouseEnabled(False, False)
        self._dragging: int | None = None

    def _axis_at(self, scene_pos: QPointF) -> int | None:
        point = self.mapSceneToView(scene_pos)
        index = round(point.x())
        if 0 <= index < len(self.owner.axes) and abs(point.x() - index) <= PICK_DISTANCE:
            return index
        return None

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._dragging = self._axis_at(ev.buttonDownScenePos())
        if self._dragging is None:
            ev.ignore()
            return
        ev.accept()
        y0 = self.mapSceneToView(ev.buttonDownScenePos()).y()
        y1 = self.mapSceneToView(ev.scenePos()).y()
        self.owner.show_brush(self._dragging, y0, y1)
        if ev.isFinish():
            index, self._dragging = self._dragging, None
            self.owner.brush_axis(index, y0, y1)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            index = self._axis_at(ev.scenePos())
            if index is not None:
                ev.accept()
                self.owner.clear_brush(self.owner.axes[index].name)
                return
        ev.ignore()


class ParallelCoordinates(QWidget):
    """Trials as lines across one axis per hyperparameter and one for the score.

    Signals:
        brushesChanged(brushes): the brushes changed; ``brushes`` maps an axis's name to its
            :class:`Brush` (empty: nothing filtered).
    """

    brushesChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("parallelCoordinates")
        self.setAccessibleName("Parallel coordinates of the trials")
        self.axes: list[Axis] = []
        self.lines: list[Line] = []
        self._brushes: dict[str, Brush] = {}
        self._rects: dict[int, QGraphicsRectItem] = {}
        self._curves: dict[str, pg.PlotCurveItem] = {}
        self._highlighted: set[str] = set()
        self.view = _BrushingViewBox(self)
        self.plot_widget = pg.PlotWidget(viewBox=self.view)
        self.plot_widget.setObjectName("parallelCoordinatesPlot")
        self.plot_widget.setBackground(self.palette().color(QPalette.ColorRole.Base))
        item = self.plot_widget.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.hideButtons()
        item.setMenuEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        self._text = self.palette().color(QPalette.ColorRole.WindowText)
        base = QColor(self.palette().color(QPalette.ColorRole.Base))
        base.setAlpha(200)
        self._label_fill = pg.mkBrush(base)  # tick labels stay readable over the lines

    # ----------------------------------------------------------------- data
    def set_data(self, axes: Sequence[Axis], lines: Sequence[Line]) -> None:
        """Draws ``lines`` across ``axes``; brushes on axes that are still there are kept."""
        self.axes, self.lines = list(axes), list(lines)
        names = {a.name for a in self.axes}
        kept = {n: b for n, b in self._brushes.items() if n in names}
        changed = kept != self._brushes
        self._brushes = kept
        self._draw()
        if changed:
            self.brushesChanged.emit(dict(self._brushes))

    def brushes(self) -> dict[str, Brush]:
        return dict(self._brushes)

    def kept_keys(self) -> list[str]:
        """The lines every brush keeps."""
        return [line.key for line in self.lines if self._keeps(line)]

    def _keeps(self, line: Line) -> bool:
        for index, axis in enumerate(self.axes):
            brush = self._brushes.get(axis.name)
            if brush is not None and not brush.accepts(line.values[index]):
                return False
        return True

    def highlight(self, keys: Sequence[str]) -> None:
        """Draws these lines thicker and on top (the trials selected in the table)."""
        self._highlighted = set(keys)
        self._restyle()

    # ----------------------------------------------------------------- brushing
    def brush_axis(self, index: int, y0: float, y1: float) -> None:
        """Brushes axis ``index`` from height ``y0`` to ``y1`` (0 bottom, 1 top), as a drag does."""
        axis = self.axes[index]
        if abs(y1 - y0) < 1e-3:
            self.clear_brush(axis.name)
            return
        self._brushes[axis.name] = axis.brush_between(y0, y1)
        self.show_brush(index, y0, y1)
        self._restyle()
        self.brushesChanged.emit(dict(self._brushes))

    def clear_brush(self, name: str | None = None) -> None:
        """Clears the brush of axis ``name`` (None: every brush)."""
        if name is None:
            self._brushes.clear()
        else:
            self._brushes.pop(name, None)
        for index, rect in list(self._rects.items()):
            if name is None or self.axes[index].name == name:
                self.view.removeItem(rect)
                del self._rects[index]
        self._restyle()
        self.brushesChanged.emit(dict(self._brushes))

    def show_brush(self, index: int, y0: float, y1: float) -> None:
        """Draws the brush rectangle of axis ``index`` (while dragging and after)."""
        lo, hi = sorted((max(y0, 0.0), min(y1, 1.0)))
        rect = self._rects.get(index)
        if rect is None:
            rect = QGraphicsRectItem()
            rect.setPen(QPen(QColor(*BEST_COLOUR), 0))
            rect.setBrush(QBrush(QColor(*BEST_COLOUR, 60)))
            rect.setZValue(5)
            self.view.addItem(rect)
            self._rects[index] = rect
        rect.setRect(QRectF(index - BRUSH_HALF_WIDTH, lo, 2 * BRUSH_HALF_WIDTH, max(hi - lo, 1e-3)))

    def axis_point(self, index: int, height: float) -> QPointF:
        """Where (in the plot widget's coordinates) axis ``index`` is at ``height`` (0..1)."""
        scene = self.view.mapViewToScene(QPointF(index, height))
        return self.plot_widget.mapFromScene(scene)

    # ----------------------------------------------------------------- drawing
    def _draw(self) -> None:
        self.view.clear()
        self._rects.clear()
        self._curves.clear()
        n = len(self.axes)
        if n == 0:
            return
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        title_font = QFont(self.font())
        title_font.setBold(True)
        title_font.setPointSizeF(max(title_font.pointSizeF() - 1.0, 7.5))
        axis_pen = pg.mkPen(self._text, width=1.5)
        xs = list(range(n))
        for line in self.lines:
            ys = [self._height(axis, value) for axis, value in zip(self.axes, line.values, strict=True)]
            curve = pg.PlotCurveItem(xs, ys)
            self.view.addItem(curve)
            self._curves[line.key] = curve
        unused = False
        for index, axis in enumerate(self.axes):
            self.view.addItem(pg.PlotCurveItem([index, index], [0.0, 1.0], pen=axis_pen))
            two_rows = n > 4 and index % 2 == 1
            last = index == n - 1 and n > 1
            title = pg.TextItem(_wrap(axis.label), color=self._text, anchor=(0.8 if last else 0.5, 1.0))
            title.setFont(title_font)
            title.setPos(index, 1.2 if two_rows else 1.06)
            self.view.addItem(title)
            for height, text in axis.ticks():
                tick = pg.TextItem(text, color=(80, 80, 80), anchor=(1.0, 0.5), fill=self._label_fill)
                tick.setFont(font)
                tick.setZValue(4)
                tick.setPos(index - 0.03, height)
                self.view.addItem(tick)
            unused = unused or any(line.values[index] is None for line in self.lines)
        if unused:
            note = pg.TextItem("not used", color=(120, 120, 120), anchor=(1.0, 0.5))
            note.setFont(font)
            note.setPos(-0.03, UNUSED_Y)
            self.view.addItem(note)
        for index in range(n):
            brush = self._brushes.get(self.axes[index].name)
            if brush is not None:
                y0, y1 = self._brush_heights(self.axes[index], brush)
                self.show_brush(index, y0, y1)
        top = 1.42 if n > 4 else 1.26
        self.view.setRange(xRange=(-0.8, n - 0.35), yRange=(UNUSED_Y - 0.06, top), padding=0)
        self._restyle()

    @staticmethod
    def _height(axis: Axis, value: Any) -> float:
        position = axis.position(value)
        return UNUSED_Y if position is None else position

    @staticmethod
    def _brush_heights(axis: Axis, brush: Brush) -> tuple[float, float]:
        if brush.categories is not None:
            heights = [axis.position(c) for c in brush.categories]
            found = [h for h in heights if h is not None]
            step = 0.5 / max(len(axis.categories), 1)
            return (min(found) - step, max(found) + step) if found else (0.0, 0.0)
        lo = axis.position(max(brush.low, axis.low) if axis.kind != "category" else brush.low)
        hi = axis.position(min(brush.high, axis.high) if axis.kind != "category" else brush.high)
        return (lo if lo is not None else 0.0, hi if hi is not None else 1.0)

    def _restyle(self) -> None:
        for line in self.lines:
            curve = self._curves.get(line.key)
            if curve is None:
                continue
            kept = self._keeps(line)
            chosen = line.key in self._highlighted
            if not kept:
                curve.setPen(pg.mkPen(QColor(*FILTERED_COLOUR), width=1))
                curve.setZValue(0)
            elif chosen:
                curve.setPen(pg.mkPen(QColor(112, 72, 232), width=3.5))
                curve.setZValue(3)
            else:
                curve.setPen(pg.mkPen(_shade_colour(line.shade), width=1.8))
                curve.setZValue(1 + (line.shade or 0.0))


def _wrap(label: str) -> str:
    """A long axis title on two lines, broken after its first dot or before its bracket."""
    if len(label) <= 14:
        return label
    if " (" in label:
        head, tail = label.split(" (", 1)
        return f"{head}\n({tail}"
    if "." in label:
        head, tail = label.split(".", 1)
        return f"{head}.\n{tail}"
    return label
