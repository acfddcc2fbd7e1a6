"""Fixtures for the window tests: isolated QSettings, a ready MainWindow, small data files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

REPO = Path(__file__).resolve().parents[2]
IRIS = REPO / "resources" / "iris.csv"


@pytest.fixture(scope="session", autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every QSettings the tests create lives in a temporary folder, under a test organisation."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QCoreApplication.setOrganizationName("automl-studio-tests")
    QCoreApplication.setApplicationName("automl-studio-tests")
    return folder


@pytest.fixture
def settings_store(tmp_path: Path):
    from automl_studio.gui.settings_store import SettingsStore

    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot, settings_store):
    from automl_studio.gui.app import create_application
    from automl_studio.gui.main_window import MainWindow

    create_application()
    QCoreApplication.setOrganizationName("automl-studio-tests")
    win = MainWindow(settings_store)
    win.confirm_close = lambda _parent: True
    win.ask_to_save = discard_changes  # tests that ask "Save changes?" put the real question back
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.ready, timeout=10_000)  # the plots are built after the first frame
    yield win
    win.close()


@pytest.fixture
def iris_window(qtbot, window):
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        window.open_dataset(str(IRIS))
    qtbot.waitUntil(lambda: window.data_page.profile is not None, timeout=10_000)
    wait_for_shapes(qtbot, window)
    return window


def open_second_window(qtbot, settings_store):
    """Another main window on the same settings, as when the app is started a second time."""
    from automl_studio.gui.main_window import MainWindow

    second = MainWindow(settings_store)
    second.confirm_close = lambda _parent: True
    second.ask_to_save = discard_changes
    qtbot.addWidget(second)
    second.show()
    return second


def discard_changes(_parent, _name):
    """Answers the window's "Save changes?" with Discard (a test's unsaved edits are not kept)."""
    from PySide6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Discard


def wait_for_shapes(qtbot, window, timeout: int = 20_000) -> None:
    """Waits until the Network page's editor knows the open data's shapes (a background task)."""
    qtbot.waitUntil(lambda: window.network_page.editor.signature() is not None, timeout=timeout)


def input_sources(window) -> set[str]:
    """The data sources the Network page's graph reads (its Input layers)."""
    return {n["params"].get("source") for n in window.network_page.spec()["nodes"] if n["type"] == "Input"}


@pytest.fixture(scope="module")
def iris_signature():
    """The signature the search computes for the demo table (4 numbers, 3 classes)."""
    from automl_studio.engine.data.features import prepare_data
    from automl_studio.engine.data.loading import load_dataset
    from automl_studio.engine.data.profile import profile_dataset

    dataset = load_dataset(IRIS)
    return prepare_data(dataset, profile_dataset(dataset)).signature


@pytest.fixture
def editor(qtbot, iris_signature):
    """A shown network editor, alone, that knows the demo table's shapes."""
    from automl_studio.gui.editor.network_editor import NetworkEditor

    widget = NetworkEditor()
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.set_signature(iris_signature)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def image_npz(tmp_path: Path) -> Path:
    """60 tiny RGB images of two classes that a small network can tell apart."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(0, 80, size=(60, 16, 16, 3), dtype=np.uint8)
    y = np.array([0, 1] * 30)
    x[y == 1, 4:12, 4:12, :] = 230  # class 1: a bright square in the middle
    path = tmp_path / "shapes.npz"
    np.savez(path, x=x, y=y)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform plugin cannot pass size hints to a (non-existent) window manager and
    # says so on every top-level resize; that is the plugin's limit, not our bug.
    for item in items:
        if "tests/gui" in str(item.fspath):
            item.add_marker(pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints"))
