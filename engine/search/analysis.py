"""Understanding a search from the trials it already ran: no model is trained again.

Three questions, each a pure function on plain data (a trial's hyperparameter values, its score,
its per-epoch curves), so the window, the command line and the tests ask them the same way:

* :func:`active_hyperparameters` — which of a trial's values its network actually used.
  KerasTuner records a value for every hyperparameter its space has seen, so a trial with one
  repeat of a block still lists ``dense.units.3``, and one that skipped an optional dropout still
  lists ``dropout.rate.0``. The search space's structure says which ones were asked for:
  :func:`~automl_studio.engine.space.spec.instantiate` asks only the active ones, so replaying
  the trial's values through it gives exactly the set the hypermodel used.
* :func:`trial_network` — the network a trial's values built: its layers in order, each with its
  settings, output shape and parameter count, from the same registry rules the editor shows (no
  Keras model is built), so the Compare page can set two trials' networks side by side.
* :func:`hyperparameter_importance` — how much each searched hyperparameter explains the score.
  A random forest (scikit-learn's ``RandomForestRegressor``) is fitted as a surrogate from the
  active values to the score, and each hyperparameter's importance is the drop in the surrogate's
  R² when its column is shuffled (``sklearn.inspection.permutation_importance``). This is the
  surrogate idea of fANOVA (Hutter, Hoos and Leyton-Brown, "An Efficient Approach for Assessing
  Hyperparameter Importance", ICML 2014) with scikit-learn's maintained permutation importance in
  place of the functional ANOVA; permutation rather than impurity importance because impurity
  importance favours many-valued features (a continuous learning rate over an on/off flag), see
  https://scikit-learn.org/stable/modules/permutation_importance.html. Inactive values are
  missing (NaN), which the forest handles natively (scikit-learn ≥ 1.4).
* :func:`diagnose` — what a trial's learning curves say: over-fitting (validation loss rising over
  the last epochs while the training loss still falls), under-fitting (both losses high and flat
  relative to the first epoch, or to the trivial baseline's loss when known) and where early
  stopping cut the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.core.objectives import Objective
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.registry import LAYER_TYPES, Shape, ShapeError, param_shown
from automl_studio.engine.space.shapes import layer_output
from automl_studio.engine.space.spec import (
    TRAINING_DEFAULTS,
    FloatRange,
    SearchSpace,
    fixed_chooser,
    hyperparameter_items,
    instantiate,
    is_hp,
)

TUNER_PREFIX = "tuner/"  # Hyperband's bookkeeping values (tuner/epochs, tuner/bracket...), not choices
MIN_TRIALS_FOR_IMPORTANCE = 3

# --- active hyperparameters ------------------------------------------------------------------


def active_hyperparameters(values: Mapping[str, Any], space: SearchSpace | None = None) -> dict[str, Any]:
    """The values of ``values`` (a trial's, as KerasTuner recorded them) that its network used.

    Args:
        values: hyperparameter name → value, e.g. ``{"block.repeats": 1, "dense.units.0": 64,
            "dense.units.1": 32, ...}``.
        space: the search space the trial was drawn from. Without one, only KerasTuner's
            ``tuner/...`` bookkeeping values are left out.

    Returns:
        The active values in the order ``values`` lists them; with ``block.repeats`` = 1 the
        example above keeps ``dense.units.0`` and drops ``dense.units.1``.
    """
    plain = {name: value for name, value in values.items() if not name.startswith(TUNER_PREFIX)}
    if space is None:
        return plain
    asked: set[str] = set()
    default = fixed_chooser(plain)

    def choose(name: str, domain: Any) -> Any:
        asked.add(name)
        return default(name, domain)

    instantiate(space, choose)
    for key, setting in TRAINING_DEFAULTS.items():
        if is_hp(space.training.get(key, setting)):
            asked.add(f"training.{key}")
    return {name: value for name, value in plain.items() if name in asked}


def searched_hyperparameters(space: SearchSpace | None, trials: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """The names of the hyperparameters a search chose values for.

    With a ``space``: each name it may ask for that has more than one possible value (a float
    range of one value is ``hp.Fixed`` to KerasTuner), in the space's order, limited to names
    some trial recorded when ``trials`` are given. Without one: every name the ``trials`` (their
    hyperparameter values) recorded, ``tuner/...`` left out, in the order they appear.
    """
    seen: list[str] = []
    for values in trials:
        seen.extend(n for n in values if n not in seen and not n.startswith(TUNER_PREFIX))
    if space is None:
        return seen
    names = [name for name, domain in hyperparameter_items(space)
             if not (isinstance(domain, FloatRange) and domain.min == domain.max) and domain.cardinality() > 1]
    return [n for n in names if n in seen] if seen else names


# --- a trial's network ------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkLayer:
    """One layer of the network a trial built.

    Attributes:
        name: the layer's id in the network, ``#i`` for the i-th copy in a repeat block
            (``dense#0``, ``dense#1``); equal names in two trials are the same place in the space.
        kind: the layer type (``Dense``, ``Dropout``, ``Input``...).
        settings: its settings as the trial fixed them, e.g. ``"units 64, activation relu"``.
        shape: its output shape without the batch axis (None when the data's shapes are unknown).
        params: its parameter count (None when unknown).
    """

    name: str
    kind: str
    settings: str
    shape: Shape | None = None
    params: int | None = None


def _setting(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    return str(value)


def trial_network(values: Mapping[str, Any], space: SearchSpace,
                  signature: DataSignature | None = None) -> list[NetworkLayer]:
    """The layers trial ``values`` built from ``space``, in the order the network runs them.

    Args:
        values: the trial's hyperparameter values as KerasTuner recorded them.
        space: the search space the trial was drawn from.
        signature: the data's shapes; without one (or when a shape rule fails, e.g. a categorical
            input whose vocabulary size is not known) shapes and parameter counts are None.

    Raises:
        SpecError: the space is malformed (a cycle, a broken repeat chain).
    """
    nodes = instantiate(space, fixed_chooser({k: v for k, v in values.items() if not k.startswith(TUNER_PREFIX)}))
    shapes: dict[str, tuple[Shape, int] | None] = {}
    layers = []
    for node in nodes:
        layer_type = LAYER_TYPES[node.type]
        shown = []
        for place, pdef in enumerate(layer_type.params):
            value = node.params.get(pdef.name, pdef.default)
            if not param_shown(layer_type, pdef, node.params):  # e.g. a numeric input's encoding
                continue
            # A layer's first two settings (units and activation, a rate, filters and kernel)
            # always; the rest only where they differ from Keras' default, so a row stays short.
            if place < 2 or value != pdef.default:
                shown.append(f"{pdef.name} {_setting(value)}")
        result: tuple[Shape, int] | None = None
        inputs = [shapes.get(i) for i in node.inputs]
        if signature is not None and all(i is not None for i in inputs):
            try:
                result = layer_output(node.type, node.params, [i[0] for i in inputs if i is not None], signature)
            except (ShapeError, SpecError, KeyError, ValueError, TypeError, ZeroDivisionError):
                result = None
        shapes[node.id] = result
        layers.append(NetworkLayer(node.id, node.type, ", ".join(shown),
                                   result[0] if result else None, result[1] if result else None))
    return layers


def signature_of(data: Mapping[str, Any]) -> DataSignature | None:
    """A :class:`DataSignature` from a search document's ``data`` identity (task, inputs, classes).

    The identity does not keep a categorical input's vocabulary size, so a search with
    categorical columns gets None (its embedding and one-hot sizes would be guesses); so does an
    identity without inputs (the data was not prepared yet).
    """
    inputs = data.get("inputs") or {}
    if not inputs or "categorical" in inputs or not data.get("task"):
        return None
    return DataSignature(task=str(data["task"]), n_classes=len(data.get("class_names") or ()),
                         inputs={k: tuple(int(d) for d in v) for k, v in inputs.items()})


# --- importance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Importance:
    """How much each searched hyperparameter explains the score.

    Attributes:
        values: name → share of the surrogate's explained variation (each ≥ 0, together 1, or
            all 0 when nothing could be explained), one per searched hyperparameter, most
            important first.
        trials: how many trials (completed, with a finite score) the surrogate was fitted on.
        fit_r2: the surrogate's R² on those trials (how well the values predict the score).
        note: why the values are all 0, in words ("" otherwise).
    """

    values: Mapping[str, float]
    trials: int
    fit_r2: float | None = None
    note: str = ""
    method: str = ("random-forest surrogate + permutation importance "
                   "(sklearn.inspection.permutation_importance)")


def encode_value(value: Any, categories: Sequence[Any]) -> float:
    """One hyperparameter value as a number for the surrogate.

    Numbers stay numbers and booleans become 0/1; any other value (a string choice) becomes its
    index in ``categories``; ``None`` (inactive) becomes NaN. Trees split on order only, so a
    log-scale range needs no log.
    """
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return float(list(categories).index(value)) if value in categories else math.nan


def hyperparameter_importance(trials: Sequence[tuple[Mapping[str, Any], float | None]],
                              names: Sequence[str], *, seed: int = 0, n_estimators: int = 64,
                              n_repeats: int = 5,
                              cancel: Callable[[], bool] | None = None) -> Importance:
    """The importance of each of ``names`` for the score, from the trials alone.

    Args:
        trials: ``(active values, score)`` per trial (see :func:`active_hyperparameters`); trials
            without a finite score are left out.
        names: the searched hyperparameters (see :func:`searched_hyperparameters`); each gets a
            value, 0 for one that never varied.
        seed: the forest's and the shuffles' seed (the same trials give the same result).
        n_estimators: trees in the surrogate forest.
        n_repeats: shuffles per hyperparameter.
        cancel: asked between steps; True stops with the values found so far all 0.

    Returns:
        An :class:`Importance`. With fewer than :data:`MIN_TRIALS_FOR_IMPORTANCE` scored trials,
        or scores that do not vary, every value is 0 and ``note`` says why.
    """
    scored = [(values, float(score)) for values, score in trials
              if score is not None and math.isfinite(float(score))]
    zeros = {name: 0.0 for name in names}
    if len(scored) < MIN_TRIALS_FOR_IMPORTANCE:
        return Importance(zeros, len(scored), note=f"needs at least {MIN_TRIALS_FOR_IMPORTANCE} completed "
                          f"trials with a score ({len(scored)} so far)")
    y = np.array([score for _, score in scored])
    if not names or float(np.ptp(y)) == 0.0:
        return Importance(zeros, len(scored), note="every trial has the same score" if names
                          else "the search has no hyperparameters")
    columns = []
    for name in names:
        observed = [v.get(name) for v, _ in scored]
        categories = sorted({v for v in observed if v is not None and not isinstance(v, (bool, int, float))},
                            key=str)
        columns.append([encode_value(v, categories) for v in observed])
    x = np.array(columns, dtype=float).T
    # Imported here: the window imports this module, and scikit-learn takes a second to import.
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    if cancel is not None and cancel():
        return Importance(zeros, len(scored), note="cancelled")
    forest = RandomForestRegressor(n_estimators=n_estimators, random_state=seed, min_samples_leaf=1)
    forest.fit(x, y)
    fit_r2 = float(forest.score(x, y))
    if cancel is not None and cancel():
        return Importance(zeros, len(scored), fit_r2, note="cancelled")
    result = permutation_importance(forest, x, y, n_repeats=n_repeats, random_state=seed)
    raw = np.clip(np.nan_to_num(result.importances_mean), 0.0, None)
    total = float(raw.sum())
    shares = raw / total if total > 0 else raw
    ordered = sorted(zip(names, map(float, shares), strict=True), key=lambda item: -item[1])
    note = "" if total > 0 else "no hyperparameter explains the score"
    return Importance(dict(ordered), len(scored), fit_r2, note)


# --- learning-curve diagnosis ----------------------------------------------------------------

OVERFIT_WINDOW = 3  # epochs at the end whose trend decides "rising" and "falling"
OVERFIT_RISE = 0.02  # the last validation loss is this much (relative) above its best
UNDERFIT_LEVEL = 0.8  # the final losses are still this share of the first epoch's (or baseline's)
UNDERFIT_FLAT = 0.02  # ... and moved less than this share over the last epochs


@dataclass(frozen=True)
class Diagnosis:
    """What one trial's learning curves say.

    Attributes:
        overfitting: the validation loss rose over the last epochs while the training loss fell.
        underfitting: both losses stayed high (near the first epoch's, or the trivial baseline's
            when given) and flat.
        best_epoch: the epoch (from 1) with the best objective value, None without one.
        epochs_run: how many epochs the trial trained.
        stopped_early_at: the last epoch when early stopping ended the run before its epoch
            limit, else None.
        reasons: one sentence per finding, in words, with the numbers behind it.
    """

    overfitting: bool = False
    underfitting: bool = False
    best_epoch: int | None = None
    epochs_run: int = 0
    stopped_early_at: int | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def badges(self) -> tuple[str, ...]:
        """Short labels: ``"over-fitting"``, ``"under-fitting"``, ``"stopped early at epoch N"``."""
        out = []
        if self.overfitting:
            out.append("over-fitting")
        if self.underfitting:
            out.append("under-fitting")
        if self.stopped_early_at is not None:
            out.append(f"stopped early at epoch {self.stopped_early_at}")
        return tuple(out)


def curves_from_history(history: Sequence[Mapping[str, Any]]) -> dict[str, list[float]]:
    """Per-epoch rows (``[{"epoch": 1, "loss": .., "val_loss": ..}, ...]``, as
    :func:`~automl_studio.engine.search.project.read_trials` keeps them) as one series per metric
    (NaN where an epoch did not log it)."""
    names: list[str] = []
    for row in history:
        names.extend(k for k in row if k != "epoch" and k not in names)
    return {name: [_finite(row.get(name)) for row in history] for name in names}


def _finite(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan


def _slope(series: Sequence[float]) -> float:
    """The least-squares slope per epoch of ``series`` (NaN values skipped)."""
    y = np.asarray(series, dtype=float)
    x = np.arange(len(y), dtype=float)
    keep = np.isfinite(y)
    if keep.sum() < 2:
        return 0.0
    return float(np.polyfit(x[keep], y[keep], 1)[0])


def best_epoch(curves: Mapping[str, Sequence[float]], objective: Objective) -> int | None:
    """The epoch (from 1) with the best value of ``objective`` (the one early stopping and
    KerasTuner keep), or None when the curves do not log it."""
    series = np.asarray(curves.get(objective.name, ()), dtype=float)
    if not np.isfinite(series).any():
        return None
    values = np.where(np.isfinite(series), series, -np.inf if objective.maximize else np.inf)
    return int(np.argmax(values) if objective.maximize else np.argmin(values)) + 1


def epoch_limit(values: Mapping[str, Any], space: SearchSpace | None = None,
                max_epochs: int | None = None) -> int | None:
    """The most epochs a trial could train: Hyperband's ``tuner/epochs`` for it, else the
    search's ``max_epochs``, else the space's ``training.epochs`` (the trial's value when it is
    searched); None when none is known."""
    own = values.get(f"{TUNER_PREFIX}epochs")
    if isinstance(own, int) and not isinstance(own, bool):
        return own
    if max_epochs is not None:
        return int(max_epochs)
    if space is None:
        return None
    setting = space.training.get("epochs", TRAINING_DEFAULTS["epochs"])
    chosen = values.get("training.epochs") if is_hp(setting) else setting
    return int(chosen) if isinstance(chosen, (int, float)) and not isinstance(chosen, bool) else None


def diagnose(curves: Mapping[str, Sequence[float]], objective: Objective, *,
             max_epochs: int | None = None, baseline_loss: float | None = None,
             window: int = OVERFIT_WINDOW) -> Diagnosis:
    """Reads one trial's learning curves.

    Args:
        curves: one value per epoch for each metric (``loss``, ``val_loss``, ...), e.g. from
            :func:`curves_from_history`.
        objective: what the trials are ranked by (its best epoch is the one early stopping keeps).
        max_epochs: the trial's epoch limit; a run that ended before it was stopped early.
        baseline_loss: the trivial model's loss, if known: losses near it are "high".
        window: how many final epochs decide whether a curve rises or falls.

    Over-fitting needs ``window + 1`` epochs at least: the validation loss's slope over the last
    ``window`` epochs is positive, its last value is over 2% above its best, and the training
    loss's slope there is negative. Under-fitting: both final losses are at least 80% of the first
    epoch's (or of ``baseline_loss``) and moved less than 2% over the last epochs.
    """
    loss = [v for v in curves.get("loss", ())]
    val = [v for v in curves.get("val_loss", ())]
    epochs = max((len(s) for s in curves.values()), default=0)
    best = best_epoch(curves, objective)
    reasons: list[str] = []
    overfit = underfit = False
    tail = window + 1
    if len(val) >= tail and len(loss) >= tail:
        val_tail, loss_tail = val[-tail:], loss[-tail:]
        val_best = min((v for v in val if math.isfinite(v)), default=math.nan)
        last = val[-1]
        if (math.isfinite(last) and math.isfinite(val_best) and _slope(val_tail) > 0 and _slope(loss_tail) < 0
                and last > val_best + OVERFIT_RISE * abs(val_best)):
            overfit = True
            reasons.append(f"over-fitting: val_loss rose from {val_best:.4g} to {last:.4g} over the last "
                           f"epochs while loss fell to {loss[-1]:.4g}")
    if len(loss) >= 2 and len(val) >= 2:
        flat = min(window, len(loss) - 1)
        finals = []
        for name, series in (("loss", loss), ("val_loss", val)):
            first, end, before = series[0], series[-1], series[-1 - flat]
            reference = baseline_loss if baseline_loss is not None else first
            if not all(math.isfinite(v) for v in (first, end, before, reference)) or reference <= 0:
                break
            high = end >= UNDERFIT_LEVEL * reference
            still = abs(end - before) <= UNDERFIT_FLAT * abs(reference)
            finals.append((name, end, reference, high and still))
        else:
            if finals and all(ok for *_, ok in finals):
                underfit = True
                against = "the trivial baseline's loss" if baseline_loss is not None else "the first epoch's"
                reasons.append("under-fitting: " + " and ".join(f"{name} {end:.4g}" for name, end, *_ in finals)
                               + f" stayed flat and near {against} ({finals[0][2]:.4g})")
    stopped = None
    if max_epochs is not None and 0 < epochs < max_epochs:
        stopped = epochs
        kept = f"; its best epoch was {best}" if best is not None else ""
        reasons.append(f"early stopping ended the run at epoch {epochs} of {max_epochs}{kept}")
    return Diagnosis(overfit, underfit, best, epochs, stopped, tuple(reasons))
