"""The Search page: search settings, live plots, the trials table and a log.

The page shows a search; :class:`~.search_worker.SearchController` runs it. The window builds the
:class:`SearchConfig` (from every page) and calls :meth:`SearchPage.run`; Start, Stop and Resume
are the window's commands (its toolbar and Search menu), shown once for every page.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.config import MAX_CV_FOLDS, MAX_FINALISTS
from automl_studio.engine.core.events import (
    BaselinesScored,
    Event,
    FinalistsScored,
    PhaseChanged,
    ProcessExited,
    SearchFinished,
    SearchStarted,
    SearchWarning,
    TrialEnded,
    TrialStarted,
)
from automl_studio.engine.core.objectives import (
    OBJECTIVES,
    Objective,
    default_objective,
    describe_task,
    get_objective,
    objectives_for,
)
from automl_studio.engine.data.imbalance import rare_classes
from automl_studio.engine.search.defaults import CV_FOLDS
from automl_studio.engine.search.distributed import joining_command
from automl_studio.engine.search.project import NEW_SEARCH_HINT, finalist_text
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.models.trials_model import (
    FINALIST_COLUMN,
    SCORE_COLUMN,
    SE_COLUMN,
    TrialsModel,
    TrialsProxyModel,
    format_duration,
)
from automl_studio.gui.pages.baseline_note import BaselineNote, RaceNote
from automl_studio.gui.settings_store import default_directory
from automl_studio.gui.undo import ValueCommand
from automl_studio.gui.widgets import Banner, DurationSpinBox, name_widget, page_header
from automl_studio.gui.workers.search_worker import SearchController

TUNERS = (("bayesian", "Bayesian optimisation"), ("random", "Random search"),
          ("hyperband", "Hyperband"), ("grid", "Grid search"))
LOG_LINES = 5000
WINDOW_NEW_SEARCH_HINT = ("Resume only continues that same search: press Start, not Resume, to begin a "
                          "new search (the window asks before it replaces the one in that folder)")
UNAUTHENTICATED = ("KerasTuner's oracle port is unauthenticated: anyone who can reach it can join the "
                   "search and see its settings. Open it only on a trusted network.")


def window_words(message: str) -> str:
    """An engine message with its command-line advice (``--fresh``, ``--project``) said in the
    window's terms."""
    return (message.replace("; " + NEW_SEARCH_HINT, ". " + WINDOW_NEW_SEARCH_HINT)
            .replace("; start over with --fresh", ". " + WINDOW_NEW_SEARCH_HINT))


def _value_of(widget: QWidget) -> Any:
    if isinstance(widget, QSpinBox):
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.text() if isinstance(widget, QLineEdit) else None


def _trials(n: int) -> str:
    return f"{n} trial{'' if n == 1 else 's'}"


class SearchPage(QWidget):
    """Search settings and the live view of a running (or opened) search.

    Every settings change is a step of the window's undo history (``undo_stack``), so it marks
    the project modified and Edit ▸ Undo takes it back.

    Signals:
        finished(event): the search ended and its worker is done (its :class:`SearchFinished`, or
            one built from the :class:`ProcessExited` when the process died without sending it).
        trialSelected(trial_id): the user picked a trial in the table.
        searchLongerRequested(): the best model is no better than its baseline and the user asked
            to resume with a larger budget (:meth:`extend_budget` has already raised it).

    The page's :class:`TrialStore` (``trials``) holds the trials of the search it shows; the
    table and the live plots show that store.
    """

    finished = Signal(object)
    stateChanged = Signal(str)
    trialSelected = Signal(str)
    searchLongerRequested = Signal()

    def __init__(self, undo_stack: QUndoStack | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "searchPage", "Search page")
        self._undo = undo_stack or QUndoStack(self)
        self._syncing = False  # set while the page itself sets a value (no undo step)
        self.controller = SearchController(self)
        self.trials = TrialStore(self)
        self._finish: SearchFinished | None = None
        self._started_at: float | None = None
        self._done_before = 0  # trials a resumed search had finished before this run started
        self._max_trials = 0
        self._can_resume = False
        self._start_blocker = ""
        self._finish_pending = False
        # Where the project-folder dialog starts when the field names no folder (the window
        # passes its last folder used).
        self.start_folder: Callable[[], str] = default_directory
        self._build()
        c = self.controller
        c.eventReceived.connect(self.trials.apply)  # first, so the log below sees the new state
        c.eventReceived.connect(self._on_event)
        c.searchFinished.connect(self._on_search_finished)
        c.processExited.connect(self._on_process_exited)
        c.runningChanged.connect(self._on_running_changed)
        for signal in (self.trials.bestChanged, self.trials.searchReset, self.trials.objectiveChanged,
                       self.trials.trialAdded):
            signal.connect(self._show_best)
        self.trials.searchReset.connect(self.baseline_note.hide)
        self._show_best()
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._update_progress)
        self._track_settings()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(8)
        layout.addWidget(page_header("Search", "KerasTuner tries networks from the search space; "
                                     "every trial trains in a separate process. Start, Stop and "
                                     "Resume are on the toolbar."))
        self.start_note = name_widget(QLabel(), "startBlockedReason", "Why Start is unavailable")
        self.start_note.setProperty("role", "hint")
        self.start_note.setWordWrap(True)
        self.start_note.hide()
        layout.addWidget(self.start_note)
        self.banner = Banner("searchBanner")
        layout.addWidget(self.banner)
        self.baseline_note = BaselineNote("searchBaseline")
        self.baseline_note.searchLongerRequested.connect(self.search_longer)
        layout.addWidget(self.baseline_note)

        progress_row = QHBoxLayout()
        self.overall_progress = name_widget(QProgressBar(), "searchProgress", "Trials done")
        self.overall_progress.setFormat("%v of %m trials")
        self.overall_progress.setRange(0, 1)
        self.overall_progress.setValue(0)
        self.progress_label = name_widget(QLabel("Not started"), "searchProgressText",
                                          "Search progress")
        self.progress_label.setMinimumWidth(280)
        progress_row.addWidget(self.overall_progress, 1)
        progress_row.addWidget(self.progress_label)
        layout.addLayout(progress_row)
        self.best_label = name_widget(QLabel(), "bestSoFar", "Best trial so far")
        self.best_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.best_label)
        self._baselines: dict[str, Any] = {}  # the search's BaselinesScored.summary(), once scored
        self.race_note = RaceNote("searchRace")
        # Two lines from the start: its words, once the network's score is known, wrap to a
        # second line, which moved (and repainted) the live plots at the first trial's end.
        self.race_note.setMinimumHeight(2 * self.race_note.fontMetrics().lineSpacing())
        layout.addWidget(self.race_note)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_settings())
        right = QSplitter(Qt.Orientation.Vertical)
        # The plots (and pyqtgraph) are built just after the window is shown: see ensure_plots.
        self._plots: Any = None
        self._plots_host = QWidget()
        self._plots_host.setObjectName("livePlotsHost")
        self._plots_layout = QVBoxLayout(self._plots_host)
        self._plots_layout.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self._plots_host)
        right.addWidget(self._build_tables())
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([460, 260])
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)

    def _spin(self, name: str, label: str, lo: int, hi: int, value: int, tip: str,
              special: str | None = None) -> QSpinBox:
        spin = name_widget(QSpinBox(), name, label, tip)
        spin.setRange(lo, hi)
        spin.setValue(value)
        if special:
            spin.setSpecialValueText(special)
        return spin

    def _build_settings(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 6, 0)
        tuner_box = QGroupBox("Tuner")
        form = QFormLayout(tuner_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.tuner_combo = name_widget(QComboBox(), "tunerChoice", "Tuner",
                                       "How the next trial's hyperparameters are chosen")
        for key, label in TUNERS:
            self.tuner_combo.addItem(label, key)
        self.max_trials = self._spin("maxTrials", "Maximum trials", 1, 10_000, 10,
                                     "How many networks to try")
        self.max_trials.valueChanged.connect(self._on_max_trials_changed)
        self.time_budget = name_widget(DurationSpinBox(), "timeBudget", "Time budget",
                                       "Stop the search after this long, the finalists' folds, refits and export "
                                       "included (e.g. 2 min 30 s, 1 h; a bare number is minutes)")
        self.time_budget.setRange(0, 100_000 * 60)
        self.time_budget.setSpecialValueText("no limit")
        self.executions = self._spin("executionsPerTrial", "Executions per trial", 1, 10, 1,
                                     "Train each network this many times and average the score")
        self.workers = self._spin("workers", "Trials at once", 1, 64, 1,
                                  "Run this many trials at once in local worker processes "
                                  "(KerasTuner's chief and workers); the Worker column shows which ran each")
        self.objective_combo = name_widget(QComboBox(), "objectiveChoice", "Objective",
                                           "The validation metric the tuner optimises")
        # Long entries ("Automatic: validation loss (val_loss, lower is better)") would set the
        # settings pane's minimum width past its 360 px: the popup shows them whole.
        for combo in (self.tuner_combo, self.objective_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        self.objective_note = name_widget(QLabel(), "objectiveNote", "Objective note")
        self.objective_note.setWordWrap(True)
        self._data_task: tuple[str, int] | None = None  # (task, classes) of the loaded data
        self._imbalanced = False  # whether the loaded data has a rare class
        self._wanted_objective: str | None = None  # the user's (or the project's) choice
        self._show_objectives()
        self.objective_combo.currentIndexChanged.connect(self._on_objective_chosen)
        form.addRow("Tuner", self.tuner_combo)
        form.addRow("Max trials", self.max_trials)
        form.addRow("Time budget", self.time_budget)
        form.addRow("Executions", self.executions)
        form.addRow("Trials at once", self.workers)
        form.addRow("Objective", self.objective_combo)
        form.addRow(self.objective_note)
        layout.addWidget(tuner_box)

        train_box = QGroupBox("Training")
        form = QFormLayout(train_box)
        self.max_epochs = self._spin("maxEpochs", "Maximum epochs per trial", 0, 10_000, 20,
                                     "Epochs per trial (early stopping may end it sooner)",
                                     "template default")
        self.patience = self._spin("patience", "Early-stopping patience", 0, 1000, 0,
                                   "Stop a trial after this many epochs without improvement",
                                   "automatic")
        self.refits = self._spin("refits", "Refits averaged in the exported model", 0, 20, 0,
                                 "Retrain the best network this many times on train + validation, "
                                 "each from its own seed, and export their average (automatic: 5 "
                                 "up to 10,000 rows, 3 up to 100,000, else and for images 1)", "automatic")
        form.addRow("Max epochs", self.max_epochs)
        form.addRow("Patience", self.patience)
        form.addRow("Refits averaged", self.refits)
        self.cv_folds = self._spin("cvFolds", "Cross-validation folds per trial", 0, MAX_CV_FOLDS, 0,
                                   "Score each trial by the mean of its best validation objective on this "
                                   f"many folds of train + validation ({CV_FOLDS} is usual; its standard error "
                                   "in the trials table). Each fold costs a fit: under a time budget fewer "
                                   "trials run. Off: one validation split", "off")
        form.addRow("CV folds", self.cv_folds)
        self.finalists = self._spin("finalists", "Finalists cross-validated after the search", 0, MAX_FINALISTS, 3,
                                    "On a table of up to 1,000 train + validation rows, train the validation "
                                    "split's best this many trials and the first (linear) one on the same folds "
                                    "after the search, and export the smallest network within a standard error of "
                                    "the best mean (the trials table's Cross-validated column). Off: export the validation split's best", "off")
        form.addRow("Finalists", self.finalists)
        self.ensemble = name_widget(
            QCheckBox("Best trials, if it wins"), "ensemble", "Ensemble of the best trials",
            "After the search, weigh the best trials' predictions on the validation split (greedy "
            "ensemble selection) and export their weighted average instead of the refits when it "
            "beats the best trial there; each member is then retrained on train + validation "
            "as time allows")
        self.ensemble.setChecked(False)  # opt-in: see SearchConfig.ensemble
        form.addRow("Ensemble", self.ensemble)
        self.forest = name_widget(
            QCheckBox("Random forest, if it wins"), "forest", "Random forest beside the networks",
            "On a table of numeric and categorical columns, score a random forest (100 trees of at most 64 "
            "or 256 leaves, or 25 of at most 512: the shape the validation split prefers) beside the networks "
            "and export it, compiled into standard Keras layers (the .h5 loads with plain Keras), where it "
            "scores better on the finalists' folds by more than a standard error, or on the validation split "
            "scores better or trails the best network by no more than a standard error. Off: networks only")
        self.forest.setChecked(True)  # see SearchConfig.forest
        form.addRow("Forest", self.forest)
        self.refit_all = name_widget(
            QCheckBox("Retrain on all rows"), "refitAll", "Exported model trained on all rows",
            "Once the test split has scored the exported model, train its refits (or its forest) again the "
            "same way on all rows, the test rows included, as the time budget allows, and export those. The "
            "test metrics stay the ones of the model before. An ensemble, or the best trial as trained, is "
            "exported as scored. Off: export the model the test split scored")
        self.refit_all.setChecked(True)  # see SearchConfig.refit_all
        form.addRow("All rows", self.refit_all)
        layout.addWidget(train_box)
        layout.addWidget(self._build_distributed())

        project_box = QGroupBox("Project folder")
        row = QHBoxLayout(project_box)
        self.project_dir = name_widget(QLineEdit(), "projectDir", "Project folder",
                                       "Where the search keeps its trials, logs and best model")
        self.project_dir.setPlaceholderText("chosen automatically")
        browse = name_widget(QToolButton(), "browseProjectDir", "Choose project folder")
        browse.setText("…")
        browse.clicked.connect(self._browse_project_dir)
        row.addWidget(self.project_dir, 1)
        row.addWidget(browse)
        layout.addWidget(project_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("searchSettings")
        scroll.setWidget(box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # Wide enough for the boxes beside the vertical scroll bar (the splitter gives the pane its
        # minimum, and a scroll area's size hint leaves the bar out: the boxes' right edge was cut).
        scroll.setMinimumWidth(min(360, max(290, box.minimumSizeHint().width()
                                            + scroll.verticalScrollBar().sizeHint().width())))
        scroll.setMaximumWidth(360)
        return scroll

    def _build_distributed(self) -> QGroupBox:
        box = QGroupBox("Other machines")
        box.setObjectName("distributedBox")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.serve_workers = name_widget(
            QCheckBox("Let other machines join as workers"), "serveWorkers", "Let other machines join as workers",
            "Serve this search's oracle so that workers started on other machines run trials too. "
            + UNAUTHENTICATED)
        self.chief_address = name_widget(
            QLineEdit(), "chiefAddress", "Chief address",
            "The address this machine listens on for workers: 0.0.0.0 for every network, or one of this "
            "machine's addresses. Empty: 127.0.0.1, reachable from this machine only. " + UNAUTHENTICATED)
        self.chief_address.setPlaceholderText("0.0.0.0 or this machine's address")
        self.chief_port = self._spin("chiefPort", "Chief port", 0, 65535, 0,
                                     "The port workers connect to; 0 picks a free one when the search "
                                     "starts. " + UNAUTHENTICATED, "any free port")
        self.worker_command = name_widget(QLineEdit(), "workerCommand", "Worker command",
                                          "Run this on each machine that should join the running search. That machine "
                                          "needs the files it names (the data, the network's spec) at the same paths; "
                                          "its trials show here without epoch curves")
        self.worker_command.setReadOnly(True)
        self.worker_command.setPlaceholderText("shown once the search has started")
        self.copy_worker_command = name_widget(QToolButton(), "copyWorkerCommand", "Copy worker command",
                                               "Copy the worker command to the clipboard")
        self.copy_worker_command.setText("Copy")
        self.copy_worker_command.clicked.connect(self._copy_worker_command)
        command_row = QHBoxLayout()
        command_row.addWidget(self.worker_command, 1)
        command_row.addWidget(self.copy_worker_command)
        form.addRow(self.serve_workers)
        form.addRow("Address", self.chief_address)
        form.addRow("Port", self.chief_port)
        form.addRow("Workers run", command_row)
        self.serve_workers.toggled.connect(self._update_distributed)
        self.worker_command.textChanged.connect(self._update_distributed)
        self._update_distributed()
        return box

    def _update_distributed(self, *_args: Any) -> None:
        serve = self.serve_workers.isChecked()
        self.chief_address.setEnabled(serve)
        self.chief_port.setEnabled(serve)
        self.copy_worker_command.setEnabled(bool(self.worker_command.text()))

    @Slot()
    def _copy_worker_command(self) -> None:
        QGuiApplication.clipboard().setText(self.worker_command.text())

    def _build_tables(self) -> QWidget:
        tabs = QTabWidget()
        tabs.setObjectName("searchTabs")
        trials = QWidget()
        layout = QVBoxLayout(trials)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter_edit = name_widget(QLineEdit(), "trialsFilter", "Filter trials")
        self.filter_edit.setPlaceholderText("Filter trials (status, value…)")
        self.filter_edit.setClearButtonEnabled(True)
        layout.addWidget(self.filter_edit)
        self.trials_model = TrialsModel(self.trials, self)
        self._on_max_trials_changed(self.max_trials.value())
        self.trials_proxy = TrialsProxyModel(self)
        self.trials_proxy.setSourceModel(self.trials_model)
        self.filter_edit.textChanged.connect(self.trials_proxy.setFilterFixedString)
        self.trials_table = name_widget(QTableView(), "trialsTable", "Trials")
        self.trials_table.setModel(self.trials_proxy)
        self.trials_table.setSortingEnabled(True)
        self.trials_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trials_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.trials_table.setAlternatingRowColors(True)
        self.trials_table.verticalHeader().hide()
        self.trials_table.verticalHeader().setDefaultSectionSize(22)
        self.trials_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.trials_table.horizontalHeader().setDefaultSectionSize(90)
        self.trials_table.selectionModel().currentRowChanged.connect(self._on_row_selected)
        self.trials_table.horizontalHeader().setResizeContentsPrecision(50)
        self.trials_model.columnsInserted.connect(self._fit_columns)
        self.trials_model.headerDataChanged.connect(self._fit_columns)  # the score's metric name
        self._fit_columns()
        self.trials_model.rowsInserted.connect(self._fit_columns_to_first_rows)
        # "± SE" beside the score, shown once a trial was scored on folds (small tables).
        self.trials_table.horizontalHeader().moveSection(SE_COLUMN, SCORE_COLUMN + 1)
        # The finalists' cross-validated scores after them, shown once the folds chose a trial.
        self.trials_table.horizontalHeader().moveSection(FINALIST_COLUMN, SCORE_COLUMN + 2)
        for signal in (self.trials_model.dataChanged, self.trials_model.rowsInserted, self.trials_model.modelReset):
            signal.connect(self._show_fold_columns)
        self._show_fold_columns()
        layout.addWidget(self.trials_table)
        tabs.addTab(trials, "Trials")
        self.log = name_widget(QPlainTextEdit(), "searchLog", "Search log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        tabs.addTab(self.log, "Log")
        return tabs

    @property
    def plots(self) -> Any:
        """The :class:`~.live_plots.LivePlots` of this page (built on first use)."""
        return self.ensure_plots()

    @property
    def plots_ready(self) -> bool:
        return self._plots is not None

    def ensure_plots(self) -> Any:
        """Builds the live plots if they are not built yet (importing pyqtgraph takes ~0.5 s,
        so the window does it right after it is shown rather than before)."""
        if self._plots is None:
            from automl_studio.gui.plots.live_plots import LivePlots

            self._plots = LivePlots(self.trials)
            self._plots.trialClicked.connect(self.select_trial)
            self._plots_layout.addWidget(self._plots)
        return self._plots

    # ----------------------------------------------------------------- settings
    def settings(self) -> dict[str, Any]:
        """The :class:`SearchConfig` fields this page decides."""
        # A duration typed but not yet committed (Return, leaving the box) counts: Start and Save
        # are toolbar buttons and shortcuts, which take no focus from the box.
        self.time_budget.interpretText()
        seconds = self.time_budget.value()
        serve = self.serve_workers.isChecked()
        return {
            "tuner": self.tuner_combo.currentData(),
            "max_trials": self.max_trials.value(),
            "max_epochs": self.max_epochs.value() or None,
            "time_budget_s": float(seconds) if seconds else None,
            "executions_per_trial": self.executions.value(),
            "workers": self.workers.value(),
            # Serving with no address named stays on this machine: the port is unauthenticated.
            "chief_address": (self.chief_address.text().strip() or "127.0.0.1") if serve else "",
            "chief_port": self.chief_port.value() if serve else 0,
            "objective": self.objective_combo.currentData(),
            "patience": self.patience.value() or None,
            "refits": self.refits.value() or None,
            "ensemble": self.ensemble.isChecked(),
            "forest": self.forest.isChecked(),
            "refit_all": self.refit_all.isChecked(),
            "cv_folds": self.cv_folds.value(),
            "finalists": self.finalists.value(),
        }

    def apply_settings(self, config: Any) -> None:
        """Shows a saved config's search settings (an opened project: no undo step)."""
        self._syncing = True
        try:
            self._apply_settings(config)
        finally:
            self._syncing = False
        self._remember_values()

    def _apply_settings(self, config: Any) -> None:
        index = self.tuner_combo.findData(config.tuner)
        self.tuner_combo.setCurrentIndex(max(index, 0))
        self.max_trials.setValue(config.max_trials or 10)
        self.max_epochs.setValue(config.max_epochs or 0)
        self.time_budget.setValue(int(round(config.time_budget_s or 0)))
        self.executions.setValue(config.executions_per_trial)
        self.workers.setValue(config.workers)
        self.serve_workers.setChecked(bool(config.chief_address))
        self.chief_address.setText(config.chief_address)
        self.chief_port.setValue(config.chief_port)
        self._wanted_objective = config.objective
        self._show_objectives()
        self.patience.setValue(config.patience or 0)
        self.refits.setValue(config.refits or 0)
        self.ensemble.setChecked(config.ensemble)
        self.forest.setChecked(config.forest)
        self.refit_all.setChecked(config.refit_all)
        self.cv_folds.setValue(config.cv_folds)
        self.finalists.setValue(config.finalists)
        self.project_dir.setText(config.project_dir)

    # ----------------------------------------------------------------- undo
    def _tracked(self) -> tuple[QWidget, ...]:
        return (self.tuner_combo, self.max_trials, self.time_budget, self.executions, self.workers,
                self.max_epochs, self.patience, self.refits, self.cv_folds, self.finalists, self.ensemble,
                self.forest, self.refit_all, self.serve_workers,
                self.chief_address, self.chief_port)

    def _track_settings(self) -> None:
        """Makes every settings change (the objective's too, see :meth:`_on_objective_chosen`)
        an undo step."""
        for widget in self._tracked():
            if isinstance(widget, QSpinBox):
                widget.valueChanged.connect(lambda v, w=widget: self._on_setting_edited(w, v))
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(
                    lambda _i, w=widget: self._on_setting_edited(w, w.currentData()))
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(lambda v, w=widget: self._on_setting_edited(w, v))
            elif isinstance(widget, QLineEdit):
                widget.textEdited.connect(lambda v, w=widget: self._on_setting_edited(w, v))
        self._remember_values()

    def _remember_values(self) -> None:
        for widget in self._tracked():
            widget.setProperty("lastValue", _value_of(widget))

    def _on_setting_edited(self, widget: QWidget, value: Any) -> None:
        old = widget.property("lastValue")
        widget.setProperty("lastValue", value)
        if self._syncing or old == value:
            return
        shown = widget.currentText() if isinstance(widget, QComboBox) else \
            widget.textFromValue(value) if isinstance(widget, QSpinBox) else value
        self._undo.push(ValueCommand(f"{widget.accessibleName()}: {shown}", partial(self._set_setting, widget),
                                     old, value, merge_key=f"search.{widget.objectName()}", group="search"))

    def _set_setting(self, widget: QWidget, value: Any) -> None:
        self._syncing = True
        try:
            if isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QLineEdit):
                widget.setText(str(value))
            widget.setProperty("lastValue", value)
        finally:
            self._syncing = False

    # ----------------------------------------------------------------- objectives
    def set_data_task(self, task: str | None, n_classes: int = 0, class_counts: tuple[int, ...] = ()) -> None:
        """Offers the objectives the model compiles for the loaded data (``None``: no data);
        ``class_counts`` (rows per class) tell whether a class is rare, which changes the
        automatic objective (:func:`~automl_studio.engine.core.objectives.default_objective`).

        The chosen objective stays chosen while it applies; where it does not (say ``val_auc``
        with three classes) the search falls back to automatic and a note says so.
        """
        self._data_task = (task, n_classes) if task else None
        self._imbalanced = task == "classification" and bool(rare_classes(class_counts))
        self._show_objectives()

    def _automatic(self) -> Objective:
        """The objective the search uses when none is chosen, for the loaded data."""
        if self._data_task is None:
            return get_objective(None)
        return default_objective(*self._data_task, imbalanced=self._imbalanced)

    def objective_names(self) -> list[str | None]:
        """The objectives offered, in order (``None``: automatic)."""
        return [self.objective_combo.itemData(i) for i in range(self.objective_combo.count())]

    def _show_objectives(self) -> None:
        combo, wanted = self.objective_combo, self._wanted_objective
        offered = objectives_for(*self._data_task) if self._data_task else tuple(OBJECTIVES.values())
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(f"Automatic: {self._automatic().choice_text()}", None)
        for objective in offered:
            combo.addItem(objective.choice_text(), objective.name)
        if wanted and not self._data_task and combo.findData(wanted) < 0:
            combo.addItem(wanted, wanted)  # checked once the data is known
        index = combo.findData(wanted) if wanted else 0
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)
        if index < 0 and self._data_task:
            self.objective_note.setText(
                f"The objective {wanted} does not exist for {describe_task(*self._data_task)}; "
                f"the search will use the automatic objective ({self._automatic().name}).")
        self.objective_note.setVisible(index < 0)

    @Slot(int)
    def _on_objective_chosen(self, index: int) -> None:
        old, new = self._wanted_objective, self.objective_combo.itemData(index)
        self._wanted_objective = new
        self.objective_note.setVisible(False)
        if not self._syncing and old != new:
            self._undo.push(ValueCommand(f"Objective: {self.objective_combo.currentText()}",
                                         self._set_objective, old, new, group="search"))

    def _set_objective(self, name: str | None) -> None:
        self._wanted_objective = name
        self._show_objectives()

    @Slot()
    def _browse_project_dir(self) -> None:
        current = self.project_dir.text().strip()
        start = current if current and os.path.isdir(current) else self.start_folder()
        folder = QFileDialog.getExistingDirectory(self, "Project folder", start)
        if folder:
            self.project_dir.setText(folder)

    # ----------------------------------------------------------------- running
    @property
    def running(self) -> bool:
        return self.controller.running

    @property
    def last_finish(self) -> SearchFinished | None:
        """How the last search run here finished, once it has ended."""
        return self._finish if not self.running else None

    @property
    def can_resume(self) -> bool:
        return self._can_resume and not self.running

    def set_can_resume(self, value: bool, why_not: str = "") -> None:
        """Offers Resume (or not); ``why_not`` says on the banner why a search here is not offered."""
        self._can_resume = value
        if why_not:
            self.banner.show_message(why_not, "warning")

    def reset(self) -> None:
        """Shows no search: other data was opened, or a new project (not while one runs).

        The trials, plots, log, progress and the project folder are cleared, so the next Start
        begins a new search in a folder of its own.
        """
        self.banner.clear()
        self._finish = None
        self._finish_pending = False
        self._started_at = None
        self._can_resume = False
        self.trials.reset()
        self._baselines = {}
        self.race_note.show_race({}, None)
        if self._plots is not None:
            self._plots.redraw()
        self.log.clear()
        self.worker_command.clear()
        self.project_dir.clear()
        self.overall_progress.setRange(0, max(self.max_trials.value(), 1))
        self.overall_progress.setValue(0)
        self.progress_label.setText("Not started")

    def run(self, config_dict: dict[str, Any], *, resume: bool = False) -> None:
        """Starts the search described by ``config_dict`` (``SearchConfig.to_dict()``)."""
        self.banner.clear()
        self.baseline_note.hide()
        self._finish = None
        self._finish_pending = False
        self._max_trials = int(config_dict.get("max_trials") or 0)
        self._started_at = time.time()
        self.worker_command.clear()
        if not resume:
            self.trials.reset(config_dict.get("objective"), started_at=self._started_at)
            self.log.clear()
            self._baselines = {}
            self.race_note.show_race({}, None)
        # A resumed search's trials from before ran in another run's time: the estimate counts
        # only this run's, and the plots' "Stopped after …" gives way to this run's progress.
        self._done_before = self.trials.count("completed") + self.trials.count("failed")
        self.plots.invalidate()
        self._log(f"{'Resuming' if resume else 'Starting'} search in {config_dict['project_dir']}")
        self.plots.start_timer()
        self._clock.start()
        self.controller.start(config_dict)
        self._update_progress()

    @Slot()
    def stop(self) -> None:
        if self.controller.running and not self.controller.stopping:
            self._log("Stopping after the current batch…")
            self.controller.request_stop()
            self.stateChanged.emit("Stopping…")

    def show_history(self, records: dict[str, Any], objective: str | None,
                     finish: SearchFinished | None) -> None:
        """Shows the trials of an opened project (``project.read_trials`` output)."""
        self.trials.load_records(records, objective)
        self.plots.redraw()
        done = self.trials.count("completed")
        self.overall_progress.setRange(0, max(self.max_trials.value(), len(records), 1))
        self.overall_progress.setValue(done)
        self._finish = finish
        text = self.finish_text() if finish else f"Interrupted after {_trials(done)}"
        self.progress_label.setText(text)
        self.plots.show_finished(text)
        self.baseline_note.show_for(finish)
        self._baselines = dict(finish.baselines) if finish is not None else {}
        self._show_best()

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        match event:
            case SearchStarted(resumed=True):
                self._log(f"Search started (resumed, {event.completed_trials} trials done)")
                self.stateChanged.emit("Searching")
            case SearchStarted():
                self._log("Search started")
                self.stateChanged.emit("Searching")
            case PhaseChanged():
                command = joining_command(event)
                if command is not None:
                    self.worker_command.setText(command)
                    self.worker_command.setCursorPosition(0)
                self._log(f"Phase: {event.phase} {event.message}".rstrip())
                self.stateChanged.emit(event.phase.capitalize())
            case TrialStarted():
                hps = ", ".join(f"{k}={v}" for k, v in event.hyperparameters.items())
                self._log(f"Trial {event.trial_id} started: {hps}")
            case TrialEnded():
                text = f"{event.score:.4g}" if isinstance(event.score, (int, float)) else "—"
                if event.score_se is not None:
                    text += f" ± {event.score_se:.2g} (mean of {len(event.fold_scores)} folds)"
                line = f"Trial {event.trial_id} {event.status}: {self.trials.objective.name} {text}"
                if event.error:
                    line += f" — {event.error}"
                self._log(line)
                self._update_progress()
            case FinalistsScored():
                scores = ", ".join(f"{tid} {finalist_text(s)}" for tid, s in event.scores.items())
                self._log(f"Finalists on {event.folds} folds ({event.objective}): {scores}; trial {event.chosen} "
                          "is exported" + ("" if event.chosen == event.validation_best else
                                           f", not trial {event.validation_best} (the validation split's best)"))
                self._show_best()
            case SearchWarning():
                self._log(f"Warning: {event.message}")
            case BaselinesScored():
                self._baselines = event.summary()
                self._show_best()
                self._log(self.race_note.text() or "Baselines scored")

    @Slot(object)
    def _on_search_finished(self, event: SearchFinished) -> None:
        self._finish = event
        status, message = event.status, event.message
        self._log(f"Search finished: {status}{' — ' + window_words(message) if message else ''}")
        if status == "failed":
            self.banner.show_message(f"The search failed: {window_words(message)}", "error")
        if self.baseline_note.show_for(event):
            self._log(self.baseline_note.accessibleDescription())
        if event.baselines:
            self._baselines = dict(event.baselines)
        self._show_best()
        self._can_resume = status in ("stopped", "budget", "failed")

    @Slot(object)
    def _on_process_exited(self, event: ProcessExited) -> None:
        if self._finish is None:
            why = event.message or f"exit code {event.exitcode}"
            self._finish = SearchFinished.build("failed" if event.exitcode else "stopped",
                                                f"the search process ended unexpectedly ({why})")
            self.banner.show_message(self._finish.message, "error")
            self._log(self._finish.message)
            self._can_resume = True
        self.worker_command.clear()  # its port is closed now
        self.plots.stop_timer()
        self.plots.show_finished(self.finish_text())
        self._clock.stop()
        self._update_progress()
        # ``finished`` waits for the worker to be done (runningChanged(False) follows at once), so
        # whoever hears it sees the final state: not running, Resume available.
        self._finish_pending = True

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        if not running:
            self._update_progress()  # no estimate of the time left once it has ended
            self.stateChanged.emit(f"Search {self._finish.status if self._finish else 'ended'}")
            if self._finish_pending and self._finish is not None:
                self._finish_pending = False
                self.finished.emit(self._finish)

    def set_start_blocker(self, reason: str, fix: str = "fix the network on the Network page") -> None:
        """Disables Start while ``reason`` is not empty (a network that cannot be built, a target
        that cannot be trained on) and says why and where to ``fix`` it, beside the button and in
        its tooltip."""
        self._start_blocker = reason
        self.start_note.setText(f"<b>Start is unavailable:</b> {html.escape(reason, quote=False)} — {fix}."
                                if reason else "")
        self.start_note.setVisible(bool(reason))

    @property
    def start_blocker(self) -> str:
        return self._start_blocker

    @Slot()
    @Slot(int)
    def _on_max_trials_changed(self, value: int) -> None:
        if self._started_at is None and not len(self.trials):  # nothing run yet
            self.overall_progress.setRange(0, value)

    def _update_progress(self) -> None:
        done = self.trials.count("completed") + self.trials.count("failed")
        total = max(self._max_trials, done, 1)
        self.overall_progress.setRange(0, total)
        self.overall_progress.setValue(done)
        if self._finish is not None:  # ended (its last events may still be arriving)
            took = f" · {format_duration(time.time() - self._started_at)}" if self._started_at else ""
            self.progress_label.setText(self.finish_text() + took)
            return
        if self._started_at is None:
            return
        elapsed = time.time() - self._started_at
        text = f"{done} of {total} trials · {format_duration(elapsed)} elapsed"
        if self.controller.stopping:
            text += " · stopping…"
        elif self.controller.running and self._done_before < done < total:
            remaining = elapsed / (done - self._done_before) * (total - done)
            text += f" · ~{format_duration(remaining)} left"
        self.progress_label.setText(text)

    def finish_text(self) -> str:
        """How the shown search ended, in words ("" while none has ended)."""
        if self._finish is None:
            return ""
        done = _trials(self.trials.count("completed"))
        failed = self.trials.count("failed")
        if failed:
            done += f" ({failed} more failed)"
        return {"completed": f"Finished: {done}", "stopped": f"Stopped after {done}",
                "budget": f"Time budget spent after {done}",
                "failed": f"Failed after {done}"}.get(self._finish.status,
                                                      f"Search {self._finish.status} after {done}")

    def finish_summary(self) -> str:
        """One line for the status bar: how the search ended, its best trial's score named by
        its metric and direction, and whether that model beats its trivial baseline."""
        text = self.finish_text()
        if not text:
            return ""
        best = self.trials.trial(self.trials.best_trial_id)
        if self.baseline_note.text():
            return f"{text} — the best model does not beat the trivial baseline (see the Results page)"
        if best is None or best.score is None:
            return text
        scored = f"trial {best.trial_id}, {self.trials.objective.describe()} = {best.score:.4g}"
        if self._finish is not None and self._finish.status == "stopped":
            return f"{text} — best so far: {scored}; export it from the Results page"
        return f"{text} — best: {scored}{self._exported_note()}; the model is on the Results page"

    @Slot()
    @Slot(str)
    def _show_best(self, *_args: Any) -> None:
        best = self.trials.trial(self.trials.best_trial_id)
        # The baselines are scored with the search objective: no comparison under another one.
        same = self._baselines.get("objective") == self.trials.objective.name
        self.race_note.show_race(self._baselines if same else {},
                                 best.score if best is not None and same else None)
        # Before a search has a trial, the objective it will rank by is the combo's to say.
        self.best_label.setVisible(len(self.trials) > 0)
        if best is None or best.score is None:
            self.best_label.setText(f"Best so far: no trial has finished · ranked by "
                                    f"{self.trials.objective.describe()}")
            return
        self.best_label.setText(f"Best so far: trial {best.trial_id} · "
                                f"{self.trials.objective.describe()} = {best.score:.4g}{self._exported_note()}")

    def _exported_note(self) -> str:
        """Where the finalists' folds exported another trial than the validation split's best."""
        exported = self.trials.exported_trial_id
        if exported is None or exported == self.trials.best_trial_id:
            return ""
        return f" · exported: trial {exported}, chosen by cross-validation"

    def extend_budget(self) -> None:
        """Raises the budget for a longer search: twice the trials (at least five more than have
        run) and, when one is set, twice the time budget."""
        ran = len(self.trials)
        self.max_trials.setValue(max(2 * self.max_trials.value(), ran + 5))
        if self.time_budget.value():
            self.time_budget.setValue(2 * self.time_budget.value())

    @Slot()
    def search_longer(self) -> None:
        """Raises the budget (:meth:`extend_budget`) and asks the window to resume the search."""
        self.extend_budget()
        self.searchLongerRequested.emit()

    @Slot()
    def _fit_columns(self, *_args: Any) -> None:
        # New hyperparameter columns: size them to their names once, not on every update.
        self.trials_table.resizeColumnsToContents()

    @Slot()
    def _show_fold_columns(self, *_args: Any) -> None:
        for column, shown in ((SE_COLUMN, self.trials_model.cross_validated()),
                              (FINALIST_COLUMN, self.trials_model.has_finalists())):
            if shown == self.trials_table.isColumnHidden(column):
                self.trials_table.setColumnHidden(column, not shown)
                if shown:
                    self.trials_table.resizeColumnToContents(column)

    @Slot()
    def _fit_columns_to_first_rows(self, *_args: Any) -> None:
        if self.trials_model.rowCount() <= 3:  # later rows rarely need wider columns
            self.trials_table.resizeColumnsToContents()

    def _log(self, line: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    # ----------------------------------------------------------------- selection
    @Slot(str)
    def select_trial(self, tid: str) -> None:
        ids = self.trials_model.trial_ids()
        if tid in ids:
            source = self.trials_model.index(ids.index(tid), 0)
            self.trials_table.selectRow(self.trials_proxy.mapFromSource(source).row())

    def _on_row_selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            source = self.trials_proxy.mapToSource(current)
            tid = self.trials_model.trial_id_at(source.row())
            self.plots.highlight_trial(tid)
            self.trialSelected.emit(tid)

    def shutdown(self) -> None:
        if self._plots is not None:
            self._plots.stop_timer()
        self._clock.stop()
        self.controller.shutdown()
