"""The words shown when the best model is no better than its baselines.

A model that predicts the most common class for every row (or the training mean) has learnt
nothing; presenting it as a success would be untrue. The Search and the Results page both show
this note, with the likely causes and a one-click *Search longer*, and :class:`RaceNote`: the
network against the linear model, the random forest and the trivial baseline raced beside the search, in the
engine's words (:func:`~automl_studio.engine.train.baselines.race_note`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from automl_studio.engine.core.events import SearchFinished
from automl_studio.engine.train.baselines import race_note
from automl_studio.engine.train.metrics import baseline_shortfall


def shortfall_of(finish: SearchFinished | None) -> str | None:
    """Why ``finish``'s best model does not beat its baseline (``None``: it does, or unknown),
    in the engine's words (the command line prints the same sentence)."""
    return None if finish is None else baseline_shortfall(finish.test_metrics, finish.baseline_metrics)


class BaselineNote(QFrame):
    """A warning strip: the shortfall in words and a *Search longer* button (hidden otherwise).

    Signals:
        searchLongerRequested(): the user asked to resume the search with a larger budget.
    """

    searchLongerRequested = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")  # the banner's warning look (resources/style.qss)
        self.setProperty("level", "warning")
        self.setAccessibleName("The best model does not beat the trivial baseline")
        self.label = QLabel()
        self.label.setObjectName(f"{name}Text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton("Search longer")
        self.button.setObjectName(f"{name}SearchLonger")
        self.button.setAccessibleName("Search longer")
        self.button.setToolTip("Resume this search with twice the trials (and time budget, if one is set)")
        self.button.clicked.connect(self.searchLongerRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_for(self, finish: SearchFinished | None) -> bool:
        """Shows the note if ``finish``'s best model does not beat its baseline; returns whether
        it does."""
        text = shortfall_of(finish)
        if text is None:
            self.label.clear()
            self.hide()
            return False
        self.label.setText(f"<b>Not better than guessing.</b> {html.escape(text, quote=False)}")
        self.setAccessibleDescription(text)
        self.show()
        return True

    def text(self) -> str:
        """The note's words ("" while hidden)."""
        return "" if self.isHidden() else self.label.text()


class RaceNote(QLabel):
    """One line: the network's validation score against the linear model's, the random forest's
    and the trivial baseline's (hidden while there is nothing to compare)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName("The network against its baselines")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setToolTip("Baselines fitted on the search's own training split and scored on its validation "
                        "split: scikit-learn's linear model and random forest at their defaults, and the "
                        "majority class or the mean")
        self.hide()

    def show_race(self, baselines: Mapping[str, Any], network_score: float | None, *,
                  forest_exported: bool = False) -> str:
        """Shows :func:`race_note` of ``baselines`` (``SearchFinished.baselines``) and the best
        network's validation score (``forest_exported``: the search's forest is the exported
        model); returns the words ("" hides the line)."""
        text = race_note(baselines, network_score, forest_exported=forest_exported)
        self.setText(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))
        return text
