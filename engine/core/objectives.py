"""The one rule for objectives: which metric a search selects trials by, and in which direction.

Every consumer reads this module: the tuner (as ``keras_tuner.Objective(name, direction)``),
early stopping (``mode=direction``), the cross-validated refit, the live plots, the trials table
and the window's objective list. An objective is offered only where the model compiles its
metric for the task (:func:`objectives_for`), so a search can never wait for a value that no
epoch logs.

Names follow Keras' history keys: ``val_`` + the compiled metric's ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass

from automl_studio.engine.core.errors import UserError

DEFAULT_OBJECTIVE = "val_loss"  # see README: on small tables accuracy ties between many trials


@dataclass(frozen=True)
class Objective:
    """A validation metric trials can be ranked by.

    Attributes:
        name: the Keras history key, e.g. ``val_loss``.
        direction: ``"min"`` or ``"max"`` (KerasTuner's vocabulary).
        label: what the window calls it, e.g. "validation accuracy".
        tasks: where the hypermodel compiles the metric: any of ``"regression"``, ``"binary"``
            (classification with two classes) and ``"multiclass"``.
    """

    name: str
    direction: str
    label: str
    tasks: frozenset[str]

    @property
    def maximize(self) -> bool:
        """Whether a higher value is better."""
        return self.direction == "max"

    @property
    def better_words(self) -> str:
        """``"lower is better"`` or ``"higher is better"``."""
        return f"{'higher' if self.maximize else 'lower'} is better"

    def describe(self, value: float | None = None) -> str:
        """``"val_loss (lower is better)"``, or with a value ``"val_loss 0.113 (lower is better)"``."""
        shown = "" if value is None else f" {value:.4g}"
        return f"{self.name}{shown} ({self.better_words})"

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` is strictly better than ``b``."""
        return a > b if self.maximize else a < b

    def sort_key(self, score: float) -> float:
        """A key that sorts scores best first (ascending order)."""
        return -score if self.maximize else score

    def choice_text(self) -> str:
        """What a list of objectives shows: ``"validation loss (val_loss, lower is better)"``."""
        return f"{self.label} ({self.name}, {self.better_words})"


_ALL = frozenset({"regression", "binary", "multiclass"})
_CLASSES = frozenset({"binary", "multiclass"})

OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("val_loss", "min", "validation loss", _ALL),
    Objective("val_accuracy", "max", "validation accuracy", _CLASSES),
    Objective("val_auc", "max", "validation ROC AUC", frozenset({"binary"})),
    Objective("val_rmse", "min", "validation RMSE", frozenset({"regression"})),
    Objective("val_mae", "min", "validation MAE", frozenset({"regression"})),
)}


def task_kind(task: str, n_classes: int) -> str:
    """``"regression"``, ``"binary"`` or ``"multiclass"`` for a task and its number of classes."""
    if task == "regression":
        return "regression"
    return "binary" if n_classes <= 2 else "multiclass"


def describe_task(task: str, n_classes: int) -> str:
    """``"regression"``, ``"two-class classification"`` or e.g. ``"3-class classification"``."""
    kind = task_kind(task, n_classes)
    if kind == "binary":
        return "two-class classification"
    return f"{n_classes}-class classification" if kind == "multiclass" else kind


def objectives_for(task: str, n_classes: int) -> tuple[Objective, ...]:
    """The objectives the model compiles for this task, the default first."""
    kind = task_kind(task, n_classes)
    return tuple(o for o in OBJECTIVES.values() if kind in o.tasks)


def objectives_help() -> str:
    """One sentence naming every objective, its direction and where it applies (``--objective``)."""
    where = {frozenset(_ALL): "any task", frozenset(_CLASSES): "classification",
             frozenset({"binary"}): "two-class classification", frozenset({"regression"}): "regression"}
    parts = [f"{o.name} ({'higher' if o.maximize else 'lower'} is better; {where[o.tasks]})"
             for o in OBJECTIVES.values()]
    return f"metric to select trials by (default: {DEFAULT_OBJECTIVE}): " + ", ".join(parts)


def get_objective(name: str | None) -> Objective:
    """The objective called ``name`` (``None``: the default).

    Raises:
        UserError: for a name that is not an objective.
    """
    name = name or DEFAULT_OBJECTIVE
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise UserError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}") from None


IMBALANCED_OBJECTIVE = "val_auc"
"""The default objective of a two-class table with a rare class: ROC AUC ranks the rare class
against the other whatever their proportions, where accuracy and loss mostly follow the common
class (the rule for "rare" is :mod:`automl_studio.engine.data.imbalance`)."""


def default_objective(task: str, n_classes: int, *, imbalanced: bool = False) -> Objective:
    """The objective a search uses when none is chosen: :data:`DEFAULT_OBJECTIVE`, or
    :data:`IMBALANCED_OBJECTIVE` for two classes one of which is rare. (With more classes no
    compiled metric is balanced, so it stays the loss; balanced class weights are searched.)"""
    if imbalanced and task_kind(task, n_classes) == "binary":
        return OBJECTIVES[IMBALANCED_OBJECTIVE]
    return OBJECTIVES[DEFAULT_OBJECTIVE]


def check_objective(name: str | None, task: str, n_classes: int, *, imbalanced: bool = False) -> Objective:
    """The objective (``None``: :func:`default_objective`), after checking the model compiles
    it for this task.

    Raises:
        UserError: naming the objectives that do exist for the task.
    """
    objective = get_objective(name) if name else default_objective(task, n_classes, imbalanced=imbalanced)
    allowed = objectives_for(task, n_classes)
    if objective not in allowed:
        raise UserError(f"objective {objective.name} does not exist for {describe_task(task, n_classes)}; "
                        f"choose one of {', '.join(o.name for o in allowed)}")
    return objective
