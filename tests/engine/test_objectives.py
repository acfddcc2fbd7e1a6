"""Every objective the window and the command line offer works, in the direction of the one rule.

Each objective runs a real tiny search on each kind of task it applies to; the trial's score must
be the best value the epochs logged, in the objective's direction. Early stopping must watch that
direction too: a run that keeps improving its RMSE is not cut at ``patience + 1`` epochs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from automl_studio.engine.cli import main
from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.objectives import OBJECTIVES, get_objective, objectives_for
from automl_studio.engine.data.features import Split
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.search.session import run_search
from automl_studio.engine.train import crossval


def write_regression_table(path: Path, rows: int = 300, seed: int = 0) -> Path:
    """A nearly linear target: a linear model improves on it epoch after epoch."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-2, 2, rows), rng.uniform(0, 5, rows)
    y = 3 * a - 2 * b + 10 + rng.normal(0, 0.05, rows)
    lines = ["a,b,y"] + [f"{a[i]:.4f},{b[i]:.4f},{y[i]:.4f}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def regression_csv(tmp_path: Path) -> Path:
    return write_regression_table(tmp_path / "linear.csv")


def search(data: Path, project: Path, objective: str | None, **settings: object) -> tuple[list, object]:
    events: list = []
    options: dict = dict(tuner="random", max_trials=1, max_epochs=3, refit=False, seed=3)
    options.update(settings)
    config = SearchConfig(data_path=str(data), project_dir=str(project), objective=objective, **options)
    return events, run_search(config, events.append)


def epochs_logged(events: list, trial_id: str, key: str) -> list[float]:
    return [e.metrics[key] for e in events if e.type == "epoch_ended" and e.trial_id == trial_id]


# Each objective on each kind of task it applies to: two-class (mixed_csv: Yes/no),
# three-class (iris) and regression.
CASES = [(name, kind) for name, o in OBJECTIVES.items()
         for kind in ("binary", "multiclass", "regression") if kind in o.tasks]


def test_every_objective_is_listed_for_some_task():
    assert {name for name, _kind in CASES} == set(OBJECTIVES)
    assert {o.name for o in objectives_for("classification", 2)} == {"val_loss", "val_accuracy", "val_auc"}
    assert {o.name for o in objectives_for("classification", 3)} == {"val_loss", "val_accuracy"}
    assert {o.name for o in objectives_for("regression", 0)} == {"val_loss", "val_rmse", "val_mae"}
    assert objectives_for("regression", 0)[0].name == "val_loss"  # the default comes first


@pytest.mark.parametrize(("task", "n_classes"), [("classification", 2), ("classification", 3),
                                                  ("regression", 0)])
def test_the_model_compiles_exactly_the_metrics_its_objectives_need(task, n_classes):
    from automl_studio.engine.train.hypermodel import make_metrics

    signature = DataSignature(task=task, n_classes=n_classes, inputs={"numeric": (2,)})
    compiled = {"val_loss"} | {f"val_{m.name}" for m in make_metrics(signature)}
    assert compiled == {o.name for o in objectives_for(task, n_classes)}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kind"), CASES)
def test_every_objective_runs_a_search_scored_by_its_logged_value(tmp_path, mixed_csv, iris_csv, regression_csv,
                                                                  name, kind):
    data = {"binary": mixed_csv, "multiclass": iris_csv, "regression": regression_csv}[kind]
    target = {"binary": "label", "multiclass": "species", "regression": "y"}[kind]
    events, result = search(data, tmp_path / "proj", name, target=target)
    assert result.status == "completed", result.message
    ended = [e for e in events if e.type == "trial_ended"]
    assert len(ended) == 1 and ended[0].status == "completed", ended
    trial = ended[0]
    logged = epochs_logged(events, trial.trial_id, name)
    assert len(logged) == 3 and all(np.isfinite(logged))
    rule = get_objective(name)
    best = max(logged) if rule.maximize else min(logged)
    assert trial.score == pytest.approx(best, rel=1e-6)
    assert result.best_score == pytest.approx(best, rel=1e-6)
    assert logged[trial.best_epoch - 1] == pytest.approx(best, rel=1e-6)
    started = next(e for e in events if e.type == "search_started")
    assert started.settings["objective"] == name and started.settings["direction"] == rule.direction
    assert result.exported  # the model (with its compiled metrics) was written and verified


@pytest.mark.slow
@pytest.mark.parametrize("name", ["val_rmse", "val_mae"])
def test_early_stopping_keeps_a_steadily_improving_regression_going(tmp_path, regression_csv, name):
    # The old substring rule watched val_rmse and val_mae as if higher were better: the first
    # epoch was then the best, and training stopped at epoch patience + 1 = 3, keeping epoch 1.
    events, result = search(regression_csv, tmp_path / "proj", name, target="y", max_epochs=8, patience=2)
    assert result.status == "completed", result.message
    trial = next(e for e in events if e.type == "trial_ended")
    logged = epochs_logged(events, trial.trial_id, name)
    assert logged[-1] < logged[0]  # the run did improve
    assert len(logged) > 2 + 1, logged
    assert trial.best_epoch > 1


@pytest.mark.slow
def test_the_cross_validated_refit_follows_a_maximised_objective(tmp_path, mixed_csv):
    events, result = search(mixed_csv, tmp_path / "proj", "val_auc", target="label", refit=True, refits=1,
                            forest=False)
    assert result.status == "completed", result.message
    folds = [e.message for e in events if e.type == "phase_changed" and e.phase == "validating"]
    assert any("mean val_auc" in m for m in folds), folds
    assert result.refits == 1


def test_the_folds_best_epoch_is_the_highest_value_of_a_maximised_objective():
    curves = iter([[0.6, 0.9, 0.8], [0.5, 0.7, 0.95]])  # best at epochs 2 and 3

    class History:
        def __init__(self, curve: list[float]) -> None:
            self.history = {"val_auc": curve}

    result = crossval.cross_validate(lambda: None, lambda *_a, **_k: History(next(curves)),
                                     Split(x=np.zeros((20, 1)), y=np.zeros(20)), objective=get_objective("val_auc"),
                                     epochs=3, patience=0, batch_size=8, seed=0, callbacks=lambda _k: [], folds=2)
    assert result.fold_epochs == (2, 3) and result.epochs == 2  # the median 2.5, rounded to even
    assert result.score == pytest.approx((0.9 + 0.7) / 2)  # both folds at epoch 2


def test_val_auc_on_three_classes_is_refused_before_any_trial(tmp_path, iris_csv):
    events: list = []
    config = SearchConfig(data_path=str(iris_csv), project_dir=str(tmp_path / "proj"), objective="val_auc",
                          tuner="random", max_trials=1, max_epochs=1)
    with pytest.raises(UserError) as caught:
        run_search(config, events.append)
    message = str(caught.value)
    assert "val_auc" in message and "3-class classification" in message
    assert message.endswith("choose one of val_loss, val_accuracy")
    assert "\n" not in message
    assert not [e for e in events if e.type == "trial_started"]


def test_the_command_line_refuses_an_objective_for_another_task_with_exit_2(tmp_path, regression_csv, capsys):
    code = main(["search", str(regression_csv), "--target", "y", "--objective", "val_accuracy",
                 "--project", str(tmp_path / "proj"), "--max-trials", "1", "--max-epochs", "1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "val_accuracy does not exist for regression" in err[0]
    assert err[0].endswith("choose one of val_loss, val_rmse, val_mae")


def test_the_command_line_help_lists_every_objective_and_its_direction(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for objective in OBJECTIVES.values():
        better = "higher" if objective.maximize else "lower"
        assert f"{objective.name} ({better} is better" in text


def test_a_search_with_local_workers_refuses_it_before_starting_a_process(tmp_path, iris_csv, capsys):
    code = main(["search", str(iris_csv), "--objective", "val_auc", "--workers", "2",
                 "--project", str(tmp_path / "proj"), "--max-trials", "1", "--max-epochs", "1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("choose one of val_loss, val_accuracy"), err
    assert not list((tmp_path / "proj").glob("*.log"))  # neither chief nor worker was started
