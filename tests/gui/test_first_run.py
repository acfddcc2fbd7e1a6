"""What a new user meets: the welcome view (recent files that survive a restart, the ways in and
what to do next), the demo data with a hint, the same version everywhere, and a log file that
Help ▸ Show log opens."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel

from automl_studio.gui.app import launch
from automl_studio.gui.main_window import DEMO_HINT
from automl_studio.gui.pages.welcome_page import NEXT_STEP
from automl_studio.gui.settings_store import SettingsStore

REPO = Path(__file__).resolve().parents[2]
IRIS = REPO / "resources" / "iris.csv"


class UrlCatcher(QObject):
    """Where QDesktopServices.openUrl sends file URLs while registered (Qt's own URL-handler hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def log_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "logs"
    monkeypatch.setenv("AUTOML_STUDIO_LOG_DIR", str(folder))
    return folder


def _launched(qtbot, argv: list[str], store: SettingsStore, *, loads: bool = True):
    window = launch(argv, store)
    window.confirm_close = lambda _parent: True
    qtbot.addWidget(window)
    if loads:
        with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=30_000):
            pass
    return window


def test_the_first_launch_shows_the_welcome_view_not_the_demo(qtbot, tmp_path, log_dir):
    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = _launched(qtbot, [], store, loads=False)
    qtbot.waitExposed(window)
    welcome = window.welcome_page
    assert window.shows_welcome and welcome.isVisible()
    assert window.data_page.dataset is None and not window.data_page.loading
    assert welcome.next_step.text() == NEXT_STEP == "Open a dataset, pick the target, press Start."
    texts = {b.text() for b in (welcome.open_dataset_button, welcome.open_project_button, welcome.demo_button)}
    assert texts == {"Open dataset…", "Open project…", "Try the demo (iris)"}
    assert welcome.recent_paths() == ([], [])
    assert welcome.projects_empty.isVisible() and welcome.data_empty.isVisible()
    heading = next(label for label in welcome.findChildren(QLabel) if label.text() == "Recent projects")
    for empty in (welcome.projects_empty, welcome.data_empty):  # under its heading, not at the foot
        assert empty.y() - heading.geometry().bottom() <= 20, empty.text()
    # Try the demo: the Data page, iris, and the line that says what to do next.
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=30_000):
        qtbot.mouseClick(welcome.demo_button, Qt.MouseButton.LeftButton)
    assert not window.shows_welcome and window.pages.currentWidget() is window.data_page
    qtbot.waitUntil(lambda: window.data_page.banner.text() == DEMO_HINT, timeout=5_000)
    # The bundled demo is no file of the user's: not a recent file.
    assert store.recent_files() == []
    window.close()


def test_make_run_opens_the_demo_data_with_a_hint_of_what_to_do_next(qtbot, tmp_path, log_dir):
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "automl-studio gui --demo $(ARGS)" in makefile  # what `make run` starts
    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = _launched(qtbot, ["--demo"], store)
    assert not window.shows_welcome
    assert Path(window.data_page.dataset.path).resolve() == IRIS.resolve()
    banner = window.data_page.banner
    qtbot.waitUntil(lambda: banner.text() == DEMO_HINT, timeout=5_000)
    assert "\n" not in DEMO_HINT and "Start search" in DEMO_HINT
    assert window.data_page.target() == "species"  # what the hint says the target is
    window.close()


def test_an_opened_file_gets_no_demo_hint_and_is_in_open_recent_after_a_restart(qtbot, tmp_path, log_dir):
    data = tmp_path / "flowers.csv"
    shutil.copyfile(IRIS, data)
    ini = tmp_path / "settings.ini"
    first = _launched(qtbot, [str(data)], SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat)))
    assert first.data_page.banner.text() == ""
    first.close()
    # A second start reads the settings file afresh, as a new process does.
    second = _launched(qtbot, [], SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat)),
                       loads=False)
    recent = {a.text(): a for a in second.recent_menu.actions()}
    assert "flowers.csv" in recent, list(recent)
    assert recent["flowers.csv"].toolTip() == str(data)
    # The welcome view lists it too, one click away.
    assert second.shows_welcome
    assert second.welcome_page.recent_paths() == ([], [str(data)])
    view = second.welcome_page.data_list
    rect = view.visualItemRect(view.item(0))
    with qtbot.waitSignal(second.data_page.datasetLoaded, timeout=30_000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert second.data_page.dataset.path == str(data)
    assert second.pages.currentWidget() is second.data_page
    second.close()


def test_a_saved_project_is_listed_on_the_welcome_view_and_opens_from_it(qtbot, tmp_path, log_dir):
    ini = tmp_path / "settings.ini"
    data = tmp_path / "flowers.csv"
    shutil.copyfile(IRIS, data)
    first = _launched(qtbot, [str(data)], SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat)))
    qtbot.waitUntil(lambda: first.data_page.profile is not None, timeout=10_000)
    project = tmp_path / "flowers.automl.json"
    assert first.save_project(str(project))
    first.close()
    second = _launched(qtbot, [], SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat)),
                       loads=False)
    projects, data_files = second.welcome_page.recent_paths()
    assert projects == [str(project)] and data_files == [str(data)]
    assert not second.welcome_page.projects_empty.isVisible()
    view = second.welcome_page.projects_list
    assert view.item(0).text().startswith("flowers")
    with qtbot.waitSignal(second.data_page.datasetLoaded, timeout=30_000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.visualItemRect(view.item(0)).center())
    assert second.windowTitle().startswith("flowers")
    second.close()


def test_help_show_log_opens_the_app_log_with_the_startup_line(qtbot, tmp_path, log_dir):
    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = _launched(qtbot, [str(IRIS)], store)
    log_file = log_dir / "automl-studio.log"
    assert log_file.is_file()
    text = log_file.read_text(encoding="utf-8")
    assert " gui[" in text and "automl-studio " in text and " started: " in text, text
    qtbot.waitUntil(lambda: "window shown" in log_file.read_text(encoding="utf-8"), timeout=10_000)
    assert window.act_show_log.isEnabled()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help")
    assert window.act_show_log in help_menu.actions()
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        window.act_show_log.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in catcher.urls] == [log_file]
    window.close()


def test_about_shows_the_version_that_the_command_line_prints(window):
    cli = Path(sys.executable).with_name("automl-studio")
    out = subprocess.run([str(cli), "--version"], capture_output=True, text=True, timeout=120, check=True)
    name, version = out.stdout.split()
    assert name == "automl-studio" and version[0].isdigit()
    assert f"<h3>AutoML Studio {version}</h3>" in window.about_text()


def test_the_engine_child_writes_to_the_same_log(tmp_path, log_dir):
    import os

    from automl_studio.engine.process.runner import _child_command

    # A config that cannot be read: the child logs its start, then fails before any TensorFlow.
    proc = subprocess.run(_child_command("search"), input="{}\n", capture_output=True, text=True,
                          timeout=120, env={**os.environ, "AUTOML_STUDIO_LOG_DIR": str(log_dir)})
    assert proc.returncode != 0
    text = (log_dir / "automl-studio.log").read_text(encoding="utf-8")
    assert " engine[" in text and " started: " in text, text
