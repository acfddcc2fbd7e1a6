"""The editor's training box: each optimizer shows its own settings (with its own defaults), and
what is set there is what the engine compiles."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox

from automl_studio.engine.space.optimizers import OPTIMIZER_SETTINGS, OPTIMIZER_TYPES, OPTIMIZERS
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser
from automl_studio.gui.editor.node_inspector import ParamEditor


def training_editor(editor, name: str) -> ParamEditor:
    return editor.inspector.findChild(ParamEditor, f"training_{name}")


def expand_advanced(qtbot, editor) -> None:
    """Opens the training box's Advanced section (collapsed at first) with a click."""
    if not editor.inspector.advanced_expanded:
        qtbot.mouseClick(editor.inspector.advanced_toggle, Qt.MouseButton.LeftButton)


def choose_optimizer(editor, name: str) -> None:
    row = training_editor(editor, "optimizer")
    if row.search.isChecked():  # a template searches it: fix it first
        row.search.click()
    combo = row.findChild(QComboBox, "param_optimizer_value")
    combo.setCurrentIndex(combo.findData(name))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_shows_only_its_settings_with_its_defaults(qtbot, editor, name: str) -> None:
    editor.select_nodes([])
    expand_advanced(qtbot, editor)
    choose_optimizer(editor, name)
    optimizer = OPTIMIZER_TYPES[name]
    for setting in OPTIMIZER_SETTINGS:
        row = training_editor(editor, setting)
        assert row.isVisible() == (setting in optimizer.settings), setting
        if setting in optimizer.settings and OPTIMIZER_SETTINGS[setting].kind == "float":
            assert row.findChild(QDoubleSpinBox, f"param_{setting}_value").value() == pytest.approx(
                optimizer.default(setting))
    lr = training_editor(editor, "learning_rate").findChild(QDoubleSpinBox, "param_learning_rate_value")
    assert lr.value() == pytest.approx(optimizer.learning_rate)  # its own starting rate, until set
    assert training_editor(editor, "clipnorm").isVisible() and training_editor(editor, "clipvalue").isVisible()
    assert training_editor(editor, "momentum").toolTip()  # each setting says what it does


def test_plain_sgd_drawn_in_the_editor_is_what_the_engine_compiles(qtbot, editor) -> None:
    from automl_studio.engine.train.hypermodel import build_model

    editor.load_template("tabular")
    editor.select_nodes([])
    expand_advanced(qtbot, editor)
    choose_optimizer(editor, "sgd")
    training_editor(editor, "momentum").findChild(QDoubleSpinBox, "param_momentum_value").setValue(0.0)
    training_editor(editor, "nesterov").findChild(QCheckBox, "param_nesterov_value").setChecked(False)
    training_editor(editor, "clipnorm").findChild(QDoubleSpinBox, "param_clipnorm_value").setValue(1.0)
    qtbot.mouseClick(training_editor(editor, "momentum").search, Qt.MouseButton.LeftButton)
    training = editor.spec()["training"]
    assert training["optimizer"] == "sgd" and training["nesterov"] is False and training["clipnorm"] == 1.0
    assert training["momentum"]["hp"] == "float"  # searched now
    space = SearchSpace.from_dict(editor.spec())
    model = build_model(space, editor.signature(), fixed_chooser({"training.momentum": 0.0}))
    config = model.optimizer.get_config()
    assert type(model.optimizer).__name__ == "SGD"
    assert (config["momentum"], config["nesterov"], config["clipnorm"]) == (0.0, False, 1.0)
    # Another optimizer hides the SGD settings and keeps the spec valid.
    choose_optimizer(editor, "adam")
    assert not training_editor(editor, "momentum").isVisible() and training_editor(editor, "beta_1").isVisible()
    SearchSpace.from_dict(editor.spec())  # a setting no chosen optimizer takes is kept, unused
    assert editor.analysis().valid
    editor.undo_stack.undo()  # back to SGD
    assert editor.spec()["training"]["optimizer"] == "sgd" and training_editor(editor, "momentum").isVisible()


def test_advanced_training_settings_fold_away_and_what_is_set_there_reaches_spec_and_code(qtbot, editor) -> None:
    from automl_studio.gui.editor.node_inspector import BASIC_TRAINING, TRAINING_PARAMS

    editor.load_template("tabular")
    editor.select_nodes([])
    inspector = editor.inspector
    assert not inspector.advanced_expanded and not inspector.advanced.isVisible()  # collapsed at first
    for name in BASIC_TRAINING:
        assert training_editor(editor, name).isVisible(), name
    for name in ("lr_schedule", "clipnorm", "loss", "class_weight", "beta_1", "min_delta", "restore_best_weights"):
        assert not training_editor(editor, name).isVisible(), name
    for pdef in TRAINING_PARAMS:  # one sentence on each, on the field and its label
        tip = training_editor(editor, pdef.name).toolTip()
        assert tip.endswith(".") and len(re.split(r"(?<=[.!?])\s+(?=[A-Z])", tip)) == 1, (pdef.name, tip)
    with qtbot.waitSignal(inspector.advancedToggled, timeout=1000) as toggled:
        qtbot.mouseClick(inspector.advanced_toggle, Qt.MouseButton.LeftButton)
    assert toggled.args == [True] and inspector.advanced.isVisible()
    schedule = training_editor(editor, "lr_schedule").findChild(QComboBox, "param_lr_schedule_value")
    schedule.setCurrentIndex(schedule.findData("cosine"))
    training_editor(editor, "min_delta").findChild(QDoubleSpinBox, "param_min_delta_value").setValue(0.01)
    training_editor(editor, "restore_best_weights").findChild(QCheckBox, "param_restore_best_weights_value").click()
    assert not training_editor(editor, "min_delta").search.isEnabled()  # one value, never searched
    training = editor.spec()["training"]
    assert (training["lr_schedule"], training["min_delta"], training["restore_best_weights"]) == ("cosine", 0.01, False)
    code = editor.kerastuner_code()
    assert "CosineDecay" in code and "min_delta=0.01" in code and "restore_best_weights=False" in code
    SearchSpace.from_dict(editor.spec())
    with qtbot.waitSignal(inspector.advancedToggled, timeout=1000) as toggled:
        qtbot.mouseClick(inspector.advanced_toggle, Qt.MouseButton.LeftButton)
    assert toggled.args == [False] and not training_editor(editor, "lr_schedule").isVisible()


def test_the_window_remembers_the_advanced_section_and_saves_its_settings_in_the_project(
        qtbot, iris_window, settings_store, tmp_path) -> None:
    import json

    from conftest import open_second_window
    from PySide6.QtCore import QSettings

    from automl_studio.gui.settings_store import SettingsStore

    w = iris_window
    w.nav.setCurrentRow(1)  # the Network page
    editor = w.network_page.editor
    editor.select_nodes([])
    assert not editor.inspector.advanced_expanded
    expand_advanced(qtbot, editor)
    training_editor(editor, "min_delta").findChild(QDoubleSpinBox, "param_min_delta_value").setValue(0.02)
    w.search_page.project_dir.setText(str(tmp_path / "search"))
    project = tmp_path / "advanced.automl.json"
    assert w.save_project(str(project))
    assert json.loads(project.read_text())["search"]["space"]["training"]["min_delta"] == 0.02
    settings_store.sync()
    # The next run reads the same settings file afresh.
    again = SettingsStore(QSettings(settings_store.file_name, QSettings.Format.IniFormat))
    assert again.training_advanced_expanded()
    second = open_second_window(qtbot, again)
    assert second.network_page.editor.inspector.advanced_expanded
    qtbot.mouseClick(editor.inspector.advanced_toggle, Qt.MouseButton.LeftButton)
    assert not settings_store.training_advanced_expanded()
