"""Takes the README's text screenshots of the real window (issue #17).

``python packaging/text_screenshots.py [--reopen PROJECT_DIR] [--out DIR]``: opens the Debian
package descriptions of ``benchmarks/text_quality.py`` (built from this machine's apt lists) on the
Data page, word pairs on, with the description column's token statistics
(``docs/screenshots/text-data.png``). With ``--reopen``, a text search already run there
(``automl-studio search ... --project DIR``) is opened on the Results page
(``text-results.png``). Offscreen without a display, settings in a temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import screenshots  # noqa: E402
from screenshots import reopen_search, save_shot, scripted_window, settle, wait_until  # noqa: E402


def main() -> int:
    if "--out" in sys.argv:
        screenshots.OUT = Path(sys.argv[sys.argv.index("--out") + 1]).resolve()
    from text_quality import write_set

    app, window, scratch = scripted_window("automl-studio-text-shots-")
    if "--reopen" in sys.argv:
        reopen_search(app, window, scratch, Path(sys.argv[sys.argv.index("--reopen") + 1]).resolve())
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
