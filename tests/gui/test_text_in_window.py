"""Text columns in the window (issue #17): the Data page's text kind, and a search on reviews."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import wait_for_shapes
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from datafiles import write_reviews  # noqa: E402

SEARCH_TIMEOUT_MS = 600_000


def open_reviews(qtbot, window, tmp_path: Path) -> None:
    path = write_reviews(tmp_path / "reviews.csv", with_stars=True)
    with qtbot.waitSignal(window.data_page.profileChanged, timeout=300_000):
        window.open_dataset(str(path))
    wait_for_shapes(qtbot, window)


def choose_kind(qtbot, page, row: int, label: str) -> None:
    view = page.findChild(QWidget, "columnList")
    view.customContextMenuRequested.emit(view.visualRect(page.columns_model.index(row, 1)).center())
    # Each right-click makes its own menu: the open one is the visible one.
    qtbot.waitUntil(lambda: any(m.isVisible() for m in view.findChildren(QMenu, "columnKindMenu")),
                    timeout=5000)
    menu = next(m for m in view.findChildren(QMenu, "columnKindMenu") if m.isVisible())
    action = next(a for a in menu.actions() if a.text() == label)
    with qtbot.waitSignal(page.profileChanged, timeout=30_000):
        action.trigger()
    menu.close()


# A popup menu on the offscreen platform: these two are its own, harmless notes.
@pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing the keyboard)")
def test_a_review_column_shows_as_text_with_token_statistics_and_switches_kind(qtbot, window, tmp_path):
    open_reviews(qtbot, window, tmp_path)
    page = window.data_page
    model = page.columns_model
    assert model.column_names()[:2] == ["review", "stars"]
    assert model.index(0, 1).data() == "text"
    # The profile's word counts first, then what the model gets on the search's split.
    qtbot.waitUntil(lambda: "out of vocabulary" in model.index(0, 4).data(), timeout=60_000)
    assert "tokens per value" in model.index(0, 4).data()
    assert model.used_columns() == ["review", "stars"]
    choose_kind(qtbot, page, 0, "Treat as categorical")
    assert model.index(0, 1).data() == "categorical"
    assert window.current_config().column_kinds == {"review": "categorical"}
    choose_kind(qtbot, page, 1, "Treat as text (words)")
    assert model.index(1, 1).data() == "text"
    assert window.current_config().column_kinds == {"review": "categorical", "stars": "text"}


def test_the_token_statistics_follow_the_ngram_and_vocabulary_settings(qtbot, window, tmp_path):
    """The Note column and the Text box count what the model gets: with word pairs on, the
    vocabulary and lengths hold the pairs; a smaller vocabulary leaves more validation tokens unknown."""
    import re

    open_reviews(qtbot, window, tmp_path)
    page = window.data_page
    label = page.findChild(QWidget, "textStatistics")

    def shown() -> tuple[int, int, int]:
        """(vocabulary, 95th percentile of lengths, % out of vocabulary) in the Note column, once counted."""
        qtbot.waitUntil(lambda: "out of vocabulary" in page.columns_model.index(0, 4).data(), timeout=60_000)
        note = page.columns_model.index(0, 4).data()
        assert label.text() == "review: " + note.removeprefix("text: ")
        vocabulary = int(re.search(r"text: ([\d,]+) tokens", note)[1].replace(",", ""))
        p95 = int(re.search(r"–(\d+) tokens per value", note)[1])
        oov = int(re.search(r"(\d+)% of validation tokens out of vocabulary", note)[1])
        return vocabulary, p95, oov

    qtbot.waitUntil(lambda: "2-grams" in page.columns_model.index(0, 4).data(), timeout=60_000)  # the default
    pairs_vocabulary, pairs_p95, pairs_oov = shown()
    page.findChild(QWidget, "textNgrams").setValue(1)
    qtbot.waitUntil(lambda: "words;" in page.columns_model.index(0, 4).data(), timeout=60_000)
    words_vocabulary, words_p95, words_oov = shown()
    page.findChild(QWidget, "textNgrams").setValue(2)
    qtbot.waitUntil(lambda: "2-grams" in page.columns_model.index(0, 4).data(), timeout=60_000)
    assert shown() == (pairs_vocabulary, pairs_p95, pairs_oov)
    assert pairs_vocabulary > words_vocabulary and pairs_p95 > words_p95 and pairs_oov > words_oov
    page.findChild(QWidget, "textMaxTokens").setValue(20)
    qtbot.waitUntil(lambda: "the 20 most frequent of" in page.columns_model.index(0, 4).data(), timeout=60_000)
    capped_vocabulary, _, capped_oov = shown()
    assert capped_vocabulary == 20 and capped_oov > pairs_oov


def load_in_fresh_process(path: str) -> str:
    code = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
        m = keras.models.load_model({path!r})
        print("inputs", sorted(t.name.split(":")[0] for t in m.inputs), "params", m.count_params())
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a search in the engine's child process on a busy 2-core machine
def test_a_text_search_runs_in_the_window_and_exports_a_reloadable_h5(qtbot, window, tmp_path):
    open_reviews(qtbot, window, tmp_path)
    page = window.search_page
    page.project_dir.setText(str(tmp_path / "reviews-project"))
    window.findChild(QWidget, "maxTrials").setValue(2)
    page.max_epochs.setValue(2)
    page.refits.setValue(1)  # one refit, not five: the search is what is tested here
    combo = window.findChild(QWidget, "tunerChoice")
    combo.setCurrentIndex(combo.findData("random"))
    start = window.findChild(QWidget, "startSearch")
    assert start.isEnabled(), start.toolTip()
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert not start.isEnabled()
    qtbot.waitUntil(lambda: page.last_finish is not None, timeout=SEARCH_TIMEOUT_MS)
    finish = page.last_finish
    assert finish.status == "completed", finish
    assert page.trials_model.count("completed") == 2
    dest = tmp_path / "exported" / "reviews.h5"
    with qtbot.waitSignal(window.results_page.exportFinished, timeout=SEARCH_TIMEOUT_MS) as done:
        window.export_best_model(str(dest))
    assert done.args[0]["verified"]
    assert "Reloaded and checked: the file's predictions match" in window.results_page.export_status.text()
    reply = load_in_fresh_process(str(dest))
    assert "params" in reply and "text" in reply


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise|grabbing the keyboard)")
def test_the_data_page_sets_ngrams_and_vocabulary_size_for_text_columns(qtbot, window, tmp_path):
    page = window.data_page
    assert page.text_box.isHidden()  # no data, no text column
    open_reviews(qtbot, window, tmp_path)
    assert not page.text_box.isHidden()
    ngrams, max_tokens = page.findChild(QWidget, "textNgrams"), page.findChild(QWidget, "textMaxTokens")
    # Words and word pairs by default, as TF-IDF 1-2-grams read them.
    assert (window.current_config().ngrams, window.current_config().max_tokens) == (2, None)
    ngrams.setValue(1)
    max_tokens.setValue(500)
    config = window.current_config()
    assert (config.ngrams, config.max_tokens) == (1, 500)
    # A saved project's settings come back with it.
    ngrams.setValue(3)
    max_tokens.setValue(20_000)
    with qtbot.waitSignal(page.profileChanged, timeout=300_000):
        page.apply_config(config)
    assert (ngrams.value(), max_tokens.value()) == (1, 500)
    # Reading the review as categories leaves no text column: the box goes.
    choose_kind(qtbot, page, 0, "Treat as categorical")
    assert page.text_box.isHidden()


def test_the_character_ngram_spin_box_reaches_the_config_and_the_token_statistics(qtbot, window, tmp_path):
    """Off by default; N sets the config's char_ngrams, the counted vocabulary grows by the words'
    subwords, and a saved project brings the setting back."""
    open_reviews(qtbot, window, tmp_path)
    page = window.data_page
    spin = page.findChild(QWidget, "textCharNgrams")
    note = lambda: page.columns_model.index(0, 4).data()  # noqa: E731
    assert spin.value() == 0 and spin.text() == "off" and spin.toolTip()
    assert window.current_config().char_ngrams == 0
    qtbot.waitUntil(lambda: "out of vocabulary" in note() and "character" not in note(), timeout=60_000)
    words_only = int(note().split(" tokens")[0].removeprefix("text: ").replace(",", ""))
    spin.setValue(3)
    assert window.current_config().char_ngrams == 3
    qtbot.waitUntil(lambda: "character 3-grams" in note() and "out of vocabulary" in note(), timeout=60_000)
    with_subwords = int(note().split(" tokens")[0].removeprefix("text: ").replace(",", ""))
    assert with_subwords > words_only
    assert "character 3-grams" in page.findChild(QWidget, "textStatistics").text()
    config = window.current_config()
    spin.setValue(0)
    with qtbot.waitSignal(page.profileChanged, timeout=300_000):
        page.apply_config(config)
    assert spin.value() == 3 and window.current_config().char_ngrams == 3
