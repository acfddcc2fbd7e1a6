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
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_studio.engine.core.config import CONFIG_SCHEMA_VERSION, SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ProjectError
from automl_studio.engine.core.events import (
    EpochEnded,
    Event,
    FinalistsScored,
    SearchFinished,
    SearchStarted,
    TrialEnded,
    TrialStarted,
    event_from_dict,
)
from automl_studio.engine.core.jsonfile import read_json_document
from automl_studio.engine.data.identity import DataIdentity, differences, short
from automl_studio.engine.data.text import MAX_TOKENS

PROJECT_SCHEMA_VERSION = CONFIG_SCHEMA_VERSION  # a project file is a search document
EVENTS_FILE = "events.jsonl"
CONFIG_FILE = "search_config.json"
PROJECT_SUFFIX = ".automl.json"
# What a search keeps in its project directory; --fresh removes exactly these.
STATE_DIRS = ("tuner", "tensorboard", "best")
NEW_SEARCH_HINT = ("to start a new search use --fresh (it erases this project's trials; in the window: "
                   "Start, not Resume) or another --project folder")


@dataclass(frozen=True)
class ProjectFile:
    """What the window saves: enough to reopen a search exactly where it was.

    On disk it is the search's :class:`~automl_studio.engine.core.config.SearchDocument` (the
    same document the chief writes as ``search_config.json``) plus ``name`` and ``notes``.
    """

    config: SearchConfig
    name: str = "Untitled"
    notes: str = ""
    schema_version: int = PROJECT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The search document with the project's name and notes."""
        return {**SearchDocument(self.config).to_dict(), "name": self.name, "notes": self.notes}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the file atomically (readers see the old or the new one)."""
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ProjectFile:
        """Reads a project file.

        Raises:
            ProjectError: missing, not JSON, not a project file, from a newer version or malformed.
        """
        data = read_json_document(path, kind="project file", error=ProjectError,
                                  schema_version=PROJECT_SCHEMA_VERSION)
        return cls.from_dict(data, source=str(Path(path)))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "project") -> ProjectFile:
        """Reads :meth:`to_dict` output of this or an older version (errors as :meth:`load`)."""
        if not isinstance(data, dict) or data.get("app") != "automl-studio":
            raise ProjectError(f"{source}: not an automl-studio project file")
        document = SearchDocument.from_dict(data, source=source, what="project file")
        name = data.get("name", "Untitled")
        return cls(config=document.config, name=str(name), notes=str(data.get("notes", "")))


def read_search_document(project_dir: str | os.PathLike[str]) -> SearchDocument | None:
    """The search configuration the chief wrote into ``project_dir``, or None when there is none.

    Raises:
        ProjectError: the file exists but is damaged or from a newer version.
    """
    path = Path(project_dir) / CONFIG_FILE
    if not path.exists():
        return None
    try:
        return SearchDocument.read(path)
    except ProjectError as exc:
        raise ProjectError(f"{exc}; start over with --fresh") from None


def write_search_document(project_dir: str | os.PathLike[str], document: SearchDocument) -> Path:
    """Writes ``document`` as the project's ``search_config.json`` (atomically); returns its path."""
    path = Path(project_dir) / CONFIG_FILE
    atomic_write_text(path, document.to_json())
    return path


def clear_project(project_dir: str | os.PathLike[str]) -> None:
    """Removes a search's state from ``project_dir`` (``--fresh``); other files are left alone."""
    project = Path(project_dir)
    for name in STATE_DIRS:
        shutil.rmtree(project / name, ignore_errors=True)
    for name in (EVENTS_FILE, CONFIG_FILE):
        (project / name).unlink(missing_ok=True)


def check_resume(config: SearchConfig, identity: DataIdentity) -> bool:
    """Whether ``project_dir`` holds this same search to resume; refuses another search there.

    The same search means the same data identity (file bytes, target, task, feature columns,
    inputs, classes and split, see :mod:`automl_studio.engine.data.identity`), the same
    tuner, for a forecast the same lookback (a searched range included) and, with text columns, the
    same tokenization (word and character n-grams, vocabulary size) and the same ``--cv-folds``. A project with no trials yet holds nothing to resume, so a new search may take it.

    Raises:
        ProjectError: one line naming the project, what differs, and how to start a new search.
    """
    document = read_search_document(config.project_dir)
    if document is None or not (Path(config.project_dir) / "tuner").exists():
        return False
    found = differences(document.data, identity)
    if document.config.tuner != config.tuner:
        found.append(f"the tuner differs: the search used {document.config.tuner}, this run {config.tuner}")
    if _lookback(document.config) != _lookback(config):
        # KerasTuner keeps a hyperparameter's first range: a resumed search would go on with the old one.
        found.append(f"the searched lookback differs: the search used {_lookback(document.config)}, "
                     f"this run {_lookback(config)}")
    if _folds(document.config) != _folds(config):
        # The finished trials' scores are means over other folds (or one validation split).
        found.append(f"the trials' cross-validation differs: the search used --cv-folds {_folds(document.config)}, "
                     f"this run --cv-folds {_folds(config)}")
    if "text" in identity.inputs and _tokenization(document.config) != _tokenization(config):
        # The sequence length may not change with them, so the data identity alone can miss it;
        # the finished trials learnt other token ids than a resumed one would get.
        found.append(f"the text tokenization differs: the search used {_tokenization(document.config)}, "
                     f"this run {_tokenization(config)}")
    if found:
        raise ProjectError(f"{config.project_dir}: this project holds another search — {'; '.join(found)}; "
                           + NEW_SEARCH_HINT)
    return True


def _tokenization(config: SearchConfig) -> str:
    """A search's text options as the command line writes them (``--ngrams 2 --char-ngrams 0 ...``)."""
    return (f"--ngrams {config.ngrams} --char-ngrams {config.char_ngrams} "
            f"--max-tokens {config.max_tokens or MAX_TOKENS}")


def _folds(config: SearchConfig) -> str:
    """A search's ``--cv-folds`` as the command line writes it (0: one validation split)."""
    return str(config.cv_folds if config.cv_folds >= 2 else 0)


def _lookback(config: SearchConfig) -> str:
    """A forecast's lookback as the command line writes it (``auto``, ``24`` or ``12:48``)."""
    if config.lookback is None:
        return "auto"
    return f"{config.lookback}:{config.lookback_max}" if config.lookback_max else str(config.lookback)


def check_worker_data(config: SearchConfig, identity: DataIdentity,
                      expected: Mapping[str, Any] | None = None) -> None:
    """Refuses to run a worker whose data or split differ from its chief's.

    ``expected`` is the chief's data identity (from the document the worker was started with);
    without one, the chief's ``search_config.json`` in ``config.project_dir`` is read.

    Raises:
        ProjectError: one line naming the worker's data file, both fingerprints and what differs.
    """
    source = "the chief's configuration"
    if not expected:
        document = read_search_document(config.project_dir)
        expected = document.data if document is not None else None
        source = str(Path(config.project_dir) / CONFIG_FILE)
    if not expected or not expected.get("fingerprint"):
        raise ProjectError(f"{config.project_dir}: no data fingerprint from the chief to check this worker "
                           "against; start the worker with --config and the chief's search_config.json")
    if expected["fingerprint"] == identity.fingerprint:
        return
    found = differences(expected, identity) or ["the data preparation differs (another version of automl-studio?)"]
    raise ProjectError(
        f"{config.data_path}: this worker's data does not match the chief's (data fingerprint "
        f"{short(identity.fingerprint)} here, {short(expected['fingerprint'])} in {source}) — "
        f"{'; '.join(found)}; give the worker the chief's data file")


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
    max_epochs: int | None = None  # the epoch limit it started with (None in older event logs)
    class_recall: dict[str, float | None] = field(default_factory=dict)  # TrialEnded.class_recall
    score_se: float | None = None  # TrialEnded.score_se: the fold scores' standard error
    fold_scores: tuple[float, ...] = ()  # TrialEnded.fold_scores
    # A finalist cross-validated after the search (FinalistsScored): its "score", "se",
    # "fold_scores", "epochs", "folds" and "chosen" (True for the trial exported); None otherwise.
    finalist: dict[str, Any] | None = None


def read_events(project_dir: str | os.PathLike[str]) -> list[Event]:
    """Every event ever logged in a project directory, in order.

    A torn last line (a kill) is skipped, as is a line no event of this version reads (a newer
    engine's event type, or one missing a field).
    """
    path = Path(project_dir) / EVENTS_FILE
    if not path.exists():
        return []
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                events.append(event_from_dict(json.loads(line)))
            except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
                continue
    return events


def finalist_summary(event: FinalistsScored, trial_id: str) -> dict[str, Any]:
    """What the window shows of one cross-validated finalist: its ``score`` (the folds' mean),
    ``se``, ``fold_scores``, ``epochs`` (its refit's length), ``parameters`` (its network's weights;
    None in logs before they were recorded), ``folds``, the ``objective`` they are in, whether it
    was ``chosen`` (exported), whether it was the ``validation_best`` and whether it was passed over
    for its folds' spread (``unsteady``). An entry that is not a mapping (a hand-edited log) reads
    as one without scores."""
    score = event.scores[trial_id]
    if not isinstance(score, Mapping):
        score = {}
    return {"score": score.get("score"), "se": score.get("se"), "fold_scores": tuple(score.get("fold_scores") or ()),
            "epochs": score.get("epochs"), "parameters": score.get("parameters"), "folds": event.folds,
            "objective": event.objective, "unsteady": bool(score.get("unsteady")),
            "chosen": trial_id == event.chosen,
            "validation_best": trial_id == event.validation_best}


def finalist_text(finalist: Mapping[str, Any] | None, *, mark_exported: bool = True) -> str:
    """A finalist's cross-validated score in a cell, e.g. ``"29 ± 1.6 · exported"`` (the mark
    only with ``mark_exported``); ``""`` for a trial that was no finalist (:func:`finalist_summary`,
    or one entry of :attr:`FinalistsScored.scores`)."""
    if not finalist or not isinstance(finalist.get("score"), (int, float)):
        return ""
    se = finalist.get("se")
    text = f"{finalist['score']:.4g}" + (f" ± {se:.2g}" if isinstance(se, (int, float)) else "")
    return f"{text} · exported" if mark_exported and finalist.get("chosen") else text


def score_finalists(records: Mapping[str, Any], event: FinalistsScored) -> list[str]:
    """Gives each record (anything with a ``finalist`` attribute, by trial id) its summary from
    ``event`` and every other record none: a resumed search's finalists replace the earlier
    ones. Returns the ids whose record changed."""
    changed = [tid for tid, record in records.items() if record.finalist is not None or tid in event.scores]
    for tid in changed:
        records[tid].finalist = finalist_summary(event, tid) if tid in event.scores else None
    return changed


def read_trials(project_dir: str | os.PathLike[str]) -> dict[str, TrialRecord]:
    """The trials of a project, latest outcome first wins; interrupted ones show as ``stopped``."""
    trials: dict[str, TrialRecord] = {}
    for event in read_events(project_dir):
        if isinstance(event, TrialStarted):
            trials[event.trial_id] = TrialRecord(event.trial_id, "running", dict(event.hyperparameters),
                                                 worker=event.worker, max_epochs=event.max_epochs)
        elif isinstance(event, EpochEnded) and event.trial_id in trials:
            trials[event.trial_id].history.append({"epoch": event.epoch, **event.metrics})
        elif isinstance(event, TrialEnded) and event.trial_id in trials:
            record = trials[event.trial_id]
            record.status = event.status
            record.score = event.score
            record.duration_s = event.duration_s
            record.error = event.error
            record.best_epoch = event.best_epoch
            record.class_recall = dict(event.class_recall)
            record.score_se, record.fold_scores = event.score_se, tuple(event.fold_scores)
            if event.hyperparameters:
                # KerasTuner registers a hyperparameter when the model first asks for it, so the
                # values a trial began with miss those its own build added; the end has them all.
                record.hyperparameters = dict(event.hyperparameters)
        elif isinstance(event, FinalistsScored):
            score_finalists(trials, event)
    for record in trials.values():
        if record.status == "running":
            record.status = "stopped"
            record.error = record.error or "interrupted; it is rerun on resume"
    return trials


def search_objective(project_dir: str | os.PathLike[str]) -> str | None:
    """The objective the project's latest search ranked trials by, as its ``search_started``
    said (the one chosen for the data where the configuration left it open); None without one."""
    started = [e for e in read_events(project_dir) if isinstance(e, SearchStarted)]
    objective = started[-1].settings.get("objective") if started else None
    return str(objective) if objective else None


def last_finish(project_dir: str | os.PathLike[str]) -> SearchFinished | None:
    """The last ``search_finished`` event of a project, if any run ended normally."""
    finished = [e for e in read_events(project_dir) if isinstance(e, SearchFinished)]
    return finished[-1] if finished else None
