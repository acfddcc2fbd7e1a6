"""When this process started, on the :func:`time.monotonic` clock.

A search's time budget covers the whole command, so it counts from the start of the process
that runs it (the ``automl-studio`` command, or the engine child the window starts): the
interpreter's start and the imports (TensorFlow alone takes 3-30 s on a busy machine) count.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

_IMPORTED_AT = time.monotonic()  # the fallback: imported first thing by the entry points
_MAX_PRE_IMPORT_S = 600.0  # a /proc reading further before this module's import is not believed


def _age_from_proc() -> float | None:
    """Seconds since this process was created, from Linux's ``/proc/self/stat`` (None elsewhere)."""
    if not sys.platform.startswith("linux") or not hasattr(time, "CLOCK_BOOTTIME"):
        return None
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            stat = handle.read()
        # Fields after the command name (which may hold spaces): state is field 3, starttime 22.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / ticks


def process_started_at() -> float:
    """The :func:`time.monotonic` reading at which this process started.

    On Linux, the kernel's record of the process's creation; elsewhere (or if that reading is
    implausible, e.g. in another time namespace) the moment this module was first imported,
    which the command line and the engine child do before anything heavy.
    """
    now = time.monotonic()
    since_import = now - _IMPORTED_AT
    age = _age_from_proc()
    if age is None or not since_import - 0.05 <= age <= since_import + _MAX_PRE_IMPORT_S:
        return _IMPORTED_AT
    return now - age


def startup_watchdog(deadline: float, give_up: Callable[[], None]) -> Callable[[], None]:
    """Calls ``give_up`` (on a timer thread) at ``deadline`` unless the returned function, "the
    search has started", was called first.

    Starting the engine (importing TensorFlow, reading the data) cannot be cut short on the main
    thread: on a busy machine it took longer than a whole 60 s budget. ``give_up`` reports that
    and ends the process; before the search starts, nothing of the project is half written.
    """
    started = threading.Event()

    def expire() -> None:
        if not started.is_set():
            give_up()

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    timer.daemon = True
    timer.start()
    return started.set


def startup_message(budget_s: float) -> str:
    """Why a command ended before its search started: the budget ran out while it was starting."""
    return (f"the time budget ({budget_s:g} s, counted from the command's start) ran out while the engine was "
            "still starting (importing TensorFlow and reading the data took that long on this machine now), so "
            "no trial ran and no model was exported; give a larger time budget")
