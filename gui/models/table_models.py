"""Qt table models for the Data page: a virtual preview of the data and the column list.

:class:`DatasetPreviewModel` never copies the data into Python lists: it keeps each column's
NumPy array (a view where pandas allows) and formats only the cells the view asks for, so a
million-row file scrolls as smoothly as a small one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
# The role a QSortFilterProxyModel sorts the preview by: numbers as numbers (missing last), text
# as text, so "10" sorts after "9".
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 10


@dataclass(frozen=True)
class Distribution:
    """What the Data page's small chart shows for one column: bar labels, heights and a title."""

    labels: Sequence[str]
    heights: Sequence[int]
    title: str


def column_distribution(series: Any, *, categorical: bool, text: bool = False) -> Distribution:
    """A histogram of a numeric column, the most frequent values of a categorical one, or, for a
    text column (``text=True``), a histogram of its values' lengths in words (the engine's
    tokenizer, :func:`automl_studio.engine.data.text.words`): nearly every text is unique, so its
    top values would be bars of height 1."""
    import numpy as np
    import pandas as pd

    present = series.dropna()
    missing = len(series) - len(present)
    tail = f"; {missing:,} missing" if missing else ""
    if text and len(present):
        from automl_studio.engine.data.text import words

        lengths = np.array([len(words(str(v))) for v in present], dtype=int)
        top = int(lengths.max())
        counts = np.bincount(lengths, minlength=top + 1)
        if top + 1 > HISTOGRAM_BINS:  # wide ranges: equal-width bins of whole words
            counts, edges = np.histogram(lengths, bins=HISTOGRAM_BINS, range=(0, top + 1))
            labels = [f"{edge:.0f}" for edge in edges[:-1]]
        else:
            labels = [str(n) for n in range(top + 1)]
        return Distribution(labels, [int(c) for c in counts],
                            f"words per value: {len(lengths):,} values, median {float(np.median(lengths)):g}, "
                            f"longest {top}{tail}")
    if not categorical and pd.api.types.is_numeric_dtype(series) and len(present):
        values = present.to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        counts, edges = np.histogram(values, bins=min(HISTOGRAM_BINS, max(len(np.unique(values)), 1)))
        labels = [f"{edge:.3g}" for edge in edges[:-1]]
        return Distribution(labels, [int(c) for c in counts],
                            f"histogram of {len(values):,} values, {edges[0]:.4g} to {edges[-1]:.4g}{tail}")
    top = present.astype(str).value_counts().head(TOP_CATEGORIES)
    distinct = int(present.nunique())
    more = f" (top {len(top)} of {distinct:,})" if distinct > len(top) else ""
    return Distribution([str(v) for v in top.index], [int(c) for c in top.to_numpy()],
                        f"{distinct:,} categories{more}{tail}")


def format_cell(value: Any) -> str:
    """A compact text for one cell: floats to 6 significant digits, missing values as "—"."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.6g}"
    try:
        import numpy as np

        if isinstance(value, np.floating):
            return "—" if np.isnan(value) else f"{float(value):.6g}"
        if isinstance(value, np.ndarray):
            return f"array{tuple(value.shape)}"
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    text = str(value)
    return "—" if text in ("nan", "<NA>", "NaT") else text


def sort_key(value: Any) -> float | str:
    """A cell as the preview sorts it: numbers as floats (missing: +inf, last), others as text."""
    if isinstance(value, bool) or value is None:
        return str(value) if value is not None else "\uffff"
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return math.inf if math.isnan(number) else number
    text = format_cell(value)
    return "\uffff" if text == "—" else text


class DatasetPreviewModel(QAbstractTableModel):
    """A read-only, virtual view of a DataFrame or of 2-D ``x`` (plus ``y``) arrays."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._columns: list[Any] = []  # per column: a lazily fetched NumPy array
        self._frame: Any = None
        self._rows = 0
        self._target: str | None = None

    def set_dataset(self, dataset: Any) -> None:
        self.beginResetModel()
        self._frame, self._columns, self._headers, self._rows = None, [], [], 0
        if dataset is not None and dataset.kind == "table":
            self._frame = dataset.frame
            self._headers = [str(c) for c in dataset.frame.columns]
            self._columns = [None] * len(self._headers)
            self._rows = len(dataset.frame)
        elif dataset is not None and dataset.x is not None and dataset.x.ndim <= 2:
            x = dataset.x.reshape(len(dataset.x), -1) if dataset.x.ndim == 1 else dataset.x
            self._headers = [f"x[{i}]" for i in range(x.shape[1])]
            self._columns = [x[:, i] for i in range(x.shape[1])]
            if dataset.y is not None and dataset.y.ndim == 1:
                self._headers.append("y")
                self._columns.append(dataset.y)
            self._rows = len(x)
        self.endResetModel()

    def set_target(self, target: str | None) -> None:
        self._target = target
        if self._headers:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._headers) - 1)

    def _column(self, col: int) -> Any:
        values = self._columns[col]
        if values is None:
            values = self._frame.iloc[:, col].to_numpy()
            self._columns[col] = values
        return values

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return format_cell(self._column(index.column())[index.row()])
        if role == SORT_ROLE:
            return sort_key(self._column(index.column())[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            value = self._column(index.column())[index.row()]
            if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
            if role == Qt.ItemDataRole.DisplayRole:
                name = self._headers[section]
                return f"{name} (target)" if name == self._target else name
            if role == Qt.ItemDataRole.FontRole and self._headers[section] == self._target:
                font = QFont()
                font.setBold(True)
                return font
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None


class ColumnsModel(QAbstractTableModel):
    """The profiled columns: name (checkable: use it or not), kind, missing values and a note.

    Checking a box does not change the model: it emits :attr:`usageChangeRequested` so the page
    can record the change on its undo stack and profile the data again.
    """

    usageChangeRequested = Signal(str, bool)

    HEADERS = ("Column", "Kind", "Missing", "Distinct", "Note")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._columns: list[Any] = []
        self._checkable = False
        self._notes: dict[str, str] = {}

    def set_profile(self, profile: Any) -> None:
        self.beginResetModel()
        self._columns = list(profile.columns) if profile is not None else []
        self._notes = {}
        # Arrays and images have one input, x: nothing to switch on or off.
        self._checkable = profile is not None and profile.data_kind == "table"
        self.endResetModel()

    def set_notes(self, notes: dict[str, str]) -> None:
        """Shows ``notes`` (by column name) in the Note column instead of the profile's, until the
        next :meth:`set_profile` (a text column's token statistics for the current settings)."""
        self._notes = dict(notes)
        if self._columns:
            self.dataChanged.emit(self.index(0, 4), self.index(len(self._columns) - 1, 4))

    def column_names(self) -> list[str]:
        return [c.name for c in self._columns]

    def used_columns(self) -> list[str]:
        return [c.name for c in self._columns if c.used and c.kind != "target"]

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid() and index.column() == 0:
            col = self._columns[index.row()]
            if self._checkable and col.kind not in ("target", "constant"):
                flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = self._columns[index.row()]
        c = index.column()
        note = self._notes.get(col.name, col.reason)
        if role == Qt.ItemDataRole.DisplayRole:
            unique = str(col.unique) if self._checkable or col.unique else "—"
            return (col.name, col.kind, str(col.missing), unique, note)[c]
        if role == Qt.ItemDataRole.CheckStateRole and c == 0 and col.kind != "target" \
                and self._checkable:
            return Qt.CheckState.Checked if col.used else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            examples = ", ".join(col.examples) if col.examples else "—"
            return f"{col.name} ({col.dtype})\nexamples: {examples}\n{note}".strip()
        if role == Qt.ItemDataRole.FontRole and col.kind == "target":
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.isValid() and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            col = self._columns[index.row()]
            used = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
            if used != col.used:
                self.usageChangeRequested.emit(col.name, bool(used))
            return True
        return False

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None
