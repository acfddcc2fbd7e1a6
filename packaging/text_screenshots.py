"""Takes the README's text screenshots of the real window (issue #17).

``python packaging/text_screenshots.py [--reopen PROJECT_DIR] [--out DIR]``: opens the Debian
package descriptions of ``benchmarks/text_quality.py`` (built from this machine's apt lists) on the
Data page, word pairs on, with the description column's token statistics
(``docs/screenshots/text-data.png``). With ``--reopen``, a text search already run there
(``automl-studio search ... --project DIR``) is opened on the Results page
(``text-results.png``). Offscreen without a display, settings in a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import screenshots  # noqa: E402
from screenshots import offscreen_without_display, save_shot, settle, wait_until  # noqa: E402


def main() -> int:
    if "--out" in sys.argv:
        screenshots.OUT = Path(sys.argv[sys.argv.index("--out") + 1]).resolve()
    offscreen_without_display()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    scratch = Path(tempfile.mkdtemp(prefix="automl-studio-text-shots-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    os.environ["AUTOML_STUDIO_AUTOSAVE_DIR"] = str(scratch / "autosave")  # no recovery question

    from text_quality import write_set

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

    if "--reopen" in sys.argv:
        from automl_studio.engine.search.project import ProjectFile, read_search_document

        project_dir = Path(sys.argv[sys.argv.index("--reopen") + 1]).resolve()
        document = read_search_document(project_dir)
        if document is None:
            raise SystemExit(f"text screenshots: {project_dir} holds no search")
        project_file = scratch / "reopened.automl.json"
        ProjectFile(document.config, name=project_dir.name).save(project_file)
        window.open_project(str(project_file))
        wait_until(app, lambda: window.data_page.profile is not None, 120, "the project's data")
        window.nav.setCurrentRow(3)
        settle(app, 3.0)
        save_shot(app, window, "text-results")
        window.close()
        return 0

    data = write_set("debian", scratch)
    window.open_dataset(str(data))
    page = window.data_page
    wait_until(app, lambda: page.profile is not None, 120, "the descriptions' profile")
    page.findChild(object, "textNgrams").setValue(2)
    wait_until(app, lambda: "2-grams" in (page.columns_model.index(0, 4).data() or ""), 120,
               "the token statistics with word pairs")
    page.columns_view.selectRow(0)  # the distribution plot shows the column's most frequent values
    save_shot(app, window, "text-data")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
