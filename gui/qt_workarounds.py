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
