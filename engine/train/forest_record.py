"""A forest record, and the record of a model trained again on all rows, in words, for the
window, the command's summary and the model card.

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


def _all_rows_counts(record: Any) -> tuple[int, int, int, int] | None:
    """``rows``, ``test_rows``, ``members`` and ``of`` of an ``all_rows`` record; None for anything
    else (an empty record, a malformed one, a value of another type from a file's metadata)."""
    if not isinstance(record, Mapping):
        return None
    values = [record.get(k) for k in ("rows", "test_rows", "members", "of")]
    if not all(isinstance(v, int) for v in values):
        return None
    rows, test, members, of = (int(v) for v in values)  # type: ignore[arg-type]  # checked above
    return rows, test, members, of


def all_rows_words(record: Any) -> str:
    """What ``search_finished``'s ``all_rows`` record says (``{"rows", "test_rows", "members", "of"}``):
    "the exported model was trained again on all 1,234 rows once the test split's 247 had scored it
    (the test metrics are the model's before)", or "3 of the exported model's 5 refits were …"
    where not every refit was; ``""`` for an empty or malformed one, or one that is no mapping."""
    counts = _all_rows_counts(record)
    if counts is None:
        return ""
    rows, test, members, of = counts
    which = (f"{members} of the exported model's {of} refits were" if members < of
             else "the exported model was")
    return (f"{which} trained again on all {rows:,} rows once the test split's {test:,} had scored it (the test "
            "metrics are the model's before)")


def trained_on(record: Any) -> str:
    """The rows a model's refits were trained on, from its ``all_rows`` record: "train + validation",
    "all 1,234 rows" or "all 1,234 rows (3 of 5; the others train + validation)"."""
    counts = _all_rows_counts(record)
    if counts is None:
        return "train + validation"
    rows, _, members, of = counts
    return f"all {rows:,} rows" + (f" ({members} of {of}; the others train + validation)" if members < of else "")
