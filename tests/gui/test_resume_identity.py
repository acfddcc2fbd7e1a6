"""Resuming from the window obeys the project's identity: another target is refused with the engine's reason."""

from __future__ import annotations

import json

from conftest import IRIS
from PySide6.QtWidgets import QWidget

from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.data.identity import identify
from automl_studio.engine.search.project import CONFIG_FILE, ProjectFile, write_search_document


def test_resume_with_another_target_shows_what_differs_and_how_to_start_anew(qtbot, window, tmp_path):
    search_dir = tmp_path / "search"
    config = SearchConfig(data_path=str(IRIS), project_dir=str(search_dir), target="species", tuner="random",
                          max_trials=3, max_epochs=1)
    # A search for 'species' was interrupted in this folder: its document, its tuner state, its log.
    write_search_document(search_dir, SearchDocument(config, identify(config).to_dict()))
    (search_dir / "tuner").mkdir()
    events = [{"type": "search_started", "time": 1.0},
              {"type": "trial_started", "trial_id": "0", "hyperparameters": {"units": 8}, "time": 2.0}]
    (search_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    path = tmp_path / "irises.automl.json"
    ProjectFile(config, name="irises").save(path)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(str(path))
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=10_000):
        window.findChild(QWidget, "targetColumn").setCurrentText("petal_width")
    resume = window.findChild(QWidget, "resumeSearch")
    banner = window.search_page.banner
    # The engine's project check runs off the GUI thread: Resume is withdrawn with its reason.
    qtbot.waitUntil(lambda: "the target differs" in banner.text(), timeout=60_000)
    assert not resume.isEnabled()
    assert not window.act_resume.isEnabled()
    text = banner.text()
    assert "the search predicts 'species', this run 'petal_width'" in text
    assert "Start, not Resume" in text
    assert SearchDocument.read(search_dir / CONFIG_FILE).config.target == "species"  # the old search is intact
