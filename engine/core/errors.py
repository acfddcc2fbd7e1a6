"""Errors the engine raises for a person to read.

A :class:`UserError` is a problem with the input (a file, a column, an option), not a bug: the
command line prints its message on one line and exits with status 2, and the window shows it in
place. Its message names the file, row, column, key or trial at fault.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user gave us, explained in one line."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class DataError(UserError):
    """A data file cannot be read or does not fit the task."""


class SpecError(UserError):
    """A search-space spec is malformed or cannot be built.

    ``node`` names the offending node when there is one, so an editor can mark it.
    """

    def __init__(self, message: str, *, node: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.node = node


class ProjectError(UserError):
    """A project file or directory cannot be used."""


class ModelFileError(UserError):
    """A model file is not one we can (or may) open."""


class ExportError(UserError):
    """Writing or verifying an exported model failed; nothing partial was left behind."""
