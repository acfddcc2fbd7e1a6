"""Image files into pixels: one decode function for training, prediction and the window.

Every image the app reads goes through :func:`decode_image`, so a model sees the same pixels when
it is trained (eagerly or batch by batch through :class:`LazyImages`), when ``automl-studio
predict`` scores new files and when the window shows thumbnails. A different resampling filter
or colour rule at serve time than at training time would shift the inputs without any error
(train/serve skew), so there is deliberately only one place that decides them:

* orientation: the EXIF ``Orientation`` tag is applied, as a photo viewer would;
* bit depth: 16-bit and 32-bit integer greyscale (Pillow modes ``I;16*`` and ``I``) are scaled
  from 0..65535 to 0..255 by the range of the type, not per image, so a dim scan stays darker
  than a bright one (Pillow's own conversion saturates them to white, pytorch/vision#2218);
  the high byte is kept, as Pillow does for 16-bit colour, so 16-bit grey and colour agree;
  values above 65535 (32-bit) are white; 32-bit float images are refused (no defined range);
* colour: every mode becomes 8-bit RGB (three channels, also for greyscale), transparency
  (``RGBA``, ``LA``, ``PA``, palette or colour-key transparency) is composited on white;
* size: resized to the model's height × width with the bilinear filter.

Folders are walked with hidden and system entries skipped everywhere (names starting with ``.``
such as ``.ipynb_checkpoints`` and ``.DS_Store``, ``__MACOSX``, ``Thumbs.db``, ``desktop.ini``,
Synology's ``@eaDir``), so a checkpoint copy is never taken for a class or an input.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import Dataset, LoadCancelled, ProgressCallback

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jfif", ".bmp", ".gif", ".tif", ".tiff", ".webp")
SYSTEM_NAMES = frozenset(
    {"__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini", "@eadir", "$recycle.bin",
     "system volume information"}
)
LAZY_IMAGES = 5_000  # folders with more images are decoded batch by batch, not all at once
_SIXTEEN_BIT_MAX = 65535
_SUFFIX_TEXT = "PNG, JPEG, BMP, GIF, TIFF or WebP"


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is hidden or made by the system, not by the user.

    Names starting with ``.`` (``.ipynb_checkpoints``, ``.DS_Store``, macOS ``._x.png``) and the
    names in :data:`SYSTEM_NAMES` (compared without case, as Windows and macOS do).
    """
    return name.startswith(".") or name.lower() in SYSTEM_NAMES


# --- one image --------------------------------------------------------------------------------


def _open(path: Path) -> Any:
    """Opens an image file (header only), naming the file on any failure."""
    from PIL import Image, UnidentifiedImageError

    try:
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the image file is empty (0 bytes)")
        return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: the image is too large to read safely ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image ({exc.__class__.__name__})") from exc


def _check_mode(path: Path, mode: str) -> None:
    if mode == "F":
        raise DataError(
            f"{path}: a 32-bit floating-point image has no fixed brightness range; save it as an "
            "8- or 16-bit PNG or TIFF"
        )


def check_image(path: str | os.PathLike[str]) -> None:
    """Checks that a file is an image this module can decode, reading only its header.

    Raises:
        DataError: the file is empty, not an image, or in a mode that is refused (float).
    """
    p = Path(path)
    with _open(p) as image:
        _check_mode(p, image.mode)


def _to_rgb(image: Any, path: Path) -> Any:
    """Any Pillow image as 8-bit RGB (see the module docstring for the rules)."""
    from PIL import Image

    mode = image.mode
    _check_mode(path, mode)
    if mode == "I" or mode.startswith("I;"):
        pixels = np.clip(np.asarray(image), 0, _SIXTEEN_BIT_MAX).astype(np.uint32)
        # By the type's range, not the image's, so each file keeps its brightness; the high
        # byte, as Pillow reduces 16-bit colour (RGB/RGBA/LA PNGs), so grey and colour agree.
        image, mode = Image.fromarray((pixels >> 8).astype(np.uint8)), "L"
    if "A" in mode or mode.endswith("a") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise DataError(f"{path}: cannot convert its colour mode {mode} to RGB") from exc


def decode_image(path: str | os.PathLike[str], size: tuple[int, int], channels: int = 3) -> np.ndarray:
    """Reads one image file as the model sees it.

    Args:
        path: a PNG, JPEG, BMP, GIF (first frame), TIFF (first page) or WebP file.
        size: ``(height, width)`` in pixels.
        channels: 3 (RGB, what training on an image folder uses) or 1 (grey, by Pillow's ITU-R
            601 luma, for a model trained on single-channel arrays).

    Returns:
        uint8 array of shape ``(height, width, 3)`` (``(height, width, 1)`` for one channel): EXIF orientation applied, bit depth scaled
        to 0..255, transparency composited on white, resized with the bilinear filter.

    Raises:
        DataError: naming the file when it is empty, not an image, damaged or truncated, or in a
            mode that cannot be decoded.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    height, width = size
    with _open(p) as image:
        try:
            try:
                ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of a big photo
            except (SyntaxError, TypeError, KeyError, IndexError, ValueError, AttributeError):
                pass  # a damaged EXIF block must not lose an otherwise good image; use it as stored
            rgb = _to_rgb(image, p)
            resized = rgb.resize((width, height), Image.Resampling.BILINEAR)
            if channels == 1:
                return np.asarray(resized.convert("L"), dtype=np.uint8)[..., None]
            return np.asarray(resized, dtype=np.uint8)
        except Image.DecompressionBombError as exc:
            raise DataError(f"{p}: the image is too large to read safely ({exc})") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise DataError(f"{p}: not a readable image ({exc.__class__.__name__})") from exc


# --- folders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageScan:
    """The image files under a folder, and what was skipped there.

    Attributes:
        files: image files (by suffix), depth first in name order (a subfolder at its name).
        hidden: hidden or system entries skipped (relative paths; a skipped folder is not read).
        not_images: other files skipped because their suffix is not an image's (relative paths).
    """

    files: tuple[Path, ...]
    hidden: tuple[str, ...] = ()
    not_images: tuple[str, ...] = ()

    def skipped_note(self) -> str | None:
        """One line saying how many entries were skipped and why, or None when none were."""
        parts = []
        if self.hidden:
            parts.append(f"{len(self.hidden)} hidden or system entr{'y' if len(self.hidden) == 1 else 'ies'} "
                         f"({_examples(self.hidden)})")
        if self.not_images:
            parts.append(f"{len(self.not_images)} file(s) that are not {_SUFFIX_TEXT} images "
                         f"({_examples(self.not_images)})")
        return "skipped " + " and ".join(parts) if parts else None


def _examples(names: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def scan_images(folder: Path, *, relative_to: Path | None = None) -> ImageScan:
    """Lists the image files under ``folder`` and its subfolders, skipping hidden ones.

    Symbolic links to folders are followed once (a link back up the tree is not walked again).
    Paths in ``hidden``/``not_images`` are relative to ``relative_to`` (default ``folder``).
    """
    base = relative_to or folder
    files: list[Path] = []
    hidden: list[str] = []
    not_images: list[str] = []
    seen: set[Path] = set()

    def walk(directory: Path) -> None:
        real = directory.resolve()
        if real in seen:
            return
        seen.add(real)
        try:
            entries = sorted(directory.iterdir(), key=lambda e: e.name)
        except OSError as exc:
            raise DataError(f"{directory}: cannot list the folder ({exc.strerror})") from exc
        for entry in entries:
            rel = entry.relative_to(base).as_posix()
            if is_hidden(entry.name):
                hidden.append(rel)
            elif entry.is_dir():
                walk(entry)
            elif entry.suffix.lower() in IMAGE_SUFFIXES:
                files.append(entry)
            elif entry.is_file():
                not_images.append(rel)

    walk(folder)
    return ImageScan(tuple(files), tuple(hidden), tuple(not_images))


def images_fingerprint(root: Path, files: tuple[Path, ...] | list[Path]) -> str:
    """A SHA-256 of the images read (relative path and bytes of each, in order).

    Only the files used count, so a hidden ``.ipynb_checkpoints`` copy or a ``.DS_Store`` that
    comes and goes does not make the same images look like different data.
    """
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


class LazyImages:
    """Image files that look like a uint8 array (N×H×W×3) but decode only the rows asked for.

    Indexing (an int, a slice or an index array) decodes and resizes those files with
    :func:`decode_image`; ``subset`` makes a smaller lazy view without decoding anything.
    Training reads it batch by batch (see ``hypermodel.ArrayBatches``), so a folder of tens of
    thousands of images never sits in memory whole.
    """

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, files: tuple[str, ...], size: tuple[int, int]) -> None:
        self.files, self.size = files, size

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(images, height, width, 3)``."""
        return (len(self.files), self.size[0], self.size[1], 3)

    @property
    def nbytes(self) -> int:
        """Bytes the images would take decoded."""
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return decode_image(self.files[int(index)], self.size)
        rows = range(len(self.files))[index] if isinstance(index, slice) else np.asarray(index).reshape(-1)
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8)
        for i, row in enumerate(rows):
            out[i] = decode_image(self.files[int(row)], self.size)
        return out

    def subset(self, index: Any) -> LazyImages:
        """The rows at ``index`` (an index array), still undecoded."""
        return LazyImages(tuple(self.files[int(i)] for i in np.asarray(index).reshape(-1)), self.size)

    @staticmethod
    def concat(parts: list[LazyImages]) -> LazyImages:
        """The rows of several lazy views, in order (they must share one size)."""
        return LazyImages(tuple(f for part in parts for f in part.files), parts[0].size)


def _read_pixels(
    files: list[Path], size: tuple[int, int], *, lazy: bool,
    progress: ProgressCallback | None, cancel: CancelToken | None,
) -> np.ndarray | LazyImages:
    """Decodes the files (or, when lazy, checks their headers) with progress and cancelling."""
    height, width = size
    x = None if lazy else np.empty((len(files), height, width, 3), dtype=np.uint8)
    for i, file in enumerate(files):
        if cancel is not None and cancel.is_set():
            raise LoadCancelled()
        if x is None:
            check_image(file)
        else:
            x[i] = decode_image(file, size)
        if progress is not None and (i % 64 == 0 or i == len(files) - 1):
            progress((i + 1) / len(files))
    return LazyImages(tuple(str(f) for f in files), size) if x is None else x


def _subfolders(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(d.name for d in folder.iterdir() if d.is_dir() and not is_hidden(d.name)))


def _holds_images(folder: Path) -> bool:
    return any(f.suffix.lower() in IMAGE_SUFFIXES and not is_hidden(f.name) and f.is_file()
               for f in folder.iterdir())


def _check_layout(path: Path, classes: list[str]) -> None:
    """Refuses the two layouts that would silently train the wrong classes.

    ``data/{train,val}/{cats,dogs}`` would become a train-vs-val classifier, and a lone wrapper
    folder ``data/photos/{cats,dogs}`` a single class: both say which folder to open instead.
    """
    inner = [_subfolders(path / name) for name in classes]
    if any(_holds_images(path / name) for name in classes):
        return
    if len(classes) >= 2 and len(inner[0]) >= 2 and all(sub == inner[0] for sub in inner):
        raise DataError(
            f"{path}: the folders {', '.join(classes)} each hold the same class folders "
            f"({', '.join(inner[0])}), so they look like a train/validation split, not classes; "
            f"open one of them (e.g. {path / classes[0]}): automl-studio makes its own splits"
        )
    if len(classes) == 1 and len(inner[0]) >= 2:
        raise DataError(
            f"{path}: only one class folder ('{classes[0]}'), which holds the folders "
            f"{', '.join(inner[0])}; open {path / classes[0]} to use those as the classes"
        )


def load_image_folder(
    path: Path,
    *,
    image_size: tuple[int, int] = (64, 64),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    lazy: bool | None = None,
) -> Dataset:
    """Reads a training folder: one subfolder of images per class, resized to ``image_size``.

    A class folder may hold its images in subfolders of its own (as Keras'
    ``image_dataset_from_directory`` allows); hidden and system entries are skipped everywhere,
    other non-image files are skipped with a note. ``lazy`` (default: more than
    :data:`LAZY_IMAGES` files) checks every file's header now and decodes the pixels only when
    training asks for them.

    Raises:
        DataError: no class folders, one class, an empty class, or an unreadable image (named).
    """
    try:
        entries = sorted(path.iterdir(), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"{path}: cannot list the folder ({exc.strerror})") from exc
    classes = [d.name for d in entries if d.is_dir() and not is_hidden(d.name)]
    if not classes:
        raise DataError(
            f"{path}: an image folder needs one subfolder per class (e.g. {path}/cats/1.png)"
        )
    _check_layout(path, classes)
    files: list[Path] = []
    labels: list[int] = []
    loose = [e.name for e in entries if e.is_file() and not is_hidden(e.name)]
    stray = [name for name in loose if Path(name).suffix.lower() in IMAGE_SUFFIXES]
    not_images = [name for name in loose if name not in stray]
    for index, name in enumerate(classes):
        scan = scan_images(path / name, relative_to=path)
        if not scan.files:
            raise DataError(f"{path / name}: the class folder '{name}' holds no images ({_SUFFIX_TEXT})")
        files.extend(scan.files)
        labels.extend([index] * len(scan.files))
        not_images.extend(scan.not_images)
    if len(classes) < 2:
        raise DataError(f"{path}: only one class folder ('{classes[0]}'); a classifier needs two")
    lazy = len(files) > LAZY_IMAGES if lazy is None else lazy
    # Any: a LazyImages stands in for the uint8 array (it has its shape, dtype and indexing).
    x: Any = _read_pixels(files, image_size, lazy=lazy, progress=progress, cancel=cancel)
    y = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(y, minlength=len(classes))
    notes = [f"class '{classes[k]}' has only {int(c)} image(s)" for k, c in enumerate(counts) if c < 5]
    skipped = ImageScan((), (), tuple(not_images)).skipped_note()
    if skipped:
        notes.append(skipped)
    if stray:
        notes.append(f"skipped {len(stray)} image(s) that are in no class folder ({_examples(tuple(stray))})")
    return Dataset(
        path=str(path), kind="images", x=x, y=y, class_names=tuple(classes),
        files=tuple(str(f) for f in files), fingerprint=images_fingerprint(path, files),
        notes=tuple(notes),
    )


def load_images_to_score(
    path: Path,
    *,
    image_size: tuple[int, int] = (64, 64),
    channels: int = 3,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Dataset:
    """Reads one image file, or every image under a folder however it is laid out, for a model.

    Flat, one subfolder per class, or nested deeper: every image file under ``path`` is read,
    hidden and system entries are skipped. When every image sits inside a first-level subfolder,
    those subfolders are taken as the labels (``class_names``/``y``, for ``evaluate``);
    otherwise ``y`` is None. Files that are not images, and images that cannot be decoded, are
    skipped; ``notes`` says how many and why. ``channels`` as in :func:`decode_image`.

    Raises:
        DataError: the folder holds no readable image, or the one file is not one.
    """
    if channels not in (1, 3):
        raise DataError(f"{path}: the model takes {channels}-channel images; image files are read "
                        "as RGB (3 channels) or grey (1)")
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        decode_image(path, image_size, channels)  # one file: its error is the answer, not a note
        scan, base = ImageScan((path,)), path.parent
    else:
        scan, base = scan_images(path), path
    readable: list[Path] = []
    height, width = image_size
    x = np.empty((len(scan.files), height, width, channels), dtype=np.uint8)  # trimmed below
    unreadable: list[str] = []
    for i, file in enumerate(scan.files):
        if cancel is not None and cancel.is_set():
            raise LoadCancelled()
        try:
            x[len(readable)] = decode_image(file, image_size, channels)
            readable.append(file)
        except DataError as exc:
            unreadable.append(f"{file.relative_to(base).as_posix()}: {str(exc).split(': ', 1)[-1]}")
        if progress is not None and (i % 64 == 0 or i == len(scan.files) - 1):
            progress((i + 1) / len(scan.files))
    notes = [note for note in [scan.skipped_note()] if note]
    if unreadable:
        notes.append(f"skipped {len(unreadable)} image(s) that cannot be read ({_examples(tuple(unreadable))})")
    if not readable:
        found = f"; {'; '.join(notes)}" if notes else ""
        raise DataError(f"{path}: no readable {_SUFFIX_TEXT} images in this folder or its subfolders{found}")
    parts = [f.relative_to(base).parts for f in readable]
    y = class_names = None
    if all(len(p) > 1 for p in parts):
        class_names = tuple(sorted({p[0] for p in parts}))
        y = np.asarray([class_names.index(p[0]) for p in parts], dtype=np.int64)
    return Dataset(
        path=str(path), kind="images", x=x[: len(readable)], y=y, class_names=class_names,
        files=tuple(str(f) for f in readable), fingerprint=images_fingerprint(base, readable),
        notes=tuple(notes),
    )
