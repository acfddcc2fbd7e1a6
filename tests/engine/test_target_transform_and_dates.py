"""Issue #16: a log1p target transform for skewed regression targets, and date columns as
calendar features — each trained for real on a tiny table, exported, reloaded and scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafiles import PREDICT_WITHOUT_APP, run_without_app

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.data.dates import DateFeature
from automl_studio.engine.data.features import prepare_data
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import DATETIME, profile_dataset
from automl_studio.engine.search.defaults import resolve_defaults, target_space
from automl_studio.engine.space.spec import Choice, SearchSpace
from automl_studio.engine.space.templates import template_spec


def skewed_csv(path: Path, n: int = 240) -> Path:
    """A price-like target: exp of a linear function plus noise (skewness well above 1)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=n), rng.normal(size=n)
    price = np.exp(2.0 + 1.2 * a - 0.6 * b + rng.normal(0, 0.1, n))
    pd.DataFrame({"a": a, "b": b, "price": price}).to_csv(path, index=False)
    return path


def weekday_csv(path: Path, n: int = 280) -> Path:
    """A label that is the day of week of a date column (weekend or not), beside a noise column."""
    rng = np.random.default_rng(5)
    when = pd.Timestamp("2022-01-03") + pd.to_timedelta(rng.permutation(np.arange(n * 3))[:n], unit="D")
    label = np.where(when.day_of_week >= 5, "weekend", "weekday")
    pd.DataFrame({"when": when.strftime("%Y-%m-%d"), "noise": rng.normal(size=n), "label": label}).to_csv(
        path, index=False)
    return path


def test_a_skewed_non_negative_target_searches_log1p_and_compares_trials_by_rmse(tmp_path):
    dataset = load_dataset(skewed_csv(tmp_path / "prices.csv"))
    profile = profile_dataset(dataset, "price")
    assert profile.skewed_target and profile.target_skew is not None and profile.target_skew > 1
    prepared = prepare_data(dataset, profile)
    space = target_space(SearchSpace.from_dict(template_spec("tabular")), prepared)
    assert space.training["target_transform"] == Choice(("none", "log1p"))
    config = SearchConfig(data_path=str(dataset.path), project_dir=str(tmp_path / "p"))
    # Trials learn in different units: they compare by RMSE in the target's units, not by loss.
    assert resolve_defaults(config, prepared, space).objective == "val_rmse"
    assert resolve_defaults(config, prepared).objective == "val_loss"

    # A target with negative values, or a symmetric one, keeps its own units.
    frame = dataset.frame.assign(price=np.log(dataset.frame["price"]) - 2.0)
    symmetric = tmp_path / "symmetric.csv"
    frame.to_csv(symmetric, index=False)
    other = load_dataset(symmetric)
    other_profile = profile_dataset(other, "price")
    assert not other_profile.skewed_target
    plain = SearchSpace.from_dict(template_spec("tabular"))
    assert "target_transform" not in target_space(plain, prepare_data(other, other_profile)).training


@pytest.mark.slow
def test_a_log1p_model_answers_in_the_target_units_and_reloads_without_the_app(tmp_path):
    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.export.predict import load_model, predict_data
    from automl_studio.engine.search.session import run_search

    path = skewed_csv(tmp_path / "prices.csv")
    spec = template_spec("tabular")
    del spec["template"]  # a plain spec: a template's would be laid out afresh, its training too
    spec["training"] = {**spec.get("training", {}), "target_transform": "log1p"}
    out = tmp_path / "model.h5"
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), space=spec,
                                     tuner="random", max_trials=1, max_epochs=40, refits=1,
                                     export_path=str(out), refit_all=False))  # the file: the model the test scored
    assert result.status == "completed"
    meta = read_metadata(out)
    assert meta["search_space"]["training"]["target_transform"] == "log1p"
    assert meta["target_transform"]["name"] == "log1p" and "expm1" in meta["target_transform"]["inverse"]
    assert meta["objective"]["name"] == "val_rmse"

    # Predict on the raw file: values in the target's units (prices around e^2, never below 0)
    # that reproduce the model's own output on the in-app inputs of the same rows.
    model, metadata = load_model(out)
    assert model.get_layer("exp") is not None
    predictions = predict_data(model, metadata, path)
    predicted = np.asarray(predictions.labels, dtype=float)
    truth = pd.read_csv(path)["price"].to_numpy()
    assert predicted.min() >= 0
    assert 0.5 < np.median(predicted) / np.median(truth) < 2.0
    dataset = load_dataset(path)
    prepared = prepare_data(dataset, profile_dataset(dataset, "price"))
    assert prepared.schema is not None
    in_app = np.asarray(model.predict(prepared.schema.transform(dataset.frame), verbose=0)).reshape(-1)
    assert np.allclose(predicted, in_app, rtol=1e-5)
    # However far the inputs lie outside training, the answer stays within twice the largest
    # training target (the log cap), where exponentially extrapolating a linear network would not.
    largest = float(np.expm1(prepared.signature.log_target_max))
    far = {k: np.asarray(v)[:8] for k, v in prepared.schema.transform(dataset.frame).items()}
    far["numeric"] = np.where(np.arange(8)[:, None] % 2, -1e4, 1e4) * np.ones_like(far["numeric"])
    answers = np.asarray(model.predict(far, verbose=0)).reshape(-1)
    assert np.all(np.isfinite(answers)) and answers.max() <= 2 * largest + 1 + 1e-3 * largest
    assert largest <= truth.max()
    # The test metrics are in the target's units: the RMSE of the model's prices on its test rows.
    test_rows = prepared.split_indices[2]
    rmse = float(np.sqrt(np.mean((in_app[test_rows] - truth[test_rows]) ** 2)))
    assert result.test_metrics["rmse"] == pytest.approx(rmse, rel=1e-3)
    assert np.corrcoef(in_app[test_rows], truth[test_rows])[0, 1] > 0.5

    # A fresh interpreter without automl_studio reloads the .h5 and answers the same prices.
    sample = tmp_path / "p" / "best" / "sample_inputs.npz"
    fresh = np.asarray(run_without_app(PREDICT_WITHOUT_APP, out, sample, timeout=180))
    here = np.asarray(model.predict(dict(np.load(sample)), verbose=0)).reshape(-1)
    assert np.allclose(fresh, here, rtol=1e-5)


def test_a_date_column_is_profiled_as_dates_and_expanded_into_calendar_parts(tmp_path):
    dataset = load_dataset(weekday_csv(tmp_path / "days.csv"))
    profile = profile_dataset(dataset, "label")
    when = profile.column("when")
    assert when.kind == DATETIME and when.used  # unique per row, yet no ID
    prepared = prepare_data(dataset, profile)
    assert prepared.schema is not None
    (feature,) = prepared.schema.dates
    assert {"day_of_week", "day_of_week_sin", "day_of_week_cos", "month", "year"} <= set(feature.parts)
    assert "hour" not in feature.parts  # dates without a time of day
    assert prepared.signature.inputs["numeric"] == (1 + feature.width,)
    day_of_week = prepared.train.x["numeric"][:, 1 + feature.parts.index("day_of_week")]
    expected = pd.to_datetime(dataset.frame["when"]).dt.day_of_week.to_numpy()[prepared.split_indices[0]]
    assert np.array_equal(day_of_week, expected)
    # The date itself as a number: days since 1970-01-01.
    days = prepared.train.x["numeric"][:, 1 + feature.parts.index("days_since_1970")]
    expected_days = (pd.to_datetime(dataset.frame["when"]) - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    assert np.array_equal(days, expected_days[prepared.split_indices[0]])

    # Times of day add the hour; a missing date is filled and flagged; offsets read in UTC.
    stamps = pd.Series(["2024-03-04 06:30", "2024-03-05 18:00+02:00", None, "2024-12-31 23:00"])
    timed = DateFeature.fit("t", stamps)
    assert timed.flag and {"hour", "hour_sin", "hour_cos"} <= set(timed.parts)
    values = timed.transform(stamps)
    hour = values[:, timed.parts.index("hour")]
    assert hour[0] == pytest.approx(6.5) and hour[1] == pytest.approx(16.0)
    # 2024-03-04 is day 19,786 after 1970-01-01; 06:30 is 0.2708 of a day (float32: ~0.002 of a day).
    assert values[0, timed.parts.index("days_since_1970")] == pytest.approx(19786 + 6.5 / 24, abs=0.01)
    assert values[2, -1] == 1.0 and values[0, -1] == 0.0
    assert DateFeature.from_dict(json.loads(json.dumps(timed.to_dict()))) == timed


@pytest.mark.slow
def test_a_label_from_the_day_of_week_is_learnt_and_predict_expands_raw_dates(tmp_path):
    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.export.predict import load_model, predict_data
    from automl_studio.engine.search.session import run_search

    path = weekday_csv(tmp_path / "days.csv")
    out = tmp_path / "model.h5"
    result = run_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), target="label",
                                     tuner="random", max_trials=1, max_epochs=40, refits=1,
                                     export_path=str(out), refit_all=False))  # the file: the model the test scored
    assert result.status == "completed"
    assert result.test_metrics["accuracy"] >= 0.9  # a weekend from a weekday needs the date
    meta = read_metadata(out)
    assert [d["name"] for d in meta["feature_schema"]["dates"]] == ["when"]
    assert "day_of_week" in meta["feature_schema"]["dates"][0]["parts"]

    # Raw rows, dates as text (one unreadable): predict expands them as training did.
    model, metadata = load_model(out)
    frame = pd.read_csv(path)
    raw = tmp_path / "raw.csv"
    frame.drop(columns=["label"]).assign(when=lambda f: f["when"].where(f.index != 3, "someday")).to_csv(
        raw, index=False)
    predictions = predict_data(model, metadata, raw)
    assert predictions.labels[3] is None and "'someday' is not a date" in predictions.problems[3]
    dataset = load_dataset(path)
    prepared = prepare_data(dataset, profile_dataset(dataset, "label"))
    assert prepared.schema is not None
    proba = np.asarray(model.predict(prepared.schema.transform(dataset.frame), verbose=0))
    names = metadata["class_names"]
    in_app = [names[int(p >= 0.5)] for p in proba[:, 0]]
    scored = [i for i in range(len(frame)) if i != 3]
    assert [predictions.labels[i] for i in scored] == [in_app[i] for i in scored]
    assert np.mean([predictions.labels[i] == frame["label"][i] for i in scored]) >= 0.9
