"""Property tests: whatever the input, the readers answer with a result or a UserError.

The CSV reader gets arbitrary bytes and text; the spec parser and ``analyse`` get arbitrary
JSON-like documents built from the real vocabulary (layer types, params, hyperparameters) plus
noise. Any exception other than the engine's own is a bug.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from automl_studio.engine.core.errors import DataError, SpecError, UserError
from automl_studio.engine.data.csv_format import parse_number
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.features import PreparedData, prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import CATEGORICAL, NUMERIC, DatasetProfile, profile_dataset
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import shapes
from automl_studio.engine.space.spec import LAYER_TYPES, SearchSpace

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def read_csv_bytes(data: bytes, name: str = "data.csv") -> Dataset | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            dataset = load_dataset(path)
        except DataError as exc:
            assert str(path) in exc.message or path.name in exc.message
            assert "\n" not in exc.message
            return None
    assert dataset.kind == "table"
    assert dataset.n_rows >= 1
    assert len(set(dataset.columns)) == len(dataset.columns)
    return dataset


@SETTINGS
@given(st.binary(max_size=2000))
@example(b"")
@example(b"\xff\xfe")
@example(b"\xfe\xff\x00")
@example(b"\xef\xbb\xbf")
@example(b'"')
@example(b"a\n\"")
@example(b"\r\r\r")
@example(b"a,b\n1,2\n\x00")
def test_csv_reader_on_arbitrary_bytes(data: bytes) -> None:
    read_csv_bytes(data)


CSV_ALPHABET = st.sampled_from(list("ab1.5-e ,;\t|\"'\n\r?NA#xé€\ufeff"))


@SETTINGS
@given(st.text(CSV_ALPHABET, max_size=300), st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]),
       st.sampled_from(["data.csv", "data.tsv", "data.txt"]))
def test_csv_reader_on_arbitrary_text(text: str, encoding: str, name: str) -> None:
    data = text.encode(encoding, errors="replace")
    read_csv_bytes(data, name)


@SETTINGS
@given(st.lists(st.lists(st.one_of(st.integers(-5, 5).map(str), st.sampled_from(["", "x", "NA", "?", '"q,q"']),
                                   st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr)),
                         min_size=1, max_size=5), min_size=1, max_size=12),
       st.sampled_from([",", ";", "\t"]))
def test_csv_reader_on_table_like_text(rows: list[list[str]], delimiter: str) -> None:
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    dataset = read_csv_bytes(text.encode())
    # pandas skips blank lines, and the reader drops a row of nothing but missing markers
    blank = any(all(cell.strip() in ("", "NA", "?") for cell in r) for r in rows)
    if dataset is not None and len({len(r) for r in rows}) == 1 and len(rows) > 1 and not blank:
        assert dataset.n_rows in (len(rows) - 1, len(rows))


@st.composite
def damaged_archives(draw: Any) -> bytes:
    """A valid .npz with some bytes overwritten or cut off."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, x=np.arange(60, dtype=np.float32).reshape(20, 3), y=np.arange(20) % 2)
    data = bytearray(buffer.getvalue())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        patch = draw(st.binary(min_size=1, max_size=16))
        data[at:at + len(patch)] = patch
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@SETTINGS
@given(damaged_archives())
def test_npz_reader_on_damaged_archives(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.npz"
        path.write_bytes(data)
        try:
            dataset = load_dataset(path)
        except DataError as exc:
            assert "data.npz" in exc.message and "\n" not in exc.message
            return
    assert dataset.x is not None and np.isfinite(dataset.x).all()


# --- specs ------------------------------------------------------------------------------------

NODE_IDS = st.sampled_from(["x", "a", "b", "c", "d", "out", "cat", "#", ""])
NOISE = st.one_of(st.none(), st.booleans(), st.integers(-3, 70), st.floats(allow_nan=True),
                  st.text(max_size=4), st.lists(st.integers(-2, 8), max_size=3))


def hp_values(kind: str) -> st.SearchStrategy[Any]:
    numbers = st.one_of(st.integers(-2, 300), st.floats(-1, 2, allow_nan=False), st.just(1e300),
                        st.just(float("inf")))
    ranges = st.fixed_dictionaries(
        {"hp": st.sampled_from(["int", "float"]), "min": numbers, "max": numbers},
        optional={"step": numbers, "log": st.booleans()})
    choice = st.fixed_dictionaries({"hp": st.just("choice"),
                                    "values": st.lists(st.one_of(numbers, st.text(max_size=6),
                                                                 st.booleans()), max_size=4)})
    boolean = st.just({"hp": "bool"})
    if kind == "choice":
        plain = st.sampled_from(["relu", "same", "valid", "LSTM", "GRU", "numeric", "image",
                                 "sequence", "categorical", "embedding", "one_hot", "horizontal"])
    elif kind == "ints":
        plain = st.lists(st.integers(-2, 12), max_size=3)
    elif kind == "bool":
        plain = st.booleans()
    else:
        plain = numbers
    return st.one_of(plain, plain, ranges, choice, boolean, NOISE)


@st.composite
def node_docs(draw: Any) -> Any:
    kind = draw(st.one_of(st.sampled_from(sorted(LAYER_TYPES)), NOISE))
    params: dict[str, Any] = {}
    if isinstance(kind, str) and kind in LAYER_TYPES:
        for pdef in LAYER_TYPES[kind].params:
            if draw(st.booleans()):
                params[pdef.name] = draw(hp_values(pdef.kind))
    if draw(st.integers(0, 9)) == 0:
        params[draw(st.text(max_size=5))] = draw(NOISE)
    doc: dict[str, Any] = {"id": draw(NODE_IDS), "type": kind, "params": params}
    if draw(st.booleans()):
        doc["optional"] = draw(st.one_of(st.booleans(), NOISE))
    if draw(st.integers(0, 5)) == 0:
        doc["position"] = draw(NOISE)
    return doc if draw(st.integers(0, 20)) else draw(NOISE)


@st.composite
def spec_docs(draw: Any) -> Any:
    nodes = draw(st.lists(node_docs(), max_size=7))
    edges = draw(st.lists(st.one_of(st.lists(NODE_IDS, min_size=2, max_size=2), NOISE), max_size=9))
    repeats = draw(st.lists(st.one_of(
        st.fixed_dictionaries({"id": st.text(max_size=3), "nodes": st.lists(NODE_IDS, max_size=3)},
                              optional={"min": st.integers(-1, 3), "max": st.integers(-1, 66)}),
        NOISE), max_size=2))
    training = draw(st.dictionaries(
        st.sampled_from(["optimizer", "learning_rate", "batch_size", "epochs", "patience", "l1",
                         "l2", "lr_schedule", "momentum"]),
        st.one_of(hp_values("float"), st.sampled_from(["adam", "sgd", "cosine", "nope"])), max_size=3))
    doc = {"schema_version": draw(st.one_of(st.just(1), NOISE)), "nodes": nodes, "edges": edges,
           "repeats": repeats, "training": training}
    for key in list(doc):
        if draw(st.integers(0, 15)) == 0:
            doc[key] = draw(NOISE)
    return doc


SIGNATURES = [
    DataSignature(task="classification", n_classes=3, inputs={"numeric": (5,), "categorical": (2,)},
                  categorical_tokens=7),
    DataSignature(task="regression", n_classes=0, inputs={"image": (12, 12, 3)}),
    DataSignature(task="classification", n_classes=2, inputs={"sequence": (None, 4)}),
    DataSignature(task="classification", n_classes=1, inputs={}),
]


def parse_and_analyse(doc: Any) -> None:
    try:
        space = SearchSpace.from_dict(doc)
    except SpecError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert SearchSpace.from_dict(json.loads(space.to_json())) == space
    for signature in SIGNATURES:
        analysis = shapes.analyse(space, signature)
        assert set(analysis.nodes) == {n.id for n in space.nodes}
        assert analysis.configurations >= 1
        assert all(issue.node is None or issue.node in analysis.nodes for issue in analysis.issues)
        if analysis.valid:
            assert 0 <= analysis.params_min <= analysis.params_max
        try:
            shapes.validate(space, signature)
        except SpecError as exc:
            assert not analysis.valid and exc.node == analysis.issues[0].node


@SETTINGS
@given(spec_docs())
def test_spec_parser_and_analyse_on_arbitrary_documents(doc: Any) -> None:
    parse_and_analyse(doc)


@st.composite
def chain_docs(draw: Any) -> dict[str, Any]:
    """Mostly well-formed chains from an Input to an Output, so analyse gets deep."""
    source = draw(st.sampled_from(["numeric", "image", "sequence", "categorical"]))
    kinds = draw(st.lists(st.sampled_from([k for k, t in LAYER_TYPES.items() if t.inputs == "one"
                                           and k != "Output"]), max_size=6))
    nodes = [{"id": "in", "type": "Input", "params": {"source": source}}]
    for i, kind in enumerate(kinds):
        params = {}
        for pdef in LAYER_TYPES[kind].params:
            if draw(st.integers(0, 2)) == 0:
                params[pdef.name] = draw(hp_values(pdef.kind))
        nodes.append({"id": f"n{i}", "type": kind, "params": params,
                      "optional": draw(st.integers(0, 3)) == 0})
    nodes.append({"id": "out", "type": "Output", "params": {}})
    edges = [[a["id"], b["id"]] for a, b in zip(nodes, nodes[1:], strict=False)]
    repeats = []
    if len(kinds) >= 2 and draw(st.booleans()):
        start = draw(st.integers(0, len(kinds) - 2))
        repeats.append({"id": "blk", "nodes": [f"n{start}", f"n{start + 1}"],
                        "min": draw(st.integers(0, 2)), "max": draw(st.integers(2, 5))})
    return {"schema_version": 1, "nodes": nodes, "edges": edges, "repeats": repeats}


@SETTINGS
@given(chain_docs())
def test_analyse_on_generated_chains(doc: dict[str, Any]) -> None:
    parse_and_analyse(doc)


def test_generated_chains_are_sometimes_valid() -> None:
    """The chain strategy is not vacuous: a plain chain of its shape validates."""
    doc = {"schema_version": 1, "nodes": [
        {"id": "in", "type": "Input", "params": {"source": "numeric"}},
        {"id": "n0", "type": "Dense", "params": {"units": {"hp": "int", "min": 2, "max": 9}}},
        {"id": "out", "type": "Output", "params": {}}],
        "edges": [["in", "n0"], ["n0", "out"]], "repeats": []}
    space = SearchSpace.from_dict(doc)
    shapes.validate(space, SIGNATURES[0])
    assert np.isfinite(shapes.analyse(space, SIGNATURES[0]).configurations)


# --- number formats ---------------------------------------------------------------------------


@SETTINGS
@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from([".", ","]), st.sampled_from(["", "$", "€ ", " €", " %"]), st.booleans())
def test_formatted_numbers_read_back(value: Any, decimal: str, decoration: str, grouped: bool) -> None:
    text = f"{abs(value):,.2f}" if grouped else f"{abs(value):.2f}"
    if decimal == ",":  # 1,234.50 -> 1.234,50
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    sign = "-" if value < 0 else ""
    written = sign + (decoration + text if decoration.startswith(("$", "€")) else text + decoration)
    expected = float(value) / (100 if "%" in decoration else 1)
    assert parse_number(written, decimal) == pytest.approx(expected, abs=1e-9)


@SETTINGS
@given(st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)), min_size=3, max_size=3),
                min_size=2, max_size=15),
       st.sampled_from([";", "\t", "|"]))
def test_decimal_comma_tables_read_as_numbers(rows: list[list[float]], delimiter: str) -> None:
    lines = [delimiter.join(["alpha", "beta", "gamma"])]
    lines += [delimiter.join(f"{v:.3f}".replace(".", ",") for v in row) for row in rows]
    dataset = read_csv_bytes(("\n".join(lines) + "\n").encode())
    assert dataset is not None and dataset.columns == ["alpha", "beta", "gamma"]
    assert np.allclose(dataset.frame.to_numpy(dtype=float), np.array(rows), atol=1e-9)


# --- load → profile → prepare on generated tables ---------------------------------------------

ODD_NAMES = ["age", "Age", "AGE", " city ", "größe", "GRÖSSE", "名前", "x,y", 'say "hi"', "#", "1", "",
             "label", "target", "id", "a b", "\u200bzw", "é", "e\u0301", "NA"]
MISSING_CELLS = ["", "NA", "?", "null"]


@st.composite
def generated_columns(draw: Any, n: int) -> list[str]:
    """One column's cells: numbers, categories, IDs, constants, text or a mix, with gaps."""
    kind = draw(st.sampled_from(["float", "int", "category", "unicode", "bool", "constant", "id",
                                 "text", "mostly_numbers"]))
    if kind == "float":
        cells = [repr(round(v, 3)) for v in draw(st.lists(st.floats(-1e4, 1e4, allow_nan=False),
                                                           min_size=n, max_size=n))]
    elif kind == "int":
        cells = [str(v) for v in draw(st.lists(st.integers(-3, 9), min_size=n, max_size=n))]
    elif kind == "category":
        cells = draw(st.lists(st.sampled_from(["red", "green", "blue", "Red"]), min_size=n, max_size=n))
    elif kind == "unicode":
        cells = draw(st.lists(st.sampled_from(["Zürich", "東京", "São Paulo", "naïve", "Ωmega"]),
                              min_size=n, max_size=n))
    elif kind == "bool":
        cells = draw(st.lists(st.sampled_from(["True", "False"]), min_size=n, max_size=n))
    elif kind == "constant":
        cells = [draw(st.sampled_from(["7", "same", "0.5"]))] * n
    elif kind == "id":
        start = draw(st.integers(0, 10_000))
        cells = [str(start + i) for i in range(n)]
    elif kind == "text":
        cells = [f"note {i} " + draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                                             max_size=8)) for i in range(n)]
    else:
        cells = [str(v) for v in draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))]
        for i in draw(st.lists(st.integers(0, n - 1), max_size=2)):
            cells[i] = draw(st.sampled_from(["abc", "-", "n/a", "12kg"]))
    for i in draw(st.lists(st.integers(0, n - 1), max_size=max(1, n // 3))):
        cells[i] = draw(st.sampled_from(MISSING_CELLS))
    return cells


@st.composite
def generated_tables(draw: Any) -> tuple[list[str], list[list[str]]]:
    n = draw(st.integers(1, 40))
    width = draw(st.integers(1, 6))
    header = draw(st.lists(st.sampled_from(ODD_NAMES), min_size=width, max_size=width, unique=True))
    columns = [draw(generated_columns(n)) for _ in range(width)]
    return header, [list(row) for row in zip(*columns, strict=True)]


def write_table(folder: Path, header: list[str], rows: list[list[str]], name: str = "data.csv") -> Path:
    path = folder / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def check_user_error(exc: UserError, path: Path) -> None:
    assert "\n" not in exc.message, exc.message
    assert str(path) in exc.message or path.name in exc.message, exc.message


def check_prepared(dataset: Dataset, profile: DatasetProfile, prepared: PreparedData) -> None:
    """Rows are accounted for and the inputs have the shape the schema says."""
    splits = (prepared.train, prepared.validation, prepared.test)
    assert sum(len(s) for s in splits) + profile.dropped_target_rows == dataset.n_rows
    assert profile.rows == dataset.n_rows - profile.dropped_target_rows
    if profile.dropped_target_rows:
        count = profile.dropped_target_rows
        assert any(w.startswith(f"{count} row") and "dropped" in w for w in profile.warnings)
        assert any(n.startswith(f"{count} row") and "dropped" in n for n in prepared.notes)
    indices = np.concatenate(prepared.split_indices)
    assert sorted(indices.tolist()) == list(range(profile.rows))  # each kept row in exactly one split
    schema = prepared.schema
    assert schema is not None
    used = profile.feature_columns
    assert [f.name for f in schema.numeric] == [c.name for c in used if c.kind == NUMERIC]
    assert [c.name for c in schema.categorical] == [c.name for c in used if c.kind == CATEGORICAL]
    assert len(schema.columns) == len(used) >= 1
    assert profile.target not in schema.columns
    for split in splits:
        if schema.numeric:
            numeric = split.x["numeric"]
            assert numeric.shape == (len(split), schema.numeric_width) and np.isfinite(numeric).all()
        if schema.categorical:
            codes = split.x["categorical"]
            assert codes.shape == (len(split), len(schema.categorical))
            assert ((codes >= 0) & (codes < schema.tokens)).all()
        assert set(split.x) == set(prepared.signature.inputs)
        if profile.task == "classification":
            assert ((split.y >= 0) & (split.y < len(profile.class_names))).all()
        else:
            assert np.isfinite(split.y).all()


def check_rows_read(dataset: Dataset, rows_written: int) -> None:
    """Every data line written is a row of the table or counted in a note (empty rows)."""
    fmt = dataset.csv_format
    assert fmt is not None
    ignored = sum(int(note.split()[0]) for note in dataset.notes if note.endswith("empty row(s) were ignored"))
    header = 1 if fmt.header_line is not None else 0
    assert fmt.skip_lines + header + dataset.n_rows + ignored == rows_written + 1, dataset.notes


def load_profile_prepare(path: Path, target_choice: int | None, rows_written: int) -> PreparedData | None:
    try:
        dataset = load_dataset(path)
        check_rows_read(dataset, rows_written)
        target = None if target_choice is None else dataset.columns[target_choice % len(dataset.columns)]
        profile = profile_dataset(dataset, target)
        prepared = prepare_data(dataset, profile)
    except UserError as exc:
        check_user_error(exc, path)
        event("refused: " + exc.message.split(": ", 1)[1][:25])
        return None
    check_prepared(dataset, profile, prepared)
    event("prepared")
    return prepared


@SETTINGS
@given(generated_tables(), st.one_of(st.none(), st.integers(0, 5)))
@example((["age", "city", "label"], [["1", "a", "x"], ["2", "b", "y"], ["3", "a", "x"], ["4", "b", "y"],
                                     ["5", "a", "x"], ["6", "b", ""]]), None)
@example((["Age", "AGE", "y"], [["1", "2", "a"]] * 5), 2)
@example((["größe", "GRÖSSE", "名前"], [["1.5", "x", "東京"], ["2.5", "y", "Zürich"]] * 4), None)
def test_generated_tables_prepare_or_fail_in_one_line(table: tuple[list[str], list[list[str]]],
                                                      target_choice: int | None) -> None:
    header, rows = table
    with tempfile.TemporaryDirectory() as folder:
        load_profile_prepare(write_table(Path(folder), header, rows), target_choice, len(rows))


@SETTINGS
@given(generated_tables())
def test_repeated_header_names_are_refused_naming_them(table: tuple[list[str], list[list[str]]]) -> None:
    header, rows = table
    header = [*header, header[0] or "dup"]
    if not header[0]:
        header[0] = "dup"
    rows = [[*row, row[0]] for row in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = write_table(Path(folder), header, rows)
        try:
            dataset = load_dataset(path)
        except DataError as exc:
            check_user_error(exc, path)
            return
    # Read at all: then not as this header (e.g. no header row detected), never with a silent rename.
    assert not any(name.endswith(".1") for name in dataset.columns)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["plain", "two lines", "empty row", "blank line"]),
                          st.integers(0, 99)), min_size=1, max_size=30),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["\n", "\r\n"]))
def test_row_numbers_point_at_the_rows_line(layout: list[tuple[str, int]], delimiter: str, newline: str) -> None:
    """Blank lines, empty rows and quoted line breaks do not shift the row numbers messages use."""
    from automl_studio.engine.data.profile import row_number

    lines = [delimiter.join(["key", "name", "value"])]
    keys = []
    for kind, value in layout:
        if kind == "blank line":
            lines.append("")
        elif kind == "empty row":
            lines.append(delimiter * 2)
        else:
            name = '"two\nlines"' if kind == "two lines" else "one"
            keys.append(f"k{len(keys)}")
            lines.append(delimiter.join([keys[-1], name, str(value)]))
    text = newline.join(lines) + newline
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(text.encode())
        try:
            dataset = load_dataset(path)
        except DataError as exc:
            check_user_error(exc, path)
            assert not keys  # only a file with no data rows is refused
            return
    physical = text.replace("\r\n", "\n").split("\n")
    assert dataset.frame["key"].tolist() == keys
    for i, key in enumerate(keys):
        assert physical[row_number(dataset, i) - 1].startswith(key + delimiter)
