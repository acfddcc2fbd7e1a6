"""The chief's side of KerasTuner's distributed tuning: serving the oracle to workers.

Uses KerasTuner's own ``OracleServicer`` over gRPC, in a loop that also honours our stop token,
notices the end without KerasTuner's 20 s polling, saves the oracle after every ended trial, and
can report every worker's trials as events.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.events import Event
from automl_studio.engine.search.distributed import SELF_REPORTING_ENV


def serve_oracle(oracle: Any, stop: CancelToken | None = None, *, linger_s: float = 3.0) -> str:
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
    """Makes the chief's oracle report trial starts and ends of every worker as events.

    The oracle sees when a trial is handed out and when it ends, not its epochs: these events are
    all a chief knows of a worker's trial. Workers named in ``AUTOML_STUDIO_SELF_REPORTING_TUNERS``
    report their own trials, so they are left out here. ``listener`` is called from the gRPC
    server's threads, one call at a time.
    """
    from automl_studio.engine.core.events import TrialEnded, TrialStarted

    create, end = oracle.create_trial, oracle.end_trial
    skip = set(filter(None, os.environ.get(SELF_REPORTING_ENV, "").split(",")))
    started: dict[str, float] = {}
    owner: dict[str, str] = {}
    skipped: set[str] = set()
    # The oracle's own lock is released before these wrappers run; several gRPC threads may
    # report at once, and the listener (a log file among others) takes one event at a time.
    lock = threading.Lock()

    def create_trial(tuner: str) -> Any:
        trial = create(tuner)
        if trial.status != "RUNNING":
            return trial
        with lock:
            if tuner in skip:
                skipped.add(trial.trial_id)
            elif trial.trial_id not in started:
                skipped.discard(trial.trial_id)  # a retry of a self-reporting worker's trial
                started[trial.trial_id] = time.monotonic()
                owner[trial.trial_id] = tuner
                listener(TrialStarted(trial_id=trial.trial_id, hyperparameters=dict(trial.hyperparameters.values),
                                      worker=tuner))
        return trial

    def end_trial(trial: Any) -> None:
        end(trial)
        with lock:
            if trial.trial_id in skipped:
                skipped.discard(trial.trial_id)
                return
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
