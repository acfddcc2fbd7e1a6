"""FeatureSchema, stratified_split and prepare_data: what the model is fed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from datafiles import IRIS, make_image_folder

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.features import FeatureSchema, prepare_data, stratified_split
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset

N = 40


def mixed_table() -> Dataset:
    rng = np.random.default_rng(0)
    height = rng.normal(170, 10, N).round(2)
    height[[1, 5]] = np.nan
    weight = rng.normal(70, 5, N).round(2)
    colour: list[Any] = list(rng.choice(["red", "green", "blue"], N))
    colour[2] = None
    frame = pd.DataFrame({
        "height": height, "weight": weight, "colour": colour,
        "size": rng.choice(["S", "M", "L", "XL"], N), "y": ["a", "b"] * (N // 2),
    })
    return Dataset(path="mixed.csv", kind="table", frame=frame, fingerprint="sha256:test")


def fitted() -> tuple[Dataset, FeatureSchema]:
    dataset = mixed_table()
    return dataset, FeatureSchema.fit(dataset.frame, profile_dataset(dataset, "y"))


# --- FeatureSchema ----------------------------------------------------------------------------


def test_numerics_are_imputed_with_the_median_and_flagged() -> None:
    dataset, schema = fitted()
    height = dataset.frame["height"]
    by_name = {f.name: f for f in schema.numeric}

    assert by_name["height"].fill == pytest.approx(float(np.nanmedian(height)))
    assert by_name["height"].flag is True
    assert by_name["weight"].flag is False
    assert schema.numeric_width == 3  # height, its missing flag, weight

    out = schema.transform(dataset.frame)["numeric"]
    assert out.dtype == np.float32 and out.shape == (N, 3)
    assert out[1, 0] == pytest.approx(by_name["height"].fill) and out[1, 1] == 1.0
    assert out[0, 0] == pytest.approx(height[0]) and out[0, 1] == 0.0
    assert out[:, 1].sum() == 2
    np.testing.assert_allclose(out[:, 2], dataset.frame["weight"], rtol=1e-6)


def test_categories_use_zero_for_missing_or_unseen_and_disjoint_offsets() -> None:
    _, schema = fitted()
    colour, size = schema.categorical
    assert colour.vocabulary == ("blue", "green", "red") and colour.offset == 0
    assert size.vocabulary == ("L", "M", "S", "XL") and size.offset == 4
    assert schema.tokens == 4 + 5

    new = pd.DataFrame({"height": [1.0] * 5, "weight": [1.0] * 5,
                        "colour": ["red", None, "purple", "blue", np.nan],
                        "size": ["S", "XL", None, "XXL", "L"]})
    codes = schema.transform(new)["categorical"]

    assert codes.dtype == np.int32
    assert codes[:, 0].tolist() == [3, 0, 0, 1, 0]
    assert codes[:, 1].tolist() == [4 + 3, 4 + 4, 4 + 0, 4 + 0, 4 + 1]
    ranges = [set(range(c.offset, c.offset + len(c.vocabulary) + 1)) for c in schema.categorical]
    assert not ranges[0] & ranges[1]
    assert codes.max() < schema.tokens


def test_numbers_in_a_categorical_column_match_their_text() -> None:
    frame = pd.DataFrame({"grade": [1.0, 2.0, 3.0, np.nan] * 10, "num": np.linspace(0, 1, 40),
                          "y": ["a", "b"] * 20})
    dataset = Dataset(path="g.csv", kind="table", frame=frame, fingerprint="")
    schema = FeatureSchema.fit(frame, profile_dataset(dataset, "y", kinds={"grade": "categorical"}))
    (grade,) = schema.categorical
    assert grade.vocabulary == ("1", "2", "3")
    codes = schema.transform(pd.DataFrame({"grade": [2, "3", 7], "num": [0.0] * 3}))["categorical"]
    assert codes[:, 0].tolist() == [2, 3, 0]


def test_schema_round_trips_through_json() -> None:
    dataset, schema = fitted()
    again = FeatureSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema
    for key, value in schema.transform(dataset.frame).items():
        np.testing.assert_array_equal(again.transform(dataset.frame)[key], value)


def test_transform_names_missing_columns() -> None:
    _, schema = fitted()
    with pytest.raises(DataError, match=r"new\.csv: missing column\(s\) the model needs: height, size"):
        schema.transform(pd.DataFrame({"weight": [1.0], "colour": ["red"]}), source="new.csv")


# --- stratified_split -------------------------------------------------------------------------


def check_partition(n: int, parts: tuple[np.ndarray, ...]) -> None:
    joined = np.concatenate(parts)
    assert len(joined) == n, "every row is in exactly one split"
    assert sorted(joined.tolist()) == list(range(n))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("counts", [(50, 50, 50), (3, 3, 94), (100, 5), (7, 3, 2, 1), (20,)])
def test_stratified_split_keeps_classes_and_partitions(seed: int, counts: tuple[int, ...]) -> None:
    labels = np.repeat(np.arange(len(counts)), counts)
    labels = np.random.default_rng(seed + 100).permutation(labels)

    train, val, test = stratified_split(labels, len(labels), (0.2, 0.2), seed)

    check_partition(len(labels), (train, val, test))
    for k, count in enumerate(counts):
        if count >= 3:
            for part in (train, val, test):
                assert k in labels[part], f"class {k} ({count} rows) missing from a split"
        elif count == 2:
            assert k in labels[train] and k in labels[val]
        else:
            assert k in labels[train]
    big = len(labels)
    if min(counts) >= 20:
        assert abs(len(test) - 0.2 * big) <= len(counts)
        assert abs(len(val) - 0.2 * big) <= len(counts)


@pytest.mark.parametrize("seed", range(5))
def test_unstratified_split_partitions(seed: int) -> None:
    train, val, test = stratified_split(None, 101, (0.15, 0.25), seed)
    check_partition(101, (train, val, test))
    assert (len(val), len(test)) == (15, 25)


def test_split_without_a_test_fraction() -> None:
    train, val, test = stratified_split(np.arange(30) % 3, 30, (0.2, 0.0), 1)
    assert len(test) == 0
    check_partition(30, (train, val, test))


def test_split_is_deterministic_per_seed() -> None:
    labels = np.arange(200) % 4
    first = stratified_split(labels, 200, (0.2, 0.2), 7)
    again = stratified_split(labels, 200, (0.2, 0.2), 7)
    other = stratified_split(labels, 200, (0.2, 0.2), 8)
    for a, b in zip(first, again, strict=False):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=False))


# --- prepare_data -----------------------------------------------------------------------------


def test_prepare_iris() -> None:
    dataset = load_dataset(IRIS)
    data = prepare_data(dataset, profile_dataset(dataset), seed=3)

    assert (len(data.train), len(data.validation), len(data.test)) == (90, 30, 30)
    assert data.input_kind == "table"
    assert data.class_names == ("setosa", "versicolor", "virginica")
    for split in (data.train, data.validation, data.test):
        assert set(split.x) == {"numeric"}
        assert split.x["numeric"].shape == (len(split), 4) and split.x["numeric"].dtype == np.float32
        assert sorted(np.unique(split.y).tolist()) == [0, 1, 2]
        assert split.y.dtype == np.int32
    sig = data.signature
    assert sig.task == "classification" and sig.n_classes == 3 and sig.inputs == {"numeric": (4,)}
    np.testing.assert_allclose(sig.numeric_mean, data.train.x["numeric"].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(sig.numeric_variance, data.train.x["numeric"].var(axis=0), rtol=1e-4)
    # The statistics come from the training rows only.
    everything = dataset.frame.iloc[:, :4].to_numpy()
    assert not np.allclose(sig.numeric_mean, everything.mean(axis=0), rtol=1e-7)
    # Row contents survive the split: each row's label matches its species.
    species = dataset.frame["species"].to_numpy()
    rows = {tuple(np.round(r, 4)): s for r, s in zip(everything.astype(np.float32), species, strict=False)}
    for r, label in zip(data.test.x["numeric"], data.test.y, strict=False):
        assert rows[tuple(np.round(r, 4))] == data.class_names[label]


def test_prepare_regression_table_drops_missing_targets() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=50)
    y: list[Any] = list(3 * x + 10)
    y[4] = None
    frame = pd.DataFrame({"x": x, "colour": rng.choice(["a", "b"], 50), "target": y})
    dataset = Dataset(path="r.csv", kind="table", frame=frame, fingerprint="")
    data = prepare_data(dataset, profile_dataset(dataset, "target"))

    assert len(data.train) + len(data.validation) + len(data.test) == 49
    assert data.signature.task == "regression"
    assert data.signature.target_mean == pytest.approx(float(np.mean(data.train.y)), rel=1e-5)
    assert data.signature.target_std == pytest.approx(float(np.std(data.train.y)), rel=1e-4)
    assert data.signature.categorical_tokens == 3
    assert data.train.y.dtype == np.float32


def test_prepare_image_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    x = rng.integers(0, 256, size=(30, 8, 8, 3), dtype=np.uint8)
    y = np.array(["cat", "dog", "owl"] * 10)
    np.savez(tmp_path / "img.npz", x=x, y=y)
    dataset = load_dataset(tmp_path / "img.npz")

    data = prepare_data(dataset, profile_dataset(dataset))

    assert data.input_kind == "images"
    assert data.class_names == ("cat", "dog", "owl")
    assert data.signature.inputs == {"image": (8, 8, 3)}
    assert data.signature.image_scale == pytest.approx(1 / 255)
    assert data.train.x["image"].dtype == np.uint8
    assert len(data.train) + len(data.validation) + len(data.test) == 30
    for split in (data.train, data.validation, data.test):
        assert set(np.unique(split.y)) == {0, 1, 2}
        for image, label in zip(split.x["image"], split.y, strict=False):
            (row,) = [i for i in range(30) if np.array_equal(x[i], image)]
            assert y[row] == data.class_names[label]


def test_prepare_grey_images_gain_a_channel(tmp_path: Path) -> None:
    x = np.random.default_rng(1).random((12, 5, 5, 1)).astype(np.float32)
    np.savez(tmp_path / "g.npz", x=x, y=np.arange(12) % 2)
    dataset = load_dataset(tmp_path / "g.npz")
    data = prepare_data(dataset, profile_dataset(dataset))
    assert data.signature.inputs == {"image": (5, 5, 1)}
    assert data.signature.image_scale == 1.0
    assert data.train.x["image"].dtype == np.float32


def test_prepare_sequences_and_features(tmp_path: Path) -> None:
    np.savez(tmp_path / "s.npz", x=np.zeros((20, 6, 2), dtype=np.float64), y=np.linspace(0, 1, 20))
    dataset = load_dataset(tmp_path / "s.npz")
    data = prepare_data(dataset, profile_dataset(dataset))
    assert data.input_kind == "sequences" and data.signature.inputs == {"sequence": (6, 2)}
    assert data.train.x["sequence"].dtype == np.float32
    assert data.signature.task == "regression"


def test_prepare_image_folder(tmp_path: Path) -> None:
    dataset = load_dataset(make_image_folder(tmp_path / "pets", {"cats": 5, "dogs": 5}), image_size=(8, 8))
    data = prepare_data(dataset, profile_dataset(dataset))
    assert data.input_kind == "images" and data.class_names == ("cats", "dogs")
    assert data.signature.n_classes == 2


def test_prepare_too_few_rows_is_an_error() -> None:
    frame = pd.DataFrame({"x": [0.1, 0.5], "y": ["a", "b"]})
    dataset = Dataset(path="tiny.csv", kind="table", frame=frame, fingerprint="")
    with pytest.raises(DataError, match=r"tiny\.csv: too few rows \(2\) to train and validate"):
        prepare_data(dataset, profile_dataset(dataset, "y"))


def test_empty_and_missing_texts_are_said_with_their_rows(tmp_path: Path) -> None:
    """#17's bad input: a review that is empty, missing or punctuation only is named by its file row."""
    from datafiles import write_reviews

    path = write_reviews(tmp_path / "r.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    for row, value in ((5, '""'), (9, ""), (12, '"?!"')):  # file rows (the header is row 1)
        lines[row - 1] = f"{value},{lines[row - 1].rsplit(',', 1)[1]}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = load_dataset(path)
    data = prepare_data(dataset, profile_dataset(dataset, "label"))
    [note] = [n for n in data.notes if n.startswith("text column 'review'")]
    assert note.endswith("; 3 rows have no words (rows 5, 9, 12): each reads as one unknown word"), note
    clean = load_dataset(write_reviews(tmp_path / "clean.csv"))
    assert not any("no words" in n for n in prepare_data(clean, profile_dataset(clean, "label")).notes)


def test_predict_names_the_rows_whose_text_has_no_words(tmp_path: Path) -> None:
    """At predict time too: a missing, empty or punctuation-only text is said with its file row."""
    from datafiles import write_reviews

    from automl_studio.engine.export.predict import read_for_model

    dataset = load_dataset(write_reviews(tmp_path / "r.csv"))
    data = prepare_data(dataset, profile_dataset(dataset, "label"))
    assert data.schema is not None
    metadata = {"input_kind": "table", "feature_schema": data.schema.to_dict(), "target": "label"}
    new = tmp_path / "new.csv"
    new.write_text('review,stars\n"great film",1\n,2\n"?!",3\n"",4\n"très bon 😀",5\n', encoding="utf-8")
    scoring = read_for_model(metadata, new)
    assert len(scoring.scored) == 5  # every row is scored, the wordless ones as one unknown word
    assert f"{new}: column 'review': 3 text(s) without words (rows 3, 4, 5) scored as one unknown word, " \
           "as in training" in scoring.notes
