"""The Data page: opening files off the GUI thread, the preview, columns, target and task."""

from __future__ import annotations

from conftest import input_sources, wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def test_iris_fills_table_target_and_columns(iris_window):
    w = iris_window
    table = w.findChild(QWidget, "datasetTable")
    model = table.model()
    assert (model.rowCount(), model.columnCount()) == (150, 5)
    assert model.index(0, 0).data() == "5.1"
    assert model.index(149, 4).data() == "virginica"
    target = w.findChild(QWidget, "targetColumn")
    assert target.currentText() == "species"
    assert [target.itemText(i) for i in range(target.count())] == [
        "sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    columns = w.data_page.columns_model
    assert columns.column_names() == ["sepal_length", "sepal_width", "petal_length",
                                      "petal_width", "species"]
    assert columns.index(0, 1).data() == "numeric"
    assert columns.index(0, 2).data() == "0"
    assert columns.index(0, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert w.findChild(QWidget, "taskChoice").currentText() == "Auto"
    assert "classification" in w.findChild(QWidget, "detectedTask").text()
    assert "150 rows" in w.status_data.text()


def test_a_bad_csv_shows_the_banner_and_keeps_the_previous_data(qtbot, iris_window, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"a,b\n1,2\n\x00\x01\x02garbage,\"unterminated\n")
    w = iris_window
    with qtbot.waitSignal(w.data_page.loadFailed, timeout=20_000) as blocker:
        w.open_dataset(str(bad))
    message = blocker.args[0]
    assert message
    assert w.data_page.banner.text() == message
    assert w.data_page.dataset.path.endswith("iris.csv")
    assert w.findChild(QWidget, "datasetTable").model().rowCount() == 150
    assert w.findChild(QWidget, "targetColumn").currentText() == "species"


def test_a_missing_file_shows_the_banner(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.data_page.loadFailed, timeout=20_000):
        window.open_dataset(str(tmp_path / "nope.csv"))
    assert "no such file" in window.data_page.banner.text()
    assert window.data_page.dataset is None


def test_choosing_the_task_and_target_profiles_again_and_undoes(qtbot, iris_window):
    w = iris_window
    target = w.findChild(QWidget, "targetColumn")
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000) as blocker:
        target.setCurrentText("petal_width")
    assert blocker.args[0]["target"] == "petal_width"
    assert blocker.args[0]["task"] == "regression"
    assert w.data_page.config_fields()["target"] == "petal_width"
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000) as blocker:
        w.undo_stack.undo()
    assert target.currentText() == "species"
    assert blocker.args[0]["task"] == "classification"
    task = w.findChild(QWidget, "taskChoice")
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000):
        target.setCurrentText("petal_width")
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000) as blocker:
        task.setCurrentIndex(1)  # classification, overriding the detected regression
    assert blocker.args[0]["task"] == "classification"
    assert w.data_page.config_fields()["task"] == "classification"


def test_excluding_a_column_is_undoable(qtbot, iris_window):
    w = iris_window
    model = w.data_page.columns_model
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000):
        model.setData(model.index(1, 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.index(1, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert w.data_page.config_fields()["exclude_columns"] == ("sepal_width",)
    assert w.isWindowModified()
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000):
        w.act_undo.trigger()
    assert model.index(1, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert w.data_page.config_fields()["exclude_columns"] == ()


def test_split_fractions_feed_the_config(iris_window):
    page = iris_window.data_page
    page.validation_spin.setValue(0.25)
    page.test_spin.setValue(0.1)
    fields = page.config_fields()
    assert (fields["validation_fraction"], fields["test_fraction"]) == (0.25, 0.1)
    iris_window.undo_stack.undo()
    assert page.config_fields()["test_fraction"] == 0.2


def test_image_arrays_show_shapes_and_thumbnails(qtbot, window, image_npz):
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000) as blocker:
        window.open_dataset(str(image_npz))
    assert blocker.args[0]["kind"] == "arrays"
    summary = window.findChild(QWidget, "datasetSummary").text()
    assert "(60, 16, 16, 3)" in summary and "uint8" in summary
    strip = window.findChild(QWidget, "thumbnailStrip")
    assert strip is not None and not window.findChild(QWidget, "imageThumbnails").isHidden()
    wait_for_shapes(qtbot, window)
    assert input_sources(window) == {"image"}  # the image template, laid out for the data
    assert any(n["type"] == "Conv2D" for n in window.network_page.spec()["nodes"])


def test_a_large_table_is_virtual(qtbot, window, tmp_path):
    import numpy as np
    import pandas as pd

    rows = 200_000
    frame = pd.DataFrame({"a": np.arange(rows, dtype=float) * 0.5, "b": np.arange(rows) % 7,
                          "label": np.where(np.arange(rows) % 2, "x", "y")})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=60_000):
        window.open_dataset(str(path))
    table = window.findChild(QWidget, "datasetTable")
    assert table.model().rowCount() == rows
    table.scrollToBottom()
    assert table.model().index(rows - 1, 0).data() == f"{(rows - 1) * 0.5:.6g}"


def test_loading_can_be_cancelled(qtbot, window, tmp_path):
    path = tmp_path / "slow.csv"
    with open(path, "w") as handle:
        handle.write("a,b,label\n")
        handle.write("1.5,2.5,x\n3.5,4.5,y\n" * 400_000)
    window.open_dataset(str(path))
    assert window.data_page.loading
    window.findChild(QWidget, "cancelLoad").click()
    assert not window.data_page.loading
    assert "cancelled" in window.data_page.banner.text()
    assert window.data_page.dataset is None
    qtbot.wait(50)


def test_a_16_bit_image_folder_shows_its_classes_and_contrast(qtbot, window, tmp_path):
    import numpy as np
    from PIL import Image
    from PySide6.QtWidgets import QLabel

    root = tmp_path / "scans"
    for name, level in (("bright", 60000), ("dim", 3000)):
        (root / name / ".ipynb_checkpoints").mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((10, 10), level, np.uint16)).save(root / name / f"{i}.png")
        Image.fromarray(np.full((10, 10), 30000, np.uint16)).save(
            root / name / ".ipynb_checkpoints" / "0-checkpoint.png")
    (root / ".ipynb_checkpoints").mkdir()
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000) as blocker:
        window.open_dataset(str(root))
    assert blocker.args[0]["kind"] == "images"
    summary = window.findChild(QWidget, "datasetSummary").text()
    assert "x: shape (10, " in summary
    strip = window.findChild(QWidget, "thumbnailStrip")
    texts = [label.text() for label in strip.findChildren(QLabel) if label.text()]
    assert texts == ["<b>bright</b><br>5 images", "<b>dim</b><br>5 images"]
    thumbs = [label.pixmap().toImage() for label in strip.findChildren(QLabel) if not label.text()]
    grey = [thumb.pixelColor(thumb.width() // 2, thumb.height() // 2).red() for thumb in thumbs]
    assert len(grey) == 10 and all(g > 200 for g in grey[:5]) and all(g < 30 for g in grey[5:])
