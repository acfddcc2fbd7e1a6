"""The Data page never shows something untrue: unusable targets, likely leaks, keyboard, layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import IRIS, wait_for_shapes
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

N = 120


def write(tmp_path: Path, name: str, frame: pd.DataFrame) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def open_data(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=30_000):
        window.open_dataset(str(path))


def choose_target(qtbot, window, name: str) -> None:
    combo = window.findChild(QWidget, "targetColumn")
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=30_000):
        combo.setCurrentText(name)


def start_state(window) -> tuple[bool, bool, str, str]:
    start = window.findChild(QWidget, "startSearch")
    return start.isEnabled(), window.act_start.isEnabled(), start.toolTip(), window.act_start.toolTip()


def honest(rng: np.random.Generator) -> dict[str, object]:
    return {"age": rng.normal(40, 10, N).round(1), "city": rng.choice(["north", "south", "east"], N),
            "visits": rng.integers(0, 30, N)}


def test_a_single_class_target_stays_chosen_marked_invalid_and_blocks_start(qtbot, window, tmp_path):
    rng = np.random.default_rng(1)
    path = write(tmp_path, "one_class.csv", pd.DataFrame({**honest(rng), "label": ["yes"] * N}))
    open_data(qtbot, window, path)
    page = window.data_page
    assert page.findChild(QWidget, "targetColumn").currentText() == "label"
    assert page.config_fields()["target"] == "label"
    note = page.findChild(QWidget, "targetNote")
    assert note.isVisible() and "single class" in note.text()
    warnings = page.findChild(QWidget, "profileWarnings").text()
    assert "No warnings" not in warnings and "single class" in warnings
    assert "cannot be used" in page.findChild(QWidget, "detectedTask").text()
    start, action, tip, action_tip = start_state(window)
    assert not start and not action
    assert "the target 'label' has a single class" in tip and tip == action_tip
    assert "single class" in window.statusBar().currentMessage()
    status = window.status_data.text()
    assert "nothing to search" in status and "cannot start" in status
    assert "classification" not in status and "regression" not in status
    reason = window.findChild(QWidget, "startBlockedReason")
    assert "single class" in reason.text() and "Data page" in reason.text()

    # Clicking Start anyway (its shortcut) runs nothing and says why on the Data page.
    window.act_start.trigger()
    assert not window.search_page.running

    # Another target makes the page and Start true again.
    choose_target(qtbot, window, "visits")
    wait_for_shapes(qtbot, window)
    assert not note.isVisible()
    start, action, _tip, _ = start_state(window)
    assert start and action
    assert "cannot start" not in window.status_data.text()
    assert "nothing to search" not in window.status_data.text()


def test_an_id_target_and_regression_on_text_describe_the_new_choice(qtbot, window, tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"customer": [f"C-{i:05d}" for i in range(N)], **honest(rng),
                          "label": rng.choice(["a", "b"], N)})
    open_data(qtbot, window, write(tmp_path, "customers.csv", frame))
    wait_for_shapes(qtbot, window)
    assert start_state(window)[:2] == (True, True)
    page = window.data_page

    choose_target(qtbot, window, "customer")
    preview = page.findChild(QWidget, "datasetTable").model()
    assert preview.headerData(0, Qt.Orientation.Horizontal) == "customer (target)"
    columns = page.columns_model
    row = columns.column_names().index("customer")
    assert columns.index(row, 1).data() == "target"
    assert "identifier" in columns.index(row, 4).data()
    assert "label" in columns.used_columns()  # the old target is a feature again
    banner = page.banner.text()
    assert "looks like an identifier" in banner and "choose another target" in banner
    assert "regression" not in banner
    assert "customer" in page.findChild(QWidget, "detectedTask").text()
    assert "target customer" in window.status_data.text()
    assert "identifier" in window.statusBar().currentMessage()
    start, action, tip, _ = start_state(window)
    assert not start and not action and "identifier" in tip

    choose_target(qtbot, window, "label")
    task = page.findChild(QWidget, "taskChoice")
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        task.setCurrentIndex(2)  # regression, on a column of letters
    assert "regression needs numbers" in page.banner.text()
    assert "regression needs numbers" in start_state(window)[2]
    assert not start_state(window)[0]
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        task.setCurrentIndex(0)
    assert page.banner.text() == ""
    assert "classification" in page.findChild(QWidget, "detectedTask").text()


def leaky_frame(rng: np.random.Generator) -> pd.DataFrame:
    churned = rng.choice(["yes", "no"], N * 2)
    refund = np.where(churned == "yes", 100.0, 0.0) + rng.normal(0, 5, N * 2)
    columns = {"age": rng.normal(40, 10, N * 2).round(1), "visits": rng.integers(0, 30, N * 2)}
    return pd.DataFrame({**columns, "refund": refund.round(2), "churned": churned})


def test_a_likely_leak_is_named_and_excluded_in_one_click(qtbot, window, tmp_path):
    open_data(qtbot, window, write(tmp_path, "churn.csv", leaky_frame(np.random.default_rng(3))))
    page = window.data_page
    warnings = page.findChild(QWidget, "profileWarnings")
    assert "column 'refund' alone predicts the target almost perfectly" in warnings.text()
    buttons = [b for b in page.findChildren(QPushButton, "excludeLeak") if b.isVisible()]
    assert [b.text() for b in buttons] == ["Exclude 'refund' (likely leak)"]
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    assert page.config_fields()["exclude_columns"] == ("refund",)
    row = page.columns_model.column_names().index("refund")
    assert page.columns_model.index(row, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert "likely leak" not in warnings.text()
    assert not [b for b in page.findChildren(QPushButton, "excludeLeak") if b.isVisible()]
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        window.act_undo.trigger()
    assert "likely leak" in warnings.text()


def test_a_normal_table_has_no_leak_and_one_missing_values_line(qtbot, window, tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(honest(rng))
    for name in ("age", "visits", "city"):
        frame.loc[frame.index[:12], name] = None
    frame["label"] = rng.choice(["a", "b"], N)
    open_data(qtbot, window, write(tmp_path, "normal.csv", frame))
    page = window.data_page
    text = page.findChild(QWidget, "profileWarnings").text()
    assert "leak" not in text
    assert [line for line in text.splitlines() if "missing values" in line] == [
        "⚠ 3 columns have missing values: 'age' (10%), 'city' (10%), 'visits' (10%); they are filled and flagged"]
    assert not [b for b in page.findChildren(QPushButton, "excludeLeak") if b.isVisible()]
    assert page.findChild(QWidget, "targetNote").text() == "Chosen automatically: named 'label'"


def test_tab_leaves_the_preview_for_target_task_and_split(qtbot, iris_window):
    w = iris_window
    w.activateWindow()
    table = w.findChild(QWidget, "datasetTable")
    table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table, timeout=5000)
    reached = []
    for _ in range(5):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.append(QApplication.focusWidget().objectName())
    assert reached == ["targetColumn", "taskChoice", "validationFraction", "testFraction", "splitSeed"]


def test_column_distribution_sort_and_filter(qtbot, iris_window):
    w = iris_window
    page = w.data_page
    view = page.findChild(QWidget, "columnList")
    title = page.findChild(QWidget, "distributionTitle")
    rect = view.visualRect(page.columns_model.index(2, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "petal_length" in title.text() and "histogram of 150 values, 1 to 6.9" in title.text()
    rect = view.visualRect(page.columns_model.index(4, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "species" in title.text() and "3 categories" in title.text()

    table = page.findChild(QWidget, "datasetTable")
    header = table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(0) + 10, header.height() // 2))
    model = table.model()
    assert model.index(0, 0).data() == "4.3"  # the smallest sepal length first, as a number
    assert model.headerData(0, Qt.Orientation.Vertical) != "1"  # rows keep their file numbers
    filter_box = page.findChild(QWidget, "previewFilter")
    qtbot.keyClicks(filter_box, "VIRGINICA")
    assert model.rowCount() == 50
    assert {model.index(r, 4).data() for r in range(model.rowCount())} == {"virginica"}


@pytest.mark.parametrize("size", [(1024, 700), "minimum"])
def test_the_data_page_fits_at_small_sizes(qtbot, window, tmp_path, size):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({f"feature_{i}": rng.normal(size=N) for i in range(10)})
    frame.iloc[:5, :6] = np.nan
    frame["label"] = rng.choice(["a", "b"], N)
    open_data(qtbot, window, write(tmp_path, "wide.csv", frame))
    if size == "minimum":
        window.resize(window.minimumSizeHint())
    else:
        window.resize(*size)
    qtbot.wait(50)
    if size != "minimum":
        assert (window.width(), window.height()) == size  # the page does not force a wider window
    page = window.data_page
    window.grab().save(str(tmp_path / f"data_page_{size}.png"))
    view = page.findChild(QWidget, "columnList")
    row_height = view.verticalHeader().defaultSectionSize()
    assert view.viewport().height() >= 4 * row_height  # several rows, not one
    for name in ("detectedTask", "profileWarnings"):
        label = page.findChild(QWidget, name)
        scroll = page.findChild(QWidget, "dataChoices")
        scroll.ensureWidgetVisible(label)
        visible = label.visibleRegion().boundingRect()
        assert visible.width() == label.width(), name  # never cut at the side
    table = page.findChild(QWidget, "datasetTable")
    assert table.viewport().height() >= 4 * table.verticalHeader().defaultSectionSize()  # not one row
    # No column is selected: no distribution plot, rather than empty axes with a made-up 0–1 range.
    assert not page.findChild(QWidget, "columnDistribution").isVisible()
    assert page.findChild(QWidget, "distributionTitle").text() == "Select a column to see its values"
    view.selectRow(1)
    assert page.findChild(QWidget, "columnDistribution").isVisible()


def test_images_say_how_they_are_resized_and_the_size_is_a_choice(qtbot, window, tmp_path):
    from PIL import Image

    folder = tmp_path / "shapes"
    for label, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        (folder / label).mkdir(parents=True)
        for i in range(4):
            Image.new("L" if i % 2 else "RGB", (20 + i, 30), colour[0] if i % 2 else colour).save(
                folder / label / f"{i}.png")
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=30_000):
        window.open_dataset(str(folder))
    page = window.data_page
    note = page.findChild(QWidget, "imageResizeNote")
    assert note.isVisible() and note.text() == "Images are resized to 64×64 RGB"
    spin = page.findChild(QWidget, "imageSize")
    with qtbot.waitSignal(page.datasetLoaded, timeout=30_000):
        spin.setValue(32)
    assert note.text() == "Images are resized to 32×32 RGB"
    assert page.dataset.x.shape[1:] == (32, 32, 3)
    assert page.config_fields()["image_size"] == (32, 32)


def test_iris_says_why_its_target_was_chosen(iris_window):
    note = iris_window.data_page.findChild(QWidget, "targetNote")
    assert note.text() == "Chosen automatically: named 'species'"
    assert str(IRIS).endswith("iris.csv")


# A popup menu on the offscreen platform: these two are its own, harmless notes.
@pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing the keyboard)")
def test_a_columns_kind_is_chosen_from_the_column_table(qtbot, iris_window):
    from PySide6.QtWidgets import QMenu

    w = iris_window
    page = w.data_page
    view = page.findChild(QWidget, "columnList")
    model = page.columns_model
    rect = view.visualRect(model.index(1, 1))
    view.customContextMenuRequested.emit(rect.center())  # what a right-click on sepal_width sends
    menu = view.findChild(QMenu, "columnKindMenu")
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    action = next(a for a in menu.actions() if a.text() == "Treat as categorical")
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        action.trigger()
    menu.close()
    assert model.index(1, 1).data() == "categorical"
    assert page.config_fields()["column_kinds"] == {"sepal_width": "categorical"}
    assert w.current_config().column_kinds == {"sepal_width": "categorical"}
    # The network's new input shapes arrive after the profile: the change stays undoable after them.
    qtbot.waitUntil(lambda: not w._signature_task.running, timeout=30_000)
    qtbot.wait(200)
    assert w.act_undo.isEnabled()
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        w.act_undo.trigger()
    assert model.index(1, 1).data() == "numeric"
    assert page.config_fields()["column_kinds"] == {}


def test_a_text_column_charts_its_lengths_in_words_not_its_unique_values():
    import pandas as pd

    from automl_studio.gui.models.table_models import column_distribution

    reviews = pd.Series(["Great value", "not what I ordered, sadly", "¡Muy bien! 很好", None, "ok"] * 3)
    dist = column_distribution(reviews, categorical=True, text=True)
    assert dist.labels == ["0", "1", "2", "3", "4", "5"]  # words per value, 0 to the longest
    assert list(dist.heights) == [0, 3, 3, 0, 3, 3]  # "¡Muy bien! 很好" is 4 words: each CJK character is one
    assert dist.title == "words per value: 12 values, median 3, longest 5; 3 missing"
    long = column_distribution(pd.Series([" ".join(["w"] * n) for n in range(100)]), categorical=True, text=True)
    assert len(long.heights) == 20 and sum(long.heights) == 100
