"""The linear baseline raced beside every search: scikit-learn on the search's own splits."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from datafiles import IRIS, write_image_npz, write_mixed_table
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import BaselinesScored, SearchFinished, event_from_dict
from automl_studio.engine.data.features import prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.export.deploy import render_model_card
from automl_studio.engine.export.model_info import describe
from automl_studio.engine.search.project import last_finish, read_events
from automl_studio.engine.search.report import write_report
from automl_studio.engine.search.session import run_search
from automl_studio.engine.train.baselines import (
    FOREST_UNFINISHED,
    MAX_FEATURES,
    BaselineRace,
    linear_features,
    race_note,
    score_baselines,
)


def prepared_from(path: Path, target: str | None, task: str | None = None, seed: int = 1):
    dataset = load_dataset(path)
    profile = profile_dataset(dataset, target, task)
    return prepare_data(dataset, profile, validation_fraction=0.2, test_fraction=0.2, seed=seed)


def separable_csv(path: Path, rows: int = 400) -> Path:
    """Two classes split by a line through four numeric columns: a linear model gets them all."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 4))
    label = np.where(x @ np.array([2.0, -1.5, 1.0, 0.5]) > 0, "up", "down")
    lines = ["a,b,c,d,label"] + [",".join(f"{v:.4f}" for v in row) + f",{lab}" for row, lab in
                                 zip(x, label, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_linear_model_is_scored_on_the_search_split_with_the_objective_metric(tmp_path):
    prepared = prepared_from(write_mixed_table(tmp_path / "mixed.csv"), "label")
    scored = score_baselines(prepared, "val_accuracy", "max")
    assert scored.linear == "LogisticRegression" and scored.trivial == "the majority class"
    assert scored.skipped == ""
    # The same rows as the search: fit on its training split, scored on its validation split …
    features = linear_features(prepared.train.x, prepared)
    assert len(features) == len(prepared.train)
    model = LogisticRegression(max_iter=1000).fit(features, prepared.train.y)
    expected = float(np.mean(model.predict(linear_features(prepared.validation.x, prepared))
                             == prepared.validation.y))
    assert scored.linear_score == pytest.approx(expected)
    majority = np.bincount(prepared.train.y).argmax()
    assert scored.trivial_score == pytest.approx(float(np.mean(prepared.validation.y == majority)))
    # … and refitted on training + validation for the test split's metrics.
    assert scored.linear_test_metrics["n"] == len(prepared.test)
    assert set(scored.linear_test_metrics) >= {"accuracy", "balanced_accuracy", "f1_macro"}
    # Numeric columns are standardised with the training statistics, categories one-hot.
    numeric = prepared.train.x["numeric"].shape[1]
    assert np.allclose(features[:, -numeric:].mean(axis=0), 0.0, atol=1e-6)  # sources in name order
    assert features.shape[1] == prepared.signature.categorical_tokens + numeric


def test_the_random_forest_is_scored_on_the_same_split_and_features(tmp_path):
    prepared = prepared_from(write_mixed_table(tmp_path / "mixed.csv"), "label")
    scored = score_baselines(prepared, "val_accuracy", "max")
    assert scored.forest == "RandomForestClassifier" and scored.forest_skipped == ""
    features = linear_features(prepared.train.x, prepared)
    held = linear_features(prepared.validation.x, prepared)
    forest = RandomForestClassifier(random_state=0).fit(features, prepared.train.y)
    assert scored.forest_score == pytest.approx(float(np.mean(forest.predict(held) == prepared.validation.y)))
    # Refitted on training + validation for the test metrics, as the linear model is.
    seen = RandomForestClassifier(random_state=0).fit(np.concatenate([features, held]),
                                                      np.concatenate([prepared.train.y, prepared.validation.y]))
    accuracy = float(np.mean(seen.predict(linear_features(prepared.test.x, prepared)) == prepared.test.y))
    assert scored.forest_test_metrics["accuracy"] == pytest.approx(accuracy)
    assert scored.forest_test_metrics["n"] == len(prepared.test)


def test_a_forest_regression_scores_the_mean_squared_error_and_beats_a_line_on_a_step(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(300, 2))
    y = np.where(x[:, 0] > 0.2, 10.0, 0.0) + rng.normal(0, 0.1, 300)  # a step: no line fits it
    path = tmp_path / "step.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{a:.5f},{b:.5f},{t:.5f}" for (a, b), t in zip(x, y, strict=True)) + "\n")
    prepared = prepared_from(path, "y", "regression")
    scored = score_baselines(prepared, "val_loss", "min")
    assert scored.forest == "RandomForestRegressor"
    forest = RandomForestRegressor(random_state=0).fit(linear_features(prepared.train.x, prepared), prepared.train.y)
    err = forest.predict(linear_features(prepared.validation.x, prepared)) - prepared.validation.y
    assert scored.forest_score == pytest.approx(float(np.mean(err ** 2)), rel=1e-6)
    assert scored.forest_score < 0.5 < scored.linear_score
    assert race_note(scored.summary(), scored.linear_score).startswith(
        f"A random forest ({scored.forest_score:.3f}) scores as well as or better than the best network")


def test_the_end_of_a_search_takes_the_linear_model_while_the_forest_still_grows(tmp_path):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(20_000, 10))
    y = x[:, 0] * 3 + np.sin(x[:, 1] * 3) + rng.normal(0, 0.3, 20_000)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"x{i}" for i in range(10)) + ",y\n" + "\n".join(
        ",".join(f"{v:.4f}" for v in (*row, t)) for row, t in zip(x, y, strict=True)) + "\n")
    prepared = prepared_from(path, "y", "regression")
    race = BaselineRace(prepared, "val_loss", "min")
    deadline = time.monotonic() + 60
    while race._partial is None and time.monotonic() < deadline:  # the linear model is done first
        time.sleep(0.05)
    assert race.result(0.0) is None  # still fitting the forest: nothing yet …
    early = race.result(0.0, final=True)  # … unless the search ends now: then the linear one
    assert isinstance(early, BaselinesScored) and early.linear_score is not None and early.forest_score is None
    assert early.forest_skipped == FOREST_UNFINISHED == "it was still being fitted when the search ended"
    assert "(no random forest: it was still being fitted when the search ended)" in race_note(early.summary(), 1.0)
    done = race.result(120.0)
    assert isinstance(done, BaselinesScored) and done.forest_score is not None and done.forest_skipped == ""
    assert done.linear_score == early.linear_score


def test_a_forest_candidate_that_cannot_be_fitted_leaves_its_reason_for_the_search(tmp_path):
    prepared = prepared_from(write_mixed_table(tmp_path / "mixed.csv", rows=200), "label")

    def refuse(prepared, objective):  # as prepared_candidate refuses inputs a forest does not read
        raise ValueError("a forest reads numeric and categorical columns only")

    race = BaselineRace(prepared, "val_loss", "min", candidate=refuse)
    assert isinstance(race.result(120.0), BaselinesScored)
    assert race.candidate_result(120.0) is None and not race.candidate_pending
    assert race.candidate_error == "no forest candidate (a forest reads numeric and categorical columns only)"


def test_regression_gets_ridge_and_the_loss_is_the_mean_squared_error(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.0, 2.0, -1.0]) + 5 + rng.normal(0, 0.1, 200)
    path = tmp_path / "reg.csv"
    path.write_text("a,b,c,y\n" + "\n".join(",".join(f"{v:.5f}" for v in (*row, t)) for row, t in
                                            zip(x, y, strict=True)) + "\n")
    prepared = prepared_from(path, "y", "regression")
    scored = score_baselines(prepared, "val_loss", "min")
    assert scored.linear == "Ridge" and scored.trivial == "the training mean"
    model = Ridge().fit(linear_features(prepared.train.x, prepared), prepared.train.y)
    err = model.predict(linear_features(prepared.validation.x, prepared)) - prepared.validation.y
    assert scored.linear_score == pytest.approx(float(np.mean(err ** 2)), rel=1e-5)
    assert scored.linear_score < 0.1 < scored.trivial_score
    assert scored.linear_test_metrics["rmse"] < 0.3


def test_a_forecast_of_several_steps_gets_one_ridge_line_and_one_mean_per_step(tmp_path):
    """#17: with --horizon 3 the baselines failed ('could not be broadcast ... (120,) (360,)')."""
    from automl_studio.engine.data.identity import prepare_for_search

    t = np.arange(240)
    path = tmp_path / "steps.csv"
    path.write_text("step,y\n" + "\n".join(f"{i},{10 * np.sin(i / 4) + 0.05 * i:.4f}" for i in t) + "\n")
    prepared = prepare_for_search(SearchConfig(str(path), str(tmp_path / "p"), target="y", time_column="step",
                                               horizon=3, lookback=12))
    assert prepared.validation.y.shape[1] == 3
    scored = score_baselines(prepared, "val_loss", "min")
    model = Ridge().fit(linear_features(prepared.train.x, prepared), prepared.train.y)
    err = model.predict(linear_features(prepared.validation.x, prepared)) - prepared.validation.y
    assert scored.linear_score == pytest.approx(float(np.mean(err ** 2)), rel=1e-5)
    means = prepared.train.y.mean(axis=0)
    assert scored.trivial_score == pytest.approx(float(np.mean((prepared.validation.y - means) ** 2)), rel=1e-5)
    assert scored.linear_score < scored.trivial_score
    assert scored.linear_test_metrics["n"] == 3 * len(prepared.test)


def test_images_are_flattened_and_too_wide_inputs_are_skipped_with_the_reason(tmp_path, monkeypatch):
    prepared = prepared_from(write_image_npz(tmp_path / "images.npz"), None, "classification")
    assert linear_features(prepared.train.x, prepared).shape == (len(prepared.train), 12 * 12 * 3)
    assert score_baselines(prepared, "val_accuracy", "max").linear_score == pytest.approx(1.0)
    monkeypatch.setattr("automl_studio.engine.train.baselines.MAX_FEATURES", 100)
    skipped = score_baselines(prepared, "val_accuracy", "max")
    assert skipped.linear_score is None and "432 features" in skipped.skipped and "100" in skipped.skipped
    assert skipped.trivial_score is not None
    assert "no linear model: the inputs have 432 features" in race_note(skipped.summary(), 0.9)
    assert MAX_FEATURES == 20_000
    # A forest of raw pixels says little: none is raced on images.
    assert skipped.forest_score is None and skipped.forest_skipped == "not raced on images"
    assert "(no random forest: not raced on images)" in race_note(skipped.summary(), 0.9)
    assert skipped.forest_test_metrics == {}


def test_the_comparison_is_said_plainly_both_ways():
    race = {"objective": "val_accuracy", "direction": "max", "trivial": "the majority class",
            "trivial_score": 0.34, "linear": "LogisticRegression", "linear_score": 0.88}
    assert race_note(race, 0.91) == ("The network (val_accuracy 0.910) beats the linear model (0.880) and the "
                                     "majority class (0.340) on the validation split.")
    losing = race_note(race, 0.85)
    assert losing.startswith("The linear model (0.880) scores as well as or better than the best network "
                             "(val_accuracy 0.850) on the validation split, so the network does not earn its keep")
    assert "consider the linear model (LogisticRegression)" in losing and "majority class scores 0.340" in losing
    assert "the majority class scores 0.340" in race_note(race, 0.30)
    alone = race_note({**race, "linear_score": None, "skipped": "the training split holds one class only"}, 0.30)
    assert alone.startswith("The majority class (0.340) scores as well as or better than the best network")
    assert alone.endswith("(no linear model: the training split holds one class only).")
    lower = {**race, "objective": "val_loss", "direction": "min", "trivial_score": 0.69, "linear_score": 0.2}
    assert race_note(lower, 0.1).startswith("The network (val_loss 0.100) beats")
    assert race_note(lower, 0.3).startswith("The linear model (0.200) scores as well as or better")
    assert race_note(race, None) == ("Baselines on the validation split (val_accuracy): the linear model 0.880 "
                                     "and the majority class 0.340.")
    assert race_note({}, 0.9) == ""
    # With the random forest: every baseline beaten, or the strongest unbeaten one leads.
    trees = {**race, "forest": "RandomForestClassifier", "forest_score": 0.9}
    assert race_note(trees, 0.95) == ("The network (val_accuracy 0.950) beats the linear model (0.880), a random "
                                      "forest (0.900) and the majority class (0.340) on the validation split.")
    # A forest of the search's own may still be exported (within a standard error of the network).
    assert race_note(trees, 0.95, forest_exported=True).endswith(
        "on the validation split. Still, the search's own random forest, compiled into Keras layers, is the "
        "exported model: after the search it was chosen over the networks.")
    behind = race_note(trees, 0.85)
    assert behind.startswith("A random forest (0.900) scores as well as or better than the best network "
                             "(val_accuracy 0.850) on the validation split — on this table a forest at "
                             "scikit-learn's defaults (RandomForestClassifier) finds what the networks")
    assert "earn its keep" not in behind
    assert "the linear model scores 0.880; the majority class scores 0.340" in behind
    assert race_note(trees, 0.89).startswith("A random forest (0.900)")  # ahead of the line, behind the forest
    assert race_note(trees, None) == ("Baselines on the validation split (val_accuracy): the linear model 0.880, "
                                      "a random forest 0.900 and the majority class 0.340.")
    # An event log written before the forest was raced reads as none raced.
    old = event_from_dict({"type": "baselines_scored", **{k: v for k, v in race.items()}})
    assert isinstance(old, BaselinesScored) and old.forest == "" and old.forest_score is None
    assert race_note(old.summary(), 0.91) == race_note(race, 0.91)


@pytest.mark.slow
def test_a_search_races_the_linear_model_and_says_plainly_when_it_loses(tmp_path):
    """A line-separable table and a 1-epoch search: logistic regression wins, and every place says so."""
    events: list = []
    project = tmp_path / "p"
    config = SearchConfig(data_path=str(separable_csv(tmp_path / "line.csv")), project_dir=str(project),
                          target="label", tuner="random", max_trials=1, max_epochs=1, refit=False, seed=1)
    result = run_search(config, events.append)
    scored = [e for e in events if isinstance(e, BaselinesScored)]
    assert len(scored) == 1 and scored[0].linear == "LogisticRegression" and scored[0].objective == "val_loss"
    finish = events[-1]
    assert isinstance(finish, SearchFinished) and finish.baselines == scored[0].summary() == result.baselines
    # The linear model's test metrics are on the network's test split.
    assert finish.baselines["linear_test_metrics"]["n"] == finish.test_metrics["n"]
    assert finish.baselines["linear_score"] < finish.best_score  # a lower val_loss
    note = race_note(finish.baselines, finish.best_score)
    assert note.startswith("The linear model (") and "does not earn its keep" in note
    # Stored in the project: a reopened project reads the same.
    assert [e for e in read_events(project) if isinstance(e, BaselinesScored)][0].summary() == scored[0].summary()
    again = last_finish(project)
    assert again is not None and again.baselines == finish.baselines
    assert event_from_dict(json.loads(json.dumps(finish.to_dict()))) == finish
    # The exported model keeps it, and `automl-studio info` says it.
    with h5py.File(project / "best" / "best.h5", "r") as h5:
        meta = json.loads(h5.attrs["automl_studio"])
    assert meta["baselines_note"] == note and meta["baselines"]["linear"] == "LogisticRegression"
    assert meta["baselines"]["forest"] == "RandomForestClassifier"
    assert meta["baselines"]["forest_test_metrics"]["n"] == finish.test_metrics["n"]
    assert describe(project / "best" / "best.h5")["baselines_note"] == note
    # The HTML report and the model card say it too, with the linear model's test metrics.
    page = Path(write_report(str(project))).read_text(encoding="utf-8")
    assert html.escape(note, quote=False) in page and "<th>linear model</th>" in page
    assert "<th>random forest</th>" in page and "scikit-learn's RandomForestClassifier at its defaults" in page
    assert "scikit-learn's LogisticRegression at its defaults" in page
    card = render_model_card(meta, settings={}, class_counts=(), checks=(), files={})
    linear_accuracy = finish.baselines["linear_test_metrics"]["accuracy"]
    assert note in card and "| Linear model (LogisticRegression) | Random forest (RandomForestClassifier) |" in card
    forest_accuracy = finish.baselines["forest_test_metrics"]["accuracy"]
    assert f"| {linear_accuracy:.4g} | {forest_accuracy:.4g} |" in card
    assert f"| accuracy | {finish.test_metrics['accuracy']:.4g} |" in card and f"{linear_accuracy:.4g} |" in card


@pytest.mark.slow
def test_iris_network_and_baselines_share_the_objective(tmp_path):
    events: list = []
    config = SearchConfig(data_path=str(IRIS), project_dir=str(tmp_path / "p"), tuner="random", max_trials=1,
                          max_epochs=2, refit=False, seed=1, objective="val_accuracy")
    run_search(config, events.append)
    finish = events[-1]
    assert finish.baselines["objective"] == "val_accuracy" and 0 <= finish.baselines["linear_score"] <= 1
    assert finish.baselines["trivial_score"] == pytest.approx(1 / 3, abs=0.1)


@pytest.mark.slow
def test_a_resumed_search_keeps_the_baselines_its_split_already_has(tmp_path):
    project = tmp_path / "p"
    config = SearchConfig(data_path=str(IRIS), project_dir=str(project), tuner="random", max_trials=1,
                          max_epochs=1, refit=False, seed=1)
    first = run_search(config)
    again: list = []
    second = run_search(config.replace(max_trials=2), again.append)
    assert second.baselines == first.baselines and second.baselines["linear"] == "LogisticRegression"
    assert not [e for e in again if isinstance(e, BaselinesScored)]  # not fitted a second time
    assert len([e for e in read_events(project) if isinstance(e, BaselinesScored)]) == 1


@pytest.mark.slow
def test_a_resumed_search_races_a_forest_the_end_of_the_last_run_cut_short(tmp_path):
    """A fresh user's find: a run that ended while the forest was still being fitted kept the
    linear baselines, and its resumed runs kept them too, never fitting the forest."""
    project = tmp_path / "p"
    config = SearchConfig(data_path=str(IRIS), project_dir=str(project), tuner="random", max_trials=1,
                          max_epochs=1, refit=False, seed=1)
    run_search(config)
    log = project / "events.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    for line in lines:  # as the end of a run leaves it when the forest is not done
        if line["type"] == "baselines_scored":
            line.update(forest_score=None, forest_test_metrics={}, forest_skipped=FOREST_UNFINISHED)
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    again: list = []
    second = run_search(config.replace(max_trials=2), again.append)
    raced = [e for e in again if isinstance(e, BaselinesScored)]
    assert len(raced) == 1 and raced[0].forest_score is not None and raced[0].forest_skipped == ""
    assert second.baselines["forest_score"] == raced[0].forest_score
