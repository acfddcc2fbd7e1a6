"""``automl-studio gui [PATH]``: starts the desktop app.

Only Qt is imported before the window is shown; the data, the plots' heavy parts and the engine
load after, and TensorFlow never loads in this process (training runs in a child process).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NO_DISPLAY_MESSAGE = """\
automl-studio: no display found (DISPLAY and WAYLAND_DISPLAY are not set).
The desktop app needs a screen. Either:
  * run it inside a virtual X server:   sudo apt-get install xvfb && xvfb-run make run
  * or render without a screen:         QT_QPA_PLATFORM=offscreen automl-studio gui
  * or use the command line instead:    automl-studio --help
"""


def demo_dataset() -> str:
    """The bundled demo data (iris), opened when no path is given."""
    return str(Path(__file__).resolve().parent.parent / "resources" / "iris.csv")


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
                        "project (default: the bundled iris demo)")
    return parser.parse_args(argv)


def create_application(argv: list[str] | None = None):  # noqa: ANN201 - QApplication
    """The QApplication with the app's name, icon, high-DPI policy and stylesheet."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from .settings_store import APPLICATION, ORGANIZATION

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "automl-studio", *(argv or [])])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("AutoML Studio")
    app.setDesktopFileName("automl-studio")
    resources = Path(__file__).resolve().parent.parent / "resources"
    app.setWindowIcon(QIcon(str(resources / "icon.svg")))
    app.setStyleSheet((resources / "style.qss").read_text(encoding="utf-8"))
    return app


def main(argv: list[str] | None = None) -> int:
    """Runs the app until its window closes; returns the exit status (2: no display)."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if not has_display():
        sys.stderr.write(NO_DISPLAY_MESSAGE)
        return 2
    app = create_application()
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow

    window = MainWindow()
    window.show()
    path = args.path or demo_dataset()
    QTimer.singleShot(0, lambda: window.open_path(os.path.abspath(path)))
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
