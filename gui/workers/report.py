"""Writing a search's report from the window: the engine does it in a child process.

The report lists the best model's layers, which takes Keras to read; Keras never loads in the
window's process, so :func:`run_report` (a :class:`~automl_studio.gui.workers.tasks.TaskRunner`
task) asks an engine child (``call_in_child``) to run
:func:`automl_studio.engine.search.report.write_report`.
"""

from __future__ import annotations

from typing import Any

REPORT_TARGET = "automl_studio.engine.search.report:write_report"


def report_file_name(project_name: str) -> str:
    """The file name the save dialog proposes: ``<project name> report.html``."""
    name = "".join(c for c in project_name.strip() if c not in '/\\:*?"<>|') or "Untitled"
    return f"{name} report.html"


def run_report(project_dir: str, dest: str, *, progress: Any, cancel: Any) -> str:
    """Writes the report of ``project_dir`` to ``dest`` in an engine child; returns its path.

    Raises:
        ProjectError: the folder holds no search, or the child failed (its one-line message).
    """
    from automl_studio.engine.core.errors import ProjectError
    from automl_studio.engine.process.runner import ChildCallError, call_in_child

    try:
        return str(call_in_child(REPORT_TARGET, {"project_dir": project_dir, "output": dest}, timeout=600))
    except ChildCallError as exc:
        raise ProjectError(str(exc)) from None
