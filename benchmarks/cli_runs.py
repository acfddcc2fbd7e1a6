"""The command line as a user runs it, for the quality benchmarks: one search that exports its
model, a ``predict`` on a file, and what the search's event log says it did."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).with_name("automl-studio"))


def search_and_export(data: Path, options: list[str], work: Path,
                      extra: list[str]) -> tuple[dict[str, Any], Path, subprocess.CompletedProcess[str]]:
    """``automl-studio search DATA OPTIONS --project WORK/project --fresh --export WORK/model.h5 EXTRA``.

    Returns the run's record (command, return code, wall seconds, the trials from its event log,
    and the end of stderr when it failed or exported nothing), the model's path and the process.
    """
    model = work / "model.h5"
    command = [CLI, "search", str(data), *options, "--project", str(work / "project"), "--fresh",
               "--export", str(model), *extra]
    started = time.monotonic()
    search = subprocess.run(command, capture_output=True, text=True, check=False)
    record: dict[str, Any] = {"command": " ".join(command[1:]), "returncode": search.returncode,
                              "wall_s": time.monotonic() - started,
                              "trials": search_trials(work / "project" / "events.jsonl")}
    if search.returncode or not model.exists():
        record["stderr_tail"] = search.stderr[-2000:]
    return record, model, search


def predict(model: Path, data: Path, output: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """``automl-studio predict MODEL DATA FLAGS --output OUTPUT``."""
    return subprocess.run([CLI, "predict", str(model), str(data), *flags, "--output", str(output)],
                          capture_output=True, text=True, check=False)


def search_and_predict(data: Path, options: list[str], test: Path, work: Path,
                       extra: list[str]) -> tuple[dict[str, Any], Any]:
    """:func:`search_and_export`, then :func:`predict` on ``test``.

    Returns the run's record and the predictions' ``prediction`` column as text (a pandas Series,
    empty cells kept as ""), or ``None`` when the search or the prediction failed (the record's
    ``stderr_tail`` says why).
    """
    import pandas as pd

    record, model, _search = search_and_export(data, options, work, extra)
    if "stderr_tail" in record:
        return record, None
    predictions = work / "predictions.csv"
    scored = predict(model, test, predictions)
    if scored.returncode:
        record["stderr_tail"] = scored.stderr[-2000:]
        return record, None
    return record, pd.read_csv(predictions, keep_default_na=False, dtype=str)["prediction"]


def search_trials(log: Path) -> dict[str, Any]:
    """What the search did (``events.jsonl``): completed trials and their scores, the winner and its
    hyperparameters, the ensemble and refits exported, the test accuracy it saw (classification),
    and the finalists cross-validated after the search (``finalists_scored``: their fold scores,
    the one chosen and the validation split's best), or None."""
    if not log.exists():
        return {}
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    ended = [e for e in events if e.get("type") == "trial_ended"]
    finished = next((e for e in reversed(events) if e.get("type") == "search_finished"), {})
    finalists = next((e for e in reversed(events) if e.get("type") == "finalists_scored"), None)
    return {"completed": sum(e.get("status") == "completed" for e in ended),
            "scores": [e.get("score") for e in ended],
            "best_trial": finished.get("best_trial_id"),
            "best_hyperparameters": finished.get("best_hyperparameters"),
            "ensemble": (finished.get("ensemble") or {}).get("trials"), "refits": finished.get("refits"),
            "internal_test_accuracy": (finished.get("test_metrics") or {}).get("accuracy"),
            "finalists": None if finalists is None else {
                key: finalists.get(key) for key in ("objective", "folds", "chosen", "validation_best", "scores")}}
