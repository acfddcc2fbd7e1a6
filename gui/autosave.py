"""Autosave and crash recovery for the window's project document.

While the project has unsaved changes, the window writes its document (a project file: data,
network, settings) every :data:`INTERVAL_S` seconds into the app's data folder (platformdirs;
``AUTOML_STUDIO_AUTOSAVE_DIR`` overrides it). A clean save or quit removes the file. Each
window holds a :class:`QLockFile` beside its file, so a file whose lock nobody holds was left by
a window that crashed: the next launch offers to restore it.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from PySide6.QtCore import QLockFile

AUTOSAVE_DIR_ENV = "AUTOML_STUDIO_AUTOSAVE_DIR"
INTERVAL_S = 30
SUFFIX = ".autosave.json"
_COUNTER = itertools.count(1)


def autosave_dir() -> Path:
    """Where autosaved documents are kept (created on first write)."""
    folder = os.environ.get(AUTOSAVE_DIR_ENV) or platformdirs.user_data_dir("automl-studio", appauthor=False)
    return Path(folder) if os.environ.get(AUTOSAVE_DIR_ENV) else Path(folder) / "autosave"


@dataclass(frozen=True)
class Recovered:
    """An autosaved document left by a window that did not close cleanly.

    Attributes:
        path: the autosave file.
        document: the project document (``ProjectFile.to_dict()`` output).
        project_path: the project file it was opened from or saved as, if any.
        name: the project's name as its window showed it.
        saved_at: when it was written (seconds since the epoch).
    """

    path: Path
    document: dict[str, Any]
    project_path: str | None
    name: str
    saved_at: float

    def discard(self) -> None:
        """Removes the file (restored or not, it is not offered again)."""
        self.path.unlink(missing_ok=True)
        Path(str(self.path) + ".lock").unlink(missing_ok=True)


class Autosave:
    """One window's autosave file, locked while the window lives."""

    def __init__(self) -> None:
        self.path = autosave_dir() / f"window-{os.getpid()}-{next(_COUNTER)}{SUFFIX}"
        self._lock: QLockFile | None = None

    def write(self, document: dict[str, Any], project_path: str | None, name: str,
              saved_at: float) -> None:
        """Writes the document (atomically); raises OSError when the folder cannot be written."""
        from automl_studio.engine.search.project import atomic_write_text

        if self._lock is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = QLockFile(str(self.path) + ".lock")
            self._lock.setStaleLockTime(0)
            self._lock.tryLock(0)
        payload = {"autosave": {"project_path": project_path, "name": name, "saved_at": saved_at},
                   "document": document}
        atomic_write_text(self.path, json.dumps(payload, indent=1))

    def remove(self) -> None:
        """The project was saved or closed cleanly: nothing to recover."""
        self.path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None


def left_behind() -> list[Recovered]:
    """Autosaved documents whose window is gone (a crash), newest first; unreadable ones skipped."""
    folder = autosave_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        lock = QLockFile(str(path) + ".lock")
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            continue  # a live window (of this or another process) owns it
        lock.unlock()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            meta, document = data["autosave"], data["document"]
            found.append(Recovered(path, dict(document), meta.get("project_path"),
                                   str(meta.get("name") or "Untitled"), float(meta.get("saved_at") or 0)))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


__all__ = ["AUTOSAVE_DIR_ENV", "Autosave", "INTERVAL_S", "Recovered", "autosave_dir", "left_behind"]
