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
from collections.abc import Iterator, Mapping, Sequence
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
    import keras

    buffer = io.BytesIO()
    if fmt == "h5":
        # Keras' own legacy-HDF5 writer, which takes an open h5py.File (the public
        # model.save() only takes paths).
        from keras.src.legacy.saving import legacy_h5_format

        with h5py.File(buffer, "w") as handle:
            legacy_h5_format.save_model_to_hdf5(model, handle)
            operations = _operations(model, keras)
            if operations:
                config = json.loads(handle.attrs["model_config"])
                handle.attrs["model_config"] = json.dumps(h5_config(config, operations)).encode("utf8")
            write_metadata_attrs(handle, document)
    else:
        from keras.src.saving import saving_lib

        saving_lib.save_model(model, buffer)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(METADATA_MEMBER, document)
    return buffer.getvalue()


def _history(value: Any) -> Iterator[str]:
    """The names of the layers/ops whose outputs a serialized call argument refers to."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"][0]
        else:
            for item in value.values():
                yield from _history(item)
    elif isinstance(value, list):
        for item in value:
            yield from _history(item)


def _operations(model: Any, keras: Any) -> set[str]:
    """The names of the non-layer ops in ``model``'s graph and in the models nested in it."""
    names: set[str] = set()
    for op in getattr(model, "operations", ()):
        if isinstance(op, keras.Model):
            names |= _operations(op, keras)
        elif not isinstance(op, keras.layers.Layer):
            names.add(op.name)
    return names


def _output_names(value: Any) -> Iterator[str]:
    """The layer names in a config's ``output_layers`` (``[name, node, tensor]`` lists, nested)."""
    if isinstance(value, list):
        if len(value) == 3 and isinstance(value[0], str):
            yield value[0]
        else:
            for item in value:
                yield from _output_names(item)


def h5_config(config: dict[str, Any], operations: set[str]) -> dict[str, Any]:
    """A functional model's legacy-HDF5 config without the ops that only compute masks.

    Keras 3 records a propagated mask (an ``Embedding(mask_zero=True)``'s ``not_equal(ids, 0)``,
    a merge's combined masks) as op nodes feeding the ``mask`` / ``*_mask`` arguments of the
    layers after it, and the legacy loader knows layers only ("Unknown layer: 'NotEqual'"). A
    reload derives those masks again from ``mask_zero`` when it rebuilds the graph, so the ops
    and the arguments that carry their masks are dropped. ``operations``: the names of the
    model's non-layer ops (nested models' included); one that feeds anything but a mask (or is
    an output) is kept.
    """
    if not isinstance(config.get("config"), dict) or "layers" not in config["config"]:
        return config
    layers = config["config"]["layers"]
    for layer in layers:  # the members of an average of refits are models themselves
        h5_config(layer, operations)
    masks_only = set(operations) - set(_output_names(config["config"].get("output_layers", [])))

    def is_mask(key: str) -> bool:
        return key == "mask" or key.endswith("_mask")

    changed = True
    while changed:  # an op that feeds data (to a layer or to a kept op) is kept, and what feeds it
        changed = False
        for layer in layers:
            if layer["name"] in masks_only:
                continue
            keeps_op = layer["name"] in operations
            for node in layer["inbound_nodes"]:
                data = [node["args"], *(v for k, v in node["kwargs"].items() if keeps_op or not is_mask(k))]
                used = set(_history(data)) & masks_only
                if used:
                    masks_only -= used
                    changed = True
    kept = []
    for layer in layers:
        if layer["name"] in masks_only:
            continue
        for node in layer["inbound_nodes"]:
            node["kwargs"] = {k: v for k, v in node["kwargs"].items()
                              if not set(_history(v)) & masks_only}
        kept.append(layer)
    config["config"]["layers"] = kept
    return config


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
