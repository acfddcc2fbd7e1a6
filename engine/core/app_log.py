"""The app-wide log file, in the platform's log folder, shared by the window and its engine children.

``~/.local/state/automl-studio/log/automl-studio.log`` on Linux (``$XDG_STATE_HOME``),
``~/Library/Logs/automl-studio/`` on macOS, ``%LOCALAPPDATA%\\automl-studio\\Logs\\`` on Windows
(platformdirs decides); ``AUTOML_STUDIO_LOG_DIR`` overrides the folder. Each process appends
through its own rotating handler, and each line names its process's role and id, so the window's
and the engine's lines interleave in one readable file. Only the ``automl_studio`` loggers write
there: TensorFlow's and Keras's chatter stays in each project's ``engine.log``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import platform
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

APP_NAME = "automl-studio"
LOG_DIR_ENV = "AUTOML_STUDIO_LOG_DIR"
LOG_FILE = "automl-studio.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
_HANDLER_NAME = "automl-studio-app-log"


def log_path() -> Path:
    """Where the app log is (the file may not exist yet)."""
    folder = os.environ.get(LOG_DIR_ENV) or platformdirs.user_log_dir(APP_NAME, appauthor=False)
    return Path(folder) / LOG_FILE


def start_app_log(role: str, level: int = logging.INFO) -> Path:
    """Sends the ``automl_studio`` loggers of this process to the app log; returns its path.

    ``role`` names the process in every line (``gui``, ``engine``). Calling it again in the same
    process changes nothing unless the log's folder changed. A log folder that cannot be created leaves logging off: the app
    works without its log.
    """
    path = log_path()
    logger = logging.getLogger("automl_studio")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        if isinstance(old, RotatingFileHandler) and Path(old.baseFilename) == path.absolute():
            return path
        logger.removeHandler(old)  # the folder was changed since (AUTOML_STUDIO_LOG_DIR)
        old.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return path
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(
        f"%(asctime)s {role}[%(process)d] %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return path


def app_version() -> str:
    """The installed distribution's version (``automl_studio`` is a namespace: no ``__version__``)."""
    try:
        return importlib.metadata.version("automl-studio")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def startup_line() -> str:
    """The first line a process logs: what started, on which Python and platform."""
    return (f"automl-studio {app_version()} started: {' '.join(sys.argv[:3])} "
            f"(Python {platform.python_version()}, {platform.platform()}"
            f"{', frozen bundle' if getattr(sys, 'frozen', False) else ''})")
