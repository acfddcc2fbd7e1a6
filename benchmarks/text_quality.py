"""Does the default search on a text column classify as well as TF-IDF + logistic regression?

Two real, human-written text classification sets, built offline on this machine (no internet at
run time), each written as a CSV with a ``text`` and a ``label`` column:

* ``debian``: the one-line descriptions of Debian packages (``apt-cache dumpavail``, from the apt
  lists already on the machine) labelled by the package's Section, for five frequent sections of
  prose descriptions (games, graphics, net, science, sound); descriptions shared by several
  packages are kept once, and at most :data:`PER_CLASS` per section (a seeded sample).
* ``docstrings``: the summary paragraph (the text before the first "Parameters"/"Returns"/...
  heading) of public functions' and classes' docstrings in five installed Python packages (numpy,
  scipy, pandas, scikit-learn, matplotlib), read with ``ast`` (nothing is imported), labelled by
  the package; tests are left out, a text found in two packages is dropped, at most
  :data:`PER_CLASS` per package.

For each set and each split seed (0, 1, 2), an 80/20 stratified split is made here, outside the
app. The default search runs on the 80 % exactly as a user runs it:

    automl-studio search train.csv --target label --time-budget 300 --project DIR --fresh --export M.h5

and its exported model scores the 20 % through ``automl-studio predict M.h5 test.csv`` (the test
file holds the text only). In the same run, on the same split: scikit-learn's
``TfidfVectorizer(ngram_range=(1, 2))`` + ``LogisticRegression(max_iter=2000)``, fit on the 80 %.
Target: mean accuracy no worse than the baseline's by more than 1 point.

Run (a shared machine: be nice):
``nice -n 19 .venv/bin/python benchmarks/text_quality.py [--budget 300] [--seeds 0 1 2] [--datasets debian docstrings]``
Writes ``benchmarks/results/text_quality.json`` after every search, so a partial run keeps its figures.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cli_runs import search_and_predict  # noqa: E402
from results_file import run_info, write_results  # noqa: E402

DATASETS = ("debian", "docstrings")
DEBIAN_SECTIONS = ("games", "graphics", "net", "science", "sound")
PACKAGES = ("numpy", "scipy", "pandas", "sklearn", "matplotlib")
PER_CLASS = 800
TARGET_POINTS = 1.0
_SECTION_HEADING = re.compile(
    r"^\s*(Parameters|Returns|Yields|Raises|Attributes|Examples?|Notes|See Also|References|Args|"
    r"Arguments|Other Parameters|Methods|Warns|Warnings)\s*:?\s*$", re.MULTILINE)


def _sample(rows: dict[str, list[str]], seed: int = 0) -> list[tuple[str, str]]:
    """At most PER_CLASS texts per label (a seeded sample, so the set is the same every run)."""
    rng = random.Random(seed)
    out = []
    for label, texts in sorted(rows.items()):
        texts = sorted(set(texts))
        rng.shuffle(texts)
        out.extend((text, label) for text in texts[:PER_CLASS])
    return out


def _drop_shared(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    """Leaves out every text found under two labels (it could not be classified)."""
    seen: dict[str, set[str]] = {}
    for label, texts in rows.items():
        for text in texts:
            seen.setdefault(text, set()).add(label)
    return {label: [t for t in texts if len(seen[t]) == 1] for label, texts in rows.items()}


def debian_rows() -> list[tuple[str, str]]:
    """(description, section) of the Debian packages in the local apt lists."""
    dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    rows: dict[str, list[str]] = {s: [] for s in DEBIAN_SECTIONS}
    for stanza in dump.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        section = fields.get("Section", "").split("/")[-1]
        description = fields.get("Description", "").strip()
        if section in rows and len(description.split()) >= 2:
            rows[section].append(description)
    return _sample(_drop_shared(rows))


def _summary(doc: str) -> str:
    """The docstring's text before its first section heading, on one line."""
    head = _SECTION_HEADING.split(doc, maxsplit=1)[0]
    head = head.split("\n\n.. ")[0]  # a directive (deprecated, versionadded) ends the prose
    return " ".join(head.split())


def docstring_rows() -> list[tuple[str, str]]:
    """(docstring summary, package) for the public functions and classes of PACKAGES."""
    import importlib.util

    rows: dict[str, list[str]] = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"{package} is not installed: the docstrings set needs it")
        root = Path(list(spec.submodule_search_locations)[0])
        texts = []
        for path in sorted(root.rglob("*.py")):
            if any(part in {"tests", "testing", "_vendored", "externals"} for part in path.parts):
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                        and not node.name.startswith("_"):
                    doc = ast.get_docstring(node)
                    text = _summary(doc) if doc else ""
                    if len(text.split()) >= 4:
                        texts.append(text)
        rows[package] = texts
    return _sample(_drop_shared(rows))


def write_set(name: str, folder: Path) -> Path:
    import pandas as pd

    rows = debian_rows() if name == "debian" else docstring_rows()
    path = folder / f"{name}.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


def baseline(train: Any, test: Any) -> dict[str, Any]:
    """TF-IDF of word 1–2-grams + logistic regression, fit on ``train``, accuracy on ``test``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.pipeline import make_pipeline

    started = time.monotonic()
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=2000))
    model.fit(train["text"], train["label"])
    accuracy = accuracy_score(test["label"], model.predict(test["text"]))
    return {"accuracy": float(accuracy), "seconds": time.monotonic() - started}


def automl(train_csv: Path, test_csv: Path, labels: list[str], work: Path, budget: float,
           extra: list[str]) -> dict[str, Any]:
    """The default search on ``train_csv``, its exported model scored on ``test_csv`` by ``predict``."""
    from sklearn.metrics import accuracy_score

    out, predicted = search_and_predict(train_csv, ["--target", "label", "--time-budget", f"{budget:g}"],
                                        test_csv, work, extra)
    out["accuracy"] = None
    if predicted is None:
        return out
    out["accuracy"] = float(accuracy_score(labels, predicted))
    return out


def summarise(datasets: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Mean and worst accuracy of both models per set, and the summary table's row."""
    summary, measured, missed = {}, [], []
    for name, d in datasets.items():
        runs = [r for r in d["runs"] if r["automl"]["accuracy"] is not None]
        if not runs:
            continue
        auto = [r["automl"]["accuracy"] for r in runs]
        base = [r["baseline"]["accuracy"] for r in runs]
        gap = 100 * (statistics.mean(auto) - statistics.mean(base))
        s = {"seeds": [r["seed"] for r in runs], "automl_mean": statistics.mean(auto), "automl_worst": min(auto),
             "baseline_mean": statistics.mean(base), "baseline_worst": min(base), "gap_points": gap,
             "meets_target": gap >= -TARGET_POINTS}
        summary[name] = s
        measured.append(f"{name} ({d['rows']} rows, {d['classes']} classes, {len(runs)} seeds): "
                        f"automl **{100 * s['automl_mean']:.1f}** % mean / {100 * s['automl_worst']:.1f} worst, "
                        f"TF-IDF+LR {100 * s['baseline_mean']:.1f} / {100 * s['baseline_worst']:.1f}, "
                        f"gap **{gap:+.1f}** points")
        if not s["meets_target"]:
            missed.append(name)
    if not summary:
        return summary, []
    status = f"**not met**: {', '.join(missed)}" if missed else f"met on {len(summary)}"
    row = {"what": "Text classification, default search `--time-budget 300` vs TF-IDF (1–2-grams) + "
                   "LogisticRegression, same 80/20 splits",
           "target": f"mean accuracy ≤ {TARGET_POINTS:g} point behind", "measured": "; ".join(measured),
           "status": status}
    return summary, [row]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="--time-budget per search (default 300)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="split seeds (default 0 1 2)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                        help="an extra flag for 'automl-studio search' (experiments only; repeatable)")
    parser.add_argument("--output", default=str(HERE / "results" / "text_quality.json"))
    args = parser.parse_args(argv)

    import pandas as pd
    import sklearn
    from sklearn.model_selection import train_test_split

    run = run_info()
    tmp = Path(tempfile.mkdtemp(prefix="text-quality-"))
    out: dict[str, Any] = {"budget_s": args.budget, "engine_args": args.engine_arg, "per_class": PER_CLASS,
                           "target_points": TARGET_POINTS, "versions": {"scikit-learn": sklearn.__version__},
                           "niced": os.nice(0) > 0, "datasets": {}}
    frames = {}
    for name in args.datasets:
        frames[name] = pd.read_csv(write_set(name, tmp), keep_default_na=False)
        frame = frames[name]
        out["datasets"][name] = {"rows": len(frame), "classes": frame["label"].nunique(),
                                 "class_counts": frame["label"].value_counts().to_dict(),
                                 "median_words": float(frame["text"].str.split().str.len().median()),
                                 "runs": []}
        print(f"{name}: {len(frame)} rows, {frame['label'].nunique()} classes, median "
              f"{out['datasets'][name]['median_words']:g} words", flush=True)
    for seed in args.seeds:  # seed by seed, so a partial run has every set
        for name, frame in frames.items():
            train, test = train_test_split(frame, test_size=0.2, stratify=frame["label"], random_state=seed)
            work = tmp / f"{name}-{seed}"
            work.mkdir()
            train.to_csv(work / "train.csv", index=False)
            test[["text"]].to_csv(work / "test.csv", index=False)
            base = baseline(train, test)
            load = os.getloadavg()[0]
            print(f"{name} seed {seed}: TF-IDF+LR {base['accuracy']:.4f}; searching {args.budget:g} s "
                  f"(1-min load {load:.1f})...", flush=True)
            engine = automl(work / "train.csv", work / "test.csv", test["label"].astype(str).tolist(), work,
                            args.budget, args.engine_arg)
            print(f"  automl-studio {engine['accuracy']}; {engine['trials'].get('completed')} trials, "
                  f"{engine['wall_s']:.0f} s", flush=True)
            out["datasets"][name]["runs"].append({"seed": seed, "train": len(train), "test": len(test),
                                                  "load_average_1min_before": load, "baseline": base,
                                                  "automl": engine})
            out["summary"], out["summary_rows"] = summarise(out["datasets"])
            write_results("text_quality", out, run, Path(args.output))
    for name, s in out.get("summary", {}).items():
        print(f"{name}: automl mean {s['automl_mean']:.4f} worst {s['automl_worst']:.4f}; baseline mean "
              f"{s['baseline_mean']:.4f} worst {s['baseline_worst']:.4f}; gap {s['gap_points']:+.2f} points "
              f"({'MET' if s['meets_target'] else 'MISSED'})")


if __name__ == "__main__":
    main()
