"""Trials side by side: one column per compared trial, one row per fact (score, epochs, best
epoch, diagnosis) and per hyperparameter any of them used.

Only active hyperparameters are listed (the caller hands each trial's active values); a trial
that did not use one shows "—". A row whose values differ between the trials is highlighted, so
what sets two trials apart is what the eye meets first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
DIFFERENT_BACKGROUND = "#fff1c2"
NOT_USED = "—"
DIFFERS_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class ComparedTrial:
    """What the comparison shows of one trial: plain values, already formatted facts first."""

    trial_id: str
    facts: Mapping[str, str]
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class ComparisonModel(QAbstractTableModel):
    """The compared trials as a table: rows are facts then hyperparameters, columns are trials.

    ``DIFFERS_ROLE`` is True on every cell of a row whose values differ between the trials.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._trials: list[ComparedTrial] = []
        self._rows: list[tuple[str, bool]] = []  # (name, is a hyperparameter)

    def set_trials(self, trials: Sequence[ComparedTrial]) -> None:
        """Shows these trials (in this order)."""
        self.beginResetModel()
        self._trials = list(trials)
        facts: list[str] = []
        names: list[str] = []
        for trial in self._trials:
            facts.extend(f for f in trial.facts if f not in facts)
            names.extend(n for n in trial.hyperparameters if n not in names)
        self._rows = [(f, False) for f in facts] + [(n, True) for n in names]
        self.endResetModel()

    def trial_ids(self) -> list[str]:
        return [t.trial_id for t in self._trials]

    def row_names(self) -> list[str]:
        """The rows' names: facts, then hyperparameters."""
        return [name for name, _ in self._rows]

    def hyperparameter_names(self) -> list[str]:
        """The hyperparameters listed (those at least one compared trial used)."""
        return [name for name, is_hp in self._rows if is_hp]

    def differing(self) -> list[str]:
        """The hyperparameters whose values differ between the compared trials."""
        return [name for row, (name, is_hp) in enumerate(self._rows) if is_hp and self._differs(row)]

    def _cell(self, row: int, column: int) -> str:
        name, is_hp = self._rows[row]
        trial = self._trials[column]
        if is_hp:
            return _text(trial.hyperparameters[name]) if name in trial.hyperparameters else NOT_USED
        return trial.facts.get(name, "")

    def _differs(self, row: int) -> bool:
        return len({self._cell(row, c) for c in range(len(self._trials))}) > 1

    # ------------------------------------------------------------- Qt model
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._trials)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        _name, is_hp = self._rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, column)
        if role == DIFFERS_ROLE:
            return self._differs(row)
        if role == Qt.ItemDataRole.BackgroundRole and is_hp and self._differs(row):
            return QBrush(QColor(DIFFERENT_BACKGROUND))
        if role == Qt.ItemDataRole.FontRole and is_hp and self._differs(row):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and self._cell(row, column) == NOT_USED:
            return QBrush(QColor("#9aa0a6"))
        if role == Qt.ItemDataRole.ForegroundRole and not is_hp and _name == "Diagnosis" and self._cell(row, column):
            return QBrush(QColor("#b7791f"))
        if role == Qt.ItemDataRole.ToolTipRole and self._cell(row, column) == NOT_USED:
            return f"Trial {self._trials[column].trial_id}'s network did not use {_name}"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return f"Trial {self._trials[section].trial_id}"
            return self._rows[section][0]
        if role == Qt.ItemDataRole.FontRole and orientation == Qt.Orientation.Vertical \
                and self._rows[section][1] and self._differs(section):
            font = QFont()
            font.setBold(True)
            return font
        return None


@dataclass(frozen=True)
class ComparedNetwork:
    """One compared trial's network: its layers in order (``NetworkLayer``-like plain values).

    ``layers`` holds ``(name, kind, settings, shape text, params)`` per layer; shape text is ""
    and params None when the data's shapes are not known.
    """

    trial_id: str
    layers: Sequence[tuple[str, str, str, str, int | None]]

    def total_params(self) -> int | None:
        """The network's parameter count, None when a layer's count is not known."""
        counts = [layer[4] for layer in self.layers]
        return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def merged_order(lists: Sequence[Sequence[str]]) -> list[str]:
    """The names of every list once, each list's own order kept (a layer only a deeper network
    has goes after the layer it follows there): ``[[a, c], [a, b, c]]`` → ``[a, b, c]``."""
    order: list[str] = []
    for names in lists:
        place = 0
        for name in names:
            if name in order:
                place = order.index(name) + 1
            else:
                order.insert(place, name)
                place += 1
    return order


TOTAL_ROW = "Total parameters"


class NetworkComparisonModel(QAbstractTableModel):
    """The compared trials' networks side by side: rows are layers (by their place in the search
    space, ``dense#1`` is the second copy of a repeated Dense), columns are trials, then a row of
    total parameter counts. A trial without a layer shows "—"; rows that differ are highlighted.

    ``DIFFERS_ROLE`` is True on every cell of a row whose cells differ between the trials.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._networks: list[ComparedNetwork] = []
        self._rows: list[str] = []
        self._cells: list[dict[str, str]] = []

    def set_networks(self, networks: Sequence[ComparedNetwork]) -> None:
        """Shows these networks (in this order)."""
        self.beginResetModel()
        self._networks = list(networks)
        self._rows = merged_order([[layer[0] for layer in n.layers] for n in self._networks])
        self._cells = []
        for network in self._networks:
            cells = {}
            for name, kind, settings, shape, params in network.layers:
                head = f"{kind}: {settings}" if settings else kind
                size = " · ".join(p for p in (shape, f"{params:,} params" if params is not None else "") if p)
                cells[name] = f"{head}\n{size}" if size else head
            total = network.total_params()
            cells[TOTAL_ROW] = f"{total:,}" if total is not None else "?"
            self._cells.append(cells)
        if self._networks:
            self._rows.append(TOTAL_ROW)
        self.endResetModel()

    def layer_names(self) -> list[str]:
        """The rows' layer names (the total row left out)."""
        return [r for r in self._rows if r != TOTAL_ROW]

    def trial_ids(self) -> list[str]:
        return [n.trial_id for n in self._networks]

    def cell(self, row: int, column: int) -> str:
        """The text shown for layer ``row`` of trial ``column`` ("—" where it has none)."""
        return self._cells[column].get(self._rows[row], NOT_USED)

    def differing(self) -> list[str]:
        """The rows (layers, or the total) whose cells differ between the networks."""
        return [name for row, name in enumerate(self._rows) if self._differs(row)]

    def _differs(self, row: int) -> bool:
        return len({self.cell(row, c) for c in range(len(self._networks))}) > 1

    # ------------------------------------------------------------- Qt model
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._networks)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        text = self.cell(row, column)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if role == Qt.ItemDataRole.ToolTipRole and text == NOT_USED:
                return f"Trial {self._networks[column].trial_id}'s network has no {self._rows[row]}"
            return text
        if role == DIFFERS_ROLE:
            return self._differs(row)
        if role == Qt.ItemDataRole.BackgroundRole and self._differs(row):
            return QBrush(QColor(DIFFERENT_BACKGROUND))
        if role == Qt.ItemDataRole.ForegroundRole and text == NOT_USED:
            return QBrush(QColor("#9aa0a6"))
        if role == Qt.ItemDataRole.FontRole and self._rows[row] == TOTAL_ROW:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return f"Trial {self._networks[section].trial_id}"
            return self._rows[section]
        return None
