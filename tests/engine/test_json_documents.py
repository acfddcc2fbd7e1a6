"""The three kinds of JSON document (project file, spec, search configuration) share one reader:
the same faults get the same words, each naming the file, and JSON syntax errors their place."""

import json
from pathlib import Path

import pytest

from automl_studio.engine.core.config import CONFIG_SCHEMA_VERSION, SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ProjectError, SpecError
from automl_studio.engine.search.project import ProjectFile
from automl_studio.engine.space.spec import SPEC_SCHEMA_VERSION, SearchSpace

SPEC = {"schema_version": SPEC_SCHEMA_VERSION, "nodes": [
    {"id": "in", "type": "Input", "params": {"source": "numeric"}},
    {"id": "out", "type": "Output"}], "edges": [["in", "out"]]}
DOCUMENT = SearchDocument(SearchConfig(data_path="d.csv", project_dir="p")).to_dict()

# (reader, its error, its kind in messages, a valid document, the newest version it reads)
KINDS = {
    "project": (ProjectFile.load, ProjectError, "project file", {**DOCUMENT, "name": "n"}, CONFIG_SCHEMA_VERSION),
    "spec": (SearchSpace.load, SpecError, "spec file", SPEC, SPEC_SCHEMA_VERSION),
    "search configuration": (SearchDocument.read, ProjectError, "search configuration file", DOCUMENT,
                             CONFIG_SCHEMA_VERSION),
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


def test_the_valid_document_reads(kind, tmp_path: Path) -> None:
    read, _, _, document, _ = kind
    path = tmp_path / "good.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    read(path)


def test_a_json_syntax_error_names_the_file_line_and_column(kind, tmp_path: Path) -> None:
    read, error, words, _, _ = kind
    path = tmp_path / "comma.json"
    path.write_text('{\n  "schema_version": 1\n  "nodes": []\n}', encoding="utf-8")  # no comma on line 2
    with pytest.raises(error) as caught:
        read(path)
    assert str(caught.value) == f"{path}: not a {words} (not valid JSON at line 3, column 3: Expecting ',' delimiter)"


def test_a_newer_schema_version_is_refused_with_both_versions(kind, tmp_path: Path) -> None:
    read, error, words, document, newest = kind
    path = tmp_path / "future.json"
    path.write_text(json.dumps({**document, "schema_version": newest + 5}), encoding="utf-8")
    with pytest.raises(error) as caught:
        read(path)
    assert str(caught.value) == (f"{path}: written by a newer automl-studio ({words.split()[0]} schema "
                                 f"{newest + 5}; this version reads up to {newest}) — update automl-studio "
                                 "to open it")


@pytest.mark.parametrize("version", [None, "2", True])
def test_a_document_without_an_integer_schema_version_is_refused(kind, tmp_path: Path, version) -> None:
    read, error, _, document, _ = kind
    path = tmp_path / "unversioned.json"
    path.write_text(json.dumps({**document, "schema_version": version}), encoding="utf-8")
    with pytest.raises(error, match=r"has no schema_version$") as caught:
        read(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_missing_file_is_named(kind, tmp_path: Path) -> None:
    read, error, words, _, _ = kind
    path = tmp_path / "nowhere.json"
    with pytest.raises(error) as caught:
        read(path)
    assert str(caught.value) == f"{path}: no such {words}"


def test_a_binary_file_or_a_folder_is_one_clear_line(kind, tmp_path: Path) -> None:
    read, error, words, _, _ = kind
    binary = tmp_path / "junk.json"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 8)
    with pytest.raises(error) as caught:
        read(binary)
    assert str(caught.value) == f"{binary}: not a {words} (not UTF-8 text)"
    with pytest.raises(error) as caught:
        read(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: cannot read the {words} (")


def test_json_that_is_not_an_object_is_refused(kind, tmp_path: Path) -> None:
    read, error, words, _, _ = kind
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(error) as caught:
        read(path)
    assert str(caught.value) == f"{path}: not an automl-studio {words}"
