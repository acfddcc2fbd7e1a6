"""Trials per hour with 1 and with 2 local workers (KerasTuner's chief/worker mode).

Both runs do the same search — the same trials of the same data, epochs and batch size — on
this machine; the figure is trials per hour of the search phase (first trial start to last trial
end) and the ratio 2-workers / 1-worker (target ≥ 1.7). Order alternates across repeats.

    python benchmarks/workers_throughput.py [--trials 24] [--repeats 2]

Writes benchmarks/results/workers_throughput.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from pathlib import Path

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import Event
from automl_studio.engine.process.runner import SearchProcess
from automl_studio.engine.search.distributed import run_local_workers

REPO = Path(__file__).resolve().parents[1]


def write_data(path: Path) -> Path:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(path, index=False)
    return path


def search_phase(events: list[dict]) -> float:
    starts = [e["time"] for e in events if e["type"] == "trial_started"]
    ends = [e["time"] for e in events if e["type"] == "trial_ended"]
    return max(ends) - min(starts)


def run(workers: int, data: Path, project: Path, trials: int, epochs: int) -> dict:
    config = SearchConfig(data_path=str(data), project_dir=str(project), target="target", tuner="random",
                          max_trials=trials, max_epochs=epochs, patience=0, refit=False, tensorboard=False,
                          export_keras=False, fresh=True, extra={"chief_reports_trials": False})
    events: list[dict] = []
    if workers == 1:
        process = SearchProcess(config)
        process.start()
        while not events or events[-1]["type"] != "process_exited":
            events.extend(e.to_dict() for e in process.poll(0.5))
    else:
        def listener(event: Event) -> None:
            events.append(event.to_dict())

        run_local_workers(config, workers, listener)
    done = sum(1 for e in events if e["type"] == "trial_ended" and e["status"] == "completed")
    seconds = search_phase(events)
    return {"workers": workers, "trials": done, "seconds": seconds, "trials_per_hour": done * 3600 / seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        data = write_data(Path(tmp) / "breast_cancer.csv")
        for r in range(args.repeats):
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                result = run(workers, data, Path(tmp) / f"p{workers}-{r}", args.trials, args.epochs)
                results[workers].append(result)
                print(f"repeat {r + 1}: {workers} worker(s): {result['trials']} trials in "
                      f"{result['seconds']:.1f} s = {result['trials_per_hour']:.0f} trials/h", flush=True)
    one = statistics.median(r["trials_per_hour"] for r in results[1])
    two = statistics.median(r["trials_per_hour"] for r in results[2])
    summary = {"machine": platform.node(), "cpus": os.cpu_count(), "trials": args.trials, "epochs": args.epochs,
               "one_worker_trials_per_hour": one, "two_workers_trials_per_hour": two, "ratio": two / one,
               "runs": results}
    print(f"1 worker {one:.0f} trials/h, 2 workers {two:.0f} trials/h, ratio {two / one:.2f} (target ≥ 1.7)")
    from results_file import write_results

    write_results("workers_throughput", summary)


if __name__ == "__main__":
    main()
