"""Qt models for the Predict page: predictions as a table, and scored images as thumbnails.

Both read the plain dict the engine returns (``Predictions.to_dict`` in
``engine/export/predict.py``: ``keys``, ``labels``, ``proba``, ``class_names``, ``problems``),
so the window never loads Keras.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QImageReader, QPixmap

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # numbers as numbers, missing last (see PredictionsProxy)
THUMBNAIL = 96  # pixels, the longer side of an image in the grid
PROBLEM = "problem"


class PredictionsModel(QAbstractTableModel):
    """One row per scored (or unscorable) row of the data: key, prediction, probabilities, problem.

    Columns: ``row`` (the file's row number) or ``file`` (images), ``prediction``, ``problem``
    (why a row was not scored, empty otherwise: beside the empty prediction it explains), and for
    a classifier ``confidence`` and one ``P(class)`` per class. Probabilities are shown as
    percentages and sorted as numbers.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._result: dict[str, Any] = {"keys": [], "labels": [], "proba": None, "class_names": [],
                                        "problems": []}
        self._headers: list[str] = []

    def set_predictions(self, result: dict[str, Any]) -> None:
        """Shows ``Predictions.to_dict()``'s data (``task`` optional; ``key``, optional, names the
        first column: a forecast's ``time``)."""
        self.beginResetModel()
        self._result = result
        keys = result["keys"]
        first = result.get("key") or ("file" if keys and isinstance(keys[0], str) else "row")
        names = list(result.get("class_names") or [])
        proba = [f"P({n})" for n in names] if result.get("proba") is not None else []
        self._headers = [first, "prediction", PROBLEM, *(["confidence"] if proba else []), *proba]
        self.endResetModel()

    def clear(self) -> None:
        """No predictions."""
        self.set_predictions({"keys": [], "labels": [], "proba": None, "class_names": [], "problems": []})

    @property
    def result(self) -> dict[str, Any]:
        """The predictions shown, as given to :meth:`set_predictions`."""
        return self._result

    def n_scored(self) -> int:
        """Rows with a prediction."""
        return sum(label is not None for label in self._result["labels"])

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._result["keys"])

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def _value(self, row: int, column: int) -> Any:
        name = self._headers[column]
        result = self._result
        if column == 0:
            key = result["keys"][row]
            return os.path.basename(key) if isinstance(key, str) and self._headers[0] == "file" else key
        if name == "prediction":
            return result["labels"][row]
        if name == PROBLEM:
            problems = result.get("problems") or []
            return problems[row] if problems else ""
        probabilities = result["proba"][row]
        if name == "confidence":
            known = [p for p in probabilities if p is not None]
            return max(known) if known else None
        return probabilities[column - 4]  # after row, prediction, problem and confidence

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._value(index.row(), index.column())
        name = self._headers[index.column()]
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return ""
            if name == "confidence" or name.startswith("P("):
                return f"{100 * value:.1f} %"
            if isinstance(value, float):
                return f"{value:.6g}"
            return str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 0 and self._headers[0] == "file":
                return self._result["keys"][index.row()]
            return str(value) if name == PROBLEM and value else None
        if role == Qt.ItemDataRole.ForegroundRole and name == PROBLEM and value:
            return QBrush(QColor("#b42318"))
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)) and index.column():
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return self._headers[section]
            return str(section + 1)
        return None

    def save_csv(self, path: str | os.PathLike[str]) -> Path:
        """Writes the predictions as ``automl-studio predict`` does (every row, in file order).

        Columns: ``row``/``file``, ``prediction``, ``probability_<class>``…, and ``problem``
        when some row was not scored. Written to a temporary file and then moved into place.

        Raises:
            OSError: the file cannot be written.
        """
        out = Path(path)
        result = self._result
        names = list(result.get("class_names") or [])
        proba = result.get("proba")
        problems = list(result.get("problems") or [])
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow([self._headers[0] if self._headers else "row", "prediction",
                                 *([f"probability_{n}" for n in names] if proba is not None else []),
                                 *([PROBLEM] if problems else [])])
                for i, key in enumerate(result["keys"]):
                    label = result["labels"][i]
                    row = [key, "" if label is None else label]
                    if proba is not None:
                        row += ["" if p is None else f"{p:.6g}" for p in proba[i]]
                    if problems:
                        row.append(problems[i])
                    writer.writerow(row)
            os.replace(tmp, out)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        return out


class PredictionsProxy(QSortFilterProxyModel):
    """Sorts on raw values (numbers as numbers, empty cells last); the filter matches any column."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        a_missing = a is None or a == "" or (isinstance(a, float) and math.isnan(a))
        b_missing = b is None or b == "" or (isinstance(b, float) and math.isnan(b))
        if a_missing or b_missing:
            return not a_missing and b_missing
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return str(a) < str(b)


class ThumbnailModel(QAbstractListModel):
    """Scored images for a ``QListView`` in icon mode: a thumbnail, the class and its confidence.

    Thumbnails are decoded at :data:`THUMBNAIL` pixels (``QImageReader`` scales while reading)
    when the view first asks for them, so a folder of thousands of images opens at once.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._result: dict[str, Any] = {"keys": [], "labels": [], "proba": None, "problems": []}
        self._pixmaps: dict[int, QPixmap] = {}

    def set_predictions(self, result: dict[str, Any]) -> None:
        """Shows the images of ``Predictions.to_dict()``'s data (keys are image paths)."""
        self.beginResetModel()
        self._result = result
        self._pixmaps.clear()
        self.endResetModel()

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._result["keys"])

    def caption(self, row: int) -> str:
        """``cat · 97 %`` (a classifier), the value (a regressor), or ``not scored``."""
        label = self._result["labels"][row]
        if label is None:
            return "not scored"
        proba = self._result.get("proba")
        if proba is None:
            return f"{label:.4g}" if isinstance(label, float) else str(label)
        known = [p for p in proba[row] if p is not None]
        return f"{label} · {100 * max(known):.0f} %" if known else str(label)

    def _pixmap(self, row: int) -> QPixmap:
        if row not in self._pixmaps:
            reader = QImageReader(str(self._result["keys"][row]))
            size = reader.size()
            if size.isValid() and max(size.width(), size.height()) > 0:
                reader.setScaledSize(size.scaled(QSize(THUMBNAIL, THUMBNAIL),
                                                 Qt.AspectRatioMode.KeepAspectRatio))
            image = reader.read()
            self._pixmaps[row] = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        return self._pixmaps[row]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.caption(row)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            problems = self._result.get("problems") or []
            extra = f"\n{problems[row]}" if problems and problems[row] else ""
            return f"{self._result['keys'][row]}{extra}"
        return None
