"""One background task at a time, off the GUI thread, with throttled progress and cancellation.

The idea is Orange's ``concurrent.TaskState``: the work is a plain function
``fn(progress=..., cancel=..., **kwargs)``; a :class:`TaskRunner` runs it in a ``QThread`` and
reports back through signals that carry plain data. Starting a new task cancels the previous one
and its late results are dropped, so the newest request always wins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

PROGRESS_INTERVAL_S = 0.05

# Every worker thread stays referenced here until it has finished, so that a QThread is never
# destroyed while running (Qt aborts the process) even when its owner goes away first.
_LIVE: list[tuple[QThread, QObject]] = []


def keep_alive(thread: QThread, worker: QObject) -> None:
    """Holds ``thread`` and ``worker`` until the thread has finished (see ``_LIVE``)."""
    reap_finished()
    _LIVE.append((thread, worker))


def reap_finished() -> None:
    """Forgets the threads that have finished; call from the GUI thread."""
    _LIVE[:] = [(t, w) for t, w in _LIVE if not t.isFinished()]


class _TaskWorker(QObject):
    """Runs one call on its thread; reports through private signals."""

    progressed = Signal(int, float)
    succeeded = Signal(int, object)
    failed = Signal(int, str, str)

    def __init__(self, generation: int, fn: Callable[..., Any], kwargs: dict[str, Any],
                 cancel: threading.Event) -> None:
        super().__init__()
        self._generation = generation
        self._fn = fn
        self._kwargs = kwargs
        self._cancel = cancel
        self._last_emit = 0.0
        self._last_value = -1.0

    def _progress(self, fraction: float) -> None:
        # Only when it changed enough and not more than ~20 times a second.
        now = time.monotonic()
        if fraction >= 1.0 or (fraction - self._last_value >= 0.01
                               and now - self._last_emit >= PROGRESS_INTERVAL_S):
            self._last_emit, self._last_value = now, fraction
            self.progressed.emit(self._generation, float(fraction))

    @Slot()
    def run(self) -> None:
        from automl_studio.engine.core.errors import UserError

        try:
            result = self._fn(progress=self._progress, cancel=self._cancel, **self._kwargs)
        except UserError as exc:
            self.failed.emit(self._generation, "user", str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message, never a crash
            kind = "cancelled" if type(exc).__name__ == "LoadCancelled" else "internal"
            message = "cancelled" if kind == "cancelled" else f"{type(exc).__name__}: {exc}"
            self.failed.emit(self._generation, kind, message)
        else:
            self.succeeded.emit(self._generation, result)


class TaskRunner(QObject):
    """Runs plain functions in a worker thread, newest request wins.

    Signals:
        progressed(fraction): throttled progress of the current task.
        finished(result): the current task returned ``result``.
        failed(kind, message): ``kind`` is ``user`` (a :class:`UserError`, show ``message``
            as is), ``cancelled`` or ``internal``.
    """

    progressed = Signal(float)
    finished = Signal(object)
    failed = Signal(str, str)
    runningChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._threads: list[tuple[QThread, _TaskWorker]] = []
        self._cancel: threading.Event | None = None
        self._busy = False

    @property
    def running(self) -> bool:
        return self._busy

    def start(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        self.cancel()
        self._generation += 1
        self._cancel = threading.Event()
        thread = QThread()
        worker = _TaskWorker(self._generation, fn, kwargs, self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        worker.succeeded.connect(self._on_success, Qt.ConnectionType.QueuedConnection)
        worker.failed.connect(self._on_failure, Qt.ConnectionType.QueuedConnection)
        worker.succeeded.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._reap)
        self._threads.append((thread, worker))
        keep_alive(thread, worker)
        self._set_busy(True)
        thread.start()

    def cancel(self) -> None:
        """Asks the current task to stop; its result, if any, is ignored."""
        if self._cancel is not None:
            self._cancel.set()
        if self._busy:
            self._generation += 1
            self._set_busy(False)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancels and waits for every thread (call before the owner is destroyed)."""
        self.cancel()
        for thread, _worker in list(self._threads):
            thread.quit()
            thread.wait(timeout_ms)
        self._threads.clear()

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.runningChanged.emit(busy)

    @Slot()
    def _reap(self) -> None:
        self._threads = [(t, w) for t, w in self._threads if t.isRunning()]
        reap_finished()

    @Slot(int, float)
    def _on_progress(self, generation: int, fraction: float) -> None:
        if generation == self._generation:
            self.progressed.emit(fraction)

    @Slot(int, object)
    def _on_success(self, generation: int, result: object) -> None:
        if generation == self._generation:
            self._set_busy(False)
            self.finished.emit(result)

    @Slot(int, str, str)
    def _on_failure(self, generation: int, kind: str, message: str) -> None:
        if generation == self._generation:
            self._set_busy(False)
            self.failed.emit(kind, message)
