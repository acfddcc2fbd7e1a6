"""Does the default forecast search beat the naive forecasts on real series?

Real series shipped inside installed packages (no internet at run time; install them with
``pip install vega_datasets statsmodels``, or ``pip install -e .[bench]``), each written as a CSV
with a time column, the target and any numeric covariates:

* ``co2``: monthly mean CO2 at Mauna Loa, 1958-2001 (statsmodels' ``co2``, weekly, averaged per
  month; the few months with no reading filled by linear interpolation): a trend and a yearly cycle.
* ``seattle_weather``: daily highest temperature in Seattle, 2012-2015 (vega_datasets'
  ``seattle-weather``), with the day's precipitation, lowest temperature and wind as covariates.
* ``seattle_temps``: hourly temperature in Seattle, 2010 (vega_datasets' ``seattle-temps``; the one
  missing hour, at the switch to daylight saving time, filled by interpolation): a daily cycle.

For each series and search seed (1, 2, 3) the default forecast search runs exactly as a user runs it:

    automl-studio search SERIES.csv --target T --time-column date --time-budget 150 --seed S --fresh --export M.h5

Its test split is the latest 20 % of the series. The exported model's one-step forecasts of that
period come from ``automl-studio predict M.h5 SERIES.csv --backtest`` (the model file alone, on the
raw history), and in the same run, on the same test rows, this script computes the naive forecasts
from the raw series: the last value, and the seasonal naive with the period the engine detected on
the training period (the value one period earlier; no period found: none). Metrics with
scikit-learn: MAE, RMSE, and MASE = MAE over the in-sample naive forecast's MAE on the training
period (the seasonal naive with the detected period, else the last value; the same scale for every
model, so MASE ranks as MAE does). Target: the search's MASE below the seasonal naive's (below the
last value's where no period is found), mean over the seeds.

Run (a shared machine: be nice):
``nice -n 19 .venv/bin/python benchmarks/timeseries_quality.py [--budget 150] [--seeds 1 2 3] [--series co2 ...]``
Writes ``benchmarks/results/timeseries_quality.json`` after every search, so a partial run keeps its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cli_runs import predict, search_and_export  # noqa: E402
from results_file import run_info, write_results  # noqa: E402

SERIES = ("co2", "seattle_weather", "seattle_temps")
TARGETS = {"co2": "co2", "seattle_weather": "temp_max", "seattle_temps": "temp"}
TEST_FRACTION = 0.2  # the engine's default: the latest 20 % of the rows


def series_frame(name: str) -> Any:
    """The series as a table: ``date``, the target, numeric covariates (in time order)."""
    import pandas as pd

    if name == "co2":
        import statsmodels.api as sm

        weekly = sm.datasets.co2.load_pandas().data["co2"]
        monthly = weekly.resample("MS").mean().interpolate()
        return pd.DataFrame({"date": monthly.index.strftime("%Y-%m-%d"), "co2": monthly.round(3).to_numpy()})
    from vega_datasets import local_data

    if name == "seattle_weather":
        frame = local_data.seattle_weather()
        return pd.DataFrame({"date": frame["date"].dt.strftime("%Y-%m-%d"), "precipitation": frame["precipitation"],
                             "temp_min": frame["temp_min"], "wind": frame["wind"], "temp_max": frame["temp_max"]})
    frame = local_data.seattle_temps().set_index("date")
    hourly = frame["temp"].resample("h").mean().interpolate()
    return pd.DataFrame({"date": hourly.index.strftime("%Y-%m-%d %H:%M"), "temp": hourly.to_numpy()})


def scores(actual: np.ndarray, predicted: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE (scikit-learn) and MASE (MAE over ``scale``)."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    mae = float(mean_absolute_error(actual, predicted))
    return {"mae": mae, "rmse": float(np.sqrt(mean_squared_error(actual, predicted))), "mase": mae / scale}


def naive(values: np.ndarray, first_test: int, period: int) -> dict[str, Any]:
    """The naive one-step forecasts of rows ``first_test…`` and the MASE scale (in-sample naive MAE
    on the training period: the rows before validation and test)."""
    n = len(values)
    n_test = n - first_test
    n_val = max(int(round(n * 0.2)), 1)
    train = values[: n - n_test - n_val]
    lag = period if period > 0 else 1
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
    out = {"last value": values[first_test - 1: n - 1]}
    if period > 0:
        out["seasonal naive"] = values[first_test - period: n - period]
    return {"forecasts": out, "scale": scale}


def automl(csv: Path, target: str, work: Path, budget: float, seed: int, extra: list[str]) -> dict[str, Any]:
    """The default search on ``csv``, and its model's backtest of the whole file."""
    import pandas as pd

    out, model, search = search_and_export(csv, ["--target", target, "--time-column", "date", "--time-budget",
                                                 f"{budget:g}", "--seed", str(seed)], work, extra)
    if "stderr_tail" in out:
        return out
    summary = json.loads(search.stdout)
    out["engine_test_metrics"] = summary["test_metrics"]
    import h5py

    with h5py.File(model, "r") as handle:  # the metadata the model file carries (README, "The exported model")
        forecast = json.loads(handle.attrs["automl_studio"]).get("forecast") or {}
    out["forecast"] = {k: forecast.get(k) for k in ("period", "lookback", "lookback_min", "model_lookback",
                                                    "mase_scale", "features")}
    backtest = work / "backtest.csv"
    done = predict(model, csv, backtest, "--backtest")
    if done.returncode:
        out["stderr_tail"] = done.stderr[-2000:]
        return out
    out["backtest"] = pd.read_csv(backtest)["prediction"].to_numpy(dtype=np.float64).tolist()
    return out


def summarise(series: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Mean and worst MASE of the search per series against the naive forecasts, and the table's row."""
    summary, measured, missed = {}, [], []
    for name, d in series.items():
        runs = [r for r in d["runs"] if "metrics" in r]
        if not runs:
            continue
        auto = [r["metrics"]["automl"]["mase"] for r in runs]
        rival = "seasonal naive" if "seasonal naive" in runs[0]["metrics"] else "last value"
        s = {"seeds": [r["seed"] for r in runs], "automl_mase_mean": statistics.mean(auto),
             "automl_mase_worst": max(auto), "rival": rival,
             "seasonal_naive_mase": runs[0]["metrics"].get("seasonal naive", {}).get("mase"),
             "last_value_mase": runs[0]["metrics"]["last value"]["mase"],
             "automl_mae_mean": statistics.mean(r["metrics"]["automl"]["mae"] for r in runs),
             "automl_rmse_mean": statistics.mean(r["metrics"]["automl"]["rmse"] for r in runs)}
        s["meets_target"] = s["automl_mase_mean"] < runs[0]["metrics"][rival]["mase"]
        summary[name] = s
        seasonal = (f"seasonal naive (period {d['period']}) {s['seasonal_naive_mase']:.3f}, "
                    if s["seasonal_naive_mase"] is not None else "no period found, ")
        measured.append(f"{name} ({d['rows']} rows, {len(runs)} seeds): MASE **{s['automl_mase_mean']:.3f}** mean / "
                        f"{s['automl_mase_worst']:.3f} worst; {seasonal}last value {s['last_value_mase']:.3f}")
        if not s["meets_target"]:
            missed.append(name)
    if not summary:
        return summary, []
    status = f"**not met**: {', '.join(missed)}" if missed else f"met on {len(summary)}"
    row = {"what": "Forecasting, default search `--time-budget 150` vs naive forecasts, same latest 20 % "
                   "test period (one step ahead)",
           "target": "mean MASE below seasonal naive", "measured": "; ".join(measured), "status": status}
    return summary, [row]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=150.0, help="--time-budget per search (default 150)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="search seeds (default 1 2 3)")
    parser.add_argument("--series", nargs="+", default=list(SERIES), choices=SERIES)
    parser.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                        help="an extra flag for 'automl-studio search' (experiments only; repeatable)")
    parser.add_argument("--output", default=str(HERE / "results" / "timeseries_quality.json"))
    args = parser.parse_args(argv)

    run = run_info()
    tmp = Path(tempfile.mkdtemp(prefix="timeseries-quality-"))
    out: dict[str, Any] = {"budget_s": args.budget, "engine_args": args.engine_arg, "niced": os.nice(0) > 0,
                           "test_fraction": TEST_FRACTION, "series": {}}
    frames = {}
    for name in args.series:
        frame = series_frame(name)
        frames[name] = frame
        frame.to_csv(tmp / f"{name}.csv", index=False)
        out["series"][name] = {"rows": len(frame), "target": TARGETS[name], "first": frame["date"].iloc[0],
                               "last": frame["date"].iloc[-1], "runs": []}
        print(f"{name}: {len(frame)} rows, {frame['date'].iloc[0]} to {frame['date'].iloc[-1]}", flush=True)
    for seed in args.seeds:  # seed by seed, so a partial run has every series
        for name, frame in frames.items():
            work = tmp / f"{name}-{seed}"
            work.mkdir()
            load = os.getloadavg()[0]
            print(f"{name} seed {seed}: searching {args.budget:g} s (1-min load {load:.1f})...", flush=True)
            engine = automl(tmp / f"{name}.csv", TARGETS[name], work, args.budget, seed, args.engine_arg)
            entry: dict[str, Any] = {"seed": seed, "load_average_1min_before": load,
                                     "automl": {k: v for k, v in engine.items() if k != "backtest"}}
            if "backtest" in engine:
                values = frame[TARGETS[name]].to_numpy(dtype=np.float64)
                n_test = int(engine["engine_test_metrics"]["n"])
                first_test = len(values) - n_test
                period = int(engine["forecast"]["period"] or 0)
                out["series"][name]["period"] = period
                base = naive(values, first_test, period)
                actual = values[first_test:]
                predicted = np.asarray(engine["backtest"])[-n_test:]
                metrics = {"automl": scores(actual, predicted, base["scale"])}
                metrics.update({k: scores(actual, v, base["scale"]) for k, v in base["forecasts"].items()})
                entry.update(metrics=metrics, n_test=n_test, mase_scale=base["scale"])
                print("  " + "; ".join(f"{k} MASE {m['mase']:.3f} MAE {m['mae']:.3f}" for k, m in metrics.items())
                      + f"; {engine['trials'].get('completed')} trials, {engine['wall_s']:.0f} s", flush=True)
            else:
                print(f"  failed: {engine.get('stderr_tail', '')[-300:]}", flush=True)
            out["series"][name]["runs"].append(entry)
            out["summary"], out["summary_rows"] = summarise(out["series"])
            write_results("timeseries_quality", out, run, Path(args.output))
    for name, s in out.get("summary", {}).items():
        print(f"{name}: automl MASE mean {s['automl_mase_mean']:.3f} worst {s['automl_mase_worst']:.3f}; "
              f"seasonal naive {s['seasonal_naive_mase']}; last value {s['last_value_mase']:.3f} "
              f"({'MET' if s['meets_target'] else 'MISSED'})")


if __name__ == "__main__":
    main()
