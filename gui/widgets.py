"""Small widgets every page uses: the inline message banner, page headers and empty states."""

from __future__ import annotations

import re
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSpinBox,
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


_UNITS = {"h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "m": 60, "min": 60, "mins": 60, "minute": 60,
          "minutes": 60, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1}
_PART = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*([a-z]*)\s*")


def duration_text(seconds: int) -> str:
    """``seconds`` as hours, minutes and seconds: 150 → "2 min 30 s", 3900 → "1 h 5 min", 0 → "0 s"."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{secs} s"] * bool(secs)
    return " ".join(parts) or "0 s"


def parse_duration(text: str) -> int | None:
    """Whole seconds from "2 min 30 s", "1 h 5 min", "2.5 min", "150 s" or a bare number of
    minutes ("3"); a bare number after a unit counts the next smaller one, as a clock reads it
    ("1h30" is 1 h 30 min, "2m30" 2 min 30 s). None where the text is not a duration."""
    text = text.strip().lower()
    if not text:
        return None
    total, at, previous = 0.0, 0, 0
    while at < len(text):
        match = _PART.match(text, at)
        if match is None or match.end() == at:
            return None
        unit = match.group(2)
        if not unit:
            unit = {0: "min", 3600: "min", 60: "s"}.get(previous, "")
        if unit not in _UNITS:
            return None
        total += float(match.group(1).replace(",", ".")) * _UNITS[unit]
        previous, at = _UNITS[unit], match.end()
    return int(round(total))


class DurationSpinBox(QSpinBox):
    """A spin box whose value is a duration in whole seconds, shown and typed as hours, minutes
    and seconds (:func:`duration_text`, :func:`parse_duration`: "2 min 30 s"; a bare number is
    minutes); the arrows step by a minute. A budget saved as 150 s shows as "2 min 30 s" and
    stays 150 s, where a spin box of whole minutes showed "2 min" and saved 120 s."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSingleStep(60)
        # Read on Return or leaving the box: tracked as typed, "1" became "1 min" under the cursor
        # and the next keys landed inside it.
        self.setKeyboardTracking(False)

    def textFromValue(self, value: int) -> str:  # noqa: N802 - Qt's name
        return duration_text(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802 - Qt's name
        if self.specialValueText() and text.strip() == self.specialValueText():
            return self.minimum()  # "no limit", typed
        seconds = parse_duration(text)
        # Held within the range: a number too large for the box's int is not an overflow.
        return self.value() if seconds is None else min(max(seconds, self.minimum()), self.maximum())

    def fixup(self, text: str) -> str:  # Qt's name; Return on a duration out of range holds it in range
        seconds = parse_duration(text)
        if seconds is None:
            return text
        return duration_text(min(max(seconds, self.minimum()), self.maximum()))

    def validate(self, text: str, pos: int) -> QValidator.State:  # type: ignore[override]
        if text == self.specialValueText():
            return QValidator.State.Acceptable
        seconds = parse_duration(text)
        if seconds is not None and self.minimum() <= seconds <= self.maximum():
            return QValidator.State.Acceptable
        return QValidator.State.Intermediate
