"""Every result against its trivial baseline: the majority class, or the training mean."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import SearchFinished, event_from_dict
from automl_studio.engine.export.model_info import describe
from automl_studio.engine.search.session import run_search
from automl_studio.engine.train.metrics import (
    baseline_metrics,
    baseline_note,
    baseline_shortfall,
    classification_metrics,
    regression_metrics,
)


def test_the_majority_class_baseline_is_scored_on_the_test_labels():
    train = np.array([0] * 7 + [1] * 3)
    test = np.array([0, 0, 1, 1])
    base = baseline_metrics("classification", train, test, ("no", "yes"))
    assert base["accuracy"] == 0.5 and base["balanced_accuracy"] == 0.5 and base["n"] == 4
    assert "no" in base["rule"] and "70%" in base["rule"]
    assert "confusion_matrix" not in base


def test_the_regression_baseline_predicts_the_training_mean():
    base = baseline_metrics("regression", np.array([1.0, 3.0]), np.array([2.0, 4.0]))
    assert base["mae"] == pytest.approx(1.0) and base["rmse"] == pytest.approx(np.sqrt(2.0))
    assert "2" in base["rule"]


def test_a_model_that_predicts_one_class_does_not_beat_the_baseline():
    y = np.array([0] * 7 + [1] * 3)
    one_class = classification_metrics(y, np.tile([0.9, 0.1], (10, 1)), ("no", "yes"))
    base = baseline_metrics("classification", y, y, ("no", "yes"))
    note = baseline_shortfall(one_class, base)
    assert note is not None and "does not beat" in note and "0.700 against 0.700" in note
    assert "epochs" in note and "learning rate" in note and "data" in note
    # A few lucky guesses of the rare class are no progress …
    lucky = classification_metrics(y, np.array([[0.9, 0.1]] * 6 + [[0.1, 0.9]] + [[0.9, 0.1]] * 2
                                               + [[0.1, 0.9]]), ("no", "yes"))
    assert lucky["balanced_accuracy"] > base["balanced_accuracy"]
    assert baseline_shortfall(lucky, base) is not None
    # … finding the rare class is, even though plain accuracy is no higher.
    big = np.array([0] * 70 + [1] * 30)
    found = classification_metrics(big, np.array([[0.9, 0.1]] * 55 + [[0.1, 0.9]] * 15 + [[0.1, 0.9]] * 15
                                                 + [[0.9, 0.1]] * 15), ("no", "yes"))
    assert found["accuracy"] == pytest.approx(0.7)
    assert baseline_shortfall(found, baseline_metrics("classification", big, big, ("no", "yes"))) is None


def test_a_regressor_must_have_a_lower_rmse_than_the_mean():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    base = baseline_metrics("regression", y, y)
    assert baseline_shortfall(regression_metrics(y, y + 0.1), base) is None
    assert "RMSE" in (baseline_shortfall(regression_metrics(y, np.full(4, 2.5) + 0.5), base) or "")
    assert baseline_shortfall({}, base) is None and baseline_shortfall(regression_metrics(y, y), {}) is None


def test_the_comparison_is_one_sentence_whichever_way_it_goes():
    y = np.array([0, 0, 0, 1])
    base = baseline_metrics("classification", y, y, ("no", "yes"))
    right = classification_metrics(y, np.eye(2)[y], ("no", "yes"))
    assert baseline_note(right, base) == ("The best model beats the trivial baseline (always the most common "
                                          "class, no (75% of the training rows)) on the test split: accuracy "
                                          "1.000 against 0.750.")
    wrong = classification_metrics(y, np.tile([1.0, 0.0], (4, 1)), ("no", "yes"))
    note = baseline_note(wrong, base)
    assert note.startswith("The best model does not beat the trivial baseline (always the most common class, "
                           "no (75% of the training rows)) on the test split: accuracy 0.750 against 0.750. "
                           "Likely causes:")
    assert baseline_shortfall(wrong, base) == note and baseline_shortfall(right, base) is None
    r = np.array([1.0, 2.0, 3.0, 4.0])
    assert baseline_note(regression_metrics(r, r + 0.1), baseline_metrics("regression", r, r)) == (
        "The best model beats the trivial baseline (always the training mean (2.5)) on the test split: "
        "RMSE 0.1 against 1.118.")
    assert baseline_note({}, base) == "" and baseline_note(right, {}) == ""


def model_file(path: Path, metadata: dict) -> Path:
    """An .h5 as the export writes it, without weights: a Keras model config and our metadata."""
    with h5py.File(path, "w") as h5:
        h5.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {}}, {"class_name": "Dense", "config": {}}]}})
        h5.attrs["automl_studio"] = json.dumps(metadata)
    return path


def test_info_shows_the_comparison_when_the_model_keeps_its_baseline(tmp_path):
    y = np.array([0, 0, 0, 1])
    base = baseline_metrics("classification", y, y, ("no", "yes"))
    right = classification_metrics(y, np.eye(2)[y], ("no", "yes"))
    kept = describe(model_file(tmp_path / "kept.h5", {"test_metrics": right, "baseline_metrics": base}))
    assert kept["baseline_note"] == baseline_note(right, base) and kept["layers"] == ["InputLayer", "Dense"]
    # A model exported before baselines were kept (or made elsewhere) has nothing to compare.
    assert describe(model_file(tmp_path / "old.h5", {"test_metrics": right}))["baseline_note"] == ""
    assert describe(model_file(tmp_path / "other.h5", [1, 2]))["baseline_note"] == ""


def noise_csv(path: Path) -> Path:
    """Labels independent of the features, 70/30: no model can beat the majority class."""
    rng = np.random.default_rng(3)
    n = 300
    labels = np.where(rng.permutation(n) < 0.7 * n, "no", "yes")
    rows = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{c}" for a, b, c in
                              zip(rng.normal(size=n), rng.normal(size=n), labels, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.slow
def test_the_engine_flags_a_model_that_predicts_the_majority_class(tmp_path):
    events: list = []
    config = SearchConfig(data_path=str(noise_csv(tmp_path / "noise.csv")), project_dir=str(tmp_path / "p"),
                          target="label", tuner="random", max_trials=1, max_epochs=3, refit=False, seed=1)
    result = run_search(config, events.append)
    finish = events[-1]
    assert isinstance(finish, SearchFinished) and finish.status == "completed"
    base = finish.baseline_metrics
    assert base == result.baseline_metrics
    assert base["n"] == finish.test_metrics["n"]  # the same test split
    assert "no" in base["rule"]
    note = baseline_shortfall(finish.test_metrics, base)
    assert note is not None and "does not beat the trivial baseline" in note
    # The flag survives the event log's JSON round trip …
    again = event_from_dict(json.loads(json.dumps(finish.to_dict())))
    assert isinstance(again, SearchFinished) and again.baseline_metrics == dict(base)
    # … and is in the exported model's metadata.
    with h5py.File(tmp_path / "p" / "best" / "best.h5", "r") as h5:
        meta = json.loads(h5.attrs["automl_studio"])
    assert meta["beats_baseline"] is False
    assert meta["baseline_note"] == note
    assert meta["baseline_metrics"]["accuracy"] == pytest.approx(base["accuracy"])


def test_the_model_card_says_a_model_below_its_baseline_in_whole_sentences():
    from automl_studio.engine.export.deploy import limitations

    note = baseline_shortfall({"accuracy": 0.68, "n": 60}, {"accuracy": 0.7, "n": 60, "rule": "always no"})
    assert note is not None and note.endswith(".")
    said = [line for line in limitations({"beats_baseline": False, "baseline_note": note,
                                          "test_metrics": {"n": 500}}, [])
            if "baseline" in line]
    assert len(said) == 1 and ".." not in said[0]  # was "… or data.. Do not deploy it as is."
    assert said[0].endswith(note) and "do not deploy it as is" in said[0]
