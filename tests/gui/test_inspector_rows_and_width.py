"""The inspector as a new user meets it with a Backbone (#18): a row that only matters for another
param's value (``ParamDef.shown_if``) is hidden until that value is chosen, a file's path has a
Browse… button (Qt's own file dialog, driven here), and a long error with unbreakable file names
wraps inside the panel, so no field or Search button is pushed past its right edge (real widgets,
pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QPoint, QRect, Qt, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QPushButton

from automl_studio.engine.data.signature import DataSignature

IMAGES = DataSignature(task="classification", n_classes=2, inputs={"image": (32, 32, 3)}, image_scale=1 / 255)
TEXT = DataSignature(task="classification", n_classes=2, inputs={"text": (20,), "categorical": (3,), "numeric": (2,)},
                     text_tokens=100, categorical_tokens=12, numeric_mean=(0.0, 1.0), numeric_variance=(1.0, 4.0))


@pytest.fixture
def backbone_editor(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A shown editor with Input → Backbone → Output, the Backbone selected, and no ImageNet file
    (KERAS_HOME is an empty folder), so the Backbone's error names the missing file."""
    from automl_studio.gui.app import create_application
    from automl_studio.gui.editor.network_editor import NetworkEditor

    before = QApplication.instance().styleSheet()
    create_application()  # the app's stylesheet: its group boxes' padding is part of the width
    QCoreApplication.setOrganizationName("automl-studio-tests")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    editor = NetworkEditor()
    qtbot.addWidget(editor)
    editor.set_signature(IMAGES)
    editor.resize(1400, 840)
    editor.show()
    qtbot.waitExposed(editor)
    source = editor.add_node("Input", (0, 0), {"source": "image"})
    node = editor.add_node("Backbone", (240, 0), connect_from=source)
    editor.add_node("Output", (480, 0), connect_from=node)
    editor.select_nodes([node])
    yield editor
    QApplication.instance().setStyleSheet(before)


def row_shown(editor, name: str) -> bool:
    """Whether the inspector shows param ``name``'s row (its label and its editor)."""
    inspector = editor.inspector
    field = inspector.editors[name]
    label = inspector.params_form.labelForField(field)
    return field.isVisibleTo(inspector) and label is not None and label.isVisibleTo(inspector)


def params_of(editor, node: str) -> dict:
    return next(n for n in editor.spec()["nodes"] if n["id"] == node).get("params", {})


def test_a_row_is_shown_only_while_the_param_it_depends_on_has_its_value(qtbot, backbone_editor):
    editor = backbone_editor
    assert row_shown(editor, "weights") and row_shown(editor, "pooling")
    assert not row_shown(editor, "weights_file")  # weights = imagenet: a file is not read

    weights = editor.inspector.editors["weights"].value_box
    assert isinstance(weights, QComboBox)
    weights.setCurrentIndex(weights.findData("file"))
    assert params_of(editor, "backbone")["weights"] == "file"
    assert row_shown(editor, "weights_file")
    editor.undo_stack.undo()
    assert not row_shown(editor, "weights_file")
    editor.undo_stack.redo()
    assert row_shown(editor, "weights_file")
    weights.setCurrentIndex(weights.findData("none"))
    assert not row_shown(editor, "weights_file")

    # Searched: shown when the choices include a file, not when they do not.
    editor.set_param("backbone", "weights", {"hp": "choice", "values": ["imagenet", "file"]})
    assert row_shown(editor, "weights_file")
    editor.set_param("backbone", "weights", {"hp": "choice", "values": ["imagenet", "none"]})
    assert not row_shown(editor, "weights_file")


@pytest.fixture
def table_and_text_editor(qtbot):
    """A shown editor on a table of text, categorical and numeric columns, nothing drawn yet."""
    from automl_studio.gui.editor.network_editor import NetworkEditor

    editor = NetworkEditor()
    qtbot.addWidget(editor)
    editor.set_signature(TEXT)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def test_an_inputs_embedding_width_is_shown_for_an_embedding_and_for_text(table_and_text_editor):
    editor = table_and_text_editor
    categorical = editor.add_node("Input", (0, 0), {"source": "categorical"})
    text = editor.add_node("Input", (0, 200), {"source": "text"})
    editor.select_nodes([categorical])
    assert not row_shown(editor, "embedding_dim")  # one-hot codes have no width to choose
    editor.set_param(categorical, "encoding", "embedding")
    assert row_shown(editor, "embedding_dim")
    editor.select_nodes([text])
    assert row_shown(editor, "embedding_dim")  # text is always embedded
    assert not row_shown(editor, "encoding") and not row_shown(editor, "bins")


def test_an_inputs_encoding_row_is_for_categories_and_bins_for_numbers(table_and_text_editor):
    editor = table_and_text_editor
    numeric = editor.add_node("Input", (0, 0), {"source": "numeric"})
    categorical = editor.add_node("Input", (0, 200), {"source": "categorical"})
    editor.select_nodes([numeric])
    assert row_shown(editor, "bins") and not row_shown(editor, "encoding") and not row_shown(editor, "embedding_dim")
    from automl_studio.engine.space.registry import LAYER_TYPES
    from automl_studio.gui.editor.node_inspector import default_search

    # One click on Search offers the template's choice: standardised values or 8 or 16 bins.
    assert default_search(LAYER_TYPES["Input"].param("bins"), 0) == {"hp": "choice", "values": [0, 8, 16]}
    editor.set_param(numeric, "bins", {"hp": "choice", "values": [0, 8]})
    # The card and the shape say what the search varies: 2 columns standardised, or 2 × 8 bins.
    view = editor.canvas.node_item(numeric).view
    assert view.shape == "(2…16,)" and "⇄ bins 0 | 8" in view.lines
    editor.select_nodes([categorical])
    assert row_shown(editor, "encoding") and not row_shown(editor, "bins")
    editor.set_param(categorical, "encoding", {"hp": "choice", "values": ["one_hot", "embedding"]})
    editor.set_param(categorical, "embedding_dim", 2)
    # One-hot: 12 codes; embedded: 3 columns × 2. The range reads smaller first.
    assert editor.canvas.node_item(categorical).view.shape == "(6…12,)"


@pytest.fixture
def qt_file_dialog():
    """Qt's own file dialog (the offscreen platform has no native one; a desktop may)."""
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    yield
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, False)


# Qt's own file dialog lists folders with a QFileSystemModel whose watcher thread starts timers
# from that thread (Qt's code, not ours), and Qt says so.
@pytest.mark.qt_log_ignore(r"QBasicTimer::start: Timers cannot be started from another thread")
def test_browse_puts_the_chosen_file_in_the_spec_as_one_undo_step(qtbot, backbone_editor, qt_file_dialog,
                                                                   tmp_path: Path):
    editor = backbone_editor
    editor.set_param("backbone", "weights", "file")
    chosen = tmp_path / "weights" / "mine.weights.h5"
    chosen.parent.mkdir()
    chosen.write_bytes(b"not really weights")
    browse = editor.inspector.findChild(QPushButton, "param_weights_file_browse")
    assert browse is not None and browse.isVisibleTo(editor.inspector) and browse.text() == "Browse…"
    seen: dict = {}

    def choose() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(10, choose)  # not shown yet: the dialog's own event loop comes next
            return
        seen["filters"] = dialog.nameFilters()
        seen["title"] = dialog.windowTitle()
        dialog.selectFile(str(chosen))
        dialog.accept()

    steps = editor.undo_stack.count()
    QTimer.singleShot(0, choose)
    qtbot.mouseClick(browse, Qt.MouseButton.LeftButton)

    assert seen["filters"] == ["Weights (*.h5 *.weights.h5)", "All files (*)"]
    assert "weights file" in seen["title"]
    assert params_of(editor, "backbone")["weights_file"] == str(chosen)
    assert editor.inspector.editors["weights_file"].value_box.text() == str(chosen)
    assert editor.undo_stack.count() == steps + 1

    editor.undo_stack.undo()
    assert params_of(editor, "backbone").get("weights_file", "") == ""
    assert editor.inspector.editors["weights_file"].value_box.text() == ""


@pytest.mark.parametrize("side_width", [290, 380])
def test_a_long_error_wraps_inside_the_panel_and_every_search_button_stays_in_view(
        qtbot, backbone_editor, side_width: int):
    editor = backbone_editor
    # Two backbones, two missing ImageNet files, each named by a long unbreakable file name.
    editor.set_param("backbone", "backbone", {"hp": "choice", "values": ["MobileNetV2", "EfficientNetB0"]})
    qtbot.waitUntil(lambda: len(editor.node_errors().get("backbone", [])) == 2, timeout=5_000)
    inspector = editor.inspector
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in inspector.errors.text() \
        .replace("\u200b", "")
    editor.splitter.setSizes([230, 1400 - 230 - side_width, side_width])
    qtbot.wait(50)  # the splitter's and the scroll area's layouts settle
    QApplication.processEvents()

    viewport = inspector.viewport()
    assert inspector.errors.isVisible()
    assert inspector.widget().width() <= viewport.width(), (inspector.widget().width(), viewport.width())

    def inside(widget) -> bool:
        rect = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
        return 0 <= rect.left() and rect.right() < viewport.width()

    assert inside(inspector.errors) and inside(inspector.title)
    # ...and no word of the message is cut at the label's edge: its longest unbreakable piece fits.
    assert inspector.errors.minimumSizeHint().width() <= inspector.errors.width()
    shown = [e for e in inspector.editors.values() if e.isVisibleTo(inspector)]
    assert len(shown) >= 7
    for param_editor in shown:
        assert inside(param_editor.search), param_editor.pdef.name
        assert inside(param_editor.stack), param_editor.pdef.name  # its value, or its search range

    editor.set_param("backbone", "weights", "file")  # the path's row, with its Browse… button
    qtbot.wait(50)
    path_editor = inspector.editors["weights_file"]
    assert path_editor.isVisibleTo(inspector) and not path_editor.search.isVisibleTo(inspector)
    assert inspector.widget().width() <= viewport.width()
    assert inside(path_editor.value_box) and inside(path_editor.browse)
