"""The Data page says how a CSV was read and reads it again the way the user says."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def european_csv(tmp_path):
    path = tmp_path / "energy.csv"
    lines = ["temp;humidity;energy"]
    for i in range(40):
        lines.append(f"{10 + i % 9},{i % 10}5;0,{300 + 7 * i};{50 + 3 * i},{i % 7}1")
    lines[7] = "12,5;0,420;NA"  # a target row with no value
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_file(qtbot, window, path):
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_dataset(str(path))
    qtbot.waitUntil(lambda: window.data_page.profile is not None, timeout=10_000)


def test_detected_format_is_shown_and_dropped_rows_warned(qtbot, window, tmp_path):
    open_file(qtbot, window, european_csv(tmp_path))
    page = window.data_page
    label = window.findChild(QWidget, "csvDetected")
    assert label.isVisible()
    assert label.text() == "Detected: ';' separated, decimal comma, UTF-8, header on row 1"
    assert page.profile.task == "regression"
    assert "1 row has no 'energy' value (row 8) and is dropped" in page.findChild(
        QWidget, "profileWarnings").text()
    assert page.config_fields()["csv_decimal"] is None


def test_rows_and_values_changed_by_reading_are_listed(qtbot, window, tmp_path):
    path = tmp_path / "sheet.csv"
    rows = [f"{i},{'-' if i % 6 == 0 else i * 1.5},{'ab'[i % 2]},," for i in range(30)]
    path.write_text("x,y,label,,\n" + "\n".join(rows[:10]) + "\n,,,,\n" + "\n".join(rows[10:]) + "\n")
    open_file(qtbot, window, path)
    text = window.findChild(QWidget, "profileWarnings").text()
    assert "ℹ 2 empty column(s) with no name were ignored" in text
    assert "ℹ 1 empty row(s) were ignored" in text
    assert "ℹ column 'y': 5 value(s) '-' read as missing (the others are numbers)" in text


def test_override_reloads_and_reaches_the_config(qtbot, window, tmp_path):
    open_file(qtbot, window, european_csv(tmp_path))
    page = window.data_page
    decimal = window.findChild(QWidget, "csvDecimal")
    decimal.setCurrentIndex(decimal.findData("."))
    with qtbot.waitSignal(page.profileChanged, timeout=20_000):
        qtbot.mouseClick(window.findChild(QWidget, "reloadCsv"), Qt.MouseButton.LeftButton)
    assert window.findChild(QWidget, "csvDetected").text().startswith("Read as: ';' separated, decimal point")
    # Read with a decimal point, "0,300" is three hundred: the target stays a number (thousands).
    assert page.config_fields()["csv_decimal"] == "."
    assert page.csv_overrides() == {"decimal": "."}
    assert page.target() == "energy"
    header = window.findChild(QWidget, "csvHeader")
    header.setCurrentIndex(header.findData(False))
    with qtbot.waitSignal(page.profileChanged, timeout=20_000):
        qtbot.mouseClick(window.findChild(QWidget, "reloadCsv"), Qt.MouseButton.LeftButton)
    assert page.dataset.columns == ["column_1", "column_2", "column_3"]
    assert window.findChild(QWidget, "csvDetected").text().endswith("no header row")
    assert page.config_fields()["csv_header"] is False
    config = window.current_config()
    assert (config.csv_decimal, config.csv_header, config.csv_delimiter) == (".", False, None)
    # A project reopened later reads its data the same way.
    with qtbot.waitSignal(page.datasetLoaded, timeout=20_000):
        window.open_dataset(str(tmp_path / "energy.csv"))
    assert page.dataset.columns == ["temp", "humidity", "energy"]
    with qtbot.waitSignal(page.profileChanged, timeout=20_000):
        page.apply_config(config)
    assert page.dataset.columns == ["column_1", "column_2", "column_3"]
    assert window.findChild(QWidget, "csvHeader").currentText() == "No header row"
    assert window.findChild(QWidget, "csvDetected").text().startswith("Read as:")


def test_formats_are_hidden_for_other_files(qtbot, iris_window, image_npz):
    with qtbot.waitSignal(iris_window.data_page.datasetLoaded, timeout=20_000):
        iris_window.open_dataset(str(image_npz))
    assert not iris_window.findChild(QWidget, "csvFormatRow").isVisible()
