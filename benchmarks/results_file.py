"""One place that writes a benchmark's raw results, with where and on what they were measured.

Every script in ``benchmarks/`` ends with :func:`write_results`: ``benchmarks/results/<name>.json``
holds the raw figures under ``results`` and, under ``run``, the git commit, whether the engine or
GUI had uncommitted changes, the machine, the UTC time and the command. ``summary.py`` builds
BENCHMARKS.md's summary table from these files alone.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SCHEMA_VERSION = 1


def git_state() -> dict[str, str]:
    """The commit a benchmark ran on and any uncommitted engine/GUI changes (``git status --short``)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  check=False).stdout.strip()
        except OSError:
            return ""

    return {"head": git("rev-parse", "HEAD"), "engine_changes": git("status", "--short", "engine", "gui")}


def machine() -> dict[str, Any]:
    """The platform, CPU count, memory (GB, Linux only) and Python version of this machine."""
    memory_gb = None
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "memory_gb": memory_gb,
            "python": platform.python_version()}


def run_info() -> dict[str, Any]:
    """Where and when this run happens: commit, local changes, machine, load, UTC time, command line."""
    state = git_state()
    try:
        load = [round(x, 2) for x in os.getloadavg()]  # 1, 5, 15 minutes: how busy the shared machine was
    except OSError:
        load = None
    return {"commit": state["head"] or None, "uncommitted": state["engine_changes"], "machine": machine(),
            "load_average": load,
            "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": " ".join([Path(sys.executable).name, *sys.argv])}


def write_results(name: str, results: dict[str, Any], run: dict[str, Any] | None = None,
                  path: Path | None = None) -> Path:
    """Writes ``results`` as ``benchmarks/results/<name>.json`` (or ``path``); returns the path.

    ``run`` defaults to :func:`run_info` now; a script that rewrites its file as it goes passes the
    one it took at its start.
    """
    path = path or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"schema_version": SCHEMA_VERSION, "benchmark": name, "run": run or run_info(), "results": results}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path
