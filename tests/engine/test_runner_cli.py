"""The process runner and the command line, with real child processes."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import (
    EpochEnded,
    Event,
    PhaseChanged,
    ProcessExited,
    SearchFinished,
    SearchStarted,
    TrialEnded,
    event_from_dict,
)
from automl_studio.engine.process.runner import SearchProcess, call_in_child
from automl_studio.engine.search.project import read_trials
from automl_studio.engine.train.baselines import race_note
from automl_studio.engine.train.metrics import baseline_note

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "automl_studio.engine.cli"]


def drain(process: SearchProcess, until, timeout: float = 240.0) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events.extend(process.poll(0.2))
        if until(events):
            return events
    raise AssertionError(f"timed out; last events: {[e.type for e in events[-5:]]}")


def exited(events: list[Event]) -> bool:
    return bool(events) and isinstance(events[-1], ProcessExited)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_search_process_streams_events_and_stops_cooperatively(tmp_path, iris_csv):
    config = SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          max_trials=100, max_epochs=500, patience=0)
    process = SearchProcess(config)
    process.start()
    events = drain(process, lambda ev: any(isinstance(e, EpochEnded) for e in ev))
    assert isinstance(events[0], PhaseChanged)
    process.request_stop()  # how long it takes: benchmarks/stop_and_budget.py
    events += drain(process, exited, timeout=60)
    finished = next(e for e in events if isinstance(e, SearchFinished))
    assert finished.status == "stopped"
    assert events[-1] == ProcessExited(exitcode=0, time=events[-1].time)
    assert (tmp_path / "p" / "engine.log").exists()
    assert not alive(process.pid)


def test_killed_search_keeps_finished_trials_and_resume_completes_it(tmp_path, iris_csv):
    config = SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          max_trials=4, max_epochs=3, patience=0, refit=False)
    process = SearchProcess(config)
    process.start()
    drain(process, lambda ev: sum(isinstance(e, TrialEnded) for e in ev) >= 2
          and isinstance(ev[-1], EpochEnded))
    os.kill(process.pid, signal.SIGKILL)
    gone = drain(process, exited, timeout=30)[-1]
    assert isinstance(gone, ProcessExited)
    assert (gone.exitcode, gone.signal) == (-signal.SIGKILL, signal.SIGKILL)
    assert "SIGKILL" in gone.message
    assert process.poll(0.1) == []  # reported once
    before = read_trials(tmp_path / "p")
    assert sum(t.status == "completed" for t in before.values()) >= 2
    assert any(t.status == "stopped" for t in before.values())  # the one killed mid-trial

    resumed = SearchProcess(config)
    resumed.start()
    events = drain(resumed, exited)
    assert next(e for e in events if isinstance(e, SearchStarted)).resumed
    after = read_trials(tmp_path / "p")
    assert sorted(after) == ["0", "1", "2", "3"]
    assert all(t.status == "completed" for t in after.values())


def test_a_grown_child_is_recycled_and_the_search_goes_on_as_one(tmp_path, iris_csv):
    config = SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          max_trials=4, max_epochs=2, patience=0, refit=False, fresh=True)
    process = SearchProcess(config, recycle_mb=1)  # every trial grows the child by more than 1 MB
    process.start()
    first_pid = process.pid
    events = drain(process, exited)
    assert process.restarts >= 1 and process.pid != first_pid
    assert not alive(first_pid)
    kinds = [e.type for e in events]
    assert kinds.count("search_started") == 1  # one search, however many processes ran it
    assert kinds.count("process_exited") == 1 and events[-1].exitcode == 0
    recycled = [e for e in events if isinstance(e, PhaseChanged) and e.phase == "recycling"]
    assert len(recycled) == process.restarts and "grew by" in recycled[0].message
    ended = [e.trial_id for e in events if isinstance(e, TrialEnded)]
    assert sorted(ended) == ["0", "1", "2", "3"]  # no trial lost or run twice
    finished = next(e for e in events if isinstance(e, SearchFinished))
    assert finished.status == "completed" and finished.exported


ORPHAN_PARENT = r"""
import sys, time
from automl_studio.engine.process.runner import SearchProcess
from automl_studio.engine.core.config import SearchConfig
process = SearchProcess(SearchConfig(data_path=sys.argv[1], project_dir=sys.argv[2], tuner="random",
                                     max_trials=100, max_epochs=500, patience=0))
process.start()
while True:
    if any(e.type == "epoch_ended" for e in process.poll(0.2)):
        print(process.pid, flush=True)
        time.sleep(600)
"""


def test_a_crashed_parent_leaves_no_orphan(tmp_path, iris_csv):
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_PARENT, str(iris_csv), str(tmp_path / "p")],
                              stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    assert alive(child_pid)
    parent.kill()  # like a crash: no cleanup code runs in the parent
    parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and alive(child_pid):
        time.sleep(0.2)
    assert not alive(child_pid)


NEWER_CHILD = r"""
import json, sys, time
config = json.loads(sys.stdin.readline())
def send(event):
    print(json.dumps(event), flush=True)
send({"type": "phase_changed", "phase": "loading", "message": config["project_dir"], "time": 1.0,
      "colour": "green"})  # a field this version does not have
send({"type": "hologram_rendered", "time": 2.0})  # an event type this version does not know
print("not json at all", flush=True)
send({"type": "trial_started", "trial_id": 7, "hyperparameters": {"units": 8}, "time": 3.0})
send({"type": "search_finished", "status": "completed", "best_trial_id": "7", "exported": ["a.h5"],
      "time": 4.0, "traceback": "none"})
if sys.argv[1:] == ["hang"]:
    time.sleep(600)
sys.exit(int(sys.argv[1]) if sys.argv[1:] else 0)
"""


def newer_child(tmp_path: Path, *args: str) -> SearchProcess:
    config = SearchConfig(data_path="unused.csv", project_dir=str(tmp_path / "p"))
    process = SearchProcess(config, command=[sys.executable, "-c", NEWER_CHILD, *args])
    process.start()
    return process


def test_runner_rebuilds_typed_events_from_a_newer_child(tmp_path, caplog):
    process = newer_child(tmp_path, "3")
    with caplog.at_level(logging.WARNING, logger="automl_studio.engine.process.runner"):
        events = drain(process, exited, timeout=30)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["PhaseChanged", "SearchWarning", "TrialStarted", "SearchFinished", "ProcessExited"]
    phase, junk, started, finished, gone = events
    assert phase == PhaseChanged(phase="loading", message=str(tmp_path / "p"), time=1.0)
    assert "not json at all" in junk.message
    assert started.trial_id == "7" and started.hyperparameters == {"units": 8}
    assert finished.exported == ("a.h5",) and finished.refits is None  # not said: an older writer
    assert (gone.exitcode, gone.signal) == (3, None) and "exit code 3" in gone.message
    assert "hologram_rendered" in caplog.text  # logged and skipped, not raised


def test_a_killed_child_is_reported_as_process_exited(tmp_path):
    process = newer_child(tmp_path, "hang")
    drain(process, lambda ev: any(isinstance(e, SearchFinished) for e in ev), timeout=30)
    assert process.running
    process.kill()
    gone = drain(process, exited, timeout=30)[-1]
    assert gone.exitcode == -signal.SIGKILL and gone.signal == signal.SIGKILL
    assert gone.message == "the process was killed by SIGKILL"
    assert not alive(process.pid)


def test_call_in_child_reports_user_errors_as_messages(tmp_path):
    from automl_studio.engine.process.runner import ChildCallError

    with pytest.raises(ChildCallError, match="no such model file"):
        call_in_child("automl_studio.engine.export.model_info:describe", {"path": str(tmp_path / "nope.h5")}, timeout=60)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_cli_search_predict_evaluate_info(tmp_path, mixed_csv):
    proc = run_cli("search", str(mixed_csv), "--target", "label", "--max-trials", "2", "--max-epochs", "2",
                   "--tuner", "random", "--project", "proj", "--export", "model.h5", "--events", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {e["type"] for e in events} >= {"search_started", "trial_started", "epoch_ended", "trial_ended",
                                          "search_finished"}
    assert all("trial_id" in e for e in events if e["type"].startswith(("trial_", "epoch_", "batch_")))
    assert all({"status", "score"} <= set(e) for e in events if e["type"] == "trial_ended")
    # At the end: the best model against its trivial baseline, in the window's words.
    finish = event_from_dict(events[-1])
    assert isinstance(finish, SearchFinished) and finish.baseline_metrics
    note = baseline_note(finish.test_metrics, finish.baseline_metrics)
    assert note.startswith("The best model ") and "the trivial baseline (always the most common class" in note
    assert f"automl-studio: {note}" in proc.stderr.splitlines()
    # … and against the linear model and the majority class, on the validation split.
    race = race_note(finish.baselines, finish.best_score)
    assert "the linear model (" in race.lower() and f"automl-studio: {race}" in proc.stderr.splitlines()
    assert any(e["type"] == "baselines_scored" for e in events)

    unlabeled = tmp_path / "new.csv"
    lines = mixed_csv.read_text().splitlines()
    unlabeled.write_text("\n".join(",".join(line.split(",")[:-1]) for line in lines[:11]) + "\n")
    proc = run_cli("predict", "model.h5", str(unlabeled), "--output", "pred.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = (tmp_path / "pred.csv").read_text().splitlines()
    assert rows[0] == "row,prediction,probability_Yes,probability_no" and len(rows) == 11
    assert all(r.split(",")[1] in ("Yes", "no") for r in rows[1:])

    proc = run_cli("evaluate", "model.h5", str(mixed_csv), "--target", "label", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(proc.stdout)
    matrix = [[int(v) for v in row] for row in metrics["confusion_matrix"]]
    labels = [line.rsplit(",", 1)[1] for line in lines[1:]]
    assert metrics["n"] == sum(map(sum, matrix)) == len(labels) == 160  # every labelled row scored
    assert [sum(row) for row in matrix] == [labels.count(c) for c in metrics["class_names"]]  # rows: actual
    assert metrics["accuracy"] == pytest.approx(sum(matrix[i][i] for i in range(len(matrix))) / len(labels))

    proc = run_cli("info", "model.h5", cwd=tmp_path)
    info = json.loads(proc.stdout)
    assert info["metadata"]["target"] == "label" and info["unsafe"] == []
    assert info["baseline_note"] == note  # the model file keeps the comparison the search printed
    assert info["baselines_note"] == race


def test_cli_user_errors_exit_2_with_one_line(tmp_path, iris_csv):
    proc = run_cli("search", str(iris_csv), "--target", "nope", "--project", "p", cwd=tmp_path)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("automl-studio: error:") and "species" in last and "Traceback" not in proc.stderr

    npz = tmp_path / "a.npz"
    import numpy as np

    np.savez(npz, features=np.zeros((4, 2)), labels=np.zeros(4))
    proc = run_cli("search", str(npz), "--x-key", "x", "--project", "p2", cwd=tmp_path)
    assert proc.returncode == 2 and "features, labels" in proc.stderr.strip().splitlines()[-1]

    (tmp_path / "junk.h5").write_bytes(b"not a model")
    proc = run_cli("info", "junk.h5", cwd=tmp_path)
    assert proc.returncode == 2 and "not an HDF5" in proc.stderr

    proc = run_cli("--debug", "search", str(iris_csv), "--target", "nope", "--project", "p", cwd=tmp_path)
    assert "Traceback" in proc.stderr
