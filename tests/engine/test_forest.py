"""A random forest as a Keras model of standard layers (engine/train/forest.py): it gives the
forest's own predictions, takes a table network's inputs, and reloads from HDF5 without the app."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import (
    PREDICT_WITHOUT_APP,
    run_without_app,
    write_mixed_table,
    write_reviews,
    write_slope,
    write_steps,
)

from automl_studio.engine.data.features import prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.train.forest import TIE_TILT, fit_forest, forest_features, forest_model


def prepared_from(path, target, task=None):
    dataset = load_dataset(path)
    return prepare_data(dataset, profile_dataset(dataset, target, task), validation_fraction=0.2,
                        test_fraction=0.2, seed=1)


def test_a_classifier_forest_as_layers_gives_its_probabilities_on_a_mixed_table(tmp_path):
    prepared = prepared_from(write_mixed_table(tmp_path / "mixed.csv", rows=300), "label")
    assert set(prepared.signature.inputs) == {"numeric", "categorical"}
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("classification", features, prepared.train.y, leaves=16, trees=20)
    n_classes = len(prepared.class_names)
    model = forest_model(forest, prepared.signature, features, n_classes)
    assert len(model.layers) < 15  # batched: a handful of layers whatever the number of trees
    for split in (prepared.train, prepared.test):
        got = model.predict(split.x, verbose=0)
        expected = np.zeros((len(split), n_classes))
        expected[:, forest.classes_] = forest.predict_proba(forest_features(split.x, prepared.signature))
        expected -= TIE_TILT * np.arange(n_classes)  # exact ties go to the first class
        if split is prepared.train:  # every training value lands on its side of each split exactly
            assert np.abs(got - expected).max() < 1e-5
        # A value never seen in training may fall between a threshold and the next value seen.
        assert np.mean(got.argmax(axis=1) == expected.argmax(axis=1)) >= 0.97
        assert np.allclose(got.sum(axis=1), 1.0, atol=n_classes ** 2 * TIE_TILT)
    # Saved as legacy HDF5, it loads with plain Keras in a process without automl_studio.
    path = tmp_path / "forest.h5"
    model.save(path)
    np.savez(tmp_path / "x.npz", **prepared.train.x)
    reloaded = np.asarray(run_without_app(PREDICT_WITHOUT_APP, path, tmp_path / "x.npz")).reshape(-1, n_classes)
    assert np.abs(reloaded - model.predict(prepared.train.x, verbose=0)).max() < 1e-6


def test_a_regression_forest_as_layers_gives_its_values_far_from_zero_too(tmp_path):
    rng = np.random.default_rng(5)
    year = rng.integers(1990, 2024, 400).astype(float)
    price = 1e5 + 1e3 * rng.normal(size=400)  # large values: thresholds far from zero
    y = np.where(year > 2010, 50.0, 10.0) + (price > 1e5) * 5 + rng.normal(0, 0.5, 400)
    path = tmp_path / "reg.csv"
    path.write_text("year,price,y\n" + "\n".join(f"{a:.0f},{b:.3f},{t:.4f}" for a, b, t in zip(year, price, y,
                                                                                              strict=True)) + "\n")
    prepared = prepared_from(path, "y", "regression")
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("regression", features, prepared.train.y, leaves=32, trees=10)
    model = forest_model(forest, prepared.signature, features)
    got = model.predict(prepared.train.x, verbose=0)
    assert got.shape == (len(prepared.train), 1)
    assert np.abs(got[:, 0] - forest.predict(features)).max() < 1e-3 * np.abs(prepared.train.y).max()


def test_close_values_land_on_their_side_of_every_split(tmp_path):
    """The float64 threshold between two close float32 values rounds onto one of them: the split
    must still send each training value where the forest does."""
    rng = np.random.default_rng(8)
    x = 1.0 + rng.normal(size=(1500, 2)) * 1e-4  # thousands of values a few float32 steps apart
    label = np.where(x[:, 0] + rng.normal(0, 2e-5, 1500) > 1.0, "up", "down")
    path = tmp_path / "close.csv"
    path.write_text("a,b,label\n" + "\n".join(f"{a:.9f},{b:.9f},{c}" for (a, b), c in zip(x, label, strict=True)) + "\n")
    prepared = prepared_from(path, "label")
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("classification", features, prepared.train.y, leaves=128, trees=30)
    model = forest_model(forest, prepared.signature, features, 2)
    expected = forest.predict_proba(features) - TIE_TILT * np.arange(2)
    assert np.abs(model.predict(prepared.train.x, verbose=0) - expected).max() < 1e-5


def test_a_table_with_text_is_refused_with_the_reason(tmp_path):
    prepared = prepared_from(write_reviews(tmp_path / "reviews.csv"), None, "classification")
    assert "text" in prepared.signature.inputs
    with pytest.raises(ValueError, match="not text"):
        forest_features(prepared.train.x, prepared.signature)


def test_smoothing_is_chosen_out_of_bag_and_compiled_into_the_binary_unit(tmp_path):
    from automl_studio.engine.train.crossval import fold_indices
    from automl_studio.engine.train.forest import (
        SMOOTHING,
        cross_validate_forest,
        forest_output,
        forest_weights,
        oob_smoothing,
    )

    # One threshold and one label in 33 flipped: pure leaves answer 0 for the other class, so the
    # flipped rows are wrong with certainty out of bag, and a share of the uniform distribution
    # lowers their log loss (on the exclusive-or below, no out-of-bag row is: no share).
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, (400, 2))
    y = (x[:, 0] > 5).astype(int) ^ (rng.uniform(size=400) < 0.03)
    noisy = fit_forest("classification", x, y, oob=True)
    assert (noisy.oob_decision_function_[np.arange(400), y] == 0).any()
    assert oob_smoothing(noisy, y, 2) in SMOOTHING[1:]
    prepared = prepared_from(write_steps(tmp_path / "steps.csv", 400), "label")
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("classification", features, prepared.train.y, oob=True)
    assert oob_smoothing(forest, prepared.train.y, 2) == 0.0
    smoothing = 0.03  # compiled as chosen
    model = forest_model(forest, prepared.signature, features, 2, smoothing=smoothing, one_unit_binary=True)
    got = model.predict(prepared.train.x, verbose=0)
    assert got.shape == (len(prepared.train), 1)  # one sigmoid-like unit, as a binary network's head
    expected = forest_output(forest, features, 2, smoothing)[:, 1] - TIE_TILT  # a tie at 0.5 is class 0
    assert np.abs(got[:, 0] - expected).max() < 1e-6 and got.min() >= smoothing / 2 - TIE_TILT - 1e-6
    assert model.count_params() == forest_weights(forest, features.shape[1], 2)
    # Scored on the folds the networks' finalists ran: one score and one fit time per fold.
    y = np.asarray(prepared.train.y)
    folds = fold_indices(len(y), y, 5, seed=1)[:3]
    cv = cross_validate_forest("classification", features, y, folds, 2,
                               lambda t, out: float(np.mean(out.argmax(axis=1) == t)))
    assert len(cv.fold_scores) == len(cv.fold_seconds) == 3 and cv.epochs == 0
    assert 0.75 < cv.score <= 1.0 and cv.se is not None and cv.parameters and cv.parameters > 10_000


def test_deep_trees_are_chosen_where_rows_repeat_and_small_tables_fit_one_forest():
    from automl_studio.engine.train.forest import (
        FOREST_SHAPES,
        cross_validate_forest,
        fit_best_forest,
    )

    # 900 people of 3 traits, each seen on 8 rows with a count around their own mean, which the
    # traits do not predict (a panel split by rows, as randhie): a forest is a lookup of the people.
    rng = np.random.default_rng(0)
    people = rng.uniform(0, 100, (900, 3)).astype(np.float32)
    means = rng.gamma(1.0, 3.0, 900)
    who = np.repeat(np.arange(900), 8)
    x, y = people[who], rng.poisson(means[who]).astype(np.float64)
    order = rng.permutation(len(x))
    train, validation = order[:5760], order[5760:]
    forest, smoothing, output = fit_best_forest("regression", (x[train], y[train]), (x[validation], y[validation]), 0)
    assert np.allclose(output, forest.predict(x[validation]))
    assert (forest.max_leaf_nodes, len(forest.estimators_)) == FOREST_SHAPES[-1] and smoothing == 0.0
    shallow = fit_forest("regression", x[train], y[train])  # the first shape, 64 leaves
    error = {name: float(np.mean((model.predict(x[validation]) - y[validation]) ** 2))
             for name, model in (("deep", forest), ("shallow", shallow))}
    assert error["deep"] < 0.7 * error["shallow"]  # 3.9 against 7.1
    # The folds run the candidate's shape.
    folds = [order[:600], order[600:1200]]
    cv = cross_validate_forest("regression", x, y, folds, 0, lambda t, out: float(np.mean((out - t) ** 2)),
                               leaves=512, trees=25)
    assert len(cv.fold_scores) == 2 and cv.parameters and cv.parameters > 25 * 400 * 400
    # A small table's trees stop short of 64 leaves: one forest, of the first shape.
    few = order[:60]
    small, _, _ = fit_best_forest("regression", (x[few[:40]], y[few[:40]]), (x[few[40:]], y[few[40:]]), 0)
    assert (small.max_leaf_nodes, len(small.estimators_)) == FOREST_SHAPES[0]


@pytest.mark.slow
def test_a_forest_that_wins_on_the_folds_is_exported_as_keras_layers(tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import FinalistsScored, SearchFinished
    from automl_studio.engine.export.model_info import describe, read_metadata
    from automl_studio.engine.search.session import run_search
    from automl_studio.engine.train.forest import FOREST_SHAPES

    data = write_steps(tmp_path / "steps.csv", 500)
    events: list = []
    result = run_search(SearchConfig(data_path=str(data), project_dir=str(tmp_path / "p"), tuner="random",
                                     max_trials=2, max_epochs=2, refits=1), events.append)
    finalists = next(e for e in events if isinstance(e, FinalistsScored))
    assert finalists.chosen == "forest" and "forest" in finalists.scores, finalists
    assert finalists.scores["forest"]["parameters"] > max(
        s["parameters"] for k, s in finalists.scores.items() if k != "forest")
    finished = next(e for e in events if isinstance(e, SearchFinished))
    shape = finished.forest["leaves"], finished.forest["trees"]
    assert shape in FOREST_SHAPES  # the one of the lowest validation loss
    assert "cross-validation" in finished.forest["chosen_by"] and result.refits == 0
    trees = f"random forest of {shape[1]} trees"
    assert f"the exported model is a {trees}" in result.message
    assert result.test_metrics["accuracy"] >= 0.85, result.test_metrics
    best = tmp_path / "p" / "best" / "best.h5"
    metadata = read_metadata(best)
    assert metadata["forest"]["trees"] == shape[1] and metadata["model"].startswith(trees)
    assert describe(str(best))["model"].startswith(f"{trees} (at most {shape[0]} leaves each) in Keras layers")
    # The file loads with plain Keras in a process without the app and answers as in the search.
    sample = tmp_path / "p" / "best" / "sample_inputs.npz"
    reloaded = np.asarray(run_without_app(PREDICT_WITHOUT_APP, best, sample))
    import keras

    with np.load(sample) as inputs:
        here = keras.models.load_model(best).predict({k: inputs[k] for k in inputs.files}, verbose=0)
    assert np.allclose(reloaded, here.reshape(-1), atol=1e-6)
    # The report says what the exported model is, beside its layers.
    from automl_studio.engine.cli import main

    assert main(["report", str(tmp_path / "p"), "--output", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "random forest compiled into these standard Keras layers" in report
    assert f"the exported model is a {trees}" in report


@pytest.mark.slow
def test_a_forest_wins_on_the_validation_split_of_a_larger_table_and_predict_reads_it(tmp_path):
    import csv
    import json

    from automl_studio.engine.cli import main

    data = write_steps(tmp_path / "steps.csv", 1600, seed=3)  # past crossval.MAX_ROWS: no folds
    events = tmp_path / "events.jsonl"
    code = main(["search", str(data), "--project", str(tmp_path / "p"), "--tuner", "random", "--max-trials", "2",
                 "--max-epochs", "2", "--refits", "1", "--events", str(events)])
    assert code == 0
    logged = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    finished = next(e for e in logged if e["type"] == "search_finished")
    assert finished["forest"]["chosen_by"] == "the validation split", finished
    assert finished["forest"]["score"] < finished["forest"]["network_score"]  # val_loss: lower is better
    assert any(e["type"] == "phase_changed" and "beats the best trial" in e["message"] for e in logged)
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(tmp_path / "p" / "best" / "best.h5"), str(data), "--output", str(out)]) == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    truth = [line.split(",")[-1] for line in data.read_text().splitlines()[1:]]
    predicted = [row["label"] if "label" in row else row[next(k for k in row if "pred" in k)] for row in rows]
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) >= 0.85


@pytest.mark.slow
def test_on_the_validation_split_a_network_keeps_a_lead_beyond_its_noise_and_loses_one_within_it(tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import PhaseChanged
    from automl_studio.engine.search.session import run_search

    def search(name, data, epochs):  # past crossval.MAX_ROWS: no folds, the validation split decides
        events: list = []
        result = run_search(SearchConfig(data_path=str(data), target="y", project_dir=str(tmp_path / name),
                                         tuner="random", max_trials=2, max_epochs=epochs, refits=1,
                                         export_keras=False, tensorboard=False), events.append)
        said = [e.message for e in events if isinstance(e, PhaseChanged) and "random forest (" in e.message]
        assert len(said) == 1, said
        return result, said[0]

    # A smooth plane: the network's lead is many standard errors of the rows' differences.
    result, said = search("plane", write_slope(tmp_path / "plane.csv", 1600, noise=0.2), 30)
    assert not result.forest and "by more than a standard error of the rows' differences" in said, said
    lead, se = (float(v) for v in said.split("differences (")[1].split(")")[0].split(" > "))
    assert lead > se > 0
    # A faint slope under much noise: the network leads by less than one; its score is the best of
    # its trials' epochs, so the forest is exported - and says how it was chosen.
    result, said = search("faint", write_slope(tmp_path / "faint.csv", 1600, noise=2.0, slope=0.3), 10)
    assert "by less than a standard error" in said and "the forest is exported" in said, said
    assert result.forest["chosen_by"].startswith("the validation split, within a standard error of the best network")
    assert result.forest["network_score"] < result.forest["score"]  # val_loss: the network did lead


@pytest.mark.slow
def test_a_resumed_search_fits_its_forest_candidate_again(tmp_path):
    """The forest candidate is not saved with the project: a resumed search ('Search longer')
    exported the network where the first run had exported the forest."""
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import BaselinesScored
    from automl_studio.engine.search.session import run_search

    config = SearchConfig(data_path=str(write_steps(tmp_path / "steps.csv", 500)), project_dir=str(tmp_path / "p"),
                          tuner="random", max_trials=1, max_epochs=2, refits=1, export_keras=False,
                          tensorboard=False)
    first = run_search(config)
    assert first.forest, first.message
    again: list = []
    second = run_search(config.replace(max_trials=2), again.append)
    assert not [e for e in again if isinstance(e, BaselinesScored)]  # the baselines are kept, not refitted
    assert second.forest and second.forest["trees"] == first.forest["trees"], second.message
    assert second.forest["leaves"] == first.forest["leaves"]


@pytest.mark.slow
def test_no_forest_keeps_the_networks(tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import FinalistsScored, PhaseChanged
    from automl_studio.engine.search.session import run_search

    events: list = []
    result = run_search(SearchConfig(data_path=str(write_steps(tmp_path / "steps.csv", 300)),
                                     project_dir=str(tmp_path / "p"), tuner="random", max_trials=2, max_epochs=2,
                                     refits=1, forest=False), events.append)
    assert not result.forest and result.refits == 1
    assert all("forest" not in e.scores for e in events if isinstance(e, FinalistsScored))
    assert not any("random forest" in e.message for e in events if isinstance(e, PhaseChanged)
                   and e.phase == "validating")


def test_the_forest_is_weighed_against_the_network_the_folds_choose_by_its_mean_not_its_weights():
    from automl_studio.engine.core.objectives import get_objective
    from automl_studio.engine.search.session import FOREST_KEY, _choose_finalist
    from automl_studio.engine.train.crossval import CrossValidation

    def folds(*scores: float, parameters: int) -> CrossValidation:
        return CrossValidation(epochs=5, score=float(np.mean(scores)), fold_epochs=(5,) * len(scores),
                               fold_scores=scores, parameters=parameters)

    loss = get_objective("val_loss")
    # Held-out grunfeld seed 0: the forest's mean is the best, a network within its standard error.
    results = {"05": folds(36.0, 42.0, 48.0, parameters=3793), FOREST_KEY: folds(33.0, 38.5, 44.0, parameters=529401)}
    assert _choose_finalist(results, loss) == FOREST_KEY
    # A network ahead on the mean keeps it, however many weights the forest has or lacks.
    results[FOREST_KEY] = folds(37.0, 43.0, 49.0, parameters=10)
    assert _choose_finalist(results, loss) == "05"
    # Among the networks the one-standard-error rule still picks the small one (mean 43), but the
    # forest must beat the best mean (42) to be exported (tuned-on diabetes seed 1).
    results = {"05": folds(36.0, 42.0, 48.0, parameters=3793), "00": folds(37.0, 43.0, 49.0, parameters=16),
               FOREST_KEY: folds(36.5, 42.5, 48.5, parameters=529401)}
    assert _choose_finalist(results, loss) == "00"
    results[FOREST_KEY] = folds(35.5, 41.5, 47.5, parameters=529401)
    assert _choose_finalist(results, loss) == FOREST_KEY
    assert _choose_finalist({FOREST_KEY: results[FOREST_KEY]}, loss) == FOREST_KEY
    accuracy = get_objective("val_accuracy")  # maximised: the higher mean wins
    assert _choose_finalist({"00": folds(0.90, 0.92, parameters=16), FOREST_KEY: folds(0.93, 0.95, parameters=9)},
                            accuracy) == FOREST_KEY
