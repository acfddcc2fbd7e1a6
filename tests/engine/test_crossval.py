"""Cross-validating the refit's length on small tables: folds, the chosen epoch, the search's use."""

from __future__ import annotations

import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.objectives import get_objective
from automl_studio.engine.data.features import Split
from automl_studio.engine.export.model_info import read_metadata
from automl_studio.engine.search.session import run_search
from automl_studio.engine.train import crossval

VAL_LOSS = get_objective("val_loss")


def test_folds_partition_the_rows_and_keep_the_class_mix():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    folds = crossval.fold_indices(len(labels), labels, 5, seed=3)
    joined = np.concatenate(folds)
    assert sorted(joined.tolist()) == list(range(100))  # every row held out exactly once
    for fold in folds:
        assert np.bincount(labels[fold], minlength=3).tolist() == [12, 6, 2]
    assert [f.tolist() for f in crossval.fold_indices(100, labels, 5, seed=3)] == [f.tolist() for f in folds]
    unlabelled = crossval.fold_indices(11, None, 5, seed=0)
    assert sorted(np.concatenate(unlabelled).tolist()) == list(range(11))
    assert sorted(len(f) for f in unlabelled) == [2, 2, 2, 2, 3]


def test_only_the_folds_that_may_start_run_and_they_decide():
    curves = iter([[3, 2, 1], [3, 1, 2], [1, 2, 3], [2, 1, 3]])  # best at epochs 3, 2, 1, 2
    started: list[tuple[int, int]] = []

    class History:
        def __init__(self, curve):
            self.history = {"val_loss": curve}

    def fit(*_args, **_kwargs):
        return History(next(curves))

    def may_start(fold: int, seconds: tuple[float, ...]) -> bool:
        started.append((fold, len(seconds)))
        return fold < 3  # the time left holds three folds

    data = Split(x=np.zeros((50, 1)), y=np.zeros(50))
    result = crossval.cross_validate(lambda: None, fit, data, objective=VAL_LOSS, epochs=3, patience=0,
                                     batch_size=8, seed=0, callbacks=lambda _k: [], may_start=may_start)
    assert started == [(0, 0), (1, 1), (2, 2), (3, 3)]  # asked with each finished fold's seconds
    assert result.fold_epochs == (3, 2, 1) and result.epochs == 2 and len(result.fold_seconds) == 3
    with pytest.raises(crossval.TooFewFolds):  # one fold is no median
        crossval.cross_validate(lambda: None, fit, data, objective=VAL_LOSS, epochs=3, patience=0,
                                batch_size=8, seed=0, callbacks=lambda _k: [],
                                may_start=lambda fold, _seconds: fold < 1)


def test_only_small_tables_are_cross_validated():
    assert crossval.applies("table", 441)
    assert crossval.applies("features", crossval.MAX_ROWS)
    assert not crossval.applies("table", crossval.MAX_ROWS + 1)
    assert not crossval.applies("images", 300)
    assert not crossval.applies("table", 6)  # fewer rows than two per fold


@pytest.mark.slow
def test_a_slowly_converging_model_is_retrained_for_longer_than_its_noisy_best_epoch():
    import keras

    from automl_studio.engine.train.hypermodel import fit_arrays

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x @ np.array([3.0, -2.0, 1.0, 0.5]) + rng.normal(0, 0.1, 200)).astype("float32")

    def build():
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(keras.optimizers.SGD(0.01), keras.losses.MeanSquaredError())
        return model

    result = crossval.cross_validate(build, fit_arrays, Split(x=x, y=y), objective=VAL_LOSS,
                                     epochs=12, patience=3, batch_size=32, seed=0,
                                     callbacks=lambda _k: [])
    # Plain SGD at 0.01 is still improving after 12 epochs on every fold: each fold is best last.
    assert result.epochs == 12 and result.fold_epochs == (12,) * crossval.FOLDS
    assert 0 < result.score < float(np.var(y))


class OutOfTime(Exception):
    pass


@pytest.mark.slow
def test_when_time_runs_out_the_finished_folds_decide():
    import keras

    from automl_studio.engine.train.hypermodel import fit_arrays

    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 2)).astype("float32")
    y = (x[:, 0] - x[:, 1]).astype("float32")

    def build():
        inputs = keras.Input((2,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(keras.optimizers.SGD(0.01), keras.losses.MeanSquaredError())
        return model

    class Budget(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise OutOfTime()

    def callbacks(fold: int) -> list:
        return [Budget()] if fold >= 3 else []

    result = crossval.cross_validate(build, fit_arrays, Split(x=x, y=y), objective=VAL_LOSS,
                                     epochs=3, patience=0, batch_size=16, seed=0, callbacks=callbacks,
                                     cut=(OutOfTime,))
    assert result.fold_epochs == (3, 3, 3) and result.epochs == 3  # fold 4 was cut, fold 5 never ran
    with pytest.raises(OutOfTime):  # fewer than two finished folds: no answer
        crossval.cross_validate(build, fit_arrays, Split(x=x, y=y), objective=VAL_LOSS,
                                epochs=3, patience=0, batch_size=16, seed=0, cut=(OutOfTime,),
                                callbacks=lambda fold: [Budget()] if fold >= 1 else [])


def test_the_refit_length_is_the_median_of_the_folds_best_epochs():
    curves = {0: [5, 4, 3, 2, 1], 1: [5, 1, 2, 3, 4], 2: [5, 4, 1, 2, 3]}  # best at epochs 5, 2, 3

    class History:
        def __init__(self, curve):
            self.history = {"val_loss": curve}

    fold = iter(range(3))

    def fit(*_args, **_kwargs):
        return History(curves[next(fold)])

    result = crossval.cross_validate(lambda: None, fit, Split(x=np.zeros((30, 1)), y=np.zeros(30)),
                                     objective=VAL_LOSS, epochs=5, patience=0,
                                     batch_size=8, seed=0, callbacks=lambda _k: [], folds=3)
    assert result.fold_epochs == (5, 2, 3) and result.epochs == 3
    # Each fold is scored at the refit's length (epoch 3), not at its own best epoch (1.0 each).
    assert result.fold_scores == (3.0, 2.0, 1.0) and result.score == 2.0


def test_a_fold_is_scored_at_the_refits_length_or_where_it_stopped():
    assert crossval.at_epoch(np.array([5.0, 4.0, 3.0]), 2, VAL_LOSS) == 4.0
    assert crossval.at_epoch(np.array([5.0, 4.0]), 6, VAL_LOSS) == 4.0  # early stopping ended it at epoch 2
    assert crossval.at_epoch(np.array([5.0, 2.0, np.nan]), 3, VAL_LOSS) == 2.0  # not finite there: its best
    higher = get_objective("val_accuracy")
    assert crossval.at_epoch(np.array([0.5, 0.9, np.inf]), 3, higher) == 0.9
    with pytest.raises(ValueError, match="no finite val_loss"):
        crossval.at_epoch(np.array([np.nan, np.inf]), 2, VAL_LOSS)


@pytest.mark.slow
def test_the_search_reports_the_cross_validated_refit(tmp_path, iris_csv):
    events: list = []
    config = SearchConfig(forest=False, data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          max_trials=1, max_epochs=4, patience=0)
    result = run_search(config, events.append)
    phases = [(e.phase, e.message) for e in events if e.type == "phase_changed"]
    names = [p for p, _ in phases]
    assert names.index("validating") < names.index("refitting") < names.index("exporting")
    ran = next(m for p, m in phases if p == "validating" and " folds in " in m)
    assert ran.startswith("5 of 5 folds")
    chosen = next(m for p, m in phases if p == "validating" and "is refitted for" in m)
    epochs = int(chosen.split("is refitted for ")[1].split(" ")[0])
    assert 1 <= epochs <= 4
    refit = next(m for p, m in phases if p == "refitting")
    assert f"for {epochs} epochs" in refit
    assert not any(e.type == "finalists_scored" for e in events)  # one trial: nothing to choose
    assert result.status == "completed" and result.exported


def _cv(score: float, spread: float = 1.0, parameters: int | None = None) -> crossval.CrossValidation:
    return crossval.CrossValidation(epochs=3, score=score, fold_epochs=(3, 3),
                                    fold_scores=(score - spread, score + spread), parameters=parameters)


def test_the_smallest_steady_network_within_one_standard_error_of_the_best_mean_is_chosen():
    # Two folds at ±1: a standard error of 1; the split's best comes first.
    near = {"07": _cv(34.3, parameters=900), "12": _cv(33.9, parameters=400), "00": _cv(34.8, parameters=5)}
    assert crossval.choose(near, VAL_LOSS) == "00"  # the linear trial, 0.9 behind: noise
    far = {"07": _cv(34.3, parameters=900), "12": _cv(33.9, parameters=400), "00": _cv(35.0, parameters=5)}
    assert crossval.choose(far, VAL_LOSS) == "12"  # 1.1 behind the best mean: out; then the smaller of two
    assert crossval.choose({"07": _cv(35.3, parameters=9), "12": _cv(33.9, parameters=90)}, VAL_LOSS) == "12"
    higher = get_objective("val_accuracy")  # higher is better
    assert crossval.choose({"07": _cv(0.95, 0.01, 900), "00": _cv(0.94, 0.01, 5)}, higher) == "00"
    assert crossval.choose({"07": _cv(0.95, 0.01, 900), "00": _cv(0.93, 0.01, 5)}, higher) == "07"
    # Within a standard error, but its folds spread far wider than the best's: not the steadier
    # network the rule assumes (held-out barley seed 1: the linear trial at 43 ± 14 vs 39 ± 5).
    assert crossval.choose({"01": _cv(39.1, 4.7, 353), "00": _cv(43.3, 13.6, 21)}, VAL_LOSS) == "01"
    assert crossval.choose({"01": _cv(39.1, 4.7, 353), "00": _cv(43.3, 5.0, 21)}, VAL_LOSS) == "00"
    # ...and the one passed over for its spread is named, where it is smaller than the export.
    assert crossval.unsteady({"01": _cv(39.1, 4.7, 353), "00": _cv(43.3, 13.6, 21)}, VAL_LOSS) == ["00"]
    assert crossval.unsteady({"01": _cv(39.1, 4.7, 21), "00": _cv(43.3, 13.6, 353)}, VAL_LOSS) == []
    assert crossval.unsteady({"01": _cv(39.1, 4.7, 353), "00": _cv(43.3, 5.0, 21)}, VAL_LOSS) == []
    assert crossval.choose({"07": _cv(0.95, 0.01, 900), "00": _cv(0.945, 0.03, 5)}, higher) == "07"
    assert crossval.choose({"07": _cv(0.95, 0.01, 900), "00": _cv(0.945, 0.012, 5)}, higher) == "00"
    # Equal sizes, or sizes unknown: the earlier key (the split's best) wins within noise.
    assert crossval.choose({"07": _cv(34.3), "12": _cv(33.9)}, VAL_LOSS) == "07"
    assert crossval.choose({"07": _cv(34.3, parameters=50), "12": _cv(33.9, parameters=50)}, VAL_LOSS) == "07"
    single = {"07": crossval.CrossValidation(epochs=1, score=2.0, fold_epochs=(1,), fold_scores=(2.0,)),
              "03": crossval.CrossValidation(epochs=1, score=1.9, fold_epochs=(1,), fold_scores=(1.9,))}
    assert crossval.choose(single, VAL_LOSS) == "03"  # one fold, no standard error: the best mean
    assert _cv(34.3).se == pytest.approx(np.std([33.3, 35.3], ddof=1) / np.sqrt(2))
    assert crossval.CrossValidation(epochs=1, score=1.0, fold_epochs=(1,), fold_scores=(1.0,)).se is None
    with pytest.raises(ValueError):
        crossval.choose({}, VAL_LOSS)


@pytest.mark.slow
def test_finalists_are_scored_on_the_same_folds_and_the_best_mean_is_exported(tmp_path, iris_csv):
    events: list = []
    config = SearchConfig(forest=False, data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          max_trials=3, max_epochs=4, patience=0, refits=1, seed=3)
    result = run_search(config, events.append)
    scored = [e for e in events if e.type == "finalists_scored"]
    assert len(scored) == 1, [e.message for e in events if e.type == "phase_changed"]
    event = scored[0]
    completed = {e.trial_id: e.score for e in events if e.type == "trial_ended" and e.status == "completed"}
    by_split = min(completed, key=lambda tid: (completed[tid], tid))
    assert event.validation_best == by_split and event.folds == crossval.FOLDS
    assert set(event.scores) == set(completed)  # three trials: all are finalists (the first among them)
    for score in event.scores.values():
        assert len(score["fold_scores"]) == event.folds
        assert score["score"] == pytest.approx(np.mean(score["fold_scores"]))
        assert score["se"] == pytest.approx(np.std(score["fold_scores"], ddof=1) / np.sqrt(event.folds))
    # The smallest network within one standard error of the best mean, and no less steady, is exported;
    # a smaller one passed over for its spread is flagged.
    assert list(event.scores)[0] == event.validation_best
    best = min(event.scores, key=lambda tid: event.scores[tid]["score"])
    limit = event.scores[best]["score"] + event.scores[best]["se"]
    near = [tid for tid, s in event.scores.items() if s["score"] <= limit]
    steady = [tid for tid in near if event.scores[tid]["score"] + event.scores[tid]["se"] <= limit + event.scores[best]["se"]]
    assert all(isinstance(s["parameters"], int) and s["parameters"] > 0 for s in event.scores.values())
    size = {tid: (event.scores[tid]["parameters"], list(event.scores).index(tid)) for tid in event.scores}
    assert event.chosen == min(steady, key=size.__getitem__)
    assert {tid for tid, s in event.scores.items() if s.get("unsteady")} == \
        {tid for tid in near if tid not in steady and size[tid] < size[event.chosen]}
    # The exported model is the chosen finalist's refit, whatever the validation split said.
    assert result.best_trial_id == event.chosen
    assert result.best_hyperparameters == next(e.hyperparameters for e in events
                                               if e.type == "trial_ended" and e.trial_id == event.chosen)
    refit = next(e.message for e in events if e.type == "phase_changed" and e.phase == "refitting"
                 and e.message.startswith("retraining"))
    assert f"trial {event.chosen} " in refit and f"for {event.scores[event.chosen]['epochs']} epochs" in refit
    if event.chosen != event.validation_best:
        because = ("the best mean fold score of the finalists" if event.chosen == best else
                   "the smallest network within a standard error of the finalists' best mean fold score")
        assert (f"trial {event.chosen} is exported, not trial {event.validation_best} (the validation split's "
                f"best): {because}") in result.message
    h5 = next(path for path in result.exported if path.endswith(".h5"))
    assert str(read_metadata(h5)["best_trial_id"]) == event.chosen
    # The search's HTML report lists the finalists' fold scores and marks the exported one.
    from automl_studio.engine.search.report import collect_report, render_report

    rows = {row.trial_id: row for row in collect_report(config.project_dir).trials}
    assert rows[event.chosen].best and rows[event.chosen].cross_validated.endswith(" · exported")
    assert all(rows[tid].cross_validated and not rows[tid].cross_validated.endswith("exported")
               for tid in event.scores if tid != event.chosen)
    html = render_report(config.project_dir)
    assert "<th>cross-validated</th>" in html and rows[event.chosen].cross_validated in html


@pytest.mark.slow
def test_no_cross_validation_without_a_refit(tmp_path, iris_csv):
    events: list = []
    run_search(SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                            max_trials=1, max_epochs=2, refit=False), events.append)
    assert not any(e.type == "phase_changed" and e.phase == "validating" for e in events)


def test_too_many_finalists_are_refused_in_one_line(tmp_path, iris_csv, capsys):
    from automl_studio.engine.cli import main
    from automl_studio.engine.core.errors import UserError

    with pytest.raises(UserError, match="--finalists must be 0"):
        SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "p"), finalists=11)
    code = main(["search", str(iris_csv), "--project", str(tmp_path / "q"), "--finalists", "-1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--finalists must be 0" in err[-1] and "Traceback" not in "".join(err)


@pytest.mark.slow
def test_finalists_0_exports_the_validation_splits_best(tmp_path, iris_csv, capsys):
    import json

    from automl_studio.engine.cli import main

    code = main(["search", str(iris_csv), "--project", str(tmp_path / "p"), "--tuner", "random", "--max-trials", "3",
                 "--max-epochs", "3", "--refits", "1", "--finalists", "0", "--no-forest",
                 "--events", str(tmp_path / "events.jsonl")])
    assert code == 0, capsys.readouterr().err
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not any(e["type"] == "finalists_scored" for e in events)
    assert next(e for e in events if e["type"] == "search_started")["settings"]["finalists"] == 0
    completed = {e["trial_id"]: e["score"] for e in events if e["type"] == "trial_ended" and e["status"] == "completed"}
    finished = next(e for e in events if e["type"] == "search_finished")
    assert finished["best_trial_id"] == min(completed, key=lambda tid: (completed[tid], tid))
    # The refit's length still comes from the folds (of the split's best alone).
    assert any(e["type"] == "phase_changed" and " folds in " in e["message"] for e in events)


@pytest.mark.slow
def test_finalists_past_the_plan_run_where_the_planned_ones_left_time(tmp_path, iris_csv, monkeypatch):
    from dataclasses import replace

    from automl_studio.engine.search.tuner import TrialEvents

    planned = TrialEvents.studio_plan

    def one_finalist(self, available_s, running=None, *, final=False):
        plan = planned(self, available_s, running, final=final)
        return replace(plan, finalists=1) if final else plan  # the plan after the trials: room for one

    monkeypatch.setattr(TrialEvents, "studio_plan", one_finalist)
    events: list = []
    config = SearchConfig(forest=False, data_path=str(iris_csv), project_dir=str(tmp_path / "p"), tuner="random",
                          max_trials=3, max_epochs=3, patience=0, refits=1, seed=3, time_budget_s=600)
    run_search(config, events.append)
    said = [e.message for e in events if e.type == "phase_changed" and e.phase == "validating"]
    assert any(m.startswith("5-fold cross-validation of trial ") and ", to choose how long" in m for m in said), said
    scored = next(e for e in events if e.type == "finalists_scored")
    assert len(scored.scores) == 3  # the two past the plan ran in the time it left
    for tid in list(scored.scores)[1:]:
        assert f"time is left: trial {tid} is cross-validated too, on the same folds" in said


def test_a_paired_lead_cancels_what_the_rows_share_and_refuses_unequal_rows():
    from automl_studio.engine.train.baselines import objective_rows, objective_value

    # Two models' squared errors on the same rows, which share most of their errors.
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 3, 400)
    better, worse = shared + rng.normal(0, 0.1, 400), shared + rng.normal(1.0, 0.1, 400)
    y = np.zeros(400)
    first, second = objective_rows("val_rmse", y, better, 0), objective_rows("val_rmse", y, worse, 0)
    lead, se = crossval.paired_lead(first, second, maximize=False)
    assert lead == pytest.approx(np.mean(worse ** 2 - better ** 2)) and 0 < se < lead
    assert objective_value("val_rmse", y, better, 0) == pytest.approx(np.sqrt(np.mean(first)))
    assert crossval.paired_lead(second, first, maximize=False)[0] == pytest.approx(-lead)
    # Accuracy: higher is better; the terms are 1 and 0.
    labels = np.array([0, 1, 1, 0])
    right = objective_rows("val_accuracy", labels, np.eye(2)[labels], 2)
    wrong = objective_rows("val_accuracy", labels, np.eye(2)[[0, 0, 1, 1]], 2)
    assert list(right) == [1, 1, 1, 1] and list(wrong) == [1, 0, 1, 0]
    assert crossval.paired_lead(right, wrong, maximize=True)[0] == 0.5
    assert objective_rows("val_auc", labels, np.eye(2)[labels], 2) is None  # no rows' terms
    with pytest.raises(ValueError, match="same rows"):
        crossval.paired_lead(right, wrong[:3], maximize=True)
