"""Time from process start to a shown main window, against baselines measured the same way.

Each case runs in a fresh subprocess several times; the parent's clock runs from just before the
process is spawned until the child prints that its window was painted. Prints the median.
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_launch.py [repeats]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

APP = """
from automl_studio.gui.app import create_application
app = create_application()
from automl_studio.gui.main_window import MainWindow
window = MainWindow()
window.firstFramePainted.connect(lambda: print("shown", flush=True))
window.show()
while not window.ready:  # keep going until the deferred part is built, then report it too
    app.processEvents()
print("ready", flush=True)
"""

BARE = """
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(1360, 860)
shown = []

class FirstFrame(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.UpdateRequest and not shown:
            shown.append(1)
        return False

spy = FirstFrame()
window.installEventFilter(spy)
window.show()
while not shown:
    app.processEvents()
app.processEvents()
print("shown", flush=True)
print("ready", flush=True)
"""

IMPORT_TF = 'import tensorflow; print("shown", flush=True); print("ready", flush=True)'

CASES = (
    ("bare QApplication + QMainWindow", BARE),
    ("automl-studio MainWindow (as `gui` starts it)", APP),
    ("for scale: python -c 'import tensorflow'", IMPORT_TF),
)


def time_once(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawning the process to its first painted frame, and to "fully built"."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    marks: dict[str, float] = {}
    for line in proc.stdout:
        marks.setdefault(line.strip(), time.perf_counter() - start)
        if "ready" in marks:
            break
    proc.kill()
    proc.wait(60)
    if "shown" not in marks:
        raise RuntimeError("the child never showed its window")
    return marks["shown"], marks.get("ready", marks["shown"])


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="automl-studio-bench-")  # no real settings
    env["AUTOML_STUDIO_AUTOSAVE_DIR"] = tempfile.mkdtemp(prefix="automl-studio-bench-")  # nor autosaves
    print(f"{repeats} runs each, platform {env['QT_QPA_PLATFORM']}, {os.cpu_count()} CPUs")
    measured: dict[str, dict[str, list[float]]] = {}
    for label, code in CASES:
        time_once(code, env)  # warm the file cache
        runs = [time_once(code, env) for _ in range(repeats)]
        shown = [r[0] for r in runs]
        ready = [r[1] for r in runs]
        print(f"{label:<48} shown: median {statistics.median(shown) * 1000:6.0f} ms "
              f"(min {min(shown) * 1000:5.0f}, max {max(shown) * 1000:5.0f})   "
              f"fully built: median {statistics.median(ready) * 1000:6.0f} ms")
        measured[label] = {"shown_s": shown, "ready_s": ready}
    from results_file import write_results

    write_results("gui_launch", {"repeats": repeats, "platform": env["QT_QPA_PLATFORM"], "target_s": 1.5,
                                 "cases": measured})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
