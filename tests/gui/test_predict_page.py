"""The Predict page with real exported models: a table model and an image model from tiny searches.

Each model comes from a real ``automl-studio search`` (one trial, one epoch) in a child process;
the page scores through its own engine child, as in the app. Checked: a CSV with a bad row is
scored except that row, which keeps its reason in the ``problem`` column; sorting and the filter
work on the table; Save as CSV writes what ``automl-studio predict`` writes; the one-row form
scores a row as the file does; an image folder shows a thumbnail per image with its class.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "automl_studio.engine.cli"]
SCORE_MS = 240_000  # an engine child loads TensorFlow on a busy machine


@dataclass(frozen=True)
class Trained:
    model: Path
    project: Path
    header: list[str]
    rows: list[list[str]]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900)


def write_table(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def table_model(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A classifier of two kinds from two numbers and a colour."""
    folder = tmp_path_factory.mktemp("table_model")
    rng = np.random.default_rng(5)
    header = ["size", "colour", "weight", "kind"]
    rows = []
    for i in range(80):
        size = rng.normal(10, 3)
        colour = ["red", "green", "blue"][i % 3]
        weight = rng.normal(5, 1)
        kind = "big" if size + (colour == "red") * 2 > 11 else "small"
        rows.append([f"{size:.2f}", colour, f"{weight:.2f}", kind])
    data = write_table(folder / "train.csv", header, rows)
    proc = run_cli("search", str(data), "--target", "kind", "--tuner", "random", "--max-trials", "1",
                   "--max-epochs", "1", "--no-refit", "--project", "project", "--export", "model.h5", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Trained(folder / "model.h5", folder / "project", header, rows)


@pytest.fixture(scope="module")
def image_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier of dark and bright 16×16 pictures, one subfolder per class."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("image_model")
    rng = np.random.default_rng(2)
    for name, low in (("dark", 0), ("bright", 170)):
        (folder / "train" / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(low, low + 80, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / "train" / name / f"{i}.png")
    proc = run_cli("search", str(folder / "train"), "--tuner", "random", "--max-trials", "1", "--max-epochs", "1",
                   "--no-refit", "--image-size", "16", "16", "--project", "project", "--export", "model.h5",
                   cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder / "model.h5"


def show_predict_page(window):  # noqa: ANN001, ANN201 - the window fixture's MainWindow
    window.resize(1024, 700)
    (row,) = [r for r in range(window.nav.count()) if window.nav.item(r).text().strip() == "Predict"]
    window.nav.setCurrentRow(row)
    assert window.pages.currentWidget() is window.predict_page
    return window.predict_page


def score(qtbot, page, path: Path) -> dict:  # noqa: ANN001
    with qtbot.waitSignal(page.predictionsReady, timeout=SCORE_MS) as done:
        page.score_file(str(path))
    return done.args[0]


def column(page, name: str) -> int:  # noqa: ANN001
    headers = [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(page.model.columnCount())]
    return headers.index(name)


def shown_column(page, name: str) -> list[str]:  # noqa: ANN001
    at = column(page, name)
    return [page.proxy.index(r, at).data() for r in range(page.proxy.rowCount())]


def test_a_csv_with_a_bad_row_is_scored_except_that_row_sortable_filterable_and_saved(
        qtbot, window, table_model: Trained, tmp_path: Path) -> None:
    page = show_predict_page(window)
    assert page.open_model(str(table_model.model))
    assert "predicts kind: one of 2 classes (big, small) from 3 columns" in page.model_label.text()
    rows = [list(r) for r in table_model.rows[:6]]
    rows[1][0] = "abc"  # file row 3: not a number
    rows[3][1] = "purple"  # file row 5: a colour never seen in training
    data = write_table(tmp_path / "new.csv", table_model.header, rows)
    result = score(qtbot, page, data)

    assert page.stack.currentWidget() is page.table
    assert page.model.rowCount() == 6 and page.model.n_scored() == 4
    assert shown_column(page, "row") == ["2", "3", "4", "5", "6", "7"]  # file order at first
    problems = shown_column(page, "problem")
    assert problems[1] == "column 'size': 'abc' is not a number"
    assert problems[3] == "column 'colour': 'purple' was never seen in training"
    assert [p for k, p in enumerate(problems) if k not in (1, 3)] == [""] * 4
    predictions = shown_column(page, "prediction")
    assert predictions[1] == predictions[3] == ""
    assert all(predictions[k] in ("big", "small") for k in (0, 2, 4, 5))
    assert "4 of 6 rows scored" in page.summary.text() and "2 not scored" in page.summary.text()
    assert not page.table.isColumnHidden(column(page, "problem"))
    assert page.banner.text().splitlines() == [
        f"{data}: row 3, column 'size': 'abc' is not a number; that row is not scored",
        f"{data}: row 5, column 'colour': 'purple' was never seen in training; that row is not scored"]
    QApplication.processEvents()  # the layout, before the picture
    window.grab().save(str(tmp_path / "predict_table.png"))

    # Sorting by confidence: numbers in order, unscored rows last.
    page.table.sortByColumn(column(page, "confidence"), Qt.SortOrder.AscendingOrder)
    at = column(page, "confidence")
    values = [page.proxy.index(r, at).data(Qt.ItemDataRole.UserRole + 1) for r in range(6)]
    assert values[4:] == [None, None]
    assert values[:4] == sorted(values[:4]) and len(set(shown_column(page, "row")[:4])) == 4
    page.table.sortByColumn(column(page, "row"), Qt.SortOrder.DescendingOrder)
    assert shown_column(page, "row") == ["7", "6", "5", "4", "3", "2"]

    qtbot.keyClicks(page.filter_edit, "never seen")
    assert page.proxy.rowCount() == 1 and shown_column(page, "row") == ["5"]
    page.filter_edit.clear()
    assert page.proxy.rowCount() == 6

    # Save as CSV writes every row in file order, exactly as the command line does.
    saved = tmp_path / "saved.csv"
    assert page.save_csv(str(saved))
    proc = run_cli("predict", str(table_model.model), str(data), "--output", str(tmp_path / "cli.csv"),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert saved.read_text(encoding="utf-8") == (tmp_path / "cli.csv").read_text(encoding="utf-8")
    with open(saved, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["row", "prediction", "probability_big", "probability_small", "problem"]
    assert lines[2] == ["3", "", "", "", "column 'size': 'abc' is not a number"]
    assert result["problems"][1] == lines[2][4]


def test_the_one_row_form_predicts_as_the_file_does(qtbot, window, table_model: Trained, tmp_path: Path) -> None:
    page = show_predict_page(window)
    assert page.open_model(str(table_model.model))
    assert set(page.fields) == {"size", "colour", "weight"}
    rows = [list(r) for r in table_model.rows[10:13]]
    rows[2][2] = ""  # a gap: filled as in training, in the file and in the form alike
    result = score(qtbot, page, write_table(tmp_path / "three.csv", table_model.header, rows))
    for k in (0, 2):
        for name, value in zip(table_model.header[:3], rows[k][:3], strict=True):
            page.set_field(name, value)
        with qtbot.waitSignal(page.rowPredicted, timeout=SCORE_MS) as done:
            qtbot.mouseClick(page.predict_row_button, Qt.MouseButton.LeftButton)
        typed = done.args[0]
        assert typed["labels"] == [result["labels"][k]]
        np.testing.assert_allclose(typed["proba"][0], result["proba"][k], rtol=1e-6)
        assert f"Prediction: {result['labels'][k]}" in page.row_result.text()
    assert page.table.isColumnHidden(column(page, "problem"))  # every row scored
    QApplication.processEvents()
    window.grab().save(str(tmp_path / "predict_form.png"))

    page.set_field("size", "twelve")
    with qtbot.waitSignal(page.rowPredicted, timeout=SCORE_MS):
        page.predict_row()
    assert "Not scored: column 'size': 'twelve' is not a number" in page.row_result.text()


def test_the_form_offers_rare_training_levels_marked_as_rare(qtbot, window, table_model: Trained) -> None:
    page = show_predict_page(window)
    assert page.open_model(str(table_model.model))
    (colour,) = page.metadata["feature_schema"]["categorical"]
    colour["rare"] = ["purple"]  # as a model whose training rows held two purple ones records it
    page._build_form()
    combo = page.fields["colour"]
    entries = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    assert entries[-1] == ("purple (rare)", "purple") and ("red", "red") in entries
    assert "rare" in combo.toolTip()
    page.set_field("colour", "purple")
    assert page.typed_row()["colour"] == "purple"


def test_a_missing_column_is_said_in_the_banner_and_nothing_is_shown(
        qtbot, window, table_model: Trained, tmp_path: Path) -> None:
    page = show_predict_page(window)
    assert page.open_model(str(table_model.model))
    score(qtbot, page, write_table(tmp_path / "good.csv", table_model.header, table_model.rows[:3]))
    assert page.model.rowCount() == 3
    rows = [[r[0], r[1], r[3]] for r in table_model.rows[:3]]
    data = write_table(tmp_path / "short.csv", ["size", "colour", "kind"], rows)
    with qtbot.waitSignal(page.failed, timeout=SCORE_MS) as failed:
        page.score_file(str(data))
    assert failed.args[0] == f"{data}: missing column(s) the model needs: weight"
    assert page.banner.text() == failed.args[0]
    assert page.model.rowCount() == 0 and page.stack.currentWidget() is page.empty


def test_use_best_model_opens_the_search_s_exported_model(qtbot, table_model: Trained, tmp_path: Path) -> None:
    from automl_studio.gui.pages.predict_page import PredictPage

    folder: list[str | None] = [None]
    page = PredictPage(lambda: folder[0])
    qtbot.addWidget(page)
    page.show()
    assert not page.best_model_button.isEnabled()
    page.use_best_model()
    assert page.banner.text().startswith("No best model yet") and page.model_path is None
    folder[0] = str(table_model.project)
    page.hide()
    page.show()
    assert page.best_model_button.isEnabled()
    qtbot.mouseClick(page.best_model_button, Qt.MouseButton.LeftButton)
    assert page.model_path == str(table_model.project / "best" / "best.h5")
    assert set(page.fields) == {"size", "colour", "weight"}
    page.shutdown()


def test_an_image_folder_shows_thumbnails_with_their_classes(
        qtbot, window, image_model: Path, tmp_path: Path) -> None:
    from PIL import Image

    page = show_predict_page(window)
    assert page.open_model(str(image_model))
    assert not page.row_box.isVisible() and page.open_folder_button.isEnabled()
    rng = np.random.default_rng(9)
    folder = tmp_path / "new"
    folder.mkdir()
    for i, low in enumerate([0, 170, 0, 170, 0, 170]):
        Image.fromarray(rng.integers(low, low + 80, (16, 16, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    result = score(qtbot, page, folder)
    assert page.stack.currentWidget() is page.thumbnail_view
    view_model = page.thumbnail_view.model()
    assert view_model.rowCount() == 6
    for r in range(6):
        index = view_model.index(r, 0)
        label, confidence = index.data().split(" · ")
        assert label == result["labels"][r] and label in ("dark", "bright")
        assert confidence.endswith(" %") and 50 <= int(confidence[:-2]) <= 100
        assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
        assert index.data(Qt.ItemDataRole.ToolTipRole) == result["keys"][r]
    assert "6 of 6 images scored" in page.summary.text()
    qtbot.keyClicks(page.filter_edit, "no such class")
    assert view_model.rowCount() == 0
    page.filter_edit.clear()
    QApplication.processEvents()
    window.grab().save(str(tmp_path / "predict_images.png"))


def test_a_forecast_is_shown_and_saved_by_its_times(qtbot, tmp_path: Path) -> None:
    """#17: the engine's forecast for the window is keyed by time (``key``: the time column)."""
    from automl_studio.gui.models.predictions_model import PredictionsModel

    model = PredictionsModel()
    times = ["2024/01/26 00:00", "2024/01/26 01:00"]  # slashes: not file paths to shorten
    model.set_predictions({"keys": times, "labels": [91.5, 95.25], "proba": None, "class_names": [],
                           "problems": [], "task": "regression", "key": "timestamp"})
    assert model.headerData(0, Qt.Orientation.Horizontal) == "timestamp"
    assert [model.index(r, 0).data() for r in range(2)] == times
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) is None
    saved = model.save_csv(str(tmp_path / "forecast.csv"))
    assert saved.read_text(encoding="utf-8").splitlines() == [
        "timestamp,prediction", "2024/01/26 00:00,91.5", "2024/01/26 01:00,95.25"]


def test_a_forecast_model_forecasts_from_history_and_refuses_a_short_one(qtbot, window, tmp_path: Path) -> None:
    """#17: the Predict page forecasts the next steps after a history file, as ``predict`` does, and a
    file shorter than the lookback is one line naming the column and rows."""
    header = ["time", "temp", "load"]
    hours = [f"2024-01-{1 + h // 24:02d} {h % 24:02d}:00" for h in range(120)]
    rows = [[t, f"{10 + (h % 24) / 4:.2f}", f"{50 + 10 * ((h % 24) < 12) + h / 50:.2f}"] for h, t in enumerate(hours)]
    data = write_table(tmp_path / "hourly.csv", header, rows)
    proc = run_cli("search", str(data), "--target", "load", "--time-column", "time", "--lookback", "8",
                   "--tuner", "random", "--max-trials", "1", "--max-epochs", "1", "--no-refit",
                   "--project", "project", "--export", "model.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = show_predict_page(window)
    assert page.open_model(str(tmp_path / "model.h5"))
    score(qtbot, page, data)
    assert page.model.headerData(0, Qt.Orientation.Horizontal) == "time"
    assert shown_column(page, "time") == ["2024-01-06 00:00"]  # the hour after the last row
    proc = run_cli("predict", "model.h5", str(data), "--output", "cli.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert page.save_csv(str(tmp_path / "saved.csv"))
    assert (tmp_path / "saved.csv").read_text(encoding="utf-8") == (tmp_path / "cli.csv").read_text(encoding="utf-8")
    short = write_table(tmp_path / "short.csv", header, rows[:5])
    with qtbot.waitSignal(page.failed, timeout=SCORE_MS) as failed:
        page.score_file(str(short))
    assert failed.args[0] == (f"{short}: column 'time': the file has 5 rows (rows 2–6), fewer than the "
                              "model's lookback of 8")
    assert page.banner.text() == failed.args[0] and page.model.rowCount() == 0
