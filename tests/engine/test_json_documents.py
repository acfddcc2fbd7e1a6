"""The three kinds of JSON document (project file, spec, search configuration) share one reader:
the same faults get the same words, each naming the file, and JSON syntax errors their place."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automl_studio.engine.core.config import CONFIG_SCHEMA_VERSION, SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ProjectError, SpecError
from automl_studio.engine.search.project import ProjectFile
from automl_studio.engine.space.spec import SPEC_SCHEMA_VERSION, SearchSpace

SPEC = {"schema_version": SPEC_SCHEMA_VERSION, "nodes": [
    {"id": "in", "type": "Input", "params": {"source": "numeric"}},
    {"id": "out", "type": "Output"}], "edges": [["in", "out"]]}
DOCUMENT = SearchDocument(SearchConfig(data_path="d.csv", project_dir="p")).to_dict()

@dataclass(frozen=True)
class Kind:
    """One kind of document: its reader, its error, its words in messages, a valid document and
    the newest schema version it reads."""

    read: Callable[[Path], Any]
    error: type[Exception]
    words: str
    document: dict[str, Any]
    newest: int

    def refusal(self, path: Path, content: str | bytes | None = None) -> str:
        """The message reading ``path`` (written with ``content`` first, unless None) fails with."""
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif content is not None:
            path.write_bytes(content)
        with pytest.raises(self.error) as caught:
            self.read(path)
        return str(caught.value)


KINDS = {
    "project": Kind(ProjectFile.load, ProjectError, "project file", {**DOCUMENT, "name": "n"},
                    CONFIG_SCHEMA_VERSION),
    "spec": Kind(SearchSpace.load, SpecError, "spec file", SPEC, SPEC_SCHEMA_VERSION),
    "search configuration": Kind(SearchDocument.read, ProjectError, "search configuration file", DOCUMENT,
                                 CONFIG_SCHEMA_VERSION),
}


@pytest.fixture(params=list(KINDS))
def kind(request) -> Kind:
    return KINDS[request.param]


def test_the_valid_document_reads(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(kind.document), encoding="utf-8")
    kind.read(path)


def test_a_json_syntax_error_names_the_file_line_and_column(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "comma.json"
    no_comma_on_line_2 = '{\n  "schema_version": 1\n  "nodes": []\n}'
    assert kind.refusal(path, no_comma_on_line_2) == (
        f"{path}: not a {kind.words} (not valid JSON at line 3, column 3: Expecting ',' delimiter)")


def test_a_newer_schema_version_is_refused_with_both_versions(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    newer = kind.newest + 5
    assert kind.refusal(path, json.dumps({**kind.document, "schema_version": newer})) == (
        f"{path}: written by a newer automl-studio ({kind.words.split()[0]} schema {newer}; this version "
        f"reads up to {kind.newest}) — update automl-studio to open it")


@pytest.mark.parametrize("version", [None, "2", True])
def test_a_document_without_an_integer_schema_version_is_refused(kind: Kind, tmp_path: Path, version) -> None:
    path = tmp_path / "unversioned.json"
    message = kind.refusal(path, json.dumps({**kind.document, "schema_version": version}))
    assert message.startswith(f"{path}: ") and message.endswith("has no schema_version")


def test_a_missing_file_is_named(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    assert kind.refusal(path) == f"{path}: no such {kind.words}"


def test_a_binary_file_or_a_folder_is_one_clear_line(kind: Kind, tmp_path: Path) -> None:
    binary = tmp_path / "junk.json"
    assert kind.refusal(binary, b"\xff\xfe\x00\x81" * 8) == f"{binary}: not a {kind.words} (not UTF-8 text)"
    assert kind.refusal(tmp_path).startswith(f"{tmp_path}: cannot read the {kind.words} (")


def test_json_that_is_not_an_object_is_refused(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    assert kind.refusal(path, "[1, 2]") == f"{path}: not an automl-studio {kind.words}"
