"""Early stopping's least gain (``training.min_delta``) and best-epoch weights
(``training.restore_best_weights``): set in a spec, applied by the engine's trials and by the
KerasTuner code view alike, and refused when searched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.core.objectives import get_objective
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.codegen import kerastuner_code
from automl_studio.engine.space.spec import SearchSpace

SIGNATURE = DataSignature("classification", 3, {"numeric": (4,)}, numeric_mean=(0.0,) * 4,
                          numeric_variance=(1.0,) * 4)


def spec(**training: Any) -> SearchSpace:
    return SearchSpace.from_dict({
        "schema_version": 1, "name": "net",
        "nodes": [{"id": "x", "type": "Input", "params": {"source": "numeric"}},
                  {"id": "d", "type": "Dense", "params": {"units": 16}},
                  {"id": "out", "type": "Output", "params": {}}],
        "edges": [["x", "d"], ["d", "out"]],
        "training": {"optimizer": "adam", "learning_rate": 1e-2, "batch_size": 16, "epochs": 12, "patience": 1,
                     **training}})


def rows() -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return {"numeric": x}, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)


def engine_epochs(space: SearchSpace) -> int:
    """Epochs one engine trial trains (validation on its own training rows: it keeps improving)."""
    import keras
    import keras_tuner as kt

    from automl_studio.engine.train.hypermodel import SpecHyperModel

    keras.backend.clear_session()
    model_of = SpecHyperModel(space, SIGNATURE, n_train=64, listener=lambda _event: None,
                              objective=get_objective("val_loss"))
    hp = kt.HyperParameters()
    x, y = rows()
    history = model_of.fit(hp, model_of.build(hp), x, y, validation_data=(x, y))
    return len(history.epoch)


def generated_epochs(space: SearchSpace) -> int:
    """Epochs the code view's HyperModel trains on the same rows."""
    import keras
    import keras_tuner as kt

    namespace: dict[str, Any] = {}
    exec(kerastuner_code(space, SIGNATURE), namespace)  # noqa: S102 - the code under test
    keras.backend.clear_session()
    hp = kt.HyperParameters()
    x, y = rows()
    hypermodel = namespace["HyperModel"]()
    history = hypermodel.fit(hp, hypermodel.build(hp), x, y, validation_data=(x, y), verbose=0)
    return len(history.epoch)


def test_a_least_gain_larger_than_any_improvement_stops_after_patience_in_engine_and_code() -> None:
    assert engine_epochs(spec()) > 2  # the loss on its own rows improves each epoch
    stalled = spec(min_delta=10.0)  # no epoch improves the loss by 10
    assert engine_epochs(stalled) == 2
    assert generated_epochs(stalled) == 2
    assert "min_delta=10.0" in kerastuner_code(stalled, SIGNATURE)


def test_early_stopping_carries_the_specs_settings() -> None:
    from automl_studio.engine.train.hypermodel import early_stopping, training_values

    space = spec(min_delta=0.05, restore_best_weights=False)
    training = training_values(space, lambda name, domain: pytest.fail(f"nothing is searched, {name} was asked"))
    callback = early_stopping(training, get_objective("val_accuracy"), 3)
    assert (callback.monitor, callback.patience, callback.restore_best_weights) == ("val_accuracy", 3, False)
    assert abs(callback.min_delta) == pytest.approx(0.05)
    assert "restore_best_weights=False" in kerastuner_code(space, SIGNATURE)
    defaults = early_stopping(training_values(spec(), lambda *_: None), get_objective(None), 2)
    assert defaults.restore_best_weights is True and defaults.min_delta == 0


@pytest.mark.parametrize(("key", "value", "words"), [
    ("min_delta", {"hp": "float", "min": 0.0, "max": 0.1}, "training 'min_delta' is one value, not searched"),
    ("min_delta", -1.0, "training 'min_delta' must be a number ≥ 0, got -1.0"),
    ("restore_best_weights", "yes", "training 'restore_best_weights' must be true or false, got 'yes'"),
])
def test_bad_early_stopping_settings_get_one_line_naming_the_setting(key: str, value: Any, words: str) -> None:
    with pytest.raises(SpecError) as error:
        spec(**{key: value})
    assert words in str(error.value) and "\n" not in str(error.value)
