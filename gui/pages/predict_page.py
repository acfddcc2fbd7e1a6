"""The Predict page: score new data with an exported model, in the window.

A model is an exported ``.h5`` file (File dialog) or the current search's best model
(``<project>/best/best.h5``). Its metadata (read with h5py, no Keras) says what it reads: for a
table, a form with one field per column of its feature schema lets the user type one row. Data
files (CSV, Parquet, NumPy, an image folder) are scored whole. Scoring loads Keras, so it runs in
an engine child process (``engine.export.predict:predict_for_window``) on a :class:`TaskRunner`
thread; the window only shows the plain results: a sortable, filterable table (rows that cannot
be scored keep their reason in the ``problem`` column), or for images a thumbnail grid with each
predicted class and its confidence. Save as CSV writes what ``automl-studio predict`` writes.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from automl_studio.gui.models.predictions_model import (
    THUMBNAIL,
    PredictionsModel,
    PredictionsProxy,
    ThumbnailModel,
)
from automl_studio.gui.widgets import Banner, empty_state, name_widget, page_header
from automl_studio.gui.workers.tasks import TaskRunner

BEST_MODEL = Path("best") / "best.h5"  # in a search's project folder (engine/search/session.py)
DATA_FILTER = ("Data files (*.csv *.tsv *.txt *.parquet *.pq *.npz *.npy);;"
               "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)")
POLL_S = 0.2  # how often the child's progress file is read
MISSING = "(missing)"  # a categorical field left empty: scored as in training


def run_predict(model_path: str, data_path: str | None = None,
                records: list[dict[str, Any]] | None = None, *, progress: Any,
                cancel: Any) -> dict[str, Any]:
    """Scores a data file or typed rows in an engine child process (Keras never loads here).

    The child keeps the fraction done in a temporary file, which this thread polls for
    ``progress`` while it waits. Returns ``Predictions.to_dict()`` plus ``task``.

    Raises:
        DataError: the data does not fit the model, nothing can be scored, or the engine failed
            (its message, naming the file, row and column).
    """
    from automl_studio.engine.core.errors import DataError
    from automl_studio.engine.process.runner import ChildCallError, call_in_child

    with tempfile.TemporaryDirectory(prefix="automl-predict-") as folder:
        progress_path = os.path.join(folder, "progress")
        kwargs: dict[str, Any] = {"model_path": model_path, "progress_path": progress_path}
        if records is not None:
            kwargs["records"] = records
        else:
            kwargs["data_path"] = data_path
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["value"] = call_in_child("automl_studio.engine.export.predict:predict_for_window",
                                                 kwargs, timeout=3600)
            except ChildCallError as exc:
                outcome["error"] = str(exc)

        worker = threading.Thread(target=call, name="predict-child", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(POLL_S)
            try:
                progress(float(Path(progress_path).read_text(encoding="utf-8")))
            except (OSError, ValueError):
                pass  # not written yet
    if "error" in outcome:
        raise DataError(outcome["error"])
    return dict(outcome["value"])


def describe_model(metadata: dict[str, Any]) -> str:
    """One line: what the model predicts from what, e.g. ``predicts species: one of 3 classes (…) from 4 columns``."""
    kind = metadata.get("input_kind")
    target = metadata.get("target") if kind == "table" else None
    if metadata.get("task") == "classification":
        names = list(metadata.get("class_names") or [])
        shown = ", ".join(map(str, names[:6])) + (", …" if len(names) > 6 else "")
        what = f"predicts {target + ': ' if target else ''}one of {len(names)} classes ({shown})"
    else:
        what = f"predicts {target or 'a value'} (a number)"
    if kind == "table":
        schema = metadata.get("feature_schema") or {}
        n = sum(len(schema.get(part, [])) for part in ("numeric", "categorical", "dates"))
        return f"{what} from {n} column{'s' if n != 1 else ''}"
    if kind == "images":
        height, width, *_ = metadata.get("inputs", {}).get("image", (0, 0))
        return f"{what} from images ({width}×{height})"
    return f"{what} from {kind}"


class PredictPage(QWidget):
    """Scores files, image folders or one typed row with an exported model.

    ``best_model_folder`` returns the current search's project folder (or ``None``); its
    ``best/best.h5`` is what "Use best model" opens.

    Signals:
        modelOpened(path): a model was opened and its form built.
        predictionsReady(result): a data file was scored (``Predictions.to_dict()`` + ``task``).
        rowPredicted(result): the typed row was scored (the same dict, one row).
        failed(message): a model, a file or a row could not be scored (shown in the banner).
    """

    modelOpened = Signal(str)
    predictionsReady = Signal(dict)
    rowPredicted = Signal(dict)
    failed = Signal(str)

    def __init__(self, best_model_folder: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "predictPage", "Predict page")
        self._best_model_folder = best_model_folder or (lambda: None)
        self.model_path: str | None = None
        self.metadata: dict[str, Any] = {}
        self.data_path: str | None = None
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        self._scorer = TaskRunner(self)
        self._scorer.finished.connect(self._on_scored)
        self._scorer.failed.connect(self._on_file_failed)
        self._scorer.runningChanged.connect(self._on_running)
        self._scorer.progressed.connect(self._on_progress)
        self._row_scorer = TaskRunner(self)
        self._row_scorer.finished.connect(self._on_row_scored)
        self._row_scorer.failed.connect(self._on_failed)
        self._row_scorer.runningChanged.connect(lambda busy: self.predict_row_button.setEnabled(
            not busy and self.model_path is not None))
        self._build()
        self._set_model_state()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(page_header("Predict", "Score new data with an exported model: a file, an image "
                                  "folder, or one row typed in."), 1)
        self.open_model_button = name_widget(QPushButton("Open model…"), "openModel", "Open model",
                                             "Open an exported .h5 model")
        self.open_model_button.clicked.connect(self._choose_model)
        self.best_model_button = name_widget(QPushButton("Use best model"), "useBestModel",
                                             "Use the search's best model",
                                             "The best model of the current search (best/best.h5)")
        self.best_model_button.setProperty("role", "primary")
        self.best_model_button.clicked.connect(self.use_best_model)
        for button in (self.open_model_button, self.best_model_button):
            top.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.model_label = name_widget(QLabel(), "predictModel", "The model used")
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.model_label)
        self.banner = Banner("predictBanner")
        layout.addWidget(self.banner)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        self.row_box = QGroupBox("Type one row")
        row_layout = QVBoxLayout(self.row_box)
        row_layout.setContentsMargins(6, 6, 6, 6)
        form_host = QWidget()
        host_layout = QVBoxLayout(form_host)
        host_layout.setContentsMargins(4, 4, 4, 4)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        host_layout.addLayout(self.form)
        self.predict_row_button = name_widget(QPushButton("Predict this row"), "predictRow",
                                              "Predict this row", "Score the values typed above")
        self.predict_row_button.clicked.connect(self.predict_row)
        host_layout.addWidget(self.predict_row_button)
        self.row_result = name_widget(QLabel(), "rowPrediction", "Prediction for the typed row")
        self.row_result.setWordWrap(True)
        self.row_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        host_layout.addWidget(self.row_result)
        host_layout.addStretch(1)
        # Button and answer scroll with the fields: a model of many columns keeps them in reach.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(form_host)
        row_layout.addWidget(scroll, 1)
        self.row_box.setMinimumWidth(230)
        splitter.addWidget(self.row_box)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.open_data_button = name_widget(QPushButton("Open data…"), "openPredictData", "Open data to score",
                                            "A CSV, Parquet or NumPy file, or an image")
        self.open_data_button.clicked.connect(self._choose_data)
        self.open_folder_button = name_widget(QPushButton("Open image folder…"), "openPredictFolder",
                                              "Open an image folder to score")
        self.open_folder_button.clicked.connect(self._choose_folder)
        self.filter_edit = name_widget(QLineEdit(), "predictFilter", "Filter predictions")
        self.filter_edit.setPlaceholderText("Filter rows…")
        self.filter_edit.setClearButtonEnabled(True)
        self.save_button = name_widget(QPushButton("Save as CSV…"), "savePredictions", "Save predictions as CSV")
        self.save_button.clicked.connect(self._choose_output)
        bar.addWidget(self.open_data_button)
        bar.addWidget(self.open_folder_button)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.save_button)
        right_layout.addLayout(bar)
        self.summary = name_widget(QLabel(), "predictSummary", "What was scored")
        self.summary.setWordWrap(True)
        right_layout.addWidget(self.summary)
        self.progress = name_widget(QProgressBar(), "predictProgress", "Scoring progress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        right_layout.addWidget(self.progress)

        self.stack = QStackedWidget()
        self.empty = empty_state("No predictions yet\n\nOpen a model, then a data file or an image "
                                 "folder; or type one row on the left.", "predictEmptyState")
        self.stack.addWidget(self.empty)
        self.model = PredictionsModel(self)
        self.proxy = PredictionsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = name_widget(QTableView(), "predictionsTable", "Predictions")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # file order until a header is clicked
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.stack.addWidget(self.table)
        self.thumbnails = ThumbnailModel(self)
        self.thumbnail_view = name_widget(QListView(), "predictionThumbnails", "Scored images")
        self.thumbnail_view.setViewMode(QListView.ViewMode.IconMode)
        self.thumbnail_view.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.thumbnail_view.setGridSize(QSize(THUMBNAIL + 40, THUMBNAIL + 40))
        self.thumbnail_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.thumbnail_view.setMovement(QListView.Movement.Static)
        self.thumbnail_view.setUniformItemSizes(True)
        self.thumbnail_view.setWordWrap(True)
        self.thumbnail_proxy = QSortFilterProxyModel(self)  # the filter box filters captions too
        self.thumbnail_proxy.setSourceModel(self.thumbnails)
        self.thumbnail_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_edit.textChanged.connect(self.thumbnail_proxy.setFilterFixedString)
        self.thumbnail_view.setModel(self.thumbnail_proxy)
        self.stack.addWidget(self.thumbnail_view)
        right_layout.addWidget(self.stack, 1)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 560])
        layout.addWidget(splitter, 1)

    # ------------------------------------------------------------------ model
    def best_model_path(self) -> str | None:
        """The current search's exported best model, when it exists."""
        folder = self._best_model_folder()
        if not folder:
            return None
        path = Path(folder) / BEST_MODEL
        return str(path) if path.is_file() else None

    def showEvent(self, event: Any) -> None:
        best = self.best_model_path()
        self.best_model_button.setEnabled(best is not None)
        self.best_model_button.setToolTip(f"Open {best}" if best else
                                          "No best model yet: run a search to the end first")
        self._set_model_state()
        super().showEvent(event)

    @Slot()
    def use_best_model(self) -> None:
        """Opens the current search's best model (says so when there is none yet)."""
        path = self.best_model_path()
        if path is None:
            self._fail("No best model yet: run a search to the end (or export it on the Results page), "
                       "or open an exported .h5 model.")
            return
        self.open_model(path)

    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._start_dir(),
                                              "Keras HDF5 model (*.h5 *.hdf5);;All files (*)")
        if path:
            self.open_model(path)

    def open_model(self, path: str) -> bool:
        """Reads a model's metadata (no Keras) and builds the one-row form; False if it is unusable."""
        from automl_studio.engine.core.errors import UserError
        from automl_studio.engine.export.model_info import read_metadata

        try:
            metadata = read_metadata(Path(path))
        except UserError as exc:
            self._fail(str(exc))
            return False
        except OSError as exc:
            self._fail(f"{path}: cannot read the model ({exc.strerror or exc})")
            return False
        if not metadata or "task" not in metadata:
            self._fail(f"{path}: not an automl-studio model (no metadata); its input columns are unknown")
            return False
        self.banner.clear()
        self.model_path, self.metadata = str(path), metadata
        self._scorer.cancel()
        self._show_predictions(None)
        self._build_form()
        self._set_model_state()
        self.modelOpened.emit(self.model_path)
        return True

    def _set_model_state(self) -> None:
        has = self.model_path is not None
        table = self.metadata.get("input_kind") == "table"
        if has:
            assert self.model_path is not None
            self.model_label.setText(f"<b>{Path(self.model_path).name}</b> — {describe_model(self.metadata)}"
                                     f"<br><span style='color:#6b7280'>{self.model_path}</span>")
        else:
            self.model_label.setText(
                "No model open. Open an exported .h5 model, or use the best model of the current search."
                if self.best_model_path() else
                "No model open. Open an exported .h5 model (a search run to its end offers its best model here).")
        self.row_box.setVisible(not has or table)
        self.predict_row_button.setEnabled(has and table)
        self.open_data_button.setEnabled(has)
        self.open_folder_button.setEnabled(has and self.metadata.get("input_kind") == "images")
        self.open_folder_button.setVisible(not has or self.metadata.get("input_kind") == "images")
        self.save_button.setEnabled(self.model.rowCount() > 0)

    def _build_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        self.row_result.clear()
        schema = self.metadata.get("feature_schema") or {}
        for feature in schema.get("numeric", []):
            edit = QLineEdit()
            name = feature["name"]
            edit.setPlaceholderText(f"{feature['fill']:g} if empty")
            edit.returnPressed.connect(self.predict_row)
            self.fields[name] = name_widget(edit, f"field_{name}", f"Value of {name}",
                                            f"A number; empty is read as {feature['fill']:g}, as in training")
            self.form.addRow(f"{name}", edit)
        for feature in schema.get("categorical", []):
            combo = QComboBox()
            name = feature["name"]
            combo.addItem(MISSING, "")
            for value in feature["vocabulary"]:
                combo.addItem(str(value), str(value))
            for value in feature.get("rare", []):  # seen in fewer than 3 training rows: one shared code
                combo.addItem(f"{value} (rare)", str(value))
            rare = " (rare: seen in fewer than 3 training rows, scored alike)" if feature.get("rare") else ""
            self.fields[name] = name_widget(combo, f"field_{name}", f"Value of {name}",
                                            f"One of the values seen in training{rare}")
            self.form.addRow(f"{name}", combo)
        for feature in schema.get("dates", []):
            edit = QLineEdit()
            name = feature["name"]
            edit.setPlaceholderText("a date, e.g. 2024-03-05" + (" 14:30" if "hour" in feature["parts"] else ""))
            edit.returnPressed.connect(self.predict_row)
            self.fields[name] = name_widget(edit, f"field_{name}", f"Value of {name}",
                                            "A date (and time); the model reads its calendar parts")
            self.form.addRow(f"{name}", edit)

    def set_field(self, name: str, value: str) -> None:
        """Types ``value`` into the form's field for column ``name`` (a category picks its entry)."""
        field = self.fields[name]
        if isinstance(field, QComboBox):
            at = field.findData(value)
            field.setCurrentIndex(at if at >= 0 else 0)
        else:
            field.setText(value)

    def typed_row(self) -> dict[str, str]:
        """The form's values by column name (empty for a value left out)."""
        return {name: (field.currentData() or "") if isinstance(field, QComboBox) else field.text()
                for name, field in self.fields.items()}

    @Slot()
    def predict_row(self) -> None:
        """Scores the typed row in the background; the result appears under the form."""
        if self.model_path is None or not self.fields:
            return
        self.row_result.setText("Scoring…")
        self._row_scorer.start(run_predict, model_path=self.model_path, records=[self.typed_row()])

    # ------------------------------------------------------------------ data
    def _start_dir(self) -> str:
        for path in (self.data_path, self.model_path):
            if path:
                return str(Path(path).parent)
        return os.path.expanduser("~")

    def _choose_data(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open data to score", self._start_dir(), DATA_FILTER)
        if path:
            self.score_file(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an image folder to score", self._start_dir())
        if path:
            self.score_file(path)

    def score_file(self, path: str) -> None:
        """Scores a data file or an image folder in the background with the open model."""
        if self.model_path is None:
            self._fail("Open a model first (Open model… or Use best model).")
            return
        self.banner.clear()
        self.data_path = str(path)
        self.summary.setText(f"Scoring {Path(path).name}…")
        self._scorer.start(run_predict, model_path=self.model_path, data_path=str(path))

    def _on_running(self, busy: bool) -> None:
        self.progress.setRange(0, 0)  # busy until the child says how far it is
        self.progress.setVisible(busy)
        self.open_data_button.setEnabled(not busy and self.model_path is not None)

    def _on_progress(self, fraction: float) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * fraction))

    def _on_scored(self, result: dict[str, Any]) -> None:
        self._show_predictions(result)
        self.predictionsReady.emit(result)

    def _show_predictions(self, result: dict[str, Any] | None) -> None:
        if result is None:
            self.model.clear()
            self.thumbnails.set_predictions({"keys": [], "labels": [], "proba": None, "problems": []})
            self.stack.setCurrentWidget(self.empty)
            self.summary.clear()
            self.save_button.setEnabled(False)
            return
        self.model.set_predictions(result)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        problem = 2  # the model's column of reasons, beside the prediction it replaces
        self.table.setColumnHidden(problem, not any(result.get("problems") or []))
        self.table.resizeColumnsToContents()
        for c in range(self.model.columnCount()):
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), 320 if c == problem else 140))
        images = bool(result["keys"]) and isinstance(result["keys"][0], str)
        if images:
            self.thumbnails.set_predictions(result)
            self.stack.setCurrentWidget(self.thumbnail_view)
        else:
            self.stack.setCurrentWidget(self.table)
        n, scored = len(result["keys"]), self.model.n_scored()
        name = Path(self.data_path).name if self.data_path else "the data"
        text = f"<b>{name}</b>: {scored} of {n} {'images' if images else 'rows'} scored"
        if scored < n:
            text += (f" · <span style='color:#b42318'>{n - scored} not scored</span>"
                     f"{'' if images else ' (why: the problem column)'}")
        self.summary.setText(text)
        notes = [*result.get("warnings", []), *result.get("notes", [])]
        self.summary.setToolTip("\n".join(notes))
        warnings = list(result.get("warnings", []))
        if warnings:
            # One line per problem and column, as the command line says them.
            more = f"\n… and {len(warnings) - 4} more (see the tooltip of the line above the table)" \
                if len(warnings) > 4 else ""
            self.banner.show_message("\n".join(warnings[:4]) + more, "warning")
        self.save_button.setEnabled(n > 0)

    def _on_row_scored(self, result: dict[str, Any]) -> None:
        label = result["labels"][0]
        if label is None:
            problems = result.get("problems") or [""]
            self.row_result.setText(f"<span style='color:#b42318'>Not scored: {problems[0]}</span>")
        elif result.get("proba") is not None:
            ranked = sorted(zip(result["class_names"], result["proba"][0], strict=True),
                            key=lambda pair: -(pair[1] or 0.0))
            lines = "".join(f"<br>{name}: {100 * (p or 0.0):.1f} %" for name, p in ranked)
            self.row_result.setText(f"<b>Prediction: {label}</b> ({100 * (ranked[0][1] or 0.0):.1f} %){lines}")
        else:
            self.row_result.setText(f"<b>Prediction: {label:.6g}</b>" if isinstance(label, float)
                                    else f"<b>Prediction: {label}</b>")
        self.rowPredicted.emit(result)

    def _on_file_failed(self, kind: str, message: str) -> None:
        if kind != "cancelled":
            self._show_predictions(None)  # not the previous file's rows under this file's name
        self._on_failed(kind, message)

    def _on_failed(self, kind: str, message: str) -> None:
        if kind == "cancelled":
            return
        self.summary.clear()
        self.row_result.clear()
        self._fail(message if kind == "user" else f"Scoring failed: {message}")

    def _fail(self, message: str) -> None:
        self.banner.show_message(message)
        self.failed.emit(message)

    # ------------------------------------------------------------------ save
    def _choose_output(self) -> None:
        start = self.data_path or self.model_path or os.path.expanduser("~/predictions.csv")
        suggested = str(Path(start).with_name(Path(start).stem + ".predictions.csv"))
        path, _ = QFileDialog.getSaveFileName(self, "Save predictions", suggested, "CSV (*.csv)")
        if path:
            self.save_csv(path)

    def save_csv(self, path: str) -> bool:
        """Writes the predictions shown (every row, in file order) as CSV; False and a message on failure."""
        try:
            out = self.model.save_csv(path)
        except OSError as exc:
            self._fail(f"{path}: cannot write predictions ({exc.strerror or exc})")
            return False
        self.banner.show_message(f"Saved {out}", "info")
        return True

    def shutdown(self) -> None:
        """Stops background scoring (call before the window closes)."""
        self._scorer.shutdown()
        self._row_scorer.shutdown()
