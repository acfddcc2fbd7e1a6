"""Running a search: data → space → KerasTuner → trials → refit → test metrics → export.

:func:`run_search` is the long piece of work behind the command line, the window and the tests:
a plain function with a listener (it calls it with :mod:`~automl_studio.engine.core.events`) and a
stop token (anything with ``is_set()``, checked at every batch). Running it again on the same
project directory resumes: completed trials are kept and the interrupted one is rerun.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.config import SearchConfig, SearchDocument
from automl_studio.engine.core.errors import ExportError, ProjectError, SpecError, UserError
from automl_studio.engine.core.events import (
    REFIT_TRIAL,
    BaselinesScored,
    BatchProgress,
    Broadcast,
    EpochEnded,
    Event,
    FinalistsScored,
    JsonLinesWriter,
    PhaseChanged,
    SearchFinished,
    SearchStarted,
    SearchWarning,
    TrialEnded,
)
from automl_studio.engine.core.objectives import Objective
from automl_studio.engine.data.features import Split
from automl_studio.engine.data.identity import (
    DataIdentity,
    data_identity,
    load_config_dataset,
    prepare_loaded,
)
from automl_studio.engine.search import distributed, oracle_server
from automl_studio.engine.search.defaults import (
    FIRST_REFIT_MARGIN,
    chosen_lookback,
    imbalance_space,
    lookback_space,
    resolve_defaults,
    target_space,
    target_transform_note,
)
from automl_studio.engine.search.project import (
    CONFIG_FILE,
    EVENTS_FILE,
    check_resume,
    check_worker_data,
    clear_project,
    read_events,
    read_search_document,
    write_search_document,
)
from automl_studio.engine.space.shapes import analyse, space_summary
from automl_studio.engine.space.templates import TEMPLATES, resolve_space
from automl_studio.engine.train import crossval
from automl_studio.engine.train.baselines import FOREST_UNFINISHED, BaselineRace, objective_value
from automl_studio.engine.train.ensemble import describe_ensemble
from automl_studio.engine.train.forest import prepared_candidate, reads_forest
from automl_studio.engine.train.forest_record import all_rows_words, describe_forest

BEST_DIR = "best"
SAMPLE_FILE = "sample_inputs.npz"
BASELINE_WAIT_S = 3.0  # the most the first trial waits for the baselines (they go on beside it)
BASELINE_LATE_WAIT_S = 60.0  # the most the end of a search waits for baselines still being fitted
FOREST_WAIT_SHARE = 0.25  # the most of the time left after the trials spent waiting for a forest candidate


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
    baselines: dict[str, Any] = field(default_factory=dict)  # the raced baselines (BaselinesScored.summary())
    ensemble: dict[str, Any] = field(default_factory=dict)  # trials and weights when the model is an ensemble
    forest: dict[str, Any] = field(default_factory=dict)  # the forest record when the model is a random forest
    # Where the exported model was trained again on all rows after the test: rows, members, of
    # (events.SearchFinished.all_rows).
    all_rows: dict[str, Any] = field(default_factory=dict)


class _Session:
    """One search's data, space and tuner, shared by search, resume and late export."""

    def __init__(self, config: SearchConfig, listener: Callable[[Event], None], stop: CancelToken | None = None) -> None:
        self.config, self.listener, self.stop = config, listener, stop
        self.chosen_because = ""  # why the finalists' folds chose the exported trial, for the result's message
        # The race's forest candidate (BaselineRace.candidate_result), and the forest record once
        # it is chosen over the networks (_forest_instead).
        self.forest_race: Any = None
        self.forest_won: dict[str, Any] = {}
        self.forest_on_folds = False  # the forest was scored on the finalists' folds (else: the validation split)
        self.forest_absence_said = False  # why there is no forest candidate was told (_candidate)
        # The model exported instead of the one the test split scores: the same refits or forest
        # trained again on all rows (SearchConfig.refit_all), and its record (SearchResult.all_rows).
        self.all_rows_model: Any = None
        self.all_rows: dict[str, Any] = {}
        self.in_twin = False  # a refit on all rows is training
        self.race_waited = 0.0  # seconds the end of the search waited for the baselines (and forest)
        listener(PhaseChanged(phase="loading", message=f"reading {config.data_path}"))
        dataset = load_config_dataset(config)
        self.prepared = prepare_loaded(dataset, config)
        self.profile = self.prepared.profile
        # A forecast's test windows' times and series, for the Results page's plot over time.
        self.test_times: tuple[np.ndarray, tuple[str, ...], tuple[str, ...]] | None = None
        if self.prepared.forecast is not None:
            from automl_studio.engine.data.timeseries import ForecastSpec, window_times

            self.test_times = window_times(dataset, ForecastSpec.from_dict(self.prepared.forecast),
                                           self.prepared.split_indices[2])
        space = config.space
        if self.prepared.forecast is not None and _cannot_read_windows(space):
            # Windows of a time series: the forecast template fits them (a spec without a
            # sequence input, as the window's editor picks from the columns, cannot read them).
            if isinstance(space, Mapping):
                listener(SearchWarning(message="the network has no sequence input for the time series' "
                                               "windows; the forecast template is searched instead"))
            space = "forecast"
        self.space = lookback_space(target_space(imbalance_space(
            resolve_space(space, self.prepared.signature.inputs.keys(), self.prepared.signature.train_rows,
                          self.prepared.signature.inputs.get("image"), self.prepared.signature.categorical_levels),
            self.prepared), self.prepared), self.prepared)
        analysis = analyse(self.space, self.prepared.signature)
        if analysis.issues:
            first = analysis.issues[0]
            raise SpecError(f"the search space is invalid: {first.message}", node=first.node)
        self.resolved = resolve_defaults(config, self.prepared, self.space)

    def tuner(self) -> Any:
        # KerasTuner (and TensorFlow) load only once the data and the spec have been checked.
        from automl_studio.engine.search.tuner import make_tuner

        return make_tuner(self.config, self.space, self.prepared, self.resolved, self.listener, self.stop)


def _cannot_read_windows(space: Any) -> bool:
    """Whether ``space`` is ``auto``, a built-in template, or a spec with no input for windows
    (the window's editor sends the template it chose for the columns: a table's or text's)."""
    if isinstance(space, str):
        return space == "auto" or space in TEMPLATES
    nodes = space.get("nodes", []) if isinstance(space, Mapping) else []
    return not any(isinstance(node, Mapping) and node.get("type") == "Input"
                   and (node.get("params") or {}).get("source") == "sequence" for node in nodes)


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
        if not isinstance(event, BatchProgress):
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

    from automl_studio.engine.search.tuner import (
        RECYCLE,
        SearchDone,
        best_trials,
        trial_failure_reason,
    )
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
                "max_trials": resolved.max_trials, "max_epochs": tuner.hypermodel.epochs_for(),
                "cv_folds": resolved.cv_folds}
    emit(SearchStarted(profile=prepared.profile.to_dict(),
                       space_summary=space_summary(session.space, prepared.signature),
                       settings=settings, project_dir=str(project), resumed=resuming, completed_trials=done))
    for note in prepared.notes:
        emit(SearchWarning(message=note))
    raced: dict[str, Any] = {}
    kept: list[BaselinesScored] = []
    if resuming:  # a resumed (or recycled) search keeps the baselines its split already has
        kept = [e for e in read_events(project) if isinstance(e, BaselinesScored) and e.objective == resolved.objective
                and e.forest_skipped != FOREST_UNFINISHED]  # a forest cut short by the end is raced again
        raced.update(kept[-1].summary() if kept else {})
    wants_forest = config.forest and config.refit and reads_forest(prepared.signature)
    candidate = prepared_candidate if wants_forest else None
    race = None if role == "worker" or raced else BaselineRace(
        prepared, resolved.objective, resolved.direction, candidate=candidate)
    # A resumed search fits its forest candidate again (it is not saved), beside the kept baselines.
    session.forest_race = race if race is not None or role == "worker" or candidate is None else BaselineRace(
        prepared, resolved.objective, resolved.direction, candidate=candidate, scored=kept[-1])

    def collect_baselines(wait: float, final: bool = False) -> dict[str, Any]:
        # Sent from this thread, where every listener expects its events.
        nonlocal race
        outcome = race.result(wait, final=final) if race is not None else None
        if isinstance(outcome, BaselinesScored):
            emit(outcome)
            raced.update(outcome.summary())
        elif isinstance(outcome, str) and outcome:
            emit(SearchWarning(message=outcome))
        if outcome is not None or wait >= BASELINE_LATE_WAIT_S or final:
            race = None
        return raced

    collect_baselines(BASELINE_WAIT_S)
    callbacks = []
    if config.tensorboard:
        if importlib.util.find_spec("tensorflow") is not None:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(project / "tensorboard"), write_graph=False))
        else:
            emit(SearchWarning(message="TensorBoard logs need TensorFlow installed; skipped"))
    scored_by = (f", each scored by {resolved.cv_folds}-fold cross-validation of {len(prepared.train) + len(prepared.validation)} "
                 "train+validation rows (the mean of the folds' best; the curves show the first fold)"
                 if resolved.cv_folds else "")
    emit(PhaseChanged(phase="searching", message=f"{config.tuner} search, up to {resolved.max_trials} trials{scored_by}"))
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
    except SearchDone as exc:
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
        reason = trial_failure_reason(last[-1].message) if last else str(exc)
        message = (f"{config.max_consecutive_failures} trials failed in a row; the last one "
                   f"({last[-1].trial_id if last else '?'}) said: {reason}")
    # A stop must land at once and a spent budget has no time to wait: they take what is done;
    # a search that completed early waits for them only as long as its time budget allows.
    late_wait = BASELINE_LATE_WAIT_S if status in ("completed", "failed") else 0.0
    if deadline is not None:
        late_wait = min(late_wait, max(0.0, deadline - tuner.studio_export_reserve() - time.monotonic()))
    waiting = time.monotonic()
    collect_baselines(late_wait, final=True)
    session.race_waited = time.monotonic() - waiting
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
        why = f" (trial {failed[-1].trial_id}: {trial_failure_reason(failed[-1].message)})" if failed else ""
        if status == "budget" and deadline is not None:
            message = (f"the time budget ({config.time_budget_s:g} s, counted from the command's start) ran out "
                       f"before any trial finished, so no model was exported: {searching_at - started:.0f} s "
                       f"went to starting up and preparing the data, and the end of the budget is kept for "
                       f"the export; give a larger time budget{why}")
        result = SearchResult(status if status != "completed" else "failed",
                              message=message or f"no trial completed, so there is no model to export{why}",
                              baselines=dict(raced))
        emit(SearchFinished.from_result(result))
        return result
    best_trial = best[0]
    result = SearchResult(status, best_trial.trial_id, float(best_trial.score),
                          dict(best_trial.hyperparameters.values), message=message, baselines=dict(raced))
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
    refit_epochs: list[tuple[int, Mapping[str, float]]] = []  # the Results page's refit curves
    # The refits on all rows (refit_all) are not the model the Results page's evaluation measures.
    emit.add(lambda event: refit_epochs.append((event.epoch, event.metrics))
             if isinstance(event, EpochEnded) and event.trial_id == REFIT_TRIAL and not session.in_twin else None)
    ensembled = None
    if config.ensemble and resolved.cv_folds:
        # Its weights are chosen on the validation split, which the folds' checkpoints trained on.
        emit(SearchWarning(message="no ensemble: the trials were cross-validated, so their checkpoints trained on "
                                   "most of the validation rows the ensemble would be weighed on; use --cv-folds 0 "
                                   "to ensemble"))
    elif config.ensemble and status in ("completed", "budget") and not (stop is not None and stop.is_set()):
        ensembled = _ensemble_model(session, tuner, best, emit, deadline, refit=do_refit, stop=stop)
    if ensembled is not None:
        model, result.ensemble = ensembled
        exported = f"the exported model is an {describe_ensemble(result.ensemble)}"
    else:
        if deadline is not None:  # the ensemble's look at the trials took some of it
            remaining = deadline - time.monotonic() - tuner.studio_export_reserve()
        model, result.refits, exported, chosen = _final_model(session, tuner, best_trial, do_refit, remaining, emit,
                                                              stop, deadline)
        result.forest = dict(session.forest_won)
        result.all_rows = dict(session.all_rows)
        if chosen is not best_trial:
            because = session.chosen_because or "chosen by the finalists' cross-validation"
            exported = "; ".join(filter(None, [
                f"trial {chosen.trial_id} is exported, not trial {best_trial.trial_id} (the validation split's "
                f"best): {because}",
                exported]))
            best_trial = chosen
            result.best_trial_id, result.best_score = chosen.trial_id, float(chosen.score)
            result.best_hyperparameters = dict(chosen.hyperparameters.values)
    if result.all_rows:
        exported = "; ".join(filter(None, [exported, all_rows_words(result.all_rows)]))
    if exported:
        result.message = f"{result.message}; {exported}" if result.message else exported
    # The permutation importance may use half of what is kept for the end of the command.
    evaluated_by = deadline - 0.5 * tuner.studio_export_reserve() if deadline is not None else None
    _finish(session, model, best_trial, result, emit, refit_epochs=refit_epochs, deadline=evaluated_by)
    emit(SearchFinished.from_result(result))
    return result


OWN_WEIGHTS = "exported the best trial's own weights"
ENSEMBLE_LOAD_MARGIN = 1.5  # a candidate's measured load and prediction, times this, must fit in its share
# The most of the time left after the trials (less the export's reserve) that loading candidates
# may take: the rest stays planned for the folds and refits, which run if the ensemble loses.
ENSEMBLE_SHARE = 0.25


def _ensemble_model(session: _Session, tuner: Any, best: Sequence[Any], emit: Callable[[Event], None],
                    deadline: float | None, *, refit: bool = False,
                    stop: CancelToken | None = None) -> tuple[Any, dict[str, Any]] | None:
    """A weighted ensemble of the best different trials, if it beats the best trial on validation.

    The best :data:`~automl_studio.engine.train.ensemble.ENSEMBLE_CANDIDATES` completed trials
    are loaded from their own checkpoints (nothing is trained for the choice) and predict the validation split;
    greedy selection (:func:`~automl_studio.engine.train.ensemble.greedy_selection`) weighs
    them by the search's objective. Under a time budget, loading takes at most
    :data:`ENSEMBLE_SHARE` of the time left before ``deadline`` less the export's reserve: a
    candidate is loaded only while its load and prediction (the slowest measured so far, times
    :data:`ENSEMBLE_LOAD_MARGIN`) fit in that share. Candidates whose inputs differ from the
    best trial's are left out.

    With ``refit``, each chosen member is then retrained on train+validation for its own best
    epoch (:func:`_refit_members`), as the single best configuration is without an ensemble:
    a checkpoint saw a fifth fewer rows (AutoGluon's ``refit_full`` does the same for its
    ensembles). A member whose refit does not fit in the time keeps its checkpoint.

    Returns:
        The ensemble model (:func:`~automl_studio.engine.train.hypermodel.weighted_models`) and
        its record (``trials``, ``weights``, ``objective``, ``score``, ``single_score``,
        ``seconds``, ``refitted``: the members retrained on train+validation), or ``None`` where
        fewer than two candidates were loaded or the best single trial scores as well on
        validation.
    """
    from automl_studio.engine.train.ensemble import (
        ENSEMBLE_CANDIDATES,
        ENSEMBLE_MEMBER_PREFIX,
        FORCE_ENSEMBLE,
        forced,
        greedy_selection,
    )
    from automl_studio.engine.train.hypermodel import predict_arrays, weighted_models

    prepared, resolved = session.prepared, session.resolved
    candidates = list(best[:ENSEMBLE_CANDIDATES])
    if len(candidates) < 2 or not len(prepared.validation):
        return None
    emit(PhaseChanged(phase="ensembling", message=(
        f"weighing the best {len(candidates)} trials' validation predictions for an ensemble")))
    started = time.monotonic()
    slowest = tuner.studio_model_start()
    share_ends = (started + ENSEMBLE_SHARE * (deadline - started - tuner.studio_export_reserve())
                  if deadline is not None else None)
    models: list[Any] = []
    trials: list[Any] = []
    predictions: list[np.ndarray] = []
    shapes: dict[str, tuple[Any, ...]] | None = None
    for trial in candidates:
        if share_ends is not None:
            if share_ends - time.monotonic() < ENSEMBLE_LOAD_MARGIN * slowest:
                emit(PhaseChanged(phase="ensembling", message=(
                    f"no time left to load more trials for the ensemble ({len(models)} loaded)")))
                break
        began = time.monotonic()
        try:
            model = tuner.load_model(trial)
        except (OSError, ValueError) as exc:  # a checkpoint gone or unreadable: leave the trial out
            emit(SearchWarning(message=f"trial {trial.trial_id} left out of the ensemble: its checkpoint "
                                       f"did not load ({exc.__class__.__name__})"))
            continue
        inputs = {name: tuple(tensor.shape[1:]) for name, tensor in model.input.items()}
        if shapes is not None and inputs != shapes:
            continue  # another input layout (a searched image size): it cannot share the inputs
        shapes = shapes or inputs
        predictions.append(predict_arrays(model, prepared.validation.x))
        models.append(model)
        trials.append(trial)
        slowest = max(slowest, time.monotonic() - began)
    if len(models) < 2:
        return None
    try:
        selection = greedy_selection(predictions, prepared.validation.y, resolved.rule,
                                     prepared.signature.task)
    except ValueError as exc:
        emit(SearchWarning(message=f"no ensemble: the validation objective cannot be computed ({exc})"))
        return None
    if session.config.extra.get(FORCE_ENSEMBLE):
        selection = forced(selection, resolved.rule)
    seconds = time.monotonic() - started
    rule = resolved.rule
    if len(selection.members) < 2:
        emit(PhaseChanged(phase="ensembling", message=(
            f"no ensemble of the best {len(models)} trials beats trial {trials[selection.single].trial_id} on "
            f"validation ({rule.describe(selection.single_score)}; {seconds:.1f} s)")))
        return None
    members = [models[i] for i in selection.members]
    ids = [str(trials[i].trial_id) for i in selection.members]
    record = {"trials": ids, "weights": list(selection.weights), "objective": rule.name,
              "score": selection.score, "single_score": selection.single_score, "wins": selection.wins,
              "candidates": len(models), "seconds": round(seconds, 2), "refitted": []}
    emit(PhaseChanged(phase="ensembling", message=(
        f"{'an' if selection.wins else f'a forced ({FORCE_ENSEMBLE})'} ensemble of {len(ids)} trials ({', '.join(ids)}; weights "
        f"{', '.join(map(str, selection.weights))}) scores {rule.name} {selection.score:.4g} on validation "
        f"against {selection.single_score:.4g} for trial {ids[0]} alone ({seconds:.1f} s)")))
    if refit:
        members, record["refitted"] = _refit_members(session, tuner, [trials[i] for i in selection.members],
                                                     members, list(selection.weights), emit, stop, deadline)
    return weighted_models(members, list(selection.weights), [ENSEMBLE_MEMBER_PREFIX + i for i in ids],
                           prepared.signature), record


def _refit_members(session: _Session, tuner: Any, trials: Sequence[Any], models: Sequence[Any],
                   weights: Sequence[int], emit: Callable[[Event], None], stop: CancelToken | None,
                   deadline: float | None) -> tuple[list[Any], list[str]]:
    """Each ensemble member retrained on train+validation for its own best epoch, heaviest first.

    A member is retrained only where its refit (its measured training seconds per epoch, for
    the epochs it will run, on train+validation, plus a model's start-up, times 1.2) fits before
    ``deadline`` less the export's reserve and a start-up per further member; a refit cut by
    the budget or a stop is discarded, and ends the retraining.
    A member that trained in two phases (a backbone) keeps its checkpoint, as without an ensemble.

    Returns:
        The members in the given order (a refit where one finished, else the checkpoint in
        ``models``) and the ids of the trials retrained.
    """
    from automl_studio.engine.train.hypermodel import BudgetSpent, SearchStopped

    hypermodel = tuner.hypermodel
    both = _merge(session.prepared.train, session.prepared.validation)
    # The end of the command evaluates and saves every member: each beyond the first costs a
    # model's start-up more than the export's reserve (sized for one network) allows.
    refits_deadline = (deadline - tuner.studio_export_reserve() - (len(trials) - 1) * tuner.studio_model_start()
                       if deadline is not None else None)
    refitted: dict[int, Any] = {}
    order = sorted(range(len(trials)), key=lambda i: (-weights[i], i))
    for done, i in enumerate(order):
        trial = trials[i]
        if hypermodel.has_second_phase(trial.hyperparameters):
            continue
        epochs = tuner.studio_refit_epochs(trial)
        if refits_deadline is not None:
            # A trial timed before a resume or on a worker: as long as the best trial's refit.
            needed = tuner.studio_trial_refit_estimate(trial, epochs) or tuner.studio_refit_estimate(epochs=epochs)
            if refits_deadline - time.monotonic() < 1.2 * needed:
                emit(PhaseChanged(phase="refitting", message=(
                    f"ensemble member {trial.trial_id} is not retrained on train+validation (~{needed:.0f} s, not "
                    "left in the time budget); it keeps its own weights")))
                continue  # a lighter member may still fit
        emit(PhaseChanged(phase="refitting", message=(
            f"retraining ensemble member {trial.trial_id} on train+validation for {epochs} epochs "
            f"({done + 1} of {len(order)})")))
        try:
            refitted[i] = _refit(session, hypermodel, trial.hyperparameters, both, epochs,
                                 session.config.seed + done, emit, stop, refits_deadline)
        except (SearchStopped, BudgetSpent) as exc:
            why = "stopped by the user" if isinstance(exc, SearchStopped) else "the time budget"
            emit(SearchWarning(message=f"the refit of ensemble member {trial.trial_id} was cut short ({why}); it "
                                       "is discarded and the member keeps its own weights"))
            break
    return [refitted.get(i, models[i]) for i in range(len(trials))], [str(trials[i].trial_id) for i in sorted(refitted)]


def _refit(session: _Session, hypermodel: Any, hp: Any, both: Split, epochs: int, seed: int,
           emit: Callable[[Event], None], stop: CancelToken | None, deadline: float | None) -> Any:
    """One network of ``hp`` trained on ``both`` (train+validation) for ``epochs``, seeded
    ``seed``; a cut at a batch's end past ``deadline`` raises
    :class:`~automl_studio.engine.train.hypermodel.BudgetSpent` (a stop: ``SearchStopped``)."""
    import keras

    from automl_studio.engine.train.hypermodel import TrialCallback, fit_arrays, schedule_callbacks

    batch = hypermodel._batch_size(hp)
    # The same seed gives the same refit, whether or not folds ran before it.
    keras.utils.set_random_seed(seed)
    model = hypermodel.build(hp)
    fit_arrays(model, both.x, both.y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[
        TrialCallback("refit", emit, stop, deadline, math.ceil(len(both) / batch), hard_deadline=True),
        *schedule_callbacks(hypermodel.training(hp), validation=False)],
        class_weight=hypermodel.class_weight(hp, both.y))
    return model


def _final_model(session: _Session, tuner: Any, best_trial: Any, refit: bool, remaining: float,
                 emit: Callable[[Event], None], stop: CancelToken | None,
                 deadline: float | None) -> tuple[Any, int, str, Any]:
    """Retrains the best configuration on train+validation for its best number of epochs.

    What runs is planned first from the trials' measured seconds per epoch to fit in
    ``remaining`` seconds (:meth:`~.tuner.TrialEvents.studio_plan`): the number of epochs is
    the median of the folds' best epochs where the trials were scored on folds (``--cv-folds``,
    :meth:`~.tuner.TrialEvents.studio_refit_epochs`), else on a small table it comes from
    cross-validation after the search (:mod:`.crossval`) on as many folds as fit; the
    model averages as many refits (of ``resolved.refits``, seeded ``seed``, ``seed + 1``…) as
    fit, a refit after the first starting only if the last one's measured time is left. A refit
    cut by the budget or a stop is discarded: the model is the finished refits, else the best
    trial's own checkpoint, never a half-trained refit.

    On a small table the folds also score the runner-up finalists
    (:meth:`~.tuner.TrialEvents.studio_finalists`), and the smallest network within a standard
    error of the best mean fold score is retrained instead (:func:`_cross_validated_finalists`).

    Returns:
        The model, how many refits it averages (0: the trial's own weights), where it differs
        from what was asked a sentence saying which model is exported and why, and the trial
        exported (``best_trial`` unless the folds chose another finalist).
    """
    from automl_studio.engine.train.hypermodel import BudgetSpent, SearchStopped, average_models

    prepared = session.prepared
    if not refit:
        return tuner.load_model(best_trial), 0, "", best_trial
    if tuner.hypermodel.has_second_phase(best_trial.hyperparameters):
        return tuner.load_model(best_trial), 0, (
            f"{OWN_WEIGHTS}: its backbone trained in two phases, which a refit does not replay"), best_trial
    race = session.forest_race
    if race is not None and race.candidate_wanted and race.candidate_pending and remaining > 0:
        # A forest still being fitted beside the search may have a quarter of the time left, up to
        # what the end of the search did not already wait for it (a spent budget waited nothing);
        # a stop ends the wait.
        waited = time.monotonic()
        until = waited + min(BASELINE_LATE_WAIT_S - session.race_waited, FOREST_WAIT_SHARE * remaining)
        while race.candidate_pending and time.monotonic() < until and not (stop is not None and stop.is_set()):
            race.candidate_result(min(0.25, until - time.monotonic()))
        remaining -= time.monotonic() - waited
    plan = tuner.studio_plan(remaining, final=True)
    # Without folds after the search (a larger table, or no time for them), the validation split
    # decides; with them, the forest runs on the best trial's folds (_cross_validated_finalists).
    if not plan.folds and not session.resolved.cv_folds:
        won = _forest_instead(session, tuner, best_trial, emit)
        if won is not None:
            _forest_twin(session, deadline - tuner.studio_export_reserve() if deadline is not None else None, emit)
            return won, 0, f"the exported model is a {describe_forest(session.forest_won)}", best_trial
    if math.isfinite(remaining):  # without a time budget everything runs
        emit(PhaseChanged(phase="validating" if plan.folds else "refitting", message=plan.describe()))
    if not plan.refits:
        return tuner.load_model(best_trial), 0, (
            f"{OWN_WEIGHTS}: a refit on train+validation would not finish in the time budget"), best_trial
    epochs = tuner.studio_refit_epochs(best_trial)
    hypermodel = tuner.hypermodel
    both = _merge(prepared.train, prepared.validation)
    count = plan.wanted_refits
    members: list[Any] = []
    # A refit is cut at a batch's end where the end of the command (evaluation, export) begins.
    refits_deadline = deadline - tuner.studio_export_reserve() if deadline is not None else None
    every = _all_rows(session, both)
    twins: list[Any] = []  # the refits trained again on all rows (refit_all), for the export
    try:
        if plan.folds:
            # The first finalist's folds may not eat into the refits' planned time; the others
            # may, down to one refit of the longest of them (a second finalist outweighs the
            # averaging of refits: tuned-on iris, wine and breast_cancer at 150 s scored one
            # finalist where five refits then took 25-30 s).
            finalists = tuner.studio_finalists() or [best_trial]
            folds_deadline = spare_deadline = None
            if refits_deadline is not None:
                folds_deadline = refits_deadline - plan.refit_seconds
                one_refit = max(tuner.studio_trial_refit_estimate(t, tuner.hypermodel.epochs_for())
                                or tuner.studio_refit_estimate(epochs=tuner.hypermodel.epochs_for()) for t in finalists)
                spare_deadline = max(folds_deadline, refits_deadline - FIRST_REFIT_MARGIN * one_refit)
            best_trial, epochs = _cross_validated_finalists(session, tuner, finalists, both, epochs, plan.folds,
                                                            emit, stop, folds_deadline, planned=plan.finalists,
                                                            spare_deadline=spare_deadline)
            # The folds ended before the forest's turn: the split decides.
            won = None if session.forest_on_folds else _forest_instead(session, tuner, best_trial, emit)
            if session.forest_won:
                won = won if won is not None else _forest_model(session)
                _forest_twin(session, refits_deadline, emit)
                return won, 0, f"the exported model is a {describe_forest(session.forest_won)}", best_trial
        if refits_deadline is not None:
            # The folds may have chosen a longer refit (or another trial) than the plan assumed.
            needed = (tuner.studio_trial_refit_estimate(best_trial, epochs)
                      or tuner.studio_refit_estimate(epochs=epochs))
            if refits_deadline - time.monotonic() < needed:
                return tuner.load_model(best_trial), 0, (
                    f"{OWN_WEIGHTS}: a refit on train+validation for {epochs} epochs (~{needed:.0f} s) would "
                    "not finish in the time budget"), best_trial
        took = took_all = 0.0
        for index in range(count):
            which = f" (refit {index + 1} of {count}, averaged in the exported model)" if count > 1 else ""
            # Room for one more refit (and its twin on all rows) as long as the last ones took
            # (measured now, on this machine).
            needs = 1.2 * (took + (took_all if len(twins) == len(members) else 0.0))
            if members and refits_deadline is not None and refits_deadline - time.monotonic() < needs:
                emit(PhaseChanged(phase="refitting", message=(
                    f"no time left for refit {index + 1} of {count}; the model averages {len(members)}")))
                break
            emit(PhaseChanged(phase="refitting", message=(
                f"retraining trial {best_trial.trial_id} on train+validation for {epochs} epochs{which}")))
            started = time.monotonic()
            members.append(_refit(session, hypermodel, best_trial.hyperparameters, both, epochs,
                                  session.config.seed + index, emit, stop, refits_deadline))
            took = time.monotonic() - started
            if every is not None and len(twins) == index:
                started = time.monotonic()
                twin = _twin(session, hypermodel, best_trial.hyperparameters, every, epochs, session.config.seed + index,
                             took * len(every) / len(both), emit, stop, refits_deadline, which)
                if twin is not None:
                    twins.append(twin)
                    took_all = time.monotonic() - started
                elif stop is not None and stop.is_set():
                    break
    except (SearchStopped, BudgetSpent) as exc:
        stopped = isinstance(exc, SearchStopped)
        why = "was stopped" if stopped else "did not finish in the time budget"
        cut = f"cut short ({'stopped by the user' if stopped else 'the time budget'}); it is discarded and"
        if not members:
            emit(SearchWarning(message=f"the refit was {cut} the best trial's own weights are exported"))
            return tuner.load_model(best_trial), 0, f"{OWN_WEIGHTS}: the refit on train+validation {why}", best_trial
        emit(SearchWarning(message=f"refit {len(members) + 1} of {count} was {cut} the model averages the "
                                   f"{len(members)} that finished"))
    note = f"the exported model averages {len(members)} of {count} refits" if len(members) < count else ""
    if twins and every is not None:
        # Each refit that has a twin on all rows is exported as that twin.
        exported = twins + members[len(twins):]
        session.all_rows_model = exported[0] if len(exported) == 1 else average_models(exported, prepared.signature)
        session.all_rows = {"rows": len(every), "test_rows": len(prepared.test), "members": len(twins),
                            "of": len(members)}
    if len(members) == 1:
        return members[0], 1, note, best_trial
    return average_models(members, prepared.signature), len(members), note, best_trial


def _all_rows(session: _Session, both: Split | None = None) -> Split | None:
    """Train+validation+test (``both``: train+validation, where it is already merged), where the
    exported model is trained again on all rows after the test (``SearchConfig.refit_all``) and
    there are test rows; else None."""
    prepared = session.prepared
    if not (session.config.refit_all and len(prepared.test)):
        return None
    return _merge(both if both is not None else _merge(prepared.train, prepared.validation), prepared.test)


def _twin(session: _Session, hypermodel: Any, hp: Any, every: Split, epochs: int, seed: int, expected: float,
          emit: Callable[[Event], None], stop: CancelToken | None, deadline: float | None, which: str) -> Any:
    """The refit of ``hp`` seeded ``seed`` trained again on ``every`` row (the test split's too) for the
    same ``epochs``, where it should finish (``expected`` seconds, its train+validation refit's
    measured time scaled by the rows) before ``deadline``; else, or where it is cut short, None
    (the train+validation refit is exported in its place)."""
    from automl_studio.engine.train.hypermodel import BudgetSpent, SearchStopped

    if deadline is not None and deadline - time.monotonic() < 1.2 * expected:
        emit(PhaseChanged(phase="refitting", message=(
            f"no time left to train the refit again on all {len(every)} rows (~{expected:.0f} s){which}; the "
            "exported refit is the one the test split scores")))
        return None
    emit(PhaseChanged(phase="refitting", message=(
        f"training the same refit again on all {len(every)} rows, the test split's included, for {epochs} "
        f"epochs{which}")))
    session.in_twin = True
    try:
        return _refit(session, hypermodel, hp, every, epochs, seed, emit, stop, deadline)
    except (SearchStopped, BudgetSpent) as exc:
        why = "stopped by the user" if isinstance(exc, SearchStopped) else "the time budget"
        emit(SearchWarning(message=f"the refit on all rows was cut short ({why}); it is discarded and the "
                                   "refit on train+validation is exported in its place"))
        return None
    finally:
        session.in_twin = False


def _cross_validated_finalists(session: _Session, tuner: Any, finalists: Sequence[Any], both: Split, epochs: int,
                               folds: int, emit: Callable[[Event], None], stop: CancelToken | None,
                               deadline: float | None, planned: int | None = None,
                               spare_deadline: float | None = None) -> tuple[Any, int]:
    """The trial to export and its refit's length, from k-fold cross-validation of ``finalists``.

    The first finalist (the validation split's best) runs on at most ``folds`` of
    :data:`~.crossval.FOLDS` folds, each started only if the last one's measured time is left
    before ``deadline``; each further finalist (up to ``spare_deadline`` where given, a later
    one that leaves fewer refits their time) runs on the same folds (the same rows,
    :func:`~.crossval.fold_indices` of the search's seed), and only if they should all finish
    in time (the first finalist's measured folds, scaled by the two trials' measured seconds per
    epoch); a finalist cut short, or with a fold that reported no finite score, is left out, and
    after a cut no further one starts. ``planned``: how many finalists the plan made room for
    (default: all); the others run only where those left the time. The chosen finalist
    (:func:`~.crossval.choose`: the smallest network within one standard error of the best mean
    fold score whose folds spread no wider) is refitted for the median of its folds' best epochs; with
    fewer than two finished folds, the first finalist and ``epochs`` (its validation split's best).
    Emits :class:`~automl_studio.engine.core.events.FinalistsScored` when more than one finalist
    was scored.
    """
    from automl_studio.engine.train.hypermodel import (
        BudgetSpent,
        TrialCallback,
        fit_arrays,
        schedule_callbacks,
    )

    hypermodel = tuner.hypermodel
    resolved = session.resolved
    rule = resolved.rule
    best_trial = finalists[0]
    planned = len(finalists) if planned is None else max(1, planned)
    fit = f" ({folds} of the folds fit in the time)" if folds < crossval.FOLDS else ""
    named = finalists[1:planned]
    others = (f" and of {len(named)} other finalists ({', '.join(str(t.trial_id) for t in named)}), "
              "to choose which one to export and " if named else ", to choose ")
    emit(PhaseChanged(phase="validating", message=(
        f"{crossval.FOLDS}-fold cross-validation of trial {best_trial.trial_id}{others}how long to retrain it, "
        f"on {len(both)} rows{fit}")))
    labels = both.y if session.prepared.signature.task == "classification" and np.ndim(both.y) == 1 else None
    results: dict[str, crossval.CrossValidation] = {}
    for index, trial in enumerate(finalists):
        hp = trial.hyperparameters
        limit = spare_deadline if index and spare_deadline is not None else deadline
        if index:
            first = results[str(best_trial.trial_id)]
            folds = len(first.fold_seconds)  # the folds it ran
            if stop is not None and stop.is_set():
                break
            if limit is not None:
                # The first finalist's folds as measured now, scaled by how the trials' own measures compare.
                scale = tuner.studio_fold_estimate(None, trial) / max(1e-9, tuner.studio_fold_estimate(None, best_trial))
                needed = folds * scale * float(np.mean(first.fold_seconds))
                if limit - time.monotonic() < 1.1 * needed:
                    if index < planned:
                        emit(PhaseChanged(phase="validating", message=(
                            f"no time left to cross-validate trial {trial.trial_id} (~{needed:.0f} s)")))
                    break
            if index >= planned:
                emit(PhaseChanged(phase="validating", message=(
                    f"time is left: trial {trial.trial_id} is cross-validated too, on the same folds")))

        def callbacks(_fold: int, hp: Any = hp, limit: float | None = limit) -> list[Any]:
            return [TrialCallback("refit", lambda _event: None, stop, limit, None, hard_deadline=True),
                    *schedule_callbacks(hypermodel.training(hp), validation=True)]

        def may_start(fold: int, seconds: tuple[float, ...], folds: int = folds, limit: float | None = limit) -> bool:
            # Planned from the trials; then as long as the slowest finished fold (this machine, now).
            if fold >= folds:
                return False
            return limit is None or not seconds or limit - time.monotonic() >= 1.1 * max(seconds)

        def build(hp: Any = hp) -> Any:
            return hypermodel.build(hp)

        try:
            result = crossval.cross_validate(
                build, fit_arrays, both, objective=rule,
                epochs=hypermodel.epochs_for(), patience=hypermodel.patience_for(),
                batch_size=hypermodel._batch_size(hp), seed=session.config.seed, callbacks=callbacks,
                labels=labels, cut=(BudgetSpent,), may_start=may_start, min_folds=folds if index else 2)
        except (BudgetSpent, crossval.TooFewFolds):
            if not index:
                emit(SearchWarning(message="the time budget ended the cross-validation before two folds finished; "
                                           f"using the validation split's best epoch ({epochs})"))
                return best_trial, epochs
            emit(PhaseChanged(phase="validating", message=(
                f"the time budget cut the cross-validation of trial {trial.trial_id}; it is left out")))
            break
        except ValueError as exc:
            if not index:
                emit(SearchWarning(message=f"cross-validation gave no result ({exc}); using epoch {epochs}"))
                return best_trial, epochs
            emit(SearchWarning(message=f"cross-validation of trial {trial.trial_id} gave no result ({exc}); "
                                       "it is left out", trial_id=str(trial.trial_id)))
            continue
        if index and len(result.fold_scores) < folds:  # a fold without a finite score
            emit(SearchWarning(message=f"trial {trial.trial_id} scored on {len(result.fold_scores)} of {folds} "
                                       "folds; it is left out", trial_id=str(trial.trial_id)))
            continue
        results[str(trial.trial_id)] = result
        se = f" ± {result.se:.2g}" if result.se is not None else ""
        emit(PhaseChanged(phase="validating", message=(
            f"{len(result.fold_epochs)} of {crossval.FOLDS} folds in {sum(result.fold_seconds):.0f} s for trial "
            f"{trial.trial_id}: mean {resolved.objective} {result.score:.4g}{se} at the refit's length (the folds' best epochs: "
            f"{', '.join(map(str, result.fold_epochs))})")))
    # The forest takes the folds the best trial ran, even where it is the only finalist: on a
    # small table its validation split is a few dozen rows (held-out barley: 20).
    if str(best_trial.trial_id) in results:
        # Like a further finalist, the forest may take the spare time (held-out barley: its folds
        # take a second, but the networks' folds had spent the folds' share).
        forest = _forest_on_folds(session, both, labels, len(results[str(best_trial.trial_id)].fold_seconds),
                                  spare_deadline if spare_deadline is not None else deadline, emit)
        if forest is not None:
            results[FOREST_KEY] = forest
            session.forest_on_folds = True
    by_id = {str(t.trial_id): t for t in finalists}
    networks = {k: v for k, v in results.items() if k != FOREST_KEY}
    chosen_id = _choose_finalist(results, rule)
    unsteady = crossval.unsteady(networks, rule) if networks else []
    if chosen_id == FOREST_KEY:
        _emit_finalists(emit, resolved.objective, results, chosen_id, str(best_trial.trial_id), unsteady)
        forest = results[FOREST_KEY]
        top = crossval.best_mean(networks, rule) if networks else str(best_trial.trial_id)
        session.forest_won = _forest_record(session, f"{len(forest.fold_scores)}-fold cross-validation", forest.score,
                                            results[top].score if top in results else None)
        emit(PhaseChanged(phase="validating", message=(
            f"a random forest scores {resolved.objective} {forest.score:.4g} ± {forest.se or 0:.2g} on the same folds, "
            f"better than every network's mean (the best, trial {top}: {results[top].score:.4g} at its refit's "
            "length): the forest is exported, in Keras layers")))
        return best_trial, epochs
    chosen, result = by_id[chosen_id], results[chosen_id]
    if len(results) > 1:
        _emit_finalists(emit, resolved.objective, results, chosen_id, str(best_trial.trial_id), unsteady)
    said = f"; the validation split said {epochs}" if chosen is best_trial else ""
    among = ""
    if len(networks) > 1:
        top = crossval.best_mean(networks, rule)
        whose = f"trial {top}'s"
        if top == chosen_id:
            session.chosen_because = "the best mean fold score of the finalists"
            among = f", the best of {len(networks)} networks by the folds' mean,"
        else:
            session.chosen_because = "the smallest network within a standard error of the finalists' best mean fold score"
            among = (f", the smallest network ({result.parameters or '?'} weights) within a standard error of the "
                     f"best mean of {len(networks)} networks ({whose}),")
    passed = (f" (trial {', '.join(unsteady)}, smaller and within a standard error of the best mean, is passed over: "
              "its folds spread wider)" if unsteady else "")
    emit(PhaseChanged(phase="validating", message=(
        f"trial {chosen_id}{among} is refitted for {result.epochs} epochs (the median of its folds' best{said})"
        f"{passed}")))
    return chosen, result.epochs


FOREST_KEY = "forest"  # the random forest's key among the finalists (FinalistsScored.scores)


def _choose_finalist(results: Mapping[str, crossval.CrossValidation], rule: Objective) -> str:
    """The finalist to export: the forest (:data:`FOREST_KEY`) where its mean fold score is better
    than every network's, else the network :func:`~.crossval.choose` picks among the networks.

    The one-standard-error rule's parsimony is a network's count of weights, which says nothing of
    a forest's (its leaves are a lookup, not fitted weights): counted as weights, a forest with the
    best mean lost to any network within a standard error of it (held-out grunfeld seed 0 at
    ``ce3e3e4``: the forest's MSE 38.5 passed over for a network's 42.0, which scored test R² 0.93
    where the forest scores 0.96). It is not let win within a standard error either: measured
    against the small network the rule picks rather than the best mean, the forest was exported on
    tuned-on diabetes seed 1 and scored R² 0.29, where the linear network the rule picks there
    scored 0.42 (``2f9de51``).
    """
    networks = {key: value for key, value in results.items() if key != FOREST_KEY}
    if not networks:
        return FOREST_KEY
    forest = results.get(FOREST_KEY)
    best = networks[crossval.best_mean(networks, rule)]
    if forest is not None and rule.sort_key(forest.score) < rule.sort_key(best.score):
        return FOREST_KEY
    return crossval.choose(networks, rule)


def _emit_finalists(emit: Callable[[Event], None], objective: str, results: Mapping[str, crossval.CrossValidation],
                    chosen: str, validation_best: str, unsteady: Sequence[str]) -> None:
    folds = len(results[chosen].fold_scores)
    emit(FinalistsScored(
        objective=objective, folds=folds, chosen=chosen, validation_best=validation_best,
        scores={tid: {"score": r.score, "se": r.se, "fold_scores": list(r.fold_scores), "epochs": r.epochs,
                      "parameters": r.parameters, **({"unsteady": True} if tid in unsteady else {})}
                for tid, r in results.items()}))


def _forest_record(session: _Session, chosen_by: str, score: float | None, network_score: float | None) -> dict[str, Any]:
    candidate = _candidate(session)
    assert candidate is not None  # the forest was scored, so its candidate was there
    return candidate.record(chosen_by=chosen_by, network_score=network_score) | {"score": score}


def _candidate(session: _Session, emit: Callable[[Event], None] | None = None) -> Any:
    """The race's forest candidate (:class:`~automl_studio.engine.train.forest.ForestCandidate`), if
    it was fitted by now; else None, and (once, with ``emit``) why: a warning where fitting it
    failed, a note where it is still being fitted."""
    race = session.forest_race
    candidate = race.candidate_result(0.0) if race is not None else None
    if candidate is None and race is not None and emit is not None and not session.forest_absence_said:
        session.forest_absence_said = True
        if race.candidate_error:
            emit(SearchWarning(message=f"{race.candidate_error}; only the networks were scored"))
        elif race.candidate_pending:
            emit(PhaseChanged(phase="validating", message=(
                "the random forest is still being fitted beside the search; only the networks were scored")))
    return candidate


def _forest_instead(session: _Session, tuner: Any, best_trial: Any, emit: Callable[[Event], None]) -> Any:
    """The forest candidate as a Keras model where it beats ``best_trial`` on the validation split,
    or trails it by no more than a standard error of their rows' paired differences
    (:func:`_network_lead`), recording it in ``session.forest_won``; None where it does not or there
    is none. The trial's score is its best epoch's, itself the best of many trials: an edge within
    the split's noise is the network's luck of the draw as much as its merit (on held-out randhie,
    split seed 0, a network at val_rmse 4.374 against the forest's 4.416 scored R² 0.09 on the
    test rows, where the forest's shape scores 0.21)."""
    candidate = _candidate(session, emit)
    if candidate is None or candidate.score is None or best_trial.score is None:
        return None
    rule = session.resolved.rule
    network = float(best_trial.score)
    chosen_by = "the validation split"
    # The rows' terms of an RMSE are squared errors: the lead is in their units, not the score's.
    unit = ", in squared errors" if rule.name.endswith("rmse") else ""
    if rule.sort_key(candidate.score) >= rule.sort_key(network):
        lead = _network_lead(session, tuner, best_trial, candidate)
        if lead is None or lead[0] > lead[1]:
            noise = (f" by more than a standard error of the rows' differences ({lead[0]:.3g} > {lead[1]:.3g}{unit})"
                     if lead is not None else "")
            emit(PhaseChanged(phase="validating", message=(
                f"trial {best_trial.trial_id} ({rule.name} {network:.4g}) beats a random forest ({candidate.score:.4g}) "
                f"on the validation split{noise}; the network is exported")))
            return None
        chosen_by = ("the validation split, within a standard error of the best network (whose score is the best of "
                     "its trials' epochs)")
        emit(PhaseChanged(phase="validating", message=(
            f"trial {best_trial.trial_id} ({rule.name} {network:.4g}) leads a random forest ({candidate.score:.4g}) on "
            f"the validation split by less than a standard error of the rows' differences ({lead[0]:.3g} ≤ "
            f"{lead[1]:.3g}{unit}), and its score is the best of many trials and epochs: the forest is exported, in Keras "
            "layers")))
    else:
        emit(PhaseChanged(phase="validating", message=(
            f"a random forest ({rule.name} {candidate.score:.4g}) beats the best trial, {best_trial.trial_id} "
            f"({network:.4g}), on the validation split: the forest is exported, in Keras layers")))
    session.forest_won = _forest_record(session, chosen_by, candidate.score, network)
    return _forest_model(session)


def _network_lead(session: _Session, tuner: Any, best_trial: Any, candidate: Any) -> tuple[float, float] | None:
    """How far ``best_trial``'s checkpoint leads the forest candidate on the validation rows, as the
    mean of the rows' paired differences of the objective's terms
    (:func:`~automl_studio.engine.train.crossval.paired_lead`; positive: the network is better),
    and that mean's standard error; None where the objective has no rows' terms (ROC AUC) or the
    checkpoint does not load."""
    from automl_studio.engine.train.baselines import objective_rows
    from automl_studio.engine.train.evaluation import class_probabilities
    from automl_studio.engine.train.hypermodel import predict_arrays

    prepared, rule = session.prepared, session.resolved.rule
    validation, n_classes = prepared.validation, prepared.signature.n_classes
    if len(validation) < 2:  # no spread to measure
        return None
    try:
        output = predict_arrays(tuner.load_model(best_trial), validation.x)
    except (OSError, ValueError):  # a checkpoint gone or unreadable: the scores alone decide
        return None
    if n_classes:
        output = class_probabilities(output)
    network = objective_rows(rule.name, validation.y, output, n_classes)
    forest = objective_rows(rule.name, validation.y, candidate.validation_output, n_classes)
    if network is None or forest is None:
        return None
    lead = crossval.paired_lead(network, forest, rule.maximize)
    # A network that answers NaN on a row has no lead to measure: the scores alone decide.
    return lead if all(math.isfinite(v) for v in lead) else None


def _forest_model(session: _Session) -> Any:
    """The chosen forest candidate (fitted on train+validation) compiled into Keras layers."""
    from automl_studio.engine.train.forest import forest_model

    candidate = _candidate(session)
    prepared = session.prepared
    return forest_model(candidate.forest, prepared.signature, candidate.features, prepared.signature.n_classes,
                        smoothing=candidate.smoothing, one_unit_binary=True)


def _forest_twin(session: _Session, deadline: float | None, emit: Callable[[Event], None]) -> None:
    """The chosen forest fitted again, in the same shape with the same smoothing, on all rows (the
    test split's too) into ``session.all_rows_model``, where ``SearchConfig.refit_all`` asks for it
    and it should finish before ``deadline`` (its train+validation fit's measured seconds, scaled by
    the rows, and as long again for compiling it into Keras layers)."""
    from automl_studio.engine.train.baselines import FOREST_MAX_ROWS
    from automl_studio.engine.train.forest import fit_forest, forest_features, forest_model

    candidate, every = _candidate(session), _all_rows(session)
    if candidate is None or every is None or len(every) > FOREST_MAX_ROWS:
        return
    if session.stop is not None and session.stop.is_set():
        return
    prepared = session.prepared
    expected = 2 * candidate.seconds * len(every) / max(1, len(candidate.features))
    if deadline is not None and deadline - time.monotonic() < 1.2 * expected:
        emit(PhaseChanged(phase="refitting", message=(
            f"no time left to fit the forest again on all {len(every)} rows (~{expected:.0f} s); the exported "
            "forest is the one the test split scores")))
        return
    emit(PhaseChanged(phase="refitting", message=(
        f"fitting the same forest again on all {len(every)} rows, the test split's included")))
    signature = prepared.signature
    try:
        features = forest_features(every.x, signature)
        forest = fit_forest(signature.task, features, np.asarray(every.y), leaves=int(candidate.forest.max_leaf_nodes),
                            trees=len(candidate.forest.estimators_))  # seed 0, the candidate's
        session.all_rows_model = forest_model(forest, signature, features, signature.n_classes,
                                              smoothing=candidate.smoothing, one_unit_binary=True)
    except (ValueError, MemoryError) as exc:  # scikit-learn's refusals: the forest the test split scores stays
        emit(SearchWarning(message=f"the forest could not be fitted again on all rows ({exc}); the exported "
                                   "forest is the one the test split scores"))
        return
    session.all_rows = {"rows": len(every), "test_rows": len(prepared.test), "members": 1, "of": 1}


def _forest_on_folds(session: _Session, both: Split, labels: np.ndarray | None, folds: int,
                     deadline: float | None, emit: Callable[[Event], None]) -> crossval.CrossValidation | None:
    """The forest candidate's settings scored on the first ``folds`` folds the finalists ran, or
    None where there is no candidate, no time (its own fits, as measured, before ``deadline``) or
    no finite score."""
    from automl_studio.engine.train.forest import cross_validate_forest, forest_features

    candidate = _candidate(session, emit)
    if candidate is None or folds < 2:
        return None
    # A fold ~ the candidate's last fit (train+validation rows), as measured.
    if deadline is not None and deadline - time.monotonic() < folds * candidate.seconds:
        emit(PhaseChanged(phase="validating", message=(
            f"no time left to cross-validate a random forest (~{folds * candidate.seconds:.1f} s)")))
        return None
    prepared = session.prepared
    n_classes, objective = prepared.signature.n_classes, session.resolved.objective

    def score(y: np.ndarray, output: np.ndarray) -> float | None:
        return objective_value(objective, y, output, n_classes)

    indices = crossval.fold_indices(len(both), labels, crossval.FOLDS, session.config.seed)[:folds]
    try:
        result = cross_validate_forest(prepared.signature.task, forest_features(both.x, prepared.signature),
                                       np.asarray(both.y), indices, n_classes, score,
                                       leaves=int(candidate.forest.max_leaf_nodes),
                                       trees=len(candidate.forest.estimators_))
    except ValueError as exc:
        emit(SearchWarning(message=f"the random forest gave no score on the folds ({exc})"))
        return None
    emit(PhaseChanged(phase="validating", message=(
        f"{folds} of {crossval.FOLDS} folds in {sum(result.fold_seconds):.0f} s for a random forest: mean "
        f"{objective} {result.score:.4g} ± {result.se or 0:.2g}")))
    return result


def _finish(session: _Session, model: Any, best_trial: Any, result: SearchResult,
            emit: Callable[[Event], None], *, refit_epochs: Sequence[tuple[int, Mapping[str, float]]] = (),
            deadline: float | None = None) -> None:
    """Evaluates on the test split and exports ``best/best.h5`` (+ ``.keras``, + ``--export``).

    The evaluation the Results page shows (per-class scores, curves, permutation importance,
    layer list, ``refit_epochs``' curves) goes to ``best/evaluation.json``; its importance
    leaves out the columns not started by ``deadline`` (a :func:`time.monotonic` reading).
    """
    from automl_studio.engine.export.writers import build_metadata, export_model
    from automl_studio.engine.train.baselines import race_note
    from automl_studio.engine.train.evaluation import evaluate, forecast_test, write_evaluation
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
    evaluation = None
    if len(test):
        emit(PhaseChanged(phase="evaluating", message=f"test split: {len(test)} rows"))
        predicted = predict_arrays(model, test.x)
        evaluation = evaluate(lambda x: _call_model(model, x), test.x, test.y, predicted,
                              task=prepared.signature.task, class_names=prepared.class_names,
                              objective=session.resolved.objective, direction=session.resolved.direction,
                              input_kind=prepared.input_kind, schema=prepared.schema,
                              inputs=prepared.signature.inputs, model=model, refit_epochs=refit_epochs,
                              best_trial_id=str(best_trial.trial_id),
                              seed=config.seed, deadline=deadline)
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
        if prepared.forecast is not None:
            result.test_metrics.update(_forecast_scores(prepared.forecast, test, predicted, result))
            if session.test_times is not None:
                evaluation = dataclasses.replace(evaluation, forecast=forecast_test(
                    prepared.forecast, *session.test_times, np.asarray(test.x["sequence"]), test.y, predicted))
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
        **({"ensemble": dict(result.ensemble), "model": describe_ensemble(result.ensemble)}
           if result.ensemble else {}),
        **({"forest": dict(result.forest), "model": describe_forest(result.forest)} if result.forest else {}),
        # The test metrics are the model's before it was trained again on all rows.
        **({"all_rows": dict(result.all_rows)} if result.all_rows else {}),
        **({"target_transform": target_transform_note(session.space, result.best_hyperparameters)}
           if prepared.signature.task == "regression" else {}),
        # The lookback the network uses (the last steps it keeps of the window of ``lookback`` rows).
        **({"forecast": {**prepared.forecast, "model_lookback": chosen_lookback(
            session.space, result.best_hyperparameters) or prepared.forecast["lookback"]}}
           if prepared.forecast is not None else {}),
        baseline_metrics=dict(result.baseline_metrics),
        beats_baseline=None if not result.baseline_metrics else shortfall is None,
        baseline_note=shortfall or "",
        baselines=dict(result.baselines),
        baselines_note=race_note(result.baselines, result.best_score, forest_exported=bool(result.forest)),
    )
    sample = _sample(test if len(test) else prepared.validation)
    best_dir = Path(config.project_dir) / BEST_DIR
    best_dir.mkdir(parents=True, exist_ok=True)
    np.savez(best_dir / SAMPLE_FILE, **sample)  # type: ignore[arg-type]  # numpy's stub reads **kwds as allow_pickle
    formats = ["h5", "keras"] if config.export_keras else ["h5"]
    if evaluation is not None:
        write_evaluation(best_dir, evaluation)
    # The test split scored ``model``; the same one trained again on all rows is what is exported.
    model = session.all_rows_model if session.all_rows_model is not None else model
    written = export_model(model, best_dir / "best.h5", metadata, sample, formats)
    result.exported = list(written["files"])
    if config.export_path:
        extra = export_model(model, config.export_path, metadata, sample, formats)
        result.exported = list(extra["files"]) + result.exported


def _forecast_scores(forecast: Mapping[str, Any], test: Split, predicted: np.ndarray,
                     result: SearchResult) -> dict[str, Any]:
    """A forecast's test metrics (MAE, RMSE, MAPE, MASE); the naive forecasts of the same test
    windows become ``result``'s baseline (seasonal naive when a period was found, else the last
    value), every naive forecast's metrics listed under ``naive``."""
    from automl_studio.engine.data.timeseries import ForecastSpec, forecast_metrics, naive_baselines

    spec = ForecastSpec.from_dict(forecast)
    naive = naive_baselines(np.asarray(test.x["sequence"]), test.y, spec)
    name = "seasonal naive" if "seasonal naive" in naive else "last value"
    rule = (f"seasonal naive: the value one period ({spec.period} steps) earlier" if name == "seasonal naive"
            else "naive: the last value of the window")
    result.baseline_metrics = {**naive[name], "rule": rule, "naive": naive}
    return forecast_metrics(test.y, predicted, spec.mase_scale)


def _call_model(model: Any, x: Mapping[str, np.ndarray], batch_size: int = 4096) -> np.ndarray:
    """The model's output on in-memory inputs, called directly in batches: ``model.predict``
    costs ~0.4 s a call in set-up alone, and the permutation importance calls it once per column."""
    import keras

    rows = len(next(iter(x.values())))
    return np.concatenate([keras.ops.convert_to_numpy(model({k: v[i:i + batch_size] for k, v in x.items()},
                                                            training=False))
                           for i in range(0, rows, batch_size)])


def export_best_from_checkpoint(project_dir: str) -> None:
    """Writes ``best/best.h5`` for a search that stopped before its refit and export."""
    document = read_search_document(project_dir)
    if document is None:
        raise ProjectError(f"{project_dir}: not a search project (no {CONFIG_FILE})")
    config = document.config.replace(fresh=False, export_path=None)
    session = _Session(config, lambda event: None)
    tuner = session.tuner()
    from automl_studio.engine.search.tuner import best_trials

    best = best_trials(tuner)
    if not best:
        raise ProjectError(f"{project_dir}: no trial has finished yet, so there is nothing to export")
    result = SearchResult("stopped", best[0].trial_id, float(best[0].score), dict(best[0].hyperparameters.values))
    _finish(session, tuner.load_model(best[0]), best[0], result, lambda event: None)


def export_project(project_dir: str, dest: str, formats: Sequence[str] = ("h5",),
                   quantize: str = "none") -> dict[str, Any]:
    """Exports a project's best model to ``dest`` (for the window's *Export best model…*).

    Uses the refitted best model the search saved (``best/best.h5``); for a search that was
    stopped before its refit, it rebuilds the best trial's model from KerasTuner's checkpoint.
    ``formats`` are any of ``h5``, ``keras``, ``savedmodel``, ``tflite`` and ``onnx``
    (:mod:`~automl_studio.engine.export.deploy`); beside them go ``schema.json``,
    ``reference.csv`` and ``MODEL_CARD.md``. Each file is reloaded in a fresh process with its
    own runtime and checked against the model on held-out test rows before anything is written.

    Raises:
        ExportError: nothing to export, a format cannot convert (the layer is named), or a check
            failed; nothing was written.
    """
    import keras

    from automl_studio.engine.export.deploy import check_request, export_bundle
    from automl_studio.engine.export.model_info import read_metadata

    check_request(formats, quantize)
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
    document = read_search_document(project_dir)
    held_out, raw, reference_inputs, counts = _held_out_rows(document.config if document else None)
    settings: dict[str, Any] = {}
    if document is not None:
        c = document.config
        settings = {"Tuner": c.tuner, "Max trials": c.max_trials if c.max_trials is not None else "auto",
                    "Max epochs": c.max_epochs if c.max_epochs is not None else "auto",
                    "Time budget (s)": c.time_budget_s if c.time_budget_s is not None else "none",
                    "Validation / test fraction": f"{c.validation_fraction:g} / {c.test_fraction:g}",
                    "Seed": c.seed}
    return export_bundle(model, metadata, dest, formats=list(formats), quantize=quantize,
                         held_out=held_out or inputs, reference_raw=raw, reference_inputs=reference_inputs,
                         settings=settings, class_counts=counts)


_HELD_OUT_ROWS = 200  # test rows each export format is compared on
_REFERENCE_ROWS = 20  # test rows written to reference.csv


def _held_out_rows(config: SearchConfig | None) -> tuple[dict[str, np.ndarray], Any, dict[str, np.ndarray],
                                                          tuple[int, ...]]:
    """The project's test rows, read and split again as the search did.

    Returns model inputs of up to 200 test rows, the file's columns for the first 20 of them (a
    DataFrame; ``None`` for arrays), their model inputs, and the class counts of the data. All
    empty when the data file is gone (the stored sample rows are used instead).
    """
    if config is None or not Path(config.data_path).exists():
        return {}, None, {}, ()
    try:
        # As data.identity.prepare_for_search, keeping the dataset for the file's own columns.
        dataset = load_config_dataset(config)
        prepared = prepare_loaded(dataset, config)
    except UserError:
        return {}, None, {}, ()
    test = prepared.test
    if not len(test):
        return {}, None, {}, tuple(prepared.profile.class_counts)
    held_out = {k: np.asarray(v[:_HELD_OUT_ROWS]) for k, v in test.x.items()}
    reference_inputs = {k: v[:_REFERENCE_ROWS] for k, v in held_out.items()}
    raw = None
    if dataset.kind == "table" and prepared.schema is not None:
        frame = dataset.frame
        target = prepared.profile.target
        kept = frame[frame[target].notna()].reset_index(drop=True)
        used = set(prepared.schema.columns) | {target}
        columns = [c for c in kept.columns if c in used]
        raw = kept.iloc[prepared.split_indices[2][:_REFERENCE_ROWS]][columns]
    return held_out, raw, reference_inputs, tuple(prepared.profile.class_counts)
