"""scikit-learn's bundled datasets written as CSV tables with a ``target`` column.

Shared by the benchmark scripts, with the scikit-learn baselines at their defaults for any mixed
table (:func:`baseline_models`). Classification targets are written as class names where
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


def date_columns(features) -> list[str]:
    """The text columns of ``features`` that are ISO dates in every non-empty cell (``2012-01-31``...)."""
    import pandas as pd

    found = []
    for column in features.columns:
        values = features[column].dropna()
        if values.empty or features[column].dtype.kind in "biufcM":
            continue
        parsed = pd.to_datetime(values.astype(str), format="ISO8601", errors="coerce")
        if parsed.notna().all():
            found.append(column)
    return found


def with_date_parts(features):
    """``features`` with each date column (:func:`date_columns`) replaced by numbers a model can use:
    year, month, day of the year and day of the week (``<column>_year``...)."""
    import pandas as pd

    out = features.copy()
    for column in date_columns(features):
        when = pd.to_datetime(out.pop(column).astype(str), format="ISO8601", errors="coerce")
        out[f"{column}_year"] = when.dt.year
        out[f"{column}_month"] = when.dt.month
        out[f"{column}_dayofyear"] = when.dt.dayofyear
        out[f"{column}_weekday"] = when.dt.weekday
    return out


def preprocessor(features):
    """scikit-learn's usual preparation of a mixed table, fit per model: numbers get median
    imputation and standard scaling; every other column (text categories, booleans) gets
    most-frequent imputation and one-hot encoding, a category unseen in training encoded as zeros.
    Dates must already be numbers (:func:`with_date_parts`)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in features.columns if features[c].dtype.kind in "iuf"]
    categorical = [c for c in features.columns if c not in numeric]
    steps = [("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)]
    if categorical:
        steps.append(("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                                   OneHotEncoder(handle_unknown="ignore")), categorical))
    return ColumnTransformer(steps, sparse_threshold=0)  # dense: HistGradientBoosting takes no sparse input


def baseline_models(task: str, features) -> dict:
    """The three scikit-learn baselines at their defaults, each behind :func:`preprocessor`:
    LogisticRegression (``max_iter=5000``, so that it converges) or Ridge, RandomForest and
    HistGradientBoosting (``random_state=0``). ``task`` is ``classification`` or ``regression``."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    if task == "classification":
        models = {"logistic": LogisticRegression(max_iter=5000), "random_forest": RandomForestClassifier(random_state=0),
                  "hist_gb": HistGradientBoostingClassifier(random_state=0)}
    else:
        models = {"ridge": Ridge(), "random_forest": RandomForestRegressor(random_state=0),
                  "hist_gb": HistGradientBoostingRegressor(random_state=0)}
    return {name: make_pipeline(preprocessor(features), model) for name, model in models.items()}
