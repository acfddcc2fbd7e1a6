"""The Data page: open a file, look at it, choose the target, the task, the columns and the split.

Loading and profiling run in a worker thread (:class:`~.tasks.TaskRunner`); a failed load shows
its one-line message in the page's banner and leaves the previous dataset in place.

The page never shows something untrue: a target that cannot be trained on stays selected, marked
with the reason (beside the target box, in the column table, the warnings and the banner), and
:meth:`DataPage.start_problem` tells the window to keep Start disabled until it is fixed.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QItemSelection, QPoint, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.config import DEFAULT_NGRAMS, MAX_CHAR_NGRAMS, MAX_NGRAMS
from automl_studio.engine.data.profile import TEXT
from automl_studio.engine.data.text import MAX_TOKENS
from automl_studio.gui.models.table_models import (
    SORT_ROLE,
    ColumnsModel,
    DatasetPreviewModel,
    column_distribution,
)
from automl_studio.gui.undo import ValueCommand
from automl_studio.gui.widgets import Banner, empty_state, name_widget, page_header
from automl_studio.gui.workers.load_worker import (
    LoadedData,
    check_time_column,
    load_and_profile,
    reprofile,
    token_statistics,
)
from automl_studio.gui.workers.tasks import TaskRunner

TASK_CHOICES = ("auto", "classification", "regression")
NO_TIME_COLUMN = "None"  # the tooltip says what None means: the combo is ~150 px wide at 1024×700
ONE_SERIES = "None"
# How a CSV may be read, as (label, value) per control; None: detected. The values are those of
# engine.data.csv_format.CsvOptions (and SearchConfig's csv_* fields).
DELIMITER_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("Auto", None), ("Comma  ,", ","), ("Semicolon  ;", ";"), ("Tab", "\t"), ("Pipe  |", "|"), ("Space", " "))
DECIMAL_CHOICES: tuple[tuple[str, str | None], ...] = (("Auto", None), ("Point  1.5", "."), ("Comma  1,5", ","))
ENCODING_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("Auto", None), ("UTF-8", "utf-8"), ("Windows-1252", "cp1252"), ("Latin-1", "latin-1"), ("UTF-16", "utf-16"))
HEADER_CHOICES: tuple[tuple[str, bool | None], ...] = (
    ("Auto", None), ("Row is the header", True), ("No header row", False))
CSV_KEYS = ("delimiter", "decimal", "encoding", "header")
THUMBNAILS_PER_CLASS = 8
NO_WARNINGS = "✔ No warnings: the data looks ready to search."
INVALID_STYLE = "QComboBox { border: 2px solid #c0392b; border-radius: 3px; }"


class DataPage(QWidget):
    """Opens a dataset and holds the user's choices about it.

    Signals:
        datasetLoaded(summary): a new dataset replaced the old one; ``summary`` is a dict with
            ``path``, ``kind``, ``rows`` and ``columns``.
        loadFailed(message): loading failed (the banner shows ``message``); nothing changed.
        profileChanged(summary): the target, task or columns changed and the data was profiled
            again; ``summary`` has ``target``, ``task`` and ``warnings``.
    """

    datasetLoaded = Signal(dict)
    loadFailed = Signal(str)
    profileChanged = Signal(dict)
    openRequested = Signal()
    demoRequested = Signal()

    def __init__(self, undo_stack: QUndoStack | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "dataPage", "Data page")
        self._undo = undo_stack or QUndoStack(self)
        self._dataset: Any = None
        self._profile: Any = None
        self._exclude: set[str] = set()
        self._include: set[str] = set()
        self._kinds: dict[str, str] = {}  # the user's kind per column (numeric/categorical/text)
        self._pending: dict[str, Any] | None = None
        self._csv: dict[str, Any] = {}  # the user's CSV overrides (CSV_KEYS); absent: detected
        self._image_size = 64
        self._problem = ""  # why the current choice cannot be searched ("" when it can)
        # From a saved config: time column, horizon, series, lookback, largest lookback.
        self._forecast_pending: tuple[str | None, int, str | None, int | None, int | None] | None = None
        self._forecast_problem = ""  # why the time column, horizon or series cannot be forecast
        self._syncing = False
        self._loader = TaskRunner(self)
        self._profiler = TaskRunner(self)
        self._forecast_checker = TaskRunner(self)
        self._token_counter = TaskRunner(self)
        self._build()
        self._loader.progressed.connect(self._on_load_progress)
        self._loader.finished.connect(self._on_loaded)
        self._loader.failed.connect(self._on_load_failed)
        self._loader.runningChanged.connect(self._on_loading_changed)
        self._profiler.finished.connect(self._on_profiled)
        self._profiler.failed.connect(self._on_profile_failed)
        self._forecast_checker.finished.connect(self._on_forecast_checked)
        self._forecast_checker.failed.connect(self._on_forecast_check_failed)
        self._token_counter.finished.connect(self._on_token_statistics)
        self._token_counter.failed.connect(self._on_token_count_failed)

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(8)
        header_row = QHBoxLayout()
        header_row.addWidget(page_header(
            "Data", "Open a CSV, Parquet, NumPy (.npz/.npy) file or a folder of images "
            "(one subfolder per class), then choose what to predict."), 1)
        self.open_button = name_widget(QPushButton("Open dataset…"), "openDataset",
                                       "Open dataset", "Open a data file or image folder")
        self.open_button.clicked.connect(self.openRequested)
        header_row.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header_row)

        self.banner = Banner("dataBanner")
        layout.addWidget(self.banner)

        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress_label = QLabel("Loading…")
        self.load_progress = name_widget(QProgressBar(), "loadProgress", "Loading progress")
        self.load_progress.setRange(0, 1000)
        self.cancel_button = name_widget(QPushButton("Cancel"), "cancelLoad", "Cancel loading")
        self.cancel_button.clicked.connect(self.cancel_loading)
        row.addWidget(self.progress_label)
        row.addWidget(self.load_progress, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        layout.addWidget(self.progress_row)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_empty())
        self.stack.addWidget(self._build_content())
        layout.addWidget(self.stack, 1)

    def _build_empty(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addStretch(2)
        self.empty = empty_state("Open a dataset to begin\n\nFile ▸ Open dataset…, or drop a CSV, "
                                 "Parquet, NumPy file or an image folder onto the window",
                                 "dataEmptyState")
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        row.addStretch(1)
        open_button = name_widget(QPushButton("Open dataset…"), "emptyOpenDataset", "Open dataset")
        open_button.setProperty("role", "primary")
        open_button.clicked.connect(self.openRequested)
        demo_button = name_widget(QPushButton("Try the demo data (iris)"), "openDemoDataset",
                                  "Open the demo dataset")
        demo_button.clicked.connect(self.demoRequested)
        row.addWidget(open_button)
        row.addWidget(demo_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(3)
        return box

    def _build_content(self) -> QWidget:
        # Left: the preview over the column table (and the selected column's distribution), in a
        # splitter, so both keep several rows at 1024×700; right: the choices and the warnings,
        # scrollable when the window is small.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        name_widget(splitter, "dataSplitter", "Data page panes")
        left_split = name_widget(QSplitter(Qt.Orientation.Vertical), "dataLeftSplitter", "Preview and columns")
        left_split.setChildrenCollapsible(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.summary_label = name_widget(QLabel(), "datasetSummary", "Dataset summary")
        self.summary_label.setWordWrap(True)
        left_layout.addWidget(self.summary_label)
        left_layout.addWidget(self._build_format_row())
        left_layout.addWidget(self._build_image_row())
        self.preview_model = DatasetPreviewModel(self)
        self.preview_proxy = QSortFilterProxyModel(self)
        self.preview_proxy.setSourceModel(self.preview_model)
        self.preview_proxy.setSortRole(SORT_ROLE)
        self.preview_proxy.setFilterKeyColumn(-1)
        self.preview_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_edit = name_widget(QLineEdit(), "previewFilter", "Filter rows",
                                       "Show only rows with a cell containing this text")
        self.filter_edit.setPlaceholderText("Filter rows…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.preview_proxy.setFilterFixedString)
        left_layout.addWidget(self.filter_edit)
        self.table = name_widget(QTableView(), "datasetTable", "Dataset preview",
                                 "Click a column header to sort")
        self.table.setModel(self.preview_proxy)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the target and split
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setDefaultSectionSize(110)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(200)  # never scan a million rows
        # A header, four rows and a scroll bar beside the Columns box (it had one row at 1024×700).
        self.table.setMinimumHeight(22 * 4 + 30 + self.table.horizontalScrollBar().sizeHint().height())
        left_layout.addWidget(self.table, 1)
        self.thumbnails = QScrollArea()
        name_widget(self.thumbnails, "imageThumbnails", "Example images per class")
        self.thumbnails.setWidgetResizable(True)
        self.thumbnails.hide()
        left_layout.addWidget(self.thumbnails, 1)
        left_split.addWidget(left)
        left_split.addWidget(self._build_columns_box())
        left_split.setStretchFactor(0, 3)
        left_split.setStretchFactor(1, 2)
        splitter.addWidget(left_split)

        right = QWidget()
        right.setMinimumWidth(280)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 4, 0)
        target_box = QGroupBox("Prediction")
        form = QFormLayout(target_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.target_combo = name_widget(QComboBox(), "targetColumn", "Target column",
                                        "The column the network learns to predict")
        self.target_combo.currentIndexChanged.connect(self._on_target_edited)
        self.target_note = name_widget(QLabel(), "targetNote", "About the target")
        self.target_note.setWordWrap(True)
        self.target_note.setProperty("role", "hint")
        self.target_note.hide()
        self.task_combo = name_widget(QComboBox(), "taskChoice", "Task",
                                      "Auto detects classification or regression from the target")
        self.task_combo.addItems([t.capitalize() for t in TASK_CHOICES])
        self.task_combo.currentIndexChanged.connect(self._on_task_edited)
        self.detected_label = name_widget(QLabel("Detected: —"), "detectedTask", "Detected task")
        form.addRow("Target", self.target_combo)
        form.addRow(self.target_note)
        form.addRow("Task", self.task_combo)
        self.detected_label.setWordWrap(True)
        form.addRow(self.detected_label)  # a row of its own: class lists can be long
        right_layout.addWidget(target_box)

        split_box = QGroupBox("Split")
        split = QFormLayout(split_box)
        split.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.validation_spin = self._fraction_spin("validationFraction", "Validation fraction", 0.2)
        self.test_spin = self._fraction_spin("testFraction", "Test fraction", 0.2, minimum=0.0)
        # The one seed of a search: the split, the networks' initial weights and the tuner.
        self.seed_spin = name_widget(QSpinBox(), "splitSeed", "Random seed",
                                     "Seed for the split, the networks' initial weights and the "
                                     "tuner: the same seed repeats a search")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setMinimumWidth(90)
        self.seed_spin.setValue(1)
        self.seed_spin.setProperty("lastValue", 1)
        self.seed_spin.valueChanged.connect(lambda v: self._on_spin_edited(self.seed_spin, "splitSeed", v))
        split.addRow("Validation", self.validation_spin)
        split.addRow("Test", self.test_spin)
        split.addRow("Seed", self.seed_spin)
        right_layout.addWidget(split_box)
        right_layout.addWidget(self._build_forecast_box())
        right_layout.addWidget(self._build_text_box())

        warn_box = QGroupBox("Warnings")
        warn_layout = QVBoxLayout(warn_box)
        self.warnings_label = name_widget(QLabel(NO_WARNINGS), "profileWarnings", "Data warnings")
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        warn_layout.addWidget(self.warnings_label)
        self.leak_row = QWidget()
        self.leak_layout = QVBoxLayout(self.leak_row)
        self.leak_layout.setContentsMargins(0, 0, 0, 0)
        self.leak_buttons: list[QPushButton] = []
        warn_layout.addWidget(self.leak_row)
        warn_layout.addStretch(1)
        right_layout.addWidget(warn_box, 1)
        right_scroll = name_widget(QScrollArea(), "dataChoices", "Target, split and warnings")
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_scroll.setWidget(right)
        right_scroll.setMinimumWidth(300)
        splitter.addWidget(right_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self._set_tab_order()
        return splitter

    def _build_columns_box(self) -> QWidget:
        """The column table (tick to use, right-click to change a column's kind) and a small
        chart of the selected column's values."""
        columns_box = QGroupBox("Columns")
        columns_layout = QHBoxLayout(columns_box)
        self.columns_model = ColumnsModel(self)
        self.columns_model.usageChangeRequested.connect(self._on_usage_requested)
        self.columns_view = name_widget(QTableView(), "columnList", "Columns",
                                        "Untick a column to leave it out of the model; right-click "
                                        "to treat it as numeric or categorical")
        self.columns_view.setModel(self.columns_model)
        self.columns_view.setTabKeyNavigation(False)
        self.columns_view.verticalHeader().hide()
        self.columns_view.verticalHeader().setDefaultSectionSize(24)
        self.columns_view.setMinimumHeight(24 * 5 + 30)  # a header and five rows, even at the minimum size
        self.columns_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.columns_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.columns_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.columns_view.customContextMenuRequested.connect(self._on_columns_menu)
        self.columns_view.selectionModel().selectionChanged.connect(self._on_column_selected)
        header = self.columns_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        columns_layout.addWidget(self.columns_view, 3)

        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        self.distribution_title = name_widget(QLabel("Select a column to see its values"),
                                              "distributionTitle", "Distribution of the selected column")
        self.distribution_title.setWordWrap(True)
        self.distribution_plot = name_widget(pg.PlotWidget(), "columnDistribution",
                                             "Distribution of the selected column")
        self.distribution_plot.setBackground(None)
        self.distribution_plot.setMinimumSize(170, 120)
        self.distribution_plot.setMouseEnabled(x=False, y=False)
        self.distribution_plot.hideButtons()
        self.distribution_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4a90d9")
        self.distribution_plot.addItem(self.distribution_bars)
        chart_layout.addWidget(self.distribution_title)
        chart_layout.addWidget(self.distribution_plot, 1)
        chart_layout.addStretch(0)  # the title stays at the top while the plot is hidden
        self.distribution_plot.hide()
        columns_layout.addWidget(chart, 2)
        columns_layout.setStretch(0, 5)
        return columns_box

    def _build_forecast_box(self) -> QWidget:
        """Forecasting: the time column that orders rows (split by time), steps ahead, series id."""
        self.forecast_box = QGroupBox("Forecast")
        form = QFormLayout(self.forecast_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.time_combo = name_widget(QComboBox(), "timeColumn", "Time column",
                                      "A column of dates or whole numbers: rows are sorted by it, split by "
                                      "time (the latest period is the test split) and the target is forecast. "
                                      "None: rows are independent and split at random")
        self.horizon_spin = name_widget(QSpinBox(), "forecastHorizon", "Forecast horizon",
                                        "How many steps ahead the network forecasts")
        self.horizon_spin.setRange(1, 1000)
        # Lookback: Auto (two seasonal periods) or a number of steps; a second, larger number makes
        # it a range the search tries (the CLI's --lookback MIN:MAX).
        self.lookback_spin = name_widget(QSpinBox(), "forecastLookback", "Lookback",
                                         "Steps of history each forecast sees (Auto: two seasonal periods, "
                                         "at least 8)")
        self.lookback_spin.setRange(0, 100_000)
        self.lookback_spin.setSpecialValueText("Auto")
        self.lookback_max_spin = name_widget(QSpinBox(), "forecastLookbackMax", "Largest lookback",
                                             "Search the lookback from the first number up to this one "
                                             "(one lookback: leave at —)")
        self.lookback_max_spin.setRange(0, 100_000)
        self.lookback_max_spin.setSpecialValueText("—")
        lookback_row = QWidget()
        lookback_layout = QHBoxLayout(lookback_row)
        lookback_layout.setContentsMargins(0, 0, 0, 0)
        lookback_layout.addWidget(self.lookback_spin, 1)
        lookback_layout.addWidget(QLabel("to"))
        lookback_layout.addWidget(self.lookback_max_spin, 1)
        self.time_note = name_widget(QLabel(), "timeColumnNote", "How the time column was chosen")
        self.time_note.setWordWrap(True)
        self.time_note.hide()
        self.group_combo = name_widget(QComboBox(), "seriesColumn", "Series column",
                                       "A column naming each series when the table holds several "
                                       "(None: the table is one series)")
        self.time_combo.currentIndexChanged.connect(self._show_forecast_choices)
        self.time_combo.activated.connect(self._on_time_column_chosen)
        for signal in (self.time_combo.currentIndexChanged, self.horizon_spin.valueChanged,
                       self.group_combo.currentIndexChanged, self.lookback_spin.valueChanged,
                       self.lookback_max_spin.valueChanged):
            signal.connect(self._on_forecast_choice)
        form.addRow("Time column", self.time_combo)
        form.addRow(self.time_note)
        form.addRow("Horizon", self.horizon_spin)
        form.addRow("Lookback", lookback_row)
        form.addRow("Series", self.group_combo)
        self._show_forecast_choices()
        return self.forecast_box

    def _build_text_box(self) -> QWidget:
        """Text columns: word and character n-grams and vocabulary size (shown while a column is read as text)."""
        self.text_box = QGroupBox("Text")
        form = QFormLayout(self.text_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.ngrams_spin = name_widget(QSpinBox(), "textNgrams", "Word n-grams",
                                       "Word n-grams up to this length join the words of text columns "
                                       "(1: words only, 2: also pairs of neighbouring words)")
        self.ngrams_spin.setRange(1, MAX_NGRAMS)
        self.ngrams_spin.setValue(DEFAULT_NGRAMS)
        self.char_ngrams_spin = name_widget(QSpinBox(), "textCharNgrams", "Character n-grams",
                                            "Each word's character n-grams of this length (from <word>, "
                                            "as fastText) join its tokens, so misspellings and word forms "
                                            "share ids (off: none)")
        self.char_ngrams_spin.setRange(0, MAX_CHAR_NGRAMS)
        self.char_ngrams_spin.setSpecialValueText("off")
        self.char_ngrams_spin.setValue(0)
        self.max_tokens_spin = name_widget(QSpinBox(), "textMaxTokens", "Vocabulary size",
                                           "Each text column keeps this many of its most frequent "
                                           "tokens, learnt from the training rows; the rest are unknown")
        self.max_tokens_spin.setRange(1, 10_000_000)
        self.max_tokens_spin.setSingleStep(1000)
        self.max_tokens_spin.setGroupSeparatorShown(True)
        self.max_tokens_spin.setValue(MAX_TOKENS)
        for spin, key in ((self.ngrams_spin, "textNgrams"), (self.char_ngrams_spin, "textCharNgrams"),
                          (self.max_tokens_spin, "textMaxTokens")):
            spin.setProperty("lastValue", spin.value())
            spin.valueChanged.connect(lambda v, s=spin, k=key: self._on_spin_edited(s, k, v))
        form.addRow("Word n-grams", self.ngrams_spin)
        form.addRow("Character n-grams", self.char_ngrams_spin)
        form.addRow("Vocabulary", self.max_tokens_spin)
        # What the model gets with these settings, on the search's own split (also in the Note column).
        self.text_statistics = name_widget(QLabel(), "textStatistics", "Token statistics")
        self.text_statistics.setWordWrap(True)
        form.addRow(self.text_statistics)
        for setting in (self.ngrams_spin, self.char_ngrams_spin, self.max_tokens_spin, self.validation_spin,
                        self.test_spin, self.seed_spin):
            setting.valueChanged.connect(self._count_tokens)
        self.text_box.hide()
        return self.text_box

    def _show_forecast_choices(self) -> None:
        on = self.time_combo.currentIndex() > 0
        for widget in (self.horizon_spin, self.group_combo, self.lookback_spin, self.lookback_max_spin):
            widget.setEnabled(on)

    def _fill_forecast_choices(self, ds: Any, suggested: str | None = None) -> None:
        """The Forecast box's column lists for a newly loaded table (hidden for other data); a
        ``suggested`` time column (the engine's ``suggest_time_column``) is chosen, and the box
        says so, unless a saved config chooses."""
        columns = ds.columns if ds.kind == "table" else []
        self.time_combo.clear()
        self.time_combo.addItems([NO_TIME_COLUMN, *columns])
        self.group_combo.clear()
        self.group_combo.addItems([ONE_SERIES, *columns])
        self.horizon_spin.setValue(1)
        self.lookback_spin.setValue(0)
        self.lookback_max_spin.setValue(0)
        self.forecast_box.setVisible(ds.kind == "table")
        self.time_note.hide()
        pending, self._forecast_pending = self._forecast_pending, None
        if pending is not None:
            time_column, horizon, group, lookback, lookback_max = pending
            if time_column is not None and time_column in columns:
                self.time_combo.setCurrentText(time_column)
            self.horizon_spin.setValue(horizon)
            self.lookback_spin.setValue(lookback or 0)
            self.lookback_max_spin.setValue(lookback_max or 0)
            if group is not None and group in columns:
                self.group_combo.setCurrentText(group)
        elif suggested is not None and suggested in columns:
            self.time_combo.setCurrentText(suggested)
            self.time_note.setText(f"'{suggested}' looks like time, so the rows are a series: sorted by it, "
                                   "split by time (the latest period is the test split) and the target is "
                                   f"forecast. Choose {NO_TIME_COLUMN} for independent rows.")
            self.time_note.show()
        self._show_forecast_choices()

    @Slot(int)
    def _on_time_column_chosen(self, _index: int) -> None:
        self.time_note.hide()  # the person chose: the note about the detected column is stale

    @Slot()
    def _on_forecast_choice(self, *_args: object) -> None:
        if not self._syncing:
            self._check_forecast()

    def _check_forecast(self) -> None:
        """Checks the chosen time column, horizon and series in the background (the engine's
        check of a forecast's data); a problem goes in the banner and blocks Start."""
        fields = self._forecast_fields()
        if self._dataset is None or self._dataset.kind != "table" or not fields["time_column"] \
                or self._problem:
            self._forecast_checker.cancel()
            self._set_forecast_problem("")
            return
        self._forecast_checker.start(check_time_column, dataset=self._dataset, target=self.target(),
                                     time_column=fields["time_column"], horizon=fields["horizon"],
                                     group=fields["group_column"], lookback=fields["lookback"],
                                     lookback_max=fields["lookback_max"],
                                     validation_fraction=self.validation_spin.value(),
                                     test_fraction=self.test_spin.value())

    @Slot(object)
    def _on_forecast_checked(self, _result: object) -> None:
        self._set_forecast_problem("")

    @Slot(str, str)
    def _on_forecast_check_failed(self, kind: str, message: str) -> None:
        if kind == "cancelled":
            return
        # Only the data's own problems block Start; a failure of the check itself does not (the
        # search reads the data again and says what it finds).
        self._set_forecast_problem(self._without_path(message) if kind == "user" else "")

    def _set_forecast_problem(self, problem: str) -> None:
        """Shows (or clears) the forecast's problem; the window hears of a change by
        ``profileChanged``, as of any other reason Start is blocked."""
        if problem == self._forecast_problem:
            return
        self._forecast_problem = problem
        if problem:
            self.banner.show_message(problem, "error")
        elif not self._problem:
            self.banner.clear()
        self.profileChanged.emit(self._profile_summary())

    def _forecast_fields(self) -> dict[str, Any]:
        time_column = self.time_combo.currentText() if self.time_combo.currentIndex() > 0 else None
        group = self.group_combo.currentText() if self.group_combo.currentIndex() > 0 else None
        lookback = self.lookback_spin.value() or None
        top = self.lookback_max_spin.value()
        return {"time_column": time_column, "horizon": self.horizon_spin.value() if time_column else 1,
                "group_column": group if time_column else None,
                "lookback": lookback if time_column else None,
                "lookback_max": top if time_column and lookback and top > lookback else None}

    def _build_image_row(self) -> QWidget:
        """For an image folder: the size every image is resized to, which the user may change."""
        self.image_row = QWidget()
        row = QHBoxLayout(self.image_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.image_note = name_widget(QLabel(), "imageResizeNote", "How images are read")
        self.image_size_spin = name_widget(QSpinBox(), "imageSize", "Image size",
                                           "Every image is resized to this many pixels per side")
        self.image_size_spin.setRange(8, 512)
        self.image_size_spin.setSingleStep(8)
        self.image_size_spin.setSuffix(" px")
        self.image_size_spin.setValue(self._image_size)
        self.image_size_spin.setKeyboardTracking(False)
        self.image_size_spin.valueChanged.connect(self._on_image_size_edited)
        row.addWidget(self.image_note)
        row.addWidget(QLabel("Size"))
        row.addWidget(self.image_size_spin)
        row.addStretch(1)
        self._show_image_note()
        self.image_row.hide()
        return self.image_row

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [*self.format_combos.values(), self.reload_button, self.image_size_spin,
                                self.filter_edit, self.table, self.target_combo, self.task_combo,
                                self.validation_spin, self.test_spin, self.seed_spin, self.columns_view]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _build_format_row(self) -> QWidget:
        """What was detected about a CSV file, and controls that read it again another way."""
        self.format_row = QWidget()
        name_widget(self.format_row, "csvFormatRow", "CSV format")
        layout = QVBoxLayout(self.format_row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.format_label = name_widget(QLabel("Detected: —"), "csvDetected", "Detected CSV format",
                                        "How the file was read; change it below and press Reload")
        self.format_label.setWordWrap(True)
        layout.addWidget(self.format_label)
        # Two rows of two controls: one row of four would make the window wider than 1024 px.
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.format_combos: dict[str, QComboBox] = {}
        for position, (key, label, choices) in enumerate((("delimiter", "Separator", DELIMITER_CHOICES),
                                                          ("decimal", "Decimal", DECIMAL_CHOICES),
                                                          ("encoding", "Encoding", ENCODING_CHOICES),
                                                          ("header", "Header", HEADER_CHOICES))):
            combo = name_widget(QComboBox(), f"csv{key.capitalize()}", f"CSV {label.lower()}",
                                f"{label} of the CSV file (Auto: detected)")
            for text, value in choices:
                combo.addItem(text, value)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
            caption = QLabel(label)
            caption.setBuddy(combo)
            grid.addWidget(caption, position // 2, 2 * (position % 2))
            grid.addWidget(combo, position // 2, 2 * (position % 2) + 1)
            self.format_combos[key] = combo
        self.reload_button = name_widget(QPushButton("Reload"), "reloadCsv", "Reload the CSV",
                                         "Read the file again with these settings")
        self.reload_button.clicked.connect(self.reload_with_format)
        grid.addWidget(self.reload_button, 0, 4)
        grid.setColumnStretch(5, 1)
        layout.addLayout(grid)
        self.format_row.hide()
        return self.format_row

    def _fraction_spin(self, name: str, label: str, value: float, minimum: float = 0.05) -> QDoubleSpinBox:
        spin = name_widget(QDoubleSpinBox(), name, label)
        spin.setRange(minimum, 0.5)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setMinimumWidth(90)
        spin.setValue(value)
        key = name
        spin.valueChanged.connect(lambda v, s=spin, k=key: self._on_spin_edited(s, k, v))
        spin.setProperty("lastValue", value)
        return spin

    # ----------------------------------------------------------------- state
    @property
    def dataset(self) -> Any:
        return self._dataset

    @property
    def profile(self) -> Any:
        return self._profile

    @property
    def loading(self) -> bool:
        return self._loader.running

    def target(self) -> str | None:
        return self.target_combo.currentText() or None if self.target_combo.isEnabled() else None

    def task(self) -> str:
        return TASK_CHOICES[max(self.task_combo.currentIndex(), 0)]

    def detected_task(self) -> str | None:
        return self._profile.task if self._profile is not None else None

    def start_problem(self) -> str:
        """Why a search cannot start with the data as chosen ("" when it can): the target has a
        single class, is an identifier, is text for a regression, or leaves no feature; or the
        chosen time column, horizon or series cannot be forecast (the engine's one-line message)."""
        return (self._problem or self._forecast_problem) if self._dataset is not None else ""

    def start_fix(self) -> str:
        """Where the user fixes :meth:`start_problem`, in words for after it."""
        if not self._problem and self._forecast_problem:
            return "choose another time column, horizon or series on the Data page, or fix the file"
        return "choose another target on the Data page"

    def config_fields(self) -> dict[str, Any]:
        """The parts of a :class:`SearchConfig` this page decides."""
        return {
            "data_path": self._dataset.path if self._dataset is not None else "",
            "target": self.target() if self._dataset is not None and self._dataset.kind == "table" else None,
            "task": self.task(),
            "exclude_columns": tuple(sorted(self._exclude)),
            "include_columns": tuple(sorted(self._include)),
            "column_kinds": dict(sorted(self._kinds.items())),
            "validation_fraction": round(self.validation_spin.value(), 4),
            "test_fraction": round(self.test_spin.value(), 4),
            "seed": self.seed_spin.value(),
            "image_size": (self._image_size, self._image_size),
            **self._forecast_fields(),
            "ngrams": self.ngrams_spin.value(),
            "char_ngrams": self.char_ngrams_spin.value(),
            "max_tokens": None if self.max_tokens_spin.value() == MAX_TOKENS else self.max_tokens_spin.value(),
            **{f"csv_{key}": self._csv.get(key) for key in CSV_KEYS},
        }

    def apply_config(self, config: Any) -> None:
        """Restores the page from a saved config: opens its data, then its choices."""
        self._pending = {
            "target": config.target, "task": config.task,
            "exclude": set(config.exclude_columns), "include": set(config.include_columns),
            "kinds": dict(config.column_kinds),
        }
        self._syncing = True
        self.validation_spin.setValue(config.validation_fraction)
        self.test_spin.setValue(config.test_fraction)
        self.seed_spin.setValue(config.seed)
        self.ngrams_spin.setValue(config.ngrams)
        self.char_ngrams_spin.setValue(config.char_ngrams)
        self.max_tokens_spin.setValue(config.max_tokens or MAX_TOKENS)
        self._syncing = False
        self._csv = {key: getattr(config, f"csv_{key}", None) for key in CSV_KEYS}
        self._csv = {key: value for key, value in self._csv.items() if value is not None}
        self._image_size = int(config.image_size[0])
        self._forecast_pending = (config.time_column, config.horizon, config.group_column, config.lookback,
                                  config.lookback_max)
        self._syncing = True
        self.image_size_spin.setValue(self._image_size)
        self._syncing = False
        self._show_image_note()
        self._start_loading(config.data_path)

    # ----------------------------------------------------------------- loading
    def open_dataset(self, path: str) -> None:
        """Starts loading ``path`` in the background; the current dataset stays until it succeeds.

        A newly opened file is read with everything detected; :meth:`reload_with_format` reads
        the current one again with the user's separator, decimal mark, encoding or header.
        """
        self._csv = {}
        self._start_loading(path)

    def _start_loading(self, path: str) -> None:
        self.banner.clear()
        self.progress_label.setText(f"Loading {os.path.basename(os.path.normpath(path))}…")
        self.load_progress.setValue(0)
        self._loader.start(load_and_profile, path=str(path), csv=dict(self._csv),
                           image_size=(self._image_size, self._image_size))

    def csv_overrides(self) -> dict[str, Any]:
        """The CSV settings the user chose (keys of ``CSV_KEYS``); absent keys are detected."""
        return dict(self._csv)

    @Slot()
    def reload_with_format(self) -> None:
        """Reads the current CSV again with the format controls' settings, keeping the choices."""
        if self._dataset is None or self._dataset.kind != "table":
            return
        self._csv = {key: combo.currentData() for key, combo in self.format_combos.items()
                     if combo.currentData() is not None}
        self._pending = {
            "target": self.target(), "task": self.task(),
            "exclude": set(self._exclude), "include": set(self._include), "kinds": dict(self._kinds),
        }
        self._start_loading(self._dataset.path)

    @Slot(int)
    def _on_image_size_edited(self, size: int) -> None:
        """Reads the image folder again at the new size, keeping the task."""
        if self._syncing:
            return
        self._image_size = size
        self._show_image_note()
        if self._dataset is not None and self._dataset.kind == "images":
            self._pending = {"target": None, "task": self.task(), "exclude": set(), "include": set()}
            self._start_loading(self._dataset.path)

    def _show_image_note(self) -> None:
        size = self._image_size
        self.image_note.setText(f"Images are resized to {size}×{size} RGB")

    @Slot()
    def cancel_loading(self) -> None:
        if self._loader.running:
            self._loader.cancel()
            self._pending = None
            self.banner.show_message("Loading cancelled; the previous data is unchanged.", "info")

    @Slot(bool)
    def _on_loading_changed(self, running: bool) -> None:
        self.progress_row.setVisible(running)
        self.open_button.setEnabled(not running)

    @Slot(float)
    def _on_load_progress(self, fraction: float) -> None:
        self.load_progress.setValue(int(fraction * 1000))

    @Slot(str, str)
    def _on_load_failed(self, kind: str, message: str) -> None:
        self._pending = None
        if kind == "cancelled":
            self.banner.show_message("Loading cancelled; the previous data is unchanged.", "info")
        else:
            prefix = "" if kind == "user" else "Could not load the data: "
            message = prefix + message
            if self._dataset is not None:
                message += ("" if message.rstrip().endswith(".") else ".") + self._still_open()
            self.banner.show_message(message, "error")
        self.loadFailed.emit(message)

    def _still_open(self) -> str:
        """Says which data stays open after a failed load (the red banner alone reads as if
        the window held no data, or the broken file)."""
        name = os.path.basename(os.path.normpath(self._dataset.path)) if self._dataset is not None else ""
        return f" The open data is still {name}, unchanged."

    @Slot(object)
    def _on_loaded(self, loaded: LoadedData) -> None:
        ds = loaded.dataset
        self._dataset, self._profile = ds, loaded.profile
        self._forecast_checker.cancel()
        self._forecast_problem = ""  # the previous data's; this data's is checked below
        self._exclude, self._include, self._kinds = set(), set(), {}
        # The window drops this page's undo steps for the data before and keeps the network's.
        self.preview_model.set_dataset(ds)
        self._syncing = True
        self.target_combo.clear()
        self.target_combo.addItems(ds.columns)
        self.target_combo.setEnabled(ds.kind == "table")
        if ds.kind != "table":
            self.target_combo.addItem("y (labels)")
        target = loaded.profile.target if loaded.profile is not None else None
        if ds.kind == "table" and target:
            self.target_combo.setCurrentText(target)
        self.target_combo.setProperty("lastValue", target or "")
        self._fill_forecast_choices(ds, loaded.time_column)
        self.task_combo.setCurrentIndex(0)
        self.task_combo.setProperty("lastValue", "auto")
        self._syncing = False
        self._show_media(ds)
        self._show_format(ds)
        self.image_row.setVisible(ds.kind == "images")
        self.stack.setCurrentIndex(1)
        self._problem = self._without_path(loaded.profile.problem if loaded.profile is not None
                                           else loaded.problem)
        self._show_profile()
        if self._problem:
            self.banner.show_message(self._problem, "error")
        self.datasetLoaded.emit({"path": ds.path, "kind": ds.kind, "rows": ds.n_rows,
                                 "columns": ds.columns})
        pending, self._pending = self._pending, None
        if pending:
            self._restore(pending)
        elif loaded.profile is not None:
            self.profileChanged.emit(self._profile_summary())
            self._check_forecast()

    def _restore(self, pending: dict[str, Any]) -> None:
        self._syncing = True
        names = set(self._dataset.columns)
        if pending.get("target") in names and self._dataset.kind == "table":
            self.target_combo.setCurrentText(pending["target"])
            self.target_combo.setProperty("lastValue", pending["target"])
        if pending.get("task") in TASK_CHOICES:
            self.task_combo.setCurrentIndex(TASK_CHOICES.index(pending["task"]))
            self.task_combo.setProperty("lastValue", pending["task"])
        self._syncing = False
        # A reload with another header or separator can rename the columns: keep what still exists.
        self._exclude = set(pending["exclude"]) & names if self._dataset.kind == "table" else set(pending["exclude"])
        self._include = set(pending["include"]) & names if self._dataset.kind == "table" else set(pending["include"])
        self._kinds = {k: v for k, v in pending.get("kinds", {}).items() if k in names}
        self._reprofile()

    def _show_format(self, ds: Any) -> None:
        fmt = getattr(ds, "csv_format", None)
        self.format_row.setVisible(fmt is not None)
        if fmt is None:
            return
        given = [key for key in CSV_KEYS if key in self._csv]
        prefix = "Read as" if given else "Detected"
        self.format_label.setText(f"{prefix}: {fmt.describe()}")
        for key, combo in self.format_combos.items():
            index = combo.findData(self._csv.get(key)) if key in self._csv else 0
            if index < 0:  # an encoding from a saved project that the list does not hold
                combo.addItem(str(self._csv[key]), self._csv[key])
                index = combo.count() - 1
            combo.setCurrentIndex(index)

    def _show_media(self, ds: Any) -> None:
        is_images = ds.x is not None and ds.x.ndim == 4
        self.table.setVisible(not is_images)
        self.filter_edit.setVisible(not is_images)  # it filters the table's rows; images have none
        self.thumbnails.setVisible(is_images)
        if is_images:
            self.thumbnails.setWidget(self._thumbnail_strip(ds))
        if ds.kind == "table":
            text = f"<b>{os.path.basename(ds.path)}</b> — {ds.n_rows:,} rows × {len(ds.columns)} columns"
        else:
            y = ds.y
            ytext = f"y: shape {tuple(y.shape)}, dtype {y.dtype}" if y is not None else "no labels"
            text = (f"<b>{os.path.basename(os.path.normpath(ds.path))}</b> — {ds.kind}: "
                    f"x: shape {tuple(ds.x.shape)}, dtype {ds.x.dtype} · {ytext}")
        self.summary_label.setText(text)

    def _thumbnail_strip(self, ds: Any) -> QWidget:
        import numpy as np

        box = QWidget()
        box.setObjectName("thumbnailStrip")
        layout = QVBoxLayout(box)
        y = ds.y if ds.y is not None else np.zeros(len(ds.x), dtype=int)
        classes = list(ds.class_names) if ds.class_names else [str(v) for v in np.unique(y)]
        keys = range(len(classes)) if ds.class_names else np.unique(y)
        for name, key in zip(classes, keys, strict=False):
            idx = np.flatnonzero(y == key)[:THUMBNAILS_PER_CLASS]
            row = QHBoxLayout()
            label = QLabel(f"<b>{name}</b><br>{int(np.sum(y == key))} images")
            label.setFixedWidth(110)
            row.addWidget(label)
            for i in idx:
                row.addWidget(self._thumbnail(ds.x[i]))
            row.addStretch(1)
            layout.addLayout(row)
        layout.addStretch(1)
        return box

    @staticmethod
    def _thumbnail(image: Any) -> QLabel:
        import numpy as np

        arr = np.asarray(image)
        if arr.dtype != np.uint8:
            lo, hi = float(arr.min()), float(arr.max())
            arr = ((arr - lo) / (hi - lo or 1.0) * 255).astype(np.uint8)
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        arr = np.ascontiguousarray(arr)
        h, w = arr.shape[:2]
        if arr.ndim == 2:
            qimage = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8)
        else:
            arr = np.ascontiguousarray(arr[:, :, :3])
            qimage = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
        label = QLabel()
        label.setPixmap(QPixmap.fromImage(qimage.copy()).scaled(
            56, 56, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        label.setFrameShape(QLabel.Shape.StyledPanel)
        return label

    # ----------------------------------------------------------------- profile
    def _without_path(self, message: str) -> str:
        """A message without the leading data path (the page names the file already)."""
        path = self._dataset.path if self._dataset is not None else ""
        return message.removeprefix(f"{path}: ") if path else message

    def _show_profile(self) -> None:
        profile = self._profile
        self.columns_model.set_profile(profile)
        shown_target = profile.target if profile is not None else self.target()
        self.preview_model.set_target(shown_target)
        self.table.resizeColumnsToContents()
        self._show_target_state(profile)
        self._show_leaks(profile.leaks if profile is not None and not self._problem else ())
        self._show_distribution()
        self.text_box.setVisible(profile is not None and any(c.kind == TEXT for c in profile.feature_columns))
        self._count_tokens()
        if profile is None:
            self.detected_label.setText(f"Detected: — <span style='color:#c0392b'>(the target "
                                        f"'{shown_target}' cannot be used)</span>" if self._problem
                                        else "Detected: —")
            self.warnings_label.setText(f"✖ {self._problem}" if self._problem else NO_WARNINGS)
            return
        if self._problem:
            self.detected_label.setText(
                f"Detected: <span style='color:#c0392b'><b>nothing to search</b> — the target "
                f"'{profile.target}' cannot be used</span>")
        else:
            classes = ""
            if profile.class_names:
                pairs = ", ".join(f"{n} ({c})" for n, c in
                                  zip(profile.class_names[:6], profile.class_counts[:6], strict=False))
                more = "…" if len(profile.class_names) > 6 else ""
                classes = f" — {len(profile.class_names)} classes: {pairs}{more}"
            self.detected_label.setText(f"Detected: <b>{profile.task}</b>{classes}")
        lines = [f"✖ {self._problem}"] if self._problem else []
        lines += [f"⚠ {w}" for w in profile.warnings]
        # What reading changed (empty rows or columns ignored, markers read as missing, another
        # encoding); the delimiter and header notes are already in the format line.
        lines += [f"ℹ {note}" for note in profile.notes
                  if ": read as " not in note and "has no header row" not in note]
        self.warnings_label.setText("\n".join(lines) if lines else NO_WARNINGS)

    @Slot()
    def _count_tokens(self, *_args: object) -> None:
        """Counts, in the background, what a search with the page's settings feeds its model of each
        text column (vocabulary, token lengths with the n-grams, validation out-of-vocabulary rate)."""
        profile = self._profile
        if profile is None or self._problem or not any(c.kind == TEXT for c in profile.feature_columns):
            self._token_counter.cancel()
            self.text_statistics.setText("")
            return
        self.text_statistics.setText("Counting tokens…")
        self._token_counter.start(token_statistics, dataset=self._dataset, profile=profile,
                                  validation_fraction=self.validation_spin.value(),
                                  test_fraction=self.test_spin.value(), seed=self.seed_spin.value(),
                                  ngrams=self.ngrams_spin.value(), max_tokens=self.max_tokens_spin.value(),
                                  char_ngrams=self.char_ngrams_spin.value())

    @Slot(object)
    def _on_token_statistics(self, statistics: Any) -> None:
        self.columns_model.set_notes({s.name: s.describe() for s in statistics})
        self.text_statistics.setText("\n".join(f"{s.name}: {s.describe().removeprefix('text: ')}"
                                               for s in statistics))

    @Slot(str, str)
    def _on_token_count_failed(self, kind: str, message: str) -> None:
        if kind != "cancelled":  # the search reads the data again and says what it finds
            self.text_statistics.setText(f"No token statistics: {self._without_path(message)}")

    def _show_target_state(self, profile: Any) -> None:
        """Marks the target box invalid with the reason, or says why it was chosen."""
        invalid = bool(self._problem) and self._dataset is not None and self._dataset.kind == "table"
        self.target_combo.setProperty("invalid", invalid)
        self.target_combo.setStyleSheet(INVALID_STYLE if invalid else "")
        self.target_combo.setToolTip(self._problem if invalid else "The column the network learns to predict")
        if invalid:
            self.target_note.setText(f"<span style='color:#c0392b'>✖ Cannot be the target: "
                                     f"{self._problem}</span>")
        elif profile is not None and profile.target_reason:
            self.target_note.setText(f"Chosen automatically: {profile.target_reason}")
        else:
            self.target_note.setText("")
        self.target_note.setVisible(bool(self.target_note.text()))

    def _show_leaks(self, leaks: tuple[str, ...]) -> None:
        """One button per likely leak that excludes it (undoable)."""
        for button in self.leak_buttons:
            button.deleteLater()
        self.leak_buttons = []
        previous: QWidget = self.seed_spin
        for name in leaks:
            button = name_widget(QPushButton(f"Exclude '{name}' (likely leak)"), "excludeLeak",
                                 f"Exclude column {name}", f"Leave '{name}' out of the model")
            button.clicked.connect(lambda _checked=False, n=name: self._on_usage_requested(n, False))
            self.leak_layout.addWidget(button)
            button.show()  # now, not after the next event loop pass
            self.leak_buttons.append(button)
            QWidget.setTabOrder(previous, button)
            previous = button
        self.leak_row.setVisible(bool(leaks))

    def _profile_summary(self) -> dict[str, Any]:
        p = self._profile
        problem = self._problem or self._forecast_problem
        if p is None:
            return {"target": self.target(), "task": None, "warnings": [], "problem": problem,
                    "data_kind": self._dataset.kind if self._dataset is not None else None, "rows": 0}
        return {"target": p.target, "task": p.task, "warnings": list(p.warnings),
                "data_kind": p.data_kind, "rows": p.rows, "problem": problem}

    def _reprofile(self) -> None:
        if self._dataset is None:
            return
        self._profiler.start(reprofile, dataset=self._dataset,
                             target=self.target() if self._dataset.kind == "table" else None,
                             task=self.task(), exclude=tuple(sorted(self._exclude)),
                             include=tuple(sorted(self._include)), kinds=dict(self._kinds))

    @Slot(object)
    def _on_profiled(self, profile: Any) -> None:
        self._profile = profile
        self._problem = self._without_path(profile.problem)
        if self._problem or self._forecast_problem:
            self.banner.show_message(self._problem or self._forecast_problem, "error")
        else:
            self.banner.clear()
        self._show_profile()
        self.profileChanged.emit(self._profile_summary())
        self._check_forecast()  # another target: the forecast's check again

    @Slot(str, str)
    def _on_profile_failed(self, kind: str, message: str) -> None:
        if kind == "cancelled":
            return
        # Nothing below may describe the previous choice: the page shows the new one as failed.
        self._profile = None
        self._problem = self._without_path(message)
        self.banner.show_message(self._problem, "error")
        self._show_profile()
        self.profileChanged.emit(self._profile_summary())
        self._check_forecast()

    # ----------------------------------------------------------------- columns
    @Slot(QItemSelection, QItemSelection)
    def _on_column_selected(self, *_args: Any) -> None:
        self._show_distribution()

    def _selected_column(self) -> str | None:
        rows = self.columns_view.selectionModel().selectedRows()
        names = self.columns_model.column_names()
        return names[rows[0].row()] if rows and rows[0].row() < len(names) else None

    def _show_distribution(self) -> None:
        """A histogram (numbers) or the most frequent values (categories) of the selected column."""
        name = self._selected_column()
        ds = self._dataset
        if name is None or ds is None or ds.kind != "table" or name not in ds.frame.columns:
            self.distribution_title.setText("Select a column to see its values")
            self.distribution_bars.setOpts(x=[], height=[])
            self.distribution_plot.hide()  # empty axes would show a made-up 0–1 range
            return
        self.distribution_plot.show()
        kind = self._profile.column(name).kind if self._profile is not None else ""
        dist = column_distribution(ds.frame[name], categorical=kind not in ("numeric",), text=kind == "text")
        self.distribution_title.setText(f"<b>{name}</b>: {dist.title}")
        x = np.arange(len(dist.heights), dtype=float)
        self.distribution_bars.setOpts(x=x, height=np.asarray(dist.heights, dtype=float), width=0.85)
        axis = self.distribution_plot.getAxis("bottom")
        step = max(1, -(-len(dist.labels) // 4))  # at most four labels: they must not overlap
        axis.setTicks([[(float(i), dist.labels[i]) for i in range(0, len(dist.labels), step)]])
        self.distribution_plot.setXRange(-0.6, max(len(x) - 0.4, 0.6), padding=0)
        self.distribution_plot.setYRange(0, max(dist.heights, default=1) * 1.05, padding=0)

    @Slot(QPoint)
    def _on_columns_menu(self, pos: QPoint) -> None:
        index = self.columns_view.indexAt(pos)
        if not index.isValid() or self._profile is None or self._profile.data_kind != "table":
            return
        name = self.columns_model.column_names()[index.row()]
        column = self._profile.column(name)
        if column.kind in ("target", "constant"):
            return
        menu = QMenu(self.columns_view)
        menu.setObjectName("columnKindMenu")
        for label, used in ((f"Use '{name}'", True), (f"Exclude '{name}'", False)):
            action = menu.addAction(label)
            action.setEnabled(used != column.used)
            action.triggered.connect(lambda _c=False, n=name, u=used: self._on_usage_requested(n, u))
        menu.addSeparator()
        for label, kind in (("Treat as numeric", "numeric"), ("Treat as categorical", "categorical"),
                            ("Treat as text (words)", "text"), ("Use the detected kind", None)):
            action = menu.addAction(label)
            action.setCheckable(kind is not None)
            action.setChecked(kind is not None and self._kinds.get(name) == kind)
            action.setEnabled(self._kinds.get(name) != kind)
            action.triggered.connect(lambda _c=False, n=name, k=kind: self._on_kind_requested(n, k))
        menu.popup(self.columns_view.viewport().mapToGlobal(pos))

    def _on_kind_requested(self, name: str, kind: str | None) -> None:
        old = dict(self._kinds)
        new = {k: v for k, v in old.items() if k != name}
        if kind is not None:
            new[name] = kind
        self._undo.push(ValueCommand(f"Column {name}: {kind or 'detected kind'}", self._set_kinds, old, new))

    def _set_kinds(self, kinds: dict[str, str]) -> None:
        self._kinds = dict(kinds)
        self._reprofile()

    # ----------------------------------------------------------------- edits (undoable)
    @Slot(int)
    def _on_target_edited(self, _index: int) -> None:
        if self._syncing or self._dataset is None:
            return
        new = self.target_combo.currentText()
        old = self.target_combo.property("lastValue") or (self._profile.target if self._profile else new)
        self._undo.push(ValueCommand(f"Target {new}", self._set_target, old, new))

    def _set_target(self, value: str) -> None:
        self._syncing = True
        self.target_combo.setCurrentText(value)
        self.target_combo.setProperty("lastValue", value)
        self._syncing = False
        self._reprofile()

    @Slot(int)
    def _on_task_edited(self, index: int) -> None:
        if self._syncing or self._dataset is None:
            return
        old = self.task_combo.property("lastValue") or "auto"
        self._undo.push(ValueCommand(f"Task {TASK_CHOICES[index]}", self._set_task, old,
                                     TASK_CHOICES[index]))

    def _set_task(self, value: str) -> None:
        self._syncing = True
        self.task_combo.setCurrentIndex(TASK_CHOICES.index(value))
        self.task_combo.setProperty("lastValue", value)
        self._syncing = False
        self._reprofile()

    def _on_spin_edited(self, spin: QDoubleSpinBox | QSpinBox, key: str, value: Any) -> None:
        if self._syncing:
            spin.setProperty("lastValue", value)
            return
        old = spin.property("lastValue")

        def apply(v: Any, s: QDoubleSpinBox | QSpinBox = spin) -> None:
            self._syncing = True
            s.setValue(v)
            s.setProperty("lastValue", v)
            self._syncing = False

        self._undo.push(ValueCommand(spin.accessibleName(), apply, old, value, merge_key=key))

    @Slot(str, bool)
    def _on_usage_requested(self, name: str, used: bool) -> None:
        old = (set(self._exclude), set(self._include))
        exclude, include = set(self._exclude), set(self._include)
        if used:
            if name in exclude:
                exclude.discard(name)
            else:
                include.add(name)
        else:
            if name in include:
                include.discard(name)
            else:
                exclude.add(name)
        verb = "Include" if used else "Exclude"
        self._undo.push(ValueCommand(f"{verb} column {name}", self._set_usage, old, (exclude, include)))

    def _set_usage(self, value: tuple[set[str], set[str]]) -> None:
        self._exclude, self._include = set(value[0]), set(value[1])
        self._reprofile()

    def shutdown(self) -> None:
        self._loader.shutdown()
        self._profiler.shutdown()
        self._forecast_checker.shutdown()
        self._token_counter.shutdown()
