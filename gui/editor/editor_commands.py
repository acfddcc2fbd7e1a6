"""Undo commands for the network editor: every edit of the search-space graph is one of these.

Each command edits a copy of the engine's spec dict (nothing else holds the graph) and keeps the
spec from before, so undo restores it exactly. The editor passes itself as the ``target``: an
object with ``current_spec() -> dict`` and ``apply_spec(spec)``, which redraws and re-checks.
Edits of the same param (or repeat range) in a row merge, so stepping a spin box is one undo
step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

_MERGE_IDS = {"param": 1002, "repeat_range": 1003, "training": 1004}


class SpecTarget(Protocol):
    """What commands edit: the editor's spec."""

    def current_spec(self) -> dict[str, Any]: ...

    def apply_spec(self, spec: dict[str, Any]) -> None: ...


def node_index(spec: Mapping[str, Any], node_id: str) -> int:
    for i, node in enumerate(spec["nodes"]):
        if node["id"] == node_id:
            return i
    raise KeyError(node_id)


class SpecCommand(QUndoCommand):
    """Base: ``edit(spec)`` changes a copy of the spec in place; undo puts the old one back."""

    def __init__(self, target: SpecTarget, text: str) -> None:
        super().__init__(text)
        self.target = target
        self.before: dict[str, Any] | None = None
        self.after: dict[str, Any] | None = None

    def edit(self, spec: dict[str, Any]) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        if self.after is None:
            self.before = copy.deepcopy(self.target.current_spec())
            after = copy.deepcopy(self.before)
            self.edit(after)
            # Once edited, a template's spec is a plain graph: the search must not re-lay it.
            after.pop("template", None)
            self.after = after
        self.target.apply_spec(copy.deepcopy(self.after))

    def undo(self) -> None:
        assert self.before is not None
        self.target.apply_spec(copy.deepcopy(self.before))


class AddNodesCommand(SpecCommand):
    """Adds nodes (a palette drop, or a paste with the edges and repeat blocks among them)."""

    def __init__(self, target: SpecTarget, nodes: Iterable[dict[str, Any]],
                 edges: Iterable[Iterable[str]] = (), repeats: Iterable[dict[str, Any]] = (),
                 text: str | None = None) -> None:
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = [list(e) for e in edges]
        self.repeats = [copy.deepcopy(r) for r in repeats]
        if text is None:
            text = (f"Add {self.nodes[0]['type']}" if len(self.nodes) == 1
                    else f"Add {len(self.nodes)} layers")
        super().__init__(target, text)

    def edit(self, spec: dict[str, Any]) -> None:
        spec["nodes"].extend(self.nodes)
        spec["edges"].extend(self.edges)
        spec.setdefault("repeats", []).extend(self.repeats)


class AddNodeCommand(AddNodesCommand):
    """Adds one node of a layer type at a position."""

    def __init__(self, target: SpecTarget, node: dict[str, Any]) -> None:
        super().__init__(target, [node])


def bridged_edges(edges: Iterable[Iterable[str]], removed: Iterable[str]) -> list[list[str]]:
    """The edges once ``removed`` go, each removed node's single input joined to its outputs.

    Nodes are taken out one at a time, so deleting a run of a chain joins its ends. A node with
    no input or several (a merge) is just cut out.
    """
    result = [list(e) for e in edges]
    for node in removed:
        inputs = [a for a, b in result if b == node]
        outputs = [b for a, b in result if a == node]
        result = [e for e in result if node not in e]
        if len(inputs) == 1:
            for dest in outputs:
                if dest != inputs[0] and [inputs[0], dest] not in result:
                    result.append([inputs[0], dest])
    return result


class RemoveNodesCommand(SpecCommand):
    """Removes nodes with their edges; repeat blocks lose them (and go when empty)."""

    def __init__(self, target: SpecTarget, node_ids: Iterable[str], *, bridge: bool = False) -> None:
        """Args:
            bridge: join a removed layer's single input to each of its outputs, so deleting a
                layer from the middle of a chain keeps the chain whole.
        """
        self.node_ids = list(dict.fromkeys(node_ids))
        self.bridge = bridge
        super().__init__(target, f"Delete {self.node_ids[0]}" if len(self.node_ids) == 1
                         else f"Delete {len(self.node_ids)} layers")

    def edit(self, spec: dict[str, Any]) -> None:
        gone = set(self.node_ids)
        if self.bridge:
            spec["edges"] = bridged_edges(spec["edges"], self.node_ids)
        spec["nodes"] = [n for n in spec["nodes"] if n["id"] not in gone]
        spec["edges"] = [e for e in spec["edges"] if e[0] not in gone and e[1] not in gone]
        repeats = []
        for rep in spec.get("repeats", []):
            rep["nodes"] = [n for n in rep["nodes"] if n not in gone]
            if rep["nodes"]:
                repeats.append(rep)
        spec["repeats"] = repeats


class MoveNodesCommand(SpecCommand):
    """Moves nodes to new positions (a drag, or an auto-layout)."""

    def __init__(self, target: SpecTarget, positions: Mapping[str, tuple[float, float]],
                 text: str = "Move") -> None:
        self.positions = {k: [round(float(v[0]), 1), round(float(v[1]), 1)] for k, v in positions.items()}
        super().__init__(target, text)

    def edit(self, spec: dict[str, Any]) -> None:
        for node in spec["nodes"]:
            if node["id"] in self.positions:
                node["position"] = list(self.positions[node["id"]])


class ConnectCommand(SpecCommand):
    """Adds the edge ``source → target``; a one-input layer's old input edge is replaced."""

    def __init__(self, target: SpecTarget, source: str, dest: str, replace: bool) -> None:
        self.source, self.dest, self.replace = source, dest, replace
        super().__init__(target, f"Connect {source} → {dest}")

    def edit(self, spec: dict[str, Any]) -> None:
        if self.replace:
            spec["edges"] = [e for e in spec["edges"] if e[1] != self.dest]
        spec["edges"].append([self.source, self.dest])


class DisconnectCommand(SpecCommand):
    """Removes edges (each ``[source, target]``; one occurrence each)."""

    def __init__(self, target: SpecTarget, edges: Iterable[Iterable[str]]) -> None:
        self.edges = [list(e) for e in edges]
        first = self.edges[0]
        super().__init__(target, f"Disconnect {first[0]} → {first[1]}" if len(self.edges) == 1
                         else f"Disconnect {len(self.edges)} edges")

    def edit(self, spec: dict[str, Any]) -> None:
        for edge in self.edges:
            if edge in spec["edges"]:
                spec["edges"].remove(edge)


class ChangeParamCommand(SpecCommand):
    """Sets one param of a node to a fixed value or a hyperparameter dict (``None``: default)."""

    def __init__(self, target: SpecTarget, node_id: str, name: str, value: Any) -> None:
        self.node_id, self.name, self.value = node_id, name, copy.deepcopy(value)
        super().__init__(target, f"Change {node_id}.{name}")

    def edit(self, spec: dict[str, Any]) -> None:
        node = spec["nodes"][node_index(spec, self.node_id)]
        params = node.setdefault("params", {})
        if self.value is None:
            params.pop(self.name, None)
        else:
            params[self.name] = copy.deepcopy(self.value)

    def id(self) -> int:
        return _MERGE_IDS["param"]

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ChangeParamCommand) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.value, self.after = other.value, other.after
        return True


class ChangeTrainingCommand(SpecCommand):
    """Sets one training setting (optimizer, learning rate...) to a value or a hyperparameter."""

    def __init__(self, target: SpecTarget, name: str, value: Any) -> None:
        self.name, self.value = name, copy.deepcopy(value)
        super().__init__(target, f"Change training {name}")

    def edit(self, spec: dict[str, Any]) -> None:
        spec.setdefault("training", {})[self.name] = copy.deepcopy(self.value)

    def id(self) -> int:
        return _MERGE_IDS["training"]

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ChangeTrainingCommand) or other.name != self.name:
            return False
        self.value, self.after = other.value, other.after
        return True


class SetOptionalCommand(SpecCommand):
    """Makes a node optional (a boolean hyperparameter includes or skips it) or not."""

    def __init__(self, target: SpecTarget, node_id: str, optional: bool) -> None:
        self.node_id, self.optional = node_id, optional
        super().__init__(target, f"{'Make' if optional else 'Unmake'} {node_id} optional")

    def edit(self, spec: dict[str, Any]) -> None:
        node = spec["nodes"][node_index(spec, self.node_id)]
        if self.optional:
            node["optional"] = True
        else:
            node.pop("optional", None)


class GroupRepeatCommand(SpecCommand):
    """Groups a chain of nodes into a repeat block run ``min``–``max`` times."""

    def __init__(self, target: SpecTarget, repeat_id: str, chain: Iterable[str], minimum: int,
                 maximum: int) -> None:
        nodes = list(chain)
        self.repeat: dict[str, Any] = {"id": repeat_id, "nodes": nodes, "min": int(minimum), "max": int(maximum)}
        super().__init__(target, f"Repeat {' → '.join(nodes)}")

    def edit(self, spec: dict[str, Any]) -> None:
        spec.setdefault("repeats", []).append(copy.deepcopy(self.repeat))


class UngroupRepeatCommand(SpecCommand):
    """Dissolves a repeat block; its nodes stay, once each."""

    def __init__(self, target: SpecTarget, repeat_id: str) -> None:
        self.repeat_id = repeat_id
        super().__init__(target, f"Ungroup {repeat_id}")

    def edit(self, spec: dict[str, Any]) -> None:
        spec["repeats"] = [r for r in spec.get("repeats", []) if r["id"] != self.repeat_id]


class SetRepeatRangeCommand(SpecCommand):
    """Changes how many times a repeat block may run."""

    def __init__(self, target: SpecTarget, repeat_id: str, minimum: int, maximum: int) -> None:
        self.repeat_id, self.minimum, self.maximum = repeat_id, int(minimum), int(maximum)
        super().__init__(target, f"Repeat {repeat_id} {minimum}–{maximum} times")

    def edit(self, spec: dict[str, Any]) -> None:
        for rep in spec.get("repeats", []):
            if rep["id"] == self.repeat_id:
                rep["min"], rep["max"] = self.minimum, self.maximum

    def id(self) -> int:
        return _MERGE_IDS["repeat_range"]

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetRepeatRangeCommand) or other.repeat_id != self.repeat_id:
            return False
        self.minimum, self.maximum, self.after = other.minimum, other.maximum, other.after
        return True


class RenameNodeCommand(SpecCommand):
    """Renames a node (its hyperparameters' names follow: ``deep.units``), edges and blocks too."""

    def __init__(self, target: SpecTarget, old: str, new: str) -> None:
        self.old, self.new = old, new
        super().__init__(target, f"Rename {old} to {new}")

    def edit(self, spec: dict[str, Any]) -> None:
        spec["nodes"][node_index(spec, self.old)]["id"] = self.new
        spec["edges"] = [[self.new if end == self.old else end for end in edge] for edge in spec["edges"]]
        for rep in spec.get("repeats", []):
            rep["nodes"] = [self.new if n == self.old else n for n in rep["nodes"]]


class ReplaceSpecCommand(SpecCommand):
    """Replaces the whole graph (opening a template)."""

    def __init__(self, target: SpecTarget, spec: dict[str, Any], text: str) -> None:
        self.spec = copy.deepcopy(spec)
        super().__init__(target, text)

    def edit(self, spec: dict[str, Any]) -> None:
        spec.clear()
        spec.update(copy.deepcopy(self.spec))


__all__ = [
    "AddNodeCommand", "AddNodesCommand", "ChangeParamCommand", "ChangeTrainingCommand", "ConnectCommand",
    "DisconnectCommand", "GroupRepeatCommand", "MoveNodesCommand", "RemoveNodesCommand", "RenameNodeCommand",
    "ReplaceSpecCommand", "SetOptionalCommand", "SetRepeatRangeCommand", "SpecCommand",
    "UngroupRepeatCommand", "bridged_edges",
]
