"""The Network page: pick a template and edit its main ranges; the page yields a search-space spec.

A visual node editor will later replace the centre of this page; whatever replaces it keeps the
contract :meth:`NetworkPage.spec` → a JSON spec dict that ``SearchConfig.space`` accepts.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .widgets import Banner, name_widget, page_header

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta")
TRAINING_KEYS = ("optimizers", "min_lr", "max_lr", "batch_sizes")
SEARCH_PAGE_KEYS = ("epochs", "patience")  # set on the Search page, passed in by the window
TEMPLATE_TITLES = {
    "tabular": "Tabular — dense blocks for columns of numbers and categories",
    "image": "Image — convolution blocks with optional augmentation",
    "residual": "Residual — an image block with a skip connection",
    "sequence": "Sequence — an LSTM over time steps",
}
LABELS = {
    "min_blocks": "Blocks (min)", "max_blocks": "Blocks (max)",
    "min_units": "Units (min)", "max_units": "Units (max)",
    "min_filters": "Filters (min)", "max_filters": "Filters (max)",
    "dropout": "Allow dropout", "batch_norm": "Allow batch normalisation",
    "augment": "Allow augmentation (flip, rotate, zoom)",
    "min_lr": "Learning rate (min)", "max_lr": "Learning rate (max)",
    "batch_sizes": "Batch sizes", "optimizers": "Optimizers",
}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


class TemplateForm(QWidget):
    """A form for one template's options, built from the engine's defaults (types decide widgets)."""

    edited = Signal()

    def __init__(self, name: str, defaults: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._defaults = dict(defaults)
        self._getters: dict[str, Any] = {}
        self._setters: dict[str, Any] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        arch = QGroupBox("Architecture ranges")
        train = QGroupBox("Training")
        arch_form, train_form = QFormLayout(arch), QFormLayout(train)
        for form in (arch_form, train_form):
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for key, value in defaults.items():
            if key in SEARCH_PAGE_KEYS:
                continue
            form = train_form if key in TRAINING_KEYS else arch_form
            form.addRow(LABELS.get(key, key.replace("_", " ").capitalize()), self._editor(key, value))
        layout.addWidget(arch, 1)
        layout.addWidget(train, 1)

    def _editor(self, key: str, value: Any) -> QWidget:
        object_name = f"{self.name}{_camel(key)[0].upper()}{_camel(key)[1:]}"
        label = LABELS.get(key, key)
        if isinstance(value, bool):
            box = name_widget(QCheckBox(), object_name, label)
            box.setChecked(value)
            box.toggled.connect(self.edited)
            self._getters[key], self._setters[key] = box.isChecked, box.setChecked
            return box
        if isinstance(value, int):
            spin = name_widget(QSpinBox(), object_name, label)
            spin.setRange(0, 4096 if "units" in key or "filters" in key else 64)
            spin.setMinimumWidth(90)
            spin.setValue(value)
            spin.valueChanged.connect(self.edited)
            self._getters[key], self._setters[key] = spin.value, spin.setValue
            return spin
        if isinstance(value, float):
            edit = name_widget(QLineEdit(f"{value:g}"), object_name, label,
                               "A positive number; scientific notation such as 1e-4 is fine")
            edit.setMinimumWidth(110)
            edit.textEdited.connect(self.edited)
            self._getters[key] = lambda e=edit: float(e.text())
            self._setters[key] = lambda v, e=edit: e.setText(f"{float(v):g}")
            return edit
        if key == "optimizers":
            row = QWidget()
            grid = QHBoxLayout(row)
            grid.setContentsMargins(0, 0, 0, 0)
            boxes = {}
            for opt in OPTIMIZERS:
                box = name_widget(QCheckBox(opt), f"{self.name}Optimizer{opt.capitalize()}",
                                  f"Optimizer {opt}")
                box.setChecked(opt in value)
                box.toggled.connect(self.edited)
                grid.addWidget(box)
                boxes[opt] = box
            row.setObjectName(object_name)
            self._getters[key] = lambda b=boxes: [o for o, box in b.items() if box.isChecked()]
            self._setters[key] = lambda v, b=boxes: [box.setChecked(o in v) for o, box in b.items()]
            return row
        edit = name_widget(QLineEdit(", ".join(str(v) for v in value)), object_name, label,
                           "Comma-separated whole numbers, e.g. 32, 64")
        edit.setMinimumWidth(110)
        edit.textEdited.connect(self.edited)
        self._getters[key] = lambda e=edit: [int(v) for v in e.text().replace(" ", "").split(",") if v]
        self._setters[key] = lambda v, e=edit: e.setText(", ".join(str(x) for x in v))
        return edit

    def options(self) -> dict[str, Any]:
        """The form's values; raises ``ValueError`` with a readable message if one is invalid."""
        out: dict[str, Any] = {}
        for key, getter in self._getters.items():
            try:
                out[key] = getter()
            except ValueError:
                raise ValueError(f"{LABELS.get(key, key)}: not a valid value") from None
        if "optimizers" in out and not out["optimizers"]:
            raise ValueError("choose at least one optimizer")
        if "batch_sizes" in out and (not out["batch_sizes"] or min(out["batch_sizes"]) < 1):
            raise ValueError("batch sizes must be whole numbers of at least 1")
        return out

    def set_options(self, options: dict[str, Any]) -> None:
        for key, value in options.items():
            if key in self._setters:
                self._setters[key](value)


class NetworkPage(QWidget):
    """Chooses the search space: a template and its ranges.

    Signals:
        specChanged(): the template or one of its options changed.
    """

    specChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from automl_studio.engine.templates import TEMPLATES, template_defaults

        name_widget(self, "networkPage", "Network page")
        self._templates = tuple(TEMPLATES)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(page_header(
            "Network", "Choose a template and the ranges the search may try. "
            "Every hyperparameter range becomes one dimension of the search."))
        self.banner = Banner("networkBanner")
        layout.addWidget(self.banner)
        row = QFormLayout()
        self.template_combo = name_widget(QComboBox(), "templateChoice", "Network template")
        for name in self._templates:
            self.template_combo.addItem(TEMPLATE_TITLES.get(name, name), name)
        row.addRow("Template", self.template_combo)
        layout.addLayout(row)
        self.forms = QStackedWidget()
        self._forms: dict[str, TemplateForm] = {}
        for name in self._templates:
            form = TemplateForm(name, template_defaults(name))
            form.edited.connect(self._on_edited)
            self._forms[name] = form
            self.forms.addWidget(form)
        layout.addWidget(self.forms)
        preview_box = QGroupBox("Search space (epochs and patience come from the Search page)")
        preview_layout = QVBoxLayout(preview_box)
        self.preview = name_widget(QPlainTextEdit(), "specPreview", "Search space summary")
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._overrides: dict[str, Any] = {}
        preview_layout.addWidget(self.preview)
        layout.addWidget(preview_box, 1)
        self.template_combo.currentIndexChanged.connect(self._on_template_changed)
        self._on_edited()

    def template(self) -> str:
        return str(self.template_combo.currentData())

    def set_template(self, name: str) -> None:
        if name in self._templates:
            self.template_combo.setCurrentIndex(self._templates.index(name))

    def options(self) -> dict[str, Any]:
        return self._forms[self.template()].options()

    def spec(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The search-space spec for ``SearchConfig.space``.

        Raises:
            SpecError or ValueError: the form holds an invalid value (the message says which).
        """
        from automl_studio.engine.templates import template_spec

        options = {**self.options(), **{k: v for k, v in (overrides or {}).items() if v is not None}}
        return template_spec(self.template(), options)

    def apply_space(self, space: Any) -> None:
        """Restores the page from a saved ``config.space`` (a spec dict or a template name)."""
        if isinstance(space, str):
            self.set_template(space)
        elif isinstance(space, dict) and isinstance(space.get("template"), dict):
            self.set_template(space["template"].get("name", "tabular"))
            options = {k: v for k, v in space["template"].get("options", {}).items()
                       if k not in SEARCH_PAGE_KEYS}
            self._forms[self.template()].set_options(options)
        self._on_edited()

    def set_training_overrides(self, overrides: dict[str, Any]) -> None:
        """Values set elsewhere (the Search page's epochs and patience) shown in the summary."""
        self._overrides = {k: v for k, v in overrides.items() if v is not None}
        self._on_edited()

    @Slot(int)
    def _on_template_changed(self, index: int) -> None:
        self.forms.setCurrentIndex(index)
        self._on_edited()

    @Slot()
    def _on_edited(self) -> None:
        try:
            spec = self.spec(getattr(self, "_overrides", None))
        except Exception as exc:  # noqa: BLE001 - SpecError or a bad number: show, don't raise
            self.banner.show_message(str(exc), "error")
            return
        self.banner.clear()
        searched = count_hyperparameters(spec)
        self.preview.setPlainText(f"{searched} hyperparameter ranges searched\n\n" + describe_spec(spec))
        self.specChanged.emit()


def count_hyperparameters(spec: dict[str, Any]) -> int:
    """How many ranges the tuner searches (each ``{"hp": ...}`` value, optional node, repeat)."""
    def walk(value: Any) -> int:
        if isinstance(value, dict):
            return 1 if "hp" in value else sum(walk(v) for v in value.values())
        if isinstance(value, list):
            return sum(walk(v) for v in value)
        return 0

    nodes = spec.get("nodes", [])
    repeats = [r for r in spec.get("repeats", []) if r.get("min") != r.get("max")]
    return (walk([n.get("params", {}) for n in nodes]) + sum(1 for n in nodes if n.get("optional"))
            + len(repeats) + walk(spec.get("training", {})))


def describe_spec(spec: dict[str, Any]) -> str:
    """A readable summary of a spec: its layers in order and every searched range."""
    repeats = {n: r for r in spec.get("repeats", []) for n in r["nodes"]}
    lines = []
    for node in spec.get("nodes", []):
        params = []
        for key, value in node.get("params", {}).items():
            if isinstance(value, dict) and "hp" in value:
                if value["hp"] == "choice":
                    params.append(f"{key} ∈ {{{', '.join(map(str, value['values']))}}}")
                else:
                    params.append(f"{key} ∈ [{value['min']:g}, {value['max']:g}]")
            else:
                params.append(f"{key}={value}")
        flags = []
        if node.get("optional"):
            flags.append("optional")
        if node["id"] in repeats:
            r = repeats[node["id"]]
            flags.append(f"repeated {r['min']}–{r['max']}×")
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        lines.append(f"{node['type']:<24}{'  '.join(params)}{suffix}")
    training = spec.get("training", {})
    lines.append("")
    for key, value in training.items():
        if isinstance(value, dict) and value.get("hp") == "choice":
            text = "{" + ", ".join(map(str, value["values"])) + "}"
        elif isinstance(value, dict):
            text = f"[{value['min']:g}, {value['max']:g}]" + (" log" if value.get("log") else "")
        else:
            text = str(value)
        lines.append(f"{key:<24}{text}")
    return "\n".join(lines)


__all__ = ["NetworkPage", "TemplateForm", "count_hyperparameters", "describe_spec"]
