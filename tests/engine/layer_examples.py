"""One small network per registered layer type, for the suites that iterate over the registry.

Each type declares ``example``: input shapes it accepts with its default params. Here those
shapes become a dataset (rank 1: numeric columns, rank 2: a sequence, rank 3: an image) and the
type a node between Input nodes and a Flatten before the Output,
with every searchable param fixed or, with ``searched``, a small range around its default (but the
type's ``example_params``, which stay fixed).
"""

from __future__ import annotations

from typing import Any

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.registry import LAYER_TYPES, LayerType, ParamDef

SOURCE_BY_RANK = {1: "numeric", 2: "sequence", 3: "image"}


def layer_kinds() -> list[str]:
    """Every registered type that is a layer (Input and Output are in every example network)."""
    return [name for name, layer in LAYER_TYPES.items() if layer.role == "layer"]


def example_signature(layer: LayerType, task: str = "classification", n_classes: int = 3) -> DataSignature:
    inputs: dict[str, tuple[int, ...]] = {}
    for shape in layer.example:
        source = SOURCE_BY_RANK[len(shape)]
        assert inputs.get(source, shape) == shape, f"{layer.name}: example inputs of one rank must agree"
        inputs[source] = tuple(shape)  # type: ignore[arg-type]
    width = inputs.get("numeric", (0,))[0]
    return DataSignature(task=task, n_classes=n_classes if task == "classification" else 0, inputs=inputs,
                         numeric_mean=tuple(0.5 * i for i in range(width)),
                         numeric_variance=tuple(1.0 + i for i in range(width)),
                         image_scale=1 / 255, target_mean=2.0, target_std=3.0)


def searched_value(pdef: ParamDef) -> Any:
    """A small hyperparameter around a param's default (the default itself where none fits)."""
    if not pdef.searchable:
        return pdef.default
    if pdef.kind == "int":
        high = pdef.max if pdef.max is not None else pdef.default + 1
        lo, hi = (pdef.default, pdef.default + 1) if pdef.default + 1 <= high else (pdef.default - 1, pdef.default)
        return {"hp": "int", "min": lo, "max": hi}
    if pdef.kind == "float":
        top = pdef.max if pdef.max is not None else pdef.default + 0.1
        hi = min(top, pdef.default + 0.1)
        lo = pdef.default if hi > pdef.default else pdef.default - 0.1
        return {"hp": "float", "min": float(lo), "max": float(hi)}
    if pdef.kind == "choice":
        others = [c for c in pdef.choices if c != pdef.default]
        return {"hp": "choice", "values": [pdef.default, *others[:1]]}
    if pdef.kind == "bool":
        return {"hp": "bool"}
    return list(pdef.default) if isinstance(pdef.default, tuple) else pdef.default


def example_spec(kind: str, *, searched: bool = False, node_id: str | None = None) -> dict[str, Any]:
    """Input node(s) → ``kind`` → (Flatten) → Output, as a spec document."""
    layer = LAYER_TYPES[kind]
    node_id = node_id or layer.node_id_base({})
    params = {p.name: searched_value(p) for p in layer.params} if searched else {}
    params.update(layer.example_params)  # fixed: a Backbone's weights none (tests cannot download)
    nodes: list[dict[str, Any]] = []
    edges: list[list[str]] = []
    for i, shape in enumerate(layer.example):
        input_id = f"in_{i}"
        nodes.append({"id": input_id, "type": "Input", "params": {"source": SOURCE_BY_RANK[len(shape)]}})
        edges.append([input_id, node_id])
    nodes.append({"id": node_id, "type": kind, "params": params})
    # Flattened for the head whatever its output (a searched param may change the rank).
    nodes.append({"id": "flat", "type": "Flatten", "params": {}})
    edges.append([node_id, "flat"])
    nodes.append({"id": "head", "type": "Output", "params": {}})
    edges.append(["flat", "head"])
    return {"schema_version": 1, "name": f"{kind} example", "nodes": nodes, "edges": edges,
            "repeats": [], "training": {}}
