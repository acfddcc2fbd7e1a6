"""The visual network editor, driven like a user: palette drops, port drags, inspector edits.

Every graph built here is checked the way the search checks it (``SearchSpace.from_dict`` and
``shapes.analyse``), and one is searched for real.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import IRIS
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QToolButton,
    QWidget,
)

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.shapes import analyse
from automl_studio.engine.space.spec import SearchSpace, hyperparameter_items
from automl_studio.gui.editor.network_editor import NetworkEditor
from automl_studio.gui.editor.node_inspector import ParamEditor

IMAGE = DataSignature("classification", 2, {"image": (16, 16, 3)}, image_scale=1 / 255)
SEQUENCE = DataSignature("regression", 0, {"sequence": (20, 2)}, target_mean=1.0, target_std=2.0)
TEXT_AND_TABLE = DataSignature("classification", 2, {"text": (12,), "numeric": (3,)}, text_tokens=40,
                               numeric_mean=(0.0,) * 3, numeric_variance=(1.0,) * 3)


# -- driving helpers -------------------------------------------------------------------------


def drop_from_palette(editor: NetworkEditor, label: str, scene_pos: tuple[float, float]) -> str:
    """Drags a palette item onto the canvas at a scene point; returns the new node's id."""
    before = {n["id"] for n in editor.spec()["nodes"]}
    mime: QMimeData = editor.palette_panel.mime_for(label)
    assert mime.formats(), f"no palette item {label!r}"
    viewport = editor.canvas.viewport()
    point = editor.canvas.mapFromScene(QPointF(*scene_pos))
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    (new,) = {n["id"] for n in editor.spec()["nodes"]} - before
    return new


def view_point(editor: NetworkEditor, node_id: str, port: str) -> QPoint:
    item = editor.canvas.node_item(node_id)
    return editor.canvas.mapFromScene(item.port_pos(port))


def drag_port(qtbot, editor: NetworkEditor, source: str, dest: str) -> None:
    """Presses on ``source``'s output port, moves, and releases on ``dest``'s input port."""
    viewport = editor.canvas.viewport()
    # Scroll as a person would, so both ports are on screen (Fit keeps cards readable, not whole).
    a = editor.canvas.node_item(source).port_pos("out")
    b = editor.canvas.node_item(dest).port_pos("in")
    editor.canvas.centerOn((a + b) / 2)
    start, end = view_point(editor, source, "out"), view_point(editor, dest, "in")
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    middle = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    qtbot.mouseMove(viewport, middle)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


def click_node(qtbot, editor: NetworkEditor, node_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    item = editor.canvas.node_item(node_id)
    editor.canvas.ensureVisible(item)
    point = editor.canvas.mapFromScene(item.mapToScene(QPointF(100, 45)))
    qtbot.mouseClick(editor.canvas.viewport(), Qt.MouseButton.LeftButton, modifier, point)


def param_editor(editor: NetworkEditor, name: str) -> ParamEditor:
    found = editor.inspector.findChild(ParamEditor, f"param_{name}")
    assert found is not None and found.isVisible(), f"no visible editor for {name}"
    return found


def build_mlp(qtbot, editor: NetworkEditor) -> dict[str, str]:
    """Input → Dense → Dropout → Output, built from the palette and joined by port drags."""
    ids = {
        "input": drop_from_palette(editor, "Numeric columns (4,)", (0, 0)),
        "dense": drop_from_palette(editor, "Dense", (280, 0)),
        "dropout": drop_from_palette(editor, "Dropout", (560, 0)),
        "head": drop_from_palette(editor, "Output", (840, 0)),
    }
    editor.canvas.fit_all()
    drag_port(qtbot, editor, ids["input"], ids["dense"])
    drag_port(qtbot, editor, ids["dense"], ids["dropout"])
    drag_port(qtbot, editor, ids["dropout"], ids["head"])
    return ids


def assert_searchable(spec: dict[str, Any], signature: DataSignature) -> None:
    analysis = analyse(SearchSpace.from_dict(spec), signature)
    assert analysis.valid, analysis.issues


# -- tests ---------------------------------------------------------------------------------


def test_objects_are_named_for_automation(editor: NetworkEditor) -> None:
    for name in ("networkEditor", "nodeCanvas", "nodePalette", "paletteSearch", "nodeInspector",
                 "codeView", "copyCode", "autoLayout", "fitView"):
        widget = editor if name == "networkEditor" else editor.findChild(object, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_palette_search_filters_and_offers_the_datas_inputs(qtbot, editor: NetworkEditor) -> None:
    labels = editor.palette_panel.labels()
    assert "Numeric columns (4,)" in labels
    assert not any("image" in label.lower() for label in labels)  # iris has no images
    qtbot.keyClicks(editor.palette_panel.search, "pool")
    assert set(editor.palette_panel.labels()) >= {"MaxPooling2D", "GlobalAveragePooling1D"}
    assert "Dense" not in editor.palette_panel.labels()
    editor.palette_panel.search.clear()
    editor.set_signature(IMAGE)
    assert "Images (16, 16, 3)" in editor.palette_panel.labels()


NEW_LAYERS = {  # the layer types issue #18 added, by palette group
    "Recurrent": ("SimpleRNN", "ConvLSTM1D"),
    "Convolution": ("Conv1DTranspose", "Conv2DTranspose", "UpSampling1D", "UpSampling2D",
                    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D"),
    "Pooling": ("GlobalMaxPooling1D", "GlobalMaxPooling2D"),
    "Attention & embedding": ("Attention", "AdditiveAttention", "TransformerEncoder"),
}


def test_the_palette_offers_the_new_layer_types_and_a_transformer_graph_is_searchable(
        qtbot, editor: NetworkEditor) -> None:
    editor.set_signature(SEQUENCE)
    palette = editor.palette_panel
    for group, names in NEW_LAYERS.items():
        for name in names:
            index = palette.index_of(name)
            assert index.isValid() and index.parent().data() == group, name
            assert index.data(Qt.ItemDataRole.ToolTipRole), name  # its help text
    qtbot.keyClicks(palette.search, "transformer")
    assert palette.labels() == ["TransformerEncoder"]
    palette.search.clear()

    ids = {
        "input": drop_from_palette(editor, "Sequences (20, 2)", (0, 0)),
        "encoder": drop_from_palette(editor, "TransformerEncoder", (280, 0)),
        "pool": drop_from_palette(editor, "GlobalMaxPooling1D", (560, 0)),
        "head": drop_from_palette(editor, "Output", (840, 0)),
    }
    editor.canvas.fit_all()
    drag_port(qtbot, editor, ids["input"], ids["encoder"])
    drag_port(qtbot, editor, ids["encoder"], ids["pool"])
    drag_port(qtbot, editor, ids["pool"], ids["head"])
    spec = editor.spec()
    assert ids["encoder"] == "transformer"
    assert {n["type"] for n in spec["nodes"]} == {"Input", "TransformerEncoder", "GlobalMaxPooling1D",
                                                  "Output"}
    assert editor.validity() == (True, "")
    assert_searchable(spec, SEQUENCE)


def test_a_graph_drawn_with_the_mouse_is_searchable(qtbot, editor: NetworkEditor, iris_signature,
                                                      tmp_path: Path) -> None:
    with qtbot.waitSignal(editor.validityChanged, timeout=2000,
                          check_params_cb=lambda valid, reason: valid and reason == ""):
        ids = build_mlp(qtbot, editor)
    spec = editor.spec()
    assert [tuple(e) for e in spec["edges"]] == [(ids["input"], ids["dense"]), (ids["dense"], ids["dropout"]),
                                                 (ids["dropout"], ids["head"])]
    assert all(len(n["position"]) == 2 for n in spec["nodes"])
    assert_searchable(spec, iris_signature)

    # The inspector turns units into a range and makes dropout optional.
    click_node(qtbot, editor, ids["dense"])
    assert editor.selected_nodes() == [ids["dense"]]
    units = param_editor(editor, "units")
    qtbot.mouseClick(units.search, Qt.MouseButton.LeftButton)
    assert editor.spec()["nodes"][1]["params"]["units"] == {"hp": "int", "min": 16, "max": 256, "step": 16}
    low = units.findChild(QSpinBox, "param_units_min")
    low.lineEdit().selectAll()
    qtbot.keyClicks(low.lineEdit(), "32")
    qtbot.keyClick(low.lineEdit(), Qt.Key.Key_Enter)
    activation = param_editor(editor, "activation")
    qtbot.mouseClick(activation.search, Qt.MouseButton.LeftButton)
    choices = activation.findChild(QListWidget, "param_activation_choices")
    choices.item(choices.count() - 1).setCheckState(Qt.CheckState.Checked)  # + linear
    click_node(qtbot, editor, ids["dropout"])
    qtbot.mouseClick(editor.inspector.findChild(QCheckBox, "nodeOptional"), Qt.MouseButton.LeftButton)
    rate = param_editor(editor, "rate")
    qtbot.mouseClick(rate.search, Qt.MouseButton.LeftButton)

    spec = editor.spec()
    nodes = {n["id"]: n for n in spec["nodes"]}
    assert nodes[ids["dense"]]["params"]["units"] == {"hp": "int", "min": 32, "max": 256, "step": 16}
    assert nodes[ids["dense"]]["params"]["activation"] == {"hp": "choice", "values": ["relu", "gelu", "swish",
                                                                                        "linear"]}
    assert nodes[ids["dropout"]]["optional"] is True
    assert nodes[ids["dropout"]]["params"]["rate"]["hp"] == "float"
    assert_searchable(spec, iris_signature)
    # The dropout rate is a float range, so the configurations cannot be counted.
    assert editor.inspector.configurations.text() == "continuous (a float range is searched)"
    assert "Ready to search" in editor.status_text()

    # Compiled and searched by the engine, as the Start button would.
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    result = run_search(SearchConfig(data_path=str(IRIS), project_dir=str(tmp_path / "search"), space=spec,
                                     max_trials=1, max_epochs=1, tuner="random", export_keras=False,
                                     tensorboard=False))
    assert result.status == "completed", result.message
    assert "dense.units" in result.best_hyperparameters


def test_branches_and_merges_are_drawn_with_shapes_on_edges(qtbot, editor: NetworkEditor, iris_signature) -> None:
    source = editor.add_node("Input", (0, 0), {"source": "numeric"})
    left = editor.add_node("Dense", (280, -120), {"units": 8})
    right = editor.add_node("Dense", (280, 120), {"units": 16})
    merge = drop_from_palette(editor, "Concatenate", (560, 0))
    head = drop_from_palette(editor, "Output", (840, 0))
    editor.canvas.fit_all()
    for a, b in ((source, left), (source, right), (left, merge), (right, merge), (merge, head)):
        drag_port(qtbot, editor, a, b)
    spec = editor.spec()
    assert [merge, head] in spec["edges"] and [left, merge] in spec["edges"] and [right, merge] in spec["edges"]
    assert_searchable(spec, iris_signature)
    labels = {e.key(): e.label for e in editor.canvas.edge_items()}
    assert labels[(left, merge)] == "8"
    assert labels[(merge, head)] == "24"
    assert editor.canvas.node_item(merge).view.shape == "(24,)"
    assert editor.canvas.node_item(right).view.params == "80 params"  # 4 × 16 + 16


def test_disconnecting_the_head_shows_a_dangling_input_badge(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    head_edge = next(e for e in editor.canvas.edge_items() if e.key() == (ids["dropout"], ids["head"]))
    editor.select_nodes([])
    middle = editor.canvas.mapFromScene(head_edge.path().pointAtPercent(0.3))
    qtbot.mouseClick(editor.canvas.viewport(), Qt.MouseButton.LeftButton, pos=middle)
    assert editor.canvas.selected_edges() == [(ids["dropout"], ids["head"])]
    with qtbot.waitSignal(editor.validityChanged, timeout=2000) as blocker:
        editor.canvas.setFocus()
        qtbot.keyClick(editor.canvas, Qt.Key.Key_Delete)
    valid, reason = blocker.args
    assert not valid and "dangling input" in reason
    assert "dangling input" in editor.status_text()
    item = editor.canvas.node_item(ids["head"])
    assert item.view.errors and "dangling input" in item.toolTip()
    click_node(qtbot, editor, ids["head"])
    assert "dangling input" in editor.inspector.errors.text()
    with qtbot.waitSignal(editor.validityChanged, timeout=2000,
                          check_params_cb=lambda valid, _reason: valid):
        drag_port(qtbot, editor, ids["dropout"], ids["head"])
    assert not editor.canvas.node_item(ids["head"]).view.errors


def test_conv2d_on_a_table_is_a_shape_error(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    conv = drop_from_palette(editor, "Conv2D", (280, 220))
    with qtbot.waitSignal(editor.validityChanged, timeout=2000) as blocker:
        drag_port(qtbot, editor, ids["input"], conv)
    valid, reason = blocker.args
    assert not valid
    errors = editor.node_errors()[conv]
    assert any("image (height, width, channels)" in e for e in errors), errors
    assert editor.canvas.node_item(conv).view.errors == errors
    assert "Conv2D" in reason


def test_connections_that_cannot_work_are_refused(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    before = editor.spec()
    assert not editor.connect_nodes(ids["head"], ids["dense"])  # nothing follows the Output
    assert "nothing can follow it" in editor.status_text()
    assert not editor.connect_nodes(ids["dropout"], ids["dense"])  # a cycle
    assert "would make a cycle" in editor.status_text()
    assert not editor.connect_nodes(ids["dense"], ids["input"])  # an Input takes no input
    assert "reads the dataset and takes no input" in editor.status_text()
    assert editor.spec() == before


def test_undo_and_redo_round_trip_the_spec_exactly(qtbot, editor: NetworkEditor) -> None:
    snapshots = [editor.spec()]
    ids = build_mlp(qtbot, editor)
    snapshots.append(editor.spec())
    editor.set_param(ids["dense"], "units", {"hp": "int", "min": 8, "max": 64, "step": 8})
    editor.set_optional(ids["dropout"], True)
    editor.group_repeat([ids["dense"], ids["dropout"]], 1, 3)
    editor.auto_layout()
    extra = editor.add_node("BatchNormalization", (100, 300))
    editor.remove_nodes([extra])
    final = editor.spec()
    assert final["repeats"][0]["nodes"] == [ids["dense"], ids["dropout"]]
    steps = editor.undo_stack.count()
    editor.canvas.setFocus()
    for _ in range(steps):
        qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.spec() == snapshots[0]
    for _ in range(steps):
        qtbot.keyClick(editor.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert editor.spec() == final


def test_moving_a_node_by_mouse_is_one_undo_step(qtbot, editor: NetworkEditor) -> None:
    node = editor.add_node("Dense", (0, 0))
    item = editor.canvas.node_item(node)
    viewport = editor.canvas.viewport()
    start = editor.canvas.mapFromScene(item.mapToScene(QPointF(100, 45)))
    end = start + QPoint(60, 30)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(20, 10))
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    moved = editor.spec()["nodes"][0]["position"]
    scale = editor.canvas.zoom()
    assert moved == pytest.approx([60 / scale, 30 / scale], abs=2)
    editor.undo_stack.undo()
    assert editor.spec()["nodes"][0]["position"] == [0.0, 0.0]


def test_copy_and_paste_duplicate_nodes_and_their_edges(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    click_node(qtbot, editor, ids["dense"])
    click_node(qtbot, editor, ids["dropout"], Qt.KeyboardModifier.ControlModifier)
    assert set(editor.selected_nodes()) == {ids["dense"], ids["dropout"]}
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    spec = editor.spec()
    assert len(spec["nodes"]) == 6
    new = set(editor.selected_nodes())
    assert len(new) == 2 and not new & set(ids.values())
    assert any(a in new and b in new for a, b in spec["edges"])
    original = {n["id"]: n for n in spec["nodes"]}[ids["dense"]]["position"]
    pasted = next(n for n in spec["nodes"] if n["id"] in new and n["type"] == "Dense")["position"]
    assert pasted == [original[0] + 40, original[1] + 40]
    editor.undo_stack.undo()
    assert len(editor.spec()["nodes"]) == 4


def test_a_selected_chain_becomes_a_repeat_block_from_the_inspector(qtbot, editor: NetworkEditor,
                                                                      iris_signature) -> None:
    ids = build_mlp(qtbot, editor)
    editor.select_nodes([ids["dense"], ids["dropout"]])
    inspector = editor.inspector
    inspector.findChild(QSpinBox, "repeatMin").setValue(0)
    inspector.findChild(QSpinBox, "repeatMax").setValue(4)
    group = inspector.findChild(QToolButton, "groupRepeat") or inspector.findChild(object, "groupRepeat")
    assert group.isEnabled()
    qtbot.mouseClick(group, Qt.MouseButton.LeftButton)
    spec = editor.spec()
    assert spec["repeats"] == [{"id": "block", "nodes": [ids["dense"], ids["dropout"]], "min": 0, "max": 4}]
    assert_searchable(spec, iris_signature)
    frame = editor.canvas.frame_items()["block"]
    assert "repeat 0–4×" in frame.label
    assert "configurations" in inspector.configurations.text()
    # Widening the range in the inspector is an edit like any other.
    click_node(qtbot, editor, ids["dense"])
    inspector.findChild(QSpinBox, "repeatMax").setValue(6)
    assert editor.spec()["repeats"][0]["max"] == 6
    qtbot.mouseClick(inspector.findChild(object, "ungroupRepeat"), Qt.MouseButton.LeftButton)
    assert editor.spec()["repeats"] == []


def test_a_selection_that_cannot_repeat_shows_only_why(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    inspector = editor.inspector
    counts, group = inspector.findChild(QWidget, "repeatCounts"), inspector.findChild(object, "groupRepeat")
    note = inspector.findChild(QLabel, "repeatNote")
    for selection, why in (([ids["input"]], "an Input layer cannot repeat"),
                           ([ids["input"], ids["dense"]], "an Input layer cannot repeat")):
        editor.select_nodes(selection)
        assert inspector.repeat_box.isVisibleTo(inspector) and note.text() == why
        assert not counts.isVisibleTo(inspector) and not group.isVisibleTo(inspector)
    editor.select_nodes([ids["dense"], ids["dropout"]])  # a chain that can: the counts and the button return
    assert counts.isVisibleTo(inspector) and group.isVisibleTo(inspector) and group.isEnabled()
    assert note.text().startswith("Repeat the selected chain")


@pytest.mark.parametrize(("name", "signature"), [("tabular", None), ("image", IMAGE), ("residual", IMAGE),
                                                 ("sequence", SEQUENCE), ("forecast", SEQUENCE),
                                                 ("text", TEXT_AND_TABLE)])
def test_templates_open_as_valid_plain_graphs(qtbot, editor: NetworkEditor, iris_signature, name: str,
                                               signature: DataSignature | None) -> None:
    signature = signature or iris_signature
    editor.set_signature(signature)
    with qtbot.waitSignal(editor.specChanged, timeout=2000):
        editor.load_template(name)
    spec = editor.spec()
    assert "template" not in spec
    assert all("position" in n for n in spec["nodes"])
    assert editor.validity() == (True, "")
    assert_searchable(spec, signature)
    assert not any(item.view.errors for item in (editor.canvas.node_item(n["id"]) for n in spec["nodes"]))
    # Every edge is drawn with the shape it carries (#17: "shapes shown on every edge").
    labels = {e.key(): e.label for e in editor.canvas.edge_items()}
    assert set(labels) == {tuple(edge) for edge in spec["edges"]} and all(labels.values()), labels
    if name == "text":  # a branch per input, merged: the token ids and the table's numbers
        inputs = sorted(n["params"]["source"] for n in spec["nodes"] if n["type"] == "Input")
        assert inputs == ["numeric", "text"] and any(n["type"] == "Concatenate" for n in spec["nodes"])
        assert labels[("text", "rnn")] == "12×32…64" and labels[("numeric", "features")] == "3"
    if name == "forecast":  # the window's steps × columns reach the recurrent layers
        assert labels[("window", "conv")] == "20×2"
    editor.undo_stack.undo()
    assert editor.spec()["nodes"] == []


def test_set_spec_round_trips_and_a_spec_without_a_dataset_is_not_startable(qtbot) -> None:
    from automl_studio.engine.space.templates import template_spec

    editor = NetworkEditor()
    qtbot.addWidget(editor)
    spec = template_spec("tabular")
    spec.pop("template")
    with qtbot.waitSignal(editor.specChanged):
        editor.set_spec(spec)
    out = editor.spec()
    assert [n["id"] for n in out["nodes"]] == [n["id"] for n in spec["nodes"]]
    assert {k: v for k, v in out.items() if k != "nodes"} == {k: v for k, v in spec.items() if k != "nodes"}
    assert editor.validity()[0] is False and "dataset" in editor.validity()[1]
    again = NetworkEditor()
    qtbot.addWidget(again)
    again.set_spec(out)
    assert again.spec() == out  # positions and all
    assert editor.undo_stack.count() == 0


def test_show_trial_fills_in_the_winning_values(qtbot, editor: NetworkEditor) -> None:
    editor.load_template("tabular")
    values = {"block.repeats": 2, "dense.units.0": 64, "dense.units.1": 32, "dense.activation.0": "gelu",
              "batch_norm.enabled.0": False, "batch_norm.enabled.1": False, "dropout.enabled.0": True,
              "dropout.enabled.1": False, "dropout.rate.0": 0.3, "training.learning_rate": 0.002}
    editor.show_trial(values)
    assert editor.trial_bar.isVisible()
    dense = editor.canvas.node_item("dense").view
    assert "units = 64, 32" in dense.lines
    assert "activation = gelu, relu" in dense.lines
    assert editor.canvas.node_item("batch_norm").view.skipped
    assert "2× in this trial" in editor.canvas.frame_items()["block"].label
    assert "training.learning_rate = 0.002" in editor.trial_label.text()
    qtbot.mouseClick(editor.findChild(object, "clearTrial"), Qt.MouseButton.LeftButton)
    assert not editor.trial_bar.isVisible()
    assert editor.canvas.node_item("dense").view.lines[0].startswith("⇄ units")


def test_code_view_shows_kerastuner_code_and_copies_it(qtbot, editor: NetworkEditor) -> None:
    editor.load_template("tabular")
    editor.side.setCurrentWidget(editor.code_view)
    code = editor.findChild(object, "codeView").toPlainText()
    assert "def build(hp):" in code and 'hp.Int("block.repeats", 0, 4)' in code
    qtbot.mouseClick(editor.findChild(object, "copyCode"), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    compile(code, "<editor>", "exec")


def test_fit_zoom_auto_layout_and_training_settings(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    editor.move_nodes({ids["head"]: (1500.0, 900.0)})
    qtbot.mouseClick(editor.findChild(object, "autoLayout"), Qt.MouseButton.LeftButton)
    spec = editor.spec()
    # One column per depth; a long chain may wrap into rows, read like text.
    reading_order = sorted(spec["nodes"], key=lambda n: (n["position"][1], n["position"][0]))
    assert [n["id"] for n in reading_order] == [ids["input"], ids["dense"], ids["dropout"], ids["head"]]
    assert len({tuple(n["position"]) for n in spec["nodes"]}) == 4
    qtbot.mouseClick(editor.findChild(object, "fitView"), Qt.MouseButton.LeftButton)
    before = editor.canvas.zoom()
    wheel = QWheelEvent(QPointF(200, 200), QPointF(editor.canvas.viewport().mapToGlobal(QPoint(200, 200))),
                        QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(editor.canvas.viewport(), wheel)
    assert editor.canvas.zoom() > before * 1.1
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_F)
    assert editor.canvas.zoom() == pytest.approx(before)
    # With nothing selected the inspector edits the training settings.
    editor.select_nodes([])
    optimizer = editor.inspector.findChild(ParamEditor, "training_optimizer")
    assert optimizer.isVisible()
    combo = optimizer.findChild(QComboBox, "param_optimizer_value")
    combo.setCurrentIndex(combo.findData("sgd"))
    assert editor.spec()["training"]["optimizer"] == "sgd"
    schedule = editor.inspector.findChild(ParamEditor, "training_lr_schedule")
    qtbot.mouseClick(editor.inspector.advanced_toggle, Qt.MouseButton.LeftButton)  # folded at first
    qtbot.mouseClick(schedule.search, Qt.MouseButton.LeftButton)
    assert editor.spec()["training"]["lr_schedule"]["hp"] == "choice"


def test_param_lists_and_bad_entries(qtbot, editor: NetworkEditor) -> None:
    node = editor.add_node("Conv1D", (0, 0))
    kernel = param_editor(editor, "kernel_size")
    qtbot.mouseClick(kernel.search, Qt.MouseButton.LeftButton)
    mode = kernel.findChild(QComboBox, "param_kernel_size_mode")
    mode.setCurrentIndex(mode.findData("values"))
    line = kernel.findChild(QLineEdit, "param_kernel_size_values")
    line.clear()
    qtbot.keyClicks(line, "3, 5, 7")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert editor.spec()["nodes"][0]["params"]["kernel_size"] == {"hp": "choice", "values": [3, 5, 7]}
    before = copy.deepcopy(editor.spec())
    line.clear()
    qtbot.keyClicks(line, "three")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert editor.spec() == before  # unreadable: the last good value stays
    assert line.text() == "3, 5, 7"
    padding = param_editor(editor, "padding")
    padding.findChild(QComboBox, "param_padding_value").setCurrentIndex(1)
    assert editor.spec()["nodes"][0]["params"]["padding"] == "valid"
    assert node == "conv1d"


def test_middle_button_and_space_drag_pan_the_canvas(qtbot, editor: NetworkEditor) -> None:
    editor.add_node("Dense", (0, 0))
    viewport = editor.canvas.viewport()
    bar = editor.canvas.horizontalScrollBar()
    start = bar.value()
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(viewport, QPoint(250, 300))
    qtbot.mouseMove(viewport, QPoint(200, 300))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(200, 300))
    assert bar.value() == start + 100
    editor.canvas.setFocus()
    qtbot.keyPress(editor.canvas, Qt.Key.Key_Space)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=QPoint(200, 300))
    qtbot.mouseMove(viewport, QPoint(260, 300))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(260, 300))
    qtbot.keyRelease(editor.canvas, Qt.Key.Key_Space)
    assert bar.value() == start + 40
    assert editor.spec()["nodes"][0]["position"] == [0.0, 0.0]  # panning moved no node


def test_context_menu_offers_the_layers_actions(qtbot, editor: NetworkEditor) -> None:
    ids = build_mlp(qtbot, editor)
    point = editor.canvas.mapFromScene(editor.canvas.node_item(ids["dropout"]).mapToScene(QPointF(100, 45)))
    menu = editor.canvas_menu(point)
    assert editor.selected_nodes() == [ids["dropout"]]
    menu.findChild(QAction, "menuOptional").trigger()
    assert {n["id"]: n for n in editor.spec()["nodes"]}[ids["dropout"]].get("optional") is True
    menu = editor.canvas_menu(point)
    menu.findChild(QAction, "menuRepeat").trigger()
    assert editor.spec()["repeats"][0]["nodes"] == [ids["dropout"]]
    editor.select_nodes([])
    empty = editor.canvas.mapFromScene(QPointF(-400, -400))
    menu = editor.canvas_menu(empty)
    assert menu.findChild(QAction, "menuAutoLayout").isEnabled()


def test_a_shared_undo_stack_takes_the_edits_and_leaves_the_keys_to_its_owner(qtbot, iris_signature) -> None:
    from PySide6.QtGui import QUndoStack

    window_stack = QUndoStack()
    editor = NetworkEditor(undo_stack=window_stack)
    qtbot.addWidget(editor)
    editor.set_signature(iris_signature)
    editor.load_template("tabular")
    editor.add_node("Dense", (0, 400))
    assert editor.undo_stack is window_stack and window_stack.count() == 2
    editor.load_template("tabular", undoable=False)  # a default for new data: not an edit
    assert window_stack.count() == 2 and len(editor.spec()["nodes"]) == 5
    assert editor.findChild(QAction, "undoAction") is None  # the window's Edit menu binds Ctrl+Z
    window_stack.undo()
    window_stack.undo()
    assert editor.spec()["nodes"] == []  # snapshots: undo restores what each edit replaced


def test_activating_a_palette_layer_adds_it_after_the_selected_one(qtbot, editor: NetworkEditor) -> None:
    source = editor.add_node("Input", (0, 0), {"source": "numeric"})
    editor.select_nodes([source])
    tree = editor.palette_panel.tree
    index = editor.palette_panel.index_of("Dense")
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(index).center())
    assert tree.currentIndex().data() == "Dense"
    qtbot.keyClick(tree, Qt.Key.Key_Return)  # Enter, like a double-click, activates the item
    spec = editor.spec()
    dense = next(n for n in spec["nodes"] if n["type"] == "Dense")
    assert [source, dense["id"]] in spec["edges"]
    assert dense["position"][0] > 0 and editor.selected_nodes() == [dense["id"]]
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert set(editor.selected_nodes()) == {source, dense["id"]}
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Backspace)
    assert editor.spec()["nodes"] == [] and editor.spec()["edges"] == []
    assert editor.validity() == (False, "The network is empty: add an Input, some layers and an Output.")


def test_renaming_a_layer_renames_its_hyperparameters(qtbot, editor: NetworkEditor, iris_signature) -> None:
    editor.load_template("tabular")
    click_node(qtbot, editor, "dense")
    name = editor.inspector.findChild(QLineEdit, "nodeName")
    assert name.text() == "dense"
    name.selectAll()
    qtbot.keyClicks(name, "hidden")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    spec = editor.spec()
    assert "hidden" in {n["id"] for n in spec["nodes"]} and "dense" not in {n["id"] for n in spec["nodes"]}
    assert spec["repeats"][0]["nodes"][0] == "hidden"
    assert ["numeric", "hidden"] in spec["edges"]
    names = {h for h, _ in hyperparameter_items(SearchSpace.from_dict(spec))}
    assert "hidden.units.0" in names
    assert_searchable(spec, iris_signature)
    problem = editor.inspector.findChild(QLabel, "nodeNameError")
    assert not editor.rename_node("hidden", "head")  # taken
    assert "already a layer or block called 'head'" in problem.text() and problem.isVisible()
    assert not editor.rename_node("hidden", "a.b")  # a dot would clash with hp names
    assert "'a.b' is not a layer name" in problem.text()
    assert name.text() == "hidden"
    editor.undo_stack.undo()
    assert "dense" in {n["id"] for n in editor.spec()["nodes"]}


def test_the_auto_layout_is_plain_data_in_and_positions_out() -> None:
    from automl_studio.gui.editor.layout import layout_positions

    ids = ["in", "a", "b", "merge", "out"]
    edges = [("in", "a"), ("in", "b"), ("a", "merge"), ("b", "merge"), ("merge", "out")]
    pos = layout_positions(ids, edges, dict.fromkeys(ids, 100.0), 200.0, view=(5000.0, 2000.0))
    assert pos["in"][0] < pos["a"][0] == pos["b"][0] < pos["merge"][0] < pos["out"][0]  # columns by depth
    assert pos["a"][1] != pos["b"][1] and pos["a"][1] + pos["b"][1] == 2 * pos["merge"][1]  # a symmetric fork
    chain = [f"n{k}" for k in range(12)]
    links = list(zip(chain, chain[1:], strict=False))
    block = chain[4:8]
    wrapped = layout_positions(chain, links, dict.fromkeys(chain, 100.0), 200.0, repeats=[block],
                               view=(900.0, 2000.0))
    assert len({y for _, y in wrapped.values()}) > 1  # a long chain in a narrow view wraps into rows
    assert len({wrapped[n][1] for n in block}) == 1  # never inside a repeat block
    reading = sorted(chain, key=lambda n: (wrapped[n][1], wrapped[n][0]))
    assert reading == chain  # read like text
