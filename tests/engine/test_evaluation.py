"""The best model's evaluation (best/evaluation.json): per-class scores, curves, permutation
importance, layer list and refit curves, from real tiny searches, checked against scikit-learn
on the exported model's own predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.search.project import read_search_document
from automl_studio.engine.search.session import _Session, run_search
from automl_studio.engine.train.evaluation import (
    CURVE_POINTS,
    EVALUATION_SCHEMA_VERSION,
    Evaluation,
    permutation_importance,
    read_evaluation,
)


def search(tmp_path: Path, data: Path, target: str, **settings) -> tuple[object, Evaluation, Path]:
    project = tmp_path / "proj"
    # The evaluation of a network (its layers, its refits' curves): no forest in its place, and the
    # exported file is the model the test split scored (not trained again on all rows).
    config = SearchConfig(data_path=str(data), project_dir=str(project), target=target, tuner="random",
                          max_trials=1, max_epochs=3, forest=False, refit_all=False, **settings)
    result = run_search(config)
    assert result.status == "completed", result.message
    stored = json.loads((project / "best" / "evaluation.json").read_text(encoding="utf-8"))
    assert stored["schema_version"] == EVALUATION_SCHEMA_VERSION
    evaluation = read_evaluation(project / "best")
    assert evaluation is not None
    return result, evaluation, project


def exported_predictions(project: Path) -> tuple[np.ndarray, np.ndarray]:
    """The test split, prepared again from the project's search document as the search did, and
    the exported model's output on it."""
    import keras

    document = read_search_document(project)
    assert document is not None
    prepared = _Session(document.config, lambda _event: None).prepared
    model = keras.models.load_model(project / "best" / "best.h5")
    return prepared.test.y, np.asarray(model.predict(dict(prepared.test.x), verbose=0))


def check_network(evaluation: Evaluation, project: Path, refits: int) -> None:
    import keras

    network = evaluation.network
    assert network is not None and network.members == refits
    model = keras.models.load_model(project / "best" / "best.h5")
    assert network.total_params == model.count_params()
    assert sum(layer.params for layer in network.layers) * network.members == network.total_params
    assert any(layer.type == "Dense" for layer in network.layers)
    assert all(layer.output_shape.startswith("(None") for layer in network.layers)
    assert len(evaluation.runs) == refits and all(run and run[0]["epoch"] == 1 for run in evaluation.runs)
    assert all("loss" in epoch for run in evaluation.runs for epoch in run)


@pytest.mark.slow
def test_multiclass_evaluation_matches_scikit_learn(tmp_path, iris_csv):
    from sklearn.metrics import classification_report, roc_auc_score

    result, evaluation, project = search(tmp_path, iris_csv, "species", refits=2)
    names = ["setosa", "versicolor", "virginica"]
    assert evaluation.task == "classification" and list(evaluation.class_names) == names
    assert (evaluation.objective, evaluation.direction) == ("val_loss", "min")

    y, proba = exported_predictions(project)
    report = classification_report(y, proba.argmax(axis=1), labels=[0, 1, 2], target_names=names,
                                   output_dict=True, zero_division=0)
    assert [c.name for c in evaluation.per_class] == names
    for row in evaluation.per_class:
        expected = report[row.name]
        assert row.support == expected["support"]
        assert row.precision == pytest.approx(expected["precision"], abs=1e-6)
        assert row.recall == pytest.approx(expected["recall"], abs=1e-6)
        assert row.f1 == pytest.approx(expected["f1-score"], abs=1e-6)

    assert [c.name for c in evaluation.roc] == names and [c.name for c in evaluation.precision_recall] == names
    for k, curve in enumerate(evaluation.roc):
        assert 2 <= len(curve.x) == len(curve.y) <= CURVE_POINTS
        assert (curve.x[0], curve.y[0], curve.x[-1], curve.y[-1]) == (0.0, 0.0, 1.0, 1.0)
        assert curve.area == pytest.approx(roc_auc_score(y == k, proba[:, k]), abs=1e-4)
    for curve in evaluation.precision_recall:
        assert 0.0 <= curve.area <= 1.0 and curve.prevalence == pytest.approx(1 / 3, abs=0.05)

    importance = evaluation.importance
    assert importance is not None and importance.metric == "loss" and importance.repeats == 5
    assert [c.column for c in importance.columns] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert importance.rows == evaluation.test_rows == result.test_metrics["n"]
    assert all(len(c.drops) == 5 for c in importance.columns)
    check_network(evaluation, project, refits=2)


@pytest.mark.slow
def test_binary_evaluation_has_one_curve_and_scores_the_objective(tmp_path, mixed_csv):
    from sklearn.metrics import precision_recall_fscore_support

    _, evaluation, project = search(tmp_path, mixed_csv, "label", refits=1, objective="val_auc")
    y, proba = exported_predictions(project)
    labels = (proba[:, 0] >= 0.5).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(y, labels, labels=[0, 1], zero_division=0)
    assert [c.support for c in evaluation.per_class] == list(support)
    assert [c.f1 for c in evaluation.per_class] == pytest.approx(list(f1), abs=1e-6)
    positive = evaluation.class_names[1]
    assert [c.name for c in evaluation.roc] == [positive] and len(evaluation.precision_recall) == 1
    importance = evaluation.importance
    assert importance is not None and (importance.metric, importance.direction) == ("auc", "max")
    # The ID column is not an input; age has a missing flag that moves with it.
    assert [c.column for c in importance.columns] == ["age", "income", "city"]
    check_network(evaluation, project, refits=1)


def write_regression_table(path: Path, rows: int = 120) -> Path:
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "blue"], rows)
    y = 3 * x1 + (colour == "red") + rng.normal(0, 0.1, rows)
    lines = ["x1,x2,colour,y"] + [f"{a:.4f},{b:.4f},{c},{t:.4f}" for a, b, c, t in zip(x1, x2, colour, y, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_regression_evaluation_keeps_points_and_residuals(tmp_path):
    data = write_regression_table(tmp_path / "reg.csv")
    result, evaluation, project = search(tmp_path, data, "y", refits=1, task="regression")
    assert evaluation.task == "regression" and not evaluation.per_class and not evaluation.roc
    n = result.test_metrics["n"]
    assert len(evaluation.actual) == len(evaluation.predicted) == evaluation.regression_rows == n
    y, output = exported_predictions(project)
    assert sorted(evaluation.actual) == pytest.approx(sorted(map(float, y)), abs=1e-5)
    assert sorted(evaluation.predicted) == pytest.approx(sorted(map(float, output[:, 0])), abs=1e-4)
    assert evaluation.residuals[0] == pytest.approx(evaluation.actual[0] - evaluation.predicted[0])
    importance = evaluation.importance
    assert importance is not None and [c.column for c in importance.columns] == ["x1", "x2", "colour"]
    check_network(evaluation, project, refits=1)


def test_permutation_importance_is_the_score_drop_of_shuffling_one_column():
    """A plain function as the model: the output is column 0, so shuffling column 1 (or the
    categorical codes) cannot change the score, and shuffling column 0 must worsen it."""
    rng = np.random.default_rng(0)
    x = {"numeric": rng.normal(size=(300, 2)).astype(np.float32), "categorical": rng.integers(1, 4, (300, 1))}
    y = x["numeric"][:, 0].astype(np.float64)

    def predict(inputs):
        return inputs["numeric"][:, :1]

    columns = [("a", {"numeric": [0]}), ("b", {"numeric": [1]}), ("c", {"categorical": [0]})]
    result = permutation_importance(predict, x, y, task="regression", metric="rmse", direction="min",
                                    columns=columns, max_rows=200)
    a, b, c = result.columns
    assert result.rows == 200 and result.score == pytest.approx(0.0)
    assert a.mean > 1.0 and a.std > 0 and len(a.drops) == 5
    assert b.drops == c.drops == (0.0,) * 5


def test_images_and_wide_tables_get_a_note_instead_of_importance():
    """Permutation importance is for table columns: images are skipped, and so is a table
    wider than the cap, each with a note that says why (a plain function as the model)."""
    from automl_studio.engine.train.evaluation import IMPORTANCE_COLUMNS, evaluate

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    output = np.where(y[:, None] == 1, 0.8, 0.3)

    def predict(inputs):
        raise AssertionError("no importance is computed, so the model is not called")

    images = evaluate(predict, {"image": rng.integers(0, 255, (20, 4, 4, 3))}, y, output, task="classification",
                      class_names=("cat", "dog"), objective="val_loss", direction="min", input_kind="images",
                      schema=None, inputs={"image": (4, 4, 3)})
    assert images.importance is not None and not images.importance.columns
    assert "not for images" in images.importance.note
    assert [c.support for c in images.per_class] == [10, 10] and images.roc[0].area == 1.0

    width = IMPORTANCE_COLUMNS + 1
    wide = evaluate(predict, {"numeric": rng.normal(size=(20, width))}, y, output, task="classification",
                    class_names=("cat", "dog"), objective="val_accuracy", direction="max", input_kind="features",
                    schema=None, inputs={"numeric": (width,)})
    assert wide.importance is not None and f"{width} input columns" in wide.importance.note
    assert Evaluation.from_dict(json.loads(json.dumps(wide.to_dict()))) == wide
