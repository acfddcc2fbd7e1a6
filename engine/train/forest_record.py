"""A forest record in words, for the window, the command's summary and the model card.

The record is what ``search_finished`` and the exported file's metadata hold where the model is
a random forest in Keras layers (:mod:`automl_studio.engine.train.forest`); kept apart from that
module so that readers of records import neither scikit-learn nor Keras.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FOREST_MODEL_NAME = "random_forest"  # the keras.Model's name (train.forest.forest_model), which the window reads


def describe_forest(record: Mapping[str, Any]) -> str:
    """``"random forest of 100 trees (at most 64 leaves each) in Keras layers"`` from a forest record
    (``{"trees", "leaves", "smoothing", ...}``, as ``search_finished`` and the metadata hold it); ``""``
    for an empty or malformed one."""
    trees, leaves = record.get("trees"), record.get("leaves")
    if not isinstance(trees, int) or not isinstance(leaves, int):
        return ""
    return f"random forest of {trees} trees (at most {leaves} leaves each) in Keras layers"


def forest_words(record: Mapping[str, Any]) -> str:
    """:func:`describe_forest` and how it was chosen: "random forest of 100 trees (at most 64 leaves
    each) in Keras layers, chosen on the validation split: 0.21 against the best network's 0.25"."""
    words = describe_forest(record)
    score, network = record.get("score"), record.get("network_score")
    if not words or not record.get("chosen_by"):
        return words
    against = (f": {score:.4g} against the best network's {network:.4g}"
               if isinstance(score, float) and isinstance(network, float) else "")
    return f"{words}, chosen on {record['chosen_by']}{against}"
