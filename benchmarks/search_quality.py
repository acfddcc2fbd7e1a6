"""Does the default search find a model as good as scikit-learn's usual suspects?

For each of scikit-learn's bundled tables (breast_cancer, wine, iris, digits: classification;
diabetes: regression), written as a CSV with a ``target`` column (class names where
scikit-learn has them), this runs the default search exactly as a user would:

    automl-studio search DATA.csv --target target --time-budget 150 --project DIR --fresh

and compares its test metric (accuracy, or R² for regression; read from the search's own
``search_finished`` result) with scikit-learn baselines at their defaults:
StandardScaler + LogisticRegression(max_iter=5000) (StandardScaler + Ridge for regression),
RandomForest and HistGradientBoosting. The baselines are scored on the *same* test rows the
engine holds out: the split is rebuilt with the engine's own ``stratified_split`` (seed 1,
validation 0.2, test 0.2, as ``prepare_data`` does) and checked against ``prepare_data``'s test
targets; baselines train on the train+validation rows (what the engine's refit uses).

Target: accuracy within 1 point of the best baseline; R² within 0.03.

Run: ``.venv/bin/python benchmarks/search_quality.py [--budget 150] [--datasets iris wine ...]``
Writes ``benchmarks/results/search_quality.json`` (after every dataset, so a partial run
still leaves its results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_file import git_state, run_info, write_results  # noqa: E402
from sklearn_tables import CLASSIFICATION, REGRESSION, write_csv  # noqa: E402

SEED = 1  # the engine's default --seed; --seed changes the search's seed and its split together
TARGETS = {"classification": 0.01, "regression": 0.03}


def engine_split(csv: Path, seed: int):
    """The engine's train/validation/test row indices for this table, checked against prepare_data."""
    import numpy as np

    from automl_studio.engine.data.features import encode_target, prepare_data, stratified_split
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset

    dataset = load_dataset(csv)
    profile = profile_dataset(dataset, "target")
    prepared = prepare_data(dataset, profile, validation_fraction=0.2, test_fraction=0.2, seed=seed)
    frame = dataset.frame
    frame = frame[frame["target"].notna()].reset_index(drop=True)
    raw_y = frame["target"]
    y = encode_target(raw_y, profile.task, profile.class_names)
    tr, va, te = stratified_split(y if profile.task == "classification" else None, len(y), (0.2, 0.2), seed)
    # The same rows in the same order as the engine's splits, or this benchmark is wrong.
    for idx, split in ((tr, prepared.train), (va, prepared.validation), (te, prepared.test)):
        if not np.array_equal(y[idx], split.y):
            raise RuntimeError(f"{csv.name}: could not reproduce the engine's split")
    features = frame.drop(columns=["target"])
    return features, raw_y.to_numpy(), tr, va, te, profile


def baselines(task: str):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        return {
            "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
            "random_forest": RandomForestClassifier(random_state=0),
            "hist_gb": HistGradientBoostingClassifier(random_state=0),
        }
    return {
        "ridge": make_pipeline(StandardScaler(), Ridge()),
        "random_forest": RandomForestRegressor(random_state=0),
        "hist_gb": HistGradientBoostingRegressor(random_state=0),
    }


def score_baselines(csv: Path, task: str, seed: int) -> tuple[dict, dict]:
    import numpy as np
    from sklearn.metrics import accuracy_score, r2_score

    features, y, tr, va, te, profile = engine_split(csv, seed)
    fit_rows = np.concatenate([tr, va])
    x_fit, y_fit = features.iloc[fit_rows].to_numpy(dtype=float), y[fit_rows]
    x_test, y_test = features.iloc[te].to_numpy(dtype=float), y[te]
    scores = {}
    for name, model in baselines(task).items():
        started = time.monotonic()
        model.fit(x_fit, y_fit)
        predicted = model.predict(x_test)
        metric = accuracy_score(y_test, predicted) if task == "classification" else r2_score(y_test, predicted)
        scores[name] = {"score": float(metric), "seconds": time.monotonic() - started}
    info = {"rows": int(len(y)), "train": int(len(tr)), "validation": int(len(va)), "test": int(len(te)),
            "columns": {c.name: c.kind for c in profile.columns if c.name != "target"},
            "unused_columns": [c.name for c in profile.columns if not c.used]}
    return scores, info


def run_engine(csv: Path, project: Path, budget: float, seed: int, extra: list[str]) -> dict:
    """The default search through the command line, as a user runs it."""
    command = [str(Path(sys.executable).with_name("automl-studio")), "search", str(csv), "--target", "target",
               "--time-budget", f"{budget:g}", "--project", str(project), "--fresh"]
    if seed != SEED:
        command += ["--seed", str(seed)]
    command += extra
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    summary: dict = {}
    text = proc.stdout.strip()
    if text.startswith("{"):
        try:
            summary = json.loads(text)
        except json.JSONDecodeError:
            summary = {}
    events = []
    log = project / "events.jsonl"
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return {"command": " ".join(command), "returncode": proc.returncode, "wall_s": wall,
            "summary": summary, "stderr_tail": proc.stderr[-2000:] if proc.returncode else "",
            "diagnosis": diagnose(events)}


def diagnose(events: list[dict]) -> dict:
    """What the search did: trials, epochs, time per trial, the winner's settings, phases."""
    trials = [e for e in events if e.get("type") == "trial_ended"]
    started = next((e for e in events if e.get("type") == "search_started"), {})
    finished = next((e for e in reversed(events) if e.get("type") == "search_finished"), {})
    phases = [(e.get("phase"), e.get("time")) for e in events if e.get("type") == "phase_changed"]
    epochs = {}
    for e in events:
        if e.get("type") == "epoch_ended":
            epochs[e["trial_id"]] = max(epochs.get(e["trial_id"], 0), e["epoch"])
    completed = [t for t in trials if t.get("status") == "completed"]
    best = finished.get("best_trial_id")
    return {
        "trials_completed": len(completed),
        "trials_other": {s: sum(1 for t in trials if t.get("status") == s)
                         for s in {t.get("status") for t in trials} - {"completed"}},
        "mean_trial_s": (sum(t["duration_s"] for t in completed) / len(completed)) if completed else None,
        "epochs_per_trial": [epochs.get(t["trial_id"]) for t in trials],
        "best_epoch_per_trial": [t.get("best_epoch") for t in trials],
        "val_loss_per_trial": [t.get("score") for t in trials],
        "best_trial": best,
        "best_hyperparameters": finished.get("best_hyperparameters"),
        "status": finished.get("status"),
        "message": finished.get("message"),
        "max_epochs": (started.get("settings") or {}).get("max_epochs"),
        "phases": phases,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=150.0, help="--time-budget per search (default 150)")
    parser.add_argument("--datasets", nargs="+", default=[*CLASSIFICATION, *REGRESSION],
                        choices=[*CLASSIFICATION, *REGRESSION])
    parser.add_argument("--seed", type=int, default=SEED,
                        help="the search's --seed, which also picks the split (default 1, the engine's default)")
    parser.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                        help="an extra flag for 'automl-studio search' (experiments only; repeatable, "
                             "e.g. --engine-arg=--no-refit)")
    parser.add_argument("--output", default=str(HERE / "results" / "search_quality.json"))
    args = parser.parse_args(argv)

    import sklearn

    tmp = Path(tempfile.mkdtemp(prefix="quality-"))
    results_path = Path(args.output)
    run = run_info()
    out = {
        "benchmark": "search_quality",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "versions": {"scikit-learn": sklearn.__version__},
        "git": git_state(),
        "budget_s": args.budget,
        "seed": args.seed,
        "engine_args": args.engine_arg,
        "targets": TARGETS,
        "datasets": {},
    }
    for name in args.datasets:
        csv, task = write_csv(name, tmp)
        scores, info = score_baselines(csv, task, args.seed)
        load = os.getloadavg()[0]
        print(f"{name}: {info['train']}/{info['validation']}/{info['test']} rows; searching "
              f"{args.budget:g} s (1-min load average {load:.1f})...", flush=True)
        engine = run_engine(csv, tmp / f"project-{name}", args.budget, args.seed, args.engine_arg)
        metric = "accuracy" if task == "classification" else "r2"
        engine_score = (engine["summary"].get("test_metrics") or {}).get(metric)
        best_name = max(scores, key=lambda k: scores[k]["score"])
        best = scores[best_name]["score"]
        gap = None if engine_score is None else engine_score - best
        entry = {
            "task": task, "metric": metric, "split": info, "baselines": scores,
            "best_baseline": best_name, "best_baseline_score": best,
            "automl_studio": engine_score, "gap": gap,
            "meets_target": None if gap is None else gap >= -TARGETS[task],
            "load_average_1min_before": load, "engine": engine,
        }
        out["datasets"][name] = entry
        d = engine["diagnosis"]
        print(f"  automl-studio {metric} {engine_score if engine_score is None else round(engine_score, 4)} "
              f"(best baseline {best_name} {best:.4f}); {d['trials_completed']} trials, "
              f"status {d['status']}, {engine['wall_s']:.0f} s", flush=True)
        write_results("search_quality", out, run, results_path)

    print()
    extra = f" {' '.join(args.engine_arg)}" if args.engine_arg else ""
    print(f"search: --time-budget {args.budget:g}{extra} (else defaults), {os.cpu_count()} CPUs; test split = the "
          f"engine's (seed {args.seed}); baselines fit on train+validation")
    header = (f"{'dataset':14s} {'metric':8s} {'test n':>6s} {'automl':>8s} {'linear':>8s} {'forest':>8s} "
              f"{'hist_gb':>8s} {'best baseline':>20s} {'gap':>8s} {'target':>7s} {'trials':>6s}")
    print(header)
    print("-" * len(header))
    for name, e in out["datasets"].items():
        linear = e["baselines"].get("logistic", e["baselines"].get("ridge"))["score"]
        auto = e["automl_studio"]
        gap = e["gap"]
        verdict = "-" if gap is None else ("MET" if e["meets_target"] else "MISSED")
        print(f"{name:14s} {e['metric']:8s} {e['split']['test']:6d} "
              f"{auto if auto is None else format(auto, '8.4f'):>8} {linear:8.4f} "
              f"{e['baselines']['random_forest']['score']:8.4f} {e['baselines']['hist_gb']['score']:8.4f} "
              f"{e['best_baseline']:>13s} {e['best_baseline_score']:6.4f} "
              f"{gap if gap is None else format(gap, '+8.4f'):>8} {verdict:>7s} "
              f"{e['engine']['diagnosis']['trials_completed']:6d}")
    print("target: accuracy within 0.01 of the best baseline; R² within 0.03 "
          "(one test row is 1/n of accuracy: iris 30 rows = 0.033 each)")
    print(f"wrote {results_path}")


if __name__ == "__main__":
    main()
