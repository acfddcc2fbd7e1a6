"""How long one redraw of the live plots takes with 200 trials × 100 epochs.

Prints the median (and p90) of: pushing the data into the curve items (``LivePlots.redraw``)
and that plus painting every plot synchronously, against the same redraw with no trials.
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/plot_redraw.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "gui"))

REPEATS = 60


def events(trials: int, epochs: int) -> list[dict]:
    out: list[dict] = []
    for t in range(trials):
        tid = f"{t:03d}"
        out.append({"type": "trial_started", "trial_id": tid, "hyperparameters": {"u": t}})
        for e in range(1, epochs + 1):
            loss = 1.0 / e + 0.001 * t
            out.append({"type": "epoch_ended", "trial_id": tid, "epoch": e,
                        "metrics": {"loss": loss, "val_loss": loss + 0.1, "accuracy": 1 - loss / 2,
                                    "val_accuracy": 0.9 - loss / 2}})
        out.append({"type": "trial_ended", "trial_id": tid, "status": "completed",
                    "score": 0.1 + 0.001 * t, "duration_s": 1.0, "time": 1000.0 + t})
    return out


def measure(plots, app, *, paint: bool) -> list[float]:
    times = []
    views = [plots.current_plot, plots.all_plot, plots.best_plot, plots.scatter_plot]
    for _ in range(REPEATS):
        plots.invalidate()
        # what a new epoch does: the running trial's curve changes
        t0 = time.perf_counter()
        plots.redraw()
        if paint:
            for view in views:
                view.viewport().repaint()
        times.append((time.perf_counter() - t0) * 1000)
        app.processEvents()
    return times


MEASURED: dict[str, dict[str, float]] = {}


def summary(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    MEASURED[label] = {"median_ms": statistics.median(times), "p90_ms": p90}
    print(f"{label:<44} median {statistics.median(times):7.2f} ms   p90 {p90:7.2f} ms")


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from automl_studio.engine.core.events import event_from_dict
    from automl_studio.gui.app import create_application
    from automl_studio.gui.models.trial_store import TrialStore
    from automl_studio.gui.plots.live_plots import LivePlots

    app = create_application()
    assert isinstance(app, QApplication)
    store = TrialStore()
    plots = LivePlots(store)
    plots.resize(1100, 650)
    plots.show()
    app.processEvents()
    store.reset("val_loss", started_at=1000.0)
    summary("empty: redraw (data push)", measure(plots, app, paint=False))
    summary("empty: redraw + paint all four plots", measure(plots, app, paint=True))
    feed = [event_from_dict(e) for e in events(200, 100)]
    t0 = time.perf_counter()
    for event in feed:
        store.apply(event)
    print(f"feeding {len(feed)} events took {(time.perf_counter() - t0) * 1000:.1f} ms "
          f"({(time.perf_counter() - t0) / len(feed) * 1e6:.1f} µs/event)")
    summary("200 trials × 100 epochs: redraw (data push)", measure(plots, app, paint=False))
    summary("200 trials × 100 epochs: redraw + paint", measure(plots, app, paint=True))
    plots.close()
    from results_file import write_results

    write_results("plot_redraw", {"target_ms": 16, "redraw": MEASURED})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
