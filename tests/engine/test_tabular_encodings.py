"""Issue #16's encodings of table columns, the known neural tabular tricks: categorical columns
with many levels (rare levels bucketed with the unknown code, an embedding sized from the
cardinality searched beside one-hot codes, predict scoring values training never saw as a rare
level) and numeric columns' piecewise-linear encoding over quantile bins (Gorishniy et al. 2022).
Checked against their formulas, trained for real on a tiny table, exported, reloaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafiles import PREDICT_WITHOUT_APP, run_without_app

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.data.features import (
    MANY_LEVELS,
    RARE_LEVEL_ROWS,
    FeatureSchema,
    prepare_data,
)
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.data.signature import DataSignature, quantile_edges
from automl_studio.engine.space.spec import Choice, SearchSpace
from automl_studio.engine.space.templates import (
    NUMERIC_BINS,
    embedding_size,
    resolve_space,
    template_spec,
)

FREQUENT, RARE = 24, 14  # shops with ~12 rows each, shops with one or two rows



def shops_csv(path: Path) -> Path:
    """Sales by shop (38 levels, 14 of them seen once or twice) and a colour (3 levels)."""
    rng = np.random.default_rng(7)
    shops = [f"shop{i:02d}" for i in range(FREQUENT) for _ in range(12)]
    shops += [f"rare{i:02d}" for i in range(RARE) for _ in range(1 + i % 2)]
    n = len(shops)
    effect = {s: rng.normal(0, 2) for s in set(shops)}
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    sales = np.array([effect[s] for s in shops]) + 0.5 * x + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"shop": shops, "colour": colour, "x": x, "sales": sales})
    frame.sample(frac=1.0, random_state=1).to_csv(path, index=False)
    return path


def test_rare_levels_of_a_many_level_column_share_the_unknown_code(tmp_path):
    dataset = load_dataset(shops_csv(tmp_path / "shops.csv"))
    prepared = prepare_data(dataset, profile_dataset(dataset, "sales"))
    schema = prepared.schema
    assert schema is not None
    train = dataset.frame.iloc[prepared.split_indices[0]]
    counts = train["shop"].value_counts()
    assert len(counts) > MANY_LEVELS
    shop, colour = (next(c for c in schema.categorical if c.name == name) for name in ("shop", "colour"))
    assert set(shop.rare) == {s for s, k in counts.items() if k < RARE_LEVEL_ROWS} and shop.rare
    assert set(shop.vocabulary) == {s for s, k in counts.items() if k >= RARE_LEVEL_ROWS}
    assert colour.rare == () and len(colour.vocabulary) == 3  # every colour is frequent: each keeps its code
    codes = schema.transform(train)["categorical"][:, [c.name for c in schema.categorical].index("shop")]
    is_rare = train["shop"].isin(shop.rare).to_numpy()
    assert (codes[is_rare] == shop.offset).all() and (codes[~is_rare] > shop.offset).all()
    # The search says so, the signature carries the column's levels, and the metadata keeps them.
    (note,) = [n for n in prepared.notes if "column 'shop'" in n]
    assert f"{len(shop.rare)} of {len(counts)} levels were seen in fewer than {RARE_LEVEL_ROWS}" in note
    assert prepared.signature.categorical_levels == len(shop.vocabulary) + 1  # the rare shops: one code
    assert FeatureSchema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


def test_a_few_level_column_buckets_a_stray_value_but_a_tiny_table_keeps_its_levels():
    from automl_studio.engine.data.dataset import Dataset

    # A pixel's few intensities, two of them stray; an edge pixel, nearly always dark.
    for codes, kept in (([0] * 30 + [1] * 20 + [2] * 8 + [7, 9], ("0", "1", "2")), ([0] * 58 + [7, 9], ("0",))):
        frame = pd.DataFrame({"pixel": codes, "y": ["a", "b"] * 30})
        dataset = Dataset(path="pixels.csv", kind="table", frame=frame, fingerprint="sha256:test")
        assert profile_dataset(dataset, "y").column("pixel").kind == "numeric"  # an intensity: ordered
        schema = FeatureSchema.fit(frame, profile_dataset(dataset, "y", kinds={"pixel": "categorical"}))
        (pixel,) = schema.categorical
        assert pixel.rare == ("7", "9") and pixel.vocabulary == kept
        assert schema.most_levels == len(kept) + 1  # the rare ones count as one code
    tiny = pd.DataFrame({"colour": ["red", "red", "blue", "green", "blue", "green"], "y": ["a", "b"] * 3})
    (colour,) = FeatureSchema.fit(tiny, profile_dataset(
        Dataset(path="tiny.csv", kind="table", frame=tiny, fingerprint="sha256:tiny"), "y")).categorical
    assert colour.rare == () and colour.vocabulary == ("blue", "green", "red")  # every level rare: all kept


def test_the_tabular_template_searches_an_embedding_only_for_many_levels():
    assert [embedding_size(n) for n in (2, 37, 1000, 10**7)] == [2, 12, 77, 600]

    def categorical_input(levels: int) -> dict:
        spec = template_spec("tabular", inputs=["numeric", "categorical"], categorical_levels=levels)
        return next(n["params"] for n in spec["nodes"] if n["params"].get("source") == "categorical")

    assert categorical_input(MANY_LEVELS) == {"source": "categorical"}  # one-hot, as before
    many = categorical_input(37)
    assert many["encoding"] == {"hp": "choice", "values": ["one_hot", "embedding"]}
    assert many["embedding_dim"] == 12
    # The search lays a template out with the data's levels; one-hot comes first (the first
    # trial is the simplest network).
    space = resolve_space("tabular", ["numeric", "categorical"], 300, None, 37)
    (node,) = [n for n in space.nodes if n.params.get("source") == "categorical"]
    assert node.params["encoding"] == Choice(("one_hot", "embedding"))
    text = template_spec("text", inputs=["text", "categorical"], categorical_levels=37)
    assert any(n["params"].get("encoding") == many["encoding"] for n in text["nodes"]
               if n["params"].get("source") == "categorical")
    assert isinstance(SearchSpace.from_dict(text), SearchSpace)


def ple_model(signature: DataSignature, bins: int, *, mixed_precision: bool = False):
    """The model's encoded numeric input (its last preprocessing layer's output)."""
    import keras

    from automl_studio.engine.space.spec import fixed_chooser
    from automl_studio.engine.train.hypermodel import build_model

    space = SearchSpace.from_dict({"schema_version": 1, "name": "ple", "nodes": [
        {"id": "numeric", "type": "Input", "params": {"source": "numeric", "bins": bins}},
        {"id": "head", "type": "Output", "params": {}}], "edges": [["numeric", "head"]],
        "training": {"epochs": 1}})
    try:
        model = build_model(space, signature, fixed_chooser({}), mixed_precision=mixed_precision)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    name = "numeric_piecewise_linear" if bins else "numeric_normalize"
    return keras.Model(model.inputs, model.get_layer(name).output)


def test_wide_columns_are_encoded_in_float32_under_mixed_precision():
    # Prices up to 32,000: a float16 variance of a 2,000-wide bin (4e6) or a std of 9,000 is inf.
    grid = tuple(1000.0 * k for k in range(33))
    signature = DataSignature("regression", 0, {"numeric": (1,)}, numeric_mean=(16000.0,),
                              numeric_variance=(9000.0 ** 2,), numeric_quantiles=(grid,))
    x = np.array([[1000.0], [17000.0]], dtype=np.float32)
    binned = np.asarray(ple_model(signature, 16, mixed_precision=True).predict({"numeric": x}, verbose=0))
    assert binned[0, :2].tolist() == pytest.approx([0.5, 0.0]) and binned[1, 8] == pytest.approx(0.5)
    standard = np.asarray(ple_model(signature, 0, mixed_precision=True).predict({"numeric": x}, verbose=0))
    assert standard.ravel().tolist() == pytest.approx([-15 / 9, 1 / 9], rel=1e-3)


def test_the_piecewise_linear_encoding_follows_gorishniy_et_al():
    # Two columns: one of 33 evenly spread values (quantiles 0…32), one of two values (a flag).
    grid = tuple(float(v) for v in range(33))
    flag = tuple(0.0 if k < 20 else 1.0 for k in range(33))
    signature = DataSignature("regression", 0, {"numeric": (2,)}, numeric_mean=(16.0, 0.4),
                              numeric_variance=(90.0, 0.24), numeric_quantiles=(grid, flag))
    x = np.array([[-1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [8.0, 1.0], [12.5, 0.0], [33.0, 1.0]], dtype=np.float32)
    out = np.asarray(ple_model(signature, 4).predict({"numeric": x}, verbose=0))
    assert out.shape == (6, 8)
    edges = [quantile_edges(q, 4) for q in (grid, flag)]
    for t in range(4):
        for j in range(2):
            low, high = edges[j][t], edges[j][t + 1]
            expected = np.clip((x[:, j] - low) / max(high - low, 1e-6), 0.0, 1.0)
            np.testing.assert_allclose(out[:, t * 2 + j], expected, atol=1e-5)  # bin-major
    # The first column, by hand: 12.5 is past bin 1 (0…8), half-way through bin 2 (8…16).
    assert out[4, 0::2].tolist() == pytest.approx([1.0, 0.5625, 0.0, 0.0])
    # The flag's bins are steps at 0 and 1: zero-width bins read 0 up to their edge, 1 above it.
    assert set(np.round(out[:, 1::2], 5).ravel().tolist()) <= {0.0, 1.0}


def test_the_numeric_bins_are_searched_and_kept_from_the_training_rows(tmp_path):
    dataset = load_dataset(shops_csv(tmp_path / "shops.csv"))
    prepared = prepare_data(dataset, profile_dataset(dataset, "sales"))
    signature = prepared.signature
    assert len(signature.numeric_quantiles) == signature.inputs["numeric"][0]
    train_x = dataset.frame["x"].to_numpy()[prepared.split_indices[0]]
    (column,) = [q for q in signature.numeric_quantiles if q[0] == pytest.approx(train_x.min())]
    assert column[-1] == pytest.approx(train_x.max())
    assert column[16] == pytest.approx(float(np.median(train_x)))
    assert DataSignature.from_dict(json.loads(json.dumps(signature.to_dict()))) == signature
    spec = template_spec("tabular", inputs=["numeric"])
    (node,) = [n for n in spec["nodes"] if n["type"] == "Input"]
    assert node["params"]["bins"] == {"hp": "choice", "values": NUMERIC_BINS} and NUMERIC_BINS[0] == 0
    assert "bins" not in template_spec("tabular", {"numeric_bins": False}, inputs=["numeric"])["nodes"][0]["params"]
    # A signature saved before quantiles were kept: normal bins from the mean and variance.
    old = DataSignature("regression", 0, {"numeric": (1,)}, numeric_mean=(0.0,), numeric_variance=(1.0,))
    out = np.asarray(ple_model(old, 2).predict({"numeric": np.array([[-4.0], [0.0], [4.0]])}, verbose=0))
    np.testing.assert_allclose(out, [[0, 0], [1, 0], [1, 1]], atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["bayesian", "random"])
def test_the_first_trial_reads_standardised_numbers_and_one_hot_codes(tmp_path, tuner):
    from automl_studio.engine.search.session import run_search

    path = shops_csv(tmp_path / "shops.csv")
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), target="sales",
                                     tuner=tuner, max_trials=1, max_epochs=2, refit=False))
    assert result.status == "completed"
    values = result.best_hyperparameters
    assert values["numeric.bins"] == 0 and values["categorical.encoding"] == "one_hot"  # both searched
    assert values["block.repeats"] == 0 and values["training.learning_rate"] == pytest.approx(1e-2)


@pytest.mark.slow
def test_embedded_levels_and_numeric_bins_export_and_predict_scores_new_levels_as_rare(tmp_path):
    from automl_studio.engine.export.predict import load_model, predict_data
    from automl_studio.engine.search.session import run_search

    path = shops_csv(tmp_path / "shops.csv")
    spec = template_spec("tabular", inputs=["numeric", "categorical"], categorical_levels=38)
    del spec["template"]  # a plain spec, so the embedding stays fixed on
    for node in spec["nodes"]:  # both encodings on: the embedding and 8 quantile bins
        if node["params"].get("source") == "categorical":
            node["params"]["encoding"] = "embedding"
        if node["params"].get("source") == "numeric":
            node["params"]["bins"] = 8
    out = tmp_path / "model.h5"
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), target="sales",
                                     space=spec, tuner="random", max_trials=1, max_epochs=60, refits=1,
                                     export_path=str(out)))
    assert result.status == "completed"
    model, metadata = load_model(out)
    assert {"Embedding", "RepeatVector", "ReLU"} <= {layer.__class__.__name__ for layer in model.layers}
    assert result.test_metrics["r2"] > 0.5  # the shop is most of the signal: the embedding learnt it

    # A shop never seen in training is scored, as the rare shops were, with a note.
    frame = pd.read_csv(path).drop(columns=["sales"])
    rare_shop = next(s for s in metadata["feature_schema"]["categorical"] if s["name"] == "shop")["rare"][0]
    new = frame.head(4).copy()
    new.loc[0, "shop"] = "a shop opened after training"
    new.loc[1, ["shop", "colour", "x"]] = [rare_shop, new.loc[0, "colour"], new.loc[0, "x"]]
    new.to_csv(tmp_path / "new.csv", index=False)
    predictions = predict_data(model, metadata, tmp_path / "new.csv")
    assert None not in predictions.labels and not any(predictions.problems)
    assert float(predictions.labels[0]) == pytest.approx(float(predictions.labels[1]), rel=1e-6)
    assert any("column 'shop': 1 value(s) never seen in training (row 2) scored as a rare level" in n
               for n in predictions.notes)

    # A fresh interpreter without automl_studio reloads the .h5 and answers the same.
    sample = tmp_path / "p" / "best" / "sample_inputs.npz"
    fresh = np.asarray(run_without_app(PREDICT_WITHOUT_APP, out, sample, timeout=180))
    here = np.asarray(model.predict(dict(np.load(sample)), verbose=0)).reshape(-1)
    assert np.allclose(fresh, here, rtol=1e-5)
