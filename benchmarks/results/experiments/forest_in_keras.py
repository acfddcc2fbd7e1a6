"""Can a random forest live inside the exported Keras model, and would averaging it with the
search's network close the held-out gaps of issue #16? A measurement, not engine code.

The forest is compiled by the engine's ``train.forest.forest_model`` (standard Keras layers: one
unit per split, one per leaf, the leaves' values; Sethi 1990, Welbl 2014, Biau, Scornet & Welbl
2019), saved as legacy HDF5 and reloaded with plain ``keras.models.load_model`` in a fresh process.

For each set and split seed of ``heldout_corpus.py`` (its own rows and split), this fits a
RandomForest (100 trees, ``max_leaf_nodes`` LEAVES) on ``sklearn_tables.preprocessor``'s features,
compiles it, checks the compiled model against ``predict_proba``/``predict`` on the test rows
(largest difference, and after the .h5 round trip), and scores: the forest, the search's exported
network (``model.h5`` of a corpus run, if ``--runs`` names its folder) and the two averaged 1:1
(class probabilities, or values) — a fixed weight, not chosen on the test rows.

    .venv/bin/python benchmarks/results/experiments/forest_in_keras.py modechoice,barley \
        --leaves 64 --runs /tmp/heldout-corpus-XXXX [--seeds 0] [--output OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, r2_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import heldout_corpus as hc  # noqa: E402
from results_file import write_results  # noqa: E402
from sklearn_tables import preprocessor, with_date_parts  # noqa: E402


def compile_forest(forest: Any, features: np.ndarray, n_classes: int) -> Any:
    """The engine's compiled forest (:func:`automl_studio.engine.train.forest.forest_model`) on one
    ``numeric`` input holding the preprocessed features."""
    from automl_studio.engine.data.signature import DataSignature
    from automl_studio.engine.train.forest import forest_model

    signature = DataSignature(task="classification" if n_classes else "regression", n_classes=n_classes,
                              inputs={"numeric": (features.shape[1],)})
    return forest_model(forest, signature, features, n_classes)


def _all_classes(forest: Any, x: np.ndarray, classes: int) -> np.ndarray:
    full = np.zeros((len(x), classes))
    full[:, forest.classes_] = forest.predict_proba(x)
    return full


RELOAD = """
import sys, numpy as np, keras
m = keras.models.load_model(sys.argv[1], compile=False)
np.save(sys.argv[3], m.predict({"numeric": np.load(sys.argv[2])}, verbose=0))
"""


def _network(run_dir: Path, task: str) -> np.ndarray | None:
    """The corpus run's exported network on its test.csv: class probabilities or values."""
    from automl_studio.engine.export.predict import load_model, predict_data

    if not (run_dir / "model.h5").exists():
        return None
    model, metadata = load_model(run_dir / "model.h5")
    p = predict_data(model, metadata, run_dir / "test.csv")
    if task == "classification":
        return np.asarray(p.proba, dtype=np.float64), list(p.class_names)
    return np.asarray(p.labels, dtype=np.float64), None


def main() -> None:
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets")
    ap.add_argument("--leaves", type=int, default=64)
    ap.add_argument("--runs", type=Path)
    ap.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".json"))
    ap.add_argument("--seeds", default=",".join(map(str, hc.SEEDS)))
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for name in args.datasets.split(","):
        spec = hc.BY_NAME[name]
        frame = spec.build()
        y = frame[spec.target].to_numpy()
        x = with_date_parts(frame.drop(columns=spec.target))
        for seed in map(int, args.seeds.split(",")):
            train, test = hc.split(y, spec.task, seed)
            pre = preprocessor(x.iloc[train]).fit(x.iloc[train])
            a = pre.transform(x.iloc[train]).astype(np.float32)
            b = pre.transform(x.iloc[test]).astype(np.float32)
            cls = spec.task == "classification"
            kind = RandomForestClassifier if cls else RandomForestRegressor
            labels, codes = np.unique(y, return_inverse=True) if cls else (None, y)
            forest = kind(max_leaf_nodes=args.leaves, random_state=0, n_jobs=2).fit(a, codes[train])
            start = time.monotonic()
            classes = len(labels) if cls else 0
            model = compile_forest(forest, a, classes)
            compiled = model.predict({"numeric": b}, verbose=0, batch_size=4096)
            row: dict[str, Any] = {"dataset": name, "seed": seed, "leaves": args.leaves,
                                   "compile_s": round(time.monotonic() - start, 1),
                                   "weights": int(model.count_params()), "layers": len(model.layers)}
            expected = _all_classes(forest, b, classes) if cls else forest.predict(b)[:, None]
            row["max_abs_diff"] = float(np.abs(compiled - expected).max())
            train_expected = _all_classes(forest, a, classes) if cls else forest.predict(a)[:, None]
            row["train_max_abs_diff"] = float(np.abs(model.predict({"numeric": a}, verbose=0, batch_size=4096)
                                                     - train_expected).max())
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "forest.h5"
                model.save(path)
                row["h5_mb"] = round(path.stat().st_size / 1e6, 2)
                np.save(Path(tmp) / "x.npy", b)
                subprocess.run([sys.executable, "-c", RELOAD, str(path), str(Path(tmp) / "x.npy"),
                                str(Path(tmp) / "y.npy")], check=True, capture_output=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
                row["reloaded_max_abs_diff"] = float(np.abs(np.load(Path(tmp) / "y.npy") - expected).max())
            actual = y[test]
            if cls:
                row["forest"] = accuracy_score(actual, labels[compiled.argmax(axis=1)])
            else:
                row["forest"] = r2_score(actual, compiled[:, 0])
            net = _network(args.runs / f"{name}-{seed}", spec.task) if args.runs else None
            if net is not None:
                values, names = net
                if cls:
                    order = [names.index(str(c)) for c in labels]
                    values = values[:, order]
                    row["network"] = accuracy_score(actual, labels[values.argmax(axis=1)])
                    row["average"] = accuracy_score(actual, labels[(values + compiled).argmax(axis=1)])
                else:
                    row["network"] = r2_score(actual, values)
                    row["average"] = r2_score(actual, (values + compiled[:, 0]) / 2)
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_results("forest_in_keras", {"rows": rows, "runs": str(args.runs or "")}, path=args.output)


if __name__ == "__main__":
    main()
