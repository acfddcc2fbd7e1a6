"""Using an exported model: predictions for a data file, and metrics against its target.

Works from the model file alone: its metadata says how columns become inputs (the feature
schema), what the classes are called and whether it is a classifier or a regressor.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError, ModelFileError
from automl_studio.engine.data.csv_format import CsvOptions
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.features import FeatureSchema, encode_target
from automl_studio.engine.data.images import IMAGE_SUFFIXES, load_images_to_score
from automl_studio.engine.data.loading import load_dataset
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


def model_inputs(metadata: dict[str, Any], data_path: str | os.PathLike[str], *,
                 target: str | None = None, x_key: str | None = None,
                 y_key: str | None = None,
                 csv_options: CsvOptions | None = None) -> tuple[dict[str, np.ndarray], Any, Dataset]:
    """Reads a data file into the model's inputs, plus the target values when there are any.

    ``csv_options`` overrides what is detected about a CSV file (delimiter, decimal mark, encoding, header).
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
        dataset = load_dataset(p, x_key=x_key, y_key=y_key, csv_options=csv_options)
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
    labels: Any = dataset.y
    if dataset.class_names is not None and labels is not None:
        labels = np.array([dataset.class_names[i] for i in labels])
    if kind == "images" and p.is_dir():
        named = _folder_labels(p, dataset.files, metadata.get("class_names") or ())
        labels = named if named is not None else labels
    return {source: x.astype(np.float32) if x.dtype != np.uint8 else x}, labels, dataset


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


def predict_file(model_path: str, data_path: str, output: str | None = None, *,
                 x_key: str | None = None, allow_unsafe: bool = False,
                 on_note: Callable[[str], None] | None = None, csv_options: CsvOptions | None = None) -> Path:
    """Writes a CSV with a ``prediction`` column (and one probability column per class).

    ``on_note`` receives one line per thing worth knowing about the input, e.g. how many
    entries of an image folder were skipped and why.
    """
    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    inputs, _, dataset = model_inputs(metadata, data_path, x_key=x_key, csv_options=csv_options)
    if on_note is not None:
        for note in dataset.notes:
            on_note(note)
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
                  allow_unsafe: bool = False,
                  on_note: Callable[[str], None] | None = None,
                  csv_options: CsvOptions | None = None) -> dict[str, Any]:
    """Metrics of an exported model on a labelled data file (``on_note`` as in :func:`predict_file`)."""
    model, metadata = load_model(model_path, allow_unsafe=allow_unsafe)
    inputs, y, dataset = model_inputs(metadata, data_path, target=target, x_key=x_key, y_key=y_key,
                                      csv_options=csv_options)
    if on_note is not None:
        for note in dataset.notes:
            on_note(note)
    if y is None and dataset.kind == "images":
        raise DataError(f"{data_path}: no labels to evaluate against (put the images in one "
                        "subfolder per class, named like the model's classes)")
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
