"""Forecasting in the window (issue #17): the Data page's time column, horizon and series id
reach the search, and a forecast search runs from the window to a verified export."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
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


def test_the_data_page_picks_the_detected_time_column_and_the_person_can_change_it(qtbot, window, tmp_path):
    open_hourly(qtbot, window, tmp_path)
    page = window.data_page
    time_combo = window.findChild(QWidget, "timeColumn")
    horizon = window.findChild(QWidget, "forecastHorizon")
    note = window.findChild(QWidget, "timeColumnNote")
    # The table's rows are hourly measurements: 'time' is chosen, and the box says why and how to undo it.
    assert page.forecast_box.isVisibleTo(page) and time_combo.currentText() == "time" and horizon.isEnabled()
    assert note.isVisibleTo(page) and "'time' looks like time" in note.text() and "None" in note.text()
    assert window.current_config().time_column == "time"
    # The person chooses: None (rows are independent), and the note about the detection goes.
    time_combo.setFocus()
    qtbot.keyClick(time_combo, Qt.Key.Key_Home)
    assert time_combo.currentText() == "None" and not note.isVisibleTo(page) and not horizon.isEnabled()
    assert window.current_config().time_column is None


def test_an_ordinary_table_gets_no_time_column(qtbot, window, tmp_path):
    path = tmp_path / "plain.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": np.arange(1, 81), "x": rng.normal(size=80), "y": rng.normal(size=80)}).to_csv(path, index=False)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=60_000):
        window.open_dataset(str(path))
    assert window.findChild(QWidget, "timeColumn").currentText() == "None"
    assert not window.findChild(QWidget, "timeColumnNote").isVisibleTo(window.data_page)
    assert window.current_config().time_column is None


def test_the_data_page_sets_the_time_column_horizon_lookback_range_and_series(qtbot, window, tmp_path):
    open_hourly(qtbot, window, tmp_path)
    page = window.data_page
    horizon = window.findChild(QWidget, "forecastHorizon")
    lookback = window.findChild(QWidget, "forecastLookback")
    largest = window.findChild(QWidget, "forecastLookbackMax")
    assert lookback.text() == "Auto" and largest.text() == "—"
    horizon.setValue(3)
    config = window.current_config()
    assert (config.time_column, config.horizon, config.group_column, config.lookback) == ("time", 3, None, None)
    for spin, typed in ((lookback, "12"), (largest, "36")):
        spin.setFocus()
        qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(spin, typed)
    config = window.current_config()
    assert (config.lookback, config.lookback_max) == (12, 36)
    # A saved project brings the range back (documents from version 3 on hold it).
    page.apply_config(config.replace(horizon=2, lookback=6, lookback_max=24))
    qtbot.waitUntil(lambda: window.findChild(QWidget, "forecastHorizon").value() == 2, timeout=60_000)
    restored = window.current_config()
    assert (restored.time_column, restored.lookback, restored.lookback_max) == ("time", 6, 24)


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


@pytest.mark.slow
def test_the_results_page_plots_the_engines_forecast_against_the_actual_values(qtbot, tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import SearchFinished
    from automl_studio.engine.data.identity import prepare_for_search
    from automl_studio.engine.export.predict import load_model
    from automl_studio.engine.search.session import run_search
    from automl_studio.engine.train.hypermodel import predict_arrays
    from automl_studio.gui.pages.results_page import ResultsPage

    data = write_hourly(tmp_path / "hourly.csv")
    config = SearchConfig(data_path=str(data), project_dir=str(tmp_path / "search"), target="load",
                          time_column="time", horizon=2, lookback=24, tuner="random", max_trials=1,
                          max_epochs=2, refits=1, export_keras=False, tensorboard=False,
                          refit_all=False)  # the exported file is the model the Results page's plot shows
    result = run_search(config)
    assert result.status == "completed", result.message
    page = ResultsPage()
    qtbot.addWidget(page)
    page.resize(1024, 700)
    finish = SearchFinished.from_result(result)
    page.set_result(finish, config.project_dir)
    tabs = page.tabs
    assert tabs.tab_titles()[-1] == "Forecast"
    tabs.setCurrentWidget(tabs.forecast_tab)  # drawn when first shown
    view = tabs.forecast_view
    assert view.step_spin.isVisibleTo(view) and not view.series_combo.isVisibleTo(view)

    # The engine's numbers: the exported model on the test windows, the file's own values.
    prepared = prepare_for_search(config)
    model, _ = load_model(Path(config.project_dir) / "best" / "best.h5")
    predicted = np.asarray(predict_arrays(model, prepared.test.x), dtype=np.float64).reshape(-1, 2)
    frame = pd.read_csv(data).sort_values("time")
    load_at = dict(zip(frame["time"], frame["load"], strict=True))
    times = pd.to_datetime(frame["time"]).to_numpy(dtype="datetime64[s]").astype(np.int64).astype(float)
    time_of = dict(zip(times, frame["time"], strict=True))

    x, actual = view.actual_curve.getData()
    assert len(x) == len(prepared.test) == len(predicted)
    np.testing.assert_allclose(actual, [load_at[time_of[t]] for t in x], rtol=1e-6)
    fx, forecast = view.forecast_curve.getData()
    np.testing.assert_allclose(fx, x)
    np.testing.assert_allclose(forecast, predicted[:, 0], rtol=1e-4, atol=1e-4)
    view.step_spin.setValue(2)  # two steps ahead: window i's second value is at window i+1's time
    fx, forecast = view.forecast_curve.getData()
    np.testing.assert_allclose(fx, x[1:])
    np.testing.assert_allclose(forecast, predicted[:-1, 1], rtol=1e-4, atol=1e-4)
    rmse = np.sqrt(np.mean((predicted - prepared.test.y) ** 2))
    assert rmse == pytest.approx(finish.test_metrics["rmse"], rel=1e-4)
    _, naive = view.naive_curve.getData()
    assert len(naive) == len(forecast) and "naive" in tabs.forecast_tab.caption.text()


@pytest.mark.parametrize("change, horizon, expected", [
    (lambda f: f.assign(time=f["time"].where(f.index != 5, f["time"][4])), 1,
     "rows 6 and 7, column 'time': the same time twice ('2024-01-01 04:00')"),
    (lambda f: f.assign(time=f["time"].where(f.index != 5, "not a date")), 1,
     "row 7, column 'time': 'not a date' is not a date or time"),
    (lambda f: f.head(30), 25,
     "column 'load': the series has 30 rows (rows 2–31), fewer than lookback 8 + horizon 25 + 2"),
])
def test_bad_time_input_is_one_line_in_the_data_banner_and_the_data_stays(qtbot, window, tmp_path, change,
                                                                          horizon, expected):
    from PySide6.QtWidgets import QApplication

    path = write_hourly(tmp_path / "hourly.csv", shuffle=False)
    change(pd.read_csv(path)).to_csv(path, index=False)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=60_000):
        window.open_dataset(str(path))
    page = window.data_page
    rows = page.dataset.n_rows
    assert not page.banner.isVisibleTo(page)
    window.findChild(QWidget, "timeColumn").setCurrentText("time")
    window.findChild(QWidget, "forecastHorizon").setValue(horizon)
    qtbot.waitUntil(lambda: expected in page.banner.text(), timeout=60_000)
    message = page.banner.text()
    assert "\n" not in message and str(path) not in message, message
    assert page.banner.isVisibleTo(page) and QApplication.activeModalWidget() is None
    assert page.dataset.path == str(path) and page.dataset.n_rows == rows  # the data is kept
    assert window.start_blocker() == message and not window.act_start.isEnabled()
    assert "choose another time column, horizon or series" in window.search_page.start_note.text()
    # Rows independent again: nothing to forecast, nothing wrong.
    window.findChild(QWidget, "timeColumn").setCurrentIndex(0)
    qtbot.waitUntil(lambda: not page.banner.isVisibleTo(page), timeout=60_000)
    assert window.start_blocker() == ""
