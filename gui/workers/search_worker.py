"""The search's worker thread: it owns the engine's :class:`SearchProcess` and turns the events
it polls into Qt signals carrying the engine's frozen event dataclasses (plain data).

:class:`SearchController` lives on the GUI thread; it starts a :class:`SearchWorker` on a
``QThread`` and re-emits the worker's signals (connected with ``Qt.QueuedConnection`` to its own
methods, so every slot runs on the GUI thread). Stopping is cooperative first — the engine checks
the stop flag at each batch — and forceful only when the child does not end in time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from automl_studio.engine.core.events import (
    BatchProgress,
    EpochEnded,
    Event,
    PhaseChanged,
    ProcessExited,
    SearchFinished,
    SearchStarted,
    SearchWarning,
    TrialEnded,
    TrialStarted,
)
from automl_studio.gui.workers.tasks import keep_alive

POLL_TIMEOUT_S = 0.05
STOP_GRACE_S = 30.0  # after a Stop, how long the engine may take to wrap up before it is ended
CLOSE_GRACE_S = 3.0  # when the window closes: cooperative stop, then terminate
LAUNCH_DELAY_MS = 30  # Start's repaint goes first, then the worker thread starts


class SearchWorker(QObject):
    """Runs on the worker thread: starts the child, polls its events, stops it when asked."""

    processStarted = Signal(int)
    eventReceived = Signal(object)  # an Event
    done = Signal()

    def __init__(self, config_dict: dict[str, Any]) -> None:
        super().__init__()
        self._config = config_dict
        self._stop = threading.Event()
        self._force = threading.Event()

    def request_stop(self) -> None:
        """Thread-safe: ask the child to stop at its next batch."""
        self._stop.set()

    def force_stop(self) -> None:
        """Thread-safe: stop now (cooperatively for a moment, then terminate the child)."""
        self._stop.set()
        self._force.set()

    def _run_workers(self, config: Any) -> None:
        """Several trials at once, or workers from other machines: a local chief and workers
        (KerasTuner's distributed mode)."""
        from automl_studio.engine.search.distributed import run_local_workers

        try:
            run_local_workers(config, config.workers, self.eventReceived.emit, stop=self._stop, background=True)
        except Exception as exc:  # noqa: BLE001 - report, don't crash the window
            self.eventReceived.emit(SearchFinished.build("failed", f"the workers could not run: {exc}"))
        self.eventReceived.emit(ProcessExited.from_returncode(0))
        self.done.emit()

    @Slot()
    def run(self) -> None:
        from automl_studio.engine.core.config import SearchConfig
        from automl_studio.engine.process.runner import SearchProcess

        if int(self._config.get("workers") or 1) > 1 or self._config.get("chief_address"):
            self._run_workers(SearchConfig.from_dict(self._config))
            return

        try:
            process = SearchProcess(SearchConfig.from_dict(self._config), background=True)
            process.start()
        except Exception as exc:  # noqa: BLE001 - e.g. an invalid config: report, don't crash
            self.eventReceived.emit(SearchFinished.build("failed", f"could not start the search: {exc}"))
            self.eventReceived.emit(ProcessExited.from_returncode(None, "the search process did not start"))
            self.done.emit()
            return
        pid = int(process.pid or 0)
        self.processStarted.emit(pid)
        stop_sent: float | None = None
        forced = False
        while True:
            if self._stop.is_set() and stop_sent is None:
                process.request_stop()
                stop_sent = time.monotonic()
            if not forced and stop_sent is not None and (
                    self._force.is_set() or time.monotonic() - stop_sent > STOP_GRACE_S):
                forced = True
                process.stop(grace_s=CLOSE_GRACE_S)
            events = process.poll(timeout=POLL_TIMEOUT_S)
            if process.pid != pid and process.running:  # the engine recycled its process
                pid = int(process.pid or 0)
                self.processStarted.emit(pid)
            finished = False
            for event in events:
                self.eventReceived.emit(event)
                finished = finished or isinstance(event, ProcessExited)
            if finished:
                break
        self.done.emit()


class SearchController(QObject):
    """Starts and stops searches from the GUI thread; one search at a time.

    Signals (all on the GUI thread, each carrying its frozen event dataclass):
    ``searchStarted`` (:class:`SearchStarted`), ``phaseChanged``, ``trialStarted``,
    ``epochEnded``, ``batchProgressed`` (:class:`BatchProgress`), ``trialEnded``,
    ``searchFinished``, ``warningRaised`` (:class:`SearchWarning`), ``processExited``
    (:class:`ProcessExited`, always the last); ``eventReceived`` for every event, before its own
    signal; ``runningChanged(bool)``; ``processStarted(pid)``.
    """

    eventReceived = Signal(object)
    searchStarted = Signal(object)
    phaseChanged = Signal(object)
    trialStarted = Signal(object)
    epochEnded = Signal(object)
    batchProgressed = Signal(object)
    trialEnded = Signal(object)
    searchFinished = Signal(object)
    warningRaised = Signal(object)
    processExited = Signal(object)
    processStarted = Signal(int)
    runningChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: SearchWorker | None = None
        self._running = False
        self._stopping = False
        self.pid: int | None = None

    @property
    def running(self) -> bool:
        return self._running

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self, config_dict: dict[str, Any]) -> None:
        """Starts a search for ``SearchConfig.to_dict()`` output."""
        if self._running:
            raise RuntimeError("a search is already running")
        self._cleanup()
        thread = QThread()
        thread.setObjectName("searchWorkerThread")
        worker = SearchWorker(config_dict)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.eventReceived.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        worker.processStarted.connect(self._on_process_started, Qt.ConnectionType.QueuedConnection)
        worker.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        # QThread.quit is thread-safe: end the worker's event loop from its own thread, at once.
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread, self._worker = thread, worker
        self._running, self._stopping = True, False
        self.pid = None
        self.runningChanged.emit(True)
        # The window first repaints for the new state (from another page, Start shows the Search
        # page and paints every plot); the thread and its first events follow in a later turn of
        # the event loop, so the two never add up to one long freeze.
        QTimer.singleShot(LAUNCH_DELAY_MS, self, lambda: self._launch(thread, worker))

    def _launch(self, thread: QThread, worker: SearchWorker) -> None:
        if self._thread is not thread:  # shut down before it began
            return
        keep_alive(thread, worker)
        thread.start()

    def request_stop(self) -> None:
        """Asks the search to stop at the next batch; the signals report when it has."""
        if self._worker is not None and self._running:
            self._stopping = True
            self._worker.request_stop()

    def shutdown(self, timeout_s: float = 15.0) -> None:
        """Stops any search now and waits for its worker (for closing the window)."""
        if self._worker is not None and self._running:
            self._stopping = True
            self._worker.force_stop()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(int(timeout_s * 1000))
        self._running = False
        self._cleanup()

    def _cleanup(self) -> None:
        # Finished threads are dropped here; tasks.keep_alive holds running ones.
        if self._thread is not None and not self._thread.isRunning():
            self._thread, self._worker = None, None

    @Slot(int)
    def _on_process_started(self, pid: int) -> None:
        self.pid = pid
        self.processStarted.emit(pid)

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        self.eventReceived.emit(event)
        match event:
            case SearchStarted():
                self.searchStarted.emit(event)
            case PhaseChanged():
                self.phaseChanged.emit(event)
            case TrialStarted():
                self.trialStarted.emit(event)
            case EpochEnded():
                self.epochEnded.emit(event)
            case BatchProgress():
                self.batchProgressed.emit(event)
            case TrialEnded():
                self.trialEnded.emit(event)
            case SearchFinished():
                self.searchFinished.emit(event)
            case SearchWarning():
                self.warningRaised.emit(event)
            case ProcessExited():
                self.processExited.emit(event)

    @Slot()
    def _on_done(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(2000)  # run() has returned: the thread ends within microseconds
        self._running, self._stopping = False, False
        self.runningChanged.emit(False)
