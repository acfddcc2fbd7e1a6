"""A random forest as a Keras model of standard layers, taking the same inputs as a trial's network.

A decision tree is a network with two hidden layers (Sethi 1990, "Entropy nets: from decision
trees to neural networks"; Welbl 2014, "Casting random forests as artificial neural networks";
Biau, Scornet & Welbl 2019, "Neural random forests"), and so is a forest of them:

1. one unit per split of every tree: ``(below − x[feature]) / (above − below) + 1`` clipped to
   [0, 1], where ``below`` and ``above`` are the training values either side of the threshold — 1
   on the left branch (``x <= threshold``, scikit-learn's rule), 0 on the right; a value never seen
   between the two gets a share of both branches. Computed in float32 from the values themselves
   (not the float64 threshold between them), so every training value lands on its side exactly;
2. one unit per leaf: +1 for each split its path takes to the left, −1 for each taken to the right,
   bias ``1 − lefts``, clipped to [0, 1] — 1 in the leaf a row reaches, 0 in every other;
3. the leaves' values (class shares, or means) divided by the number of trees, summed; class k's
   probability less k × :data:`TIE_TILT`, so that an exact tie goes to the first class whatever
   order float32 sums in (scikit-learn's argmax of ``predict_proba`` does the same).

Layers 1–2 of all trees run as one batched product each (``EinsumDense``, trees padded to the
forest's most splits and leaves), so the model has a handful of layers whatever the number of
trees; nothing but standard layers, so it saves as legacy HDF5 and reloads with plain
``keras.models.load_model``. On training rows it reproduces ``predict_proba``/``predict`` to
float32 rounding and the tilt (:func:`forest_model`'s tests).

The forest reads what a table's network reads: the ``numeric`` input (imputed numbers, as they
are: trees do not care for scale) and the ``categorical`` input (integer codes, one-hot over the
signature's ``categorical_tokens``, as ``CategoryEncoding`` gives them).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.train.baselines import estimator_output, objective_value, one_hot
from automl_studio.engine.train.crossval import CrossValidation
from automl_studio.engine.train.forest_record import FOREST_MODEL_NAME

FOREST_TREES = 100  # scikit-learn's default
# Leaves per tree at most: the leaf layer holds trees × splits × leaves weights (100 × 63 × 64: 403k,
# 1.6 MB). Measured on the held-out corpus (results/experiments/forest_in_keras.json), 64 leaves keep
# most of an unbounded forest's score except on tables of many repeated rows (randhie).
FOREST_LEAVES = 64
# The (leaves, trees) a forest may take, the one of the lowest validation loss chosen
# (:func:`fit_best_forest`). The leaf layer grows as trees × leaves², so the larger two hold the same
# ~6.5M weights (26 MB): on a table of repeated rows (randhie: 2.7k distinct rows of 16k, 98 % of
# the test rows seen in training) a forest is a lookup, and deep trees are what it needs (R² on
# three splits, against 0.196 unbounded: 100 × 64 leaves 0.113, 100 × 256 0.174, 25 × 512 0.189).
FOREST_SHAPES = ((FOREST_LEAVES, FOREST_TREES), (256, FOREST_TREES), (512, 25))
# A row no tree left out is left out of oob_smoothing; scikit-learn warns of it with 25 trees. Set
# once here: warnings.catch_warnings() around each fit is not thread-safe, and forests are fitted
# beside the search (baselines.BaselineRace).
warnings.filterwarnings("ignore", message="Some inputs do not have OOB scores")
SOURCES = ("categorical", "numeric")  # the inputs a forest reads, in the order of its features
TIE_TILT = 1e-5  # subtracted from class k's probability k times (see forest_model): ties go to the first class
# Shares of the uniform distribution mixed into the forest's class probabilities, the one with the
# lowest out-of-bag log loss chosen (:func:`oob_smoothing`): a forest of pure leaves answers 0 for
# a class it never saw in a row's leaves, and one such row costs a cross-entropy of 16 (Keras'
# epsilon), where networks never answer exactly 0. Accuracy is unchanged (the order of classes stays).
SMOOTHING = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1)


def reads_forest(signature: DataSignature) -> bool:
    """Whether a forest can stand in for this data's network: numeric and categorical inputs only,
    and one value per row for a regression."""
    return (bool(signature.inputs) and set(signature.inputs) <= set(SOURCES)
            and signature.task in ("classification", "regression")
            and (signature.task == "classification" or signature.target_width <= 1))


def forest_features(x: Mapping[str, Any], signature: DataSignature) -> np.ndarray:
    """The rows of ``x`` (model inputs by source) as the forest's features (rows × features): the
    categorical codes one-hot over ``signature.categorical_tokens``, then the numbers as they are.

    Raises:
        ValueError: ``x`` holds an input a forest does not read (text, images, sequences).
    """
    other = sorted(set(x) - set(SOURCES))
    if other:
        raise ValueError(f"a forest reads numeric and categorical columns only, not {', '.join(other)}")
    blocks: list[np.ndarray] = []
    rows = len(next(iter(x.values()))) if x else 0
    if "categorical" in x:
        blocks.append(one_hot(x["categorical"], signature.categorical_tokens))
    if "numeric" in x:
        blocks.append(np.asarray(x["numeric"], dtype=np.float32).reshape(rows, -1))
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((rows, 0), np.float32)


def fit_forest(task: str, features: np.ndarray, y: np.ndarray, *, leaves: int = FOREST_LEAVES,
               trees: int = FOREST_TREES, seed: int = 0, oob: bool = False) -> Any:
    """A scikit-learn ``RandomForestClassifier`` (``y``: class indices) or
    ``RandomForestRegressor`` (``y``: values, one target) of ``trees`` trees of at most ``leaves``
    leaves each, fitted on ``features`` (:func:`forest_features`) on one core; ``oob``: with its
    out-of-bag predictions (``oob_decision_function_``, for :func:`oob_smoothing`)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kind = RandomForestClassifier if task == "classification" else RandomForestRegressor
    targets = np.asarray(y).astype(int).reshape(-1) if task == "classification" else \
        np.asarray(y, dtype=np.float64).reshape(len(features))
    return kind(n_estimators=trees, max_leaf_nodes=leaves, random_state=seed, n_jobs=1, oob_score=oob).fit(
        features, targets)


def oob_smoothing(forest: Any, y: np.ndarray, n_classes: int) -> float:
    """The share of :data:`SMOOTHING` whose mix into the forest's out-of-bag class probabilities
    (``fit_forest(..., oob=True)`` on the rows of class indices ``y``) gives the lowest log loss
    (Keras' cross-entropy, as the search's ``val_loss``): rows the forest never held out are left
    out. 0 for a regression or without out-of-bag rows."""
    decision = getattr(forest, "oob_decision_function_", None)
    if decision is None or not n_classes:
        return 0.0
    labels = np.asarray(y).astype(int).reshape(-1)
    full = np.zeros((len(labels), n_classes))
    full[:, np.asarray(forest.classes_, dtype=int)] = np.nan_to_num(np.asarray(decision, dtype=np.float64))
    seen = full.sum(axis=1) > 0
    if not seen.any():
        return 0.0

    def log_loss(share: float) -> float:
        return objective_value("val_loss", labels[seen], (1 - share) * full[seen] + share / n_classes, n_classes) \
            or 0.0

    return min(SMOOTHING, key=lambda share: (log_loss(share), share))


def fit_best_forest(task: str, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                    n_classes: int, *, seed: int = 0) -> tuple[Any, float, np.ndarray]:
    """Of the :data:`FOREST_SHAPES`, the forest fitted on ``train`` (``(features, targets)``, with
    out-of-bag predictions for its :func:`oob_smoothing`) whose output has the lowest loss on
    ``validation`` (as ``val_loss`` counts it), its smoothing and that output
    (:func:`forest_output` on the validation rows); the first of equal losses.
    A larger shape is not tried once the trees stop short of the leaves allowed (its trees would
    be the same ones). The validation rows, not the out-of-bag ones, decide: a row's out-of-bag
    prediction averages the ~37 % of trees that left it out, which penalises the shapes of fewer
    trees (on randhie it chose 100 × 256 leaves over 25 × 512, the better on the test rows)."""
    best: tuple[Any, float, np.ndarray, float] | None = None
    for leaves, trees in FOREST_SHAPES:
        forest = fit_forest(task, train[0], train[1], leaves=leaves, trees=trees, seed=seed, oob=bool(n_classes))
        smoothing = oob_smoothing(forest, train[1], n_classes)
        output = forest_output(forest, validation[0], n_classes, smoothing)
        loss = objective_value("val_loss", validation[1], output, n_classes)
        loss = float("inf") if loss is None or not np.isfinite(loss) else loss
        if best is None or loss < best[3]:
            best = (forest, smoothing, output, loss)
        if max(int(t.tree_.n_leaves) for t in forest.estimators_) < leaves:
            break
    assert best is not None
    return best[0], best[1], best[2]


def forest_output(forest: Any, features: np.ndarray, n_classes: int, smoothing: float = 0.0) -> np.ndarray:
    """What :func:`forest_model` of ``forest`` answers on ``features``, from scikit-learn: class
    probabilities over all ``n_classes`` (rows × n_classes, ``smoothing`` mixed in) or values (rows)."""
    if not n_classes:
        return estimator_output(forest, "regression", features, 0)
    return (1 - smoothing) * estimator_output(forest, "classification", features, n_classes) + smoothing / n_classes


def forest_weights(forest: Any, width: int, n_classes: int = 0) -> int:
    """The weights :func:`forest_model` gives ``forest`` on ``width`` features (as
    ``keras.Model.count_params`` counts them, for a binary head of one unit)."""
    trees = forest.estimators_
    s_max = max(1, *(int((t.tree_.feature >= 0).sum()) for t in trees))
    l_max = max(1, *(int((t.tree_.feature < 0).sum()) for t in trees))
    n, outputs = len(trees), (1 if n_classes <= 2 else n_classes)
    return (width + 1) * n * s_max + 2 * n * s_max + (s_max + 1) * n * l_max + (n * l_max + 1) * outputs


@dataclass(frozen=True)
class ForestCandidate:
    """A forest that may be exported instead of the network: fitted (``forest``) on ``features``
    (train+validation rows, :func:`forest_features`) with ``smoothing`` (:func:`oob_smoothing`), and
    the validation objective ``score`` of the same settings fitted on the training split alone
    (None where it is undefined) and that forest's ``validation_output`` (:func:`forest_output` on
    the validation rows); ``seconds``: its last fit's (one forest on train+validation rows,
    about what a fold of :func:`cross_validate_forest` takes)."""

    forest: Any
    features: np.ndarray
    smoothing: float
    score: float | None
    seconds: float
    validation_output: np.ndarray

    def record(self, *, chosen_by: str, network_score: float | None) -> dict[str, Any]:
        """What ``search_finished`` and the metadata say of it (see :func:`describe_forest`)."""
        return {"trees": len(self.forest.estimators_), "leaves": int(self.forest.max_leaf_nodes or 0),
                "smoothing": self.smoothing, "score": self.score, "network_score": network_score,
                "chosen_by": chosen_by, "estimator": type(self.forest).__name__}


def forest_candidate(task: str, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                     n_classes: int, score: Callable[[np.ndarray, np.ndarray], float | None],
                     seed: int = 0) -> ForestCandidate:
    """The :class:`ForestCandidate` of ``train`` and ``validation`` (each ``(features, targets)``):
    fitted on the first in the shape of the lowest validation loss and with the smoothing of the
    lowest out-of-bag loss (:func:`fit_best_forest`), scored by ``score(targets, output)`` on the second, then fitted
    again on both in the same shape with the same smoothing."""
    first, smoothing, output = fit_best_forest(task, train, validation, n_classes, seed=seed)
    value = score(validation[1], output)
    features = np.concatenate([train[0], validation[0]])
    started = time.monotonic()
    both = fit_forest(task, features, np.concatenate([np.asarray(train[1]), np.asarray(validation[1])]),
                      leaves=int(first.max_leaf_nodes), trees=len(first.estimators_), seed=seed)
    return ForestCandidate(both, features, smoothing, value, time.monotonic() - started, output)


def prepared_candidate(prepared: Any, objective: str, seed: int = 0) -> ForestCandidate:
    """:func:`forest_candidate` on a :class:`~automl_studio.engine.data.features.PreparedData`'s
    training and validation splits, scored by the search's ``objective`` (as Keras logs it:
    :func:`~automl_studio.engine.train.baselines.objective_value`).

    Raises:
        ValueError: the data has inputs a forest does not read (:func:`reads_forest`).
    """
    signature = prepared.signature
    if not reads_forest(signature):
        raise ValueError("a forest reads numeric and categorical columns only")
    n_classes = prepared.signature.n_classes

    def score(y: np.ndarray, output: np.ndarray) -> float | None:
        return objective_value(objective, y, output, n_classes)

    train, validation = prepared.train, prepared.validation
    return forest_candidate(signature.task, (forest_features(train.x, signature), np.asarray(train.y)),
                            (forest_features(validation.x, signature), np.asarray(validation.y)), n_classes, score,
                            seed)


def cross_validate_forest(task: str, features: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray],
                          n_classes: int, score: Callable[[np.ndarray, np.ndarray], float | None],
                          seed: int = 0, *, leaves: int = FOREST_LEAVES, trees: int = FOREST_TREES) -> CrossValidation:
    """The forest's :class:`~automl_studio.engine.train.crossval.CrossValidation` on ``folds`` (the
    validation rows of each, as the networks' finalists ran them): ``trees`` trees of at most
    ``leaves`` leaves (the candidate's shape) fitted on the other rows with out-of-bag smoothing,
    scored by ``score(targets, output)`` on the fold's. ``parameters``: the mean of the folds'
    forests' weights as Keras layers; ``epochs`` is 0 (a forest has none).

    Raises:
        ValueError: no fold gave a finite score.
    """
    everything = np.arange(len(features))
    scores: list[float] = []
    seconds: list[float] = []
    weights: list[int] = []
    y = np.asarray(y)
    for held_out in folds:
        started = time.monotonic()
        train = np.setdiff1d(everything, held_out, assume_unique=True)
        forest = fit_forest(task, features[train], y[train], leaves=leaves, trees=trees, seed=seed,
                            oob=bool(n_classes))
        smoothing = oob_smoothing(forest, y[train], n_classes)
        value = score(y[held_out], forest_output(forest, features[held_out], n_classes, smoothing))
        seconds.append(time.monotonic() - started)
        weights.append(forest_weights(forest, features.shape[1], n_classes))
        if value is not None and np.isfinite(value):
            scores.append(float(value))
    if not scores:
        raise ValueError("no fold gave the forest a finite score")
    return CrossValidation(epochs=0, score=float(np.mean(scores)), fold_epochs=(), fold_seconds=tuple(seconds),
                           fold_scores=tuple(scores), parameters=int(np.mean(weights)))


def forest_model(forest: Any, signature: DataSignature, features: np.ndarray, n_classes: int = 0,
                 name: str = FOREST_MODEL_NAME, *, smoothing: float = 0.0, one_unit_binary: bool = False) -> Any:
    """``forest`` (fitted by :func:`fit_forest` on ``features``) as a ``keras.Model`` whose inputs
    are named and shaped as a table network's (``signature.inputs``' numeric and categorical) and
    whose output is the class probabilities over all ``n_classes`` (rows × n_classes; a class the
    forest never saw gets 0) or the predicted value (rows × 1), in float32.

    ``features`` gives each split the training values either side of its threshold. ``smoothing``
    mixes that share of the uniform distribution into the probabilities (:func:`oob_smoothing`);
    ``one_unit_binary``: two classes answer the second's probability alone (rows × 1), as a
    network's one sigmoid unit does.

    Raises:
        ValueError: the signature has inputs other than numeric and categorical ones.
    """
    import keras

    other = sorted(set(signature.inputs) - set(SOURCES))
    if other:
        raise ValueError(f"a forest reads numeric and categorical columns only, not {', '.join(other)}")
    trees = forest.estimators_
    splits = [np.flatnonzero(t.tree_.feature >= 0) for t in trees]
    leaves = [np.flatnonzero(t.tree_.feature < 0) for t in trees]
    s_max, l_max = max(1, *(len(s) for s in splits)), max(1, *(len(v) for v in leaves))
    width, n_trees = features.shape[1], len(trees)
    pick = np.zeros((width, n_trees * s_max), np.float32)  # −1 at each split's feature
    at = np.zeros(n_trees * s_max, np.float32)  # its threshold
    steep = np.zeros((n_trees, s_max), np.float32)  # 1 / gap
    route = np.zeros((n_trees, s_max, l_max), np.float32)  # ±1: the path's turns
    lefts = np.full((n_trees, l_max), -1.0, np.float32)  # a padded leaf is never reached
    binary = one_unit_binary and n_classes == 2
    outputs = 1 if binary else max(n_classes, 1)
    values = np.zeros((n_trees * l_max, outputs), np.float32)
    ordered = np.sort(np.asarray(features, dtype=np.float32), axis=0)
    for t, tree in enumerate(trees):
        tree_ = tree.tree_
        index = {int(node): i for i, node in enumerate(splits[t])}
        for i, node in enumerate(splits[t]):
            feature, threshold = int(tree_.feature[node]), float(tree_.threshold[node])
            column = ordered[:, feature]
            cut = int(np.searchsorted(column, threshold, side="right"))
            # The last training value on the left and the first on the right, in float32: the
            # threshold itself (a float64 midpoint) may round onto either of two close values.
            below = column[cut - 1] if cut else np.float32(threshold)
            above = column[cut] if cut < len(column) else below + np.float32(1.0)
            pick[feature, t * s_max + i] = -1.0
            at[t * s_max + i] = below
            steep[t, i] = np.float32(1.0) / max(np.float32(above - below), np.float32(1e-30))
        parent: dict[int, tuple[int, bool]] = {}
        for node in splits[t]:
            parent[int(tree_.children_left[node])] = (int(node), True)
            parent[int(tree_.children_right[node])] = (int(node), False)
        for j, leaf in enumerate(leaves[t]):
            step, turns_left = int(leaf), 0
            while step in parent:
                up, left = parent[step]
                route[t, index[up], j] = 1.0 if left else -1.0
                turns_left += left
                step = up
            lefts[t, j] = 1.0 - turns_left
            value = np.asarray(tree_.value[leaf], dtype=np.float64).reshape(-1)
            if n_classes:
                shares = value / max(value.sum(), 1e-30)
                full = np.zeros(n_classes)
                full[np.asarray(forest.classes_, dtype=int)] = shares
                value = (1 - smoothing) * full + smoothing / n_classes  # one leaf a tree: sums to the mix
                value = value[1:] if binary else value
            values[t * l_max + j] = value / n_trees
    inputs = {source: keras.Input(shape=signature.inputs[source], name=source,
                                  dtype="int32" if source == "categorical" else "float32")
              for source in SOURCES if source in signature.inputs}
    parts = []
    if "categorical" in inputs:
        parts.append(keras.layers.CategoryEncoding(max(signature.categorical_tokens, 1), output_mode="multi_hot",
                                                   name=f"{name}_onehot")(inputs["categorical"]))
    if "numeric" in inputs:
        parts.append(inputs["numeric"])
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=f"{name}_features")(parts)
    # below − value first, then the per-split scale: exact for values far from zero as well.
    h = keras.layers.Dense(n_trees * s_max, name=f"{name}_splits", dtype="float32")(x)
    h = keras.layers.Reshape((n_trees, s_max), name=f"{name}_by_tree")(h)
    h = keras.layers.EinsumDense("bts,ts->bts", output_shape=(n_trees, s_max), bias_axes="ts",
                                 name=f"{name}_steps", dtype="float32")(h)
    h = keras.layers.ReLU(max_value=1.0, name=f"{name}_sides")(h)
    h = keras.layers.EinsumDense("bts,tsl->btl", output_shape=(n_trees, l_max), bias_axes="tl",
                                 name=f"{name}_paths", dtype="float32")(h)
    h = keras.layers.ReLU(max_value=1.0, name=f"{name}_leaves")(h)
    h = keras.layers.Reshape((n_trees * l_max,), name=f"{name}_all_leaves")(h)
    out = keras.layers.Dense(outputs, name=f"{name}_values", dtype="float32")(h)
    model = keras.Model(inputs=inputs, outputs=out, name=name)
    model.get_layer(f"{name}_splits").set_weights([pick, at])
    model.get_layer(f"{name}_steps").set_weights([steep, np.ones((n_trees, s_max), np.float32)])
    model.get_layer(f"{name}_paths").set_weights([route, lefts])
    # Exact ties between classes are common in a forest (50 trees against 50) and float32 sums in
    # another order break them either way (the window's evaluation and a reloaded file disagreed
    # on a row at 0.5): a tilt far above the sums' rounding (~1e-7) and far below what is shown
    # sends a tie to the first class, as scikit-learn's argmax of predict_proba does.
    # (The one unit of two classes is the second's probability: it is tilted as the second class.)
    ranks = np.arange(outputs, dtype=np.float32) + (1.0 if binary else 0.0)
    tilt = -TIE_TILT * ranks if n_classes else np.zeros(outputs, np.float32)
    model.get_layer(f"{name}_values").set_weights([values, tilt])
    return model
