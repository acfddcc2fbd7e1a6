"""Workarounds for bugs in the Qt binding we run on; each says how to tell when it can go.

PySide6 6.12.0 returns ``None`` from every ``void`` method without taking a new reference
(``QWidget.setEnabled``, ``QPen.setWidth``, ``QPolygonF.resize``…), so each call drops
``None``'s reference count by one; some paths do the same to ``True``. pyqtgraph makes thousands
of such calls per redraw, and on Python 3.11, where these singletons are not yet immortal, a live
plot kills the app within minutes ("Fatal Python error: none_dealloc: deallocating None", or
``bool_dealloc``). Until the binding is fixed (or pinned to a version without the bug), we give
``None``, ``True`` and ``False`` a reference count so large that the leaks can never reach zero.
:func:`none_refcount_leaks` tells whether the installed binding still has the bug.
"""

from __future__ import annotations

import ctypes
import sys

_NONE_HEADROOM = 1 << 48  # ~2.8e14 leaked decrefs: centuries of painting at any realistic rate
_applied = False


def none_refcount_leaks() -> bool:
    """Whether this binding drops a reference to ``None`` on a void call (the bug above)."""
    from PySide6.QtGui import QPolygonF

    polygon = QPolygonF()
    before = sys.getrefcount(None)
    for _ in range(8):
        polygon.resize(1)
    return sys.getrefcount(None) < before - 4


def protect_none_refcount() -> bool:
    """Applies the workaround once if the bug is present and ``None`` is mortal; returns
    whether it is in effect."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # None is immortal there: nothing to protect
    if not none_refcount_leaks():
        return False
    # ob_refcnt is the first field of every CPython object.
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _NONE_HEADROOM
    _applied = True
    return True



class GuiThreadCollector:
    """Python's cyclic garbage collection on a timer of the GUI thread, never in a worker thread.

    CPython collects cycles in whichever thread happens to allocate past a threshold: often a
    worker thread loading or profiling data. Freeing a Qt object there (a pyqtgraph item or a
    replaced page's widget held in a reference cycle) touches its timers from the wrong thread —
    Qt says "QBasicTimer::start: Timers cannot be started from another thread" — and can crash.
    As pyqtgraph's ``util.garbage_collector.GarbageCollector`` does (after Erik Janssens), this
    turns automatic collection off and collects each generation past its usual threshold on a
    quarter-second timer. The oldest generation follows CPython's own rule (``gcmodule.c``: only once
    it has grown by a quarter since the last full collection): a full pass over the window's
    ~10^5 objects takes 0.1–0.2 s (measured, iris open), which pyqtgraph's version pays on every
    tenth middle-generation pass.
    """

    def __init__(self, interval_ms: int = 250) -> None:
        import gc

        from PySide6.QtCore import QTimer

        self._threshold = gc.get_threshold()
        self._long_lived = len(gc.get_objects(generation=2))
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collects the generations whose counts are past their thresholds (youngest first)."""
        import gc

        young, middle, old = gc.get_count()
        if young <= self._threshold[0]:
            return
        gc.collect(0)
        if middle <= self._threshold[1]:
            return
        gc.collect(1)
        if old <= self._threshold[2]:
            return
        if len(gc.get_objects(generation=2)) - self._long_lived > max(self._long_lived, MIN_LONG_LIVED) // 4:
            gc.collect(2)
            self._long_lived = len(gc.get_objects(generation=2))

    def freeze(self, *, full: bool) -> None:
        """Moves every object alive now out of the collector's sight for good (``gc.freeze``, as
        Instagram does for its servers), so that later passes walk only what was made since.
        Loading data imports pandas, scipy and scikit-learn in the loader thread: ~10^5 objects
        that a later pass of the middle generation walked in 0.1–0.3 s, in the middle of a
        search. ``full`` collects every generation first (0.1–0.2 s, done when the data
        appears), so that no garbage is frozen with them; without it, the young ones."""
        import gc

        gc.collect(2 if full else 1)
        gc.freeze()
        self._long_lived = len(gc.get_objects(generation=2))


_collector: GuiThreadCollector | None = None
_modules_frozen = 0  # len(sys.modules) at the last freeze
MIN_LONG_LIVED = 10_000  # below this many old objects a full pass is cheap: wait for 2,500 more


def collect_garbage_on_gui_thread() -> None:
    """Installs one :class:`GuiThreadCollector` for the process. Call on the GUI thread once a
    ``QApplication`` exists. It can go only when no Python code runs in the window's worker
    threads."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector()


def freeze_long_lived_objects(*, full: bool = True) -> None:
    """:meth:`GuiThreadCollector.freeze` on the process's collector, once it is installed and
    only when modules were imported since the last time (their objects are what it is for):
    call on the GUI thread when start-up (``full=False``: nothing to collect yet) or loading
    data ends."""
    global _modules_frozen
    if _collector is not None and len(sys.modules) != _modules_frozen:
        _modules_frozen = len(sys.modules)
        _collector.freeze(full=full)
