"""KerasTuner's distributed tuning on loopback: a chief and workers, kills and resumes."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.events import SearchStarted, TrialEnded
from automl_studio.engine.data.identity import identify
from automl_studio.engine.search.distributed import (
    chief_notices,
    free_port,
    joining_command,
    publish_search,
    run_local_workers,
)
from automl_studio.engine.search.project import CONFIG_FILE, read_events, read_trials

pytestmark = pytest.mark.slow


def descends_from_this_test(pid: int) -> bool:
    """Whether ``pid`` is a descendant of this process (another test may run its own ``worker0``)."""
    while pid > 1:
        if pid == os.getpid():
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


def worker_pid(name: str) -> int | None:
    """The pid of this test's engine child running as KerasTuner tuner ``name``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"automl_studio.engine.process.child" in cmdline and f"KERASTUNER_TUNER_ID={name}".encode() in environ \
                and descends_from_this_test(int(entry.name)):
            return int(entry.name)
    return None


def config(tmp_path: Path, iris: Path, trials: int) -> SearchConfig:
    return SearchConfig(data_path=str(iris), project_dir=str(tmp_path / "p"), tuner="random", max_trials=trials,
                        max_epochs=2, patience=0, extra={"chief_reports_trials": False}, export_keras=False)


def test_two_local_workers_run_every_trial_exactly_once(tmp_path, iris_csv):
    events: list = []
    final = run_local_workers(config(tmp_path, iris_csv, 5), 2, events.append)
    assert final.status == "completed" and final.exported
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
    assert killed and final.status == "completed"
    completed = [e.trial_id for e in events if e.type == "trial_ended" and e.status == "completed"]
    assert sorted(completed) == ["0", "1", "2", "3"]  # none lost, none run twice to completion
    assert any("restarting" in e.message for e in events if e.type == "warning")
    starts = Counter(e.trial_id for e in events if e.type == "trial_started")
    assert starts[killed[0]] == 2  # the killed trial was handed out again


def run(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "automl_studio.engine.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def published(chief: subprocess.Popen, path: Path) -> None:
    """Waits until the chief has written its search document (before it serves the oracle)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert chief.poll() is None, chief.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the chief wrote no search configuration"
        time.sleep(0.2)


def test_cli_chief_and_two_workers_on_loopback_then_resume(tmp_path, iris_csv):
    port = free_port()
    common = [str(iris_csv), "--tuner", "random", "--max-epochs", "2", "--project", "proj"]
    chief = run("chief", *common, "--max-trials", "4", "--port", str(port), "--events", "chief.jsonl", cwd=tmp_path)
    published(chief, tmp_path / "proj" / CONFIG_FILE)
    # Workers take everything from the chief's document: no search flags of their own.
    workers = [run("worker", "--chief", f"127.0.0.1:{port}", "--config", "proj", "--id", f"w{i}", cwd=tmp_path)
               for i in range(2)]
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
    worker = run("worker", "--chief", f"127.0.0.1:{port}", "--config", f"proj/{CONFIG_FILE}", "--id", "w0",
                 cwd=tmp_path)
    chief.communicate(timeout=400)
    worker.wait(timeout=60)
    again = [json.loads(line) for line in (tmp_path / "again.jsonl").read_text().splitlines()]
    assert next(e for e in again if e["type"] == "search_started")["completed_trials"] == 4
    assert sorted(e["trial_id"] for e in again if e["type"] == "trial_ended") == ["4", "5"]


def test_the_chief_address_and_port_are_checked_and_kept(tmp_path):
    cfg = SearchConfig(data_path="d.csv", project_dir=str(tmp_path), chief_address="0.0.0.0", chief_port=8123)
    assert SearchConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert SearchConfig.from_dict({"data_path": "d.csv", "project_dir": "p"}).chief_address == ""  # older files
    for bad, words in ((dict(chief_address="10.0.0.1:8000"), "without a port"), (dict(chief_address="my host"), "host name"),
                       (dict(chief_port=70000), "65535"), (dict(chief_port=-1), "65535")):
        with pytest.raises(UserError, match=words):
            SearchConfig(data_path="d.csv", project_dir="p", **bad)


def test_only_a_port_other_machines_can_reach_is_warned_about(tmp_path):
    cfg = SearchConfig(data_path="/data/my file.csv", project_dir="/runs/my p", exclude_columns=("id",), patience=3)
    command, warning = chief_notices(cfg, "127.0.0.1", 8123)
    assert warning is None
    # The worker reads every setting from the chief's document; none is rebuilt as a flag.
    assert shlex.split(command) == ["automl-studio", "worker", "--chief", "127.0.0.1:8123",
                                    "--config", f"/runs/my p/{CONFIG_FILE}"]
    command, warning = chief_notices(cfg, "0.0.0.0", 8123)
    assert "unauthenticated" in warning and "0.0.0.0:8123" in warning
    assert "--chief 0.0.0.0:" not in command  # a wildcard is not an address to dial


def test_a_port_in_use_is_a_user_error_before_anything_starts(tmp_path, iris_csv):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cfg = config(tmp_path, iris_csv, 2).replace(chief_port=taken.getsockname()[1])
        with pytest.raises(UserError, match="cannot listen on 127.0.0.1"):
            run_local_workers(cfg, 1, lambda event: None)
    assert not (tmp_path / "p").exists()


def test_a_worker_that_joins_with_the_announced_command_shows_its_trials(tmp_path, mixed_csv):
    port = free_port()
    # Settings a flag-built worker command used to drop: the split fractions and a forced column.
    cfg = config(tmp_path, mixed_csv, 5).replace(chief_address="127.0.0.1", chief_port=port, validation_fraction=0.3,
                                                 test_fraction=0.1, include_columns=("id",))
    events: list = []
    joined: list[subprocess.Popen] = []
    log = open(tmp_path / "joined.log", "w")

    def listener(event):
        events.append(event)
        command = joining_command(event)
        if command and not joined:
            argv = shlex.split(command)
            assert argv[:4] == ["automl-studio", "worker", "--chief", f"127.0.0.1:{port}"]
            # As another machine would run it: its own copy of the document and the data, its
            # own folder and its own tuner id.
            copy = tmp_path / "copy"
            copy.mkdir()
            (copy / CONFIG_FILE).write_bytes(Path(argv[argv.index("--config") + 1]).read_bytes())
            (copy / "mixed.csv").write_bytes(mixed_csv.read_bytes())
            argv[argv.index("--config") + 1] = str(copy / CONFIG_FILE)
            argv += ["--data", str(copy / "mixed.csv"), "--project", str(tmp_path / "elsewhere")]
            joined.append(subprocess.Popen(
                [sys.executable, "-m", "automl_studio.engine.cli", *argv[1:], "--id", "elsewhere"], cwd=tmp_path,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, stdout=log, stderr=log))

    try:
        final = run_local_workers(cfg, 1, listener)
        assert joined and joined[0].wait(timeout=60) == 0
    finally:
        for process in joined:
            if process.poll() is None:
                process.kill()
        log.close()
    assert final.status == "completed" and final.exported, final
    assert not [e for e in events if e.type == "warning" and "unauthenticated" in e.message]  # loopback
    started = Counter(e.trial_id for e in events if e.type == "trial_started")
    ended = Counter(e.trial_id for e in events if e.type == "trial_ended")
    every = Counter(str(i) for i in range(5))
    assert started == every and ended == every  # every trial, none reported twice
    workers = {e.trial_id: e.worker for e in events if e.type == "trial_started"}
    assert set(workers.values()) == {"worker0", "elsewhere"}, workers
    assert {e.worker for e in events if e.type == "trial_ended"} == {"worker0", "elsewhere"}
    # Epochs are only known for local trials: the joined worker's stay on its machine.
    assert {e.trial_id for e in events if e.type == "epoch_ended"} <= {t for t, w in workers.items() if w == "worker0"}
    logged = Counter(e.trial_id for e in read_events(tmp_path / "p") if isinstance(e, TrialEnded))
    assert logged == every  # the project's log holds each trial once too
    assert {r.worker for r in read_trials(tmp_path / "p").values()} == {"worker0", "elsewhere"}

    # The joined worker ran with the chief's split settings (it logs them in its own folder) and
    # passed the fingerprint check, which compares the hashes of its train/validation/test indices.
    settings = next(e for e in read_events(tmp_path / "elsewhere") if isinstance(e, SearchStarted)).settings
    assert (settings["validation_fraction"], settings["test_fraction"], settings["include_columns"]) == (0.3, 0.1, ["id"])
    chief = SearchDocument.read(tmp_path / "p" / CONFIG_FILE).data
    worker = identify(cfg.replace(data_path=str(tmp_path / "copy" / "mixed.csv"))).to_dict()
    assert "id" in chief["columns"] and worker["splits"] == chief["splits"]
    assert worker["fingerprint"] == chief["fingerprint"]
    # The flag-built command of before (default fractions, no forced column) splits otherwise.
    dropped = identify(cfg.replace(validation_fraction=0.2, test_fraction=0.2, include_columns=())).to_dict()
    assert dropped["splits"] != chief["splits"] and dropped["fingerprint"] != chief["fingerprint"]


def test_a_worker_with_other_data_refuses_to_start_and_says_why(tmp_path, mixed_csv):
    cfg = SearchConfig(data_path=str(mixed_csv), project_dir=str(tmp_path / "p"), tuner="random", max_trials=2,
                       max_epochs=1, validation_fraction=0.3, test_fraction=0.1, include_columns=("id",))
    document = publish_search(cfg)
    assert document.data["columns"] == identify(cfg).to_dict()["columns"]
    # Another machine's copy of the file, with one value changed.
    other = tmp_path / "theirs.csv"
    lines = mixed_csv.read_text(encoding="utf-8").splitlines()
    cells = lines[5].split(",")
    cells[2] = str(int(cells[2]) + 1)  # one income
    lines[5] = ",".join(cells)
    other.write_text("\n".join(lines) + "\n", encoding="utf-8")
    worker = run("worker", "--chief", f"127.0.0.1:{free_port()}", "--config", str(tmp_path / "p"),
                 "--data", str(other), "--id", "w9", cwd=tmp_path)
    _, err = worker.communicate(timeout=300)
    last = err.strip().splitlines()[-1]
    assert worker.returncode == 2, err[-3000:]
    assert last.startswith(f"automl-studio: error: {other}: this worker's data does not match the chief's"), last
    assert identify(cfg.replace(data_path=str(other))).fingerprint[:19] in last
    assert document.data_fingerprint[:19] in last and "the data differs" in last
    assert not (tmp_path / "p" / "tuner").exists()  # it never joined

    # A document without the chief's fingerprint (not written by a chief) is refused before any work.
    bare = tmp_path / "bare.json"
    bare.write_text(cfg.to_json(), encoding="utf-8")
    worker = run("worker", "--chief", "127.0.0.1:9", "--config", str(bare), cwd=tmp_path)
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 2 and f"{bare}: holds no data fingerprint" in err.strip().splitlines()[-1]


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this OS")
def test_local_workers_get_disjoint_cores_and_pin_themselves_to_them():
    from automl_studio.engine.process.child import _pin_to_cpus
    from automl_studio.engine.search.distributed import CPUS_ENV, _thread_env

    cpus = sorted(os.sched_getaffinity(0))
    shares = [_thread_env(len(cpus), i) for i in range(len(cpus))]
    assert [share[CPUS_ENV] for share in shares] == [str(c) for c in cpus]  # one core each
    assert all(share["TF_NUM_INTRAOP_THREADS"] == "1" for share in shares)
    assert CPUS_ENV not in _thread_env(len(cpus) + 1, 0)  # more workers than cores: no pinning
    code = ("import os, sys; from automl_studio.engine.process.child import _pin_to_cpus; "
            "_pin_to_cpus(sys.argv[1]); print(sorted(os.sched_getaffinity(0)))")
    pinned = subprocess.run([sys.executable, "-c", code, str(cpus[-1])], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert pinned == f"[{cpus[-1]}]"
    _pin_to_cpus("")  # nothing named: nothing changes here
    assert sorted(os.sched_getaffinity(0)) == cpus
