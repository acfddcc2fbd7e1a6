"""The one event vocabulary of a search.

The engine reports progress by calling a :class:`SearchListener` with these frozen dataclasses.
The same events become JSON Lines on the command line (``--events``) and between processes; the
reader (:mod:`automl_studio.engine.process.runner`) rebuilds them with :func:`event_from_dict`, and
the window's signals carry them as they are. Every event has a ``type`` (its wire name) and
``time`` (seconds since the epoch); every trial event has ``trial_id``. :class:`ProcessExited` is
never written by a search: whoever ran the search's process adds it when that process has ended.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal as _signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar, Protocol

SCHEMA_VERSION = 1
REFIT_TRIAL = "refit"  # the trial id the refit of the best trial reports its epochs under


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    """Base of every event; not sent by itself."""

    type: ClassVar[str] = "event"
    time: float = field(default_factory=_now, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        data = {"type": self.type}
        data.update(_plain(dataclasses.asdict(self)))
        return data


@dataclass(frozen=True)
class SearchStarted(Event):
    """The data is loaded and the tuner is about to run its first trial."""

    type: ClassVar[str] = "search_started"
    profile: Mapping[str, Any]
    space_summary: Mapping[str, Any]
    settings: Mapping[str, Any]
    project_dir: str
    resumed: bool = False
    completed_trials: int = 0


@dataclass(frozen=True)
class PhaseChanged(Event):
    """The search moved to another phase: loading, searching, refitting, evaluating, exporting."""

    type: ClassVar[str] = "phase_changed"
    phase: str
    message: str = ""


@dataclass(frozen=True)
class TrialStarted(Event):
    """A trial begins with these hyperparameter values."""

    type: ClassVar[str] = "trial_started"
    trial_id: str
    hyperparameters: Mapping[str, Any]
    max_epochs: int | None = None
    worker: str = "local"


@dataclass(frozen=True)
class EpochEnded(Event):
    """One epoch of a trial ended; ``metrics`` holds every logged value (loss, val_loss, ...).

    The final refit of the best configuration reports its epochs (and batches) with
    ``trial_id="refit"``; it has no ``trial_started``/``trial_ended`` and no validation metrics.
    When the exported model averages several refits, each starts again at epoch 1.
    """

    type: ClassVar[str] = "epoch_ended"
    trial_id: str
    epoch: int
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class BatchProgress(Event):
    """Progress inside an epoch; sent at most ~10 times a second."""

    type: ClassVar[str] = "batch_progress"
    trial_id: str
    epoch: int
    batch: int
    batches: int | None


@dataclass(frozen=True)
class TrialEnded(Event):
    """A trial ended: ``status`` is ``completed``, ``failed`` or ``stopped``.

    ``class_recall`` is a completed classification trial's recall of each class on the
    validation split (the share of the class's rows it predicts as that class, 0–1), by class
    name in class-index order; ``None`` for a class with no validation rows. It is empty for
    regression, for a trial that did not complete, for one a distributed worker ran without
    reporting its own events, and in older event logs.

    A trial scored by k-fold cross-validation (small tables, ``SearchConfig.cv_folds``) has
    ``score`` the mean of ``fold_scores``, each fold's best validation objective, and
    ``score_se`` their standard error (sample standard deviation / sqrt(folds), the objective's
    units); ``best_epoch`` is then the mean of the folds' best epochs and ``class_recall`` the
    last fold's. Both are empty for a trial scored on the validation split, and in older logs.
    """

    type: ClassVar[str] = "trial_ended"
    trial_id: str
    status: str
    score: float | None
    duration_s: float
    error: str | None = None
    best_epoch: int | None = None
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    worker: str = "local"
    class_recall: Mapping[str, float | None] = field(default_factory=dict)
    score_se: float | None = None
    fold_scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class FinalistsScored(Event):
    """The best few trials, cross-validated after the search to choose the exported one.

    On a small table (:func:`~automl_studio.engine.train.crossval.applies`) one validation split
    of a few dozen rows ranks the trials partly by luck, so the finalists (the validation
    split's best few and the first, linear trial) are each trained once per fold of
    train+validation, on the same folds, each fold scored at the finalist's refit length, and
    the smallest network within one standard error of the best mean fold score is refitted and
    exported (:func:`~automl_studio.engine.train.crossval.choose`). ``scores`` maps each finalist's trial
    id to ``{"score": mean, "se": standard error (sample standard deviation / sqrt(folds)),
    "fold_scores": [each fold's objective after "epochs" epochs (or its last, where early
    stopping ended it sooner)], "epochs": the refit's length (the median of the folds' best epochs),
    "parameters": the network's weights}`` (and ``"unsteady": True`` on a smaller finalist within a
    standard error that was passed over for its folds' spread, :func:`~automl_studio.engine.train.crossval.unsteady`),
    in the ``objective``'s units; a finalist cut short
    by the time budget is absent. ``chosen`` is the trial exported and ``validation_best``
    the one the validation split ranked first (the same id when the folds agree); ``folds`` is
    how many folds each finalist was scored on. A random forest scored on the same folds
    (``SearchConfig.forest``) is the key ``"forest"`` (``epochs`` 0, ``parameters`` its weights as
    Keras layers); ``chosen`` is ``"forest"`` where it is exported: where its mean is better than
    every network's. Logs written before ``fold_scores`` were taken at the refit's length hold
    each fold's best.
    """

    type: ClassVar[str] = "finalists_scored"
    objective: str
    folds: int
    scores: Mapping[str, Mapping[str, Any]]
    chosen: str
    validation_best: str


class FinishedResult(Protocol):
    """What :meth:`SearchFinished.from_result` reads (the engine's ``SearchResult``)."""

    @property
    def status(self) -> str: ...
    @property
    def best_trial_id(self) -> str | None: ...
    @property
    def best_score(self) -> float | None: ...
    @property
    def best_hyperparameters(self) -> Mapping[str, Any]: ...
    @property
    def test_metrics(self) -> Mapping[str, Any]: ...
    @property
    def exported(self) -> Sequence[str]: ...
    @property
    def message(self) -> str: ...
    @property
    def refits(self) -> int: ...
    @property
    def baseline_metrics(self) -> Mapping[str, Any]: ...
    @property
    def baselines(self) -> Mapping[str, Any]: ...
    @property
    def all_rows(self) -> Mapping[str, Any]: ...
    @property
    def ensemble(self) -> Mapping[str, Any]: ...
    @property
    def forest(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class BaselinesScored(Event):
    """The baselines raced beside the search, scored on the search's own splits.

    ``trivial`` names the trivial model in words ("the majority class", "the training mean") and
    ``linear`` the scikit-learn linear model (``LogisticRegression`` or ``Ridge``, at defaults).
    ``trivial_score`` and ``linear_score`` are their values of the search ``objective`` on the
    validation split (compare them with the trials' scores, in ``direction``);
    ``linear_test_metrics`` are the linear model's test metrics, with the same keys as the best
    model's (empty without a test split). ``skipped`` says why there is no linear model ("" when
    there is one). ``forest`` names the scikit-learn random forest at its defaults
    (``RandomForestClassifier`` or ``RandomForestRegressor``; ``""`` in event logs written before it
    was raced), with ``forest_score``, ``forest_test_metrics`` and ``forest_skipped`` as for the
    linear model; ``seconds`` is how long all of them took.
    """

    type: ClassVar[str] = "baselines_scored"
    objective: str
    direction: str
    trivial: str
    trivial_score: float | None
    linear: str
    linear_score: float | None
    linear_test_metrics: Mapping[str, Any] = field(default_factory=dict)
    skipped: str = ""
    seconds: float = 0.0
    forest: str = ""
    forest_score: float | None = None
    forest_test_metrics: Mapping[str, Any] = field(default_factory=dict)
    forest_skipped: str = ""

    def summary(self) -> dict[str, Any]:
        """The event's fields without ``type`` and ``time``: what ``SearchFinished.baselines`` keeps."""
        data = self.to_dict()
        data.pop("type", None)
        data.pop("time", None)
        return data


@dataclass(frozen=True)
class SearchFinished(Event):
    """The search is over.

    ``status`` is ``completed`` (all trials ran), ``budget`` (time budget spent), ``stopped``
    (the user stopped it) or ``failed`` (``message`` says why). The best trial so far is reported
    whenever there is one, with its test metrics and the files written for it. ``refits`` counts
    the refits of the best trial averaged in the exported model (0: as trained); ``None`` only in
    event logs written before it was reported. ``baseline_metrics`` are the test metrics of the
    trivial model on the same test split (the training split's most common class, or its mean
    for regression), empty where no test metrics were computed. ``baselines`` is the search's
    :class:`BaselinesScored` (its :meth:`~BaselinesScored.summary`; empty when they were not
    scored, and in older event logs). ``ensemble`` is set where the exported model is a weighted
    ensemble of the best trials (``trials``, ``weights``: see
    :mod:`automl_studio.engine.train.ensemble`; ``refits`` is then 0). ``forest`` is set where the
    exported model is a random forest in Keras layers chosen over the networks (``chosen_by``:
    on the finalists' folds, or on the validation split, where it scored better or trailed the
    best trial by no more than a standard error; ``trees``, ``leaves``, ``smoothing``, ``score``, ``network_score``, ``chosen_by``: see
    :mod:`automl_studio.engine.train.forest`; ``refits`` is then 0). ``all_rows`` is set where the
    exported model was trained again the same way on all rows after the test split scored it
    (``SearchConfig.refit_all``): ``rows`` (all rows), ``test_rows``, ``members`` (how many of its
    refits were, ``of``: of how many; a forest: 1 of 1); the test metrics are then the model's before.
    Make one with :meth:`build` (or :meth:`from_result`), which every producer uses.
    """

    type: ClassVar[str] = "search_finished"
    status: str
    best_trial_id: str | None = None
    best_score: float | None = None
    best_hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    test_metrics: Mapping[str, Any] = field(default_factory=dict)
    exported: tuple[str, ...] = ()
    message: str = ""
    refits: int | None = None
    baseline_metrics: Mapping[str, Any] = field(default_factory=dict)
    baselines: Mapping[str, Any] = field(default_factory=dict)
    ensemble: Mapping[str, Any] = field(default_factory=dict)
    forest: Mapping[str, Any] = field(default_factory=dict)
    all_rows: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, status: str, message: str = "", *, best_trial_id: str | None = None,
              best_score: float | None = None, best_hyperparameters: Mapping[str, Any] | None = None,
              test_metrics: Mapping[str, Any] | None = None, exported: Sequence[str] = (),
              refits: int = 0, baseline_metrics: Mapping[str, Any] | None = None,
              baselines: Mapping[str, Any] | None = None,
              ensemble: Mapping[str, Any] | None = None,
              forest: Mapping[str, Any] | None = None,
              all_rows: Mapping[str, Any] | None = None) -> SearchFinished:
        """The one way to make a ``search_finished`` event.

        Args:
            status: ``completed``, ``budget``, ``stopped`` or ``failed``.
            message: why it ended, for the user (required in practice for ``failed``).
            best_score: a non-finite score is reported as ``None``.
            exported: paths of the files written for the best trial.
            refits: refits averaged in the exported model (0: the best trial as trained).
            baseline_metrics: the trivial model's metrics on the same test split.
            baselines: the raced baselines (:meth:`BaselinesScored.summary`).
            ensemble: where the exported model is a weighted ensemble of trials, its record
                (``trials``, ``weights``, ``score``, ``single_score``); empty otherwise.
            forest: where the exported model is a random forest, its record; empty otherwise.
            all_rows: where the exported model was trained again on all rows after the test,
                ``rows``, ``test_rows``, ``members`` and ``of``; empty otherwise.
        """
        score = None if best_score is None or not math.isfinite(best_score) else float(best_score)
        return cls(status=status, message=message,
                   best_trial_id=None if best_trial_id is None else str(best_trial_id),
                   best_score=score, best_hyperparameters=dict(best_hyperparameters or {}),
                   test_metrics=dict(test_metrics or {}), exported=tuple(map(str, exported)),
                   refits=int(refits), baseline_metrics=dict(baseline_metrics or {}),
                   baselines=dict(baselines or {}), ensemble=dict(ensemble or {}), forest=dict(forest or {}),
                   all_rows=dict(all_rows or {}))

    @classmethod
    def from_result(cls, result: FinishedResult) -> SearchFinished:
        """The event that reports a search's result (see :meth:`build`)."""
        return cls.build(result.status, result.message, best_trial_id=result.best_trial_id,
                         best_score=result.best_score, best_hyperparameters=result.best_hyperparameters,
                         test_metrics=result.test_metrics, exported=result.exported, refits=result.refits,
                         baseline_metrics=result.baseline_metrics, baselines=result.baselines,
                         ensemble=result.ensemble, forest=result.forest, all_rows=result.all_rows)


@dataclass(frozen=True)
class SearchWarning(Event):
    """Something the user should know that does not stop the search."""

    type: ClassVar[str] = "warning"
    message: str
    trial_id: str | None = None


@dataclass(frozen=True)
class ProcessExited(Event):
    """The process that ran a search (or a worker) has ended and every event it sent was read.

    ``exitcode`` is the process's exit status (negative: ended by a signal, as ``subprocess``
    reports it; ``None``: it never started); ``signal`` is that signal's number, and ``message``
    says what happened in words ("" for a clean exit).
    """

    type: ClassVar[str] = "process_exited"
    exitcode: int | None
    signal: int | None = None
    message: str = ""

    @classmethod
    def from_returncode(cls, code: int | None, message: str = "") -> ProcessExited:
        """The event for a ``subprocess`` return code (``-9`` becomes ``signal=9``, "killed by SIGKILL")."""
        number = -code if code is not None and code < 0 else None
        if not message and number is not None:
            try:
                name = _signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            message = f"the process was killed by {name}"
        elif not message and code:
            message = f"the process ended with exit code {code}"
        return cls(exitcode=code, signal=number, message=message)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SearchStarted,
        PhaseChanged,
        TrialStarted,
        EpochEnded,
        BatchProgress,
        TrialEnded,
        FinalistsScored,
        BaselinesScored,
        SearchFinished,
        SearchWarning,
        ProcessExited,
    )
}


class UnknownEventError(ValueError):
    """A dict whose ``type`` is not in :data:`EVENT_TYPES` (a newer engine's event, or junk)."""


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Rebuilds an event from :meth:`Event.to_dict` output (a JSON line, an event log).

    Keys the event does not have are ignored, so a newer engine's extra fields do no harm.

    Raises:
        UnknownEventError: ``type`` names no event.
        ValueError: a field the event needs is missing.
    """
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise UnknownEventError(f"unknown event type {data.get('type')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if "trial_id" in kwargs and kwargs["trial_id"] is not None:
        kwargs["trial_id"] = str(kwargs["trial_id"])
    if cls is TrialEnded and "fold_scores" in kwargs:
        kwargs["fold_scores"] = tuple(kwargs["fold_scores"] or ())
    if cls is FinalistsScored:
        for key in ("chosen", "validation_best"):
            if key in kwargs:
                kwargs[key] = str(kwargs[key])
    if cls is SearchFinished and "exported" in kwargs:
        kwargs["exported"] = tuple(kwargs["exported"] or ())
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"malformed {cls.type} event: {exc}") from None


class SearchListener(Protocol):
    """Receives every event of a search, on the thread that runs the search."""

    def __call__(self, event: Event) -> None: ...


class JsonLinesWriter:
    """A listener that writes each event as one JSON line and flushes it."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __call__(self, event: Event) -> None:
        self._stream.write(json.dumps(event.to_dict(), allow_nan=False) + "\n")
        self._stream.flush()


class Broadcast:
    """A listener that forwards each event to several listeners, in order."""

    def __init__(self, *listeners: Callable[[Event], None]) -> None:
        self._listeners = [listener for listener in listeners if listener is not None]

    def add(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def __call__(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)


def _plain(value: Any) -> Any:
    """Makes a value JSON-safe: tuples become lists, NaN/inf become None, numpy scalars floats."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return str(value)


plain = _plain
