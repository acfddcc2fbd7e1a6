"""How long to retrain the best trial, from k-fold cross-validation on small tables.

After the search, the best configuration is retrained on train+validation for "its best number
of epochs". On a small table that number comes from one validation split of a few dozen rows and
is mostly noise: on scikit-learn's diabetes table (88 validation rows) the winning linear model's
validation loss bottomed out at epoch 8 while its training loss was still falling, and the refit
for 8 epochs scored R² 0.42–0.50 on the test rows against 0.52–0.54 for the 60 epochs that
5-fold cross-validation chose. So for tables of up to :data:`MAX_ROWS` rows the best trial is
trained once per fold (early-stopped on the fold, as in the search) and the refit runs for the
epoch where the mean validation curve over the folds is best.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import Split

FOLDS = 5
MAX_ROWS = 5_000  # train+validation rows; above this one validation split is informative enough
FOLD_COST = 0.9  # a fold's fit relative to a search trial (4/5 of the rows, no TensorBoard)


@dataclass(frozen=True)
class CrossValidation:
    """The outcome: the refit's epoch count, the mean curve's best score and each fold's best epoch."""

    epochs: int
    score: float
    fold_epochs: tuple[int, ...]


def applies(input_kind: str, rows: int) -> bool:
    """Whether the refit length is cross-validated for this data (small tables only)."""
    return input_kind in ("table", "features") and FOLDS * 2 <= rows <= MAX_ROWS


def expected_seconds(trial_seconds: float) -> float:
    """What the folds cost, given a typical trial's duration (kept back from the time budget)."""
    return FOLDS * FOLD_COST * trial_seconds


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


def cross_validate(build: Callable[[], Any], fit: Callable[..., Any], data: Split, *, objective: str,
                   direction: str, epochs: int, patience: int, batch_size: int, seed: int,
                   callbacks: Callable[[int], list[Any]], labels: np.ndarray | None = None,
                   folds: int = FOLDS) -> CrossValidation:
    """Trains ``build()`` once per fold and finds the epoch where the mean validation curve is best.

    ``fit`` is :func:`~automl_studio.engine.hypermodel.fit_arrays`; ``callbacks(k)`` gives the
    callbacks of fold ``k`` (stop and budget checks). A fold that early-stops keeps its last
    value for the remaining epochs, so it does not pull the mean towards epochs it never saw.
    """
    import keras

    sign = 1.0 if direction == "min" else -1.0
    y = np.asarray(data.y)
    n = len(y)
    curves: list[list[float]] = []
    everything = np.arange(n)
    for k, held_out in enumerate(fold_indices(n, labels, folds, seed)):
        train = np.setdiff1d(everything, held_out, assume_unique=True)
        model = build()
        extra = list(callbacks(k))
        if patience > 0:
            extra.append(keras.callbacks.EarlyStopping(objective, patience=patience, mode=direction))
        history = fit(model, _rows(data.x, train), y[train], batch_size=batch_size, epochs=epochs,
                      validation_data=(_rows(data.x, held_out), y[held_out]), callbacks=extra, verbose=0)
        curve = [float(v) for v in history.history.get(objective, [])]
        curve = [v if math.isfinite(v) else math.inf * sign for v in curve]
        if curve:
            curves.append(curve)
    if not curves:
        raise ValueError(f"no fold reported {objective}")
    length = max(len(c) for c in curves)
    padded = np.array([c + [c[-1]] * (length - len(c)) for c in curves])
    mean = padded.mean(axis=0)
    best = int(np.argmin(sign * mean))
    fold_best = tuple(int(np.argmin(sign * np.array(c))) + 1 for c in curves)
    return CrossValidation(epochs=best + 1, score=float(mean[best]), fold_epochs=fold_best)


__all__ = ["CrossValidation", "FOLDS", "MAX_ROWS", "applies", "cross_validate", "expected_seconds",
           "fold_indices"]
