"""Small widgets every page uses: the inline message banner, page headers and empty states."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


class Banner(QFrame):
    """An inline, dismissable message strip: errors are shown here, never in a traceback dialog."""

    dismissed = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName(name)
        self._label = QLabel()
        self._label.setObjectName(f"{name}Text")
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._label.setAccessibleName(f"{name} message")
        close = QToolButton()
        close.setObjectName(f"{name}Close")
        close.setAccessibleName("Dismiss message")
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self._label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self._label.setText(text)
        self.setAccessibleDescription(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self._label.text()

    def clear(self) -> None:
        self._label.clear()
        self.hide()
        self.dismissed.emit()


def page_header(title: str, subtitle: str) -> QWidget:
    """A page title with one line that says what the page is for."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    heading = QLabel(title)
    heading.setProperty("role", "pageTitle")
    sub = QLabel(subtitle)
    sub.setProperty("role", "pageSubtitle")
    sub.setWordWrap(True)
    layout.addWidget(heading)
    layout.addWidget(sub)
    return box


def empty_state(text: str, name: str) -> QLabel:
    """A centred, muted hint shown where content will appear (e.g. "Open a dataset to begin")."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setAccessibleName(text)
    label.setProperty("role", "emptyState")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


W = TypeVar("W", bound=QWidget)


def name_widget(widget: W, name: str, accessible: str, tip: str | None = None) -> W:
    """Gives a control its objectName (for automation) and accessibleName (for screen readers)."""
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    if tip:
        widget.setToolTip(tip)
        widget.setAccessibleDescription(tip)
    return widget
