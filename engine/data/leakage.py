"""Likely leaks: feature columns that on their own predict the target almost perfectly.

A column like ``refund_issued`` next to ``churned``, or a price recorded after the sale, makes
every trial look brilliant and the exported model useless. Before the first trial,
:func:`find_leaks` fits a shallow one-feature decision tree per column on a training part of the
rows and scores it on a held-out part; a column that scores close to perfect, and well above the
majority-class or mean baseline, is named as a likely leak.

The cost is capped: at most :data:`MAX_ROWS` rows (a seeded sample) and no check at all for more
than :data:`MAX_COLUMNS` feature columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_studio.engine.data.csv_format import to_numbers

LEAK_ACCURACY = 0.99  # one-column validation accuracy that counts as near perfect
LEAK_R2 = 0.98  # one-column validation R² that counts as near perfect
MIN_GAIN = 0.1  # how far above the majority-class accuracy a leak must score
MAX_ROWS = 5000
MAX_COLUMNS = 200
MIN_ROWS = 20
TREE_DEPTH = 8


@dataclass(frozen=True)
class Leak:
    """One column that predicts the target on its own: its validation score and the baseline."""

    column: str
    score: float
    metric: str  # "accuracy" or "R²"
    baseline: float

    def message(self) -> str:
        """One line naming the column and its one-column score."""
        base = (f"the majority class scores {self.baseline:.2f}" if self.metric == "accuracy"
                else "predicting the mean scores 0")
        return (f"column '{self.column}' alone predicts the target almost perfectly "
                f"(one-column validation {self.metric} {self.score:.3f}; {base}): a likely leak — "
                "exclude it unless its value is known when predicting")


def find_leaks(frame: Any, target: str, task: str, columns: Sequence[tuple[str, bool]], *,
               validation_fraction: float = 0.2, seed: int = 1) -> list[Leak]:
    """The columns among ``columns`` that predict ``target`` almost perfectly on their own.

    Args:
        frame: the table (a pandas DataFrame).
        target: the target column; rows without a target value are left out.
        task: ``classification`` or ``regression``.
        columns: (name, categorical) per feature column to check.
        validation_fraction: the share of rows held out to score each one-column model.
        seed: the seed of the row sample and of the split.
    """
    if len(columns) > MAX_COLUMNS or not columns:
        return []
    present = frame[target].notna().to_numpy()
    rows = np.flatnonzero(present)
    if len(rows) < MIN_ROWS:
        return []
    rng = np.random.default_rng(seed)
    rows = rng.permutation(rows)[:MAX_ROWS]
    n_val = max(int(round(len(rows) * validation_fraction)), 5)
    train, val = rows[n_val:], rows[:n_val]
    y = _target_values(frame[target].to_numpy()[rows], task)
    y_train, y_val = y[n_val:], y[:n_val]
    if task == "regression" and float(np.var(y_val)) == 0.0:
        return []
    baseline = _majority_share(y_train, y_val) if task == "classification" else 0.0
    leaks: list[Leak] = []
    for name, categorical in columns:
        x = _feature_values(frame[name], categorical)
        score = _one_column_score(x[train], y_train, x[val], y_val, task, seed)
        if task == "classification":
            flagged = score >= LEAK_ACCURACY and score - baseline >= MIN_GAIN
        else:
            flagged = score >= LEAK_R2
        if flagged:
            leaks.append(Leak(str(name), round(score, 4), "accuracy" if task == "classification" else "R²",
                              round(baseline, 4)))
    return leaks


def _target_values(values: np.ndarray, task: str) -> np.ndarray:
    import pandas as pd

    if task == "classification":
        codes, _ = pd.factorize(pd.Series(values).astype(str))
        return np.asarray(codes)
    return np.asarray(to_numbers(pd.Series(values)).to_numpy(dtype=np.float64, na_value=np.nan))


def _feature_values(series: Any, categorical: bool) -> np.ndarray:
    """One column as numbers a tree can split: category codes, or numbers with missing values
    set below every present one (so "missing" is a value the tree can use, as it may leak too)."""
    import pandas as pd

    if categorical or not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        numbers = None if categorical else to_numbers(series.astype("string"))
        if numbers is None or numbers.notna().mean() < 0.95:
            codes, _ = pd.factorize(series)
            return np.asarray(codes, dtype=np.float64).reshape(-1, 1)
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    low = float(finite.min()) - 1.0 if len(finite) else 0.0
    return np.where(np.isfinite(values), values, low).reshape(-1, 1)


def _majority_share(y_train: np.ndarray, y_val: np.ndarray) -> float:
    labels, counts = np.unique(y_train, return_counts=True)
    majority = labels[int(np.argmax(counts))]
    return float(np.mean(y_val == majority))


def _one_column_score(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                      task: str, seed: int) -> float:
    # Imported here, not at the top: scikit-learn takes about a second to import and only this
    # check needs it (the window imports the data modules at start-up).
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if task == "classification":
        classifier = DecisionTreeClassifier(max_depth=TREE_DEPTH, random_state=seed)
        classifier.fit(x_train, y_train)
        return float(np.mean(classifier.predict(x_val) == y_val))
    keep_train, keep_val = np.isfinite(y_train), np.isfinite(y_val)
    if keep_train.sum() < 2 or keep_val.sum() < 2:
        return 0.0
    regressor = DecisionTreeRegressor(max_depth=TREE_DEPTH, min_samples_leaf=2, random_state=seed)
    regressor.fit(x_train[keep_train], y_train[keep_train])
    truth = y_val[keep_val]
    error = float(np.sum((regressor.predict(x_val[keep_val]) - truth) ** 2))
    spread = float(np.sum((truth - truth.mean()) ** 2))
    return 1.0 - error / spread if spread > 0 else 0.0
