"""The best model's evaluation on the test split, kept as ``PROJECT/best/evaluation.json``.

Computed once, when a search ends with its test evaluation (``search.session``), so the window
shows it again for a reopened project without loading Keras or retraining:

* classification: precision, recall, F1 and support per class (scikit-learn's
  ``precision_recall_fscore_support``), ROC and precision-recall curves (``roc_curve``,
  ``precision_recall_curve``; the positive class for two classes, one-vs-rest per class for
  more) with their AUC and average precision, thinned to :data:`CURVE_POINTS` points each;
* regression: up to :data:`REGRESSION_POINTS` test rows' actual and predicted values, and their
  residuals (actual - predicted);
* permutation feature importance of the raw input columns (tables and feature arrays): the
  drop of the objective's metric on the test split when one column is shuffled, as
  scikit-learn's ``permutation_importance`` defines it (``s - s_kj``, averaged over
  :data:`IMPORTANCE_REPEATS` shuffles; https://scikit-learn.org/stable/modules/permutation_importance.html);
* the network as a layer list (name, type, output shape, parameters) and its parameter totals;
* the refit's own training curves (one run per refit averaged in the exported model);
* for a forecast, the test period in time order: each test window's time, the actual values and
  the model's and the naive forecasts of them (:class:`ForecastTest`).

Keras-free: the model comes in as a ``predict`` function and, for the layer list, any object
with Keras' ``layers``/``count_params``/``trainable_weights``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import ProjectError

EVALUATION_FILE = "evaluation.json"  # in the project's best/ folder, next to the exported model
EVALUATION_SCHEMA_VERSION = 1
CURVE_POINTS = 200  # most points kept of each ROC or precision-recall curve
REGRESSION_POINTS = 2000  # most test rows kept for the residual and predicted-vs-actual plots
IMPORTANCE_REPEATS = 5  # shuffles per column (scikit-learn's n_repeats)
IMPORTANCE_ROWS = 2000  # most test rows the importance is computed on
IMPORTANCE_COLUMNS = 50  # a table with more input columns gets no importance (cost)
FORECAST_POINTS = 5000  # most test windows kept of a forecast's test period (the latest ones)

Predict = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class ClassScores:
    """One row of scikit-learn's classification report: a class and its test scores."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Curve:
    """A ROC curve (``x`` false-positive rate, ``y`` true-positive rate, ``area`` its AUC) or a
    precision-recall curve (``x`` recall, ``y`` precision, ``area`` the average precision) of
    one class against the rest; ``prevalence`` is that class's share of the test rows."""

    name: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    area: float
    prevalence: float


@dataclass(frozen=True)
class ColumnImportance:
    """How much shuffling one input column costs the model: ``mean``/``std`` of the score drops
    of each shuffle (``drops``), in the metric's units; positive means the column helps."""

    column: str
    mean: float
    std: float
    drops: tuple[float, ...]


@dataclass(frozen=True)
class Importance:
    """Permutation feature importance on the test split.

    Attributes:
        metric: the test metric scored (the objective's name without ``val_``, e.g. ``loss``).
        direction: ``"min"`` or ``"max"``, the objective's.
        score: the metric on the unshuffled rows.
        rows: test rows used (at most :data:`IMPORTANCE_ROWS`).
        repeats: shuffles per column.
        columns: one entry per raw input column, in the data's column order.
        note: why some or all columns have no importance ("" when every column has one).
    """

    metric: str
    direction: str
    score: float | None
    rows: int
    repeats: int
    columns: tuple[ColumnImportance, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class LayerRow:
    """One layer of the network: its name, Keras class, output shape and parameter counts."""

    name: str
    type: str
    output_shape: str
    params: int
    trainable_params: int


@dataclass(frozen=True)
class NetworkSummary:
    """The exported network as a layer list.

    ``layers`` are those of one network; where the exported model averages ``members`` refits
    of it, each member has these layers and the totals count them all (the exported model's
    ``count_params()``).
    """

    name: str
    layers: tuple[LayerRow, ...]
    members: int
    total_params: int
    trainable_params: int

    @property
    def non_trainable_params(self) -> int:
        """Parameters training does not change (normalisation statistics, ...)."""
        return self.total_params - self.trainable_params


@dataclass(frozen=True)
class ForecastTest:
    """A forecast's test period, what the Results page plots against time.

    One entry per test window, in time order within each series (series one after the other):
    ``times[i]`` is the time of the window's first forecast row, ``actual[i]`` the target's next
    ``horizon`` values from there and ``predicted[i]`` the model's forecast of them (in the target's
    units); ``naive[i]`` is the forecast of ``naive_rule``, the search's naive baseline. Step ``h``
    of window ``i`` forecasts the time of window ``i + h`` of the same series.

    Attributes:
        time_column, target: the columns the rows are ordered by and forecast.
        time_kind: ``datetime`` (``times`` in seconds since the epoch, UTC) or ``integer``.
        times, labels: each window's first forecast time, as a number and as the file writes it.
        series: each window's series id ("" for a table that is one series).
        actual, predicted, naive: N×horizon values.
        naive_rule: the naive forecast's name (``seasonal naive`` or ``last value``).
        horizon: steps ahead of every window.
        windows: test windows in the split (more than kept when over :data:`FORECAST_POINTS`).
    """

    time_column: str
    time_kind: str
    target: str
    times: tuple[float, ...]
    labels: tuple[str, ...]
    series: tuple[str, ...]
    actual: tuple[tuple[float, ...], ...]
    predicted: tuple[tuple[float, ...], ...]
    naive: tuple[tuple[float, ...], ...]
    naive_rule: str
    horizon: int
    windows: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastTest:
        """Reads ``asdict`` output (KeyError/TypeError/ValueError when malformed)."""
        def rows(key: str) -> tuple[tuple[float, ...], ...]:
            return tuple(tuple(map(_num, row)) for row in data[key])

        return cls(str(data["time_column"]), str(data["time_kind"]), str(data["target"]),
                   tuple(map(_num, data["times"])), tuple(map(str, data["labels"])),
                   tuple(map(str, data["series"])), rows("actual"), rows("predicted"), rows("naive"),
                   str(data["naive_rule"]), int(data["horizon"]), int(data["windows"]))


@dataclass(frozen=True)
class Evaluation:
    """Everything ``evaluation.json`` holds (see the module docstring).

    ``objective``/``direction`` are the search's objective (``val_loss``, ``min``); ``runs``
    are the refit's epochs, one list per refit, each epoch a dict of its logged metrics with
    ``epoch`` (counted from 1). ``best_trial_id`` is the trial whose configuration the model
    is (the Results page shows the evaluation only with that trial's result). ``actual``/``predicted`` are regression test rows (a random
    sample of ``regression_rows`` when there are more than :data:`REGRESSION_POINTS`).
    ``forecast`` is a forecast's test period over time (None for rows without a time column).
    """

    task: str
    objective: str
    direction: str
    test_rows: int
    best_trial_id: str = ""
    class_names: tuple[str, ...] = ()
    per_class: tuple[ClassScores, ...] = ()
    roc: tuple[Curve, ...] = ()
    precision_recall: tuple[Curve, ...] = ()
    actual: tuple[float, ...] = ()
    predicted: tuple[float, ...] = ()
    regression_rows: int = 0
    importance: Importance | None = None
    network: NetworkSummary | None = None
    runs: tuple[tuple[Mapping[str, float], ...], ...] = ()
    notes: tuple[str, ...] = ()
    forecast: ForecastTest | None = None
    schema_version: int = EVALUATION_SCHEMA_VERSION

    @property
    def metric(self) -> str:
        """The objective's metric on the test split: ``val_loss`` → ``loss``."""
        return self.objective.removeprefix("val_")

    @property
    def residuals(self) -> tuple[float, ...]:
        """Actual minus predicted, per kept regression row."""
        return tuple(a - p for a, p in zip(self.actual, self.predicted, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data (non-finite numbers become ``None``)."""
        return _finite(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = EVALUATION_FILE) -> Evaluation:
        """Reads :meth:`to_dict` output.

        Raises:
            ProjectError: a newer schema, or a malformed document (naming ``source``).
        """
        version = data.get("schema_version")
        if not isinstance(version, int) or version > EVALUATION_SCHEMA_VERSION:
            raise ProjectError(f"{source}: evaluation schema {version!r} is not one this version reads "
                               f"(up to {EVALUATION_SCHEMA_VERSION}); update automl-studio")
        try:
            importance = data.get("importance")
            network = data.get("network")
            return cls(
                task=str(data["task"]), objective=str(data["objective"]), direction=str(data["direction"]),
                test_rows=int(data["test_rows"]), best_trial_id=str(data.get("best_trial_id", "")),
                class_names=tuple(map(str, data.get("class_names", ()))),
                per_class=tuple(ClassScores(str(c["name"]), _num(c["precision"]), _num(c["recall"]),
                                            _num(c["f1"]), int(c["support"])) for c in data.get("per_class", ())),
                roc=tuple(_curve(c) for c in data.get("roc", ())),
                precision_recall=tuple(_curve(c) for c in data.get("precision_recall", ())),
                actual=tuple(map(_num, data.get("actual", ()))),
                predicted=tuple(map(_num, data.get("predicted", ()))),
                regression_rows=int(data.get("regression_rows", 0)),
                importance=None if importance is None else Importance(
                    str(importance["metric"]), str(importance["direction"]),
                    None if importance.get("score") is None else _num(importance["score"]),
                    int(importance["rows"]), int(importance["repeats"]),
                    tuple(ColumnImportance(str(c["column"]), _num(c["mean"]), _num(c["std"]),
                                           tuple(map(_num, c["drops"]))) for c in importance["columns"]),
                    str(importance.get("note", ""))),
                network=None if network is None else NetworkSummary(
                    str(network["name"]),
                    tuple(LayerRow(str(r["name"]), str(r["type"]), str(r["output_shape"]), int(r["params"]),
                                   int(r["trainable_params"])) for r in network["layers"]),
                    int(network["members"]), int(network["total_params"]), int(network["trainable_params"])),
                runs=tuple(tuple({str(k): _num(v) for k, v in epoch.items()} for epoch in run)
                           for run in data.get("runs", ())),
                notes=tuple(map(str, data.get("notes", ()))),
                forecast=None if data.get("forecast") is None else ForecastTest.from_dict(data["forecast"]),
                schema_version=version,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"{source}: a malformed evaluation ({exc!r})") from None


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _curve(data: Mapping[str, Any]) -> Curve:
    return Curve(str(data["name"]), tuple(map(_num, data["x"])), tuple(map(_num, data["y"])),
                 _num(data["area"]), _num(data["prevalence"]))


def _finite(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ------------------------------------------------------------------ classification
def class_scores(y_true: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]) -> tuple[ClassScores, ...]:
    """Precision, recall, F1 and support of every class (scikit-learn's, ``zero_division=0``)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, predicted, labels=labels, zero_division=0)
    return tuple(ClassScores(str(name), float(p), float(r), float(f), int(s))
                 for name, p, r, f, s in zip(class_names, precision, recall, f1, support, strict=True))


def class_probabilities(proba: np.ndarray) -> np.ndarray:
    """N×K class probabilities from a model's output (an N×1 sigmoid becomes N×2)."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        proba = proba[:, None]
    if proba.shape[1] == 1:
        return np.hstack([1.0 - proba, proba])
    return proba


def thin(x: np.ndarray, y: np.ndarray, limit: int = CURVE_POINTS) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most ``limit`` points of a curve, evenly spaced along it, its first and last kept."""
    if len(x) > limit:
        keep = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
        x, y = x[keep], y[keep]
    return tuple(map(float, x)), tuple(map(float, y))


def class_curves(y_true: np.ndarray, proba: np.ndarray,
                 class_names: Sequence[str]) -> tuple[tuple[Curve, ...], tuple[Curve, ...], list[str]]:
    """ROC and precision-recall curves: for two classes, of the second (positive) class; for
    more, of each class against the rest. A class absent from (or alone in) the test split has
    none, and a note says so. Returns (roc, precision_recall, notes)."""
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    y_true = np.asarray(y_true).astype(int).reshape(-1)
    proba = class_probabilities(proba)
    which = [1] if len(class_names) == 2 else list(range(len(class_names)))
    roc, pr, notes = [], [], []
    for k in which:
        positive = (y_true == k).astype(int)
        name = str(class_names[k])
        if positive.sum() == 0 or positive.sum() == len(positive):
            notes.append(f"class {name}: no ROC or precision-recall curve, the test split has "
                         f"{'no' if positive.sum() == 0 else 'only'} rows of it")
            continue
        score = proba[:, k]
        fpr, tpr, _ = roc_curve(positive, score)
        precision, recall, _ = precision_recall_curve(positive, score)
        prevalence = float(positive.mean())
        roc.append(Curve(name, *thin(fpr, tpr), float(auc(fpr, tpr)), prevalence))
        # scikit-learn lists recall from 1 down to 0; plotted left to right it reads the other way.
        pr.append(Curve(name, *thin(recall[::-1], precision[::-1]),
                        float(average_precision_score(positive, score)), prevalence))
    return tuple(roc), tuple(pr), notes


# ------------------------------------------------------------------ the objective's metric
def test_score(metric: str, task: str, y_true: np.ndarray, output: np.ndarray) -> float:
    """The objective's metric (``loss``, ``accuracy``, ``auc``, ``rmse`` or ``mae``) of a model
    output on ``y_true``, as Keras computes it: the loss is cross-entropy for classes and the
    mean squared error (in the target's units) for regression. Other names score the loss."""
    output = np.asarray(output, dtype=np.float64)
    if task == "classification":
        y = np.asarray(y_true).astype(int).reshape(-1)
        proba = class_probabilities(output)
        if metric == "accuracy":
            return float((proba.argmax(axis=1) == y).mean())
        if metric == "auc":
            from sklearn.metrics import roc_auc_score

            return float(roc_auc_score(y, proba[:, 1])) if len(np.unique(y)) == 2 else math.nan
        chosen = np.clip(proba[np.arange(len(y)), y], 1e-7, 1.0)
        return float(-np.log(chosen).mean())
    err = output.reshape(len(output), -1) - np.asarray(y_true, dtype=np.float64).reshape(len(output), -1)
    if metric == "mae":
        return float(np.abs(err).mean())
    mse = float((err ** 2).mean())
    return math.sqrt(mse) if metric == "rmse" else mse


# ------------------------------------------------------------------ permutation importance
def input_columns(input_kind: str, schema: Any, inputs: Mapping[str, Sequence[int]]) -> list[tuple[str, dict[str, list[int]]]]:
    """The raw input columns and where each lives in the model's inputs: ``(name, {input:
    [column indices]})``. A numeric column with a missing flag owns both; a categorical column
    its code column. Feature arrays name their columns ``column 1``…; other inputs have none."""
    if input_kind == "table" and schema is not None:
        out: list[tuple[str, dict[str, list[int]]]] = []
        j = 0
        for feature in schema.numeric:
            width = 2 if feature.flag else 1
            out.append((feature.name, {"numeric": list(range(j, j + width))}))
            j += width
        for date in schema.dates:  # its calendar parts follow the numbers
            out.append((date.name, {"numeric": list(range(j, j + date.width))}))
            j += date.width
        out += [(c.name, {"categorical": [i]}) for i, c in enumerate(schema.categorical)]
        return out
    if input_kind == "features" and "numeric" in inputs and len(inputs["numeric"]) == 1:
        return [(f"column {i + 1}", {"numeric": [i]}) for i in range(int(inputs["numeric"][0]))]
    return []


def permutation_importance(predict: Predict, x: Mapping[str, np.ndarray], y: np.ndarray, *, task: str,
                           metric: str, direction: str, columns: Sequence[tuple[str, Mapping[str, list[int]]]],
                           repeats: int = IMPORTANCE_REPEATS, max_rows: int = IMPORTANCE_ROWS,
                           seed: int = 0, deadline: float | None = None) -> Importance:
    """Permutation importance of each raw column, column by column (scikit-learn's definition).

    Each column's rows are shuffled ``repeats`` times (every model input holding it moves
    together), the model predicts all shuffles in one call, and each shuffle's drop in the
    metric (higher-is-better sign: an increase of a loss counts as a drop) is kept.

    Args:
        predict: the model, called with a dict of inputs, returning its output.
        x, y: the test split's model inputs and targets.
        columns: from :func:`input_columns`.
        max_rows: a larger test split is sampled down to this many rows (``seed``).
        deadline: a :func:`time.monotonic` reading; columns not started by then are left out,
            and the note says so.
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    rows = np.sort(rng.choice(n, max_rows, replace=False)) if n > max_rows else np.arange(n)
    x = {k: np.asarray(v)[rows] for k, v in x.items()}
    y = np.asarray(y)[rows]
    sign = 1.0 if direction == "max" else -1.0
    score = test_score(metric, task, y, predict(x))
    done: list[ColumnImportance] = []
    note = ""
    for name, places in columns:
        if deadline is not None and time.monotonic() > deadline:
            note = (f"the time budget ended the importance after {len(done)} of {len(columns)} columns; "
                    "the others are not shown")
            break
        shuffled = {k: np.concatenate([v] * repeats) for k, v in x.items()}
        for r in range(repeats):
            order = rng.permutation(len(y))
            part = slice(r * len(y), (r + 1) * len(y))
            for key, idx in places.items():
                block = shuffled[key][part]
                block[:, idx] = x[key][order][:, idx]
        output = np.asarray(predict(shuffled))
        drops = [sign * (score - test_score(metric, task, y, output[r * len(y):(r + 1) * len(y)]))
                 for r in range(repeats)]
        done.append(ColumnImportance(name, float(np.mean(drops)), float(np.std(drops)), tuple(map(float, drops))))
    return Importance(metric, direction, score, int(len(y)), repeats, tuple(done), note)


# ------------------------------------------------------------------ the network
def _shape_text(layer: Any) -> str:
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return "?"
    shapes = [t.shape for t in output] if isinstance(output, (list, tuple)) else [output.shape]
    text = ", ".join("(" + ", ".join("None" if d is None else str(d) for d in s) + ")" for s in shapes)
    return text


def _weights(weights: Sequence[Any]) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def network_summary(model: Any) -> NetworkSummary:
    """The layer list of a Keras model (``model.layers``); a model averaging refits (nested
    models) lists one member's layers and counts its members."""
    members = [layer for layer in model.layers if hasattr(layer, "layers")]
    network = members[0] if members else model
    rows = tuple(LayerRow(str(layer.name), type(layer).__name__, _shape_text(layer), int(layer.count_params()),
                          _weights(layer.trainable_weights)) for layer in network.layers)
    return NetworkSummary(str(network.name), rows, max(len(members), 1), int(model.count_params()),
                          _weights(model.trainable_weights))


def refit_runs(epochs: Sequence[tuple[int, Mapping[str, float]]]) -> tuple[tuple[dict[str, float], ...], ...]:
    """The refit's epochs (as reported, in order) split into one run per refit: each refit
    starts again at epoch 1."""
    runs: list[list[dict[str, float]]] = []
    for epoch, metrics in epochs:
        if not runs or (runs[-1] and epoch <= runs[-1][-1]["epoch"]):
            runs.append([])
        runs[-1].append({"epoch": float(epoch), **{k: float(v) for k, v in metrics.items()}})
    return tuple(tuple(run) for run in runs)


# ------------------------------------------------------------------ forecasts
def forecast_test(spec: Mapping[str, Any], times: np.ndarray, labels: Sequence[str], series: Sequence[str],
                  windows: np.ndarray, y_true: np.ndarray, output: np.ndarray) -> ForecastTest:
    """The test period of a forecast (see :class:`ForecastTest`) from its test windows.

    Args:
        spec: the search's ``ForecastSpec.to_dict()``.
        times, labels, series: per test window, its first forecast time (number and text) and
            series id, in the windows' order.
        windows: the test windows (N×lookback×F, raw units), for the naive forecast.
        y_true, output: the test targets and the model's output (N or N×horizon).
    """
    from automl_studio.engine.data.timeseries import naive_forecasts

    horizon = int(spec["horizon"])
    n = len(y_true)
    actual = np.asarray(y_true, dtype=np.float64).reshape(n, horizon)
    predicted = np.asarray(output, dtype=np.float64).reshape(n, horizon)
    naive_all = naive_forecasts(np.asarray(windows), horizon, int(spec.get("period", 0)))
    rule = "seasonal naive" if "seasonal naive" in naive_all else "last value"
    keep = slice(max(n - FORECAST_POINTS, 0), n)

    def rows(values: np.ndarray) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(map(float, row)) for row in values[keep])

    return ForecastTest(
        time_column=str(spec["time_column"]), time_kind=str(spec["time_kind"]), target=str(spec["target"]),
        times=tuple(map(float, np.asarray(times, dtype=np.float64)[keep])),
        labels=tuple(map(str, list(labels)[keep])), series=tuple(map(str, list(series)[keep])),
        actual=rows(actual), predicted=rows(predicted), naive=rows(np.asarray(naive_all[rule], dtype=np.float64)),
        naive_rule=rule, horizon=horizon, windows=int(n))


# ------------------------------------------------------------------ the whole evaluation
def evaluate(predict: Predict, x: Mapping[str, np.ndarray], y: np.ndarray, output: np.ndarray, *, task: str,
             class_names: Sequence[str], objective: str, direction: str, input_kind: str, schema: Any,
             inputs: Mapping[str, Sequence[int]], model: Any = None, best_trial_id: str = "",
             refit_epochs: Sequence[tuple[int, Mapping[str, float]]] = (), seed: int = 0,
             deadline: float | None = None) -> Evaluation:
    """The evaluation of a model on the test split ``x``/``y``, whose ``output`` is already
    predicted; ``predict`` scores the shuffled copies for the importance. ``model`` (a Keras
    model) gives the layer list."""
    notes: list[str] = []
    fields: dict[str, Any] = {}
    if task == "classification" and len(y):
        y_int = np.asarray(y).astype(int).reshape(-1)
        labels = class_probabilities(output).argmax(axis=1)
        fields["per_class"] = class_scores(y_int, labels, class_names)
        fields["roc"], fields["precision_recall"], curve_notes = class_curves(y_int, output, class_names)
        notes += curve_notes
    elif len(y):
        actual = np.asarray(y, dtype=np.float64).reshape(len(y), -1)[:, 0]
        predicted = np.asarray(output, dtype=np.float64).reshape(len(y), -1)[:, 0]
        keep = np.arange(len(actual))
        if len(keep) > REGRESSION_POINTS:
            keep = np.sort(np.random.default_rng(seed).choice(keep, REGRESSION_POINTS, replace=False))
        fields.update(actual=tuple(map(float, actual[keep])), predicted=tuple(map(float, predicted[keep])),
                      regression_rows=int(len(actual)))
    metric = objective.removeprefix("val_")
    columns = input_columns(input_kind, schema, inputs)
    if not len(y):
        importance = None
    elif not columns:
        importance = Importance(metric, direction, None, 0, IMPORTANCE_REPEATS, (), (
            f"permutation importance is computed for table columns only, not for {input_kind}"))
    elif len(columns) > IMPORTANCE_COLUMNS:
        importance = Importance(metric, direction, None, 0, IMPORTANCE_REPEATS, (), (
            f"{len(columns)} input columns: permutation importance is computed for at most "
            f"{IMPORTANCE_COLUMNS} (each costs {IMPORTANCE_REPEATS} predictions of the test split)"))
    else:
        importance = permutation_importance(predict, x, y, task=task, metric=metric, direction=direction,
                                            columns=columns, seed=seed, deadline=deadline)
    return Evaluation(task=task, objective=objective, direction=direction, test_rows=int(len(y)),
                      best_trial_id=str(best_trial_id),
                      class_names=tuple(map(str, class_names)), importance=importance,
                      network=network_summary(model) if model is not None else None,
                      runs=refit_runs(refit_epochs), notes=tuple(notes), **fields)


def write_evaluation(folder: str | os.PathLike[str], evaluation: Evaluation) -> Path:
    """Writes ``folder/evaluation.json`` (atomically: readers see the old or the new file)."""
    path = Path(folder) / EVALUATION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(evaluation.to_dict(), allow_nan=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_evaluation(folder: str | os.PathLike[str]) -> Evaluation | None:
    """The evaluation in ``folder/evaluation.json``; ``None`` where there is none (a search
    that ended before its test evaluation, or a project from before it was written).

    Raises:
        ProjectError: the file is damaged or from a newer version.
    """
    path = Path(folder) / EVALUATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProjectError(f"{path}: cannot read the evaluation ({exc})") from None
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: not an evaluation")
    return Evaluation.from_dict(data, source=str(path))
