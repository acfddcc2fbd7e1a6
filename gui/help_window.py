"""Help ▸ User guide: the bundled guide (``resources/help/user_guide.md``) in a window of its own,
with a table of contents beside it and a find bar (Ctrl+F)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from automl_studio.gui.paths import resource_path

GUIDE = "help/user_guide.md"


def guide_path() -> Path:
    """The user guide's Markdown file, inside the installed package."""
    return Path(resource_path(GUIDE))


class HelpWindow(QWidget):
    """The user guide, rendered: a table of contents (its headings; click one to go there), the
    text, and a find bar that Ctrl+F opens (Enter: next match, Shift+Enter: previous, Esc: close).

    One window per main window; :meth:`show_guide` raises it when it is already open.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("helpWindow")
        self.setWindowTitle("AutoML Studio — User guide")
        self.browser = QTextBrowser()
        self.browser.setObjectName("userGuide")
        self.browser.setAccessibleName("User guide")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(guide_path().parent)])
        self.browser.document().setDocumentMargin(24)
        font = self.browser.font()
        font.setPointSizeF(font.pointSizeF() + 1)  # a text to read, not a form
        self.browser.setFont(font)
        self.browser.setMarkdown(guide_path().read_text(encoding="utf-8"))
        self.contents = QListWidget()
        self.contents.setObjectName("guideContents")
        self.contents.setAccessibleName("Contents")
        self.contents.setSpacing(3)
        self._fill_contents()
        self.contents.currentRowChanged.connect(self._go_to_heading)

        self.find_edit = QLineEdit()
        self.find_edit.setObjectName("guideFind")
        self.find_edit.setAccessibleName("Find in the guide")
        self.find_edit.setPlaceholderText("Find in the guide")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.returnPressed.connect(self.find_next)
        self.find_edit.textChanged.connect(self._find_from_start)
        self.find_status = QLabel()
        self.find_status.setObjectName("guideFindStatus")
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Close the find bar (Esc)")
        close.clicked.connect(self.close_find_bar)
        self.find_bar = QWidget()
        self.find_bar.setObjectName("guideFindBar")
        bar = QHBoxLayout(self.find_bar)
        bar.setContentsMargins(8, 4, 8, 4)
        bar.addWidget(self.find_edit, 1)
        bar.addWidget(self.find_status)
        bar.addWidget(close)
        self.find_bar.hide()

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addWidget(self.browser, 1)
        right_layout.addWidget(self.find_bar)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.contents)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 720])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.open_find_bar)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.find_bar, self.close_find_bar)
        QShortcut(QKeySequence("Shift+Return"), self.find_edit, self.find_previous)
        self.resize(980, 720)

    def _fill_contents(self) -> None:
        block = self.browser.document().begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            if level in (2, 3):
                item = QListWidgetItem(("    " if level == 3 else "") + block.text())
                item.setData(Qt.ItemDataRole.UserRole, block.position())
                self.contents.addItem(item)
            block = block.next()

    def headings(self) -> list[str]:
        """The table of contents, as shown."""
        return [self.contents.item(i).text().strip() for i in range(self.contents.count())]

    def image_sources(self) -> list[str]:
        """The images the guide shows (their names as written in it)."""
        sources = []
        block = self.browser.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fmt = it.fragment().charFormat()
                if fmt.isImageFormat():
                    sources.append(fmt.toImageFormat().name())
                it += 1
            block = block.next()
        return sources

    def resolve(self, source: str) -> Path:
        """Where the image ``source`` (as written in the guide) is on disk."""
        url = QUrl(source)
        return Path(url.toLocalFile()) if url.isLocalFile() else guide_path().parent / source

    @Slot(int)
    def _go_to_heading(self, row: int) -> None:
        if row < 0:
            return
        cursor = QTextCursor(self.browser.document())
        cursor.setPosition(int(self.contents.item(row).data(Qt.ItemDataRole.UserRole)))
        # Scroll the heading to the top: to the end first, then back to it.
        self.browser.moveCursor(QTextCursor.MoveOperation.End)
        self.browser.setTextCursor(cursor)
        self.browser.ensureCursorVisible()

    @Slot()
    def open_find_bar(self) -> None:
        """Shows the find bar with the keyboard in it (Ctrl+F)."""
        self.find_bar.show()
        self.find_edit.setFocus()
        self.find_edit.selectAll()

    @Slot()
    def close_find_bar(self) -> None:
        self.find_bar.hide()
        self.find_status.clear()
        self.browser.setFocus()

    @Slot()
    def find_next(self) -> bool:
        """Selects the next match of the find bar's text (wrapping at the end)."""
        return self._find(QTextDocument.FindFlag(0))

    @Slot()
    def find_previous(self) -> bool:
        """Selects the previous match (wrapping at the start)."""
        return self._find(QTextDocument.FindFlag.FindBackward)

    @Slot(str)
    def _find_from_start(self, _text: str) -> None:
        self.browser.moveCursor(QTextCursor.MoveOperation.Start)
        self.find_next()

    def _find(self, flags: QTextDocument.FindFlag) -> bool:
        text = self.find_edit.text()
        if not text:
            self.find_status.clear()
            return False
        found = self.browser.find(text, flags)
        if not found:  # wrap around once
            backward = bool(flags & QTextDocument.FindFlag.FindBackward)
            self.browser.moveCursor(QTextCursor.MoveOperation.End if backward
                                    else QTextCursor.MoveOperation.Start)
            found = self.browser.find(text, flags)
        self.find_status.setText("" if found else "Not found")
        return found
