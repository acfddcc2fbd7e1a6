"""The time budget: counted from the process's start, trials and refits cut at a batch's end, and
the export kept. How far past its budget a command ends is measured, not asserted here:
``benchmarks/budget_overrun.py`` (BENCHMARKS.md, "Time budget of the whole command")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import Event, ProcessExited, SearchFinished, TrialStarted
from automl_studio.engine.export.model_info import read_metadata
from automl_studio.engine.process.runner import SearchProcess
from automl_studio.engine.search.project import read_trials
from automl_studio.engine.search.session import run_search
from automl_studio.engine.train.hypermodel import BudgetSpent, TrialCallback

SLEEP_S = 30.0  # spent by a process before it searches: its whole time budget


def test_process_start_counts_what_ran_before_the_clock_was_imported():
    code = ("import time; time.sleep(2.0)\n"
            "from automl_studio.engine.core.clock import process_started_at\n"
            "print(time.monotonic() - process_started_at())")
    age = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert age >= 2.0  # the sleep happened before the import, and it counts


def _tiny_model() -> keras.Model:
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError())
    return model


@pytest.mark.parametrize("hard", [False, True])
def test_a_deadline_revised_at_an_epoch_end_cuts_the_fit_at_the_next_batch(hard):
    x, y = np.zeros((64, 2), "float32"), np.zeros(64, "float32")
    epochs_ended: list[int] = []
    # The first estimate leaves an hour; at the end of epoch 2 the machine turns out to be slower.
    callback = TrialCallback("t", lambda event: None, None, time.monotonic() + 3600, 8, hard_deadline=hard,
                             revise_deadline=lambda cb: time.monotonic() - 1 if len(cb.epoch_seconds) >= 2 else None)
    epochs_seen = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_ended.append(epoch))
    model = _tiny_model()
    if hard:
        with pytest.raises(BudgetSpent):
            model.fit(x, y, batch_size=8, epochs=50, verbose=0, callbacks=[callback, epochs_seen])
        assert epochs_ended == [0, 1]  # the third epoch stopped at its first batch, unfinished
    else:
        history = model.fit(x, y, batch_size=8, epochs=50, verbose=0, callbacks=[callback, epochs_seen])
        # The soft cut keeps the work: the third epoch ends after its first batch, and is kept.
        assert len(history.history["loss"]) == 3


def test_no_time_left_says_why_nothing_was_exported(tmp_path, iris_csv):
    events: list[Event] = []
    project = tmp_path / "p"
    # The process has already spent more than its whole budget starting up.
    result = run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(project), tuner="random",
                                     time_budget_s=10, max_epochs=5),
                        events.append, budget_started_at=time.monotonic() - 15)
    assert result.status == "budget"
    assert not result.exported and not (project / "best" / "best.h5").exists()
    assert "before any trial finished, so no model was exported" in result.message
    assert "give a larger time budget" in result.message
    assert not any(isinstance(e, TrialStarted) for e in events)


@pytest.mark.slow
def test_a_trial_cut_by_the_budget_is_kept_and_exported(tmp_path, iris_csv):
    import keras_tuner  # noqa: F401  (TensorFlow's import is not what this test is about)

    project = tmp_path / "p"
    # One trial of 2,000 epochs would take minutes: the deadline cuts it at a batch's end.
    result = run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(project), tuner="random",
                                     time_budget_s=20, max_epochs=2000, patience=0))
    assert result.status == "budget"
    trials = read_trials(project)
    first = trials[min(trials)]
    assert first.status == "completed" and 1 <= len(first.history) < 2000
    assert result.best_trial_id is not None and result.test_metrics
    assert str(project / "best" / "best.h5") in result.exported
    metadata = read_metadata(project / "best" / "best.h5")
    assert metadata["best_trial_id"] == result.best_trial_id and metadata["refits"] == result.refits


def _child_command(sleep_s: float) -> list[str]:
    """The engine child, started by a program that first sleeps: its process starts earlier."""
    code = (f"import os, sys, time; time.sleep({sleep_s})\n"
            "from automl_studio.engine.process.child import main\n"
            "code = main(['search']); sys.stdout.flush(); os._exit(code)")
    return [sys.executable, "-c", code]


@pytest.mark.slow
def test_an_engine_child_counts_the_budget_from_its_process_start(tmp_path, iris_csv):
    config = SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          time_budget_s=SLEEP_S, max_epochs=5)
    process = SearchProcess(config, command=_child_command(SLEEP_S))
    process.start()
    events: list[Event] = []
    deadline = time.monotonic() + 600
    while not (events and isinstance(events[-1], ProcessExited)) and time.monotonic() < deadline:
        events.extend(process.poll(0.2))
    finished = next(e for e in events if isinstance(e, SearchFinished))
    # Had the budget started with the search, 30 s would have run trials on iris.
    assert not any(isinstance(e, TrialStarted) for e in events)
    assert finished.status == "budget" and not finished.exported
    assert "no model was exported" in finished.message


@pytest.mark.slow
def test_the_command_counts_the_budget_from_its_process_start(tmp_path, iris_csv):
    project = tmp_path / "p"
    # Run as the command (sys.argv, as its console script does); it sleeps away its budget first.
    code = (f"import sys, time; time.sleep({SLEEP_S})\n"
            "from automl_studio.engine.cli import main\n"
            f"sys.argv = ['automl-studio', 'search', {str(iris_csv)!r}, '--tuner', 'random', '--max-epochs', '5', "
            f"'--time-budget', '{SLEEP_S:g}', '--project', {str(project)!r}]\n"
            "sys.exit(main())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert summary["status"] == "budget" and summary["exported"] == []
    assert "no model was exported" in summary["message"]
    assert not Path(project / "best" / "best.h5").exists()
    assert read_trials(project) == {}
