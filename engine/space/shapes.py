"""Shape and parameter-count inference for a spec, in plain Python (no Keras).

The visual editor calls :func:`analyse` on every edit, so this must stay fast (a 100-node graph
well under 50 ms). Each layer type's own rule is declared in
:mod:`automl_studio.engine.space.registry`; tests check every registered type against Keras' own
output shapes and ``count_params()``. Shapes leave out the batch axis; ``None`` is an unknown length.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.losses import loss_problem
from automl_studio.engine.space.registry import (  # noqa: F401 - re-exported for the editor
    LAYER_TYPES,
    Shape,
    ShapeError,
    format_shape,
    head_units,
)
from automl_studio.engine.space.spec import (
    Boolean,
    Choice,
    FloatRange,
    IntRange,
    SearchSpace,
    count_configurations,
    instantiate,
)


@dataclass(frozen=True)
class NodeIssue:
    """A problem found in the graph; ``node`` is the spec node to mark (None: the whole graph)."""

    node: str | None
    message: str


@dataclass(frozen=True)
class NodeInfo:
    """One node's output shape and parameter count (a range when the space varies)."""

    shape: Shape | None
    params_min: int
    params_max: int
    shape_min: Shape | None = None  # the smallest network's, where it differs from ``shape``

    def shape_text(self) -> str:
        """``(4,)``, or ``(4…64,)`` where the space varies the shape (its smallest and largest
        networks', smaller first: an embedding may be narrower than the one-hot codes)."""
        small, large = self.shape_min, self.shape
        if small is None or large is None or len(small) != len(large) or small == large:
            return format_shape(large)
        return ("(" + ", ".join("?" if a is None or b is None else str(b) if a == b
                                else f"{min(a, b)}…{max(a, b)}" for a, b in zip(small, large, strict=True))
                + ("," if len(large) == 1 else "") + ")")


@dataclass(frozen=True)
class Analysis:
    """What the editor shows: per-node shapes/params, problems, size of the space."""

    nodes: Mapping[str, NodeInfo]
    issues: tuple[NodeIssue, ...]
    configurations: float
    params_min: int
    params_max: int
    head_units: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.issues

    def issues_for(self, node_id: str) -> list[str]:
        return [i.message for i in self.issues if i.node == node_id]


def layer_output(kind: str, params: Mapping[str, Any], inputs: list[Shape],
                 signature: DataSignature) -> tuple[Shape, int]:
    """Output shape and parameter count of one layer for its input shapes (its registry rule)."""
    layer = LAYER_TYPES.get(kind)
    if layer is None or layer.shape is None:
        raise ShapeError(f"unknown layer type {kind}")
    if layer.inputs != "none":
        if not inputs:
            raise ShapeError("has no input; connect one")
        if layer.inputs == "one" and len(inputs) > 1:
            raise ShapeError(f"takes one input but {len(inputs)} are connected; merge them first")
    return layer.shape(inputs, params, signature)


def _chooser(mode: str):
    """Picks a value per hyperparameter: ``low`` (small models) or ``high`` (large ones)."""

    def choose(name: str, hp: Any) -> Any:
        if isinstance(hp, Boolean):
            return mode == "high"
        if isinstance(hp, IntRange):
            return hp.min if mode == "low" else range(hp.min, hp.max + 1, hp.step)[-1]
        if isinstance(hp, FloatRange):
            return hp.min if mode == "low" else hp.max
        if isinstance(hp, Choice):
            values = hp.values
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                return min(values) if mode == "low" else max(values)
            return values[0] if mode == "low" else values[-1]
        raise TypeError(hp)

    return choose


def _structure_chooser(params_mode: str, structure_mode: str):
    params, structure = _chooser(params_mode), _chooser(structure_mode)

    def choose(name: str, hp: Any) -> Any:
        if name.endswith(".repeats") or ".enabled" in name:
            return structure(name, hp)
        return params(name, hp)

    return choose


def evaluate(space: SearchSpace, signature: DataSignature, choose) -> tuple[dict[str, tuple[Shape, int]], list[NodeIssue]]:
    """Shapes and params of one concrete network; problems are returned, not raised."""
    results: dict[str, tuple[Shape, int]] = {}
    issues: list[NodeIssue] = []
    try:
        nodes = instantiate(space, choose)
    except SpecError as exc:
        return results, [NodeIssue(exc.node, exc.message)]
    failed: set[str] = set()
    for node in nodes:
        if any(i in failed for i in node.inputs):
            failed.add(node.id)
            continue
        try:
            results[node.id] = layer_output(node.type, node.params,
                                            [results[i][0] for i in node.inputs], signature)
        except ShapeError as exc:
            failed.add(node.id)
            issues.append(NodeIssue(node.spec_id, f"{node.type} '{node.spec_id}' {exc}"))
    return results, issues


def _structural_issues(space: SearchSpace, signature: DataSignature) -> list[NodeIssue]:
    issues = []
    outputs = [n for n in space.nodes if LAYER_TYPES[n.type].role == "output"]
    if len(outputs) != 1:
        issues.append(NodeIssue(outputs[1].id if len(outputs) > 1 else None,
                                "the graph needs exactly one Output node"
                                + (f" (it has {len(outputs)})" if outputs else "")))
    if not any(LAYER_TYPES[n.type].role == "input" for n in space.nodes):
        issues.append(NodeIssue(None, "the graph has no Input node"))
    for node in space.nodes:
        layer = LAYER_TYPES[node.type]
        kind = layer.inputs
        n_in = len(space.inputs_of(node.id))
        if kind == "none" and n_in:
            issues.append(NodeIssue(node.id, f"{node.type} '{node.id}' cannot have incoming edges"))
        elif kind == "one" and n_in == 0:
            issues.append(NodeIssue(node.id, f"{node.type} '{node.id}' has a dangling input; connect one"))
        elif kind == "many" and n_in < 2:
            issues.append(NodeIssue(node.id, f"{node.type} '{node.id}' needs at least two inputs, has {n_in}"))
        if node.optional and not layer.can_be_optional:
            issues.append(NodeIssue(node.id, f"{node.type} '{node.id}' cannot be optional"))
        if layer.role == "output" and space.outputs_of(node.id):
            issues.append(NodeIssue(node.id, f"the {node.type} node cannot feed other nodes"))
        issues.extend(_one_weights_file_per_backbone(node))
    if len(outputs) == 1:
        reaching = _ancestors(space, outputs[0].id)
        for node in space.nodes:
            if node.id not in reaching and node.id != outputs[0].id:
                issues.append(NodeIssue(node.id, f"{node.type} '{node.id}' does not lead to the Output"))
    problem = loss_problem(space.training, signature.task, signature.n_classes)
    if problem:
        issues.append(NodeIssue(outputs[0].id if outputs else None, problem))
    if signature.task == "classification" and signature.n_classes < 2:
        issues.append(NodeIssue(outputs[0].id if outputs else None,
                                "the head does not fit the task: classification needs two classes"))
    return issues


def _one_weights_file_per_backbone(node: Any) -> list[NodeIssue]:
    """A Backbone's weights file holds one network's weights: a search over several backbones
    cannot share it (each value is checked alone, and alone each looks fine)."""
    if node.type != "Backbone":
        return []
    weights, backbone = node.params.get("weights"), node.params.get("backbone")
    uses_file = weights == "file" or isinstance(weights, Choice) and "file" in weights.values
    if not (uses_file and node.params.get("weights_file") and isinstance(backbone, Choice)
            and len(backbone.values) > 1):
        return []
    return [NodeIssue(node.id, f"Backbone '{node.id}': one weights file cannot hold the weights of every "
                               f"backbone searched ({', '.join(map(str, backbone.values))}); search one "
                               "backbone with this file, or use the imagenet weights")]


def _ancestors(space: SearchSpace, node_id: str) -> set[str]:
    seen, stack = set(), [node_id]
    while stack:
        current = stack.pop()
        for src in space.inputs_of(current):
            if src not in seen:
                seen.add(src)
                stack.append(src)
    return seen


def _each_value_choosers(space: SearchSpace) -> Iterator[Any]:
    """Small networks with each combination of the values of a node's searched choices that
    are checked each (:attr:`~automl_studio.engine.space.registry.ParamDef.check_each`): a
    Backbone's every backbone and weights source, whose files the three networks may not reach."""
    low = _structure_chooser("low", "low")
    for node in space.nodes:
        searched = [(f"{node.id}.{pdef.name}", node.params[pdef.name].values)
                    for pdef in LAYER_TYPES[node.type].params
                    if pdef.check_each and isinstance(node.params.get(pdef.name), Choice)]
        if not searched:
            continue
        for combination in itertools.product(*(values for _, values in searched)):
            pinned = dict(zip((name for name, _ in searched), combination, strict=True))
            yield _pinning(low, pinned)


def _pinning(choose: Any, pinned: Mapping[str, Any]) -> Any:
    """``choose``, but the hyperparameters named in ``pinned`` (and their repeat copies, with a
    ``.i`` suffix) take the value given there."""

    def pinned_choose(name: str, hp: Any) -> Any:
        base = name.rsplit(".", 1)[0] if name.rsplit(".", 1)[-1].isdigit() else name
        return pinned[base] if base in pinned else choose(name, hp)

    return pinned_choose


def analyse(space: SearchSpace, signature: DataSignature) -> Analysis:
    """Validates a spec against a dataset and measures it.

    Three networks are checked: the smallest (params at their minimum, repeats at their
    minimum, optional layers off), the largest (all at maximum, optional layers on), and the
    deepest small one (params at minimum, repeats at maximum) — the one most likely to shrink an
    image to nothing. Param-count ranges come from the smallest and largest.
    """
    issues = _structural_issues(space, signature)
    if any(i.message.startswith("the graph has a cycle") for i in issues):
        return Analysis({}, tuple(issues), 0, 0, 0)
    variants = {
        "small": _structure_chooser("low", "low"),
        "large": _structure_chooser("high", "high"),
        "deep": _structure_chooser("low", "high"),
    }
    evaluated: dict[str, dict[str, tuple[Shape, int]]] = {}
    for name, choose in variants.items():
        results, found = evaluate(space, signature, choose)
        evaluated[name] = results
        for issue in found:
            if issue not in issues:
                issues.append(issue)
    for choose in _each_value_choosers(space):
        for issue in evaluate(space, signature, choose)[1]:
            if issue not in issues:
                issues.append(issue)
    nodes: dict[str, NodeInfo] = {}
    large = evaluated["large"]
    small = evaluated["small"]
    for node in space.nodes:
        copies = [cid for cid in large if cid == node.id or cid.startswith(node.id + "#")]
        small_copies = [cid for cid in small if cid == node.id or cid.startswith(node.id + "#")]
        shape = large[copies[-1]][0] if copies else (small[small_copies[-1]][0] if small_copies else None)
        p_max = max((large[c][1] for c in copies), default=0)
        p_min = min((small[c][1] for c in small_copies), default=0)
        shape_min = small[small_copies[-1]][0] if small_copies else None
        nodes[node.id] = NodeInfo(shape, min(p_min, p_max), max(p_min, p_max),
                                  shape_min if shape_min != shape else None)
    total_small = sum(p for _, p in small.values())
    total_large = sum(p for _, p in large.values())
    return Analysis(
        nodes=nodes, issues=tuple(issues), configurations=count_configurations(space),
        params_min=min(total_small, total_large), params_max=max(total_small, total_large),
        head_units=head_units(signature),
    )


def validate(space: SearchSpace, signature: DataSignature) -> None:
    """Raises a :class:`SpecError` naming the first offending node, if any."""
    analysis = analyse(space, signature)
    if analysis.issues:
        first = analysis.issues[0]
        more = f" (and {len(analysis.issues) - 1} more problems)" if len(analysis.issues) > 1 else ""
        raise SpecError(first.message + more, node=first.node)


def space_summary(space: SearchSpace, signature: DataSignature) -> dict[str, Any]:
    """A small JSON summary of a space for events and the window."""
    analysis = analyse(space, signature)
    configs = analysis.configurations
    return {
        "name": space.name,
        "nodes": len(space.nodes),
        "configurations": None if math.isinf(configs) else int(configs),
        "continuous": math.isinf(configs),
        "params_min": analysis.params_min,
        "params_max": analysis.params_max,
    }
