"""The network editor never shows something untrue: what a person sees after each edit matches the
graph (a deleted middle layer leaves a whole chain, a refused range or name says so and stays
said, the code note follows the status), its text stays readable and its entries distinct."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QSpinBox, QWidget

from automl_studio.engine.data.signature import DataSignature
from automl_studio.gui.editor.network_editor import NetworkEditor
from automl_studio.gui.editor.node_inspector import ParamEditor
from automl_studio.gui.pages.network_page import NetworkPage

MIXED = DataSignature("classification", 2, {"numeric": (3,), "categorical": (2,)}, categorical_tokens=12)


def click_node(qtbot, editor: NetworkEditor, node_id: str) -> None:
    item = editor.canvas.node_item(node_id)
    editor.canvas.ensureVisible(item)
    point = editor.canvas.mapFromScene(item.mapToScene(QPointF(100, 45)))
    qtbot.mouseClick(editor.canvas.viewport(), Qt.MouseButton.LeftButton, pos=point)


def chain(editor: NetworkEditor) -> dict[str, str]:
    """Input → Dense → Dropout → Output (the set-up, not what is tested)."""
    ids = {"input": editor.add_node("Input", (0, 0), {"source": "numeric"})}
    ids["dense"] = editor.add_node("Dense", connect_from=ids["input"])
    ids["dropout"] = editor.add_node("Dropout", connect_from=ids["dense"])
    ids["head"] = editor.add_node("Output", connect_from=ids["dropout"])
    assert editor.validity() == (True, "")
    return ids


def type_into(qtbot, box: QSpinBox, text: str) -> None:
    line = box.lineEdit()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Enter)


# -- tests ------------------------------------------------------------------------------------


def test_deleting_a_middle_layer_joins_its_input_to_its_output_as_one_undo_step(qtbot, editor) -> None:
    ids = chain(editor)
    before = editor.spec()
    click_node(qtbot, editor, ids["dense"])
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Delete)
    spec = editor.spec()
    assert ids["dense"] not in {n["id"] for n in spec["nodes"]}
    assert [ids["input"], ids["dropout"]] in spec["edges"]
    assert editor.node_errors() == {}
    assert "Ready to search" in editor.status_text()
    assert not any(editor.canvas.node_item(n).view.errors for n in (ids["input"], ids["dropout"], ids["head"]))
    editor.undo_stack.undo()  # one step puts the layer and both its edges back
    assert editor.spec()["nodes"] == before["nodes"] and sorted(editor.spec()["edges"]) == sorted(before["edges"])


def test_fit_never_shrinks_card_text_below_a_readable_size(qtbot, editor) -> None:
    previous = editor.add_node("Input", (0, 0), {"source": "numeric"})
    first = previous
    for k in range(14):  # a long chain, laid out in one wide row
        previous = editor.add_node("Dense", (260.0 * (k + 1), 0), connect_from=previous)
    editor.add_node("Output", (260.0 * 15, 0), connect_from=previous)
    editor.resize(900, 600)
    qtbot.mouseClick(editor.findChild(QWidget, "fitView"), Qt.MouseButton.LeftButton)
    # A card's param lines are drawn at 0.84 of the canvas font (at least 6.5 pt).
    point = max(6.5, editor.canvas.font().pointSizeF() * 0.84)
    text_px = editor.canvas.zoom() * point * editor.canvas.logicalDpiY() / 72
    assert text_px >= 9.0 - 1e-6
    # The graph's start is on screen; the rest is a scroll away.
    viewport = editor.canvas.viewport().rect()
    start = editor.canvas.mapFromScene(editor.canvas.node_item(first).sceneBoundingRect().center())
    assert viewport.contains(start)
    assert editor.canvas.horizontalScrollBar().isVisible()


def test_every_palette_entry_is_distinct_and_read_whole(qtbot, editor) -> None:
    editor.set_signature(MIXED)
    palette = editor.palette_panel
    labels = palette.labels()
    assert len(labels) == len(set(labels))
    inputs = [label for label in labels if "ategor" in label]
    assert len(inputs) == 2 and any("one-hot" in x for x in inputs) and any("embedding" in x for x in inputs)
    tree = palette.tree
    for label in labels:
        index = palette.index_of(label)
        room = tree.visualRect(index).width()
        assert tree.fontMetrics().horizontalAdvance(label) + 8 <= room, f"{label!r} is cut"


def test_a_range_with_min_above_max_is_refused_with_a_message(qtbot, editor) -> None:
    ids = chain(editor)
    click_node(qtbot, editor, ids["dense"])
    units = editor.inspector.findChild(ParamEditor, "param_units")
    qtbot.mouseClick(units.search, Qt.MouseButton.LeftButton)
    searched = next(n for n in editor.spec()["nodes"] if n["id"] == ids["dense"])["params"]["units"]
    assert searched["hp"] == "int" and searched["max"] < 4000
    message = editor.inspector.findChild(QLabel, "param_units_rangeError")
    type_into(qtbot, editor.inspector.findChild(QSpinBox, "param_units_min"), "4000")
    node = next(n for n in editor.spec()["nodes"] if n["id"] == ids["dense"])
    assert node["params"]["units"] == searched  # not swapped into a range nobody typed
    assert message.isVisible() and "above the maximum" in message.text()
    type_into(qtbot, editor.inspector.findChild(QSpinBox, "param_units_max"), "5000")
    node = next(n for n in editor.spec()["nodes"] if n["id"] == ids["dense"])
    assert (node["params"]["units"]["min"], node["params"]["units"]["max"]) == (4000, 5000)
    assert not message.isVisible()


def test_repeat_counts_with_at_least_above_at_most_are_refused(qtbot, editor) -> None:
    editor.load_template("tabular")
    click_node(qtbot, editor, "dense")
    block = editor.spec()["repeats"][0]
    message = editor.inspector.findChild(QLabel, "repeatRangeError")
    type_into(qtbot, editor.inspector.findChild(QSpinBox, "repeatMin"), str(block["max"] + 2))
    assert editor.spec()["repeats"][0] == block  # not swapped into counts nobody typed
    assert message.isVisible() and "more than at most" in message.text()
    type_into(qtbot, editor.inspector.findChild(QSpinBox, "repeatMax"), str(block["max"] + 4))
    now = editor.spec()["repeats"][0]
    assert (now["min"], now["max"]) == (block["max"] + 2, block["max"] + 4)
    assert not message.isVisible()


def test_a_refused_name_stays_next_to_the_field_until_fixed(qtbot, editor) -> None:
    ids = chain(editor)
    click_node(qtbot, editor, ids["dense"])
    name = editor.inspector.findChild(QLineEdit, "nodeName")
    problem = editor.inspector.findChild(QLabel, "nodeNameError")
    name.selectAll()
    qtbot.keyClicks(name, "a.b")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert problem.isVisible() and "'a.b' is not a layer name" in problem.text()
    assert name.text() == "a.b"  # what was typed stays, to be fixed
    # Another edit redraws the inspector: the problem is still said.
    qtbot.mouseClick(editor.inspector.findChild(QWidget, "nodeOptional"), Qt.MouseButton.LeftButton)
    assert next(n for n in editor.spec()["nodes"] if n["id"] == ids["dense"]).get("optional")
    assert problem.isVisible() and name.text() == "a.b"
    name.selectAll()
    qtbot.keyClicks(name, "hidden")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert "hidden" in {n["id"] for n in editor.spec()["nodes"]}
    assert not problem.isVisible()


def test_the_code_note_follows_the_status(qtbot, editor) -> None:
    ids = chain(editor)
    editor.side.setCurrentWidget(editor.code_view)
    editor.disconnect_nodes([(ids["dropout"], ids["head"])])
    assert "the network has a problem" in editor.code_view.code()
    editor.connect_nodes(ids["dropout"], ids["head"])
    assert "Ready to search" in editor.status_text()
    assert "has a problem" not in editor.code_view.code()


def test_the_inspector_fits_the_network_page_of_a_1024_window(qtbot, iris_signature) -> None:
    """The page gets about 810×600 of a 1024×700 window (the rest is the navigation and bars)."""
    page = NetworkPage()
    qtbot.addWidget(page)
    page.show()
    page.resize(810, 600)
    page.set_signature(iris_signature, reset=True)
    qtbot.waitExposed(page)
    editor = page.editor
    inspector = editor.inspector
    for selection in ([], ["dense"]):
        editor.select_nodes(selection)
        qtbot.wait(10)  # one pass of the event loop lays the rows out
        right = inspector.viewport().width()
        for box in inspector.widget().findChildren(QGroupBox):
            if box.isVisible():
                assert box.geometry().right() <= right, f"{box.title()} runs past the edge"
    editor.select_nodes([])
    rate = inspector.findChild(ParamEditor, "training_learning_rate")
    if not rate.search.isChecked():
        qtbot.mouseClick(rate.search, Qt.MouseButton.LeftButton)
    for name in ("min", "max"):
        box = rate.findChild(QWidget, f"param_learning_rate_{name}")
        assert box.isVisible()
        shown = box.lineEdit()
        assert shown.fontMetrics().horizontalAdvance(shown.text()) <= shown.width(), f"{name} is cut"


# -- in the window ------------------------------------------------------------------------------


def test_the_edit_menu_edits_the_canvas_and_redo_answers_ctrl_y(qtbot, iris_window) -> None:
    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QMenu

    w = iris_window
    w.nav.setCurrentRow(0)
    editor = w.network_page.editor
    edit_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Edit")
    assert isinstance(edit_menu, QMenu)
    entries = {a.text().replace("&", ""): a for a in edit_menu.actions() if a.text()}
    assert not entries["Delete"].isEnabled()  # the canvas is not shown on the Data page
    w.nav.setCurrentRow(1)
    assert entries["Delete"].isEnabled()
    K = QKeySequence.StandardKey
    for text, key in (("Cut", K.Cut), ("Copy", K.Copy), ("Paste", K.Paste), ("Delete", K.Delete),
                      ("Select all", K.SelectAll)):
        assert text in entries, f"no Edit ▸ {text}"
        assert entries[text].shortcut() == QKeySequence(key)
    redo_keys = {k.toString() for k in w.act_redo.shortcuts()}
    assert "Ctrl+Y" in redo_keys and "Ctrl+Shift+Z" in redo_keys
    click_node(qtbot, editor, "dropout")
    entries["Delete"].trigger()
    assert "dropout" not in {n["id"] for n in editor.spec()["nodes"]}
    assert ["batch_norm", "head"] in editor.spec()["edges"]
    editor.canvas.setFocus()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "dropout" in {n["id"] for n in editor.spec()["nodes"]}
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert "dropout" not in {n["id"] for n in editor.spec()["nodes"]}
    entries["Select all"].trigger()
    assert set(editor.selected_nodes()) == {n["id"] for n in editor.spec()["nodes"]}
