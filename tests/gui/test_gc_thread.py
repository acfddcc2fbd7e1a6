"""Python's cyclic garbage collection runs on the GUI thread once a window exists: a worker thread
that allocates (loading, profiling) must never be the one that frees a Qt object held in a
reference cycle (Qt: "Timers cannot be started from another thread", or a crash)."""

from __future__ import annotations

import gc
import threading


class _Cycle:
    freed_on: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.freed_on.append(threading.current_thread().name)


def test_cycles_made_anywhere_are_freed_on_the_gui_thread(qtbot, window) -> None:
    assert not gc.isenabled()
    _Cycle.freed_on.clear()
    _Cycle()  # unreachable at once, but only the cyclic collector can free it

    loaded: list[list[list[int]]] = []

    def allocate() -> None:  # what a data load does: far past every collection threshold
        loaded.append([[i] for i in range(200_000)])

    worker = threading.Thread(target=allocate, name="loader")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(_Cycle.freed_on), timeout=10_000)
    assert _Cycle.freed_on == [threading.main_thread().name]
