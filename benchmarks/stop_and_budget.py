"""How fast a stop lands and how far past its time budget a search ends (the tests check only that they do).

``python benchmarks/stop_and_budget.py`` on the bundled iris table:

* in process: ``run_search`` with a stop token set at an epoch of the second trial; seconds from
  setting it to ``run_search`` returning (target < 2 s);
* in a child: ``SearchProcess.request_stop()`` after the first epoch; seconds until the child has
  reported ``search_finished`` and exited (target < 5 s);
* ``time_budget_s=25`` with refit and export: seconds past the budget when ``run_search`` returns
  (target < 10 s).

Writes ``benchmarks/results/stop_and_budget.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import Event
from automl_studio.engine.process.runner import SearchProcess
from automl_studio.engine.search.session import run_search

IRIS = Path(__file__).resolve().parents[1] / "resources" / "iris.csv"
TARGETS_S = {"stop_in_process": 2.0, "stop_in_child": 5.0, "budget_overrun": 10.0}


def stop_in_process(folder: Path) -> float:
    """Seconds from setting the stop token (mid second trial) to ``run_search`` returning."""
    stop = threading.Event()
    set_at: list[float] = []
    ended = 0

    def listener(event: Event) -> None:
        nonlocal ended
        ended += event.type == "trial_ended"
        if event.type == "epoch_ended" and ended >= 1 and not stop.is_set():
            set_at.append(time.perf_counter())
            stop.set()

    result = run_search(SearchConfig(data_path=str(IRIS), project_dir=str(folder), max_trials=50, max_epochs=200,
                                     patience=0, tuner="random"), listener, stop)
    assert result.status == "stopped", result.status
    return time.perf_counter() - set_at[0]


def stop_in_child(folder: Path) -> dict[str, float]:
    """Seconds from ``request_stop()`` to the child's ``search_finished`` and to its exit."""
    process = SearchProcess(SearchConfig(data_path=str(IRIS), project_dir=str(folder), tuner="random",
                                         max_trials=100, max_epochs=500, patience=0))
    process.start()
    marks: dict[str, float] = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and "exited" not in marks:
        for event in process.poll(0.05):
            kind = event.type if hasattr(event, "type") else event["type"]
            if kind == "epoch_ended" and "asked" not in marks:
                marks["asked"] = time.perf_counter()
                process.request_stop()
            elif kind == "search_finished":
                marks["finished"] = time.perf_counter()
            elif kind == "process_exited":
                marks["exited"] = time.perf_counter()
    return {"search_finished_s": marks["finished"] - marks["asked"], "exited_s": marks["exited"] - marks["asked"]}


def budget_overrun(folder: Path, budget_s: float) -> dict[str, Any]:
    """Seconds past ``budget_s`` when a budgeted search (refit and export included) returns."""
    started = time.perf_counter()
    result = run_search(SearchConfig(data_path=str(IRIS), project_dir=str(folder), tuner="random",
                                     time_budget_s=budget_s, max_epochs=40, patience=0))
    elapsed = time.perf_counter() - started
    return {"status": result.status, "elapsed_s": elapsed, "overrun_s": elapsed - budget_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=25.0, help="time budget of the budgeted search (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="automl-studio-bench-") as tmp:
        folder = Path(tmp)
        in_process = stop_in_process(folder / "a")
        print(f"stop in process: run_search returned {in_process:.2f} s after the token was set "
              f"(target < {TARGETS_S['stop_in_process']:g} s)", flush=True)
        child = stop_in_child(folder / "b")
        print(f"stop in a child: search_finished after {child['search_finished_s']:.2f} s, exited after "
              f"{child['exited_s']:.2f} s (target < {TARGETS_S['stop_in_child']:g} s)", flush=True)
        budget = budget_overrun(folder / "c", args.budget)
        print(f"budget {args.budget:g} s: {budget['status']} after {budget['elapsed_s']:.1f} s, "
              f"{budget['overrun_s']:+.1f} s past it (target < {TARGETS_S['budget_overrun']:g} s)", flush=True)
    from results_file import write_results

    write_results("stop_and_budget", {"targets_s": TARGETS_S, "budget_s": args.budget,
                                      "stop_in_process_s": in_process, "stop_in_child": child,
                                      "budget": budget})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
