"""The editor's training box: each optimizer shows its own settings (with its own defaults), and
what is set there is what the engine compiles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox

from automl_studio.engine.space.optimizers import OPTIMIZER_SETTINGS, OPTIMIZER_TYPES, OPTIMIZERS
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser
from automl_studio.gui.editor.node_inspector import ParamEditor


def training_editor(editor, name: str) -> ParamEditor:
    return editor.inspector.findChild(ParamEditor, f"training_{name}")


def choose_optimizer(editor, name: str) -> None:
    row = training_editor(editor, "optimizer")
    if row.search.isChecked():  # a template searches it: fix it first
        row.search.click()
    combo = row.findChild(QComboBox, "param_optimizer_value")
    combo.setCurrentIndex(combo.findData(name))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_shows_only_its_settings_with_its_defaults(qtbot, editor, name: str) -> None:
    editor.select_nodes([])
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
