"""Every optimizer, its own settings, gradient clipping and every learning-rate schedule: drawn as a
spec, compiled by the engine, trained for an epoch, and reproduced by the KerasTuner code view."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.optimizers import LR_SCHEDULES, OPTIMIZER_TYPES, OPTIMIZERS
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser

SIGNATURE = DataSignature("classification", 3, {"numeric": (4,)}, numeric_mean=(0.0,) * 4,
                          numeric_variance=(1.0,) * 4)
OPTIMIZER_CONFIG_KEYS = ("momentum", "nesterov", "beta_1", "beta_2", "epsilon", "weight_decay", "rho",
                         "clipnorm", "clipvalue")


def spec(training: dict[str, Any]) -> SearchSpace:
    return SearchSpace.from_dict({
        "schema_version": 1, "name": "net",
        "nodes": [{"id": "x", "type": "Input", "params": {"source": "numeric"}},
                  {"id": "d", "type": "Dense", "params": {"units": 8}},
                  {"id": "out", "type": "Output", "params": {}}],
        "edges": [["x", "d"], ["d", "out"]], "training": training})


def optimizer_config(model: Any) -> dict[str, Any]:
    config = model.optimizer.get_config()
    out = {key: config.get(key) for key in OPTIMIZER_CONFIG_KEYS if key in config}
    lr = config["learning_rate"]
    out["learning_rate"] = lr if isinstance(lr, float) else (lr["class_name"], lr["config"])
    return {"class": type(model.optimizer).__name__, **out}


def generated_model(space: SearchSpace, values: dict[str, Any]) -> Any:
    import keras
    import keras_tuner as kt

    namespace: dict[str, Any] = {}
    exec(kerastuner_code(space, SIGNATURE), namespace)  # noqa: S102 - the code under test
    hp = kt.HyperParameters()
    hp.values.update(values)
    keras.backend.clear_session()
    return namespace["build"](hp)


def engine_model(space: SearchSpace, values: dict[str, Any]) -> Any:
    import keras

    from automl_studio.engine.train.hypermodel import build_model

    keras.backend.clear_session()
    return build_model(space, SIGNATURE, fixed_chooser(values))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_trains_with_its_own_defaults_and_the_code_view_agrees(name: str) -> None:
    space = spec({"optimizer": name, "clipnorm": 1.0})
    model = engine_model(space, {})
    optimizer = OPTIMIZER_TYPES[name]
    config = optimizer_config(model)
    assert config["class"] == optimizer.keras_class
    assert config["learning_rate"] == pytest.approx(optimizer.learning_rate)  # its own starting rate
    assert config["clipnorm"] == 1.0
    for key, default in optimizer.settings.items():
        assert config[key] == pytest.approx(default), key
    rng = np.random.default_rng(0)
    history = model.fit({"numeric": rng.normal(size=(32, 4)).astype("float32")}, rng.integers(0, 3, 32),
                        epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert optimizer_config(generated_model(space, {})) == config


def test_plain_sgd_and_searched_settings_apply_only_to_the_optimizers_that_take_them() -> None:
    import keras_tuner as kt

    from automl_studio.engine.train.hypermodel import build_model, kt_chooser

    space = spec({"optimizer": {"hp": "choice", "values": ["sgd", "adam", "rmsprop"]},
                  "momentum": {"hp": "float", "min": 0.0, "max": 0.9},
                  "nesterov": {"hp": "bool"},
                  "beta_1": {"hp": "choice", "values": [0.8, 0.9]}})
    for values in ({"training.optimizer": "sgd", "training.momentum": 0.0, "training.nesterov": False},
                   {"training.optimizer": "adam", "training.beta_1": 0.8},
                   {"training.optimizer": "rmsprop", "training.momentum": 0.5}):
        ours = optimizer_config(engine_model(space, values))
        assert ours == optimizer_config(generated_model(space, values)), values
    assert optimizer_config(engine_model(space, {"training.optimizer": "sgd", "training.momentum": 0.0,
                                                 "training.nesterov": False}))["momentum"] == 0.0  # plain SGD
    # KerasTuner sees each setting as conditional on the optimizers that take it.
    hp = kt.HyperParameters()
    hp.values["training.optimizer"] = "sgd"
    build_model(space, SIGNATURE, kt_chooser(hp), conditional=hp.conditional_scope)
    momentum = next(h for h in hp.space if h.name == "training.momentum")
    assert [c.get_config() for c in momentum.conditions] == [
        {"name": "training.optimizer", "values": ["sgd", "rmsprop"]}]
    assert hp.is_active("training.momentum")
    hp.values["training.optimizer"] = "adam"
    build_model(space, SIGNATURE, kt_chooser(hp), conditional=hp.conditional_scope)
    assert not hp.is_active("training.momentum") and not hp.is_active("training.nesterov")
    assert hp.is_active("training.beta_1")


@pytest.mark.parametrize("schedule", LR_SCHEDULES)
def test_each_schedule_compiles_trains_and_the_code_view_agrees(schedule: str) -> None:
    from automl_studio.engine.train.hypermodel import schedule_callbacks, training_values

    space = spec({"lr_schedule": schedule, "epochs": 4, "learning_rate": 0.01})
    model = engine_model(space, {})
    rng = np.random.default_rng(1)
    x, y = {"numeric": rng.normal(size=(40, 4)).astype("float32")}, rng.integers(0, 3, 40)
    callbacks = schedule_callbacks(training_values(space, fixed_chooser({})), validation=True)
    assert [type(c).__name__ for c in callbacks] == (["ReduceLROnPlateau"] if schedule == "reduce_on_plateau" else [])
    history = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=callbacks)
    assert np.isfinite(history.history["loss"]).all()
    generated = generated_model(space, {})
    ours, theirs = optimizer_config(model), optimizer_config(generated)
    if schedule in ("constant", "reduce_on_plateau"):
        assert ours == theirs
    else:  # the code view's STEPS_PER_EPOCH is a placeholder: compare the schedule's kind
        assert ours["learning_rate"][0] == theirs["learning_rate"][0]
    source = kerastuner_code(space, SIGNATURE)
    assert ("ReduceLROnPlateau" in source) == (schedule == "reduce_on_plateau")


def test_a_search_over_several_optimizers_asks_each_only_its_own_settings(tmp_path, iris_csv) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import TrialStarted
    from automl_studio.engine.search.session import run_search

    training = {"optimizer": {"hp": "choice", "values": ["sgd", "adadelta", "nadam"]},
                "momentum": {"hp": "float", "min": 0.0, "max": 0.9}, "lr_schedule": "reduce_on_plateau",
                "clipvalue": 0.5, "epochs": 2}
    events: list[Any] = []
    result = run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                                     max_trials=4, max_epochs=2, space=spec(training).to_dict(), seed=3),
                        events.append)
    assert result.status == "completed"
    started = [e.hyperparameters for e in events if isinstance(e, TrialStarted) and e.trial_id != "refit"]
    assert len(started) == 4
    for values in started:
        assert ("training.momentum" in values) == (values["training.optimizer"] == "sgd"), values
