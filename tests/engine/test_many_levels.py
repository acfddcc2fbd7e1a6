"""Issue #16: categorical columns with many levels — rare levels bucketed with the unknown code,
an embedding sized from the cardinality searched beside one-hot codes, and predict scoring values
training never saw as a rare level. Trained for real on a tiny table, exported, reloaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafiles import WITHOUT_APP

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.data.features import (
    MANY_LEVELS,
    RARE_LEVEL_ROWS,
    FeatureSchema,
    prepare_data,
)
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.space.spec import Choice, SearchSpace
from automl_studio.engine.space.templates import embedding_size, resolve_space, template_spec

FREQUENT, RARE = 24, 14  # shops with ~12 rows each, shops with one or two rows

PREDICT_WITHOUT_APP = WITHOUT_APP + r"""import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
with np.load(sys.argv[2]) as data:
    inputs = {k: data[k] for k in data.files}
print(json.dumps(np.asarray(model.predict(inputs, verbose=0)).reshape(-1).tolist()))
"""


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
    assert colour.rare == () and len(colour.vocabulary) == 3  # few levels: every one keeps its code
    codes = schema.transform(train)["categorical"][:, [c.name for c in schema.categorical].index("shop")]
    is_rare = train["shop"].isin(shop.rare).to_numpy()
    assert (codes[is_rare] == shop.offset).all() and (codes[~is_rare] > shop.offset).all()
    # The search says so, the signature carries the column's levels, and the metadata keeps them.
    (note,) = [n for n in prepared.notes if "column 'shop'" in n]
    assert f"{len(shop.rare)} of {len(counts)} levels were seen in fewer than {RARE_LEVEL_ROWS}" in note
    assert prepared.signature.categorical_levels == len(counts)
    assert FeatureSchema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


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


@pytest.mark.slow
def test_an_embedded_many_level_column_exports_and_predict_scores_new_levels_as_rare(tmp_path):
    from automl_studio.engine.export.predict import load_model, predict_data
    from automl_studio.engine.search.session import run_search

    path = shops_csv(tmp_path / "shops.csv")
    spec = template_spec("tabular", inputs=["numeric", "categorical"], categorical_levels=38)
    del spec["template"]  # a plain spec, so the embedding stays fixed on
    for node in spec["nodes"]:
        if node["params"].get("source") == "categorical":
            node["params"]["encoding"] = "embedding"
    out = tmp_path / "model.h5"
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), target="sales",
                                     space=spec, tuner="random", max_trials=1, max_epochs=60, refits=1,
                                     export_path=str(out)))
    assert result.status == "completed"
    model, metadata = load_model(out)
    assert any(layer.__class__.__name__ == "Embedding" for layer in model.layers)
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
    proc = subprocess.run([sys.executable, "-c", PREDICT_WITHOUT_APP, str(out), str(sample)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh = np.asarray(json.loads(proc.stdout.strip().splitlines()[-1]))
    here = np.asarray(model.predict(dict(np.load(sample)), verbose=0)).reshape(-1)
    assert np.allclose(fresh, here, rtol=1e-5)
