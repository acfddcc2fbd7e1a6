"""How much memory a process holds right now, without third-party packages.

Used by the search to notice that its process has grown (Keras/TensorFlow keep some state per
built model that ``clear_session()`` does not free) and by the memory benchmarks.
"""

from __future__ import annotations

import os
import sys


def resident_mb(pid: int | None = None) -> float | None:
    """The resident set size of ``pid`` (default: this process) in MB; None where unknown."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid or 'self'}/statm", encoding="ascii") as handle:
                pages = int(handle.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    if pid is None or pid == os.getpid():
        import resource

        # macOS reports bytes, BSDs kilobytes; this is the peak, an upper bound of the current.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
    return None


__all__ = ["resident_mb"]
