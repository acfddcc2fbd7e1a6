"""The Results page shows a finished search: best trial, metrics, confusion matrix or a
predicted-vs-actual plot; exporting reports failures in place."""

from __future__ import annotations

import json
import sys

import pytest
from PySide6.QtWidgets import QWidget

from automl_studio.engine.core.events import SearchFinished, event_from_dict
from automl_studio.gui.models.trial_store import TrialStore
from automl_studio.gui.pages.results_page import ResultsPage


def classification_finish() -> SearchFinished:
    return SearchFinished.build(
        "completed", best_trial_id="3", best_score=0.12, best_hyperparameters={"units": 64, "lr": 0.001},
        test_metrics={"accuracy": 0.9, "balanced_accuracy": 0.88, "f1_macro": 0.87,
                      "confusion_matrix": [[5, 1], [0, 4]], "class_names": ["cat", "dog"]},
        exported=["/p/best/best.h5"], refits=3)


def test_empty_until_a_search_finished(qtbot):
    page = ResultsPage()
    qtbot.addWidget(page)
    assert not page.findChild(QWidget, "exportModel").isEnabled()
    assert "No results yet" in page.findChild(QWidget, "resultsEmptyState").text()


def test_classification_result(qtbot, tmp_path):
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(classification_finish(), str(tmp_path))
    assert page.findChild(QWidget, "exportModel").isEnabled()
    assert page.findChild(QWidget, "metric_accuracy").text() == "0.900"
    assert page.findChild(QWidget, "best_units").text() == "64"
    assert page.findChild(QWidget, "best_Model").text().startswith("average of 3 refits")
    model = page.confusion_model
    assert (model.rowCount(), model.columnCount()) == (2, 2)
    assert model.index(0, 1).data() == "1"
    assert "actual cat, predicted dog" in model.index(0, 1).data(3)  # ToolTipRole
    assert "best.h5" in page.findChild(QWidget, "exportedFiles").text()


def test_an_ensemble_of_trials_is_named_as_the_model(qtbot, tmp_path):
    # As the engine's process sends it: through the JSON of the event log.
    sent = SearchFinished.build(
        "completed", best_trial_id="04", best_score=0.08, test_metrics={"accuracy": 0.95}, refits=0,
        ensemble={"trials": ["04", "01", "07"], "weights": [3, 1, 1], "objective": "val_loss",
                  "score": 0.071, "single_score": 0.08})
    finish = event_from_dict(json.loads(json.dumps(sent.to_dict())))
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(finish, str(tmp_path))
    model = page.findChild(QWidget, "best_Model")
    assert page.best_form.labelForField(model).text() == "Model"
    assert model.text() == "ensemble of 3 trials (ids 04, 01, 07; weights 3, 1, 1)"
    page.set_result(classification_finish(), str(tmp_path))  # the next search's refits replace it
    assert page.findChild(QWidget, "best_Model").text().startswith("average of 3 refits")


def test_a_random_forest_is_named_as_the_model_with_how_it_was_chosen(qtbot, tmp_path):
    sent = SearchFinished.build(
        "budget", best_trial_id="04", best_score=0.31, test_metrics={"accuracy": 0.95}, refits=0,
        forest={"trees": 100, "leaves": 64, "smoothing": 0.01, "score": 0.21, "network_score": 0.31,
                "chosen_by": "3-fold cross-validation", "estimator": "RandomForestClassifier"})
    finish = event_from_dict(json.loads(json.dumps(sent.to_dict())))
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(finish, str(tmp_path))
    assert page.findChild(QWidget, "best_Model").text() == (
        "random forest of 100 trees (at most 64 leaves each) in Keras layers, chosen on 3-fold cross-validation: "
        "0.21 against the best network's 0.31")
    page.set_result(classification_finish(), str(tmp_path))  # the next search's refits replace it
    assert page.findChild(QWidget, "best_Model").text().startswith("average of 3 refits")


def test_the_score_is_labelled_with_the_objective_of_the_trial_store(qtbot, tmp_path):
    store = TrialStore()
    store.reset("val_accuracy")
    page = ResultsPage(store)
    qtbot.addWidget(page)
    page.set_result(classification_finish(), str(tmp_path))
    score = page.findChild(QWidget, "best_Score")
    assert score.text() == "0.12"
    assert page.best_form.labelForField(score).text() == "val_accuracy (higher is better)"
    store.set_objective("val_loss")  # the store ranks by another objective now: so does the label
    score = page.findChild(QWidget, "best_Score")
    assert page.best_form.labelForField(score).text() == "val_loss (lower is better)"


def test_regression_result_plots_predicted_against_actual(qtbot, tmp_path):
    page = ResultsPage()
    qtbot.addWidget(page)
    finish = {"type": "search_finished", "status": "completed", "best_trial_id": "1", "best_score": 2.0,
              "test_metrics": {"rmse": 1.5, "mae": 1.1, "r2": 0.8,
                               "sample": {"actual": [1.0, 2.0, 3.0], "predicted": [1.1, 1.8, 3.3]}}}
    page.set_result(event_from_dict(finish), str(tmp_path))  # as an older project's log has it
    assert page.findChild(QWidget, "best_Model") is None  # an older project's event: not said
    plot = page.findChild(QWidget, "predictedVsActualPlot")
    assert plot is not None and plot.accessibleName()
    assert page.findChild(QWidget, "metric_r2").text() == "0.800"


@pytest.mark.slow
def test_export_failure_shows_a_message(qtbot, tmp_path):
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(classification_finish(), str(tmp_path / "no-such-project"))
    with qtbot.waitSignal(page.exportFailed, timeout=240_000) as blocker:
        page.export_to(str(tmp_path / "out.h5"))
    assert "no-such-project" in blocker.args[0] and "not a search project" in blocker.args[0]
    assert page.banner.text() == f"Export failed: {blocker.args[0]}"
    assert page.findChild(QWidget, "exportModel").isEnabled()


def test_the_pyside_refcount_workaround_is_in_effect_where_needed():
    from automl_studio.gui import qt_workarounds

    if sys.version_info < (3, 12) and qt_workarounds.none_refcount_leaks():
        assert qt_workarounds.protect_none_refcount()
        assert sys.getrefcount(None) > 1 << 40
    else:
        assert not qt_workarounds.protect_none_refcount()  # nothing to protect: not applied


def test_the_baseline_is_shown_under_each_test_metric_and_a_chance_level_model_is_flagged(qtbot, tmp_path):
    page = ResultsPage()
    qtbot.addWidget(page)
    finish = SearchFinished.build(
        "completed", best_trial_id="3", best_score=0.5,
        test_metrics={"accuracy": 0.7, "balanced_accuracy": 0.5, "n": 40,
                      "confusion_matrix": [[28, 0], [12, 0]], "class_names": ["no", "yes"]},
        baseline_metrics={"accuracy": 0.7, "balanced_accuracy": 0.5, "n": 40,
                          "rule": "always the most common class, no (70% of the training rows)"})
    page.set_result(finish, str(tmp_path))
    assert page.findChild(QWidget, "baseline_accuracy").text() == "baseline 0.700"
    assert page.findChild(QWidget, "baseline_n") is None  # a count is no metric to beat
    assert "does not beat the trivial baseline" in page.baseline_note.text()
    assert page.findChild(QWidget, "resultsBaselineSearchLonger").isVisibleTo(page)
    with qtbot.waitSignal(page.searchLongerRequested, timeout=1000):
        page.findChild(QWidget, "resultsBaselineSearchLonger").click()
    page.set_result(classification_finish(), str(tmp_path))  # no baseline reported: no flag
    assert page.baseline_note.text() == ""
    assert page.findChild(QWidget, "baseline_accuracy") is None


@pytest.mark.slow
def test_export_to_deployment_formats_shows_each_check_in_words(qtbot, tmp_path):
    import subprocess

    from conftest import IRIS

    from automl_studio.engine.search.project import last_finish

    # A real tiny search, in its own process as the window runs them.
    project = tmp_path / "project"
    done = subprocess.run([sys.executable, "-m", "automl_studio.engine.cli", "search", str(IRIS),
                           "--project", str(project), "--tuner", "random", "--max-trials", "1",
                           "--max-epochs", "1", "--no-refit"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    page = ResultsPage()
    qtbot.addWidget(page)
    finish = last_finish(str(project))
    assert finish is not None
    # (older projects' readers gave the event as a dict)
    event = finish if isinstance(finish, SearchFinished) else event_from_dict(dict(finish))
    page.set_result(event, str(project))
    quantize = page.findChild(QWidget, "exportQuantize")
    assert not quantize.isEnabled()  # only TFLite is quantised
    page.findChild(QWidget, "exportTFLite").setChecked(True)
    assert quantize.isEnabled()
    quantize.setCurrentIndex(quantize.findData("float16"))
    page.findChild(QWidget, "exportONNX").setChecked(True)
    assert page.formats() == ["h5", "tflite", "onnx"] and page.quantize() == "float16"
    with qtbot.waitSignal(page.exportFinished, timeout=900_000) as blocker:
        page.export_to(str(tmp_path / "out" / "iris.h5"))
    result = blocker.args[0]
    assert [c["format"] for c in result["checks"]] == ["h5", "tflite", "onnx"]
    status = page.findChild(QWidget, "exportStatus").text()
    assert "TensorFlow Lite (.tflite), float16-quantised: reloaded with tf.lite.Interpreter" in status
    assert "ONNX (.onnx): reloaded with onnxruntime.InferenceSession in a fresh process" in status
    assert (tmp_path / "out" / "iris.onnx").exists() and (tmp_path / "out" / "MODEL_CARD.md").exists()


def test_a_best_trial_with_many_hyperparameters_scrolls_rather_than_growing_the_window(qtbot, tmp_path):
    """A repeated block of four gives 30 hyperparameters: listed unscrolled they made the page's
    minimum height about 1100 px, so a 1024×700 window grew past the screen."""
    hps = {f"dense.units.{i}": 16 for i in range(10)} | {f"dense.activation.{i}": "relu" for i in range(10)}
    hps |= {f"dropout.enabled.{i}": True for i in range(10)}
    finish = SearchFinished.build(
        "completed", best_trial_id="2", best_score=0.37, best_hyperparameters=hps,
        test_metrics={"accuracy": 0.9, "confusion_matrix": [[5, 1], [0, 4]], "class_names": ["no", "yes"]},
        exported=["/p/best/best.h5"], refits=1)
    page = ResultsPage()
    qtbot.addWidget(page)
    page.set_result(finish, str(tmp_path))
    page.resize(810, 600)  # what a 1024×700 window leaves the page
    page.show()
    qtbot.waitExposed(page)
    assert page.minimumSizeHint().height() <= 600
    assert page.height() == 600
    assert page.findChild(QWidget, "best_dropout.enabled.9") is not None  # listed, in the scroll area
    scroll = page.findChild(QWidget, "resultsSummaryScroll")
    assert not scroll.horizontalScrollBar().isVisible()  # long values wrap


def test_a_forecast_shows_every_naive_forecast_under_its_test_metrics(qtbot, tmp_path):
    """#17: the naive baselines, last value and seasonal naive, beside every forecast search."""
    page = ResultsPage()
    qtbot.addWidget(page)
    naive = {"last value": {"mae": 3.88, "rmse": 4.43, "mase": 3.2, "n": 120},
             "seasonal naive": {"mae": 1.14, "rmse": 1.36, "mase": 0.938, "n": 120}}
    finish = SearchFinished.build(
        "completed", best_trial_id="0", best_score=2.76,
        test_metrics={"mae": 1.05, "rmse": 1.35, "mase": 0.866, "n": 120},
        baseline_metrics={**naive["seasonal naive"], "naive": naive,
                          "rule": "seasonal naive: the value one period (24 steps) earlier"})
    page.set_result(finish, str(tmp_path))
    assert page.findChild(QWidget, "baseline_mase").text() == "baseline 0.938"  # the seasonal naive
    shown = sorted(label.text() for label in page.findChildren(QWidget, "naive_mase"))
    assert shown == ["last value 3.200"] and page.findChild(QWidget, "naive_n") is None
