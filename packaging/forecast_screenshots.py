"""Takes the README's forecast screenshot of the real window (issue #17).

``python packaging/forecast_screenshots.py --reopen PROJECT_DIR [--out DIR]``: opens a forecast
search already run there (``automl-studio search SERIES.csv --time-column date ... --project DIR``,
as ``benchmarks/timeseries_quality.py`` runs it) on the Results page's Forecast tab: the best
model's one-step forecasts against the actual values over the test period, beside the naive
forecast (``docs/screenshots/17-forecast-results.png``). Offscreen without a display, settings in
a temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import screenshots  # noqa: E402
from screenshots import reopen_search, save_shot, scripted_window, settle, wait_until  # noqa: E402


def main() -> int:
    if "--reopen" not in sys.argv:
        raise SystemExit("usage: forecast_screenshots.py --reopen PROJECT_DIR [--out DIR]")
    if "--out" in sys.argv:
        screenshots.OUT = Path(sys.argv[sys.argv.index("--out") + 1]).resolve()
    app, window, scratch = scripted_window("automl-studio-forecast-shots-")
    reopen_search(app, window, scratch, Path(sys.argv[sys.argv.index("--reopen") + 1]).resolve())
    tabs = window.results_page.tabs
    wait_until(app, lambda: tabs.isTabVisible(tabs.indexOf(tabs.forecast_tab)), 120, "the Forecast tab")
    tabs.setCurrentWidget(tabs.forecast_tab)
    settle(app, 3.0)
    save_shot(app, window, "17-forecast-results")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
