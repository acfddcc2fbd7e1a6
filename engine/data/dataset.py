"""The :class:`Dataset` every reader returns; readers of CSV, Parquet, NumPy ``.npz``/``.npy``.

Image folders are read by :mod:`~automl_studio.engine.data.images`; ``load_dataset`` (in
:mod:`~automl_studio.engine.data.loading`) picks the reader for a path. How a CSV is written
(encoding, delimiter, decimal mark, header row, formatted numbers) is worked out in
:mod:`~automl_studio.engine.data.csv_format`; :func:`load_csv` reads it with pandas in chunks.

Nothing here trains or imports Keras, so the window can load and show a file in its own
process. Every problem becomes a :class:`~automl_studio.engine.core.errors.DataError` whose message
names the file and, where it can, the row, column or key.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import (
    NA_MARKERS,
    CsvFormat,
    CsvOptions,
    clean_name,
    detect_encoding,
    detect_format,
    parse_number_column,
    with_names,
)
from automl_studio.engine.data.lines import data_row_lines

if TYPE_CHECKING:
    pass

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
ARRAY_SUFFIXES = (".npz", ".npy")
MAX_COLUMNS = 10_000
_SAMPLE_BYTES = 256 * 1024
_CHUNK_ROWS = 200_000
LARGE_FILE_BYTES = 100 * 1024 * 1024

ProgressCallback = Callable[[float], None]


class LoadCancelled(Exception):
    """Loading was cancelled by the user; nothing was changed."""


@dataclass(frozen=True)
class Dataset:
    """A loaded data file, before any column choice.

    ``kind`` is ``table`` (``frame`` holds a pandas DataFrame), ``arrays`` (``x``/``y`` NumPy arrays
    from ``.npz``/``.npy``) or ``images`` (``x`` is uint8 N×H×W×3, ``y`` class indices into
    ``class_names``; ``files`` lists each image's path). ``csv_format`` says how a CSV was read
    (delimiter, decimal mark, encoding, header row); ``None`` for other files.
    """

    path: str
    kind: str
    fingerprint: str
    frame: Any = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    csv_format: CsvFormat | None = None  # how a CSV was read: delimiter, decimal mark, header row
    # The file line of each row, which blank or empty lines skipped by the reader would otherwise
    # shift (None for a file too big to tell: rows are then counted from the first data line).
    row_lines: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        if self.kind == "table":
            return int(len(self.frame))
        return int(len(self.x)) if self.x is not None else 0

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns] if self.kind == "table" else []


def file_fingerprint(path: Path) -> str:
    """A SHA-256 of the file's bytes (of every file, in order, for a folder)."""
    digest = hashlib.sha256()
    paths = sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]
    for q in paths:
        if path.is_dir():
            digest.update(str(q.relative_to(path)).encode())
        with open(q, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


# --- tables ---------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """Wraps a binary file to report how far it has been read and to honour a cancel token."""

    def __init__(self, handle: Any, size: int, progress: ProgressCallback | None,
                 cancel: CancelToken | None) -> None:
        self._handle, self._size, self._progress, self._cancel = handle, max(size, 1), progress, cancel
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._cancel is not None and self._cancel.is_set():
            raise LoadCancelled()
        n = self._handle.readinto(buffer)
        self._read += n or 0
        if self._progress is not None:
            self._progress(min(self._read / self._size, 1.0))
        return n


def load_csv(
    path: Path,
    *,
    options: CsvOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    expected_columns: Sequence[str] = (),
) -> Dataset:
    """Reads a delimited text file, detecting its encoding, dialect, decimal mark and header.

    Args:
        options: what the user said about the file (delimiter, decimal mark, encoding, header);
            the rest is detected (see :mod:`~automl_studio.engine.data.csv_format`).
        expected_columns: column names the caller needs; a first row holding them all is the
            header (see :func:`~automl_studio.engine.data.csv_format.detect_format`).

    Raises:
        DataError: the file cannot be read as a table; the message names the file and line.
    """
    import pandas as pd

    options = options or CsvOptions()
    size = path.stat().st_size
    with open(path, "rb") as handle:
        raw = handle.read(_SAMPLE_BYTES)
    complete = size <= len(raw)
    encoding, text, notes = detect_encoding(path, raw, complete=complete, encoding=options.encoding)
    _check_width(path, text)
    fmt = detect_format(path, text, encoding, options, complete=complete, expected_columns=expected_columns)
    if fmt.width > MAX_COLUMNS:
        raise DataError(
            f"{path}: the header has {fmt.width:,} columns; automl-studio reads at most "
            f"{MAX_COLUMNS:,} (is this a wide matrix that belongs in an .npy file?)"
        )
    if fmt.header_line is not None:
        _check_repeated(path, fmt.names)
    chunks = []
    try:
        with open(path, "rb") as handle:
            counting = io.BufferedReader(_CountingReader(handle, size, progress, cancel))
            stream = io.TextIOWrapper(counting, encoding=encoding, newline="")
            reader = pd.read_csv(
                stream,
                sep=r"\s+" if fmt.delimiter == " " else fmt.delimiter,
                quotechar=fmt.quotechar,
                decimal=fmt.decimal,
                skiprows=fmt.skip_lines,
                header=0 if fmt.header_line is not None else None,
                names=list(range(fmt.width)),
                na_values=list(NA_MARKERS),
                keep_default_na=False,
                skipinitialspace=fmt.delimiter != " ",
                chunksize=_CHUNK_ROWS,
                low_memory=False,
                on_bad_lines="error",
            )
            for chunk in reader:
                if size > LARGE_FILE_BYTES:
                    # Halves the memory of a big table; float32 is what the model trains on anyway.
                    wide = chunk.select_dtypes("float64").columns
                    chunk[wide] = chunk[wide].astype("float32")
                chunks.append(chunk)
    except LoadCancelled:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file holds no data") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: {_parser_message(str(exc), fmt)}") from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not valid {encoding} text past the first {len(raw):,} bytes "
            f"(byte {exc.start} of a block); save it as UTF-8"
        ) from exc
    except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM"
        raise DataError(f"{path}: cannot read it as {encoding} text ({exc}); choose another encoding") from exc
    if not chunks:
        raise DataError(f"{path}: the file has a header but no data rows")
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) != 1 else chunks[0]
    empty_rows = frame.isna().all(axis=1).to_numpy() if complete else None  # what _tidy_table drops
    records = len(frame)
    frame, fmt, dropped_notes = _tidy_table(frame, fmt)
    row_lines = data_row_lines(text, fmt, records, empty_rows) if empty_rows is not None else None
    notes.extend(dropped_notes)
    if fmt.header_line is None:
        notes.append(f"{path.name} has no header row; columns were named column_1...")
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    notes.extend(_parse_number_columns(frame, fmt.decimal))
    if fmt.delimiter != "," or fmt.decimal != "." or fmt.skip_lines:
        # Said once, so a console run shows how an unusual file was read (the window shows it too).
        delimiter = f"the delimiter is {fmt.delimiter!r}; " if fmt.delimiter != "," else ""
        notes.append(f"{path.name}: {delimiter}read as {fmt.describe()}")
    if progress is not None:
        progress(1.0)
    return Dataset(
        path=str(path), kind="table", frame=frame, fingerprint=file_fingerprint(path),
        notes=tuple(notes), csv_format=fmt, row_lines=row_lines,
    )


def _check_width(path: Path, text: str) -> None:
    # Before any parsing: a 100,000-column line would make detection itself slow.
    first = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    widest = max(first.count(d) for d in ",;\t|") + 1
    if widest > MAX_COLUMNS:
        raise DataError(
            f"{path}: the header has {widest:,} columns; automl-studio reads at most "
            f"{MAX_COLUMNS:,} (is this a wide matrix that belongs in an .npy file?)"
        )


def _check_repeated(path: Path, names: tuple[str, ...]) -> None:
    # pandas silently renames a repeated header name ("a", "a.1"), so look at the header itself.
    counts = Counter(clean_name(n) for n in names if clean_name(n))  # linear: 10,000 columns
    repeated = sorted(n for n, k in counts.items() if k > 1)
    if repeated:
        raise DataError(f"{path}: the header names these columns twice: {', '.join(repeated)}")


def _tidy_table(frame: Any, fmt: CsvFormat) -> tuple[Any, CsvFormat, list[str]]:
    """Names the columns; drops unnamed empty columns and empty rows (spreadsheet exports)."""
    notes: list[str] = []
    names = [clean_name(n) for n in fmt.names] if fmt.header_line is not None else [""] * frame.shape[1]
    names += [""] * (frame.shape[1] - len(names))
    empty_columns = frame.isna().all(axis=0).to_numpy()
    keep = [j for j in range(frame.shape[1]) if names[j] or not empty_columns[j]]
    if fmt.header_line is None:  # no names to go by: only trailing empty columns are padding
        last = max((j for j in range(frame.shape[1]) if not empty_columns[j]), default=0)
        keep = list(range(last + 1))
    if len(keep) < frame.shape[1]:
        notes.append(f"{frame.shape[1] - len(keep)} empty column(s) with no name were ignored")
        frame = frame.iloc[:, keep]
    frame.columns = [names[j] or f"column_{j + 1}" for j in keep]
    empty_rows = frame.isna().all(axis=1)
    if empty_rows.any():
        notes.append(f"{int(empty_rows.sum())} empty row(s) were ignored")
        frame = frame[~empty_rows].reset_index(drop=True)
        for name in frame.select_dtypes("float").columns:  # the empty rows made integers floats
            values = frame[name]
            if values.notna().all() and bool((values % 1 == 0).all()):
                frame[name] = values.astype("int64")
    return frame, with_names(fmt, tuple(str(c) for c in frame.columns)), notes


def _parse_number_columns(frame: Any, decimal: str) -> list[str]:
    """Turns text columns of formatted numbers (``$1,234``, ``12 %``, ``1.234,5``) into floats."""
    import pandas as pd

    notes: list[str] = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        parsed = parse_number_column(series, decimal)
        if parsed is None:
            continue
        frame[name] = parsed.values
        if parsed.soft_missing:
            shown = ", ".join(f"'{m}'" for m in parsed.markers)
            notes.append(f"column '{name}': {parsed.soft_missing} value(s) {shown} read as missing "
                         "(the others are numbers)")
    return notes


def _parser_message(message: str, fmt: CsvFormat) -> str:
    # pandas: "Error tokenizing data. C error: Expected 3 fields in line 5, saw 4"
    import re

    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if match:
        expected, line, saw = match.groups()
        return (f"line {int(line) + fmt.skip_lines} has {saw} fields but the header has {expected} "
                "(a ragged row)")
    return "cannot parse the file as CSV: " + message.strip().splitlines()[-1]


def load_parquet(path: Path) -> Dataset:
    """Reads a Parquet file (needs pyarrow)."""
    import pandas as pd

    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise DataError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from exc
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    if len(frame) == 0:
        raise DataError(f"{path}: the file has no rows")
    frame.columns = [str(c) for c in frame.columns]
    return Dataset(path=str(path), kind="table", frame=frame, fingerprint=file_fingerprint(path))


# --- arrays ---------------------------------------------------------------------------------


def _check_arrays(path: Path, x: np.ndarray, y: np.ndarray | None, x_name: str, y_name: str) -> None:
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: '{x_name}' has dtype {x.dtype}; expected numbers")
    if x.ndim < 2 or x.ndim > 4:
        raise DataError(
            f"{path}: '{x_name}' has shape {x.shape}; expected rank 2 (rows × features), "
            "3 (rows × steps × features) or 4 (images: rows × height × width × channels)"
        )
    if len(x) == 0:
        raise DataError(f"{path}: '{x_name}' has no rows")
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"{path}: '{x_name}' holds NaN or infinite values ({int(bad.sum())} rows; first "
                f"at index {row})"
            )
    if y is not None:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(f"{path}: '{y_name}' has shape {y.shape}; expected one label per row")
        if len(y) != len(x):
            raise DataError(
                f"{path}: '{x_name}' has {len(x)} rows but '{y_name}' has {len(y)}; they must match"
            )
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise DataError(
                f"{path}: '{y_name}' holds NaN or infinite values (first at index "
                f"{int(np.argmax(~np.isfinite(y)))})"
            )
        if y.dtype.kind not in "biufUS":
            raise DataError(f"{path}: '{y_name}' has dtype {y.dtype}; expected numbers or strings")


def load_npz(path: Path, *, x_key: str | None = None, y_key: str | None = None) -> Dataset:
    """Reads ``x`` and (optionally) ``y`` from an ``.npz``; ``allow_pickle`` is never on."""
    _check_magic(path, _ZIP_MAGIC, ".npz")
    # Our own handle, so that it is closed even when numpy fails to open the archive.
    with open(path, "rb") as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except Exception as exc:
            raise _numpy_error(path, exc, "not a readable .npz file") from exc
        with archive:
            keys = list(archive.files)
            xk = x_key or _pick_key(keys, ("x", "X", "features", "data", "images", "x_train"))
            yk = y_key or _pick_key(keys, ("y", "Y", "labels", "label", "target", "targets", "y_train"))
            if xk is None or xk not in keys:
                wanted = x_key or "x"
                raise DataError(
                    f"{path}: no array named '{wanted}'; it holds {', '.join(keys) or 'nothing'} "
                    "(name the keys with --x-key/--y-key)"
                )
            if y_key is not None and y_key not in keys:
                raise DataError(f"{path}: no array named '{y_key}'; it holds {', '.join(keys)}")
            name = xk
            try:
                x = archive[xk]
                name = yk or xk
                y = archive[yk] if yk is not None else None
            except Exception as exc:  # objects, or a damaged member: zipfile, zlib, EOF errors
                raise _numpy_error(path, exc, f"the array '{name}' is damaged") from exc
    _check_arrays(path, x, y, xk, yk or "y")
    if y is not None and y.ndim == 2:
        y = y[:, 0]
    kind = "arrays"
    return Dataset(path=str(path), kind=kind, x=x, y=y, fingerprint=file_fingerprint(path))


def _numpy_error(path: Path, exc: Exception, what: str) -> DataError:
    if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
        return DataError(f"{path}: holds Python objects, which are not loaded for safety")
    return DataError(f"{path}: {what} ({exc.__class__.__name__})")


_ZIP_MAGIC = b"PK"  # a zip: local header, or the end record of an empty one
_NPY_MAGIC = b"\x93NUMPY"


def _check_magic(path: Path, magic: bytes, kind: str) -> None:
    # np.load guesses the format from the bytes: a text file would be "pickled data", an .npy
    # named .npz a bare array, an .npz named .npy an archive. Refuse what the suffix is not.
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head.startswith(magic):
        hint = " (it is an .npz archive)" if head.startswith(_ZIP_MAGIC) else \
            " (it is a single .npy array)" if head.startswith(_NPY_MAGIC) else ""
        raise DataError(f"{path}: not a readable {kind} file{hint}")


def _pick_key(keys: list[str], candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        if name in keys:
            return name
    return None


def load_npy(path: Path, *, y_path: str | None = None) -> Dataset:
    """Reads an ``.npy`` of features and its label twin (``X.npy``/``y.npy``, ``a_x``/``a_y``)."""
    _check_magic(path, _NPY_MAGIC, ".npy")
    try:
        x = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise _numpy_error(path, exc, "not a readable .npy file") from exc
    twin = Path(y_path) if y_path else _label_twin(path)
    y = None
    if twin is not None and twin.exists():
        _check_magic(twin, _NPY_MAGIC, ".npy")
        try:
            y = np.load(twin, allow_pickle=False)
        except Exception as exc:
            raise _numpy_error(twin, exc, "not a readable .npy file") from exc
    elif y_path:
        raise DataError(f"{twin}: no such label file")
    _check_arrays(path, x, y, path.name, twin.name if twin else "y")
    if y is not None and y.ndim == 2:
        y = y[:, 0]
    return Dataset(path=str(path), kind="arrays", x=x, y=y, fingerprint=file_fingerprint(path))


def _label_twin(path: Path) -> Path | None:
    stem = path.stem
    for old, new in (("X", "y"), ("x", "y"), ("features", "labels"), ("data", "labels")):
        if stem == old or stem.endswith("_" + old) or stem.startswith(old + "_"):
            if stem == old:
                candidate = new
            elif stem.endswith("_" + old):
                candidate = stem[: -len(old)] + new
            else:
                candidate = new + stem[len(old):]
            return path.with_name(candidate + path.suffix)
    return None
