"""The network editor's canvas: node cards with ports, bezier edges and repeat-block frames.

The canvas draws a spec; it never edits one. A drag from a port, a drop from the palette, a moved
node or the Delete key becomes a signal (``connectRequested``, ``layerDropped``, ``nodesMoved``,
``deleteRequested``) that the editor turns into an undo command, after which the editor calls
:meth:`NodeCanvas.sync` with the new spec and its analysis. Colours follow the widget's palette,
so the light and dark themes both work; only the category accents and the error red are fixed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from automl_studio.gui.qt_workarounds import protect_none_refcount

# Painting cards makes many void Qt calls, which hit the PySide6 6.12 refcount bug (see module).
protect_none_refcount()

LAYER_MIME = "application/x-automl-studio-layer"

CATEGORY_COLOURS = {
    "Input": "#23A36B",
    "Core": "#3A7BD5",
    "Convolution": "#8E5BD6",
    "Pooling": "#5C6BC0",
    "Normalization": "#0E9FA8",
    "Recurrent": "#E07A2E",
    "Attention & embedding": "#D2477A",
    "Augmentation": "#7CA82B",
    "Merge": "#7B8794",
    "Output": "#C9952B",
}
ERROR_RED = QColor("#E5484D")
NODE_WIDTH = 200.0
HEADER = 30.0
LINE = 17.0
PORT_RADIUS = 6.0
GRID = 24.0
CARD_TEXT = 0.84  # a card's param lines, relative to the widget's font
READABLE_PX = 9.0  # Fit never zooms out so far that card text is smaller than this on screen


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, "#7B8794"))


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t, 1.0)


def _alpha(colour: QColor, alpha: float) -> QColor:
    c = QColor(colour)
    c.setAlphaF(alpha)
    return c


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


@dataclass
class NodeView:
    """What one card shows; the editor fills it from the spec and the analysis."""

    node_id: str
    type: str
    category: str
    inputs: str  # "none", "one" or "many"
    lines: list[str] = field(default_factory=list)  # searched / set params, "units 16…256"
    shape: str = ""
    params: str = ""
    optional: bool = False
    errors: list[str] = field(default_factory=list)
    skipped: bool = False  # showing a trial in which this node is off
    highlight_lines: bool = False  # the lines are a trial's values


class PortItem(QGraphicsItem):
    """A node's input (left) or output (right) port; dragging from one draws a new edge."""

    def __init__(self, node: NodeItem, kind: str) -> None:
        super().__init__(node)
        self.node, self.kind = node, kind
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        self.setToolTip("Drag to an input to connect" if kind == "out" else
                        "Drag to an output to connect")

    def boundingRect(self) -> QRectF:
        r = PORT_RADIUS + 5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        palette = self.node.canvas_palette()
        colour = category_colour(self.node.view.category)
        r = PORT_RADIUS + (2 if self.hovered else 0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 2))
        painter.setBrush(colour if self.hovered or self.node.connected(self.kind)
                         else palette.color(QPalette.ColorRole.Base))
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = False
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.node.canvas_scene().begin_link(self, event.scenePos())
            event.accept()
        else:
            event.ignore()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.node.canvas_scene().update_link(event.scenePos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.node.canvas_scene().end_link(event.scenePos())


class NodeItem(QGraphicsObject):
    """One layer as a rounded card: title, type, its searched params, output shape and size."""

    def __init__(self, view: NodeView) -> None:
        super().__init__()
        self.view = view
        self.edges: list[EdgeItem] = []
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.in_port = PortItem(self, "in") if view.inputs != "none" else None
        self.out_port = PortItem(self, "out") if view.type != "Output" else None
        self._height = 0.0
        self.set_view(view)

    # -- helpers the ports use
    def canvas_scene(self) -> CanvasScene:
        scene = self.scene()
        assert isinstance(scene, CanvasScene)
        return scene

    def canvas_palette(self) -> QPalette:
        scene = self.scene()
        return scene.palette() if scene is not None else QPalette()

    def connected(self, kind: str) -> bool:
        return any((e.dest is self) if kind == "in" else (e.source is self) for e in self.edges)

    # -- content
    def set_view(self, view: NodeView) -> None:
        self.prepareGeometryChange()
        self.view = view
        body = len(view.lines) + (1 if view.shape else 0) + (1 if view.params else 0)
        self._height = HEADER + 10 + max(1, body) * LINE + 4
        mid = HEADER / 2  # ports sit on the header, so edges line up between cards of any height
        if self.in_port:
            self.in_port.setPos(0, mid)
        if self.out_port:
            self.out_port.setPos(NODE_WIDTH, mid)
        tips = [f"{view.node_id} ({view.type})"] + view.errors
        self.setToolTip("\n".join(tips))
        self.setOpacity(0.38 if view.skipped else 1.0)
        for edge in self.edges:
            edge.adjust()
        self.update()

    def port_pos(self, kind: str) -> QPointF:
        port = self.in_port if kind == "in" else self.out_port
        if port is None:
            return self.scenePos()
        return port.scenePos()

    def boundingRect(self) -> QRectF:
        return QRectF(-8, -12, NODE_WIDTH + 20, self._height + 22)

    def card_rect(self) -> QRectF:
        return QRectF(0, 0, NODE_WIDTH, self._height)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.card_rect(), 10, 10)
        return path

    def badge_rect(self) -> QRectF:
        return QRectF(NODE_WIDTH - 40, -11, 22, 22)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        v = self.view
        palette = self.canvas_palette()
        dark = _is_dark(palette)
        accent = category_colour(v.category)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        muted = _mix(text, base, 0.42)
        rect = self.card_rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)

        # A soft shadow: two offset translucent cards are enough and cost nothing.
        painter.setPen(Qt.PenStyle.NoPen)
        for dy, alpha in ((3.0, 0.10 if not dark else 0.35), (1.5, 0.08 if not dark else 0.25)):
            painter.setBrush(QColor(0, 0, 0, int(alpha * 255)))
            painter.drawRoundedRect(rect.translated(0, dy).adjusted(-0.5, 0, 0.5, 0.5), 10, 10)

        card = _mix(base, accent, 0.05 if not dark else 0.08)
        card_path = QPainterPath()
        card_path.addRoundedRect(rect, 10, 10)
        painter.setBrush(card)
        painter.drawPath(card_path)

        # Header band in the category colour, clipped to the card's rounded top.
        painter.save()
        painter.setClipPath(card_path)
        painter.setBrush(_alpha(accent, 0.22 if not dark else 0.34))
        painter.drawRect(QRectF(0, 0, NODE_WIDTH, HEADER))
        painter.setBrush(accent)
        painter.drawRect(QRectF(0, 0, 4, self._height))
        painter.restore()

        if self.isSelected():
            border = QPen(palette.color(QPalette.ColorRole.Highlight), 2.4)
        elif v.errors:
            border = QPen(ERROR_RED, 1.8)
        else:
            border = QPen(_alpha(_mix(accent, text, 0.25), 0.55), 1.1)
        if v.optional:
            border.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(border)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 10, 10)

        title_font = QFont(painter.font())
        title_font.setPointSizeF(max(8.0, title_font.pointSizeF() * 1.02))
        title_font.setBold(True)
        small = QFont(painter.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * CARD_TEXT))
        type_font = QFont(small)
        type_font.setBold(True)
        type_font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 104)

        # Header: the node's name first, then its type (in the accent colour) in what room is left.
        title_metrics = QFontMetricsF(title_font)
        type_metrics = QFontMetricsF(type_font)
        title_width = min(title_metrics.horizontalAdvance(v.node_id), NODE_WIDTH * 0.56)
        title = title_metrics.elidedText(v.node_id, Qt.TextElideMode.ElideRight, title_width + 1)
        type_room = NODE_WIDTH - 14 - title_width - 12 - 10
        type_text = type_metrics.elidedText(v.type, Qt.TextElideMode.ElideRight, max(0.0, type_room))
        type_colour = _mix(accent, text, 0.35 if not dark else 0.1)
        painter.setFont(title_font)
        painter.setPen(text)
        painter.drawText(QRectF(14, 0, title_width + 2, HEADER),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(type_font)
        painter.setPen(type_colour)
        painter.drawText(QRectF(NODE_WIDTH - 12 - type_room, 0, type_room, HEADER),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, type_text)

        y = HEADER + 6
        painter.setFont(small)
        metrics = QFontMetricsF(small)
        if v.optional:
            pill = "optional"
            w = metrics.horizontalAdvance(pill) + 10
            pill_rect = QRectF(NODE_WIDTH - w - 8, y + 1, w, LINE - 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_alpha(accent, 0.18 if not dark else 0.3))
            painter.drawRoundedRect(pill_rect, 7, 7)
            painter.setPen(type_colour)
            painter.drawText(pill_rect, Qt.AlignmentFlag.AlignCenter, pill)
        line_colour = palette.color(QPalette.ColorRole.Highlight) if v.highlight_lines else text
        rows = [(line, line_colour) for line in v.lines]
        if v.shape:
            rows.append(("→ " + v.shape, muted))
        if v.params:
            rows.append((v.params, muted))
        for i, (line, colour) in enumerate(rows or [("—", muted)]):
            room = NODE_WIDTH - 26 - (64 if v.optional and i == 0 else 0)  # the "optional" pill
            painter.setPen(colour)
            painter.drawText(QRectF(14, y, room, LINE), Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(line, Qt.TextElideMode.ElideRight, room))
            y += LINE

        if v.errors:
            badge = self.badge_rect()
            painter.setPen(QPen(base, 2))
            painter.setBrush(ERROR_RED)
            painter.drawEllipse(badge)
            painter.setPen(QColor("white"))
            bold = QFont(small)
            bold.setBold(True)
            painter.setFont(bold)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.adjust()
            scene = self.scene()
            if isinstance(scene, CanvasScene):
                scene.node_moved(self)
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(3 if value else 1)
        return super().itemChange(change, value)


def _bezier(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth S from an output to an input; backwards (a wrapped row) it runs like a carriage
    return: out to the right, back along the gap above the target's row, and in from the left."""
    path = QPainterPath(start)
    if end.x() >= start.x() - 10 or abs(end.y() - start.y()) < HEADER * 2:
        dx = max(50.0, abs(end.x() - start.x()) * 0.5)
        path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
        return path
    turn = 36.0
    mid_y = end.y() - HEADER / 2 - 52 if end.y() > start.y() else end.y() + 120
    path.cubicTo(QPointF(start.x() + turn, start.y()), QPointF(start.x() + turn, mid_y),
                 QPointF(start.x(), mid_y))
    path.lineTo(QPointF(end.x(), mid_y))
    path.cubicTo(QPointF(end.x() - turn, mid_y), QPointF(end.x() - turn, end.y()), end)
    return path


def compact_shape(shape: str) -> str:
    """``(32, 32, 3)`` as ``32×32×3`` and ``(256,)`` as ``256``: short enough for an edge."""
    inner = shape.strip("()").rstrip(",")
    return "×".join(part.strip() for part in inner.split(",")) if inner else shape


class EdgeItem(QGraphicsPathItem):
    """A smooth edge from an output port to an input port, labelled with the shape it carries."""

    def __init__(self, source: NodeItem, dest: NodeItem, index: int) -> None:
        super().__init__()
        self.source, self.dest, self.index = source, dest, index
        self.label = ""
        self.merge_slot = 0  # 1-based position among a merge's inputs, 0 if not a merge
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.setAcceptHoverEvents(True)
        self.hovered = False
        source.edges.append(self)
        dest.edges.append(self)
        self.adjust()

    def key(self) -> tuple[str, str]:
        return self.source.view.node_id, self.dest.view.node_id

    def detach(self) -> None:
        for node in (self.source, self.dest):
            if self in node.edges:
                node.edges.remove(self)

    def adjust(self) -> None:
        self.prepareGeometryChange()
        self.setPath(_bezier(self.source.port_pos("out"), self.dest.port_pos("in")))

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-60, -14, 60, 14)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = False
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene = self.scene()
        palette = scene.palette() if scene is not None else QPalette()
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.isSelected():
            colour, width = palette.color(QPalette.ColorRole.Highlight), 2.6
        elif self.hovered:
            colour, width = _mix(text, base, 0.25), 2.2
        else:
            colour, width = _mix(text, base, 0.55), 1.8
        painter.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        label = self.label + (f"  #{self.merge_slot}" if self.merge_slot else "")
        if not label:
            return
        font = QFont(painter.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        mid = self.path().pointAtPercent(0.5)
        w, h = metrics.horizontalAdvance(label) + 12, metrics.height() + 4
        pill = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        painter.setPen(QPen(_mix(text, base, 0.75), 1))
        painter.setBrush(_mix(base, text, 0.04))
        painter.drawRoundedRect(pill, h / 2, h / 2)
        painter.setPen(_mix(text, base, 0.3))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)


class RepeatFrame(QGraphicsItem):
    """A dashed frame around a repeat block's chain, labelled "block ×0–4"."""

    def __init__(self, repeat_id: str, members: list[NodeItem], label: str) -> None:
        super().__init__()
        self.repeat_id, self.members, self.label = repeat_id, members, label
        self.has_error = False
        self.setZValue(-1)
        self._rect = QRectF()
        self.adjust()

    def adjust(self) -> None:
        rect = QRectF()
        for node in self.members:
            rect = rect.united(node.sceneBoundingRect().adjusted(8, 12, -12, -10))
        self.prepareGeometryChange()
        self._rect = rect.adjusted(-22, -40, 22, 18)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene = self.scene()
        palette = scene.palette() if scene is not None else QPalette()
        accent = palette.color(QPalette.ColorRole.Highlight)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(ERROR_RED if self.has_error else _alpha(accent, 0.75), 1.5, Qt.PenStyle.DashLine)
        pen.setDashPattern([5, 4])
        painter.setPen(pen)
        painter.setBrush(_alpha(accent, 0.06 if not _is_dark(palette) else 0.1))
        painter.drawRoundedRect(self._rect, 14, 14)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        w = metrics.horizontalAdvance(self.label) + 18
        tag = QRectF(self._rect.left() + 12, self._rect.top() + 8, w, metrics.height() + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_alpha(accent, 0.9))
        painter.drawRoundedRect(tag, tag.height() / 2, tag.height() / 2)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, self.label)


class CanvasScene(QGraphicsScene):
    """Holds the items and runs port drags; the view owns the signals."""

    def __init__(self, canvas: NodeCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.nodes: dict[str, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self.frames: dict[str, RepeatFrame] = {}
        self._link_from: PortItem | None = None
        self._link_item: QGraphicsPathItem | None = None

    # -- port drags
    def begin_link(self, port: PortItem, pos: QPointF) -> None:
        self._link_from = port
        item = QGraphicsPathItem()
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        item.setPen(pen)
        item.setZValue(5)
        self.addItem(item)
        self._link_item = item
        self.update_link(pos)

    def update_link(self, pos: QPointF) -> None:
        if self._link_from is None or self._link_item is None:
            return
        anchor = self._link_from.scenePos()
        path = _bezier(anchor, pos) if self._link_from.kind == "out" else _bezier(pos, anchor)
        self._link_item.setPath(path)

    def end_link(self, pos: QPointF) -> None:
        start = self._link_from
        if self._link_item is not None:
            self.removeItem(self._link_item)
        self._link_from, self._link_item = None, None
        if start is None:
            return
        target = self.node_at(pos, exclude=start.node)
        if target is None:
            return
        if start.kind == "out" and target.in_port is not None:
            self.canvas.connectRequested.emit(start.node.view.node_id, target.view.node_id)
        elif start.kind == "in" and target.out_port is not None:
            self.canvas.connectRequested.emit(target.view.node_id, start.node.view.node_id)

    def node_at(self, pos: QPointF, exclude: NodeItem | None = None) -> NodeItem | None:
        for item in self.items(QRectF(pos.x() - 8, pos.y() - 8, 16, 16)):
            node = item.node if isinstance(item, PortItem) else item
            if isinstance(node, NodeItem) and node is not exclude:
                return node
        return None

    def node_moved(self, node: NodeItem) -> None:
        for frame in self.frames.values():
            if node in frame.members:
                frame.adjust()


class NodeCanvas(QGraphicsView):
    """The editor's zoomable, pannable view of the graph (objectName ``nodeCanvas``).

    Signals:
        layerDropped(str, dict, QPointF): a palette item (type, params) dropped at a scene point.
        connectRequested(str, str): the user dragged from one node's output to another's input.
        nodesMoved(dict): node id → (x, y), after the user dragged nodes.
        deleteRequested(): Delete or Backspace with a selection.
        selectionChanged(): the selected nodes or edges changed.
    """

    layerDropped = Signal(str, dict, QPointF)
    connectRequested = Signal(str, str)
    nodesMoved = Signal(dict)
    deleteRequested = Signal()
    selectionChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodeCanvas")
        self.setAccessibleName("Network canvas")
        self.setAccessibleDescription(
            "The search space as a graph. Drag layers here from the palette, drag from a port to "
            "connect, Delete removes, F fits the view, the wheel zooms and the middle button pans.")
        self._scene = CanvasScene(self)
        self.setScene(self._scene)
        self._scene.setSceneRect(QRectF(-5000, -5000, 10000, 10000))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._positions: dict[str, tuple[float, float]] = {}
        self._panning: QPointF | None = None
        self._space_down = False
        self._scene.selectionChanged.connect(self.selectionChanged)

    # -- content
    def sync(self, views: list[NodeView], positions: Mapping[str, tuple[float, float]],
             edges: list[tuple[str, str]], edge_labels: Mapping[str, str],
             repeats: list[tuple[str, list[str], str, bool]], merge_nodes: set[str]) -> None:
        """Makes the scene show these nodes, edges and repeat frames (items are reused)."""
        scene = self._scene
        wanted = {v.node_id for v in views}
        selected = set(self.selected_nodes())
        for edge in list(scene.edges):
            edge.detach()
            scene.removeItem(edge)
        scene.edges.clear()
        for frame in scene.frames.values():
            scene.removeItem(frame)
        scene.frames.clear()
        for node_id in [n for n in scene.nodes if n not in wanted]:
            scene.removeItem(scene.nodes.pop(node_id))
        for view in views:
            item = scene.nodes.get(view.node_id)
            if item is not None and (item.view.type != view.type):
                scene.removeItem(scene.nodes.pop(view.node_id))
                item = None
            if item is None:
                item = NodeItem(view)
                scene.addItem(item)
                scene.nodes[view.node_id] = item
            else:
                item.set_view(view)
            pos = positions.get(view.node_id, (0.0, 0.0))
            if item.pos() != QPointF(*pos):
                item.setPos(QPointF(*pos))
            item.setSelected(view.node_id in selected)
        self._positions = {k: (float(v[0]), float(v[1])) for k, v in positions.items()}
        slots: dict[str, int] = {}
        for index, (src, dst) in enumerate(edges):
            if src not in scene.nodes or dst not in scene.nodes:
                continue
            edge = EdgeItem(scene.nodes[src], scene.nodes[dst], index)
            edge.label = edge_labels.get(src, "")
            if dst in merge_nodes:
                slots[dst] = slots.get(dst, 0) + 1
                edge.merge_slot = slots[dst]
            scene.addItem(edge)
            scene.edges.append(edge)
        for repeat_id, members, label, has_error in repeats:
            items = [scene.nodes[n] for n in members if n in scene.nodes]
            if not items:
                continue
            frame = RepeatFrame(repeat_id, items, label)
            frame.has_error = has_error
            scene.addItem(frame)
            scene.frames[repeat_id] = frame
        for item in scene.nodes.values():
            item.update()
        scene.update()

    def node_item(self, node_id: str) -> NodeItem:
        return self._scene.nodes[node_id]

    def edge_items(self) -> list[EdgeItem]:
        return list(self._scene.edges)

    def frame_items(self) -> dict[str, RepeatFrame]:
        return dict(self._scene.frames)

    def node_at_view(self, pos: QPoint) -> str | None:
        """The id of the node under a viewport point, if any."""
        node = self._scene.node_at(self.mapToScene(pos))
        return node.view.node_id if node is not None else None

    def selected_nodes(self) -> list[str]:
        return [n.view.node_id for n in self._scene.nodes.values() if n.isSelected()]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [e.key() for e in self._scene.edges if e.isSelected()]

    def select_nodes(self, node_ids: list[str]) -> None:
        wanted = set(node_ids)
        self._scene.blockSignals(True)
        self._scene.clearSelection()
        for node_id, item in self._scene.nodes.items():
            item.setSelected(node_id in wanted)
        self._scene.blockSignals(False)
        self.selectionChanged.emit()

    def card_text_px(self) -> float:
        """The on-screen height, in pixels, of a card's param text at 1:1."""
        point = max(6.5, self.font().pointSizeF() * CARD_TEXT)
        return point * self.logicalDpiY() / 72.0

    def readable_scale(self) -> float:
        """The smallest scale Fit uses: card text stays at least :data:`READABLE_PX` high."""
        return min(1.0, READABLE_PX / self.card_text_px())

    def fit_all(self) -> None:
        """Zooms to show every node, between :meth:`readable_scale` and 1:1.

        A graph too big to show readably is shown from its start (top left, where the inputs are)
        and the rest is scrolled to, rather than shrunk to unreadable cards.
        """
        items = list(self._scene.nodes.values())
        if not items:
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        for frame in self._scene.frames.values():
            rect = rect.united(frame.sceneBoundingRect())
        rect = rect.adjusted(-40, -40, 40, 40)
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
            self.centerOn(rect.center())
        elif self.transform().m11() < self.readable_scale():
            scale = self.readable_scale()
            self.resetTransform()
            self.scale(scale, scale)
            view = self.viewport().size()
            half_w, half_h = view.width() / scale / 2, view.height() / scale / 2
            x = rect.left() + half_w if rect.width() > 2 * half_w else rect.center().x()
            y = rect.top() + half_h if rect.height() > 2 * half_h else rect.center().y()
            self.centerOn(x, y)

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        current = self.zoom()
        target = min(2.5, max(0.15, current * factor))
        self.scale(target / current, target / current)

    # -- background: a subtle dotted grid in the palette's colours
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        rect = QRectF(rect)
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        window = palette.color(QPalette.ColorRole.Window)
        text = palette.color(QPalette.ColorRole.Text)
        painter.fillRect(rect, _mix(base, window, 0.5))
        if self.zoom() < 0.35:
            return
        minor = _alpha(text, 0.07)
        major = _alpha(text, 0.13)
        left = math.floor(rect.left() / GRID) * GRID
        top = math.floor(rect.top() / GRID) * GRID
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        x = left
        minor_points, major_points = [], []
        while x < rect.right():
            y = top
            while y < rect.bottom():
                if round(x / GRID) % 5 == 0 and round(y / GRID) % 5 == 0:
                    major_points.append(QPointF(x, y))
                else:
                    minor_points.append(QPointF(x, y))
                y += GRID
            x += GRID
        painter.setPen(QPen(minor, 1.4 / max(self.zoom(), 0.5)))
        painter.drawPoints(minor_points)
        painter.setPen(QPen(major, 2.4 / max(self.zoom(), 0.5)))
        painter.drawPoints(major_points)

    # -- input
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if self.selected_nodes() or self.selected_edges():
                self.deleteRequested.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_F and not event.modifiers():
            self.fit_all()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.2)
            return
        if event.key() == Qt.Key.Key_Minus:
            self.zoom_by(1 / 1.2)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space_down):
            self._panning = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            self._panning = None
            if self._space_down:
                self.setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)
        moved = {}
        for node_id, item in self._scene.nodes.items():
            pos = (round(item.pos().x(), 1), round(item.pos().y(), 1))
            old = self._positions.get(node_id)
            if old is None or abs(old[0] - pos[0]) > 0.05 or abs(old[1] - pos[1]) > 0.05:
                moved[node_id] = pos
        if moved:
            self._positions.update(moved)
            self.nodesMoved.emit(moved)

    # -- drops from the palette
    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: Any) -> None:
        data = event.mimeData()
        if not data.hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        payload = json.loads(bytes(data.data(LAYER_MIME).data()).decode("utf-8"))
        pos = self.mapToScene(event.position().toPoint())
        event.acceptProposedAction()
        self.layerDropped.emit(str(payload["type"]), dict(payload.get("params", {})),
                               QPointF(pos.x() - NODE_WIDTH / 2, pos.y() - HEADER / 2))


__all__ = ["CATEGORY_COLOURS", "LAYER_MIME", "EdgeItem", "NodeCanvas", "NodeItem", "NodeView",
           "PortItem", "RepeatFrame", "category_colour"]
