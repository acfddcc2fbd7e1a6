"""When a class is rare, and the class weights that balance it.

A class is *rare* when its share of the rows is under :data:`RARE_SHARE` of the share it would
have in a balanced two-class table, scaled to the number of classes: under 20 % with two classes,
under 13.3 % with three, under 4 % with ten. The 20 % is the upper end of "moderate" imbalance in
Google's Machine Learning Crash Course ("Datasets: imbalanced datasets": a minority class of
20–40 % of the rows is mild imbalance, 1–20 % moderate, under 1 % extreme), the degree from which
it recommends rebalancing training.

Balanced class weights are scikit-learn's ``compute_class_weight("balanced")``:
``rows / (classes * rows of the class)``, so each class weighs as much in the loss in total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RARE_SHARE = 0.20
"""A class under this share of the rows (two classes; ``RARE_SHARE * 2 / classes`` with more) is rare."""


def rare_classes(class_counts: Sequence[int]) -> tuple[int, ...]:
    """The indices of the rare classes, given the rows of each class (a profile's ``class_counts``)."""
    total = sum(class_counts)
    k = len(class_counts)
    if k < 2 or total <= 0:
        return ()
    limit = RARE_SHARE * 2 / k
    return tuple(i for i, count in enumerate(class_counts) if count / total < limit)


def balanced_class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """``{class index: weight}`` that balance the classes of ``y`` (class indices, or 0/1 floats
    for two classes); a class absent from ``y`` gets weight 1."""
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(y).reshape(-1).astype(int)
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    out = {i: 1.0 for i in range(max(n_classes, 2))}
    out.update({int(c): float(w) for c, w in zip(present, weights, strict=True)})
    return out


__all__ = ["RARE_SHARE", "balanced_class_weights", "rare_classes"]
