"""The plain-NumPy metrics agree with scikit-learn on random data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from automl_studio.engine.train.metrics import (
    class_recall,
    classification_metrics,
    naive_note,
    regression_metrics,
    roc_auc,
    sample_points,
)

SEEDS = range(25)


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def compare(ours: dict, y: np.ndarray, predicted: np.ndarray, k: int) -> None:
    labels = list(range(k))
    present = sorted(set(y.tolist()))
    assert ours["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert ours["confusion_matrix"] == sk.confusion_matrix(y, predicted, labels=labels).tolist()
    # Macro averages over the classes that occur in y_true (absent ones have no recall).
    for key, fn in (("precision_macro", sk.precision_score), ("recall_macro", sk.recall_score),
                    ("f1_macro", sk.f1_score)):
        expected = fn(y, predicted, labels=present, average="macro", zero_division=0)
        assert ours[key] == pytest.approx(expected), key
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a predicted class is absent from y
        balanced = sk.balanced_accuracy_score(y, predicted)
    assert ours["balanced_accuracy"] == pytest.approx(balanced)
    assert ours["n"] == len(y)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [3, 5])
def test_multiclass_softmax_matches_sklearn(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] * rng.random()
    proba = softmax(logits)

    ours = classification_metrics(y, proba, tuple(f"c{i}" for i in range(k)))

    compare(ours, y, proba.argmax(axis=1), k)
    assert "roc_auc" not in ours
    assert ours["class_names"] == [f"c{i}" for i in range(k)]


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_sigmoid_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 300))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    score = np.clip(rng.random(n) * 0.7 + 0.3 * y * rng.random(), 0, 1)
    if seed % 3 == 0:
        score = np.round(score, 1)  # many ties

    ours = classification_metrics(y, score.reshape(-1, 1), ("no", "yes"))

    compare(ours, y, (score >= 0.5).astype(int), 2)
    assert ours["roc_auc"] == pytest.approx(sk.roc_auc_score(y, score))


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_softmax_auc_uses_the_second_column(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 200))
    y = rng.integers(0, 2, n)
    y[:2] = [1, 0]
    proba = softmax(rng.normal(size=(n, 2)) + np.eye(2)[y])

    ours = classification_metrics(y, proba, ("a", "b"))

    compare(ours, y, proba.argmax(axis=1), 2)
    assert ours["roc_auc"] == pytest.approx(sk.roc_auc_score(y, proba[:, 1]))


def test_class_absent_from_the_truth() -> None:
    y = np.array([0, 0, 1, 1, 0])
    proba = np.eye(3)[[0, 2, 1, 1, 2]]
    ours = classification_metrics(y, proba, ("a", "b", "c"))
    compare(ours, y, proba.argmax(axis=1), 3)
    assert ours["confusion_matrix"][0] == [1, 0, 2]


def test_class_recall_by_name_from_softmax_and_sigmoid_outputs() -> None:
    # Softmax: class a 2 of 3 rows found, b 1 of 2, c has no rows (no recall, not 0).
    y = np.array([0, 0, 0, 1, 1])
    proba = np.eye(3)[[0, 0, 2, 1, 0]]
    assert class_recall(y, proba, ("a", "b", "c")) == {"a": pytest.approx(2 / 3), "b": 0.5, "c": None}
    # One sigmoid unit: class 1 from 0.5; one-hot targets read as indices.
    sigmoid = np.array([[0.2], [0.7], [0.5], [0.1]])
    assert class_recall(np.array([0, 0, 1, 1]), sigmoid, ("no", "yes")) == {"no": 0.5, "yes": 0.5}
    assert class_recall(np.eye(2)[[0, 0, 1, 1]], sigmoid, ("no", "yes")) == {"no": 0.5, "yes": 0.5}


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_with_ties_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    score = rng.integers(0, int(rng.integers(1, 10)), n).astype(float)
    assert roc_auc(y, score) == pytest.approx(sk.roc_auc_score(y, score))


def test_roc_auc_of_one_class_is_none() -> None:
    assert roc_auc(np.ones(5), np.linspace(0, 1, 5)) is None
    assert roc_auc(np.zeros(5), np.linspace(0, 1, 5)) is None
    assert "roc_auc" not in classification_metrics(np.zeros(4), np.full((4, 1), 0.3), ("a", "b"))


def test_roc_auc_extremes() -> None:
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert roc_auc(y, np.full(4, 0.5)) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    y = rng.normal(rng.normal() * 10, rng.random() * 5 + 0.1, n)
    pred = y + rng.normal(0, rng.random() * 3, n)

    ours = regression_metrics(y, pred.reshape(-1, 1))

    assert ours["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y, pred)))
    assert ours["mae"] == pytest.approx(sk.mean_absolute_error(y, pred))
    assert ours["r2"] == pytest.approx(sk.r2_score(y, pred))
    assert ours["n"] == n


def test_regression_of_a_constant_target_has_r2_zero() -> None:
    ours = regression_metrics(np.full(5, 3.0), np.array([3.0, 2.0, 4.0, 3.0, 3.0]))
    assert ours["r2"] == 0.0
    assert ours["mae"] == pytest.approx(0.4)


def test_sample_points_are_pairs_from_the_data() -> None:
    actual = np.arange(2000, dtype=float)
    predicted = actual * 2
    points = sample_points(actual, predicted, limit=100, seed=3)
    assert len(points["actual"]) == len(points["predicted"]) == 100
    assert len(set(points["actual"])) == 100
    assert all(p == 2 * a for a, p in zip(points["actual"], points["predicted"], strict=False))
    assert points == sample_points(actual, predicted, limit=100, seed=3)
    small = sample_points(actual[:10], predicted[:10])
    assert small["actual"] == actual[:10].tolist()


def test_a_forecast_is_compared_with_every_naive_forecast_in_one_sentence() -> None:
    baseline = {"rmse": 1.36, "rule": "seasonal naive: the value one period (24 steps) earlier",
                "naive": {"last value": {"mase": 3.2002, "rmse": 4.4}, "seasonal naive": {"mase": 0.93849}}}
    assert naive_note({"mase": 0.86609, "rmse": 1.35}, baseline) == (
        "MASE on the test period: the model 0.866, last value 3.200, seasonal naive 0.938 (lower is better).")
    assert "the model undefined" in naive_note({"mase": None}, baseline)  # a constant training period
    assert naive_note({"rmse": 1.0}, {"rmse": 2.0, "rule": "the training mean"}) == ""  # no forecast
