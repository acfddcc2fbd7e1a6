"""The layer palette: the engine's layer registry grouped by category, searchable, draggable.

Inputs come from the dataset: with a data signature, the Input group offers one item per input
the data has (numeric columns, category codes, images of the right shape), each named for what
it reads ("Numeric columns (4,)", "Categories as one-hot"); without one it offers every kind.
Dragging an item onto the canvas, double-clicking it or pressing Enter adds it.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.registry import LAYER_TYPES, categories
from automl_studio.engine.space.shapes import format_shape
from automl_studio.gui.editor.node_canvas import CATEGORY_COLOURS, LAYER_MIME

PAYLOAD_ROLE = Qt.ItemDataRole.UserRole + 1
SOURCE_TEXT = {
    "numeric": "numeric columns",
    "categorical": "categorical columns",
    "image": "images",
    "sequence": "sequences",
}


def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawRoundedRect(1, 1, 10, 10, 3, 3)
    painter.end()
    return QIcon(pixmap)


def input_items(signature: DataSignature | None) -> list[tuple[str, dict[str, Any], str]]:
    """(label, params, tooltip) of each Input the palette offers for this data."""
    if signature is None:
        return [(SOURCE_TEXT[s].capitalize(), {"source": s}, f"An Input that reads the dataset's {SOURCE_TEXT[s]}")
                for s in SOURCE_TEXT]
    items = []
    for source, shape in signature.inputs.items():
        text = SOURCE_TEXT.get(source, source)
        if source == "categorical":
            detail = f"{shape[0]} columns, {signature.categorical_tokens} codes"
            # Short enough to read whole in a narrow palette, under its "Input" group.
            items.append(("Categories as one-hot", {"source": source, "encoding": "one_hot"},
                          f"An Input that reads the dataset's {text} ({detail}), encoded as one-hot columns"))
            items.append(("Category embeddings", {"source": source, "encoding": "embedding"},
                          f"An Input that reads the dataset's {text} ({detail}), each code a learned vector"))
            continue
        items.append((f"{text.capitalize()} {format_shape(tuple(shape))}", {"source": source},
                      f"An Input that reads the dataset's {text}, shape {format_shape(tuple(shape))}"))
    return items


class _PaletteModel(QStandardItemModel):
    """Categories with their layer types; items carry a JSON payload for drags."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, indexes: Any) -> QMimeData:
        data = QMimeData()
        for index in indexes:
            payload = index.data(PAYLOAD_ROLE)
            if payload:
                data.setData(LAYER_MIME, payload.encode("utf-8"))
                data.setText(json.loads(payload)["type"])
                break
        return data


class _Filter(QSortFilterProxyModel):
    """Keeps categories whose name or any layer matches; a matching category shows all its layers."""

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        text = self.filterRegularExpression().pattern().lower()
        if not text:
            return True
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        label = str(index.data() or "").lower()
        tip = str(index.data(Qt.ItemDataRole.ToolTipRole) or "").lower()
        if text in label or text in tip:
            return True
        if parent.isValid():
            return text in str(parent.data() or "").lower()
        return any(self.filterAcceptsRow(r, index) for r in range(model.rowCount(index)))


class NodePalette(QWidget):
    """The searchable list of layers (objectName ``nodePalette``).

    Signals:
        layerActivated(str, dict): a layer type (and its preset params) double-clicked or Entered.
    """

    layerActivated = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodePalette")
        self.setAccessibleName("Layer palette")
        self.search = QLineEdit()
        self.search.setObjectName("paletteSearch")
        self.search.setAccessibleName("Search layers")
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.model = _PaletteModel(self)
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(False)
        self.tree = QTreeView()
        self.tree.setObjectName("paletteTree")
        self.tree.setAccessibleName("Layers by category")
        self.tree.setModel(self.proxy)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        self.tree.setAnimated(True)
        self.tree.setIndentation(12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        self.search.textChanged.connect(self._on_search)
        # "activated" is a double-click (or the platform's single click) and Enter; connecting
        # doubleClicked as well would add the layer twice.
        self.tree.activated.connect(self._on_activated)
        self.set_signature(None)

    def set_signature(self, signature: DataSignature | None) -> None:
        """Rebuilds the list; the Input group follows the data's inputs."""
        self.model.clear()
        groups: dict[str, QStandardItem] = {}
        for category in categories():
            group = QStandardItem(category)
            group.setIcon(_dot(CATEGORY_COLOURS.get(category, "#7B8794")))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font()
            font.setBold(True)
            group.setFont(font)
            groups[category] = group
            self.model.appendRow(group)
        for layer in LAYER_TYPES.values():
            if layer.role == "input":  # one item per data source
                for label, params, tip in input_items(signature):
                    groups[layer.category].appendRow(self._item(label, layer.name, params, tip))
                continue
            tip = layer.doc or ", ".join(p.name for p in layer.params) or layer.name
            groups[layer.category].appendRow(self._item(layer.name, layer.name, {}, tip))
        self.tree.expandAll()
        self._on_search(self.search.text())

    @staticmethod
    def _item(label: str, kind: str, params: dict[str, Any], tip: str) -> QStandardItem:
        item = QStandardItem(label)
        item.setToolTip(tip)
        item.setData(json.dumps({"type": kind, "params": params}), PAYLOAD_ROLE)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        return item

    def labels(self) -> list[str]:
        """The visible layer labels, in order (after the search filter)."""
        out: list[str] = []
        for row in range(self.proxy.rowCount()):
            group = self.proxy.index(row, 0)
            out.extend(str(self.proxy.index(r, 0, group).data()) for r in range(self.proxy.rowCount(group)))
        return out

    def index_of(self, label: str) -> QModelIndex:
        """The view index of a visible layer label (invalid if filtered out)."""
        for row in range(self.proxy.rowCount()):
            group = self.proxy.index(row, 0)
            for r in range(self.proxy.rowCount(group)):
                index = self.proxy.index(r, 0, group)
                if index.data() == label:
                    return index
        return QModelIndex()

    def mime_for(self, label: str) -> QMimeData:
        """The drag data of a layer label (what dragging it to the canvas carries)."""
        source = self.proxy.mapToSource(self.index_of(label))
        return self.model.mimeData([source])

    @Slot(str)
    def _on_search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.tree.expandAll()

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        payload = index.data(PAYLOAD_ROLE)
        if payload:
            data = json.loads(payload)
            self.layerActivated.emit(data["type"], data.get("params", {}))


__all__ = ["NodePalette", "input_items"]
