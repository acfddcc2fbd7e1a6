"""CSV files as real users write them: dialects, encodings, number formats, headers, missing markers.

Each test writes its own small file, loads it with the real reader (and profiles it where the task
or the dropped rows matter) and checks what came out.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import CsvOptions, parse_number
from automl_studio.engine.data.features import prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def values(frame: object, column: str) -> list[object]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in frame[column].tolist()]  # type: ignore[index]


def measurements(n: int, delimiter: str, decimal: str) -> str:
    rng = np.random.default_rng(4)
    lines = [delimiter.join(["temp", "humidity", "energy"])]
    for _ in range(n):
        t, h = rng.uniform(0, 30), rng.uniform(0.2, 0.9)
        cells = [f"{t:.2f}", f"{h:.3f}", f"{50 + 2 * t + 10 * h:.2f}"]
        lines.append(delimiter.join(c.replace(".", decimal) for c in cells))
    return "\n".join(lines) + "\n"


# --- dialects -------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter, name", [("\t", "tab"), ("|", "'|'"), (";", "';'"), (",", "','")])
def test_delimiters_are_detected_and_described(tmp_path: Path, delimiter: str, name: str) -> None:
    path = write(tmp_path, "m.txt", measurements(40, delimiter, "."))
    dataset = load_dataset(path)
    assert dataset.columns == ["temp", "humidity", "energy"]
    assert dataset.frame["energy"].dtype.kind == "f"
    assert dataset.csv_format is not None
    assert dataset.csv_format.describe() == f"{name} separated, decimal point, UTF-8, header on row 1"


def test_semicolon_and_decimal_comma_make_numbers_and_a_regression(tmp_path: Path) -> None:
    path = write(tmp_path, "energy.csv", measurements(150, ";", ","), newline="\r\n")
    dataset = load_dataset(path)
    assert dataset.frame["energy"].dtype.kind == "f"
    assert dataset.csv_format is not None and dataset.csv_format.decimal == ","
    assert dataset.csv_format.describe() == "';' separated, decimal comma, UTF-8, header on row 1"
    profile = profile_dataset(dataset, "energy")
    assert profile.task == "regression"
    assert profile.csv_format["decimal"] == ","


def test_decimal_comma_with_thousands_dots(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.csv", "item;price;stock\na;1.234,50;1.200\nb;99,90;15\nc;2.000,00;3\n")
    frame = load_dataset(path).frame
    assert values(frame, "price") == [1234.5, 99.9, 2000.0]
    assert values(frame, "stock") == [1200, 15, 3]


def test_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "excel.csv", "sep=;\nname;score\nx;1,5\ny;2,5\nz;3,25\n")
    dataset = load_dataset(path)
    assert dataset.columns == ["name", "score"]
    assert values(dataset.frame, "score") == [1.5, 2.5, 3.25]
    assert dataset.csv_format is not None and dataset.csv_format.header_line == 2


def test_quoted_fields_with_delimiters_and_decimal_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'city,price,note\n"Köln","12,50","a, b"\n"Bonn","3,20","c; d"\n'
                                    '"Ulm","0,99","e"\n')
    frame = load_dataset(path).frame
    assert values(frame, "price") == [12.5, 3.2, 0.99]
    assert values(frame, "note") == ["a, b", "c; d", "e"]


def test_title_line_above_the_table_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "report.csv", "Sales report 2024\n\nregion,units,revenue,label\n"
                 + "".join(f"r{i},{i},{i * 2.5},{'ab'[i % 2]}\n" for i in range(12)))
    dataset = load_dataset(path)
    assert dataset.columns == ["region", "units", "revenue", "label"]
    assert dataset.n_rows == 12
    assert dataset.csv_format is not None and dataset.csv_format.header_line == 3


def test_columns_aligned_with_spaces(tmp_path: Path) -> None:
    rows = "".join(f"  {i * 0.5:8.3f}  {i % 3:3d}   {i * 1.25:7.2f}\n" for i in range(30))
    dataset = load_dataset(write(tmp_path, "housing.data", "temp  rain  y\n" + rows))
    assert dataset.columns == ["temp", "rain", "y"] and dataset.n_rows == 30
    assert values(dataset.frame, "y")[:2] == [0.0, 1.25]
    assert dataset.csv_format is not None and dataset.csv_format.describe().startswith("space separated")


def test_title_line_above_a_two_column_table(tmp_path: Path) -> None:
    dataset = load_dataset(write(tmp_path, "t.csv", "My export\nx,y\n1,a\n2,b\n3,a\n"))
    assert dataset.columns == ["x", "y"] and dataset.n_rows == 3


# --- encodings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, label", [
    ("utf-8-sig", "UTF-8"), ("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("latin-1", "Windows-1252"),
    ("cp1252", "Windows-1252"),
])
def test_encodings(tmp_path: Path, encoding: str, label: str) -> None:
    text = "Stadt;Preis;Größe\nMünchen;12,5;groß\nKöln;3,25;klein\nZürich;7,75;groß\n"
    path = write(tmp_path, "enc.csv", text, encoding=encoding)
    dataset = load_dataset(path)
    assert dataset.columns == ["Stadt", "Preis", "Größe"]
    assert values(dataset.frame, "Stadt") == ["München", "Köln", "Zürich"]
    assert values(dataset.frame, "Preis") == [12.5, 3.25, 7.75]
    assert dataset.csv_format is not None and label in dataset.csv_format.describe()


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    text = "Name\tPreis\tKlasse\n" + "".join(f"Müller{i}\t{i},5\t{'ab'[i % 2]}\n" for i in range(10))
    dataset = load_dataset(write(tmp_path, "export.txt", text, encoding="utf-16", newline="\r\n"))
    assert dataset.columns == ["Name", "Preis", "Klasse"]
    assert values(dataset.frame, "Preis")[:2] == [0.5, 1.5]
    assert dataset.csv_format is not None
    assert dataset.csv_format.describe() == "tab separated, decimal comma, UTF-16, header on row 1"


def test_shift_jis_is_recognised(tmp_path: Path) -> None:
    text = "都市,人口,地方\n" + "".join(f"東京{i},{i}00,関東\n大阪{i},{i}50,関西\n" for i in range(8))
    dataset = load_dataset(write(tmp_path, "jp.csv", text, encoding="shift_jis"))
    assert dataset.columns == ["都市", "人口", "地方"]
    assert set(dataset.frame["地方"]) == {"関東", "関西"}


def test_cyrillic_windows_1251_is_recognised(tmp_path: Path) -> None:
    text = "город,цена,класс\n" + "".join(f"Москва,{i},дорогой\nКазань,{i + 1},дешёвый\n" for i in range(10))
    path = write(tmp_path, "ru.csv", text, encoding="cp1251")
    dataset = load_dataset(path)
    assert dataset.columns == ["город", "цена", "класс"]
    assert set(dataset.frame["класс"]) == {"дорогой", "дешёвый"}


def test_encoding_override_and_a_wrong_one(tmp_path: Path) -> None:
    path = write(tmp_path, "l.csv", "a,b\n1,café\n2,thé\n", encoding="latin-1")
    assert values(load_dataset(path, csv_options=CsvOptions(encoding="latin-1")).frame, "b") == ["café", "thé"]
    u16 = write(tmp_path, "u.csv", "a,b\n1,x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"u\.csv: .*(UTF-16|utf-16)"):
        load_dataset(u16, csv_options=CsvOptions(encoding="utf-16"))
    with pytest.raises(DataError, match="unknown text encoding 'klingon'"):
        CsvOptions(encoding="klingon")


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, decimal, expected", [
    ("1,234.5", ".", 1234.5), ("$1,234.50", ".", 1234.5), ("12 €", ",", 12.0), ("1.234,5 €", ",", 1234.5),
    ("45%", ".", 0.45), ("12,5 %", ",", 0.125), ("(1,200)", ".", -1200.0), ("-3.5", ".", -3.5),
    ("EUR 7,25", ",", 7.25), ("1 234 567", ".", 1234567.0), ("1e3", ".", 1000.0),
    ("1,23,456.78", ".", 123456.78), ("R$ 1.234,56", ",", 1234.56), ("1'234.5", ".", 1234.5),
    ("−4", ".", -4.0),
    ("abc", ".", None), ("1,23,4", ".", None), ("(5", ".", None), ("12-3", ".", None),
])
def test_parse_number(text: str, decimal: str, expected: float | None) -> None:
    assert parse_number(text, decimal) == (pytest.approx(expected) if expected is not None else None)


def test_currency_and_percent_in_features_and_target(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    lines = ["rooms,share,price"]
    for _ in range(60):
        rooms = int(rng.integers(1, 6))
        share = float(rng.uniform(0, 1))
        price = 50_000 + 40_000 * rooms + 1000 * rng.normal()
        lines.append(f'{rooms},{share * 100:.1f}%,"${price:,.2f}"')
    path = write(tmp_path, "houses.csv", "\n".join(lines) + "\n")
    dataset = load_dataset(path)
    assert dataset.frame["price"].dtype.kind == "f" and dataset.frame["share"].dtype.kind == "f"
    assert float(dataset.frame["share"].max()) <= 1.0
    profile = profile_dataset(dataset, "price")
    assert profile.task == "regression"
    assert profile.column("share").kind == "numeric"


def test_thousands_target_is_a_regression_not_hundreds_of_classes(tmp_path: Path) -> None:
    rows = [f'{i % 9}.25,"{1000 + 37 * i:,}"' for i in range(150)]
    path = write(tmp_path, "t.csv", "x,y\n" + "\n".join(rows) + "\n")
    profile = profile_dataset(load_dataset(path), "y")
    assert profile.task == "regression"


def test_decimal_override_reads_commas_as_thousands(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a;b\n1,5;x\n2,5;y\n")
    assert values(load_dataset(path).frame, "a") == [1.5, 2.5]
    assert values(load_dataset(path, csv_options=CsvOptions(decimal=".")).frame, "a") == ["1,5", "2,5"]


# --- headers --------------------------------------------------------------------------------------


def test_numeric_looking_header_above_numbers(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["0,1,2,target"] + [",".join(f"{v:.4f}" for v in rng.normal(size=3)) + f",{i % 2}" for i in range(30)]
    dataset = load_dataset(write(tmp_path, "arr.csv", "\n".join(lines) + "\n"))
    assert dataset.columns == ["0", "1", "2", "target"]
    assert dataset.n_rows == 30


def test_year_header_above_decimals(tmp_path: Path) -> None:
    path = write(tmp_path, "years.csv", "2021,2022,2023\n1.5,2.25,3.5\n4.5,5.75,6.5\n")
    assert load_dataset(path).columns == ["2021", "2022", "2023"]


def test_pandas_column_numbers_over_integers(tmp_path: Path) -> None:
    path = write(tmp_path, "ints.csv", "0,1,2\n5,7,9\n3,4,8\n")
    assert load_dataset(path).columns == ["0", "1", "2"]


def test_header_override_both_ways(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "0,1,2\n5,7,9\n3,4,8\n")
    plain = load_dataset(path, csv_options=CsvOptions(header=False))
    assert plain.columns == ["column_1", "column_2", "column_3"] and plain.n_rows == 3
    assert plain.csv_format is not None and plain.csv_format.describe().endswith("no header row")
    nohead = write(tmp_path, "n.csv", "1,2.5,3\n4,5.5,6\n")
    assert load_dataset(nohead, csv_options=CsvOptions(header=True)).columns == ["1", "2.5", "3"]


def test_a_first_row_naming_the_columns_the_caller_needs_is_the_header(tmp_path: Path) -> None:
    # Short texts headed "text", one of them "text" too: by its values the first row is data.
    path = write(tmp_path, "short.csv", "text\nok\nlol\ntext\nk\n")
    guessed = load_dataset(path)
    assert guessed.columns == ["column_1"] and guessed.n_rows == 5  # detection alone, unchanged
    for needed in (["text"], ["TEXT"]):
        dataset = load_dataset(path, expected_columns=needed)
        assert dataset.columns == ["text"] and dataset.n_rows == 4
        assert dataset.csv_format is not None and dataset.csv_format.header_line == 1
    # Texts of several words: by its values a whitespace table, its one-word header a title above it.
    rng = np.random.default_rng(0)
    texts = "\n".join(" ".join(rng.choice(["wheel", "brake", "engine", "apple"], 4)) for _ in range(20))
    words = write(tmp_path, "words.csv", "text\n" + texts + "\n")
    assert load_dataset(words).columns != ["text"]  # detection alone
    sentences = load_dataset(words, expected_columns=["text"])
    assert sentences.columns == ["text"] and sentences.n_rows == 20
    two = write(tmp_path, "two.csv", "id,text\n1,ok\n2,text\n")
    assert load_dataset(two, expected_columns=["text"]).columns == ["id", "text"]
    # A first row without all of the names is left to detection; the user's choice wins.
    assert load_dataset(path, expected_columns=["text", "stars"]).columns == ["column_1"]
    assert load_dataset(path, expected_columns=["text"], csv_options=CsvOptions(header=False)).n_rows == 5


def test_excel_trailing_empty_columns_and_rows(tmp_path: Path) -> None:
    lines = ["age,income,churn,,,"] + [f"{20 + i},{1000 + i}.5,{'yes' if i % 3 else 'no'},,," for i in range(20)]
    lines.insert(5, ",,,,,")
    path = write(tmp_path, "x.csv", "\n".join(lines) + "\n,,,,,\n", newline="\r\n")
    dataset = load_dataset(path)
    assert dataset.columns == ["age", "income", "churn"]
    assert dataset.n_rows == 20
    assert dataset.frame["age"].dtype.kind == "i"
    assert any("3 empty column(s)" in n for n in dataset.notes)
    assert any("2 empty row(s)" in n for n in dataset.notes)


def test_unnamed_column_with_values_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "idx.csv", ",a,b\n0,1,x\n1,2,y\n")
    assert load_dataset(path).columns == ["column_1", "a", "b"]


# --- missing values -------------------------------------------------------------------------------


def test_class_named_none_and_dash_are_values(tmp_path: Path) -> None:
    classes = ["none", "mild", "severe", "-"]
    lines = ["dose,effect"] + [f"{i % 7}.5,{classes[i % 4]}" for i in range(40)]
    dataset = load_dataset(write(tmp_path, "trial.csv", "\n".join(lines) + "\n"))
    profile = profile_dataset(dataset, "effect")
    assert profile.class_names == ("-", "mild", "none", "severe")
    assert profile.rows == 40 and profile.dropped_target_rows == 0


def test_dash_in_a_numeric_column_is_missing_with_a_note(tmp_path: Path) -> None:
    lines = ["a,b"] + [f"{i},{'-' if i % 5 == 0 else i * 1.5}" for i in range(20)]
    dataset = load_dataset(write(tmp_path, "dash.csv", "\n".join(lines) + "\n"))
    assert dataset.frame["b"].dtype.kind == "f"
    assert int(dataset.frame["b"].isna().sum()) == 4
    assert any("column 'b': 4 value(s) '-' read as missing" in n for n in dataset.notes)


@pytest.mark.parametrize("marker", ["NA", "N/A", "NaN", "NULL", "#N/A", ""])
def test_na_target_rows_are_counted_everywhere(tmp_path: Path, marker: str) -> None:
    lines = ["x,y"] + [f"{i % 7}.5,{marker if i in (3, 8, 11) else 'ab'[i % 2]}" for i in range(30)]
    dataset = load_dataset(write(tmp_path, "na.csv", "\n".join(lines) + "\n"))
    profile = profile_dataset(dataset, "y")
    assert profile.dropped_target_rows == 3 and profile.rows == 27
    message = "3 rows have no 'y' value (rows 5, 10, 13) and are dropped"
    assert message in profile.warnings
    prepared = prepare_data(dataset, profile)
    assert message in prepared.notes
    assert len(prepared.train) + len(prepared.validation) + len(prepared.test) == 27


# --- command line ---------------------------------------------------------------------------------


def test_cli_rejects_a_bad_delimiter_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "automl_studio.engine.cli", "search", "x.csv",
                             "--delimiter", "ab"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--delimiter must be one character" in result.stderr


def test_cli_search_reports_dropped_rows_and_predict_reads_another_dialect(tmp_path: Path) -> None:
    import json
    import os

    rng = np.random.default_rng(2)
    lines = ["temp;humidity;energy"]
    for i in range(80):
        t, h = rng.uniform(0, 30), rng.uniform(0.2, 0.9)
        energy = "NA" if i in (4, 40) else f"{50 + 2 * t + 10 * h:.2f}".replace(".", ",")
        lines.append(f"{t:.2f};{h:.3f};{energy}".replace(".", ","))
    data = write(tmp_path, "energy.csv", "\n".join(lines) + "\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cli = [sys.executable, "-m", "automl_studio.engine.cli"]
    proc = subprocess.run([*cli, "search", str(data), "--target", "energy", "--max-trials", "1", "--max-epochs", "2",
                           "--tuner", "random", "--no-refit", "--project", "proj", "--export", "m.h5"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "automl-studio: warning: 2 rows have no 'energy' value (rows 6, 42) and are dropped" in proc.stderr
    info = json.loads(subprocess.run([*cli, "info", "m.h5"], capture_output=True, text=True, cwd=tmp_path,
                                     env=env, timeout=300).stdout)
    meta = info["metadata"]
    assert meta["task"] == "regression"
    assert meta["dataset"]["rows"] == 78 and meta["dataset"]["dropped_rows"] == 2
    assert meta["dataset"]["csv_format"]["delimiter"] == ";" and meta["dataset"]["csv_format"]["decimal"] == ","
    # New data written the other way (pipe, decimal point, no header) is read with the flags.
    new = write(tmp_path, "new.txt", "12.5|0.5\n20.25|0.75\n")
    proc = subprocess.run([*cli, "predict", "m.h5", str(new), "--output", "p.csv", "--no-header"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode != 0 and "temp" in proc.stderr  # without names the model's columns are missing
    named = write(tmp_path, "named.txt", "temp|humidity\n12.5|0.5\n20.25|0.75\n")
    proc = subprocess.run([*cli, "predict", "m.h5", str(named), "--output", "p.csv", "--delimiter", "pipe",
                           "--decimal", "."], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 3


def test_chunked_reading_of_a_large_file_keeps_the_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automl_studio.engine.data import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "_CHUNK_ROWS", 7)  # many chunks
    monkeypatch.setattr(dataset_module, "LARGE_FILE_BYTES", 0)  # and the big-file float32 path
    thousands = [f"{i * 1000:,}".replace(",", ".") for i in range(50)]  # 1.000, 2.000...
    lines = ["a;b;label;;"] + [f"{i},5;{thousands[i]};{'xy'[i % 2]};;" for i in range(50)]
    lines.insert(20, ";;;;")
    path = write(tmp_path, "big.csv", "\n".join(lines) + "\n")
    seen: list[float] = []
    dataset = load_dataset(path, progress=seen.append)
    assert dataset.columns == ["a", "b", "label"] and dataset.n_rows == 50
    assert dataset.frame["a"].dtype == np.float32
    assert values(dataset.frame, "a")[:3] == [0.5, 1.5, 2.5]
    assert values(dataset.frame, "b")[:3] == [0, 1000, 2000]
    assert seen[-1] == 1.0


def test_to_numbers_on_mixed_and_nullable_columns() -> None:
    import pandas as pd

    from automl_studio.engine.data.csv_format import to_numbers

    assert to_numbers(pd.Series(["$1,200", "3%", pd.NA], dtype="string")).tolist()[:2] == [1200.0, 0.03]
    assert to_numbers(pd.Series([None, "x", 2.5, True], dtype=object)).tolist()[1:] == [pytest.approx(float("nan"),
                                                                                                    nan_ok=True), 2.5, 1.0]
