"""A search's report: one self-contained HTML file to read, keep and send.

:func:`write_report` reads a project directory (its ``search_config.json``, event log and exported
best model, see :mod:`~automl_studio.engine.search.project`) and writes one HTML file that needs
no network to be read: the CSS is inline and every plot is an embedded PNG (``data:`` URI) drawn
with matplotlib's Agg canvas. It holds the data profile and its warnings, the search space, the
settings, every trial (a table and its learning curves), the best model's test metrics beside the
trivial baseline's, the best model's layers, the searched hyperparameters' importance and a
parallel-coordinates plot of every completed trial, what each trial's curves say (:mod:`~automl_studio.engine.search.analysis`), and the environment the report
was made in.

The page comes from the Jinja2 template ``resources/templates/report.html.j2`` with autoescaping
on; only the images this module draws are inserted unescaped. The best model's layers are read
with Keras (its output shapes and ``count_params()``), so the window runs this in an engine child
(``call_in_child``), never in its own process.
"""

from __future__ import annotations

import base64
import datetime
import importlib.metadata
import io
import json
import math
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_studio.engine.core.errors import ModelFileError, ProjectError, SpecError
from automl_studio.engine.core.events import Event
from automl_studio.engine.core.objectives import Objective, get_objective
from automl_studio.engine.search.analysis import (
    active_hyperparameters,
    curves_from_history,
    diagnose,
    hyperparameter_importance,
    searched_hyperparameters,
)
from automl_studio.engine.search.project import (
    CONFIG_FILE,
    EVENTS_FILE,
    TrialRecord,
    atomic_write_text,
    finalist_text,
    last_finish,
    read_events,
    read_search_document,
    read_trials,
)
from automl_studio.engine.space.spec import HyperParameter, SearchSpace, hyperparameter_items
from automl_studio.engine.train.baselines import race_note
from automl_studio.engine.train.ensemble import ENSEMBLE_MEMBER_PREFIX
from automl_studio.engine.train.evaluation import EVALUATION_FILE, Evaluation, read_evaluation
from automl_studio.engine.train.forest_record import FOREST_MODEL_NAME

REPORT_FILE = "report.html"  # the default name, inside the project directory
TEMPLATE = "report.html.j2"
MAX_CURVE_PANELS = 24  # the best trials drawn large (matplotlib: ~0.1-0.4 s a panel); every trial has a sparkline
SPARKLINE_SIZE = (120, 28)  # px of each trial's sparkline in the trials table
CURVE_COLUMNS = 6
ENVIRONMENT_PACKAGES = ("automl-studio", "tensorflow", "keras", "keras-tuner", "numpy", "scikit-learn")
_HIDDEN_METRICS = ("confusion_matrix", "class_names", "sample", "n", "rule")


@dataclass(frozen=True)
class TrialRow:
    """One trial as the report lists it; ``hyperparameters`` are only those the trial used."""

    trial_id: str
    status: str
    score: float | None
    hyperparameters: Mapping[str, Any]
    epochs: int
    duration_s: float | None
    best_epoch: int | None = None
    error: str | None = None
    best: bool = False
    diagnosis: tuple[str, ...] = ()  # what its curves say: over-fitting, under-fitting, stopped early
    cross_validated: str = ""  # a finalist's mean fold score ± its standard error (project.finalist_text)


@dataclass(frozen=True)
class LayerRow:
    """One layer of the best model: ``output_shape`` leaves out nothing (``None`` is the batch)."""

    name: str
    class_name: str
    output_shape: str
    params: int
    depth: int = 0  # 1: a layer of a nested model (one refit of an averaged model)


@dataclass(frozen=True)
class MetricRow:
    """One test metric of the best model, the trivial baseline, the linear baseline and the
    random forest baseline (``None``: not computed)."""

    name: str
    model: float | None
    baseline: float | None
    linear: float | None = None
    forest: float | None = None


@dataclass(frozen=True)
class Architecture:
    """The best model's layers, or why they could not be read (``problem``)."""

    path: str = ""
    layers: tuple[LayerRow, ...] = ()
    total_params: int = 0
    problem: str = ""
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """An embedded image: a ``data:`` URI and its alternative text."""

    uri: str
    alt: str
    caption: str = ""


@dataclass
class ReportData:
    """Everything the template shows, as plain values."""

    project_dir: str
    title: str
    generated: str
    status: str
    message: str
    profile: Mapping[str, Any]
    warnings: list[str]
    search_warnings: list[str]
    space_summary: Mapping[str, Any]
    space_nodes: list[dict[str, str]]
    hyperparameters: list[tuple[str, str]]
    settings: list[tuple[str, str]]
    objective: str
    direction: str
    trials: list[TrialRow]
    best_trial_id: str | None
    best_score: float | None
    metrics: list[MetricRow]
    baseline_rule: str
    confusion: Mapping[str, Any] | None
    architecture: Architecture
    environment: list[tuple[str, str]]
    figures: dict[str, Figure] = field(default_factory=dict)
    sparklines: dict[str, str] = field(default_factory=dict)  # trial id -> inline SVG markup
    evaluation: Evaluation | None = None  # best/evaluation.json of this best trial: per class, input columns
    importance: Figure | None = None
    importance_values: list[tuple[str, float]] = field(default_factory=list)
    importance_note: str = ""
    parallel: Figure | None = None
    linear_model: str = ""  # the linear baseline's scikit-learn class ("" where none was raced)
    forest_model: str = ""  # the random forest baseline's scikit-learn class ("" where none was raced)
    baselines_note: str = ""  # the network against its baselines (engine.train.baselines.race_note)


def require_search(project_dir: str | os.PathLike[str]) -> Path:
    """``project_dir`` as a path, once it is known to hold a search (its event log or configuration).

    Raises:
        ProjectError: the folder does not exist or holds no search (one line naming it).
    """
    project = Path(project_dir)
    if not project.is_dir():
        raise ProjectError(f"{project}: no such project folder")
    if not (project / EVENTS_FILE).is_file() and not (project / CONFIG_FILE).is_file():
        raise ProjectError(f"{project}: this folder holds no search (no {EVENTS_FILE} or {CONFIG_FILE}); "
                           "run a search with --project there first")
    return project


def collect_report(project_dir: str | os.PathLike[str]) -> ReportData:
    """Reads what the report shows from a project directory (no plots drawn yet).

    Raises:
        ProjectError: the folder does not exist or holds no search (one line naming it).
    """
    project = require_search(project_dir)
    document = read_search_document(project)
    events = _event_dicts(project)
    started: dict[str, Any] = next((e for e in reversed(events) if e.get("type") == "search_started"), {})
    finish = _finish_dict(project)
    config = document.config.to_dict() if document is not None else {}
    settings = dict(started.get("settings") or config)
    space = _space(document.space if document is not None else None)
    records = read_trials(project)
    best_id = finish.get("best_trial_id")
    profile = dict(started.get("profile") or {})
    data_name = Path(str(settings.get("data_path") or profile.get("path") or project.name)).name
    metrics = dict(finish.get("test_metrics") or {})
    baseline = dict(finish.get("baseline_metrics") or {})
    raced = dict(finish.get("baselines") or {})
    linear = dict(raced.get("linear_test_metrics") or {})
    forest = dict(raced.get("forest_test_metrics") or {})
    return ReportData(
        project_dir=str(project.resolve()),
        title=f"Search report — {data_name}",
        generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        status=str(finish.get("status") or ("unfinished" if records else "no trials")),
        message=str(finish.get("message") or ""),
        profile=profile,
        warnings=[str(w) for w in profile.get("warnings", ())],
        search_warnings=[str(e.get("message")) for e in events if e.get("type") == "warning"],
        space_summary=dict(started.get("space_summary") or {}),
        space_nodes=_space_nodes(space),
        hyperparameters=[(name, _domain_text(hp)) for name, hp in hyperparameter_items(space)] if space else [],
        settings=[(key, _value_text(value)) for key, value in settings.items() if value not in (None, {}, [], "")],
        objective=str(settings.get("objective") or "val_loss"),
        direction=str(settings.get("direction") or "min"),
        trials=[_trial_row(record, space, record.trial_id == best_id, _objective(settings),
                           settings.get("max_epochs")) for record in records.values()],
        best_trial_id=None if best_id is None else str(best_id),
        best_score=finish.get("best_score"),
        metrics=_metric_rows(metrics, baseline, linear, forest),
        linear_model=str(raced.get("linear") or "") if linear else "",
        forest_model=str(raced.get("forest") or "") if forest else "",
        baselines_note=race_note(raced, _number(finish.get("best_score")), forest_exported=bool(finish.get("forest"))),
        baseline_rule=str(baseline.get("rule") or ""),
        confusion=({"matrix": metrics["confusion_matrix"], "classes": list(metrics.get("class_names") or [])}
                   if metrics.get("confusion_matrix") else None),
        architecture=Architecture(problem="not read yet"),
        environment=environment(),
    )


def _event_dicts(project: Path) -> list[dict[str, Any]]:
    """The project's event log as plain dicts (the event's wire form)."""
    return [e.to_dict() if isinstance(e, Event) else dict(e) for e in read_events(project)]


def _finish_dict(project: str | os.PathLike[str]) -> dict[str, Any]:
    """The last ``search_finished`` event as a plain dict (``{}``: none)."""
    finish = last_finish(project)
    if finish is None:
        return {}
    return finish.to_dict() if isinstance(finish, Event) else dict(finish)


def _space(data: Mapping[str, Any] | None) -> SearchSpace | None:
    if not data:
        return None
    try:
        return SearchSpace.from_dict(dict(data), source=CONFIG_FILE)
    except SpecError:
        return None


def _space_nodes(space: SearchSpace | None) -> list[dict[str, str]]:
    if space is None:
        return []
    repeat_of = {n: rep for rep in space.repeats for n in rep.nodes}
    rows = []
    for node in space.nodes:
        params = ", ".join(f"{k}={_domain_text(v) if hasattr(v, 'to_dict') else _value_text(v)}"
                           for k, v in node.params.items())
        rep = repeat_of.get(node.id)
        rows.append({"id": node.id, "type": node.type, "params": params,
                     "inputs": ", ".join(space.inputs_of(node.id)),
                     "notes": "; ".join(filter(None, (
                         "optional" if node.optional else "",
                         f"repeated {rep.min}–{rep.max}× ({rep.id})" if rep else "")))})
    return rows


def _domain_text(hp: HyperParameter | Any) -> str:
    data = hp.to_dict()
    kind = data.get("hp")
    if kind == "int":
        return f"integer {data['min']}…{data['max']}" + (f" step {data['step']}" if data.get("step", 1) != 1 else "")
    if kind == "float":
        scale = " (log scale)" if data.get("log") else ""
        step = f" step {data['step']:g}" if data.get("step") else ""
        return f"float {data['min']:g}…{data['max']:g}{step}{scale}"
    if kind == "choice":
        return "one of " + ", ".join(_value_text(v) for v in data["values"])
    return "true or false"


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def _objective(settings: Mapping[str, Any]) -> Objective | None:
    try:
        return get_objective(settings.get("objective") or "val_loss")
    except ValueError:
        return None


def _active(values: Mapping[str, Any], space: SearchSpace | None) -> dict[str, Any]:
    try:
        return active_hyperparameters(values, space)
    except SpecError:  # a space the values do not fit: show them all
        return active_hyperparameters(values)


def _trial_row(record: TrialRecord, space: SearchSpace | None, best: bool, objective: Objective | None,
               max_epochs: Any) -> TrialRow:
    diagnosis: tuple[str, ...] = ()
    if objective is not None and record.history:
        limit = int(max_epochs) if isinstance(max_epochs, int) else None
        diagnosis = diagnose(curves_from_history(record.history), objective, max_epochs=limit).badges
    return TrialRow(trial_id=record.trial_id, status=record.status, score=record.score,
                    hyperparameters=_active(record.hyperparameters, space),
                    epochs=len(record.history), duration_s=record.duration_s,
                    best_epoch=record.best_epoch, error=record.error, best=best, diagnosis=diagnosis,
                    cross_validated=finalist_text(record.finalist))


def _metric_rows(metrics: Mapping[str, Any], baseline: Mapping[str, Any],
                 linear: Mapping[str, Any], forest: Mapping[str, Any]) -> list[MetricRow]:
    rows = []
    for name in list(metrics) + [k for k in baseline if k not in metrics]:
        if name in _HIDDEN_METRICS:
            continue
        model, base = metrics.get(name), baseline.get(name)
        if isinstance(model, (int, float)) or isinstance(base, (int, float)):
            rows.append(MetricRow(name, _number(model), _number(base), _number(linear.get(name)),
                                  _number(forest.get(name))))
    return rows


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def environment() -> list[tuple[str, str]]:
    """Where the report was made: package versions, Python, OS, CPU count and date (UTC)."""
    rows = []
    for name in ENVIRONMENT_PACKAGES:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    rows += [("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
             ("OS", platform.platform()),
             ("CPU cores", str(os.cpu_count() or "unknown")),
             ("Date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))]
    return rows


def best_model_path(project_dir: str | os.PathLike[str], finish: Mapping[str, Any] | None = None) -> Path | None:
    """The exported best model of a project: ``best/best.h5``, else the first ``.h5`` exported."""
    best = Path(project_dir) / "best" / "best.h5"
    if best.is_file():
        return best
    for path in (finish or {}).get("exported") or ():
        if str(path).endswith(".h5") and Path(path).is_file():
            return Path(path)
    return None


def stored_evaluation(project_dir: str | os.PathLike[str], best_trial_id: str | None) -> Evaluation | None:
    """The search's ``best/evaluation.json`` when it is this best trial's (``None`` otherwise).

    The engine writes it when the search evaluates its exported model; the window's Results page
    shows the same file.
    """
    try:
        evaluation = read_evaluation(Path(project_dir) / "best")
    except ProjectError:
        return None
    if evaluation is None or evaluation.best_trial_id not in ("", best_trial_id or ""):
        return None  # an earlier run's model: this run stopped before its evaluation
    return evaluation


def stored_architecture(project_dir: str | os.PathLike[str], evaluation: Evaluation | None) -> Architecture | None:
    """The best model's layers as the search's evaluation recorded them (no Keras needed)."""
    if evaluation is None or evaluation.network is None:
        return None
    network = evaluation.network
    if network.members > 1 and network.name.startswith(ENSEMBLE_MEMBER_PREFIX):
        note = (f"The exported model is a weighted ensemble of {network.members} trials' networks; these are "
                f"the layers of the best one ({network.name}), and the total counts them all.")
    elif network.name == FOREST_MODEL_NAME:
        note = ("The exported model is a random forest compiled into these standard Keras layers (a unit per "
                "split of every tree, a unit per leaf, the leaves' values in the last weights).")
    elif network.members > 1:
        note = (f"The exported model averages {network.members} refits of this network, each with its own "
                "weights; the total counts them all.")
    else:
        note = ""
    return Architecture(str(Path(project_dir) / "best" / EVALUATION_FILE),
                        tuple(LayerRow(r.name, r.type, r.output_shape, r.params) for r in network.layers),
                        network.total_params, note=note)


def read_architecture(path: Path | None) -> Architecture:
    """The layers of an exported model, read with Keras (loaded without compiling).

    A model that averages refits holds one nested model per refit; the first one's layers are
    listed under it (the others have the same layers). Never raises: a model that cannot be read
    gives an :class:`Architecture` whose ``problem`` says why.
    """
    if path is None:
        return Architecture(problem="no model was exported for this search")
    from automl_studio.engine.export.model_info import check_safe

    try:
        check_safe(path)
        import keras

        model = keras.models.load_model(path, compile=False)
    except ModelFileError as exc:
        return Architecture(str(path), problem=str(exc))
    except Exception as exc:  # noqa: BLE001 - the report is still written without the layers
        return Architecture(str(path), problem=f"{path}: Keras could not load it ({type(exc).__name__}: {exc})")
    rows: list[LayerRow] = []
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    for layer in model.layers:
        rows.append(LayerRow(layer.name, type(layer).__name__, _output_shape(layer), int(layer.count_params())))
        if nested and layer is nested[0]:
            rows += [LayerRow(inner.name, type(inner).__name__, _output_shape(inner), int(inner.count_params()), 1)
                     for inner in layer.layers]
    note = (f"The model averages {len(nested)} nested models; the layers of {nested[0].name} are listed "
            "(the others have the same layers, each with its own weights)." if len(nested) > 1 else "")
    return Architecture(str(path), tuple(rows), int(model.count_params()), note=note)


def _output_shape(layer: Any) -> str:
    try:
        outputs = layer.output
    except (AttributeError, ValueError):
        return "?"
    shapes = [tuple(t.shape) for t in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    return ", ".join("(" + ", ".join("None" if d is None else str(d) for d in s) + ")" for s in shapes)


# ---------------------------------------------------------------------------------------- plots

def _png(figure: Any) -> str:
    """A matplotlib figure as a ``data:image/png;base64`` URI (Agg canvas, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _curve_metric(objective: str, records: Mapping[str, TrialRecord]) -> str:
    """The logged metric to draw: the objective if every curve logged it, else ``val_loss``."""
    logged = {key for record in records.values() for point in record.history for key in point}
    return objective if objective in logged else "val_loss"


def _curve_range(records: Sequence[TrialRecord], keys: Sequence[str]) -> tuple[float, float]:
    values = [p[k] for r in records for p in r.history for k in keys
              if isinstance(p.get(k), (int, float)) and math.isfinite(p[k])]
    return (min(values), max(values)) if values else (0.0, 1.0)


def sparklines(records: Mapping[str, TrialRecord], objective: str) -> dict[str, str]:
    """Per trial, an inline SVG of its validation (solid) and training (dashed) curve per epoch.

    Every sparkline has the same scale, so they compare down the trials table. Only numbers go
    into the markup.
    """
    metric = _curve_metric(objective, records)
    train = metric.removeprefix("val_")
    drawn = [r for r in records.values() if r.history]
    low, high = _curve_range(drawn, (metric, train))
    width, height = SPARKLINE_SIZE
    span = (high - low) or 1.0
    out = {}
    for record in drawn:
        last = max(len(record.history) - 1, 1)
        lines = []
        for key, dash, color in ((train, ' stroke-dasharray="3 2"', "#8a99a8"), (metric, "", "#2c6fbb")):
            points = [f"{2 + (width - 4) * i / last:.1f},{2 + (height - 4) * (1 - (p[key] - low) / span):.1f}"
                      for i, p in enumerate(record.history)
                      if isinstance(p.get(key), (int, float)) and math.isfinite(p[key])]
            if points:
                lines.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.3"{dash} '
                             f'points="{" ".join(points)}"/>')
        out[record.trial_id] = (f'<svg width="{width}" height="{height}" '
                                f'viewBox="0 0 {width} {height}" role="img" class="sparkline">'
                                f"<title>{metric} and {train} per epoch</title>{''.join(lines)}</svg>")
    return out


def learning_curves_figure(records: Mapping[str, TrialRecord], objective: str, direction: str,
                           best_id: str | None) -> Figure | None:
    """Small multiples: one panel per trial with its training and validation curve per epoch.

    At most :data:`MAX_CURVE_PANELS` panels: the best trials by score, in the order they ran
    (every trial has a sparkline in the table).
    """
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator

    with_curves = [r for r in records.values() if r.history]
    if not with_curves:
        return None
    ranked = sorted(with_curves, key=lambda r: _rank(r.score, direction))[:MAX_CURVE_PANELS]
    drawn = [r for r in with_curves if r in ranked]
    metric = _curve_metric(objective, records)
    train = metric.removeprefix("val_")
    columns = min(CURVE_COLUMNS, len(drawn))
    rows = math.ceil(len(drawn) / columns)
    width, height = 2.3 * columns, 1.7 * rows + 0.5
    figure = MplFigure(figsize=(width, height))
    # Fixed margins in inches: constrained layout took seconds per dozen panels.
    figure.subplots_adjust(left=0.45 / width, right=1 - 0.1 / width, bottom=0.3 / height, top=1 - 0.55 / height,
                           wspace=0.15, hspace=0.45)
    low, high = _curve_range(drawn, (metric, train))
    axes = figure.subplots(rows, columns, squeeze=False, sharey=True)  # one scale: panels compare at a glance
    for index, axis in enumerate(axes.flat):
        if index >= len(drawn):
            axis.set_axis_off()
            continue
        record = drawn[index]
        epochs = [p["epoch"] for p in record.history]
        for key, style, label in ((train, "--", "train"), (metric, "-", "validation")):
            ys = [p.get(key, math.nan) for p in record.history]
            if any(isinstance(y, (int, float)) and math.isfinite(y) for y in ys):
                axis.plot(epochs, ys, style, linewidth=1.2, label=label,
                          color="#c0392b" if record.trial_id == best_id else "#2c6fbb")
        best = " ★ best" if record.trial_id == best_id else ""
        axis.set_title(f"trial {record.trial_id}{best}", fontsize=8)
        axis.tick_params(labelsize=6)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    if high > low:
        axes.flat[0].set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    axes.flat[0].legend(fontsize=6, loc="upper right")
    figure.suptitle(f"{metric} (solid) and {train} (dashed) per epoch", fontsize=9)
    more = len(with_curves) - len(drawn)
    caption = (f"The {len(drawn)} best trials by score; the other {more} have their curves as sparklines in the "
               "trials table." if more > 0 else "")
    return Figure(_png(figure), f"learning curves of {len(drawn)} trials ({metric} per epoch)", caption)


def _rank(score: float | None, direction: str) -> float:
    if score is None or not math.isfinite(score):
        return math.inf
    return score if direction == "min" else -score


def scores_figure(trials: Sequence[TrialRow], objective: str, direction: str) -> Figure | None:
    """Each completed trial's score in the order they ran, with the best so far as a line."""
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator

    scored = [(i, t.score) for i, t in enumerate(trials) if t.score is not None and math.isfinite(t.score)]
    if not scored:
        return None
    figure = MplFigure(figsize=(7, 2.6), layout="constrained")
    axis = figure.add_subplot()
    xs, ys = [i + 1 for i, _ in scored], [s for _, s in scored]
    pick = min if direction == "min" else max
    best_so_far = [pick(ys[: k + 1]) for k in range(len(ys))]
    axis.plot(xs, ys, "o", markersize=4, color="#2c6fbb", label="trial")
    axis.step(xs, best_so_far, where="post", color="#c0392b", label="best so far")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("trial (in the order run)")
    axis.set_ylabel(objective)
    axis.legend(fontsize=7)
    return Figure(_png(figure), f"{objective} of each trial and the best so far")


def regression_figure(sample: Mapping[str, Any]) -> Figure | None:
    """Predicted against actual on the test sample of a regression (``None`` without one)."""
    from matplotlib.figure import Figure as MplFigure

    actual, predicted = list(sample.get("actual") or []), list(sample.get("predicted") or [])
    if not actual or len(actual) != len(predicted):
        return None
    figure = MplFigure(figsize=(3.6, 3.4), layout="constrained")
    axis = figure.add_subplot()
    axis.scatter(actual, predicted, s=8, alpha=0.7, color="#2c6fbb")
    low, high = min(actual + predicted), max(actual + predicted)
    axis.plot([low, high], [low, high], color="#888888", linewidth=1)
    axis.set_xlabel("actual")
    axis.set_ylabel("predicted")
    return Figure(_png(figure), "predicted against actual on the test rows")


def importance_section(records: Mapping[str, TrialRecord], space: SearchSpace | None,
                       ) -> tuple[Figure | None, list[tuple[str, float]], str]:
    """The searched hyperparameters' importance for the score, from the trials alone.

    :func:`~automl_studio.engine.search.analysis.hyperparameter_importance` (a random-forest
    surrogate and scikit-learn's permutation importance). Returns the bar chart (``None`` when
    nothing is explained), ``(name, share)`` most important first, and a sentence on the method
    or on why there is nothing to show.
    """
    values = [record.hyperparameters for record in records.values()]
    names = searched_hyperparameters(space, values)
    trials = [(_active(record.hyperparameters, space), record.score) for record in records.values()
              if record.status == "completed"]
    try:
        found = hyperparameter_importance(trials, names)
    except ValueError as exc:  # the surrogate could not be fitted (odd values): the report goes on
        return None, [], f"Hyperparameter importance could not be computed: {exc}"
    shares = [(name, float(share)) for name, share in found.values.items()]
    if found.note or not any(share > 0 for _, share in shares):
        return None, shares, f"Nothing to show: {found.note or 'no hyperparameter explains the score'}."
    fit = f", the surrogate's R² {found.fit_r2:.2f}" if found.fit_r2 is not None else ""
    note = f"From {found.trials} completed trials{fit}; {found.method}."
    return _importance_bars(dict(shares)), shares, note


MAX_PARALLEL_AXES = 8  # hyperparameter axes drawn (the most important first), as the window's default


def _axis_positions(values: Sequence[Any]) -> tuple[list[float], list[tuple[float, str]]]:
    """Each value's place on a 0–1 axis and the axis's labelled ticks.

    Numbers (not booleans) are placed linearly, or on a log scale when all are positive and span
    two decades or more (a learning rate); anything else is a category, evenly spaced in sorted
    order. ``None`` (the trial did not use the hyperparameter) is NaN: its line breaks there.
    """
    present = [v for v in values if v is not None]
    numeric = bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    if numeric:
        low, high = float(min(present)), float(max(present))
        log = low > 0 and high / low >= 100

        def place(v: float) -> float:
            if high == low:
                return 0.5
            if log:
                return (math.log10(v) - math.log10(low)) / (math.log10(high) - math.log10(low))
            return (v - low) / (high - low)

        ticks = [(place(low), f"{low:.3g}"), (place(high), f"{high:.3g}")] if high != low else [(0.5, f"{low:.3g}")]
        return [math.nan if v is None else place(float(v)) for v in values], ticks
    categories = sorted({str(v) for v in present})
    step = 1.0 / (len(categories) - 1) if len(categories) > 1 else 0.0
    spots = {c: (i * step if len(categories) > 1 else 0.5) for i, c in enumerate(categories)}
    return ([math.nan if v is None else spots[str(v)] for v in values],
            [(spots[c], c) for c in categories])


def parallel_figure(records: Mapping[str, TrialRecord], space: SearchSpace | None, objective: str,
                    direction: str, order: Sequence[str] = ()) -> Figure | None:
    """Every completed trial as one line across an axis per searched hyperparameter and the score.

    Axes follow ``order`` (the importance, most important first) and then the space's order, at
    most :data:`MAX_PARALLEL_AXES`; a line is coloured by its score (dark: better) and the best
    trial is drawn thick. Returns None with fewer than two completed trials or nothing searched.
    """
    done = [r for r in records.values() if r.status == "completed" and r.score is not None]
    names = searched_hyperparameters(space, [r.hyperparameters for r in records.values()])
    names = ([n for n in order if n in names] + [n for n in names if n not in order])[:MAX_PARALLEL_AXES]
    if len(done) < 2 or not names:
        return None
    from matplotlib import colormaps
    from matplotlib.figure import Figure as MplFigure

    active = [_active(r.hyperparameters, space) for r in done]
    scores = [float(r.score) for r in done if r.score is not None]
    columns = [_axis_positions([a.get(n) for a in active]) for n in names]
    columns.append(_axis_positions(scores))
    labels = [*names, f"{objective}\n({'lower' if direction == 'min' else 'higher'} is better)"]
    order_by_score = sorted(range(len(done)), key=lambda i: scores[i], reverse=direction == "min")
    rank = {trial: place / max(len(done) - 1, 1) for place, trial in enumerate(order_by_score)}
    best = order_by_score[-1]
    colours = colormaps["viridis_r"]
    figure = MplFigure(figsize=(max(6.0, 1.15 * len(labels)), 3.6), layout="constrained")
    axis = figure.add_subplot()
    xs = list(range(len(labels)))
    for trial in order_by_score:  # the best last, on top
        ys = [column[0][trial] for column in columns]
        axis.plot(xs, ys, color=colours(0.15 + 0.85 * rank[trial]), linewidth=2.6 if trial == best else 1.1,
                  alpha=0.95 if trial == best else 0.7, marker="o", markersize=3)
    for x, (_, ticks) in zip(xs, columns, strict=True):
        axis.axvline(x, color="#888888", linewidth=0.8)
        for y, text in ticks[:12]:
            axis.annotate(text, (x, y), xytext=(4, 0), textcoords="offset points", fontsize=7, va="center",
                          color="#222222", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    axis.set_xticks(xs, labels, fontsize=7, rotation=20, ha="right")
    axis.set_yticks([])
    axis.set_ylim(-0.05, 1.05)
    axis.set_xlim(-0.2, len(labels) - 0.5)
    for side in ("left", "right", "top"):
        axis.spines[side].set_visible(False)
    return Figure(_png(figure), f"parallel coordinates of {len(done)} completed trials",
                  f"One line per completed trial across {len(names)} searched hyperparameters and the score; "
                  f"darker lines scored better, the thick one is the best trial (a line breaks at a "
                  "hyperparameter its network did not use).")


def _importance_bars(shares: Mapping[str, float]) -> Figure:
    from matplotlib.figure import Figure as MplFigure

    items = sorted(shares.items(), key=lambda kv: kv[1])
    figure = MplFigure(figsize=(6, 0.3 * len(items) + 0.8), layout="constrained")
    axis = figure.add_subplot()
    axis.barh([k for k, _ in items], [float(v) for _, v in items], color="#2c6fbb")
    axis.set_xlabel("importance")
    axis.tick_params(labelsize=7)
    return Figure(_png(figure), "hyperparameter importance")


# ---------------------------------------------------------------------------------------- output

def render_report(project_dir: str | os.PathLike[str]) -> str:
    """The report of a project directory as one self-contained HTML document.

    Raises:
        ProjectError: the folder does not exist or holds no search.
    """
    import jinja2

    data = collect_report(project_dir)
    records = read_trials(project_dir)
    finish = _finish_dict(project_dir)
    data.evaluation = stored_evaluation(project_dir, data.best_trial_id)
    data.architecture = (stored_architecture(project_dir, data.evaluation)
                         or read_architecture(best_model_path(project_dir, finish)))
    figures = {
        "curves": learning_curves_figure(records, data.objective, data.direction, data.best_trial_id),
        "scores": scores_figure(data.trials, data.objective, data.direction),
        "regression": regression_figure(dict((finish.get("test_metrics") or {}).get("sample") or {}))
        if data.confusion is None else None,
    }
    data.figures = {k: v for k, v in figures.items() if v is not None}
    data.sparklines = sparklines(records, data.objective)
    space = _space(document.space) if (document := read_search_document(project_dir)) else None
    data.importance, data.importance_values, data.importance_note = importance_section(records, space)
    data.parallel = parallel_figure(records, space, data.objective, data.direction,
                                    [name for name, _ in data.importance_values])
    env = jinja2.Environment(loader=jinja2.PackageLoader("automl_studio.resources", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["number"] = _format_number
    env.filters["duration"] = _format_duration
    env.filters["value"] = _value_text
    return env.get_template(TEMPLATE).render(report=data)


def _format_number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.1f}"


def _format_duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def write_report(project_dir: str, output: str | None = None) -> str:
    """Writes the report of ``project_dir`` (default: ``PROJECT/report.html``); returns its path.

    Raises:
        ProjectError: the folder does not exist or holds no search, or the file cannot be written.
    """
    project = require_search(project_dir)
    path = Path(output) if output else project / REPORT_FILE
    try:  # before the work: a folder that cannot be made is said at once
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ProjectError(f"{path}: cannot write the report ({path.parent} is a file, not a folder)") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc
    html = render_report(project_dir)
    try:
        atomic_write_text(path, html)
        path.chmod(0o644)  # a file to share, not a private temporary one
    except OSError as exc:
        raise ProjectError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc
    return str(path)
