"""Regularisation, initialisers, the loss and class weights drawn in the editor: each is an
inspector row with a one-sentence tooltip, saved to a spec file, read back, compiled and trained."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

from automl_studio.engine.space.spec import SearchSpace, fixed_chooser
from automl_studio.gui.editor.node_inspector import ParamEditor

WEIGHT_PARAMS = ("kernel_initializer", "kernel_l1", "kernel_l2", "bias_l1", "bias_l2", "activity_l1",
                 "activity_l2")


def row(editor, name: str) -> ParamEditor:
    return editor.inspector.editors[name]


def test_a_dense_layers_penalties_and_initialiser_are_drawn_saved_and_trained(qtbot, editor, tmp_path) -> None:
    from automl_studio.engine.train.hypermodel import build_model

    source = editor.add_node("Input", (0, 0), {"source": "numeric"})
    noise = editor.add_node("GaussianNoise", (200, 0), connect_from=source)
    dense = editor.add_node("Dense", (400, 0), connect_from=noise)
    editor.add_node("Output", (600, 0), connect_from=dense)

    editor.select_nodes([dense])
    for name in WEIGHT_PARAMS:
        assert row(editor, name).toolTip().endswith("."), name  # one sentence saying what it does
    initializer = row(editor, "kernel_initializer").findChild(QComboBox, "param_kernel_initializer_value")
    initializer.setCurrentIndex(initializer.findData("he_normal"))
    row(editor, "kernel_l2").findChild(QDoubleSpinBox, "param_kernel_l2_value").setValue(0.01)
    qtbot.mouseClick(row(editor, "bias_l1").search, Qt.MouseButton.LeftButton)  # searched

    params = next(n for n in editor.spec()["nodes"] if n["id"] == dense)["params"]
    assert params["kernel_initializer"] == "he_normal" and params["kernel_l2"] == pytest.approx(0.01)
    assert params["bias_l1"]["hp"] == "float"

    path = tmp_path / "space.json"
    path.write_text(json.dumps(editor.spec()))
    space = SearchSpace.load(path)
    editor.set_spec(space.to_dict())
    editor.select_nodes([dense])
    shown = row(editor, "kernel_initializer").findChild(QComboBox, "param_kernel_initializer_value")
    assert shown.currentData() == "he_normal"

    model = build_model(space, editor.signature(), fixed_chooser({f"{dense}.bias_l1": 0.001}))
    layer = model.get_layer(dense)
    assert layer.get_config()["kernel_initializer"]["class_name"] == "HeNormal"
    assert layer.get_config()["kernel_regularizer"]["config"]["l2"] == pytest.approx(0.01)
    assert layer.get_config()["bias_regularizer"]["config"]["l1"] == pytest.approx(0.001)
    rng = np.random.default_rng(0)
    width = editor.signature().inputs["numeric"][0]
    x = {"numeric": rng.normal(size=(30, width)).astype("float32")}
    y = rng.integers(0, editor.signature().n_classes, size=30)
    assert np.isfinite(model.fit(x, y, epochs=1, batch_size=10, verbose=0).history["loss"][0])


def test_recurrent_dropouts_and_spatial_dropout_are_rows_of_their_layers(qtbot, editor) -> None:
    editor.add_node("SpatialDropout1D", (0, 200))
    editor.select_nodes(["spatial_dropout"])
    assert set(editor.inspector.editors) == {"rate"}
    assert row(editor, "rate").toolTip()
    lstm = editor.add_node("LSTM", (200, 200))
    editor.select_nodes([lstm])
    assert {"dropout", "recurrent_dropout", *WEIGHT_PARAMS} <= set(editor.inspector.editors)
    row(editor, "recurrent_dropout").findChild(QDoubleSpinBox, "param_recurrent_dropout_value").setValue(0.25)
    params = next(n for n in editor.spec()["nodes"] if n["id"] == lstm)["params"]
    assert params["recurrent_dropout"] == pytest.approx(0.25)


def test_the_training_box_sets_the_loss_label_smoothing_and_class_weights(qtbot, editor) -> None:
    editor.load_template("tabular")
    editor.select_nodes([])
    qtbot.mouseClick(editor.inspector.advanced_toggle, Qt.MouseButton.LeftButton)  # folded at first
    training = {name: editor.inspector.findChild(ParamEditor, f"training_{name}")
                for name in ("loss", "label_smoothing", "class_weight")}
    for name, editor_row in training.items():
        assert editor_row.isVisible(), name
        assert editor_row.toolTip().endswith(")") or editor_row.toolTip().endswith("."), name

    loss = training["loss"].findChild(QComboBox, "param_loss_value")
    loss.setCurrentIndex(loss.findData("focal"))
    qtbot.mouseClick(training["class_weight"].search, Qt.MouseButton.LeftButton)
    spec = editor.spec()["training"]
    assert spec["loss"] == "focal"
    assert spec["class_weight"] == {"hp": "choice", "values": ["none", "balanced"]}
    space = SearchSpace.from_dict(editor.spec())  # a valid spec, read back
    assert space.training["loss"] == "focal"
    # The demo table has three classes: a regression loss is named as the problem before any
    # trial; focal loss (categorical, on one-hot targets) trains them.
    loss.setCurrentIndex(loss.findData("mae"))
    qtbot.waitUntil(lambda: editor.analysis() is not None and not editor.analysis().valid, timeout=5_000)
    assert any("'mae' does not apply" in issue.message for issue in editor.analysis().issues)
    loss.setCurrentIndex(loss.findData("focal"))
    qtbot.waitUntil(lambda: editor.analysis() is not None and editor.analysis().valid, timeout=5_000)
