"""The stop token long work checks: :class:`CancelToken`.

Loading, a search, a refit and the oracle's serving loop all take one. It is a protocol, not a
class of ours, so a ``threading.Event`` (the CLI, the tests), a ``multiprocessing.Event`` or the
window's worker flag can be passed as they are. Work checks it at batch and epoch boundaries and
stops cooperatively (see ``STYLE.md``: cooperative first, forceful second).
"""

from __future__ import annotations

from typing import Protocol


class CancelToken(Protocol):
    """Anything with ``is_set()``: ``threading.Event``, ``multiprocessing.Event``..."""

    def is_set(self) -> bool: ...
