"""Several trials at once, through KerasTuner's own distributed tuning (chief and workers).

KerasTuner's chief serves the oracle over gRPC and workers pull trials from it; the roles come
from ``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT``. automl-studio
adds no scheduler of its own: it sets those variables, serves the oracle with KerasTuner's
``OracleServicer`` (in a loop that also honours our stop token and does not wait 20 s to notice
the end), restarts a local worker that died (under the same tuner id KerasTuner hands it the same
trial again, so the trial is retried, not lost), and merges the processes' events.

Chief and workers share one configuration: before the chief starts, :func:`publish_search`
writes the search's :class:`~automl_studio.engine.core.config.SearchDocument`, with the
fingerprint of the prepared data and split, into the project folder. Workers start from that
document (``automl-studio worker --chief HOST:PORT --config FILE``), never from flags rebuilt by
hand, and refuse to run when the data they prepare has another fingerprint.

The oracle's port is unauthenticated: it binds to 127.0.0.1 unless the user names an address
(``SearchConfig.chief_address``, ``automl-studio chief --address``); then workers on other
machines can join the local chief with :func:`worker_command`. This module launches processes and
imports no Keras (the window uses it; it reads the data once to fingerprint it); the chief's
serving loop is in
:mod:`automl_studio.engine.search.oracle_server`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import shlex
import socket
import time
from collections.abc import Callable

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.core.errors import SpecError, UserError
from automl_studio.engine.core.events import (
    BatchProgress,
    EpochEnded,
    Event,
    PhaseChanged,
    ProcessExited,
    SearchFinished,
    SearchWarning,
    TrialEnded,
    TrialStarted,
)
from automl_studio.engine.core.jsonfile import read_json_document
from automl_studio.engine.core.objectives import check_objective
from automl_studio.engine.data.identity import identify
from automl_studio.engine.process.runner import CPUS_ENV
from automl_studio.engine.search.project import (
    CONFIG_FILE,
    check_resume,
    clear_project,
    write_search_document,
)
from automl_studio.engine.space.spec import SPEC_SCHEMA_VERSION

CHIEF_ID = "chief"
LOOPBACK = "127.0.0.1"
TRIAL_EVENTS = (TrialStarted, EpochEnded, BatchProgress, TrialEnded)
# Tuner ids (comma-separated) whose own process reports their trials, so the chief's oracle
# does not report them again (see oracle_server.report_oracle_trials).
SELF_REPORTING_ENV = "AUTOML_STUDIO_SELF_REPORTING_TUNERS"
JOIN_PREFIX = "other machines join as workers with: "
CHIEF_DATA = "chief_data"  # SearchConfig.extra key: the chief's data identity, which a worker must match
_AFTER_SERVING = ("ensembling", "validating", "refitting", "evaluating", "exporting")  # the chief works on: never linger-stop it
_CHIEF_LINGER_S = 5.0  # longer than oracle_server.serve_oracle's linger, so a chief can end by itself


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


def free_port(address: str = LOOPBACK) -> int:
    """A port nothing listens on at ``address`` right now."""
    return listen_port(address, 0)


def listen_port(address: str, port: int = 0) -> int:
    """``port``, or a free port when 0, after checking that this machine can listen there.

    Raises:
        UserError: the address is not one of this machine's, or the port is taken.
    """
    try:
        with socket.socket() as sock:
            sock.bind((address, port))
            return int(sock.getsockname()[1])
    except OSError as exc:
        raise UserError(f"cannot listen on {address}:{port or 'any port'} ({exc.strerror or exc}); "
                        "name an address of this machine (or 0.0.0.0 for all) and a free port") from None


def is_loopback(address: str) -> bool:
    """True for addresses only this machine can reach: 127.x.x.x, ::1, localhost (and empty)."""
    if address in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def advertised_address(address: str) -> str:
    """The address workers dial to reach a chief that listens on ``address``.

    A wildcard (0.0.0.0) listens on every interface but cannot be dialled; this machine's address
    on its default route is the best guess (no packet is sent), else its host name.
    """
    if address != "0.0.0.0":
        return address or LOOPBACK
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            return str(sock.getsockname()[0])
    except OSError:
        return socket.gethostname()


def config_path(config: SearchConfig) -> str:
    """The absolute path of the search document :func:`publish_search` writes for ``config``."""
    return os.path.abspath(os.path.join(config.project_dir, CONFIG_FILE))


def publish_search(config: SearchConfig) -> SearchDocument:
    """Writes the search's document, with its data fingerprint, where workers can read it.

    Reads and splits the data as the search will (no TensorFlow), refuses a project that holds
    another search (as a resume would), and writes ``search_config.json`` into the project
    folder. With ``config.fresh`` the project's old search is removed first. A search space
    named by a spec file is embedded, so a worker needs no copy of that file.

    Raises:
        UserError: unreadable data, an objective the task does not have, or a project that
            holds another search.
    """
    if config.fresh:
        clear_project(config.project_dir)
    identity = identify(config)
    try:  # before any process starts, as a single-process search checks it
        check_objective(config.objective, identity.task, len(identity.class_names))
    except UserError as exc:
        raise UserError(f"{config.data_path}: {exc}") from None
    check_resume(config, identity)
    published = config.replace(fresh=False)
    if isinstance(config.space, str) and os.path.isfile(config.space):
        spec = read_json_document(config.space, kind="spec file", error=SpecError,
                                  schema_version=SPEC_SCHEMA_VERSION)
        published = published.replace(space=spec)
    document = SearchDocument(published, identity.to_dict())
    write_search_document(config.project_dir, document)
    return document


def chief_notices(config: SearchConfig, address: str, port: int) -> tuple[str, str | None]:
    """What to tell the user when a chief listens on ``address:port``.

    Returns the exact command other machines run to join as workers (it names the search
    document :func:`publish_search` writes), and a warning about the unauthenticated port unless
    only this machine can reach it.
    """
    command = worker_command(config_path(config), advertised_address(address), port)
    warning = None if is_loopback(address) else (
        f"the oracle port {address}:{port} is unauthenticated: anyone who can reach it can join the "
        "search or read its hyperparameters; open it only on a trusted network")
    return command, warning


def joining_command(event: Event) -> str | None:
    """The worker command announced by :func:`run_local_workers`, if ``event`` is that."""
    if isinstance(event, PhaseChanged) and event.message.startswith(JOIN_PREFIX):
        return event.message[len(JOIN_PREFIX):]
    return None




def _thread_env(workers: int, index: int) -> dict[str, str]:
    """Each local worker's share of the cores: its thread counts and, where the OS allows, the
    cores themselves, so two workers never contend for one core while another idles."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    per = max(1, (len(cpus) or os.cpu_count() or 1) // workers)
    env = {"TF_NUM_INTRAOP_THREADS": str(per), "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": str(per)}
    if cpus and workers <= len(cpus):
        env[CPUS_ENV] = ",".join(map(str, cpus[index * per:(index + 1) * per]))
    return env


def run_local_workers(config: SearchConfig, workers: int, listener: Callable[[Event], None],
                      stop: CancelToken | None = None, *, max_restarts: int = 3,
                      background: bool = False) -> SearchFinished:
    """Runs a search with a local chief and ``workers`` worker processes; returns the final event.

    ``background`` runs every process at a lower priority (see :class:`SearchProcess`).

    The chief listens on ``config.chief_address`` (127.0.0.1 when empty) and ``config.chief_port``
    (a free port when 0). Its first events say where: a ``phase_changed`` whose message is
    :data:`JOIN_PREFIX` plus the exact command other machines run to join (read it back with
    :func:`joining_command`), and a ``warning`` when the unauthenticated port is reachable from
    other machines.

    Events of every process arrive at ``listener``: trial events carry the worker's id. A worker
    that dies mid-trial is restarted under the same id, so its trial is run again. Trials of
    workers that joined from elsewhere are reported by the chief's oracle: ``trial_started`` and
    ``trial_ended`` with their worker's id, but no epochs or batches (those stay on the worker's
    machine, so such trials have no live curves). Once the local workers are done, the chief
    keeps serving the joined workers' running trials; a joined worker that vanishes mid-trial
    holds the search until it rejoins under the same ``--id`` (and reruns that trial) or the
    search is stopped.
    """
    from automl_studio.engine.process.runner import SearchProcess

    address = config.chief_address or LOOPBACK
    port = listen_port(address, config.chief_port)
    # A chief on one interface (or all of them) is reached by the local workers there.
    dial = LOOPBACK if address == "0.0.0.0" else address
    document = publish_search(config)
    names = [f"worker{i}" for i in range(workers)]
    base = document.config.replace(workers=1)
    # The local workers report their own trials (with epochs); the chief's oracle reports those
    # of workers that joined from elsewhere.
    chief = SearchProcess(base.replace(extra={**config.extra, "chief_reports_trials": True}),
                          env={**roles_env(CHIEF_ID, address, port), SELF_REPORTING_ENV: ",".join(names)},
                          background=background)
    command, warning = chief_notices(config, address, port)
    chief.start()
    listener(PhaseChanged(phase="searching", message=f"{workers} local worker{'s' if workers > 1 else ''}; "
                                                     f"oracle on {address}:{port}"))
    listener(PhaseChanged(phase="serving", message=JOIN_PREFIX + command))
    if warning:
        listener(SearchWarning(message=warning))

    def start_worker(name: str) -> SearchProcess:
        share = _thread_env(workers, names.index(name))
        # A worker checks it prepares the very data and split of the published document.
        worker = base.replace(export_path=None, extra={**base.extra, CHIEF_DATA: dict(document.data)})
        process = SearchProcess(worker, env={**roles_env(name, dial, port), **share},
                                log_name=f"engine-{name}.log", background=background)
        process.start()
        return process

    running = {name: start_worker(name) for name in names}
    restarts = dict.fromkeys(names, 0)
    local_trials: set[str] = set()
    joined_running: set[str] = set()  # trials that workers from elsewhere are running
    chief_phase = ""
    finished: SearchFinished | None = None
    stopping = False
    idle_since: float | None = None
    while True:
        if stop is not None and stop.is_set() and not stopping:
            stopping = True
            for process in running.values():
                process.request_stop()
            chief.request_stop()
        for name, process in list(running.items()):
            for event in process.poll(0.02):
                if isinstance(event, ProcessExited):
                    del running[name]
                    if event.exitcode not in (0, None) and not stopping and finished is None \
                            and restarts[name] < max_restarts:
                        restarts[name] += 1
                        listener(SearchWarning(message=f"{name} ended unexpectedly (status {event.exitcode}); "
                                                       "restarting it to rerun its trial"))
                        running[name] = start_worker(name)
                elif isinstance(event, SearchFinished) and event.status == "failed":
                    listener(SearchWarning(message=f"{name}: {event.message or 'failed'}"))
                elif isinstance(event, (*TRIAL_EVENTS, SearchWarning)):
                    if isinstance(event, TrialStarted):
                        local_trials.add(event.trial_id)
                        event = dataclasses.replace(event, worker=name)
                    listener(event)
        for event in chief.poll(0.05):
            if isinstance(event, SearchFinished):
                finished = event
            elif isinstance(event, ProcessExited):
                for process in running.values():
                    process.stop(grace_s=3.0)
                if finished is None:
                    finished = SearchFinished.build(
                        "failed", f"the chief process ended with status {event.exitcode}")
                listener(finished)
                return finished
            elif isinstance(event, (TrialStarted, TrialEnded)):
                if event.worker in names or event.trial_id in local_trials:
                    continue  # a local worker reports it, with its epochs
                if isinstance(event, TrialStarted):
                    joined_running.add(event.trial_id)
                else:
                    joined_running.discard(event.trial_id)
                listener(event)
            elif not isinstance(event, TRIAL_EVENTS):
                if isinstance(event, PhaseChanged):
                    chief_phase = event.phase
                listener(event)
        if running or joined_running or stopping or finished is not None or chief_phase in _AFTER_SERVING:
            idle_since = None
        elif chief.running:
            # Every local worker is gone for good and no joined worker runs a trial: the chief
            # usually ends by itself now; if not (a trial of a dead worker stays open), it
            # finishes with what it has.
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > _CHIEF_LINGER_S:
                chief.request_stop()
                stopping = True


def worker_command(config_file: str, address: str, port: int) -> str:
    """The exact command a machine runs to join a chief at ``address:port`` as a worker.

    ``config_file`` is the chief's search document (see :func:`publish_search`): the worker reads
    data, target, columns, split and training settings from it, so nothing is rebuilt from flags.
    A worker whose data sit elsewhere adds ``--data PATH``; it still has to match the document's
    fingerprint.
    """
    return shlex.join(["automl-studio", "worker", "--chief", f"{address}:{port}", "--config", config_file])


__all__ = ["role", "tuner_id", "run_local_workers", "worker_command", "free_port", "listen_port", "roles_env",
           "is_loopback", "advertised_address", "chief_notices", "joining_command", "publish_search",
           "config_path", "CHIEF_DATA"]
