"""Using an exported model: predictions for a data file, and metrics against its target.

Works from the model file alone: its metadata says how columns become inputs (the feature
schema), what the classes are called and whether it is a classifier or a regressor.

A table to score is matched to the model's columns by name, so order does not matter and extra
columns are ignored (with a note). A name that differs only in case is matched with a warning;
a needed column that is absent is refused, since filling a whole column with the training median
would score every row on a guess. Within the matched columns, a missing value is filled as in
training (the median for a number, the unknown code for a category). The rest is checked row by
row: a value that is not a number in a numeric column, or a category the model never saw in
training, leaves its row unscored with the reason (``Predictions.problems``) while the other rows
are scored; only a file where no row can be scored is refused. Each problem is told in one line
that names the file, the rows and the column (many rows of one problem in one line).
"""

from __future__ import annotations

import csv
import os
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl_studio.engine.core.errors import DataError, ModelFileError
from automl_studio.engine.data.csv_format import SOFT_MISSING, CsvOptions, to_numbers
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.dates import parse_dates
from automl_studio.engine.data.features import FeatureSchema, encode_target
from automl_studio.engine.data.images import IMAGE_SUFFIXES, load_images_to_score
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import label_text, row_number
from automl_studio.engine.data.text import words
from automl_studio.engine.export.model_info import check_safe, read_metadata
from automl_studio.engine.train.metrics import classification_metrics, regression_metrics

if TYPE_CHECKING:
    import pandas as pd

_SHOWN = 5  # rows or values named in one line; the count says how many there are in all
_MAX_BATCH_ROWS = 4096  # rows scored in one call
_BATCH_VALUES = 1_000_000  # input values scored in one call (about 80 RGB images of 64×64)


def load_model(path: str | os.PathLike[str], *, allow_unsafe: bool = False) -> tuple[Any, dict[str, Any]]:
    """Loads an exported model in safe mode with its metadata; refuses models with code in them."""
    import keras

    p = Path(path)
    metadata = read_metadata(p)
    check_safe(p, allow_unsafe=allow_unsafe)
    if allow_unsafe:
        warnings.warn(f"{p}: loading with safe mode off; it may run code from the file", stacklevel=2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.models.load_model(p, safe_mode=not allow_unsafe, compile=False)
    except Exception as exc:
        raise ModelFileError(f"{p}: cannot load the model ({exc.__class__.__name__}: {exc})") from exc
    if not metadata:
        raise ModelFileError(f"{p}: not an automl-studio model (no metadata); it loads with keras but "
                             "its input columns are unknown")
    return model, metadata


@dataclass(frozen=True)
class ScoringData:
    """A data file read for a model: the inputs of the rows that can be scored, and what was found.

    ``scored`` holds the positions (among the file's rows) of the rows in ``inputs`` and
    ``labels``; the other rows cannot be scored and ``warnings`` says why. ``notes`` are things
    worth knowing (columns ignored, missing values filled); ``warnings`` are things that change
    what is scored (columns matched by case, unseen categories, rows left out).
    """

    inputs: dict[str, np.ndarray]
    labels: Any
    dataset: Dataset
    scored: np.ndarray
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    target_column: str | None = None  # the file's name of the target column, when it has one
    # Why each row of the file cannot be scored ("" for a row that can), e.g.
    # "column 'age': 'abc' is not a number"; empty when every row can be scored.
    problems: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        """Rows in the file (scored or not)."""
        return self.dataset.n_rows


def read_for_model(metadata: dict[str, Any], data_path: str | os.PathLike[str], *,
                   target: str | None = None, x_key: str | None = None, y_key: str | None = None,
                   csv_options: CsvOptions | None = None) -> ScoringData:
    """Reads a data file into the model's inputs, plus the target values when there are any.

    ``target`` names the column of true values (a table; default: the model's target, used only
    when present). ``csv_options`` overrides what is detected about a CSV file.

    Raises:
        DataError: the file does not fit the model (a needed column is absent, the wrong kind of
            data, no row can be scored); one line naming the file and the column.
    """
    inputs_meta = metadata.get("inputs", {})
    kind = metadata.get("input_kind")
    p = Path(data_path)
    if kind == "images" and (p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES):
        # Any layout (one file, flat, class subfolders, nested): every image is scored with the
        # decoding training used; what is skipped is reported through ``notes``.
        height, width, *channels = inputs_meta["image"]
        dataset = load_images_to_score(p, image_size=(height, width), channels=channels[0] if channels else 3)
    else:
        needed = FeatureSchema.from_dict(metadata["feature_schema"]).columns if kind == "table" else ()
        dataset = load_dataset(p, x_key=x_key, y_key=y_key, csv_options=csv_options, expected_columns=needed)
    if dataset.kind == "table":
        if kind != "table":
            raise DataError(f"{p}: this model takes {kind}, not a table")
        return _read_table(FeatureSchema.from_dict(metadata["feature_schema"]), dataset, p,
                           target=target, model_target=metadata.get("target"))
    x = dataset.x
    assert x is not None
    if kind == "images":
        source = "image"
        if x.ndim == 3:
            x = x[..., None]
    elif kind == "sequences":
        source = "sequence"
    elif kind == "features":
        source = "numeric"
    else:
        raise DataError(f"{p}: this model takes a table (CSV/Parquet), not arrays")
    expected = tuple(inputs_meta[source])
    if tuple(x.shape[1:]) != expected:
        raise DataError(f"{p}: inputs have shape {tuple(x.shape[1:])} per row; the model needs {expected}")
    labels: Any = dataset.y
    if dataset.class_names is not None and labels is not None:
        labels = np.array([dataset.class_names[i] for i in labels])
    if kind == "images" and p.is_dir():
        named = _folder_labels(p, dataset.files, metadata.get("class_names") or ())
        labels = named if named is not None else labels
    inputs = {source: x.astype(np.float32) if x.dtype != np.uint8 else x}
    return ScoringData(inputs, labels, dataset, np.arange(len(x)), dataset.notes)


def model_inputs(metadata: dict[str, Any], data_path: str | os.PathLike[str], *,
                 target: str | None = None, x_key: str | None = None,
                 y_key: str | None = None,
                 csv_options: CsvOptions | None = None) -> tuple[dict[str, np.ndarray], Any, Dataset]:
    """The model's inputs, the target values (or None) and the dataset, as :func:`read_for_model`.

    Inputs and target values are those of the rows that can be scored.
    """
    data = read_for_model(metadata, data_path, target=target, x_key=x_key, y_key=y_key,
                          csv_options=csv_options)
    return data.inputs, data.labels, data.dataset


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def _quoted(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _rows(dataset: Dataset, positions: np.ndarray) -> str:
    """``row 4`` / ``rows 4, 9, 12, …``: the file's row numbers of some positions."""
    shown = ", ".join(str(row_number(dataset, int(i))) for i in positions[:_SHOWN])
    return ("row " if len(positions) == 1 else "rows ") + shown + (", …" if len(positions) > _SHOWN else "")


def _some_rows(dataset: Dataset, positions: np.ndarray, shown: int = 3) -> str:
    """``row 17`` / ``rows 3, 9 and 12`` / ``rows 3, 9, 12 and 40 more``: the file's row numbers."""
    numbers = [str(row_number(dataset, int(i))) for i in positions[:shown]]
    if len(positions) == 1:
        return f"row {numbers[0]}"
    if len(positions) <= shown:
        return f"rows {', '.join(numbers[:-1])} and {numbers[-1]}"
    return f"rows {', '.join(numbers)} and {len(positions) - shown} more"


def _given(raw: pd.Series, typed: bool) -> np.ndarray:
    """Which cells of ``raw`` hold a value: not missing, nor (unless the column already has the
    ``typed`` dtype) a soft-missing text such as ``NA`` or ``?``. Shape (rows,), bool."""
    given = np.array(raw.notna().to_numpy())
    if not typed:
        given &= ~raw.astype(str).str.strip().isin(SOFT_MISSING).to_numpy()
    return given


def _refuse_unreadable(source: Path, dataset: Dataset, reasons: np.ndarray, lines: list[str], raw: pd.Series,
                       unreadable: np.ndarray, name: str, kind: str) -> None:
    """Leaves the rows where ``unreadable`` (bool, per row) unscored, each with its reason
    ("column 'x': 'abc' is not a number"), and adds the column's one line to ``lines``."""
    bad = np.flatnonzero(unreadable)
    if len(bad):
        texts = [str(v) for v in raw.iloc[bad]]
        _mark(reasons, bad, [f"column '{name}': '{t}' is not a {kind}" for t in texts])
        lines.append(_row_problem(source, dataset, bad, name, texts, f"'{{}}' is not a {kind}",
                                  f"values are not {kind}s"))


def _row_problem(source: Path, dataset: Dataset, positions: np.ndarray, column: str,
                 values: Sequence[str], one: str, many: str) -> str:
    """One line for one problem of one column in many rows.

    ``one`` says it of a single value (``'{}' is not a number``), ``many`` of several different
    values (``values are not numbers``), e.g. ``data.csv: rows 3, 9, 12 and 40 more, column 'age':
    'abc' is not a number; not scored``.
    """
    distinct = list(dict.fromkeys(values))
    what = one.format(distinct[0]) if len(distinct) == 1 else f"{many} ({_quoted(distinct, _SHOWN)})"
    return (f"{source}: {_some_rows(dataset, positions)}, column '{column}': {what}; "
            f"{'that row is' if len(positions) == 1 else 'those rows are'} not scored")


def _match_columns(needed: Sequence[str], present: Sequence[str], source: Path,
                   *, no_header: bool) -> tuple[dict[str, str], str | None]:
    """The file's column for each needed name: the same name, else the one equal up to case.

    Returns the mapping and a warning listing the case-only matches (None when there are none).
    """
    mapping = {n: n for n in needed if n in present}
    claimed = set(mapping.values())
    candidates: dict[str, list[str]] = {}
    for column in present:
        if column not in claimed:
            candidates.setdefault(_fold(column), []).append(column)
    wanted: dict[str, list[str]] = {}
    for name in needed:
        if name not in mapping:
            wanted.setdefault(_fold(name), []).append(name)
    missing: list[str] = []
    for key, names in wanted.items():
        found = candidates.get(key, [])
        if len(found) == 1 and len(names) == 1:
            mapping[names[0]] = found[0]
        elif found:
            raise DataError(f"{source}: cannot tell which column is the model's {_quoted(names)}: the file has "
                            f"{_quoted(found)}, which differ only in case; rename them to match")
        else:
            missing.extend(names)
    if missing:
        missing.sort(key=list(needed).index)
        hint = " (the file has no header row; give it the model's column names)" if no_header else ""
        raise DataError(f"{source}: missing column(s) the model needs: {', '.join(missing)}{hint}")
    renamed = [(found, name) for name, found in mapping.items() if found != name]
    if not renamed:
        return mapping, None
    pairs = ", ".join(f"'{found}' as '{name}'" for found, name in renamed)
    return mapping, f"{source}: column names differ from the model's only in case; read {pairs}"


def _find_column(name: str, present: Sequence[str]) -> str | None:
    if name in present:
        return name
    found = [c for c in present if _fold(c) == _fold(name)]
    return found[0] if len(found) == 1 else None


def _read_table(schema: FeatureSchema, dataset: Dataset, source: Path, *, target: str | None,
                model_target: str | None, refuse_unscorable: bool = True) -> ScoringData:
    """The rows of a table the model can score; with ``refuse_unscorable``, none is an error."""
    import pandas as pd

    frame = dataset.frame
    present = [str(c) for c in frame.columns]
    notes = list(dataset.notes)
    problems: list[str] = []
    wanted_target = target or model_target
    # Never a column the model reads: a feature 'Y' is not the target 'y'.
    target_column = (_find_column(wanted_target, [c for c in present if c not in schema.columns])
                     if wanted_target else None)
    if target and target_column is None and target in schema.columns:
        raise DataError(f"{source}: '{target}' is a column the model reads, not what it predicts "
                        f"('{model_target}')")
    if target and target_column is None:
        raise DataError(f"{source}: no column named '{target}'; the columns are: " + ", ".join(present))
    no_header = dataset.csv_format is not None and dataset.csv_format.header_line is None
    mapping, renamed = _match_columns(schema.columns, [c for c in present if c != target_column], source,
                                      no_header=no_header)
    if renamed:
        problems.append(renamed)
    unused = [c for c in present if c not in mapping.values() and c != target_column]
    if unused:
        notes.append(f"{source}: {len(unused)} column(s) the model does not use are ignored: {_quoted(unused)}")
    n = len(frame)
    reasons = np.full(n, "", dtype=object)  # why each row cannot be scored; "" when it can
    decimal = dataset.csv_format.decimal if dataset.csv_format is not None else None
    columns: dict[str, Any] = {}
    lines: list[str] = []  # one line per problem, for the error when no row is left
    for f in schema.numeric:
        raw = frame[mapping[f.name]]
        values = np.array(to_numbers(raw, decimal).to_numpy(dtype=np.float64, na_value=np.nan))
        typed = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
        given = _given(raw, typed)
        _refuse_unreadable(source, dataset, reasons, lines, raw, given & ~np.isfinite(values), f.name, "number")
        gaps = np.flatnonzero(~given)
        if len(gaps):
            never = "" if f.flag else "; it had no missing values in training"
            notes.append(f"{source}: column '{f.name}': {len(gaps)} missing value(s) ({_rows(dataset, gaps)}) "
                         f"filled with {f.fill:g}, as in training{never}")
        values[~given] = np.nan
        columns[f.name] = values
    for c in schema.categorical:
        raw = frame[mapping[c.name]]
        given = np.array(raw.notna().to_numpy())
        texts = raw.map(lambda v: label_text(v) if v == v and v is not None else "")
        unseen = np.flatnonzero(given & ~texts.isin({*c.vocabulary, *c.rare}).to_numpy())
        gaps = np.flatnonzero(~given)
        if len(unseen) and c.rare:
            # The shared code learnt from the rare levels: a new value is scored as one of them.
            notes.append(f"{source}: column '{c.name}': {len(unseen)} value(s) never seen in training "
                         f"({_rows(dataset, unseen)}) scored as a rare level, as in training")
        elif len(unseen):
            # The unknown code of a value never seen learnt nothing about it: a guess, so not scored.
            new_values = [str(v) for v in texts.iloc[unseen]]
            _mark(reasons, unseen, [f"column '{c.name}': '{v}' was never seen in training" for v in new_values])
            lines.append(_row_problem(source, dataset, unseen, c.name, new_values,
                                      "'{}' was never seen in training", "values never seen in training"))
        if len(gaps):
            notes.append(f"{source}: column '{c.name}': {len(gaps)} missing value(s) ({_rows(dataset, gaps)}) "
                         "scored as an unknown category, as in training")
        columns[c.name] = raw.to_numpy(dtype=object)
    for d in schema.dates:
        raw = frame[mapping[d.name]]
        given = _given(raw, pd.api.types.is_datetime64_any_dtype(raw))
        parsed = parse_dates(raw)
        _refuse_unreadable(source, dataset, reasons, lines, raw, given & parsed.isna().to_numpy(), d.name, "date")
        gaps = np.flatnonzero(~given)
        if len(gaps):
            never = "" if d.flag else "; it had no missing dates in training"
            notes.append(f"{source}: column '{d.name}': {len(gaps)} missing date(s) ({_rows(dataset, gaps)}) "
                         f"filled with the training medians of its calendar parts{never}")
        # Parsed once here; the schema's expansion (data.dates) reads datetimes as they are.
        columns[d.name] = parsed.to_numpy()
    for t in schema.text:
        raw = frame[mapping[t.name]]
        # Missing, empty or punctuation only: no token, so one unknown word (data.text.TextFeature).
        gaps = np.flatnonzero([not (v == v and v is not None and words(str(v))) for v in raw])
        if len(gaps):
            notes.append(f"{source}: column '{t.name}': {len(gaps)} text(s) without words ({_rows(dataset, gaps)}) "
                         "scored as one unknown word, as in training")
        # Tokenized by the rules and vocabulary the model was trained with (data.text).
        columns[t.name] = raw.to_numpy(dtype=object)
    scored = np.flatnonzero(reasons == "")
    if len(scored) == 0 and refuse_unscorable:
        shown = "; ".join(line.removeprefix(f"{source}: ").split("; ")[0] for line in lines[:2])
        more = f" and {len(lines) - 2} more problem(s)" if len(lines) > 2 else ""
        raise DataError(f"{source}: no row can be scored: {shown}{more}")
    problems.extend(lines)
    table = pd.DataFrame({name: values[scored] for name, values in columns.items()})
    inputs = schema.transform(table, source=str(source))
    labels = frame[target_column].iloc[scored] if target_column is not None else None
    row_problems = tuple(reasons.tolist()) if len(scored) < n else ()
    return ScoringData(inputs, labels, dataset, scored, tuple(notes), tuple(problems), target_column,
                       row_problems)


def _mark(reasons: np.ndarray, positions: np.ndarray, texts: Sequence[str]) -> None:
    """Adds a reason to some rows (a row with several problems lists them all, joined by '; ')."""
    before = reasons[positions]
    reasons[positions] = [f"{b}; {t}" if b else t for b, t in zip(before, texts, strict=True)]


def _folder_labels(root: Path, files: tuple[str, ...], names: list[str] | tuple[str, ...]) -> Any:
    """Each image's class: the nearest folder above it named like one of the model's classes.

    So ``data/val/cats/1.png`` is a cat, whatever the folders around the class folders are.
    None when some image has no such folder (then the first-level folders are the labels).
    """
    known = set(map(str, names))
    labels = []
    for file in files:
        folders = Path(file).relative_to(root).parts[:-1]
        match = next((name for name in reversed(folders) if name in known), None)
        if match is None:
            return None
        labels.append(match)
    return np.array(labels) if labels else None


def _decode(metadata: dict[str, Any], raw: np.ndarray) -> tuple[list[Any], np.ndarray | None]:
    if metadata["task"] == "regression":
        return raw.reshape(-1).tolist(), None
    names = metadata["class_names"]
    proba = np.concatenate([1 - raw, raw], axis=1) if raw.shape[1] == 1 else raw
    return [names[i] for i in proba.argmax(axis=1)], proba


def run_model(model: Any, inputs: dict[str, np.ndarray], *,
              on_progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The model's raw outputs for some inputs: a small input in one call, a large one in batches.

    Batches hold about :data:`_BATCH_VALUES` input values, so that images are scored a few dozen
    at a time and table rows a few thousand. ``on_progress`` receives the fraction of rows scored
    (0–1) after each batch.
    """
    n = len(next(iter(inputs.values())))
    per_row = max(1, sum(int(np.prod(v.shape[1:])) for v in inputs.values()))
    batch = max(1, min(_MAX_BATCH_ROWS, _BATCH_VALUES // per_row))
    if n <= batch:
        # predict() builds a tf.data pipeline and a traced function each call: slow for a few rows.
        out = np.asarray(model.predict_on_batch(inputs))
    else:
        callbacks = [] if on_progress is None else [_batch_progress(on_progress, batch, n)]
        out = np.asarray(model.predict(inputs, verbose=0, batch_size=batch, callbacks=callbacks))
    if on_progress is not None:
        on_progress(1.0)
    return out


def _batch_progress(on_progress: Callable[[float], None], batch: int, n: int) -> Any:
    """A Keras callback that reports the fraction of ``n`` rows scored after each batch."""
    import keras

    class BatchProgress(keras.callbacks.Callback):
        def on_predict_batch_end(self, index: int, logs: Any = None) -> None:
            on_progress(min(1.0, (index + 1) * batch / n))

    return BatchProgress()


@dataclass(frozen=True)
class Predictions:
    """One entry per row of the data file; ``None`` (and NaN probabilities) for a row not scored.

    ``problems`` says why each row was not scored ("" for a scored row); empty when every row was.
    """

    keys: list[Any]  # the file's row number (tables), index (arrays) or image path
    labels: list[Any]
    proba: np.ndarray | None  # rows × classes, classifiers only
    class_names: tuple[str, ...]
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def n_scored(self) -> int:
        """How many rows have a prediction."""
        return sum(label is not None for label in self.labels)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (NaN probabilities as ``None``), as the window receives it from a child."""
        proba = None
        if self.proba is not None:
            proba = [[None if np.isnan(v) else float(v) for v in row] for row in self.proba.tolist()]
        return {"keys": list(self.keys), "labels": [_plain(v) for v in self.labels], "proba": proba,
                "class_names": list(self.class_names), "notes": list(self.notes),
                "warnings": list(self.warnings), "problems": list(self.problems)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Predictions:
        """The inverse of :meth:`to_dict`."""
        proba = None
        if data.get("proba") is not None:
            proba = np.array([[np.nan if v is None else v for v in row] for row in data["proba"]],
                             dtype=np.float64).reshape(len(data["proba"]), -1)
        return cls(list(data["keys"]), list(data["labels"]), proba, tuple(data["class_names"]),
                   tuple(data.get("notes", ())), tuple(data.get("warnings", ())),
                   tuple(data.get("problems", ())))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def predict_data(model: Any, metadata: dict[str, Any], data_path: str | os.PathLike[str], *,
                 x_key: str | None = None, csv_options: CsvOptions | None = None,
                 on_progress: Callable[[float], None] | None = None) -> Predictions:
    """Scores every row of a data file that can be scored with a loaded model.

    ``on_progress`` receives the fraction of rows scored (0–1) as the model runs.

    Raises:
        DataError: the file does not fit the model or no row of it can be scored.
    """
    data = read_for_model(metadata, data_path, x_key=x_key, csv_options=csv_options)
    return _predict(model, metadata, data, on_progress)


def predict_records(model: Any, metadata: dict[str, Any], records: Sequence[dict[str, Any]], *,
                    source: str = "the form") -> Predictions:
    """Scores rows given as ``{column: value}`` (values as typed: text, numbers or ``None``).

    Read exactly like the rows of a CSV file with those columns, so a typed row scores as the same
    row in a file does; ``source`` names them in messages. A row that cannot be scored gets its
    reason in ``problems``, even when no row can be scored.

    Raises:
        DataError: a column the model needs is absent, or the model does not take a table.
    """
    import pandas as pd

    if metadata.get("input_kind") != "table":
        raise DataError(f"{source}: this model takes {metadata.get('input_kind')}, not table rows")
    # A blank entry is a missing value, as an empty CSV cell is.
    rows = [{k: None if isinstance(v, str) and not v.strip() else v for k, v in r.items()} for r in records]
    frame = pd.DataFrame.from_records(rows)
    dataset = Dataset(path=source, kind="table", fingerprint="", frame=frame)
    data = _read_table(FeatureSchema.from_dict(metadata["feature_schema"]), dataset, Path(source),
                       target=None, model_target=metadata.get("target"), refuse_unscorable=False)
    return _predict(model, metadata, data)


def _predict(model: Any, metadata: dict[str, Any], data: ScoringData,
             on_progress: Callable[[float], None] | None = None) -> Predictions:
    n = data.n_rows
    if len(data.scored):
        labels, proba = _decode(metadata, run_model(model, data.inputs, on_progress=on_progress))
    else:  # typed rows, none of them scorable (a file is refused before)
        names = metadata.get("class_names") or ()
        labels, proba = [], None if metadata["task"] == "regression" else np.zeros((0, len(names)))
    all_labels: list[Any] = [None] * n
    for i, label in zip(data.scored.tolist(), labels, strict=True):
        all_labels[i] = label
    all_proba = None
    if proba is not None:
        all_proba = np.full((n, proba.shape[1]), np.nan)
        all_proba[data.scored] = proba
    dataset = data.dataset
    if dataset.files:
        keys: list[Any] = list(dataset.files)
    elif dataset.kind == "table":
        keys = [row_number(dataset, i) for i in range(n)]
    else:
        keys = list(range(n))
    return Predictions(keys, all_labels, all_proba, tuple(metadata.get("class_names") or ()),
                       data.notes, data.warnings, data.problems)


def _forecast_predictions(model: Any, metadata: dict[str, Any], data_path: str) -> Predictions:
    """A forecast model's next ``horizon`` steps after the history in ``data_path``, as ``predict``
    writes them (:func:`~.forecast.forecast_frame`), keyed by their times (``series · time`` with
    a group column).

    Raises:
        DataError: as :func:`~.forecast.forecast_frame` (a series shorter than the lookback...).
    """
    from automl_studio.engine.export.forecast import forecast_frame

    frame = forecast_frame(model, metadata, data_path)
    spec = metadata["forecast"]
    times = frame[spec["time_column"]].astype(str)
    keys = frame[spec["group"]].astype(str) + " · " + times if spec.get("group") else times
    return Predictions(keys.tolist(), frame["prediction"].astype(float).tolist(), None, ())


def predict_for_window(model_path: str, data_path: str | None = None,
                       records: list[dict[str, Any]] | None = None, *,
                       allow_unsafe: bool = False, progress_path: str | None = None) -> dict[str, Any]:
    """Predictions for the window, run in a child process: :meth:`Predictions.to_dict`.

    Scores a data file (``data_path``) or typed rows (``records``, see :func:`predict_records`);
    adds ``task`` (classification or regression). A forecast model forecasts the next steps after
    the history in ``data_path`` instead, one entry per forecast time, and adds ``key``: the time
    column's name (``series · time`` with a group column). With ``progress_path``, the fraction done
    (0–1: the model loaded, the data read, then batch by batch) is kept in that file, replaced
    whole each time, for the window to poll.

    Raises:
        DataError, ModelFileError: as :func:`predict_data` and :func:`load_model`.
    """
    def report(fraction: float) -> None:
        if progress_path is not None:
            tmp = f"{progress_path}.tmp"
            Path(tmp).write_text(f"{fraction:.4f}", encoding="utf-8")
            os.replace(tmp, progress_path)

    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    report(0.1)
    if records is not None:
        result = predict_records(model, metadata, records)
    elif data_path is not None and metadata.get("forecast"):
        result = _forecast_predictions(model, metadata, data_path)
        spec = metadata["forecast"]
        key = f"{spec['group']} · {spec['time_column']}" if spec.get("group") else spec["time_column"]
        return {**result.to_dict(), "task": metadata.get("task"), "key": key}
    elif data_path is not None:
        data = read_for_model(metadata, data_path)
        report(0.3)
        result = _predict(model, metadata, data, lambda f: report(0.3 + 0.7 * f))
    else:
        raise DataError(f"{model_path}: nothing to score (no data file and no rows)")
    return {**result.to_dict(), "task": metadata.get("task")}


def write_predictions(result: Predictions, out: Path) -> Path:
    """Writes predictions as CSV: the row (or file), ``prediction``, one probability per class.

    A ``problem`` column follows when some row was not scored: its reason, with empty cells
    before it. Written to a temporary file first, so a failed write leaves no half file.

    Raises:
        DataError: the file cannot be written (naming it and the reason).
    """
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            first = "file" if result.keys and isinstance(result.keys[0], str) else "row"
            probability = [f"probability_{n}" for n in result.class_names] if result.proba is not None else []
            problems = list(result.problems)
            writer.writerow([first, "prediction", *probability, *(["problem"] if problems else [])])
            for i, (key, label) in enumerate(zip(result.keys, result.labels, strict=True)):
                row = [key, "" if label is None else label]
                if result.proba is not None:
                    row += ["" if np.isnan(v) else f"{v:.6g}" for v in result.proba[i]]
                if problems:
                    row.append(problems[i])
                writer.writerow(row)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{out}: cannot write predictions ({exc.strerror})") from exc
    return out


def predict_file(model_path: str, data_path: str, output: str | None = None, *,
                 x_key: str | None = None, allow_unsafe: bool = False,
                 on_note: Callable[[str], None] | None = None,
                 on_warning: Callable[[str], None] | None = None,
                 csv_options: CsvOptions | None = None, backtest: bool = False) -> Path:
    """Writes a CSV with a ``prediction`` column (and one probability column per class).

    A forecast model instead forecasts from the file as history
    (:func:`~automl_studio.engine.export.forecast.forecast_frame`; ``backtest``: a forecast
    for every row with a full lookback window before it).

    The first column is ``row`` (the data file's row number, as messages count rows) or ``file``
    (images). A row that cannot be scored is written with empty cells and its reason in a last
    ``problem`` column (present only when some row was not scored). ``on_note`` receives one
    line per thing worth knowing about the input, e.g. how many entries of an image folder were
    skipped; ``on_warning`` one line per thing that changes what is scored (one per problem and
    column, naming the rows; unseen categories; names matched by case); without it, those go to
    ``on_note`` too.

    Raises:
        DataError: the file does not fit the model or no row of it can be scored.
    """
    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    if metadata.get("forecast"):
        from automl_studio.engine.export.forecast import write_forecast

        suffix = ".backtest.csv" if backtest else ".forecast.csv"
        out = Path(output) if output else Path(data_path).with_name(Path(data_path).stem + suffix)
        return write_forecast(model, metadata, data_path, out, backtest=backtest, csv_options=csv_options)
    if backtest:
        raise DataError(f"{model_path}: --backtest needs a forecast model (one searched with --time-column)")
    result = predict_data(model, metadata, data_path, x_key=x_key, csv_options=csv_options)
    _tell(result.notes, result.warnings, on_note, on_warning)
    out = Path(output) if output else Path(data_path).with_name(Path(data_path).stem + ".predictions.csv")
    return write_predictions(result, out)


def _tell(notes: Sequence[str], warnings_: Sequence[str], on_note: Callable[[str], None] | None,
          on_warning: Callable[[str], None] | None) -> None:
    for note in notes:
        if on_note is not None:
            on_note(note)
    for warning in warnings_:
        if on_warning is not None:
            on_warning(warning)
        elif on_note is not None:
            on_note(warning)


def evaluate_file(model_path: str, data_path: str, target: str | None = None, *,
                  x_key: str | None = None, y_key: str | None = None,
                  allow_unsafe: bool = False,
                  on_note: Callable[[str], None] | None = None,
                  on_warning: Callable[[str], None] | None = None,
                  csv_options: CsvOptions | None = None) -> dict[str, Any]:
    """Metrics of an exported model on a labelled data file (notes and warnings as in :func:`predict_file`).

    Rows without a target value, and rows that cannot be scored, are left out and said so.
    """
    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    data = read_for_model(metadata, data_path, target=target, x_key=x_key, y_key=y_key,
                          csv_options=csv_options)
    dataset = data.dataset
    notes, problems = list(data.notes), list(data.warnings)
    y, inputs = data.labels, data.inputs
    if y is None and dataset.kind == "images":
        raise DataError(f"{data_path}: no labels to evaluate against (put the images in one "
                        "subfolder per class, named like the model's classes)")
    if y is None:
        raise DataError(f"{data_path}: no target values to evaluate against (name it with --target)")
    column = data.target_column
    positions = data.scored
    if dataset.kind == "table":
        import pandas as pd

        values = pd.Series(np.asarray(y, dtype=object))
        absent = values.isna().to_numpy()
        if metadata["task"] == "regression":
            numbers = pd.to_numeric(values, errors="coerce")
            text = np.flatnonzero(numbers.isna().to_numpy() & ~absent)
            if len(text):
                at = int(text[0])
                raise DataError(f"{data_path}: column '{column}' has text ('{values.iloc[at]}' in row "
                                f"{row_number(dataset, int(positions[at]))}); this model predicts numbers")
        if absent.all():
            raise DataError(f"{data_path}: column '{column}' has no values to evaluate against")
        if absent.any():
            problems.append(f"{data_path}: {int(absent.sum())} row(s) have no '{column}' value "
                            f"({_rows(dataset, positions[absent])}) and are not evaluated")
            keep = ~absent
            inputs = {k: v[keep] for k, v in inputs.items()}
            y, positions = values[keep].reset_index(drop=True), positions[keep]
    _tell(notes, problems, on_note, on_warning)
    raw = run_model(model, inputs)
    if metadata["task"] == "regression":
        return regression_metrics(np.asarray(y, dtype=float), raw)
    names = tuple(metadata["class_names"])
    values_ = [label_text(v) for v in (y.tolist() if hasattr(y, "tolist") else list(y))]
    unknown = sorted(set(values_) - set(names))
    if unknown:
        where = ""
        if dataset.kind == "table":
            at = values_.index(unknown[0])
            where = f" (first '{unknown[0]}' in row {row_number(dataset, int(positions[at]))}, column '{column}')"
        raise DataError(f"{data_path}: labels the model has never seen: {', '.join(unknown[:5])}{where}")
    return classification_metrics(encode_target(values_, "classification", names), raw, names)
