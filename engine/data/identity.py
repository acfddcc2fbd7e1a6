"""What makes two searches the same search: the data, the target, the task, the columns, the split.

A search's trials are only comparable when they were trained and scored on the same rows of the
same data for the same target. :class:`DataIdentity` records exactly that for a prepared dataset
and hashes it into one *data fingerprint*. The chief writes it into the project's search
configuration (see :class:`~automl_studio.engine.core.config.SearchDocument`); a resumed search
and a joining worker recompute theirs and compare, and :func:`differences` says in words what
changed (this is KerasTuner's "reload by default" made safe: it resumes only the same search).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import CsvOptions
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.features import PreparedData, prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.data.text import MAX_TOKENS, TextOptions
from automl_studio.engine.data.timeseries import AUTO, ForecastOptions, detect_time_column

# The fields that make a search what it is; ``path`` is informative only (a moved file with the
# same bytes is the same data).
IDENTITY_KEYS = ("file", "target", "task", "columns", "kinds", "inputs", "class_names", "splits", "category_codes")


@dataclass(frozen=True)
class DataIdentity:
    """The identity of the data one search trains on.

    Attributes:
        path: the data file or folder, as given (not part of the identity).
        file: SHA-256 of the file's bytes (of every file, for a folder).
        target: the column learnt (None for arrays and image folders).
        task: ``classification`` or ``regression``, as resolved.
        columns: the feature columns used, in order, after exclusions and inclusions.
        inputs: each model input's shape without the batch axis (image size, array keys).
        class_names: the classes, in label order (empty for regression).
        splits: SHA-256 of the train, validation and test row indices.
        category_codes: how many codes the model's categorical input reads (0: none); another
            coding of the same columns (rare levels bucketed) gives checkpoints of another shape.
        kinds: each feature column's kind (``numeric``, ``categorical``, ``text``...), detected
            or the user's; the same columns read as another kind give other inputs.
    """

    path: str
    file: str
    target: str | None
    task: str
    columns: tuple[str, ...]
    inputs: Mapping[str, tuple[int, ...]]
    class_names: tuple[str, ...]
    splits: str
    category_codes: int = 0
    kinds: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """One ``sha256:`` hash of every identity field: equal fingerprints, same search data."""
        return _digest(json.dumps(self._identity_dict(), sort_keys=True).encode())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``fingerprint``."""
        return {"path": self.path, **self._identity_dict(), "fingerprint": self.fingerprint}

    def _identity_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        data["columns"] = list(self.columns)
        data["inputs"] = {k: list(v) for k, v in sorted(self.inputs.items())}
        data["class_names"] = list(self.class_names)
        data["kinds"] = dict(sorted(self.kinds.items()))
        return data


def data_identity(prepared: PreparedData, path: str) -> DataIdentity:
    """The identity of ``prepared`` (read from ``path``).

    Raises:
        ValueError: ``prepared`` carries no split indices (it was not made by ``prepare_data``).
    """
    if len(prepared.split_indices) != 3:
        raise ValueError("the prepared data carries no split indices")
    splits = hashlib.sha256()
    for part in prepared.split_indices:
        indices = np.asarray(part, dtype=np.int64)
        splits.update(len(indices).to_bytes(8, "little"))
        splits.update(indices.tobytes())
    profile = prepared.profile
    return DataIdentity(
        path=str(path), file=profile.fingerprint, target=profile.target, task=profile.task or "",
        columns=tuple(c.name for c in profile.feature_columns),
        inputs={k: tuple(int(d) for d in v) for k, v in prepared.signature.inputs.items()},
        class_names=tuple(prepared.class_names), splits="sha256:" + splits.hexdigest(),
        category_codes=int(prepared.signature.categorical_tokens),
        kinds={c.name: c.kind for c in profile.feature_columns})


def prepare_for_search(config: SearchConfig) -> PreparedData:
    """Reads, profiles and splits ``config``'s data exactly as a search does (no TensorFlow).

    Raises:
        UserError: the data cannot be read or does not fit the target/columns.
    """
    return prepare_loaded(load_config_dataset(config), config)


def load_config_dataset(config: SearchConfig) -> Dataset:
    """Reads ``config``'s data file with its CSV, array and image settings (UserError if it cannot)."""
    return load_dataset(config.data_path, x_key=config.x_key, y_key=config.y_key,
                        image_size=tuple(config.image_size),  # type: ignore[arg-type]
                        csv_options=CsvOptions(config.csv_delimiter, config.csv_decimal,
                                               config.csv_encoding, config.csv_header))


def prepare_loaded(dataset: Dataset, config: SearchConfig) -> PreparedData:
    """Profiles and splits an already read ``dataset`` as a search on ``config`` does."""
    forecast = forecast_options(dataset, config)
    exclude, task = tuple(config.exclude_columns), config.task
    if forecast is not None:
        # Time and series id order and group the rows; they are no features. A forecast is a regression.
        exclude += (forecast.time_column,) + ((forecast.group,) if forecast.group else ())
        task = "regression"
    profile = profile_dataset(dataset, config.target, task, exclude=exclude,
                              include=tuple(config.include_columns), kinds=config.column_kinds,
                              keep_going=forecast is not None)
    if profile.problem and not (forecast is not None and "no usable feature columns" in profile.problem):
        raise DataError(profile.problem)  # a forecast's features are its target's past values
    return prepare_data(dataset, profile, validation_fraction=config.validation_fraction,
                        test_fraction=config.test_fraction, seed=config.seed, forecast=forecast,
                        text=TextOptions(config.ngrams, config.max_tokens or MAX_TOKENS, config.char_ngrams))


def forecast_options(dataset: Dataset, config: SearchConfig) -> ForecastOptions | None:
    """The forecast ``config`` asks for (None: rows are independent); ``auto`` finds the time column.

    Raises:
        DataError: ``auto`` and no column looks like time, or the data is not a table.
    """
    if not config.time_column:
        return None
    column = config.time_column
    if dataset.kind != "table":
        raise DataError(f"{dataset.path}: --time-column needs a table (CSV/Parquet), not {dataset.kind}")
    if column == AUTO:
        found = detect_time_column(dataset.frame, exclude=(config.target,) if config.target else (),
                                   group=config.group_column)
        if found is None:
            raise DataError(f"{dataset.path}: no column looks like time (dates, evenly spaced whole numbers, or "
                            "a column named time/date); name it with --time-column")
        column = found
    return ForecastOptions(column, config.horizon, config.lookback, config.stride, config.group_column,
                           config.lookback_max)


def identify(config: SearchConfig) -> DataIdentity:
    """The identity of ``config``'s data as a search would prepare it.

    A launcher (the window, the chief's command) publishes it before any training process starts.
    The search's own session must read the data the same way (:func:`prepare_for_search`), or the
    fingerprints would differ for reasons of our own.

    Raises:
        UserError: the data cannot be read or does not fit the target/columns.
    """
    return data_identity(prepare_for_search(config), config.data_path)


def differences(recorded: Mapping[str, Any], current: DataIdentity) -> list[str]:
    """What differs between a recorded identity (a ``to_dict()``) and ``current``, in words.

    Only the fields ``recorded`` holds are compared, so a record from an older version (which
    knew only the file's fingerprint, or the target asked for) is compared on what it knows.
    """
    now = current.to_dict()
    changed = [key for key in IDENTITY_KEYS if key in recorded and recorded[key] != now[key]]
    # Say the cause, not its consequences: other columns change the inputs, another target the
    # classes, and any of them the (stratified) split.
    derived = {"inputs": {"file", "columns", "kinds"}, "class_names": {"file", "target", "task"},
               "kinds": {"file", "columns"},
               "splits": set(IDENTITY_KEYS) - {"splits", "category_codes", "kinds"},
               "category_codes": set(IDENTITY_KEYS) - {"category_codes"}}
    found: list[str] = []
    for key in changed:
        if derived.get(key, set()) & set(changed):
            continue
        before, after = recorded[key], now[key]
        if key == "file":
            found.append(f"the data differs: {current.path} has fingerprint {short(after)}, the search was "
                         f"run on {recorded.get('path') or 'its data'} with fingerprint {short(before)}")
        elif key == "target":
            found.append(f"the target differs: the search predicts {before!r}, this run {after!r}")
        elif key == "task":
            found.append(f"the task differs: the search is a {before}, this run a {after}")
        elif key == "columns":
            # A swapped target moves a column in or out by itself; that is said once, as the target.
            targets = {recorded.get("target"), now["target"]}
            left_out = [c for c in before if c not in after and c not in targets]
            added = [c for c in after if c not in before and c not in targets]
            parts = ([f"{', '.join(map(repr, left_out))} left out"] if left_out else []) + \
                    ([f"{', '.join(map(repr, added))} added"] if added else [])
            if parts or set(before) == set(after):
                found.append(f"the feature columns differ: {'; '.join(parts) or 'another order'}")
        elif key == "kinds":
            kinds = "; ".join(f"{name!r} was {kind} in the search, {after[name]} in this run"
                              for name, kind in sorted(before.items()) if name in after and after[name] != kind)
            found.append(f"the column kinds differ: {kinds} (to resume, choose the search's kind: right-click "
                         "the column on the Data page, or --categorical / --numeric / --text COLUMN)")
        elif key == "inputs":
            found.append(f"the model inputs differ: {_shapes(before)} in the search, {_shapes(after)} in this "
                         "run (another image size or array key, or a column read as another kind: a project searched "
                         "before whole numbers of 3-10 values were read as numbers resumes with --categorical COLUMN)")
        elif key == "category_codes":
            found.append(f"the categorical columns' codes differ: {before} in the search, {after} in this run "
                         "(levels seen in fewer than 3 training rows now share one code)")
        elif key == "class_names":
            found.append(f"the classes differ: {', '.join(map(str, before))} in the search, "
                         f"{', '.join(map(str, after))} in this run")
        else:
            found.append("the train/validation/test split differs (another seed, validation or test "
                         "fraction, or other rows)")
    return found


def short(fingerprint: Any) -> str:
    """``sha256:`` and the first 12 hex digits: enough to tell two fingerprints apart by eye."""
    text = str(fingerprint)
    return text[:19] + "…" if len(text) > 19 else text


def _shapes(inputs: Any) -> str:
    if not isinstance(inputs, Mapping):
        return str(inputs)
    return ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in inputs.items())


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


__all__ = ["DataIdentity", "data_identity", "identify", "prepare_for_search", "differences", "short", "IDENTITY_KEYS"]
