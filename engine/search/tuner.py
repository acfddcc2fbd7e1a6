"""KerasTuner, extended at its documented seams: the tuner classes a search runs.

* :class:`TrialEvents` — a mixin over KerasTuner's ``Tuner`` hooks (``pre_create_trial``,
  ``on_trial_begin``, ``on_trial_end``): it turns trials into our events and keeps the time
  budget between and inside trials, from what this run measured (the reserve for the refits,
  the cross-validation and the export). With ``--cv-folds K`` it scores each trial by k-fold
  cross-validation (over ``_build_and_fit_model``, the seam KerasTuner keeps for AutoKeras).
* :class:`SimplestFirst` — a mixin over ``Oracle.populate_space``: the first trial is the
  simplest network of the space with a brisk learning rate (a practitioner fits the plain model
  first; on small tables a linear model often wins and costs seconds): no repeated blocks,
  optional layers off, inputs in their plainest encoding.
* one concrete class per tuner the app offers (:data:`TUNER_CLASSES`), built by
  :func:`make_tuner`.

Importing this module imports KerasTuner (and so TensorFlow or JAX): the session imports it only
once the data and the spec have been checked.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras_tuner as kt

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.config import RECYCLE_STATUS as RECYCLE
from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import EpochEnded, Event, TrialEnded, TrialStarted
from automl_studio.engine.core.objectives import get_objective
from automl_studio.engine.data.features import PreparedData
from automl_studio.engine.process.memory import resident_mb
from automl_studio.engine.search import distributed
from automl_studio.engine.search.defaults import (
    FINALIST_FOLDS,
    FINALIST_SHARE,
    FIRST_REFIT_MARGIN,
    POST_SEARCH_SHARE,
    FinishPlan,
    Resolved,
    plan_finish,
)
from automl_studio.engine.space.spec import SearchSpace
from automl_studio.engine.train import crossval
from automl_studio.engine.train.hypermodel import SpecHyperModel

REFIT_BUILD_S = 0.5  # building and tracing a refit's model, beyond its epochs (0.1-0.3 s measured)
# Kept back at the end of a budget, whatever the refits do: writing the files and ending the
# process, plus EXPORT_STARTUPS times this run's measured start-up of a model (loading the best
# trial's checkpoint, evaluating, saving, reloading to verify each build or trace a model, warm;
# a trial's start-up also pays for the process's first traces: 5.7 s against an end of 4.4 s).
# The start-up is a trial's first epoch beyond a steady epoch's training steps (building, and
# tracing training and validation): at load ~10 on 2 CPUs iris's end took 8 s (4.1 s to load
# the checkpoint) while the training steps' start-up alone kept ~3 s, and the command ran 5 s over.
EXPORT_BASE_S = 2.0
EXPORT_STARTUPS = 1
# Before a trial has measured this machine, shares of how long this process took to start (its
# imports and first model slow down together on a busy machine: 15-45 s of imports, 10-24 s for
# the first trial's first epoch at load average ~8 on 2 vCPUs): a model's start-up, and the
# first trial's first epoch (which cannot be cut before its first batch).
WARMUP_STARTUP_SHARE = 0.15
FIRST_FIT_SHARE = 0.35


class SearchDone(Exception):
    """Ends the KerasTuner loop between trials (budget spent, trial count reached)."""

    def __init__(self, status: str, message: str = "") -> None:
        super().__init__(message)
        self.status, self.message = status, message


def make_tuner(config: SearchConfig, space: SearchSpace, prepared: PreparedData, resolved: Resolved,
               listener: Callable[[Event], None], stop: CancelToken | None) -> TrialEvents:
    """The tuner of one search (new, or resumed from ``config.project_dir/tuner``)."""
    hypermodel = SpecHyperModel(space, prepared.signature, n_train=len(prepared.train),
                                listener=listener, stop=stop, max_epochs=resolved.max_epochs,
                                patience=resolved.patience, objective=resolved.rule,
                                mixed_precision=config.mixed_precision, class_names=tuple(prepared.class_names))
    objective = kt.Objective(resolved.rule.name, resolved.rule.direction)
    strategy = None
    if config.distribution == "data-parallel" and importlib.util.find_spec("tensorflow") is not None:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            strategy = tf.distribute.MirroredStrategy()
    common: dict[str, Any] = dict(
        distribution_strategy=strategy, hypermodel=hypermodel, directory=str(Path(config.project_dir)),
        project_name="tuner", overwrite=False,
    )
    tuner: TrialEvents
    if config.tuner == "hyperband":
        tuner = StudioHyperband(objective=objective, max_epochs=hypermodel.epochs_for(), factor=3,
                                seed=config.seed, max_consecutive_failed_trials=config.max_consecutive_failures,
                                **common)
    else:
        oracle = ORACLES[config.tuner](objective=objective, max_trials=resolved.max_trials, seed=config.seed,
                                       max_consecutive_failed_trials=config.max_consecutive_failures)
        if isinstance(oracle, SimplestFirst) and distributed.role() != "worker":
            oracle.simplest_first(space)  # a worker's oracle is the chief's, remote
        tuner = StudioTuner(oracle, executions_per_trial=config.executions_per_trial, **common)
    tuner.studio_setup(listener, resolved, config)
    tuner.studio_rows_ratio = (len(prepared.train) + len(prepared.validation)) / max(1, len(prepared.train))
    # Trials scored on folds already give the refit's length (the folds' median best epoch).
    tuner.studio_crossval = config.refit and not resolved.cv_folds and crossval.applies(
        prepared.input_kind, len(prepared.train) + len(prepared.validation))
    if resolved.cv_folds:
        tuner.studio_fold_data(prepared, resolved.cv_folds, config.seed)
    return tuner


class SimplestFirst:
    """An oracle mixin (KerasTuner's seam ``Oracle.populate_space``): the first trial is the
    simplest network of the space, with a brisk learning rate.

    A good practitioner fits the plain model first: on small tables a linear model often wins
    and costs seconds; every later trial is the tuner's own choice.
    """

    trials: dict[str, Any]  # provided by KerasTuner's Oracle
    hyperparameters: Any
    _simplest_repeats: Mapping[str, int] | None = None  # None: the tuner's own first trial

    def simplest_first(self, space: SearchSpace) -> None:
        """Makes this oracle's first trial the simplest network of ``space``."""
        self._simplest_repeats = {f"{rep.id}.repeats": rep.min for rep in space.repeats if rep.min != rep.max}

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        response: dict[str, Any] = super().populate_space(trial_id)  # type: ignore[misc]
        repeats = self._simplest_repeats
        if repeats is None or self.trials or response.get("status") != "RUNNING":
            return response
        values = dict(response["values"])
        for hp in self.hyperparameters.space:
            if hp.name in repeats:
                values[hp.name] = repeats[hp.name]
            elif hp.name.endswith(".enabled") or ".enabled." in hp.name:
                values[hp.name] = False
            elif hp.name == "training.learning_rate" and hasattr(hp, "min_value"):
                values[hp.name] = min(max(1e-2, hp.min_value), hp.max_value)
            elif hp.name.endswith((".bins", ".encoding")) and isinstance(hp, kt.engine.hyperparameters.Choice):
                # An Input's plainest encoding, which the templates list first: standardised
                # numbers (not quantile bins), one-hot codes (not an embedding).
                values[hp.name] = hp.values[0]
        return {**response, "values": values}


class SimplestFirstRandomOracle(SimplestFirst, kt.oracles.RandomSearchOracle):
    """KerasTuner's random search, its first trial the simplest network."""


class BatchedAcquisition:
    """An oracle mixin over KerasTuner's ``BayesianOptimizationOracle.populate_space``: the same
    Gaussian process and upper confidence bound, maximised over :data:`ACQUISITION_CANDIDATES`
    random points scored in one vectorised call, the best :data:`ACQUISITION_POLISHED` of them then
    refined by L-BFGS-B.

    KerasTuner runs 50 L-BFGS-B restarts with numerical gradients, one Gaussian-process
    prediction per point and dimension, after fitting the process's one length scale from 21
    starts: 10–40 s per trial over the tabular template's 25 dimensions on a busy 2-CPU machine
    (BENCHMARKS.md, "Bayesian tuner's own time"). Conditional hyperparameters do not shrink that:
    KerasTuner's Gaussian process sees every hyperparameter of the space, an inactive one at its
    default. Here the length scale is fitted from :data:`GP_FIT_STARTS` starts, and the linear
    algebra (100×100 matrices) runs on one BLAS thread: a second one only waits on a busy machine.
    The random phase before it is KerasTuner's own.
    """

    trials: dict[str, Any]  # provided by KerasTuner's BayesianOptimizationOracle
    hyperparameters: Any
    num_initial_points: int | None
    beta: float
    gpr: Any
    _random_state: Any

    def _make_gpr(self) -> Any:
        # KerasTuner's own factory (called from its __init__ and set_state): one seam for the starts.
        gpr = super()._make_gpr()  # type: ignore[misc]
        gpr.n_restarts_optimizer = GP_FIT_STARTS - 1
        return gpr

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        from threadpoolctl import threadpool_limits

        completed = sum(1 for t in self.trials.values() if t.status == "COMPLETED")
        dimensions = len(self.hyperparameters.space)
        bounds = self._get_hp_bounds()  # type: ignore[attr-defined]
        if completed < (self.num_initial_points or max(3 * dimensions, 3)) or not len(bounds):
            return super().populate_space(trial_id)  # type: ignore[misc]
        with threadpool_limits(limits=1, user_api="blas"):
            return self._acquire(bounds)

    def _acquire(self, bounds: Any) -> dict[str, Any]:
        import numpy as np
        import scipy.optimize

        x, y = self._vectorize_trials()  # type: ignore[attr-defined]
        self.gpr.fit(np.nan_to_num(x, posinf=0, neginf=0), np.nan_to_num(y, posinf=0, neginf=0))

        def bound(points: Any) -> Any:  # lower is better (KerasTuner frames every objective so)
            mu, sigma = self.gpr.predict(np.atleast_2d(points), return_std=True)
            return np.asarray(mu).ravel() - self.beta * np.asarray(sigma).ravel()

        candidates = self._random_state.uniform(bounds[:, 0], bounds[:, 1],
                                                size=(ACQUISITION_CANDIDATES, bounds.shape[0]))
        scores = bound(candidates)
        best_x, best = candidates[int(np.argmin(scores))], float(np.min(scores))
        for start in candidates[np.argsort(scores)[:ACQUISITION_POLISHED]]:
            result = scipy.optimize.minimize(lambda v: float(bound(v)[0]), x0=start, bounds=bounds,
                                             method="L-BFGS-B")
            if float(result.fun) < best:
                best_x, best = result.x, float(result.fun)
        values = self._vector_to_values(best_x)  # type: ignore[attr-defined]
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}


ACQUISITION_CANDIDATES = 2000
ACQUISITION_POLISHED = 2
GP_FIT_STARTS = 3  # of the Gaussian process's one length scale (KerasTuner: 21)


class SimplestFirstBayesianOracle(SimplestFirst, BatchedAcquisition, kt.oracles.BayesianOptimizationOracle):
    """KerasTuner's Bayesian optimisation, its first trial the simplest network, its acquisition
    maximised in batches (:class:`BatchedAcquisition`)."""


ORACLES: dict[str, type[kt.Oracle]] = {
    "random": SimplestFirstRandomOracle,
    "bayesian": SimplestFirstBayesianOracle,
    "grid": kt.oracles.GridSearchOracle,
}


class TrialEvents:
    """Turns KerasTuner's trial hooks into our events; enforces the budget between trials."""

    hypermodel: Any  # provided by the KerasTuner tuner this is mixed into
    oracle: Any

    def studio_setup(self, listener: Callable[[Event], None], resolved: Resolved, config: SearchConfig) -> None:
        self.studio_listener = listener
        self.studio_resolved = resolved
        self.studio_deadline: float | None = None
        self.studio_durations: list[float] = []
        self.studio_duration_of: dict[str, float] = {}  # completed trials' durations, by id
        self.studio_crossval = False  # set by _make_tuner for small tables
        self.studio_refits = config.refit  # whether the best configuration is refitted after the search
        self.studio_finalist_count = config.finalists  # the split's best few cross-validated after it
        self.studio_rows_ratio = 1.0  # train+validation rows over training rows (set by _make_tuner)
        self.studio_budget_s = config.time_budget_s
        self.studio_current: str | None = None
        self.studio_started_at = 0.0
        self.studio_max_trials = resolved.max_trials
        self.studio_hyperband = config.tuner == "hyperband"
        self.studio_recycle_mb = config.recycle_mb
        self.studio_warm_mb: float | None = None  # resident memory after this process's first trial
        self.studio_warmup_s = 0.0  # seconds from the budget's start to the search's (set by _run)
        # Cross-validated trial scores (studio_fold_data): train+validation, each fold's
        # validation rows, and by trial id each fold's best objective value and best epoch.
        self.studio_cv_x: Any = None
        self.studio_cv_y: Any = None
        self.studio_folds: list[Any] = []
        self.studio_fold_scores: dict[str, list[float]] = {}
        self.studio_fold_epochs: dict[str, list[int]] = {}

    def studio_fold_data(self, prepared: PreparedData, folds: int, seed: int) -> None:
        """Scores every later trial by ``folds``-fold cross-validation of train+validation.

        The folds are :func:`~automl_studio.engine.train.crossval.fold_indices` of ``seed``
        (classes dealt round-robin), the same as the refit's cross-validation would make.
        """
        import numpy as np

        train, validation = prepared.train, prepared.validation
        if isinstance(train.x, dict):
            self.studio_cv_x = {k: np.concatenate([np.asarray(train.x[k]), np.asarray(validation.x[k])])
                                for k in train.x}
        else:
            self.studio_cv_x = np.concatenate([np.asarray(train.x), np.asarray(validation.x)])
        self.studio_cv_y = np.concatenate([np.asarray(train.y), np.asarray(validation.y)])
        labels = (self.studio_cv_y if prepared.signature.task == "classification"
                  and self.studio_cv_y.ndim == 1 else None)
        self.studio_folds = crossval.fold_indices(len(self.studio_cv_y), labels, folds, seed)

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        """One execution of a trial: KerasTuner's build and fit, once per fold when trials are
        cross-validated (:meth:`studio_fold_data`).

        The folds' histories go back as a list, which KerasTuner averages: the oracle receives
        the mean of the folds' best objective values (its ``best_step`` the mean best epoch), and
        the trial's checkpoint holds the best fold's best epoch. Only the first fold's epochs are
        reported (the live curves and TensorBoard, whose hparams callback runs once); later folds
        still report batch progress. A fold starts only while the trial's deadline leaves room
        for the slowest fold so far (the time budget): the score is then the mean of the folds
        that ran (``TrialEnded.fold_scores`` says how many).
        """
        if not self.studio_folds:
            return super()._build_and_fit_model(trial, *args, **kwargs)  # type: ignore[misc]
        import numpy as np

        x, y = self.studio_cv_x, self.studio_cv_y
        hypermodel = self.hypermodel
        listener = hypermodel.listener
        rule = get_objective(self.oracle.objective.name)
        everything = np.arange(len(y))
        histories: list[Any] = []
        seconds: list[float] = []
        scores = self.studio_fold_scores.setdefault(trial.trial_id, [])
        epochs = self.studio_fold_epochs.setdefault(trial.trial_id, [])

        def first_fold_epochs(event: Event) -> None:
            if not isinstance(event, EpochEnded):
                listener(event)

        def rows(idx: Any) -> Any:
            return {k: v[idx] for k, v in x.items()} if isinstance(x, dict) else x[idx]

        try:
            for k, held_out in enumerate(self.studio_folds):
                deadline = hypermodel.deadline
                if seconds and deadline is not None and time.monotonic() + max(seconds) > deadline:
                    break
                fold_kwargs = {**kwargs, "validation_data": (rows(held_out), y[held_out])}
                if k:
                    hypermodel.listener = first_fold_epochs
                    fold_kwargs["callbacks"] = [c for c in kwargs.get("callbacks") or () if not on_tensorboard(c)]
                began = time.monotonic()
                train = np.setdiff1d(everything, held_out, assume_unique=True)
                history = super()._build_and_fit_model(trial, rows(train), y[train], **fold_kwargs)  # type: ignore[misc]
                seconds.append(time.monotonic() - began)
                histories.append(history)
                curve = [float(v) for v in getattr(history, "history", {}).get(rule.name, [])]
                finite = [(rule.sort_key(v), i) for i, v in enumerate(curve) if math.isfinite(v)]
                if finite:
                    best = min(finite)[1]
                    scores.append(curve[best])
                    epochs.append(best + 1)
        finally:
            hypermodel.listener = listener
        return histories

    def studio_score_se(self, trial_id: str) -> float | None:
        """The standard error of a cross-validated trial's fold scores (sample standard
        deviation / sqrt(folds)); None for a trial scored on the validation split or one fold."""
        scores = self.studio_fold_scores.get(trial_id, [])
        return statistics.stdev(scores) / math.sqrt(len(scores)) if len(scores) >= 2 else None

    def studio_refit_epochs(self, trial: Any) -> int:
        """How long a refit of ``trial`` trains: the median of its folds' best epochs where it
        was cross-validated in this process, else its own best epoch."""
        folds = self.studio_fold_epochs.get(trial.trial_id)
        if folds:
            return max(1, int(round(statistics.median(folds))))
        return int(getattr(trial, "best_step", 0) or 0) + 1

    def studio_typical(self) -> float:
        """The median duration of this process's completed trials (0 before the first)."""
        return statistics.median(self.studio_durations) if self.studio_durations else 0.0

    def studio_recent_typical(self) -> float:
        """How long the next trial should take: the median of all trials or of the latest three,
        whichever is longer (trials slow down as the machine gets busier)."""
        return max(self.studio_typical(), statistics.median(self.studio_durations[-3:]) if self.studio_durations else 0.0)

    def studio_startup(self, running: Any = None) -> float:
        """Seconds a model costs before its first steady epoch (building, tracing), as the latest
        trials measured it on this machine now; at least :data:`REFIT_BUILD_S`."""
        measured = list(self.hypermodel.startup_s.values())[-3:]
        if running is not None and len(running.epoch_seconds) >= 2:
            measured.append(running.startup_s())
        if not measured:
            return max(REFIT_BUILD_S, WARMUP_STARTUP_SHARE * self.studio_warmup_s)
        return max(REFIT_BUILD_S, statistics.median(measured))

    def studio_first_fit_estimate(self) -> float:
        """Seconds a trial takes at the least: its first epoch, validation included (the deadline
        is checked at a batch's end, and the first batch also traces the model)."""
        measured = list(self.hypermodel.first_epoch_s.values())[-3:]
        return max(measured) if measured else FIRST_FIT_SHARE * self.studio_warmup_s

    def studio_export_reserve(self, running: Any = None) -> float:
        """Seconds kept for the end of the command whatever the refits do: loading the best
        trial's checkpoint (if no refit finished), the test evaluation, writing and verifying
        the export, and the process's exit."""
        validation = list(self.hypermodel.epoch_validation_s.values())[-3:]
        return EXPORT_BASE_S + EXPORT_STARTUPS * self.studio_model_start(running) + 2 * max(validation, default=0.0)

    def studio_model_start(self, running: Any = None) -> float:
        """Seconds a model costs before it computes: the latest trials' first epoch beyond a
        steady epoch's training steps (building it, tracing training and validation), at least
        :meth:`studio_startup`."""
        hypermodel = self.hypermodel
        measured = [hypermodel.first_epoch_s[t] - hypermodel.epoch_train_s.get(t, 0.0)
                    for t in list(hypermodel.first_epoch_s)[-3:]]
        if running is not None and running.first_epoch_s and len(running.epoch_seconds) >= 2:
            measured.append(running.first_epoch_s - running.recent_epoch_s())
        startup = self.studio_startup(running)
        return max(startup, statistics.median(measured)) if measured else startup

    def studio_reserve(self, running: Any = None) -> float:
        """Seconds kept back from the trials for the work after them and the export.

        The cross-validation and the refits get what fits in :data:`POST_SEARCH_SHARE` of the
        budget (:meth:`studio_plan`: fewer folds and refits when they are slow), or in
        :data:`FINALIST_SHARE` where that holds the folds of two finalists or more; the export's
        reserve comes on top. ``running``: the running trial's :class:`TrialCallback`; before
        any trial completed, the estimates come from its epochs so far.
        """
        budget = self.studio_budget_s
        if not budget:
            return self.studio_plan(math.inf, running).seconds + self.studio_export_reserve(running)
        plan = self.studio_plan(FINALIST_SHARE * budget, running) if len(self.studio_finalists()) > 1 else None
        if plan is None or plan.finalists <= 1:
            # No second finalist fits: the larger share would only buy refits and folds of the
            # best trial, which the trials need more (held-out modechoice ran 3 trials so).
            plan = self.studio_plan(POST_SEARCH_SHARE * budget, running)
        return plan.seconds + self.studio_export_reserve(running)

    def studio_plan(self, available_s: float, running: Any = None, *, final: bool = False) -> FinishPlan:
        """What runs after the trials in ``available_s`` seconds (the export's reserve deducted):
        planned from the best trial's measured seconds per epoch (:func:`plan_finish`).

        ``final``: the trials are over, so the first refit needs no margin: what it would not use
        goes unused, and a refit cut by the budget is discarded (the best trial's weights stay).
        """
        folds = crossval.FOLDS if self.studio_crossval else 0
        refits = self.studio_resolved.refits if self.studio_refits else 0
        margin = 1.0 if final else FIRST_REFIT_MARGIN
        refit_s = self.studio_refit_estimate(running)
        if not folds:
            return plan_finish(available_s, fold_s=0.0, refit_s=refit_s, folds=0, refits=refits, margin=margin)
        finalists = self.studio_finalists()
        # Every finalist runs on the same folds: a fold of the plan is one fold of each. More
        # finalists only where FINALIST_FOLDS folds of each fit; else fewer, down to the best
        # trial alone on up to all FOLDS.
        each = FINALIST_FOLDS if math.isfinite(available_s) else folds  # without a budget, all folds
        for n in range(len(finalists), 1, -1):
            fold_s = sum(self.studio_fold_estimate(running, trial) for trial in finalists[:n])
            plan = plan_finish(available_s, fold_s=fold_s, refit_s=refit_s, folds=each, refits=refits,
                               margin=margin)
            if plan.folds == each:
                return replace(plan, finalists=n)
        return plan_finish(available_s, fold_s=self.studio_fold_estimate(running), refit_s=refit_s, folds=folds,
                           refits=refits, margin=margin)

    def studio_finalists(self) -> list[Any]:
        """The trials cross-validated after the search on a small table, to choose the exported
        one: the validation split's best ``SearchConfig.finalists``, then the first trial (the
        simplest network, often the best on small tables) where it is not among them; trials
        that trained in two phases (a backbone) are left out, as a refit cannot replay them.
        The first trial comes last, though :func:`~automl_studio.engine.train.crossval.choose`
        prefers it within noise: a linear model trains to the epoch limit, so its folds are
        the slowest, and second in line it left the plan room for one finalist only (diabetes
        at 150 s); last, it runs where the others left the time."""
        ranked = best_trials(self)
        if self.studio_finalist_count <= 1 or not self.studio_crossval:
            return ranked[:1]
        chosen = ranked[:self.studio_finalist_count]
        first = min(ranked, key=lambda t: (len(t.trial_id), t.trial_id), default=None)
        if first is not None and first not in chosen:
            chosen.append(first)
        return [t for t in chosen if not self.hypermodel.has_second_phase(t.hyperparameters)] or ranked[:1]

    def studio_fold_estimate(self, running: Any = None, trial: Any = None) -> float:
        """Seconds one cross-validation fold of ``trial`` (default: the best trial so far)
        should take: a fit early-stopped on its fold, from the trial's measured seconds per
        epoch of training and of validation; before there is a measure, from trial durations.
        """
        best = [trial] if trial is not None else best_trials(self)
        hypermodel = self.hypermodel
        patience = hypermodel.patience_for()
        if best and best[0].trial_id in hypermodel.epoch_train_s:
            tid = best[0].trial_id
            train_s, validation_s = hypermodel.epoch_train_s[tid], hypermodel.epoch_validation_s[tid]
            # Each fold stops `patience` epochs after its best, which lies near this trial's.
            epochs = int(best[0].best_step or 0) + 1 + patience
        elif not best and running is not None and running.epoch_seconds:
            train_s = running.recent_epoch_s()
            validation_s = running.validation_seconds / len(running.epoch_seconds)
            epochs = len(running.epoch_seconds) + patience
        else:
            # That network may be slower or faster than the median trial, and on a fold it may
            # train longer than it did here.
            return crossval.fold_seconds_from_trial(max(self.studio_typical(), self.studio_best_duration()))
        epochs = min(hypermodel.epochs_for(), epochs)
        # A fold trains on 4/5 of train+validation and validates on the other fifth.
        epoch_s = 0.8 * self.studio_rows_ratio * train_s + validation_s
        return 1.25 * epochs * epoch_s + self.studio_startup(running)

    def studio_refit_estimate(self, running: Any = None, epochs: int | None = None) -> float:
        """Seconds one refit of the best trial so far should take.

        Its measured time per epoch in training steps as its latest epochs ran (a trial's epoch
        also validates and checkpoints: 2-5x a refit's on small tables), for the epochs the
        refit will run (``epochs``, else its best epoch), on train+validation rows, plus this
        run's measured start-up of a model. Before any trial completed, from the ``running``
        trial's epochs so far; three quarters of the median trial when there is no measure.
        """
        best = best_trials(self)
        measured = self.hypermodel.epoch_train_s
        if best and best[0].trial_id in measured:
            epoch_s, planned = measured[best[0].trial_id], int(best[0].best_step or 0) + 1
        elif not best and running is not None and running.epoch_seconds:
            epoch_s, planned = running.recent_epoch_s(), len(running.epoch_seconds)
        else:
            return 0.75 * self.studio_typical()
        if epochs is not None:
            planned = epochs
        elif self.studio_crossval:  # the folds' median best epoch: near this one, a little longer
            planned = min(self.hypermodel.epochs_for(), math.ceil(1.25 * planned))
        return epoch_s * planned * self.studio_rows_ratio + self.studio_startup(running)

    def studio_trial_refit_estimate(self, trial: Any, epochs: int) -> float | None:
        """Seconds a refit of ``trial`` for ``epochs`` should take on train+validation: its own
        measured training seconds per epoch, plus a model's start-up; None where this process
        did not measure it (a trial run before a resume or by a worker)."""
        epoch_s = self.hypermodel.epoch_train_s.get(trial.trial_id)
        if epoch_s is None:
            return None
        return epoch_s * epochs * self.studio_rows_ratio + self.studio_startup()

    def studio_best_duration(self) -> float:
        """How long the best completed trial so far took (the median trial's time if none)."""
        best = best_trials(self)
        if best and best[0].trial_id in self.studio_duration_of:
            return self.studio_duration_of[best[0].trial_id]
        return self.studio_typical()

    def _finished_count(self) -> int:
        return sum(1 for t in self.oracle.trials.values() if t.status in ("COMPLETED", "FAILED", "INVALID"))

    def pre_create_trial(self) -> None:
        if self.studio_hyperband and self.studio_max_trials and self._finished_count() >= self.studio_max_trials:
            raise SearchDone("completed")
        if self.studio_recycle_mb and self.studio_warm_mb is not None:
            grown = (resident_mb() or 0.0) - self.studio_warm_mb
            if grown > self.studio_recycle_mb:
                raise SearchDone(RECYCLE, f"the engine process grew by {grown:.0f} MB over "
                                           f"{len(self.studio_durations)} trials; restarting it to free that memory")
        if self.studio_deadline is not None:
            remaining = self.studio_deadline - time.monotonic()
            typical = max(self.studio_recent_typical(), self.studio_first_fit_estimate())
            # Room for one more trial, the work after the trials (at most its share of the
            # budget) and the export.
            if remaining < typical + self.studio_reserve() or remaining <= 1.0:
                raise SearchDone("budget", "the time budget is spent")
        super().pre_create_trial()  # type: ignore[misc]

    def on_trial_begin(self, trial: Any) -> None:
        super().on_trial_begin(trial)  # type: ignore[misc]
        self.studio_current = trial.trial_id
        self.studio_started_at = time.monotonic()
        self.studio_fold_scores.pop(trial.trial_id, None)  # a trial run again starts its folds afresh
        self.studio_fold_epochs.pop(trial.trial_id, None)
        hypermodel = self.hypermodel
        hypermodel.trial_id = trial.trial_id
        if self.studio_deadline is not None:
            deadline, at_start = self.studio_deadline, self.studio_deadline - time.monotonic()

            def revise(running: Any) -> float:
                # A trial that runs long is cut at a batch's end (keeping its epochs) before it
                # eats the reserve, re-estimated at each epoch's end from what the machine does
                # now; the export's share is never given up.
                return deadline - max(self.studio_export_reserve(running),
                                      min(self.studio_reserve(running), 0.75 * at_start))

            hypermodel.revise_deadline = revise
            hypermodel.deadline = revise(None)
        epochs = trial.hyperparameters.values.get("tuner/epochs") or hypermodel.epochs_for()
        if hypermodel.has_second_phase(trial.hyperparameters):
            epochs *= 2  # a backbone's second phase trains up to as many epochs again
        self.studio_listener(TrialStarted(trial_id=trial.trial_id, hyperparameters=dict(trial.hyperparameters.values),
                                          max_epochs=int(epochs), worker=distributed.tuner_id()))

    def load_model(self, trial: Any) -> Any:
        """The trial's best checkpoint, without Keras' warning that its optimizer's state is not
        restored (a model rebuilt for predicting and exporting has not trained yet, so its
        optimizer has no such state; a second fine-tuning phase's has more)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Skipping variable loading for optimizer")
            return super().load_model(trial)  # type: ignore[misc]  # kt.Tuner, after this mixin

    def on_trial_end(self, trial: Any) -> None:
        duration = time.monotonic() - self.studio_started_at
        status = {"COMPLETED": "completed"}.get(trial.status, "failed")
        error = None
        if status == "failed":
            error = trial_failure_reason(trial.message)
        else:
            self.studio_durations.append(duration)
            self.studio_duration_of[trial.trial_id] = duration
        self.studio_current = None
        if self.studio_recycle_mb and self.studio_warm_mb is None:
            self.studio_warm_mb = resident_mb()
        super().on_trial_end(trial)  # type: ignore[misc]
        trial = self.oracle.get_trial(trial.trial_id)  # the oracle scores it in end_trial
        best_step = getattr(trial, "best_step", None)
        score = trial.score if status == "completed" else None
        recall = self.hypermodel.class_recall.pop(trial.trial_id, {})
        completed = status == "completed"
        folds = tuple(self.studio_fold_scores.get(trial.trial_id, ())) if completed else ()
        self.studio_listener(TrialEnded(
            trial_id=trial.trial_id, status=status,
            score=float(score) if score is not None and math.isfinite(score) else None,
            duration_s=duration, error=error,
            best_epoch=int(best_step) + 1 if best_step is not None and status == "completed" else None,
            hyperparameters=dict(trial.hyperparameters.values), worker=distributed.tuner_id(),
            class_recall=recall if completed else {},
            score_se=self.studio_score_se(trial.trial_id) if completed else None, fold_scores=folds))


def on_tensorboard(callback: Any) -> bool:
    """Whether ``callback`` writes TensorBoard logs (Keras' own, or the hparams one KerasTuner adds)."""
    import keras

    return isinstance(callback, keras.callbacks.TensorBoard) or type(callback).__module__.startswith("tensorboard")


def trial_failure_reason(message: str | None) -> str:
    """The last line of a KerasTuner trial traceback, which names the actual error."""
    if not message:
        return "the trial failed"
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else message
    if "ResourceExhausted" in message or "out of memory" in message.lower() or "OOM" in message:
        return f"out of memory: {last} — try a smaller batch size or model"
    for prefix in ("keras_tuner.src.errors.FailedTrialError: ", "FailedTrialError: "):
        if last.startswith(prefix):
            return last[len(prefix):]
    return last


def best_trials(tuner: Any) -> list[Any]:
    """Completed trials, best first (KerasTuner's own ranking also returns unscored ones)."""
    done = [t for t in tuner.oracle.trials.values()
            if t.status == "COMPLETED" and t.score is not None and math.isfinite(t.score)]
    rule = get_objective(tuner.oracle.objective.name)
    return sorted(done, key=lambda t: (rule.sort_key(t.score), t.trial_id))


class StudioTuner(TrialEvents, kt.Tuner):
    """Random, Bayesian and grid search: KerasTuner's ``Tuner`` driven by an oracle of :data:`ORACLES`."""


class StudioHyperband(TrialEvents, kt.Hyperband):
    """Hyperband (KerasTuner's own, whose ``run_trial`` sets each bracket's epochs)."""
