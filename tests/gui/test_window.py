"""The window builds, is fully named for automation and screen readers, and keeps its settings."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import IRIS
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QTabBar,
    QWidget,
)

REQUIRED = ("dataPage", "networkPage", "searchPage", "resultsPage", "datasetTable",
            "targetColumn", "taskChoice", "tunerChoice", "maxTrials", "startSearch",
            "stopSearch", "resumeSearch", "trialsTable", "currentTrialPlot", "allTrialsPlot",
            "bestScorePlot", "exportModel")


def test_required_controls_are_named(window):
    for name in REQUIRED:
        widget = window.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), f"{name} has no accessible name"


def test_every_interactive_control_is_named(window):
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractItemView)
    missing = []
    for page in (window.data_page, window.network_page, window.search_page, window.results_page):
        for widget in page.findChildren(QWidget):
            if not isinstance(widget, kinds):
                continue
            if _part_of_a_composite(widget):
                continue
            if not widget.objectName() or not widget.accessibleName():
                missing.append(f"{type(widget).__name__} '{widget.objectName()}' "
                               f"'{getattr(widget, 'text', lambda: '')()}'")
    assert not missing, missing


def _part_of_a_composite(widget):
    """Parts Qt builds inside its own widgets (a combo's popup list, a line edit's clear button,
    a table's corner button, a plot's context menu) are named by Qt, not by us."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractItemView, QTabBar)):
            return True
        if type(parent).__module__.startswith("pyqtgraph"):
            return True
        parent = parent.parentWidget()
    return "pyqtgraph" in type(widget).__module__ or widget.objectName().startswith("qt_")


def test_start_and_stop_states_before_any_search(window):
    assert window.findChild(QWidget, "startSearch").isEnabled()
    assert not window.findChild(QWidget, "stopSearch").isEnabled()
    assert not window.findChild(QWidget, "resumeSearch").isEnabled()
    assert not window.findChild(QWidget, "exportModel").isEnabled()


def test_menus_and_shortcuts(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[:2] == ["File", "Edit"] and "Search" in titles and "Help" in titles
    assert window.act_save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert window.act_start.shortcut().toString() == "Ctrl+R"
    for action in (window.act_new, window.act_open_project, window.act_save_as, window.act_export,
                   window.act_quit, window.act_undo, window.act_redo, window.act_stop,
                   window.act_resume, window.act_about, window.act_guide):
        assert action.text()


def test_about_lists_versions_without_importing_tensorflow(window):
    from importlib import metadata

    text = window.about_text()
    assert metadata.version("tensorflow") in text
    assert metadata.version("keras-tuner") in text
    code = ("import sys; from automl_studio.gui.main_window import package_versions; "
            "v = package_versions(); assert v['keras'] != 'not installed'; "
            "print(','.join(m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_pages_reachable_from_the_sidebar(qtbot, window):
    for row, name in enumerate(("dataPage", "networkPage", "searchPage", "resultsPage")):
        window.nav.setCurrentRow(row)
        assert window.pages.currentWidget().objectName() == name
    assert "Open a dataset to begin" in window.findChild(QWidget, "dataEmptyState").text()


def test_geometry_and_recent_files_are_remembered(qtbot, settings_store, tmp_path):
    from automl_studio.gui.main_window import MainWindow

    first = MainWindow(settings_store)
    first.confirm_close = lambda _p: True
    qtbot.addWidget(first)
    first.resize(900, 640)
    first.show()
    data = tmp_path / "data" / "flowers.csv"  # the bundled demo itself is no recent file
    data.parent.mkdir()
    data.write_bytes(IRIS.read_bytes())
    with qtbot.waitSignal(first.data_page.datasetLoaded, timeout=20_000):
        first.open_dataset(str(data))
    first.close()
    assert settings_store.geometry() == first.saveGeometry()
    second = MainWindow(settings_store)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) != (1360, 860)  # restored, not the default size
    assert settings_store.recent_files()[0] == str(data)
    assert settings_store.last_directory() == str(data.parent)
    assert str(tmp_path) in settings_store.file_name


def test_dropping_a_file_opens_it(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(IRIS))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPoint(50, 50).toPointF(), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        QApplication.sendEvent(window, drop)
    assert window.data_page.dataset.n_rows == 150


def test_launch_without_a_display_explains_and_returns_2():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from automl_studio.gui.app import main; sys.exit(main([]))"],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "xvfb" in result.stderr and "QT_QPA_PLATFORM=offscreen" in result.stderr


def test_the_window_module_loads_no_heavy_libraries():
    code = ("import sys; import automl_studio.gui.app, automl_studio.gui.main_window; "
            "print(','.join(m for m in ('tensorflow', 'keras', 'keras_tuner', 'pandas') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
