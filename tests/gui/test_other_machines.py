"""The Search page's "Other machines" controls: workers elsewhere join the window's search."""

from __future__ import annotations

import json

import pytest
from conftest import open_second_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SEARCH_TIMEOUT_MS = 300_000
NAMES = {"serveWorkers": "Let other machines join as workers", "chiefAddress": "Chief address",
         "chiefPort": "Chief port", "workerCommand": "Worker command", "copyWorkerCommand": "Copy worker command"}


def show_search_page(qtbot, window):
    window.nav.setCurrentRow(2)
    qtbot.waitUntil(lambda: window.findChild(QWidget, "serveWorkers").isVisible())


def test_the_controls_are_named_and_follow_the_checkbox(qtbot, window):
    show_search_page(qtbot, window)
    widgets = {name: window.findChild(QWidget, name) for name in NAMES}
    for name, widget in widgets.items():
        assert widget is not None, name
        assert widget.accessibleName() == NAMES[name]
    for name in ("serveWorkers", "chiefAddress", "chiefPort"):
        assert "unauthenticated" in widgets[name].toolTip()
    assert widgets["chiefAddress"].placeholderText() == "0.0.0.0 or this machine's address"
    assert widgets["chiefPort"].value() == 0 and widgets["chiefPort"].text() == "any free port"
    assert widgets["workerCommand"].isReadOnly() and not widgets["workerCommand"].text()
    assert not widgets["copyWorkerCommand"].isEnabled()  # nothing to copy before a search
    assert not widgets["serveWorkers"].isChecked()
    assert not widgets["chiefAddress"].isEnabled() and not widgets["chiefPort"].isEnabled()

    qtbot.mouseClick(widgets["serveWorkers"], Qt.MouseButton.LeftButton)
    assert widgets["serveWorkers"].isChecked()
    assert widgets["chiefAddress"].isEnabled() and widgets["chiefPort"].isEnabled()
    qtbot.mouseClick(widgets["serveWorkers"], Qt.MouseButton.LeftButton)
    assert not widgets["chiefAddress"].isEnabled() and not widgets["chiefPort"].isEnabled()


def test_the_settings_round_trip_through_a_project(qtbot, iris_window, settings_store, tmp_path):
    w = iris_window
    show_search_page(qtbot, w)
    assert w.current_config().chief_address == ""  # off: only this machine, nothing served
    qtbot.mouseClick(w.findChild(QWidget, "serveWorkers"), Qt.MouseButton.LeftButton)
    assert w.current_config().chief_address == "127.0.0.1"  # on, no address named: still loopback
    qtbot.keyClicks(w.findChild(QWidget, "chiefAddress"), "0.0.0.0")
    w.findChild(QWidget, "chiefPort").setValue(8123)
    w.search_page.project_dir.setText(str(tmp_path / "search"))
    path = tmp_path / "served.automl.json"
    assert w.save_project(str(path))
    saved = json.loads(path.read_text())["search"]
    assert (saved["chief_address"], saved["chief_port"]) == ("0.0.0.0", 8123)

    second = open_second_window(qtbot, settings_store)
    with qtbot.waitSignal(second.data_page.profileChanged, timeout=20_000):
        assert second.open_project(str(path))
    assert second.findChild(QWidget, "serveWorkers").isChecked()
    assert second.findChild(QWidget, "chiefAddress").text() == "0.0.0.0"
    assert second.findChild(QWidget, "chiefAddress").isEnabled()
    assert second.findChild(QWidget, "chiefPort").value() == 8123
    config = second.current_config()
    assert (config.chief_address, config.chief_port) == ("0.0.0.0", 8123)


@pytest.mark.slow
def test_a_search_that_serves_workers_shows_their_command(qtbot, iris_window, tmp_path):
    w = iris_window
    show_search_page(qtbot, w)
    w.search_page.project_dir.setText(str(tmp_path / "served-project"))
    w.findChild(QWidget, "maxTrials").setValue(2)
    w.search_page.max_epochs.setValue(1)
    combo = w.findChild(QWidget, "tunerChoice")
    combo.setCurrentIndex(combo.findData("random"))
    assert w.findChild(QWidget, "workers").value() == 1  # one local worker; others may join
    qtbot.mouseClick(w.findChild(QWidget, "serveWorkers"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(w.findChild(QWidget, "chiefAddress"), "127.0.0.1")
    command = w.findChild(QWidget, "workerCommand")
    copy = w.findChild(QWidget, "copyWorkerCommand")
    with qtbot.waitSignal(w.search_page.finished, timeout=SEARCH_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(w.findChild(QWidget, "startSearch"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: command.text().startswith("automl-studio worker --chief 127.0.0.1:"),
                        timeout=30_000)
        assert str(tmp_path / "served-project") in command.text()
        assert copy.isEnabled()
        qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == command.text()
    assert blocker.args[0].status == "completed", blocker.args[0]
    model = w.search_page.trials_model
    assert model.count("completed") == 2
    assert not command.text() and not copy.isEnabled()  # the port is closed once the search ends
    assert "other machines join as workers with: automl-studio worker" in \
        w.findChild(QWidget, "searchLog").toPlainText()
