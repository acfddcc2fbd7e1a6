"""How much time automl-studio adds around KerasTuner: the same trials, engine vs a bare script.

Both sides train the same network on the same rows with the same hyperparameter values:

* data: scikit-learn's breast_cancer table (569 rows, 30 numbers, classes as names), split
  and encoded once by the engine's own ``prepare_data`` (seed 1); the bare script gets those
  very arrays, so preprocessing is identical.
* network: Normalization (train mean/variance) → Dense 64 relu → Dense 64 relu → sigmoid head,
  binary cross-entropy, Adam, batch 32, accuracy and ROC AUC compiled (the engine compiles every
  objective it offers for two classes), a fixed number of epochs, no early stopping
  (``patience=0`` in the engine; no EarlyStopping in the bare script).
* tuner: ``RandomSearch``, seed 1, objective ``val_loss``, over one hyperparameter that does
  not change the amount of work: ``training.learning_rate`` (log 1e-4…1e-2), registered under
  the same name in both, so both draw the same learning rates (checked and printed).
* automl-studio runs with ``tensorboard=False`` and ``refit=False``, so the search loops
  compare like with like; its post-search steps (best model, test metrics, .h5/.keras export
  and verification) are timed separately, and one extra run with ``refit=True`` times the
  refit.

Timed: the search phase (first trial start → last trial end, measured the same way on both
sides with the tuner's own trial hooks; for the bare script also around ``tuner.search``), and
the whole wall time of each side, in wall-clock and in process CPU time. Runs alternate
A/B, B/A, ... after one untimed warm-up of each; the verdict uses the median of the per-repeat
ratios (each pair ran back to back, so it shared the machine's load of the moment).

Run: ``.venv/bin/python benchmarks/engine_overhead.py [--repeats 8] [--trials 6] [--epochs 10]``
Writes ``benchmarks/results/engine_overhead.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_file import git_state, write_results  # noqa: E402
from sklearn_tables import write_csv  # noqa: E402

SEED = 1
BATCH = 32
UNITS = 64
LR_MIN, LR_MAX = 1e-4, 1e-2


def fixed_spec(epochs: int) -> dict:
    """The engine spec: a fixed network; only the learning rate is drawn (same work per trial)."""
    dense = {"units": UNITS, "activation": "relu"}
    return {
        "schema_version": 1, "name": "overhead",
        "nodes": [
            {"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
            {"id": "dense1", "type": "Dense", "params": dict(dense)},
            {"id": "dense2", "type": "Dense", "params": dict(dense)},
            {"id": "head", "type": "Output", "params": {}},
        ],
        "edges": [["numeric", "dense1"], ["dense1", "dense2"], ["dense2", "head"]],
        "repeats": [],
        "training": {"optimizer": "adam",
                     "learning_rate": {"hp": "float", "min": LR_MIN, "max": LR_MAX, "log": True},
                     "batch_size": BATCH, "epochs": epochs, "patience": 0, "lr_schedule": "constant",
                     "l1": 0.0, "l2": 0.0},
    }


# --- automl-studio side ---------------------------------------------------------------------


def run_engine(csv: Path, workdir: Path, trials: int, epochs: int, refit: bool = False) -> dict:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    marks: dict[str, float] = {}
    lrs: list[float] = []

    def listener(event) -> None:
        now = time.monotonic()
        kind = event.type
        if kind == "trial_started":
            marks.setdefault("first_trial_started", now)
            marks.setdefault("first_trial_started_cpu", time.process_time())
            lrs.append(float(event.hyperparameters["training.learning_rate"]))
        elif kind == "trial_ended":
            marks["last_trial_ended"] = now
            marks["last_trial_ended_cpu"] = time.process_time()
        elif kind == "phase_changed":
            marks.setdefault(f"phase_{event.phase}", now)
        elif kind == "search_finished":
            marks["search_finished"] = now

    config = SearchConfig(
        data_path=str(csv), project_dir=str(workdir / "project"), target="target",
        space=fixed_spec(epochs), tuner="random", max_trials=trials, max_epochs=epochs, patience=0,
        seed=SEED, fresh=True, refit=refit, tensorboard=False,
    )
    load = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.monotonic()
    result = run_search(config, listener)
    c1, t1 = time.process_time(), time.monotonic()
    out = {
        "wall_s": t1 - t0,
        "wall_cpu_s": c1 - c0,
        "search_s": marks["last_trial_ended"] - marks["first_trial_started"],
        "search_cpu_s": marks["last_trial_ended_cpu"] - marks["first_trial_started_cpu"],
        "before_search_s": marks["first_trial_started"] - t0,
        "after_search_s": t1 - marks["last_trial_ended"],
        "status": result.status,
        "test_accuracy": result.test_metrics.get("accuracy"),
        "learning_rates": lrs,
        "load_average_1min_before": load,
    }
    if refit and "phase_refitting" in marks:
        out["refit_s"] = marks["phase_evaluating"] - marks["phase_refitting"]
    if "phase_evaluating" in marks:
        out["evaluate_export_s"] = marks["search_finished"] - marks["phase_evaluating"]
    return out


# --- bare KerasTuner side -------------------------------------------------------------------


def prepared_arrays(csv: Path):
    """The engine's own split and encoding of the table (what the engine trains on)."""
    from automl_studio.engine.data.features import prepare_data
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset

    dataset = load_dataset(csv)
    profile = profile_dataset(dataset, "target")
    return prepare_data(dataset, profile, validation_fraction=0.2, test_fraction=0.2, seed=SEED)


def run_bare(csv: Path, workdir: Path, trials: int, epochs: int) -> dict:
    import keras
    import keras_tuner as kt
    import numpy as np

    load = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.monotonic()
    # What a hand-written script does before searching: read, split, encode.
    prepared = prepared_arrays(csv)
    x_tr, y_tr = prepared.train.x["numeric"], prepared.train.y
    x_va, y_va = prepared.validation.x["numeric"], prepared.validation.y
    x_te, y_te = prepared.test.x["numeric"], prepared.test.y
    mean = x_tr.mean(axis=0)
    var = np.maximum(x_tr.astype(np.float64).var(axis=0), 1e-12)

    def build(hp: kt.HyperParameters) -> keras.Model:
        lr = hp.Float("training.learning_rate", LR_MIN, LR_MAX, sampling="log")
        inputs = keras.Input(shape=(x_tr.shape[1],), name="numeric")
        x = keras.layers.Normalization(mean=mean, variance=var)(inputs)
        x = keras.layers.Dense(UNITS, activation="relu")(x)
        x = keras.layers.Dense(UNITS, activation="relu")(x)
        outputs = keras.layers.Dense(1, activation="sigmoid")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=keras.losses.BinaryCrossentropy(),
                      # The metrics the engine compiles for two classes (every objective it offers).
                      metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")])
        return model

    marks: dict[str, float] = {}
    lrs: list[float] = []

    class TimedRandomSearch(kt.RandomSearch):
        # The same hook points the engine reports its trial events from.
        def on_trial_begin(self, trial):
            super().on_trial_begin(trial)
            marks.setdefault("first_trial_started", time.monotonic())
            marks.setdefault("first_trial_started_cpu", time.process_time())
            lrs.append(float(trial.hyperparameters.values["training.learning_rate"]))

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            marks["last_trial_ended"] = time.monotonic()
            marks["last_trial_ended_cpu"] = time.process_time()

    keras.utils.set_random_seed(SEED)
    tuner = TimedRandomSearch(build, objective=kt.Objective("val_loss", "min"), max_trials=trials,
                              seed=SEED, directory=str(workdir / "bare"), project_name="tuner",
                              overwrite=True, max_consecutive_failed_trials=5)
    s0 = time.monotonic()
    tuner.search(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=BATCH, verbose=0)
    s1 = time.monotonic()
    model = tuner.get_best_models(1)[0]
    proba = model.predict(x_te, verbose=0)[:, 0]
    accuracy = float(((proba >= 0.5).astype(int) == y_te).mean())
    model.save(workdir / "bare_best.keras")
    model.save(workdir / "bare_best.h5")
    c1, t1 = time.process_time(), time.monotonic()
    return {
        "wall_s": t1 - t0,
        "wall_cpu_s": c1 - c0,
        "search_s": marks["last_trial_ended"] - marks["first_trial_started"],
        "search_cpu_s": marks["last_trial_ended_cpu"] - marks["first_trial_started_cpu"],
        "search_call_s": s1 - s0,
        "before_search_s": marks["first_trial_started"] - t0,
        "after_search_s": t1 - marks["last_trial_ended"],
        "test_accuracy": accuracy,
        "learning_rates": lrs,
        "load_average_1min_before": load,
    }


# --- the comparison -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8, help="timed runs of each side (default 8)")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no-refit-run", action="store_true", help="skip the extra refit=True run")
    args = parser.parse_args(argv)

    import warnings

    import absl.logging
    import keras
    import keras_tuner
    import tensorflow as tf

    # Keras' legacy-.h5 and optimizer-reload notices are the same on both sides; keep the table readable.
    absl.logging.set_verbosity(absl.logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")

    tmp = Path(tempfile.mkdtemp(prefix="overhead-"))
    csv, _ = write_csv("breast_cancer", tmp)
    prepared = prepared_arrays(csv)
    print(f"breast_cancer: {len(prepared.train)} train / {len(prepared.validation)} validation / "
          f"{len(prepared.test)} test rows; {args.trials} trials × {args.epochs} epochs, batch {BATCH}, "
          f"RandomSearch seed {SEED}; engine: tensorboard=False, refit=False, patience=0", flush=True)

    def fresh_dir(tag: str) -> Path:
        path = tmp / tag
        path.mkdir()
        return path

    sides = {"automl-studio": run_engine, "bare KerasTuner": run_bare}
    print("warm-up (untimed): one trial each", flush=True)
    for name, fn in sides.items():
        fn(csv, fresh_dir(f"warm-{name.split()[0]}"), 1, 2)

    runs: dict[str, list[dict]] = {name: [] for name in sides}
    order = []
    for i in range(args.repeats):
        pair = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in pair:
            result = sides[name](csv, fresh_dir(f"run{i}-{name.split()[0]}"), args.trials, args.epochs)
            runs[name].append(result)
            order.append(name)
            print(f"  repeat {i + 1} {name:16s} search {result['search_s']:7.2f} s "
                  f"(CPU {result['search_cpu_s']:7.2f} s)   wall {result['wall_s']:7.2f} s   "
                  f"load avg before {result['load_average_1min_before']:.1f}", flush=True)

    refit_run = None
    if not args.no_refit_run:
        refit_run = run_engine(csv, fresh_dir("refit"), args.trials, args.epochs, refit=True)

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    engine, bare = "automl-studio", "bare KerasTuner"
    pairs = list(zip(runs[engine], runs[bare], strict=True))
    same_lrs = all(a["learning_rates"] == b["learning_rates"] for a, b in pairs)
    # Each repeat runs the two sides back to back, so a pair shares the machine's load of the
    # moment; the median of per-pair ratios is the steadiest figure on a shared machine.
    pair_ratios = [a["search_s"] / b["search_s"] for a, b in pairs]
    pair_cpu_ratios = [a["search_cpu_s"] / b["search_cpu_s"] for a, b in pairs]
    summary = {
        "paired_search_ratio_median": statistics.median(pair_ratios),
        "paired_search_ratios": pair_ratios,
        "paired_search_cpu_ratio_median": statistics.median(pair_cpu_ratios),
        "paired_search_cpu_ratios": pair_cpu_ratios,
        "search_ratio": med(engine, "search_s") / med(bare, "search_s"),
        "search_cpu_ratio": med(engine, "search_cpu_s") / med(bare, "search_cpu_s"),
        "wall_cpu_ratio": med(engine, "wall_cpu_s") / med(bare, "wall_cpu_s"),
        "search_ratio_vs_search_call": med(engine, "search_s") / med(bare, "search_call_s"),
        "wall_ratio": med(engine, "wall_s") / med(bare, "wall_s"),
        "target_search_ratio": 1.05,
        "same_learning_rates": same_lrs,
    }
    summary["meets_target"] = summary["paired_search_ratio_median"] <= summary["target_search_ratio"]

    rows = [
        ("search phase (first trial start → last trial end)", "search_s"),
        ("before search (load, profile, split, tuner)", "before_search_s"),
        ("after search (best model, test metrics, export)", "after_search_s"),
        ("whole wall time", "wall_s"),
        ("search phase, process CPU time", "search_cpu_s"),
        ("whole run, process CPU time", "wall_cpu_s"),
    ]
    print()
    print(f"median of {args.repeats} runs each, A/B alternated ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs)")
    print(f"{'':52s} {'automl-studio':>14s} {'bare KT':>10s} {'ratio':>7s}")
    for label, key in rows:
        a, b = med(engine, key), med(bare, key)
        print(f"{label:52s} {a:12.2f} s {b:8.2f} s {a / b:7.3f}")
    print(f"{'bare: around tuner.search()':52s} {'':14s} {med(bare, 'search_call_s'):8.2f} s "
          f"{summary['search_ratio_vs_search_call']:7.3f}")
    per_trial = med(engine, "search_s") / args.trials, med(bare, "search_s") / args.trials
    print(f"{'per trial':52s} {per_trial[0]:12.3f} s {per_trial[1]:8.3f} s")
    print("per-pair search ratios (automl-studio / bare, same repeat): "
          + " ".join(f"{r:.3f}" for r in pair_ratios))
    print("per-pair CPU-time ratios:                                  "
          + " ".join(f"{r:.3f}" for r in pair_cpu_ratios))
    print(f"search ratio, median of pairs {summary['paired_search_ratio_median']:.3f} "
          f"(ratio of medians {summary['search_ratio']:.3f}; target ≤ {summary['target_search_ratio']}): "
          f"{'MET' if summary['meets_target'] else 'NOT MET'}; CPU-time ratio, median of pairs "
          f"{summary['paired_search_cpu_ratio_median']:.3f}; same learning rates drawn: {same_lrs}")
    loads = [r["load_average_1min_before"] for side in runs.values() for r in side]
    if max(loads) > 0.5 * (os.cpu_count() or 1):
        print(f"note: other processes were busy (1-min load average {min(loads):.1f}…{max(loads):.1f} on "
              f"{os.cpu_count()} CPUs); wall times are noisy, the CPU-time ratio is the steadier one")
    print(f"test accuracy (sanity): automl-studio {runs[engine][0]['test_accuracy']:.4f}, "
          f"bare {runs[bare][0]['test_accuracy']:.4f}")
    if refit_run:
        print(f"automl-studio with refit=True (one run): refit {refit_run.get('refit_s', float('nan')):.2f} s, "
              f"evaluate+export {refit_run.get('evaluate_export_s', float('nan')):.2f} s, "
              f"wall {refit_run['wall_s']:.2f} s")
    print(f"automl-studio refit=False evaluate+export (median): {med(engine, 'evaluate_export_s'):.2f} s")

    out = {
        "benchmark": "engine_overhead",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "keras_tuner": keras_tuner.__version__},
        "git": git_state(),
        "settings": {"dataset": "breast_cancer", "trials": args.trials, "epochs": args.epochs,
                     "batch_size": BATCH, "units": UNITS, "repeats": args.repeats, "tuner": "random",
                     "seed": SEED, "engine_tensorboard": False, "engine_refit": False, "patience": 0},
        "order": order,
        "runs": runs,
        "medians": {name: {k: med(name, k) for k in runs[name][0] if isinstance(runs[name][0][k], float)}
                    for name in runs},
        "summary": summary,
        "refit_run": refit_run,
    }
    write_results("engine_overhead", out)


if __name__ == "__main__":
    main()
