"""Prediction files made from the training file: what users send to ``predict``.

One small real model is trained per module (one trial, one epoch, exported to ``.h5``) on a
generated table with numbers, categories, a unicode header, an ID and a constant column. Hypothesis
then derives prediction files from the training file — columns reordered, dropped, added, renamed
by case; unseen categories; values that are not numbers — and checks that each one is scored
exactly like the original rows or refused in one line that names the file and the column.

The rules these tests hold ``engine/export/predict.py`` to:

- order does not matter and extra columns are ignored, with a note naming them;
- a column the model needs that is absent is refused (filling a whole column would be a guess);
- a name that differs only in case is matched, with a warning naming both spellings; two
  spellings of one needed name are refused;
- a value that is not a number in a numeric column, or a category never seen in training, leaves
  its row unscored (empty in the output, its reason in a ``problem`` column) while the other rows
  are scored, with one warning per column naming the rows ("rows 3, 9, 12 and 40 more, column
  'age': ..."); nothing scorable at all is an error (exit 2).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import parse_number
from automl_studio.engine.export.predict import (
    Predictions,
    load_model,
    predict_data,
    read_for_model,
)

pytestmark = pytest.mark.slow
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ROWS = 90
NEEDED = ["Größe", "income", "city", "grade"]
NUMERIC_COLUMNS = ["Größe", "income"]
CATEGORICAL_COLUMNS = ["city", "grade"]
UNSEEN = {"city": ["Berlin", "paris", "東京", "Zürich"], "grade": ["7", "0", "12"]}
GARBAGE = ["abc", "1.2.3", "twelve", "12kg", "n°5", "inf", "x1"]


@dataclass(frozen=True)
class Trained:
    model: Any
    metadata: dict[str, Any]
    model_path: Path
    header: list[str]
    rows: list[list[str]]
    base: Predictions  # the training file's own predictions


def training_table(rows: int = ROWS, seed: int = 3) -> tuple[list[str], list[list[str]]]:
    """Numbers (one with gaps), two categorical columns (grade: whole-number codes), an ID, a constant
    and a string target."""
    rng = np.random.default_rng(seed)
    size = rng.normal(170, 10, rows).round(1)
    income = rng.lognormal(10, 0.4, rows).round(0)
    city = rng.choice(["Paris", "Lyon", "Nice"], rows)
    grade = rng.integers(1, 5, rows)
    score = (size - 170) / 10 + (city == "Paris") + grade / 2 + rng.normal(0, 1, rows)
    label = np.where(score > np.median(score), "high", "low")
    header = ["id", "Größe", "income", "city", "grade", "source", "label"]
    table = []
    for i in range(rows):
        table.append([str(500 + i), "" if i % 9 == 4 else f"{size[i]}", f"{income[i]:.0f}",
                      "NA" if i % 17 == 3 else str(city[i]), str(grade[i]), "survey", str(label[i])])
    return header, table


def write_table(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    folder = tmp_path_factory.mktemp("trained")
    header, rows = training_table()
    data = write_table(folder / "train.csv", header, rows)
    model_path = folder / "model.h5"
    result = run_search(SearchConfig(
        data_path=str(data), project_dir=str(folder / "project"), target="label", tuner="random",
        max_trials=1, max_epochs=1, export_path=str(model_path), export_keras=False, refit=False,
        tensorboard=False, column_kinds={"grade": "categorical"}))  # whole numbers read as codes
    assert result.status == "completed"
    model, metadata = load_model(model_path)
    schema = metadata["feature_schema"]
    assert [f["name"] for f in schema["numeric"]] == NUMERIC_COLUMNS
    assert [c["name"] for c in schema["categorical"]] == CATEGORICAL_COLUMNS
    base = predict_data(model, metadata, data)
    assert all(label is not None for label in base.labels) and len(base.labels) == ROWS
    return Trained(model, metadata, model_path, header, rows, base)


def fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


@st.composite
def row_samples(draw: Any) -> list[int]:
    """Which training rows (in which order) the prediction file holds."""
    return draw(st.lists(st.integers(0, ROWS - 1), min_size=1, max_size=25, unique=True))


def derive(trained: Trained, picks: list[int], columns: list[str]) -> tuple[list[str], list[list[str]]]:
    """The training file restricted to some rows and some columns, in the order given."""
    at = [trained.header.index(c) for c in columns]
    return list(columns), [[trained.rows[i][j] for j in at] for i in picks]


def predict_rows(trained: Trained, folder: Path, header: list[str], rows: list[list[str]]) -> Predictions:
    path = write_table(folder / "new.csv", header, rows)
    return predict_data(trained.model, trained.metadata, path)


def assert_same_as_training(trained: Trained, result: Predictions, picks: list[int],
                            skip: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    assert result.proba is not None and trained.base.proba is not None
    for k, i in enumerate(picks):
        if k in skip:
            continue
        assert result.labels[k] == trained.base.labels[i]
        np.testing.assert_allclose(result.proba[k], trained.base.proba[i], rtol=1e-5, atol=1e-6)


def check_one_line(message: str, path: Path) -> None:
    assert "\n" not in message and str(path) in message, message


# --- order, extra and unneeded columns -----------------------------------------------------------

EXTRA_NAMES = st.text(st.sampled_from("abcxyzéü名 _0123"), min_size=1, max_size=8).map(lambda s: "extra " + s)


@SETTINGS
@given(row_samples(), st.permutations(NEEDED), st.sets(st.sampled_from(["id", "source", "label"])),
       st.lists(st.tuples(EXTRA_NAMES, st.sampled_from(["", "1", "zz", "Paris", "3.5", "名"])), max_size=3,
                unique_by=lambda t: fold(t[0].strip())),
       st.lists(st.integers(0, 10), max_size=3))
def test_reordered_columns_and_extra_columns_score_identically(
        trained: Trained, tmp_path: Path, picks: list[int], order: list[str], kept: set[str],
        extras: list[tuple[str, str]], positions: list[int]) -> None:
    columns = list(order)
    for name in sorted(kept):
        columns.insert(len(columns) // 2, name)
    header, rows = derive(trained, picks, columns)
    for (name, value), at in zip(extras, positions, strict=False):
        at = min(at, len(header))
        header.insert(at, name)
        for row in rows:
            row.insert(at, value)
    for name, _ in extras[len(positions):]:
        header.append(name)
        for row in rows:
            row.append("v")
    result = predict_rows(trained, tmp_path, header, rows)
    assert_same_as_training(trained, result, picks)
    assert result.keys == list(range(2, 2 + len(picks)))  # the file's row numbers
    assert not result.warnings, result.warnings
    ignored = [n.strip() for n in header if n.strip() not in NEEDED and n.strip() != "label"]
    if ignored:
        (note,) = [n for n in result.notes if "the model does not use are ignored" in n]
        assert note.startswith(f"{tmp_path / 'new.csv'}: {len(ignored)} column(s)")
        assert all(f"'{name}'" in note for name in ignored)
    else:
        assert not any("ignored" in n for n in result.notes)


# --- a needed column dropped ---------------------------------------------------------------------


@SETTINGS
@given(row_samples(), st.permutations(NEEDED), st.integers(1, len(NEEDED)))
def test_a_dropped_column_the_model_needs_is_refused_naming_it(
        trained: Trained, tmp_path: Path, picks: list[int], order: list[str], n_dropped: int) -> None:
    dropped, kept = order[:n_dropped], order[n_dropped:]
    header, rows = derive(trained, picks, ["id", *kept, "label"])
    path = write_table(tmp_path / "new.csv", header, rows)
    with pytest.raises(DataError) as caught:
        read_for_model(trained.metadata, path)
    message = caught.value.message
    check_one_line(message, path)
    assert "missing column(s) the model needs: " in message
    named = message.split("needs: ", 1)[1].split(", ")
    assert sorted(named) == sorted(dropped)


# --- names that differ only in case ----------------------------------------------------------------


def recase(name: str, how: str) -> str:
    changed = {"upper": name.upper(), "lower": name.lower(), "swap": name.swapcase(),
               "title": name.title()}[how]
    return changed if changed != name else name.upper() if name.upper() != name else name.lower()


@SETTINGS
@given(row_samples(), st.permutations(NEEDED), st.dictionaries(st.sampled_from(NEEDED),
                                                              st.sampled_from(["upper", "lower", "swap", "title"]),
                                                              min_size=1))
def test_names_that_differ_only_in_case_are_matched_with_a_warning(
        trained: Trained, tmp_path: Path, picks: list[int], order: list[str], how: dict[str, str]) -> None:
    header, rows = derive(trained, picks, order)
    renamed = {name: recase(name, style) for name, style in how.items()}
    header = [renamed.get(name, name) for name in header]
    result = predict_rows(trained, tmp_path, header, rows)
    assert_same_as_training(trained, result, picks)
    (warning,) = result.warnings
    assert warning.startswith(f"{tmp_path / 'new.csv'}: column names differ from the model's only in case")
    for name, spelled in renamed.items():
        assert f"'{spelled}' as '{name}'" in warning


def test_two_spellings_of_one_needed_name_are_refused(trained: Trained, tmp_path: Path) -> None:
    header, rows = derive(trained, [0, 1, 2], ["city", "income", "grade", "Größe"])
    header[0] = "CITY"
    header.append("City")
    rows = [[*row, row[0]] for row in rows]
    path = write_table(tmp_path / "new.csv", header, rows)
    with pytest.raises(DataError) as caught:
        read_for_model(trained.metadata, path)
    check_one_line(caught.value.message, path)
    assert "cannot tell which column is the model's 'city'" in caught.value.message
    assert "'CITY', 'City'" in caught.value.message


# --- unseen categories -----------------------------------------------------------------------------


@SETTINGS
@given(row_samples(), st.sampled_from(CATEGORICAL_COLUMNS), st.data())
def test_unseen_categories_leave_their_rows_unscored_with_the_reason(
        trained: Trained, tmp_path: Path, picks: list[int], column: str, data: st.DataObject) -> None:
    header, rows = derive(trained, picks, NEEDED)
    j = header.index(column)
    changed = data.draw(st.sets(st.integers(0, len(picks) - 1), min_size=1))
    for k in changed:
        rows[k][j] = data.draw(st.sampled_from(UNSEEN[column]))
    path = write_table(tmp_path / "new.csv", header, rows)
    if len(changed) == len(picks):
        with pytest.raises(DataError) as caught:
            predict_data(trained.model, trained.metadata, path)
        check_one_line(caught.value.message, path)
        assert f"no row can be scored: {'row' if len(picks) == 1 else 'rows'} 2" in caught.value.message
        assert f"column '{column}': " in caught.value.message
        return
    result = predict_data(trained.model, trained.metadata, path)
    assert {k for k, label in enumerate(result.labels) if label is None} == changed
    assert [p for k, p in enumerate(result.problems) if k in changed] == [
        f"column '{column}': '{rows[k][j]}' was never seen in training" for k in sorted(changed)]
    assert all(p == "" for k, p in enumerate(result.problems) if k not in changed)
    assert_same_as_training(trained, result, picks, skip=changed)
    (warning,) = result.warnings
    first = [str(k + 2) for k in sorted(changed)[:3]]
    rows_said = {1: f"row {first[0]}", 2: f"rows {first[0]} and {first[-1]}",
                 3: f"rows {', '.join(first[:2])} and {first[-1]}"}.get(
        len(changed), f"rows {', '.join(first)} and {len(changed) - 3} more")
    assert warning.startswith(f"{path}: {rows_said}, column '{column}': ")
    assert warning.endswith("not scored")


# --- values that are not numbers ----------------------------------------------------------------------


def test_garbage_values_are_not_numbers() -> None:
    assert all(parse_number(value, ".") is None or not np.isfinite(parse_number(value, ".") or 0.0)
               for value in GARBAGE)


@SETTINGS
@given(row_samples(), st.sampled_from(NUMERIC_COLUMNS), st.data())
def test_values_that_are_not_numbers_leave_their_rows_unscored(
        trained: Trained, tmp_path: Path, picks: list[int], column: str, data: st.DataObject) -> None:
    header, rows = derive(trained, picks, ["label", *NEEDED])
    j = header.index(column)
    bad = data.draw(st.sets(st.integers(0, len(picks) - 1), min_size=1))
    for k in bad:
        rows[k][j] = data.draw(st.sampled_from(GARBAGE))
    path = write_table(tmp_path / "new.csv", header, rows)
    if len(bad) == len(picks):
        with pytest.raises(DataError) as caught:
            predict_data(trained.model, trained.metadata, path)
        message = caught.value.message
        check_one_line(message, path)
        first = min(bad)
        assert message.startswith(f"{path}: no row can be scored: {'row' if len(bad) == 1 else 'rows'} "
                                  f"{first + 2}")
        assert f"column '{column}': " in message
        return
    result = predict_data(trained.model, trained.metadata, path)
    assert result.proba is not None
    assert {k for k, label in enumerate(result.labels) if label is None} == bad
    assert np.isnan(result.proba[sorted(bad)]).all()
    assert [result.problems[k] for k in sorted(bad)] == [
        f"column '{column}': '{rows[k][j]}' is not a number" for k in sorted(bad)]
    assert_same_as_training(trained, result, picks, skip=bad)
    (warning,) = result.warnings
    shown = sorted(bad)[:3]
    assert warning.startswith(f"{path}: {'row' if len(bad) == 1 else 'rows'} {shown[0] + 2}")
    assert f"column '{column}': " in warning
    values = {rows[k][j] for k in bad}
    if len(values) == 1:
        assert f"column '{column}': '{values.pop()}' is not a number" in warning
    else:
        assert f"column '{column}': values are not numbers (" in warning
    if len(bad) > 3:
        assert f" and {len(bad) - 3} more, column" in warning
    assert warning.endswith("not scored")


# --- the command line ---------------------------------------------------------------------------------


def test_cli_predict_writes_what_it_can_and_one_line_per_problem(
        trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from automl_studio.engine.cli import main

    header, rows = derive(trained, [0, 1, 2, 3, 5], ["city", "income", "Größe", "grade"])
    header = ["CITY", *header[1:], "notes"]
    rows = [[*row, "n"] for row in rows]
    rows[1][2] = "abc"  # file row 3: not a number
    rows[2][0] = "Berlin"  # file row 4: a city never seen in training
    data = write_table(tmp_path / "new.csv", header, rows)
    out = tmp_path / "pred.csv"
    assert main(["predict", str(trained.model_path), str(data), "--output", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if line.startswith("automl-studio: warning: ")]
    assert len(warnings) == 3, err
    assert any("read 'CITY' as 'city'" in w for w in warnings)
    assert f"automl-studio: warning: {data}: row 3, column 'Größe': 'abc' is not a number; that row is not " \
           "scored" in warnings
    assert f"automl-studio: warning: {data}: row 4, column 'city': 'Berlin' was never seen in training; that " \
           "row is not scored" in warnings
    assert any("ignored: 'notes'" in line for line in err if line.startswith("automl-studio: note: "))
    with open(out, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["row", "prediction", "probability_high", "probability_low", "problem"]
    assert [line[0] for line in lines[1:]] == ["2", "3", "4", "5", "6"]  # every row, scored or not
    assert lines[2] == ["3", "", "", "", "column 'Größe': 'abc' is not a number"]
    assert lines[3] == ["4", "", "", "", "column 'city': 'Berlin' was never seen in training"]
    for line in (lines[1], lines[4], lines[5]):
        assert line[1] in ("high", "low") and line[4] == ""
        assert abs(float(line[2]) + float(line[3]) - 1) < 1e-4

    # Many rows of one problem: one line, the first rows named and the rest counted.
    many = [list(rows[0]) for _ in range(8)]
    for k, row in enumerate(many):
        row[2] = "twelve" if k % 2 else row[2]
    write_table(data, header, many)
    assert main(["predict", str(trained.model_path), str(data), "--output", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"automl-studio: warning: {data}: rows 3, 5, 7 and 1 more, column 'Größe': 'twelve' is not a " \
           "number; those rows are not scored" in err

    # Nothing scorable: exit 2, one error line, no output written.
    out.unlink()
    for row in rows:
        row[2] = "twelve"
    write_table(data, header, rows)
    assert main(["predict", str(trained.model_path), str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("automl-studio: error: ")]
    assert errors == [f"automl-studio: error: {data}: no row can be scored: rows 2, 3, 4 and 2 more, column "
                      "'Größe': 'twelve' is not a number; row 4, column 'city': 'Berlin' was never seen in training"]
    assert not out.exists()

    # A column the model needs is absent: no row can be scored, the column is named.
    header_without, rows_without = derive(trained, [0, 1], ["city", "Größe", "grade"])
    write_table(data, header_without, rows_without)
    assert main(["predict", str(trained.model_path), str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if line.startswith("automl-studio: error: ")] == [
        f"automl-studio: error: {data}: missing column(s) the model needs: income"]
    assert not out.exists()


def test_one_row_typed_scores_as_the_same_row_in_a_file(trained: Trained, tmp_path: Path) -> None:
    from automl_studio.engine.export.predict import predict_records

    header, rows = derive(trained, [4, 7, 11], NEEDED)  # row 4 has a gap in 'Größe'
    from_file = predict_rows(trained, tmp_path, header, rows)
    typed = predict_records(trained.model, trained.metadata, [dict(zip(header, row, strict=True)) for row in rows])
    assert typed.labels == from_file.labels
    assert typed.proba is not None and from_file.proba is not None
    np.testing.assert_allclose(typed.proba, from_file.proba, rtol=1e-6)
    bad = predict_records(trained.model, trained.metadata,
                          [dict(zip(header, rows[1], strict=True)), {**dict(zip(header, rows[0], strict=True)),
                                                                     "income": "lots"}])
    assert bad.labels[1] is None and bad.problems[1] == "column 'income': 'lots' is not a number"
    assert bad.labels[0] == from_file.labels[1]
    # One typed row that cannot be scored is answered with its reason, not refused.
    (alone,) = predict_records(trained.model, trained.metadata,
                               [{**dict(zip(header, rows[0], strict=True)), "city": "Berlin"}]).problems
    assert alone == "column 'city': 'Berlin' was never seen in training"


def test_evaluate_leaves_out_rows_without_a_target_or_a_score(trained: Trained, tmp_path: Path) -> None:
    from automl_studio.engine.export.predict import evaluate_file

    picks = list(range(30))
    header, rows = derive(trained, picks, ["label", *NEEDED])
    rows[0][0] = ""  # no target
    rows[1][2] = "abc"  # income is not a number
    data = write_table(tmp_path / "labelled.csv", header, rows)
    warnings: list[str] = []
    metrics = evaluate_file(str(trained.model_path), str(data), on_warning=warnings.append)
    assert metrics["n"] == 28
    assert any(w.endswith("1 row(s) have no 'label' value (row 2) and are not evaluated") for w in warnings)
    assert any(w.endswith("row 3, column 'income': 'abc' is not a number; that row is not scored") for w in warnings)


def test_a_file_larger_than_one_batch_scores_like_its_rows(trained: Trained, tmp_path: Path) -> None:
    picks = [i % ROWS for i in range(4500)]  # past the 4096 rows scored in one call
    header, rows = derive(trained, picks, NEEDED)
    rows[4400][0] = "abc"
    fractions: list[float] = []
    result = predict_data(trained.model, trained.metadata, write_table(tmp_path / "new.csv", header, rows),
                          on_progress=fractions.append)
    assert len(fractions) >= 2 and fractions == sorted(fractions) and fractions[-1] == 1.0  # batch by batch
    assert len(result.labels) == 4500 and result.labels[4400] is None
    assert_same_as_training(trained, result, picks, skip={4400})


@SETTINGS
@given(row_samples(), st.data())
def test_missing_numbers_are_filled_as_in_training_and_said(
        trained: Trained, tmp_path: Path, picks: list[int], data: st.DataObject) -> None:
    header, rows = derive(trained, picks, NEEDED)
    j = header.index("income")  # no gaps in training: no missing flag, so a gap is its fill value
    gaps = data.draw(st.sets(st.integers(0, len(picks) - 1), min_size=1))
    for k in gaps:
        rows[k][j] = data.draw(st.sampled_from(["", "NA", "?", "-"]))
    result = predict_rows(trained, tmp_path, header, rows)
    assert all(label is not None for label in result.labels) and not result.warnings
    (note,) = [n for n in result.notes if "column 'income'" in n and "filled with" in n]
    assert note.startswith(f"{tmp_path / 'new.csv'}: column 'income': {len(gaps)} missing value(s) (row")
    assert "no missing values in training" in note
    fill = next(f["fill"] for f in trained.metadata["feature_schema"]["numeric"] if f["name"] == "income")
    for k in gaps:
        rows[k][j] = repr(fill)
    filled = predict_rows(trained, tmp_path, header, rows)
    assert filled.proba is not None and result.proba is not None
    np.testing.assert_allclose(result.proba, filled.proba, rtol=1e-5, atol=1e-6)


def test_evaluate_against_an_input_column_is_refused_in_one_line(trained: Trained, tmp_path: Path) -> None:
    header, rows = derive(trained, [0, 1, 2], ["label", *NEEDED])
    path = write_table(tmp_path / "labelled.csv", header, rows)
    with pytest.raises(DataError) as caught:
        read_for_model(trained.metadata, path, target="city")
    check_one_line(caught.value.message, path)
    assert "'city' is a column the model reads, not what it predicts ('label')" in caught.value.message
