"""Takes the README's forecast screenshot of the real window (issue #17).

``python packaging/forecast_screenshots.py --reopen PROJECT_DIR [--out DIR]``: opens a forecast
search already run there (``automl-studio search SERIES.csv --time-column date ... --project DIR``,
as ``benchmarks/timeseries_quality.py`` runs it) on the Results page's Forecast tab: the best
model's one-step forecasts against the actual values over the test period, beside the naive
forecast (``docs/screenshots/17-forecast-results.png``). Offscreen without a display, settings in
a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import screenshots  # noqa: E402
from screenshots import offscreen_without_display, save_shot, settle, wait_until  # noqa: E402


def main() -> int:
    if "--reopen" not in sys.argv:
        raise SystemExit("usage: forecast_screenshots.py --reopen PROJECT_DIR [--out DIR]")
    if "--out" in sys.argv:
        screenshots.OUT = Path(sys.argv[sys.argv.index("--out") + 1]).resolve()
    offscreen_without_display()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    scratch = Path(tempfile.mkdtemp(prefix="automl-studio-forecast-shots-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    os.environ["AUTOML_STUDIO_AUTOSAVE_DIR"] = str(scratch / "autosave")  # no recovery question

    from automl_studio.engine.search.project import ProjectFile, read_search_document
    from automl_studio.gui.app import create_application
    from automl_studio.gui.main_window import MainWindow
    from automl_studio.gui.settings_store import SettingsStore

    app = create_application()
    window = MainWindow(SettingsStore(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)))
    window.confirm_close = lambda _parent: True
    window.ask_to_save = lambda *_args: QMessageBox.StandardButton.Discard  # a scripted run keeps nothing
    window.resize(*screenshots.SIZE)
    window.show()
    screenshots.OUT.mkdir(parents=True, exist_ok=True)

    project_dir = Path(sys.argv[sys.argv.index("--reopen") + 1]).resolve()
    document = read_search_document(project_dir)
    if document is None:
        raise SystemExit(f"forecast screenshots: {project_dir} holds no search")
    project_file = scratch / "reopened.automl.json"
    ProjectFile(document.config, name=project_dir.name).save(project_file)
    window.open_project(str(project_file))
    wait_until(app, lambda: window.data_page.profile is not None, 120, "the project's data")
    window.nav.setCurrentRow(3)
    tabs = window.results_page.tabs
    wait_until(app, lambda: tabs.isTabVisible(tabs.indexOf(tabs.forecast_tab)), 120, "the Forecast tab")
    tabs.setCurrentWidget(tabs.forecast_tab)
    settle(app, 3.0)
    save_shot(app, window, "17-forecast-results")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
