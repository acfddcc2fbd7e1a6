"""Saving and opening project files, including a search that was interrupted."""

from __future__ import annotations

import json

import pytest
from conftest import IRIS, open_second_window
from PySide6.QtWidgets import QWidget


def test_project_round_trip(qtbot, iris_window, settings_store, tmp_path):
    w = iris_window
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000):
        w.findChild(QWidget, "targetColumn").setCurrentText("petal_width")
    w.findChild(QWidget, "maxTrials").setValue(7)
    tuner = w.findChild(QWidget, "tunerChoice")
    tuner.setCurrentIndex(tuner.findData("hyperband"))
    w.search_page.max_epochs.setValue(12)
    w.findChild(QWidget, "refits").setValue(5)
    w.data_page.validation_spin.setValue(0.3)
    editor = w.network_page.editor
    editor.select_nodes(["dense"])
    editor.inspector.findChild(QWidget, "param_units_max").setValue(128)
    assert w.isWindowModified()  # a graph edit is a project edit
    w.search_page.project_dir.setText(str(tmp_path / "search"))
    path = tmp_path / "demo.automl.json"
    assert w.save_project(str(path))
    assert not w.isWindowModified()
    assert "demo" in w.windowTitle()
    saved = json.loads(path.read_text())
    assert saved["search"]["target"] == "petal_width"
    assert saved["search"]["refits"] == 5
    dense = next(n for n in saved["search"]["space"]["nodes"] if n["id"] == "dense")
    assert dense["params"]["units"]["max"] == 128 and "position" in dense

    second = open_second_window(qtbot, settings_store)
    with qtbot.waitSignal(second.data_page.profileChanged, timeout=20_000):
        assert second.open_project(str(path))
    assert second.findChild(QWidget, "targetColumn").currentText() == "petal_width"
    assert second.findChild(QWidget, "maxTrials").value() == 7
    assert second.findChild(QWidget, "tunerChoice").currentData() == "hyperband"
    assert second.search_page.max_epochs.value() == 12
    assert second.findChild(QWidget, "refits").value() == 5
    assert second.data_page.validation_spin.value() == 0.3
    assert second.network_page.spec()["nodes"] == w.network_page.spec()["nodes"]
    assert second.search_page.project_dir.text() == str(tmp_path / "search")
    assert second.current_config().to_dict() | {"fresh": None} == \
        w.current_config().to_dict() | {"fresh": None}
    assert settings_store.recent_files()[0] == str(path)


def test_a_broken_project_file_shows_a_message(qtbot, iris_window, tmp_path):
    path = tmp_path / "broken.automl.json"
    path.write_text("{not json")
    assert not iris_window.open_project(str(path))
    assert "not a project file" in iris_window.data_page.banner.text()
    assert iris_window.data_page.dataset.path.endswith("iris.csv")


def test_an_interrupted_search_shows_its_trials_and_offers_resume(qtbot, window, tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.project import ProjectFile

    search_dir = tmp_path / "search"
    search_dir.mkdir()
    events = [
        {"type": "search_started", "time": 10.0},
        {"type": "trial_started", "trial_id": "0", "hyperparameters": {"units": 32}, "time": 11.0},
        {"type": "epoch_ended", "trial_id": "0", "epoch": 1, "metrics": {"loss": 1.0, "val_loss": 1.1}},
        {"type": "epoch_ended", "trial_id": "0", "epoch": 2, "metrics": {"loss": 0.8, "val_loss": 0.9}},
        {"type": "trial_ended", "trial_id": "0", "status": "completed", "score": 0.9, "duration_s": 3.0},
        {"type": "trial_started", "trial_id": "1", "hyperparameters": {"units": 64}, "time": 15.0},
        {"type": "epoch_ended", "trial_id": "1", "epoch": 1, "metrics": {"loss": 1.2, "val_loss": 1.3}},
    ]  # killed during trial 1: no trial_ended, no search_finished
    (search_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    config = SearchConfig(data_path=str(IRIS), project_dir=str(search_dir), target="species",
                          max_trials=5)
    path = tmp_path / "killed.automl.json"
    ProjectFile(config, name="killed").save(path)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(str(path))
    model = window.search_page.trials_model
    assert model.rowCount() == 2
    assert [model.index(r, 1).data() for r in range(2)] == ["completed", "stopped"]
    assert [model.index(r, 3).data() for r in range(2)] == ["2", "1"]  # epochs
    assert "interrupted" in model.index(1, 5).data()
    assert window.findChild(QWidget, "resumeSearch").isEnabled()
    assert window.act_resume.isEnabled()
    assert window.search_page.plots.trial_ids() == ["0", "1"]
    assert "interrupted" in window.search_page.banner.text()
    assert not window.findChild(QWidget, "exportModel").isEnabled()


@pytest.mark.parametrize(("ending", "status", "banner"), [
    (None, "Interrupted — can resume", "interrupted after 1 completed trial: its process ended"),
    ({"status": "budget"}, "Time budget spent — can resume", "spent its time budget after 1 completed trial"),
    ({"status": "stopped"}, "Stopped — can resume", "stopped after 1 completed trial"),
    ({"status": "failed", "message": "the disk is full"}, "Failed — can resume",
     "failed after 1 completed trial: the disk is full"),
])
def test_a_reopened_search_says_how_it_ended(qtbot, window, tmp_path, ending, status, banner):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.project import ProjectFile

    search_dir = tmp_path / "search"
    search_dir.mkdir()
    events = [
        {"type": "search_started", "time": 10.0},
        {"type": "trial_started", "trial_id": "0", "hyperparameters": {"units": 32}, "time": 11.0},
        {"type": "epoch_ended", "trial_id": "0", "epoch": 1, "metrics": {"loss": 1.0, "val_loss": 1.1}},
        {"type": "trial_ended", "trial_id": "0", "status": "completed", "score": 1.1, "duration_s": 3.0},
    ]
    if ending is not None:
        events.append({"type": "search_finished", "best_trial_id": "0", "best_score": 1.1, **ending})
    (search_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    config = SearchConfig(data_path=str(IRIS), project_dir=str(search_dir), target="species", max_trials=5)
    path = tmp_path / "ended.automl.json"
    ProjectFile(config, name="ended").save(path)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(str(path))
    assert window.status_search.text() == status
    assert banner in window.search_page.banner.text()
    assert window.act_resume.isEnabled()
    assert ("interrupted" in window.search_page.banner.text()) == (ending is None)


def test_start_without_data_explains_instead_of_failing(qtbot, window):
    window.findChild(QWidget, "startSearch").click()
    assert "open a dataset first" in window.search_page.banner.text()
    assert not window.search_page.running
