"""The work behind the Data page, as plain functions a :class:`~.tasks.TaskRunner` runs off the
GUI thread: load a file and profile it, or profile it again for new column choices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoadedData:
    """A loaded dataset with its profile (``None`` with ``problem`` set if profiling failed).

    ``time_column``: the table's column that looks like time and orders a forecast of the guessed
    target (the engine's ``suggest_time_column``), or None.
    """

    dataset: Any
    profile: Any
    problem: str = ""
    time_column: str | None = None


def load_and_profile(path: str, *, progress: Callable[[float], None], cancel: Any,
                     image_size: tuple[int, int] = (64, 64),
                     csv: dict[str, Any] | None = None) -> LoadedData:
    """Reads ``path`` and profiles it for the guessed target.

    ``csv`` holds the user's CSV overrides (``delimiter``, ``decimal``, ``encoding``, ``header``;
    a missing or ``None`` entry is detected).
    """
    from automl_studio.engine.core.errors import DataError
    from automl_studio.engine.data.csv_format import CsvOptions
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset
    from automl_studio.engine.data.timeseries import suggest_time_column

    dataset = load_dataset(path, image_size=image_size, csv_options=CsvOptions(**(csv or {})),
                           progress=lambda f: progress(0.9 * f), cancel=cancel)
    try:
        profile = profile_dataset(dataset, keep_going=True)  # an unusable target: profile.problem
    except DataError as exc:
        return LoadedData(dataset, None, str(exc))
    time_column = suggest_time_column(dataset, profile)
    progress(1.0)
    return LoadedData(dataset, profile, time_column=time_column)


def reprofile(dataset: Any, *, target: str | None, task: str, exclude: tuple[str, ...],
              include: tuple[str, ...], progress: Callable[[float], None], cancel: Any,
              kinds: dict[str, str] | None = None) -> Any:
    """Profiles an already loaded dataset for the user's target, task and column choices
    (``kinds``: a column's kind chosen by the user, numeric or categorical)."""
    from automl_studio.engine.data.profile import profile_dataset

    return profile_dataset(dataset, target, task, exclude=exclude, include=include, keep_going=True,
                           kinds=kinds)


def token_statistics(dataset: Any, *, profile: Any, validation_fraction: float, test_fraction: float,
                     seed: int, ngrams: int, max_tokens: int, progress: Callable[[float], None],
                     cancel: Any, char_ngrams: int = 0) -> tuple[Any, ...]:
    """What a search with these split and text settings feeds its model of each text column
    (the engine's ``text_token_statistics``: one ``TokenStatistics`` per text column)."""
    from automl_studio.engine.data.features import text_token_statistics
    from automl_studio.engine.data.text import TextOptions

    return text_token_statistics(dataset, profile, validation_fraction=validation_fraction,
                                 test_fraction=test_fraction, seed=seed, text=TextOptions(ngrams, max_tokens, char_ngrams))


def check_time_column(dataset: Any, *, target: str, time_column: str, horizon: int, group: str | None,
                      validation_fraction: float, test_fraction: float, progress: Callable[[float], None],
                      cancel: Any, lookback: int | None = None, lookback_max: int | None = None) -> None:
    """Checks that a loaded table can be forecast from ``time_column`` (the engine's
    ``check_forecast``); raises its DataError, a one-line message naming the column and rows."""
    from automl_studio.engine.data.timeseries import ForecastOptions, check_forecast

    check_forecast(dataset, target, ForecastOptions(time_column, horizon, lookback, group=group,
                                                    lookback_max=lookback_max),
                   validation_fraction=validation_fraction, test_fraction=test_fraction)
