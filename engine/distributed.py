"""Several trials at once, through KerasTuner's own distributed tuning (chief and workers).

KerasTuner's chief serves the oracle over gRPC and workers pull trials from it; the roles come
from ``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT``. automl-studio
adds no scheduler of its own: it sets those variables, serves the oracle with KerasTuner's
``OracleServicer`` (in a loop that also honours our stop token and does not wait 20 s to notice
the end), restarts a local worker that died (under the same tuner id KerasTuner hands it the same
trial again, so the trial is retried, not lost), and merges the processes' events.

The oracle's port is unauthenticated: it binds to 127.0.0.1 unless the user names an address.
This module launches processes and imports no Keras (the window uses it); the chief's serving
loop is in :mod:`automl_studio.engine.oracle_server`.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Mapping
from typing import Any

from .events import Event, PhaseChanged, SearchWarning, event_from_dict
from .settings import SearchConfig

CHIEF_ID = "chief"
TRIAL_EVENTS = ("trial_started", "epoch_ended", "batch_progress", "trial_ended")


def role() -> str | None:
    """``chief``, ``worker`` or None (a plain local search), from KerasTuner's variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return None
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


def tuner_id() -> str:
    return os.environ.get("KERASTUNER_TUNER_ID", "local")


def roles_env(tuner: str, address: str, port: int) -> dict[str, str]:
    return {"KERASTUNER_TUNER_ID": tuner, "KERASTUNER_ORACLE_IP": address,
            "KERASTUNER_ORACLE_PORT": str(port)}


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def _thread_env(workers: int) -> dict[str, str]:
    per = str(max(1, (os.cpu_count() or 1) // workers))
    return {"TF_NUM_INTRAOP_THREADS": per, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": per}


def run_local_workers(config: SearchConfig, workers: int, listener: Callable[[Event], None],
                      stop: Any = None, *, max_restarts: int = 3) -> Mapping[str, Any]:
    """Runs a search with a local chief and ``workers`` worker processes; returns the final event.

    Events of every process arrive at ``listener``: trial events carry the worker's id. A worker
    that dies mid-trial is restarted under the same id, so its trial is run again.
    """
    from .project import EVENTS_FILE
    from .runner import SearchProcess

    if config.fresh:
        for name in ("tuner", "tensorboard", "best", EVENTS_FILE, "search_config.json"):
            path = os.path.join(config.project_dir, name)
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else (
                os.path.exists(path) and os.remove(path))
    # Each process runs one share of the search; the workers report the trials, not the chief.
    base = config.replace(fresh=False, workers=1, extra={**config.extra, "chief_reports_trials": False})
    port = free_port()
    chief = SearchProcess(base, env=roles_env(CHIEF_ID, "127.0.0.1", port))
    chief.start()
    listener(PhaseChanged(phase="searching", message=f"{workers} workers; oracle on 127.0.0.1:{port}"))
    names = [f"worker{i}" for i in range(workers)]

    def start_worker(name: str) -> SearchProcess:
        process = SearchProcess(base, env={**roles_env(name, "127.0.0.1", port), **_thread_env(workers)},
                                log_name=f"engine-{name}.log")
        process.start()
        return process

    running = {name: start_worker(name) for name in names}
    restarts = dict.fromkeys(names, 0)
    finished: dict[str, Any] | None = None
    stopping = False
    while True:
        if stop is not None and stop.is_set() and not stopping:
            stopping = True
            for process in running.values():
                process.request_stop()
            chief.request_stop()
        for name, process in list(running.items()):
            for data in process.poll(0.02):
                kind = data.get("type")
                if kind == "process_exited":
                    del running[name]
                    if data.get("exitcode") not in (0, None) and not stopping and finished is None \
                            and restarts[name] < max_restarts:
                        restarts[name] += 1
                        listener(SearchWarning(message=f"{name} ended unexpectedly (status {data.get('exitcode')}); "
                                                       "restarting it to rerun its trial"))
                        running[name] = start_worker(name)
                elif kind == "search_finished" and data.get("status") == "failed":
                    listener(SearchWarning(message=f"{name}: {data.get('message', 'failed')}"))
                elif kind in TRIAL_EVENTS or kind == "warning":
                    listener(event_from_dict({**data, "worker": name} if kind == "trial_started" else data))
        for data in chief.poll(0.05):
            kind = data.get("type")
            if kind == "search_finished":
                finished = data
            elif kind == "process_exited":
                for process in running.values():
                    process.stop(grace_s=3.0)
                if finished is None:
                    finished = {"type": "search_finished", "status": "failed",
                                "message": f"the chief process ended with status {data.get('exitcode')}"}
                listener(event_from_dict(finished))
                return finished
            elif kind not in TRIAL_EVENTS:
                listener(event_from_dict(data))
        if not running and finished is None and not stopping and chief.running:
            # Every worker is gone for good: let the chief finish with what it has.
            chief.request_stop()
            stopping = True


def worker_command(config: SearchConfig, address: str, port: int) -> str:
    """The exact command a remote machine runs to join a chief as a worker."""
    parts = ["automl-studio", "worker", "--chief", f"{address}:{port}", config.data_path]
    if config.target:
        parts += ["--target", config.target]
    if config.task != "auto":
        parts += ["--task", config.task]
    if isinstance(config.space, str) and config.space != "auto":
        parts += ["--space", config.space]
    parts += ["--tuner", config.tuner, "--seed", str(config.seed), "--project", config.project_dir]
    if config.max_trials:
        parts += ["--max-trials", str(config.max_trials)]
    if config.max_epochs:
        parts += ["--max-epochs", str(config.max_epochs)]
    return " ".join(parts)


__all__ = ["role", "tuner_id", "run_local_workers", "worker_command", "free_port", "roles_env"]
