"""Likely leaks (a column that alone predicts the target) and targets that cannot be trained on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.leakage import find_leaks
from automl_studio.engine.data.profile import choose_target, profile_dataset

N = 400


def table(columns: dict[str, object], path: str = "data.csv") -> Dataset:
    return Dataset(path=path, kind="table", frame=pd.DataFrame(columns), fingerprint="test")


def honest_columns(rng: np.random.Generator) -> dict[str, object]:
    return {"age": rng.normal(40, 10, N).round(1), "city": rng.choice(["north", "south", "east"], N),
            "visits": rng.integers(0, 30, N)}


def leaky_classification(rng: np.random.Generator) -> pd.DataFrame:
    churned = rng.choice(["yes", "no"], N)
    # Recorded after the fact: the answer plus a little noise.
    refund = np.where(churned == "yes", 100.0, 0.0) + rng.normal(0, 5, N)
    return pd.DataFrame({**honest_columns(rng), "refund": refund.round(2), "churned": churned})


def test_a_column_that_is_the_target_plus_noise_is_flagged_with_its_score() -> None:
    rng = np.random.default_rng(3)
    frame = leaky_classification(rng)
    leaks = find_leaks(frame, "churned", "classification",
                       [("age", False), ("city", True), ("visits", False), ("refund", False)])
    assert [leak.column for leak in leaks] == ["refund"]
    assert leaks[0].score >= 0.99 and leaks[0].metric == "accuracy"

    profile = profile_dataset(table(dict(frame)), "churned")
    assert profile.leaks == ("refund",)
    warning = next(w for w in profile.warnings if "likely leak" in w)
    assert "column 'refund'" in warning and "one-column validation accuracy 1.000" in warning


def test_a_regression_leak_is_flagged_and_honest_columns_are_not() -> None:
    rng = np.random.default_rng(4)
    honest = honest_columns(rng)
    price = 1000 + 20 * np.asarray(honest["age"]) + rng.normal(0, 150, N)
    frame = {**honest, "price_with_tax": price * 1.2 + rng.normal(0, 1, N), "price": price}
    profile = profile_dataset(table(frame), "price")
    assert profile.task == "regression"
    assert profile.leaks == ("price_with_tax",)
    assert any("column 'price_with_tax'" in w and "R²" in w for w in profile.warnings)


def test_a_normal_table_has_no_leak() -> None:
    rng = np.random.default_rng(5)
    honest = honest_columns(rng)
    label = np.where(np.asarray(honest["age"]) + rng.normal(0, 8, N) > 40, "high", "low")
    profile = profile_dataset(table({**honest, "label": label}), "label")
    assert profile.leaks == ()
    assert not any("leak" in w for w in profile.warnings)


def test_too_many_columns_are_not_checked() -> None:
    rng = np.random.default_rng(6)
    y = rng.choice(["a", "b"], N)
    frame = pd.DataFrame({f"c{i}": (y == "a").astype(float) + rng.normal(0, 0.01, N) for i in range(201)})
    columns = [(name, False) for name in frame.columns]
    frame["y"] = y
    assert find_leaks(frame, "y", "classification", columns) == []
    assert find_leaks(frame, "y", "classification", columns[:3]) != []


def test_an_unusable_target_stays_chosen_with_the_reason() -> None:
    rng = np.random.default_rng(7)
    frame = {**honest_columns(rng), "label": ["same"] * N}
    with pytest.raises(DataError, match="single class"):
        profile_dataset(table(frame), "label")
    profile = profile_dataset(table(frame), "label", keep_going=True)
    assert profile.target == "label"
    assert "the target 'label' has a single class" in profile.problem
    assert "single class" in profile.column("label").reason


def test_a_text_id_target_is_called_an_identifier() -> None:
    rng = np.random.default_rng(8)
    frame = {"customer": [f"C-{i:05d}" for i in range(N)], **honest_columns(rng)}
    profile = profile_dataset(table(frame), "customer", keep_going=True)
    assert "looks like an identifier" in profile.problem and "choose another target" in profile.problem
    assert "regression" not in profile.problem


@pytest.mark.parametrize("columns, expected", [
    ({"a": [1.5, 2.5] * 20, "label": ["x", "y"] * 20, "z": [1.0, 3.0] * 20}, ("label", "named 'label'")),
    ({"a": [1.5, 2.5] * 20, "b": ["x", "y"] * 20}, ("b", "last column")),
    # A constant last column and an ID named "y" are not plausible targets.
    ({"a": [1.5, 2.5] * 20, "b": ["x", "y"] * 20, "y": [f"id{i}" for i in range(40)], "c": [1] * 40},
     ("b", "last usable column")),
    # The diamonds table's layout: x, y, z are lengths in mm; its price is the target.
    ({"carat": [0.3, 0.5] * 20, "price": [326.0, 950.0] * 20, "x": [4.0, 5.1] * 20,
      "y": [4.1, 5.0] * 20, "z": [2.4, 3.1] * 20}, ("price", "named 'price'")),
    ({"width_mm": [3.0, 4.0] * 20, "y": [1.0, 2.0] * 20, "price": [9.0, 12.0] * 20},
     ("price", "named 'price'")),
    ({"a": [1.5, 2.5] * 20, "y": [0, 1] * 20, "b": [2.0, 1.0] * 20}, ("y", "named 'y'")),
])
def test_the_target_is_chosen_only_when_plausible_and_says_why(
        columns: dict[str, list[object]], expected: tuple[str, str]) -> None:
    dataset = table(columns)
    assert choose_target(dataset) == expected
    assert profile_dataset(dataset).target_reason == expected[1]


def test_missing_values_in_several_columns_are_one_warning() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame(honest_columns(rng))
    for name in ("age", "visits", "city"):
        frame.loc[frame.index[:20], name] = None
    frame["label"] = rng.choice(["a", "b"], N)
    profile = profile_dataset(table(dict(frame)), "label")
    grouped = [w for w in profile.warnings if "missing values" in w]
    assert grouped == ["3 columns have missing values: 'age' (5%), 'city' (5%), 'visits' (5%); "
                       "they are filled and flagged"]


def test_the_command_line_names_a_leak_before_the_first_trial(tmp_path: Path) -> None:
    frame = leaky_classification(np.random.default_rng(10))
    data = tmp_path / "churn.csv"
    frame.to_csv(data, index=False)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-m", "automl_studio.engine.cli", "search", str(data), "--target", "churned",
         "--max-trials", "1", "--max-epochs", "1", "--tuner", "random", "--no-refit", "--project", "proj"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if "likely leak" in line]
    assert len(lines) == 1 and lines[0].startswith("automl-studio: warning: column 'refund'")


def test_a_kind_chosen_by_the_user_reaches_the_features_and_the_config(tmp_path: Path) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.data.features import FeatureSchema

    rng = np.random.default_rng(11)
    frame = pd.DataFrame({**honest_columns(rng), "label": rng.choice(["a", "b"], N)})
    profile = profile_dataset(table(dict(frame)), "label", kinds={"visits": "categorical", "city": "numeric"})
    assert profile.column("visits").kind == "categorical"
    assert profile.column("visits").reason == "categorical: chosen by you"
    assert profile.column("city").kind == "numeric"
    schema = FeatureSchema.fit(frame, profile)
    assert "visits" in [f.name for f in schema.categorical]
    assert "city" in [f.name for f in schema.numeric]
    config = SearchConfig(data_path="d.csv", project_dir="p", column_kinds={"visits": "categorical"})
    assert SearchConfig.from_dict(config.to_dict()).column_kinds == {"visits": "categorical"}
    with pytest.raises(Exception, match="unknown kind"):
        SearchConfig(data_path="d.csv", project_dir="p", column_kinds={"visits": "image"})
