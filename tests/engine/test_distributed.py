"""KerasTuner's distributed tuning on loopback: a chief and workers, kills and resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from automl_studio.engine.distributed import free_port, run_local_workers
from automl_studio.engine.project import read_trials
from automl_studio.engine.settings import SearchConfig

pytestmark = pytest.mark.slow


def worker_pid(name: str) -> int | None:
    """The pid of the local engine child running as KerasTuner tuner ``name``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"automl_studio.engine.child" in cmdline and f"KERASTUNER_TUNER_ID={name}".encode() in environ:
            return int(entry.name)
    return None


def config(tmp_path: Path, iris: Path, trials: int) -> SearchConfig:
    return SearchConfig(data_path=str(iris), project_dir=str(tmp_path / "p"), tuner="random", max_trials=trials,
                        max_epochs=2, patience=0, extra={"chief_reports_trials": False}, export_keras=False)


def test_two_local_workers_run_every_trial_exactly_once(tmp_path, iris_csv):
    events: list = []
    final = run_local_workers(config(tmp_path, iris_csv, 5), 2, events.append)
    assert final["status"] == "completed" and final["exported"]
    ended = [e for e in events if e.type == "trial_ended"]
    assert Counter(e.trial_id for e in ended) == Counter([str(i) for i in range(5)])
    assert all(e.status == "completed" for e in ended)
    assert {e.worker for e in events if e.type == "trial_started"} == {"worker0", "worker1"}
    assert sorted(read_trials(tmp_path / "p")) == [str(i) for i in range(5)]


def test_a_worker_killed_mid_trial_is_restarted_and_its_trial_rerun(tmp_path, iris_csv):
    events: list = []
    killed: list[str] = []

    def listener(event):
        events.append(event)
        if event.type == "epoch_ended" and not killed:
            started = [e for e in events if e.type == "trial_started" and e.trial_id == event.trial_id]
            pid = worker_pid(started[-1].worker) if started else None
            if pid:
                os.kill(pid, signal.SIGKILL)
                killed.append(event.trial_id)

    cfg = config(tmp_path, iris_csv, 4).replace(max_epochs=4)
    final = run_local_workers(cfg, 2, listener)
    assert killed and final["status"] == "completed"
    completed = [e.trial_id for e in events if e.type == "trial_ended" and e.status == "completed"]
    assert sorted(completed) == ["0", "1", "2", "3"]  # none lost, none run twice to completion
    assert any("restarting" in e.message for e in events if e.type == "warning")
    starts = Counter(e.trial_id for e in events if e.type == "trial_started")
    assert starts[killed[0]] == 2  # the killed trial was handed out again


def run(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "automl_studio.engine.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_cli_chief_and_two_workers_on_loopback_then_resume(tmp_path, iris_csv):
    port = free_port()
    common = [str(iris_csv), "--tuner", "random", "--max-epochs", "2", "--project", "proj"]
    chief = run("chief", *common, "--max-trials", "4", "--port", str(port), "--events", "chief.jsonl", cwd=tmp_path)
    workers = [run("worker", *common, "--max-trials", "4", "--chief", f"127.0.0.1:{port}", "--id", f"w{i}",
                   cwd=tmp_path) for i in range(2)]
    out, err = chief.communicate(timeout=400)
    for w in workers:
        w.wait(timeout=60)
    assert chief.returncode == 0, err[-3000:]
    assert "automl-studio worker --chief 127.0.0.1:" in err
    events = [json.loads(line) for line in (tmp_path / "chief.jsonl").read_text().splitlines()]
    ended = [e for e in events if e["type"] == "trial_ended"]
    assert sorted(e["trial_id"] for e in ended) == ["0", "1", "2", "3"]
    assert {e["worker"] for e in events if e["type"] == "trial_started"} == {"w0", "w1"}
    assert json.loads(out)["exported"]

    # The chief's project resumes: two more trials, the first four kept.
    port = free_port()
    chief = run("chief", *common, "--max-trials", "6", "--port", str(port), "--events", "again.jsonl", cwd=tmp_path)
    worker = run("worker", *common, "--max-trials", "6", "--chief", f"127.0.0.1:{port}", "--id", "w0", cwd=tmp_path)
    chief.communicate(timeout=400)
    worker.wait(timeout=60)
    again = [json.loads(line) for line in (tmp_path / "again.jsonl").read_text().splitlines()]
    assert next(e for e in again if e["type"] == "search_started")["completed_trials"] == 4
    assert sorted(e["trial_id"] for e in again if e["type"] == "trial_ended") == ["4", "5"]
