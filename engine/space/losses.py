"""The losses a search may train with, per task, declared once (no Keras here).

``auto`` is the task's usual loss: cross-entropy for classification, mean squared error for
regression. Classification may use focal loss instead (Lin et al. 2017, "Focal Loss for Dense
Object Detection": it down-weights examples the model already gets right, so a rare class weighs
more) and label smoothing (Szegedy et al. 2016: targets 1 - s + s / classes and s / classes
instead of 1 and 0). Regression may use MAE, Huber or log-cosh (less pulled by outliers than MSE).

The engine's targets for more than two classes are class indices (sparse labels), which
``SparseCategoricalCrossentropy`` reads as they are. It takes no label smoothing, and Keras' focal
loss for more than two classes (``CategoricalFocalCrossentropy``) reads one-hot targets only, so a
trial that smooths its labels or uses focal loss compiles ``CategoricalCrossentropy`` or
``CategoricalFocalCrossentropy`` (:data:`ONE_HOT_LOSSES`) and is fed its targets one-hot encoded
(``automl_studio.engine.train.hypermodel.fit_arrays``; the generated code does the same).

Each name maps to the ``keras.losses`` class the hypermodel compiles and the code view writes
(:data:`KERAS_LOSSES`); all are Keras' own classes, so an exported model reloads with plain Keras.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automl_studio.engine.core.objectives import task_kind

LOSSES = ("auto", "crossentropy", "focal", "mse", "mae", "huber", "log_cosh")
"""Every loss name a spec's ``training.loss`` may hold (a fixed one or a searched choice)."""

CLASSIFICATION_LOSSES = ("crossentropy", "focal")
REGRESSION_LOSSES = ("mse", "mae", "huber", "log_cosh")

# (task kind, loss) -> keras.losses class; "binary" is two classes (one sigmoid unit).
KERAS_LOSSES: dict[tuple[str, str], str] = {
    ("binary", "crossentropy"): "BinaryCrossentropy",
    ("binary", "focal"): "BinaryFocalCrossentropy",
    ("multiclass", "crossentropy"): "SparseCategoricalCrossentropy",
    ("multiclass", "focal"): "CategoricalFocalCrossentropy",
    ("regression", "mse"): "MeanSquaredError",
    ("regression", "mae"): "MeanAbsoluteError",
    ("regression", "huber"): "Huber",
    ("regression", "log_cosh"): "LogCosh",
}

# Label smoothing for more than two classes: the one-hot twin of the sparse cross-entropy.
SMOOTHED_MULTICLASS = "CategoricalCrossentropy"

ONE_HOT_LOSSES = ("CategoricalCrossentropy", "CategoricalFocalCrossentropy")
"""The ``keras.losses`` classes (of :func:`keras_loss`) that read one-hot targets, not class indices."""

LABEL_SMOOTHING_MAX = 0.5  # beyond it the smoothed target of the true class is no longer the largest


def resolved_loss(name: str, kind: str) -> str:
    """The loss ``name`` stands for in a task kind (``auto``: the task's usual one)."""
    if name != "auto":
        return name
    return "mse" if kind == "regression" else "crossentropy"


def keras_loss(name: str, kind: str, label_smoothing: float = 0.0) -> tuple[str, dict[str, Any]]:
    """The ``keras.losses`` class name and keyword arguments for one trial's loss.

    Cross-entropy for more than two classes is ``SparseCategoricalCrossentropy`` without label
    smoothing and ``CategoricalCrossentropy`` with it (one of :data:`ONE_HOT_LOSSES`).

    Raises:
        ValueError: the loss does not apply to the task (the message says which do).
    """
    loss = resolved_loss(name, kind)
    cls = KERAS_LOSSES.get((kind, loss))
    if cls is None:
        raise ValueError(_mismatch(loss, kind))
    kwargs: dict[str, Any] = {}
    if kind != "regression" and label_smoothing:
        kwargs["label_smoothing"] = float(label_smoothing)
        if cls == "SparseCategoricalCrossentropy":
            cls = SMOOTHED_MULTICLASS
    return cls, kwargs


def _mismatch(loss: str, kind: str) -> str:
    usable = [n for n in LOSSES if n == "auto" or (kind, n) in KERAS_LOSSES]
    what = {"regression": "regression", "binary": "two-class classification",
            "multiclass": "classification with more than two classes"}[kind]
    return f"the loss {loss!r} does not apply to {what}; choose from {', '.join(usable)}"


def loss_problem(training: Mapping[str, Any], task: str, n_classes: int) -> str:
    """Why a spec's loss settings cannot train this task ('' when they can).

    ``training`` holds fixed values or hyperparameters (objects with ``values`` for a choice,
    ``min``/``max`` for a range), as :class:`~automl_studio.engine.space.spec.SearchSpace` does.
    """
    kind = task_kind(task, n_classes)
    value = training.get("loss", "auto")
    names = tuple(getattr(value, "values", (value,)))
    for name in names:
        if (kind, resolved_loss(name, kind)) not in KERAS_LOSSES:
            return _mismatch(resolved_loss(name, kind), kind)
    smoothing = training.get("label_smoothing", 0.0)
    top = getattr(smoothing, "max", smoothing)
    if kind == "regression" and top:
        return "label smoothing is for classification; set it to 0 for regression"
    weighting = training.get("class_weight", "none")
    if kind == "regression" and "balanced" in tuple(getattr(weighting, "values", (weighting,))):
        return "class weights are for classification; set them to none for regression"
    return ""


__all__ = ["CLASSIFICATION_LOSSES", "KERAS_LOSSES", "LABEL_SMOOTHING_MAX", "LOSSES", "ONE_HOT_LOSSES",
           "REGRESSION_LOSSES", "keras_loss", "loss_problem", "resolved_loss"]
