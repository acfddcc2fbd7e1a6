"""scikit-learn's bundled datasets written as CSV tables with a ``target`` column.

Shared by the benchmark scripts. Classification targets are written as class names where
scikit-learn provides them (``malignant``/``benign``, ``setosa``...); digits keep their digits.
(Results files and their git state: ``results_file.py``.)
"""

from __future__ import annotations

from pathlib import Path

CLASSIFICATION = ("breast_cancer", "wine", "iris", "digits")
REGRESSION = ("diabetes",)


def load_frame(name: str):
    """The dataset as a DataFrame: feature columns, then ``target``; and its task."""
    import numpy as np
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    if "target" not in frame.columns:  # as_frame names the target column after the data set
        frame = frame.rename(columns={frame.columns[-1]: "target"})
    task = "regression" if name in REGRESSION else "classification"
    if task == "classification":
        names = np.asarray(bunch.target_names)
        if names.dtype.kind in "US":  # string class names: use them as the labels
            frame["target"] = names[frame["target"].to_numpy()]
    return frame, task


def write_csv(name: str, folder: str | Path) -> tuple[Path, str]:
    """Writes ``<folder>/<name>.csv``; returns its path and task."""
    frame, task = load_frame(name)
    path = Path(folder) / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path, task
