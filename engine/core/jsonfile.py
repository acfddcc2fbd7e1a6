"""The one reader of the engine's versioned JSON documents (project files, specs, search configurations).

Every persisted document is a JSON object with a ``schema_version`` (see ``STYLE.md``); each
kind raises its own :class:`~automl_studio.engine.core.errors.UserError` subclass, but the
problems a file can have and the words for them are the same, so they are written once here:

* ``{path}: no such {kind}``
* ``{path}: cannot read the {kind} ({reason})`` (a folder, no permission...)
* ``{path}: not a {kind} (not UTF-8 text)``
* ``{path}: not a {kind} (not valid JSON at line L, column C: {what})``
* ``{path}: not an automl-studio {kind}`` (valid JSON, but not an object)
* ``{path}: the {kind} has no schema_version``
* ``{path}: written by a newer automl-studio ({first word of kind} schema N; this version reads
  up to M) — update automl-studio to open it``

``kind`` names the file in these messages (``"project file"``, ``"spec file"``...); it starts
with a consonant sound, as the article is always "a".
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl_studio.engine.core.errors import UserError


def read_json_document(path: str | os.PathLike[str], *, kind: str, error: type[UserError],
                       schema_version: int | None = None) -> dict[str, Any]:
    """Reads the JSON object in ``path``.

    Args:
        path: the file to read (UTF-8 JSON).
        kind: what the file is, for messages (``"project file"``).
        error: the exception to raise; it is called with one message naming ``path``.
        schema_version: the newest version this app reads; when given, the document must carry
            a ``schema_version`` no newer than it (see :func:`check_schema_version`).

    Returns:
        The parsed object (older schema versions are the caller's to read).

    Raises:
        error: the file is missing, unreadable, not UTF-8, not valid JSON (the message gives the
            line and column), not a JSON object, or (with ``schema_version``) unversioned or newer.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: no such {kind}") from None
    except UnicodeDecodeError:
        raise error(f"{p}: not a {kind} (not UTF-8 text)") from None
    except OSError as exc:
        raise error(f"{p}: cannot read the {kind} ({exc.strerror or exc.__class__.__name__})") from None
    return parse_json_document(text, source=str(p), kind=kind, error=error, schema_version=schema_version)


def parse_json_document(text: str, *, source: str, kind: str, error: type[UserError],
                        schema_version: int | None = None) -> dict[str, Any]:
    """The JSON object in ``text`` (a document that did not come from a file of its own).

    Arguments and errors are those of :func:`read_json_document`; ``source`` names where the
    text came from and starts every message.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{source}: not a {kind} (not valid JSON at line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg})") from None
    if not isinstance(data, dict):
        raise error(f"{source}: not an automl-studio {kind}")
    if schema_version is not None:
        check_schema_version(data, newest=schema_version, source=source, kind=kind, error=error)
    return data


def check_schema_version(data: Mapping[str, Any], *, newest: int, source: str, kind: str,
                         error: type[UserError]) -> int:
    """The ``schema_version`` of a parsed document, checked to be one this app reads.

    Args:
        data: the document.
        newest: the newest version this app reads.
        source: where the document came from (a path), first in every message.
        kind: what the document is, for messages (``"project file"``).
        error: the exception to raise.

    Raises:
        error: there is no integer ``schema_version``, or it is newer than ``newest``.
    """
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise error(f"{source}: the {kind} has no schema_version")
    if version > newest:
        raise error(f"{source}: written by a newer automl-studio ({kind.split()[0]} schema {version}; "
                    f"this version reads up to {newest}) — update automl-studio to open it")
    return version
