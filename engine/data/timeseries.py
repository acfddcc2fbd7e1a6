"""Forecasting from a table with a time column: ordering, chronological splits and windows.

A table becomes a set of *windows*: the ``lookback`` rows before a point in time (the target's
past values first, then the numeric covariates: N×lookback×F) and, as the target, the next
``horizon`` values of the target column (N×horizon). Rows are sorted by the time column (per
series when a group column names series ids) and split by time: the test split is the latest
period of every series, validation the period before it, never shuffled. A window belongs to the
split of its last target row, so no training target lies in the validation or test period.

The model normalises its window with statistics of the training period (see
:class:`~automl_studio.engine.data.signature.DataSignature`'s ``sequence_mean``); the same
statistics, and everything ``predict`` needs to rebuild windows from raw history, are in
:class:`ForecastSpec`, which goes into the exported model's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.profile import ID_LIKE, NUMERIC, DatasetProfile, row_number

AUTO = "auto"
TIME_NAMES = ("time", "timestamp", "datetime", "date", "ds", "period", "step", "t")  # lower-case


@dataclass(frozen=True)
class ForecastOptions:
    """What the user asked of a forecast: the time column, horizon, lookback, stride, series id.

    ``lookback`` None: chosen from the data (two seasonal periods, at least 8 steps).
    ``lookback_max``: with ``lookback``, a range the search tries; windows hold ``lookback_max``
    steps and each network keeps its last ones (a ``LastSteps`` node).
    """

    time_column: str
    horizon: int = 1
    lookback: int | None = None
    stride: int = 1
    group: str | None = None
    lookback_max: int | None = None


@dataclass(frozen=True)
class ForecastSpec:
    """How raw history becomes a model's windows; JSON-serialisable into the model's metadata.

    Attributes:
        time_column: the column rows are ordered by.
        time_kind: ``datetime`` or ``integer``.
        step: the spacing of consecutive rows (seconds for datetimes, units for integers).
        frequency: the pandas frequency alias of a datetime column when pandas can tell it (``h``,
            ``MS``...), else ``""``.
        target: the column forecast.
        features: the window's columns in order; the target is always first.
        fill: the value that fills a missing covariate (training median), per feature.
        horizon, lookback, stride: steps ahead, steps of history, steps between training windows.
            ``lookback`` is what a window holds and what ``predict`` feeds the model.
        lookback_min: with a searched lookback range, its smallest value (each network keeps the
            last ``lookback.steps`` of the window, between this and ``lookback``); 0: one lookback.
        group: the series id column, or None for one series.
        period: the seasonal period detected on the training period (0: none found).
        mean, std: per feature, of the training period (what the model normalises with).
        mase_scale: mean absolute error of the in-sample naive forecast on the training period.
    """

    time_column: str
    time_kind: str
    step: float
    frequency: str
    target: str
    features: tuple[str, ...]
    fill: tuple[float, ...]
    horizon: int
    lookback: int
    stride: int = 1
    group: str | None = None
    period: int = 0
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    mase_scale: float = 1.0
    lookback_min: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_column": self.time_column, "time_kind": self.time_kind, "step": self.step,
            "frequency": self.frequency, "target": self.target, "features": list(self.features),
            "fill": list(self.fill), "horizon": self.horizon, "lookback": self.lookback,
            "stride": self.stride, "group": self.group, "period": self.period,
            "mean": list(self.mean), "std": list(self.std), "mase_scale": self.mase_scale,
            "lookback_min": self.lookback_min,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastSpec:
        return cls(
            time_column=str(data["time_column"]), time_kind=str(data["time_kind"]),
            step=float(data["step"]), frequency=str(data.get("frequency") or ""),
            target=str(data["target"]), features=tuple(data["features"]),
            fill=tuple(float(v) for v in data["fill"]), horizon=int(data["horizon"]),
            lookback=int(data["lookback"]), stride=int(data.get("stride", 1)),
            group=data.get("group"), period=int(data.get("period", 0)),
            mean=tuple(float(v) for v in data.get("mean", ())),
            std=tuple(float(v) for v in data.get("std", ())),
            mase_scale=float(data.get("mase_scale", 1.0)),
            lookback_min=int(data.get("lookback_min", 0)),
        )


@dataclass(frozen=True)
class Series:
    """The rows of one series, sorted by time: positions in the file's table and time values."""

    name: str
    positions: np.ndarray  # row positions in the table, in time order
    times: np.ndarray  # float: seconds since the epoch, or the integer time
    values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # rows × features


def detect_time_column(frame: Any, exclude: Sequence[str] = (), group: str | None = None) -> str | None:
    """The column that looks like time, leaving out ``exclude`` (the target, the series id): first
    a name such as ``time``/``date``, then a column whose values are all dates, then an ordered
    integer column (whole numbers evenly spaced once sorted, each once per series of ``group``:
    years, periods, steps)."""
    import pandas as pd

    names = [name for name in frame.columns if str(name) not in exclude and name != group]
    for name in names:
        if str(name).strip().lower() in TIME_NAMES:
            return str(name)
    for name in names:
        series = frame[name]
        if series.dtype == object or pd.api.types.is_datetime64_any_dtype(series):
            sample = series.dropna().astype(str).head(50)
            if len(sample) and pd.to_datetime(sample, errors="coerce", format="mixed").notna().all():
                return str(name)
    parts = [frame] if group is None or group not in frame.columns else [
        part for _key, part in frame.groupby(group, sort=False)]
    for name in names:
        if pd.api.types.is_integer_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]) \
                and all(_evenly_spaced(part[name].to_numpy(dtype=np.int64)) for part in parts):
            return str(name)
    return None


def suggest_time_column(dataset: Dataset, profile: DatasetProfile | None) -> str | None:
    """The column a loaded table is a time series over, for the window to pick when the table
    opens: :func:`detect_time_column`'s find, kept only where the profile's target can be
    forecast from it (no repeated times, no gaps, enough history: :func:`check_forecast`). A
    running number the profile calls an ID is left out unless named like time (an ordinary
    table's row id is evenly spaced too). None: no such column."""
    target = profile.target if profile is not None else None
    if dataset.kind != "table" or profile is None or not target:
        return None
    found = detect_time_column(dataset.frame, exclude=(target,))
    if found is None:
        return None
    kinds = {c.name: c.kind for c in profile.columns}
    if kinds.get(found) == ID_LIKE and found.strip().lower() not in TIME_NAMES:
        return None
    try:
        check_forecast(dataset, target, ForecastOptions(found))
    except DataError:
        return None
    return found


def _evenly_spaced(values: np.ndarray) -> bool:
    """Whether ``values`` (at least 3) are distinct and evenly spaced once sorted."""
    if len(values) < 3:
        return False
    steps = np.diff(np.sort(values))
    return bool(steps[0] > 0 and np.all(steps == steps[0]))


def parse_times(dataset: Dataset, column: str) -> tuple[np.ndarray, str]:
    """The time column as floats (seconds since the epoch for dates) and its kind.

    Raises:
        DataError: the column is absent, or a value is missing or neither a date nor an integer
            (names the column and the file's row).
    """
    import pandas as pd

    frame = dataset.frame
    if column not in frame.columns:
        raise DataError(f"{dataset.path}: no column named '{column}' for the time column "
                        f"(columns: {', '.join(map(str, frame.columns))})")
    series = frame[column]
    if series.isna().any():
        at = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise DataError(f"{dataset.path}: row {row_number(dataset, at)}, column '{column}': the time is missing")
    if pd.api.types.is_integer_dtype(series):
        return series.to_numpy(dtype=np.float64), "integer"
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=np.float64)
        bad = np.flatnonzero(values != np.round(values))
        if len(bad):
            at = int(bad[0])
            raise DataError(f"{dataset.path}: row {row_number(dataset, at)}, column '{column}': "
                            f"{series.iloc[at]!r} is not a date or a whole number")
        return values, "integer"
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    else:
        text = series.astype(str)
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            at = int(bad[0])
            raise DataError(f"{dataset.path}: row {row_number(dataset, at)}, column '{column}': "
                            f"'{text.iloc[at]}' is not a date or time")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    seconds = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
    return seconds.astype(np.float64), "datetime"


def order_series(dataset: Dataset, column: str, group: str | None) -> tuple[list[Series], str, float, str]:
    """The table's series sorted by time, checked: no duplicate times, no gaps.

    Returns the series, the time kind, the step between rows and the pandas frequency alias.

    Raises:
        DataError: unparsable or missing times, a time repeated within a series, or a gap (a
            step longer than the usual one); one line naming the column and the file's rows.
    """
    import pandas as pd

    times, kind = parse_times(dataset, column)
    frame = dataset.frame
    if group is not None:
        if group not in frame.columns:
            raise DataError(f"{dataset.path}: no column named '{group}' for the series id")
        keys = frame[group].astype(str).to_numpy()
        names = list(dict.fromkeys(keys))
        members = [np.flatnonzero(keys == name) for name in names]
    else:
        names, members = [""], [np.arange(len(frame))]
    found: list[Series] = []
    steps: list[float] = []
    for name, rows in zip(names, members, strict=True):
        order = rows[np.argsort(times[rows], kind="stable")]
        t = times[order]
        where = f" (series '{name}')" if group is not None else ""
        same = np.flatnonzero(np.diff(t) == 0)
        if len(same):
            a, b = int(order[same[0]]), int(order[same[0] + 1])
            raise DataError(f"{dataset.path}: rows {row_number(dataset, a)} and {row_number(dataset, b)}, "
                            f"column '{column}': the same time twice{where} "
                            f"('{frame[column].iloc[a]}'); each time may appear once per series")
        found.append(Series(name, order, t))
        if len(t) > 1:
            steps.extend(np.diff(t).tolist())
    if not steps:
        raise DataError(f"{dataset.path}: column '{column}': a series needs more than one row")
    step = float(pd.Series(steps).mode().iloc[0])
    frequency = ""
    if kind == "datetime":
        longest = max(found, key=lambda s: len(s.times))
        index = pd.DatetimeIndex((longest.times * 1e9).astype("int64").astype("datetime64[ns]"))
        if len(index) >= 3:
            with pd.option_context("future.infer_freq_returns_offset", True):
                offset = pd.infer_freq(index)
            frequency = offset.freqstr if offset is not None else ""
    for series in found:
        diffs = np.diff(series.times)
        if frequency:
            index = pd.DatetimeIndex((series.times * 1e9).astype("int64").astype("datetime64[ns]"))
            expected = pd.date_range(index[0], periods=len(index), freq=frequency)
            off = np.flatnonzero(expected != index)
            gap = [int(off[0]) - 1] if len(off) else []
        else:
            gap = np.flatnonzero(diffs > step * 1.000001).tolist()
        if gap:
            i = max(int(gap[0]), 0)
            a, b = int(series.positions[i]), int(series.positions[i + 1])
            where = f" in series '{series.name}'" if group is not None else ""
            raise DataError(f"{dataset.path}: rows {row_number(dataset, a)} and {row_number(dataset, b)}, "
                            f"column '{column}': a gap{where} from '{frame[column].iloc[a]}' to "
                            f"'{frame[column].iloc[b]}' (rows are {_step_words(step, kind)} apart); fill "
                            "the missing times or split the series")
    return found, kind, step, frequency


def _step_words(step: float, kind: str) -> str:
    if kind != "datetime":
        return f"{step:g}"
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if step >= seconds and step % seconds == 0:
            n = int(step // seconds)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{step:g} seconds"


def _numbers(dataset: Dataset, column: str, positions: np.ndarray) -> np.ndarray:
    import pandas as pd

    from automl_studio.engine.data.csv_format import to_numbers

    series = dataset.frame[column]
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        series = to_numbers(series)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)[positions]


def series_values(dataset: Dataset, series: list[Series], spec_features: Sequence[str],
                  target: str) -> list[Series]:
    """Each series with its feature values (rows × features, raw units; NaN where missing).

    Raises:
        DataError: the target is missing or not a number in a row (names the column and row).
    """
    out = []
    for s in series:
        columns = [_numbers(dataset, name, s.positions) for name in spec_features]
        values = np.stack(columns, axis=1) if columns else np.zeros((len(s.positions), 0))
        bad = np.flatnonzero(~np.isfinite(values[:, 0]))
        if len(bad):
            at = int(s.positions[bad[0]])
            raw = dataset.frame[target].iloc[at]
            what = "is missing" if raw != raw or raw is None else f"'{raw}' is not a number"
            raise DataError(f"{dataset.path}: row {row_number(dataset, at)}, column '{target}': the target "
                            f"{what}; a forecast needs every value of its series")
        out.append(Series(s.name, s.positions, s.times, values))
    return out


def seasonal_period(values: np.ndarray, max_period: int) -> int:
    """The lag (2…``max_period``) of the strongest autocorrelation peak above 0.3; 0 if none.

    The series' straight-line trend is taken out first: on a trending series (monthly CO2) the
    trend's own autocorrelation shifted the yearly peak from 12 to 11 months.
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) >= 3:
        steps = np.arange(len(x), dtype=np.float64)
        x = x - np.polyval(np.polyfit(steps, x, 1), steps)
    x = x - x.mean()
    denom = float((x * x).sum())
    if denom <= 0 or len(x) < 8:
        return 0
    best, best_r = 0, 0.3
    top = min(max_period, len(x) // 2)
    r = [float((x[:-k] * x[k:]).sum() / denom) for k in range(1, top + 1)]
    for k in range(2, top + 1):
        here = r[k - 1]
        left = r[k - 2]
        right = r[k] if k < top else -1.0
        if here > best_r and here >= left and here >= right:
            best, best_r = k, here
    return best


def make_windows(values: np.ndarray, lookback: int, horizon: int,
                 starts: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windows (N×lookback×F) and targets (N×horizon): for each start ``t``, rows ``t-lookback…t-1``
    and the target (column 0) of rows ``t…t+horizon-1``."""
    at = np.asarray(starts, dtype=np.int64)
    if len(at) == 0:
        return (np.zeros((0, lookback, values.shape[1]), np.float32), np.zeros((0, horizon), np.float32))
    back = at[:, None] + np.arange(-lookback, 0)[None, :]
    ahead = at[:, None] + np.arange(horizon)[None, :]
    return values[back].astype(np.float32), values[ahead, 0].astype(np.float32)


def fill_covariates(values: np.ndarray, fill: Sequence[float]) -> np.ndarray:
    """``values`` with each missing covariate replaced by its training median."""
    out = values.copy()
    for j in range(1, out.shape[1]):
        gaps = ~np.isfinite(out[:, j])
        out[gaps, j] = fill[j]
    return out


def _plan(dataset: Dataset, features: tuple[str, ...], options: ForecastOptions, validation_fraction: float,
          test_fraction: float) -> tuple[list[Series], str, float, str, list[tuple[int, int]], int, int]:
    """The checked series (with ``features``' values, the target first), the time kind, step and
    frequency, each series' training and test cut rows, the seasonal period and the lookback.

    Raises:
        DataError: see :func:`prepare_forecast`.
    """
    target = features[0]
    series, kind, step, frequency = order_series(dataset, options.time_column, options.group)
    series = series_values(dataset, series, features, target)
    horizon = options.horizon
    # Row cut points per series: the last test_fraction of its rows is the test period.
    cuts = []
    for s in series:
        n = len(s.times)
        n_test = int(round(n * test_fraction))
        n_val = max(int(round(n * validation_fraction)), 1)
        cuts.append((n - n_test - n_val, n - n_test))
    shortest_train = min(a for a, _b in cuts)
    period = seasonal_period(series[0].values[:cuts[0][0], 0], max_period=min(400, shortest_train // 3))
    lookback = options.lookback_max or options.lookback or max(
        8, min(2 * period if period else 24, max(shortest_train // 4, 2)))
    for s in series:
        n = len(s.times)
        if n < lookback + horizon + 2:
            where = f" series '{s.name}'" if options.group else " the series"
            first, last = int(s.positions[0]), int(s.positions[-1])
            raise DataError(f"{dataset.path}: column '{target}':{where} has {n} rows (rows "
                            f"{row_number(dataset, first)}–{row_number(dataset, last)}), fewer than "
                            f"lookback {lookback} + horizon {horizon} + 2 (a window each to train, "
                            "validate and test); use a shorter lookback or horizon")
    return series, kind, step, frequency, cuts, period, lookback


def check_forecast(dataset: Dataset, target: str, options: ForecastOptions, *,
                   validation_fraction: float = 0.2, test_fraction: float = 0.2) -> None:
    """Checks that ``dataset`` can be forecast as ``options`` ask, without building its windows:
    what the window's Data page says as soon as a time column, horizon or series is chosen.

    Raises:
        DataError: the one-line message :func:`prepare_forecast` would raise for the time column
            (unparsable, missing or repeated times, gaps), the target (missing or not a number), or
            a series shorter than lookback + horizon; it names the column and the file's rows.
    """
    if dataset.kind != "table":
        raise DataError(f"{dataset.path}: a time column needs a table (CSV/Parquet), not {dataset.kind}")
    if target not in dataset.frame.columns:
        raise DataError(f"{dataset.path}: no column named '{target}' to forecast")
    if target == options.time_column:
        raise DataError(f"{dataset.path}: column '{target}' is the time column; choose another target to forecast")
    if options.horizon < 1 or options.stride < 1:
        raise DataError("the horizon and the stride must be at least 1")
    _plan(dataset, (target,), options, validation_fraction, test_fraction)


def prepare_forecast(dataset: Dataset, profile: DatasetProfile, options: ForecastOptions, *,
                     validation_fraction: float = 0.2, test_fraction: float = 0.2) -> tuple[
                         dict[str, np.ndarray], np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray],
                         ForecastSpec, tuple[str, ...], np.ndarray]:
    """Windows and targets of every series, the chronological split and the spec.

    Returns ``(x, y, (train, validation, test), spec, notes, rows)`` where ``x`` is
    ``{"sequence": N×lookback×F}`` in raw units, the splits index its windows and ``rows`` holds
    the table position of each window's first target row (what a search's identity hashes).

    Raises:
        DataError: a bad time column (see :func:`order_series`), a target that is not numeric or
            missing, or a series shorter than lookback + horizon (names the column and rows).
    """
    if dataset.kind != "table":
        raise DataError(f"{dataset.path}: a time column needs a table (CSV/Parquet), not {dataset.kind}")
    target = profile.target
    assert target is not None
    if options.horizon < 1 or options.stride < 1:
        raise DataError("the horizon and the stride must be at least 1")
    covariates = [c.name for c in profile.feature_columns if c.kind == NUMERIC]
    skipped = [c.name for c in profile.feature_columns if c.kind != NUMERIC]
    notes: list[str] = []
    if skipped:
        notes.append(f"forecast covariates are numeric columns; left out: {', '.join(skipped)}")
    features = (target, *covariates)
    series, kind, step, frequency, cuts, period, lookback = _plan(
        dataset, features, options, validation_fraction, test_fraction)
    horizon = options.horizon
    train_values = np.concatenate([s.values[:a] for s, (a, _b) in zip(series, cuts, strict=True)])
    fill = tuple([0.0] + [float(np.nanmedian(train_values[:, j])) if np.isfinite(train_values[:, j]).any()
                          else 0.0 for j in range(1, len(features))])
    xs, ys, which, firsts = [], [], [], []
    for s, (a, b) in zip(series, cuts, strict=True):
        values = fill_covariates(s.values, fill)
        n = len(values)
        starts = np.arange(lookback, n - horizon + 1)
        ends = starts + horizon - 1
        part = np.where(ends < a, 0, np.where(ends < b, 1, 2))
        keep = (part != 0) | ((starts - lookback) % options.stride == 0)
        x, y = make_windows(values, lookback, horizon, starts[keep])
        xs.append(x)
        ys.append(y)
        which.append(part[keep])
        firsts.append(s.positions[starts[keep]])
    x_all = np.concatenate(xs)
    y_all = np.concatenate(ys)
    if horizon == 1:
        y_all = y_all[:, 0]  # one value per row, as any regression
    parts = np.concatenate(which)
    splits = tuple(np.flatnonzero(parts == k) for k in range(3))
    if len(splits[0]) < 2 or len(splits[1]) < 1:
        raise DataError(f"{dataset.path}: column '{target}': too few rows for lookback {lookback} and horizon "
                        f"{horizon}: {len(splits[0])} training and {len(splits[1])} validation windows")
    filled = fill_covariates(train_values, fill)
    mean = filled.mean(axis=0)
    std = filled.std(axis=0)
    naive = np.concatenate([np.abs(np.diff(s.values[:a, 0], n=1)) if period == 0 or a <= period
                            else np.abs(s.values[period:a, 0] - s.values[:a - period, 0])
                            for s, (a, _b) in zip(series, cuts, strict=True)])
    scale = float(naive.mean()) if len(naive) and naive.mean() > 0 else 1.0
    spec = ForecastSpec(
        time_column=options.time_column, time_kind=kind, step=step, frequency=frequency, target=target,
        features=features, fill=fill, horizon=horizon, lookback=lookback, stride=options.stride,
        group=options.group, period=period if period <= lookback else 0,
        mean=tuple(float(v) for v in mean), std=tuple(float(v) if v > 0 else 1.0 for v in std),
        mase_scale=scale, lookback_min=options.lookback if options.lookback_max and options.lookback else 0)
    searched = f"searched {spec.lookback_min}–{lookback}" if spec.lookback_min else str(lookback)
    notes.append(f"forecast: {len(series)} series, lookback {searched}, horizon {horizon}, "
                 f"seasonal period {spec.period or 'none found'}; split by time "
                 f"({len(splits[0])} training, {len(splits[1])} validation, {len(splits[2])} test windows)")
    return ({"sequence": x_all}, y_all, splits, spec, tuple(notes),  # type: ignore[return-value]
            np.concatenate(firsts).astype(np.int64))


def window_times(dataset: Dataset, spec: ForecastSpec,
                 positions: np.ndarray) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The time (number and text as in the file) and series id of the table rows at ``positions``
    (a split's first forecast rows, ``PreparedData.split_indices``); the series id is "" without a
    group column."""
    at = np.asarray(positions, dtype=np.int64)
    times, _kind = parse_times(dataset, spec.time_column)
    frame = dataset.frame
    labels = tuple(str(v) for v in frame[spec.time_column].to_numpy()[at])
    series = (tuple(str(v) for v in frame[spec.group].astype(str).to_numpy()[at]) if spec.group
              else ("",) * len(at))
    return times[at], labels, series


def naive_forecasts(windows: np.ndarray, horizon: int, period: int) -> dict[str, np.ndarray]:
    """The naive forecasts of each window's next ``horizon`` target values (N×horizon).

    ``last value``: the window's last target value, repeated. ``seasonal naive``: the value one
    ``period`` before each step (only when a period was found and fits the window).
    """
    last = np.repeat(windows[:, -1:, 0], horizon, axis=1)
    out = {"last value": last}
    lookback = windows.shape[1]
    if 0 < period <= lookback:
        cols = [lookback - period + (h % period) for h in range(horizon)]
        out["seasonal naive"] = windows[:, cols, 0]
    return out


def forecast_metrics(y_true: np.ndarray, y_pred: np.ndarray, mase_scale: float) -> dict[str, Any]:
    """MAE, RMSE, MAPE (percent; None when a true value is 0) and MASE (MAE over the in-sample
    naive forecast's MAE on the training period)."""
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    err = p - t
    mae = float(np.mean(np.abs(err)))
    ss_tot = float(((t - t.mean()) ** 2).sum())
    return {
        "mae": mae, "rmse": float(np.sqrt(np.mean(err ** 2))),
        "r2": 1 - float((err ** 2).sum()) / ss_tot if ss_tot > 0 else 0.0,
        "mape": float(np.mean(np.abs(err / t)) * 100) if len(t) and np.all(t != 0) else None,
        "mase": mae / mase_scale if mase_scale > 0 else None, "n": int(len(t)),
    }


def naive_baselines(windows: np.ndarray, y_true: np.ndarray, spec: ForecastSpec) -> dict[str, dict[str, Any]]:
    """The test metrics of each naive forecast (see :func:`naive_forecasts`), by name."""
    return {name: forecast_metrics(y_true, pred, spec.mase_scale)
            for name, pred in naive_forecasts(windows, spec.horizon, spec.period).items()}


__all__ = ["TIME_NAMES", "ForecastOptions", "suggest_time_column", "ForecastSpec", "Series", "detect_time_column", "parse_times", "order_series",
           "series_values", "seasonal_period", "make_windows", "fill_covariates", "prepare_forecast", "window_times",
           "check_forecast",
           "naive_forecasts", "forecast_metrics", "naive_baselines", "AUTO"]
