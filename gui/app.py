"""``automl-studio gui [PATH]``: starts the desktop app.

Before the first frame only Qt and the engine's light modules load; pyqtgraph (the live plots)
is built right after it, pandas and the data load in a worker thread, and TensorFlow never loads
in this process: training and exporting run in child processes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING

from automl_studio.gui.paths import demo_dataset, resource_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from automl_studio.gui.main_window import MainWindow
    from automl_studio.gui.settings_store import SettingsStore

__all__ = ["create_application", "demo_dataset", "has_display", "launch", "main"]

log = logging.getLogger(__name__)

NO_DISPLAY_MESSAGE = """\
automl-studio: no display found (DISPLAY and WAYLAND_DISPLAY are not set).
The desktop app needs a screen. Either:
  * run it inside a virtual X server:   sudo apt-get install xvfb && xvfb-run make run
  * or render without a screen:         QT_QPA_PLATFORM=offscreen automl-studio gui
  * or use the command line instead:    automl-studio --help
"""


def has_display() -> bool:
    """Whether Qt can open a window: a display on Linux, or a platform chosen explicitly."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="automl-studio gui",
                                     description="Open the automl-studio desktop app.")
    parser.add_argument("path", nargs="?", help="a data file, image folder or *.automl.json "
                        "project (default: the welcome view, with recent files)")
    parser.add_argument("--demo", action="store_true",
                        help="open the bundled iris demo data (when no PATH is given)")
    return parser.parse_args(argv)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the app's name, icon, high-DPI policy and stylesheet."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from automl_studio.gui.settings_store import APPLICATION, ORGANIZATION

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "automl-studio", *(argv or [])])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("AutoML Studio")
    app.setDesktopFileName("automl-studio")
    app.setWindowIcon(QIcon(resource_path("icon.svg")))
    with open(resource_path("style.qss"), encoding="utf-8") as handle:
        app.setStyleSheet(handle.read())
    from automl_studio.gui.qt_workarounds import protect_none_refcount

    protect_none_refcount()
    return app


def launch(argv: list[str], settings: SettingsStore | None = None) -> MainWindow:
    """Starts the app log, shows the window and opens ``PATH``; with no path, the demo data
    (``--demo``, and the Data page says in one line what to do next) or else the welcome view.

    What ``main`` does before the event loop runs; the window is returned for the caller to keep.
    """
    args = parse_args(argv)
    create_application()
    from PySide6.QtCore import QTimer

    from automl_studio.engine.core.app_log import start_app_log, startup_line
    from automl_studio.gui.main_window import MainWindow

    start_app_log("gui")
    log.info(startup_line())
    window = MainWindow(settings)
    window.firstFramePainted.connect(lambda: log.info("window shown"))
    if args.path is None and not args.demo:
        window.show_welcome()
    window.show()
    if args.path is not None:
        path = os.path.abspath(args.path)
        QTimer.singleShot(0, lambda: window.open_path(path))
    elif args.demo:
        QTimer.singleShot(0, window.open_demo)
    return window


def main(argv: list[str] | None = None) -> int:
    """Runs the app until its window closes; returns the exit status (2: no display)."""
    args = list(sys.argv[1:] if argv is None else argv)
    parse_args(args)  # --help and bad arguments answer before any window
    if not has_display():
        sys.stderr.write(NO_DISPLAY_MESSAGE)
        return 2
    window = launch(args)
    from PySide6.QtWidgets import QApplication

    code = int(QApplication.exec())
    log.info("window closed (exit status %d)", code)
    del window
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
