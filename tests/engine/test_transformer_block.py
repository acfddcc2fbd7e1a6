"""The Transformer encoder block: one node that trains, exports to .h5 and reloads with plain Keras.

The block is standard Keras layers composed in the functional graph (no custom Layer), so a
fresh interpreter without automl_studio loads the legacy .h5 with ``keras.models.load_model``
and predicts what the trained model predicted. Every other layer type issue #18 added trains one
epoch in a small network too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datafiles import WITHOUT_APP, run_without_app
from layer_examples import example_signature, example_spec

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import shapes
from automl_studio.engine.space.spec import LAYER_TYPES, SearchSpace, fixed_chooser

NEW_TYPES = ["SimpleRNN", "ConvLSTM1D", "Conv1DTranspose", "Conv2DTranspose", "GlobalMaxPooling1D",
             "GlobalMaxPooling2D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D",
             "Cropping1D", "Cropping2D", "Attention", "AdditiveAttention", "TransformerEncoder"]

LOAD_WITHOUT_APP = WITHOUT_APP + r"""import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
with np.load(sys.argv[2]) as data:
    inputs = {k: data[k] for k in data.files}
print(json.dumps({"layers": sorted(type(layer).__name__ for layer in model.layers),
                  "pred": np.asarray(model.predict(inputs, verbose=0)).tolist()}))
"""

SPEC = {
    "schema_version": 1, "name": "transformer", "repeats": [], "training": {},
    "nodes": [
        {"id": "input", "type": "Input", "params": {"source": "sequence"}},
        {"id": "encoder", "type": "TransformerEncoder",
         "params": {"num_heads": 2, "key_dim": 4, "ff_units": 16, "dropout": 0.1, "position_embedding": True}},
        {"id": "pool", "type": "GlobalMaxPooling1D", "params": {}},
        {"id": "head", "type": "Output", "params": {}},
    ],
    "edges": [["input", "encoder"], ["encoder", "pool"], ["pool", "head"]],
}


def test_a_transformer_block_trains_exports_to_h5_and_reloads_with_plain_keras(tmp_path: Path) -> None:
    from automl_studio.engine.export.writers import export_model
    from automl_studio.engine.train.hypermodel import build_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 8, 3)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("int64")
    signature = DataSignature(task="classification", n_classes=2, inputs={"sequence": (8, 3)},
                              sequence_mean=(0.0, 0.0, 0.0), sequence_variance=(1.0, 1.0, 1.0))
    space = SearchSpace.from_dict(SPEC)
    model = build_model(space, signature, fixed_chooser({}))
    history = model.fit({"sequence": x}, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    results, issues = shapes.evaluate(space, signature, fixed_chooser({}))
    assert issues == [] and sum(p for _, p in results.values()) == model.count_params()
    layer_types = {type(layer).__name__ for layer in model.layers}
    assert {"MultiHeadAttention", "Add", "LayerNormalization", "Dense", "Dropout"} <= layer_types

    sample = {"sequence": x[:5]}
    expected = np.asarray(model.predict(sample, verbose=0))
    export_model(model, tmp_path / "model.h5", {"name": "transformer"}, sample)
    np.savez(tmp_path / "sample.npz", **sample)

    reply = run_without_app(LOAD_WITHOUT_APP, tmp_path / "model.h5", tmp_path / "sample.npz")
    assert reply["layers"].count("LayerNormalization") == 2 and "MultiHeadAttention" in reply["layers"]
    assert "EinsumDense" in reply["layers"]  # the position embedding, reloaded with its learnt table
    np.testing.assert_allclose(np.asarray(reply["pred"]), expected, rtol=0, atol=1e-6)


def test_the_position_embedding_adds_a_learnt_vector_per_step_so_order_matters() -> None:
    """With the embedding, the block adds row ``t`` of its table to step ``t`` (whatever the input),
    so averaging its output tells a sequence from its steps reversed; without, it cannot."""
    import keras

    from automl_studio.engine.train.hypermodel import build_model

    signature = DataSignature(task="classification", n_classes=2, inputs={"sequence": (8, 3)},
                              sequence_mean=(0.0, 0.0, 0.0), sequence_variance=(1.0, 1.0, 1.0))
    x = np.random.default_rng(2).normal(size=(4, 8, 3)).astype("float32")
    outputs = {}
    for on in (True, False):
        spec = {**SPEC, "nodes": [{**n, "params": {**n["params"], "position_embedding": on}}
                                  if n["id"] == "encoder" else n for n in SPEC["nodes"]]}
        spec["nodes"][2] = {"id": "pool", "type": "GlobalAveragePooling1D", "params": {}}
        model = build_model(SearchSpace.from_dict(spec), signature, fixed_chooser({}))
        pooled = keras.Model(model.inputs, model.get_layer("pool").output)
        outputs[on] = [np.asarray(pooled({"sequence": v}, training=False)) for v in (x, x[:, ::-1])]
        if on:
            added = keras.Model(model.inputs, model.get_layer("encoder_positions").output)
            table = model.get_layer("encoder_positions").get_weights()[0][0]
            assert table.shape == (8, 3)
            np.testing.assert_allclose(np.asarray(added({"sequence": x})), np.broadcast_to(table, (4, 8, 3)),
                                       rtol=0, atol=1e-6)
    np.testing.assert_allclose(outputs[False][0], outputs[False][1], rtol=0, atol=1e-5)
    assert np.abs(outputs[True][0] - outputs[True][1]).max() > 1e-3


@pytest.mark.parametrize("kind", NEW_TYPES)
def test_each_new_layer_type_trains_one_epoch(kind: str) -> None:
    """Input(s) → the type (default params) → Flatten → Output trains on tiny data to a finite loss."""
    from automl_studio.engine.train.hypermodel import build_model

    signature = example_signature(LAYER_TYPES[kind], n_classes=2)
    space = SearchSpace.from_dict(example_spec(kind))
    model = build_model(space, signature, fixed_chooser({}))
    rng = np.random.default_rng(1)
    x = {source: rng.normal(size=(16, *shape)).astype("float32") for source, shape in signature.inputs.items()}
    y = np.arange(16) % 2
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
