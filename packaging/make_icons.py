"""Renders the app icon (resources/icon.svg) into the PNG sizes the freedesktop icon theme wants.

``resources/icon-<size>.png`` for 16, 32, 48, 64, 128 and 256 px are committed, so neither the
wheel nor ``automl-studio install-desktop-entry`` (which runs without Qt) needs a renderer; rerun
this after changing the SVG: ``QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
SIZES = (16, 32, 48, 64, 128, 256)


def render(svg: Path, size: int, dest: Path) -> None:
    """Draws ``svg`` into a transparent ``size``×``size`` PNG at ``dest``."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    if not image.save(str(dest), "PNG"):
        raise OSError(f"could not write {dest}")


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    for size in SIZES:
        render(RESOURCES / "icon.svg", size, RESOURCES / f"icon-{size}.png")
        print(f"wrote resources/icon-{size}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
