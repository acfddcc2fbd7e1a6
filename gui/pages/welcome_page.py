"""The welcome view: what the window shows when it opens with no file named on the command line.

Recent projects and data files (each one click away), the three ways in (a dataset, a project,
the iris demo) and one line saying what to do next.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from automl_studio.gui.paths import resource_path
from automl_studio.gui.widgets import name_widget

PROJECT_SUFFIX = ".automl.json"
NEXT_STEP = "Open a dataset, pick the target, press Start."


class WelcomePage(QWidget):
    """Recent projects and data files, and buttons to open a dataset, a project or the demo.

    Signals:
        openDatasetRequested / openProjectRequested / demoRequested: the buttons.
        recentRequested(path): a recent project or data file was clicked (or chosen with Enter).
    """

    openDatasetRequested = Signal()
    openProjectRequested = Signal()
    demoRequested = Signal()
    recentRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "welcomePage", "Welcome")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 36, 40, 36)
        outer.addStretch(1)
        card = QFrame()
        card.setObjectName("welcomeCard")
        card.setMaximumWidth(900)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 30, 36, 30)
        layout.setSpacing(14)

        head = QHBoxLayout()
        head.setSpacing(16)
        logo = QLabel()
        logo.setPixmap(QIcon(resource_path("icon.svg")).pixmap(QSize(64, 64)))
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        title = QLabel("Welcome to AutoML Studio")
        title.setProperty("role", "welcomeTitle")
        subtitle = QLabel("Find a Keras network for your data: KerasTuner tries networks, you keep "
                          "the best one as a model file.")
        subtitle.setProperty("role", "pageSubtitle")
        subtitle.setWordWrap(True)
        self.next_step = name_widget(QLabel(NEXT_STEP), "nextStep", "Next step")
        self.next_step.setProperty("role", "nextStep")
        titles.addWidget(title)
        titles.addWidget(subtitle)
        titles.addWidget(self.next_step)
        head.addLayout(titles, 1)
        layout.addLayout(head)

        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        style = self.style()
        self.open_dataset_button = name_widget(
            QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_FileIcon), "Open dataset…"),
            "welcomeOpenDataset", "Open dataset", "A CSV, Parquet or NumPy file, or a folder of "
            "images with one subfolder per class (Ctrl+D)")
        self.open_dataset_button.setProperty("role", "primary")
        self.open_project_button = name_widget(
            QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Open project…"),
            "welcomeOpenProject", "Open project", "A saved *.automl.json project (Ctrl+O)")
        self.demo_button = name_widget(
            QPushButton(QIcon(resource_path("nav-data.svg")), "Try the demo (iris)"),
            "welcomeDemo", "Try the demo", "150 iris flowers, target: species")
        for button in (self.open_dataset_button, self.open_project_button, self.demo_button):
            button.setMinimumHeight(34)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.open_dataset_button.clicked.connect(self.openDatasetRequested)
        self.open_project_button.clicked.connect(self.openProjectRequested)
        self.demo_button.clicked.connect(self.demoRequested)

        lists = QGridLayout()
        lists.setHorizontalSpacing(20)
        lists.setVerticalSpacing(6)
        self.projects_list = self._recent_list("recentProjects", "Recent projects")
        self.data_list = self._recent_list("recentData", "Recent data files")
        self.projects_empty = self._empty("No saved projects yet: File ▸ Save project keeps one.")
        self.data_empty = self._empty("No data opened yet.")
        for column, (heading, view, empty) in enumerate(
                (("Recent projects", self.projects_list, self.projects_empty),
                 ("Recent data files", self.data_list, self.data_empty))):
            label = QLabel(heading)
            label.setProperty("role", "sectionTitle")
            lists.addWidget(label, 0, column)
            lists.addWidget(view, 1, column)
            # In the list's cell (only one of the two is shown), under the heading, not at the foot.
            lists.addWidget(empty, 1, column, Qt.AlignmentFlag.AlignTop)
        lists.setRowStretch(1, 1)
        layout.addSpacing(6)
        layout.addLayout(lists, 1)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 20)
        row.addStretch(1)
        outer.addLayout(row, 6)
        outer.addStretch(1)

    def _recent_list(self, name: str, label: str) -> QListWidget:
        view = name_widget(QListWidget(), name, label)
        view.setIconSize(QSize(20, 20))
        view.setMinimumHeight(150)
        view.setUniformItemSizes(True)
        # One click opens (a link, not a selection); Enter opens the current one.
        view.itemClicked.connect(self._on_activated)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QShortcut(QKeySequence(key), view, lambda v=view: self._open_current(v),
                      Qt.ShortcutContext.WidgetShortcut)
        view.setCursor(Qt.CursorShape.PointingHandCursor)
        return view

    def _open_current(self, view: QListWidget) -> None:
        item = view.currentItem()
        if item is not None:
            self._on_activated(item)

    @staticmethod
    def _empty(text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", "hint")
        label.setWordWrap(True)
        return label

    def set_recent(self, paths: list[str]) -> None:
        """Lists ``paths`` (newest first; those that no longer exist are left out): projects
        (``*.automl.json``) in one list, data files and image folders in the other."""
        style = self.style()
        icons = {"project": QIcon(resource_path("icon.svg")),
                 "folder": style.standardIcon(QStyle.StandardPixmap.SP_DirIcon),
                 "file": style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)}
        self.projects_list.clear()
        self.data_list.clear()
        for path in paths:
            if not os.path.exists(path):
                continue
            project = path.endswith(PROJECT_SUFFIX)
            name = os.path.basename(os.path.normpath(path))
            if project:
                name = name.removesuffix(PROJECT_SUFFIX)
            kind = "project" if project else "folder" if os.path.isdir(path) else "file"
            item = QListWidgetItem(icons[kind], f"{name}   —   {_short(os.path.dirname(os.path.normpath(path)))}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            (self.projects_list if project else self.data_list).addItem(item)
        for view, empty in ((self.projects_list, self.projects_empty), (self.data_list, self.data_empty)):
            view.setVisible(view.count() > 0)
            empty.setVisible(view.count() == 0)

    def recent_paths(self) -> tuple[list[str], list[str]]:
        """The paths listed: (projects, data files)."""
        return tuple(  # type: ignore[return-value]
            [str(v.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(v.count())]
            for v in (self.projects_list, self.data_list))

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        self.recentRequested.emit(str(item.data(Qt.ItemDataRole.UserRole)))


def _short(folder: str) -> str:
    """``folder`` with the home folder written ``~``."""
    home = os.path.expanduser("~")
    return "~" + folder[len(home):] if folder == home or folder.startswith(home + os.sep) else folder
