"""Class imbalance: a table where a class is rare gets balanced class weights (and, with two
classes, focal loss) as search dimensions and a balanced objective (validation ROC AUC) by
default; a balanced table keeps the plain defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import SearchStarted, TrialEnded
from automl_studio.engine.core.objectives import check_objective
from automl_studio.engine.data.identity import load_config_dataset, prepare_loaded
from automl_studio.engine.data.imbalance import balanced_class_weights, rare_classes
from automl_studio.engine.search.defaults import imbalance_space, resolve_defaults
from automl_studio.engine.space.spec import Choice, SearchSpace
from automl_studio.engine.space.templates import template_spec


def table(path: Path, positives: float, n: int = 200, seed: int = 4) -> Path:
    """Two numeric columns and a yes/no label with ``positives`` of the rows "yes" (separable)."""
    rng = np.random.default_rng(seed)
    yes = rng.permutation(n) < round(positives * n)
    x1 = rng.normal(size=n) + 2.5 * yes
    rows = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{'yes' if c else 'no'}"
                              for a, b, c in zip(x1, rng.normal(size=n), yes, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def prepared_for(path: Path, tmp_path: Path) -> tuple[SearchConfig, object]:
    config = SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), target="label")
    return config, prepare_loaded(load_config_dataset(config), config)


def test_the_rule_for_a_rare_class() -> None:
    assert rare_classes((190, 10)) == (1,)  # 5 % positives
    assert rare_classes((161, 39)) == (1,)  # 19.5 %
    assert rare_classes((160, 40)) == ()  # 20 %: mild imbalance
    assert rare_classes((50, 50, 50)) == ()
    assert rare_classes((100, 100, 10)) == (2,)  # under 13.3 % of three classes
    assert rare_classes((1,) * 10) == ()  # ten even classes of 10 % each


def test_balanced_weights_make_each_class_weigh_the_same() -> None:
    y = np.array([0.0] * 19 + [1.0])
    weights = balanced_class_weights(y, 2)
    assert weights == pytest.approx({0: 20 / (2 * 19), 1: 20 / 2})
    assert weights[0] * 19 == pytest.approx(weights[1] * 1)
    assert balanced_class_weights(np.array([0, 0, 2]), 3)[1] == 1.0  # absent from the rows


def test_a_table_with_5_percent_positives_searches_class_weights_under_a_balanced_objective(tmp_path) -> None:
    config, prepared = prepared_for(table(tmp_path / "rare.csv", 0.05), tmp_path)
    space = imbalance_space(SearchSpace.from_dict(template_spec("tabular")), prepared)

    assert space.training["class_weight"] == Choice(("balanced", "none"))
    assert space.training["loss"] == Choice(("crossentropy", "focal"))
    resolved = resolve_defaults(config, prepared)
    assert resolved.objective == "val_auc" and resolved.direction == "max"
    # A chosen objective is kept.
    chosen = SearchConfig(**{**config.to_dict(), "objective": "val_loss"})
    assert resolve_defaults(chosen, prepared).objective == "val_loss"


def test_a_rare_class_among_three_searches_class_weights_under_the_loss(tmp_path) -> None:
    rng = np.random.default_rng(5)
    labels = ["a"] * 90 + ["b"] * 90 + ["c"] * 12  # c: 6 % of the rows, under 13.3 %
    rows = ["x,label"] + [f"{rng.normal() + 2 * 'abc'.index(c):.4f},{c}" for c in labels]
    (tmp_path / "three.csv").write_text("\n".join(rows) + "\n")
    config, prepared = prepared_for(tmp_path / "three.csv", tmp_path)
    space = imbalance_space(SearchSpace.from_dict(template_spec("tabular")), prepared)

    assert space.training["class_weight"] == Choice(("balanced", "none"))
    # Ranked by validation loss (no ROC AUC for three classes), which focal loss measures on
    # another scale: a focal trial would win by its scale, so the loss is not searched.
    assert resolve_defaults(config, prepared).objective == "val_loss"
    assert "loss" not in space.training


def test_a_balanced_table_keeps_the_plain_defaults(tmp_path) -> None:
    config, prepared = prepared_for(table(tmp_path / "even.csv", 0.5), tmp_path)
    space = SearchSpace.from_dict(template_spec("tabular"))
    assert imbalance_space(space, prepared) is space
    assert resolve_defaults(config, prepared).objective == "val_loss"
    assert check_objective(None, "classification", 3, imbalanced=True).name == "val_loss"


def test_a_searched_loss_ranks_trials_by_a_metric_every_loss_reports_alike(tmp_path) -> None:
    # Focal loss and smoothed cross-entropy measure on other scales than cross-entropy: ranked
    # by validation loss, a focal trial won an iris search while finding 0.2 of one class.
    from dataclasses import replace

    config, prepared = prepared_for(table(tmp_path / "even.csv", 0.5), tmp_path)
    space = SearchSpace.from_dict(template_spec("tabular"))
    assert resolve_defaults(config, prepared, space).objective == "val_loss"
    for training in ({"loss": Choice(("crossentropy", "focal"))}, {"label_smoothing": Choice((0.0, 0.1))}):
        searched = replace(space, training={**space.training, **training})
        assert resolve_defaults(config, prepared, searched).objective == "val_accuracy"
    fixed = replace(space, training={**space.training, "loss": "focal"})
    assert resolve_defaults(config, prepared, fixed).objective == "val_loss"  # one scale for all
    chosen = SearchConfig(**{**config.to_dict(), "objective": "val_loss"})
    assert resolve_defaults(chosen, prepared, searched).objective == "val_loss"  # the user's choice


def test_a_spec_that_sets_its_class_weights_keeps_them(tmp_path) -> None:
    from dataclasses import replace

    _config, prepared = prepared_for(table(tmp_path / "rare.csv", 0.05), tmp_path)
    space = SearchSpace.from_dict(template_spec("tabular"))
    space = replace(space, training={**space.training, "class_weight": "none", "loss": "focal"})
    assert imbalance_space(space, prepared).training == space.training


@pytest.mark.slow
def test_a_search_on_an_imbalanced_table_trains_with_class_weights(tmp_path) -> None:
    from automl_studio.engine.search.project import read_trials
    from automl_studio.engine.search.session import run_search

    events: list = []
    config = SearchConfig(data_path=str(table(tmp_path / "rare.csv", 0.05)), project_dir=str(tmp_path / "p"),
                          target="label", tuner="random", max_trials=2, max_epochs=2, refit=False, seed=2)
    result = run_search(config, events.append)

    started = next(e for e in events if isinstance(e, SearchStarted))
    assert started.settings["objective"] == "val_auc"
    trials = [e for e in events if isinstance(e, TrialEnded)]
    assert trials and all(t.hyperparameters["training.class_weight"] in ("balanced", "none") for t in trials)
    assert result.status == "completed"
    # Each completed trial reports its recall of each class on the validation split (38 "no" and
    # 2 "yes" rows of the 200: each recall is a count of those), kept with it.
    completed = [t for t in trials if t.status == "completed"]
    assert completed
    for trial in completed:
        assert list(trial.class_recall) == ["no", "yes"], trial.class_recall
        for name, rows in (("no", 38), ("yes", 2)):
            found = trial.class_recall[name]
            assert found is not None and 0.0 <= found <= 1.0
            assert found * rows == pytest.approx(round(found * rows)), (name, found)
    kept = read_trials(config.project_dir)
    assert {t.trial_id: dict(t.class_recall) for t in completed} == {
        t.trial_id: kept[t.trial_id].class_recall for t in completed}
