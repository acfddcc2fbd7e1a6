"""A random forest as a Keras model of standard layers (engine/train/forest.py): it gives the
forest's own predictions, takes a table network's inputs, and reloads from HDF5 without the app."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import PREDICT_WITHOUT_APP, run_without_app, write_mixed_table, write_reviews

from automl_studio.engine.data.features import prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.train.forest import fit_forest, forest_features, forest_model


def prepared_from(path, target, task=None):
    dataset = load_dataset(path)
    return prepare_data(dataset, profile_dataset(dataset, target, task), validation_fraction=0.2,
                        test_fraction=0.2, seed=1)


def test_a_classifier_forest_as_layers_gives_its_probabilities_on_a_mixed_table(tmp_path):
    prepared = prepared_from(write_mixed_table(tmp_path / "mixed.csv", rows=300), "label")
    assert set(prepared.signature.inputs) == {"numeric", "categorical"}
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("classification", features, prepared.train.y, leaves=16, trees=20)
    n_classes = len(prepared.class_names)
    model = forest_model(forest, prepared.signature, features, n_classes)
    assert len(model.layers) < 15  # batched: a handful of layers whatever the number of trees
    for split in (prepared.train, prepared.test):
        got = model.predict(split.x, verbose=0)
        expected = np.zeros((len(split), n_classes))
        expected[:, forest.classes_] = forest.predict_proba(forest_features(split.x, prepared.signature))
        if split is prepared.train:  # every training value lands on its side of each split exactly
            assert np.abs(got - expected).max() < 1e-5
        # A value never seen in training may fall between a threshold and the next value seen.
        assert np.mean(got.argmax(axis=1) == expected.argmax(axis=1)) >= 0.97
        assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    # Saved as legacy HDF5, it loads with plain Keras in a process without automl_studio.
    path = tmp_path / "forest.h5"
    model.save(path)
    np.savez(tmp_path / "x.npz", **prepared.train.x)
    reloaded = np.asarray(run_without_app(PREDICT_WITHOUT_APP, path, tmp_path / "x.npz")).reshape(-1, n_classes)
    assert np.abs(reloaded - model.predict(prepared.train.x, verbose=0)).max() < 1e-6


def test_a_regression_forest_as_layers_gives_its_values_far_from_zero_too(tmp_path):
    rng = np.random.default_rng(5)
    year = rng.integers(1990, 2024, 400).astype(float)
    price = 1e5 + 1e3 * rng.normal(size=400)  # large values: thresholds far from zero
    y = np.where(year > 2010, 50.0, 10.0) + (price > 1e5) * 5 + rng.normal(0, 0.5, 400)
    path = tmp_path / "reg.csv"
    path.write_text("year,price,y\n" + "\n".join(f"{a:.0f},{b:.3f},{t:.4f}" for a, b, t in zip(year, price, y,
                                                                                              strict=True)) + "\n")
    prepared = prepared_from(path, "y", "regression")
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("regression", features, prepared.train.y, leaves=32, trees=10)
    model = forest_model(forest, prepared.signature, features)
    got = model.predict(prepared.train.x, verbose=0)
    assert got.shape == (len(prepared.train), 1)
    assert np.abs(got[:, 0] - forest.predict(features)).max() < 1e-3 * np.abs(prepared.train.y).max()


def test_close_values_land_on_their_side_of_every_split(tmp_path):
    """The float64 threshold between two close float32 values rounds onto one of them: the split
    must still send each training value where the forest does."""
    rng = np.random.default_rng(8)
    x = 1.0 + rng.normal(size=(1500, 2)) * 1e-4  # thousands of values a few float32 steps apart
    label = np.where(x[:, 0] + rng.normal(0, 2e-5, 1500) > 1.0, "up", "down")
    path = tmp_path / "close.csv"
    path.write_text("a,b,label\n" + "\n".join(f"{a:.9f},{b:.9f},{c}" for (a, b), c in zip(x, label, strict=True)) + "\n")
    prepared = prepared_from(path, "label")
    features = forest_features(prepared.train.x, prepared.signature)
    forest = fit_forest("classification", features, prepared.train.y, leaves=128, trees=30)
    model = forest_model(forest, prepared.signature, features, 2)
    expected = forest.predict_proba(features)
    assert np.abs(model.predict(prepared.train.x, verbose=0) - expected).max() < 1e-5


def test_a_table_with_text_is_refused_with_the_reason(tmp_path):
    prepared = prepared_from(write_reviews(tmp_path / "reviews.csv"), None, "classification")
    assert "text" in prepared.signature.inputs
    with pytest.raises(ValueError, match="not text"):
        forest_features(prepared.train.x, prepared.signature)
