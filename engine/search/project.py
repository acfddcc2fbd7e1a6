"""Project files and project directories.

A *project file* (``*.automl.json``) is what the window saves: the dataset path, the column
choices, the search space, the search settings and the project directory. It is versioned JSON
validated on load; a file from a newer version of the app is refused with a clear message.

A *project directory* is where a search keeps its state: KerasTuner's oracle and trials
(``tuner/``), TensorBoard logs (``tensorboard/``), the event log (``events.jsonl``, every event
of every run, appended) and the exported best model (``best/``). :func:`read_trials` rebuilds the
trials table and curves from the event log, so a stopped or killed search can be shown and
resumed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import ProjectError, UserError

PROJECT_SCHEMA_VERSION = 1
EVENTS_FILE = "events.jsonl"
PROJECT_SUFFIX = ".automl.json"


@dataclass(frozen=True)
class ProjectFile:
    """What the window saves: enough to reopen a search exactly where it was."""

    config: SearchConfig
    name: str = "Untitled"
    notes: str = ""
    schema_version: int = PROJECT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "app": "automl-studio",
            "name": self.name,
            "notes": self.notes,
            "search": self.config.to_dict(),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ProjectFile:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ProjectError(f"{p}: no such project file") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProjectError(f"{p}: not a project file (not valid JSON: {exc})") from exc
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "project") -> ProjectFile:
        if not isinstance(data, dict) or data.get("app") != "automl-studio":
            raise ProjectError(f"{source}: not an automl-studio project file")
        version = data.get("schema_version")
        if not isinstance(version, int):
            raise ProjectError(f"{source}: the project file has no schema_version")
        if version > PROJECT_SCHEMA_VERSION:
            raise ProjectError(
                f"{source}: written by a newer automl-studio (project schema {version}; this "
                f"version reads up to {PROJECT_SCHEMA_VERSION}) — update the app to open it"
            )
        search = data.get("search")
        if not isinstance(search, dict) or not isinstance(search.get("data_path"), str) \
                or not isinstance(search.get("project_dir"), str):
            raise ProjectError(f"{source}: the project file has no valid 'search' section")
        try:
            config = SearchConfig.from_dict(search)
        except TypeError as exc:
            raise ProjectError(f"{source}: the 'search' section is malformed ({exc})") from exc
        except UserError as exc:
            raise ProjectError(f"{source}: {exc}") from exc
        name = data.get("name", "Untitled")
        return cls(config=config, name=str(name), notes=str(data.get("notes", "")))


def atomic_write_text(path: Path, text: str) -> None:
    """Writes a file so that readers see the old or the new content, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class TrialRecord:
    """One trial as rebuilt from the event log: its values, curve and outcome."""

    trial_id: str
    status: str = "running"
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    duration_s: float | None = None
    error: str | None = None
    best_epoch: int | None = None
    worker: str = "local"
    history: list[dict[str, float]] = field(default_factory=list)


def read_events(project_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every event ever logged in a project directory; a torn last line (a kill) is skipped."""
    path = Path(project_dir) / EVENTS_FILE
    if not path.exists():
        return []
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def read_trials(project_dir: str | os.PathLike[str]) -> dict[str, TrialRecord]:
    """The trials of a project, latest outcome first wins; interrupted ones show as ``stopped``."""
    trials: dict[str, TrialRecord] = {}
    for event in read_events(project_dir):
        kind, tid = event.get("type"), event.get("trial_id")
        if kind == "trial_started" and tid is not None:
            trials[tid] = TrialRecord(tid, "running", dict(event.get("hyperparameters", {})),
                                      worker=str(event.get("worker", "local")))
        elif kind == "epoch_ended" and tid in trials:
            trials[tid].history.append({"epoch": event["epoch"], **event.get("metrics", {})})
        elif kind == "trial_ended" and tid in trials:
            record = trials[tid]
            record.status = event.get("status", "completed")
            record.score = event.get("score")
            record.duration_s = event.get("duration_s")
            record.error = event.get("error")
            record.best_epoch = event.get("best_epoch")
    for record in trials.values():
        if record.status == "running":
            record.status = "stopped"
            record.error = record.error or "interrupted; it is rerun on resume"
    return trials


def last_finish(project_dir: str | os.PathLike[str]) -> Mapping[str, Any] | None:
    """The last ``search_finished`` event of a project, if any run ended normally."""
    finished = [e for e in read_events(project_dir) if e.get("type") == "search_finished"]
    return finished[-1] if finished else None
