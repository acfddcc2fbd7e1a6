"""Test-split metrics in plain NumPy, and each trial's per-class recall (:func:`class_recall`,
scikit-learn's).

Classification: accuracy, balanced accuracy, macro precision/recall/F1, the confusion matrix,
and ROC AUC for two classes. Regression: RMSE, MAE and R².

Every result is also shown against its trivial baseline on the same test split
(:func:`baseline_metrics`): the training split's most common class, or its mean for regression.
A model that does not beat it learnt nothing the class counts or the mean did not already say,
and :func:`compare_with_baseline` says so in words (the one wording of this comparison: the
command line, ``automl-studio info`` and the window all show :func:`baseline_note`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    """Metrics from true class indices and predicted probabilities (N×1 sigmoid or N×K softmax)."""
    k = len(class_names)
    proba = np.asarray(proba, dtype=np.float64)
    positive: np.ndarray | None
    if proba.ndim == 2 and proba.shape[1] == 1:
        positive = proba[:, 0]
        predicted = (positive >= 0.5).astype(int)
    else:
        positive = proba[:, 1] if k == 2 else None
        predicted = np.argmax(proba, axis=1)
    y_true = np.asarray(y_true).astype(int)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y_true, predicted), 1)
    support = confusion.sum(axis=1)
    predicted_count = confusion.sum(axis=0)
    tp = np.diag(confusion).astype(float)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted_count, out=np.zeros(k), where=predicted_count > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=(precision + recall) > 0)
    present = support > 0
    out: dict[str, Any] = {
        "accuracy": float(tp.sum() / max(len(y_true), 1)),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "precision_macro": float(precision[present].mean()) if present.any() else 0.0,
        "recall_macro": float(recall[present].mean()) if present.any() else 0.0,
        "f1_macro": float(f1[present].mean()) if present.any() else 0.0,
        "confusion_matrix": confusion.tolist(),
        "class_names": list(class_names),
        "n": int(len(y_true)),
    }
    if k == 2 and positive is not None:
        auc = roc_auc(y_true, positive)
        if auc is not None:
            out["roc_auc"] = auc
    return out


def class_recall(y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...]) -> dict[str, float | None]:
    """The recall of each class: the share of its rows predicted as it (scikit-learn's
    ``recall_score(average=None)``), by class name in class-index order.

    ``y_true`` holds class indices (or one-hot rows); ``proba`` is N×1 (sigmoid, class 1 from
    0.5) or N×K (softmax, the most probable class). A class with no row in ``y_true`` has no
    recall: ``None``.
    """
    from sklearn.metrics import recall_score

    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] == 1:
        predicted = (proba[:, 0] >= 0.5).astype(int)
    else:
        predicted = np.argmax(proba, axis=1)
    values = recall_score(_class_indices(y_true), predicted, labels=list(range(len(class_names))),
                          average=None, zero_division=np.nan)
    return {name: None if math.isnan(value) else float(value)
            for name, value in zip(class_names, values, strict=True)}


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve by the rank-sum formula (ties get average ranks)."""
    y_true = np.asarray(y_true).astype(int)
    n_pos, n_neg = int((y_true == 1).sum()), int((y_true == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=float)
    sorted_scores = np.asarray(score)[order]
    i = 0
    while i < len(sorted_scores):
        j = i
        while j + 1 < len(sorted_scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    err = y_pred - y_true
    ss_res = float((err ** 2).sum())
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "mae": float(np.mean(np.abs(err))),
        "r2": 1 - ss_res / ss_tot if ss_tot > 0 else 0.0,
        "n": int(len(y_true)),
    }


def sample_points(actual: np.ndarray, predicted: np.ndarray, limit: int = 500, seed: int = 0) -> dict[str, list[float]]:
    """Up to ``limit`` (actual, predicted) pairs for a predicted-vs-actual plot."""
    actual = np.asarray(actual, dtype=float).reshape(-1)
    predicted = np.asarray(predicted, dtype=float).reshape(-1)
    idx = np.arange(len(actual))
    if len(idx) > limit:
        idx = np.random.default_rng(seed).choice(idx, limit, replace=False)
    return {"actual": actual[idx].tolist(), "predicted": predicted[idx].tolist()}


def _class_indices(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    return (y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)).astype(int)


def baseline_metrics(task: str, y_train: np.ndarray, y_test: np.ndarray,
                     class_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """The test metrics of the trivial model, fitted on ``y_train`` alone.

    Classification: always the most common training class (scikit-learn's
    ``DummyClassifier(strategy="most_frequent")``; ties go to the first class). Regression:
    always the training mean (``DummyRegressor()``). The result has the same numeric keys as
    :func:`classification_metrics` / :func:`regression_metrics` (no confusion matrix) plus
    ``rule``, which says in words what the baseline predicts.
    """
    if task == "classification":
        k = max(len(class_names), 1)
        train = _class_indices(y_train)
        counts = np.bincount(train, minlength=k) if len(train) else np.zeros(k, dtype=int)
        majority = int(counts.argmax())
        test = _class_indices(y_test)
        proba = np.zeros((len(test), k))
        proba[:, majority] = 1.0
        names = tuple(class_names) or tuple(str(i) for i in range(k))
        out = classification_metrics(test, proba, names)
        for key in ("confusion_matrix", "class_names"):
            out.pop(key, None)
        share = counts[majority] / max(int(counts.sum()), 1)
        out["rule"] = (f"always the most common class, {names[majority]} "
                       f"({100 * share:.0f}% of the training rows)")
        return out
    train_y = np.asarray(y_train, dtype=np.float64)
    mean = train_y.mean(axis=0) if len(train_y) else np.zeros(train_y.shape[1:])
    test_y = np.asarray(y_test, dtype=np.float64)
    out = regression_metrics(test_y, np.broadcast_to(mean, test_y.shape))
    shown = f"{float(np.mean(mean)):.4g}"
    out["rule"] = f"always the training mean ({shown})"
    return out


@dataclass(frozen=True)
class BaselineComparison:
    """A model's test metrics against its trivial baseline's on the same test split.

    Attributes:
        beats: whether the model is better than the baseline (see :func:`compare_with_baseline`).
        metric: the metric that decided it, as shown (``accuracy``, ``balanced accuracy``, ``RMSE``).
        model: the model's value of ``metric``.
        baseline: the baseline's value of ``metric``.
        rule: what the baseline predicts, in words (``baseline_metrics``' ``rule``).
    """

    beats: bool
    metric: str
    model: float
    baseline: float
    rule: str

    @property
    def note(self) -> str:
        """The comparison in words: one sentence when the model beats its baseline, with the
        likely causes and what to do when it does not. The window and the command line show it."""
        shown = f"{self.model:.4g} against {self.baseline:.4g}" if self.metric == "RMSE" \
            else f"{self.model:.3f} against {self.baseline:.3f}"
        verb = "beats" if self.beats else "does not beat"
        text = (f"The best model {verb} the trivial baseline ({self.rule}) on the test split: "
                f"{self.metric} {shown}.")
        if self.beats:
            return text
        return (f"{text} Likely causes: too few epochs or trials, a learning rate too high or too "
                "low, or too little data for this network. Search longer, or change the network or data.")


def compare_with_baseline(test_metrics: Mapping[str, Any],
                          baseline: Mapping[str, Any]) -> BaselineComparison | None:
    """The model's test metrics against :func:`baseline_metrics` of the same test split;
    ``None`` when either side has no metrics to compare.

    A classifier beats the baseline when its accuracy is higher, or when its balanced
    accuracy is higher by more than guessing gives on ``n`` test rows (1/√n: finding a rare
    class is progress even where plain accuracy ties, but a few lucky guesses are not); a
    regressor beats it when its RMSE is lower.
    """
    def number(source: Mapping[str, Any], key: str) -> float | None:
        value = source.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    rule = str(baseline.get("rule") or "the trivial baseline")
    model_acc, base_acc = number(test_metrics, "accuracy"), number(baseline, "accuracy")
    if model_acc is not None and base_acc is not None:
        if model_acc > base_acc + 1e-12:
            return BaselineComparison(True, "accuracy", model_acc, base_acc, rule)
        rows = number(test_metrics, "n") or number(baseline, "n") or 1.0
        model_bal, base_bal = number(test_metrics, "balanced_accuracy"), number(baseline, "balanced_accuracy")
        if model_bal is not None and base_bal is not None and model_bal > base_bal + 1 / math.sqrt(max(rows, 1.0)):
            return BaselineComparison(True, "balanced accuracy", model_bal, base_bal, rule)
        return BaselineComparison(False, "accuracy", model_acc, base_acc, rule)
    model_rmse, base_rmse = number(test_metrics, "rmse"), number(baseline, "rmse")
    if model_rmse is not None and base_rmse is not None:
        return BaselineComparison(model_rmse < base_rmse - 1e-12, "RMSE", model_rmse, base_rmse, rule)
    return None


def baseline_note(test_metrics: Mapping[str, Any], baseline: Mapping[str, Any]) -> str:
    """:attr:`BaselineComparison.note` of :func:`compare_with_baseline`, ``""`` when there is
    nothing to compare (no test split, or a model exported before baselines were kept)."""
    comparison = compare_with_baseline(test_metrics, baseline)
    return comparison.note if comparison is not None else ""


def naive_note(test_metrics: Mapping[str, Any], baseline: Mapping[str, Any]) -> str:
    """A forecast's test MASE beside each naive forecast's on the same test windows, e.g. ``MASE
    on the test period: the model 0.866, last value 3.200, seasonal naive 0.938 (lower is
    better).``; ``""`` for a search that is no forecast (``baseline`` has no ``naive`` metrics)."""
    naive = baseline.get("naive")
    if not isinstance(naive, Mapping) or not naive:
        return ""

    def mase(metrics: Any) -> str:
        value = metrics.get("mase") if isinstance(metrics, Mapping) else None
        return f"{value:.3f}" if isinstance(value, (int, float)) else "undefined"

    naives = ", ".join(f"{name} {mase(metrics)}" for name, metrics in naive.items())
    return f"MASE on the test period: the model {mase(test_metrics)}, {naives} (lower is better)."


def baseline_shortfall(test_metrics: Mapping[str, Any], baseline: Mapping[str, Any]) -> str | None:
    """Why the model is no better than its trivial baseline (:attr:`BaselineComparison.note`);
    ``None`` when it is better, or when either side has no metrics to compare."""
    comparison = compare_with_baseline(test_metrics, baseline)
    return comparison.note if comparison is not None and not comparison.beats else None
