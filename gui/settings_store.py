"""What the window remembers between runs: geometry, recent files, the last directories and
whether the training box's Advanced section is expanded.

Everything goes through one :class:`SettingsStore` on top of ``QSettings``. The organisation and
application names decide where the file lives; tests point ``QSettings`` at a temporary folder
(``QSettings.setPath``) and use their own organisation so they never touch a real user's settings.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

ORGANIZATION = "automl-studio"
APPLICATION = "automl-studio"
MAX_RECENT = 8


def default_directory() -> str:
    """Where file dialogs start before the user has picked a file: the documents folder, else
    the home folder (never the app's install folder, nor the working directory)."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return documents if documents and os.path.isdir(documents) else os.path.expanduser("~")


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
        """The folder of the last file opened or saved, else :func:`default_directory`."""
        value = self._settings.value("paths/last_directory", "")
        return str(value) if value and os.path.isdir(str(value)) else default_directory()

    def set_last_directory(self, path: str) -> None:
        """Remembers ``path``'s folder (``path`` itself when it is a folder) for the next dialog."""
        self._settings.setValue("paths/last_directory", _folder(path))

    def last_export_directory(self) -> str:
        """The folder of the last exported model, else :meth:`last_directory`."""
        value = self._settings.value("paths/last_export_directory", "")
        return str(value) if value and os.path.isdir(str(value)) else self.last_directory()

    def set_last_export_directory(self, path: str) -> None:
        """Remembers the folder a model was exported to (``path``: the model file)."""
        self._settings.setValue("paths/last_export_directory", _folder(path))

    def training_advanced_expanded(self) -> bool:
        """Whether the Network page's training box shows its Advanced section (collapsed at first)."""
        value = self._settings.value("network/training_advanced", False)
        return value is True or str(value).lower() == "true"

    def set_training_advanced_expanded(self, expanded: bool) -> None:
        """Remembers whether the training box's Advanced section is expanded."""
        self._settings.setValue("network/training_advanced", bool(expanded))

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


def _folder(path: str) -> str:
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
