"""The search configuration document: one versioned JSON form for search_config.json and project files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automl_studio.engine.core.config import CONFIG_SCHEMA_VERSION, SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ProjectError
from automl_studio.engine.search.project import ProjectFile


def full_config(tmp_path: Path) -> SearchConfig:
    return SearchConfig(
        data_path=str(tmp_path / "plants.csv"), project_dir=str(tmp_path / "run"), target="species",
        task="classification", space={"template": {"name": "tabular"}}, tuner="random", max_trials=7,
        exclude_columns=("plot_id",), include_columns=("sensor",), validation_fraction=0.3,
        test_fraction=0.15, seed=9, image_size=(32, 48), extra={"note": "kept"})


def test_a_config_survives_its_json_document_unchanged(tmp_path):
    config = full_config(tmp_path)
    text = config.to_json()
    data = json.loads(text)
    assert data["schema_version"] == CONFIG_SCHEMA_VERSION and data["app"] == "automl-studio"
    assert data["search"]["include_columns"] == ["sensor"] and data["search"]["validation_fraction"] == 0.3
    assert SearchConfig.from_json(text) == config
    identity = {"fingerprint": "sha256:abc", "target": "species", "splits": "sha256:def"}
    document = SearchDocument(config, identity, {"nodes": []})
    again = SearchDocument.from_json(document.to_json())
    assert again == document and again.data_fingerprint == "sha256:abc"
    assert SearchDocument(config).data_fingerprint == ""  # not prepared yet


def test_a_newer_document_is_refused_with_the_file_and_both_versions(tmp_path):
    path = tmp_path / "search_config.json"
    data = SearchDocument(full_config(tmp_path)).to_dict()
    data["schema_version"] = CONFIG_SCHEMA_VERSION + 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError) as caught:
        SearchDocument.read(path)
    message = str(caught.value)
    assert str(path) in message and "newer automl-studio" in message
    assert f"schema {CONFIG_SCHEMA_VERSION + 1}" in message and f"up to {CONFIG_SCHEMA_VERSION}" in message


@pytest.mark.parametrize(("content", "words"), [
    ("{not json", "not valid JSON"),
    ('["a list"]', "not an automl-studio search configuration"),
    ('{"app": "other", "schema_version": 2}', "not an automl-studio search configuration"),
    ('{"app": "automl-studio", "search": {"data_path": "d.csv", "project_dir": "p"}}', "no schema_version"),
    ('{"app": "automl-studio", "schema_version": 2, "search": {"data_path": 3}}', "no valid 'search' section"),
    ('{"app": "automl-studio", "schema_version": 2, "search": {"data_path": "d.csv", "project_dir": "p", '
     '"tuner": "annealing"}}', "unknown tuner 'annealing'"),
    ('{"app": "automl-studio", "schema_version": 2, "search": {"data_path": "d.csv", "project_dir": "p"}, '
     '"data": [1]}', "'data' section is not an object"),
])
def test_a_broken_document_names_the_file_and_the_fault(tmp_path, content, words):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProjectError, match=words) as caught:
        SearchDocument.read(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_a_missing_document_is_one_clear_line(tmp_path):
    with pytest.raises(ProjectError, match="no such search configuration file"):
        SearchDocument.read(tmp_path / "nowhere.json")


def test_the_version_1_search_config_still_reads_with_what_it_knew(tmp_path):
    path = tmp_path / "search_config.json"
    old = {"schema_version": 1, "config": {"data_path": "d.csv", "project_dir": "p", "target": "yield_kg"},
           "fingerprint": "sha256:0123", "space": {"nodes": []}}
    path.write_text(json.dumps(old), encoding="utf-8")
    document = SearchDocument.read(path)
    assert document.config.target == "yield_kg" and document.space == {"nodes": []}
    assert document.data == {"path": "d.csv", "file": "sha256:0123", "target": "yield_kg"}


def test_the_project_file_is_the_same_document_with_a_name(tmp_path):
    config = full_config(tmp_path)
    path = tmp_path / "greenhouse.automl.json"
    ProjectFile(config, name="greenhouse", notes="second try").save(path)
    assert SearchDocument.read(path).config == config  # the worker's reader takes it as is
    loaded = ProjectFile.load(path)
    assert (loaded.config, loaded.name, loaded.notes) == (config, "greenhouse", "second try")
    # A project file of version 1 (the same "search" section) still opens.
    old = {"schema_version": 1, "app": "automl-studio", "name": "old", "search": config.to_dict()}
    assert ProjectFile.from_dict(old).config == config
    newer = {**ProjectFile(config).to_dict(), "schema_version": CONFIG_SCHEMA_VERSION + 1}
    with pytest.raises(ProjectError, match="newer automl-studio"):
        ProjectFile.from_dict(newer, source="g.automl.json")


def test_a_lookback_range_is_kept_by_the_document_and_a_version_2_document_reads_as_one_lookback(tmp_path):
    config = full_config(tmp_path).replace(time_column="date", lookback=12, lookback_max=48)
    data = json.loads(config.to_json())
    assert CONFIG_SCHEMA_VERSION >= 3 and data["search"]["lookback_max"] == 48
    assert SearchConfig.from_json(config.to_json()) == config
    older = {**data, "schema_version": 2, "search": {k: v for k, v in data["search"].items() if k != "lookback_max"}}
    read = SearchDocument.from_dict(older).config
    assert (read.lookback, read.lookback_max) == (12, None)
    with pytest.raises(Exception, match=r"lookback range needs its smallest value first .*48:12"):
        SearchConfig.from_dict({**data["search"], "lookback": 48, "lookback_max": 12})
