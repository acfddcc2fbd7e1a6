"""Every bad data or project file of the engine's corpus shows a message in the window.

The corpus lives in tests/engine/test_bad_inputs.py; here each file goes through the real
window (File ▸ Open dataset… / Open project…): the message appears in the page's banner, no
dialog opens, and the dataset already open (iris) stays open, untouched.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_bad_inputs import CASES, load, project  # noqa: E402

DATA_CASES = [c for c in CASES if c.call is load]
PROJECT_CASES = [c for c in CASES if c.call is project]
STILL_OPEN = " The open data is still iris.csv, unchanged."


def no_dialogs() -> bool:
    return not any(isinstance(w, QDialog) and w.isVisible() for w in QApplication.topLevelWidgets())


@pytest.mark.parametrize("case", DATA_CASES, ids=str)
def test_bad_data_file_shows_its_message_and_keeps_the_open_dataset(case, qtbot, iris_window, tmp_path):
    window = iris_window
    before = window.data_page.dataset
    bad = case.make(tmp_path)
    window.open_dataset(str(bad))
    banner = window.data_page.banner
    qtbot.waitUntil(lambda: banner.text() != "", timeout=30_000)
    text = banner.text()
    # The engine's message, then (a full stop and) which data stays open.
    assert text.endswith(STILL_OPEN), text
    message = text[: -len(STILL_OPEN)].removesuffix(".")
    expected = case.pattern.replace("{name}", re.escape(bad.name))
    assert re.search(expected, message), text
    assert "Traceback" not in text
    assert no_dialogs()
    assert window.data_page.dataset is before and before.path.endswith("iris.csv")


@pytest.mark.parametrize("case", PROJECT_CASES, ids=str)
def test_bad_project_file_shows_its_message(case, qtbot, iris_window, tmp_path):
    window = iris_window
    before = window.data_page.dataset
    bad = case.make(tmp_path)
    assert window.open_project(str(bad)) is False
    text = window.data_page.banner.text()
    assert re.search(case.pattern.replace("{name}", re.escape(bad.name)), text), text
    assert no_dialogs() and window.data_page.dataset is before
