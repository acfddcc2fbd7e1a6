"""What a dataset holds: column kinds, the task, class balance and the warnings worth showing.

:func:`profile_dataset` turns a :class:`~automl_studio.engine.data.dataset.Dataset` and a target choice
into a :class:`DatasetProfile`. The window shows it on its Data page; the search uses it to decide
which columns become inputs and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import to_numbers
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.leakage import find_leaks
from automl_studio.engine.data.text import length_percentiles, words

NUMERIC, CATEGORICAL, ID_LIKE, TEXT, CONSTANT = "numeric", "categorical", "id_like", "text", "constant"
DATETIME = "datetime"  # dates or times: expanded into calendar features (data.dates)
# A regression target this skewed (Fisher-Pearson skewness, scipy.stats.skew) and never negative
# makes a log1p target transform a searched choice (search.defaults.target_space).
SKEWED_TARGET = 1.0
MAX_CLASSES_FOR_INTEGER_TARGET = 20
# A feature of whole numbers is a number, however few its values (a flag of two stays a category):
# scikit-learn, LightGBM and AutoGluon read integer columns so, and the order of a grade, a count
# or a pixel's intensity is information a one-hot code throws away. The tabular template's
# piecewise-linear bins still give each level its own weight where the search finds that better.
# Codes that name things (1 = bus, 2 = car) are categories only the user can tell: --categorical.
FEW_WHOLE_NUMBERS = 10
ORDERED_LEVELS = "ordered (codes? treat as categorical)"
MAX_CATEGORIES = 200
MIN_TEXT_WORDS = 3  # median words per value from which a many-valued column is free text
TEXT_SAMPLE = 5000  # values tokenized to detect and describe a text column
DATE_SAMPLE = 200  # values parsed to detect a date column
# A date written with digits (year first or last), optionally a time and a UTC offset; month
# names are left out, so that categories such as "May" stay categories.
_DATE_PATTERN = (r"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
                 r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?")
DATE_REASON = "date/time: calendar parts (year, month, weekday, day of year, hour) and the date as a number"
# Names a target column often has, in order of preference (compared without case).
# Most specific first. "y" comes last and counts only without an "x" beside it: with one it is a
# coordinate (the diamonds table's x, y, z are lengths in mm beside its price).
TARGET_NAMES = ("target", "label", "class", "outcome", "species", "diagnosis", "price", "y")


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its kind, how many values are missing, and whether it is used (and why not)."""

    name: str
    kind: str
    dtype: str
    missing: int
    unique: int
    used: bool
    reason: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetProfile:
    """A summary of a dataset and target choice, shown to the user before a search."""

    path: str
    data_kind: str
    rows: int
    columns: tuple[ColumnProfile, ...]
    target: str | None
    task: str | None
    class_names: tuple[str, ...] = ()
    class_counts: tuple[int, ...] = ()
    dropped_target_rows: int = 0
    input_shape: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    fingerprint: str = ""
    # How a CSV file was read (delimiter, decimal, encoding, header_line); empty for other files.
    csv_format: Mapping[str, Any] = field(default_factory=dict)
    # Why the target cannot be trained on ("" when it can); only with profile_dataset(keep_going=True).
    problem: str = ""
    leaks: tuple[str, ...] = ()  # feature columns that alone predict the target almost perfectly
    target_reason: str = ""  # why this target was chosen when none was given ("last column", ...)
    # A regression target's skewness over its rows (scipy.stats.skew) when it is never negative;
    # None otherwise (classification, negative values, too few rows).
    target_skew: float | None = None

    @property
    def skewed_target(self) -> bool:
        """A non-negative regression target skewed past :data:`SKEWED_TARGET` (prices, counts)."""
        return self.target_skew is not None and self.target_skew > SKEWED_TARGET

    @property
    def feature_columns(self) -> list[ColumnProfile]:
        return [c for c in self.columns if c.used and c.name != self.target]

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["columns"] = [asdict(c) for c in self.columns]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        values = dict(data)
        values["columns"] = tuple(
            ColumnProfile(**{**c, "examples": tuple(c.get("examples", ()))}) for c in data["columns"]
        )
        for key in ("class_names", "class_counts", "input_shape", "warnings", "notes", "leaks"):
            values[key] = tuple(values.get(key, ()))
        return cls(**values)


def guess_target(dataset: Dataset) -> str | None:
    """A likely target column: see :func:`choose_target`."""
    return choose_target(dataset)[0]


def choose_target(dataset: Dataset) -> tuple[str | None, str]:
    """A likely target column and why it was chosen (``"named 'label'"``, ``"last column"``).

    A column named like a target (:data:`TARGET_NAMES`, most specific first; ``y`` only where
    no ``x`` column sits beside it) wins unless it is an identifier or free text (a named target
    with a single value stays chosen, so the page can say why it cannot be used); then the last
    column, then the last before it, with more than one value.
    """
    if dataset.kind != "table" or not dataset.columns:
        return None, ""
    frame, names = dataset.frame, dataset.columns

    def plausible(name: str, kinds: tuple[str, ...] = (NUMERIC, CATEGORICAL)) -> bool:
        return profile_column(frame[name], len(frame)).kind in kinds

    lowered = {str(name).lower() for name in names}
    for candidate in TARGET_NAMES:
        if candidate == "y" and "x" in lowered:
            continue
        for name in names:
            if str(name).lower() == candidate and plausible(name, (NUMERIC, CATEGORICAL, CONSTANT)):
                return name, f"named '{name}'"
    for position, name in enumerate(reversed(names)):
        if plausible(name):
            return name, "last column" if position == 0 else "last usable column"
    return names[-1], "last column"


def profile_column(series: Any, n_rows: int) -> ColumnProfile:
    """Classifies one pandas column as numeric, categorical, ID-like, free text or constant."""
    import pandas as pd

    name = str(series.name)
    missing = int(series.isna().sum())
    values = series.dropna()
    unique = int(values.nunique())
    examples = tuple(str(v) for v in values.unique()[:5])
    dtype = str(series.dtype)
    present = len(values)
    if unique <= 1:
        reason = "has a single value" if unique == 1 else "is empty"
        return ColumnProfile(name, CONSTANT, dtype, missing, unique, False, f"dropped: {reason}", examples)
    if pd.api.types.is_bool_dtype(series):
        return ColumnProfile(name, CATEGORICAL, dtype, missing, unique, True, "", examples)
    if pd.api.types.is_datetime64_any_dtype(series) or (
            not pd.api.types.is_numeric_dtype(series) and looks_like_dates(values)):
        return ColumnProfile(name, DATETIME, dtype, missing, unique, True, DATE_REASON, examples)
    if pd.api.types.is_numeric_dtype(series):
        integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        if integral and unique == present and present >= 20 and _is_sequence(values):
            return ColumnProfile(
                name, ID_LIKE, dtype, missing, unique, False,
                "excluded: a running number, unique per row (an ID)", examples,
            )
        if integral and unique <= 2:
            return ColumnProfile(name, CATEGORICAL, dtype, missing, unique, True, "", examples)
        if integral and unique <= FEW_WHOLE_NUMBERS and unique < max(present // 5, 3):
            return ColumnProfile(name, NUMERIC, dtype, missing, unique, True, ORDERED_LEVELS, examples)
        return ColumnProfile(name, NUMERIC, dtype, missing, unique, True, "", examples)
    text = values.astype(str)
    numeric = to_numbers(text)
    if present and numeric.notna().mean() >= 0.95 and numeric.nunique() > 10:
        return ColumnProfile(
            name, NUMERIC, dtype, missing, unique, True,
            f"{int(numeric.isna().sum())} non-numeric values treated as missing", examples,
        )
    if _looks_like_text(text, unique, present):
        return ColumnProfile(name, TEXT, dtype, missing, unique, True, text_statistics(text), examples)
    if unique == present and present >= 20:
        long_text = float(text.str.len().mean()) > 30
        kind = TEXT if long_text else ID_LIKE
        why = "free text, unique per row" if long_text else "unique per row (an ID)"
        return ColumnProfile(name, kind, dtype, missing, unique, False, f"excluded: {why}", examples)
    if unique > MAX_CATEGORIES and unique > 0.5 * present:
        return ColumnProfile(
            name, TEXT, dtype, missing, unique, False,
            f"excluded: {unique} distinct values in {present} rows (free text?)", examples,
        )
    return ColumnProfile(name, CATEGORICAL, dtype, missing, unique, True, "", examples)


def looks_like_dates(values: Any) -> bool:
    """Whether every value (of a sample) is written like a date or a date and time
    (``2024-03-05``, ``2024-03-05 14:30``, ``05/03/2024``) and pandas parses it as one."""
    import pandas as pd

    sample = values.iloc[:DATE_SAMPLE].astype(str).str.strip()
    if not len(sample) or not sample.str.fullmatch(_DATE_PATTERN).all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce", format="mixed").notna().all())


def _looks_like_text(text: Any, unique: int, present: int) -> bool:
    """Free text: many distinct values (over half the rows, at least 10) of several words each
    (a median of 3 or more) — unlike identifiers (one word) or categories (few values)."""
    if unique < max(10, 0.5 * present):
        return False
    sample = text.iloc[:TEXT_SAMPLE]
    return float(np.median([len(words(v)) for v in sample])) >= MIN_TEXT_WORDS


def text_statistics(text: Any) -> str:
    """``text: 812 distinct words; 4–18 words per value (median 9, 95th percentile 18)``.

    Counted over up to :data:`TEXT_SAMPLE` values with the tokenizer the model uses
    (:mod:`.text`); the vocabulary the search learns comes from the training split only.
    """
    sample = [str(v) for v in text.iloc[:TEXT_SAMPLE]]
    vocabulary = {w for v in sample for w in words(v)}
    p5, p50, p95 = length_percentiles(sample)
    return (f"text: {len(vocabulary)} distinct words; {p5}–{p95} words per value "
            f"(median {p50}, 95th percentile {p95})")


def _is_sequence(values: Any) -> bool:
    ordered = np.sort(values.to_numpy(dtype=float))
    steps = np.diff(ordered)
    return bool(len(steps) and np.all(steps == steps[0]))


def detect_task(series: Any) -> str:
    """Classification for strings, booleans or few distinct integers; regression otherwise."""
    import pandas as pd

    values = series.dropna()
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "classification"
    integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    if integral and values.nunique() <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return "classification"
    return "regression"


def class_names_of(values: Any) -> tuple[str, ...]:
    """Class names exactly as they appear in the data (numbers written without a trailing .0)."""
    uniques = sorted(values.unique(), key=lambda v: (isinstance(v, str), v))
    return tuple(label_text(v) for v in uniques)


def label_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return str(value)


def profile_dataset(
    dataset: Dataset,
    target: str | None = None,
    task: str = "auto",
    *,
    exclude: tuple[str, ...] = (),
    include: tuple[str, ...] = (),
    keep_going: bool = False,
    check_leaks: bool = True,
    kinds: Mapping[str, str] | None = None,
) -> DatasetProfile:
    """Profiles a dataset for a target.

    Args:
        target: the column to predict (tables). ``None`` picks :func:`choose_target`.
        task: ``auto``, ``classification`` or ``regression``.
        exclude: columns the user turned off.
        include: columns the user turned back on although the profiler excluded them.
        keep_going: a target that cannot be trained on (a single class, an identifier, text
            for regression, no feature left) gives a profile with ``problem`` set, the columns
            still described, instead of raising.
        check_leaks: look for columns that alone predict the target (:mod:`.leakage`).
        kinds: the user's kind per column (``numeric``, ``categorical`` or ``text``) over the
            detected one.

    Raises:
        DataError: the target or a named column does not exist, or (without ``keep_going``)
            the target cannot be trained on.
    """
    if dataset.kind == "table":
        return _profile_table(dataset, target, task, exclude, include, keep_going, check_leaks, kinds or {})
    return _profile_arrays(dataset, task)


def _profile_table(
    dataset: Dataset, target: str | None, task: str, exclude: tuple[str, ...], include: tuple[str, ...],
    keep_going: bool = False, check_leaks: bool = True, kinds: Mapping[str, str] | None = None,
) -> DatasetProfile:

    frame = dataset.frame
    target_reason = ""
    if not target:
        target, target_reason = choose_target(dataset)
    if target not in frame.columns:
        raise DataError(
            f"{dataset.path}: no column named '{target}'; the columns are: "
            + ", ".join(map(str, frame.columns))
        )
    kinds = dict(kinds or {})
    for name in (*exclude, *include, *kinds):
        if name not in frame.columns:
            raise DataError(f"{dataset.path}: no column named '{name}' to include or exclude")
    y = frame[target]
    dropped = int(y.isna().sum())
    warnings: list[str] = []
    problem = ""
    chosen: str | None = detect_task(y) if task == "auto" else task
    class_names: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    try:
        class_names, counts, target_warnings = _check_target(dataset, y, str(target), str(chosen))
    except DataError as exc:
        if not keep_going:
            raise
        problem = str(exc)
        target_warnings = []
    if dropped and y.notna().any():
        warnings.append(dropped_rows_message(dataset, y, str(target)))
    warnings.extend(target_warnings)
    columns, column_warnings = _feature_columns(frame, str(target), y, exclude, include, kinds, dataset.path)
    warnings.extend(column_warnings)
    n = len(frame)
    target_profile = profile_column(y, n)
    columns.insert(list(frame.columns).index(target), ColumnProfile(
        str(target), "target", target_profile.dtype, dropped, target_profile.unique, not problem,
        f"cannot be the target: {_without_path(problem, dataset.path)}" if problem else "target",
        target_profile.examples,
    ))
    if not problem and not any(c.used and c.name != target for c in columns):
        problem = f"{dataset.path}: no usable feature columns besides the target '{target}'"
        unused = [f"'{c.name}' {c.reason.removeprefix('dropped: ').removeprefix('excluded: ')}"
                   for c in columns if c.kind == CONSTANT and c.name != target]
        if unused:
            problem += " (" + "; ".join(unused[:3]) + ")"
        if not keep_going:
            raise DataError(problem)
    leaks: list[str] = []
    if check_leaks and not problem and chosen is not None:
        mirrored = {name for name in (c.name for c in columns)
                    if any(f"column '{name}' matches the target exactly" in w for w in warnings)}
        checked = [(c.name, c.kind == CATEGORICAL) for c in columns
                   if c.used and c.kind not in ("target", TEXT, DATETIME) and c.name not in mirrored]
        found = find_leaks(frame, str(target), chosen, checked)
        leaks = sorted(mirrored) + [leak.column for leak in found]
        warnings.extend(leak.message() for leak in found)
    return DatasetProfile(
        path=dataset.path, data_kind="table", rows=n - dropped, columns=tuple(columns),
        target=target, task=chosen, class_names=class_names, class_counts=counts,
        dropped_target_rows=dropped, warnings=tuple(warnings), notes=dataset.notes,
        fingerprint=dataset.fingerprint,
        csv_format=dataset.csv_format.to_dict() if dataset.csv_format is not None else {},
        problem=problem, leaks=tuple(leaks), target_reason=target_reason,
        target_skew=_target_skew(y) if chosen == "regression" and not problem else None,
    )


def _target_skew(y: Any) -> float | None:
    """The skewness of a numeric target's values, or None when one is negative or too few."""
    import pandas as pd
    from scipy.stats import skew

    values = pd.to_numeric(y, errors="coerce").dropna().to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 20 or values.min() < 0 or values.std() == 0:
        return None
    return float(skew(values))


def _without_path(message: str, path: str) -> str:
    return message.removeprefix(f"{path}: ")


def _check_target(dataset: Dataset, y: Any, target: str, chosen: str
                  ) -> tuple[tuple[str, ...], tuple[int, ...], list[str]]:
    """Class names, counts and warnings of a target, or a DataError saying why it cannot be one."""
    import pandas as pd

    present = y.dropna()
    if len(present) == 0:
        raise DataError(f"{dataset.path}: the target column '{target}' has no values (all missing)")
    warnings: list[str] = []
    class_names: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    kind = profile_column(y, len(y)).kind
    unique_per_row = present.nunique() == len(present) and len(present) >= 20
    if kind in (ID_LIKE, TEXT) and unique_per_row and not (
            chosen == "regression" and pd.api.types.is_numeric_dtype(y)):
        raise DataError(
            f"{dataset.path}: the target '{target}' looks like an identifier or free text (unique per "
            "row), not something to predict — choose another target"
        )
    if kind == DATETIME:
        raise DataError(f"{dataset.path}: the target '{target}' holds dates, not something to predict — "
                        "choose another target (a date column orders a forecast as its time column)")
    if chosen == "regression":
        numeric = pd.to_numeric(present, errors="coerce")
        if numeric.isna().any():
            row = int(numeric.index[numeric.isna()][0])
            raise DataError(
                f"{dataset.path}: the target '{target}' has text ('{present.loc[row]}' in row "
                f"{row_number(dataset, row)}); regression needs numbers — "
                "choose classification or another column"
            )
    else:
        names = present.map(label_text)
        class_names = class_names_of(present)
        counts = tuple(int((names == n).sum()) for n in class_names)
        if len(class_names) < 2:
            raise DataError(
                f"{dataset.path}: the target '{target}' has a single class "
                f"('{class_names[0]}'); a classifier needs at least two"
            )
        if len(class_names) > 1000:
            numeric = pd.api.types.is_numeric_dtype(y)
            raise DataError(
                f"{dataset.path}: the target '{target}' has {len(class_names)} classes; "
                + ("is it a number to predict (choose regression)?" if numeric
                   else "that is too many to learn — choose another target")
            )
        smallest, largest = min(counts), max(counts)
        if smallest * 10 < largest:
            small = class_names[counts.index(smallest)]
            warnings.append(
                f"heavy class imbalance: '{small}' has {smallest} rows against {largest}; "
                "balanced accuracy is reported"
            )
        if smallest < 2:
            warnings.append(
                f"class '{class_names[counts.index(smallest)]}' has a single row; "
                "it can appear in only one split"
            )
    return class_names, counts, warnings


def _feature_columns(frame: Any, target: str, y: Any, exclude: tuple[str, ...], include: tuple[str, ...],
                     kinds: Mapping[str, str], path: str = "data") -> tuple[list[ColumnProfile], list[str]]:
    """Every column but the target, profiled with the user's choices, and their warnings."""
    import pandas as pd

    columns: list[ColumnProfile] = []
    warnings: list[str] = []
    missing: list[tuple[str, int]] = []
    n = len(frame)
    for name in frame.columns:
        if name == target:
            continue
        col = profile_column(frame[name], n)
        if name in exclude:
            col = ColumnProfile(col.name, col.kind, col.dtype, col.missing, col.unique, False,
                                "excluded by you", col.examples)
        elif name in include and not col.used and col.kind != CONSTANT:
            kind = NUMERIC if col.kind == ID_LIKE and pd.api.types.is_numeric_dtype(frame[name]) else CATEGORICAL
            col = ColumnProfile(col.name, kind, col.dtype, col.missing, col.unique, True,
                                "included by you", col.examples)
        if name in kinds and name not in exclude and kinds[name] == TEXT:
            col = _as_text(frame[name], col, path)
        elif name in kinds and name not in exclude and col.kind != CONSTANT:
            col = ColumnProfile(col.name, kinds[name], col.dtype, col.missing, col.unique, True,
                                f"{kinds[name]}: chosen by you", col.examples)
        columns.append(col)
        if col.used and _mirrors(frame[name], y):
            warnings.append(
                f"column '{name}' matches the target exactly; it leaks the answer — exclude it"
            )
        if col.kind in (ID_LIKE, TEXT) and not col.used:
            warnings.append(f"column '{name}' {col.reason.removeprefix('excluded: ')}; excluded")
        if col.used and col.missing:
            missing.append((str(name), col.missing))
    if len(missing) == 1:
        name, count = missing[0]
        warnings.append(f"column '{name}' has {count} missing values "
                        f"({100 * count / n:.0f}%); they are filled and flagged")
    elif missing:
        listed = ", ".join(f"'{name}' ({100 * count / n:.0f}%)" for name, count in missing)
        warnings.append(f"{len(missing)} columns have missing values: {listed}; they are filled and flagged")
    return columns, warnings


def _as_text(series: Any, col: ColumnProfile, path: str) -> ColumnProfile:
    """A column the user chose to read as text, or a DataError naming it when it holds none."""
    values = series.dropna().astype(str)
    if not any(words(v) for v in values.iloc[:TEXT_SAMPLE]):
        raise DataError(f"{path}: text column '{col.name}' has no words (it is empty, missing or punctuation "
                        "only); exclude it")
    if col.unique <= 1:
        raise DataError(f"{path}: text column '{col.name}' holds the same text in every row "
                        f"('{col.examples[0][:40]}'); it cannot tell rows apart — exclude it")
    return ColumnProfile(col.name, TEXT, col.dtype, col.missing, col.unique, True,
                         f"{text_statistics(values)} (text: chosen by you)", col.examples)


def row_number(dataset: Dataset, index: int) -> int:
    """The file's line number of the data row at ``index`` (counting the header and lines above)."""
    if dataset.row_lines is not None and 0 <= index < len(dataset.row_lines):
        return int(dataset.row_lines[index])
    fmt = dataset.csv_format
    if fmt is not None:
        return index + fmt.first_data_line
    return index + (1 if any("no header row" in note for note in dataset.notes) else 2)


def dropped_rows_message(dataset: Dataset, target_values: Any, target: str) -> str:
    """``3 rows have no 'y' value (rows 5, 9, 12) and are dropped``: every dropped row counted."""
    missing = np.flatnonzero(target_values.isna().to_numpy())
    shown = ", ".join(str(row_number(dataset, int(i))) for i in missing[:5])
    more = ", …" if len(missing) > 5 else ""
    noun = "row has" if len(missing) == 1 else "rows have"
    return (f"{len(missing)} {noun} no '{target}' value (row{'s' if len(missing) > 1 else ''} "
            f"{shown}{more}) and {'is' if len(missing) == 1 else 'are'} dropped")


def _mirrors(feature: Any, target: Any) -> bool:
    both = feature.notna() & target.notna()
    if both.sum() < 10:
        return False
    a, b = feature[both], target[both]
    # Two columns of distinct values always map one to one: that says nothing (the one-column
    # models of find_leaks judge those).
    if a.nunique() != b.nunique() or b.nunique() > 0.5 * len(b):
        return False
    return bool(a.astype(str).groupby(b.astype(str)).nunique().max() == 1)


def _profile_arrays(dataset: Dataset, task: str) -> DatasetProfile:
    x, y = dataset.x, dataset.y
    assert x is not None
    if y is None:
        raise DataError(f"{dataset.path}: no labels found (an .npz needs 'y', an .npy its y twin)")
    warnings: list[str] = []
    if dataset.kind == "images":
        chosen = "classification" if task == "auto" else task
    elif task == "auto":
        chosen = "classification" if (y.dtype.kind in "biuUS" and len(np.unique(y)) <= max(
            MAX_CLASSES_FOR_INTEGER_TARGET, 2)) or y.dtype.kind in "US" or y.dtype.kind == "b" else "regression"
        if chosen == "regression" and y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0) and len(np.unique(y)) <= 10:
            chosen = "classification"
    else:
        chosen = task
    class_names: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    if chosen == "classification":
        if dataset.class_names is not None:
            class_names = dataset.class_names
            counts = tuple(int(c) for c in np.bincount(y, minlength=len(class_names)))
        else:
            uniques, found = np.unique(y, return_counts=True)
            class_names = tuple(label_text(v) for v in uniques)
            counts = tuple(int(c) for c in found)
        if len(class_names) < 2:
            raise DataError(f"{dataset.path}: the labels hold a single class; a classifier needs two")
        if min(counts) * 10 < max(counts):
            warnings.append("heavy class imbalance; balanced accuracy is reported")
    elif y.dtype.kind in "US":
        raise DataError(f"{dataset.path}: the labels are text; regression needs numbers")
    kind = {2: "features", 3: "sequences", 4: "images"}.get(x.ndim, "images")
    if dataset.kind == "images" or x.ndim == 4:
        kind = "images"
    column = ColumnProfile("x", kind, str(x.dtype), 0, 0, True, f"shape {tuple(x.shape)}")
    return DatasetProfile(
        path=dataset.path, data_kind=dataset.kind, rows=len(x), columns=(column,), target="y",
        task=chosen, class_names=class_names, class_counts=counts,
        input_shape=tuple(int(d) for d in x.shape[1:]), warnings=tuple(warnings),
        notes=dataset.notes, fingerprint=dataset.fingerprint,
    )
