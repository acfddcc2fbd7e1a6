"""The engine's child-process entry point: ``python -m automl_studio.engine.process.child``.

``search``: reads a :class:`SearchConfig` as one JSON line on stdin, runs the search and writes
every event as a JSON line on stdout. Later stdin lines are commands: ``stop`` asks for a
cooperative stop. End of stdin means the parent is gone (closed or crashed), which also stops the
search, so no orphan keeps training.

``call MODULE:FUNCTION``: reads keyword arguments as JSON on stdin and writes one JSON reply:
``{"ok": true, "value": ...}`` or ``{"ok": false, "message": ...}``.

Everything crossing the boundary is JSON; nothing is pickled.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import threading
import traceback
from typing import IO, Any

from automl_studio.engine.core.app_log import start_app_log, startup_line
from automl_studio.engine.core.clock import process_started_at, startup_message, startup_watchdog
from automl_studio.engine.core.events import Event, SearchFinished, SearchStarted
from automl_studio.engine.process.runner import CPUS_ENV, RECYCLE_EXIT

log = logging.getLogger("automl_studio.engine.process.child")  # not __name__: "__main__" under -m


def _claim_stdout() -> IO[str]:
    """Keeps the real stdout for JSON; anything else printed (KerasTuner, Keras) goes to stderr."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return out


def _write(out: IO[str], lock: threading.Lock, data: dict[str, Any]) -> None:
    line = json.dumps(data, allow_nan=False, default=str)
    with lock:
        out.write(line + "\n")
        out.flush()


def _search(out: IO[str]) -> int:
    from automl_studio.engine.core.config import RECYCLE_STATUS, SearchConfig
    from automl_studio.engine.core.errors import UserError

    lock = threading.Lock()
    first = sys.stdin.readline()
    config = SearchConfig.from_dict(json.loads(first))
    stop = threading.Event()

    def watch_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                stop.set()
        stop.set()  # end of input: the parent has gone

    threading.Thread(target=watch_stdin, name="stdin-commands", daemon=True).start()
    # The budget counts from this process's start: TensorFlow's import is part of the search.
    started = process_started_at()
    began: list[Any] = []  # tells the start-up watchdog that the search has started
    if config.time_budget_s:
        def give_up(budget_s: float = config.time_budget_s) -> None:
            _write(out, lock, SearchFinished.build("budget", startup_message(budget_s)).to_dict())
            os._exit(0)  # the main thread is still importing: nothing of the project is half written

        began.append(startup_watchdog(started + config.time_budget_s, give_up))

    def listener(event: Event) -> None:
        if began and isinstance(event, SearchStarted):
            began.pop()()
        _write(out, lock, event.to_dict())

    search = importlib.import_module("automl_studio.engine.search.session")
    log.info("search started: project %s, data %s", config.project_dir, config.data_path)
    try:
        result = search.run_search(config, listener=listener, stop=stop, budget_started_at=started)
    except UserError:
        return 2  # run_search already reported it as search_finished(failed)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then a non-zero exit
        finished = SearchFinished.build("failed", f"internal error: {exc.__class__.__name__}: {exc}")
        _write(out, lock, {**finished.to_dict(), "traceback": traceback.format_exc()})
        log.error("search failed: %s", traceback.format_exc())
        return 1
    log.info("search ended: %s", result.status)
    return RECYCLE_EXIT if result.status == RECYCLE_STATUS else 0


def _call(target: str, out: IO[str]) -> int:
    from automl_studio.engine.core.errors import UserError

    module_name, _, func_name = target.partition(":")
    lock = threading.Lock()
    try:
        kwargs = json.loads(sys.stdin.readline() or "{}")
        value = getattr(importlib.import_module(module_name), func_name)(**kwargs)
        _write(out, lock, {"ok": True, "value": value})
        return 0
    except UserError as exc:
        _write(out, lock, {"ok": False, "message": str(exc)})
        return 2
    except BaseException as exc:  # noqa: BLE001
        _write(out, lock, {"ok": False, "message": f"internal error: {exc.__class__.__name__}: {exc}",
                           "traceback": traceback.format_exc()})
        return 1


def _pin_to_cpus(spec: str) -> None:
    """A local worker keeps to its share of the cores (set by distributed.run_local_workers)."""
    cpus = {int(c) for c in spec.split(",") if c.strip().isdigit()}
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:
            pass  # cores not ours to pick (a container's limits): run unpinned


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Ctrl+C in a terminal is the parent's to handle; the child stops through stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pin_to_cpus(os.environ.get(CPUS_ENV, ""))
    out = _claim_stdout()
    if args[:1] == ["search"]:
        start_app_log("engine")
        log.info(startup_line())
        return _search(out)
    if args[:1] == ["call"] and len(args) == 2:
        return _call(args[1], out)
    print("usage: python -m automl_studio.engine.process.child search | call MODULE:FUNCTION", file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Without the interpreter's teardown of TensorFlow (5-19 s on a busy machine): the parent
    # waits for this exit, and everything of ours is written and closed by now.
    os._exit(code)
