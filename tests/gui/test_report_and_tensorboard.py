"""File ▸ Export report… and Search ▸ Open in TensorBoard on a real finished search."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import IRIS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory) -> Path:
    """A project file whose tiny iris search ran to the end in a real engine process."""
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.project import ProjectFile

    folder = tmp_path_factory.mktemp("finished")
    search = folder / "iris.search"
    done = subprocess.run([sys.executable, "-m", "automl_studio.engine.cli", "search", str(IRIS), "--project",
                           str(search), "--tuner", "random", "--max-trials", "2", "--max-epochs", "2",
                           "--refits", "1", "--target", "species"],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    config = SearchConfig(data_path=str(IRIS), project_dir=str(search), target="species", tuner="random",
                          max_trials=2, max_epochs=2, refits=1)
    path = folder / "iris.automl.json"
    ProjectFile(config, name="Iris study").save(path)
    return path


def open_finished(qtbot, window, project: Path) -> None:
    with qtbot.waitSignal(window.data_page.datasetLoaded, timeout=20_000):
        assert window.open_project(str(project))


class Links(HTMLParser):
    """The ids and the src/href values of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids.add(value or "")
            elif name in ("src", "href"):
                self.refs.append(value or "")


def test_export_report_proposes_the_project_name_and_writes_a_self_contained_file(
        qtbot, window, finished_search, tmp_path):
    assert not window.act_export_report.isEnabled()  # no search on screen yet
    assert "No search" in window.act_export_report.toolTip()
    open_finished(qtbot, window, finished_search)
    assert window.act_export_report.isEnabled()
    proposals: list[str] = []
    dest = tmp_path / "chosen.html"

    def choose(_parent, proposed):
        proposals.append(proposed)
        return str(dest)

    window.choose_report_file = choose
    with qtbot.waitSignal(window.reportExported, timeout=300_000) as written:
        window.act_export_report.trigger()
    assert [Path(p).name for p in proposals] == ["Iris study report.html"]
    assert written.args == [str(dest)]
    page = Links()
    page.feed(dest.read_text(encoding="utf-8"))
    assert {"trial-0", "trial-1", "metrics", "layers"} <= page.ids
    assert page.refs and not any(r.startswith(("http:", "https:", "//")) for r in page.refs)
    assert "Report written" in window.statusBar().currentMessage()


def test_a_report_that_cannot_be_written_says_why_in_the_window(qtbot, window, finished_search, tmp_path):
    open_finished(qtbot, window, finished_search)
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    window.export_report(str(blocker / "report.html"))
    qtbot.waitUntil(lambda: "could not be written" in window.pages.currentWidget().banner.text(), timeout=300_000)
    assert str(blocker) in window.pages.currentWidget().banner.text()
    assert window.act_export_report.isEnabled()  # it can be tried again elsewhere


def test_tensorboard_serves_the_search_on_loopback_and_stops_with_the_window(qtbot, window, finished_search):
    from automl_studio.gui.workers.tensorboard import tensorboard_command

    if tensorboard_command() is None:
        pytest.skip("TensorBoard is not installed here (pip install tensorboard)")
    assert not window.act_tensorboard.isEnabled()
    assert "No search" in window.act_tensorboard.toolTip()
    open_finished(qtbot, window, finished_search)
    assert window.act_tensorboard.isEnabled()
    opened: list[str] = []
    window.tensorboard.open_url = lambda url: opened.append(url.toString()) or True
    with qtbot.waitSignal(window.tensorboard.answered, timeout=300_000) as answer:
        window.act_tensorboard.trigger()
    url = answer.args[0]
    assert url.startswith("http://127.0.0.1:") and opened == [url]
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(url, timeout=30) as reply:
        assert reply.status == 200 and b"TensorBoard" in reply.read()
    with direct.open(url + "data/runs", timeout=30) as reply:  # it reads this search's trials
        runs = reply.read().decode()
    assert "0/execution0" in runs and "1/execution0" in runs
    pid = window.tensorboard.pid
    assert pid is not None

    window.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(urllib.error.URLError):
        direct.open(url, timeout=5)
