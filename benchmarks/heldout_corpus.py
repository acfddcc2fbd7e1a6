"""Is the default search as good as scikit-learn's defaults on data its defaults were not tuned on?

Issue #16's corpus: 16 real data sets obtainable offline on this machine (no internet at run
time: scikit-learn's, statsmodels' and vega_datasets' bundled files, and text built from files on
the machine), across kinds — small and large tables, categoricals, missing values, a date column,
skewed regression targets, imbalanced classes, text, images. :data:`CORPUS` says for each how it is
built, its task and target, its kinds, its ``--time-budget`` and whether the defaults were TUNED
ON it (scikit-learn's five bundled sets, tuned on in ``search_quality.py``; the two text sets,
tuned on in ``text_quality.py``; digits as images, the same rows as the tuned-on digits table) or
it is HELD OUT (everything else: 8 tuned-on, 8 held-out).

For each set and split seed (0, 1, 2) this script makes an 80/20 split itself, outside the app
(stratified by class for classification), and runs the default search on the 80 % exactly as a
user runs it:

    automl-studio search train.csv --target T --time-budget 150 --project DIR --fresh --export M.h5

(240 s for the two largest tables, randhie and fair; ``.npz`` files for the images), then scores
the exported model on the 20 % through ``automl-studio predict M.h5 test.csv`` (the test file
holds the features only). In the same run, on the same rows, scikit-learn at its defaults, fit on
the 80 %: LogisticRegression (Ridge for regression), RandomForest and HistGradientBoosting behind
median/most-frequent imputation, scaling and one-hot encoding (``sklearn_tables.baseline_models``;
a date column becomes year, month, day of year and weekday); for text, TF-IDF of word 1–2-grams +
LogisticRegression (``text_quality.baseline``). Scores: test accuracy (classification), test R²
(regression). A row ``predict`` could not score counts as wrong (classification) or as the
training mean (regression), and is counted.

Target (the issue's): the search's mean over the seeds within 1 accuracy point (0.02 R²) of the
best baseline's mean (the baseline with the best mean on that set).

Run (a shared machine: be nice; the full run is 16 sets × 3 seeds, about 2.5 hours on 2 cores):
``nice -n 19 .venv/bin/python benchmarks/heldout_corpus.py [--datasets cars_mpg,barley] [--seeds 0,1,2]
[--budget-scale 0.2] [--resume]``
Writes ``benchmarks/results/heldout_corpus.json`` after every search (one row per set and seed),
so a killed run keeps what finished; ``--resume`` keeps that file's rows at the same budget scale
and runs only the missing ones. ``--merge A.json B.json`` searches nothing: it writes the output
file from two or more runs of different sets or seeds (the rows of each, the first run's record
and the others' under ``run.resumed``, as a resumed run keeps them), so that a corpus measured in
parts is judged as a whole.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cli_runs import search_and_predict  # noqa: E402
from results_file import run_info, write_results  # noqa: E402
from sklearn_tables import baseline_models, load_frame, with_date_parts  # noqa: E402

SEEDS = (0, 1, 2)
TEST_FRACTION = 0.2
TARGETS = {"classification": 0.01, "regression": 0.02}  # accuracy (fraction), R²
RESULTS_NAME = "heldout_corpus"


@dataclass(frozen=True)
class CorpusSet:
    """One data set of the corpus.

    Attributes:
        name: short name, used on the command line and in the results.
        source: where the rows come from and what was done to them.
        task: ``classification`` or ``regression``.
        target: the column to predict (``y`` for the image arrays).
        kinds: what it exercises (``small table``, ``categoricals``, ``missing values``...).
        budget_s: ``--time-budget`` of its search at budget scale 1, in seconds.
        tuned_on: True where the defaults were tuned on these rows; False for a held-out set.
        build: makes the data: a DataFrame (features and target; for text, ``text`` and
            ``label``) or, for images, a dict of arrays ``x`` (n, height, width, channels) and ``y``.
        form: ``table``, ``text`` or ``images`` (how it is written and which baselines it gets).
    """

    name: str
    source: str
    task: str
    target: str
    kinds: tuple[str, ...]
    budget_s: float
    tuned_on: bool
    build: Callable[[], Any]
    form: str = "table"


def _sklearn(name: str) -> Callable[[], Any]:
    return lambda: load_frame(name)[0]


def _text(name: str) -> Callable[[], Any]:
    def build() -> Any:
        import pandas as pd
        import text_quality

        rows = text_quality.debian_rows() if name == "debian" else text_quality.docstring_rows()
        return pd.DataFrame(rows, columns=["text", "label"])
    return build


def _digits_images() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return {"x": digits.images.astype(np.float32)[..., None], "y": digits.target.astype(np.int64)}


def _cars() -> Any:
    from vega_datasets import local_data

    cars = local_data.cars()
    cars = cars[cars["Miles_per_Gallon"].notna()]  # the target: 8 cars have none
    return cars.assign(Make=cars["Name"].str.split().str[0], Year=cars["Year"].dt.year).drop(columns="Name")[
        ["Make", "Origin", "Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Year",
         "Miles_per_Gallon"]]


def _seattle_weather() -> Any:
    from vega_datasets import local_data

    frame = local_data.seattle_weather()
    return frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))


def _barley() -> Any:
    from vega_datasets import local_data

    return local_data.barley()[["variety", "site", "year", "yield"]]


def _statsmodels(name: str) -> Any:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _anes96() -> Any:
    frame = _statsmodels("anes96").drop(columns="logpopul")  # log(popul + .1): a copy of popul
    return frame.assign(vote=frame["vote"].map({0.0: "Clinton", 1.0: "Dole"}))


_OCCUPATIONS = {1: "student", 2: "farming/unskilled", 3: "white-collar", 4: "teacher/nurse/artist/technician",
                5: "managerial", 6: "professional"}


def _fair() -> Any:
    frame = _statsmodels("fair")
    return frame.assign(occupation=frame["occupation"].map(_OCCUPATIONS),
                        occupation_husb=frame["occupation_husb"].map(_OCCUPATIONS))


def _grunfeld() -> Any:
    frame = _statsmodels("grunfeld")
    return frame.assign(year=frame["year"].astype(int))[["firm", "year", "value", "capital", "invest"]]


def _modechoice() -> Any:
    frame = _statsmodels("modechoice").drop(columns="individual")  # an identifier
    return frame.assign(mode=frame["mode"].map({1: "air", 2: "train", 3: "bus", 4: "car"}),
                        choice=frame["choice"].map({0: "no", 1: "yes"}))[
        ["mode", "ttme", "invc", "invt", "gc", "hinc", "psize", "choice"]]


CORPUS: tuple[CorpusSet, ...] = (
    # Tuned on: search_quality.py and sklearn_tables.py chose the defaults on these five,
    CorpusSet("iris", "scikit-learn load_iris, class names", "classification", "target", ("small table",),
              150, True, _sklearn("iris")),
    CorpusSet("wine", "scikit-learn load_wine, class names", "classification", "target", ("small table",),
              150, True, _sklearn("wine")),
    CorpusSet("breast_cancer", "scikit-learn load_breast_cancer, class names", "classification", "target",
              ("small table", "wide"), 150, True, _sklearn("breast_cancer")),
    CorpusSet("digits", "scikit-learn load_digits, 64 pixel columns", "classification", "target",
              ("table", "wide"), 150, True, _sklearn("digits")),
    CorpusSet("diabetes", "scikit-learn load_diabetes", "regression", "target", ("small table",),
              150, True, _sklearn("diabetes")),
    # text_quality.py chose the text defaults (word pairs) on these two,
    CorpusSet("debian", "text_quality.py: Debian package descriptions (local apt lists) by Section, 5 sections",
              "classification", "label", ("text",), 150, True, _text("debian"), "text"),
    CorpusSet("docstrings", "text_quality.py: docstring summaries of 5 installed packages, by package",
              "classification", "label", ("text",), 150, True, _text("docstrings"), "text"),
    # and these are the digits again, as images.
    CorpusSet("digits_images", "scikit-learn load_digits as 8×8×1 images in an .npz (the digits rows)",
              "classification", "y", ("images",), 150, True, _digits_images, "images"),
    # Held out: nothing was tuned on these.
    CorpusSet("cars_mpg", "vega_datasets cars: miles per gallon (8 cars without one dropped); the make "
              "(first word of the name) kept as a column, the name dropped", "regression", "Miles_per_Gallon",
              ("small table", "categoricals", "missing values"), 150, False, _cars),
    CorpusSet("seattle_weather", "vega_datasets seattle-weather: the day's weather from its date, "
              "precipitation, temperatures and wind", "classification", "weather",
              ("table", "imbalanced classes", "date column"), 150, False, _seattle_weather),
    CorpusSet("barley", "vega_datasets barley: yield by variety, site and year", "regression", "yield",
              ("small table", "categoricals"), 150, False, _barley),
    CorpusSet("anes96", "statsmodels anes96: the 1996 vote (Clinton/Dole) from party, leanings, age, "
              "education, income; logpopul (a copy of popul) dropped", "classification", "vote",
              ("table", "coded categoricals"), 150, False, _anes96),
    CorpusSet("modechoice", "statsmodels modechoice: was this travel mode chosen (1 in 4 rows), the "
              "mode named, the individual's id dropped", "classification", "choice",
              ("table", "imbalanced classes", "categoricals"), 150, False, _modechoice),
    CorpusSet("grunfeld", "statsmodels grunfeld: a firm's gross investment from its value, capital, "
              "name and year", "regression", "invest", ("small table", "categoricals", "skewed target"),
              150, False, _grunfeld),
    CorpusSet("fair", "statsmodels fair: time spent in affairs (68 % zero); occupations named",
              "regression", "affairs", ("large table", "skewed target", "categoricals"), 240, False, _fair),
    CorpusSet("randhie", "statsmodels randhie: outpatient visits to a doctor (a count; median 1, max 77)",
              "regression", "mdvis", ("large table", "skewed target"), 240, False,
              lambda: _statsmodels("randhie")),
)
BY_NAME = {s.name: s for s in CORPUS}


def split(y: np.ndarray, task: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices: 80/20, stratified by class for classification, by ``seed``."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    train, test = train_test_split(rows, test_size=TEST_FRACTION, random_state=seed,
                                   stratify=y if task == "classification" else None)
    return np.sort(train), np.sort(test)


def same_label(a: Any, b: Any) -> bool:
    """Whether two class labels are the same once read back from CSV text (``3`` and ``3.0`` are)."""
    a, b = str(a).strip(), str(b).strip()
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def score(task: str, actual: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy (classification) or R² (regression) of ``predicted`` against ``actual``."""
    from sklearn.metrics import r2_score

    if task == "classification":
        return float(np.mean([same_label(a, p) for a, p in zip(actual, predicted, strict=True)]))
    return float(r2_score(actual.astype(float), predicted.astype(float)))


def baselines(spec: CorpusSet, train: Any, test: Any) -> dict[str, dict[str, float]]:
    """The scikit-learn baselines fit on ``train``, scored on ``test``: ``{name: {score, seconds}}``.

    ``train``/``test`` are DataFrames with the target (tables and text) or dicts of arrays (images).
    """
    import pandas as pd

    if spec.form == "text":
        import text_quality

        base = text_quality.baseline(train, test)
        return {"tfidf_logistic": {"score": base["accuracy"], "seconds": base["seconds"]}}
    if spec.form == "images":
        flat = [pd.DataFrame(part["x"].reshape(len(part["x"]), -1)).add_prefix("pixel_") for part in (train, test)]
        (x_fit, x_test), y_fit, y_test = flat, train["y"], test["y"]
    else:
        x_fit, x_test = (with_date_parts(part.drop(columns=spec.target)) for part in (train, test))
        y_fit, y_test = train[spec.target].to_numpy(), test[spec.target].to_numpy()
    out = {}
    for name, model in baseline_models(spec.task, x_fit).items():
        started = time.monotonic()
        model.fit(x_fit, y_fit)
        out[name] = {"score": score(spec.task, np.asarray(y_test), model.predict(x_test)),
                     "seconds": time.monotonic() - started}
    return out


def write_split(spec: CorpusSet, data: Any, seed: int, work: Path) -> tuple[Path, Path, Any, Any, np.ndarray]:
    """Writes ``train`` (features and target) and ``test`` (features only) for this seed's split.

    Returns both paths, the train and test parts as the baselines read them (a table is read back
    from the CSVs, so both sides see the same cells) and the test targets.
    """
    import pandas as pd

    y = data["y"] if spec.form == "images" else data[spec.target].to_numpy()
    train_rows, test_rows = split(y, spec.task, seed)
    if spec.form == "images":
        train = {"x": data["x"][train_rows], "y": y[train_rows]}
        test = {"x": data["x"][test_rows], "y": y[test_rows]}
        np.savez(work / "train.npz", **train)
        np.savez(work / "test.npz", x=test["x"])
        return work / "train.npz", work / "test.npz", train, test, test["y"]
    data.iloc[train_rows].to_csv(work / "train.csv", index=False)
    data.iloc[test_rows].to_csv(work / "test_with_target.csv", index=False)
    data.iloc[test_rows].drop(columns=spec.target).to_csv(work / "test.csv", index=False)
    keep = spec.form == "text"  # a text that reads "NA" is a text
    train = pd.read_csv(work / "train.csv", keep_default_na=not keep)
    test = pd.read_csv(work / "test_with_target.csv", keep_default_na=not keep)
    return work / "train.csv", work / "test.csv", train, test, test[spec.target].to_numpy()


def automl(spec: CorpusSet, train_path: Path, test_path: Path, actual: np.ndarray, train_mean: float | None,
           work: Path, budget: float, extra: list[str]) -> dict[str, Any]:
    """The default search on ``train_path``, its exported model scored on ``test_path`` by ``predict``."""
    import pandas as pd

    record, column = search_and_predict(
        train_path, ["--target", spec.target, "--time-budget", f"{budget:g}"], test_path, work, extra)
    record["score"] = None
    if column is None:
        return record
    missing = column.str.strip() == ""
    record["unscored_rows"] = int(missing.sum())
    if spec.task == "regression":
        predicted = pd.to_numeric(column, errors="coerce").fillna(train_mean).to_numpy()
    else:
        predicted = column.to_numpy()
    record["score"] = score(spec.task, actual, predicted)
    return record


def describe(spec: CorpusSet, data: Any) -> dict[str, Any]:
    """What the set is, for the results: source, task, kinds, budget, tuned-on, rows and columns."""
    info: dict[str, Any] = {"source": spec.source, "task": spec.task, "target": spec.target, "kinds": list(spec.kinds),
                            "budget_s": spec.budget_s, "tuned_on": spec.tuned_on, "form": spec.form}
    if spec.form == "images":
        info.update(rows=len(data["y"]), columns=list(data["x"].shape[1:]))
        y = data["y"]
    else:
        info.update(rows=len(data), columns=len(data.columns) - 1)
        y = data[spec.target]
        features = data.drop(columns=spec.target)
        info["missing_cells"] = int(features.isna().sum().sum())
        info["text_columns"] = [c for c in features.columns if features[c].dtype.kind not in "biufcM"]
    if spec.task == "classification":
        values, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        info["class_counts"] = dict(zip(values.tolist(), counts.tolist(), strict=True))
    else:
        target = np.asarray(y, dtype=float)
        info["target_quantiles"] = [float(q) for q in np.quantile(target, [0, 0.25, 0.5, 0.75, 1])]
        info["target_skew"] = float(((target - target.mean()) ** 3).mean() / target.std() ** 3)
    return info


def reference_seconds() -> float:
    """Seconds for a fixed single-threaded workload (Python loops and small NumPy products, as a
    trial's steps on a small table are): the same machine runs it in the same time, so runs whose
    figures differ by more than noise were on a slower or busier machine (2026-12-02: trials took
    twice as long as the day before on the same splits; see BENCHMARKS.md)."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i * i
    a = np.ones((64, 64))
    for _ in range(2_000):
        a = a @ np.eye(64) * 0.5 + 0.5
    return round(time.perf_counter() - start, 3)


def cpu_times() -> list[int] | None:
    """The machine's CPU times so far (``/proc/stat``'s first line, in ticks; ``None`` off Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def cpu_shares(before: list[int] | None, after: list[int] | None) -> dict[str, float] | None:
    """Shares of all CPUs' time between two :func:`cpu_times`: ``busy`` (user, nice, system, irq),
    ``idle`` (idle, iowait) and ``steal`` (taken by the host for other guests)."""
    if not before or not after:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8]) or 1
    return {"busy": round(sum(delta[i] for i in (0, 1, 2, 5, 6)) / total, 3),
            "idle": round((delta[3] + delta[4]) / total, 3), "steal": round(delta[7] / total, 3)}


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Per set: mean and worst of the search and of each baseline over its seeds, the best
    baseline (best mean), the gap of the means and whether it is within the target."""
    summary: dict[str, Any] = {}
    for name, info in results["datasets"].items():
        runs = [r for r in results["runs"] if r["dataset"] == name]
        if not runs:
            continue
        auto = [r["automl"]["score"] for r in runs]
        scored = [s for s in auto if s is not None]
        means = {b: statistics.mean(r["baselines"][b]["score"] for r in runs) for b in runs[0]["baselines"]}
        best = max(means, key=lambda b: means[b])
        s: dict[str, Any] = {
            "tuned_on": info["tuned_on"], "task": info["task"], "metric": "accuracy" if info["task"] ==
            "classification" else "r2", "seeds": [r["seed"] for r in runs], "failed_searches": len(auto) - len(scored),
            "baseline_means": means, "baseline_worst": {b: min(r["baselines"][b]["score"] for r in runs)
                                                         for b in means},
            "best_baseline": best, "best_baseline_mean": means[best],
            "automl_mean": None, "automl_worst": None, "gap": None, "meets_target": None,
            "trials": [r["automl"].get("trials", {}).get("completed") for r in runs]}
        if scored and len(scored) == len(auto):  # a failed search counts against it: no mean without it
            s["automl_mean"], s["automl_worst"] = statistics.mean(scored), min(scored)
            s["gap"] = s["automl_mean"] - means[best]
            s["meets_target"] = s["gap"] >= -TARGETS[info["task"]] - 1e-12
        summary[name] = s
    return summary


def is_full(results: dict[str, Any]) -> bool:
    """Whether the results are the whole corpus, every seed, at budget scale 1 (not a smoke run)."""
    done = {(r["dataset"], r["seed"]) for r in results["runs"]}
    return (results["budget_scale"] == 1 and not results["engine_args"]
            and done >= {(s.name, seed) for s in CORPUS for seed in SEEDS})


def table(results: dict[str, Any]) -> str:
    """The printed table: one line per set, tuned-on sets first."""
    header = (f"{'set':16s} {'tuned':6s} {'metric':8s} {'seeds':>5s} {'automl mean':>11s} {'worst':>7s} "
              f"{'best baseline':>15s} {'mean':>7s} {'worst':>7s} {'gap':>8s} {'target':>7s} {'trials':>8s}")
    lines = [header, "-" * len(header)]

    def fmt(x: float | None, spec: str = "7.4f") -> str:
        return "—" if x is None else format(x, spec)

    for name, s in sorted(results["summary"].items(), key=lambda kv: (not kv[1]["tuned_on"], kv[0])):
        verdict = "—" if s["meets_target"] is None else ("MET" if s["meets_target"] else "MISSED")
        trials = "/".join("—" if t is None else str(t) for t in s["trials"])
        lines.append(f"{name:16s} {'tuned' if s['tuned_on'] else 'held':6s} {s['metric']:8s} {len(s['seeds']):5d} "
                     f"{fmt(s['automl_mean']):>11s} {fmt(s['automl_worst']):>7s} {s['best_baseline']:>15s} "
                     f"{s['best_baseline_mean']:7.4f} {s['baseline_worst'][s['best_baseline']]:7.4f} "
                     f"{fmt(s['gap'], '+8.4f'):>8s} {verdict:>7s} {trials:>8s}")
    lines.append(f"target: mean within {100 * TARGETS['classification']:g} accuracy point / "
                 f"{TARGETS['regression']:g} R² of the best baseline's mean; budget scale {results['budget_scale']:g}"
                 + ("" if is_full(results) else " — NOT the full run (smoke or partial)"))
    return "\n".join(lines)


def merge(paths: list[Path], output: Path) -> None:
    """Writes ``output`` from the rows of the runs in ``paths``, judged together.

    Raises:
        SystemExit: fewer than two files, runs at different budget scales or engine flags, or a
            set and seed measured in two of them.
    """
    if len(paths) < 2:
        raise SystemExit("--merge needs two or more results files")
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    first = documents[0]["results"]
    results = {**first, "datasets": {}, "runs": []}
    run = {**documents[0]["run"], "merged_from": [str(path) for path in paths]}
    run["resumed"] = list(run.get("resumed", []))
    seen: dict[tuple[str, int], Path] = {}
    for path, document in zip(paths, documents, strict=True):
        part = document["results"]
        if (part["budget_scale"], part["engine_args"]) != (first["budget_scale"], first["engine_args"]):
            raise SystemExit(f"{path}: ran at budget scale {part['budget_scale']} with engine args "
                             f"{part['engine_args']}, {paths[0]} at {first['budget_scale']} with {first['engine_args']}")
        for row in part["runs"]:
            key = (row["dataset"], row["seed"])
            if key in seen:
                raise SystemExit(f"{path}: {key[0]} seed {key[1]} is also in {seen[key]}")
            seen[key] = path
            results["runs"].append(row)
        results["datasets"].update(part["datasets"])
        results["datasets_asked"] = list(dict.fromkeys([*results["datasets_asked"], *part["datasets_asked"]]))
        results["seeds_asked"] = sorted({*results["seeds_asked"], *part["seeds_asked"]})
        if document is not documents[0]:
            run["resumed"] += [document["run"], *document["run"].get("resumed", [])]
    results["summary"] = summarise(results)
    results["complete"] = is_full(results)
    write_results(RESULTS_NAME, results, run, output)
    print(table(results))


def _names(text: str, allowed: list[str], what: str) -> list[str]:
    names = [n for n in text.replace(" ", ",").split(",") if n]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed)})")
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(BY_NAME), help="comma-separated (default: all 16)")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated split seeds (default 0,1,2)")
    parser.add_argument("--budget-scale", type=float, default=1.0,
                        help="multiplies every set's --time-budget (default 1; a smoke run: 0.2)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the output file's rows at this budget scale; run only the missing set/seeds")
    parser.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                        help="an extra flag for 'automl-studio search' (experiments only; repeatable)")
    parser.add_argument("--merge", nargs="+", metavar="FILE",
                        help="search nothing: write --output from these runs' rows (no set and seed twice)")
    parser.add_argument("--output", default=str(HERE / "results" / f"{RESULTS_NAME}.json"))
    args = parser.parse_args(argv)
    if args.merge:
        merge([Path(p) for p in args.merge], Path(args.output))
        return
    names = _names(args.datasets, list(BY_NAME), "data set")
    seeds = [int(s) for s in _names(args.seeds, [str(s) for s in range(1000)], "seed")]

    import sklearn

    output = Path(args.output)
    run = run_info()
    results: dict[str, Any] = {
        "budget_scale": args.budget_scale, "seeds_asked": seeds, "datasets_asked": names,
        "engine_args": args.engine_arg, "test_fraction": TEST_FRACTION, "targets": TARGETS,
        "versions": {"scikit-learn": sklearn.__version__}, "niced": os.nice(0) > 0,
        "corpus": {s.name: {"tuned_on": s.tuned_on, "kinds": list(s.kinds), "budget_s": s.budget_s} for s in CORPUS},
        "datasets": {}, "runs": []}
    if args.resume and output.exists():
        previous = json.loads(output.read_text(encoding="utf-8"))
        old = previous["results"]
        if old.get("budget_scale") != args.budget_scale or old.get("engine_args") != args.engine_arg:
            raise SystemExit(f"{output}: its rows ran at budget scale {old.get('budget_scale')} with engine "
                             f"args {old.get('engine_args')}; resume with those, or write elsewhere (--output)")
        results["datasets"], results["runs"] = old["datasets"], old["runs"]
        results["datasets_asked"] = list(dict.fromkeys([*old["datasets_asked"], *names]))
        results["seeds_asked"] = sorted({*old["seeds_asked"], *seeds})
        run = previous["run"]
        run.setdefault("resumed", []).append(run_info())  # a resumed run: when, on which commit, how loaded
    done = {(r["dataset"], r["seed"]) for r in results["runs"]}
    tmp = Path(tempfile.mkdtemp(prefix="heldout-corpus-"))
    data = {}
    for name in names:
        spec = BY_NAME[name]
        data[name] = spec.build()
        results["datasets"][name] = describe(spec, data[name])
        d = results["datasets"][name]
        print(f"{name}: {d['rows']} rows, {d['columns']} columns, {spec.task}, "
              f"{'TUNED-ON' if spec.tuned_on else 'HELD-OUT'}, {', '.join(spec.kinds)}", flush=True)
    for seed in seeds:  # seed by seed, so that a partial run has every set
        for name in names:
            if (name, seed) in done:
                continue
            spec = BY_NAME[name]
            work = tmp / f"{name}-{seed}"
            work.mkdir()
            train_path, test_path, train, test, actual = write_split(spec, data[name], seed, work)
            base = baselines(spec, train, test)
            budget = spec.budget_s * args.budget_scale
            load = os.getloadavg()[0]
            reference = reference_seconds()
            before = cpu_times()
            best = max(base, key=lambda b: base[b]["score"])
            print(f"{name} seed {seed}: best baseline {best} {base[best]['score']:.4f}; searching {budget:g} s "
                  f"(1-min load {load:.1f})...", flush=True)
            train_mean = float(np.mean(train[spec.target])) if spec.task == "regression" else None
            engine = automl(spec, train_path, test_path, actual, train_mean, work, budget, args.engine_arg)
            during = cpu_shares(before, cpu_times())
            print(f"  automl-studio {engine['score']}; {engine['trials'].get('completed')} trials, "
                  f"{engine['wall_s']:.0f} s" + (f"\n  FAILED: {engine['stderr_tail'][-300:]}"
                                                  if "stderr_tail" in engine else ""), flush=True)
            results["runs"].append({"dataset": name, "seed": seed,
                                    "train": len(train["y"]) if spec.form == "images" else len(train),
                                    "test": len(actual), "budget_s": budget, "load_average_1min_before": load,
                                    "reference_s": reference, "cpu_during_search": during,
                                    "baselines": base, "automl": engine})
            results["summary"] = summarise(results)
            results["complete"] = is_full(results)
            write_results(RESULTS_NAME, results, run, output)
    results["summary"] = summarise(results)
    results["complete"] = is_full(results)
    write_results(RESULTS_NAME, results, run, output)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
