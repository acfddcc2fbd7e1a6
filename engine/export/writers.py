"""Exporting the best model: ``best.h5`` (and ``best.keras``), self-contained and verified.

The ``.h5`` is a full Keras model in legacy HDF5 that loads with plain
``keras.models.load_model`` in a fresh process without automl-studio installed. Writes are atomic
(a temporary file in the same folder, then a rename), and every export is reloaded and its
predictions compared with the in-memory model before success is reported. A full disk or a
read-only folder gives a clear :class:`~automl_studio.engine.core.errors.ExportError`, leaves no
partial file, and the in-memory model stays exportable elsewhere.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import ExportError
from automl_studio.engine.export.model_info import (
    METADATA_ATTR,
    METADATA_MEMBER,
    METADATA_SCHEMA_VERSION,
    check_safe,
)

TOLERANCE = 1e-4
ATTR_LIMIT = 60_000  # HDF5 keeps attributes in a 64 KB object header


def app_version() -> str:
    try:
        return importlib_metadata.version("automl-studio")
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


def build_metadata(**fields: Any) -> dict[str, Any]:
    """The JSON document stored with an exported model."""
    import keras

    return {
        "schema_version": METADATA_SCHEMA_VERSION,
        "app": "automl-studio",
        "app_version": app_version(),
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        **fields,
    }


def _explain(exc: OSError, path: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"{path}: no space left on the disk; nothing was written — free space or choose another folder"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path.parent}: the folder is read-only; choose another folder"
    return f"{path}: cannot write the model ({exc.strerror or exc})"


def _predict(model: Any, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.asarray(model.predict(dict(inputs), verbose=0))


def _verify(path: Path, inputs: Mapping[str, np.ndarray], expected: np.ndarray) -> float:
    import keras

    check_safe(path)
    with warnings.catch_warnings():
        # Keras notes that the reloaded optimizer state is not restored; predictions are what count.
        warnings.simplefilter("ignore")
        reloaded = keras.models.load_model(path, safe_mode=True)
    diff = float(np.max(np.abs(_predict(reloaded, inputs) - expected))) if len(expected) else 0.0
    if not np.isfinite(diff) or diff > TOLERANCE:
        raise ExportError(f"{path}: the reloaded model predicts differently (max difference {diff:.2e})")
    return diff


def render(model: Any, fmt: str, document: str) -> bytes:
    """The bytes of the model file, made in memory.

    Writing HDF5 straight to a full disk can crash the process inside the HDF5 library, so
    the file is built in memory and written with plain Python I/O, whose failures are
    ordinary ``OSError`` s.
    """
    import h5py

    buffer = io.BytesIO()
    if fmt == "h5":
        # Keras' own legacy-HDF5 writer, which takes an open h5py.File (the public
        # model.save() only takes paths).
        from keras.src.legacy.saving import legacy_h5_format

        with h5py.File(buffer, "w") as handle:
            legacy_h5_format.save_model_to_hdf5(model, handle)
            write_metadata_attrs(handle, document)
    else:
        from keras.src.saving import saving_lib

        saving_lib.save_model(model, buffer)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(METADATA_MEMBER, document)
    return buffer.getvalue()


def write_metadata_attrs(handle: Any, document: str) -> None:
    """Stores the document as HDF5 attribute(s); over 64 KB it is split, as Keras splits its own."""
    if len(document.encode("utf-8")) <= ATTR_LIMIT:
        handle.attrs[METADATA_ATTR] = document
        return
    parts = [document[i:i + ATTR_LIMIT // 4] for i in range(0, len(document), ATTR_LIMIT // 4)]
    handle.attrs[METADATA_ATTR + "_parts"] = len(parts)
    for i, part in enumerate(parts):
        handle.attrs[f"{METADATA_ATTR}_{i}"] = part


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def export_model(model: Any, dest: str | os.PathLike[str], metadata: Mapping[str, Any],
                 sample_inputs: Mapping[str, np.ndarray], formats: Sequence[str] = ("h5",)) -> dict[str, Any]:
    """Writes ``dest`` (``.h5``) and, if asked, the ``.keras`` twin; returns what was written.

    ``sample_inputs`` (a few rows of model inputs) are predicted before and after a reload; the
    export only succeeds if the two agree.
    """
    dest = Path(dest)
    if dest.suffix.lower() not in (".h5", ".keras"):
        dest = dest.with_suffix(".h5")
    document = json.dumps(metadata, allow_nan=False, default=json_default)
    expected = _predict(model, sample_inputs)
    targets = []
    for fmt in formats:
        suffix = ".h5" if fmt == "h5" else ".keras"
        targets.append((fmt, dest.with_suffix(suffix)))
    written: list[str] = []
    max_diff = 0.0
    for fmt, path in targets:
        if not path.parent.exists():
            try:
                path.parent.mkdir(parents=True)
            except OSError as exc:
                raise ExportError(_explain(exc, path)) from exc
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
            os.close(fd)
        except OSError as exc:
            raise ExportError(_explain(exc, path)) from exc
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            _write_bytes(tmp, render(model, fmt, document))
            max_diff = max(max_diff, _verify(tmp, sample_inputs, expected))
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ExportError(_explain(exc, path)) from exc
        except ExportError:
            tmp.unlink(missing_ok=True)
            raise
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            cause = exc
            while cause.__cause__ is not None or cause.__context__ is not None:
                nxt = cause.__cause__ or cause.__context__
                if isinstance(nxt, OSError):
                    raise ExportError(_explain(nxt, path)) from exc
                cause = nxt  # type: ignore[assignment]
            if any(text in str(exc) for text in ("No space left", "errno = 28", "File too large", "errno = 27")):
                raise ExportError(_explain(OSError(errno.ENOSPC, "No space left"), path)) from exc
            raise ExportError(f"{path}: export failed ({exc.__class__.__name__}: {exc})") from exc
        written.append(str(path))
    return {"files": written, "verified": True, "max_abs_diff": max_diff, "tolerance": TOLERANCE,
            "checked_rows": int(len(expected))}


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default`` for export documents: NumPy scalars as Python numbers, sets
    and tuples as lists. Raises TypeError for anything else."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
