"""Takes the README's screenshots of the real window: `make screenshots`.

Runs offscreen when there is no display, with settings in a temporary folder, and drives a real
search (TensorFlow trains in the engine's child process), writing docs/screenshots/*.png.
``--reopen PROJECT_DIR`` takes only the views of a finished search (Compare, the Results tabs,
Export, Predict) from a search already run there; ``--out DIR`` writes the pictures elsewhere.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SIZE = (1440, 900)


def wait_until(app, condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.4) -> None:
    """Lets the window run its events (layouts, timers, paints) for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def offscreen_without_display() -> None:
    """Qt's offscreen platform on a Linux machine with no display (a CI runner, a container)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def save_shot(app, widget, name: str) -> None:
    """Writes ``widget`` as it looks once settled to docs/screenshots/``name``.png (or the folder
    given as ``--out DIR``, to look at new pictures without touching the README's)."""
    settle(app)
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print("wrote", path)


def start_random_search(window, project: Path, trials: int, epochs: int, refits: int | None = None) -> None:
    """Starts a random search of ``trials`` × ``epochs`` into ``project`` (``refits`` if given)."""
    page = window.search_page
    page.project_dir.setText(str(project))
    page.max_trials.setValue(trials)
    page.max_epochs.setValue(epochs)
    if refits is not None:
        page.refits.setValue(refits)
    page.tuner_combo.setCurrentIndex(page.tuner_combo.findData("random"))
    window.start_search()


def results_views(app, window, scratch: Path, model: Path, shot) -> None:
    """The views for understanding a finished search (issue #19): Compare (trials side by side,
    their networks), the Results tabs, the Export formats with their round trips, and Predict with
    a row it cannot score."""
    results = window.results_page
    for index, name in ((2, "10-results-curves"), (3, "11-results-importance"), (4, "12-results-network")):
        results.tabs.setCurrentIndex(index)
        shot(name)
    results.tabs.setCurrentIndex(0)
    for box in results.deploy_checks.values():
        box.setChecked(True)
    window.export_best_model(str(scratch / "deploy" / "iris_model.h5"))
    wait_until(app, lambda: not results.exporting, 600, "the export in every format")
    shot("13-export")

    compare = window.compare_page
    window.nav.setCurrentRow(window.pages.indexOf(compare))
    wait_until(app, lambda: compare.importance is not None, 120, "the hyperparameter importance")
    trials = [t for t in compare.store.trial_ids() if (r := compare.store.trial(t)) and r.status == "completed"]
    repeats = {t: compare.trials_model.active_hyperparameters(t).get("block.repeats", 0) for t in trials}
    best = compare.store.best_trial_id or trials[0]
    other = max(trials, key=lambda t: (repeats[t] != repeats[best], t != best))
    compare.tabs.setCurrentIndex(0)
    shot("08-compare-parallel")
    compare.select_trials([best, other])
    compare.compare_button.click()
    compare.compare_views.setCurrentIndex(0)
    shot("09-compare-trials")
    compare.compare_views.setCurrentIndex(1)
    shot("09-compare-networks")
    compare.compare_views.setCurrentIndex(0)

    predict = window.predict_page
    window.nav.setCurrentRow(window.pages.indexOf(predict))
    predict.open_model(str(model))
    lines = (REPO / "resources" / "iris.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], [line.split(",") for line in lines[1:]][::10][:14]
    rows[2][1] = "wide"  # file row 4: not a number, so it is marked and the rest are scored
    data = scratch / "new_flowers.csv"
    data.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    scored: list[object] = []
    predict.predictionsReady.connect(scored.append)
    predict.score_file(str(data))
    wait_until(app, lambda: bool(scored), 300, "the predictions")
    shot("14-predict")


def scripted_window(prefix: str) -> tuple[Any, Any, Path]:
    """The real window, offscreen, with its settings and autosave in a fresh temporary folder (so
    no recovery question), closing and discarding without asking, at :data:`SIZE`; and that folder.

    Returns ``(app, window, scratch)``; :data:`OUT` exists afterwards.
    """
    offscreen_without_display()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    os.environ["AUTOML_STUDIO_AUTOSAVE_DIR"] = str(scratch / "autosave")  # no recovery question

    from automl_studio.gui.app import create_application
    from automl_studio.gui.main_window import MainWindow
    from automl_studio.gui.settings_store import SettingsStore

    app = create_application()
    window = MainWindow(SettingsStore(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)))
    window.confirm_close = lambda _parent: True
    window.ask_to_save = lambda *_args: QMessageBox.StandardButton.Discard  # a scripted run keeps nothing
    window.resize(*SIZE)
    window.show()
    OUT.mkdir(parents=True, exist_ok=True)
    return app, window, scratch


def reopen_search(app: Any, window: Any, scratch: Path, project_dir: Path, timeout_s: float = 120) -> None:
    """Opens the search already run in ``project_dir`` (``automl-studio search ... --project DIR``)
    as a project file, waits for its data and shows the Results page.

    Raises:
        SystemExit: ``project_dir`` holds no search.
    """
    from automl_studio.engine.search.project import ProjectFile, read_search_document

    document = read_search_document(project_dir)
    if document is None:
        raise SystemExit(f"screenshots: {project_dir} holds no search")
    project_file = scratch / "reopened.automl.json"
    ProjectFile(document.config, name=project_dir.name).save(project_file)
    window.open_project(str(project_file))
    wait_until(app, lambda: window.data_page.profile is not None, timeout_s, "the project's data")
    window.nav.setCurrentRow(3)


def main() -> int:
    global OUT
    if "--out" in sys.argv:
        OUT = Path(sys.argv[sys.argv.index("--out") + 1]).resolve()
    from automl_studio.gui.app import demo_dataset

    app, window, scratch = scripted_window("automl-studio-shots-")

    def shot(name: str) -> None:
        save_shot(app, window, name)

    if "--reopen" in sys.argv:  # a search already run (`automl-studio search ... --project DIR`)
        project_dir = Path(sys.argv[sys.argv.index("--reopen") + 1]).resolve()
        reopen_search(app, window, scratch, project_dir, timeout_s=60)
        results_views(app, window, scratch, project_dir / "best" / "best.h5", shot)
        window.close()
        return 0
    shot("01-empty")
    window.open_dataset(demo_dataset())
    wait_until(app, lambda: window.data_page.profile is not None, 30, "the demo data")
    shot("02-data")
    window.nav.setCurrentRow(1)
    editor = window.network_page.editor
    wait_until(app, lambda: editor.signature() is not None, 30, "the network's shapes")
    editor.select_nodes(["dense"])  # the inspector shows the searched ranges of a layer
    settle(app)
    editor.canvas.fit_all()
    shot("03-network")
    editor.select_nodes([])

    page = window.search_page
    start_random_search(window, scratch / "project", trials=8, epochs=40)
    wait_until(app, lambda: page.trials_model.count("completed") >= 3
               and page.trials_model.count("running") == 1
               and page.plots.current_trial() in page.trials_model.trial_ids()
               and page.plots.current_epochs() >= 8, 300, "three trials and a running one")
    page.plots.redraw()
    shot("04-search-running")
    wait_until(app, lambda: not page.running, 600, "the search to finish")
    page.trials_table.sortByColumn(2, page.trials_table.horizontalHeader().sortIndicatorOrder().AscendingOrder)
    page.trials_table.selectRow(1)
    shot("05-search-finished")
    window.nav.setCurrentRow(3)
    dest = scratch / "export" / "iris_model.h5"
    window.export_best_model(str(dest))
    wait_until(app, lambda: not window.results_page.exporting, 300, "the export")
    shot("06-results")
    results_views(app, window, scratch, dest, shot)

    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(0, 90, size=(120, 32, 32, 3), dtype=np.uint8)
    y = np.arange(120) % 3
    yy, xx = np.mgrid[:32, :32]
    x[y == 0] = np.where(((yy - 16) ** 2 + (xx - 16) ** 2 < 80)[None, :, :, None], 230, x[y == 0])
    x[y == 1, 8:24, 8:24, 0] = 220
    x[y == 2, :, 12:20, 2] = 240
    images = scratch / "shapes.npz"
    np.savez(images, x=x, y=y)
    window.open_dataset(str(images))
    wait_until(app, lambda: window.data_page.dataset is not None
               and window.data_page.dataset.path == str(images), 30, "the image data")
    shot("07-image-data")
    window.close()
    print("project and export kept in", scratch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
