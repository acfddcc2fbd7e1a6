"""Paired comparison of two runs of ``heldout_corpus.py``: the same sets and split seeds, two commits.

Each set and seed is one 80/20 split both runs scored; the difference of the two searches' test
scores on it is a paired difference (the baselines, fit on the same rows, should agree between
the files: a differing baseline means the splits differ, and the pair is refused). Prints per set
the scores of each run, the mean paired difference and the baseline, and writes nothing.

Run: ``.venv/bin/python benchmarks/compare_corpus.py BEFORE.json AFTER.json [--datasets a,b]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any


def runs_by_key(path: Path) -> tuple[dict[tuple[str, int], dict[str, Any]], dict[str, Any]]:
    """The file's runs by (set, seed), and its run information (commit, arguments)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    results = document["results"]
    return {(r["dataset"], r["seed"]): r for r in results["runs"]}, document.get("run", {})


def compare(before: Path, after: Path, datasets: set[str] | None = None) -> list[dict[str, Any]]:
    """Per set, the paired runs' scores and their mean difference (after − before).

    Raises:
        ValueError: a pair's baselines differ (other rows), so its scores are not comparable.
    """
    first, _ = runs_by_key(before)
    second, _ = runs_by_key(after)
    rows: dict[str, dict[str, Any]] = {}
    for key in sorted(set(first) & set(second)):
        name, seed = key
        if datasets and name not in datasets:
            continue
        a, b = first[key], second[key]
        for baseline, value in a["baselines"].items():  # seeded (random_state=0): equal on equal rows
            other = b["baselines"].get(baseline, {}).get("score")
            if other is not None and abs(other - value["score"]) > 1e-6:
                raise ValueError(f"{name} seed {seed}: the baselines differ ({baseline} {value['score']} vs "
                                 f"{other}): not the same rows")
        row = rows.setdefault(name, {"set": name, "seeds": [], "before": [], "after": [],
                                     "baseline": max(a["baselines"], key=lambda k: a["baselines"][k]["score"])})
        row["seeds"].append(seed)
        row["before"].append(a["automl"]["score"])
        row["after"].append(b["automl"]["score"])
    for row in rows.values():
        pairs = [(x, y) for x, y in zip(row["before"], row["after"], strict=True) if x is not None and y is not None]
        row["mean_difference"] = statistics.mean(y - x for x, y in pairs) if pairs else None
    return list(rows.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--datasets", help="comma-separated (default: every set both files hold)")
    args = parser.parse_args(argv)
    chosen = set(args.datasets.split(",")) if args.datasets else None
    _, run_a = runs_by_key(args.before)
    _, run_b = runs_by_key(args.after)
    print(f"before: {args.before} ({run_a.get('commit', '?')}); after: {args.after} ({run_b.get('commit', '?')})")
    for row in compare(args.before, args.after, chosen):
        scores = ", ".join(f"s{seed} {x:.3f}→{y:.3f}" for seed, x, y in zip(row["seeds"], row["before"], row["after"],
                                                                            strict=True) if x is not None and y is not None)
        difference = row["mean_difference"]
        print(f"{row['set']}: {scores}; mean difference {difference:+.4f}" if difference is not None
              else f"{row['set']}: no paired scores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
