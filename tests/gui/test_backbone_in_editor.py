"""The Backbone node (#18) in the network editor: its registry declaration alone gives the palette
entry and the inspector's editors, including the weights file's path, and the editor says which
weights file is missing before anything trains (real widgets, pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

from automl_studio.engine.data.signature import DataSignature

IMAGES = DataSignature(task="classification", n_classes=2, inputs={"image": (32, 32, 3)}, image_scale=1 / 255)


def test_the_editor_inspects_a_backbone_and_names_the_missing_weights_file(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automl_studio.gui.editor.card_text import card_lines
    from automl_studio.gui.editor.network_editor import NetworkEditor
    from automl_studio.gui.editor.node_palette import NodePalette

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    palette = NodePalette()
    qtbot.addWidget(palette)
    assert palette.index_of("Backbone").parent().data() == "Pretrained"

    editor = NetworkEditor()
    qtbot.addWidget(editor)
    editor.set_signature(IMAGES)
    editor.show()
    qtbot.waitExposed(editor)
    source = editor.add_node("Input", (0, 0), {"source": "image"})
    node = editor.add_node("Backbone", (240, 0), connect_from=source)
    editor.add_node("Output", (480, 0), connect_from=node)

    assert node == "backbone"
    qtbot.waitUntil(lambda: bool(editor.node_errors().get(node)), timeout=5_000)
    (problem,) = editor.node_errors()[node]
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in problem
    assert str(tmp_path / "keras" / "models") in problem

    editor.select_nodes([node])
    editors = editor.inspector.editors
    assert set(editors) == {"backbone", "weights", "weights_file", "input_size", "pooling", "trainable_blocks",
                            "second_phase_blocks", "second_phase_lr"}
    phase = editors["second_phase_blocks"].value_box
    assert isinstance(phase, QSpinBox)
    phase.setValue(2)
    spec_node = next(n for n in editor.spec()["nodes"] if n["id"] == node)
    assert spec_node["params"]["second_phase_blocks"] == 2
    assert not editors["weights_file"].search.isEnabled()  # a path is never searched
    weights = editors["weights"].value_box
    assert isinstance(weights, QComboBox)
    weights.setCurrentIndex(weights.findData("file"))
    path_box = editors["weights_file"].value_box
    assert isinstance(path_box, QLineEdit)
    missing = tmp_path / "mine.weights.h5"
    path_box.setFocus()
    qtbot.keyClicks(path_box, str(missing))
    qtbot.keyClick(path_box, Qt.Key.Key_Return)

    spec_node = next(n for n in editor.spec()["nodes"] if n["id"] == node)
    assert spec_node["params"]["weights"] == "file" and spec_node["params"]["weights_file"] == str(missing)
    assert "weights file mine.weights.h5" in card_lines(spec_node, IMAGES)  # the name, not the path
    qtbot.waitUntil(lambda: any("which does not exist" in m for m in editor.node_errors().get(node, [])),
                    timeout=5_000)
    assert str(missing) in editor.node_errors()[node][0]

    weights.setCurrentIndex(weights.findData("none"))
    qtbot.waitUntil(lambda: editor.analysis() is not None and editor.analysis().valid, timeout=5_000)
    assert editor.analysis().nodes[node].shape == (1280,)


def test_the_template_menu_opens_the_image_template_with_a_pretrained_backbone(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QAction

    from automl_studio.gui.editor.network_editor import NetworkEditor

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    editor = NetworkEditor()
    qtbot.addWidget(editor)
    editor.set_signature(IMAGES)
    editor.show()
    qtbot.waitExposed(editor)
    action = editor.template_button.menu().findChild(QAction, "template_image_backbone")
    assert action is not None and action.text() == "Image, pretrained backbone"
    action.trigger()

    kinds = {n["id"]: n["type"] for n in editor.spec()["nodes"]}
    assert kinds["backbone"] == "Backbone" and "Conv2D" not in kinds.values()
    qtbot.waitUntil(lambda: bool(editor.node_errors().get("backbone")), timeout=5_000)
    assert "needs the ImageNet weights file" in editor.node_errors()["backbone"][0]
    editor.undo_stack.undo()  # one undo step, like any template
    assert "backbone" not in {n["id"] for n in editor.spec()["nodes"]}
