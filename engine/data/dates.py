"""Date and time columns as calendar features: :class:`DateFeature`.

A timestamp is unique per row, so as a value it says nothing a model can reuse; its calendar
parts do (the weekday of a booking, the month of a sale). A date column becomes numbers, as
AutoGluon and H2O expand dates: year, month, day of month, day of week (Monday 0), day of year,
the hour (minutes as its fraction) where the training rows hold times of day, cyclic sin/cos
encodings of month, day of week and hour, so that December sits next to January, and the date
itself as a number (days since 1970-01-01, its time of day as the fraction; both libraries keep
the raw timestamp beside the parts), so that a change at a moment — a new price list, another
way of labelling — is one threshold rather than a year and a day of the year together. The numbers
join the model's ``numeric`` input (normalised inside the model like the other numbers); which
parts a column has, and the values that fill a missing date, are fitted on the training split
and written into the exported model's metadata, so ``predict`` expands raw files the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# Every part a date column may give, in the order of the numeric slots. The hour's three are
# present only for columns whose training rows hold a time of day.
CALENDAR_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "month_sin", "month_cos",
                  "day_of_week_sin", "day_of_week_cos", "days_since_1970")
EPOCH = "1970-01-01"
HOUR_PARTS = ("hour", "hour_sin", "hour_cos")


def parse_dates(series: Any) -> Any:
    """A column as pandas datetimes (naive, in UTC where the text gives an offset); a value that
    is not a date becomes ``NaT``, as a missing one does.

    ISO 8601 text is read in one pass; other writings (``05/03/2024``) value by value.
    """
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    else:
        text = series.astype("string").str.strip()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' 'could not infer format' on mixed text
            parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
            left = (parsed.isna() & text.ne("").fillna(False)).to_numpy(dtype=bool)
            if left.any():
                parsed[left] = pd.to_datetime(text[left], errors="coerce", format="mixed", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.Series(parsed.to_numpy(dtype="datetime64[ns]"), index=series.index)


def calendar_parts(parsed: Any, parts: tuple[str, ...]) -> np.ndarray:
    """The named parts of parsed dates (:func:`parse_dates`), rows × parts, float64; NaN where a
    date is missing."""
    dt = parsed.dt
    month = dt.month.to_numpy(dtype=np.float64, na_value=np.nan)
    weekday = dt.day_of_week.to_numpy(dtype=np.float64, na_value=np.nan)
    hour = (dt.hour.to_numpy(dtype=np.float64, na_value=np.nan)
            + dt.minute.to_numpy(dtype=np.float64, na_value=np.nan) / 60.0)
    def days_since_1970() -> np.ndarray:
        import pandas as pd

        return ((parsed - pd.Timestamp(EPOCH)) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64, na_value=np.nan)

    columns = {
        "days_since_1970": days_since_1970,
        "year": lambda: dt.year.to_numpy(dtype=np.float64, na_value=np.nan),
        "month": lambda: month,
        "day": lambda: dt.day.to_numpy(dtype=np.float64, na_value=np.nan),
        "day_of_week": lambda: weekday,
        "day_of_year": lambda: dt.day_of_year.to_numpy(dtype=np.float64, na_value=np.nan),
        "month_sin": lambda: np.sin(2 * np.pi * (month - 1) / 12),
        "month_cos": lambda: np.cos(2 * np.pi * (month - 1) / 12),
        "day_of_week_sin": lambda: np.sin(2 * np.pi * weekday / 7),
        "day_of_week_cos": lambda: np.cos(2 * np.pi * weekday / 7),
        "hour": lambda: hour,
        "hour_sin": lambda: np.sin(2 * np.pi * hour / 24),
        "hour_cos": lambda: np.cos(2 * np.pi * hour / 24),
    }
    if not parts:
        return np.empty((len(parsed), 0))
    return np.column_stack([columns[p]() for p in parts])


@dataclass(frozen=True)
class DateFeature:
    """A date column: the calendar parts it gives (:data:`CALENDAR_PARTS`, with
    :data:`HOUR_PARTS` when training held times of day), the value of each part that fills a
    missing date (its training median), and whether a missing-date flag follows the parts."""

    name: str
    parts: tuple[str, ...]
    fill: tuple[float, ...]
    flag: bool

    @property
    def width(self) -> int:
        """The numeric slots the column takes: one per part, plus the flag."""
        return len(self.parts) + int(self.flag)

    @classmethod
    def fit(cls, name: str, series: Any) -> DateFeature:
        """The parts and fills of a column from its training rows (:func:`parse_dates`)."""
        parsed = parse_dates(series)
        present = parsed.dropna()
        timed = bool(len(present)) and bool(((present.dt.hour != 0) | (present.dt.minute != 0)).any())
        candidates = CALENDAR_PARTS + (HOUR_PARTS if timed else ())
        values = calendar_parts(parsed, candidates)
        # A part that never changes in training (the year of one year's rows) is left out: its
        # variance would be 0, and a new value scaled by it would swamp the network.
        varies = {p for j, p in enumerate(candidates) if np.nanstd(values[:, j]) > 0} if len(present) else set()
        for sin, cos in (("month_sin", "month_cos"), ("day_of_week_sin", "day_of_week_cos"),
                         ("hour_sin", "hour_cos")):
            if sin in varies or cos in varies:
                varies |= {sin, cos}
        parts = tuple(p for p in candidates if p in varies)
        values = values[:, [candidates.index(p) for p in parts]]
        fill = tuple(float(np.nanmedian(values[:, j])) if np.isfinite(values[:, j]).any() else 0.0
                     for j in range(len(parts)))
        return cls(name, parts, fill, bool(parsed.isna().any()))

    def transform(self, series: Any) -> np.ndarray:
        """Rows × :attr:`width` float32: the parts, a missing date filled, then its flag."""
        parsed = parse_dates(series)
        values = calendar_parts(parsed, self.parts)
        gaps = ~np.isfinite(values)
        values = np.where(gaps, np.asarray(self.fill, dtype=np.float64)[None, :], values)
        if self.flag:
            values = np.column_stack([values, parsed.isna().to_numpy(dtype=np.float64)])
        return values.astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON data for the exported model's metadata."""
        return {"name": self.name, "parts": list(self.parts), "fill": list(self.fill), "missing_flag": self.flag}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DateFeature:
        """The inverse of :meth:`to_dict`."""
        return cls(str(data["name"]), tuple(data["parts"]), tuple(float(v) for v in data["fill"]),
                   bool(data["missing_flag"]))
