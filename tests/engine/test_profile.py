"""profile_dataset: column kinds, task detection, target checks and the warnings shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from datafiles import IRIS, make_image_folder

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import (
    CATEGORICAL,
    CONSTANT,
    ID_LIKE,
    NUMERIC,
    TEXT,
    DatasetProfile,
    guess_target,
    profile_dataset,
)

N = 60


def table(columns: dict[str, Any], path: str = "data.csv") -> Dataset:
    return Dataset(path=path, kind="table", frame=pd.DataFrame(columns), fingerprint="sha256:test")


def features(seed: int = 0, n: int = N) -> dict[str, Any]:
    """Two ordinary feature columns: random floats and a three-level category."""
    rng = np.random.default_rng(seed)
    return {"num": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n)}


def labels(n: int = N, names: tuple[str, ...] = ("a", "b")) -> list[str]:
    return [names[i % len(names)] for i in range(n)]


def csv(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv", **kwargs: Any) -> Dataset:
    path = tmp_path / name
    frame.to_csv(path, index=False, **kwargs)
    return load_dataset(path)


# --- column kinds -----------------------------------------------------------------------------


def test_column_kinds(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "row_id": np.arange(1, N + 1),
        "height": rng.normal(170, 10, N).round(1),
        "rooms": rng.integers(1, 4, N),
        "colour": rng.choice(["red", "green", "blue"], N),
        "flag": rng.choice([True, False], N),
        "country": ["Norway"] * N,
        "comment": [f"a free text comment of some length, number {i}" for i in range(N)],
        "code": [f"U{i:05d}" for i in range(N)],
        "target": labels(),
    })
    profile = profile_dataset(csv(tmp_path, frame), "target")
    kinds = {c.name: c.kind for c in profile.columns}

    assert kinds == {"row_id": ID_LIKE, "height": NUMERIC, "rooms": NUMERIC, "colour": CATEGORICAL,
                     "flag": CATEGORICAL, "country": CONSTANT, "comment": TEXT, "code": ID_LIKE,
                     "target": "target"}
    used = {c.name for c in profile.feature_columns}
    assert used == {"height", "rooms", "colour", "flag", "comment"}  # free text is read as words
    assert [c.name for c in profile.columns] == list(frame.columns)  # the file's order


def test_id_column_is_excluded_with_a_reason() -> None:
    profile = profile_dataset(table({"customer": np.arange(100, 100 + N), **features(), "y": labels()}), "y")
    column = profile.column("customer")
    assert column.kind == ID_LIKE and not column.used
    assert "running number" in column.reason and "ID" in column.reason
    assert any("'customer'" in w and "excluded" in w for w in profile.warnings)


def test_shuffled_unique_integers_are_a_number_not_an_id() -> None:
    values = np.random.default_rng(2).permutation(np.arange(N) ** 2)
    profile = profile_dataset(table({"area": values, **features(), "y": labels()}), "y")
    assert profile.column("area").kind == NUMERIC and profile.column("area").used


def test_integer_flags_are_categorical() -> None:
    profile = profile_dataset(table({"smoker": np.arange(N) % 2, **features(), "y": labels()}), "y")
    assert profile.column("smoker").kind == CATEGORICAL


@pytest.mark.parametrize("levels", [3, 5, 10])
def test_few_integer_levels_are_an_ordered_number_with_a_note(levels: int) -> None:
    profile = profile_dataset(table({"grade": np.arange(N) % levels, **features(), "y": labels()}), "y")
    grade = profile.column("grade")
    assert grade.kind == NUMERIC and grade.used
    assert grade.reason == "ordered (codes? treat as categorical)" and grade.unique == levels


def test_integer_codes_are_categorical_when_the_user_says_so() -> None:
    frame = table({"mode": np.arange(N) % 4 + 1, **features(), "y": labels()})
    assert profile_dataset(frame, "y").column("mode").kind == NUMERIC
    chosen = profile_dataset(frame, "y", kinds={"mode": CATEGORICAL}).column("mode")
    assert chosen.kind == CATEGORICAL and chosen.reason == "categorical: chosen by you"


def test_many_integer_levels_are_numeric() -> None:
    profile = profile_dataset(table({"age": np.arange(N) % 40 + 18, **features(), "y": labels()}), "y")
    assert profile.column("age").kind == NUMERIC


def test_constant_and_empty_columns_are_dropped() -> None:
    profile = profile_dataset(table({"same": [7] * N, "nothing": [np.nan] * N, **features(),
                                     "y": labels()}), "y")
    assert profile.column("same").kind == CONSTANT and "single value" in profile.column("same").reason
    assert profile.column("nothing").kind == CONSTANT and "empty" in profile.column("nothing").reason
    assert not profile.column("same").used and not profile.column("nothing").used


def test_numbers_written_as_text_are_numeric() -> None:
    values = [f"{1000 + 37 * i:,}" for i in range(N)]
    values[5] = "unknown"
    profile = profile_dataset(table({"price": values, **features(), "y": labels()}), "y")
    column = profile.column("price")
    assert column.kind == NUMERIC
    assert "1 non-numeric values treated as missing" in column.reason


def test_missing_values_warning_names_column_and_share() -> None:
    num = features()["num"].copy()
    num[:15] = np.nan
    profile = profile_dataset(table({"num": num, "colour": features()["colour"], "y": labels()}), "y")
    assert profile.column("num").missing == 15
    assert "column 'num' has 15 missing values (25%); they are filled and flagged" in profile.warnings


def test_excluded_and_included_columns() -> None:
    dataset = table({"id": np.arange(N), **features(), "y": labels()})
    profile = profile_dataset(dataset, "y", exclude=("colour",), include=("id",))
    assert profile.column("colour").reason == "excluded by you" and not profile.column("colour").used
    assert profile.column("id").used and profile.column("id").kind == NUMERIC
    with pytest.raises(DataError, match=r"data\.csv: no column named 'ghost' to include or exclude"):
        profile_dataset(dataset, "y", exclude=("ghost",))


def test_no_usable_feature_is_an_error() -> None:
    with pytest.raises(DataError, match=r"data\.csv: no usable feature columns besides the target 'y'"):
        profile_dataset(table({"id": np.arange(N), "same": [1] * N, "y": labels()}), "y")


def test_unknown_target_lists_the_columns() -> None:
    with pytest.raises(DataError, match=r"data\.csv: no column named 'label'; the columns are: num, "
                                        r"colour, y"):
        profile_dataset(table({**features(), "y": labels()}), "label")


@pytest.mark.parametrize("columns, expected", [
    (["a", "b", "Label"], "Label"),
    (["species", "a", "b"], "species"),
    (["a", "b", "c"], "c"),
])
def test_guess_target(columns: list[str], expected: str) -> None:
    dataset = table({c: [1, 2] for c in columns})
    assert guess_target(dataset) == expected


# --- task and target --------------------------------------------------------------------------


@pytest.mark.parametrize("target, task", [
    (labels(), "classification"),
    ([True, False] * (N // 2), "classification"),
    (np.arange(N) % 3, "classification"),
    (np.arange(N) % 20, "classification"),
    (np.arange(N) % 21, "regression"),
    (np.linspace(0, 1, N), "regression"),
    ((np.arange(N) % 3).astype(float), "classification"),
])
def test_task_detection(target: Any, task: str) -> None:
    assert profile_dataset(table({**features(), "t": target}), "t").task == task


def test_forced_task_wins() -> None:
    dataset = table({**features(), "t": np.arange(N) % 3})
    assert profile_dataset(dataset, "t", task="regression").task == "regression"


def test_iris_profile() -> None:
    profile = profile_dataset(load_dataset(IRIS))
    assert profile.target == "species" and profile.task == "classification"
    assert profile.class_names == ("setosa", "versicolor", "virginica")
    assert profile.class_counts == (50, 50, 50)
    assert profile.rows == 150 and profile.warnings == ()
    assert [c.kind for c in profile.feature_columns] == [NUMERIC] * 4


def test_target_with_missing_values_is_dropped_and_counted() -> None:
    y: list[Any] = labels()
    for i in (0, 7, 30):
        y[i] = None
    profile = profile_dataset(table({**features(), "y": y}), "y")
    assert profile.dropped_target_rows == 3
    assert profile.rows == N - 3
    assert sum(profile.class_counts) == N - 3
    # Every dropped row is named by its line in the file (header on line 1, so index 0 is line 2).
    assert "3 rows have no 'y' value (rows 2, 9, 32) and are dropped" in profile.warnings


def test_regression_target_with_text_names_the_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    values: list[Any] = list(rng.normal(size=N).round(3))
    values[40] = "n/k"
    dataset = csv(tmp_path, pd.DataFrame({**features(), "price": values}), "prices.csv")
    # Row 42 of the file: the header is row 1 and the first data row is row 2.
    with pytest.raises(DataError, match=r"prices\.csv: the target 'price' has text \('n/k' in row 42\); "
                                        r"regression needs numbers"):
        profile_dataset(dataset, "price", task="regression")


def test_regression_target_with_text_names_the_row_without_a_header(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("".join(f"{(i * 7) % 11 + 0.5},{i * 1.5}\n" for i in range(30)) + "3.5,oops\n")
    with pytest.raises(DataError, match=r"raw\.csv: the target 'column_2' has text \('oops' in row 31\)"):
        profile_dataset(load_dataset(path), "column_2", task="regression")


def test_one_class_target_is_an_error() -> None:
    with pytest.raises(DataError, match=r"data\.csv: the target 'y' has a single class \('yes'\); a "
                                        r"classifier needs at least two"):
        profile_dataset(table({**features(), "y": ["yes"] * N}), "y")


def test_all_missing_target_is_an_error() -> None:
    with pytest.raises(DataError, match=r"data\.csv: the target column 'y' has no values \(all missing\)"):
        profile_dataset(table({**features(), "y": [np.nan] * N}), "y")


def test_feature_identical_to_target_warns_of_a_leak() -> None:
    y = labels()
    copy = ["dog" if v == "a" else "cat" for v in y]  # same partition, other names
    profile = profile_dataset(table({**features(), "answer": copy, "y": y}), "y")
    assert "column 'answer' matches the target exactly; it leaks the answer — exclude it" \
        in profile.warnings
    assert not any("'num'" in w or "'colour'" in w for w in profile.warnings)


def test_heavy_imbalance_warns() -> None:
    y = ["rare" if i < 4 else "common" for i in range(N)]
    profile = profile_dataset(table({**features(), "y": y}), "y")
    assert any(w.startswith("heavy class imbalance: 'rare' has 4 rows against 56") for w in profile.warnings)


def test_mild_imbalance_does_not_warn() -> None:
    y = ["rare" if i < 10 else "common" for i in range(N)]
    assert not any("imbalance" in w for w in profile_dataset(table({**features(), "y": y}), "y").warnings)


def test_single_row_class_warns() -> None:
    y = labels()
    y[3] = "lonely"
    profile = profile_dataset(table({**features(), "y": y}), "y")
    assert "class 'lonely' has a single row; it can appear in only one split" in profile.warnings


def test_class_names_are_kept_exactly(tmp_path: Path) -> None:
    y = [("Yes", "no", " spaced ", "YES")[i % 4] for i in range(N)]
    frame = pd.DataFrame({**features(), "answer": y})
    for dataset in (table(frame.to_dict("list")), csv(tmp_path, frame, quoting=1)):
        profile = profile_dataset(dataset, "answer")
        assert set(profile.class_names) == {"Yes", "no", " spaced ", "YES"}
        assert dict(zip(profile.class_names, profile.class_counts, strict=False)) == \
            {"Yes": 15, "no": 15, " spaced ": 15, "YES": 15}


def test_numeric_class_names_have_no_trailing_zero() -> None:
    profile = profile_dataset(table({**features(), "y": (np.arange(N) % 3).astype(float)}), "y")
    assert profile.class_names == ("0", "1", "2")


def test_profile_round_trips_through_a_dict() -> None:
    y: list[Any] = labels()
    y[0] = None
    profile = profile_dataset(table({"id": np.arange(N), **features(), "y": y}), "y")
    assert DatasetProfile.from_dict(profile.to_dict()) == profile


# --- arrays and images ------------------------------------------------------------------------


def arrays(x: np.ndarray, y: np.ndarray | None) -> Dataset:
    return Dataset(path="d.npz", kind="arrays", x=x, y=y, fingerprint="sha256:test")


@pytest.mark.parametrize("y, task", [
    (np.arange(40) % 3, "classification"),
    (np.array(["cat", "dog"] * 20), "classification"),
    (np.linspace(0, 5, 40), "regression"),
    ((np.arange(40) % 4).astype(np.float32), "classification"),
])
def test_array_task_detection(y: np.ndarray, task: str) -> None:
    profile = profile_dataset(arrays(np.zeros((40, 3)), y))
    assert profile.task == task
    assert profile.input_shape == (3,)
    assert profile.columns[0].kind == "features"


def test_array_kinds_follow_rank() -> None:
    y = np.arange(10) % 2
    assert profile_dataset(arrays(np.zeros((10, 5, 2)), y)).columns[0].kind == "sequences"
    assert profile_dataset(arrays(np.zeros((10, 4, 4, 1)), y)).columns[0].kind == "images"


def test_arrays_without_labels_or_with_one_class() -> None:
    with pytest.raises(DataError, match=r"d\.npz: no labels found"):
        profile_dataset(arrays(np.zeros((10, 2)), None))
    with pytest.raises(DataError, match=r"d\.npz: the labels hold a single class"):
        profile_dataset(arrays(np.zeros((10, 2)), np.zeros(10, dtype=int)))
    with pytest.raises(DataError, match=r"d\.npz: the labels are text; regression needs numbers"):
        profile_dataset(arrays(np.zeros((10, 2)), np.array(["a", "b"] * 5)), task="regression")


def test_image_folder_profile(tmp_path: Path) -> None:
    dataset = load_dataset(make_image_folder(tmp_path / "pets", {"cats": 6, "dogs": 5}), image_size=(8, 8))
    profile = profile_dataset(dataset)
    assert profile.task == "classification"
    assert profile.class_names == ("cats", "dogs") and profile.class_counts == (6, 5)
    assert profile.input_shape == (8, 8, 3)
    assert profile.columns[0].kind == "images"
