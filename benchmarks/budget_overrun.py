"""How far past ``--time-budget`` the real command ends, on the machine as it is and under added load.

``python benchmarks/budget_overrun.py`` runs ``automl-studio search DATA --time-budget B --fresh``
as a subprocess, for B = 60 and 150 s, on the bundled iris table and on a generated 5,000-row
table (so that the cross-validated refit epochs and the averaged refits cost real time), first
on the machine as it is (its load average recorded) and then with two busy-loop processes added
for the duration. The wall clock is taken around the whole command: interpreter start, imports,
TensorFlow, search, refits, evaluation, export and exit. Target: overrun <= 3 % of the budget.

The command's events (``--events FILE``) give where the time went: start → search_started,
the phases, search_finished → process exit.

Writes ``benchmarks/results/budget_overrun.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
IRIS = REPO / "resources" / "iris.csv"
TARGET_FRACTION = 0.03  # overrun at most 3 % of the budget
BUSY_LOOP = "while True:\n    pass\n"


def generated_table(path: Path, rows: int = 5_000, seed: int = 0) -> Path:
    """A 5,000-row, 20-feature, 3-class table whose classes depend non-linearly on the features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 20))
    score = np.stack([x[:, 0] * x[:, 1] + x[:, 2], np.sin(2 * x[:, 3]) + x[:, 4] ** 2 - 1, 0.5 * x[:, 5:10].sum(axis=1)])
    labels = np.argmax(score + 0.3 * rng.normal(size=score.shape), axis=0)
    header = ",".join([f"x{i}" for i in range(20)] + ["label"])
    lines = [header] + [",".join(f"{v:.5f}" for v in row) + f",c{label}" for row, label in zip(x, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _timeline(events_path: Path, started_epoch: float) -> dict[str, Any]:
    """Seconds from the command's start to its first search event, each phase, and search_finished."""
    marks: dict[str, float] = {}
    trials = {"completed": 0, "failed": 0, "stopped": 0}
    finished: dict[str, Any] = {}
    epochs: dict[str, list[float]] = {}  # each trial's start, then its epochs' ends
    if not events_path.exists():
        return {"marks_s": marks, "trials": trials, "finished": finished, "trial_startup_s": []}
    for line in events_path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind, at = event.get("type"), float(event.get("time", 0.0)) - started_epoch
        if kind == "search_started":
            marks.setdefault("search_started", at)
        elif kind == "phase_changed":
            marks.setdefault(event.get("phase", "?"), at)
        elif kind == "trial_started":
            epochs[event["trial_id"]] = [at]
        elif kind == "epoch_ended" and event.get("trial_id") in epochs:
            epochs[event["trial_id"]].append(at)
        elif kind == "trial_ended":
            status = event.get("status", "failed")
            trials[status] = trials.get(status, 0) + 1
        elif kind == "search_finished":
            marks["search_finished"] = at
            finished = {k: event.get(k) for k in ("status", "message", "refits", "exported")}
    # A trial's first epoch beyond a steady one: building and tracing its model on this machine now.
    startups = []
    for times in epochs.values():
        steps = np.diff(times)
        if len(steps) >= 3:
            startups.append(round(float(steps[0] - np.median(steps[1:])), 2))
    return {"marks_s": {k: round(v, 2) for k, v in marks.items()}, "trials": trials, "finished": finished,
            "trial_startup_s": startups}


def run_command(data: Path, budget_s: float, folder: Path) -> dict[str, Any]:
    """Runs the real command once; the wall clock covers the whole process."""
    project, events = folder / "project", folder / "events.jsonl"
    command = [str(Path(sys.executable).parent / "automl-studio"), "search", str(data), "--time-budget",
               f"{budget_s:g}", "--project", str(project), "--fresh", "--events", str(events)]
    load_before = _load()
    started_epoch = time.time()
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    timeline = _timeline(events, started_epoch)
    if "search_finished" in timeline["marks_s"]:
        timeline["marks_s"]["process_exited"] = round(wall, 2)
    exported = (project / "best" / "best.h5").exists()
    return {"data": data.name, "budget_s": budget_s, "wall_s": round(wall, 2), "overrun_s": round(wall - budget_s, 2),
            "overrun_fraction": round((wall - budget_s) / budget_s, 4), "exit_code": completed.returncode,
            "exported": exported, "load_before": load_before, "load_after": _load(), **timeline,
            "stderr_tail": completed.stderr[-600:] if completed.returncode else ""}


def busy_loops(count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` processes that each keep one core busy until ended."""
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[60.0, 150.0])
    parser.add_argument("--data", choices=["iris", "table5000"], nargs="+", default=["iris", "table5000"])
    parser.add_argument("--conditions", choices=["as-is", "loaded"], nargs="+", default=["as-is", "loaded"])
    parser.add_argument("--busy", type=int, default=2, help="busy-loop processes added for the 'loaded' runs")
    parser.add_argument("--name", default="budget_overrun", help="results file name (benchmarks/results/NAME.json)")
    args = parser.parse_args()
    from results_file import run_info, write_results

    run = run_info()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="automl-studio-budget-") as tmp:
        folder = Path(tmp)
        tables = {"iris": IRIS, "table5000": generated_table(folder / "table5000.csv")}
        for condition in args.conditions:
            loops = busy_loops(args.busy) if condition == "loaded" else []
            try:
                for name in args.data:
                    for budget in args.budgets:
                        where = folder / f"{condition}-{name}-{budget:g}"
                        where.mkdir()
                        result = {"condition": condition, "busy_loops": len(loops),
                                  **run_command(tables[name], budget, where)}
                        runs.append(result)
                        print(f"{condition:6} {name:9} budget {budget:5g} s: wall {result['wall_s']:7.2f} s, "
                              f"overrun {result['overrun_s']:+6.2f} s ({100 * result['overrun_fraction']:+.1f} %), "
                              f"{result['finished'].get('status')}, trials {result['trials']['completed']}, "
                              f"refits {result['finished'].get('refits')}, exported {result['exported']}, "
                              f"load {result['load_before']} -> {result['load_after']}; {result['marks_s']}; "
                              f"trial start-ups {result['trial_startup_s']}",
                              flush=True)
                        write_results(args.name, {"target_fraction": TARGET_FRACTION, "runs": runs}, run)
            finally:
                for loop in loops:
                    loop.kill()
                    loop.wait()
    worst = max(r["overrun_fraction"] for r in runs)
    print(f"worst overrun: {100 * worst:+.1f} % of the budget (target <= {100 * TARGET_FRACTION:g} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
