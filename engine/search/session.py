"""Running a search: data → space → KerasTuner → trials → refit → test metrics → export.

:func:`run_search` is the long piece of work behind the command line, the window and the tests:
a plain function with a listener (it calls it with :mod:`~automl_studio.engine.core.events`) and a
stop token (anything with ``is_set()``, checked at every batch). Running it again on the same
project directory resumes: completed trials are kept and the interrupted one is rerun.
"""

from __future__ import annotations

import importlib.util
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ExportError, ProjectError, SpecError, UserError
from automl_studio.engine.core.events import (
    Broadcast,
    Event,
    JsonLinesWriter,
    PhaseChanged,
    SearchFinished,
    SearchStarted,
    SearchWarning,
    TrialEnded,
    TrialStarted,
)
from automl_studio.engine.core.objectives import Objective, check_objective, get_objective
from automl_studio.engine.data.csv_format import CsvOptions
from automl_studio.engine.data.features import PreparedData, Split, prepare_data
from automl_studio.engine.data.identity import DataIdentity, data_identity
from automl_studio.engine.data.loading import load_dataset
from automl_studio.engine.data.profile import profile_dataset
from automl_studio.engine.process.memory import resident_mb
from automl_studio.engine.search import distributed, oracle_server
from automl_studio.engine.search.project import (
    CONFIG_FILE,
    EVENTS_FILE,
    check_resume,
    check_worker_data,
    clear_project,
    read_search_document,
    write_search_document,
)
from automl_studio.engine.space.shapes import analyse, space_summary
from automl_studio.engine.space.spec import SearchSpace
from automl_studio.engine.space.templates import resolve_space
from automl_studio.engine.train import crossval

BEST_DIR = "best"
SAMPLE_FILE = "sample_inputs.npz"
DEFAULT_MAX_TRIALS = {"table": 20, "features": 20, "sequences": 12, "images": 10}
# How many refits the exported model averages, by train+validation rows (images: one). A refit's
# initial weights alone moved digits' test accuracy by up to 1.7 points (six seeds: 0.967-0.983;
# averages of three: 0.983-0.986), and on wine and iris by a test row (averages of five: none).
ENSEMBLE_REFITS = ((10_000, 5), (100_000, 3))
REFIT_BUILD_S = 0.5  # building and tracing a refit's model, beyond its epochs (0.1-0.3 s measured)
# Kept back at the end of a budget, whatever the refits do: writing the files and ending the
# process, plus EXPORT_STARTUPS times this run's measured start-up of a model (loading the best
# trial's checkpoint, evaluating, saving, reloading to verify each build or trace a model, warm;
# a trial's start-up also pays for the process's first traces: 5.7 s against an end of 4.4 s).
EXPORT_BASE_S = 2.0
EXPORT_STARTUPS = 1
# Before a trial has measured this machine, shares of how long this process took to start (its
# imports and first model slow down together on a busy machine: 15-45 s of imports, 10-24 s for
# the first trial's first epoch at load average ~8 on 2 vCPUs): a model's start-up, and the
# first trial's first epoch (which cannot be cut before its first batch).
WARMUP_STARTUP_SHARE = 0.15
FIRST_FIT_SHARE = 0.35
RECYCLE = "recycle"  # a run's status when it ended itself to be restarted (SearchConfig.recycle_mb)


@dataclass(frozen=True)
class Resolved:
    """The settings a search actually runs with, after "choose for me" defaults."""

    objective: str  # a name from :mod:`~automl_studio.engine.core.objectives`, checked for the task
    max_trials: int | None
    max_epochs: int | None
    patience: int | None
    refits: int = 1  # how many refits of the best configuration the exported model averages

    @property
    def rule(self) -> Objective:
        """The objective's name, direction and label."""
        return get_objective(self.objective)

    @property
    def direction(self) -> str:
        """``"min"`` or ``"max"``, from the objective rule."""
        return self.rule.direction


@dataclass
class SearchResult:
    """What :func:`run_search` returns (the same as its ``search_finished`` event)."""

    status: str
    best_trial_id: str | None = None
    best_score: float | None = None
    best_hyperparameters: dict[str, Any] = field(default_factory=dict)
    test_metrics: dict[str, Any] = field(default_factory=dict)
    exported: list[str] = field(default_factory=list)
    message: str = ""
    refits: int = 0  # refits averaged in the exported model; 0: the best trial as trained
    baseline_metrics: dict[str, Any] = field(default_factory=dict)  # the trivial model's, same test split


class _SearchDone(Exception):
    """Ends the KerasTuner loop between trials (budget spent, trial count reached)."""

    def __init__(self, status: str, message: str = "") -> None:
        super().__init__(message)
        self.status, self.message = status, message


def resolve_defaults(config: SearchConfig, prepared: PreparedData) -> Resolved:
    """What a good practitioner would choose when the user leaves a setting open.

    The objective is validation loss: on small tables accuracy ties between many trials, so
    picking (and refitting) by it is close to arbitrary. The exported model averages a few
    refits of the best configuration where they are cheap: one refit's initial weights decide
    a point of accuracy on a small table.

    Raises:
        UserError: an objective the model does not compile for this task (e.g. ``val_auc`` with
            three classes), naming the objectives that exist for it — before any trial runs.
    """
    signature = prepared.signature
    try:
        objective = check_objective(config.objective, signature.task, signature.n_classes)
    except UserError as exc:
        raise UserError(f"{config.data_path}: {exc}") from None
    max_trials = config.max_trials
    if max_trials is None:
        max_trials = 10_000 if config.time_budget_s else DEFAULT_MAX_TRIALS.get(prepared.input_kind, 20)
    refits = config.refits
    if refits is None:
        rows = len(prepared.train) + len(prepared.validation)
        refits = next((n for most, n in ENSEMBLE_REFITS if rows <= most), 1) if prepared.input_kind != "images" else 1
    return Resolved(objective.name, max_trials, config.max_epochs, config.patience,
                    refits if config.refit else 1)


def _tuner_class(name: str) -> type:
    import keras_tuner as kt

    return {"random": kt.RandomSearch, "bayesian": kt.BayesianOptimization,
            "hyperband": kt.Hyperband, "grid": kt.GridSearch}[name]


def _make_tuner(config: SearchConfig, space: SearchSpace, prepared: PreparedData, resolved: Resolved,
                listener: Callable[[Event], None], stop: CancelToken | None) -> Any:
    import keras_tuner as kt

    from automl_studio.engine.train.hypermodel import SpecHyperModel

    hypermodel = SpecHyperModel(space, prepared.signature, n_train=len(prepared.train),
                                listener=listener, stop=stop, max_epochs=resolved.max_epochs,
                                patience=resolved.patience, objective=resolved.rule,
                                mixed_precision=config.mixed_precision)
    base = _tuner_class(config.tuner)
    tuner_cls = type(f"Studio{base.__name__}", (_EventsMixin, base), {})
    objective = kt.Objective(resolved.rule.name, resolved.rule.direction)
    strategy = None
    if config.distribution == "data-parallel" and importlib.util.find_spec("tensorflow") is not None:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            strategy = tf.distribute.MirroredStrategy()
    common: dict[str, Any] = dict(
        distribution_strategy=strategy,
        hypermodel=hypermodel, objective=objective, directory=str(Path(config.project_dir)),
        project_name="tuner", overwrite=False, seed=config.seed,
        max_consecutive_failed_trials=config.max_consecutive_failures,
    )
    if config.tuner == "hyperband":
        tuner = tuner_cls(max_epochs=hypermodel.epochs_for(), factor=3, **common)
    else:
        tuner = tuner_cls(max_trials=resolved.max_trials, executions_per_trial=config.executions_per_trial,
                          **common)
    tuner.studio_setup(listener, resolved, config)
    tuner.studio_rows_ratio = (len(prepared.train) + len(prepared.validation)) / max(1, len(prepared.train))
    tuner.studio_crossval = config.refit and crossval.applies(
        prepared.input_kind, len(prepared.train) + len(prepared.validation))
    if config.tuner in ("random", "bayesian") and distributed.role() != "worker":
        _start_with_simplest(tuner.oracle, space)  # a worker's oracle is the chief's, remote
    return tuner


def _start_with_simplest(oracle: Any, space: SearchSpace) -> None:
    """Makes the first trial the simplest network of the space, with a brisk learning rate.

    A good practitioner fits the plain model first: on small tables a linear model often wins
    and costs seconds; every later trial is the tuner's own choice.
    """
    populate = oracle.populate_space
    repeats = {f"{rep.id}.repeats": rep.min for rep in space.repeats if rep.min != rep.max}

    def populate_space(trial_id: str) -> dict[str, Any]:
        response = populate(trial_id)
        if oracle.trials or response.get("status") != "RUNNING":
            return response
        values = dict(response["values"])
        for hp in oracle.hyperparameters.space:
            if hp.name in repeats:
                values[hp.name] = repeats[hp.name]
            elif hp.name.endswith(".enabled") or ".enabled." in hp.name:
                values[hp.name] = False
            elif hp.name == "training.learning_rate" and hasattr(hp, "min_value"):
                values[hp.name] = min(max(1e-2, hp.min_value), hp.max_value)
        return {**response, "values": values}

    oracle.populate_space = populate_space


class _EventsMixin:
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
        self.studio_rows_ratio = 1.0  # train+validation rows over training rows (set by _make_tuner)
        self.studio_budget_s = config.time_budget_s
        self.studio_current: str | None = None
        self.studio_started_at = 0.0
        self.studio_max_trials = resolved.max_trials
        self.studio_hyperband = config.tuner == "hyperband"
        self.studio_recycle_mb = config.recycle_mb
        self.studio_warm_mb: float | None = None  # resident memory after this process's first trial
        self.studio_warmup_s = 0.0  # seconds from the budget's start to the search's (set by _run)

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
        return EXPORT_BASE_S + EXPORT_STARTUPS * self.studio_startup(running) + 2 * max(validation, default=0.0)

    def studio_reserve(self, running: Any = None) -> float:
        """Seconds kept back for the refits (and the cross-validation) and the export.

        ``running``: the running trial's :class:`TrialCallback`; before any trial completed,
        the refits are estimated from its epochs so far.
        """
        one = self.studio_refit_estimate(running)
        # The first refit with a wide margin; a later one is skipped if it has no time left.
        refits = 1.5 * one + one * (self.studio_resolved.refits - 1) + self.studio_export_reserve(running)
        if not self.studio_crossval:
            return refits
        return self.studio_folds_estimate() + refits

    def studio_folds_estimate(self) -> float:
        """Seconds the cross-validation of the best trial so far should take (at most its share
        of the budget): five fits early-stopped on their fold, from the trial's measured seconds
        per epoch of training and of validation; before there is a measure, from trial durations.
        """
        best = best_trials(self)
        hypermodel = self.hypermodel
        if not best or best[0].trial_id not in hypermodel.epoch_train_s:
            # That network may be slower or faster than the median trial, and on a fold it may
            # train longer than it did here.
            trial_s = max(self.studio_typical(), self.studio_best_duration())
            return crossval.expected_seconds(trial_s, self.studio_budget_s)
        tid = best[0].trial_id
        # Each fold stops `patience` epochs after its best, which lies near this trial's.
        epochs = min(hypermodel.epochs_for(), int(best[0].best_step or 0) + 1 + hypermodel.patience_for())
        # A fold trains on 4/5 of train+validation and validates on the other fifth.
        epoch_s = 0.8 * self.studio_rows_ratio * hypermodel.epoch_train_s[tid] + hypermodel.epoch_validation_s[tid]
        seconds = crossval.FOLDS * (1.25 * epochs * epoch_s + self.studio_startup())
        return min(seconds, crossval.BUDGET_SHARE * self.studio_budget_s) if self.studio_budget_s else seconds

    def studio_refit_estimate(self, running: Any = None) -> float:
        """Seconds one refit of the best trial so far should take.

        Its measured time per epoch in training steps as its latest epochs ran (a trial's epoch
        also validates and checkpoints: 2-5x a refit's on small tables), for the epochs the
        refit will run, on train+validation rows, plus this run's measured start-up of a model.
        Before any trial completed, from the ``running`` trial's epochs so far; three quarters
        of the median trial when there is no measure.
        """
        best = best_trials(self)
        measured = self.hypermodel.epoch_train_s
        if best and best[0].trial_id in measured:
            epoch_s, epochs = measured[best[0].trial_id], int(best[0].best_step or 0) + 1
        elif not best and running is not None and running.epoch_seconds:
            epoch_s, epochs = running.recent_epoch_s(), len(running.epoch_seconds)
        else:
            return 0.75 * self.studio_typical()
        if self.studio_crossval:  # the folds' median best epoch: near this one, a little longer
            epochs = min(self.hypermodel.epochs_for(), math.ceil(1.25 * epochs))
        return epoch_s * epochs * self.studio_rows_ratio + self.studio_startup(running)

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
            raise _SearchDone("completed")
        if self.studio_recycle_mb and self.studio_warm_mb is not None:
            grown = (resident_mb() or 0.0) - self.studio_warm_mb
            if grown > self.studio_recycle_mb:
                raise _SearchDone(RECYCLE, f"the engine process grew by {grown:.0f} MB over "
                                           f"{len(self.studio_durations)} trials; restarting it to free that memory")
        if self.studio_deadline is not None:
            remaining = self.studio_deadline - time.monotonic()
            typical = max(self.studio_recent_typical(), self.studio_first_fit_estimate())
            # Room for one more trial, the refit (shorter than a trial: it stops at the best
            # epoch) and the export.
            if remaining < typical + self.studio_reserve() or remaining <= 1.0:
                raise _SearchDone("budget", "the time budget is spent")
        super().pre_create_trial()  # type: ignore[misc]

    def on_trial_begin(self, trial: Any) -> None:
        super().on_trial_begin(trial)  # type: ignore[misc]
        self.studio_current = trial.trial_id
        self.studio_started_at = time.monotonic()
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
        self.studio_listener(TrialStarted(trial_id=trial.trial_id, hyperparameters=dict(trial.hyperparameters.values),
                                          max_epochs=int(epochs), worker=distributed.tuner_id()))

    def on_trial_end(self, trial: Any) -> None:
        duration = time.monotonic() - self.studio_started_at
        status = {"COMPLETED": "completed"}.get(trial.status, "failed")
        error = None
        if status == "failed":
            error = _reason(trial.message)
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
        self.studio_listener(TrialEnded(
            trial_id=trial.trial_id, status=status,
            score=float(score) if score is not None and math.isfinite(score) else None,
            duration_s=duration, error=error,
            best_epoch=int(best_step) + 1 if best_step is not None and status == "completed" else None,
            hyperparameters=dict(trial.hyperparameters.values), worker=distributed.tuner_id()))


def _reason(message: str | None) -> str:
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


class _Session:
    """One search's data, space and tuner, shared by search, resume and late export."""

    def __init__(self, config: SearchConfig, listener: Callable[[Event], None], stop: CancelToken | None = None) -> None:
        self.config, self.listener, self.stop = config, listener, stop
        listener(PhaseChanged(phase="loading", message=f"reading {config.data_path}"))
        dataset = load_dataset(config.data_path, x_key=config.x_key, y_key=config.y_key,
                               image_size=tuple(config.image_size),  # type: ignore[arg-type]
                               csv_options=CsvOptions(config.csv_delimiter, config.csv_decimal,
                                                      config.csv_encoding, config.csv_header))
        profile = profile_dataset(dataset, config.target, config.task,
                                  exclude=tuple(config.exclude_columns), include=tuple(config.include_columns),
                                  kinds=config.column_kinds)
        self.profile = profile
        self.prepared = prepare_data(dataset, profile, validation_fraction=config.validation_fraction,
                                     test_fraction=config.test_fraction, seed=config.seed)
        self.space = resolve_space(config.space, self.prepared.signature.inputs.keys(),
                                   self.prepared.signature.train_rows)
        analysis = analyse(self.space, self.prepared.signature)
        if analysis.issues:
            first = analysis.issues[0]
            raise SpecError(f"the search space is invalid: {first.message}", node=first.node)
        self.resolved = resolve_defaults(config, self.prepared)

    def tuner(self) -> Any:
        return _make_tuner(self.config, self.space, self.prepared, self.resolved, self.listener, self.stop)


def _check_project(config: SearchConfig, identity: DataIdentity) -> bool:
    """Returns True when the project holds this same search to resume.

    A worker instead checks that it prepared the very data and split of its chief.

    Raises:
        ProjectError: the project holds another search (other data, target, task, columns,
            split or tuner), or a worker's data differ from its chief's; one line says what.
    """
    if distributed.role() == "worker":
        check_worker_data(config, identity, config.extra.get(distributed.CHIEF_DATA))
        return (Path(config.project_dir) / "tuner").exists()
    return check_resume(config, identity)


def _clear_project(project: Path) -> None:
    clear_project(project)


def choose_device(config: SearchConfig) -> None:
    """Hides the GPUs the user did not choose; must run before the backend initialises them."""
    if config.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    elif config.device.startswith("gpu:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = config.device[4:]


def configure_accelerator(config: SearchConfig, emit: Callable[[Event], None]) -> None:
    """GPU memory growth (TensorFlow), mixed precision and data-parallel training, as asked."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:
            try:
                # Grow on demand rather than taking the whole card at start-up.
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:
                pass  # already initialised in this process
        if config.device == "gpu" and not gpus:
            emit(SearchWarning(message="no GPU found; training on the CPU"))
    if config.distribution == "data-parallel" and backend == "jax":
        keras.distribution.set_distribution(keras.distribution.DataParallel())


def _merge(a: Split, b: Split) -> Split:
    def join(first: Any, second: Any) -> Any:
        if hasattr(first, "concat"):  # lazily decoded images
            return first.concat([first, second])
        return np.concatenate([first, second])

    return Split({k: join(a.x[k], b.x[k]) for k in a.x}, np.concatenate([a.y, b.y]))


def _sample(split: Split, n: int = 8) -> dict[str, np.ndarray]:
    return {k: v[:n] for k, v in split.x.items()}


def run_search(config: SearchConfig, listener: Callable[[Event], None] | None = None,
               stop: CancelToken | None = None, *, budget_started_at: float | None = None) -> SearchResult:
    """Runs (or resumes) a whole search and exports its best model.

    Args:
        config: what to search; see :class:`~automl_studio.engine.core.config.SearchConfig`.
        listener: called with every event, on this thread.
        stop: a token with ``is_set()``; once set, the running trial stops at its next batch, the
            search ends with status ``stopped`` and the best trial so far stays exportable.
        budget_started_at: the :func:`time.monotonic` reading the time budget counts from; the
            command line and the engine child pass their process's start
            (:func:`~automl_studio.engine.core.clock.process_started_at`). Default: now.

    Raises:
        UserError: bad data, spec or project, before any training.
    """
    started = time.monotonic() if budget_started_at is None else budget_started_at
    project = Path(config.project_dir)
    if config.fresh:
        _clear_project(project)
    try:
        project.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"{project}: cannot create the project folder ({exc.strerror})") from exc
    log_handle = open(project / EVENTS_FILE, "a", encoding="utf-8")
    log = JsonLinesWriter(log_handle)

    def to_log(event: Event) -> None:
        if event.type != "batch_progress":
            log(event)

    emit = Broadcast(to_log, listener) if listener else Broadcast(to_log)
    try:
        return _run(config, emit, stop, started, project)
    except UserError as exc:
        emit(SearchFinished.build("failed", str(exc)))
        raise
    finally:
        log_handle.close()
        if config.mixed_precision:  # the policy is global to the process
            import keras

            keras.mixed_precision.set_global_policy("float32")


def _run(config: SearchConfig, emit: Broadcast, stop: CancelToken | None, started: float, project: Path) -> SearchResult:
    session = _Session(config, emit, stop)  # bad data or spec fail here, before TensorFlow loads
    choose_device(config)
    import keras

    configure_accelerator(config, emit)

    from automl_studio.engine.train.hypermodel import BudgetSpent, SearchStopped

    keras.utils.set_random_seed(config.seed)
    prepared, resolved = session.prepared, session.resolved
    role = distributed.role()
    identity = data_identity(prepared, config.data_path)
    resuming = _check_project(config, identity)
    if role != "worker":
        write_search_document(project, SearchDocument(config, identity.to_dict(), session.space.to_dict()))
    tuner = session.tuner()
    deadline = started + config.time_budget_s if config.time_budget_s else None
    tuner.studio_deadline = deadline
    done = 0 if role == "worker" else sum(1 for t in tuner.oracle.trials.values() if t.status == "COMPLETED")
    settings = {**config.to_dict(), "objective": resolved.objective, "direction": resolved.direction,
                "max_trials": resolved.max_trials, "max_epochs": tuner.hypermodel.epochs_for()}
    emit(SearchStarted(profile=prepared.profile.to_dict(),
                       space_summary=space_summary(session.space, prepared.signature),
                       settings=settings, project_dir=str(project), resumed=resuming, completed_trials=done))
    for note in prepared.notes:
        emit(SearchWarning(message=note))
    callbacks = []
    if config.tensorboard:
        if importlib.util.find_spec("tensorflow") is not None:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(project / "tensorboard"), write_graph=False))
        else:
            emit(SearchWarning(message="TensorBoard logs need TensorFlow installed; skipped"))
    emit(PhaseChanged(phase="searching", message=f"{config.tuner} search, up to {resolved.max_trials} trials"))
    searching_at = time.monotonic()
    tuner.studio_warmup_s = searching_at - started
    status, message = "completed", ""
    try:
        if role == "chief":
            if config.extra.get("chief_reports_trials", True):
                oracle_server.report_oracle_trials(tuner.oracle, emit)
            tuner.save()
            address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
            emit(PhaseChanged(phase="serving", message=f"oracle serving workers on {address}"))
            status = oracle_server.serve_oracle(tuner.oracle, stop)
            message = "stopped by the user" if status == "stopped" else ""
        else:
            tuner.search(prepared.train.x, prepared.train.y,
                         validation_data=(prepared.validation.x, prepared.validation.y),
                         callbacks=callbacks, verbose=0)
    except _SearchDone as exc:
        status, message = exc.status, exc.message
    except (SearchStopped, BudgetSpent) as exc:
        status = "stopped" if isinstance(exc, SearchStopped) else "budget"
        message = "stopped by the user" if status == "stopped" else "the time budget is spent"
        if tuner.studio_current is not None:
            emit(TrialEnded(trial_id=tuner.studio_current, status="stopped", score=None,
                            duration_s=time.monotonic() - tuner.studio_started_at,
                            error=message + "; rerun on resume"))
    except RuntimeError as exc:
        if "consecutive failures" not in str(exc):
            raise
        status = "failed"
        last = [t for t in tuner.oracle.trials.values() if t.status == "FAILED"]
        reason = _reason(last[-1].message) if last else str(exc)
        message = (f"{config.max_consecutive_failures} trials failed in a row; the last one "
                   f"({last[-1].trial_id if last else '?'}) said: {reason}")
    if status == RECYCLE:
        # No search_finished: the SearchProcess that started this child starts another one on
        # the same project, which resumes where this one stopped.
        emit(PhaseChanged(phase="recycling", message=message))
        return SearchResult(RECYCLE, message=message)
    if role == "worker":
        # The chief owns the results: it refits and exports once every trial is done.
        emit(SearchFinished.build(status, message or f"worker {distributed.tuner_id()} is done"))
        return SearchResult(status, message="worker done")
    best = best_trials(tuner)
    if not best:
        failed = [t for t in tuner.oracle.trials.values() if t.status in ("FAILED", "INVALID")]
        why = f" (trial {failed[-1].trial_id}: {_reason(failed[-1].message)})" if failed else ""
        if status == "budget" and deadline is not None:
            message = (f"the time budget ({config.time_budget_s:g} s, counted from the command's start) ran out "
                       f"before any trial finished, so no model was exported: {searching_at - started:.0f} s "
                       f"went to starting up and preparing the data, and the end of the budget is kept for "
                       f"the export; give a larger time budget{why}")
        result = SearchResult(status if status != "completed" else "failed",
                              message=message or f"no trial completed, so there is no model to export{why}")
        emit(SearchFinished.from_result(result))
        return result
    best_trial = best[0]
    result = SearchResult(status, best_trial.trial_id, float(best_trial.score),
                          dict(best_trial.hyperparameters.values), message=message)
    if status == "stopped":
        # Stop must land at once; the best trial's checkpoint stays exportable on demand
        # (export_project / `automl-studio export`), so no refit or export happens here.
        result.message = (f"stopped by the user; best trial so far: {best_trial.trial_id} — export it with "
                          "Export best model… or `automl-studio export PROJECT DEST.h5`")
        emit(SearchFinished.from_result(result))
        return result
    # What is left once the end of the command (checkpoint, evaluation, export, exit) is kept back.
    remaining = (deadline - time.monotonic() - tuner.studio_export_reserve()) if deadline else math.inf
    do_refit = config.refit and status in ("completed", "budget") and not (stop is not None and stop.is_set())
    # A refit that cannot finish would be cut and thrown away.
    model, result.refits = _final_model(session, tuner, best_trial,
                                        do_refit and remaining > tuner.studio_refit_estimate(), emit, stop, deadline)
    _finish(session, model, best_trial, result, emit)
    emit(SearchFinished.from_result(result))
    return result


def _final_model(session: _Session, tuner: Any, best_trial: Any, refit: bool, emit: Callable[[Event], None],
                 stop: CancelToken | None, deadline: float | None) -> tuple[Any, int]:
    """Retrains the best configuration on train+validation for its best number of epochs.

    On a small table that number comes from cross-validation (:mod:`.crossval`), when the budget
    allows. The model averages ``resolved.refits`` such refits, seeded ``seed``, ``seed + 1``…; a
    refit after the first starts only if the budget has time for it, and one cut short is left
    out. Falls back to the best trial's own checkpoint when there is no time or the user stopped.
    Returns the model and how many refits it averages (0: the checkpoint).
    """
    from automl_studio.engine.train.hypermodel import (
        BudgetSpent,
        SearchStopped,
        TrialCallback,
        average_models,
        fit_arrays,
    )

    prepared = session.prepared
    if not refit:
        return tuner.load_model(best_trial), 0
    import keras

    epochs = int(getattr(best_trial, "best_step", 0) or 0) + 1
    hypermodel = tuner.hypermodel
    both = _merge(prepared.train, prepared.validation)
    batch = hypermodel._batch_size(best_trial.hyperparameters)
    count = session.resolved.refits
    members: list[Any] = []
    # A refit is cut at a batch's end where the end of the command (evaluation, export) begins.
    refits_deadline = deadline - tuner.studio_export_reserve() if deadline is not None else None
    try:
        if tuner.studio_crossval:
            epochs = _cross_validated_epochs(session, tuner, best_trial, both, epochs, emit, stop, deadline)
        took = 0.0
        for index in range(count):
            which = f" (refit {index + 1} of {count}, averaged in the exported model)" if count > 1 else ""
            # Room for one more refit as long as the last one (measured now, on this machine).
            if members and refits_deadline is not None and refits_deadline - time.monotonic() < 1.2 * took:
                emit(PhaseChanged(phase="refitting", message=(
                    f"no time left for refit {index + 1} of {count}; the model averages {len(members)}")))
                break
            emit(PhaseChanged(phase="refitting", message=(
                f"retraining trial {best_trial.trial_id} on train+validation for {epochs} epochs{which}")))
            started = time.monotonic()
            # The same seed gives the same refit, whether or not folds ran before it.
            keras.utils.set_random_seed(session.config.seed + index)
            model = hypermodel.build(best_trial.hyperparameters)
            fit_arrays(model, both.x, both.y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[
                TrialCallback("refit", emit, stop, refits_deadline, math.ceil(len(both) / batch), hard_deadline=True)])
            members.append(model)
            took = time.monotonic() - started
    except (SearchStopped, BudgetSpent):
        if not members:
            emit(SearchWarning(message="the refit was cut short; exporting the best trial as trained"))
            return tuner.load_model(best_trial), 0
        emit(SearchWarning(message=f"refit {len(members) + 1} of {count} was cut short; "
                                   f"the model averages the {len(members)} that finished"))
    if len(members) == 1:
        return members[0], 1
    return average_models(members, prepared.signature), len(members)


def _cross_validated_epochs(session: _Session, tuner: Any, best_trial: Any, both: Split, epochs: int,
                            emit: Callable[[Event], None], stop: CancelToken | None, deadline: float | None) -> int:
    """The refit's length from k-fold cross-validation, or ``epochs`` when the budget is too short."""
    from automl_studio.engine.train.hypermodel import BudgetSpent, TrialCallback, fit_arrays

    refit_s = 1.5 * tuner.studio_refit_estimate() + tuner.studio_export_reserve()  # one refit and the export
    folds_deadline = deadline - refit_s if deadline is not None else None
    two_folds = 2 / crossval.FOLDS * tuner.studio_folds_estimate()  # at least two must finish
    if folds_deadline is not None and folds_deadline - time.monotonic() < two_folds:
        emit(PhaseChanged(phase="refitting", message=f"no time left to cross-validate the refit's length; "
                                                     f"using the validation split's best epoch ({epochs})"))
        return epochs
    hypermodel, hp = tuner.hypermodel, best_trial.hyperparameters
    resolved = session.resolved
    emit(PhaseChanged(phase="validating", message=(
        f"{crossval.FOLDS}-fold cross-validation of trial {best_trial.trial_id} on {len(both)} rows, "
        "to choose how long to retrain it")))
    labels = both.y if session.prepared.signature.task == "classification" and np.ndim(both.y) == 1 else None
    batch = hypermodel._batch_size(hp)

    def callbacks(_fold: int) -> list[Any]:
        return [TrialCallback("refit", lambda _event: None, stop, folds_deadline, None, hard_deadline=True)]

    try:
        result = crossval.cross_validate(
            lambda: hypermodel.build(hp), fit_arrays, both, objective=resolved.rule,
            epochs=hypermodel.epochs_for(), patience=hypermodel.patience_for(),
            batch_size=batch, seed=session.config.seed, callbacks=callbacks, labels=labels, cut=(BudgetSpent,))
    except BudgetSpent:
        emit(SearchWarning(message="the time budget ended the cross-validation before two folds finished; "
                                   f"using the validation split's best epoch ({epochs})"))
        return epochs
    except ValueError as exc:
        emit(SearchWarning(message=f"cross-validation gave no result ({exc}); using epoch {epochs}"))
        return epochs
    done = len(result.fold_epochs)
    emit(PhaseChanged(phase="validating", message=(
        f"{done} of {crossval.FOLDS} folds: mean best {resolved.objective} {result.score:.4g}, refit for "
        f"{result.epochs} epochs (the median of the folds' best: {', '.join(map(str, result.fold_epochs))}; "
        f"the validation split said {epochs})")))
    return result.epochs


def best_trials(tuner: Any) -> list[Any]:
    """Completed trials, best first (KerasTuner's own ranking also returns unscored ones)."""
    done = [t for t in tuner.oracle.trials.values()
            if t.status == "COMPLETED" and t.score is not None and math.isfinite(t.score)]
    rule = get_objective(tuner.oracle.objective.name)
    return sorted(done, key=lambda t: (rule.sort_key(t.score), t.trial_id))


def _finish(session: _Session, model: Any, best_trial: Any, result: SearchResult,
            emit: Callable[[Event], None]) -> None:
    """Evaluates on the test split and exports ``best/best.h5`` (+ ``.keras``, + ``--export``)."""
    from automl_studio.engine.export.writers import build_metadata, export_model
    from automl_studio.engine.train.hypermodel import predict_arrays
    from automl_studio.engine.train.metrics import (
        baseline_metrics,
        baseline_shortfall,
        classification_metrics,
        regression_metrics,
        sample_points,
    )

    config, prepared = session.config, session.prepared
    test = prepared.test
    if len(test):
        emit(PhaseChanged(phase="evaluating", message=f"test split: {len(test)} rows"))
        predicted = predict_arrays(model, test.x)
        if prepared.signature.task == "classification":
            result.test_metrics = classification_metrics(test.y, predicted, prepared.class_names)
            if predicted.shape[1] == 1:
                labels = (predicted[:, 0] >= 0.5).astype(int)
            else:
                labels = predicted.argmax(axis=1)
            result.test_metrics["sample"] = sample_points(test.y, labels)
        else:
            result.test_metrics = regression_metrics(test.y, predicted)
            result.test_metrics["sample"] = sample_points(test.y, predicted)
        # The trivial model knows the training labels only (train + validation, as the refit).
        seen = np.concatenate([prepared.train.y, prepared.validation.y])
        result.baseline_metrics = baseline_metrics(prepared.signature.task, seen, test.y,
                                                   tuple(prepared.class_names))
    shortfall = baseline_shortfall(result.test_metrics, result.baseline_metrics)
    emit(PhaseChanged(phase="exporting", message="writing and verifying best.h5"))
    metadata = build_metadata(
        task=prepared.signature.task,
        target=prepared.profile.target,
        input_kind=prepared.input_kind,
        inputs={k: list(v) for k, v in prepared.signature.inputs.items()},
        feature_schema=prepared.schema.to_dict() if prepared.schema else None,
        class_names=list(prepared.class_names),
        test_metrics={k: v for k, v in result.test_metrics.items() if k != "sample"},
        best_hyperparameters=result.best_hyperparameters,
        best_trial_id=result.best_trial_id,
        objective={"name": session.resolved.objective, "direction": session.resolved.direction,
                   "score": result.best_score},
        search_space=session.space.to_dict(),
        signature=prepared.signature.to_dict(),
        dataset={"path": str(config.data_path), "fingerprint": prepared.profile.fingerprint,
                 "rows": prepared.profile.rows, "dropped_rows": prepared.profile.dropped_target_rows,
                 "csv_format": dict(prepared.profile.csv_format)},
        refit=result.refits > 0,
        refits=result.refits,
        baseline_metrics=dict(result.baseline_metrics),
        beats_baseline=None if not result.baseline_metrics else shortfall is None,
        baseline_note=shortfall or "",
    )
    sample = _sample(test if len(test) else prepared.validation)
    best_dir = Path(config.project_dir) / BEST_DIR
    best_dir.mkdir(parents=True, exist_ok=True)
    np.savez(best_dir / SAMPLE_FILE, **sample)  # type: ignore[arg-type]  # numpy's stub reads **kwds as allow_pickle
    formats = ["h5", "keras"] if config.export_keras else ["h5"]
    written = export_model(model, best_dir / "best.h5", metadata, sample, formats)
    result.exported = list(written["files"])
    if config.export_path:
        extra = export_model(model, config.export_path, metadata, sample, formats)
        result.exported = list(extra["files"]) + result.exported


def export_best_from_checkpoint(project_dir: str) -> None:
    """Writes ``best/best.h5`` for a search that stopped before its refit and export."""
    document = read_search_document(project_dir)
    if document is None:
        raise ProjectError(f"{project_dir}: not a search project (no {CONFIG_FILE})")
    config = document.config.replace(fresh=False, export_path=None)
    session = _Session(config, lambda event: None)
    tuner = session.tuner()
    best = best_trials(tuner)
    if not best:
        raise ProjectError(f"{project_dir}: no trial has finished yet, so there is nothing to export")
    result = SearchResult("stopped", best[0].trial_id, float(best[0].score), dict(best[0].hyperparameters.values))
    _finish(session, tuner.load_model(best[0]), best[0], result, lambda event: None)


def export_project(project_dir: str, dest: str, formats: Sequence[str] = ("h5",)) -> dict[str, Any]:
    """Exports a project's best model to ``dest`` (for the window's *Export best model…*).

    Uses the refitted best model the search saved (``best/best.h5``); for a search that was
    stopped before its refit, it rebuilds the best trial's model from KerasTuner's checkpoint.
    The result is reloaded and checked against the source before success is reported.
    """
    import keras

    from automl_studio.engine.export.model_info import read_metadata
    from automl_studio.engine.export.writers import export_model

    source = Path(project_dir) / "best" / "best.h5"
    if not source.exists():
        export_best_from_checkpoint(project_dir)
    if not source.exists():
        raise ExportError(f"{project_dir}: no finished trial to export yet")
    metadata = read_metadata(source)
    model = keras.models.load_model(source, safe_mode=True)
    sample_path = source.parent / "sample_inputs.npz"
    if not sample_path.exists():
        raise ExportError(f"{sample_path}: no sample inputs stored to verify the export")
    with np.load(sample_path, allow_pickle=False) as stored:
        inputs = {k: stored[k] for k in stored.files}
    if not inputs:
        raise ExportError(f"{source}: no sample inputs stored to verify the export")
    return export_model(model, dest, metadata, inputs, formats)

