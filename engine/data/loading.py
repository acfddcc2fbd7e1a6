"""One entry point for every kind of data: :func:`load_dataset` picks the reader from the path.

Tables and arrays are read by :mod:`~automl_studio.engine.data.dataset`, image folders by
:mod:`~automl_studio.engine.data.images`; this module sits above both so that neither needs the
other's readers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import CsvOptions
from automl_studio.engine.data.dataset import (
    CancelToken,
    Dataset,
    ProgressCallback,
    load_csv,
    load_npy,
    load_npz,
    load_parquet,
)
from automl_studio.engine.data.images import load_image_folder


def load_dataset(
    path: str | os.PathLike[str],
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    image_size: tuple[int, int] = (64, 64),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    csv_options: CsvOptions | None = None,
    expected_columns: Sequence[str] = (),
) -> Dataset:
    """Loads any supported data file or folder.

    Args:
        path: a CSV/TSV/Parquet file, an ``.npz`` (keys ``x``/``y`` unless named), an ``.npy``
            (its ``y`` twin found beside it, or named by ``y_key``), or a folder of images with
            one subfolder per class.
        image_size: ``(height, width)`` images are resized to, in pixels.
        progress: called with a fraction in [0, 1] as the file is read.
        csv_options: the user's delimiter, decimal mark, encoding or header choice for a CSV file
            (``None``: detect them all).
        cancel: checked while reading; when set, :class:`~automl_studio.engine.data.dataset.LoadCancelled`
            is raised.
        expected_columns: column names the caller needs (a model's inputs): a CSV file whose first
            row holds them all has that row as its header, whatever its values look like.

    Raises:
        DataError: the path does not exist or cannot be read; the message names the file.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    if p.is_dir():
        return load_image_folder(p, image_size=image_size, progress=progress, cancel=cancel)
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return load_parquet(p)
    if suffix == ".npz":
        return load_npz(p, x_key=x_key, y_key=y_key)
    if suffix == ".npy":
        return load_npy(p, y_path=y_key)
    return load_csv(p, options=csv_options, progress=progress, cancel=cancel, expected_columns=expected_columns)
