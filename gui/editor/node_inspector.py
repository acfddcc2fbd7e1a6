"""The inspector: every param of the selected layer as a fixed value or a search range.

Each param has one :class:`ParamEditor` (objectName ``param_<name>``) with a *Search* toggle:
off, the param is one value; on, it is a hyperparameter — an integer range (min, max, step), a
float range (min, max, step, log scale), a list of values, a choice among the allowed options, or
"both" for a boolean. Switching to *Search* fills in a sensible range around the current value.
A param that only matters for one value of another (``ParamDef.shown_if``, e.g. a Backbone's
weights file) has its row only while that value is chosen or searched; a file's path has a
Browse… button. Long messages wrap inside the panel, which never grows wider than its dock.
The inspector also makes a layer optional, groups a selected chain into a repeat block, and shows
the size of the whole space. It emits what the user asked for; the editor makes the undo command.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.space.losses import LABEL_SMOOTHING_MAX, LOSSES
from automl_studio.engine.space.optimizers import (
    OPTIMIZER_SETTINGS,
    OPTIMIZER_TYPES,
    optimizers_taking,
)
from automl_studio.engine.space.registry import (
    ACTIVATIONS,
    LAYER_TYPES,
    ParamDef,
    param_shown,
)
from automl_studio.engine.space.spec import (
    CLASS_WEIGHTS,
    LR_SCHEDULES,
    OPTIMIZERS,
    TRAINING_DEFAULTS,
)
from automl_studio.engine.space.templates import NUMERIC_BINS
from automl_studio.gui.settings_store import default_directory

INT_LIMIT = 10_000_000
TRAINING_PARAMS = (
    ParamDef("optimizer", "choice", "adam", OPTIMIZERS,
             doc="How the weights are updated from the gradients; Adam is the usual first choice."),
    ParamDef("learning_rate", "float", 1e-3, min=1e-6, max=10.0,
             doc="The size of each update step; too large diverges, too small barely learns."),
    ParamDef("lr_schedule", "choice", "constant", LR_SCHEDULES,
             doc="How the learning rate changes during training (cosine decay, warm-up, restarts, "
                 "or halved when the validation loss stalls)."),
    ParamDef("batch_size", "int", 32, min=1, max=65536,
             doc="Rows per update step; smaller batches give noisier, more frequent updates."),
    ParamDef("l1", "float", 0.0, min=0.0, max=1.0, doc="Penalty on the weights' absolute size (sparser weights)."),
    ParamDef("l2", "float", 0.0, min=0.0, max=1.0, doc="Penalty on the weights' squared size (smaller weights)."),
    ParamDef("clipnorm", "float", 0.0, min=0.0, max=100.0,
             doc="Scales each gradient down to this norm when it is larger (0: no clipping)."),
    ParamDef("clipvalue", "float", 0.0, min=0.0, max=100.0,
             doc="Cuts each gradient value to ± this (0: no clipping)."),
    ParamDef("loss", "choice", "auto", LOSSES,
             doc="What training minimises: auto is cross-entropy for classes and MSE for numbers; focal "
                 "loss favours hard (often rare-class) rows; MAE, Huber and log-cosh mind outliers less."),
    ParamDef("label_smoothing", "float", 0.0, min=0.0, max=LABEL_SMOOTHING_MAX,
             doc="Moves the targets s of the way from 1 and 0 towards an even share per class, so the "
                 "model is less over-confident."),
    ParamDef("class_weight", "choice", "none", CLASS_WEIGHTS,
             doc="Balanced makes each class weigh the same in the loss in total, so a rare class is not "
                 "ignored (searched by default when a class is rare)."),
    ParamDef("min_delta", "float", 0.0, min=0.0, max=1e6, searchable=False,
             doc="Early stopping counts an epoch as better only when the objective improves by more "
                 "than this (in the objective's units)."),
    ParamDef("restore_best_weights", "bool", True, searchable=False,
             doc="When early stopping ends a trial, it keeps the weights of its best epoch rather than "
                 "its last."),
    *OPTIMIZER_SETTINGS.values(),
)
PATH_FILTERS = {"weights_file": "Weights (*.h5 *.weights.h5);;All files (*)"}
"""The file dialog's filters for a kind-``path`` param (others: all files)."""
BASIC_TRAINING = ("optimizer", "learning_rate", "batch_size")
"""The training settings always shown; the others are in the collapsible Advanced section."""


TRAINING_LABELS = {"optimizer": "Optimizer", "learning_rate": "Learning rate", "lr_schedule": "LR schedule",
                   "batch_size": "Batch size", "l1": "L1 penalty", "l2": "L2 penalty",
                   "clipnorm": "Clip gradient norm", "clipvalue": "Clip gradient value",
                   "loss": "Loss", "label_smoothing": "Label smoothing", "class_weight": "Class weights",
                   "min_delta": "Stop: least gain", "restore_best_weights": "Keep best epoch",
                   "momentum": "Momentum", "nesterov": "Nesterov", "beta_1": "β₁", "beta_2": "β₂",
                   "epsilon": "ε", "weight_decay": "Weight decay", "rho": "ρ"}


def training_shown(name: str, training: dict[str, Any]) -> tuple[bool, Any]:
    """Whether the training box shows setting ``name`` for a spec's ``training`` section, and the
    value it shows: an optimizer's setting only while a chosen optimizer takes it, its default
    that optimizer's own; an absent learning rate is the optimizer's starting rate."""
    optimizer = training.get("optimizer", TRAINING_DEFAULTS["optimizer"])
    chosen = tuple(optimizer["values"]) if isinstance(optimizer, dict) else (optimizer,)
    chosen = tuple(c for c in chosen if c in OPTIMIZER_TYPES)
    if name in OPTIMIZER_SETTINGS:
        takers = optimizers_taking(name, chosen)
        if not takers:
            return False, OPTIMIZER_SETTINGS[name].default
        return True, training.get(name, OPTIMIZER_TYPES[takers[0]].default(name))
    if name == "learning_rate" and name not in training and chosen:
        return True, OPTIMIZER_TYPES[chosen[0]].learning_rate
    return True, training.get(name, TRAINING_DEFAULTS[name])


ZERO_WIDTH_SPACE = "\u200b"


def breakable(text: str) -> str:
    """``text`` with a zero-width space after each '/', '_' and '.', where a word-wrapped label
    may then break a long path, file name or call (for display only: the spaces are invisible
    but are part of the text)."""
    for mark in ("/", "_", "."):
        text = text.replace(mark, mark + ZERO_WIDTH_SPACE)
    return text


def _fit_width(label: QLabel) -> QLabel:
    """Makes a word-wrapped label take the width its layout gives it, never ask for more: a
    word longer than the panel is cut rather than widening the whole inspector."""
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    label.setMinimumWidth(0)
    return label


def default_search(pdef: ParamDef, current: Any) -> dict[str, Any]:
    """A sensible hyperparameter around the current value, one click away."""
    if pdef.name == "bins":  # an Input's numeric encoding: standardised against the template's bins
        return {"hp": "choice", "values": list(NUMERIC_BINS)}
    if pdef.kind == "bool":
        return {"hp": "bool"}
    if pdef.kind == "choice":
        others = [c for c in pdef.choices if c != current]
        if pdef.choices == ACTIVATIONS:
            others = [c for c in ("relu", "gelu", "swish") if c != current]
        return {"hp": "choice", "values": [current, *others[:2]]}
    lo_bound = pdef.min if pdef.min is not None else -math.inf
    hi_bound = pdef.max if pdef.max is not None else math.inf
    if pdef.kind == "int":
        value = int(current)
        if value >= 16 and value % 16 == 0:
            lo, hi, step = max(16, value // 4 // 16 * 16), value * 4, 16
        elif value >= 8:
            lo, hi, step = max(1, value // 2), value * 2, 1
        else:
            lo, hi, step = max(1, value - 2), value + 2, 1
        lo, hi = int(max(lo_bound, lo)), int(min(hi_bound, hi))
        if lo >= hi:
            lo, hi = int(max(lo_bound, value - 1)), int(min(hi_bound, value + 1))
        return {"hp": "int", "min": lo, "max": hi, "step": step if (hi - lo) % step == 0 else 1}
    number = float(current)
    if 0 <= lo_bound and hi_bound <= 1.0:  # a rate or a factor
        return {"hp": "float", "min": float(lo_bound), "max": float(min(hi_bound, max(0.5, number * 2))),
                "log": False}
    if number > 0:
        return {"hp": "float", "min": float(max(lo_bound, number / 10)), "max": float(min(hi_bound, number * 10)),
                "log": True}
    return {"hp": "float", "min": float(max(lo_bound, 0.0)), "max": float(min(hi_bound, 1.0)), "log": False}


def _fixed_from(pdef: ParamDef, value: Any) -> Any:
    """The fixed value a hyperparameter falls back to when its search is switched off."""
    if isinstance(value, Mapping):
        kind = value.get("hp")
        if kind in ("int", "float"):
            return value["min"] if pdef.kind != "int" else int(value["min"])
        if kind == "choice" and value.get("values"):
            return value["values"][0]
        return pdef.default
    return value


def _parse_list(text: str, kind: str) -> list[Any] | None:
    items = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    if not items:
        return None
    try:
        values = [int(t) if kind == "int" else float(t) for t in items]
    except ValueError:
        return None
    return list(dict.fromkeys(values))


class FloatBox(QDoubleSpinBox):
    """A float spin box that writes ``0.0001`` and ``0.5``, not ``0.000100`` and ``0.500000``."""

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(9)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        if stripped in ("", "-", ".", "-.") or stripped.lower().endswith(("e", "e-")):
            return (QValidator.State.Intermediate, text, pos)
        try:
            value = float(stripped.replace(",", "."))
        except ValueError:
            return (QValidator.State.Invalid, text, pos)
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate, text, pos)


class _Pages(QWidget):
    """Two pages where only the shown one takes room (a QStackedWidget sizes to the largest)."""

    def __init__(self) -> None:
        super().__init__()
        self._pages: list[QWidget] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def addWidget(self, page: QWidget) -> None:
        self._pages.append(page)
        self._layout.addWidget(page)
        page.setVisible(len(self._pages) == 1)

    def setCurrentIndex(self, index: int) -> None:
        for i, page in enumerate(self._pages):
            page.setVisible(i == index)

    def currentIndex(self) -> int:
        return next((i for i, p in enumerate(self._pages) if not p.isHidden()), 0)


class ParamEditor(QWidget):
    """One param: a fixed-value editor and a search editor, switched by a *Search* toggle.

    Signals:
        changed(object): the param's new JSON value (a fixed value or an ``{"hp": ...}`` dict).
    """

    changed = Signal(object)

    def __init__(self, pdef: ParamDef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pdef = pdef
        n = f"param_{pdef.name}"
        self.setObjectName(n)
        self.setAccessibleName(pdef.name.replace("_", " "))
        self._value: Any = pdef.default
        self.stack = _Pages()
        self.stack.setObjectName(f"{n}_stack")
        self.search = QToolButton()
        self.search.setObjectName(f"{n}_search")
        self.search.setAccessibleName(f"Search {pdef.name.replace('_', ' ')}")
        self.search.setText("Search")
        self.search.setCheckable(True)
        self.search.setToolTip("Let the search try several values of this param")
        self.search.setEnabled(pdef.kind not in ("ints", "path"))
        self.search.toggled.connect(self._on_search_toggled)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.stack, 1)
        row.addWidget(self.search, 0, Qt.AlignmentFlag.AlignTop)
        self.stack.addWidget(self._fixed_page(n))
        self.stack.addWidget(self._search_page(n))

    # -- building
    def _named(self, widget: QWidget, suffix: str, accessible: str) -> QWidget:
        widget.setObjectName(f"param_{self.pdef.name}_{suffix}")
        widget.setAccessibleName(f"{self.pdef.name.replace('_', ' ')} {accessible}")
        return widget

    def _int_box(self, suffix: str, accessible: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(int(self.pdef.min) if self.pdef.min is not None else -INT_LIMIT,
                     int(self.pdef.max) if self.pdef.max is not None else INT_LIMIT)
        box.setKeyboardTracking(False)
        box.setAccelerated(True)
        self._named(box, suffix, accessible)
        box.valueChanged.connect(self._emit)
        return box

    def _float_box(self, suffix: str, accessible: str, minimum: float | None = None) -> QDoubleSpinBox:
        box = FloatBox()
        box.setRange(minimum if minimum is not None else (self.pdef.min if self.pdef.min is not None else -1e9),
                     self.pdef.max if self.pdef.max is not None else 1e9)
        box.setSingleStep(0.05 if (self.pdef.max or 10) <= 1 else 0.001)
        box.setKeyboardTracking(False)
        self._named(box, suffix, accessible)
        box.valueChanged.connect(self._emit)
        return box

    def _fixed_page(self, n: str) -> QWidget:
        kind = self.pdef.kind
        if kind == "int":
            self.value_box: QWidget = self._int_box("value", "value")
        elif kind == "float":
            self.value_box = self._float_box("value", "value")
        elif kind == "choice":
            combo = QComboBox()
            for c in self.pdef.choices:
                combo.addItem(str(c), c)
            combo.currentIndexChanged.connect(self._emit)
            self.value_box = self._named(combo, "value", "value")
        elif kind == "bool":
            check = QCheckBox("on")
            check.toggled.connect(self._emit)
            self.value_box = self._named(check, "value", "value")
        elif kind == "path":
            line = QLineEdit()
            line.setPlaceholderText("path of a file")
            line.editingFinished.connect(self._emit)
            self.value_box = self._named(line, "value", "value")
            self.browse = QPushButton("Browse…")
            self._named(self.browse, "browse", "browse for the file")
            self.browse.setToolTip("Choose the file in a file dialog")
            self.browse.clicked.connect(self._on_browse)
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(4)
            row.addWidget(line, 1)
            row.addWidget(self.browse)
            self.search.hide()  # a path is never searched: its room goes to the path
            return page
        else:  # "ints": a shape
            line = QLineEdit()
            line.setPlaceholderText("e.g. -1, 8")
            line.editingFinished.connect(self._emit)
            self.value_box = self._named(line, "value", "value")
        return self.value_box

    def _search_page(self, n: str) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        kind = self.pdef.kind
        if kind in ("int", "float"):
            self.mode = QComboBox()
            self.mode.addItem("range", "range")
            self.mode.addItem("values", "values")
            self._named(self.mode, "mode", "search mode")
            self.mode.currentIndexChanged.connect(self._on_mode)
            layout.addWidget(self.mode)
            self.range_page = QWidget()
            grid = QGridLayout(self.range_page)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setHorizontalSpacing(4)
            grid.setVerticalSpacing(4)
            if kind == "int":
                self.min_box: Any = self._int_box("min", "minimum")
                self.max_box: Any = self._int_box("max", "maximum")
                self.step_box: Any = self._int_box("step", "step")
                # Silently: for a param whose minimum is 0 the step moves 0 → 1, and the change
                # would be emitted before this page's widgets exist.
                blocker = QSignalBlocker(self.step_box)
                self.step_box.setRange(1, INT_LIMIT)
                del blocker
            else:
                self.min_box = self._float_box("min", "minimum")
                self.max_box = self._float_box("max", "maximum")
                self.step_box = self._float_box("step", "step (0: continuous)", minimum=0.0)
                self.step_box.setSpecialValueText("any")
            # One field a row: a narrow inspector still shows a whole 0.0001 in each.
            for i, (label, box) in enumerate((("min", self.min_box), ("max", self.max_box),
                                              ("step", self.step_box))):
                tag = QLabel(label)
                tag.setProperty("role", "hint")
                box.setMinimumWidth(max(90, box.fontMetrics().horizontalAdvance("0.00001") + 40))
                grid.addWidget(tag, i, 0)
                grid.addWidget(box, i, 1)
            grid.setColumnStretch(1, 1)
            if kind == "float":
                self.log_box = QCheckBox("log scale")
                self._named(self.log_box, "log", "log scale")
                self.log_box.toggled.connect(self._emit)
                grid.addWidget(self.log_box, 3, 1)
            layout.addWidget(self.range_page)
            self.range_error = QLabel()
            self.range_error.setWordWrap(True)
            self.range_error.setStyleSheet("color: #E5484D;")
            self._named(self.range_error, "rangeError", "range problem")
            self.range_error.hide()
            layout.addWidget(self.range_error)
            self.values_line = QLineEdit()
            self.values_line.setPlaceholderText("e.g. 32, 64, 128")
            self._named(self.values_line, "values", "values")
            self.values_line.editingFinished.connect(self._emit)
            layout.addWidget(self.values_line)
        elif kind == "choice":
            self.choices = QListWidget()
            self._named(self.choices, "choices", "choices")
            for c in self.pdef.choices:
                item = QListWidgetItem(str(c))
                item.setData(Qt.ItemDataRole.UserRole, c)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.choices.addItem(item)
            rows = min(len(self.pdef.choices), 5)
            self.choices.setFixedHeight(rows * 22 + 6)
            self.choices.itemChanged.connect(self._emit)
            layout.addWidget(self.choices)
        elif kind == "bool":
            note = QLabel("tries on and off")
            note.setProperty("role", "hint")
            layout.addWidget(self._named(note, "both", "tries on and off"))
        return page

    # -- reading and writing
    def set_value(self, value: Any) -> None:
        """Shows ``value`` (JSON: fixed or a hyperparameter dict) without emitting ``changed``."""
        self._value = value
        blockers = [QSignalBlocker(w) for w in self.findChildren(QWidget)]
        blockers.append(QSignalBlocker(self.search))
        searched = isinstance(value, Mapping)
        self.search.setChecked(searched)
        self.stack.setCurrentIndex(1 if searched else 0)
        kind = self.pdef.kind
        fixed = _fixed_from(self.pdef, value)
        box = self.value_box
        if isinstance(box, (QSpinBox, QDoubleSpinBox)):
            box.setValue(fixed)
        elif isinstance(box, QComboBox):
            box.setCurrentIndex(max(0, box.findData(fixed)))
        elif isinstance(box, QCheckBox):
            box.setChecked(bool(fixed))
        elif isinstance(box, QLineEdit) and kind == "path":
            box.setText(str(fixed or ""))
        elif isinstance(box, QLineEdit):
            box.setText(", ".join(str(v) for v in (fixed or ())))
        self._show_range_problem("")
        if not searched:
            del blockers
            return
        hp = value.get("hp")
        if kind in ("int", "float"):
            is_range = hp in ("int", "float")
            self.mode.setCurrentIndex(0 if is_range else 1)
            self.range_page.setVisible(is_range)
            self.values_line.setVisible(not is_range)
            if kind == "float":
                self.log_box.setVisible(is_range)
            if is_range:
                self.min_box.setValue(value["min"])
                self.max_box.setValue(value["max"])
                self.step_box.setValue(value.get("step") or (1 if kind == "int" else 0))
                if kind == "float":
                    self.log_box.setChecked(bool(value.get("log")))
            else:
                self.values_line.setText(", ".join(str(v) for v in value.get("values", [])))
        elif kind == "choice":
            chosen = list(value.get("values", [])) if hp == "choice" else []
            for i in range(self.choices.count()):
                item = self.choices.item(i)
                item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in chosen
                                   else Qt.CheckState.Unchecked)
        del blockers

    def value(self) -> Any:
        """The value the widgets hold now (``None`` when a typed list does not parse)."""
        kind = self.pdef.kind
        if not self.search.isChecked():
            box = self.value_box
            if isinstance(box, QSpinBox):
                return int(box.value())
            if isinstance(box, QDoubleSpinBox):
                return float(box.value())
            if isinstance(box, QComboBox):
                return box.currentData()
            if isinstance(box, QCheckBox):
                return box.isChecked()
            assert isinstance(box, QLineEdit)
            if kind == "path":
                return box.text().strip()
            parsed = _parse_list(box.text(), "int")
            return [int(v) for v in parsed] if parsed else None
        if kind in ("int", "float"):
            if self.mode.currentData() == "values":
                values = _parse_list(self.values_line.text(), kind)
                if not values:
                    return None
                lo = self.pdef.min if self.pdef.min is not None else -math.inf
                hi = self.pdef.max if self.pdef.max is not None else math.inf
                values = [v for v in values if lo <= v <= hi]
                return {"hp": "choice", "values": values} if values else None
            lo, hi = self.min_box.value(), self.max_box.value()
            if lo > hi:
                return None
            if kind == "int":
                return {"hp": "int", "min": int(lo), "max": int(hi), "step": int(self.step_box.value())}
            data: dict[str, Any] = {"hp": "float", "min": float(lo), "max": float(hi),
                                    "log": self.log_box.isChecked()}
            if data["log"] and data["min"] <= 0:
                data["min"] = min(hi, 1e-4) if hi > 0 else 1e-4
                data["max"] = max(data["max"], data["min"])
            if self.step_box.value() > 0 and not data["log"]:
                data["step"] = float(self.step_box.value())
            return data
        if kind == "choice":
            values = [self.choices.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.choices.count())
                      if self.choices.item(i).checkState() == Qt.CheckState.Checked]
            return {"hp": "choice", "values": values} if values else None
        return {"hp": "bool"}

    def _range_problem(self) -> str:
        """Why the typed range cannot be searched ('' when it can)."""
        if (self.pdef.kind not in ("int", "float") or not self.search.isChecked()
                or self.mode.currentData() != "range"):
            return ""
        lo, hi = self.min_box.value(), self.max_box.value()
        if lo <= hi:
            return ""
        return (f"The minimum ({self.min_box.text()}) is above the maximum ({self.max_box.text()}): "
                "lower the minimum or raise the maximum.")

    def _show_range_problem(self, problem: str) -> None:
        if self.pdef.kind not in ("int", "float"):
            return
        self.range_error.setText(problem)
        self.range_error.setVisible(bool(problem))
        if problem:  # the inspector's form rows gave a wrapped label too few lines: it was cut
            self.range_error.setMinimumHeight(self.range_error.heightForWidth(max(self.range_page.width(), 60)))
        for box in (self.min_box, self.max_box):
            box.setStyleSheet("border: 1px solid #E5484D;" if problem else "")

    def range_problem(self) -> str:
        """The message shown under the range fields ('' when the range is fine)."""
        return self.range_error.text() if self.pdef.kind in ("int", "float") and \
            self.range_error.isVisibleTo(self) else ""

    @Slot()
    def _emit(self, *_args: Any) -> None:
        problem = self._range_problem()
        self._show_range_problem(problem)
        if problem:  # refused, not swapped: the spec keeps its last good range until this is fixed
            return
        value = self.value()
        if value is None:
            self.set_value(self._value)  # an empty or unreadable entry: put the last value back
            return
        if value != self._value:
            self._value = value
            self.changed.emit(value)

    def choose_file(self, start: str) -> str:
        """Asks for the param's file in a file dialog that opens at ``start`` (a file or a
        folder); the chosen path, or '' when the user cancels."""
        title = self.pdef.name.replace("_", " ")
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {title}", start,
                                              PATH_FILTERS.get(self.pdef.name, "All files (*)"))
        return path

    @Slot()
    def _on_browse(self) -> None:
        box = self.value_box
        assert isinstance(box, QLineEdit)
        current = os.path.expanduser(box.text().strip())
        start = current if current and os.path.isdir(os.path.dirname(current)) else default_directory()
        path = self.choose_file(start)
        if path:
            box.setText(path)
            self._emit()  # one change, so one undo step, as when the path is typed

    @Slot(bool)
    def _on_search_toggled(self, on: bool) -> None:
        value = default_search(self.pdef, _fixed_from(self.pdef, self._value)) if on \
            else _fixed_from(self.pdef, self._value)
        self.set_value(value)
        self._value = value
        self.changed.emit(value)

    @Slot(int)
    def _on_mode(self, _index: int) -> None:
        if self.mode.currentData() == "values":
            current = self._value
            seed = [current["min"], current["max"]] if isinstance(current, Mapping) and "min" in current \
                else [_fixed_from(self.pdef, current)]
            self.values_line.setText(", ".join(str(v) for v in dict.fromkeys(seed)))
        else:
            blocker = QSignalBlocker(self.min_box)
            self.min_box.setValue(min(self.min_box.value(), self.max_box.value()))
            del blocker
        self.range_page.setVisible(self.mode.currentData() == "range")
        self.values_line.setVisible(self.mode.currentData() == "values")
        if self.pdef.kind == "float":
            self.log_box.setVisible(self.mode.currentData() == "range")
        self._emit()


def format_count(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    if n >= 1_000:
        return f"{n / 1_000:.3g}k"
    return str(int(n))


def format_configurations(n: float) -> str:
    if math.isinf(n):
        return "continuous (a float range is searched)"
    if n >= 1e7:
        exponent = int(math.floor(math.log10(n)))
        return f"≈ {n / 10 ** exponent:.1f} × 10^{exponent} configurations"
    return f"{int(n):,} configuration{'s' if n != 1 else ''}"


class NodeInspector(QScrollArea):
    """The right-hand panel (objectName ``nodeInspector``): the selected layer's params.

    Signals:
        paramChanged(str, str, object): node id, param name, new JSON value.
        renameRequested(str, str): node id, the name the user typed.
        optionalChanged(str, bool): node id, optional or not.
        trainingChanged(str, object): training setting, new JSON value.
        advancedToggled(bool): the training box's Advanced section was expanded (True) or
            collapsed by the user.
        groupRequested(list, int, int): a chain of node ids to repeat min–max times.
        ungroupRequested(str): a repeat block to dissolve.
        repeatRangeChanged(str, int, int): a repeat block's new min and max.
    """

    paramChanged = Signal(str, str, object)
    renameRequested = Signal(str, str)
    optionalChanged = Signal(str, bool)
    trainingChanged = Signal(str, object)
    advancedToggled = Signal(bool)
    groupRequested = Signal(list, int, int)
    ungroupRequested = Signal(str)
    repeatRangeChanged = Signal(str, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodeInspector")
        self.setAccessibleName("Layer inspector")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A switched-on Search toggle must read as on in every theme.
        self.setStyleSheet("QToolButton:checked { background: palette(highlight); "
                           "color: palette(highlighted-text); border-radius: 4px; padding: 2px 6px; }")
        body = QWidget()
        self.setWidget(body)
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(4, 4, 8, 4)
        self._layout.setSpacing(10)

        summary = QGroupBox("Search space")
        summary.setObjectName("spaceSummary")
        form = QFormLayout(summary)
        self.configurations = QLabel("—")
        self.configurations.setObjectName("spaceConfigurations")
        self.configurations.setAccessibleName("Number of configurations")
        self.configurations.setWordWrap(True)
        _fit_width(self.configurations)
        self.params_range = QLabel("—")
        self.params_range.setObjectName("spaceParams")
        self.params_range.setAccessibleName("Parameter count range")
        self.params_range.setWordWrap(True)
        _fit_width(self.params_range)
        form.addRow("Size", self.configurations)
        form.addRow("Parameters", self.params_range)
        self._layout.addWidget(summary)

        self.node_box = QGroupBox("Layer")
        self.node_box.setObjectName("layerBox")
        self._node_layout = QVBoxLayout(self.node_box)
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        _fit_width(self.title)
        self._node_layout.addWidget(self.title)
        name_row = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nodeName")
        self.name_edit.setAccessibleName("Layer name")
        self.name_edit.setToolTip("The layer's name; its hyperparameters are named after it "
                                  "(e.g. deep.units). Letters, digits, _ and -.")
        self.name_edit.editingFinished.connect(self._on_rename)
        name_row.addRow("Name", self.name_edit)
        self.name_error = QLabel()
        self.name_error.setObjectName("nodeNameError")
        self.name_error.setAccessibleName("Layer name problem")
        self.name_error.setWordWrap(True)
        self.name_error.setTextFormat(Qt.TextFormat.PlainText)
        _fit_width(self.name_error)
        self.name_error.setStyleSheet("color: #E5484D;")
        self.name_error.hide()
        name_row.addRow("", self.name_error)
        self._node_layout.addLayout(name_row)
        self.errors = QLabel()
        self.errors.setObjectName("inspectorErrors")
        self.errors.setWordWrap(True)
        self.errors.setTextFormat(Qt.TextFormat.PlainText)
        _fit_width(self.errors)
        self.errors.setStyleSheet("color: #E5484D;")
        self._node_layout.addWidget(self.errors)
        self.optional = QCheckBox("Optional")
        self.optional.setObjectName("nodeOptional")
        self.optional.setAccessibleName("Optional layer")
        self.optional.setToolTip("The search may leave this layer out of a trial's network.")
        self.optional.toggled.connect(self._on_optional)
        # The explanation is a label beside the box, so that it wraps in a narrow panel.
        optional_note = _fit_width(QLabel("— the search may skip this layer"))
        optional_note.setWordWrap(True)
        self.optional_row = QWidget()
        optional_layout = QHBoxLayout(self.optional_row)
        optional_layout.setContentsMargins(0, 0, 0, 0)
        optional_layout.addWidget(self.optional)
        optional_layout.addWidget(optional_note, 1)
        self._node_layout.addWidget(self.optional_row)
        self.params_form = QFormLayout()
        self.params_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.params_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._node_layout.addLayout(self.params_form)
        self._layout.addWidget(self.node_box)

        self.repeat_box = QGroupBox("Repeat block")
        self.repeat_box.setObjectName("repeatBox")
        repeat_layout = QVBoxLayout(self.repeat_box)
        self.repeat_note = QLabel()
        self.repeat_note.setObjectName("repeatNote")
        self.repeat_note.setWordWrap(True)
        _fit_width(self.repeat_note)
        repeat_layout.addWidget(self.repeat_note)
        counts = QHBoxLayout()
        self.repeat_min = QSpinBox()
        self.repeat_min.setRange(0, 64)
        self.repeat_min.setObjectName("repeatMin")
        self.repeat_min.setAccessibleName("Repeat at least")
        self.repeat_max = QSpinBox()
        self.repeat_max.setRange(0, 64)
        self.repeat_max.setObjectName("repeatMax")
        self.repeat_max.setAccessibleName("Repeat at most")
        for box in (self.repeat_min, self.repeat_max):
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._on_repeat_range)
        counts.addWidget(QLabel("repeat"))
        counts.addWidget(self.repeat_min)
        counts.addWidget(QLabel("–"))
        counts.addWidget(self.repeat_max)
        counts.addWidget(QLabel("times"))
        counts.addStretch(1)
        self.repeat_counts = QWidget()  # hidden where the selection cannot repeat
        self.repeat_counts.setObjectName("repeatCounts")
        counts.setContentsMargins(0, 0, 0, 0)
        self.repeat_counts.setLayout(counts)
        repeat_layout.addWidget(self.repeat_counts)
        self.repeat_error = QLabel()
        self.repeat_error.setObjectName("repeatRangeError")
        self.repeat_error.setWordWrap(True)
        _fit_width(self.repeat_error)
        self.repeat_error.setStyleSheet("color: #E5484D;")
        self.repeat_error.hide()
        repeat_layout.addWidget(self.repeat_error)
        buttons = QHBoxLayout()
        self.group_button = QPushButton("Repeat selection")
        self.group_button.setObjectName("groupRepeat")
        self.group_button.setAccessibleName("Group the selected chain into a repeat block")
        self.group_button.clicked.connect(self._on_group)
        self.ungroup_button = QPushButton("Ungroup")
        self.ungroup_button.setObjectName("ungroupRepeat")
        self.ungroup_button.setAccessibleName("Dissolve the repeat block")
        self.ungroup_button.clicked.connect(self._on_ungroup)
        buttons.addWidget(self.group_button)
        buttons.addWidget(self.ungroup_button)
        buttons.addStretch(1)
        repeat_layout.addLayout(buttons)
        self._layout.addWidget(self.repeat_box)

        self.training_box = QGroupBox("Training")
        self.training_box.setObjectName("trainingBox")
        training_form = QFormLayout(self.training_box)
        training_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        training_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        # Optimizer settings, schedule, clipping, loss, class weights, penalties and early
        # stopping: folded away until asked for (the window remembers the choice).
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("trainingAdvancedToggle")
        self.advanced_toggle.setAccessibleName("Advanced training settings")
        self.advanced_toggle.setToolTip("Shows or hides the optimizer's own settings, the learning-rate "
                                        "schedule, clipping, loss, class weights, penalties and early stopping.")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.clicked.connect(lambda: self._toggle_advanced())
        self.advanced = QWidget()
        self.advanced.setObjectName("trainingAdvanced")
        advanced_form = QFormLayout(self.advanced)
        advanced_form.setContentsMargins(0, 0, 0, 0)
        advanced_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        advanced_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.training_editors: dict[str, ParamEditor] = {}
        self._training_forms: dict[str, QFormLayout] = {}
        for pdef in TRAINING_PARAMS:
            editor = ParamEditor(pdef)
            editor.setObjectName(f"training_{pdef.name}")
            editor.changed.connect(lambda value, key=pdef.name: self.trainingChanged.emit(key, value))
            editor.setToolTip(pdef.doc)
            if not pdef.searchable:
                editor.search.setEnabled(False)  # early stopping's settings: one value each
            self.training_editors[pdef.name] = editor
            form_of = training_form if pdef.name in BASIC_TRAINING else advanced_form
            self._training_forms[pdef.name] = form_of
            form_of.addRow(TRAINING_LABELS.get(pdef.name, pdef.name), editor)
            form_of.labelForField(editor).setToolTip(pdef.doc)
        training_form.addRow(self.advanced_toggle)
        training_form.addRow(self.advanced)
        self._set_advanced(False)
        self._layout.addWidget(self.training_box)
        self._layout.addStretch(1)

        self.editors: dict[str, ParamEditor] = {}
        self._node_id: str | None = None
        self._node_type: str | None = None
        self._chain: list[str] = []
        self._repeat_id: str | None = None
        self._name_error_for: str | None = None  # the node whose typed name was refused
        self.show_selection({}, [], None, None, "")

    # -- filling
    def show_name_error(self, node_id: str, message: str) -> None:
        """Shows why a typed name was refused, next to the field, until a name is accepted or
        another layer is selected (an empty message clears it)."""
        self._name_error_for = node_id if message else None
        self.name_error.setText(f"✕ {message}" if message else "")
        self.name_error.setVisible(bool(message))
        self.name_edit.setProperty("invalid", bool(message))
        self.name_edit.setStyleSheet("border: 1px solid #E5484D;" if message else "")

    def set_summary(self, configurations: str, params: str) -> None:
        self.configurations.setText(configurations)
        self.params_range.setText(params)

    def show_selection(self, spec: Mapping[str, Any], selected: list[str], node_errors: Any,
                       chain: list[str] | None, chain_reason: str) -> None:
        """Shows the selected node (or the training settings when none is selected).

        ``chain`` is the selection as a chain that can become a repeat block (None if it cannot,
        with ``chain_reason`` saying why).
        """
        nodes = {n["id"]: n for n in spec.get("nodes", [])}
        selected = [s for s in selected if s in nodes]
        node = nodes[selected[0]] if len(selected) == 1 else None
        repeat = None
        for rep in spec.get("repeats", []):
            if selected and all(s in rep["nodes"] for s in selected):
                repeat = rep
        self._chain = list(chain or [])
        self._repeat_id = repeat["id"] if repeat else None

        # Layer box
        if node is None and self._name_error_for is not None:
            self.show_name_error(self._name_error_for, "")
        self.node_box.setVisible(bool(selected))
        if node is not None:
            layer = LAYER_TYPES[node["type"]]
            if (node["id"], node["type"]) != (self._node_id, self._node_type):
                self._rebuild(node["id"], node["type"])
            self.title.setText(f"<b>{html.escape(node['id'])}</b> &nbsp;·&nbsp; {node['type']}"
                               + (f"<br><span style='color: palette(placeholder-text)'>{layer.doc}</span>"
                                  if layer.doc else ""))
            if self._name_error_for is not None and self._name_error_for != node["id"]:
                self.show_name_error(node["id"], "")
            # A refused name stays in the field, with its reason, for the user to fix.
            if self._name_error_for is None and (not self.name_edit.hasFocus()
                                                 or self.name_edit.text() != node["id"]):
                blocker = QSignalBlocker(self.name_edit)
                self.name_edit.setText(node["id"])
                del blocker
            self.name_edit.setVisible(True)
            params = node.get("params", {})
            for name, editor in self.editors.items():
                editor.set_value(params.get(name, layer.param(name).default))
                # e.g. a Backbone's weights file, only while its weights are (or may be) a file
                self.params_form.setRowVisible(editor, param_shown(layer, editor.pdef, params))
            blocker = QSignalBlocker(self.optional)
            self.optional.setChecked(bool(node.get("optional")))
            del blocker
            self.optional_row.setVisible(layer.can_be_optional or bool(node.get("optional")))
            messages = list(node_errors or [])
            # Long file names and paths break inside the panel rather than widening it.
            self.errors.setText(breakable("\n".join(f"⚠ {m}" for m in messages)))
            self.errors.setAccessibleDescription("\n".join(messages))
            self.errors.setVisible(bool(messages))
        elif selected:
            self._rebuild(None, None)
            self.title.setText(f"<b>{len(selected)} layers selected</b>")
            self.name_edit.setVisible(False)
            self.optional_row.setVisible(False)
            self.errors.setVisible(False)

        # Repeat box
        show_repeat = repeat is not None or bool(selected)
        self.repeat_box.setVisible(show_repeat)
        blockers = [QSignalBlocker(self.repeat_min), QSignalBlocker(self.repeat_max)]
        if repeat is not None:
            self.repeat_note.setText(f"In repeat block <b>{html.escape(repeat['id'])}</b>: "
                                     + html.escape(" → ".join(repeat["nodes"])))
            self.repeat_min.setValue(int(repeat["min"]))
            self.repeat_max.setValue(int(repeat["max"]))
            self.repeat_error.hide()
            self.repeat_counts.setVisible(True)
            self.group_button.setVisible(False)
            self.ungroup_button.setVisible(True)
        else:
            if chain:
                self.repeat_note.setText("Repeat the selected chain " + html.escape(" → ".join(chain)) + ":")
            else:
                self.repeat_note.setText(chain_reason or "Select a chain of layers to repeat it.")
            if self.repeat_max.value() == 0 or self.repeat_min.value() > self.repeat_max.value():
                self.repeat_min.setValue(1)
                self.repeat_max.setValue(3)
            # Where the selection cannot repeat (an Input, a branch), only the reason shows.
            self.repeat_counts.setVisible(bool(chain))
            self.group_button.setVisible(bool(chain))
            self.group_button.setEnabled(bool(chain))
            self.ungroup_button.setVisible(False)
        del blockers

        # Training box: shown when nothing is selected
        self.training_box.setVisible(not selected)
        training = spec.get("training", {})
        for name, editor in self.training_editors.items():
            shown, value = training_shown(name, training)
            self._training_forms[name].setRowVisible(editor, shown)
            editor.set_value(value)

    @property
    def advanced_expanded(self) -> bool:
        """Whether the training box's Advanced section is expanded."""
        return self._advanced_open

    def set_advanced_expanded(self, expanded: bool) -> None:
        """Expands or collapses the Advanced section (no :attr:`advancedToggled`: the window
        restoring the user's choice)."""
        self._set_advanced(expanded)

    def _set_advanced(self, expanded: bool) -> None:
        self._advanced_open = expanded
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.advanced.setVisible(expanded)

    def _toggle_advanced(self) -> None:
        self._set_advanced(not self.advanced_expanded)
        self.advancedToggled.emit(self.advanced_expanded)

    def _rebuild(self, node_id: str | None, node_type: str | None) -> None:
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self.editors = {}
        self._node_id, self._node_type = node_id, node_type
        if node_type is None or node_id is None:
            return
        for pdef in LAYER_TYPES[node_type].params:
            editor = ParamEditor(pdef)
            editor.changed.connect(lambda value, nid=node_id, key=pdef.name:
                                   self.paramChanged.emit(nid, key, value))
            if pdef.doc:
                editor.setToolTip(pdef.doc)
            if not pdef.searchable:
                editor.search.setEnabled(False)  # e.g. an Input's source: read in every trial
            self.editors[pdef.name] = editor
            label = QLabel(pdef.name.replace("_", " ").capitalize())
            label.setBuddy(editor.value_box)
            self.params_form.addRow(label, editor)
            label.show()  # now, not on the next event loop pass (a layout shows new rows late)
            editor.show()

    # -- reactions
    @Slot()
    def _on_rename(self) -> None:
        new = self.name_edit.text().strip()
        if self._node_id is None:
            return
        if new == self._node_id and self._name_error_for is not None:
            self.show_name_error(self._node_id, "")  # the user typed the old name back
        elif not new:
            self.show_name_error(self._node_id, "A layer needs a name: letters, digits, _ and -")
        elif new != self._node_id:
            self.renameRequested.emit(self._node_id, new)

    @Slot(bool)
    def _on_optional(self, on: bool) -> None:
        if self._node_id is not None:
            self.optionalChanged.emit(self._node_id, on)

    def _repeat_range(self) -> tuple[int, int] | None:
        """The typed repeat counts, or None (with the reason shown) when at least > at most."""
        lo, hi = self.repeat_min.value(), self.repeat_max.value()
        problem = (f"At least {lo} is more than at most {hi}: lower the first or raise the second."
                   if lo > hi else "")
        self.repeat_error.setText(problem)
        self.repeat_error.setVisible(bool(problem))
        return None if problem else (lo, hi)

    @Slot()
    def _on_group(self) -> None:
        counts = self._repeat_range()
        if self._chain and counts is not None:
            self.groupRequested.emit(list(self._chain), *counts)

    @Slot()
    def _on_ungroup(self) -> None:
        if self._repeat_id is not None:
            self.ungroupRequested.emit(self._repeat_id)

    @Slot(int)
    def _on_repeat_range(self, _value: int) -> None:
        counts = self._repeat_range()
        if self._repeat_id is not None and counts is not None:
            self.repeatRangeChanged.emit(self._repeat_id, *counts)


__all__ = ["NodeInspector", "ParamEditor", "breakable", "default_search", "format_configurations", "format_count",
           "param_shown"]
