"""What a search runs with when the user leaves a setting open: :func:`resolve_defaults`.

``None`` in :class:`~automl_studio.engine.core.config.SearchConfig` means "choose for me"; this is
where the engine chooses, as a good practitioner would for the data at hand. Keras-free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.objectives import (
    Objective,
    check_objective,
    default_objective,
    get_objective,
)
from automl_studio.engine.data.features import PreparedData
from automl_studio.engine.data.imbalance import rare_classes
from automl_studio.engine.space.spec import Choice, IntRange, Node, SearchSpace, is_hp

DEFAULT_MAX_TRIALS = {"table": 20, "features": 20, "sequences": 12, "images": 10}
# How many refits the exported model averages, by train+validation rows (images: one). A refit's
# initial weights alone moved digits' test accuracy by up to 1.7 points (six seeds: 0.967-0.983;
# averages of three: 0.983-0.986), and on wine and iris by a test row (averages of five: none).
ENSEMBLE_REFITS = ((10_000, 5), (100_000, 3))
# The most of a time budget kept back from the trials for the work after them (cross-validating
# the refit's length, the refits), beyond the export's own reserve. Iris at 150 s ran ONE trial
# while five folds and four refits took 108 s; a budget buys trials first.
POST_SEARCH_SHARE = 0.25
# On a small table whose best few trials are cross-validated after the search (the finalists,
# SearchConfig.finalists), the work after the trials may take up to this much of the budget
# instead, and under a budget each finalist runs on FINALIST_FOLDS of the five folds: on held-out
# grunfeld (150 s) a fold took ~7 s, so one finalist's five folds took 35 s, and 0.4 of the
# budget did not hold two finalists' three folds as the trials' measures planned them.
FINALIST_SHARE = 0.5
FINALIST_FOLDS = 3
FIRST_REFIT_MARGIN = 1.5  # the first refit is planned with room to spare: a cut one is thrown away
MIN_FOLDS = 2  # fewer finished folds give no median worth retraining for
# Trials scored by k-fold cross-validation of train+validation (issue #16, ``--cv-folds K``): on a
# small table one validation split of a few dozen rows picks trials by luck. KerasTuner has no
# cross-validation of its own (keras-team/keras-tuner#139), so each trial fits once per fold and
# the oracle receives the mean of the folds' best validation objective. Off by default: under a
# time budget a trial then costs K fits (SearchConfig.cv_folds says what that measured).
CV_FOLDS = 5  # the usual K, the Search page's suggestion and the refit's folds (train.crossval.FOLDS)


@dataclass(frozen=True)
class Resolved:
    """The settings a search actually runs with, after "choose for me" defaults."""

    objective: str  # a name from :mod:`~automl_studio.engine.core.objectives`, checked for the task
    max_trials: int | None
    max_epochs: int | None
    patience: int | None
    refits: int = 1  # how many refits of the best configuration the exported model averages
    cv_folds: int = 0  # folds each trial is scored on (0: the validation split; see trial_folds)

    @property
    def rule(self) -> Objective:
        """The objective's name, direction and label."""
        return get_objective(self.objective)

    @property
    def direction(self) -> str:
        """``"min"`` or ``"max"``, from the objective rule."""
        return self.rule.direction


@dataclass(frozen=True)
class FinishPlan:
    """What runs after the trials: how many cross-validation folds and refits fit in the time.

    ``folds`` 0: the refit runs for the best trial's own best epoch; ``refits`` 0: the best
    trial's own weights are exported. ``wanted_folds``/``wanted_refits``: what would run with
    time to spare. ``seconds``: what the planned work should take, margins included;
    ``fold_s``/``refit_s``: the measured estimates it was planned from (``fold_s``: one fold of
    every finalist); ``available_s``: the time it was planned for (``inf``: no time budget);
    ``margin``: the first refit's margin; ``finalists``: how many trials the folds score, the
    exported one chosen among them by its mean fold score
    (:attr:`~automl_studio.engine.core.events.FinalistsScored`).
    """

    folds: int
    refits: int
    wanted_folds: int
    wanted_refits: int
    seconds: float = 0.0
    fold_s: float = 0.0
    refit_s: float = 0.0
    available_s: float = math.inf
    margin: float = FIRST_REFIT_MARGIN
    finalists: int = 1  # trials cross-validated on the folds (the best first; fold_s covers them all)

    @property
    def refit_seconds(self) -> float:
        """What the planned refits should take (the first with its margin)."""
        if not self.refits:
            return 0.0
        return (self.margin + self.refits - 1) * self.refit_s

    def describe(self) -> str:
        """One line for the log: what runs after the search and why not more."""
        parts = []
        if self.wanted_folds:
            finalists = f" of each of {self.finalists} finalist trials" if self.finalists > 1 else ""
            parts.append(f"{self.folds} of {self.wanted_folds} cross-validation folds{finalists}" if self.folds
                         else "no cross-validation (the refit runs for the best trial's best epoch)")
        if self.wanted_refits:
            parts.append(f"{self.refits} of {self.wanted_refits} refits" if self.refits
                         else "no refit (the best trial's own weights are exported)")
        what = " and ".join(parts) or "nothing"
        if not math.isfinite(self.available_s):
            return f"after the search: {what}"
        measured = f"a refit ~{self.refit_s:.0f} s" + (f", a fold ~{self.fold_s:.0f} s" if self.wanted_folds else "")
        return (f"after the search: {what} fit in the {max(0.0, self.available_s):.0f} s left "
                f"({measured}, from the trials' measured seconds per epoch)")


def plan_finish(available_s: float, *, fold_s: float, refit_s: float, folds: int, refits: int,
                margin: float = FIRST_REFIT_MARGIN) -> FinishPlan:
    """How many folds and refits fit in ``available_s`` seconds, most useful first.

    One refit first (``margin`` times its estimate: a refit cut by the budget is discarded);
    then the cross-validation's :data:`MIN_FOLDS` folds (without them none); then further
    refits and folds in turn. Everything fits when ``available_s`` is ``inf`` (no budget).

    Args:
        available_s: seconds for the folds and refits (the export's reserve already deducted).
        fold_s: one fold's expected seconds; refit_s: one refit's (both measured on the trials).
        folds: folds wanted (0: no cross-validation for this data); refits: refits wanted.
        margin: :data:`FIRST_REFIT_MARGIN` while time is kept back from the trials; 1 once they
            are over and the time left would otherwise go unused.
    """
    spent, n_folds, n_refits = 0.0, 0, 0

    def fits(cost: float) -> bool:
        nonlocal spent
        if spent + cost > available_s:
            return False
        spent += cost
        return True

    if refits and fits(margin * refit_s):
        n_refits = 1
        if folds >= MIN_FOLDS and fits(MIN_FOLDS * fold_s):
            n_folds = MIN_FOLDS
        more_refits, more_folds = n_refits < refits, 0 < n_folds < folds
        while more_refits or more_folds:
            if more_refits and fits(refit_s):
                n_refits += 1
                more_refits = n_refits < refits
            else:
                more_refits = False
            if more_folds and fits(fold_s):
                n_folds += 1
                more_folds = n_folds < folds
            else:
                more_folds = False
    return FinishPlan(n_folds, n_refits, folds, refits, spent, fold_s, refit_s, available_s, margin)


def imbalance_space(space: SearchSpace, prepared: PreparedData) -> SearchSpace:
    """The space a search runs for this data: when the profile has a rare class
    (:func:`~automl_studio.engine.data.imbalance.rare_classes`), balanced class weights or none
    become a searched dimension, and for two classes focal loss or cross-entropy — each only
    where the spec leaves the setting at its default. (With more classes trials are ranked by
    validation loss, which focal loss measures on another scale, so it is not searched there.)"""
    signature = prepared.signature
    if signature.task != "classification" or not rare_classes(prepared.profile.class_counts):
        return space
    training = dict(space.training)
    if "class_weight" not in training:
        training["class_weight"] = Choice(("balanced", "none"))
    if signature.n_classes == 2 and training.get("loss", "auto") == "auto":
        training["loss"] = Choice(("crossentropy", "focal"))
    return replace(space, training=training)


def target_space(space: SearchSpace, prepared: PreparedData) -> SearchSpace:
    """The space a search runs for this data: when the profile finds a skewed regression target
    without negative values (:attr:`~automl_studio.engine.data.profile.DatasetProfile.skewed_target`:
    prices, counts), the target transform ``none`` or ``log1p`` becomes a searched dimension —
    only where the spec leaves it (and the loss: ``log1p`` trains with squared error in log
    units) at its default."""
    signature = prepared.signature
    training = dict(space.training)
    if (not prepared.profile.skewed_target or not signature.can_log_target or "target_transform" in training
            or training.get("loss", "auto") not in ("auto", "mse")):
        return space
    training["target_transform"] = Choice(("none", "log1p"))
    return replace(space, training=training)


LOOKBACK_NODE = "lookback"  # the LastSteps node lookback_space adds; its hyperparameter is lookback.steps


def lookback_space(space: SearchSpace, prepared: PreparedData) -> SearchSpace:
    """The space a forecast with a searched lookback range runs (:func:`keep_last_steps` over the
    range ``lookback_min``…``lookback`` of its :class:`~automl_studio.engine.data.timeseries.ForecastSpec`);
    ``space`` itself where the lookback is not searched."""
    forecast = prepared.forecast
    low = int(forecast.get("lookback_min", 0)) if forecast is not None else 0
    return keep_last_steps(space, low, int(forecast["lookback"])) if low and forecast is not None else space


def keep_last_steps(space: SearchSpace, low: int, high: int) -> SearchSpace:
    """``space`` with a ``LastSteps`` node (a Cropping1D in Keras) after each sequence Input that
    keeps the window's last ``lookback.steps`` steps, searched from ``low`` to ``high``.

    The windows hold ``high`` steps, so the model still takes (and ``predict`` still feeds) that
    many rows whatever a trial chose. An Input already followed by a ``LastSteps`` node (a spec
    that chooses its own) is left as it is.
    """
    inputs = [n.id for n in space.nodes if n.type == "Input" and n.params.get("source") == "sequence"]
    nodes, edges = list(space.nodes), list(space.edges)
    for at, source in enumerate(inputs):
        if any(space.node(n).type == "LastSteps" for n in space.outputs_of(source)):
            continue
        node_id = LOOKBACK_NODE if at == 0 else f"{LOOKBACK_NODE}_{at + 1}"
        nodes.insert(nodes.index(space.node(source)) + 1,
                     Node(node_id, "LastSteps", {"steps": IntRange(low, high) if high > low else low}))
        edges = [(node_id, b) if a == source else (a, b) for a, b in edges] + [(source, node_id)]
    return replace(space, nodes=tuple(nodes), edges=tuple(edges))


def chosen_lookback(space: SearchSpace | None, hyperparameters: Mapping[str, Any]) -> int | None:
    """The lookback the best network was built with, from its hyperparameters (a searched
    ``lookback.steps``) or its spec's fixed ``LastSteps``; None where it sees the whole window."""
    if f"{LOOKBACK_NODE}.steps" in hyperparameters:
        return int(hyperparameters[f"{LOOKBACK_NODE}.steps"])
    if space is not None:
        for node in space.nodes:
            if node.type == "LastSteps" and not is_hp(node.param("steps")):
                return int(node.param("steps"))
    return None


def transforms_target(space: SearchSpace | None) -> bool:
    """Whether some trial of ``space`` may learn a transformed target (a fixed or searched log1p)."""
    if space is None:
        return False
    value = space.training.get("target_transform", "none")
    return "log1p" in (value.values if isinstance(value, Choice) else (value,))


def searches_loss(space: SearchSpace | None) -> bool:
    """Whether trials of ``space`` may train on different losses: a searched ``loss`` or
    ``label_smoothing`` (focal loss, say, measures on another scale than cross-entropy)."""
    return space is not None and any(is_hp(space.training.get(key)) for key in ("loss", "label_smoothing"))


def target_transform_note(space: SearchSpace, hyperparameters: Mapping[str, Any]) -> dict[str, str]:
    """The exported model's target transform for its metadata: its name and where it is undone."""
    value = hyperparameters.get("training.target_transform", space.training_value("target_transform"))
    name = value if isinstance(value, str) else "none"
    if name == "none":
        return {"name": "none"}
    return {"name": name, "inverse": "expm1 inside the model (its last layers non_negative_log_units, "
                                     "cap_log_units, exp and to_target_units): predictions are in the target's own units"}


def trial_folds(config: SearchConfig, prepared: PreparedData) -> int:
    """How many folds of train+validation each trial is scored on; 0: the validation split.

    ``config.cv_folds`` of 0 or 1 is 0; K ≥ 2 is K, for tables and feature arrays (not
    forecasts) with a random, Bayesian or grid search. Hyperband is left out: it warm-starts a
    trial from another trial's checkpoint, which a fold's model would carry to the next folds'
    validation rows.

    Raises:
        UserError: K ≥ 2 for images, sequences or a forecast, with Hyperband, or with fewer than
            two train+validation rows per fold (names the data file).
    """
    if config.cv_folds <= 1:
        return 0
    rows = len(prepared.train) + len(prepared.validation)
    if prepared.input_kind not in ("table", "features") or prepared.forecast is not None:
        raise UserError(f"{config.data_path}: --cv-folds scores trials on folds of a table or feature "
                        "arrays; for images, sequences and forecasts use --cv-folds 0")
    if config.tuner == "hyperband":
        raise UserError("--cv-folds does not combine with the hyperband tuner (it warm-starts trials from "
                        "other trials' checkpoints); use --cv-folds 0 or another tuner")
    if rows < 2 * config.cv_folds:
        raise UserError(f"{config.data_path}: {rows} train+validation rows are too few for "
                        f"{config.cv_folds} folds (two rows a fold at the least)")
    return config.cv_folds


def resolve_defaults(config: SearchConfig, prepared: PreparedData, space: SearchSpace | None = None) -> Resolved:
    """What a good practitioner would choose when the user leaves a setting open.

    The objective is validation loss: on small tables accuracy ties between many trials, so
    picking (and refitting) by it is close to arbitrary. The exported model averages a few
    refits of the best configuration where they are cheap: one refit's initial weights decide
    a point of accuracy on a small table. Where ``space`` may learn a transformed target
    (:func:`target_space`) the objective is validation RMSE instead: a trial's loss is in its
    own units (squared log error for ``log1p``), its RMSE in the target's, so trials compare by
    the latter; likewise where trials train on different losses (:func:`searches_loss`), by
    validation accuracy (RMSE for regression). A rare class among two keeps ROC AUC. With
    ``cv_folds`` each trial is scored by k-fold cross-validation (:func:`trial_folds`).

    Raises:
        UserError: cross-validation asked for data it does not fit (:func:`trial_folds`), or an objective the model does not compile for this task (e.g. ``val_auc`` with
            three classes), naming the objectives that exist for it — before any trial runs.
    """
    signature = prepared.signature
    imbalanced = signature.task == "classification" and bool(rare_classes(prepared.profile.class_counts))
    chosen = config.objective
    if chosen is None and default_objective(signature.task, signature.n_classes, imbalanced=imbalanced).name \
            == "val_loss" and (searches_loss(space) or signature.task == "regression" and transforms_target(space)):
        # Trials trained on different losses (or target units) have validation losses on
        # different scales: rank them by a metric every trial reports alike.
        chosen = "val_rmse" if signature.task == "regression" else "val_accuracy"
    try:
        objective = check_objective(chosen, signature.task, signature.n_classes, imbalanced=imbalanced)
    except UserError as exc:
        raise UserError(f"{config.data_path}: {exc}") from None
    max_trials = config.max_trials
    if max_trials is None:
        max_trials = 10_000 if config.time_budget_s else DEFAULT_MAX_TRIALS.get(prepared.input_kind, 20)
    refits = config.refits
    if refits is None:
        rows = len(prepared.train) + len(prepared.validation)
        refits = next((n for most, n in ENSEMBLE_REFITS if rows <= most), 1) if prepared.input_kind != "images" else 1
    return Resolved(objective.name, max_trials, config.max_epochs, config.patience,
                    refits if config.refit else 1, trial_folds(config, prepared))
