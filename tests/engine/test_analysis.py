"""Reading a search from its trials: active hyperparameters, importance, learning-curve diagnosis."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.objectives import get_objective
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.search.analysis import (
    active_hyperparameters,
    curves_from_history,
    diagnose,
    epoch_limit,
    hyperparameter_importance,
    searched_hyperparameters,
    signature_of,
    trial_network,
)
from automl_studio.engine.search.project import read_search_document, read_trials
from automl_studio.engine.space.spec import SearchSpace

VAL_LOSS = get_objective("val_loss")

SPACE = SearchSpace.from_dict({
    "schema_version": 1,
    "nodes": [
        {"id": "in", "type": "Input"},
        {"id": "dense", "type": "Dense", "params": {"units": {"hp": "int", "min": 8, "max": 64, "step": 8}}},
        {"id": "dropout", "type": "Dropout", "params": {"rate": {"hp": "float", "min": 0.0, "max": 0.5}},
         "optional": True},
        {"id": "out", "type": "Output"},
    ],
    "edges": [["in", "dense"], ["dense", "dropout"], ["dropout", "out"]],
    "repeats": [{"id": "block", "nodes": ["dense", "dropout"], "min": 0, "max": 3}],
    "training": {"learning_rate": {"hp": "float", "min": 1e-4, "max": 1e-2, "log": True},
                 "optimizer": {"hp": "choice", "values": ["adam", "sgd"]}, "l2": 0.0},
})


def test_active_hyperparameters_drop_skipped_repeat_copies_and_disabled_nodes():
    recorded = {"block.repeats": 1, "dense.units.0": 32, "dropout.enabled.0": False, "dropout.rate.0": 0.3,
                "dense.units.1": 64, "dropout.enabled.1": True, "dropout.rate.1": 0.2,
                "training.learning_rate": 0.001, "training.optimizer": "adam", "tuner/epochs": 4}
    assert active_hyperparameters(recorded, SPACE) == {
        "block.repeats": 1, "dense.units.0": 32, "dropout.enabled.0": False,
        "training.learning_rate": 0.001, "training.optimizer": "adam"}
    two = active_hyperparameters({**recorded, "block.repeats": 2, "dropout.enabled.0": True}, SPACE)
    assert {"dropout.rate.0", "dense.units.1", "dropout.enabled.1", "dropout.rate.1"} <= set(two)
    # Without the space only KerasTuner's bookkeeping goes.
    assert "tuner/epochs" not in active_hyperparameters(recorded) and "dense.units.1" in active_hyperparameters(recorded)


def test_a_trial_s_network_has_its_layers_shapes_and_keras_parameter_counts():
    from automl_studio.engine.space.spec import fixed_chooser
    from automl_studio.engine.train.hypermodel import build_model

    signature = DataSignature(task="classification", n_classes=3, inputs={"numeric": (4,)},
                              numeric_mean=(0.0,) * 4, numeric_variance=(1.0,) * 4)
    recorded = {"block.repeats": 2, "dense.units.0": 32, "dropout.enabled.0": True, "dropout.rate.0": 0.25,
                "dense.units.1": 16, "dropout.enabled.1": False, "dropout.rate.1": 0.4,
                "dense.units.2": 64, "training.learning_rate": 0.001, "training.optimizer": "adam", "tuner/epochs": 4}
    layers = trial_network(recorded, SPACE, signature)
    assert [(layer.name, layer.kind) for layer in layers] == [
        ("in", "Input"), ("dense#0", "Dense"), ("dropout#0", "Dropout"), ("dense#1", "Dense"), ("out", "Output")]
    dense0 = layers[1]
    assert dense0.settings.startswith("units 32") and dense0.shape == (32,) and dense0.params == 4 * 32 + 32
    assert layers[2].settings == "rate 0.25" and layers[2].params == 0
    assert layers[3].shape == (16,) and layers[-1].shape == (3,)
    # The same counts Keras gives the network the trial built (the registry's rules, not a guess).
    model = build_model(SPACE, signature, fixed_chooser(recorded))
    assert sum(layer.params or 0 for layer in layers) == model.count_params()
    # Without the data's shapes: the layers still, their sizes unknown.
    assert [layer.params for layer in trial_network(recorded, SPACE)] == [None] * 5
    # The data identity of a search document gives the shapes, unless a vocabulary size is needed.
    identity = {"task": "classification", "inputs": {"numeric": [4]}, "class_names": ["a", "b", "c"]}
    assert signature_of(identity) == DataSignature(task="classification", n_classes=3, inputs={"numeric": (4,)})
    assert signature_of({**identity, "inputs": {"numeric": [4], "categorical": [2]}}) is None


def test_searched_hyperparameters_follow_the_space_and_what_trials_recorded():
    names = searched_hyperparameters(SPACE, [{"block.repeats": 1, "dense.units.0": 8, "training.optimizer": "sgd",
                                              "training.learning_rate": 0.01, "tuner/round": 0}])
    assert names == ["block.repeats", "dense.units.0", "training.learning_rate", "training.optimizer"]
    assert "training.l2" not in searched_hyperparameters(SPACE)  # fixed, not searched


def test_importance_finds_the_hyperparameter_that_drives_the_score():
    rng = np.random.default_rng(0)
    trials = []
    for _ in range(30):
        lr = float(10 ** rng.uniform(-4, -2))
        units = int(rng.choice([8, 16, 32, 64]))
        optimizer = str(rng.choice(["adam", "sgd"]))
        trials.append(({"training.learning_rate": lr, "dense.units.0": units, "training.optimizer": optimizer},
                       (math.log10(lr) + 3) ** 2 + 0.01 * rng.normal()))
    trials.append(({"training.learning_rate": 0.001}, None))  # a failed trial is left out
    result = hyperparameter_importance(trials, ["training.learning_rate", "dense.units.0", "training.optimizer"])
    assert result.trials == 30
    assert list(result.values)[0] == "training.learning_rate"
    assert result.values["training.learning_rate"] > 0.8
    assert math.isclose(sum(result.values.values()), 1.0)
    assert set(result.values) == {"training.learning_rate", "dense.units.0", "training.optimizer"}


def test_importance_with_too_few_trials_says_why():
    result = hyperparameter_importance([({"a": 1}, 0.5), ({"a": 2}, None)], ["a", "b"])
    assert result.values == {"a": 0.0, "b": 0.0} and "at least 3" in result.note


def overfitting_history(epochs: int = 10) -> list[dict[str, float]]:
    rows = []
    for e in range(1, epochs + 1):
        val = 1.0 - 0.1 * e if e <= 5 else 0.5 + 0.08 * (e - 5)
        rows.append({"epoch": e, "loss": 1.0 / e, "val_loss": val})
    return rows


def test_diagnosis_of_hand_made_curves():
    over = diagnose(curves_from_history(overfitting_history()), VAL_LOSS, max_epochs=10)
    assert over.overfitting and not over.underfitting
    assert over.best_epoch == 5 and over.stopped_early_at is None and over.badges == ("over-fitting",)
    assert "val_loss rose from 0.5 to 0.9" in over.reasons[0]

    flat = {"loss": [1.10, 1.08, 1.07, 1.07, 1.07], "val_loss": [1.11, 1.10, 1.10, 1.09, 1.09]}
    under = diagnose(flat, VAL_LOSS, max_epochs=5)
    assert under.underfitting and not under.overfitting and under.badges == ("under-fitting",)
    # Against the trivial model's loss: ln 3 for three balanced classes.
    assert diagnose(flat, VAL_LOSS, baseline_loss=math.log(3)).underfitting
    assert not diagnose(flat, VAL_LOSS, baseline_loss=5.0).underfitting

    good = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25, 0.22], "val_loss": [1.0, 0.65, 0.45, 0.36, 0.33, 0.34]}
    stopped = diagnose(good, VAL_LOSS, max_epochs=50)
    assert not stopped.overfitting and not stopped.underfitting  # one uptick is not a trend
    assert stopped.best_epoch == 5 and stopped.stopped_early_at == 6
    assert stopped.badges == ("stopped early at epoch 6",)

    accuracy = diagnose({"val_accuracy": [0.5, 0.9, 0.8]}, get_objective("val_accuracy"))
    assert accuracy.best_epoch == 2 and accuracy.badges == ()
    assert diagnose({}, VAL_LOSS).best_epoch is None


def test_epoch_limit_prefers_the_trials_own():
    assert epoch_limit({"tuner/epochs": 3}, SPACE, max_epochs=10) == 3
    assert epoch_limit({}, SPACE, max_epochs=10) == 10
    assert epoch_limit({}, SPACE) == 50  # the space's default epochs


def test_read_trials_keeps_the_values_a_trial_ended_with(tmp_path):
    # KerasTuner registers a hyperparameter when the build first asks for it: the values a trial
    # starts with lack the ones its own build added, and only its end has every active one.
    events = [
        {"type": "trial_started", "time": 1.0, "trial_id": "0", "max_epochs": 20,
         "hyperparameters": {"block.repeats": 2}},
        {"type": "epoch_ended", "time": 2.0, "trial_id": "0", "epoch": 1, "metrics": {"loss": 1.0, "val_loss": 1.1}},
        {"type": "trial_ended", "time": 3.0, "trial_id": "0", "status": "completed", "score": 1.1,
         "duration_s": 2.0, "hyperparameters": {"block.repeats": 2, "dense.units.0": 16, "dense.units.1": 32}},
    ]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    trial = read_trials(tmp_path)["0"]
    assert trial.hyperparameters == {"block.repeats": 2, "dense.units.0": 16, "dense.units.1": 32}
    assert trial.max_epochs == 20
    assert active_hyperparameters(trial.hyperparameters, SPACE)["dense.units.1"] == 32


@pytest.mark.slow
def test_a_real_search_read_back_from_its_project(tmp_path, iris_csv):
    from automl_studio.engine.search.session import run_search

    project = tmp_path / "p"
    run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(project), tuner="random", max_trials=4,
                            max_epochs=3, refit=False, seed=3))
    document = read_search_document(project)
    assert document is not None and document.space is not None
    space = SearchSpace.from_dict(document.space)
    trials = read_trials(project)
    starts = {e["trial_id"]: e for e in map(json.loads, (project / "events.jsonl").read_text().splitlines())
              if e["type"] == "trial_started"}
    names = searched_hyperparameters(space, [t.hyperparameters for t in trials.values()])
    assert "block.repeats" in names and "training.learning_rate" in names
    ended = {e["trial_id"]: e for e in map(json.loads, (project / "events.jsonl").read_text().splitlines())
             if e["type"] == "trial_ended"}
    for trial in trials.values():
        assert trial.hyperparameters == ended[trial.trial_id]["hyperparameters"]
        assert trial.max_epochs == starts[trial.trial_id]["max_epochs"] == 3
        active = active_hyperparameters(trial.hyperparameters, space)
        # Every copy the network had is there (the values the trial ended with are complete).
        assert {f"dense.units.{i}" for i in range(active["block.repeats"])} <= set(active)
        repeats = active["block.repeats"]
        assert all(int(n.rsplit(".", 1)[1]) < repeats for n in active if n.startswith("dense.units."))
        for name in active:
            if name.startswith("dropout.rate."):
                assert active[name.replace("rate", "enabled")] is True
        diagnosis = diagnose(curves_from_history(trial.history), VAL_LOSS,
                             max_epochs=starts[trial.trial_id]["max_epochs"])
        assert diagnosis.epochs_run == len(trial.history) and diagnosis.best_epoch == trial.best_epoch
    result = hyperparameter_importance(
        [(active_hyperparameters(t.hyperparameters, space), t.score) for t in trials.values()], names)
    assert list(result.values) and set(result.values) == set(names) and result.trials == 4
