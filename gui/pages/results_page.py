"""The Results page: the best trial, its test metrics, a confusion matrix or a
predicted-vs-actual plot, and exporting the best model.

Exporting needs Keras, so it runs ``engine.search.session.export_project`` in a child process
(``call_in_child``) from a worker thread; the page shows the round-trip check's result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.errors import ProjectError
from automl_studio.engine.core.events import SearchFinished
from automl_studio.engine.export.formats import FORMAT_NAMES, RUNTIMES, missing_message
from automl_studio.engine.search.project import finalist_text
from automl_studio.engine.train.baselines import and_list
from automl_studio.engine.train.ensemble import describe_ensemble
from automl_studio.engine.train.evaluation import read_evaluation
from automl_studio.engine.train.forest_record import (
    all_rows_words,
    describe_forest,
    forest_words,
    trained_on,
)
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.pages.baseline_note import BaselineNote, RaceNote
from automl_studio.gui.pages.results_views import EvaluationTabs
from automl_studio.gui.widgets import Banner, empty_state, name_widget, page_header
from automl_studio.gui.workers.tasks import TaskRunner

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
METRIC_LABELS = {
    "accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy",
    "precision_macro": "Precision (macro)", "recall_macro": "Recall (macro)",
    "f1_macro": "F1 (macro)", "roc_auc": "ROC AUC", "rmse": "RMSE", "mae": "MAE", "r2": "R²",
    "loss": "Loss", "n": "Test rows",
}


def model_description(refits: int, ensemble: Mapping[str, Any] | None = None,
                      forest: Mapping[str, Any] | None = None, all_rows: Mapping[str, Any] | None = None) -> str:
    """What the exported model is, from ``search_finished``'s ``refits``, ``ensemble``, ``forest`` and
    ``all_rows`` (e.g. "ensemble of 3 trials (ids 04, 01, 07; weights 3, 1, 1)", "average of 5 refits
    on all 1,234 rows (one seed each)", "random forest of 100 trees (at most 64 leaves each) in Keras
    layers, chosen on 3-fold cross-validation: val_loss 0.21, the best network's 0.25")."""
    if forest and describe_forest(forest):
        return forest_words(forest) + (f"; fitted on {trained_on(all_rows)}" if all_rows_words(all_rows) else "")
    if ensemble and describe_ensemble(ensemble):
        return describe_ensemble(ensemble)
    if refits > 1:
        return f"average of {refits} refits on {trained_on(all_rows)} (one seed each)"
    if refits == 1:
        return f"refit on {trained_on(all_rows)}"
    return "the best trial as trained (no refit)"


def finalists_description(finalists: Sequence[Any], exported: str) -> str:
    """How the folds chose the exported trial among the finalists (the trial store's
    :meth:`~automl_studio.gui.models.trial_store.TrialStore.finalists`, best first), e.g.
    "5-fold cross-validation of 4 finalists, mean val_rmse: trial 12 35.2 ± 2.1, trial 07 36.9 ± 4 (the
    validation split's best)…", and where ``exported`` is not the best mean, why it was chosen
    (the one-standard-error rule: the smallest network within a standard error of the best
    mean), and which smaller finalist was passed over for its folds' spread; "" when there were
    none or they do not include ``exported`` (an older search's finalists)."""
    if not finalists or not any(t.trial_id == exported and t.finalist.get("chosen") for t in finalists):
        return ""

    def one(trial: Any) -> str:
        note = " (the validation split's best)" if trial.finalist.get("validation_best") else ""
        return f"trial {trial.trial_id} {finalist_text(trial.finalist, mark_exported=False)}{note}"

    def size(trial: Any) -> str:
        weights = trial.finalist.get("parameters")
        return f" ({weights:,} weights)" if isinstance(weights, int) else ""

    folds, objective = finalists[0].finalist.get("folds"), finalists[0].finalist.get("objective") or "score"
    text = (f"{folds}-fold cross-validation of {len(finalists)} finalists, mean {objective}: "
            + ", ".join(one(t) for t in finalists))
    if finalists[0].trial_id != exported:
        chosen = next(t for t in finalists if t.trial_id == exported)
        text += (f"; trial {exported} is exported as the smallest network{size(chosen)} within one standard "
                 f"error of the best mean")
    spread = finalists[0].finalist.get("se")  # the best mean's
    for trial in finalists:
        if trial.finalist.get("unsteady") and trial.trial_id != exported:
            se = trial.finalist.get("se")
            wider = (f" (± {se:.2g} against the best mean's ± {spread:.2g})"
                     if isinstance(se, (int, float)) and isinstance(spread, (int, float)) else "")
            text += (f"; trial {trial.trial_id}{size(trial)} is within a standard error of the best mean too, "
                     f"but its folds spread wider{wider}, so it is passed over")
    return text


def run_export(project_dir: str, dest: str, formats: list[str], *, progress: Any,
               cancel: Any, quantize: str = "none") -> dict[str, Any]:
    """Exports the best model in a child process (Keras never loads in the window's process).

    ``formats``: any of ``engine.export.formats.FORMATS``; ``quantize``: TFLite's weights.
    """
    from automl_studio.engine.core.errors import ExportError
    from automl_studio.engine.process.runner import ChildCallError, call_in_child

    try:
        return dict(call_in_child("automl_studio.engine.search.session:export_project",
                                  {"project_dir": project_dir, "dest": dest, "formats": formats,
                                   "quantize": quantize},
                                  timeout=1800))  # each format is checked in a fresh process
    except ChildCallError as exc:
        raise ExportError(str(exc)) from None


def round_trip_text(result: dict[str, Any]) -> str:
    """The export's round-trip check in words, from ``export_model``'s result (its
    ``max_abs_diff``, ``tolerance`` and ``checked_rows``)."""
    rows = int(result.get("checked_rows", 0))
    on_rows = f" on {rows} test row{'' if rows == 1 else 's'}" if rows else ""
    tolerance = float(result.get("tolerance", 1e-4))
    if result.get("verified"):
        return (f"✔ Reloaded and checked: the file's predictions match the search's model to within "
                f"{tolerance:g}{on_rows}.")
    diff = float(result.get("max_abs_diff", float("nan")))
    return (f"✘ Reloaded and checked: the file's predictions differ from the search's model by up to "
            f"{diff:.1e}{on_rows} (more than the {tolerance:g} allowed).")


def _shown_metric(value: Any, key: str) -> TypeGuard[float]:
    """Whether a baseline's ``value`` of test metric ``key`` is a number to show (not the row count)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and key != "n"


def _hint(text: str, name: str, tip: str) -> QLabel:
    """A baseline's figure under a test metric: a small hint label named ``name``."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setProperty("role", "hint")
    label.setToolTip(tip)
    return label


def _format_metric(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}" if abs(value) < 1000 else f"{value:.4g}"


class ConfusionMatrixModel(QAbstractTableModel):
    """Rows are the actual classes, columns the predicted ones; cells shaded by row share."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._matrix: list[list[int]] = []
        self._names: list[str] = []
        self._colour = QColor("#2b6cd4")

    def set_matrix(self, matrix: list[list[int]], names: list[str], colour: QColor) -> None:
        self.beginResetModel()
        self._matrix = [list(map(int, row)) for row in matrix]
        self._names = list(names) or [str(i) for i in range(len(matrix))]
        self._colour = colour
        self.endResetModel()

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._matrix)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._matrix)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._matrix[index.row()][index.column()]
        share = value / max(sum(self._matrix[index.row()]), 1)
        if role == Qt.ItemDataRole.DisplayRole:
            return str(value)
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = QColor(self._colour)
            colour.setAlphaF(0.08 + 0.8 * share)
            return QBrush(colour)
        if role == Qt.ItemDataRole.ForegroundRole and share > 0.55:
            return QBrush(QColor("white"))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"actual {self._names[index.row()]}, predicted {self._names[index.column()]}: "
                    f"{value} ({100 * share:.0f}% of the row)")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or section >= len(self._names):
            return None
        if orientation == Qt.Orientation.Horizontal:
            # Many classes leave narrow columns: the box's title says they are the predictions.
            return self._names[section] if len(self._names) > 4 else "pred. " + self._names[section]
        return "actual " + self._names[section]


class ResultsPage(QWidget):
    """The outcome of the last search and the export of its best model.

    ``trials`` is the window's trial store: the best trial's score is labelled with the
    objective it ranks by, and its row follows a change of objective.

    Signals:
        exportFinished(result): ``export_project``'s dict (``files``, ``verified``,
            ``max_abs_diff``).
        exportFailed(message)
        searchLongerRequested(): the best model does not beat its trivial baseline and the user
            asked to search longer.

    Every test metric is shown with the trivial baseline's value on the same test split; a
    model that does not beat it is flagged in words.
    """

    exportFinished = Signal(dict)
    exportFailed = Signal(str)
    exportRequested = Signal()
    searchLongerRequested = Signal()

    def __init__(self, trials: TrialStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "resultsPage", "Results page")
        self.trials = trials if trials is not None else TrialStore(self)
        self._project_dir: str | None = None
        self._result: SearchFinished | None = None
        self._exporter = TaskRunner(self)
        self._exporter.finished.connect(self._on_exported)
        self._exporter.failed.connect(self._on_export_failed)
        self.exportFinished.connect(self._show_format_checks)
        self._build()
        self.set_result(None, None)
        self.trials.objectiveChanged.connect(self._on_objective_changed)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(page_header("Results", "The model the search exports (its Model line says which), scored "
                                  "on the held-out test split, ready to export."), 1)
        self.h5_check = name_widget(QCheckBox(".h5"), "exportH5", "Export HDF5 (.h5)")
        self.h5_check.setChecked(True)
        self.keras_check = name_widget(QCheckBox(".keras"), "exportKeras", "Export Keras (.keras)")
        self.export_button = name_widget(QPushButton("Export best model…"), "exportModel",
                                         "Export best model",
                                         "Write the best model in the formats ticked below and check each one")
        self.export_button.setProperty("role", "primary")
        self.export_button.clicked.connect(self.exportRequested)
        # Deployment formats beside .h5/.keras; each is checked in a fresh process with its runtime.
        self.deploy_checks: dict[str, QCheckBox] = {}
        for fmt, label in (("savedmodel", "SavedModel"), ("tflite", "TFLite"), ("onnx", "ONNX")):
            box = name_widget(QCheckBox(label), f"export{label}", FORMAT_NAMES[fmt])
            missing = missing_message(fmt)
            box.setEnabled(missing is None)
            box.setToolTip(missing or f"Also write {FORMAT_NAMES[fmt]} and check it with {RUNTIMES[fmt]}")
            self.deploy_checks[fmt] = box
        self.quantize_combo = name_widget(QComboBox(), "exportQuantize", "TFLite quantisation")
        for value, text in (("none", "TFLite: float32"), ("float16", "TFLite: float16"),
                            ("dynamic", "TFLite: 8-bit dynamic")):
            self.quantize_combo.addItem(text, value)
        self.quantize_combo.setToolTip("How TFLite stores the weights: float32 (exact), float16 "
                                       "(half the size) or 8-bit dynamic-range quantisation")
        self.quantize_combo.setEnabled(False)
        self.deploy_checks["tflite"].toggled.connect(self.quantize_combo.setEnabled)
        top.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        # The formats get a row of their own: beside the header they set the window's minimum width.
        formats = QHBoxLayout()
        formats.setSpacing(10)
        formats.addWidget(QLabel("Export as:"))
        for w in (self.h5_check, self.keras_check, *self.deploy_checks.values(), self.quantize_combo):
            formats.addWidget(w)
        formats.addStretch(1)
        layout.addLayout(formats)
        self.banner = Banner("resultsBanner")
        layout.addWidget(self.banner)
        self.baseline_note = BaselineNote("resultsBaseline")
        self.baseline_note.searchLongerRequested.connect(self.searchLongerRequested)
        layout.addWidget(self.baseline_note)
        self.race_note = RaceNote("resultsRace")
        layout.addWidget(self.race_note)
        self.export_status = name_widget(QLabel(), "exportStatus", "Export result")
        self.export_status.setWordWrap(True)
        self.export_status.setContentsMargins(10, 6, 10, 6)
        self.export_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_status.hide()
        layout.addWidget(self.export_status)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty_state("No results yet\n\nRun a search on the Search page; "
                                         "its best network appears here.", "resultsEmptyState"))
        self.tabs = EvaluationTabs(self._build_content())
        self.stack.addWidget(self.tabs)
        layout.addWidget(self.stack, 1)

    def _build_content(self) -> QWidget:
        content = QWidget()
        grid = QHBoxLayout(content)
        grid.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        self.best_box = QGroupBox("Best trial")
        self.best_form = QFormLayout(self.best_box)
        left.addWidget(self.best_box)
        self.metrics_box = QGroupBox("Test metrics")
        self.metrics_grid = QGridLayout(self.metrics_box)
        self.metrics_grid.setHorizontalSpacing(24)
        left.addWidget(self.metrics_box)
        self.files_label = name_widget(QLabel(), "exportedFiles", "Files written by the search")
        self.files_label.setWordWrap(True)
        self.files_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left.addWidget(self.files_label)
        left.addStretch(1)
        # The best trial lists every hyperparameter (30 rows for a repeated block): unscrolled, it
        # made the window's minimum 1245×1157, taller than a 1024×700 screen.
        left_scroll = name_widget(QScrollArea(), "resultsSummaryScroll", "Best trial and test metrics")
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left.setContentsMargins(0, 0, 0, 0)
        left_host = QWidget()
        left_host.setLayout(left)
        left_scroll.setWidget(left_host)
        grid.addWidget(left_scroll, 2)

        self.detail_box = QGroupBox("Confusion matrix (test split)")
        detail = QVBoxLayout(self.detail_box)
        self.detail_stack = QStackedWidget()
        self.confusion_model = ConfusionMatrixModel(self)
        self.confusion_view = name_widget(QTableView(), "confusionMatrix", "Confusion matrix")
        self.confusion_view.setModel(self.confusion_model)
        self.confusion_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.confusion_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.detail_stack.addWidget(self.confusion_view)
        self._regression_host = QWidget()
        self._regression_layout = QVBoxLayout(self._regression_host)
        self._regression_layout.setContentsMargins(0, 0, 0, 0)
        self.detail_stack.addWidget(self._regression_host)
        self.detail_stack.addWidget(empty_state("No test predictions were reported.",
                                                "resultsNoDetail"))
        detail.addWidget(self.detail_stack)
        grid.addWidget(self.detail_box, 3)
        self._regression_plot: Any = None
        return content

    # ----------------------------------------------------------------- results
    def set_result(self, finish: SearchFinished | None, project_dir: str | None) -> None:
        """Shows how a search finished (or, for ``None``, the empty state)."""
        self._result = finish
        self._project_dir = project_dir
        has_best = finish is not None and finish.best_trial_id is not None
        self.export_button.setEnabled(has_best and project_dir is not None)
        self.stack.setCurrentIndex(1 if has_best else 0)
        self.baseline_note.show_for(finish if has_best else None)
        self.race_note.show_race(finish.baselines if finish is not None and has_best else {},
                                 finish.best_score if finish is not None else None,
                                 forest_exported=bool(finish is not None and finish.forest))
        if not has_best or finish is None:
            return
        self._fill_best(finish)
        metrics = dict(finish.test_metrics)
        self._fill_metrics(metrics, dict(finish.baseline_metrics), finish.baselines)
        self._fill_detail(metrics)
        self.files_label.setText("Saved by the search: " + ", ".join(finish.exported)
                                 if finish.exported else "")
        self._show_evaluation(finish, project_dir)

    def _show_evaluation(self, finish: SearchFinished, project_dir: str | None) -> None:
        """The tabs beyond the summary, from the project's ``best/evaluation.json``."""
        try:
            evaluation = read_evaluation(os.path.join(project_dir, "best")) if project_dir else None
        except ProjectError as exc:
            self.tabs.show_evaluation(None, f"The stored evaluation cannot be shown: {exc}")
            return
        if evaluation is not None and evaluation.best_trial_id not in ("", finish.best_trial_id):
            evaluation = None  # an earlier run's model: this run stopped before its evaluation
        self.tabs.show_evaluation(evaluation, (
            "No test evaluation is stored for this search: it ran when a search finishes its refit "
            "and export (a stopped search gets one when its best model is exported)."))

    @Slot(str)
    def _on_objective_changed(self, _name: str) -> None:
        if self._result is not None and self._result.best_trial_id is not None:
            self._fill_best(self._result)

    def _clear_layout(self, layout: Any) -> None:
        while layout.count():
            item = layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.setParent(None)  # gone from findChild at once, not only once deleted
                widget.deleteLater()
            elif item.layout() is not None:  # a metric's card: its labels would stay on screen
                self._clear_layout(item.layout())
                item.layout().deleteLater()

    def _fill_best(self, finish: SearchFinished) -> None:
        self._clear_layout(self.best_form)
        score = finish.best_score
        # (object name, label, value): the score is labelled with its metric and direction.
        rows = [("Trial", "Trial", str(finish.best_trial_id)),
                ("Score", self.trials.objective.describe(),
                 f"{score:.5g}" if isinstance(score, (int, float)) else "—"),
                ("Search", "Search", finish.status)]
        if finish.refits is not None:  # older projects' events do not say
            rows.append(("Model", "Model", model_description(finish.refits, finish.ensemble, finish.forest,
                                                             finish.all_rows)))
        again = all_rows_words(finish.all_rows)
        if again:
            rows.append(("AllRows", "All rows", again[0].upper() + again[1:]))
        chosen_by = finalists_description(self.trials.finalists(), str(finish.best_trial_id))
        if chosen_by:
            rows.append(("ChosenBy", "Chosen by", chosen_by))
        if finish.baseline_metrics.get("rule"):
            rows.append(("Baseline", "Trivial baseline", str(finish.baseline_metrics["rule"])))
        if finish.baselines.get("linear"):
            skipped = str(finish.baselines.get("skipped") or "")
            rows.append(("Linear", "Linear baseline", f"none: {skipped}" if skipped
                         else f"{finish.baselines['linear']} (scikit-learn defaults)"))
        if finish.baselines.get("forest"):
            skipped = str(finish.baselines.get("forest_skipped") or "")
            rows.append(("Forest", "Forest baseline", f"none: {skipped}" if skipped
                         else f"{finish.baselines['forest']} (scikit-learn defaults, 100 trees)"))
        for key, value in self._active(finish.best_hyperparameters).items():
            rows.append((key, key, f"{value:.4g}" if isinstance(value, float) else str(value)))
        for name, label, value in rows:
            text = QLabel(value)
            text.setObjectName(f"best_{name}")
            text.setWordWrap(True)  # long values (the trivial baseline's rule) wrap, not scroll sideways
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.best_form.addRow(label, text)

    def _active(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The best trial's values its network used: KerasTuner also records those of repeat copies
        beyond the trial's count and of skipped layers (the search space says which; without its
        ``search_config.json`` every recorded value is shown)."""
        from automl_studio.engine.core.errors import UserError
        from automl_studio.engine.search.analysis import active_hyperparameters
        from automl_studio.engine.search.project import read_search_document
        from automl_studio.engine.space.spec import SearchSpace

        try:
            document = read_search_document(self._project_dir) if self._project_dir else None
            space = SearchSpace.from_dict(document.space) if document is not None and document.space else None
            return active_hyperparameters(values, space)
        except (UserError, OSError, ValueError, KeyError, TypeError):  # a damaged file: all recorded values
            return active_hyperparameters(values)

    def _fill_metrics(self, metrics: dict[str, Any], baseline: dict[str, Any],
                      baselines: Mapping[str, Any] | None = None) -> None:
        self._clear_layout(self.metrics_grid)
        linear = dict((baselines or {}).get("linear_test_metrics") or {})
        forest = dict((baselines or {}).get("forest_test_metrics") or {})
        below = [name for name, given in (("trivial", baseline), ("linear", linear), ("forest", forest)) if given]
        self.metrics_box.setTitle(f"Test metrics ({and_list(below)} baseline{'s' if len(below) > 1 else ''} below each)"
                                  if below else "Test metrics")
        shown = [(k, v) for k, v in metrics.items() if isinstance(v, (int, float))
                 and not isinstance(v, bool)]
        if not shown:
            self.metrics_grid.addWidget(QLabel("No test metrics (no test split?)"), 0, 0)
        for i, (key, value) in enumerate(shown):
            card = QVBoxLayout()
            number = QLabel(_format_metric(value))
            number.setObjectName(f"metric_{key}")
            number.setAccessibleName(METRIC_LABELS.get(key, key))
            number.setProperty("role", "metricValue")
            name = QLabel(METRIC_LABELS.get(key, key))
            name.setProperty("role", "metricName")
            card.addWidget(number)
            card.addWidget(name)
            base = baseline.get(key)
            if _shown_metric(base, key):
                card.addWidget(_hint(f"baseline {_format_metric(base)}", f"baseline_{key}",
                                     f"The trivial baseline ({baseline.get('rule', '')}) on the same test split"))
            for which, given, model, how in (("linear", linear.get(key), (baselines or {}).get("linear"), ""),
                                            ("forest", forest.get(key), (baselines or {}).get("forest"),
                                             " (100 trees)")):
                if _shown_metric(given, key):
                    card.addWidget(_hint(f"{which} {_format_metric(given)}", f"{which}_{key}",
                                         f"{model} at scikit-learn's defaults{how}, fitted on the training and "
                                         "validation splits, on the same test split"))
            # A forecast's other naive forecasts (the baseline line shows the one the search compares with).
            for rule, naive in dict(baseline.get("naive") or {}).items():
                given = naive.get(key) if isinstance(naive, Mapping) else None
                if rule not in str(baseline.get("rule", "")) and isinstance(given, (int, float)) \
                        and not isinstance(given, bool) and key != "n":
                    other = QLabel(f"{rule} {_format_metric(given)}")
                    other.setObjectName(f"naive_{key}")
                    other.setProperty("role", "hint")
                    other.setToolTip(f"The {rule} forecast of the same test windows")
                    card.addWidget(other)
            self.metrics_grid.addLayout(card, i // 3, i % 3)

    def _fill_detail(self, metrics: dict[str, Any]) -> None:
        matrix = metrics.get("confusion_matrix")
        sample = metrics.get("sample") or {}
        if matrix:
            self.detail_box.setTitle("Confusion matrix (test split: rows actual, columns predicted)")
            colour = self.palette().color(QPalette.ColorRole.Highlight)
            self.confusion_model.set_matrix(matrix, list(metrics.get("class_names") or []), colour)
            self.detail_stack.setCurrentIndex(0)
        elif sample.get("actual"):
            self.detail_box.setTitle("Predicted vs actual (test split)")
            self._plot_regression(sample["actual"], sample["predicted"])
            self.detail_stack.setCurrentIndex(1)
        else:
            self.detail_stack.setCurrentIndex(2)

    def _plot_regression(self, actual: list[float], predicted: list[float]) -> None:
        import pyqtgraph as pg

        if self._regression_plot is None:
            self._regression_plot = pg.PlotWidget()
            self._regression_plot.setObjectName("predictedVsActualPlot")
            self._regression_plot.setAccessibleName("Predicted versus actual")
            item = self._regression_plot.getPlotItem()
            item.setLabel("bottom", "actual")
            item.setLabel("left", "predicted")
            item.showGrid(x=True, y=True, alpha=0.15)
            self._scatter = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(43, 108, 212, 150))
            self._diagonal = item.plot([], [], pen=pg.mkPen("#e07b00", width=2,
                                                            style=Qt.PenStyle.DashLine))
            item.addItem(self._scatter)
            self._regression_layout.addWidget(self._regression_plot)
        self._scatter.setData(x=list(map(float, actual)), y=list(map(float, predicted)))
        lo = min(min(actual), min(predicted))
        hi = max(max(actual), max(predicted))
        self._diagonal.setData([lo, hi], [lo, hi])

    # ----------------------------------------------------------------- export
    def formats(self) -> list[str]:
        formats = [f for f, box in (("h5", self.h5_check), ("keras", self.keras_check),
                                    *self.deploy_checks.items()) if box.isChecked()]
        return formats or ["h5"]

    def quantize(self) -> str:
        """TFLite's quantisation: ``none``, ``float16`` or ``dynamic``."""
        return str(self.quantize_combo.currentData())

    def choose_destination(self, start_dir: str, name: str = "model") -> str | None:
        """Asks where to export, proposing ``<name>.h5`` in ``start_dir`` (``None``: cancelled)."""
        path, _ = QFileDialog.getSaveFileName(self, "Export best model",
                                              os.path.join(start_dir, f"{name}.h5"),
                                              "Keras HDF5 (*.h5);;Keras v3 (*.keras)")
        return path or None

    def export_to(self, dest: str, formats: list[str] | None = None) -> None:
        """Exports the best model to ``dest`` in a child process (results arrive by signal)."""
        if self._project_dir is None:
            self.banner.show_message("Nothing to export yet: run or open a search first.")
            return
        self.banner.clear()
        self._set_export_status(f"Exporting to {dest}…  (Keras loads in a separate process)", "busy")
        self.export_button.setEnabled(False)
        self._exporter.start(run_export, project_dir=self._project_dir, dest=str(dest),
                             formats=list(formats or self.formats()), quantize=self.quantize())

    @property
    def exporting(self) -> bool:
        return self._exporter.running

    @Slot(object)
    def _on_exported(self, result: dict[str, Any]) -> None:
        self.export_button.setEnabled(True)
        files = "\n".join(map(str, result.get("files", [])))
        check = round_trip_text(result)
        self._set_export_status(f"{check}\n{files}", "ok" if result.get("verified") else "bad")
        if self._result is not None:  # a stopped search's export also evaluated its model
            self._show_evaluation(self._result, self._project_dir)
        self.exportFinished.emit(dict(result))

    @Slot(dict)
    def _show_format_checks(self, result: dict[str, Any]) -> None:
        """Adds each format's fresh-process check, in words, under the round-trip line."""
        lines = [str(check.get("words", "")) for check in result.get("checks", [])]
        if lines:
            self.export_status.setText("\n".join([self.export_status.text(), *lines]))

    def _set_export_status(self, text: str, level: str) -> None:
        self.export_status.setProperty("level", level)
        self.export_status.style().unpolish(self.export_status)
        self.export_status.style().polish(self.export_status)
        self.export_status.setText(text)
        self.export_status.show()

    @Slot(str, str)
    def _on_export_failed(self, _kind: str, message: str) -> None:
        self.export_button.setEnabled(True)
        self.export_status.hide()
        self.banner.show_message(f"Export failed: {message}")
        self.exportFailed.emit(message)

    def shutdown(self) -> None:
        self._exporter.shutdown(timeout_ms=60_000)

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)
