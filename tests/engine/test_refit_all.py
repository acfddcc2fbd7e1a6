"""The exported model trained again on all rows once the test split has scored it
(SearchConfig.refit_all, engine/search/session.py): the refits and the forest see the test rows
too, the test metrics stay the model's before, and a refit on all rows that has no time is not run."""

from __future__ import annotations

import time

import numpy as np
import pytest
from datafiles import write_slope, write_steps

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.data.identity import load_config_dataset, prepare_loaded


def exported_predictions(project, x):
    import keras

    model = keras.models.load_model(project / "best" / "best.h5")
    return np.asarray(model.predict(x, verbose=0), dtype=float).reshape(len(next(iter(x.values()))), -1)


def prepared_as_the_search(path, target):
    config = SearchConfig(data_path=str(path), target=target, project_dir=str(path.parent / "unused"))
    return prepare_loaded(load_config_dataset(config), config)


@pytest.mark.slow
def test_refits_are_trained_again_on_all_rows_and_the_test_metrics_are_the_models_before(tmp_path):
    from automl_studio.engine.core.events import PhaseChanged, SearchFinished
    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.search.session import run_search
    from automl_studio.engine.train.evaluation import read_evaluation

    data = write_slope(tmp_path / "plane.csv", 300, noise=0.5)
    prepared = prepared_as_the_search(data, "y")
    test = prepared.test

    def search(name, refit_all):
        events: list = []
        result = run_search(SearchConfig(data_path=str(data), target="y", project_dir=str(tmp_path / name),
                                         tuner="random", max_trials=1, max_epochs=3, refits=2, finalists=0,
                                         forest=False, export_keras=False, tensorboard=False, refit_all=refit_all),
                            events.append)
        before = np.asarray(result.test_metrics["sample"]["predicted"])  # all 60 test rows, in order
        return result, events, before, exported_predictions(tmp_path / name, test.x)[:, 0]

    result, events, before, exported = search("all", True)
    assert result.refits == 2
    assert result.all_rows == {"rows": 300, "test_rows": len(test), "members": 2, "of": 2}, result.all_rows
    assert "the exported model was trained again on all 300 rows once the test split's 60 had scored it" in \
        result.message, result.message
    finished = next(e for e in events if isinstance(e, SearchFinished))
    assert finished.all_rows == result.all_rows
    assert read_metadata(tmp_path / "all" / "best" / "best.h5")["all_rows"] == result.all_rows
    said = [e.message for e in events if isinstance(e, PhaseChanged) and "again on all 300 rows" in e.message]
    assert len(said) == 2, said
    # The test split scored the refits on train+validation; the file holds the ones on all rows.
    assert len(before) == len(test) and not np.allclose(exported, before, atol=1e-4)
    # The Results page's refit curves are the two refits the test split scored, not their twins.
    assert len(read_evaluation(tmp_path / "all" / "best").runs) == 2

    result, _, before, exported = search("kept", False)
    assert not result.all_rows and "trained again" not in result.message
    assert np.allclose(exported, before, atol=1e-4)  # the file is the model the test split scored


@pytest.mark.slow
def test_a_forest_is_fitted_again_on_all_rows_in_the_same_shape(tmp_path):
    from automl_studio.engine.search.session import run_search
    from automl_studio.engine.train.forest import (
        TIE_TILT,
        fit_forest,
        forest_features,
        forest_output,
    )

    data = write_steps(tmp_path / "steps.csv", 500)
    result = run_search(SearchConfig(data_path=str(data), project_dir=str(tmp_path / "p"), tuner="random",
                                     max_trials=2, max_epochs=2, refits=1, export_keras=False, tensorboard=False),
                        lambda event: None)
    assert result.forest, result.message  # the staircase's forest wins (test_forest)
    prepared = prepared_as_the_search(data, "label")
    assert result.all_rows == {"rows": 500, "test_rows": len(prepared.test), "members": 1, "of": 1}, result.all_rows
    splits = (prepared.train, prepared.validation, prepared.test)
    features = np.concatenate([forest_features(s.x, prepared.signature) for s in splits])
    labels = np.concatenate([np.asarray(s.y) for s in splits])
    forest = fit_forest("classification", features, labels, leaves=result.forest["leaves"],
                        trees=result.forest["trees"])
    expected = forest_output(forest, forest_features(prepared.test.x, prepared.signature), 2,
                             result.forest["smoothing"])[:, 1] - TIE_TILT  # a tie at 0.5 is class 0
    assert np.abs(exported_predictions(tmp_path / "p", prepared.test.x)[:, 0] - expected).max() < 1e-6


def test_a_refit_on_all_rows_without_the_time_for_it_is_not_started(tmp_path):
    from automl_studio.engine.core.events import PhaseChanged
    from automl_studio.engine.search.session import _twin

    prepared = prepared_as_the_search(write_slope(tmp_path / "plane.csv", 50, noise=0.5), "y")
    events: list = []
    twin = _twin(None, None, None, prepared.train, 3, 0, 30.0, events.append, None, time.monotonic() + 20.0,
                 " (refit 1 of 2)")
    # Nothing was trained (no epoch, no "training the same refit again"): the one event says why.
    assert twin is None and all(isinstance(e, PhaseChanged) for e in events)
    assert [e.message for e in events] == [
        f"no time left to train the refit again on all {len(prepared.train)} rows (~30 s) (refit 1 of 2); the "
        "exported refit is the one the test split scores"]


def test_the_record_says_which_refits_saw_all_rows():
    from automl_studio.engine.export.deploy import limitations
    from automl_studio.engine.train.forest_record import all_rows_words, trained_on

    every = {"rows": 1234, "test_rows": 247, "members": 5, "of": 5}
    some = {**every, "members": 3}
    assert all_rows_words(every) == ("the exported model was trained again on all 1,234 rows once the test split's "
                                     "247 had scored it (the test metrics are the model's before)")
    assert all_rows_words(some).startswith("3 of the exported model's 5 refits were trained again on all 1,234 rows")
    assert (all_rows_words({}), all_rows_words(None), all_rows_words({"rows": "many"})) == ("", "", "")
    assert (trained_on(every), trained_on(some), trained_on({})) == (
        "all 1,234 rows", "all 1,234 rows (3 of 5; the others train + validation)", "train + validation")
    notes = limitations({"all_rows": some, "test_metrics": {"n": 247}}, [100, 100])
    assert any(n.startswith("3 of the exported model's 5 refits were trained again") for n in notes), notes
