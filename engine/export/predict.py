"""Using an exported model: predictions for a data file, and metrics against its target.

Works from the model file alone: its metadata says how columns become inputs (the feature
schema), what the classes are called and whether it is a classifier or a regressor.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError, ModelFileError
from automl_studio.engine.data.dataset import (
    IMAGE_SUFFIXES,
    Dataset,
    file_fingerprint,
    load_dataset,
)
from automl_studio.engine.data.features import FeatureSchema, encode_target
from automl_studio.engine.data.profile import label_text
from automl_studio.engine.export.model_info import check_safe, read_metadata
from automl_studio.engine.train.metrics import classification_metrics, regression_metrics


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


def _flat_images(path: Path, size: tuple[int, int]) -> Dataset:
    from PIL import Image

    files = sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{path}: no PNG or JPEG images (or class subfolders) in this folder")
    x = np.empty((len(files), size[0], size[1], 3), dtype=np.uint8)
    for i, f in enumerate(files):
        try:
            with Image.open(f) as image:
                x[i] = np.asarray(image.convert("RGB").resize((size[1], size[0])))
        except OSError as exc:
            raise DataError(f"{f}: not a readable image ({exc.__class__.__name__})") from exc
    return Dataset(path=str(path), kind="images", x=x, fingerprint=file_fingerprint(path),
                   files=tuple(map(str, files)))


def model_inputs(metadata: dict[str, Any], data_path: str | os.PathLike[str], *,
                 target: str | None = None, x_key: str | None = None,
                 y_key: str | None = None) -> tuple[dict[str, np.ndarray], Any, Dataset]:
    """Reads a data file into the model's inputs, plus the target values when there are any."""
    inputs_meta = metadata.get("inputs", {})
    kind = metadata.get("input_kind")
    p = Path(data_path)
    if kind == "images":
        height, width = inputs_meta["image"][:2]
        has_classes = p.is_dir() and any(d.is_dir() for d in p.iterdir())
        dataset = load_dataset(p, x_key=x_key, y_key=y_key, image_size=(height, width)) \
            if (has_classes or not p.is_dir()) else _flat_images(p, (height, width))
    else:
        dataset = load_dataset(p, x_key=x_key, y_key=y_key)
    if dataset.kind == "table":
        if kind != "table":
            raise DataError(f"{p}: this model takes {kind}, not a table")
        schema = FeatureSchema.from_dict(metadata["feature_schema"])
        column = target or metadata.get("target")
        y = dataset.frame[column] if column in dataset.frame.columns else None
        if target and y is None:
            raise DataError(f"{p}: no column named '{target}'; the columns are: "
                            + ", ".join(map(str, dataset.frame.columns)))
        return schema.transform(dataset.frame, source=str(p)), y, dataset
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
    y: Any = dataset.y
    if dataset.class_names is not None and y is not None:
        y = np.array([dataset.class_names[i] for i in y])
    return {source: x.astype(np.float32) if x.dtype != np.uint8 else x}, y, dataset


def _decode(metadata: dict[str, Any], raw: np.ndarray) -> tuple[list[Any], np.ndarray | None]:
    if metadata["task"] == "regression":
        return raw.reshape(-1).tolist(), None
    names = metadata["class_names"]
    proba = np.concatenate([1 - raw, raw], axis=1) if raw.shape[1] == 1 else raw
    return [names[i] for i in proba.argmax(axis=1)], proba


def predict_file(model_path: str, data_path: str, output: str | None = None, *,
                 x_key: str | None = None, allow_unsafe: bool = False) -> Path:
    """Writes a CSV with a ``prediction`` column (and one probability column per class)."""
    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    inputs, _, dataset = model_inputs(metadata, data_path, x_key=x_key)
    raw = np.asarray(model.predict(inputs, verbose=0))
    labels, proba = _decode(metadata, raw)
    out = Path(output) if output else Path(data_path).with_name(Path(data_path).stem + ".predictions.csv")
    names = metadata.get("class_names", [])
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            first = ["file"] if dataset.files else ["row"]
            writer.writerow(first + ["prediction"] + ([f"probability_{n}" for n in names] if proba is not None else []))
            for i, label in enumerate(labels):
                key = dataset.files[i] if dataset.files else i
                row = [key, label] + ([f"{v:.6g}" for v in proba[i]] if proba is not None else [])
                writer.writerow(row)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{out}: cannot write predictions ({exc.strerror})") from exc
    return out


def evaluate_file(model_path: str, data_path: str, target: str | None = None, *,
                  x_key: str | None = None, y_key: str | None = None,
                  allow_unsafe: bool = False) -> dict[str, Any]:
    """Metrics of an exported model on a labelled data file."""
    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    inputs, y, _ = model_inputs(metadata, data_path, target=target, x_key=x_key, y_key=y_key)
    if y is None:
        raise DataError(f"{data_path}: no target values to evaluate against (name it with --target)")
    raw = np.asarray(model.predict(inputs, verbose=0))
    if metadata["task"] == "regression":
        return regression_metrics(np.asarray(y, dtype=float), raw)
    names = tuple(metadata["class_names"])
    values = [label_text(v) for v in (y.tolist() if hasattr(y, "tolist") else list(y))]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise DataError(f"{data_path}: labels the model has never seen: {', '.join(unknown[:5])}")
    return classification_metrics(encode_target(values, "classification", names), raw, names)
