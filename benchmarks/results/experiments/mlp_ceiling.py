"""How far a plain fully-connected network gets where a random forest leads (issue #16).

On heldout_corpus.py's own 80/20 splits, with no time budget: scikit-learn's MLPClassifier or
MLPRegressor (Adam, early stopping on 10 %, 30 epochs' patience, at most 1,000) behind the
baselines' own preprocessing (``sklearn_tables.preprocessor``, dates as parts), two sizes, and
the corpus's RandomForest baseline in the same run. For regression sets it also scores the
"group mean": each test row predicted by the mean target of the training rows whose features
are identical (the training mean where none is), which is what a forest can learn on a table of
repeated rows and a smooth network does not.

    .venv/bin/python benchmarks/results/experiments/mlp_ceiling.py modechoice,barley OUT.json
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestRegressor  # noqa: F401  (before statsmodels: its import order)
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import heldout_corpus as hc  # noqa: E402
from sklearn_tables import baseline_models, preprocessor, with_date_parts  # noqa: E402


def _score(task: str, y: np.ndarray, predicted: np.ndarray) -> float:
    return round(float(accuracy_score(y, predicted) if task == "classification" else r2_score(y, predicted)), 4)


def main() -> None:
    warnings.filterwarnings("ignore")
    out: dict[str, dict[str, float]] = {}
    for name in sys.argv[1].split(","):
        spec = hc.BY_NAME[name]
        frame = spec.build()
        y = frame[spec.target].to_numpy()
        x = with_date_parts(frame.drop(columns=spec.target))
        for seed in hc.SEEDS:
            train, test = hc.split(y, spec.task, seed)
            row: dict[str, float] = {}
            for hidden in [(256, 256), (512, 512, 512)]:
                kind = MLPClassifier if spec.task == "classification" else MLPRegressor
                network = kind(hidden_layer_sizes=hidden, max_iter=1000, early_stopping=True,
                               n_iter_no_change=30, random_state=seed)
                start = time.monotonic()
                model = make_pipeline(preprocessor(x), network).fit(x.iloc[train], y[train])
                row[f"mlp{hidden}"] = _score(spec.task, y[test], model.predict(x.iloc[test]))
                row[f"mlp{hidden}_s"] = round(time.monotonic() - start, 1)
            forest = baseline_models(spec.task, x)["random_forest"].fit(x.iloc[train], y[train])
            row["random_forest"] = _score(spec.task, y[test], forest.predict(x.iloc[test]))
            if spec.task == "regression":
                key = x.astype(str).agg("|".join, axis=1).to_numpy()
                means: dict[str, list[float]] = {}
                for k, value in zip(key[train], y[train], strict=True):
                    means.setdefault(k, []).append(float(value))
                fallback = float(np.mean(y[train]))
                guess = np.array([np.mean(means[k]) if k in means else fallback for k in key[test]])
                row["group_mean"] = _score(spec.task, y[test], guess)
                row["test_rows_seen"] = round(float(np.mean([k in means for k in key[test]])), 3)
            print(name, seed, row, flush=True)
            out[f"{name}/{seed}"] = row
    Path(sys.argv[2]).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
