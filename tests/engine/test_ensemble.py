"""Weighted ensembles of the best trials (#16): greedy selection on synthetic predictions, and
real tiny searches whose exported ensemble reloads in a fresh process and predicts as in the app."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from datafiles import WITHOUT_APP, run_without_app

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.objectives import OBJECTIVES
from automl_studio.engine.train.ensemble import (
    FORCE_ENSEMBLE,
    describe_ensemble,
    forced,
    greedy_selection,
    objective_score,
)


def test_three_classifiers_wrong_on_different_rows_make_a_winning_ensemble():
    # Each model puts 0.6 on the wrong class for its own third of the rows and 0.7 on the right
    # class elsewhere: 2/3 accuracy alone, every row right when the three are averaged.
    y = np.repeat([0, 1, 2], 10)
    predictions = []
    for model in range(3):
        p = np.full((30, 3), 0.15)
        p[np.arange(30), y] = 0.7
        wrong = slice(10 * model, 10 * model + 10)
        p[wrong] = 0.2
        p[np.arange(30)[wrong], (y[wrong] + 1) % 3] = 0.6
        predictions.append(p)
    accuracy = OBJECTIVES["val_accuracy"]
    selection = greedy_selection(predictions, y, accuracy, "classification")
    assert selection.wins and selection.single == 0 and selection.single_score == pytest.approx(2 / 3)
    # Any second model fixes the first one's third; ties go to the better-ranked candidate.
    assert selection.score == 1.0 and selection.members == (0, 1) and selection.weights == (1, 1)
    # The log loss agrees: averaging lowers it too.
    by_loss = greedy_selection(predictions, y, OBJECTIVES["val_loss"], "classification")
    assert by_loss.wins and by_loss.score < by_loss.single_score


def test_regressors_with_opposite_errors_are_weighted_towards_cancelling_them():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    # Errors +2e and -e cancel with weights 1:2.
    noise = rng.normal(size=200)
    predictions = [y + 2 * noise, y - noise]
    rmse = OBJECTIVES["val_rmse"]
    selection = greedy_selection(predictions, y, rmse, "regression")
    assert selection.wins and selection.single == 1  # the smaller error alone is the best single model
    weights = dict(zip(selection.members, selection.weights, strict=True))
    assert weights[1] == 2 * weights[0]
    assert selection.score == pytest.approx(0.0, abs=1e-9) and selection.single_score > 0.5


def test_an_exact_model_is_never_joined_by_worse_ones():
    rng = np.random.default_rng(1)
    y = rng.normal(size=100)
    predictions = [y + rng.normal(0, 0.5, 100), y.copy(), y + rng.normal(0, 0.3, 100)]
    for name in ("val_rmse", "val_mae", "val_loss"):
        selection = greedy_selection(predictions, y, OBJECTIVES[name], "regression")
        assert not selection.wins and selection.members == (1,) and selection.weights == (1,)
        assert selection.score == selection.single_score == 0.0
    # Forcing (tests and measurements) adds the next best candidate with weight 1 and says it did not win.
    pair = forced(selection, OBJECTIVES["val_loss"])
    assert pair.members == (1, 2) and pair.weights == (1, 1) and not pair.wins


def test_identical_classifiers_do_not_make_an_ensemble_and_ties_go_to_the_better_ranked():
    y = np.array([0, 1, 1, 0, 1, 0])
    p = np.column_stack([1 - 0.4 * y - 0.3, 0.4 * y + 0.3])
    selection = greedy_selection([p, p.copy(), p.copy()], y, OBJECTIVES["val_loss"], "classification")
    assert selection.members == (0,) and not selection.wins


def test_binary_objectives_read_one_sigmoid_column():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.2], [0.6], [0.4], [0.9]])
    assert objective_score(OBJECTIVES["val_accuracy"], "classification", y, p) == 0.5
    assert objective_score(OBJECTIVES["val_auc"], "classification", y, p) == 0.75
    with pytest.raises(ValueError):  # one class only: ROC AUC is undefined
        objective_score(OBJECTIVES["val_auc"], "classification", np.zeros(4), p)


def test_the_ensemble_is_described_by_its_trials_and_weights():
    assert describe_ensemble({"trials": ["04", "01", "07"], "weights": [3, 1, 1]}) == \
        "ensemble of 3 trials (ids 04, 01, 07; weights 3, 1, 1)"
    assert describe_ensemble({"trials": ["04", "01"], "weights": [3, 1], "refitted": ["01", "04"]}) == \
        "ensemble of 2 trials (ids 04, 01; weights 3, 1; retrained on train+validation)"
    assert describe_ensemble({"trials": ["04", "01"], "weights": [3, 1], "refitted": ["04"]}) == \
        "ensemble of 2 trials (ids 04, 01; weights 3, 1; 04 retrained on train+validation)"
    assert describe_ensemble({}) == ""


RELOAD_ENSEMBLE = WITHOUT_APP + r"""import h5py, keras, numpy as np
path, sample = sys.argv[1], sys.argv[2]
model = keras.models.load_model(path)
with np.load(sample) as data:
    inputs = {k: data[k] for k in data.files}
meta = json.loads(h5py.File(path, "r").attrs["automl_studio"])
print(json.dumps({"pred": np.asarray(model.predict(inputs, verbose=0)).tolist(), "ensemble": meta.get("ensemble"),
                  "model": meta.get("model"), "layers": [layer.name for layer in model.layers]}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_forced_ensemble_exports_one_h5_that_reloads_without_the_app(tmp_path, iris_csv, task):
    import keras

    from automl_studio.engine.export.model_info import describe
    from automl_studio.engine.search.session import run_search

    if task == "classification":
        data, target = iris_csv, None
    else:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(120, 3))
        y = 50 + 10 * x[:, 0] - 4 * x[:, 1] ** 2 + rng.normal(0, 1, 120)
        data = tmp_path / "reg.csv"
        data.write_text("a,b,c,y\n" + "\n".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{v:.4f}"
                                               for r, v in zip(x, y, strict=True)))
        target = "y"
    events: list = []
    config = SearchConfig(data_path=str(data), project_dir=str(tmp_path / "p"), target=target, tuner="random",
                          max_trials=3, max_epochs=3, export_keras=False, ensemble=True, refit=False,
                          extra={FORCE_ENSEMBLE: True})
    result = run_search(config, events.append)

    assert result.status == "completed" and result.refits == 0  # nothing was trained again
    assert result.ensemble["refitted"] == []
    ensemble = result.ensemble
    assert len(ensemble["trials"]) >= 2 and len(ensemble["weights"]) == len(ensemble["trials"])
    assert ensemble["trials"][0] == result.best_trial_id  # selection starts from the best trial
    finished = [e for e in events if e.type == "search_finished"]
    assert finished[-1].ensemble == ensemble and finished[-1].refits == 0
    assert not [e for e in events if e.type == "phase_changed" and e.phase == "refitting"]

    h5 = tmp_path / "p" / "best" / "best.h5"
    sample = tmp_path / "p" / "best" / "sample_inputs.npz"
    reply = run_without_app(RELOAD_ENSEMBLE, h5, sample)
    assert reply["ensemble"]["trials"] == ensemble["trials"] and reply["ensemble"]["weights"] == ensemble["weights"]
    assert reply["model"] == describe_ensemble(ensemble) == describe(h5)["model"]
    assert sorted(f"trial_{t}" for t in ensemble["trials"]) == sorted(n for n in reply["layers"] if n.startswith("trial_"))
    inputs = dict(np.load(sample))
    here = keras.models.load_model(h5)
    in_app = np.asarray(here.predict(inputs, verbose=0))
    assert np.allclose(np.asarray(reply["pred"]), in_app, atol=1e-5)
    # The output is the weighted mean of the members' own outputs (probabilities or target units).
    members = [np.asarray(here.get_layer(f"trial_{t}").predict(inputs, verbose=0)) for t in ensemble["trials"]]
    weights = np.asarray(ensemble["weights"], dtype=float)
    assert np.allclose(np.tensordot(weights / weights.sum(), np.stack(members), axes=1), in_app, atol=1e-5)
    if task == "classification":
        assert np.allclose(in_app.sum(axis=1), 1.0, atol=1e-5)
    with h5py.File(h5, "r") as handle:
        assert json.loads(handle.attrs["automl_studio"])["refits"] == 0
    if task == "classification":
        # Every deployment format converts the ensemble and matches it in a fresh process.
        from automl_studio.engine.search.session import export_project

        formats = ["h5", "keras", "savedmodel", "tflite", "onnx"]
        exported = export_project(str(tmp_path / "p"), str(tmp_path / "deploy" / "iris.h5"), formats)
        checks = {c["format"]: c for c in exported["checks"]}
        assert sorted(checks) == sorted(formats)
        assert all(c["passed"] and c["max_abs_diff"] <= c["tolerance"] for c in checks.values()), checks
        card = (tmp_path / "deploy" / "MODEL_CARD.md").read_text()
        assert f"weighted {describe_ensemble(ensemble)}" in card and "best trial as trained" not in card


@pytest.mark.slow
def test_ensemble_members_are_retrained_on_train_and_validation_and_a_cut_one_keeps_its_weights(tmp_path, iris_csv):
    import threading

    import keras

    from automl_studio.engine.search.session import export_project, run_search

    base = dict(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random", max_trials=3,
                max_epochs=4, export_keras=False, ensemble=True, extra={FORCE_ENSEMBLE: True})
    best = tmp_path / "p" / "best" / "best.h5"
    as_trained = run_search(SearchConfig(refit=False, **base)).ensemble
    best.rename(tmp_path / "checkpoints.h5")
    ids = as_trained["trials"]
    assert len(ids) >= 2 and as_trained["refitted"] == []

    # The same trials (resumed: nothing new to try), refitted: every member is retrained.
    events: list = []
    result = run_search(SearchConfig(**base), events.append)
    assert result.ensemble["trials"] == ids and result.ensemble["weights"] == as_trained["weights"]
    assert sorted(result.ensemble["refitted"]) == sorted(ids) and result.refits == 0
    retraining = [e.message for e in events if e.type == "phase_changed" and e.phase == "refitting"]
    assert [m.split("member ")[1].split(" ")[0] for m in retraining] == \
        sorted(ids, key=lambda t: (-as_trained["weights"][ids.index(t)], ids.index(t)))  # heaviest first
    assert f"({len(ids)} of {len(ids)})" in retraining[-1] and "on train+validation for " in retraining[0]
    assert describe_ensemble(result.ensemble).endswith("; retrained on train+validation)")
    reply = run_without_app(RELOAD_ENSEMBLE, best, tmp_path / "p" / "best" / "sample_inputs.npz")
    assert reply["ensemble"]["refitted"] == result.ensemble["refitted"] and "retrained" in reply["model"]
    export_project(str(tmp_path / "p"), str(tmp_path / "deploy" / "iris.h5"), ["h5"])
    card = (tmp_path / "deploy" / "MODEL_CARD.md").read_text()
    assert f"| Refit | each member of the weighted {describe_ensemble(result.ensemble)}, on train + validation |" in card
    assert "each member retrained on train + validation." in card and "as trained" not in card
    best.rename(tmp_path / "refitted.h5")

    # The user stops during the second member's refit: the first keeps its refit, the rest their own weights.
    stop = threading.Event()
    events = []

    def listener(event):
        events.append(event)
        if event.type == "phase_changed" and event.message.startswith("retraining ensemble member") \
                and "(2 of " in event.message:
            stop.set()

    cut = run_search(SearchConfig(**base), listener, stop=stop).ensemble
    first = retraining[0].split("member ")[1].split(" ")[0]
    assert cut["refitted"] == [first] and cut["trials"] == ids
    assert any(e.type == "warning" and "cut short (stopped by the user)" in e.message and "own weights" in e.message
               for e in events)
    assert describe_ensemble(cut).endswith(f"; {first} retrained on train+validation)")
    with np.load(tmp_path / "p" / "best" / "sample_inputs.npz") as stored:
        sample = {k: stored[k] for k in stored.files}
    models = {name: keras.models.load_model(tmp_path / name)
              for name in ("checkpoints.h5", "refitted.h5")} | {"cut.h5": keras.models.load_model(best)}

    def member(name: str, trial: str) -> np.ndarray:
        return np.asarray(models[name].get_layer(f"trial_{trial}").predict(sample, verbose=0))

    for trial in ids:
        assert not np.allclose(member("refitted.h5", trial), member("checkpoints.h5", trial), atol=1e-4)
        kept = np.allclose(member("cut.h5", trial), member("checkpoints.h5", trial), atol=1e-6)
        assert kept == (trial != first), trial


@pytest.mark.slow
def test_no_ensemble_keeps_the_refits(tmp_path, iris_csv):
    from automl_studio.engine.search.session import run_search

    events: list = []
    config = SearchConfig(forest=False, data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random", max_trials=2,
                          max_epochs=2, refits=1, export_keras=False, ensemble=False,
                          extra={FORCE_ENSEMBLE: True})
    result = run_search(config, events.append)
    assert result.ensemble == {} and result.refits == 1
    assert not [e for e in events if e.type == "phase_changed" and e.phase == "ensembling"]
