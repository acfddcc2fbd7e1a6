"""What edits a search-space graph allows, on the spec's plain JSON (no widgets).

The editor asks these before it pushes an undo command: may ``a → b`` be drawn, may a selection
become a repeat block, is a typed name a usable layer name, and what the graph's check says
(:func:`check_spec`, the engine's own :func:`~automl_studio.engine.space.shapes.analyse`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.shapes import Analysis, analyse
from automl_studio.engine.space.spec import LAYER_TYPES, SearchSpace

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")  # dots and '#' would clash with hp names


def empty_spec() -> dict[str, Any]:
    """A spec with no layers (the engine's JSON)."""
    return {"schema_version": 1, "name": "custom", "nodes": [], "edges": [], "repeats": [], "training": {}}


def taken_ids(spec: Mapping[str, Any]) -> set[str]:
    """The ids of the spec's layers and repeat blocks (one namespace: both name hyperparameters)."""
    return {n["id"] for n in spec["nodes"]} | {r["id"] for r in spec.get("repeats", [])}


def node_base_id(kind: str, params: Mapping[str, Any]) -> str:
    """The id a new layer of this type starts from (the registry's prefix, e.g. ``dense``)."""
    return LAYER_TYPES[kind].node_id_base(params)


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``… — the first not in ``taken``."""
    if base not in taken:
        return base
    k = 2
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"


def name_problem(spec: Mapping[str, Any], new_id: str) -> str:
    """Why ``new_id`` cannot name a layer ('' when it can)."""
    if not NAME_PATTERN.fullmatch(new_id):
        return f"'{new_id}' is not a layer name: use letters, digits, _ and - (no dots)"
    if new_id in taken_ids(spec):
        return f"there is already a layer or block called '{new_id}'"
    return ""


def can_connect(spec: Mapping[str, Any], source: str, dest: str,
                new_dest: Mapping[str, Any] | None = None) -> tuple[bool, str]:
    """Whether ``source → dest`` may be drawn, and if not, why.

    Args:
        new_dest: a layer about to be added (it is not in the spec yet).
    """
    nodes = {n["id"]: n for n in spec["nodes"]}
    if new_dest is not None:
        nodes[new_dest["id"]] = new_dest
    if source not in nodes or dest not in nodes:
        return False, "connect two layers"
    if source == dest:
        return False, "a layer cannot feed itself"
    if LAYER_TYPES[nodes[source]["type"]].role == "output":
        return False, f"the {nodes[source]['type']} is the end of the network; nothing can follow it"
    if LAYER_TYPES[nodes[dest]["type"]].inputs == "none":
        return False, f"an {nodes[dest]['type']} ('{dest}') reads the dataset and takes no input"
    if [source, dest] in spec["edges"]:
        return False, f"{source} → {dest} is already connected"
    # dest must not already reach source, or the edge closes a cycle
    stack, seen = [dest], set()
    while stack:
        current = stack.pop()
        if current == source:
            return False, f"{source} → {dest} would make a cycle"
        for a, b in spec["edges"]:
            if a == current and b not in seen:
                seen.add(b)
                stack.append(b)
    return True, ""


def repeatable_chain(spec: Mapping[str, Any], node_ids: Iterable[str]) -> tuple[list[str] | None, str]:
    """The nodes in chain order if they can form a repeat block, else (None, why not)."""
    ids = list(dict.fromkeys(node_ids))
    if not ids:
        return None, "Select a chain of layers to repeat it."
    in_repeat = {n for r in spec.get("repeats", []) for n in r["nodes"]}
    nodes = {n["id"]: n for n in spec["nodes"]}
    for n in ids:
        if n not in nodes:
            return None, f"there is no layer '{n}'"
        if n in in_repeat:
            return None, f"'{n}' is already in a repeat block"
        kind = nodes[n]["type"]
        if not LAYER_TYPES[kind].can_be_optional:
            return None, f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind} layer cannot repeat"
    inputs = {n: [a for a, b in spec["edges"] if b == n] for n in ids}
    outputs = {n: [b for a, b in spec["edges"] if a == n] for n in ids}
    firsts = [n for n in ids if not any(src in ids for src in inputs[n])]
    if len(firsts) != 1:
        return None, "the selected layers must form one chain"
    chain = [firsts[0]]
    while len(chain) < len(ids):
        nxt = [b for b in outputs[chain[-1]] if b in ids]
        if len(nxt) != 1 or outputs[chain[-1]] != nxt or inputs[nxt[0]] != [chain[-1]]:
            return None, "the selected layers must form a simple chain (no branches inside)"
        chain.append(nxt[0])
    if len(inputs[chain[0]]) != 1:
        return None, f"the chain must start with a layer that has one input ('{chain[0]}')"
    return chain, ""


@dataclass
class Check:
    """What :func:`check_spec` found: searchable or not (and why), per-layer problems, shapes."""

    valid: bool
    reason: str
    analysis: Analysis | None = None
    node_errors: dict[str, list[str]] = field(default_factory=dict)


def check_spec(spec: Mapping[str, Any], signature: DataSignature | None) -> Check:
    """Checks a spec as the search will: its JSON, then (with a dataset) its shapes."""
    if not spec["nodes"]:
        return Check(False, "The network is empty: add an Input, some layers and an Output.")
    try:
        space = SearchSpace.from_dict(dict(spec), source="network")
    except SpecError as exc:
        return Check(False, exc.message, node_errors={exc.node: [exc.message]} if exc.node else {})
    if signature is None:
        return Check(False, "Open a dataset to check the network's shapes.")
    analysis = analyse(space, signature)
    errors: dict[str, list[str]] = {}
    for issue in analysis.issues:
        if issue.node is not None:
            errors.setdefault(issue.node, []).append(issue.message)
    if analysis.issues:
        first = analysis.issues[0].message
        more = len(analysis.issues) - 1
        reason = first[0].upper() + first[1:] + (f" (and {more} more problem{'s' if more > 1 else ''})"
                                                 if more else "")
        return Check(False, reason, analysis, errors)
    return Check(True, "", analysis, errors)


__all__ = ["NAME_PATTERN", "Check", "can_connect", "check_spec", "empty_spec", "name_problem", "node_base_id",
           "repeatable_chain", "taken_ids", "unique_id"]
