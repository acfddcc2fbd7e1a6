"""The window's engine child runs at a background priority, its later threads (TensorFlow's pools)
included; the command line's runs at the normal one."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.process.runner import BACKGROUND_NICE, SearchProcess

pytestmark = pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX scheduling priority")


def _niceness_of_a_later_thread(tmp_path: Path, background: bool) -> int:
    """Starts a child that reads its config line, then (as TensorFlow does, seconds later) starts a
    thread, which writes its own nice value to a file."""
    out = tmp_path / f"nice-{background}.txt"
    code = ("import os, sys, threading, time\n"
            "sys.stdin.readline(); time.sleep(0.5)\n"
            "def report():\n"
            f"    open({str(out)!r}, 'w').write(str(os.getpriority(os.PRIO_PROCESS, 0)))\n"
            "t = threading.Thread(target=report); t.start(); t.join()\n")
    config = SearchConfig(data_path="unused.csv", project_dir=str(tmp_path / f"p{background}"))
    process = SearchProcess(config, command=[sys.executable, "-c", code], background=background)
    process.start()
    deadline = time.monotonic() + 60
    while not out.exists() or not out.read_text():
        assert time.monotonic() < deadline, "the child never reported"
        process.poll(0.1)
    process.stop()
    return int(out.read_text())


def test_a_background_child_and_its_later_threads_run_at_a_lower_priority(tmp_path):
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert _niceness_of_a_later_thread(tmp_path, background=True) == max(own, BACKGROUND_NICE)
    assert _niceness_of_a_later_thread(tmp_path, background=False) == own
