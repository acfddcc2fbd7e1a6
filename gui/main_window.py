"""The main window: the Data → Network → Search → Results workflow, menus, toolbar and status bar.

The window owns no data of its own: each page holds its part of the :class:`SearchConfig` and
the window assembles it when a search starts or a project is saved.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, QStandardPaths, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.app_log import log_path
from automl_studio.engine.core.events import SearchFinished
from automl_studio.engine.data.signature import DataSignature
from automl_studio.gui.autosave import INTERVAL_S, Autosave, Recovered, left_behind
from automl_studio.gui.editor.editor_commands import SpecCommand
from automl_studio.gui.editor.network_editor import data_signature
from automl_studio.gui.help_window import HelpWindow
from automl_studio.gui.pages.compare_page import ComparePage
from automl_studio.gui.pages.data_page import DataPage
from automl_studio.gui.pages.network_page import NetworkPage
from automl_studio.gui.pages.predict_page import PredictPage
from automl_studio.gui.pages.results_page import ResultsPage
from automl_studio.gui.pages.search_page import SearchPage, window_words
from automl_studio.gui.pages.welcome_page import WelcomePage
from automl_studio.gui.paths import demo_dataset, resource_path
from automl_studio.gui.qt_workarounds import (
    collect_garbage_on_gui_thread,
    freeze_long_lived_objects,
)
from automl_studio.gui.settings_store import SettingsStore
from automl_studio.gui.undo import ReplayCommand, ValueCommand, keep_only, replay_value
from automl_studio.gui.workers.report import report_file_name, run_report
from automl_studio.gui.workers.tasks import TaskRunner
from automl_studio.gui.workers.tensorboard import TensorBoardLauncher, unavailable_reason

APP_TITLE = "AutoML Studio"
PROJECT_SUFFIX = ".automl.json"
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npz", ".npy")
DATA_FILTER = ("Data files (*.csv *.tsv *.txt *.parquet *.pq *.npz *.npy);;"
               "CSV (*.csv *.tsv *.txt);;Parquet (*.parquet *.pq);;NumPy (*.npz *.npy);;All files (*)")
PAGES = ("Data", "Network", "Search", "Results", "Predict")
DEMO_HINT = ("This is the demo data (iris flowers, target: species). Next: press Start search "
             "(Ctrl+R) to find a network for it, or open your own data with File ▸ Open dataset…")
VERSIONED_PACKAGES = ("automl-studio", "tensorflow", "keras", "keras-tuner", "PySide6-Essentials",
                      "pyqtgraph", "numpy", "pandas")


def package_versions() -> dict[str, str]:
    """Installed versions, read from package metadata (TensorFlow is never imported here)."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def is_demo(path: str) -> bool:
    """Whether ``path`` is the bundled demo data (it lives in the app's install folder)."""
    return os.path.normcase(os.path.abspath(path)) == os.path.normcase(os.path.abspath(demo_dataset()))


def existing_search(folder: str) -> int | None:
    """How many trials the search kept in ``folder`` has, or ``None`` when it holds no search."""
    from automl_studio.engine.search.project import (
        CONFIG_FILE,
        EVENTS_FILE,
        STATE_DIRS,
        read_trials,
    )

    path = Path(folder)
    if not folder or not any((path / name).exists() for name in (*STATE_DIRS, EVENTS_FILE, CONFIG_FILE)):
        return None
    return len(read_trials(path))


def resume_refusal(config: dict[str, Any], *, progress: Any = None, cancel: Any = None) -> str:
    """Why the search in ``config``'s project folder is not one to resume on ``config``'s data, in
    the window's words ("" when it is, or when the folder holds nothing to compare).

    For a :class:`TaskRunner` thread: it reads and prepares the data as a search would (no Keras)
    and asks the engine's own project check.
    """
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.errors import ProjectError
    from automl_studio.engine.data.identity import identify
    from automl_studio.engine.search.project import check_resume, read_search_document

    search = SearchConfig.from_dict(config)
    try:
        if read_search_document(search.project_dir) is None:
            return ""
        check_resume(search, identify(search))
    except ProjectError as exc:
        return window_words(str(exc))
    return ""


def resume_state(finish: Any, completed: int) -> tuple[str, str]:
    """How a reopened search that can be resumed ended: the status bar's words and the Search
    page banner's sentence. ``finish`` is its last ``SearchFinished`` (``None``: its process ended
    before the search did, e.g. it was killed); ``completed`` counts its completed trials."""
    trials = f"{completed} completed trial{'s' if completed != 1 else ''}"
    if finish is None:
        return ("Interrupted — can resume",
                f"This search was interrupted after {trials}: its process ended before the search did. "
                "Resume continues it where it stopped.")
    if finish.status == "budget":
        return ("Time budget spent — can resume",
                f"This search spent its time budget after {trials}; its best model is on the Results page. "
                "Resume searches on from there, for the time budget set on this page.")
    if finish.status == "stopped":
        return ("Stopped — can resume",
                f"This search was stopped after {trials}. Resume continues it where it stopped.")
    reason = f": {finish.message}" if finish.message else ""
    return ("Failed — can resume",
            f"This search failed after {trials}{reason}. Resume continues it where it stopped.")


def _network_step(step: Any) -> ReplayCommand | None:
    """A network edit or a search-settings change as a step of a rebuilt undo history; ``None``
    for the Data page's steps."""
    import copy

    if isinstance(step, ReplayCommand):
        return step.again() if step.group in ("network", "search") else None
    if isinstance(step, ValueCommand):
        return replay_value(step) if step.group == "search" else None
    if not isinstance(step, SpecCommand) or step.before is None or step.after is None:
        return None
    target, before, after = step.target, copy.deepcopy(step.before), copy.deepcopy(step.after)
    return ReplayCommand(step.text(), lambda: target.apply_spec(copy.deepcopy(before)),
                         lambda: target.apply_spec(copy.deepcopy(after)), "network")


def _ask_to_replace(parent: QWidget, folder: str, trials: int) -> str:
    box = QMessageBox(QMessageBox.Icon.Warning, "Replace the search?",
                      f"The project folder {folder} holds a search with {trials} "
                      f"trial{'s' if trials != 1 else ''}.", parent=parent)
    box.setObjectName("replaceSearchBox")
    box.setInformativeText("Starting a new search there erases its trials, logs and best model. "
                           "Start the new search in a new folder instead?")
    new = box.addButton("Start in a new folder", QMessageBox.ButtonRole.AcceptRole)
    new.setObjectName("startInNewFolder")
    erase = box.addButton("Erase it and start", QMessageBox.ButtonRole.DestructiveRole)
    erase.setObjectName("eraseAndStart")
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(new)
    box.exec()
    clicked = box.clickedButton()
    return "new" if clicked is new else "erase" if clicked is erase else "cancel"


def choose_report_file(parent: QWidget, proposed: str) -> str | None:
    """Asks where to write the search's report, proposing ``proposed`` (``None``: cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export report", proposed, "HTML files (*.html);;All files (*)")
    return path or None


def ask_to_save(parent: QWidget, name: str) -> QMessageBox.StandardButton:
    """The desktop's "Save changes?" question: Save, Discard or Cancel."""
    buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
               | QMessageBox.StandardButton.Cancel)
    box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE,
                      f"Save the changes to the project \"{name}\"?", buttons, parent)
    box.setObjectName("saveChangesBox")
    box.setInformativeText("Your changes to the network and the settings are lost if you don't save them.")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    return QMessageBox.StandardButton(box.exec())


def _ask_to_close(parent: QWidget) -> bool:
    answer = QMessageBox.question(
        parent, "Stop the search?",
        "A search is running. Stop it and close the window?\n\n"
        "Finished trials are kept in the project folder; you can resume later.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class MainWindow(QMainWindow):
    """The automl-studio window. ``MainWindow()`` builds it with the user's saved settings.

    ``confirm_close`` is asked (with the window) before closing during a search, and
    ``ask_to_save`` (with the window and the project's name) before unsaved changes would be
    lost; replace them to answer without a dialog (tests, scripts).
    """

    firstFramePainted = Signal()
    reportExported = Signal(str)  # the path of the search report written by File ▸ Export report…

    def __init__(self, settings: SettingsStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        collect_garbage_on_gui_thread()  # the window's worker threads never free a Qt object
        self.setObjectName("mainWindow")
        self.setAccessibleName(APP_TITLE)
        self.settings = settings or SettingsStore()
        self.confirm_close: Callable[[QWidget], bool] = _ask_to_close
        self.ask_to_save: Callable[[QWidget, str], QMessageBox.StandardButton] = ask_to_save
        self._data_path: str | None = None  # the data on screen (its absolute path)
        self._shows_project = False  # a project's (or a restored) network: new shapes keep it
        self._resume_check = TaskRunner(self)
        self.autosave = Autosave()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(INTERVAL_S * 1000)
        self.autosave_timer.timeout.connect(self.write_autosave)
        self.autosave_timer.start()
        self.undo_stack = QUndoStack(self)
        self._project_path: str | None = None
        self._project_name = "Untitled"
        self._search_dir: str | None = None
        self._recent_candidate: str | None = None
        self._network_validity: tuple[bool, str] = (False, "")
        self._new_data = False  # a dataset opened since the last signature: lay out its default
        self._signature_task = TaskRunner(self)
        self.choose_report_file: Callable[[QWidget, str], str | None] = choose_report_file
        self._report_task = TaskRunner(self)
        self._report_task.finished.connect(self._on_report_written)
        self._report_task.failed.connect(self._on_report_failed)
        self.tensorboard = TensorBoardLauncher(self)
        self.tensorboard.answered.connect(self._on_tensorboard_answered)
        self.tensorboard.failed.connect(self._on_tensorboard_failed)
        self._signature_failed = False
        self._help: HelpWindow | None = None
        self.setWindowIcon(QIcon(resource_path("icon.svg")))
        self.setAcceptDrops(True)
        self._build_pages()
        self._build_actions()
        self._add_compare_page()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self._update_title()
        self._update_actions()
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1360, 860)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
            self.toolbar.show()
        self._started = False  # set last: event() runs during construction too

    # ----------------------------------------------------------------- layout
    def _build_pages(self) -> None:
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        side = QWidget()
        side.setObjectName("brand")
        side.setFixedWidth(204)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 12, 0, 0)
        side_layout.setSpacing(0)
        brand_row = QHBoxLayout()
        brand_row.setContentsMargins(14, 0, 8, 6)
        logo = QLabel()
        logo.setPixmap(QIcon(resource_path("icon.svg")).pixmap(QSize(30, 30)))
        name = QLabel(APP_TITLE)
        name.setObjectName("brandName")
        brand_row.addWidget(logo)
        brand_row.addWidget(name, 1)
        side_layout.addLayout(brand_row)
        self.nav = QListWidget()
        self.nav.setObjectName("workflowNav")
        self.nav.setAccessibleName("Workflow steps")
        side_layout.addWidget(self.nav, 1)
        self.nav.setIconSize(QSize(20, 20))
        for i, title in enumerate(PAGES):
            icon = QIcon(resource_path(f"nav-{title.lower()}.svg"))
            item = QListWidgetItem(icon, f"  {title}")
            item.setToolTip(f"{title} (Ctrl+{i + 1})")
            self.nav.addItem(item)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.data_page = DataPage(self.undo_stack)
        self.network_page = NetworkPage(self.undo_stack)
        inspector = self.network_page.editor.inspector
        inspector.set_advanced_expanded(self.settings.training_advanced_expanded())
        inspector.advancedToggled.connect(self.settings.set_training_advanced_expanded)
        self.search_page = SearchPage(self.undo_stack)
        self.search_page.start_folder = self.settings.last_directory
        self.results_page = ResultsPage(self.search_page.trials)
        self.predict_page = PredictPage(lambda: self._search_dir)
        for page in (self.data_page, self.network_page, self.search_page, self.results_page,
                     self.predict_page):
            self.pages.addWidget(page)
        self.welcome_page = WelcomePage()  # shown by show_welcome(), outside the workflow steps
        self.pages.addWidget(self.welcome_page)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)
        layout.addWidget(side)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, name: str, slot: Callable[..., Any],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                icon: QStyle.StandardPixmap | None = None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        # triggered(bool) must not land in a slot's optional first argument (a path, a dest).
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        S = QStyle.StandardPixmap
        K = QKeySequence.StandardKey
        self.act_new = self._action("&New project", "actionNew", self.new_project, K.New)
        self.act_open_project = self._action("&Open project…", "actionOpenProject",
                                             self._choose_project, K.Open, S.SP_DirOpenIcon)
        self.act_save = self._action("&Save project", "actionSave", self.save_project, K.Save,
                                     S.SP_DialogSaveButton)
        self.act_save_as = self._action("Save project &as…", "actionSaveAs", self.save_project_as,
                                        K.SaveAs)
        self.act_open_data = self._action("Open &dataset…", "actionOpenDataset", self._choose_dataset,
                                          "Ctrl+D", S.SP_FileIcon, "Open a data file or image folder")
        self.act_open_folder = self._action("Open &image folder…", "actionOpenImageFolder",
                                            self._choose_image_folder)
        self.act_export = self._action("&Export best model…", "actionExport", self.export_best_model,
                                       "Ctrl+E")
        self.act_export_report = self._action("Export &report…", "actionExportReport", self.export_report,
                                              tip="Write the search's report: one HTML file to read and share")
        self.act_tensorboard = self._action("Open in &TensorBoard", "actionTensorBoard", self.open_tensorboard,
                                            tip="Show the trials' training logs in TensorBoard, in the browser")
        self.act_quit = self._action("&Quit", "actionQuit", self.close, K.Quit)
        # Windows and desktops without a theme bind no key to Quit: Ctrl+Q, as most apps use.
        self.act_quit.setShortcuts(QKeySequence.keyBindings(K.Quit) or [QKeySequence("Ctrl+Q")])
        self.act_welcome = self._action("&Welcome", "actionWelcome", self.show_welcome,
                                        tip="Recent projects and data files, and the demo")
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence(K.Undo))
        self.act_undo.setObjectName("actionUndo")
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        # Ctrl+Y too, whatever the platform's Redo key is (the editor's Redo button names both).
        redo_keys = QKeySequence.keyBindings(K.Redo)
        self.act_redo.setShortcuts(redo_keys + [k for k in (QKeySequence("Ctrl+Y"),) if k not in redo_keys])
        self.act_redo.setObjectName("actionRedo")
        self.act_start = self._action("&Start search", "actionStart", self.start_search, "Ctrl+R",
                                      S.SP_MediaPlay, "Start a new search (Ctrl+R)")
        self.act_stop = self._action("S&top search", "actionStop", self.stop_search, "Ctrl+.",
                                     S.SP_MediaStop, "Stop the search after the current batch (Ctrl+.)")
        self.act_resume = self._action("&Resume search", "actionResume", self.resume_search,
                                       "Ctrl+Shift+R", S.SP_BrowserReload,
                                       "Continue a stopped search (Ctrl+Shift+R)")
        self.act_about = self._action("&About AutoML Studio", "actionAbout", self.show_about)
        self.act_guide = self._action("&User guide", "actionUserGuide", self.show_user_guide,
                                      K.HelpContents, tip="How to use AutoML Studio (F1)")
        if QKeySequence("F1") not in self.act_guide.shortcuts():  # HelpContents is not F1 everywhere
            self.act_guide.setShortcuts([*self.act_guide.shortcuts(), QKeySequence("F1")])
        self.act_show_log = self._action("Show &log", "actionShowLog", self.show_log,
                                         tip="Open the app's log file (window and engine)")
        self.page_actions = []
        for i, title in enumerate(PAGES):
            act = self._action(f"&{i + 1} {title}", f"actionPage{title}",
                               lambda row=i: self.nav.setCurrentRow(row), f"Ctrl+{i + 1}")
            self.page_actions.append(act)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_new)
        file_menu.addAction(self.act_open_project)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        file_menu.addSeparator()
        file_menu.addAction(self.act_open_data)
        file_menu.addAction(self.act_open_folder)
        file_menu.addAction(self.act_export)
        file_menu.addAction(self.act_export_report)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)
        edit_menu.addSeparator()
        edit_menu.addActions(self.network_page.editor.edit_actions())  # the network canvas's
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.act_welcome)
        view_menu.addSeparator()
        for act in self.page_actions:
            view_menu.addAction(act)
        search_menu = bar.addMenu("&Search")
        search_menu.addAction(self.act_start)
        search_menu.addAction(self.act_stop)
        search_menu.addAction(self.act_resume)
        search_menu.addSeparator()
        search_menu.addAction(self.act_tensorboard)
        search_menu.aboutToShow.connect(self._update_search_folder_actions)  # logs appear as trials run
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_guide)
        help_menu.addAction(self.act_show_log)
        help_menu.addAction(self.act_about)
        help_menu.aboutToShow.connect(self._update_log_action)
        self._update_log_action()
        self._fill_recent_menu()

    def _build_toolbar(self) -> None:
        self.toolbar = toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(18, 18))
        for act in (self.act_open_data, self.act_save):
            toolbar.addAction(act)
        toolbar.addSeparator()
        # The one place Start, Stop and Resume are shown, on every page (the Search menu and
        # Ctrl+R, Ctrl+. and Ctrl+Shift+R run the same actions).
        for act, name, role in ((self.act_start, "startSearch", "primary"),
                                (self.act_stop, "stopSearch", "danger"),
                                (self.act_resume, "resumeSearch", "")):
            toolbar.addAction(act)
            button = toolbar.widgetForAction(act)
            button.setObjectName(name)
            button.setAccessibleName(act.text().replace("&", ""))
            button.setProperty("role", role)
        toolbar.toggleViewAction().setEnabled(False)  # it holds Start: it cannot be hidden
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_data = QLabel("No dataset")
        self.status_data.setObjectName("statusData")
        self.status_search = QLabel("Idle")
        # What the status bar says while no search runs: "Idle", or how a reopened search ended.
        self._resting_status = "Idle"
        self.status_search.setObjectName("statusSearch")
        bar.addPermanentWidget(self.status_data)
        bar.addPermanentWidget(self.status_search)

    def _connect(self) -> None:
        d, s, r = self.data_page, self.search_page, self.results_page
        d.openRequested.connect(self._choose_dataset)
        d.demoRequested.connect(self._open_demo)
        welcome = self.welcome_page
        welcome.openDatasetRequested.connect(self._choose_dataset)
        welcome.openProjectRequested.connect(self._choose_project)
        welcome.demoRequested.connect(self._open_demo)
        welcome.recentRequested.connect(self.open_path)
        d.datasetLoaded.connect(self._on_dataset_loaded)
        d.profileChanged.connect(self._on_profile_changed)
        d.loadFailed.connect(self._on_load_failed)
        s.controller.runningChanged.connect(self._on_search_running)
        s.stateChanged.connect(self.status_search.setText)
        s.finished.connect(self._on_search_finished)
        s.trialSelected.connect(self._on_trial_selected)
        r.exportRequested.connect(self._on_export_requested)
        r.searchLongerRequested.connect(s.search_longer)
        s.searchLongerRequested.connect(self.resume_search)
        editor = self.network_page.editor
        editor.validityChanged.connect(self._on_network_validity)
        self._network_validity = editor.validity()
        self._signature_task.finished.connect(self._on_signature_ready)
        self._signature_task.failed.connect(self._on_signature_failed)
        self._resume_check.finished.connect(self._on_resume_checked)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    # ----------------------------------------------------------------- opening
    def open_path(self, path: str) -> None:
        """Opens a project file or a dataset, by its name."""
        if str(path).endswith(PROJECT_SUFFIX):
            self.open_project(path)
        else:
            self.open_dataset(path)

    def open_dataset(self, path: str) -> None:
        """Loads a dataset in the background and shows the Data page.

        Other data than the data on screen starts a new, empty search: once it has loaded, the
        Search and Results pages are cleared and the next Start picks a folder of its own.
        """
        path = str(path)
        if self.search_page.running and os.path.abspath(path) != self._data_path:
            running_on = os.path.basename(self._data_path or "")
            self._show_error(f"A search is running on {running_on}: stop it before opening "
                             f"{os.path.basename(path)}. The open data is still {running_on}.")
            return
        self._shows_project = False
        # The bundled demo is no file of the user's: neither recent nor where dialogs start.
        demo = is_demo(path)
        self._recent_candidate = None if demo else os.path.abspath(path)
        if not demo:
            self.settings.set_last_directory(path)
        self.nav.setCurrentRow(0)
        self.status_search.setText("Loading data…")
        self.data_page.open_dataset(path)

    def open_project(self, path: str) -> bool:
        """Opens a project file: its data, network, settings and (if any) its finished trials.

        Unsaved changes to the current project are offered for saving first (Cancel: nothing
        is opened).
        """
        if not self.maybe_save():
            return False
        from automl_studio.engine.core.errors import ProjectError
        from automl_studio.engine.search.project import ProjectFile

        try:
            project = ProjectFile.load(path)
        except ProjectError as exc:
            self.data_page.banner.show_message(str(exc), "error")
            self.nav.setCurrentRow(0)
            return False
        self.settings.add_recent_file(str(path))
        self.settings.set_last_directory(str(path))
        self._show_project(project, str(path))
        return True

    def _show_project(self, project: Any, path: str | None) -> None:
        """Shows a :class:`ProjectFile` (saved as ``path``, if it was): its data, network,
        settings and its search's trials."""
        from automl_studio.engine.search.project import last_finish, read_trials, search_objective

        config = project.config
        self._project_path, self._project_name = path, project.name
        self._shows_project = True
        self._data_path = os.path.abspath(config.data_path)  # its own search, not other data
        self._search_dir = config.project_dir
        self.data_page.apply_config(config)
        self.network_page.apply_space(config.space)
        self.search_page.apply_settings(config)
        records = read_trials(config.project_dir) if os.path.isdir(config.project_dir) else {}
        finish = last_finish(config.project_dir) if records else None
        # An objective left open was chosen for the data: the trials' scores are in its units.
        objective = config.objective or (search_objective(config.project_dir) if records else None)
        self.search_page.show_history(records, objective, finish)
        unfinished = bool(records) and (finish is None or finish.status in ("stopped", "budget", "failed"))
        self.search_page.set_can_resume(unfinished)
        self.results_page.set_result(finish, config.project_dir)
        if unfinished:
            status, banner = resume_state(finish, sum(r.status == "completed" for r in records.values()))
            self.search_page.banner.show_message(banner, "warning" if finish is not None
                                                 and finish.status == "failed" else "info")
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._update_title()
        self._update_actions()
        self._resting_status = status if unfinished else "Idle"
        self.status_search.setText(self._resting_status)

    # ----------------------------------------------------------------- autosave
    @Slot()
    def write_autosave(self) -> None:
        """Writes the project document for crash recovery, when it has unsaved changes."""
        from automl_studio.engine.core.errors import UserError
        from automl_studio.engine.search.project import ProjectFile

        if not self.modified:
            return
        try:
            config = self.current_config()
            document = ProjectFile(config.replace(fresh=False), name=self._project_name).to_dict()
            self.autosave.write(document, self._project_path, self._project_name, time.time())
        except (UserError, ValueError):
            return  # nothing a project file can hold yet (no data)
        except OSError as exc:
            self.statusBar().showMessage(f"Could not autosave to {self.autosave.path}: {exc.strerror}", 8000)

    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        if clean:
            self.autosave.remove()

    @Slot()
    def offer_recovery(self) -> None:
        """At launch: offers to restore the newest project a crashed window left unsaved."""
        found = left_behind()
        if not found:
            return
        recovered = found[0]
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved changes?",
                          f"{APP_TITLE} did not close cleanly. Restore the unsaved changes to the project "
                          f"\"{recovered.name}\" (autosaved "
                          f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(recovered.saved_at))})?",
                          parent=self)
        box.setObjectName("restoreAutosaveBox")
        box.setInformativeText("Restore opens its data, network and settings as they were; Discard "
                               "deletes the autosaved copy.")
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        restore.setObjectName("restoreAutosave")
        box.addButton(QMessageBox.StandardButton.Discard)
        box.setDefaultButton(restore)
        box.exec()
        if box.clickedButton() is restore:
            self.restore(recovered)
        recovered.discard()

    def restore(self, recovered: Recovered) -> bool:
        """Shows an autosaved document as the current, unsaved project."""
        from automl_studio.engine.core.errors import ProjectError
        from automl_studio.engine.search.project import ProjectFile

        try:
            project = ProjectFile.from_dict(recovered.document, source=str(recovered.path))
        except ProjectError as exc:
            self.data_page.banner.show_message(f"The autosaved project cannot be restored: {exc}", "error")
            return False
        self._show_project(project, recovered.project_path)
        self._project_name = recovered.name
        self.undo_stack.resetClean()  # restored, not saved
        self._update_title()
        self.statusBar().showMessage(f"Restored the unsaved changes to \"{recovered.name}\"", 8000)
        self.write_autosave()
        return True

    # ----------------------------------------------------------------- saving
    def current_config(self, *, resume: bool = False) -> Any:
        """Assembles the :class:`SearchConfig` from every page (raises UserError/ValueError)."""
        from automl_studio.engine.core.config import SearchConfig
        from automl_studio.engine.core.errors import UserError

        fields = self.data_page.config_fields()
        if not fields["data_path"]:
            raise UserError("open a dataset first (File ▸ Open dataset…)")
        settings = self.search_page.settings()
        space = self.network_page.spec({"epochs": settings["max_epochs"],
                                        "patience": settings["patience"]})
        project_dir = self.search_page.project_dir.text().strip() or self.new_search_dir(
            fields["data_path"])
        return SearchConfig(**fields, **settings, space=space, project_dir=project_dir,
                            fresh=not resume)

    def new_search_dir(self, data_path: str) -> str:
        """A folder for a new search that holds no other search: beside the project file, else
        in the app's data folder, named after the dataset and the time."""
        if self._project_path:
            base = Path(self._project_path.removesuffix(PROJECT_SUFFIX) + ".search")
        else:
            root = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
            stem = Path(os.path.normpath(data_path)).stem or "data"
            base = Path(root) / "projects" / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        candidate, n = base, 1
        while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        return str(candidate)

    def _forget_search(self) -> None:
        """Other data or a new project: the Search and Results pages show no search."""
        self._resume_check.cancel()
        self._search_dir = None
        self.search_page.reset()
        self.results_page.set_result(None, None)
        self._resting_status = "Idle"
        self.status_search.setText("Idle")
        # "Finished: … the model is on the Results page" spoke of the search just forgotten.
        self.statusBar().clearMessage()
        self._update_actions()

    def _check_resume(self) -> None:
        """Asks the engine's project check, off the GUI thread, whether the search offered for
        resuming belongs to the data on screen (Resume is withdrawn if it does not)."""
        if not self.search_page.can_resume:
            return
        from automl_studio.engine.core.errors import UserError

        try:
            config = self.current_config(resume=True)
        except (UserError, ValueError):  # no complete config yet: Start will say why
            return
        self._resume_check.start(resume_refusal, config=config.to_dict())

    @Slot(object)
    def _on_resume_checked(self, refusal: str) -> None:
        if refusal and not self.search_page.running:
            self.search_page.set_can_resume(False, refusal)
            self._update_actions()

    # ----------------------------------------------------------------- compare
    def _add_compare_page(self) -> None:
        """The Compare step, after the workflow's other steps (its row is its page's index)."""
        self.compare_page = ComparePage(self.search_page.trials)
        row = self.nav.count()
        item = QListWidgetItem(QIcon(resource_path("nav-compare.svg")), "  Compare")
        item.setToolTip(f"Compare trials (Ctrl+{row + 1})")
        self.nav.addItem(item)
        self.pages.insertWidget(row, self.compare_page)
        self.page_actions.append(self._action(f"&{row + 1} Compare", "actionPageCompare",
                                              lambda: self.nav.setCurrentRow(row), f"Ctrl+{row + 1}"))
        self.search_page.controller.eventReceived.connect(self.compare_page.follow_event)
        self.search_page.trials.searchReset.connect(self._on_trials_reset)
        self.compare_page.trialSelected.connect(self._on_trial_selected)

    @Slot()
    def _on_trials_reset(self) -> None:
        # Another search (or an opened project's): read its space from its folder, if it has one.
        self.compare_page.set_project_dir(self._search_dir)

    @property
    def modified(self) -> bool:
        """Whether the project has changes that are not saved."""
        return not self.undo_stack.isClean()

    def maybe_save(self) -> bool:
        """Before unsaved changes would be lost: asks Save / Discard / Cancel.

        Returns whether to go on (saved or discarded); ``False`` keeps the window and its edits.
        """
        if not self.modified:
            return True
        answer = self.ask_to_save(self, self._project_name)
        if answer == QMessageBox.StandardButton.Save:
            return self.save_project()
        return answer == QMessageBox.StandardButton.Discard

    def save_project(self, path: str | None = None) -> bool:
        """Saves the project file (asks for a name the first time)."""
        from automl_studio.engine.core.errors import UserError
        from automl_studio.engine.search.project import ProjectFile

        target = path or self._project_path
        if not target:
            return self.save_project_as()
        if not target.endswith(PROJECT_SUFFIX):
            target += PROJECT_SUFFIX
        try:
            config = self.current_config()
            if not self.search_page.project_dir.text().strip():
                self.search_page.project_dir.setText(config.project_dir)
            name = Path(target).name.removesuffix(PROJECT_SUFFIX)
            ProjectFile(config.replace(fresh=False), name=name).save(target)
        except (UserError, ValueError, OSError) as exc:
            self._show_error(f"Could not save the project: {exc}")
            return False
        self._project_path, self._project_name = target, Path(target).name.removesuffix(PROJECT_SUFFIX)
        self.settings.add_recent_file(target)
        self.settings.set_last_directory(target)
        self.undo_stack.setClean()
        self.autosave.remove()
        self._update_title()
        self.statusBar().showMessage(f"Saved {target}", 4000)
        return True

    @Slot()
    def save_project_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", os.path.join(self.settings.last_directory(),
                                               self._project_name + PROJECT_SUFFIX),
            f"automl-studio project (*{PROJECT_SUFFIX})")
        return self.save_project(path) if path else False

    @Slot()
    def new_project(self) -> None:
        if self.search_page.running:
            self._show_error("Stop the running search before starting a new project.")
            return
        if not self.maybe_save():
            return
        self._project_path, self._project_name = None, "Untitled"
        self._shows_project = False
        self._forget_search()
        self.undo_stack.clear()
        self.autosave.remove()
        self.nav.setCurrentRow(0)
        self._update_title()

    # ----------------------------------------------------------------- searching
    @Slot()
    def start_search(self) -> None:
        self._start(resume=False)

    @Slot()
    def resume_search(self) -> None:
        self._start(resume=True)

    def _start(self, *, resume: bool) -> None:
        from automl_studio.engine.core.errors import UserError

        if self.search_page.running:
            return
        if self.data_page.loading:
            self.search_page.banner.show_message("The data is still loading; start when it is ready.")
            return
        blocker = self.start_blocker()
        if blocker:
            data_problem = bool(self.data_page.start_problem())
            self.nav.setCurrentRow(0 if data_problem else 1)
            page = self.data_page if data_problem else self.network_page
            page.banner.show_message(f"Cannot start: {blocker}", "error")
            return
        try:
            config = self.current_config(resume=resume)
        except (UserError, ValueError) as exc:
            self.nav.setCurrentRow(2)
            self.search_page.banner.show_message(f"Cannot start: {exc}", "error")
            return
        trials = None if resume else existing_search(config.project_dir)
        if trials is not None:  # a new search here would erase that one: only if the user says so
            choice = _ask_to_replace(self, config.project_dir, trials)
            if choice == "cancel":
                return
            if choice == "new":
                config = config.replace(project_dir=self.new_search_dir(config.data_path))
        self._search_dir = config.project_dir
        self.search_page.project_dir.setText(config.project_dir)
        self.results_page.set_result(None, None)
        self.statusBar().clearMessage()  # the previous run's "Stopped after …" is over
        self.nav.setCurrentRow(2)
        self.search_page.run(config.to_dict(), resume=resume)

    @Slot()
    def stop_search(self) -> None:
        self.search_page.stop()
        self._update_actions()

    @Slot(bool)
    def _on_search_running(self, running: bool) -> None:
        if running:
            self._resting_status = "Idle"  # this run's end says how it went
        self.status_search.setText("Searching…" if running else self.status_search.text())
        self.network_page.set_search_running(running)
        self._update_actions()

    @Slot(object)
    def _on_search_finished(self, event: SearchFinished) -> None:
        self.results_page.set_result(event, self._search_dir)
        if event.best_hyperparameters:  # no winner (a failed or empty search): keep showing the ranges
            self.network_page.editor.show_trial(dict(event.best_hyperparameters))
        self._update_actions()
        self.statusBar().showMessage(self.search_page.finish_summary(), 15000)

    @Slot(str)
    def _on_trial_selected(self, tid: str) -> None:
        trial = self.search_page.trials.trial(tid)
        if trial is not None and trial.hyperparameters:  # the Network page fills its values in
            self.network_page.editor.show_trial(dict(trial.hyperparameters))

    @Slot()
    def _on_export_requested(self) -> None:
        self.export_best_model()

    def export_name(self) -> str:
        """The name the Export dialog proposes: the dataset's (``iris`` for iris.csv, the folder's
        name for an image folder), else the project's."""
        ds = self.data_page.dataset
        stem = Path(os.path.normpath(ds.path)).stem if ds is not None else ""
        return stem or self._project_name

    def export_best_model(self, dest: str | None = None) -> None:
        """Exports the best model (asks where, unless ``dest`` is given)."""
        if not self.results_page.export_button.isEnabled() and dest is None:
            self.statusBar().showMessage("No best model to export yet", 4000)
            return
        self.nav.setCurrentRow(3)
        if dest is None:
            dest = self.results_page.choose_destination(self.settings.last_export_directory(),
                                                        self.export_name())
            if not dest:
                return
        self.settings.set_last_export_directory(dest)
        formats = self.results_page.formats()
        suffix = Path(dest).suffix.lower().lstrip(".")
        if suffix in ("h5", "keras") and suffix not in formats:
            formats.append(suffix)
        self.results_page.export_to(dest, formats)

    # ----------------------------------------------------------------- report and TensorBoard
    def _search_folder_problem(self) -> str:
        """Why the search on screen has nothing to report ("" when it has)."""
        from automl_studio.engine.search.project import EVENTS_FILE

        if not self._search_dir or not (Path(self._search_dir) / EVENTS_FILE).is_file():
            return "No search yet: run or open a search first"
        return ""

    @Slot()
    def _update_search_folder_actions(self) -> None:
        problem = self._search_folder_problem()
        self.act_export_report.setEnabled(not problem and not self._report_task.running)
        self.act_export_report.setToolTip(problem or self.act_export_report.statusTip())
        reason = unavailable_reason(self._search_dir)
        self.act_tensorboard.setEnabled(not reason)
        self.act_tensorboard.setToolTip(reason or self.act_tensorboard.statusTip())

    def export_report(self, dest: str | None = None) -> None:
        """Writes the search's report (asks where, proposing ``<project name> report.html``,
        unless ``dest`` is given) in an engine child; :attr:`reportExported` says where."""
        problem = self._search_folder_problem()
        if problem:
            self.statusBar().showMessage(problem, 4000)
            return
        if dest is None:
            proposed = os.path.join(self.settings.last_directory(), report_file_name(self._project_name))
            dest = self.choose_report_file(self, proposed)
            if not dest:
                return
            self.settings.set_last_directory(dest)
        self.statusBar().showMessage(f"Writing the report to {dest}…")
        self._report_task.start(run_report, project_dir=str(self._search_dir), dest=dest)
        self._update_search_folder_actions()

    @Slot(object)
    def _on_report_written(self, path: object) -> None:
        self.statusBar().showMessage(f"Report written to {path}", 10000)
        self._update_search_folder_actions()
        self.reportExported.emit(str(path))

    @Slot(str, str)
    def _on_report_failed(self, _kind: str, message: str) -> None:
        self.statusBar().clearMessage()
        self._update_search_folder_actions()
        self._show_error(f"The report could not be written: {message}")

    def open_tensorboard(self) -> None:
        """Starts TensorBoard on the search's logs (loopback only) and opens it in the browser."""
        reason = unavailable_reason(self._search_dir)
        if reason or self._search_dir is None:
            self.statusBar().showMessage(reason, 6000)
            return
        self.statusBar().showMessage("Starting TensorBoard…")
        self.tensorboard.open(self._search_dir)

    @Slot(str)
    def _on_tensorboard_answered(self, url: str) -> None:
        self.statusBar().showMessage(f"TensorBoard is at {url} (it stops when this window closes)", 10000)

    @Slot(str)
    def _on_tensorboard_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    # ----------------------------------------------------------------- reactions
    @Slot(dict)
    def _on_dataset_loaded(self, summary: dict[str, Any]) -> None:
        if os.path.abspath(summary["path"]) == self._recent_candidate:
            self.settings.add_recent_file(summary["path"])  # opened by itself, not by a project
        if os.path.abspath(summary["path"]) != self._data_path:
            if self._data_path is not None:  # the first data keeps a folder typed before it
                self._forget_search()
            self._data_path = os.path.abspath(summary["path"])
        # The Data page's steps (target, columns, split) were for the data before; the network's
        # stay until its shapes say whether they still apply (_on_signature_ready).
        keep_only(self.undo_stack, _network_step)
        if self._project_path is None:
            self._new_data = True  # its signature lays out the data's default template
        self.status_search.setText(self._resting_status if not self.search_page.running else "Searching…")
        self._update_status_data()
        self._update_actions()

    @Slot(dict)
    def _on_profile_changed(self, _summary: dict[str, Any]) -> None:
        self._update_status_data()
        self._update_actions()
        ds, profile = self.data_page.dataset, self.data_page.profile
        self.search_page.set_data_task(profile.task if profile else None,
                                       len(profile.class_names) if profile else 0,
                                       tuple(profile.class_counts) if profile else ())
        self._check_resume()
        if ds is None or profile is None or self.data_page.start_problem():
            self._signature_task.cancel()
            return
        # The shapes come from the prepared data (a fraction of a second for most tables, more
        # for images): off the GUI thread, the newest profile wins.
        self._signature_task.start(data_signature, dataset=ds, profile=profile)

    @Slot(object)
    def _on_signature_ready(self, data: dict[str, Any]) -> None:
        if self._signature_failed:
            self._signature_failed = False
            self.network_page.banner.clear()
        signature = DataSignature.from_dict(data)
        freeze_long_lived_objects()  # what loading the data imported (pandas, scipy, ...)
        previous = self.network_page.editor.signature()
        inputs_changed = previous is None or set(previous.inputs) != set(signature.inputs)
        stack = self.undo_stack
        network_edits = any(isinstance(c, SpecCommand) or getattr(c, "group", "") == "network"
                            for c in map(stack.command, range(stack.count())))
        reset = self._project_path is None and not self._shows_project and (
            inputs_changed or (self._new_data and not network_edits))
        if reset and network_edits and previous is not None:
            keep_only(stack, replay_value)  # the data's default network replaces the edited one
            self.statusBar().showMessage(
                "The network edits left the undo history: they do not fit this data's inputs "
                f"({', '.join(sorted(signature.inputs))})", 10000)
        self._new_data = False
        self.network_page.set_signature(signature, reset=reset)
        self._update_actions()

    @Slot(str, str)
    def _on_signature_failed(self, kind: str, message: str) -> None:
        if kind != "cancelled":
            self._signature_failed = True
            self.network_page.banner.show_message(
                f"The network cannot be checked against this data: {message}", "warning")

    @Slot(bool, str)
    def _on_network_validity(self, valid: bool, reason: str) -> None:
        self._network_validity = (valid, reason)
        self._update_actions()

    def start_blocker(self) -> str:
        """Why a search cannot start now ("" if it can, or if clicking Start will explain).

        Without data (or before its shapes are known) Start stays enabled: clicking it says
        what is missing, and the search checks the network itself. A target that cannot be
        trained on blocks it (the Data page says why).
        """
        data_problem = self.data_page.start_problem()
        if data_problem:
            return data_problem
        valid, reason = self._network_validity
        if valid or self.data_page.dataset is None or self.network_page.editor.signature() is None:
            return ""
        return reason

    @Slot(str)
    def _on_load_failed(self, _message: str) -> None:
        self.status_search.setText(self._resting_status if not self.search_page.running else "Searching…")

    def _update_status_data(self) -> None:
        ds, profile = self.data_page.dataset, self.data_page.profile
        if ds is None:
            self.status_data.setText("No dataset")
            return
        parts = [os.path.basename(os.path.normpath(ds.path)), f"{ds.n_rows:,} rows"]
        problem = self.data_page.start_problem()
        if profile is not None:
            if ds.kind == "table":
                parts.append(f"target {profile.target}")
            # Like the page's "Detected" line: a blocked target has no task to name.
            parts.append("nothing to search" if problem else str(profile.task))
        if problem:  # the label stays short; the reason goes in the message area and tooltip
            parts.append("⚠ cannot start")
            self.statusBar().showMessage(f"Cannot start: {problem}")
        elif self.statusBar().currentMessage().startswith("Cannot start: "):
            self.statusBar().clearMessage()
        self.status_data.setText(" · ".join(parts))
        self.status_data.setToolTip(problem)

    def _update_actions(self) -> None:
        running = self.search_page.running
        stopping = self.search_page.controller.stopping
        blocker = self.start_blocker()
        self.act_start.setEnabled(not running and not blocker)
        self.act_start.setToolTip(blocker or self.act_start.statusTip())
        self.search_page.set_start_blocker(
            blocker, self.data_page.start_fix() if self.data_page.start_problem()
            else "fix the network on the Network page")
        self.act_stop.setEnabled(running and not stopping)
        self.act_resume.setEnabled(self.search_page.can_resume)
        self.act_new.setEnabled(not running)
        self.act_open_project.setEnabled(not running)
        self.act_export.setEnabled(self.results_page.export_button.isEnabled())
        self._update_search_folder_actions()

    def _update_title(self, *_args: Any) -> None:
        self.setWindowTitle(f"{self._project_name}[*] — {APP_TITLE}")
        self.setWindowModified(not self.undo_stack.isClean())

    def _show_error(self, message: str) -> None:
        page = self.pages.currentWidget()
        if page is self.welcome_page:
            self.nav.setCurrentRow(0)
            page = self.data_page
        banner = getattr(page, "banner", self.data_page.banner)
        banner.show_message(message, "error")

    # ----------------------------------------------------------------- dialogs
    @Slot()
    def _choose_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open dataset", self.settings.last_directory(),
                                              DATA_FILTER)
        if path:
            self.open_dataset(path)

    @Slot()
    def _open_demo(self) -> None:
        self.open_demo()

    def open_demo(self) -> None:
        """Opens the bundled iris data; once it has loaded, the Data page says in one line what
        to do next (:data:`DEMO_HINT`) unless it already shows a message."""
        path, page = os.path.abspath(demo_dataset()), self.data_page

        def hint(summary: dict[str, Any]) -> None:
            page.datasetLoaded.disconnect(hint)
            if os.path.abspath(summary["path"]) == path and not page.banner.text():
                page.banner.show_message(DEMO_HINT, "info")

        page.datasetLoaded.connect(hint)
        self.open_dataset(path)

    @Slot()
    def show_welcome(self) -> None:
        """Shows the welcome view: recent projects and data files, and the ways in."""
        self.welcome_page.set_recent(self.settings.recent_files())
        self.nav.setCurrentRow(-1)  # no step is current: clicking any one shows it
        self.pages.setCurrentWidget(self.welcome_page)
        # The keyboard starts on the welcome view: a list view given focus with no current row
        # makes its first row current, which would leave the view for the Data page.
        self.welcome_page.open_dataset_button.setFocus()

    @property
    def shows_welcome(self) -> bool:
        """Whether the welcome view is on screen (not one of the workflow's pages)."""
        return self.pages.currentWidget() is self.welcome_page

    @Slot()
    def _choose_image_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open image folder (one subfolder per class)",
                                                self.settings.last_directory())
        if path:
            self.open_dataset(path)

    @Slot()
    def _choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self.settings.last_directory(),
                                              f"automl-studio project (*{PROJECT_SUFFIX})")
        if path:
            self.open_project(path)

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = [f for f in self.settings.recent_files() if os.path.exists(f)]
        for path in files:
            act = self.recent_menu.addAction(os.path.basename(os.path.normpath(path)))
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent_files)

    def about_text(self) -> str:
        versions = package_versions()
        rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{ver}</td></tr>"
                       for name, ver in versions.items())
        return (f"<h3>{APP_TITLE} {versions['automl-studio']}</h3>"
                "<p>A desktop AutoML app for Keras: load data, search networks with KerasTuner, "
                "export a self-contained model.</p>"
                f"<table>{rows}</table>"
                "<p>How to use it: Help ▸ User guide (F1).</p>")

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}", self.about_text())

    @Slot()
    def _update_log_action(self) -> None:
        path = log_path()
        self.act_show_log.setEnabled(path.is_file())
        self.act_show_log.setStatusTip(str(path))

    @Slot()
    def show_log(self) -> None:
        """Opens the app log (engine/core/app_log.py) in the desktop's viewer for text files."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_path())))

    @Slot()
    def show_user_guide(self) -> HelpWindow:
        """Shows the user guide (Help ▸ User guide, F1) in its window, raised if already open."""
        if self._help is None:
            self._help = HelpWindow(self)
        if self._help.isVisible():
            self._help.raise_()
            self._help.activateWindow()
        else:
            self._help.show()
        return self._help

    # ----------------------------------------------------------------- drag and drop
    @staticmethod
    def _dropped_path(event: QDragEnterEvent | QDropEvent) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) != 1 or not urls[0].isLocalFile():
            return None
        path = urls[0].toLocalFile()
        if os.path.isdir(path) or path.lower().endswith(DATA_SUFFIXES + (PROJECT_SUFFIX,)):
            return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_path(event)
        if path:
            event.acceptProposedAction()
            self.open_path(path)

    # ----------------------------------------------------------------- startup
    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.UpdateRequest and getattr(self, "_started", True) is False \
                and self.isVisible():
            # The first frame is painted: build what it did not need (the live plots) now.
            self._started = True
            self.firstFramePainted.emit()
            QTimer.singleShot(0, self.finish_startup)
        return handled

    @property
    def ready(self) -> bool:
        """Whether everything, the live plots included, has been built."""
        return self.search_page.plots_ready

    @Slot()
    def finish_startup(self) -> None:
        plots = self.search_page.ensure_plots()
        # What the Start click would otherwise do for the first time, while the window is idle,
        # one small step per event-loop turn: import the engine's settings, polish and lay out
        # the Search page, and paint each plot once at its real size (pyqtgraph sizes its axes
        # and ranges on the first paint, which repaints the plot several times over).
        steps: list[Any] = [self._import_engine_settings, self._lay_out_search_page]
        QTimer.singleShot(0, self, self.offer_recovery)
        steps += [view.grab for view in plots.views()]
        steps.append(lambda: freeze_long_lived_objects(full=False))  # last: start-up is never walked again
        self._warm_up(steps)

    def _warm_up(self, steps: list[Any]) -> None:
        if steps:
            steps.pop(0)()
            QTimer.singleShot(15, self, lambda: self._warm_up(steps))  # a timer: other events go first

    @staticmethod
    def _import_engine_settings() -> None:
        import automl_studio.engine.core.config  # noqa: F401
        import automl_studio.engine.core.errors  # noqa: F401

    def _lay_out_search_page(self) -> None:
        page = self.search_page
        page.setGeometry(self.pages.contentsRect())
        page.ensurePolished()
        for child in page.findChildren(QWidget):
            child.ensurePolished()
        layout = page.layout()
        if layout is not None:
            layout.activate()

    # ----------------------------------------------------------------- closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.search_page.running:
            if not self.confirm_close(self):
                event.ignore()
                return
            self.status_search.setText("Stopping the search…")
        self.autosave_timer.stop()
        self.autosave.remove()  # saved or discarded: nothing to recover
        self.search_page.shutdown()
        self.data_page.shutdown()
        self.results_page.shutdown()
        self.predict_page.shutdown()
        self.compare_page.shutdown()
        self._signature_task.shutdown()
        self._resume_check.shutdown()
        self._report_task.shutdown()
        self.tensorboard.stop()
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        event.accept()
