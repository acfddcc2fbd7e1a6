"""Running engine work in a child process: the search, and exports.

TensorFlow must never run in the window's process: importing it stalls the event loop for
seconds, every model build stalls it again, and it never gives GPU memory back. So the window
(and anyone else who wants isolation) starts a :class:`SearchProcess`: a *spawned* child runs
:func:`automl_studio.engine.search.run_search`, sends each event back as a plain dict, and
watches a stop flag. Stopping is cooperative first (the flag is checked at every batch), forceful
second (the child is terminated, then killed, if it has not ended within ``grace_s``).

This module imports neither Keras nor TensorFlow; the child imports them.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import queue
import signal
import time
import traceback
from collections.abc import Mapping
from typing import Any

from .settings import SearchConfig

PROCESS_EXITED = "process_exited"
_CONTEXT = mp.get_context("spawn")


def _quiet_child() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A Ctrl+C in the terminal is the parent's to handle; the child stops through its flag.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _search_child(config: dict[str, Any], events: Any, stop: Any) -> None:
    _quiet_child()
    search = importlib.import_module("automl_studio.engine.search")
    errors = importlib.import_module("automl_studio.engine.errors")

    def send(event: Any) -> None:
        events.put(event.to_dict())

    try:
        search.run_search(SearchConfig.from_dict(config), listener=send, stop=stop)
    except errors.UserError as exc:
        events.put({"type": "search_finished", "status": "failed", "message": str(exc),
                    "time": time.time()})
    except BaseException as exc:  # report, then let the parent see a non-zero exit
        events.put({"type": "search_finished", "status": "failed",
                    "message": f"internal error: {exc.__class__.__name__}: {exc}",
                    "traceback": traceback.format_exc(), "time": time.time()})
        raise SystemExit(1) from None


class SearchProcess:
    """A search running in a spawned child process, with its events arriving as dicts.

    Use from one thread: ``start()``, then ``poll()`` in a loop until an event of type
    ``process_exited`` arrives; ``request_stop()`` or ``stop()`` at any time.
    """

    def __init__(self, config: SearchConfig) -> None:
        self.config = config
        self._events: Any = _CONTEXT.Queue()
        self._stop = _CONTEXT.Event()
        self._process: Any = None
        self._exit_reported = False
        self.stop_requested_at: float | None = None

    def start(self) -> None:
        self._process = _CONTEXT.Process(
            target=_search_child,
            args=(self.config.to_dict(), self._events, self._stop),
            name="automl-studio-search",
            daemon=True,  # ends with the parent, so a crashed window leaves no orphan
        )
        self._process.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode if self._process is not None else None

    def poll(self, timeout: float = 0.1) -> list[dict[str, Any]]:
        """Returns the events that arrived (waiting up to ``timeout`` for the first).

        After the child has ended and every event is drained, the list ends with one
        ``{"type": "process_exited", "exitcode": N}``; later calls return nothing.
        """
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                wait = max(0.0, deadline - time.monotonic()) if not out else 0.0
                out.append(self._events.get(timeout=wait) if wait else self._events.get_nowait())
            except queue.Empty:
                break
            if len(out) >= 500:
                return out
        if not out and self._process is not None and not self._process.is_alive() and not self._exit_reported:
            self._process.join()
            # Drain what the child queued just before ending.
            while True:
                try:
                    out.append(self._events.get(timeout=0.2))
                except queue.Empty:
                    break
            if not out:
                self._exit_reported = True
                out.append({"type": PROCESS_EXITED, "exitcode": self._process.exitcode,
                            "time": time.time()})
        return out

    def request_stop(self) -> None:
        """Asks the child to stop at the next batch boundary; returns at once."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        self._stop.set()

    def stop(self, grace_s: float = 5.0) -> int | None:
        """Stops the search: cooperatively, then by force after ``grace_s``. Returns the exit code."""
        if self._process is None:
            return None
        self.request_stop()
        self._process.join(grace_s)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(2.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(2.0)
        return self._process.exitcode

    def kill(self) -> None:
        """Ends the child at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5.0)


def _call_child(target: str, kwargs: dict[str, Any], results: Any) -> None:
    _quiet_child()
    module_name, _, func_name = target.partition(":")
    errors = importlib.import_module("automl_studio.engine.errors")
    try:
        value = getattr(importlib.import_module(module_name), func_name)(**kwargs)
        results.put({"ok": True, "value": value})
    except errors.UserError as exc:
        results.put({"ok": False, "message": str(exc)})
    except BaseException as exc:
        results.put({"ok": False, "message": f"internal error: {exc.__class__.__name__}: {exc}",
                     "traceback": traceback.format_exc()})


class ChildCallError(Exception):
    """A function run by :func:`call_in_child` failed; the message is for the user."""


def call_in_child(target: str, kwargs: Mapping[str, Any], timeout: float = 600.0) -> Any:
    """Runs ``module:function(**kwargs)`` in a spawned child and returns its (plain) result.

    Used by the window for engine work that needs Keras (exporting, reading predictions).
    Raises :class:`ChildCallError` with a readable message if the function fails or times out.
    """
    results: Any = _CONTEXT.Queue()
    process = _CONTEXT.Process(target=_call_child, args=(target, dict(kwargs), results), daemon=True)
    process.start()
    try:
        reply = results.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise ChildCallError(f"{target} did not finish within {timeout:.0f} s") from None
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    if not reply["ok"]:
        raise ChildCallError(reply["message"])
    return reply["value"]
