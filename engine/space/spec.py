"""The search space: one versioned, JSON-serialisable spec of a graph of layers that may vary.

A spec is a graph of :class:`Node` s (a layer type and its params) joined by edges, as in the
Keras functional API, so branches and merges are allowed. Any param is either a fixed value or a
hyperparameter (:class:`IntRange`, :class:`FloatRange`, :class:`Choice`, :class:`Boolean`). A node
can be ``optional`` (a boolean hyperparameter includes or skips it) and a chain of nodes can be a
:class:`Repeat` block, repeated N times with N a hyperparameter (N may be 0). The ``training``
section holds optimizer, learning rate, schedule, batch size, epochs, patience and L1/L2.

Nothing here imports Keras: the visual editor validates and measures a spec on every edit
(:mod:`automl_studio.engine.space.shapes`), and :mod:`automl_studio.engine.train.hypermodel` compiles it to a
``keras_tuner.HyperModel``. Hyperparameter names are stable and readable: ``dense.units``,
``dense.units.2`` (third copy in a repeat), ``dropout.enabled``, ``block.repeats``,
``training.learning_rate``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.core.jsonfile import check_schema_version, read_json_document
from automl_studio.engine.space.losses import LABEL_SMOOTHING_MAX, LOSSES
from automl_studio.engine.space.optimizers import (  # noqa: F401 - re-exported
    LR_SCHEDULES,
    OPTIMIZER_SETTINGS,
    OPTIMIZERS,
    optimizers_taking,
)
from automl_studio.engine.space.registry import (  # noqa: F401 - the catalogue's names, re-exported
    ACTIVATIONS,
    LAYER_TYPES,
    LayerType,
    ParamDef,
)

SPEC_SCHEMA_VERSION = 1

# --- hyperparameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class IntRange:
    """An integer searched from ``min`` to ``max`` (inclusive) in steps of ``step``."""

    min: int
    max: int
    step: int = 1

    def values(self) -> list[int]:
        return list(range(self.min, self.max + 1, self.step))

    def cardinality(self) -> float:
        # len() of a range is O(1); a list of a wide range (a batch size 1…10⁹) is not.
        return len(range(self.min, self.max + 1, self.step))

    def to_dict(self) -> dict[str, Any]:
        return {"hp": "int", "min": self.min, "max": self.max, "step": self.step}


@dataclass(frozen=True)
class FloatRange:
    """A float searched from ``min`` to ``max``, on a log scale if ``log``."""

    min: float
    max: float
    log: bool = False
    step: float | None = None

    def cardinality(self) -> float:
        if self.step:
            return math.floor((self.max - self.min) / self.step + 1e-9) + 1
        return math.inf

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"hp": "float", "min": self.min, "max": self.max, "log": self.log}
        if self.step:
            data["step"] = self.step
        return data


@dataclass(frozen=True)
class Choice:
    """One of a list of values (numbers, strings or booleans)."""

    values: tuple[Any, ...]

    def cardinality(self) -> float:
        return len(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"hp": "choice", "values": list(self.values)}


@dataclass(frozen=True)
class Boolean:
    """True or False."""

    def cardinality(self) -> float:
        return 2

    def to_dict(self) -> dict[str, Any]:
        return {"hp": "bool"}


HyperParameter = IntRange | FloatRange | Choice | Boolean


def hp_from_json(value: Any, where: str, node: str | None = None) -> Any:
    """Turns a JSON param value into a fixed value or a hyperparameter object."""
    if not isinstance(value, Mapping):
        return tuple(value) if isinstance(value, list) else value
    kind = value.get("hp")
    try:
        if kind == "int":
            ends = (value["min"], value["max"], value.get("step", 1))
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer()
                       for v in ends):
                raise SpecError(f"{where}: int range needs whole numbers, got {dict(value)!r}",
                                node=node)
            int_range = IntRange(int(ends[0]), int(ends[1]), int(ends[2]))
            if int_range.step < 1 or int_range.min > int_range.max:
                raise SpecError(f"{where}: int range needs min ≤ max and step ≥ 1", node=node)
            return int_range
        if kind == "float":
            hp = FloatRange(float(value["min"]), float(value["max"]), bool(value.get("log", False)),
                            float(value["step"]) if value.get("step") else None)
            if not (math.isfinite(hp.min) and math.isfinite(hp.max)) or hp.min > hp.max:
                raise SpecError(f"{where}: float range needs finite min ≤ max", node=node)
            if hp.log and hp.min <= 0:
                raise SpecError(f"{where}: a log-scale range needs min > 0", node=node)
            if hp.step is not None and not (math.isfinite(hp.step) and hp.step > 0
                                            and math.isfinite((hp.max - hp.min) / hp.step)):
                raise SpecError(f"{where}: a float range's step must be a positive number",
                                node=node)
            return hp
        if kind == "choice":
            values = tuple(value["values"])
            if not values:
                raise SpecError(f"{where}: a choice needs at least one value", node=node)
            if len(set(map(repr, values))) != len(values):
                raise SpecError(f"{where}: a choice lists the same value twice", node=node)
            return Choice(values)
        if kind == "bool":
            return Boolean()
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(f"{where}: malformed hyperparameter {dict(value)!r}", node=node) from exc
    raise SpecError(f"{where}: unknown hyperparameter kind {kind!r} (int, float, choice, bool)", node=node)


def hp_to_json(value: Any) -> Any:
    if isinstance(value, (IntRange, FloatRange, Choice, Boolean)):
        return value.to_dict()
    return list(value) if isinstance(value, tuple) else value


def is_hp(value: Any) -> bool:
    return isinstance(value, (IntRange, FloatRange, Choice, Boolean))


# --- layer catalogue and training settings -------------------------------------------------
# Every layer type is declared once, in :mod:`automl_studio.engine.space.registry`; this module
# re-exports its ``LAYER_TYPES`` (the live table: a type registered later is known here too),
# ``LayerType``, ``ParamDef`` and ``ACTIVATIONS``.

# The optimizers and schedules are declared in :mod:`automl_studio.engine.space.optimizers`.
# ``learning_rate`` left out of a spec is the optimizer's own starting rate (1e-3 for Adam);
# ``clipnorm``/``clipvalue`` 0 mean no gradient clipping. ``loss`` "auto" is the task's usual
# loss (:mod:`automl_studio.engine.space.losses`); ``l1``/``l2`` apply to the kernels of layers
# that set no penalty of their own.
TRAINING_DEFAULTS: dict[str, Any] = {
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "lr_schedule": "constant",
    "batch_size": 32,
    "epochs": 50,
    "patience": 5,
    "min_delta": 0.0,
    "restore_best_weights": True,
    "l1": 0.0,
    "l2": 0.0,
    "clipnorm": 0.0,
    "clipvalue": 0.0,
    "loss": "auto",
    "label_smoothing": 0.0,
    "class_weight": "none",
    "target_transform": "none",
}

TARGET_TRANSFORMS = ("none", "log1p")
"""``training.target_transform`` (regression): the network learns the target as it is, or
``log1p(target)`` with mean squared error in log units (``keras.losses.MeanSquaredLogarithmicError``)
and ``expm1`` inside the model, so its outputs, metrics and objective are in the target's units.
``log1p`` needs a target without negative values."""

EARLY_STOPPING_FIXED = ("min_delta", "restore_best_weights")
"""Early stopping's ``training.min_delta`` (the least change of the objective that counts as
better, in its units) and ``training.restore_best_weights`` (a trial keeps its best epoch's
weights, not its last): one value each, never searched."""

CLASS_WEIGHTS = ("none", "balanced")
"""``training.class_weight``: every row weighs the same, or each class weighs the same in total
(:func:`automl_studio.engine.data.imbalance.balanced_class_weights`; classification only)."""


# --- the spec -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One layer of the graph; ``params`` values are fixed values or hyperparameters."""

    id: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    optional: bool = False
    position: tuple[float, float] | None = None  # where the editor drew it

    def param(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        return LAYER_TYPES[self.type].param(name).default


@dataclass(frozen=True)
class Repeat:
    """A chain of nodes (in order) repeated between ``min`` and ``max`` times."""

    id: str
    nodes: tuple[str, ...]
    min: int = 1
    max: int = 1


@dataclass(frozen=True)
class SearchSpace:
    """The whole spec: nodes, edges (``(source, target)``, merge inputs in edge order), repeat
    blocks and training settings."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    repeats: tuple[Repeat, ...] = ()
    training: Mapping[str, Any] = field(default_factory=dict)
    name: str = "custom"
    schema_version: int = SPEC_SCHEMA_VERSION

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def inputs_of(self, node_id: str) -> list[str]:
        return [a for a, b in self.edges if b == node_id]

    def outputs_of(self, node_id: str) -> list[str]:
        return [b for a, b in self.edges if a == node_id]

    def training_value(self, name: str) -> Any:
        return self.training.get(name, TRAINING_DEFAULTS[name])

    # -- JSON --

    def to_dict(self) -> dict[str, Any]:
        nodes = []
        for n in self.nodes:
            item: dict[str, Any] = {"id": n.id, "type": n.type,
                                    "params": {k: hp_to_json(v) for k, v in n.params.items()}}
            if n.optional:
                item["optional"] = True
            if n.position is not None:
                item["position"] = list(n.position)
            nodes.append(item)
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "nodes": nodes,
            "edges": [list(e) for e in self.edges],
            "repeats": [{"id": r.id, "nodes": list(r.nodes), "min": r.min, "max": r.max}
                        for r in self.repeats],
            "training": {k: hp_to_json(v) for k, v in self.training.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "spec") -> SearchSpace:
        """Parses and checks the structure of a spec (not yet its shapes: see :func:`validate`)."""
        if not isinstance(data, Mapping):
            raise SpecError(f"{source}: a search-space spec is a JSON object")
        version = check_schema_version(data, newest=SPEC_SCHEMA_VERSION, source=source, kind="spec",
                                       error=SpecError)
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            raise SpecError(f"{source}: the spec has no nodes")
        nodes = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_nodes):
            if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw["id"]:
                raise SpecError(f"{source}: node #{i + 1} has no id")
            node_id = raw["id"]
            if node_id in seen:
                raise SpecError(f"{source}: two nodes are called '{node_id}'", node=node_id)
            seen.add(node_id)
            kind = raw.get("type")
            if not isinstance(kind, str) or kind not in LAYER_TYPES:
                raise SpecError(f"{source}: node '{node_id}' has unknown layer type {kind!r}"
                                + _known_types_hint(kind), node=node_id)
            layer = LAYER_TYPES[kind]
            params_raw = raw.get("params", {}) or {}
            if not isinstance(params_raw, Mapping):
                raise SpecError(f"{source}: node '{node_id}' params must be an object", node=node_id)
            params = {}
            known = {p.name for p in layer.params}
            for key, value in params_raw.items():
                if key not in known:
                    raise SpecError(
                        f"{source}: node '{node_id}' ({kind}) has no param '{key}'"
                        + (f"; it takes {', '.join(sorted(known))}" if known else ""), node=node_id)
                params[key] = hp_from_json(value, f"{source}: node '{node_id}' param '{key}'", node_id)
                _check_param(layer.param(key), params[key], node_id, source)
            position = raw.get("position")
            nodes.append(Node(node_id, kind, params, bool(raw.get("optional", False)),
                              tuple(position) if isinstance(position, list) and len(position) == 2 else None))
        edges = []
        for raw in _json_list(data, "edges", source):
            if not isinstance(raw, (list, tuple)) or len(raw) != 2:
                raise SpecError(f"{source}: an edge must be [source, target], got {raw!r}")
            a, b = str(raw[0]), str(raw[1])
            for end in (a, b):
                if end not in seen:
                    raise SpecError(f"{source}: edge {a} → {b} names no node '{end}'", node=end)
            edges.append((a, b))
        repeats = []
        for raw in _json_list(data, "repeats", source):
            try:
                rep = Repeat(str(raw["id"]), tuple(str(n) for n in raw["nodes"]),
                             int(raw.get("min", 1)), int(raw.get("max", 1)))
            except (KeyError, TypeError, ValueError) as exc:
                raise SpecError(f"{source}: malformed repeat block {raw!r}") from exc
            if rep.min < 0 or rep.max < rep.min or rep.max > 64:
                raise SpecError(f"{source}: repeat block '{rep.id}' needs 0 ≤ min ≤ max ≤ 64",
                                node=rep.nodes[0] if rep.nodes else None)
            if not rep.nodes:
                raise SpecError(f"{source}: repeat block '{rep.id}' holds no nodes")
            for n in rep.nodes:
                if n not in seen:
                    raise SpecError(f"{source}: repeat block '{rep.id}' names no node '{n}'", node=n)
            repeats.append(rep)
        training_raw = data.get("training", {}) or {}
        if not isinstance(training_raw, Mapping):
            raise SpecError(f"{source}: 'training' must be an object")
        training = {}
        for key, value in training_raw.items():
            if key not in TRAINING_DEFAULTS and key not in OPTIMIZER_SETTINGS:
                raise SpecError(f"{source}: unknown training setting '{key}'; known: "
                                + ", ".join([*TRAINING_DEFAULTS, *OPTIMIZER_SETTINGS]))
            training[key] = hp_from_json(value, f"{source}: training '{key}'")
        _check_training(training, source)
        return cls(tuple(nodes), tuple(edges), tuple(repeats), training,
                   str(data.get("name", "custom")), version)

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Reads a spec file (errors as :func:`~automl_studio.engine.core.jsonfile.read_json_document`,
        then as :meth:`from_dict`)."""
        data = read_json_document(path, kind="spec file", error=SpecError, schema_version=SPEC_SCHEMA_VERSION)
        return cls.from_dict(data, source=str(Path(path)))


def _json_list(data: Mapping[str, Any], key: str, source: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise SpecError(f"{source}: '{key}' must be a list")
    return value


def _domain(value: Any) -> list[Any]:
    """The values a param may take, for checking (the ends of a range)."""
    if isinstance(value, IntRange) or isinstance(value, FloatRange):
        return [value.min, value.max]
    if isinstance(value, Choice):
        return list(value.values)
    if isinstance(value, Boolean):
        return [True, False]
    return [value]


def _check_param(pdef: ParamDef, value: Any, node_id: str, source: str) -> None:
    where = f"{source}: node '{node_id}' param '{pdef.name}'"
    for v in _domain(value):
        if pdef.kind == "int":
            if isinstance(value, FloatRange) or isinstance(v, bool) or not isinstance(v, int):
                raise SpecError(f"{where} must be a whole number, got {v!r}", node=node_id)
        elif pdef.kind == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SpecError(f"{where} must be a number, got {v!r}", node=node_id)
        elif pdef.kind == "bool":
            if not isinstance(v, bool):
                raise SpecError(f"{where} must be true or false, got {v!r}", node=node_id)
        elif pdef.kind == "choice":
            if v not in pdef.choices:
                raise SpecError(f"{where} must be one of {', '.join(map(str, pdef.choices))}; got {v!r}",
                                node=node_id)
        elif pdef.kind == "ints":
            if not isinstance(v, (tuple, list)) or not all(isinstance(d, int) for d in v):
                raise SpecError(f"{where} must be a list of whole numbers, got {v!r}", node=node_id)
            continue
        elif pdef.kind == "path":
            if is_hp(value) or not isinstance(v, str):
                raise SpecError(f"{where} must be a file's path, got {v!r}", node=node_id)
            continue
        if pdef.min is not None and v < pdef.min or pdef.max is not None and v > pdef.max:
            raise SpecError(f"{where} = {v} is outside {pdef.min}…{pdef.max}", node=node_id)


def _check_training(training: Mapping[str, Any], source: str) -> None:
    def domain(name: str) -> list[Any]:
        return _domain(training.get(name, TRAINING_DEFAULTS[name]))

    for v in domain("optimizer"):
        if v not in OPTIMIZERS:
            raise SpecError(f"{source}: unknown optimizer {v!r}; choose from {', '.join(OPTIMIZERS)}")
    for v in domain("lr_schedule"):
        if v not in LR_SCHEDULES:
            raise SpecError(f"{source}: unknown learning-rate schedule {v!r}; choose from "
                            + ", ".join(LR_SCHEDULES))
    for v in domain("target_transform"):
        if v not in TARGET_TRANSFORMS:
            raise SpecError(f"{source}: unknown target transform {v!r}; choose from {', '.join(TARGET_TRANSFORMS)}")
    for v in domain("loss"):
        if v not in LOSSES:
            raise SpecError(f"{source}: unknown loss {v!r}; choose from {', '.join(LOSSES)}")
    for v in domain("label_smoothing"):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= LABEL_SMOOTHING_MAX:
            raise SpecError(f"{source}: label smoothing must be in 0…{LABEL_SMOOTHING_MAX}, got {v!r}")
    for v in domain("class_weight"):
        if v not in CLASS_WEIGHTS:
            raise SpecError(f"{source}: unknown class weighting {v!r}; choose from {', '.join(CLASS_WEIGHTS)}")
    for v in domain("learning_rate"):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 10:
            raise SpecError(f"{source}: learning rate must be in (0, 10], got {v!r}")
    for name in ("batch_size", "epochs"):
        for v in domain(name):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise SpecError(f"{source}: training '{name}' must be a whole number ≥ 1, got {v!r}")
    for v in domain("patience"):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise SpecError(f"{source}: training 'patience' must be a whole number ≥ 0, got {v!r}")
    for name in EARLY_STOPPING_FIXED:
        if is_hp(training.get(name)):
            raise SpecError(f"{source}: training '{name}' is one value, not searched")
    for v in domain("min_delta"):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise SpecError(f"{source}: training 'min_delta' must be a number ≥ 0, got {v!r}")
    for v in domain("restore_best_weights"):
        if not isinstance(v, bool):
            raise SpecError(f"{source}: training 'restore_best_weights' must be true or false, got {v!r}")
    for name in ("l1", "l2", "clipnorm", "clipvalue"):
        for v in domain(name):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise SpecError(f"{source}: training '{name}' must be ≥ 0, got {v!r}")
    for name, pdef in OPTIMIZER_SETTINGS.items():
        if name not in training:
            continue
        # A setting no chosen optimizer takes is kept and unused (switching optimizer in the editor
        # must not make the spec invalid).
        for v in _domain(training[name]):
            if pdef.kind == "bool":
                if not isinstance(v, bool):
                    raise SpecError(f"{source}: training '{name}' must be true or false, got {v!r}")
            elif (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
                  or not pdef.min <= v <= pdef.max):  # type: ignore[operator]
                raise SpecError(f"{source}: training '{name}' must be a number in "
                                f"{pdef.min}…{pdef.max}, got {v!r}")


# --- instantiation: one concrete network for one set of values ------------------------------

Chooser = Callable[[str, HyperParameter], Any]
"""Given a hyperparameter's name and definition, returns the value to use."""


@dataclass(frozen=True)
class ConcreteNode:
    """A node with every param fixed; ``id`` carries a ``#i`` suffix inside repeat copies."""

    id: str
    type: str
    params: Mapping[str, Any]
    inputs: tuple[str, ...]
    spec_id: str


def resolve(value: Any, name: str, choose: Chooser) -> Any:
    return choose(name, value) if is_hp(value) else value


def instantiate(space: SearchSpace, choose: Chooser) -> list[ConcreteNode]:
    """Expands repeats and optional nodes and fixes every param, in topological order.

    ``choose`` is asked for every hyperparameter that is active for the values chosen so far
    (the copies beyond a repeat count, and the params of skipped nodes, are never asked).
    Raises :class:`SpecError` for structural faults (cycles, malformed repeat chains).
    """
    order = topological_order(space)
    repeat_of: dict[str, Repeat] = {}
    for block in space.repeats:
        _check_chain(space, block)
        for n in block.nodes:
            if n in repeat_of:
                raise SpecError(f"node '{n}' is in two repeat blocks", node=n)
            repeat_of[n] = block
    alias: dict[str, str | None] = {}  # spec node id -> concrete id that carries its output
    out: list[ConcreteNode] = []
    done_repeats: set[str] = set()

    def concrete_inputs(node_id: str) -> tuple[str, ...]:
        result = []
        for src in space.inputs_of(node_id):
            mapped = alias.get(src)
            if mapped is not None:
                result.append(mapped)
        return tuple(result)

    def emit(node: Node, suffix: str, inputs: tuple[str, ...]) -> str | None:
        cid = node.id + suffix
        if node.optional:
            if not choose(f"{node.id}.enabled{_dot(suffix)}", Boolean()):
                return inputs[0] if inputs else None
        params = {}
        for pdef in LAYER_TYPES[node.type].params:
            value = node.params.get(pdef.name, pdef.default)
            params[pdef.name] = resolve(value, f"{node.id}.{pdef.name}{_dot(suffix)}", choose)
        out.append(ConcreteNode(cid, node.type, params, inputs, node.id))
        return cid

    for node_id in order:
        rep = repeat_of.get(node_id)
        if rep is None:
            alias[node_id] = emit(space.node(node_id), "", concrete_inputs(node_id))
            continue
        if rep.id in done_repeats:
            continue
        done_repeats.add(rep.id)
        count = rep.min if rep.min == rep.max else choose(f"{rep.id}.repeats", IntRange(rep.min, rep.max))
        current = alias.get(space.inputs_of(rep.nodes[0])[0]) if space.inputs_of(rep.nodes[0]) else None
        for i in range(int(count)):
            for n in rep.nodes:
                produced = emit(space.node(n), f"#{i}", (current,) if current else ())
                current = produced
        for n in rep.nodes:
            alias[n] = current
    return out


def fixed_chooser(values: Mapping[str, Any]) -> Chooser:
    """Chooses from a dict of values (a trial's), else the smallest value of each range."""

    def choose(name: str, d: Any) -> Any:
        if name in values:
            return values[name]
        if isinstance(d, (IntRange, FloatRange)):
            return d.min
        if isinstance(d, Choice):
            return d.values[0]
        return False

    return choose


def _dot(suffix: str) -> str:
    return "." + suffix[1:] if suffix else ""


def topological_order(space: SearchSpace) -> list[str]:
    """Node ids in an order where every node follows its inputs; a cycle is a SpecError."""
    indegree = {n.id: 0 for n in space.nodes}
    for _, b in space.edges:
        indegree[b] += 1
    ready = [n.id for n in space.nodes if indegree[n.id] == 0]
    order = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for b in space.outputs_of(current):
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    if len(order) != len(space.nodes):
        stuck = [n for n in indegree if indegree[n] > 0 and n not in order]
        raise SpecError(f"the graph has a cycle through '{stuck[0]}'", node=stuck[0])
    return order


def _check_chain(space: SearchSpace, rep: Repeat) -> None:
    first = rep.nodes[0]
    if len(space.inputs_of(first)) != 1:
        raise SpecError(f"repeat block '{rep.id}' must start with a node that has one input "
                        f"('{first}' has {len(space.inputs_of(first))})", node=first)
    for prev, nxt in zip(rep.nodes, rep.nodes[1:], strict=False):
        if space.inputs_of(nxt) != [prev] or space.outputs_of(prev) != [nxt]:
            raise SpecError(f"repeat block '{rep.id}' must be a simple chain: '{prev}' → '{nxt}'",
                            node=nxt)
    for n in rep.nodes:
        if LAYER_TYPES[space.node(n).type].inputs != "one":
            raise SpecError(f"repeat block '{rep.id}': '{n}' ({space.node(n).type}) cannot repeat",
                            node=n)


def hyperparameter_items(space: SearchSpace) -> Iterable[tuple[str, HyperParameter]]:
    """Every hyperparameter the space may ask for, with its name (repeat copies included)."""
    repeat_of = {n: rep for rep in space.repeats for n in rep.nodes}
    for rep in space.repeats:
        if rep.min != rep.max:
            yield f"{rep.id}.repeats", IntRange(rep.min, rep.max)
    for node in space.nodes:
        owner = repeat_of.get(node.id)
        suffixes = [f".{i}" for i in range(owner.max)] if owner else [""]
        for suffix in suffixes:
            if node.optional:
                yield f"{node.id}.enabled{suffix}", Boolean()
            for key, value in node.params.items():
                if is_hp(value):
                    yield f"{node.id}.{key}{suffix}", value
    for key, value in space.training.items():
        if is_hp(value):
            yield f"training.{key}", value


def count_configurations(space: SearchSpace) -> float:
    """How many distinct configurations the space holds (``math.inf`` if any range is continuous)."""
    repeat_of = {n: rep for rep in space.repeats for n in rep.nodes}
    total = 1.0

    def node_cardinality(node: Node) -> float:
        c = 1.0
        for value in node.params.values():
            if is_hp(value):
                c *= value.cardinality()
        # A skipped node's params are never asked, so "off" is one configuration, not c.
        return c + 1 if node.optional else c

    for node in space.nodes:
        if node.id not in repeat_of:
            total *= node_cardinality(node)
    for rep in space.repeats:
        per_copy = 1.0
        for n in rep.nodes:
            per_copy *= node_cardinality(space.node(n))
        try:
            total *= sum(per_copy ** k for k in range(rep.min, rep.max + 1))
        except OverflowError:  # float ** int raises rather than giving inf
            total = math.inf
    for value in space.training.values():
        if is_hp(value):
            total *= value.cardinality()
    return total


def _known_types_hint(kind: object) -> str:
    """The closest known layer types to a misspelt ``kind`` (difflib's ratio), else where all
    of them are listed: the whole list (50-odd names) made a one-line message unreadable."""
    close = difflib.get_close_matches(kind, LAYER_TYPES, n=3) if isinstance(kind, str) else []
    if close:
        return "; did you mean " + " or ".join(repr(name) for name in close) + "?"
    return "; the Network page's palette lists the known types"
