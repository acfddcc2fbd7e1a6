"""Running engine work in a child process: the search, and exports.

TensorFlow must never run in the window's process: importing it stalls the event loop for
seconds, every model build stalls it again, and it never gives GPU memory back. So the window
(and anyone else who wants isolation) starts a :class:`SearchProcess`: a spawned child
(``python -m automl_studio.engine.process.child search``) runs the search and writes each event as a JSON
line; a reader thread here rebuilds the frozen event dataclasses of :mod:`~.core.events` from them
(fields it does not know are ignored; an event type it does not know is logged and skipped, so a
newer child never crashes an older window). Stopping is cooperative first (``stop`` on
the child's stdin, checked at every batch), forceful second (terminate, then kill, if the child
has not ended within ``grace_s``). If this process dies, the child sees its stdin close and stops.

Keras keeps a few MB per built model that ``clear_session()`` does not free, so over hundreds
of trials a child grows by a gigabyte. A child that has grown by ``recycle_mb`` ends itself
between two trials (exit status 75); :class:`SearchProcess` then starts the next one on the same
project, which resumes the search, and the caller sees one uninterrupted stream of events.

Only JSON crosses the boundary. This module imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import (
    Event,
    ProcessExited,
    SearchFinished,
    SearchStarted,
    SearchWarning,
    UnknownEventError,
    event_from_dict,
)

log = logging.getLogger(__name__)
PROCESS_EXITED = ProcessExited.type
ENGINE_LOG = "engine.log"
CPUS_ENV = "AUTOML_STUDIO_CPUS"  # the cores a worker process pins itself to (process/child.py)
RECYCLE_EXIT = 75  # EX_TEMPFAIL: the child ended itself to free memory; start the next one
BACKGROUND_NICE = 10  # POSIX nice of a background child: about a tenth of a normal process's CPU share
RECYCLE_MB = 512  # how much a search child may grow after its first trial before it is recycled


FROZEN_CHILD_FLAG = "--engine-child"  # packaging/launcher.py: the bundle's executables run the child


def _child_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):
        # A PyInstaller bundle has no interpreter to run ``-m`` with; its console program (which
        # has a real stdout for the events, unlike a windowed one on Windows) is the child.
        console = Path(sys.executable).with_name("automl-studio" + (".exe" if os.name == "nt" else ""))
        return [str(console if console.is_file() else sys.executable), FROZEN_CHILD_FLAG, *args]
    return [sys.executable, "-m", "automl_studio.engine.process.child", *args]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("QT_QPA_PLATFORM", None)
    return env


def _creation_flags(background: bool) -> int:
    """Windows: no console window for the child (the window's app has none to share), and a
    lower priority class for background work. 0 elsewhere."""
    if os.name != "nt":
        return 0
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    if background:
        flags |= getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)
    return flags


class SearchProcess:
    """A search running in a child process, with its events arriving as frozen dataclasses.

    Use from one thread: ``start()``, then ``poll()`` in a loop until a :class:`ProcessExited`
    arrives; ``request_stop()`` or ``stop()`` at any time. The child's stderr (TensorFlow's logs)
    goes to ``engine.log`` in the project directory. A recycled child is replaced without a
    :class:`ProcessExited` (``pid`` changes, ``restarts`` counts them).

    ``command`` replaces the engine's child program with another that speaks the same protocol
    (the config as one JSON line on stdin, then ``stop`` lines; events as JSON Lines on stdout).

    ``background=True`` runs the child at a lower scheduling priority (POSIX nice
    :data:`BACKGROUND_NICE`; Windows ``BELOW_NORMAL_PRIORITY_CLASS``), as desktop apps run their
    long work: training takes every core it is given, and a window sharing those cores would
    otherwise wait for the scheduler between frames. Alone on the machine, it trains as fast.
    """

    def __init__(self, config: SearchConfig, *, env: Mapping[str, str] | None = None,
                 log_name: str = ENGINE_LOG, recycle_mb: int | None = None,
                 command: Sequence[str] | None = None, background: bool = False) -> None:
        recycle_mb = RECYCLE_MB if recycle_mb is None else recycle_mb
        if recycle_mb and not config.recycle_mb:
            config = config.replace(recycle_mb=recycle_mb)
        self.config = config
        self._env = dict(env or {})
        self._log_name = log_name
        self._command = list(command) if command is not None else _child_command("search")
        self._background = background
        self._events: queue.Queue[Event | None] = queue.Queue()
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None
        self._exit_reported = False
        self._started_at = 0.0
        self._drop_next_start = False
        self.restarts = 0  # how many times the child was recycled
        self.stop_requested_at: float | None = None

    def start(self) -> None:
        project = Path(self.config.project_dir)
        project.mkdir(parents=True, exist_ok=True)
        self._log = open(project / self._log_name, "ab")
        self._started_at = time.monotonic()
        self._spawn(self.config)

    def _spawn(self, config: SearchConfig) -> None:
        events: queue.Queue[Event | None] = queue.Queue()
        process = subprocess.Popen(
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            text=True, encoding="utf-8", env={**_child_env(), **self._env}, bufsize=1,
            creationflags=_creation_flags(self._background),
        )
        if self._background and hasattr(os, "setpriority"):
            # Before TensorFlow starts its thread pools (seconds later): they inherit the value.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, process.pid, BACKGROUND_NICE)
        assert process.stdin is not None
        process.stdin.write(json.dumps(config.to_dict()) + "\n")
        process.stdin.flush()
        self._process, self._events = process, events
        threading.Thread(target=self._read, args=(process, events), name="engine-events", daemon=True).start()

    def _respawn(self) -> None:
        """Starts the next child on the same project: it resumes where the last one ended itself."""
        self._close_pipes()
        config = self.config.replace(fresh=False)
        if config.time_budget_s:  # the budget counts from the first child's start
            left = config.time_budget_s - (time.monotonic() - self._started_at)
            config = config.replace(time_budget_s=max(1.0, left))
        self.restarts += 1
        self._drop_next_start = True
        self._spawn(config)

    @staticmethod
    def _read(process: subprocess.Popen[str], events: queue.Queue[Event | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                events.put(SearchWarning(message=f"engine: {line[:500]}"))
                continue
            if not isinstance(data, dict):
                events.put(SearchWarning(message=f"engine: {line[:500]}"))
                continue
            try:
                events.put(event_from_dict(data))
            except UnknownEventError as exc:
                log.warning("engine process %s sent an event this version does not know: %s; skipped",
                            process.pid, exc)
            except ValueError as exc:
                log.warning("engine process %s sent a malformed event: %s; skipped", process.pid, exc)
        events.put(None)  # end of stream

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Returns the events that arrived (waiting up to ``timeout`` for the first).

        After the child has ended and every event is drained, the list ends with one
        :class:`ProcessExited`; later calls return nothing.
        """
        out: list[Event] = []
        if self._exit_reported or self._process is None:
            return out
        wait = timeout
        while len(out) < 500:
            try:
                item = self._events.get(timeout=wait) if wait > 0 else self._events.get_nowait()
            except queue.Empty:
                break
            wait = 0
            if item is None:
                code = self._process.wait()
                if code == RECYCLE_EXIT:
                    if self.stop_requested_at is None:
                        self._respawn()
                        continue
                    # Stopped while the child was ending itself: nothing is left to stop.
                    out.append(SearchFinished.build("stopped", "stopped by the user; Resume continues "
                                                    "the search"))
                    code = 0
                self._close_files()
                self._exit_reported = True
                out.append(ProcessExited.from_returncode(code))
                break
            if self._drop_next_start and isinstance(item, SearchStarted):
                self._drop_next_start = False  # the same search goes on; its start was reported
                continue
            out.append(item)
        return out

    def request_stop(self) -> None:
        """Asks the child to stop at the next batch boundary; returns at once."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        process = self._process
        if process is not None and process.stdin is not None and process.poll() is None:
            try:
                process.stdin.write("stop\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass

    def stop(self, grace_s: float = 5.0) -> int | None:
        """Stops the search: cooperatively, then by force after ``grace_s``. Returns the exit code."""
        if self._process is None:
            return None
        self.request_stop()
        try:
            return self._process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self._process.terminate()
        try:
            return self._process.wait(2.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait(5.0)

    def kill(self) -> None:
        """Ends the child at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(5.0)

    def _close_pipes(self) -> None:
        for stream in (self._process.stdin, self._process.stdout) if self._process is not None else ():
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def _close_files(self) -> None:
        self._close_pipes()
        if self._log is not None:
            self._log.close()
            self._log = None


class ChildCallError(Exception):
    """A function run by :func:`call_in_child` failed; the message is for the user."""


def call_in_child(target: str, kwargs: Mapping[str, Any], timeout: float = 600.0) -> Any:
    """Runs ``module:function(**kwargs)`` in a child process and returns its (JSON) result.

    Used by the window for engine work that needs Keras (exporting, reading predictions).
    Raises :class:`ChildCallError` with a readable message if the function fails or times out.
    """
    try:
        proc = subprocess.run(
            _child_command("call", target), input=json.dumps(dict(kwargs)) + "\n", capture_output=True,
            text=True, encoding="utf-8", env=_child_env(), timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise ChildCallError(f"{target} did not finish within {timeout:.0f} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise ChildCallError(f"the engine process ended with status {proc.returncode}: {tail[0]}")
    reply = json.loads(lines[-1])
    if not reply.get("ok"):
        raise ChildCallError(reply.get("message", "the engine call failed"))
    return reply["value"]
