"""The trials table: one row per trial, one column per hyperparameter, fed by event dicts.

:class:`TrialsModel` is a plain ``QAbstractTableModel``; the view sorts and filters through
:class:`TrialsProxyModel`, which keeps trials without a score at the bottom.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole
FIXED_COLUMNS = ("Trial", "Status", "Score", "Epochs", "Duration", "Reason", "Worker")
STATUS_COLOURS = {"failed": "#d03030", "running": "#2b6cd4", "stopped": "#b7791f"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{sec:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}"


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


class TrialsModel(QAbstractTableModel):
    """Trials of the current search (or of an opened project), updated from event dicts."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._hp_names: list[str] = []

    # ------------------------------------------------------------- feeding
    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._index, self._hp_names = [], {}, []
        self.endResetModel()

    def apply_event(self, event: dict[str, Any]) -> None:
        """Updates the table from one search event (other event types are ignored)."""
        kind, tid = event.get("type"), event.get("trial_id")
        if tid is None:
            return
        tid = str(tid)
        if kind == "trial_started":
            self._upsert(tid, {"status": "running", "score": None, "epochs": 0,
                               "duration_s": None, "error": None,
                               "hyperparameters": dict(event.get("hyperparameters") or {}),
                               "started": event.get("time"), "worker": event.get("worker", "local")})
        elif kind == "epoch_ended":
            if tid in self._index:
                row = self._rows[self._index[tid]]
                # Epochs are counted from 1, as the engine reports them.
                self._update(tid, {"epochs": max(row["epochs"], int(event.get("epoch", 0)))})
        elif kind == "trial_ended":
            changes = {"status": event.get("status", "completed"), "score": event.get("score"),
                       "duration_s": event.get("duration_s"), "error": event.get("error")}
            if event.get("hyperparameters"):
                changes["hyperparameters"] = dict(event["hyperparameters"])
            self._upsert(tid, changes)

    def load_records(self, records: dict[str, Any]) -> None:
        """Shows the trials of a project (``read_trials`` output) instead of the current rows."""
        self.clear()
        for tid, rec in records.items():
            self._upsert(str(tid), {"status": rec.status, "score": rec.score,
                                    "epochs": len(rec.history), "duration_s": rec.duration_s,
                                    "error": rec.error, "hyperparameters": dict(rec.hyperparameters),
                                    "worker": rec.worker})

    def _upsert(self, tid: str, changes: dict[str, Any]) -> None:
        self._add_hp_columns(changes.get("hyperparameters") or {})
        if tid in self._index:
            self._update(tid, changes)
            return
        row = {"trial_id": tid, "status": "running", "score": None, "epochs": 0,
               "duration_s": None, "error": None, "hyperparameters": {}, "worker": "local", **changes}
        n = len(self._rows)
        self.beginInsertRows(_ROOT, n, n)
        self._rows.append(row)
        self._index[tid] = n
        self.endInsertRows()

    def _update(self, tid: str, changes: dict[str, Any]) -> None:
        r = self._index[tid]
        self._rows[r].update(changes)
        self.dataChanged.emit(self.index(r, 0), self.index(r, self.columnCount() - 1))

    def _add_hp_columns(self, hps: dict[str, Any]) -> None:
        new = [name for name in hps if name not in self._hp_names]
        if new:
            first = self.columnCount()
            self.beginInsertColumns(_ROOT, first, first + len(new) - 1)
            self._hp_names.extend(new)
            self.endInsertColumns()

    # ------------------------------------------------------------- reading
    def trial_ids(self) -> list[str]:
        return [r["trial_id"] for r in self._rows]

    def trial(self, tid: str) -> dict[str, Any] | None:
        return dict(self._rows[self._index[tid]]) if tid in self._index else None

    def trial_id_at(self, row: int) -> str:
        return self._rows[row]["trial_id"]

    def count(self, status: str | None = None) -> int:
        return sum(1 for r in self._rows if status is None or r["status"] == status)

    def hyperparameter_names(self) -> list[str]:
        return list(self._hp_names)

    # ------------------------------------------------------------- Qt model
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._hp_names)

    def _raw(self, row: dict[str, Any], column: int) -> Any:
        if column >= len(FIXED_COLUMNS):
            return row["hyperparameters"].get(self._hp_names[column - len(FIXED_COLUMNS)])
        key = ("trial_id", "status", "score", "epochs", "duration_s", "error", "worker")[column]
        return row[key]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        value = self._raw(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 4:
                return format_duration(value)
            if column == 5:
                return (value or "").splitlines()[0][:120] if value else ""
            return format_value(value)
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.ToolTipRole and (row["error"] and (column in (1, 5) or column == 0)):
            return f"Trial {row['trial_id']} {row['status']}: {row['error']}"
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and row["status"] in STATUS_COLOURS:
            return QBrush(QColor(STATUS_COLOURS[row["status"]]))
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section < len(FIXED_COLUMNS):
            return FIXED_COLUMNS[section]
        return self._hp_names[section - len(FIXED_COLUMNS)]


class TrialsProxyModel(QSortFilterProxyModel):
    """Sorts on raw values (numbers as numbers) with empty cells last; filters on any column."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        a_missing = a is None or (isinstance(a, float) and math.isnan(a))
        b_missing = b is None or (isinstance(b, float) and math.isnan(b))
        if a_missing or b_missing:
            # Missing values sort last in ascending order.
            return not a_missing and b_missing
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return str(a) < str(b)
