"""Memory over a 100-trial search: the window's process stays flat, the engine's growth bounded.

Runs the real window offscreen (or on a display), opens the demo data, sets 100 trials of one
epoch and presses Start through the public object names. Every few seconds it samples the
resident memory of the window's process and of the engine child (from /proc, Linux). Prints the
figures at trials 10, 50 and 100 and the growth between 10 and 100 — the baseline is each
process's own memory once the search is warm (trial 10), measured in the same run.

    QT_QPA_PLATFORM=offscreen python benchmarks/memory_soak.py [--trials 100] [--no-recycle]

The engine ends its process between trials once it has grown by runner.RECYCLE_MB and the search
goes on in a fresh one; --no-recycle keeps one process (how it was before, unbounded).

Writes benchmarks/results/memory_soak.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--no-recycle", action="store_true",
                        help="keep one engine process for the whole search (the unbounded baseline)")
    args = parser.parse_args()
    from automl_studio.engine.process import runner
    from automl_studio.engine.process.memory import resident_mb

    if args.no_recycle:
        runner.RECYCLE_MB = 0
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QAbstractButton, QMessageBox, QSpinBox

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    os.environ["AUTOML_STUDIO_AUTOSAVE_DIR"] = tempfile.mkdtemp()  # no recovery question
    from automl_studio.gui.app import create_application
    from automl_studio.gui.main_window import MainWindow

    app = create_application([])
    window = MainWindow()
    window.confirm_close = lambda _parent: True
    window.ask_to_save = lambda *_args: QMessageBox.StandardButton.Discard  # a scripted run keeps nothing
    window.show()
    window.open_dataset(str(REPO / "resources" / "iris.csv"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (window.data_page.profile is not None
                                               and window.network_page.editor.signature() is not None):
        app.processEvents()
        time.sleep(0.05)
    window.findChild(QSpinBox, "maxTrials").setValue(args.trials)
    window.findChild(QSpinBox, "maxEpochs").setValue(1)
    window.findChild(QAbstractButton, "startSearch").click()
    samples: list[dict] = []
    state = {"done": False}
    pids: list[int] = []
    started = time.monotonic()

    def sample() -> None:
        done = window.search_page.trials_model.count("completed")
        child = window.search_page.controller.pid  # changes when the engine recycles its process
        if child and child not in pids:
            pids.append(child)
        engine = (resident_mb(child) if child else None) or float("nan")
        samples.append({"t": time.monotonic() - started, "trials": done, "gui_mb": resident_mb(),
                        "engine_mb": engine})
        if not window.findChild(QAbstractButton, "stopSearch").isEnabled() and done >= args.trials:
            state["done"] = True
            app.quit()

    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(2000)
    app.exec()

    def at(n: int) -> dict:
        return next((s for s in samples if s["trials"] >= n), samples[-1])

    marks = {n: at(n) for n in (10, 50, args.trials)}
    gui_growth = marks[args.trials]["gui_mb"] - marks[10]["gui_mb"]
    engine_values = [s["engine_mb"] for s in samples if s["trials"] >= 10 and s["engine_mb"] == s["engine_mb"]]
    engine_growth = (max(engine_values) - marks[10]["engine_mb"]) if engine_values else float("nan")
    for n, s in marks.items():
        print(f"trial {n:4d}: window {s['gui_mb']:7.1f} MB   engine {s['engine_mb']:7.1f} MB   ({s['t']:.0f} s)")
    print(f"growth from trial 10 to {args.trials}: window {gui_growth:+.1f} MB, engine (peak) {engine_growth:+.1f} MB")
    print(f"engine processes: {len(pids)} (recycling {'off' if args.no_recycle else f'at +{runner.RECYCLE_MB} MB'}); "
          f"engine peak {max(engine_values):.0f} MB" if engine_values else "")
    from results_file import write_results

    write_results("memory_soak", {
        "machine": platform.node(), "python": sys.version.split()[0], "trials": args.trials,
        "recycle_mb": runner.RECYCLE_MB, "engine_processes": len(pids),
        "marks": marks, "gui_growth_mb": gui_growth, "engine_growth_mb": engine_growth, "samples": samples})


if __name__ == "__main__":
    main()
