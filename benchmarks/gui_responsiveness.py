"""How responsive the window stays during a whole search, start included.

A 10 ms QTimer on the GUI thread records when it actually fires; the largest gap between two
ticks is the longest the window was frozen. Drives the real window and worker on iris.
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py [trials] [epochs]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QMessageBox

    scratch = Path(tempfile.mkdtemp(prefix="automl-studio-bench-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    os.environ["AUTOML_STUDIO_AUTOSAVE_DIR"] = str(scratch / "autosave")  # no recovery question
    from automl_studio.gui.app import create_application, demo_dataset
    from automl_studio.gui.main_window import MainWindow
    from automl_studio.gui.settings_store import SettingsStore

    app = create_application()
    window = MainWindow(SettingsStore(QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)))
    window.confirm_close = lambda _parent: True
    window.ask_to_save = lambda *_args: QMessageBox.StandardButton.Discard  # a scripted run keeps nothing
    window.show()
    window.open_dataset(demo_dataset())
    while window.data_page.profile is None:
        app.processEvents()
        time.sleep(0.01)
    page = window.search_page
    page.project_dir.setText(str(scratch / "project"))
    page.max_trials.setValue(trials)
    page.max_epochs.setValue(epochs)
    page.tuner_combo.setCurrentIndex(page.tuner_combo.findData("random"))
    page.plots.resize(1100, 650)

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    phases: dict[str, float] = {}

    def finished(_event: dict) -> None:
        phases["finished"] = time.perf_counter()
        QTimer.singleShot(300, app.quit)

    page.finished.connect(finished)
    page.controller.processStarted.connect(lambda _pid: phases.setdefault("spawned", time.perf_counter()))
    page.controller.trialStarted.connect(lambda _e: phases.setdefault("first trial", time.perf_counter()))
    timer.start()
    QTimer.singleShot(200, lambda: (phases.setdefault("start clicked", time.perf_counter()),
                                    window.act_start.trigger()))
    app.exec()
    timer.stop()
    pairs = list(zip(ticks, ticks[1:], strict=False))
    worst = sorted(pairs, key=lambda p: p[1] - p[0])[-3:]
    gaps = sorted((b - a) * 1000 for a, b in pairs)
    p99 = gaps[int(0.99 * (len(gaps) - 1))]
    total = ticks[-1] - ticks[0]
    print(f"search: {trials} trials × ≤{epochs} epochs on iris, {page.trials_model.count('completed')} "
          f"completed, {total:.1f} s observed, {len(gaps)} timer gaps, {os.cpu_count()} CPUs")
    print(f"10 ms timer gap: median {statistics.median(gaps):6.1f} ms   p99 {p99:6.1f} ms   "
          f"max {gaps[-1]:6.1f} ms")
    t0 = phases.get("start clicked", ticks[0])
    for name in ("spawned", "first trial", "finished"):
        if name in phases:
            print(f"  {name:<12} at +{phases[name] - t0:6.2f} s after Start")
    print("  longest gaps began at " + ", ".join(
        f"{a - t0:+.2f} s ({(b - a) * 1000:.0f} ms)" for a, b in reversed(worst)))
    # The stop's latency is measured by benchmarks/stop_and_budget.py.
    stop: dict[str, float] = {}
    window.close()
    from results_file import write_results

    write_results("gui_responsiveness", {
        "trials": trials, "epochs": epochs, "observed_s": total, "target_max_gap_ms": 50,
        "gap_ms": {"median": statistics.median(gaps), "p99": p99, "max": gaps[-1]},
        "phases_s": {name: at - t0 for name, at in phases.items()}, "stop": stop})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
