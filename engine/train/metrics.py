"""Test-split metrics in plain NumPy (no scikit-learn needed at run time).

Classification: accuracy, balanced accuracy, macro precision/recall/F1, the confusion matrix,
and ROC AUC for two classes. Regression: RMSE, MAE and R².
"""

from __future__ import annotations

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
