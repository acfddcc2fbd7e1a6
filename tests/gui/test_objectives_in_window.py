"""The Search page offers only the objectives the model compiles for the loaded data."""

from __future__ import annotations

from conftest import IRIS, wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

AUTOMATIC = None


def write_two_class_table(path) -> str:
    lines = ["size,weight,kind"] + [f"{i % 7},{(i * 3) % 11},{'big' if i % 2 else 'small'}" for i in range(40)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def offered(window) -> list[str | None]:
    return window.search_page.objective_names()


def labels(window) -> list[str]:
    combo = window.findChild(QComboBox, "objectiveChoice")
    return [combo.itemText(i) for i in range(combo.count())]


def note(window) -> QLabel:
    return window.findChild(QLabel, "objectiveNote")


def test_the_list_follows_the_task_and_the_number_of_classes(qtbot, iris_window, tmp_path):
    w = iris_window  # three classes
    assert offered(w) == [AUTOMATIC, "val_loss", "val_accuracy"]
    assert labels(w)[0] == "Automatic: validation loss (val_loss, lower is better)"
    assert labels(w)[2] == "validation accuracy (val_accuracy, higher is better)"

    with qtbot.waitSignal(w.data_page.profileChanged, timeout=10_000):
        w.findChild(QWidget, "targetColumn").setCurrentText("petal_width")  # regression
    assert offered(w) == [AUTOMATIC, "val_loss", "val_rmse", "val_mae"]
    assert "validation RMSE (val_rmse, lower is better)" in labels(w)

    with qtbot.waitSignal(w.data_page.profileChanged, timeout=20_000):
        w.open_dataset(write_two_class_table(tmp_path / "two.csv"))
    assert offered(w) == [AUTOMATIC, "val_loss", "val_accuracy", "val_auc"]
    assert "validation ROC AUC (val_auc, higher is better)" in labels(w)
    combo = w.findChild(QComboBox, "objectiveChoice")
    combo.setCurrentIndex(combo.findData("val_auc"))
    wait_for_shapes(qtbot, w)
    assert w.current_config().objective == "val_auc"
    assert note(w).isHidden()

    # Back to three classes: val_auc no longer exists, so the page falls back and says so.
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=20_000):
        w.open_dataset(str(IRIS))
    assert offered(w) == [AUTOMATIC, "val_loss", "val_accuracy"]
    assert combo.currentData() is AUTOMATIC
    assert not note(w).isHidden()
    assert "val_auc does not exist for 3-class classification" in note(w).text()
    assert w.search_page.settings()["objective"] is AUTOMATIC

    # The choice is remembered: two classes again, and val_auc is chosen again.
    with qtbot.waitSignal(w.data_page.profileChanged, timeout=20_000):
        w.open_dataset(str(tmp_path / "two.csv"))
    assert combo.currentData() == "val_auc"
    assert note(w).isHidden()


def test_a_saved_objective_that_no_longer_applies_falls_back_to_automatic(qtbot, window, tmp_path):
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.project import ProjectFile

    kept = tmp_path / "kept.automl.json"
    ProjectFile(SearchConfig(data_path=str(IRIS), project_dir=str(tmp_path / "a"), target="species",
                             objective="val_accuracy"), name="kept").save(kept)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=20_000):
        assert window.open_project(str(kept))
    combo = window.findChild(QComboBox, "objectiveChoice")
    assert combo.currentData() == "val_accuracy"
    assert note(window).isHidden()

    stale = tmp_path / "stale.automl.json"
    ProjectFile(SearchConfig(data_path=str(IRIS), project_dir=str(tmp_path / "b"), target="species",
                             objective="val_rmse"), name="stale").save(stale)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=20_000):
        assert window.open_project(str(stale))
    assert offered(window) == [AUTOMATIC, "val_loss", "val_accuracy"]
    assert combo.currentData() is AUTOMATIC
    assert window.search_page.settings()["objective"] is None
    assert not note(window).isHidden()
    assert "val_rmse does not exist for 3-class classification" in note(window).text()
    assert "automatic objective (val_loss)" in note(window).text()

    # Choosing an objective clears the note.
    combo.setCurrentIndex(combo.findData("val_accuracy"))
    assert note(window).isHidden()
    assert window.search_page.settings()["objective"] == "val_accuracy"


def test_a_reopened_project_ranks_its_trials_by_the_objective_its_search_chose(qtbot, window, tmp_path):
    """A regression search left on "automatic" ranked by val_rmse: reopened, the trials table and
    the Results page name that objective, not the configuration's empty one."""
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import (
        JsonLinesWriter,
        SearchStarted,
        TrialEnded,
        TrialStarted,
    )
    from automl_studio.engine.search.project import EVENTS_FILE, ProjectFile
    from automl_studio.gui.models.trials_model import SCORE_COLUMN

    table = tmp_path / "reg.csv"
    table.write_text("x,y\n" + "\n".join(f"{i},{2 * i + 1}" for i in range(40)) + "\n", encoding="utf-8")
    search = tmp_path / "search"
    search.mkdir()
    with open(search / EVENTS_FILE, "w", encoding="utf-8") as handle:
        write = JsonLinesWriter(handle)
        write(SearchStarted(profile={}, space_summary={}, settings={"objective": "val_rmse"}, project_dir=str(search)))
        write(TrialStarted(trial_id="00", hyperparameters={"units": 8}))
        write(TrialEnded(trial_id="00", status="completed", score=3.5, duration_s=1.0))
    saved = tmp_path / "reg.automl.json"
    ProjectFile(SearchConfig(data_path=str(table), project_dir=str(search), target="y"), name="reg").save(saved)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=20_000):
        assert window.open_project(str(saved))
    model = window.search_page.trials_model
    assert model.headerData(SCORE_COLUMN, Qt.Orientation.Horizontal).startswith("val_rmse")
    assert window.search_page.settings()["objective"] is AUTOMATIC  # the setting itself stays open
