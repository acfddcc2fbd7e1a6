"""Trials scored by k-fold cross-validation (issue #16, ``--cv-folds K``, opt-in): which searches
fold, the score the oracle ranks by (the folds' mean), its standard error in the events and the
trial store, the time budget, and resuming."""

from __future__ import annotations

import math
import statistics
import time

import pytest

from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ProjectError, UserError
from automl_studio.engine.core.events import EpochEnded, SearchStarted, TrialEnded
from automl_studio.engine.data.identity import identify, prepare_for_search
from automl_studio.engine.search.defaults import CV_FOLDS, trial_folds
from automl_studio.engine.search.project import check_resume, read_trials, write_search_document
from automl_studio.engine.search.session import run_search


def test_folds_only_when_asked_and_where_they_fit(tmp_path, iris_csv):
    iris = SearchConfig(str(iris_csv), str(tmp_path / "p"), tuner="random")
    prepared = prepare_for_search(iris)
    assert trial_folds(iris, prepared) == 0  # opt-in: the validation split by default
    assert trial_folds(iris.replace(cv_folds=1), prepared) == 0
    assert trial_folds(iris.replace(cv_folds=CV_FOLDS), prepared) == CV_FOLDS
    assert trial_folds(iris.replace(cv_folds=3, tuner="bayesian"), prepared) == 3
    with pytest.raises(UserError, match="hyperband"):
        trial_folds(iris.replace(tuner="hyperband", cv_folds=5), prepared)
    with pytest.raises(UserError, match="--cv-folds"):
        iris.replace(cv_folds=11)


@pytest.mark.slow
def test_a_cross_validated_search_ranks_trials_by_the_folds_mean(tmp_path, iris_csv):
    events: list = []
    project = tmp_path / "p"
    config = SearchConfig(str(iris_csv), str(project), tuner="random", max_trials=2, max_epochs=3, patience=0,
                          cv_folds=CV_FOLDS)
    result = run_search(config, events.append)
    assert result.status == "completed" and result.exported
    started = next(e for e in events if isinstance(e, SearchStarted))
    assert started.settings["cv_folds"] == CV_FOLDS
    ended = [e for e in events if isinstance(e, TrialEnded)]
    assert len(ended) == 2
    for trial in ended:
        assert len(trial.fold_scores) == CV_FOLDS
        # The oracle's score (what KerasTuner ranks by) is the folds' mean best val_loss.
        assert trial.score == pytest.approx(statistics.mean(trial.fold_scores), rel=1e-6)
        se = statistics.stdev(trial.fold_scores) / math.sqrt(CV_FOLDS)
        assert trial.score_se == pytest.approx(se) and trial.score_se > 0
        # The live curves show the first fold's epochs only, once each.
        epochs = [e.epoch for e in events if isinstance(e, EpochEnded) and e.trial_id == trial.trial_id]
        assert epochs == [1, 2, 3]
    assert result.best_score == pytest.approx(min(t.score for t in ended))
    stored = read_trials(project)
    for trial in ended:
        assert stored[trial.trial_id].score_se == pytest.approx(trial.score_se)
        assert stored[trial.trial_id].fold_scores == pytest.approx(trial.fold_scores)
    # The folds gave the refit's length: no second cross-validation after the search.
    assert not any(e.type == "phase_changed" and e.phase == "validating" for e in events)


@pytest.mark.slow
def test_a_default_search_scores_trials_on_the_validation_split(tmp_path, iris_csv):
    events: list = []
    run_search(SearchConfig(str(iris_csv), str(tmp_path / "p"), tuner="random", max_trials=1, max_epochs=1,
                            refit=False), events.append)
    [ended] = [e for e in events if isinstance(e, TrialEnded)]
    assert ended.status == "completed" and ended.score is not None
    assert ended.fold_scores == () and ended.score_se is None
    assert next(e for e in events if isinstance(e, SearchStarted)).settings["cv_folds"] == 0


@pytest.mark.slow
def test_folds_keep_to_the_time_budget(tmp_path, iris_csv):
    # Five folds of up to 300 epochs each would take minutes: a fold starts only while the
    # trial's deadline leaves room for the slowest fold so far, and a fold runs into it is cut.
    budget_s = 45.0
    started = time.monotonic()
    events: list = []
    result = run_search(SearchConfig(str(iris_csv), str(tmp_path / "p"), tuner="random", max_epochs=300, patience=0,
                                     cv_folds=CV_FOLDS, time_budget_s=budget_s),
                        events.append, budget_started_at=started)
    took = time.monotonic() - started
    assert result.status == "budget" and result.exported
    assert took <= 1.03 * budget_s, took
    completed = [e for e in events if isinstance(e, TrialEnded) and e.status == "completed"]
    assert completed and all(1 <= len(e.fold_scores) <= CV_FOLDS for e in completed)


def test_a_project_searched_with_other_folds_is_not_resumed(tmp_path, iris_csv):
    config = SearchConfig(str(iris_csv), str(tmp_path / "p"), tuner="random", cv_folds=5)
    (tmp_path / "p" / "tuner").mkdir(parents=True)
    write_search_document(config.project_dir, SearchDocument(config, identify(config).to_dict()))
    assert check_resume(config, identify(config))
    # The finished trials' scores are means over five folds; a resumed one would score one split.
    with pytest.raises(ProjectError, match="the search used --cv-folds 5, this run --cv-folds 0"):
        check_resume(config.replace(cv_folds=0), identify(config))
    assert check_resume(config.replace(cv_folds=5, max_trials=40), identify(config))
