"""What a layer's card says, as plain text: its params, searched ones first, and its counts.

Plain functions on the spec's JSON and the data signature; :class:`.node_canvas.NodeItem` paints
the lines these return.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.registry import param_shown
from automl_studio.engine.space.shapes import head_units
from automl_studio.engine.space.spec import LAYER_TYPES
from automl_studio.gui.editor.node_canvas import HEADER, LINE
from automl_studio.gui.editor.node_inspector import format_count

MAX_CARD_LINES = 4


def _num(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")
        return f"{value:g}"
    return str(value)


def describe_value(value: Any) -> str:
    """A param value as a card shows it: ``16…256 /16``, ``relu | gelu``, ``1e-4…1e-2 log``."""
    if isinstance(value, Mapping) and "hp" in value:
        kind = value["hp"]
        if kind == "int":
            step = f" /{value.get('step', 1)}" if value.get("step", 1) != 1 else ""
            return f"{value['min']}…{value['max']}{step}"
        if kind == "float":
            extra = " log" if value.get("log") else (f" /{_num(value['step'])}" if value.get("step") else "")
            return f"{_num(value['min'])}…{_num(value['max'])}{extra}"
        if kind == "choice":
            return " | ".join(_num(v) for v in value.get("values", []))
        return "on | off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(map(str, value)) + ")"
    return _num(value)


def params_text(low: int, high: int) -> str:
    """A parameter count or range: ``1.2k params``, ``15–204k params``."""
    if low == high:
        return f"{format_count(low)} params"
    return f"{format_count(low)}–{format_count(high)} params"


def card_lines(node: Mapping[str, Any], signature: DataSignature | None) -> list[str]:
    """What a card says about its params: searched ones first, then set ones."""
    layer = LAYER_TYPES[node["type"]]
    params = node.get("params", {})
    searched, fixed = [], []
    if layer.role == "output" and signature is not None:
        units = head_units(signature)
        if signature.task == "regression":
            return ["1 value, in the target's units"]
        return [f"{signature.n_classes} classes · {'sigmoid' if units == 1 else 'softmax'}"]
    for i, pdef in enumerate(layer.params):
        value = params.get(pdef.name, pdef.default)
        # A file's name, not its whole path: the card is narrow (the inspector holds the path).
        shown = PurePath(value).name if pdef.kind == "path" and isinstance(value, str) else value
        text = f"{pdef.name.replace('_', ' ')} {describe_value(shown)}"
        if isinstance(value, Mapping) and "hp" in value:
            searched.append("⇄ " + text)
        elif pdef.name in params and value != pdef.default or i == 0:
            if not param_shown(layer, pdef, params):  # e.g. an embedding size, for the embedding encoding
                continue
            fixed.append(text)
    lines = searched + fixed
    if len(lines) > MAX_CARD_LINES:
        lines = lines[:MAX_CARD_LINES - 1] + [f"+{len(lines) - MAX_CARD_LINES + 1} more"]
    return lines


def card_height(node: Mapping[str, Any]) -> float:
    """The height a node's card is laid out for (its lines, at most :data:`MAX_CARD_LINES`)."""
    return HEADER + 10 + max(1, min(MAX_CARD_LINES, len(node.get("params", {})) + 1) + 2) * LINE


__all__ = ["MAX_CARD_LINES", "card_height", "card_lines", "describe_value", "params_text"]
