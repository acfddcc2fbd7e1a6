"""How long to retrain the best trial, from k-fold cross-validation on small tables.

After the search, the best configuration is retrained on train+validation for "its best number
of epochs". On a small table that number comes from one validation split of a few dozen rows and
is mostly noise: on scikit-learn's diabetes table (88 validation rows) the winning linear model's
validation loss bottomed out at epoch 8 while its training loss was still falling; refit for 9
epochs it scored R² 0.42–0.50 on the test rows (three seeds), for 25–100 epochs 0.51–0.55, and
the folds below chose 27 (R² 0.546, BENCHMARKS.md). So for tables of up to :data:`MAX_ROWS` rows the best trial is
trained once per fold (early-stopped on the fold, as in the search) and the refit runs for the
median of the folds' best epochs, and each fold is scored at that length (:func:`at_epoch`),
as the refit will be trained. The same folds also choose which trial is exported: the
validation split's best few trials (``SearchConfig.finalists``) and the first (linear) one are
each scored on them, and the smallest network within a standard error of the best mean (and no
less steady) is exported (:func:`choose`): on held-out grunfeld (35 validation rows) the split's
best trial scored test R² -0.115 where the folds of the same 18 configurations picked one at 0.942
(benchmarks/results/experiments/grunfeld_cv_selection_diagnostic.json). Under a time budget the session plans how many folds and finalists
fit (:func:`~automl_studio.engine.search.defaults.plan_finish`) and the folds that finished decide.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_studio.engine.core.objectives import Objective
from automl_studio.engine.data.features import Split

FOLDS = 5
MAX_ROWS = 1_000  # train+validation rows (~200 validation rows); above, one split is informative enough
FOLD_COST = 0.9  # a fold's fit relative to a search trial (4/5 of the rows, no TensorBoard)


class TooFewFolds(Exception):
    """Fewer folds than needed for an answer could run in the time left."""


@dataclass(frozen=True)
class CrossValidation:
    """The outcome: the refit's epoch count, the folds' mean score, each finished fold's best
    epoch, its wall-clock seconds (building and fitting) and its score at the refit's length
    (:func:`at_epoch`; a forest's: its one fit's), and the network's count of weights
    (``keras.Model.count_params``; None where unknown)."""

    epochs: int
    score: float
    fold_epochs: tuple[int, ...]
    fold_seconds: tuple[float, ...] = ()
    fold_scores: tuple[float, ...] = ()
    parameters: int | None = None

    @property
    def se(self) -> float | None:
        """The standard error of the mean score (sample standard deviation / sqrt(folds));
        None with fewer than two folds."""
        n = len(self.fold_scores)
        return float(np.std(self.fold_scores, ddof=1) / np.sqrt(n)) if n >= 2 else None


def paired_lead(first: np.ndarray, second: np.ndarray, maximize: bool) -> tuple[float, float]:
    """How far ``first`` leads ``second``, two models' per-row objective terms on the same rows
    (rows; :func:`~automl_studio.engine.train.baselines.objective_rows`): the mean of their paired
    differences (positive: ``first`` is better, in the objective's direction) and its standard
    error (sample standard deviation / sqrt(rows); 0 for one row). Paired, because the rows'
    own difficulty is shared by both models and cancels.

    Raises:
        ValueError: the two hold different numbers of rows, or none.
    """
    a, b = np.asarray(first, dtype=np.float64).reshape(-1), np.asarray(second, dtype=np.float64).reshape(-1)
    if len(a) != len(b) or not len(a):
        raise ValueError(f"paired terms need the same rows, not {len(a)} and {len(b)}")
    differences = a - b if maximize else b - a
    se = float(np.std(differences, ddof=1) / np.sqrt(len(a))) if len(a) > 1 else 0.0
    return float(np.mean(differences)), se


def applies(input_kind: str, rows: int) -> bool:
    """Whether the refit length is cross-validated for this data (small tables only)."""
    return input_kind in ("table", "features") and FOLDS * 2 <= rows <= MAX_ROWS


def fold_seconds_from_trial(trial_seconds: float) -> float:
    """One fold's expected seconds from a search trial's duration, before any epoch was measured."""
    return FOLD_COST * trial_seconds


def best_mean(results: Mapping[str, CrossValidation], objective: Objective) -> str:
    """The key of the best mean fold score in ``objective``'s direction (ties: the earlier key).

    Raises:
        ValueError: ``results`` is empty.
    """
    if not results:
        raise ValueError("no cross-validated finalist to choose from")
    order = list(results)
    return min(order, key=lambda key: (objective.sort_key(results[key].score), order.index(key)))


def choose(results: Mapping[str, CrossValidation], objective: Objective) -> str:
    """The key to export: the network with the fewest weights among those whose mean fold score
    lies within one standard error of the best mean (in ``objective``'s direction) and whose folds
    do not spread further: its mean plus its own standard error lies within one standard error of
    the best's mean plus standard error.

    This is the one-standard-error rule (Breiman et al., *Classification and Regression Trees*,
    1984, §3.4.3; Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2009,
    §7.10: "the most parsimonious model whose error is no more than one standard error above
    the error of the best model"), the weights (:attr:`CrossValidation.parameters`) measuring
    parsimony: on a small table means a fraction of their folds' spread apart are noise, and
    there the smaller network (often the first, linear trial) generalises at least as well. The
    rule assumes the smaller network is the steadier one; the second bound drops a candidate
    whose folds disagree far more than the best's (on held-out barley, a linear trial at 43 ± 14
    against the best's 39 ± 5 was exported by the plain rule and scored test R² 0.43, where the
    best's configuration scores 0.75). Ties, and finalists whose size is unknown, go to the
    earlier key (the validation split's best comes first). With fewer than two folds (no
    standard error) the best mean wins.

    Raises:
        ValueError: ``results`` is empty.
    """
    near, _ = _within_noise(results, objective)
    return min(near, key=lambda key: _size_order(results, key))


def unsteady(results: Mapping[str, CrossValidation], objective: Objective) -> list[str]:
    """The finalists :func:`choose` passes over for their spread alone: smaller than the one it
    chooses and within one standard error of the best mean, but their mean plus their own
    standard error is not within one standard error of the best's. Empty when none is.

    Raises:
        ValueError: ``results`` is empty.
    """
    chosen = choose(results, objective)
    _, spread = _within_noise(results, objective)
    return [key for key in spread if _size_order(results, key) < _size_order(results, chosen)]


def _within_noise(results: Mapping[str, CrossValidation], objective: Objective) -> tuple[list[str], list[str]]:
    # The keys :func:`choose` picks from, and those within a standard error of the best mean but
    # spreading too far; both in ``results``' order.
    best = best_mean(results, objective)
    se = results[best].se or 0.0
    mean_limit = objective.sort_key(results[best].score) + se
    near = [key for key in results if objective.sort_key(results[key].score) <= mean_limit]
    steady = [key for key in near
              if objective.sort_key(results[key].score) + (results[key].se or 0.0) <= mean_limit + se]
    return steady, [key for key in near if key not in steady]


def _size_order(results: Mapping[str, CrossValidation], key: str) -> tuple[float, int]:
    # Fewest weights first (unknown: last), then the earlier key.
    weights = results[key].parameters
    return (math.inf if weights is None else weights, list(results).index(key))


def fold_indices(n: int, labels: np.ndarray | None, folds: int, seed: int) -> list[np.ndarray]:
    """Validation rows of each fold; classes are dealt round-robin so each fold keeps their mix."""
    rng = np.random.default_rng(seed)
    if labels is None:
        order = rng.permutation(n)
    else:
        # Shuffle, then sort by class (stable): dealing this order round-robin stratifies.
        shuffled = rng.permutation(n)
        order = shuffled[np.argsort(labels[shuffled], kind="stable")]
    return [np.sort(order[k::folds]) for k in range(folds)]


def _rows(x: Any, idx: np.ndarray) -> Any:
    return {key: value[idx] for key, value in x.items()} if isinstance(x, dict) else x[idx]


def cross_validate(build: Callable[[], Any], fit: Callable[..., Any], data: Split, *, objective: Objective,
                   epochs: int, patience: int, batch_size: int, seed: int,
                   callbacks: Callable[[int], list[Any]], labels: np.ndarray | None = None,
                   folds: int = FOLDS, cut: tuple[type[BaseException], ...] = (),
                   min_folds: int = 2,
                   may_start: Callable[[int, tuple[float, ...]], bool] | None = None) -> CrossValidation:
    """Trains ``build()`` once per fold, early-stopped on the fold; the refit length is the median
    of the folds' best epochs, and each fold's score its objective at that length (:func:`at_epoch`).

    ``fit`` is :func:`~automl_studio.engine.train.hypermodel.fit_arrays`; ``callbacks(k)`` gives the
    callbacks of fold ``k`` (stop and budget checks). Each fold early-stops on ``objective`` in
    its direction, and its best epoch is the best value in that direction. A fold interrupted
    by one of ``cut`` (the time budget) is dropped and no further fold starts: the answer comes
    from the folds that finished, if there are ``min_folds`` of them (else the exception
    propagates). ``may_start(k, seconds)`` is asked before fold ``k`` with the seconds each
    finished fold took; ``False`` starts no further fold (the time budget, planned from those
    measures), and fewer than ``min_folds`` finished folds then raise :class:`TooFewFolds`.
    The median, not the mean curve: folds stop at different epochs, and padding the short ones
    would favour the longest fold's last epoch.

    Raises:
        TooFewFolds: ``may_start`` refused a fold before ``min_folds`` folds finished.
        ValueError: no fold reported the objective.
    """
    import keras

    y = np.asarray(data.y)
    n = len(y)
    best_epochs: list[int] = []
    curves: list[np.ndarray] = []
    seconds: list[float] = []
    parameters: int | None = None
    everything = np.arange(n)
    for k, held_out in enumerate(fold_indices(n, labels, folds, seed)):
        if may_start is not None and not may_start(k, tuple(seconds)):
            if len(best_epochs) < min_folds:
                raise TooFewFolds(f"{len(best_epochs)} of {folds} folds finished in the time left; "
                                  f"at least {min_folds} are needed")
            break
        started = time.monotonic()
        train = np.setdiff1d(everything, held_out, assume_unique=True)
        model = build()
        if parameters is None and hasattr(model, "count_params"):
            try:
                parameters = int(model.count_params())
            except ValueError:  # a model not built yet has no count (parameters stays None)
                pass
        extra = list(callbacks(k))
        if patience > 0:
            extra.append(keras.callbacks.EarlyStopping(objective.name, patience=patience,
                                                       mode=objective.direction))
        try:
            history = fit(model, _rows(data.x, train), y[train], batch_size=batch_size, epochs=epochs,
                          validation_data=(_rows(data.x, held_out), y[held_out]), callbacks=extra, verbose=0)
        except cut:
            if len(best_epochs) >= min_folds:
                break
            raise
        seconds.append(time.monotonic() - started)
        curve = np.array([float(v) for v in history.history.get(objective.name, [])])
        best = _best_finite(curve, objective)
        if best is not None:
            best_epochs.append(best + 1)
            curves.append(curve)
    if not best_epochs:
        raise ValueError(f"no fold reported {objective.name}")
    epochs = max(1, int(round(float(np.median(best_epochs)))))
    scores = tuple(at_epoch(curve, epochs, objective) for curve in curves)
    return CrossValidation(epochs=epochs, score=float(np.mean(scores)), fold_epochs=tuple(best_epochs),
                           fold_seconds=tuple(seconds), fold_scores=scores, parameters=parameters)


def at_epoch(curve: np.ndarray, epoch: int, objective: Objective) -> float:
    """A fold's score (``curve``: its objective after each epoch) at ``epoch`` (1-based), the
    refit's length: its last epoch's where early stopping ended it sooner, its best finite one
    where that value is not finite.

    A fold's own best epoch is chosen on the rows it is scored on, so its best value is optimistic
    by the spread of its curve, and most for the networks whose curves wander; scored at the
    length the refit will train, each network is judged as it will be exported (on held-out
    barley and grunfeld, the networks' best-epoch fold scores beat the forest's on 4 of 6 splits
    where the forest was the better on the test rows).

    Raises:
        ValueError: no value of ``curve`` is finite.
    """
    value = float(curve[min(epoch, len(curve)) - 1])
    if np.isfinite(value):
        return value
    best = _best_finite(curve, objective)
    if best is None:
        raise ValueError(f"no finite {objective.name} in the fold's curve")
    return float(curve[best])


def _best_finite(curve: np.ndarray, objective: Objective) -> int | None:
    # The 0-based epoch of the curve's best finite value in the objective's direction (ties: the
    # earlier); None where no value is finite.
    finite = np.isfinite(curve)
    if not finite.any():
        return None
    return int(np.argmin(np.where(finite, [objective.sort_key(float(v)) for v in curve], np.inf)))


__all__ = ["CrossValidation", "FOLDS", "MAX_ROWS", "TooFewFolds", "applies", "best_mean", "choose", "cross_validate",
           "at_epoch", "fold_indices", "fold_seconds_from_trial"]
