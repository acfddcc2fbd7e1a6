"""The one event vocabulary of a search.

The engine reports progress by calling a :class:`SearchListener` with these frozen dataclasses.
The same events become JSON Lines on the command line (``--events``), cross the process boundary
as plain dicts (:mod:`automl_studio.engine.process.runner`) and become Qt signals in the window. Every
event has a ``type`` (its wire name) and ``time`` (seconds since the epoch); every trial event has
``trial_id``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar, Protocol

SCHEMA_VERSION = 1


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
    """A trial ended: ``status`` is ``completed``, ``failed`` or ``stopped``."""

    type: ClassVar[str] = "trial_ended"
    trial_id: str
    status: str
    score: float | None
    duration_s: float
    error: str | None = None
    best_epoch: int | None = None
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    worker: str = "local"


@dataclass(frozen=True)
class SearchFinished(Event):
    """The search is over.

    ``status`` is ``completed`` (all trials ran), ``budget`` (time budget spent), ``stopped``
    (the user stopped it) or ``failed`` (``message`` says why). The best trial so far is reported
    whenever there is one, with its test metrics and the files written for it.
    """

    type: ClassVar[str] = "search_finished"
    status: str
    best_trial_id: str | None = None
    best_score: float | None = None
    best_hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    test_metrics: Mapping[str, Any] = field(default_factory=dict)
    exported: tuple[str, ...] = ()
    message: str = ""
    refits: int = 0  # refits of the best trial averaged in the exported model; 0: as trained


@dataclass(frozen=True)
class SearchWarning(Event):
    """Something the user should know that does not stop the search."""

    type: ClassVar[str] = "warning"
    message: str
    trial_id: str | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SearchStarted,
        PhaseChanged,
        TrialStarted,
        EpochEnded,
        BatchProgress,
        TrialEnded,
        SearchFinished,
        SearchWarning,
    )
}


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Rebuilds an event from :meth:`Event.to_dict` output (unknown keys are ignored)."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if cls is SearchFinished and "exported" in kwargs:
        kwargs["exported"] = tuple(kwargs["exported"])
    return cls(**kwargs)


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
