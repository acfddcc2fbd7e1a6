"""Forecasting in the window (issue #17): the Data page's time column, horizon and series id
reach the search, and a forecast search runs from the window to a verified export."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_forecast import write_hourly  # noqa: E402

SEARCH_TIMEOUT_MS = 600_000


def open_hourly(qtbot, window, tmp_path: Path) -> Path:
    path = write_hourly(tmp_path / "hourly.csv")
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=60_000):
        window.open_dataset(str(path))
    wait_for_shapes(qtbot, window)
    return path


def test_the_data_page_sets_the_time_column_horizon_and_series(qtbot, window, tmp_path):
    open_hourly(qtbot, window, tmp_path)
    page = window.data_page
    time_combo = window.findChild(QWidget, "timeColumn")
    horizon = window.findChild(QWidget, "forecastHorizon")
    assert page.forecast_box.isVisibleTo(page) and not horizon.isEnabled()
    assert window.current_config().time_column is None
    time_combo.setCurrentText("time")
    assert horizon.isEnabled()
    horizon.setValue(3)
    config = window.current_config()
    assert (config.time_column, config.horizon, config.group_column) == ("time", 3, None)
    page.apply_config(config.replace(horizon=2))
    qtbot.waitUntil(lambda: window.findChild(QWidget, "forecastHorizon").value() == 2, timeout=60_000)
    assert window.current_config().time_column == "time"


def test_the_forecast_box_is_hidden_for_arrays(qtbot, window, tmp_path):
    path = tmp_path / "seq.npz"
    np.savez(path, x=np.zeros((40, 6, 2), np.float32), y=np.arange(40) % 2)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=60_000):
        window.open_dataset(str(path))
    assert not window.data_page.forecast_box.isVisibleTo(window.data_page)
    assert window.current_config().time_column is None


@pytest.mark.slow
def test_a_forecast_search_runs_in_the_window_and_exports_a_verified_h5(qtbot, window, tmp_path):
    open_hourly(qtbot, window, tmp_path)
    window.findChild(QWidget, "timeColumn").setCurrentText("time")
    page = window.search_page
    page.project_dir.setText(str(tmp_path / "hourly-project"))
    window.findChild(QWidget, "maxTrials").setValue(2)
    page.max_epochs.setValue(3)
    combo = window.findChild(QWidget, "tunerChoice")
    combo.setCurrentIndex(combo.findData("random"))
    qtbot.mouseClick(window.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.last_finish is not None, timeout=SEARCH_TIMEOUT_MS)
    finish = page.last_finish
    assert finish.status == "completed", finish
    assert {"mase", "mape"} <= set(finish.test_metrics)
    assert finish.baseline_metrics["rule"].startswith("seasonal naive")
    assert "the forecast template is searched instead" in page.log.toPlainText()
    dest = tmp_path / "exported" / "hourly.h5"
    with qtbot.waitSignal(window.results_page.exportFinished, timeout=SEARCH_TIMEOUT_MS) as done:
        window.export_best_model(str(dest))
    assert done.args[0]["verified"]
