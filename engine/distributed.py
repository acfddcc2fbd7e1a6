"""Several trials at once, through KerasTuner's own distributed tuning (chief and workers).

KerasTuner's chief serves the oracle over gRPC and workers pull trials from it; the roles come
from ``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT``. automl-studio
adds no scheduler of its own: it sets those variables, serves the oracle with KerasTuner's
``OracleServicer`` (in a loop that also honours our stop token and does not wait 20 s to notice
the end), restarts a local worker that died (under the same tuner id KerasTuner hands it the same
trial again, so the trial is retried, not lost), and merges the processes' events.

The oracle's port is unauthenticated: it binds to 127.0.0.1 unless the user names an address.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from .events import Event, PhaseChanged, SearchFinished, SearchWarning, event_from_dict
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


def serve_oracle(oracle: Any, stop: Any = None, *, linger_s: float = 3.0) -> str:
    """Serves ``oracle`` to workers until every trial is done (or ``stop`` is set).

    Returns ``completed`` or ``stopped``. The address and port come from KerasTuner's variables.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    address, port = os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"]
    end = oracle.end_trial

    def end_and_save(trial: Any) -> None:
        # KerasTuner's oracle saves before it forgets the ended trial, and only a local tuner saves
        # again afterwards; without this a resumed chief would rerun its last trial.
        end(trial)
        oracle.save()

    oracle.end_trial = end_and_save
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(f"{address}:{port}") == 0:
        raise OSError(f"cannot listen on {address}:{port} (in use?)")
    server.start()
    idle_since: float | None = None
    try:
        while True:
            time.sleep(0.2)
            if stop is not None and stop.is_set():
                return "stopped"
            if servicer.stop_triggered and not oracle.ongoing_trials:
                # Workers still alive ask for their next trial within moments and are told to
                # stop; a worker that died never asks again, so do not wait for it forever.
                idle_since = idle_since or time.monotonic()
                if not oracle.tuner_ids or time.monotonic() - idle_since > linger_s:
                    return "completed"
            else:
                idle_since = None
    finally:
        server.stop(grace=1.0)


def report_oracle_trials(oracle: Any, listener: Callable[[Event], None]) -> None:
    """Makes the chief's oracle report trial starts and ends of every worker as events."""
    from .events import TrialEnded, TrialStarted

    create, end = oracle.create_trial, oracle.end_trial
    started: dict[str, float] = {}
    owner: dict[str, str] = {}

    def create_trial(tuner: str) -> Any:
        trial = create(tuner)
        if trial.status == "RUNNING" and trial.trial_id not in started:
            started[trial.trial_id] = time.monotonic()
            owner[trial.trial_id] = tuner
            listener(TrialStarted(trial_id=trial.trial_id, hyperparameters=dict(trial.hyperparameters.values),
                                  worker=tuner))
        return trial

    def end_trial(trial: Any) -> None:
        end(trial)
        record = oracle.trials[trial.trial_id]
        status = "completed" if record.status == "COMPLETED" else "failed"
        began = started.pop(trial.trial_id, time.monotonic())
        listener(TrialEnded(trial_id=trial.trial_id, status=status,
                            score=record.score if status == "completed" else None,
                            duration_s=time.monotonic() - began,
                            error=(record.message or "").strip().splitlines()[-1:][0] if status == "failed" and record.message else None,
                            best_epoch=(record.best_step + 1) if status == "completed" and record.best_step is not None else None,
                            hyperparameters=dict(record.hyperparameters.values),
                            worker=owner.pop(trial.trial_id, "?")))

    oracle.create_trial, oracle.end_trial = create_trial, end_trial


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
    base = config.replace(fresh=False)
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


__all__ = ["role", "tuner_id", "serve_oracle", "report_oracle_trials", "run_local_workers", "worker_command",
           "free_port", "roles_env", "SearchFinished"]
