"""Forecasting with an exported model from raw history: the next steps, or a backtest.

A forecast model's metadata holds its :class:`~automl_studio.engine.data.timeseries.ForecastSpec`:
the time column, the window's columns, the lookback and horizon, and the fill of missing
covariates. The history file is ordered and checked as the training data was (no repeated times,
no gaps), windows are cut from it the same way, and the model (which normalises its own window)
is called on them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import CsvOptions
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import row_number
from automl_studio.engine.data.timeseries import (
    ForecastSpec,
    fill_covariates,
    order_series,
    series_values,
)


def forecast_frame(model: Any, metadata: dict[str, Any], data_path: str | os.PathLike[str], *,
                   backtest: bool = False, csv_options: CsvOptions | None = None) -> Any:
    """A DataFrame of forecasts from the history in ``data_path``.

    Without ``backtest``: per series, the next ``horizon`` steps after its last row (the time
    column holds their times, ``prediction`` the forecast). With ``backtest``: for every row with a
    full lookback window before it, its time and ``prediction`` (horizon 1) or
    ``prediction_h1…hH`` (the forecasts of that row and the H-1 after it, made from the rows
    before it). A group column, when the model has one, comes first.

    Raises:
        DataError: a needed column is absent, the time column is bad, or a series has fewer rows
            than the lookback (names the column and rows).
    """
    import pandas as pd

    from automl_studio.engine.train.hypermodel import predict_arrays

    spec = ForecastSpec.from_dict(metadata["forecast"])
    p = Path(data_path)
    needed = [spec.time_column, *spec.features] + ([spec.group] if spec.group else [])
    dataset = load_dataset(p, csv_options=csv_options, expected_columns=needed)
    if dataset.kind != "table":
        raise DataError(f"{p}: this model forecasts from a table (CSV/Parquet) with the column "
                        f"'{spec.time_column}', not {dataset.kind}")
    missing = [c for c in needed if c not in dataset.frame.columns]
    if missing:
        raise DataError(f"{p}: missing column(s) the model needs: {', '.join(missing)}")
    series, _kind, step, frequency = order_series(dataset, spec.time_column, spec.group)
    series = series_values(dataset, series, spec.features, spec.target)
    lookback, horizon = spec.lookback, spec.horizon
    windows, times, names = [], [], []
    for s in series:
        n = len(s.times)
        if n < lookback + (1 if backtest else 0):
            where = f"series '{s.name}' has" if spec.group else "the file has"
            raise DataError(f"{p}: column '{spec.time_column}': {where} {n} rows (rows "
                            f"{row_number(dataset, int(s.positions[0]))}–{row_number(dataset, int(s.positions[-1]))}), "
                            f"fewer than the model's lookback of {lookback}"
                            + (" + 1 (a row to forecast)" if backtest else ""))
        values = fill_covariates(s.values, spec.fill).astype(np.float32)
        starts = np.arange(lookback, n) if backtest else np.array([n])
        windows.append(values[starts[:, None] + np.arange(-lookback, 0)[None, :]])
        if backtest:
            times.append(dataset.frame[spec.time_column].to_numpy()[s.positions[starts]])
        else:
            times.append(_next_times(dataset.frame[spec.time_column].iloc[int(s.positions[-1])],
                                     s.times[-1], step, frequency, spec.time_kind, horizon))
        names.append(np.full(len(starts) if backtest else horizon, s.name, dtype=object))
    predicted = np.asarray(predict_arrays(model, {"sequence": np.concatenate(windows)}), dtype=np.float64)
    predicted = predicted.reshape(len(predicted), -1)
    columns: dict[str, Any] = {}
    if spec.group:
        columns[spec.group] = np.concatenate(names)
    columns[spec.time_column] = np.concatenate(times)
    if backtest:
        if horizon == 1:
            columns["prediction"] = predicted[:, 0]
        else:
            for h in range(horizon):
                columns[f"prediction_h{h + 1}"] = predicted[:, h]
    else:
        columns["prediction"] = predicted.reshape(-1)
    return pd.DataFrame(columns)


def _next_times(last_raw: Any, last: float, step: float, frequency: str, kind: str, horizon: int) -> np.ndarray:
    """The times of the ``horizon`` steps after the last row, written like dates or whole numbers."""
    import pandas as pd

    if kind == "integer":
        return np.array([int(round(last + step * (k + 1))) for k in range(horizon)], dtype=object)
    start = pd.Timestamp(int(round(last * 1e9)))
    if frequency:
        stamps = pd.date_range(start, periods=horizon + 1, freq=frequency)[1:]
    else:
        stamps = pd.DatetimeIndex([start + pd.Timedelta(seconds=step * (k + 1)) for k in range(horizon)])
    text = str(last_raw)
    shown = "%Y-%m-%d" if len(text) <= 10 else "%Y-%m-%d %H:%M" if len(text) <= 16 else "%Y-%m-%d %H:%M:%S"
    return np.array([s.strftime(shown) for s in stamps], dtype=object)


def write_forecast(model: Any, metadata: dict[str, Any], data_path: str | os.PathLike[str], output: Path, *,
                   backtest: bool = False, csv_options: CsvOptions | None = None) -> Path:
    """Writes :func:`forecast_frame` as CSV to ``output`` and returns its path."""
    frame = forecast_frame(model, metadata, data_path, backtest=backtest, csv_options=csv_options)
    frame.to_csv(output, index=False)
    return output


__all__ = ["forecast_frame", "write_forecast"]
