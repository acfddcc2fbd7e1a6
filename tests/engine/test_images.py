"""Images: one decoding for training and predict, bit depths and modes, hidden files, layouts.

Every image here is made at test time with Pillow; the training test is a real (tiny) search.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.images import (
    LazyImages,
    decode_image,
    is_hidden,
    load_image_folder,
    load_images_to_score,
)
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.export.predict import model_inputs

SIZE = (12, 10)  # (height, width)


def _noise(path: Path, size: tuple[int, int] = (37, 23), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _gray(value: int, shape: tuple[int, int] = (6, 6), seed: int = 0) -> np.ndarray:
    """8-bit grey pixels around ``value`` (a little noise, so resizing has work to do)."""
    rng = np.random.default_rng(seed)
    return np.clip(value + rng.integers(-20, 21, shape), 0, 255).astype(np.uint8)


def _save_gray_pair(root8: Path, root16: Path, rel: str, pixels: np.ndarray) -> None:
    """The same picture as an 8-bit PNG and as a 16-bit PNG (mode I;16, 0..65535)."""
    for root, arr in ((root8, pixels), (root16, pixels.astype(np.uint16) * 257)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(root / rel)


def _image_metadata(size: tuple[int, int]) -> dict:
    return {"input_kind": "images", "inputs": {"image": [size[0], size[1], 3]}}


# --- one decoding everywhere --------------------------------------------------------------------


def test_training_eager_lazy_and_predict_decode_a_noise_image_identically(tmp_path: Path) -> None:
    # Predict once resized flat folders with bicubic while training used bilinear: up to 15/255.
    for cls in ("a", "b"):
        for i in range(3):
            _noise(tmp_path / "train" / cls / f"{i}.png", seed=i + (10 if cls == "b" else 0))
    shutil.copytree(tmp_path / "train" / "a", tmp_path / "flat")

    eager = load_image_folder(tmp_path / "train", image_size=SIZE, lazy=False)
    lazy = load_image_folder(tmp_path / "train", image_size=SIZE, lazy=True)
    inputs, _, served = model_inputs(_image_metadata(SIZE), tmp_path / "flat")

    assert isinstance(lazy.x, LazyImages) and isinstance(eager.x, np.ndarray)
    assert np.array_equal(lazy.x[np.arange(6)], eager.x)
    assert [Path(f).name for f in served.files] == ["0.png", "1.png", "2.png"]
    difference = np.abs(inputs["image"].astype(int) - eager.x[:3].astype(int)).max()
    assert difference == 0
    # The decoded pixels are a real resize of the file, not a copy of some other image.
    with Image.open(tmp_path / "flat" / "0.png") as original:
        bicubic = np.asarray(original.resize((SIZE[1], SIZE[0]), Image.Resampling.BICUBIC))
    assert np.abs(bicubic.astype(int) - inputs["image"][0].astype(int)).max() > 0


def test_predict_reads_a_single_image_file_like_training(tmp_path: Path) -> None:
    _noise(tmp_path / "train" / "a" / "0.png")
    _noise(tmp_path / "train" / "b" / "0.png", seed=1)
    trained = load_image_folder(tmp_path / "train", image_size=SIZE)
    inputs, labels, served = model_inputs(_image_metadata(SIZE), tmp_path / "train" / "b" / "0.png")
    assert labels is None and served.files == (str(tmp_path / "train" / "b" / "0.png"),)
    assert np.array_equal(inputs["image"], trained.x[1:])
    with pytest.raises(DataError, match=r"missing\.png: no such file or folder"):
        model_inputs(_image_metadata(SIZE), tmp_path / "missing.png")


def test_a_model_of_grey_arrays_gets_grey_pixels_from_image_files(tmp_path: Path) -> None:
    _noise(tmp_path / "new" / "0.png")
    grey_model = {"input_kind": "images", "inputs": {"image": [SIZE[0], SIZE[1], 1]}}
    inputs, _, _ = model_inputs(grey_model, tmp_path / "new")
    rgb = decode_image(tmp_path / "new" / "0.png", SIZE)
    assert inputs["image"].shape == (1, *SIZE, 1)
    assert np.array_equal(inputs["image"][0, ..., 0], np.asarray(Image.fromarray(rgb).convert("L")))
    four = {"input_kind": "images", "inputs": {"image": [SIZE[0], SIZE[1], 4]}}
    with pytest.raises(DataError, match=r"new: the model takes 4-channel images"):
        model_inputs(four, tmp_path / "new")


# --- bit depths and modes -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "dtype"), [
    ("g16.png", np.uint16),      # mode I;16: microscopy, X-ray, depth exports
    ("g16be.tif", ">u2"),        # mode I;16B
    ("g32.tif", np.int32),       # mode I, which Pillow also gives some 16-bit files
])
def test_sixteen_bit_grey_is_scaled_by_the_type_range_like_the_8_bit_picture(
        tmp_path: Path, name: str, dtype: object) -> None:
    pixels = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    Image.fromarray(pixels).save(tmp_path / "g8.png")
    Image.fromarray((pixels.astype(np.uint32) * 257).astype(dtype)).save(tmp_path / name)

    wide = decode_image(tmp_path / name, (16, 16))
    narrow = decode_image(tmp_path / "g8.png", (16, 16))

    assert wide.dtype == np.uint8 and wide.shape == (16, 16, 3)
    assert np.array_equal(wide, narrow)
    assert wide.min() == 0 and wide.max() == 240  # not saturated to white


def test_a_dim_16_bit_scan_stays_darker_than_a_bright_one(tmp_path: Path) -> None:
    Image.fromarray(np.full((8, 8), 4000, np.uint16)).save(tmp_path / "dim.png")
    Image.fromarray(np.full((8, 8), 60000, np.uint16)).save(tmp_path / "bright.png")
    assert decode_image(tmp_path / "dim.png", (4, 4)).max() == 4000 // 256
    assert decode_image(tmp_path / "bright.png", (4, 4)).min() == 60000 // 256


def _png16(path: Path, pixels: np.ndarray, color_type: int) -> None:
    """A 16-bit-per-sample PNG written by hand (Pillow cannot write 16-bit colour)."""
    import struct
    import zlib

    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))


def test_16_bit_colour_and_16_bit_grey_agree(tmp_path: Path) -> None:
    levels = np.tile(np.arange(0, 65536, 4099, dtype=np.uint16), (16, 1))  # 16 x 16
    _png16(tmp_path / "rgb48.png", np.repeat(levels[..., None], 3, axis=2), color_type=2)
    _png16(tmp_path / "rgba64.png", np.dstack([levels] * 3 + [np.full_like(levels, 65535)]), color_type=6)
    Image.fromarray(levels).save(tmp_path / "grey16.png")
    grey = decode_image(tmp_path / "grey16.png", (16, 16))
    assert np.array_equal(decode_image(tmp_path / "rgb48.png", (16, 16)), grey)
    assert np.array_equal(decode_image(tmp_path / "rgba64.png", (16, 16)), grey)
    assert grey[0, :, 0].tolist() == [v >> 8 for v in levels[0].tolist()]


def test_palette_image_decodes_to_its_colours(tmp_path: Path) -> None:
    rgb = Image.fromarray(np.repeat(np.repeat(np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8), 4, 0), 4, 1))
    rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(tmp_path / "p.png")
    rgb.save(tmp_path / "rgb.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert np.array_equal(decode_image(tmp_path / "p.png", (4, 8)), decode_image(tmp_path / "rgb.png", (4, 8)))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_pixels_are_composited_on_white(tmp_path: Path, mode: str) -> None:
    # Left half: opaque dark grey; right half: fully transparent (its stored colour is black).
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, :4, :3], rgba[:, :4, 3] = 60, 255
    image = Image.fromarray(rgba)
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "P":
        image = image.convert("P")  # the alpha becomes the palette's transparency
    image.save(tmp_path / "t.png")
    with Image.open(tmp_path / "t.png") as reread:
        assert reread.mode == mode
    pixels = decode_image(tmp_path / "t.png", (8, 8))
    assert pixels.shape == (8, 8, 3)
    assert (pixels[:, 6:] == 255).all()  # transparent: white, not the black underneath
    assert (np.abs(pixels[:, :2].astype(int) - 60) <= 1).all()  # opaque: its own colour


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored 40 wide x 20 high, dark left, bright right; Orientation 6 shows it turned 90°
    # clockwise: 20 wide x 40 high, dark on top.
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, 20:] = 230
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)

    pixels = decode_image(tmp_path / "phone.jpg", (40, 20)).astype(int)

    assert pixels[:16].mean() < 30 and pixels[24:].mean() > 200
    assert abs(pixels[:, :8].mean() - pixels[:, 12:].mean()) < 30  # no left/right split left


def test_cmyk_jpeg_decodes_to_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(tmp_path / "cyan.jpg")  # pure cyan ink
    r, g, b = decode_image(tmp_path / "cyan.jpg", (4, 4)).reshape(-1, 3).mean(axis=0)
    assert r < 40 and g > 215 and b > 215


def test_a_float_image_is_refused_with_the_file_named(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 0.5, np.float32)).save(tmp_path / "depth.tif")
    with pytest.raises(DataError, match=r"depth\.tif: a 32-bit floating-point image"):
        decode_image(tmp_path / "depth.tif", (4, 4))
    shutil.copy(tmp_path / "depth.tif", _noise(tmp_path / "f" / "a" / "0.png").with_name("x.tif"))
    _noise(tmp_path / "f" / "b" / "0.png")
    with pytest.raises(DataError, match=r"a/x\.tif: a 32-bit floating-point image"):
        load_image_folder(tmp_path / "f", lazy=True)  # refused at the header check, up front


def test_mixed_modes_train_as_three_channels(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    _noise(root / "a" / "rgb.png")
    Image.fromarray(_gray(100)).save(root / "a" / "grey.png")
    (root / "b").mkdir()
    Image.fromarray(np.full((5, 5), 9000, np.uint16)).save(root / "b" / "g16.png")
    Image.new("RGBA", (5, 5), (0, 0, 0, 0)).save(root / "b" / "clear.png")
    Image.new("1", (5, 5), 1).save(root / "b" / "bilevel.bmp")
    dataset = load_dataset(root, image_size=(4, 4))
    assert dataset.x.shape == (5, 4, 4, 3) and dataset.y.tolist() == [0, 0, 1, 1, 1]
    assert (dataset.x[2] == 255).all() and (dataset.x[3] == 255).all()  # bilevel white, clear on white


# --- hidden and system files, layouts -----------------------------------------------------------


@pytest.mark.parametrize("name", [".ipynb_checkpoints", ".DS_Store", "._cat.png", "__MACOSX",
                                  "Thumbs.db", "thumbs.db", "desktop.ini", "@eaDir"])
def test_hidden_and_system_names(name: str) -> None:
    assert is_hidden(name)


@pytest.mark.parametrize("name", ["cats", "cat.png", "_background_", "Thumbs"])
def test_ordinary_names_are_not_hidden(name: str) -> None:
    assert not is_hidden(name)


def _litter(folder: Path) -> None:
    """What notebooks, macOS, Windows and NAS boxes leave in a folder of images."""
    _noise(folder / ".ipynb_checkpoints" / "0-checkpoint.png", seed=99)
    _noise(folder / "__MACOSX" / "0.png", seed=98)
    _noise(folder / "@eaDir" / "SYNOFILE_THUMB_M.jpg", seed=97)
    _noise(folder / "._0.png", seed=96)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "desktop.ini").write_text("[.ShellClassInfo]\n")


def test_training_folder_ignores_hidden_and_system_entries_at_every_level(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    for cls in ("cats", "dogs"):
        for i in range(5):
            _noise(root / cls / f"{i}.png", seed=i)
        _litter(root / cls)
    _litter(root)

    dataset = load_dataset(root, image_size=(8, 8))

    assert dataset.class_names == ("cats", "dogs")
    assert dataset.x.shape == (10, 8, 8, 3)
    assert all("checkpoint" not in f and "MACOSX" not in f and "eaDir" not in f for f in dataset.files)
    assert dataset.notes == ()
    clean = tmp_path / "clean"
    for cls in ("cats", "dogs"):
        for i in range(5):
            _noise(clean / cls / f"{i}.png", seed=i)
    assert load_dataset(clean, image_size=(8, 8)).fingerprint == dataset.fingerprint


def test_training_reads_images_nested_inside_a_class_folder(tmp_path: Path) -> None:
    root = tmp_path / "scans"
    _noise(root / "healthy" / "a.png")
    _noise(root / "healthy" / "2023" / "b.png", seed=1)
    _noise(root / "sick" / "2023" / "march" / "c.png", seed=2)
    (root / "sick" / "labels.csv").write_text("file,label\n")
    dataset = load_dataset(root, image_size=(8, 8))
    assert [Path(f).relative_to(root).as_posix() for f in dataset.files] == [
        "healthy/2023/b.png", "healthy/a.png", "sick/2023/march/c.png"]
    assert dataset.y.tolist() == [0, 0, 1]
    assert any("sick/labels.csv" in note for note in dataset.notes)


def test_a_train_val_split_layout_is_refused_with_the_folder_to_open(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for split in ("train", "val"):
        for cls in ("cats", "dogs"):
            _noise(root / split / cls / "0.png")
    with pytest.raises(DataError, match=r"data: the folders train, val each hold the same class folders "
                                        r"\(cats, dogs\).*open one of them \(e\.g\. .*data/train\)"):
        load_dataset(root)
    assert load_dataset(root / "train", image_size=(4, 4)).class_names == ("cats", "dogs")


def test_a_lone_wrapper_folder_names_the_folder_to_open(tmp_path: Path) -> None:
    for cls in ("cats", "dogs"):
        _noise(tmp_path / "data" / "photos" / cls / "0.png")
    with pytest.raises(DataError, match=r"only one class folder \('photos'\), which holds the folders "
                                        r"cats, dogs; open .*data/photos to use those"):
        load_dataset(tmp_path / "data")


def test_images_beside_the_class_folders_are_reported(tmp_path: Path) -> None:
    for cls in ("cats", "dogs"):
        for i in range(5):
            _noise(tmp_path / "pets" / cls / f"{i}.png", seed=i)
    _noise(tmp_path / "pets" / "cover.jpg")
    dataset = load_dataset(tmp_path / "pets", image_size=(4, 4))
    assert len(dataset.files) == 10
    assert dataset.notes == ("skipped 1 image(s) that are in no class folder (cover.jpg)",)


def test_predict_folder_flat_with_checkpoints_scores_every_image(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    for i in range(4):
        _noise(folder / f"new_{i}.png", seed=i)
    _litter(folder)
    (folder / "notes.txt").write_text("taken on monday")

    dataset = load_images_to_score(folder, image_size=SIZE)

    assert [Path(f).name for f in dataset.files] == [f"new_{i}.png" for i in range(4)]
    assert dataset.x.shape == (4, *SIZE, 3) and dataset.y is None
    (note,) = dataset.notes
    assert note.startswith("skipped 7 hidden or system entries (") and "1 file(s) that are not" in note
    assert "notes.txt" in note


def test_predict_folder_with_class_subfolders_keeps_the_labels(tmp_path: Path) -> None:
    folder = tmp_path / "labelled"
    _noise(folder / "cats" / "0.png")
    _noise(folder / "dogs" / "0.png", seed=1)
    _noise(folder / "dogs" / "old" / "1.png", seed=2)
    _litter(folder)
    dataset = load_images_to_score(folder, image_size=SIZE)
    assert dataset.class_names == ("cats", "dogs") and dataset.y.tolist() == [0, 1, 1]


def test_evaluate_labels_come_from_the_folders_named_like_the_models_classes(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _noise(root / "val" / "cats" / "0.png")
    _noise(root / "val" / "dogs" / "2024" / "1.png", seed=1)
    _noise(root / "test" / "dogs" / "2.png", seed=2)
    metadata = {**_image_metadata(SIZE), "class_names": ["cats", "dogs"]}
    _, labels, _ = model_inputs(metadata, root)
    assert labels.tolist() == ["dogs", "cats", "dogs"]  # test/dogs/2, val/cats/0, val/dogs/2024/1
    _noise(root / "val" / "birds" / "3.png", seed=3)
    _, labels, _ = model_inputs(metadata, root)
    assert labels.tolist() == ["test", "val", "val", "val"]  # first-level folders: "never seen"


def test_predict_folder_nested_and_mixed_scores_everything_unlabelled(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    _noise(folder / "top.png")
    _noise(folder / "a" / "b" / "c" / "deep.jpg", seed=1)
    dataset = load_images_to_score(folder, image_size=SIZE)
    assert sorted(Path(f).name for f in dataset.files) == ["deep.jpg", "top.png"]
    assert dataset.y is None and dataset.notes == ()


def test_predict_folder_skips_unreadable_images_and_says_which(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    _noise(folder / "good.png")
    (folder / "broken.png").write_bytes(b"not a png")
    (folder / "empty.jpg").write_bytes(b"")
    dataset = load_images_to_score(folder, image_size=SIZE)
    assert [Path(f).name for f in dataset.files] == ["good.png"]
    (note,) = dataset.notes
    assert note.startswith("skipped 2 image(s) that cannot be read")
    assert "broken.png: not a readable image" in note and "empty.jpg: the image file is empty" in note


def test_predict_folder_with_nothing_readable_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    _litter(folder)
    with pytest.raises(DataError, match=r"new: no readable PNG, JPEG.* images in this folder or its "
                                        r"subfolders; skipped 7 hidden or system entries"):
        load_images_to_score(folder, image_size=SIZE)


# --- a real search ------------------------------------------------------------------------------


def test_a_16_bit_folder_trains_and_scores_like_the_8_bit_one(tmp_path: Path) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.export.predict import evaluate_file, predict_file
    from automl_studio.engine.search.session import run_search

    eight, sixteen = tmp_path / "scans8", tmp_path / "scans16"
    for cls, level in (("dim", 40), ("bright", 210)):
        for i in range(20):
            _save_gray_pair(eight, sixteen, f"{cls}/{i:02d}.png", _gray(level, seed=i))
    _litter(sixteen)
    (sixteen / "dim" / ".ipynb_checkpoints").mkdir(exist_ok=True)
    _noise(sixteen / "dim" / ".ipynb_checkpoints" / "00-checkpoint.png")

    assert np.array_equal(load_dataset(sixteen, image_size=(6, 6)).x,
                          load_dataset(eight, image_size=(6, 6)).x)
    result = run_search(SearchConfig(
        data_path=str(sixteen), project_dir=str(tmp_path / "p"), max_trials=1, max_epochs=8,
        tuner="random", image_size=(6, 6), export_path=str(tmp_path / "best.h5"),
        export_keras=False, refit=False))
    assert result.status == "completed"

    notes: list[str] = []
    scores16 = evaluate_file(str(tmp_path / "best.h5"), str(sixteen), on_note=notes.append)
    scores8 = evaluate_file(str(tmp_path / "best.h5"), str(eight))
    assert scores16["accuracy"] == scores8["accuracy"] >= 0.9  # 16-bit read to white: 0.5
    assert notes and notes[0].startswith("skipped ")

    flat = tmp_path / "new"
    shutil.copytree(sixteen / "bright", flat)
    out = predict_file(str(tmp_path / "best.h5"), str(flat), str(tmp_path / "pred.csv"))
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 20 and not any("checkpoint" in r for r in rows)
    assert sum(r.split(",")[1] == "bright" for r in rows) >= 18
