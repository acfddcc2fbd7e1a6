"""Undo commands for form and column changes (the Edit menu's Undo/Redo)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

_IDS: dict[str, int] = {}


class ValueCommand(QUndoCommand):
    """Sets one value through ``apply(value)``; undo applies the old value.

    Consecutive changes with the same ``merge_key`` (a spin box being stepped) merge into one
    undo step.
    """

    def __init__(self, text: str, apply: Callable[[Any], None], old: Any, new: Any,
                 merge_key: str | None = None) -> None:
        super().__init__(text)
        self._apply = apply
        self.old = old
        self.new = new
        self._key = merge_key

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)

    def id(self) -> int:
        if self._key is None:
            return -1
        return _IDS.setdefault(self._key, len(_IDS) + 1)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if isinstance(other, ValueCommand) and other._key == self._key and self._key is not None:
            self.new = other.new
            return True
        return False
