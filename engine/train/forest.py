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
3. the leaves' values (class shares, or means) divided by the number of trees, summed.

Layers 1–2 of all trees run as one batched product each (``EinsumDense``, trees padded to the
forest's most splits and leaves), so the model has a handful of layers whatever the number of
trees; nothing but standard layers, so it saves as legacy HDF5 and reloads with plain
``keras.models.load_model``. On training rows it reproduces ``predict_proba``/``predict`` to
float32 rounding (:func:`forest_model`'s tests).

The forest reads what a table's network reads: the ``numeric`` input (imputed numbers, as they
are: trees do not care for scale) and the ``categorical`` input (integer codes, one-hot over the
signature's ``categorical_tokens``, as ``CategoryEncoding`` gives them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.train.baselines import one_hot

FOREST_TREES = 100  # scikit-learn's default
# Leaves per tree at most: the leaf layer holds trees × splits × leaves weights (100 × 63 × 64: 403k,
# 1.6 MB). Measured on the held-out corpus (results/experiments/forest_in_keras.json), 64 leaves keep
# most of an unbounded forest's score except on tables of many repeated rows (randhie).
FOREST_LEAVES = 64
SOURCES = ("categorical", "numeric")  # the inputs a forest reads, in the order of its features


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
               trees: int = FOREST_TREES, seed: int = 0) -> Any:
    """A scikit-learn ``RandomForestClassifier`` (``y``: class indices) or
    ``RandomForestRegressor`` (``y``: values, one target) of ``trees`` trees of at most ``leaves``
    leaves each, fitted on ``features`` (:func:`forest_features`) on one core."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kind = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return kind(n_estimators=trees, max_leaf_nodes=leaves, random_state=seed, n_jobs=1).fit(
        features, np.asarray(y).reshape(len(features)) if task != "classification" else y)


def forest_model(forest: Any, signature: DataSignature, features: np.ndarray, n_classes: int = 0,
                 name: str = "random_forest") -> Any:
    """``forest`` (fitted by :func:`fit_forest` on ``features``) as a ``keras.Model`` whose inputs
    are named and shaped as a table network's (``signature.inputs``' numeric and categorical) and
    whose output is the class probabilities over all ``n_classes`` (rows × n_classes; a class the
    forest never saw gets 0) or the predicted value (rows × 1), in float32.

    ``features`` gives each split the training values either side of its threshold.

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
    outputs = max(n_classes, 1)
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
                value = full
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
    out = keras.layers.Dense(outputs, use_bias=False, name=f"{name}_values", dtype="float32")(h)
    model = keras.Model(inputs=inputs, outputs=out, name=name)
    model.get_layer(f"{name}_splits").set_weights([pick, at])
    model.get_layer(f"{name}_steps").set_weights([steep, np.ones((n_trees, s_max), np.float32)])
    model.get_layer(f"{name}_paths").set_weights([route, lefts])
    model.get_layer(f"{name}_values").set_weights([values])
    return model
