"""Help opens a user guide (not the developer README), every file dialog starts in a folder of
the user's, and the Export dialog proposes a name from the dataset."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import IRIS, wait_for_shapes
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from automl_studio.engine.core.events import SearchFinished
from automl_studio.gui.help_window import HelpWindow, guide_path
from automl_studio.gui.pages.results_page import round_trip_text
from automl_studio.gui.paths import demo_dataset
from automl_studio.gui.settings_store import default_directory

REPO = Path(__file__).resolve().parents[2]


# Qt's own file dialog lists folders with a QFileSystemModel whose watcher thread starts timers
# from that thread (Qt's code, not ours), and Qt says so.
DIALOG_THREAD = pytest.mark.qt_log_ignore(r"QBasicTimer::start: Timers cannot be started from another thread")


@pytest.fixture(autouse=True)
def qt_file_dialogs():
    """Qt's own file dialog (the offscreen platform has no native one; a desktop may)."""
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    yield
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, False)


def file_dialog_shown_by(trigger) -> dict:
    """Runs ``trigger`` (which opens a modal file dialog), reads the dialog's folder and proposed
    file, and cancels it."""
    seen: dict = {}

    def read() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(10, read)  # not shown yet: the dialog's own event loop comes next
            return
        seen["directory"] = Path(dialog.directory().absolutePath())
        seen["selected"] = [Path(p) for p in dialog.selectedFiles()]
        seen["title"] = dialog.windowTitle()
        dialog.reject()

    QTimer.singleShot(0, read)
    trigger()
    assert seen, "no file dialog was shown"
    return seen


# F1 on an open guide raises its window, which the offscreen platform cannot do (and says so).
@pytest.mark.qt_log_ignore(r"This plugin does not support raise\(\)")
def test_f1_opens_the_user_guide_with_contents_and_find(qtbot, window):
    assert window.act_guide.text().replace("&", "") == "User guide"
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help")
    assert window.act_guide in help_menu.actions()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    QTest.keyClick(window, Qt.Key.Key_F1)
    guide = window.findChild(HelpWindow)
    assert guide is not None and guide.isVisible()
    text = guide.browser.toPlainText()
    for word in ("make", "apt-get", "pip install -e", "xvfb", ".venv"):
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text), word
    headings = guide.headings()
    for topic in ("Opening data", "The target and the task", "Column kinds and leaks", "The network editor",
                  "Search settings", "Running, stopping and resuming", "Results", "Exporting and predicting",
                  "The command line", "Where files are kept"):
        assert topic in headings, headings
    for subject in ("CSV", "Parquet", "NumPy", "image", "optional", "repeat", "Hyperband", "Objective",
                    "Time budget", "Resume", ".keras", "automl-studio predict", "autosave"):
        assert subject.lower() in text.lower(), subject
    for source in guide.image_sources():  # every image it shows is there
        assert guide.resolve(source).is_file(), source
    # The contents go to their heading; Ctrl+F finds words.
    row = headings.index("Where files are kept")
    guide.contents.setCurrentRow(row)
    assert guide.browser.textCursor().block().text() == "Where files are kept"
    guide.activateWindow()
    qtbot.waitUntil(guide.isActiveWindow, timeout=5_000)
    QTest.keyClick(guide, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert guide.find_bar.isVisible()
    qtbot.keyClicks(guide.find_edit, "Hyperband")
    assert guide.browser.textCursor().selectedText() == "Hyperband"
    qtbot.keyClicks(guide.find_edit, "xyzzy")
    assert guide.find_status.text() == "Not found"
    # F1 again shows the same window.
    assert window.show_user_guide() is guide


def test_the_guide_is_packaged_and_names_no_developer_tool():
    text = guide_path().read_text(encoding="utf-8")
    assert guide_path().parent.name == "help" and guide_path().parent.parent.name == "resources"
    assert '"help/*.md"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")  # in the wheel
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text):
        assert (guide_path().parent / image).is_file(), image


@DIALOG_THREAD
def test_file_dialogs_start_in_the_users_folder_then_in_the_last_one_used(qtbot, window, tmp_path):
    start = Path(default_directory())
    assert start in (Path.home(), Path.home() / "Documents") or start == Path(default_directory())
    install = Path(demo_dataset()).parent
    # The demo lives in the install folder: opening it changes no dialog's folder.
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_demo()
    for action in (window.act_open_data, window.act_open_folder, window.act_open_project, window.act_save_as):
        seen = file_dialog_shown_by(action.trigger)
        assert seen["directory"] == start, (action.objectName(), seen)
        assert seen["directory"] != install
    folder = tmp_path / "my data"
    folder.mkdir()
    data = folder / "flowers.csv"
    shutil.copyfile(IRIS, data)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_dataset(str(data))
    wait_for_shapes(qtbot, window)
    for action in (window.act_open_data, window.act_open_folder, window.act_open_project, window.act_save_as):
        assert file_dialog_shown_by(action.trigger)["directory"] == folder, action.objectName()
    window.nav.setCurrentRow(2)
    browse = window.findChild(QWidget, "browseProjectDir")
    assert file_dialog_shown_by(browse.click)["directory"] == folder


@DIALOG_THREAD
def test_export_proposes_the_datasets_name_in_the_last_export_folder(qtbot, window, tmp_path):
    data = tmp_path / "flowers.csv"
    shutil.copyfile(IRIS, data)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_dataset(str(data))
    window.results_page.set_result(SearchFinished.build("completed", best_trial_id="1", best_score=0.1),
                                   str(tmp_path / "search"))
    assert window.results_page.export_button.isEnabled()
    seen = file_dialog_shown_by(window.export_best_model)
    assert seen["selected"] == [tmp_path / "flowers.h5"], seen  # the data's folder: the last one used
    exports = tmp_path / "exports"
    exports.mkdir()
    window.settings.set_last_export_directory(str(exports / "older.h5"))
    seen = file_dialog_shown_by(window.export_best_model)
    assert seen["directory"] == exports and seen["selected"] == [exports / "flowers.h5"]
    assert "best_model" not in str(seen["selected"][0])


def test_the_round_trip_check_is_said_in_words():
    # The keys engine/export/writers.py's export_model returns.
    from automl_studio.engine.export.writers import TOLERANCE

    text = round_trip_text({"files": ["/m/iris.h5"], "verified": True, "max_abs_diff": 3e-8,
                            "tolerance": TOLERANCE, "checked_rows": 20})
    assert text == ("✔ Reloaded and checked: the file's predictions match the search's model to within "
                    "0.0001 on 20 test rows.")
    assert "Δ" not in text and "max |" not in text
    failed = round_trip_text({"verified": False, "max_abs_diff": 0.02, "tolerance": TOLERANCE, "checked_rows": 1})
    assert "differ from the search's model by up to 2.0e-02 on 1 test row " in failed
