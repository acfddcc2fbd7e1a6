"""Weighted ensembles of the best different trials: greedy ensemble selection on validation.

Caruana et al. 2004 ("Ensemble selection from libraries of models"): start from the best single
model, then repeatedly add (with replacement) the model whose addition most improves the
validation objective of the averaged predictions; stop when no addition improves it or after a
number of rounds. How often a model was added is its integer weight. Scores are the search's own
objective (:mod:`automl_studio.engine.core.objectives`), computed with scikit-learn from the
members' validation predictions (class probabilities, or values in the target's units).

This module is plain NumPy and scikit-learn; the Keras model that combines the members is
:func:`automl_studio.engine.train.hypermodel.weighted_models`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_studio.engine.core.objectives import Objective

ENSEMBLE_CANDIDATES = 8  # the best completed trials offered to the selection
ENSEMBLE_ROUNDS = 20  # additions at most (Caruana et al.: a few dozen suffice for a small library)
ENSEMBLE_MEMBER_PREFIX = "trial_"  # a member network's name in the exported model: trial_<id>
# SearchConfig.extra key (tests and measurements of the ensemble's path): export an ensemble even
# where selection keeps the best trial alone, adding the second-best candidate with weight 1.
FORCE_ENSEMBLE = "force_ensemble"


@dataclass(frozen=True)
class EnsembleSelection:
    """What greedy selection chose.

    Attributes:
        members: indices into the candidates, best single model first, each chosen at least once.
        weights: how many times each member was chosen (integers >= 1, same order).
        score: the weighted average's validation objective.
        single_score: the best single candidate's validation objective.
        single: the index of that best single candidate.
        singles: every candidate's own validation objective (same order as the candidates).
        wins: whether the ensemble strictly beats the best single candidate (a candidate is only
            ever added when it improves the objective, so: whether it holds two or more).
    """

    members: tuple[int, ...]
    weights: tuple[int, ...]
    score: float
    single_score: float
    single: int
    singles: tuple[float, ...]
    wins: bool


def objective_score(objective: Objective, task: str, y: np.ndarray, predicted: np.ndarray) -> float:
    """The validation objective of ``predicted`` against ``y``, as scikit-learn computes it.

    Args:
        objective: the search's objective; ``val_loss`` is the log loss for classification and
            the mean squared error for regression (the task's usual loss).
        task: ``"classification"`` or ``"regression"``.
        y: class indices (n,) or target values (n,) / (n, outputs).
        predicted: class probabilities (n, classes) or (n, 1) for one sigmoid unit, or values
            in the target's units (n, outputs).

    Raises:
        ValueError: the metric is undefined for these rows (e.g. ROC AUC with one class present)
            or the objective is unknown.
    """
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # undefined is refused below
        value = _score(objective, task, y, predicted)
    if not math.isfinite(value):
        raise ValueError(f"{objective.name} is undefined on these validation rows")
    return value


def _score(objective: Objective, task: str, y: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn import metrics

    name = objective.name
    if task == "classification":
        labels = np.asarray(y).astype(int).ravel()
        probabilities = np.asarray(predicted, dtype=np.float64)
        binary = probabilities.shape[1] == 1
        if name == "val_accuracy":
            chosen = (probabilities[:, 0] >= 0.5).astype(int) if binary else probabilities.argmax(axis=1)
            return float(metrics.accuracy_score(labels, chosen))
        if name == "val_auc":
            return float(metrics.roc_auc_score(labels, probabilities[:, 0] if binary else probabilities,
                                               multi_class="ovr"))
        if name == "val_loss":
            if binary:
                return float(metrics.log_loss(labels, probabilities[:, 0], labels=[0, 1]))
            # float32 softmax rows sum to 1 within ~1e-7; scikit-learn warns about that.
            probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
            return float(metrics.log_loss(labels, probabilities, labels=list(range(probabilities.shape[1]))))
        raise ValueError(f"objective {name} has no classification form")
    truth = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    values = np.asarray(predicted, dtype=np.float64).reshape(len(predicted), -1)
    if name == "val_rmse":
        return float(metrics.root_mean_squared_error(truth, values))
    if name == "val_mae":
        return float(metrics.mean_absolute_error(truth, values))
    if name == "val_loss":
        return float(metrics.mean_squared_error(truth, values))
    raise ValueError(f"objective {name} has no regression form")


def greedy_selection(predictions: Sequence[np.ndarray], y: np.ndarray, objective: Objective, task: str,
                     rounds: int = ENSEMBLE_ROUNDS) -> EnsembleSelection:
    """Caruana's forward selection with replacement over the candidates' validation predictions.

    Args:
        predictions: one array per candidate, all of the same shape (rows × outputs), in the
            search's ranking (ties between equal scores go to the earlier candidate).
        y: the validation targets (see :func:`objective_score`).
        objective: the search's objective (its name and direction).
        task: ``"classification"`` or ``"regression"``.
        rounds: the most additions after the first member.

    Raises:
        ValueError: no candidates, or the objective cannot be computed on these rows.
    """
    if not predictions:
        raise ValueError("no candidates to select from")
    stacked = [np.asarray(p, dtype=np.float64) for p in predictions]
    singles = [objective_score(objective, task, y, p) for p in stacked]
    single = min(range(len(singles)), key=lambda i: (objective.sort_key(singles[i]), i))
    counts = [0] * len(stacked)
    counts[single] = 1
    total, chosen, score = stacked[single].copy(), 1, singles[single]
    for _ in range(rounds):
        trials = [objective_score(objective, task, y, (total + p) / (chosen + 1)) for p in stacked]
        pick = min(range(len(trials)), key=lambda i: (objective.sort_key(trials[i]), i))
        if not objective.better(trials[pick], score):
            break
        counts[pick] += 1
        total += stacked[pick]
        chosen += 1
        score = trials[pick]
    members = (single, *(i for i in range(len(counts)) if counts[i] and i != single))
    return EnsembleSelection(members, tuple(counts[i] for i in members), float(score), float(singles[single]),
                             single, tuple(map(float, singles)), len(members) > 1)


def forced(selection: EnsembleSelection, objective: Objective) -> EnsembleSelection:
    """``selection`` with at least two members (for :data:`FORCE_ENSEMBLE`): where it kept the
    best single candidate alone, the next best joins with weight 1; ``score`` and ``wins`` stay
    as selection found them (the pair was not scored)."""
    singles = selection.singles
    if len(selection.members) > 1 or len(singles) < 2:
        return selection
    second = min((i for i in range(len(singles)) if i != selection.single),
                 key=lambda i: (objective.sort_key(singles[i]), i))
    return dataclasses.replace(selection, members=(selection.single, second), weights=(1, 1))


def describe_ensemble(ensemble: Mapping[str, Any]) -> str:
    """``"ensemble of 3 trials (ids 04, 01, 07; weights 3, 1, 1; retrained on train+validation)"``
    from an ensemble record (``{"trials": [...], "weights": [...], "refitted": [...]}``, as the
    metadata and ``search_finished`` hold it; ``refitted``: the members retrained, absent in
    older records); ``""`` for an empty or malformed one."""
    trials, weights = ensemble.get("trials"), ensemble.get("weights")
    if not isinstance(trials, list) or not isinstance(weights, list) or not trials:
        return ""
    refitted = ensemble.get("refitted")
    retrained = ""
    if isinstance(refitted, list) and refitted:
        retrained = ("; retrained on train+validation" if len(refitted) == len(trials)
                     else f"; {', '.join(map(str, refitted))} retrained on train+validation")
    return (f"ensemble of {len(trials)} trials (ids {', '.join(map(str, trials))}; "
            f"weights {', '.join(map(str, weights))}{retrained})")
