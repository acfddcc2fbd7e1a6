"""Takes every screen of the window at one size, for a layout review (`make review-screenshots`).

    python packaging/review_screenshots.py OUT_DIR [WIDTH HEIGHT]

WIDTH×HEIGHT is the window's size in logical pixels (default 1024×700); run it with
``QT_SCALE_FACTOR=2`` (and 1280×720) for a 2560×1440 screen. Drives a real, short search on a
made-up customer table with missing values (TensorFlow trains in the engine's child process) and
writes OUT_DIR/NN-name.png: the welcome view, the Data page with warnings and with a one-class
target, the Network page (default network, after Fit, the training box), the Search page live and
finished, each Results tab, Compare, Predict, the Export file dialog and the Help window.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from screenshots import offscreen_without_display, settle, start_random_search, wait_until


def customer_table(path: Path, rows: int = 240, *, one_class: bool = False) -> None:
    """Writes a churn table: an ID column, missing numbers and categories, a constant column."""
    import numpy as np

    rng = np.random.default_rng(7)
    age = rng.integers(18, 80, rows).astype(float)
    income = rng.normal(52_000, 15_000, rows).round(0)
    tenure = rng.integers(0, 120, rows)
    city = rng.choice(["Lyon", "Porto", "Turin", "Ghent"], rows)
    plan = rng.choice(["basic", "plus", "premium"], rows)
    churn = np.where(tenure + rng.normal(0, 20, rows) < 40, "yes", "no")
    if one_class:
        churn[:] = "no"
    age[rng.random(rows) < 0.12] = np.nan
    income[rng.random(rows) < 0.08] = np.nan
    lines = ["customer_id,age,income,tenure_months,city,plan,country,churn"]
    for i in range(rows):
        a = "" if np.isnan(age[i]) else f"{age[i]:.0f}"
        inc = "" if np.isnan(income[i]) else f"{income[i]:.0f}"
        c = "" if rng.random() < 0.05 else city[i]
        lines.append(f"C{100000 + i},{a},{inc},{tenure[i]},{c},{plan[i]},PT,{churn[i]}")
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    offscreen_without_display()
    out = Path(sys.argv[1]).resolve()
    size = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) >= 4 else (1024, 700)
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    scratch = Path(tempfile.mkdtemp(prefix="automl-studio-review-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    os.environ["AUTOML_STUDIO_AUTOSAVE_DIR"] = str(scratch / "autosave")

    from automl_studio.gui.app import create_application
    from automl_studio.gui.main_window import MainWindow
    from automl_studio.gui.settings_store import SettingsStore

    app = create_application()
    window = MainWindow(SettingsStore(QSettings(str(scratch / "settings.ini"),
                                                QSettings.Format.IniFormat)))
    window.confirm_close = lambda _parent: True
    window.ask_to_save = lambda *_args: QMessageBox.StandardButton.Discard
    window.resize(*size)
    window.show()
    count = [0]

    def shot(name: str, widget=None) -> None:
        settle(app, 0.6)
        count[0] += 1
        path = out / f"{count[0]:02d}-{name}.png"
        (widget or window).grab().save(str(path))
        print("wrote", path, flush=True)

    table = scratch / "customers.csv"
    customer_table(table)
    one_class = scratch / "one_class.csv"
    customer_table(one_class, one_class=True)
    window.settings.add_recent_file(str(table))
    window.show_welcome()
    shot("welcome")

    window.open_dataset(str(table))
    wait_until(app, lambda: window.data_page.profile is not None
               and window.data_page.dataset is not None
               and window.data_page.dataset.path == str(table), 60, "the customer table")
    page = window.data_page
    page.target_combo.setCurrentIndex(page.target_combo.findText("churn"))
    settle(app, 1.5)
    shot("data-warnings")

    window.nav.setCurrentRow(1)
    editor = window.network_page.editor
    wait_until(app, lambda: editor.signature() is not None, 60, "the network's shapes")
    editor.select_nodes([])
    shot("network-default")
    editor.canvas.fit_all()
    shot("network-fit")
    editor.set_training("optimizer", {"hp": "choice", "values": ["adam", "sgd"]})
    editor.set_training("learning_rate", {"hp": "float", "min": 1e-4, "max": 1e-2, "sampling": "log"})
    editor.select_nodes([])
    shot("network-training-box")
    nodes = [n for n in editor.spec().get("nodes", []) if n.get("type") == "Dense"]
    if nodes:
        editor.select_nodes([nodes[0]["id"]])
        shot("network-dense-inspector")
    editor.select_nodes([])

    search = window.search_page
    start_random_search(window, scratch / "project", trials=3, epochs=6, refits=1)
    wait_until(app, lambda: search.trials_model.count("completed") >= 1
               and search.trials_model.count("running") == 1
               and search.plots.current_epochs() >= 2, 900, "a trial and a running one")
    search.plots.redraw()
    shot("search-running")
    wait_until(app, lambda: not search.running, 1800, "the search to finish")
    shot("search-finished")

    window.nav.setCurrentRow(3)
    results = window.results_page
    for i in range(results.tabs.count()):
        if not results.tabs.isTabVisible(i):  # the Forecast tab, for data without a time column
            continue
        results.tabs.setCurrentIndex(i)
        name = "-".join(results.tabs.tabText(i).lower().replace("/", " ").split())  # "ROC / PR curves"
        shot(f"results-{name}")
    results.tabs.setCurrentIndex(0)

    window.nav.setCurrentRow(5)
    window.compare_page.ensure_plots()
    shot("compare")

    window.nav.setCurrentRow(4)
    window.predict_page.use_best_model()
    settle(app, 2.0)
    shot("predict")

    dialog = QFileDialog(window, "Export best model", str(scratch), "Keras HDF5 (*.h5);;Keras v3 (*.keras)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.selectFile("customers.h5")
    dialog.show()
    shot("export-dialog", dialog)
    dialog.close()

    help_window = window.show_user_guide()
    help_window.resize(min(900, size[0]), min(640, size[1]))
    shot("help", help_window)
    help_window.close()

    window.open_dataset(str(one_class))
    wait_until(app, lambda: window.data_page.dataset is not None
               and window.data_page.dataset.path == str(one_class), 60, "the one-class table")
    page.target_combo.setCurrentIndex(page.target_combo.findText("churn"))
    settle(app, 1.5)
    window.nav.setCurrentRow(0)
    shot("data-one-class")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
