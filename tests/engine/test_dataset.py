"""load_dataset on CSV variants, NumPy archives and image folders made at test time."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
from datafiles import IRIS, make_image_folder, write_png

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.dataset import LoadCancelled, file_fingerprint
from automl_studio.engine.data.loading import load_dataset


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def rows(path: Path) -> list[list[object]]:
    frame = load_dataset(path).frame
    return [[None if isinstance(v, float) and math.isnan(v) else v for v in row]
            for row in frame.itertuples(index=False)]


# --- CSV --------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(delimiter.join(r) for r in
                     [["a", "b", "c"], ["1", "2.5", "x"], ["3", "4.5", "y"], ["5", "6.5", "z"]])
    path = write(tmp_path, "data.csv", text + "\n")

    dataset = load_dataset(path)

    assert dataset.kind == "table"
    assert dataset.columns == ["a", "b", "c"]
    assert rows(path) == [[1, 2.5, "x"], [3, 4.5, "y"], [5, 6.5, "z"]]
    assert any("delimiter" in n for n in dataset.notes) == (delimiter != ",")


def test_tsv_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "data.tsv", "a\tb\n1\t2\n3\t4\n")
    assert load_dataset(path).columns == ["a", "b"]


def test_quoted_fields_keep_their_delimiters(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv",
                 'name,notes,score\n"Smith, J","said ""hi"", left",1\n"Doe; K","a\tb",2\n')
    assert rows(path) == [["Smith, J", 'said "hi", left', 1], ["Doe; K", "a\tb", 2]]


def test_quoted_field_with_a_line_break(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'id,text\n1,"two\nlines"\n2,one\n')
    assert rows(path) == [[1, "two\nlines"], [2, "one"]]


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufeffname,città\nMünchen,1\nZürich,2\n")
    dataset = load_dataset(path)
    assert dataset.columns == ["name", "città"]
    assert list(dataset.frame["name"]) == ["München", "Zürich"]
    assert dataset.notes == ()


@pytest.mark.parametrize("text, line", [
    ("name,city\n1,café\n2,Zürich\n", 2),
    ("name,city\n1,x\n2,café", 3),          # the bad byte is the file's very last one
    ("name,city\n1,é\n", 2),
])
def test_latin1_is_read_with_a_note(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, "latin.csv", text, encoding="latin-1")
    dataset = load_dataset(path)
    assert list(dataset.frame["city"]) == [row.split(",")[1] for row in text.splitlines()[1:]]
    (note,) = dataset.notes
    assert "latin.csv is not UTF-8" in note and f"line {line})" in note


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "u16.csv", "a,b\n1,é\n3,ß\n", encoding="utf-16")
    dataset = load_dataset(path)
    assert dataset.columns == ["a", "b"]
    assert list(dataset.frame["b"]) == ["é", "ß"]


def test_utf16_mark_on_bytes_that_are_not_utf16(tmp_path: Path) -> None:
    path = write(tmp_path, "fake.csv", b"\xff\xfea\x00,\x00\x00\xd8")
    with pytest.raises(DataError, match=r"fake\.csv: the file starts with a UTF-16 mark"):
        load_dataset(path)


@pytest.mark.parametrize("marker", ["?", "NA", "", "N/A", "null", "#N/A"])
def test_na_markers_become_missing(tmp_path: Path, marker: str) -> None:
    path = write(tmp_path, "na.csv", f"a,b\n1,x\n{marker},y\n3,{marker}\n")
    frame = load_dataset(path).frame
    assert frame["a"].isna().tolist() == [False, True, False]
    assert frame["b"].isna().tolist() == [False, False, True]
    assert frame["a"].dtype.kind == "f"


def test_no_header_names_the_columns_with_a_note(tmp_path: Path) -> None:
    path = write(tmp_path, "nohead.csv", "1,2.5,3\n4,5.5,6\n7,8.5,9\n")
    dataset = load_dataset(path)
    assert dataset.columns == ["column_1", "column_2", "column_3"]
    assert dataset.n_rows == 3
    assert any("no header row" in n for n in dataset.notes)


def test_header_of_names_is_kept_even_when_every_value_is_text(tmp_path: Path) -> None:
    path = write(tmp_path, "words.csv", "colour,size\nred,big\nblue,small\n")
    assert load_dataset(path).columns == ["colour", "size"]


def test_header_only_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "header.csv", "a,b,c\n")
    with pytest.raises(DataError, match=r"header\.csv: the file has a header but no data rows"):
        load_dataset(path)


@pytest.mark.parametrize("content, needle", [
    (b"", "the file is empty"),
    (b"\n\n  \n", "no data"),
])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes, needle: str) -> None:
    path = write(tmp_path, "empty.csv", content)
    with pytest.raises(DataError, match=rf"empty\.csv: .*{needle}"):
        load_dataset(path)


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "ragged.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n1,2,3\n")
    with pytest.raises(DataError, match=r"ragged\.csv: line 4 has 4 fields but the header has 3"):
        load_dataset(path)


def test_short_row_is_padded_with_missing_values(tmp_path: Path) -> None:
    path = write(tmp_path, "short.csv", "a,b,c\n1,2,3\n4,5\n")
    assert load_dataset(path).frame["c"].isna().tolist() == [False, True]


@pytest.mark.parametrize("junk", [
    bytes(range(256)) * 8,
    b"\x89PNG\r\n\x1a\n" + bytes(200),
    bytes(np.random.default_rng(3).integers(128, 256, 4000, dtype=np.uint8)) + b"\x01\x02" * 400,
])
def test_binary_junk_named_csv_is_an_error(tmp_path: Path, junk: bytes) -> None:
    path = write(tmp_path, "junk.csv", junk)
    with pytest.raises(DataError, match=r"junk\.csv: this is not a text file"):
        load_dataset(path)


@pytest.mark.parametrize("header", ["a,b,a", "a, b ,b", "x,y, x"])
def test_duplicate_header_names_are_an_error(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "dup.csv", f"{header}\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match=r"dup\.csv: the header names these columns twice: [abx]$"):
        load_dataset(path)


def test_empty_header_cells_are_not_duplicates(tmp_path: Path) -> None:
    path = write(tmp_path, "index.csv", ",,a\n0,1,2\n1,3,4\n")
    assert load_dataset(path).n_rows == 2


def test_hundred_thousand_columns_are_refused(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(100_000))
    path = write(tmp_path, "wide.csv", header + "\n" + ",".join("1" * 100_000) + "\n")
    with pytest.raises(DataError, match=r"wide\.csv: the header has [\d,]+ columns; automl-studio "
                                        r"reads at most 10,000"):
        load_dataset(path)


def test_ten_thousand_columns_are_read(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    path = write(tmp_path, "wide.csv", header + "\n" + ",".join(["1"] * 10_000) + "\n")
    assert load_dataset(path).frame.shape == (1, 10_000)


def test_iris_loads(tmp_path: Path) -> None:
    dataset = load_dataset(IRIS)
    assert dataset.n_rows == 150
    assert dataset.columns[-1] == "species"
    assert dataset.fingerprint == file_fingerprint(IRIS)


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "x,y\n1,2\n")
    before = load_dataset(a).fingerprint
    write(tmp_path, "a.csv", "x,y\n1,3\n")
    assert load_dataset(a).fingerprint != before


def test_progress_ends_at_one_and_cancel_stops(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "a,b\n" + "1,2\n" * 50_000)
    seen: list[float] = []
    load_dataset(path, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LoadCancelled):
        load_dataset(path, cancel=cancel)


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothing\.csv: no such file or folder"):
        load_dataset(tmp_path / "nothing.csv")


# --- NumPy ------------------------------------------------------------------------------------


def test_npz_with_x_and_y(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    y = np.arange(10) % 2
    np.savez(tmp_path / "d.npz", x=x, y=y)
    dataset = load_dataset(tmp_path / "d.npz")
    assert dataset.kind == "arrays"
    np.testing.assert_array_equal(dataset.x, x)
    np.testing.assert_array_equal(dataset.y, y)
    assert dataset.n_rows == 10


def test_npz_column_vector_labels_are_flattened(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)), y=np.arange(4).reshape(4, 1))
    assert load_dataset(tmp_path / "d.npz").y.shape == (4,)


@pytest.mark.parametrize("names", [("features", "labels"), ("x_train", "y_train"), ("X", "Y")])
def test_npz_common_key_names_are_found(tmp_path: Path, names: tuple[str, str]) -> None:
    np.savez(tmp_path / "d.npz", **{names[0]: np.zeros((4, 2)), names[1]: np.arange(4)})
    assert load_dataset(tmp_path / "d.npz").y.tolist() == [0, 1, 2, 3]


def test_npz_with_custom_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", pixels=np.ones((3, 4, 4, 1)), truth=np.array(["a", "b", "a"]))
    dataset = load_dataset(tmp_path / "d.npz", x_key="pixels", y_key="truth")
    assert dataset.x.shape == (3, 4, 4, 1)
    assert dataset.y.tolist() == ["a", "b", "a"]


def test_npz_missing_keys_lists_what_it_holds(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", alpha=np.zeros((3, 2)), beta=np.arange(3))
    with pytest.raises(DataError, match=r"d\.npz: no array named 'x'; it holds alpha, beta"):
        load_dataset(tmp_path / "d.npz")
    with pytest.raises(DataError, match=r"d\.npz: no array named 'gamma'; it holds alpha, beta"):
        load_dataset(tmp_path / "d.npz", x_key="alpha", y_key="gamma")
    with pytest.raises(DataError, match=r"d\.npz: no array named 'delta'; it holds alpha, beta"):
        load_dataset(tmp_path / "d.npz", x_key="delta")


def test_npz_without_labels_loads_x_only(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 2)))
    assert load_dataset(tmp_path / "d.npz").y is None


def test_npz_mismatched_lengths(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 3)), y=np.arange(4))
    with pytest.raises(DataError, match=r"d\.npz: 'x' has 5 rows but 'y' has 4"):
        load_dataset(tmp_path / "d.npz")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x_names_the_index(tmp_path: Path, bad: float) -> None:
    x = np.zeros((6, 2, 2))
    x[4, 1, 0] = bad
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(6))
    with pytest.raises(DataError, match=r"d\.npz: 'x' holds NaN or infinite values \(1 rows; first "
                                        r"at index 4\)"):
        load_dataset(tmp_path / "d.npz")


def test_nan_in_y_names_the_index(tmp_path: Path) -> None:
    y = np.arange(5, dtype=float)
    y[2] = np.nan
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 2)), y=y)
    with pytest.raises(DataError, match=r"'y' holds NaN or infinite values \(first at index 2\)"):
        load_dataset(tmp_path / "d.npz")


@pytest.mark.parametrize("shape", [(5,), (5, 2, 2, 2, 2)])
def test_wrong_rank(tmp_path: Path, shape: tuple[int, ...]) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros(shape), y=np.arange(5))
    with pytest.raises(DataError, match=rf"d\.npz: 'x' has shape \({shape[0]},.*expected rank 2"):
        load_dataset(tmp_path / "d.npz")


def test_labels_of_wrong_rank(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 2)), y=np.zeros((5, 2)))
    with pytest.raises(DataError, match=r"'y' has shape \(5, 2\); expected one label per row"):
        load_dataset(tmp_path / "d.npz")


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.array([{"a": 1}, None, 3], dtype=object), y=np.arange(3))
    with pytest.raises(DataError, match=r"d\.npz: holds Python objects"):
        load_dataset(tmp_path / "d.npz")
    np.save(tmp_path / "X.npy", np.array([[1, "a"]], dtype=object))
    with pytest.raises(DataError, match=r"X\.npy: holds Python objects"):
        load_dataset(tmp_path / "X.npy")


def test_string_features_are_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.array([["a", "b"]] * 3), y=np.arange(3))
    with pytest.raises(DataError, match=r"'x' has dtype <U1; expected numbers"):
        load_dataset(tmp_path / "d.npz")


def test_npz_that_is_not_an_archive(tmp_path: Path) -> None:
    path = write(tmp_path, "d.npz", b"PK\x03\x04 this is not really a zip")
    with pytest.raises(DataError, match=r"d\.npz: not a readable \.npz file"):
        load_dataset(path)


@pytest.mark.parametrize("x_name, y_name", [("X", "y"), ("train_x", "train_y"), ("x_train", "y_train"),
                                            ("features", "labels")])
def test_npy_pair(tmp_path: Path, x_name: str, y_name: str) -> None:
    np.save(tmp_path / f"{x_name}.npy", np.ones((6, 2)))
    np.save(tmp_path / f"{y_name}.npy", np.arange(6))
    dataset = load_dataset(tmp_path / f"{x_name}.npy")
    assert dataset.x.shape == (6, 2)
    assert dataset.y.tolist() == list(range(6))


def test_npy_with_named_label_file(tmp_path: Path) -> None:
    np.save(tmp_path / "inputs.npy", np.ones((3, 2)))
    np.save(tmp_path / "answers.npy", np.arange(3))
    assert load_dataset(tmp_path / "inputs.npy", y_key=str(tmp_path / "answers.npy")).y.tolist() == [0, 1, 2]
    with pytest.raises(DataError, match=r"missing\.npy: no such label file"):
        load_dataset(tmp_path / "inputs.npy", y_key=str(tmp_path / "missing.npy"))


def test_npy_pair_of_different_lengths(tmp_path: Path) -> None:
    np.save(tmp_path / "X.npy", np.ones((6, 2)))
    np.save(tmp_path / "y.npy", np.arange(5))
    with pytest.raises(DataError, match=r"X\.npy: 'X\.npy' has 6 rows but 'y\.npy' has 5"):
        load_dataset(tmp_path / "X.npy")


# --- image folders ----------------------------------------------------------------------------


def test_image_folder(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 5, "dogs": 6})
    write_png(root / "dogs" / "wide.png", size=(40, 10))
    (root / "dogs" / "readme.txt").write_text("not an image")
    (root / ".hidden").mkdir()

    dataset = load_dataset(root, image_size=(16, 12))

    assert dataset.kind == "images"
    assert dataset.class_names == ("cats", "dogs")
    assert dataset.x.shape == (12, 16, 12, 3) and dataset.x.dtype == np.uint8
    assert dataset.y.tolist() == [0] * 5 + [1] * 7
    assert len(dataset.files) == 12 and all(f.endswith(".png") for f in dataset.files)
    assert dataset.notes == ("skipped 1 file(s) that are not PNG, JPEG, BMP, GIF, TIFF or WebP images "
                             "(dogs/readme.txt)",)


def test_image_folder_reads_jpeg_and_grey(tmp_path: Path) -> None:
    from PIL import Image

    root = make_image_folder(tmp_path / "pics", {"a": 5, "b": 5})
    Image.new("L", (9, 9), 128).save(root / "a" / "grey.jpg")
    dataset = load_dataset(root, image_size=(8, 8))
    assert dataset.x.shape == (11, 8, 8, 3)


def test_class_folder_with_one_image_gets_a_note(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 5, "dogs": 1})
    dataset = load_dataset(root)
    assert dataset.notes == ("class 'dogs' has only 1 image(s)",)


def test_zero_byte_image_is_named(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 2, "dogs": 2})
    (root / "dogs" / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"dogs/empty\.png: the image file is empty \(0 bytes\)"):
        load_dataset(root)


@pytest.mark.parametrize("content", [b"this is text", b"\x89PNG\r\n\x1a\n" + bytes(40)])
def test_unreadable_image_is_named(tmp_path: Path, content: bytes) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 2, "dogs": 2})
    (root / "cats" / "broken.png").write_bytes(content)
    with pytest.raises(DataError, match=r"cats/broken\.png: not a readable image"):
        load_dataset(root)


def test_truncated_image_is_named(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 2, "dogs": 2})
    whole = write_png(tmp_path / "whole.png", size=(64, 64)).read_bytes()
    (root / "cats" / "cut.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"cats/cut\.png: not a readable image"):
        load_dataset(root)


def test_single_class_folder_is_an_error(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 4})
    with pytest.raises(DataError, match=r"pets: only one class folder \('cats'\); a classifier needs two"):
        load_dataset(root)


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "pets", {"cats": 4, "dogs": 0})
    with pytest.raises(DataError, match=r"pets/dogs: the class folder 'dogs' holds no images \(PNG, JPEG"):
        load_dataset(root)


def test_folder_without_class_folders(tmp_path: Path) -> None:
    write_png(tmp_path / "flat" / "a.png")
    with pytest.raises(DataError, match=r"flat: an image folder needs one subfolder per class"):
        load_dataset(tmp_path / "flat")


def test_non_utf8_byte_past_the_sample_names_the_file(tmp_path: Path) -> None:
    data = ("a,b\n" + "1,plain\n" * 40_000).encode() + "2,café\n".encode("latin-1")
    path = write(tmp_path, "late.csv", data)
    with pytest.raises(DataError, match=r"late\.csv: not valid utf-8-sig text past the first 262,144 "
                                        r"bytes .*save it as UTF-8"):
        load_dataset(path)


def test_multibyte_character_cut_by_the_sample_is_not_a_wrong_encoding(tmp_path: Path) -> None:
    # "é" is two bytes in UTF-8; put its first byte at the sample's last position.
    head = "a,b\n"
    filler_rows = (256 * 1024 - len(head) - 3) // 4
    text = head + "1,x\n" * filler_rows
    pad = 256 * 1024 - len(text.encode()) - 3
    text += "2," + "y" * pad + "é\n" + "3,z\n"
    path = write(tmp_path, "cut.csv", text)
    assert text.encode()[256 * 1024 - 1] == "é".encode()[0]  # the sample ends mid-character
    dataset = load_dataset(path)
    assert dataset.notes == ()
    assert dataset.frame["b"].iloc[-2].endswith("é")
