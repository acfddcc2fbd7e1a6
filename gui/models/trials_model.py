"""The trials table: one row per trial of the :class:`~.trial_store.TrialStore`, one column per
hyperparameter.

:class:`TrialsModel` is a plain ``QAbstractTableModel`` that shows the store and follows its
signals (it keeps no trials of its own); the view sorts and filters through
:class:`TrialsProxyModel`, which keeps trials without a score at the bottom and can keep only the
trials inside ranges of some columns (the parallel-coordinates plot's brushes).

Given the search space (:meth:`TrialsModel.set_space`), a hyperparameter the trial's network did
not use (a repeat copy beyond its count, a skipped node's setting) shows as "—", sorts as missing
and never passes a range. The Diagnosis column reads each ended trial's learning curves
(:func:`~automl_studio.engine.search.analysis.diagnose`). The Recall per class column shows a
classification trial's recall of each class on the validation split ("0: 0.98 · 1: 0.61", the
class names in its tooltip) and sorts by the lowest: a trial that ignores a rare class sorts first.
The ± SE column holds a cross-validated trial's standard error of its fold scores (the Score is
their mean; each fold's score in its tooltip); views hide it when no trial has one
(:meth:`TrialsModel.cross_validated`). On a small table the Cross-validated column holds the
finalists' mean fold score and its standard error, from the folds that chose the exported trial
after the search ("35.2 ± 2.1 · exported"; :class:`~automl_studio.engine.core.events.FinalistsScored`);
views hide it when no trial has one (:meth:`TrialsModel.has_finalists`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QFont

from automl_studio.engine.search.analysis import (
    Diagnosis,
    active_hyperparameters,
    diagnose,
    epoch_limit,
)
from automl_studio.engine.search.project import finalist_text
from automl_studio.engine.space.spec import SearchSpace
from automl_studio.gui.models.trial_store import TrialRecord, TrialStore

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole
FIXED_COLUMNS = ("Trial", "Status", "Score", "Epochs", "Duration", "Reason", "Worker", "Diagnosis",
                 "Recall per class", "± SE", "Cross-validated")
SCORE_COLUMN = 2
DIAGNOSIS_COLUMN = 7
RECALL_COLUMN = 8
SE_COLUMN = 9
FINALIST_COLUMN = 10
RECALL_CLASSES_SHOWN = 5  # more classes: the cell shows the lowest recalls, the tooltip all of them
STATUS_COLOURS = {"failed": "#d03030", "running": "#2b6cd4", "stopped": "#b7791f"}
WARNING_COLOUR = "#b7791f"
INACTIVE_COLOUR = "#9aa0a6"
NOT_USED = "—"


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


def format_class_recall(recall: Mapping[str, float | None]) -> str:
    """A trial's per-class recall in a cell, by class index: ``"0: 0.98 · 1: 0.61"`` ("–" for a
    class without validation rows); past :data:`RECALL_CLASSES_SHOWN` classes, the three lowest
    (``"lowest 7: 0.42 · 3: 0.50 · 1: 0.55"``). ``""`` when there is none."""
    pairs = list(enumerate(recall.values()))
    if len(pairs) > RECALL_CLASSES_SHOWN:
        lowest = sorted((p for p in pairs if p[1] is not None), key=lambda p: (p[1], p[0]))[:3]
        return "lowest " + " · ".join(f"{i}: {v:.2f}" for i, v in lowest)
    return " · ".join(f"{i}: {'–' if v is None else f'{v:.2f}'}" for i, v in pairs)


def class_recall_tooltip(trial_id: str, recall: Mapping[str, float | None]) -> str:
    """One line per class, its index and name: the share of its validation rows the trial found."""
    lines = [f"Trial {trial_id}'s recall on the validation split (the share of each class's rows it predicts "
             "as that class):"]
    for i, (name, value) in enumerate(recall.items()):
        lines.append(f"{i}  {name}: " + ("no rows of this class in the validation split" if value is None
                                           else f"{value:.3f}"))
    return "\n".join(lines)


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
        self._space: SearchSpace | None = None
        self._max_epochs: int | None = None
        self._active: dict[str, dict[str, Any]] = {}
        self._diagnoses: dict[str, Diagnosis | None] = {}
        store.searchReset.connect(self._on_reset)
        store.trialAdded.connect(self._on_added)
        store.trialChanged.connect(self._on_changed)
        store.epochAppended.connect(self._on_epoch)
        store.objectiveChanged.connect(self._on_objective)

    # ------------------------------------------------------------- following the store
    @Slot()
    def _on_reset(self) -> None:
        self._active.clear()
        self._diagnoses.clear()
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
        self._active.pop(tid, None)
        self._diagnoses.pop(tid, None)
        self._add_hp_columns()
        self._row_changed(tid)

    @Slot(str, int)
    def _on_epoch(self, tid: str, _epoch: int) -> None:
        self._diagnoses.pop(tid, None)
        self._row_changed(tid, 3)

    @Slot(str)
    def _on_objective(self, _name: str) -> None:
        self._diagnoses.clear()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, SCORE_COLUMN, SCORE_COLUMN)
        self._column_changed(DIAGNOSIS_COLUMN)

    def set_space(self, space: SearchSpace | None, max_epochs: int | None = None) -> None:
        """Reads the trials against the search space they were drawn from (None: unknown), and
        ``max_epochs``, the search's epoch limit, for trials whose events did not give one."""
        self._space, self._max_epochs = space, max_epochs
        self._active.clear()
        self._diagnoses.clear()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, self.columnCount() - 1))

    @property
    def space(self) -> SearchSpace | None:
        return self._space

    def active_hyperparameters(self, tid: str) -> dict[str, Any]:
        """The values trial ``tid``'s network used (all recorded ones without a space)."""
        if tid not in self._active:
            trial = self.store.trial(tid)
            values = trial.hyperparameters if trial is not None else {}
            try:
                self._active[tid] = active_hyperparameters(values, self._space)
            except (ValueError, KeyError, TypeError):  # a space that does not fit these trials
                self._active[tid] = active_hyperparameters(values)
        return self._active[tid]

    def diagnosis(self, tid: str) -> Diagnosis | None:
        """What trial ``tid``'s learning curves say, None while it runs."""
        if tid not in self._diagnoses:
            trial = self.store.trial(tid)
            if trial is None or trial.status == "running" or not trial.epochs:
                self._diagnoses[tid] = None
            else:
                limit = trial.max_epochs or epoch_limit(trial.hyperparameters, self._space, self._max_epochs)
                self._diagnoses[tid] = diagnose(trial.metrics, self.store.objective, max_epochs=limit)
        return self._diagnoses[tid]

    def column_of(self, name: str) -> int:
        """The column of a hyperparameter (raises ``ValueError`` for an unknown name)."""
        return len(FIXED_COLUMNS) + self._hp_names.index(name)

    def _column_changed(self, column: int) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, column), self.index(self._rows - 1, column))

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

    def cross_validated(self) -> bool:
        """Whether some trial shown was scored by cross-validation (has a standard error)."""
        return any(self.store.trial_at(row).score_se is not None for row in range(self._rows))

    def has_finalists(self) -> bool:
        """Whether some trial shown was cross-validated after the search as a finalist."""
        return any(self.store.trial_at(row).finalist is not None for row in range(self._rows))

    # ------------------------------------------------------------- Qt model
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._hp_names)

    def _raw(self, trial: TrialRecord, column: int) -> Any:
        if column >= len(FIXED_COLUMNS):
            return trial.hyperparameters.get(self._hp_names[column - len(FIXED_COLUMNS)])
        if column == DIAGNOSIS_COLUMN:
            found = self.diagnosis(trial.trial_id)
            return " · ".join(found.badges) if found is not None else ""
        if column == RECALL_COLUMN:
            known = [v for v in trial.class_recall.values() if v is not None]
            return min(known) if known else None  # sorts by the class the trial finds least
        if column == SE_COLUMN:
            return trial.score_se
        if column == FINALIST_COLUMN:
            score = (trial.finalist or {}).get("score")
            return float(score) if isinstance(score, (int, float)) else None
        return (trial.trial_id, trial.status, trial.score, trial.epochs_run, trial.duration_s,
                trial.error, trial.worker)[column]

    def _unused(self, trial: TrialRecord, column: int) -> bool:
        if column < len(FIXED_COLUMNS) or self._space is None:
            return False
        name = self._hp_names[column - len(FIXED_COLUMNS)]
        return name in trial.hyperparameters and name not in self.active_hyperparameters(trial.trial_id)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.store.trial_at(index.row())
        column = index.column()
        if self._unused(row, column):
            return self._unused_data(row, column, role)
        value = self._raw(row, column)
        if column == DIAGNOSIS_COLUMN and role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole):
            found = self.diagnosis(row.trial_id)
            if found is None or not found.reasons:
                return None
            if role == Qt.ItemDataRole.ToolTipRole:
                return "\n".join(r[0].upper() + r[1:] for r in found.reasons)
            return QBrush(QColor(WARNING_COLOUR)) if found.overfitting or found.underfitting else None
        if column == RECALL_COLUMN and role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if not row.class_recall:
                return "" if role == Qt.ItemDataRole.DisplayRole else None
            if role == Qt.ItemDataRole.DisplayRole:
                return format_class_recall(row.class_recall)
            return class_recall_tooltip(row.trial_id, row.class_recall)
        if column == SE_COLUMN and role == Qt.ItemDataRole.ToolTipRole and row.fold_scores:
            return (f"Trial {row.trial_id}'s score is the mean of {len(row.fold_scores)} folds' best "
                    f"{self.store.objective.name}: " + ", ".join(f"{v:.4g}" for v in row.fold_scores)
                    + " (its learning curves show the first fold)")
        if column == FINALIST_COLUMN and row.finalist is not None:
            finalist_data = self._finalist_data(row, value, role)
            if finalist_data is not None or role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return finalist_data
        if role == Qt.ItemDataRole.DisplayRole:
            if column == SE_COLUMN:
                return "" if value is None else f"± {value:.2g}"
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
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)) and column != RECALL_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _finalist_data(self, trial: TrialRecord, value: float | None, role: int) -> Any:
        finalist = trial.finalist or {}
        se = finalist.get("se")
        if role == Qt.ItemDataRole.DisplayRole:
            return finalist_text(finalist)
        if role == Qt.ItemDataRole.ToolTipRole:
            folds = finalist.get("fold_scores") or ()
            name = finalist.get("objective") or self.store.objective.name
            lines = [f"Trial {trial.trial_id} was one of the finalists cross-validated after the search, each on the "
                     f"same {finalist.get('folds')} folds of train+validation: mean {name} "
                     f"{format_value(value)}" + (f" ± {se:.2g} (standard error)" if isinstance(se, (int, float)) else "")]
            if folds:
                lines.append("Each fold's: " + ", ".join(f"{v:.4g}" for v in folds))
            if isinstance(finalist.get("parameters"), int):
                lines.append(f"Its network has {finalist['parameters']:,} weights.")
            if finalist.get("validation_best"):
                lines.append("The validation split ranked it first among the trials.")
            lines.append(f"It is the trial exported, refitted for {finalist.get('epochs')} epochs (the median of its "
                         "folds' best)." if finalist.get("chosen") else
                         "Another finalist was exported: the smallest network within a standard error of the best "
                         "mean (the one-standard-error rule).")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.FontRole and finalist.get("chosen"):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _unused_data(self, trial: TrialRecord, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return NOT_USED
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(INACTIVE_COLOUR))
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self._hp_names[column - len(FIXED_COLUMNS)]
            return (f"Trial {trial.trial_id}'s network did not use {name} (KerasTuner recorded "
                    f"{format_value(trial.hyperparameters.get(name))} for it)")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None  # sorts as missing, passes no range

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == SCORE_COLUMN:
            return self.store.objective.describe()
        if section < len(FIXED_COLUMNS):
            return FIXED_COLUMNS[section]
        return self._hp_names[section - len(FIXED_COLUMNS)]


@dataclass(frozen=True)
class ColumnRange:
    """What a column's value must be for a row to stay: within ``low``..``high`` (numbers), or
    one of ``values`` (categories) when those are given. A missing value never passes."""

    low: float = -math.inf
    high: float = math.inf
    values: tuple[Any, ...] | None = None

    def accepts(self, value: Any) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.values is not None:
            return any(value == v and type(value) is type(v) for v in self.values)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low <= value <= self.high


class TrialsProxyModel(QSortFilterProxyModel):
    """Sorts on raw values (numbers as numbers) with empty cells last; filters on any column's
    text and, with :meth:`set_ranges`, on ranges of some columns."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._ranges: dict[int, ColumnRange] = {}

    def set_ranges(self, ranges: Mapping[int, ColumnRange]) -> None:
        """Keeps only the rows whose source column values pass every range (column → range)."""
        self.beginFilterChange()
        self._ranges = dict(ranges)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def ranges(self) -> dict[int, ColumnRange]:
        return dict(self._ranges)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        for column, allowed in self._ranges.items():
            if not allowed.accepts(model.index(source_row, column, source_parent).data(SORT_ROLE)):
                return False
        return super().filterAcceptsRow(source_row, source_parent)

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
