"""The one place the window keeps the trials of a search: fed by events, observed by views.

:class:`TrialStore` is a plain ``QObject`` (no widgets, no drawing). The Search page feeds it every
event of the running search (:meth:`TrialStore.apply`) or the trials of an opened project
(:meth:`TrialStore.load_records`); the trials table, the live plots and the Results page read it
and follow its past-tense signals instead of keeping copies of their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.events import (
    REFIT_TRIAL,
    BatchProgress,
    EpochEnded,
    Event,
    FinalistsScored,
    SearchStarted,
    TrialEnded,
    TrialStarted,
)
from automl_studio.engine.core.objectives import Objective, get_objective
from automl_studio.engine.search.project import score_finalists

__all__ = ["REFIT_TRIAL", "TrialRecord", "TrialStore", "objective_named"]


@dataclass
class TrialRecord:
    """What the window knows of one trial.

    Attributes:
        epochs: the epochs reported so far, counted from 1 as the engine does.
        metrics: one value per epoch for every logged metric (``loss``, ``val_loss``…); NaN where
            an epoch did not log it.
        order: the trial's place among the trials that have ended (0 for the first), -1 while
            it runs.
        elapsed_s: seconds from the search's start to the trial's end (an opened project without
            clock times: ``order + 1``).
        number: the trial's number, the one x rule of every plot: its id read as a number
            (KerasTuner's ids are ``"00"``, ``"01"``…), else its row; the same live and reopened.
        max_epochs: the epoch limit the trial started with (None when the events did not say).
        class_recall: a completed classification trial's recall of each class on the validation
            split, by class name in class-index order (``None``: no validation rows of that
            class); empty otherwise (:attr:`TrialEnded.class_recall`).
        score_se: a cross-validated trial's standard error of its fold scores (``score`` is
            their mean); None for a trial scored on the validation split (:attr:`TrialEnded.score_se`).
        fold_scores: a cross-validated trial's best objective value on each fold.
        finalist: a trial cross-validated after the search to choose the exported one
            (:class:`~automl_studio.engine.core.events.FinalistsScored`, read by
            :func:`~automl_studio.engine.search.project.finalist_summary`: its ``score``, ``se``,
            ``fold_scores``, ``epochs``, ``folds``, ``chosen``, ``validation_best``); None otherwise.
    """

    trial_id: str
    status: str = "running"
    score: float | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    epochs: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    worker: str = "local"
    duration_s: float | None = None
    error: str | None = None
    order: int = -1
    elapsed_s: float | None = None
    number: int = -1
    max_epochs: int | None = None
    class_recall: dict[str, float | None] = field(default_factory=dict)
    score_se: float | None = None
    fold_scores: tuple[float, ...] = ()
    finalist: dict[str, Any] | None = None

    @property
    def epochs_run(self) -> int:
        """The last epoch reported (0 before the first)."""
        return max(self.epochs, default=0)

    def add_epoch(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        n = len(self.epochs)
        self.epochs.append(epoch)
        for key, value in metrics.items():
            series = self.metrics.setdefault(key, [math.nan] * n)
            series.append(_number(value))
        for series in self.metrics.values():
            if len(series) < n + 1:
                series.append(math.nan)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _score(value: Any) -> float | None:
    number = _number(value)
    return number if math.isfinite(number) else None


def _trial_number(tid: str, row: int) -> int:
    return int(tid) if tid.isdigit() else row


def objective_named(name: str | None) -> Objective:
    """The objective called ``name``; a name the engine does not offer (an older project) is
    shown as lower-is-better, as the tuner would treat it."""
    try:
        return get_objective(name)
    except UserError:
        return Objective(str(name), "min", str(name), frozenset())


class TrialStore(QObject):
    """Every trial of the current search (or of an opened project), the best one and the refit.

    Signals (all past tense, all carrying trial ids or nothing):
        searchReset(): everything was replaced (a new search, an opened project).
        objectiveChanged(name): trials are now ranked by another objective.
        trialAdded(trial_id): a trial is known (its row is at the end).
        trialChanged(trial_id): its status, score, hyperparameters or worker changed; a trial
            started again (a resumed search reruns it) also lost its curves.
        epochAppended(trial_id, epoch): a trial reported an epoch.
        refitAppended(epoch): the refit of the best trial reported an epoch; epoch 1 begins
            another refit (several are averaged).
        batchProgressed(): the current run reported a batch (read :attr:`batch`).
        bestChanged(trial_id): another trial has the best score.
    """

    searchReset = Signal()
    objectiveChanged = Signal(str)
    trialAdded = Signal(str)
    trialChanged = Signal(str)
    epochAppended = Signal(str, int)
    refitAppended = Signal(int)
    batchProgressed = Signal()
    bestChanged = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clear(None, None)

    def _clear(self, objective: str | None, started_at: float | None) -> None:
        self._objective = objective_named(objective)
        self._trials: dict[str, TrialRecord] = {}
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._hp_names: list[str] = []
        self._best: str | None = None
        self._best_points: list[tuple[float, float]] = []
        self._last_elapsed = 0.0
        self._last_number = -1
        self._current: str | None = None
        self._refit: TrialRecord | None = None
        self._batch: tuple[int, int, int | None] | None = None
        self._started_at = started_at

    # ------------------------------------------------------------- feeding
    def reset(self, objective: str | None = None, started_at: float | None = None) -> None:
        """Forgets every trial; ``started_at`` (seconds since the epoch) is when the search began."""
        self._clear(objective, started_at)
        self.searchReset.emit()

    def set_objective(self, name: str | None) -> None:
        """Ranks trials by another objective (the best trial found so far is kept)."""
        if name and name != self._objective.name:
            self._objective = objective_named(name)
            self.objectiveChanged.emit(name)

    @Slot(object)
    def apply(self, event: Event) -> None:
        """Records one event of the running search; events about no trial are ignored."""
        match event:
            case SearchStarted():
                self.set_objective(event.settings.get("objective"))
                if self._started_at is None:
                    self._started_at = event.time
            case TrialStarted():
                if self._started_at is None:
                    self._started_at = event.time  # no search_started seen (a replay)
                self._start_trial(event)
            case EpochEnded() if event.trial_id == REFIT_TRIAL:
                # When the exported model averages several refits, each starts again at epoch 1.
                if self._refit is None or (self._refit.epochs and event.epoch <= self._refit.epochs[-1]):
                    self._refit = TrialRecord(REFIT_TRIAL, worker="")
                self._refit.add_epoch(event.epoch, event.metrics)
                self._current = REFIT_TRIAL
                self.refitAppended.emit(event.epoch)
            case EpochEnded():
                record = self._record(event.trial_id)
                record.add_epoch(event.epoch, event.metrics)
                self._current = event.trial_id
                self.epochAppended.emit(event.trial_id, event.epoch)
            case BatchProgress():
                self._batch = (event.epoch, event.batch, event.batches)
                self.batchProgressed.emit()
            case TrialEnded():
                self._end_trial(event)
            case FinalistsScored():
                self._score_finalists(event)

    def load_records(self, records: Mapping[str, Any], objective: str | None = None) -> None:
        """Shows the trials of an opened project (``project.read_trials`` output) instead."""
        self._clear(objective, None)
        for tid, rec in records.items():
            record = TrialRecord(str(tid), status=rec.status, score=_score(rec.score),
                                 hyperparameters=dict(rec.hyperparameters), worker=rec.worker,
                                 duration_s=rec.duration_s, error=rec.error,
                                 max_epochs=rec.max_epochs, class_recall=dict(rec.class_recall),
                                 score_se=_score(rec.score_se), fold_scores=tuple(rec.fold_scores),
                                 finalist=dict(rec.finalist) if rec.finalist else None)
            for row in rec.history:
                record.add_epoch(int(row.get("epoch", 0)), {k: v for k, v in row.items() if k != "epoch"})
            self._insert(record)
            if rec.status != "running":
                self._rank(record, None)
        self.searchReset.emit()

    def _record(self, tid: str) -> TrialRecord:
        record = self._trials.get(tid)
        if record is None:
            record = TrialRecord(tid)
            self._insert(record)
            self.trialAdded.emit(tid)
        return record

    def _insert(self, record: TrialRecord) -> None:
        record.number = _trial_number(record.trial_id, len(self._ids))
        self._trials[record.trial_id] = record
        self._rows[record.trial_id] = len(self._ids)
        self._ids.append(record.trial_id)
        self._add_names(record.hyperparameters)

    def _add_names(self, hyperparameters: Mapping[str, Any]) -> None:
        self._hp_names.extend(name for name in hyperparameters if name not in self._hp_names)

    def _start_trial(self, event: TrialStarted) -> None:
        self._current = event.trial_id
        self._batch = None
        hps = dict(event.hyperparameters)
        record = self._trials.get(event.trial_id)
        if record is None:
            self._insert(TrialRecord(event.trial_id, hyperparameters=hps, worker=event.worker,
                                     max_epochs=event.max_epochs))
            self.trialAdded.emit(event.trial_id)
            return
        # A resumed search runs a stopped trial again, from its first epoch.
        fresh = TrialRecord(event.trial_id, hyperparameters=hps or record.hyperparameters,
                            worker=event.worker, number=record.number, max_epochs=event.max_epochs)
        self._trials[event.trial_id] = fresh
        self._add_names(fresh.hyperparameters)
        self.trialChanged.emit(event.trial_id)

    def _end_trial(self, event: TrialEnded) -> None:
        record = self._record(event.trial_id)
        record.status = event.status
        record.score = _score(event.score)
        record.duration_s = event.duration_s
        record.error = event.error
        record.class_recall = dict(event.class_recall)
        record.score_se, record.fold_scores = _score(event.score_se), tuple(event.fold_scores)
        if event.hyperparameters:
            record.hyperparameters = dict(event.hyperparameters)
            self._add_names(record.hyperparameters)
        self._rank(record, event.time)
        self.trialChanged.emit(event.trial_id)

    def _score_finalists(self, event: FinalistsScored) -> None:
        for tid in score_finalists(self._trials, event):
            self.trialChanged.emit(tid)

    def _rank(self, record: TrialRecord, when: float | None) -> None:
        """Numbers an ended trial and checks whether it is the new best."""
        record.order = sum(1 for t in self._trials.values() if t.order >= 0)
        start = self._started_at if self._started_at is not None else when
        if when is not None and start is not None:
            record.elapsed_s = max(when - start, 0.0)
        else:
            record.elapsed_s = float(record.order + 1)  # no clock (an opened project): one step per trial
        self._last_elapsed = max(self._last_elapsed, record.elapsed_s)
        self._last_number = max(self._last_number, record.number)
        if record.score is None:
            return
        best = self._trials[self._best].score if self._best is not None else None
        if best is None or self._objective.better(record.score, best):
            self._best = record.trial_id
            self._best_points.append((float(record.number), record.score))
            self.bestChanged.emit(record.trial_id)

    # ------------------------------------------------------------- reading
    @property
    def objective(self) -> Objective:
        """The objective trials are ranked by (name, direction, ``describe()``)."""
        return self._objective

    @property
    def started_at(self) -> float | None:
        return self._started_at

    def __len__(self) -> int:
        return len(self._ids)

    def trial_ids(self) -> list[str]:
        """Every trial, in the order they became known."""
        return list(self._ids)

    def trial_at(self, row: int) -> TrialRecord:
        """The ``row``-th trial to become known (the table's row)."""
        return self._trials[self._ids[row]]

    def row_of(self, tid: str) -> int:
        """The row of a trial (raises ``KeyError`` for an unknown one)."""
        return self._rows[tid]

    def trial(self, tid: str | None) -> TrialRecord | None:
        """A trial's record (the refit's with ``"refit"``); read it, do not change it."""
        if tid == REFIT_TRIAL:
            return self._refit
        return self._trials.get(tid) if tid is not None else None

    def count(self, status: str | None = None) -> int:
        """How many trials have ``status`` (all of them with ``None``)."""
        return sum(1 for t in self._trials.values() if status is None or t.status == status)

    def hyperparameter_names(self) -> list[str]:
        """Every hyperparameter any trial has, in the order they first appeared."""
        return list(self._hp_names)

    @property
    def best_trial_id(self) -> str | None:
        return self._best

    def finalists(self) -> list[TrialRecord]:
        """The trials cross-validated after the search to choose the exported one, best mean
        fold score first (empty when there was no such choice)."""
        found = [t for t in self._trials.values() if t.finalist is not None]
        return sorted(found, key=lambda t: (self._objective.sort_key(float(t.finalist["score"]))
                                            if t.finalist and isinstance(t.finalist.get("score"), (int, float))
                                            else math.inf, t.trial_id))

    @property
    def exported_trial_id(self) -> str | None:
        """The finalist the folds chose (the trial exported), None without finalists."""
        return next((t.trial_id for t in self._trials.values() if t.finalist and t.finalist.get("chosen")), None)

    @property
    def best_points(self) -> list[tuple[float, float]]:
        """``(trial number, score)`` at each improvement of the best score, in the order the
        trials ended."""
        return list(self._best_points)

    @property
    def last_number(self) -> int:
        """The highest number of an ended trial (-1 before the first)."""
        return self._last_number

    @property
    def last_elapsed_s(self) -> float:
        """When the last trial ended, in seconds from the search's start."""
        return self._last_elapsed

    @property
    def current_trial_id(self) -> str | None:
        """The trial (or ``"refit"``) that reported last."""
        return self._current

    @property
    def refit(self) -> TrialRecord | None:
        """The curves of the latest refit of the best trial."""
        return self._refit

    @property
    def batch(self) -> tuple[int, int, int | None] | None:
        """``(epoch, batch, batches)`` of the current run's last batch, if one was reported."""
        return self._batch
