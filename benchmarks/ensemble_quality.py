"""Does a weighted ensemble of the best trials beat the best single trial on data it never saw?

For scikit-learn's digits table (``load_digits``, written as a CSV with a ``target`` column) and
each split seed, this runs the default search in this process with a short time budget, then
reloads the best completed trials from their own checkpoints and scores, on the engine's
held-out test split:

* the best single trial (by the search's objective), as trained;
* the greedy ensemble (Caruana et al. 2004) chosen on the validation split, exactly as the
  search chooses it (``engine.train.ensemble.greedy_selection``), whether or not it won there;
* the model the search exported (the ensemble where it won on validation, else the refits).

With ``--no-ensemble`` the search runs as before ensembles (its export averages refits of the
best trial on train+validation), for the same comparison against what users got until now.

Run: ``.venv/bin/python benchmarks/ensemble_quality.py [--budget 150] [--seeds 1 2 3] [--no-ensemble]``
Writes ``benchmarks/results/ensemble_quality.json`` (``ensemble_quality_off.json`` with
``--no-ensemble``), after every seed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_file import run_info, write_results  # noqa: E402
from sklearn_tables import write_csv  # noqa: E402


def measure(csv: Path, project: Path, budget: float, seed: int, ensemble: bool = True) -> dict:
    """One search and the test accuracies of its best trial, its greedy ensemble and its export."""
    import numpy as np
    from sklearn.metrics import accuracy_score

    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import _Session, run_search
    from automl_studio.engine.search.tuner import best_trials
    from automl_studio.engine.train.ensemble import ENSEMBLE_CANDIDATES, greedy_selection
    from automl_studio.engine.train.hypermodel import predict_arrays

    config = SearchConfig(data_path=str(csv), project_dir=str(project), target="target", seed=seed,
                          time_budget_s=budget, fresh=True, export_keras=False, tensorboard=False,
                          ensemble=ensemble)
    started = time.monotonic()
    result = run_search(config)
    wall = time.monotonic() - started
    # The search's own session (private, as export_best_from_checkpoint uses it) to reload its trials.
    session = _Session(config.replace(fresh=False), lambda _event: None)
    tuner = session.tuner()
    trials = best_trials(tuner)[:ENSEMBLE_CANDIDATES]
    prepared, rule = session.prepared, session.resolved.rule
    validation, test = [], []
    for trial in trials:
        model = tuner.load_model(trial)
        validation.append(predict_arrays(model, prepared.validation.x))
        test.append(predict_arrays(model, prepared.test.x))
    y_test = prepared.test.y

    def accuracy(probabilities: np.ndarray) -> float:
        return float(accuracy_score(y_test, probabilities.argmax(axis=1)))

    entry: dict = {"seed": seed, "trials_completed": len(best_trials(tuner)), "candidates": len(trials),
                   "objective": rule.name, "wall_s": round(wall, 1), "status": result.status,
                   "exported_accuracy": result.test_metrics.get("accuracy"), "exported_refits": result.refits,
                   "exported_ensemble": dict(result.ensemble)}
    if trials:
        entry["best_trial"] = str(trials[0].trial_id)
        entry["best_single_accuracy"] = accuracy(test[0])
    if len(trials) >= 2:
        selection = greedy_selection(validation, prepared.validation.y, rule, "classification")
        weights = np.zeros(len(trials))
        weights[list(selection.members)] = selection.weights
        ensemble = np.tensordot(weights / weights.sum(), np.stack(test), axes=1)
        entry.update({
            "selection": {"trials": [str(trials[i].trial_id) for i in selection.members],
                          "weights": list(selection.weights), "wins_on_validation": selection.wins,
                          "validation_score": selection.score, "validation_single_score": selection.single_score},
            "greedy_ensemble_accuracy": accuracy(ensemble),
            "top_k_mean_accuracy": accuracy(np.mean(np.stack(test), axis=0)),
        })
    return entry


def _exported(run: dict) -> str:
    return "ensemble" if run["exported_ensemble"] else f"{run['exported_refits']} refits"


def summary_rows(out: dict) -> list[dict]:
    """BENCHMARKS.md's row (``benchmarks/summary.py`` reads ``summary_rows``): test accuracy of
    the best single trial, of its greedy ensemble and of the exported model, per seed."""
    runs = [r for r in out["runs"] if r.get("best_single_accuracy") is not None]
    if not runs:
        return []

    def mean(key: str) -> str:
        values = [r[key] for r in runs if r.get(key) is not None]
        return f"{sum(values) / len(values):.4f}" if values else "—"

    per_seed = "; ".join(
        f"seed {r['seed']} ({r['trials_completed']} trials): single {r['best_single_accuracy']:.4f}, "
        f"greedy {r.get('greedy_ensemble_accuracy', r['best_single_accuracy']):.4f}, exported "
        f"{r['exported_accuracy']:.4f} ({_exported(r)})" for r in runs)
    mode = "--ensemble" if out.get("ensemble", True) else "--no-ensemble (the default)"
    gain = [r.get("greedy_ensemble_accuracy", r["best_single_accuracy"]) - r["best_single_accuracy"] for r in runs]
    return [{"what": f"Greedy ensemble of the best trials vs the best single trial, digits test accuracy, "
                     f"default search `--time-budget {out['budget_s']:g}`, {mode}",
             "target": "ensemble ≥ best single trial",
             "measured": f"mean single **{mean('best_single_accuracy')}**, greedy ensemble "
                         f"**{mean('greedy_ensemble_accuracy')}**, exported **{mean('exported_accuracy')}**; "
                         + per_seed,
             "status": "met" if sum(gain) >= 0 else "**not met**"}]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=150.0, help="time budget per search, seconds (default 150)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-ensemble", action="store_true", help="search with --no-ensemble (refits exported)")
    parser.add_argument("--output", help="default: results/ensemble_quality.json (_off with --no-ensemble)")
    args = parser.parse_args(argv)
    output = Path(args.output or HERE / "results" / f"ensemble_quality{'_off' if args.no_ensemble else ''}.json")
    tmp = Path(tempfile.mkdtemp(prefix="ensemble-"))
    csv, _task = write_csv("digits", tmp)
    run = run_info()
    out: dict = {"benchmark": "ensemble_quality", "dataset": "digits", "budget_s": args.budget,
                 "ensemble": not args.no_ensemble, "runs": []}
    for seed in args.seeds:
        entry = measure(csv, tmp / f"project-{seed}", args.budget, seed, ensemble=not args.no_ensemble)
        out["runs"].append(entry)
        print(f"seed {seed}: {entry['trials_completed']} trials; best single {entry.get('best_single_accuracy')}, "
              f"greedy ensemble {entry.get('greedy_ensemble_accuracy')} "
              f"({(entry.get('selection') or {}).get('trials')} x {(entry.get('selection') or {}).get('weights')}, "
              f"wins on validation: {(entry.get('selection') or {}).get('wins_on_validation')}), "
              f"exported {entry['exported_accuracy']} (refits {entry['exported_refits']}, "
              f"ensemble {bool(entry['exported_ensemble'])}); {entry['wall_s']} s", flush=True)
        out["summary_rows"] = summary_rows(out)
        write_results("ensemble_quality", out, run, output)


if __name__ == "__main__":
    main()
