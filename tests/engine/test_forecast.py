"""Forecasting from a time column, and sequence arrays: chronological splits, windows, the
forecast template, naive baselines, `predict` on raw history, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from automl_studio.engine.cli import main
from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.identity import prepare_for_search
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.data.timeseries import (
    ForecastOptions,
    check_forecast,
    naive_forecasts,
    seasonal_period,
)


def write_hourly(path: Path, rows: int = 300, *, shuffle: bool = True) -> Path:
    """An hourly load with a daily cycle that follows a temperature covariate; rows out of order."""
    rng = np.random.default_rng(0)
    t = pd.date_range("2024-01-01", periods=rows, freq="h")
    temp = 10 + 5 * np.sin(2 * np.pi * np.arange(rows) / 24 + 1) + rng.normal(0, 0.5, rows)
    load = 50 + 10 * np.sin(2 * np.pi * np.arange(rows) / 24) + 0.8 * temp + rng.normal(0, 1, rows)
    frame = pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M"), "temperature": temp.round(3),
                          "load": load.round(3)})
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=1)
    frame.to_csv(path, index=False)
    return path


def config(path: Path, **changes: object) -> SearchConfig:
    fields: dict[str, object] = {"target": "load", "time_column": "time", **changes}
    return SearchConfig(data_path=str(path), project_dir=str(path.parent / "proj"), **fields)  # type: ignore[arg-type]


def test_rows_are_sorted_by_time_and_the_test_split_is_the_latest_period(tmp_path):
    prepared = prepare_for_search(config(write_hourly(tmp_path / "h.csv")))
    spec = prepared.forecast
    assert spec is not None and spec["period"] == 24 and spec["features"] == ["load", "temperature"]
    frame = pd.read_csv(tmp_path / "h.csv").sort_values("time").reset_index(drop=True)
    load = frame["load"].to_numpy(dtype=np.float32)
    lookback = spec["lookback"]
    train, validation, test = prepared.train, prepared.validation, prepared.test
    # Windows in time order: the first training window holds the first rows, the last test
    # target is the last row of the file, and every training target precedes every test one.
    np.testing.assert_allclose(train.x["sequence"][0, :, 0], load[:lookback])
    assert test.y[-1] == pytest.approx(load[-1])
    assert len(test) == 60 and len(validation) == 60
    first_test = int(np.flatnonzero(np.isclose(load, test.y[0]))[0])
    assert first_test == len(load) - 60
    assert np.isclose(load, train.y[-1]).nonzero()[0][0] < first_test - 60
    # Scaling statistics come from the training period only (the last 120 rows are unseen).
    assert spec["mean"][0] == pytest.approx(float(load[:180].mean()), rel=1e-5)
    assert prepared.signature.sequence_mean[0] == pytest.approx(spec["mean"][0])
    assert prepared.signature.inputs["sequence"] == (lookback, 2)


def test_a_horizon_of_several_steps_predicts_that_many_values_and_integer_time_works(tmp_path):
    path = tmp_path / "steps.csv"
    rows = 120
    values = np.sin(np.arange(rows) / 3.0) * 10
    pd.DataFrame({"step": np.arange(rows)[::-1], "y": values[::-1]}).to_csv(path, index=False)
    prepared = prepare_for_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"),
                                               target="y", time_column="auto", horizon=3, lookback=10))
    assert prepared.train.y.shape[1] == 3 and prepared.signature.target_width == 3
    np.testing.assert_allclose(prepared.train.x["sequence"][0, :, 0], values[:10], rtol=1e-5)
    np.testing.assert_allclose(prepared.train.y[0], values[10:13], rtol=1e-5)


def test_a_stride_thins_the_training_windows_only(tmp_path):
    path = write_hourly(tmp_path / "h.csv")
    every, third = (prepare_for_search(config(path, lookback=12, stride=s)) for s in (1, 3))
    # Training windows start every third step; validation and test keep every window.
    assert len(third.train) == -(-len(every.train) // 3)
    np.testing.assert_array_equal(third.train.x["sequence"], every.train.x["sequence"][::3])
    for a, b in ((every.validation, third.validation), (every.test, third.test)):
        np.testing.assert_array_equal(a.x["sequence"], b.x["sequence"])
    assert third.forecast is not None and third.forecast["stride"] == 3


def test_series_are_windowed_one_by_one_with_a_group_column(tmp_path):
    path = tmp_path / "groups.csv"
    frames = [pd.DataFrame({"day": np.arange(60), "shop": name, "sales": np.arange(60) * k})
              for name, k in (("a", 1.0), ("b", 100.0))]
    pd.concat(frames).to_csv(path, index=False)
    prepared = prepare_for_search(SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"),
                                               target="sales", time_column="day", group_column="shop",
                                               lookback=8))
    windows = np.concatenate([prepared.train.x["sequence"], prepared.test.x["sequence"]])[:, :, 0]
    # No window mixes the two series: each one is a run of one shop's consecutive values.
    steps = np.diff(windows, axis=1)
    assert np.all((steps == 1.0) | (steps == 100.0))
    assert np.all(steps == steps[:, :1])


def test_another_time_column_is_another_search_for_resume_and_workers(tmp_path):
    from automl_studio.engine.data.identity import differences, identify

    path = write_hourly(tmp_path / "h.csv")
    frame = pd.read_csv(path)
    frame["tick"] = np.random.default_rng(2).permutation(len(frame))  # another order of the rows
    frame.to_csv(path, index=False)
    first = identify(config(path, lookback=24, exclude_columns=("tick",)))
    assert identify(config(path, lookback=24, exclude_columns=("tick",))).fingerprint == first.fingerprint
    again = identify(config(path, lookback=24, time_column="tick", exclude_columns=("time",)))
    assert again.fingerprint != first.fingerprint
    assert "split differs" in " ".join(differences(first.to_dict(), again))


def test_a_forecast_network_learns_the_change_from_the_last_value(tmp_path):
    import keras

    from automl_studio.engine.space.spec import SearchSpace, fixed_chooser
    from automl_studio.engine.space.templates import template_spec
    from automl_studio.engine.train.hypermodel import build_model, predict_arrays

    prepared = prepare_for_search(config(write_hourly(tmp_path / "h.csv"), horizon=2))
    signature = prepared.signature
    windows, y = prepared.train.x["sequence"], prepared.train.y
    assert signature.change_std == pytest.approx(float(np.std(y - windows[:, -1:, 0])), rel=1e-4)
    assert not signature.can_log_target  # the change can be negative: no log1p transform
    model = build_model(SearchSpace.from_dict(template_spec("forecast")), signature, fixed_chooser({}))
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    # A network that has learnt nothing is the last-value naive forecast, in the target's units.
    np.testing.assert_allclose(predict_arrays(model, prepared.test.x), np.repeat(
        prepared.test.x["sequence"][:, -1:, 0], 2, axis=1), rtol=1e-5)
    keras.backend.clear_session()


def test_seasonal_period_and_naive_forecasts():
    series = np.tile(np.array([1.0, 5.0, 3.0, 8.0, 2.0, 4.0, 7.0]), 12)
    assert seasonal_period(series, 30) == 7
    # A trend does not hide or shift the cycle: a rising monthly series with a yearly cycle.
    months = np.arange(240)
    rising = 300 + 0.12 * months + 3 * np.sin(2 * np.pi * months / 12) + np.sin(2 * np.pi * months / 6)
    assert seasonal_period(rising, 80) == 12
    windows = series[:14].reshape(1, 14, 1)
    naive = naive_forecasts(windows, horizon=2, period=7)
    assert naive["last value"].tolist() == [[series[13], series[13]]]
    assert naive["seasonal naive"].tolist() == [[series[14], series[15]]]


@pytest.mark.parametrize("change, expected", [
    (lambda f: f.assign(time=f["time"].where(f.index != 5, "not a date")),
     "row 7, column 'time': 'not a date' is not a date or time"),
    (lambda f: f.assign(time=f["time"].where(f.index != 5, f["time"][4])),
     "rows 6 and 7, column 'time': the same time twice"),
    (lambda f: f.drop(index=[100, 101]),
     "rows 101 and 102, column 'time': a gap from '2024-01-05 03:00' to '2024-01-05 06:00' (rows are 1 hour apart)"),
    (lambda f: f.head(30), "column 'load': the series has 30 rows (rows 2–31), fewer than lookback"),
    (lambda f: f.assign(load=f["load"].where(f.index != 9, np.nan)),
     "row 11, column 'load': the target is missing"),
])
def test_bad_time_series_input_is_one_line_naming_the_column_and_row(tmp_path, change, expected):
    path = write_hourly(tmp_path / "h.csv", shuffle=False)
    change(pd.read_csv(path)).to_csv(path, index=False)
    lookback = None if "rows 2–31" not in expected else 40
    with pytest.raises(DataError) as info:
        prepare_for_search(config(path, lookback=lookback))
    message = str(info.value)
    assert "\n" not in message and expected in message, message
    # The window's check, without windows, says the same.
    with pytest.raises(DataError) as checked:
        check_forecast(load_dataset(path), "load", ForecastOptions("time", lookback=lookback))
    assert str(checked.value) == message


def test_the_check_passes_good_history_and_refuses_the_time_column_as_target(tmp_path):
    dataset = load_dataset(write_hourly(tmp_path / "h.csv"))
    assert check_forecast(dataset, "load", ForecastOptions("time", horizon=3)) is None
    with pytest.raises(DataError, match="column 'time' is the time column; choose another target"):
        check_forecast(dataset, "time", ForecastOptions("time"))


# The model reloads with plain Keras, no automl_studio import, in a fresh process.
RELOAD = """
import sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1], compile=False)
x = np.load(sys.argv[2])
print(float(np.asarray(model.predict({"sequence": x}, verbose=0)).reshape(-1)[0]))
"""


def check_export_reproduces(model: Path, data: Path, tmp_path: Path, rmse: float) -> tuple[np.ndarray, Any]:
    """The exported forecast ``model`` against the search that made it (on ``data``, project
    ``tmp_path/proj``): its test-window predictions give the search's ``rmse``, ``predict --backtest``
    writes them again for the latest rows, and plain Keras in a fresh process predicts the first.
    Returns the in-app predictions and the prepared data."""
    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.export.predict import load_model
    from automl_studio.engine.train.hypermodel import predict_arrays

    keras_model, _ = load_model(model)
    forecast = read_metadata(model)["forecast"]
    prepared = prepare_for_search(SearchConfig(
        data_path=str(data), project_dir=str(tmp_path / "proj"), target="load", time_column="time",
        lookback=forecast.get("lookback_min") or forecast["lookback"],
        lookback_max=forecast["lookback"] if forecast.get("lookback_min") else None))
    in_app = predict_arrays(keras_model, prepared.test.x).reshape(-1)
    assert np.sqrt(np.mean((in_app - prepared.test.y) ** 2)) == pytest.approx(rmse, rel=1e-4)

    backtest = tmp_path / "backtest.csv"
    assert main(["predict", str(model), str(data), "--backtest", "--output", str(backtest)]) == 0
    rows = pd.read_csv(backtest)
    assert list(rows.columns) == ["time", "prediction"] and len(rows) == 300 - forecast["lookback"]
    assert rows["time"].is_monotonic_increasing
    np.testing.assert_allclose(rows["prediction"].to_numpy()[-60:], in_app, rtol=1e-5, atol=1e-5)

    window = tmp_path / "window.npy"
    np.save(window, prepared.test.x["sequence"][:1])
    proc = subprocess.run([sys.executable, "-c", RELOAD, str(model), str(window)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.strip().splitlines()[-1]) == pytest.approx(float(in_app[0]), rel=1e-5)
    return in_app, prepared


@pytest.mark.slow
def test_a_forecast_search_through_the_command_line_exports_a_model_predict_reproduces(tmp_path, capsys):
    data = write_hourly(tmp_path / "hourly.csv")
    model = tmp_path / "forecast.h5"
    code = main(["search", str(data), "--target", "load", "--time-column", "time", "--max-trials", "2",
                 "--max-epochs", "3", "--refits", "1", "--tuner", "random", "--project", str(tmp_path / "proj"),
                 "--export", str(model), "--no-refit-all"])  # the file is the model the test windows scored
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    metrics = summary["test_metrics"]
    assert {"mae", "rmse", "mape", "mase"} <= set(metrics) and metrics["n"] == 60
    # Both naive forecasts beside the model's, in the summary and on stderr.
    assert summary["naive_note"].startswith(f"MASE on the test period: the model {metrics['mase']:.3f}, last value ")
    assert ", seasonal naive " in summary["naive_note"]
    from automl_studio.engine.export.model_info import read_metadata

    metadata = read_metadata(model)
    assert metadata["forecast"]["time_column"] == "time" and metadata["input_kind"] == "sequences"
    assert "seasonal naive" in metadata["baseline_metrics"]["naive"]
    assert metadata["baseline_metrics"]["rule"].startswith("seasonal naive")
    assert metadata["search_space"]["name"] == "forecast"

    # In-app predictions of the test windows, as the search made them; predict and plain Keras agree.
    check_export_reproduces(model, data, tmp_path, metrics["rmse"])
    lookback = metadata["forecast"]["lookback"]

    ahead = tmp_path / "ahead.csv"
    assert main(["predict", str(model), str(data), "--output", str(ahead)]) == 0
    assert pd.read_csv(ahead).to_dict("list")["time"] == ["2024-01-13 12:00"]

    short = tmp_path / "short.csv"
    pd.read_csv(data).sort_values("time").head(lookback - 1).to_csv(short, index=False)
    assert main(["predict", str(model), str(short)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"column 'time': the file has {lookback - 1} rows" in err and "lookback of" in err

    # The window's Predict page (an engine child's predict_for_window) forecasts as predict does.
    from automl_studio.engine.export.predict import predict_for_window

    shown = predict_for_window(str(model), str(data))
    assert shown["key"] == "time" and shown["keys"] == ["2024-01-13 12:00"]
    assert shown["labels"] == pytest.approx(pd.read_csv(ahead)["prediction"].tolist(), rel=1e-6)
    with pytest.raises(DataError) as refused:
        predict_for_window(str(model), str(short))
    assert str(refused.value) == err.removeprefix("automl-studio: error: ")


@pytest.mark.slow
def test_a_lookback_range_is_searched_and_the_model_keeps_the_chosen_last_steps(tmp_path, capsys):
    data = write_hourly(tmp_path / "hourly.csv")
    model = tmp_path / "forecast.h5"
    events = tmp_path / "events.jsonl"
    code = main(["search", str(data), "--target", "load", "--time-column", "time", "--lookback", "6:30",
                 "--max-trials", "3", "--max-epochs", "2", "--refits", "1", "--tuner", "random", "--seed", "3",
                 "--project", str(tmp_path / "proj"), "--export", str(model), "--events", str(events), "--no-refit-all"])  # the file is the model the test windows scored
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    # Every trial chose its own lookback within the range, and the trials did not all agree.
    ended = [json.loads(line) for line in events.read_text().splitlines()]
    started = [e for e in ended if e["type"] == "trial_started"]
    chosen = [e["hyperparameters"]["lookback.steps"] for e in started]
    assert len(chosen) == 3 and all(6 <= c <= 30 for c in chosen) and len(set(chosen)) > 1, chosen
    best = next(e["hyperparameters"]["lookback.steps"] for e in started if e["trial_id"] == summary["best_trial"])

    from automl_studio.engine.export.model_info import read_metadata

    metadata = read_metadata(model)
    assert metadata["best_hyperparameters"]["lookback.steps"] == best
    forecast = metadata["forecast"]
    assert (forecast["lookback"], forecast["lookback_min"], forecast["model_lookback"]) == (30, 6, best)
    assert metadata["search_space"]["nodes"][1] == {
        "id": "lookback", "type": "LastSteps", "params": {"steps": {"hp": "int", "min": 6, "max": 30, "step": 1}}}

    # The model takes windows of 30 rows and crops them to the chosen lookback with a plain layer.
    from automl_studio.engine.export.predict import load_model

    keras_model, _ = load_model(model)

    def crops(layer: object) -> list[tuple[int, int]]:
        inner = getattr(layer, "layers", None)
        if inner is not None:  # a nested model (an average or ensemble of networks)
            return [c for sub in inner for c in crops(sub)]
        kept = type(layer).__name__ == "Cropping1D" and layer.name == "lookback"  # type: ignore[attr-defined]
        return [tuple(layer.cropping)] if kept else []  # type: ignore[attr-defined]

    found = crops(keras_model)
    assert (30 - best, 0) in found and all(0 <= a <= 24 and b == 0 for a, b in found), found
    _, prepared = check_export_reproduces(model, data, tmp_path, summary["test_metrics"]["rmse"])
    assert prepared.test.x["sequence"].shape[1:] == (30, 2)


@pytest.mark.parametrize(("text", "expected"), [("24", (24, None)), ("12:48", (12, 48)), ("8:8", (8, None))])
def test_the_lookback_flag_reads_one_value_or_a_range(text, expected):
    from automl_studio.engine.core.config import parse_lookback

    assert parse_lookback(text) == expected


@pytest.mark.parametrize("text", ["48:12", "0", "a:b", "12-48"])
def test_a_bad_lookback_is_refused_in_one_line(text, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["search", "x.csv", "--lookback", text])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert f"--lookback '{text}':" in err[-1] and "Traceback" not in "".join(err)


@pytest.mark.slow
def test_a_search_on_sequence_arrays_normalises_them_and_reloads(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (160, 12, 3)) * np.array([1.0, 100.0, 0.01]) + np.array([0.0, 1000.0, 5.0])
    y = (x[:, :, 0].mean(axis=1) > 0).astype(np.int64)
    data = tmp_path / "seq.npz"
    np.savez(data, x=x.astype(np.float32), y=y)
    prepared = prepare_for_search(SearchConfig(data_path=str(data), project_dir=str(tmp_path / "p")))
    train = prepared.train.x["sequence"].reshape(-1, 3)
    np.testing.assert_allclose(prepared.signature.sequence_mean, train.mean(axis=0), rtol=1e-4)
    model = tmp_path / "seq.h5"
    assert main(["search", str(data), "--max-trials", "1", "--max-epochs", "2", "--refits", "1",
                 "--project", str(tmp_path / "proj"), "--export", str(model)]) == 0
    capsys.readouterr()
    import keras

    loaded = keras.models.load_model(model, compile=False)
    normalize = [layer for layer in loaded.layers if layer.__class__.__name__ == "Normalization"]
    assert normalize, [layer.name for layer in loaded.layers]
    out = tmp_path / "out.csv"
    assert main(["predict", str(model), str(data), "--output", str(out)]) == 0
    assert len(pd.read_csv(out)) == 160


def test_an_evenly_spaced_integer_column_is_found_as_the_time_column(tmp_path):
    from automl_studio.engine.data.identity import forecast_options

    rng = np.random.default_rng(3)
    years = np.arange(1950, 2030)
    frame = pd.DataFrame({"rating": rng.integers(1, 6, len(years)), "year": years,
                          "sales": np.sin(years / 4.0) * 10}).sample(frac=1.0, random_state=0)
    path = tmp_path / "years.csv"
    frame.to_csv(path, index=False)
    chosen = SearchConfig(data_path=str(path), project_dir=str(tmp_path / "p"), target="sales", time_column="auto")
    assert forecast_options(load_dataset(path), chosen).time_column == "year"
    prepared = prepare_for_search(chosen)
    ordered = frame.sort_values("year")["sales"].to_numpy(dtype=np.float32)
    assert prepared.test.y[-1] == pytest.approx(ordered[-1])  # sorted by year: the last year is tested
    # Repeated per series, it is still time; a column with a hole or repeats in one series is not.
    shops = pd.concat([frame.assign(shop=name) for name in ("a", "b")])
    shops.to_csv(path, index=False)
    assert forecast_options(load_dataset(path), chosen.replace(group_column="shop")).time_column == "year"
    shops.assign(year=shops["year"].where(shops["year"] != 1990, 1989)).drop(columns="rating").to_csv(path, index=False)
    with pytest.raises(DataError, match="no column looks like time"):
        forecast_options(load_dataset(path), chosen.replace(group_column="shop"))


def test_the_search_help_names_every_template(capsys):
    from automl_studio.engine.space.templates import TEMPLATES

    with pytest.raises(SystemExit):
        main(["search", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(f" {name}," in text or f" {name};" in text for name in TEMPLATES), text


def layer_types(layer: object) -> list[str]:
    """The class names of a Keras model's layers, nested models (averaged refits) included."""
    inner = getattr(layer, "layers", None)
    return [t for sub in inner for t in layer_types(sub)] if inner is not None else [type(layer).__name__]


FORECAST = DataSignature("regression", 0, {"sequence": (12, 1)}, target_mean=4.0, target_std=2.5,
                         target_width=1, change_std=0.5, sequence_mean=(4.0,), sequence_variance=(6.0,))


def test_the_forecast_template_searches_an_attention_block_off_in_the_first_trial():
    import keras

    from automl_studio.engine.space.spec import (
        IntRange,
        SearchSpace,
        fixed_chooser,
        hyperparameter_items,
    )
    from automl_studio.engine.space.templates import template_spec
    from automl_studio.engine.train.hypermodel import build_model

    space = SearchSpace.from_dict(template_spec("forecast"))
    assert dict(hyperparameter_items(space))["attention.repeats"] == IntRange(0, 1)
    (block,) = [r for r in space.repeats if r.id == "attention"]
    assert [space.node(n).type for n in block.nodes] == ["Dense", "TransformerEncoder"]
    assert space.node("transformer").params["position_embedding"] is True
    # The first trial (every block at its least, as the tuner's SimplestFirst asks) has no attention.
    simplest = layer_types(build_model(space, FORECAST, fixed_chooser({})))
    attended = layer_types(build_model(space, FORECAST, fixed_chooser({"attention.repeats": 1})))
    assert "MultiHeadAttention" not in simplest and attended.count("MultiHeadAttention") == 1
    assert "EinsumDense" in attended  # the position embedding's table, in core layers
    keras.backend.clear_session()
    without = SearchSpace.from_dict(template_spec("forecast", {"attention": False}))
    assert "transformer" not in {n.id for n in without.nodes} and not without.repeats


def attention_forced_spec() -> dict:
    """The forecast template with its attention block always on (a plain spec, no template key)."""
    from automl_studio.engine.space.templates import template_spec

    spec = template_spec("forecast")
    spec.pop("template")
    (block,) = [r for r in spec["repeats"] if r["id"] == "attention"]
    block["min"] = 1
    return spec


@pytest.mark.slow
def test_a_forecast_search_with_attention_exports_a_model_that_predict_reproduces(tmp_path, capsys):
    data = write_hourly(tmp_path / "hourly.csv")
    spec = tmp_path / "attention.json"
    spec.write_text(json.dumps(attention_forced_spec()), encoding="utf-8")
    model = tmp_path / "forecast.h5"
    code = main(["search", str(data), "--target", "load", "--time-column", "time", "--space", str(spec),
                 "--max-trials", "1", "--max-epochs", "3", "--refits", "1", "--tuner", "random",
                 "--project", str(tmp_path / "proj"), "--export", str(model), "--no-refit-all"])  # the file is the model the test windows scored
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    from automl_studio.engine.export.predict import load_model

    keras_model, _ = load_model(model)
    assert "MultiHeadAttention" in layer_types(keras_model)
    check_export_reproduces(model, data, tmp_path, summary["test_metrics"]["rmse"])


@pytest.mark.slow
@pytest.mark.parametrize("name, target, expected", [
    ("hourly", "load", "automl-studio: note: column 'time' looks like time; rows are split at random — "
                       "add --time-column time to forecast (chronological splits)"),
    ("iris", "species", None),
])
def test_the_search_notes_a_time_column_it_was_not_given(tmp_path, capsys, name, target, expected):
    data = (write_hourly(tmp_path / "hourly.csv") if name == "hourly"
            else Path(__file__).resolve().parents[2] / "resources" / "iris.csv")
    code = main(["search", str(data), "--target", target, "--max-trials", "1", "--max-epochs", "1",
                 "--no-refit", "--project", str(tmp_path / "proj")])
    assert code == 0
    lines = capsys.readouterr().err.splitlines()
    notes = [line for line in lines if "looks like time" in line]
    assert notes == ([expected] if expected else []), lines
