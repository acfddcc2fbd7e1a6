"""Export writes atomically and verifies; opening models refuses code (safe mode)."""

from __future__ import annotations

import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import ExportError, ModelFileError
from automl_studio.engine.search.session import run_search


def small_model():
    import keras

    inputs = keras.Input(shape=(3,), name="numeric")
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy())
    return model


def test_export_into_an_impossible_place_fails_clearly_and_leaves_nothing(tmp_path):
    from automl_studio.engine.export.writers import export_model

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    sample = {"numeric": np.zeros((2, 3), dtype="float32")}
    with pytest.raises(ExportError, match="not_a_folder"):
        export_model(small_model(), blocker / "model.h5", {"app": "automl-studio"}, sample)
    assert blocker.read_text() == "a file where a folder should be"
    # The in-memory model is still exportable elsewhere.
    out = export_model(small_model(), tmp_path / "ok" / "model.h5", {"app": "automl-studio"}, sample)
    assert out["verified"] and not list((tmp_path / "ok").glob(".*"))


def test_models_with_lambda_layers_are_refused_unless_trusted(tmp_path):
    import keras

    from automl_studio.engine.export.model_info import check_safe
    from automl_studio.engine.export.predict import load_model

    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lambda.h5"
    model.save(path)
    with pytest.raises(ModelFileError, match="Lambda"):
        check_safe(path)
    with pytest.raises(ModelFileError, match="Lambda"):
        load_model(path)
    check_safe(path, allow_unsafe=True)  # an explicit opt-in passes the check


def test_not_hdf5_is_a_clear_error(tmp_path):
    from automl_studio.engine.export.model_info import read_metadata

    path = tmp_path / "model.h5"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match="not an HDF5"):
        read_metadata(path)


@pytest.mark.slow
def test_time_budget_ends_the_search_and_still_refits_and_exports(tmp_path, iris_csv):
    # How far past the budget the whole command ends is measured by benchmarks/stop_and_budget.py.
    # TensorFlow is imported before the budget starts: on a busy machine its import alone can take
    # most of 25 s, and then no trial finishes in time (nothing to refit is a correct outcome too).
    import keras_tuner  # noqa: F401

    result = run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                                     time_budget_s=25, max_epochs=40, patience=0))
    assert result.status == "budget"
    assert result.exported and result.test_metrics


FULL_DISK = r"""
import resource, signal, sys
from pathlib import Path
import numpy as np
import keras
from automl_studio.engine.core.errors import ExportError
from automl_studio.engine.export.writers import export_model

out = Path(sys.argv[1])
inputs = keras.Input(shape=(3,), name="numeric")
model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
model.compile(loss=keras.losses.SparseCategoricalCrossentropy())
sample = {"numeric": np.zeros((2, 3), dtype="float32")}
# No file may grow past 4 KB: writing the model fails the way a full disk does.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
try:
    export_model(model, out / "full" / "model.h5", {"app": "automl-studio"}, sample)
except ExportError as exc:
    print("ERROR:", exc)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
print("LEFT:", sorted(p.name for p in (out / "full").iterdir()))
print("AGAIN:", export_model(model, out / "elsewhere" / "model.h5", {"app": "automl-studio"}, sample)["verified"])
"""


@pytest.mark.slow
def test_a_full_disk_gives_a_clear_error_leaves_no_partial_file_and_the_model_survives(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
    assert "no space left" in lines["ERROR"] and "model.h5" in lines["ERROR"]
    assert lines["LEFT"] == "[]"
    assert lines["AGAIN"] == "True"


def test_out_of_memory_failures_suggest_a_smaller_batch_or_model():
    from automl_studio.engine.search.tuner import trial_failure_reason

    message = ("Traceback (most recent call last):\n  ...\ntensorflow.python.framework.errors_impl."
               "ResourceExhaustedError: OOM when allocating tensor with shape[100000,100000]")
    assert "smaller batch size or model" in trial_failure_reason(message)
    assert trial_failure_reason("Traceback...\nkeras_tuner.src.errors.FailedTrialError: the loss became nan at epoch 2") \
        == "the loss became nan at epoch 2"


def test_metadata_larger_than_an_hdf5_attribute_round_trips(tmp_path):
    import keras

    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.export.writers import export_model

    vocabulary = [f"category-{i:06d}" for i in range(20_000)]  # ~300 KB of JSON
    sample = {"numeric": np.zeros((2, 3), dtype="float32")}
    out = export_model(small_model(), tmp_path / "big.h5", {"app": "automl-studio", "vocabulary": vocabulary},
                       sample)
    assert read_metadata(out["files"][0])["vocabulary"] == vocabulary
    assert keras.models.load_model(out["files"][0]).count_params() == 8
