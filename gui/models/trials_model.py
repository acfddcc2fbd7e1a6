"""The trials table: one row per trial of the :class:`~.trial_store.TrialStore`, one column per
hyperparameter.

:class:`TrialsModel` is a plain ``QAbstractTableModel`` that shows the store and follows its
signals (it keeps no trials of its own); the view sorts and filters through
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
    Slot,
)
from PySide6.QtGui import QBrush, QColor

from automl_studio.gui.models.trial_store import TrialRecord, TrialStore

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole
FIXED_COLUMNS = ("Trial", "Status", "Score", "Epochs", "Duration", "Reason", "Worker")
SCORE_COLUMN = 2
STATUS_COLOURS = {"failed": "#d03030", "running": "#2b6cd4", "stopped": "#b7791f"}


def format_duration(seconds: float | None) -> str:
    """``"42 s"``, ``"3:07"`` or ``"1:02:03"``; ``""`` for ``None``."""
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
    """A cell's text: floats to 4 significant digits, ``None`` as empty."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


class TrialsModel(QAbstractTableModel):
    """The trials of a :class:`TrialStore` as a table; the Score column is headed by the
    objective and its direction (e.g. "val_loss (lower is better)")."""

    def __init__(self, store: TrialStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        # What the view has been told about: the store is ahead of these until the slots run.
        self._rows = len(store)
        self._hp_names = store.hyperparameter_names()
        store.searchReset.connect(self._on_reset)
        store.trialAdded.connect(self._on_added)
        store.trialChanged.connect(self._on_changed)
        store.epochAppended.connect(self._on_epoch)
        store.objectiveChanged.connect(self._on_objective)

    # ------------------------------------------------------------- following the store
    @Slot()
    def _on_reset(self) -> None:
        self.beginResetModel()
        self._rows = len(self.store)
        self._hp_names = self.store.hyperparameter_names()
        self.endResetModel()

    @Slot(str)
    def _on_added(self, _tid: str) -> None:
        self._add_hp_columns()
        n = self._rows
        self.beginInsertRows(_ROOT, n, len(self.store) - 1)
        self._rows = len(self.store)
        self.endInsertRows()

    @Slot(str)
    def _on_changed(self, tid: str) -> None:
        self._add_hp_columns()
        self._row_changed(tid)

    @Slot(str, int)
    def _on_epoch(self, tid: str, _epoch: int) -> None:
        self._row_changed(tid, 3)

    @Slot(str)
    def _on_objective(self, _name: str) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, SCORE_COLUMN, SCORE_COLUMN)

    def _row_changed(self, tid: str, column: int | None = None) -> None:
        row = self.store.row_of(tid)
        if row < self._rows:
            first, last = (0, self.columnCount() - 1) if column is None else (column, column)
            self.dataChanged.emit(self.index(row, first), self.index(row, last))

    def _add_hp_columns(self) -> None:
        names = self.store.hyperparameter_names()
        if len(names) > len(self._hp_names):
            first = self.columnCount()
            self.beginInsertColumns(_ROOT, first, first + len(names) - len(self._hp_names) - 1)
            self._hp_names = names
            self.endInsertColumns()

    # ------------------------------------------------------------- reading
    def trial_ids(self) -> list[str]:
        return self.store.trial_ids()[:self._rows]

    def trial_id_at(self, row: int) -> str:
        return self.store.trial_at(row).trial_id

    def count(self, status: str | None = None) -> int:
        """How many trials have ``status`` (all with ``None``)."""
        return self.store.count(status)

    def hyperparameter_names(self) -> list[str]:
        return list(self._hp_names)

    # ------------------------------------------------------------- Qt model
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._hp_names)

    def _raw(self, trial: TrialRecord, column: int) -> Any:
        if column >= len(FIXED_COLUMNS):
            return trial.hyperparameters.get(self._hp_names[column - len(FIXED_COLUMNS)])
        return (trial.trial_id, trial.status, trial.score, trial.epochs_run, trial.duration_s,
                trial.error, trial.worker)[column]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.store.trial_at(index.row())
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
        if role == Qt.ItemDataRole.ToolTipRole and row.error and column in (0, 1, 5):
            return f"Trial {row.trial_id} {row.status}: {row.error}"
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and row.status in STATUS_COLOURS:
            return QBrush(QColor(STATUS_COLOURS[row.status]))
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == SCORE_COLUMN:
            return self.store.objective.describe()
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
