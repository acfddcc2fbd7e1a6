"""A project folder holds one search: another target, task, column choice, split or data is refused.

KerasTuner reloads a project by default; reusing a --project for another question used to resume
the old search and report its trials as the new one's (keras-team/keras-tuner#234).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datafiles import write_reviews

from automl_studio.engine import cli
from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ProjectError
from automl_studio.engine.core.events import SearchFinished
from automl_studio.engine.data.identity import identify
from automl_studio.engine.search.project import (
    CONFIG_FILE,
    check_resume,
    read_events,
    write_search_document,
)
from automl_studio.engine.search.session import run_search


def write_greenhouse(path: Path, rows: int = 90, seed: int = 3, bump_row: int | None = None) -> Path:
    """Plants: an id, a height, a soil type, a sensor reading, a species (class) and a yield (number)."""
    rng = np.random.default_rng(seed)
    height = rng.normal(50, 10, rows).round(1)
    soil = rng.choice(["clay", "sand", "loam"], rows)
    sensor = rng.normal(0, 1, rows).round(3)
    species = np.where(height + (soil == "loam") * 8 > 52, "tall_fern", "moss")
    grade = rng.integers(1, 4, rows)
    yield_kg = (height * 0.2 + sensor + rng.normal(0, 0.5, rows)).round(2)
    lines = ["plot_id,height_cm,soil,sensor,grade,species,yield_kg"]
    for i in range(rows):
        h = height[i] + (1.5 if i == bump_row else 0.0)
        lines.append(f"P{500 + i},{h:.1f},{soil[i]},{sensor[i]},{grade[i]},{species[i]},{yield_kg[i]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def greenhouse(tmp_path: Path) -> Path:
    return write_greenhouse(tmp_path / "greenhouse.csv")


def searched(config: SearchConfig) -> SearchConfig:
    """Records ``config``'s search in its project as a finished chief would, without training."""
    identity = identify(config)
    write_search_document(config.project_dir, SearchDocument(config, identity.to_dict()))
    (Path(config.project_dir) / "tuner").mkdir(parents=True, exist_ok=True)
    return config


def refusal(config: SearchConfig) -> str:
    with pytest.raises(ProjectError) as caught:
        check_resume(config, identify(config))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(config.project_dir)
    assert "--fresh" in message and "another --project" in message
    return message


def test_the_same_search_resumes_and_an_empty_project_has_nothing_to_resume(tmp_path, greenhouse):
    config = SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species")
    assert not check_resume(config, identify(config))  # no project yet
    write_search_document(config.project_dir, SearchDocument(config, identify(config).to_dict()))
    assert not check_resume(config.replace(target="yield_kg"), identify(config.replace(target="yield_kg")))
    searched(config)
    # Settings that do not change the data resume the same search.
    again = config.replace(max_trials=9, max_epochs=3, patience=2)
    assert check_resume(again, identify(again))
    moved = tmp_path / "copy.csv"
    moved.write_bytes(greenhouse.read_bytes())
    assert check_resume(config.replace(data_path=str(moved)), identify(config.replace(data_path=str(moved))))


def test_another_target_is_another_search(tmp_path, greenhouse):
    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species"))
    message = refusal(config.replace(target="yield_kg"))
    assert "the target differs: the search predicts 'species', this run 'yield_kg'" in message
    assert "the task differs: the search is a classification, this run a regression" in message
    assert "feature columns" not in message  # the swapped target is said once


def test_another_task_for_the_same_target_is_another_search(tmp_path, greenhouse):
    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="grade",
                                   task="classification"))
    message = refusal(config.replace(task="regression"))
    assert "the task differs: the search is a classification, this run a regression" in message
    assert "target" not in message.split("—")[1].split(";")[0]  # the target is the same


def test_another_column_choice_is_another_search(tmp_path, greenhouse):
    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species",
                                   exclude_columns=("sensor",)))
    message = refusal(config.replace(exclude_columns=()))
    assert "the feature columns differ: 'sensor' added" in message
    message = refusal(config.replace(exclude_columns=("sensor", "soil")))
    assert "the feature columns differ: 'soil' left out" in message
    message = refusal(config.replace(include_columns=("plot_id",)))  # the profiler left the id out
    assert "'plot_id' added" in message


def test_changed_data_is_another_search_and_named_by_file_and_fingerprint(tmp_path, greenhouse):
    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species"))
    before = identify(config).file
    write_greenhouse(greenhouse, bump_row=17)  # one height in one row
    after = identify(config).file
    assert before != after
    message = refusal(config)
    assert f"the data differs: {greenhouse} has fingerprint {after[:19]}…" in message
    assert f"with fingerprint {before[:19]}…" in message


def test_another_split_is_another_search(tmp_path, greenhouse):
    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species"))
    for changed in (config.replace(validation_fraction=0.3), config.replace(test_fraction=0.1),
                    config.replace(seed=2)):
        assert "the train/validation/test split differs" in refusal(changed)


def test_another_coding_of_the_same_categories_is_another_search(tmp_path, greenhouse):
    import json

    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species",
                                   column_kinds={"grade": "categorical"}))
    assert identify(config).category_codes == 2 * 4  # soil and grade: 3 levels each, plus one unknown code
    document = Path(config.project_dir) / CONFIG_FILE
    recorded = json.loads(document.read_text(encoding="utf-8"))
    recorded["data"]["category_codes"] = 9  # as a version that coded the levels otherwise would have
    document.write_text(json.dumps(recorded), encoding="utf-8")
    assert "the categorical columns' codes differ: 9 in the search, 8 in this run" in refusal(config)
    del recorded["data"]["category_codes"]  # a record from before codes were recorded: compared on what it knows
    document.write_text(json.dumps(recorded), encoding="utf-8")
    assert check_resume(config, identify(config)) is True  # resumed, not refused


def test_a_column_read_as_another_kind_is_another_search_named_in_words(tmp_path, greenhouse):
    import json

    # grade (1-3) was categorical in a version that read few whole numbers as codes; now a number.
    config = SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species")
    assert identify(config).kinds["grade"] == "numeric" and identify(config).category_codes == 4
    searched(config.replace(column_kinds={"grade": "categorical"}))
    said = refusal(config)
    assert "the column kinds differ: 'grade' was categorical in the search, numeric in this run" in said
    assert "--categorical" in said and "inputs differ" not in said and "codes differ" not in said
    assert check_resume(config.replace(column_kinds={"grade": "categorical"}),
                        identify(config.replace(column_kinds={"grade": "categorical"}))) is True
    # A record from before kinds were recorded still says what changed: the inputs.
    document = Path(config.project_dir) / CONFIG_FILE
    recorded = json.loads(document.read_text(encoding="utf-8"))
    del recorded["data"]["kinds"]
    document.write_text(json.dumps(recorded), encoding="utf-8")
    assert "the model inputs differ" in refusal(config)


def test_another_tuner_is_refused_too(tmp_path, greenhouse):
    config = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "p"), target="species"))
    assert "the tuner differs: the search used bayesian, this run random" in refusal(config.replace(tuner="random"))


def test_a_real_search_refuses_another_target_resumes_the_same_and_starts_fresh_when_asked(
        tmp_path, greenhouse, capsys):
    project = str(tmp_path / "p")
    config = SearchConfig(data_path=str(greenhouse), project_dir=project, target="species", tuner="random",
                          max_trials=1, max_epochs=1, refit=False, tensorboard=False, export_keras=False)
    first = run_search(config)
    assert first.status == "completed"
    document = SearchDocument.read(Path(project) / CONFIG_FILE)
    assert document.data_fingerprint == identify(config).fingerprint and document.space is not None

    # Another target on the command line: one line, exit status 2, the old trials untouched.
    code = cli.main(["search", str(greenhouse), "--target", "yield_kg", "--tuner", "random", "--max-trials", "2",
                     "--max-epochs", "1", "--no-refit", "--project", project])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert err[-1].startswith("automl-studio: error: ") and "the target differs" in err[-1] and "--fresh" in err[-1]
    assert SearchDocument.read(Path(project) / CONFIG_FILE).config.target == "species"
    failed = [e for e in read_events(project) if isinstance(e, SearchFinished)][-1]
    assert failed.status == "failed" and "the target differs" in failed.message  # what the window shows

    # The same search resumes: its trial is kept.
    events: list = []
    resumed = run_search(config.replace(max_trials=2), events.append)
    started = next(e for e in events if e.type == "search_started")
    assert resumed.status == "completed" and started.resumed and started.completed_trials == 1

    # --fresh starts the other search over.
    events = []
    fresh = run_search(config.replace(target="yield_kg", fresh=True), events.append)
    started = next(e for e in events if e.type == "search_started")
    assert fresh.status == "completed" and not started.resumed and started.completed_trials == 0
    assert SearchDocument.read(Path(project) / CONFIG_FILE).data["target"] == "yield_kg"


def test_another_searched_lookback_range_is_refused(tmp_path):
    series = tmp_path / "load.csv"
    hours = np.arange(200)
    series.write_text("hour,load\n" + "\n".join(f"{h},{10 + np.sin(h / 4):.4f}" for h in hours) + "\n")
    config = searched(SearchConfig(data_path=str(series), project_dir=str(tmp_path / "p"), target="load",
                                   time_column="hour", lookback=6, lookback_max=24))
    assert check_resume(config, identify(config))
    # The windows (24 steps) are the same data; only the range each network may keep differs.
    message = refusal(config.replace(lookback=12))
    assert "the searched lookback differs: the search used 6:24, this run 12:24" in message


def test_another_text_tokenization_is_refused_and_table_searches_ignore_it(tmp_path, greenhouse):
    reviews = write_reviews(tmp_path / "reviews.csv", rows=60)
    config = searched(SearchConfig(data_path=str(reviews), project_dir=str(tmp_path / "p"), target="label"))
    assert check_resume(config, identify(config))
    # Character n-grams of 1 lengthen every text, so the data differs too; the message names the options.
    message = refusal(config.replace(char_ngrams=1))
    assert ("the text tokenization differs: the search used --ngrams 2 --char-ngrams 0 --max-tokens 20000, "
            "this run --ngrams 2 --char-ngrams 1 --max-tokens 20000") in message
    # Another vocabulary size leaves the sequence length as it was: only this check sees it.
    message = refusal(config.replace(max_tokens=30))
    assert "the data differs" not in message and "--max-tokens 30" in message
    # A table without text resumes whatever its (unused) text options say.
    table = searched(SearchConfig(data_path=str(greenhouse), project_dir=str(tmp_path / "t"), target="species"))
    assert check_resume(table.replace(char_ngrams=3, ngrams=1), identify(table))
