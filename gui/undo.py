"""Undo commands for form and column changes (the Edit menu's Undo/Redo), and how the one undo
history keeps the steps that still apply when the data changes (:func:`keep_only`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

_IDS: dict[str, int] = {}


class ValueCommand(QUndoCommand):
    """Sets one value through ``apply(value)``; undo applies the old value.

    Consecutive changes with the same ``merge_key`` (a spin box being stepped) merge into one
    undo step. ``group`` says whose step it is (``"data"``: the Data page's, ``"search"``: the
    Search page's settings), which decides what a rebuilt history keeps.
    """

    def __init__(self, text: str, apply: Callable[[Any], None], old: Any, new: Any,
                 merge_key: str | None = None, group: str = "data") -> None:
        super().__init__(text)
        self._apply = apply
        self.old = old
        self.new = new
        self._key = merge_key
        self.group = group

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
            self.setText(other.text())  # it may name the value
            return True
        return False


class ReplayCommand(QUndoCommand):
    """An undo step rebuilt from another's effect: its text and how to undo and redo it.

    Pushing it changes nothing (the effect it records has already happened); later redos do.
    """

    def __init__(self, text: str, undo: Callable[[], None], redo: Callable[[], None],
                 group: str = "") -> None:
        super().__init__(text)
        self._undo_fn = undo
        self._redo_fn = redo
        self._pushed = False
        self.group = group  # whose step it was ("network", "data"): what a later rebuild keeps

    def redo(self) -> None:
        if not self._pushed:
            self._pushed = True
            return
        self._redo_fn()

    def undo(self) -> None:
        self._undo_fn()

    def again(self) -> ReplayCommand:
        """The same step, ready to be pushed onto a rebuilt stack."""
        return ReplayCommand(self.text(), self._undo_fn, self._redo_fn, self.group)


def replay_value(step: QUndoCommand) -> ReplayCommand | None:
    """A :class:`ValueCommand` (a form, column or search-settings change) as a step of a rebuilt
    history, in its own group; ``None`` for any other step."""
    if isinstance(step, ReplayCommand):
        return step.again() if step.group in ("data", "search") else None
    if not isinstance(step, ValueCommand):
        return None
    apply, old, new = step._apply, step.old, step.new
    return ReplayCommand(step.text(), lambda: apply(old), lambda: apply(new), step.group)


def keep_only(stack: QUndoStack, replay: Callable[[QUndoCommand], ReplayCommand | None]) -> int:
    """Rebuilds ``stack`` with the steps that still apply, leaving the current state as it is.

    Args:
        replay: for each step, its :class:`ReplayCommand`, or ``None`` to drop it.

    Returns:
        How many steps were dropped (0: the stack is untouched).
    """
    index = stack.index()
    kept: list[ReplayCommand] = []
    undone = 0
    for i in range(stack.count()):
        step = replay(stack.command(i))
        if step is not None:
            kept.append(step)
            undone += i >= index
    dropped = stack.count() - len(kept)
    if dropped == 0:
        return 0
    clean = stack.isClean()
    stack.clear()
    for step in kept:
        stack.push(step)
    # The undone steps were pushed as done: undo them again (each puts back the state before it,
    # and the last one the state now shown).
    stack.setIndex(len(kept) - undone)
    if clean:
        stack.setClean()
    return dropped
