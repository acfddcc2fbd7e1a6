"""What closes the random forest's lead on the held-out sets the search misses (issue #16)?

Three probes on heldout_corpus.py's own 80/20 splits (seeds 0, 1, 2), each beside the corpus's
RandomForest baseline, all behind ``sklearn_tables.preprocessor`` (dates as parts):

* ``knn``: scikit-learn's k-nearest neighbours (k 1, 5, 15, 40; uniform or distance weights) —
  does a memory of the training rows do what the forest does?
* ``ple``: an MLP (256×2, Adam, early stopping, mean of 3 random states) on the numbers'
  piecewise-linear encoding (Gorishniy, Rubachev & Babenko 2022) over 16 or 32 bins, the edges
  from the training quantiles (as the search's ``numeric.bins``) or from a one-feature decision
  tree fitted to the target (their "target-aware" bins) — would tree bins help the network?
* ``leaves``: the forest with at most 16, 64 or 256 leaves per tree, and HistGradientBoosting with
  ``min_samples_leaf=5`` — how large must a forest compiled into Keras layers be?

The MLP probe is skipped above PLE_MAX_ROWS training rows (randhie).

    .venv/bin/python benchmarks/results/experiments/forest_gap_probes.py modechoice,seattle_weather,barley,randhie
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor  # (before statsmodels: its import order)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import heldout_corpus as hc  # noqa: E402
from results_file import run_info, write_results  # noqa: E402
from sklearn_tables import baseline_models, preprocessor, with_date_parts  # noqa: E402

OUT = Path(__file__).with_suffix(".json")
PLE_MAX_ROWS = 5_000  # randhie's 16k rows: an MLP of 256×2 on 288 encoded columns takes minutes a fit


def _score(task: str, y: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return round(float(accuracy_score(y, predicted) if task == "classification" else r2_score(y, predicted)), 4)


def _ple(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    edges = np.unique(edges)
    lower, upper = edges[:-1], edges[1:]
    return np.clip((column[:, None] - lower) / np.maximum(upper - lower, 1e-9), 0, 1)


def _encoded(a: np.ndarray, b: np.ndarray, numeric: int, y: np.ndarray, task: str, kind: str,
             bins: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    blocks_a, blocks_b = [a[:, numeric:]], [b[:, numeric:]]  # one-hot categories as they are
    for j in range(numeric):
        if kind == "quantile":
            edges = np.quantile(a[:, j], np.linspace(0, 1, bins + 1))
        else:
            tree = (DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor)(
                max_leaf_nodes=bins, min_samples_leaf=max(1, len(a) // 200), random_state=0).fit(a[:, [j]], y)
            cuts = np.sort(tree.tree_.threshold[tree.tree_.feature >= 0])
            edges = np.concatenate([[a[:, j].min()], cuts, [a[:, j].max()]])
        blocks_a.append(_ple(a[:, j], edges))
        blocks_b.append(_ple(b[:, j], edges))
    return np.hstack(blocks_a), np.hstack(blocks_b)


def main() -> None:
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
    )
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline

    warnings.filterwarnings("ignore")
    run = run_info()
    results: dict[str, Any] = {}
    for name in sys.argv[1].split(","):
        spec = hc.BY_NAME[name]
        frame = spec.build()
        y = frame[spec.target].to_numpy()
        x = with_date_parts(frame.drop(columns=spec.target))
        cls = spec.task == "classification"
        per_seed: dict[str, list[float]] = {}
        for seed in hc.SEEDS:
            train, test = hc.split(y, spec.task, seed)
            row: dict[str, float] = {}
            row["random_forest"] = _score(spec.task, y[test], baseline_models(spec.task, x)["random_forest"].fit(
                x.iloc[train], y[train]).predict(x.iloc[test]))
            for k in (1, 5, 15, 40):
                for weights in ("uniform", "distance"):
                    knn = (KNeighborsClassifier if cls else KNeighborsRegressor)(n_neighbors=k, weights=weights)
                    model = make_pipeline(preprocessor(x), knn).fit(x.iloc[train], y[train])
                    row[f"knn_{k}_{weights}"] = _score(spec.task, y[test], model.predict(x.iloc[test]))
            pre = preprocessor(x.iloc[train]).fit(x.iloc[train])
            a, b = pre.transform(x.iloc[train]), pre.transform(x.iloc[test])
            numeric = sum(x[c].dtype.kind in "iuf" for c in x.columns)
            for kind in ("quantile", "tree") if len(train) <= PLE_MAX_ROWS else ():
                for bins in (16, 32):
                    ea, eb = _encoded(a, b, numeric, y[train], spec.task, kind, bins)
                    scores = []
                    for state in range(3):
                        mlp = (MLPClassifier if cls else MLPRegressor)(
                            hidden_layer_sizes=(256, 256), max_iter=1000, early_stopping=True, n_iter_no_change=30,
                            random_state=state).fit(ea, y[train])
                        scores.append(_score(spec.task, y[test], mlp.predict(eb)))
                    row[f"ple_{kind}_{bins}"] = round(float(np.mean(scores)), 4)
            forest_kind = RandomForestClassifier if cls else RandomForestRegressor
            for leaves in (16, 64, 256):
                model = forest_kind(max_leaf_nodes=leaves, random_state=0, n_jobs=2).fit(a, y[train])
                row[f"forest_{leaves}_leaves"] = _score(spec.task, y[test], model.predict(b))
            boosting = (HistGradientBoostingClassifier if cls else HistGradientBoostingRegressor)(
                min_samples_leaf=5, random_state=0).fit(a, y[train])
            row["hist_gb_min_leaf_5"] = _score(spec.task, y[test], boosting.predict(b))
            print(name, seed, row, flush=True)
            results[f"{name}/{seed}"] = row
            for key, value in row.items():
                per_seed.setdefault(key, []).append(value)
        results[f"{name}/mean"] = {key: round(float(np.mean(v)), 4) for key, v in per_seed.items()}
        write_results("forest_gap_probes", results, run, path=OUT)


if __name__ == "__main__":
    main()
