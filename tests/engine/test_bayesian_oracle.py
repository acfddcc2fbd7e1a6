"""The engine's Bayesian oracle (KerasTuner's Gaussian process, its acquisition maximised in
batches): past the random start it proposes values inside the space that close in on the optimum
of a smooth objective; its Gaussian process keeps its fit settings when a search resumes."""

from __future__ import annotations

from typing import Any

import keras_tuner as kt

from automl_studio.engine.search.tuner import GP_FIT_STARTS, ORACLES


def objective(values: dict[str, Any]) -> float:
    """Best at x = 0.3, y = 0.7, n = 5, c = "b"."""
    return ((values["x"] - 0.3) ** 2 + (values["y"] - 0.7) ** 2 + 0.01 * abs(values["n"] - 5)
            + 0.05 * (values["c"] != "b"))


def search(oracle: Any, tmp_path, trials: int) -> list[float]:
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Float("y", 0.0, 1.0)
    hp.Int("n", 1, 8)
    hp.Choice("c", ["a", "b", "c"])
    oracle.update_space(hp)
    oracle._set_project_dir(str(tmp_path), "oracle")
    oracle.verbose = 0
    scores = []
    for _ in range(trials):
        trial = oracle.create_trial("tuner0")
        values = trial.hyperparameters.values
        assert 0 <= values["x"] <= 1 and 0 <= values["y"] <= 1 and 1 <= values["n"] <= 8 and values["c"] in "abc"
        scores.append(objective(values))
        oracle.update_trial(trial.trial_id, {"score": scores[-1]})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return scores


def test_past_the_random_start_the_oracle_closes_in_on_the_optimum(tmp_path) -> None:
    def make(kind: type) -> Any:
        return kind(objective=kt.Objective("score", "min"), max_trials=16, num_initial_points=8, seed=1)

    ours = search(make(ORACLES["bayesian"]), tmp_path / "ours", 16)
    # The random start is KerasTuner's own, draw for draw (its acquisition, 50 L-BFGS-B restarts
    # with numerical gradients, is too slow to compare here: benchmarks/bayesian_overhead.py).
    assert ours[:8] == search(make(kt.oracles.BayesianOptimizationOracle), tmp_path / "theirs", 8)
    assert min(ours[8:]) < min(ours[:8])  # the Gaussian process found better than the random start


def test_the_gaussian_process_keeps_its_fewer_fit_starts_when_a_search_resumes(tmp_path) -> None:
    oracle = ORACLES["bayesian"](objective=kt.Objective("score", "min"), max_trials=10, seed=1)
    assert oracle.gpr.n_restarts_optimizer == GP_FIT_STARTS - 1
    search(oracle, tmp_path, 3)
    resumed = ORACLES["bayesian"](objective=kt.Objective("score", "min"), max_trials=10, seed=1)
    resumed.set_state(oracle.get_state())
    assert resumed.gpr.n_restarts_optimizer == GP_FIT_STARTS - 1
