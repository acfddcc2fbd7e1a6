"""What the window remembers between runs: geometry, recent files and the last directory.

Everything goes through one :class:`SettingsStore` on top of ``QSettings``. The organisation and
application names decide where the file lives; tests point ``QSettings`` at a temporary folder
(``QSettings.setPath``) and use their own organisation so they never touch a real user's settings.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "automl-studio"
APPLICATION = "automl-studio"
MAX_RECENT = 8


class SettingsStore:
    """Typed access to the app's ``QSettings`` (INI format, user scope)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    @property
    def file_name(self) -> str:
        return self._settings.fileName()

    def recent_files(self) -> list[str]:
        value = self._settings.value("recent/files", [])
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [str(v) for v in values if v]

    def add_recent_file(self, path: str) -> list[str]:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if p != path]
        files.insert(0, path)
        del files[MAX_RECENT:]
        self._settings.setValue("recent/files", files)
        return files

    def clear_recent_files(self) -> None:
        self._settings.setValue("recent/files", [])

    def last_directory(self) -> str:
        value = self._settings.value("paths/last_directory", "")
        return str(value) if value and os.path.isdir(str(value)) else os.path.expanduser("~")

    def set_last_directory(self, path: str) -> None:
        folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        self._settings.setValue("paths/last_directory", folder)

    def geometry(self) -> QByteArray | None:
        value = self._settings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self._settings.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.setValue("window/state", state)

    def sync(self) -> None:
        self._settings.sync()
