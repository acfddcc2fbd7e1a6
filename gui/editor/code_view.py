"""A read-only view of the search space as KerasTuner code, with a Copy button."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class CodeView(QWidget):
    """Shows ``build(hp)`` for the current graph (objectName ``codeView``); Copy puts it on the
    clipboard (``copyCode``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeViewPanel")
        self.text = QPlainTextEdit()
        self.text.setObjectName("codeView")
        self.text.setAccessibleName("KerasTuner code of the search space")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy = QPushButton("Copy")
        self.copy.setObjectName("copyCode")
        self.copy.setAccessibleName("Copy the code")
        self.copy.setToolTip("Copy the KerasTuner code to the clipboard")
        self.copy.clicked.connect(self._on_copy)
        self.note = QLabel("The same network and hyperparameter names as the search uses.")
        self.note.setProperty("role", "hint")
        self.note.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.note, 1)
        top.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)

    def set_code(self, code: str) -> None:
        if code != self.text.toPlainText():
            bar = self.text.verticalScrollBar()
            where = bar.value()
            self.text.setPlainText(code)
            bar.setValue(where)
            self.copy.setText("Copy")

    def code(self) -> str:
        return self.text.toPlainText()

    @Slot()
    def _on_copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code())
        self.copy.setText("Copied")


__all__ = ["CodeView"]
