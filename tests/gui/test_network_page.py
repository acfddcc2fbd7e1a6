"""The Network page in the real window: the graph editor, its validity gating Start, its undo
history shared with the window, and a search run from an edited graph."""

from __future__ import annotations

import pytest
from conftest import input_sources, wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox, QWidget

SEARCH_TIMEOUT_MS = 300_000


def show_network_page(qtbot, window):
    qtbot.mouseClick(window.findChild(QWidget, "workflowNav").viewport(), Qt.MouseButton.LeftButton,
                     pos=window.nav.visualItemRect(window.nav.item(1)).center())
    assert window.pages.currentWidget().objectName() == "networkPage"
    editor = window.findChild(QWidget, "networkEditor")
    assert editor is not None and editor.isVisible()
    return editor


def test_iris_opens_as_a_valid_tabular_graph_and_an_invalid_one_blocks_start(qtbot, iris_window):
    w = iris_window
    editor = show_network_page(qtbot, w)
    assert input_sources(w) == {"numeric"}
    ids = [n["id"] for n in editor.spec()["nodes"]]
    assert ids == ["numeric", "dense", "batch_norm", "dropout", "head"]  # the tabular template
    assert editor.validity() == (True, "")
    assert "Ready to search" in editor.status_text()
    # Shapes come from the data: 4 numeric columns in (up to 16 quantile bins each, searched),
    # 3 iris classes out.
    assert editor.canvas.node_item("numeric").view.shape == "(4…64,)"
    assert editor.canvas.node_item("head").view.shape == "(3,)"
    assert any("3 classes" in line for line in editor.canvas.node_item("head").view.lines)
    start, note = w.findChild(QWidget, "startSearch"), w.findChild(QWidget, "startBlockedReason")
    assert start.isEnabled() and w.act_start.isEnabled() and note.isHidden()
    assert not w.isWindowModified()

    with qtbot.waitSignal(editor.validityChanged, timeout=2000) as blocker:
        editor.disconnect_nodes([("dropout", "head")])  # one undo command
    valid, reason = blocker.args
    assert not valid and "dangling input" in reason
    assert not start.isEnabled() and not w.act_start.isEnabled()
    assert w.act_start.toolTip() == reason and start.toolTip() == reason
    assert w.isWindowModified()  # a graph edit is a project edit
    w.nav.setCurrentRow(2)
    assert note.isVisible() and reason in note.text()
    w.act_start.trigger()  # Ctrl+R while disabled: nothing starts
    assert not w.search_page.running

    assert w.act_undo.isEnabled()
    with qtbot.waitSignal(editor.validityChanged, timeout=2000,
                          check_params_cb=lambda valid, _reason: valid):
        w.act_undo.trigger()  # the window's Edit ▸ Undo, on the one shared history
    assert ["dropout", "head"] in editor.spec()["edges"]
    assert start.isEnabled() and w.act_start.isEnabled() and note.isHidden()
    assert start.toolTip() == "Start a new search (Ctrl+R)"
    assert not w.isWindowModified()


def test_the_template_menu_replaces_the_graph_as_one_undo_step(qtbot, iris_window):
    w = iris_window
    editor = show_network_page(qtbot, w)
    before = editor.spec()
    menu = editor.findChild(QWidget, "templateMenu").menu()
    image = next(a for a in menu.actions() if a.objectName() == "template_image")
    with qtbot.waitSignal(editor.validityChanged, timeout=2000):
        image.trigger()
    assert not editor.validity()[0]  # a Conv2D network cannot read four numbers
    assert not w.findChild(QWidget, "startSearch").isEnabled()
    w.act_undo.trigger()
    assert editor.spec() == before and editor.validity() == (True, "")


@pytest.mark.slow
def test_a_search_runs_the_edited_graph(qtbot, iris_window, tmp_path):
    w = iris_window
    editor = show_network_page(qtbot, w)
    editor.select_nodes(["dense"])
    inspector = editor.inspector
    # One dense block, whose units the search picks from 40 or 48 (the template says 16–256).
    inspector.findChild(QSpinBox, "repeatMin").setValue(1)
    inspector.findChild(QSpinBox, "repeatMax").setValue(1)
    for name, value in (("param_units_step", 8), ("param_units_min", 40), ("param_units_max", 48)):
        box = inspector.findChild(QSpinBox, name)
        assert box is not None and box.isVisible(), name
        box.setValue(value)
    dense = next(n for n in editor.spec()["nodes"] if n["id"] == "dense")
    assert dense["params"]["units"] == {"hp": "int", "min": 40, "max": 48, "step": 8}

    page = w.search_page
    page.project_dir.setText(str(tmp_path / "edited"))
    w.findChild(QWidget, "maxTrials").setValue(1)
    page.max_epochs.setValue(1)
    tuner = w.findChild(QWidget, "tunerChoice")
    tuner.setCurrentIndex(tuner.findData("random"))
    with qtbot.waitSignal(page.controller.searchStarted, timeout=SEARCH_TIMEOUT_MS) as started:
        qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    # While it runs, the Network page says its edits are for the next search.
    show_network_page(qtbot, w)
    banner = w.network_page.findChild(QWidget, "searchRunningBannerText")
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=10_000)
    assert "Edits apply to the next search" in banner.text()
    space = started.args[0].settings["space"]
    sent = next(n for n in space["nodes"] if n["id"] == "dense")
    assert sent["params"]["units"] == {"hp": "int", "min": 40, "max": 48, "step": 8}
    assert space["repeats"][0]["min"] == space["repeats"][0]["max"] == 1
    assert space["training"]["epochs"] == 1  # from the Search page
    qtbot.waitUntil(lambda: page.last_finish is not None, timeout=SEARCH_TIMEOUT_MS)
    assert page.last_finish.status == "completed", page.last_finish
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)

    model = page.trials_model
    columns = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "dense.units.0" in columns and "block.repeats" not in columns  # one block: not searched
    units = model.index(0, columns.index("dense.units.0")).data()
    assert int(units) in (40, 48)
    # The winner's values are filled in on the graph.
    assert not editor.findChild(QWidget, "trialBar").isHidden()
    assert f"units = {int(units)}" in editor.canvas.node_item("dense").view.lines
    qtbot.mouseClick(editor.findChild(QWidget, "clearTrial"), Qt.MouseButton.LeftButton)
    assert editor.findChild(QWidget, "trialBar").isHidden()
    page.trials_table.selectRow(0)  # picking a trial on the Search page shows it on the graph
    assert not editor.findChild(QWidget, "trialBar").isHidden()


def test_a_project_with_an_automatic_space_opens_the_datas_template(qtbot, window, image_npz, tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.project import ProjectFile

    path = tmp_path / "auto.automl.json"
    ProjectFile(SearchConfig(data_path=str(image_npz), project_dir=str(tmp_path / "search")),
                name="auto").save(path)  # space="auto": the template follows the data
    assert window.open_project(str(path))
    wait_for_shapes(qtbot, window)
    assert input_sources(window) == {"image"}
    assert window.network_page.editor.validity() == (True, "")
    assert window.findChild(QWidget, "startSearch").isEnabled()
    assert not window.isWindowModified()  # laying out the saved choice is not an edit
