"""A spec as plain KerasTuner code: what the editor's code view shows and the user can copy.

:func:`kerastuner_code` writes a ``build(hp)`` function that builds the same network as
:func:`automl_studio.engine.train.hypermodel.build_model` for the same hyperparameter values: the same
layers with the same names, the same hyperparameter names (``dense.units``, ``dense.units.2``,
``dropout.enabled``, ``block.repeats``, ``training.learning_rate``), registered in the order a
search registers them (training settings first, then the nodes in topological order). Repeat
blocks become ``for i in range(hp.Int(...))`` loops and optional nodes ``if hp.Boolean(...)``.

Each node is written from its declaration in :mod:`automl_studio.engine.space.registry` — the
same description the engine builds Keras layers from — so ``layers.Cls(args...)`` here and
``getattr(keras.layers, cls)(*args, **kwargs)`` there cannot differ. That includes the
preprocessing the engine puts inside the model (normalisation with the data's mean and variance,
category encoding, image rescaling, the regression head's rescale to the target's units), so the
code stands alone. This module only writes text: it imports no Keras.
"""

from __future__ import annotations

import json
import keyword
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.core.objectives import task_kind
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.backbones import (
    FINE_TUNE_SOURCE,
    PLAIN_KERAS_SOURCE,
    SECOND_PHASE_SOURCE,
)
from automl_studio.engine.space.losses import (
    ONE_HOT_LOSSES,
    SMOOTHED_MULTICLASS,
    keras_loss,
    resolved_loss,
)
from automl_studio.engine.space.optimizers import (
    EXPONENTIAL_DECAY_RATE,
    OPTIMIZER_SETTINGS,
    OPTIMIZER_TYPES,
    PLATEAU_FACTOR,
    PLATEAU_PATIENCE,
    RESTART_EPOCHS,
    WARMUP_EPOCHS,
    optimizers_taking,
)
from automl_studio.engine.space.registry import (
    NODE_INPUT,
    PREVIOUS,
    Application,
    AsTuple,
    Call,
    DataArray,
    DataInput,
    InputWidth,
    Regularizer,
    ShapeError,
    StepsBefore,
)
from automl_studio.engine.space.shapes import head_units
from automl_studio.engine.space.spec import (
    LAYER_TYPES,
    TRAINING_DEFAULTS,
    Boolean,
    Choice,
    FloatRange,
    IntRange,
    Node,
    Repeat,
    SearchSpace,
    instantiate,
    is_hp,
    topological_order,
)

_BLOCK_INPUT = "block_input"

# Names the code itself uses; a node's variable never takes one. A param asked for ahead of its
# layer's call is held in a local named after it (an Input's ``encoding``, ``embedding_dim``).
_FIXED_NAMES = {
    "hp", "keras", "kt", "np", "layers", "inputs", "outputs", "model", "x", "i", "build",
    "regularizer", "optimizer", "optimizer_name", "learning_rate", "lr", "lr_schedule", "l1", "l2",
    "batch_size", "epochs", "patience", "HyperModel", "clipnorm", "clipvalue", *OPTIMIZER_SETTINGS,
    "loss", "loss_fn", "label_smoothing", "class_weight", "accuracy", "ONE_HOT_LOSSES",
    # A block's input kept for its residual, and the Transformer block's kept tensor.
    _BLOCK_INPUT, "attended",
}
_BACKBONE_NAMES = {"re", "contextlib", "backbone_model", "fine_tune_top_blocks", "operators_as_layers",
                   "without_custom_layers", "plain_application",
                   "start_second_phase"}  # a Backbone node's code
_RESERVED = _FIXED_NAMES | {"encoding", "embedding_dim"} | _BACKBONE_NAMES


def _q(text: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(text, ensure_ascii=False)


def _lit(value: Any) -> str:
    """A Python literal for a fixed param value."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({_q(repr(value))})"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_lit, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(map(_lit, value)) + "]"
    return repr(value)


def _hp_call(name: str, value: Any) -> str:
    """The KerasTuner call that registers ``value`` under ``name`` (a ready string literal)."""
    if isinstance(value, IntRange):
        step = f", step={value.step}" if value.step != 1 else ""
        return f"hp.Int({name}, {value.min}, {value.max}{step})"
    if isinstance(value, FloatRange):
        if value.min == value.max:
            return f"hp.Fixed({name}, {_lit(float(value.min))})"
        extra = f", step={_lit(value.step)}" if value.step else ""
        extra += ', sampling="log"' if value.log else ""
        return f"hp.Float({name}, {_lit(float(value.min))}, {_lit(float(value.max))}{extra})"
    if isinstance(value, Choice):
        return f"hp.Choice({name}, {_lit(list(value.values))})"
    if isinstance(value, Boolean):
        return f"hp.Boolean({name})"
    raise TypeError(value)


def _floats(name: str, values: tuple[float, ...]) -> list[str]:
    """``NAME = np.array([...], dtype="float32")`` wrapped to a readable width."""
    items = [repr(float(v)) for v in values]
    lines, current = [], ""
    for item in items:
        if current and len(current) + len(item) + 2 > 84:
            lines.append(current + ",")
            current = item
        else:
            current = f"{current}, {item}" if current else item
    if not lines:
        return [f"{name} = np.array([{current}], dtype=\"float32\")"]
    body = ["    " + line for line in lines + [current]]
    return [f"{name} = np.array(["] + body + ["], dtype=\"float32\")"]


class _Writer:
    """Writes the body of ``build(hp)``, node by node in the order the engine builds them."""

    def __init__(self, space: SearchSpace, signature: DataSignature, training: Mapping[str, str]):
        self.space, self.signature, self.training = space, signature, training
        self.lines: list[str] = []
        self.var: dict[str, str] = {}
        self.used_names: set[str] = set(_RESERVED)
        self.sources_made: set[str] = set()
        self.constants: dict[str, DataArray] = {}  # arrays from the data the code defines
        self.regularizer = training.get("regularizer")
        self.backbones = False  # whether a Backbone's keras.applications network was written

    def emit(self, depth: int, line: str) -> None:
        self.lines.extend(_wrap("    " * depth, line))

    def name_for(self, node_id: str) -> str:
        base = re.sub(r"\W", "_", node_id, flags=re.ASCII) or "node"
        if base[0].isdigit():
            base = "n_" + base
        if keyword.iskeyword(base) or base in self.used_names or base.isupper():
            candidate, k = base + "_", 2
            while candidate in self.used_names:
                candidate, k = f"{base}_{k}", k + 1
            base = candidate
        self.used_names.add(base)
        return base

    # -- names the engine gives hyperparameters and layers

    @staticmethod
    def hp_name(node_id: str, key: str, loop: bool) -> str:
        if loop:
            return "f" + _q(f"{_braces(node_id)}.{key}.{{i}}")
        return _q(f"{node_id}.{key}")

    @staticmethod
    def layer_name(node_id: str, loop: bool, tail: str = "") -> str:
        safe = node_id.replace("#", "_")
        if loop:
            return "f" + _q(f"{_braces(safe)}_{{i}}{tail}")
        return _q(safe + tail)

    def params(self, node: Node, loop: bool) -> dict[str, _Expr]:
        """Each param as code: a literal, or the hp call (in the registry's order)."""
        out = {}
        for pdef in LAYER_TYPES[node.type].params:
            value = node.params.get(pdef.name, pdef.default)
            if not is_hp(value):
                out[pdef.name] = _Expr(_lit(value), pdef.name, fixed=True, value=value)
                continue
            if not pdef.searchable:
                raise SpecError(f"{node.type} '{node.id}': its {pdef.name.replace('_', ' ')} cannot be "
                                "a searched value", node=node.id)
            out[pdef.name] = _Expr(_hp_call(self.hp_name(node.id, pdef.name, loop), value), pdef.name,
                                   fixed=False, value=value, registers=True)
        return out

    def local_for(self, param: str) -> str:
        """A local variable for a param's value, clashing with no node's value nor fixed name."""
        taken = set(self.var.values()) | _FIXED_NAMES
        name = param if param.isidentifier() and not keyword.iskeyword(param) else f"{param}_value"
        while name in taken:
            name += "_"
        return name

    # -- one node, from its registry declaration

    def node(self, node: Node, args: list[str], out: str, depth: int, loop: bool) -> None:
        """Writes one node: ``out = Layer(...)(args)``, inside ``if hp.Boolean`` if optional."""
        layer = LAYER_TYPES[node.type]
        if node.optional and layer.role == "layer":
            first = args[0] if args else "None"
            if out != first:
                self.emit(depth, f"{out} = {first}")
            self.emit(depth, f"if hp.Boolean({self.hp_name(node.id, 'enabled', loop)}):")
            depth += 1
        keras_spec = layer.keras
        first = args[0] if args else "None"
        operand = ("[" + ", ".join(args) + "]" if keras_spec.call == "list"
                   else f"{first}, {first}" if keras_spec.call == "self" else first)
        p = self.params(node, loop)
        searched = [name for name, expr in p.items() if expr.registers]
        # KerasTuner registers a hyperparameter where the code first asks for it; the engine asks
        # for every param of the node in the registry's order (used or not). Where the call would
        # ask in another order, or not at all, the params are asked for first, into locals.
        hoist = bool(searched) and bool(keras_spec.branches)
        if searched and not hoist:
            state = _State(set(self.sources_made), {}, first=first)
            try:
                self.steps(node, layer, p, operand, out, loop, state)
            except _Branching:
                hoist = True
            hoist = hoist or state.asked != searched
        for name in searched if hoist else ():
            local = self.local_for(name)
            self.emit(depth, f"{local} = {p[name].code}")
            p[name] = _Expr(local, name, fixed=False, value=p[name].value)
        state = _State(self.sources_made, self.constants, first=first)
        for rel, line in self.branches(node, layer, p, operand, out, loop, state):
            self.emit(depth + rel, line)

    def branches(self, node: Node, layer: Any, p: dict[str, _Expr], operand: str, out: str,
                 loop: bool, state: _State) -> list[tuple[int, str]]:
        """The node's lines; a searched branch param becomes an ``if`` over its values."""
        for branch in layer.keras.branches:
            expr = p[branch]
            if expr.fixed:
                continue
            value = expr.value
            if isinstance(value, Choice):
                options = list(value.values)
            elif isinstance(value, Boolean):
                options = [True, False]
            elif isinstance(value, IntRange):
                options = value.values()
            else:
                raise SpecError(f"{node.type} '{node.id}': its {branch.replace('_', ' ')} cannot be "
                                "a continuous range", node=node.id)
            default = layer.param(branch).default
            options = ([o for o in options if o != default] + [default] if default in options
                       else options)
            made: set[str] = set()
            results = []
            for option in options:
                sub = _State(set(state.sources_made), state.constants, first=state.first)
                fixed = dict(p)
                fixed[branch] = _Expr(_lit(option), branch, fixed=True, value=option)
                results.append((option, self.branches(node, layer, fixed, operand, out, loop, sub)))
                made |= sub.sources_made
            state.sources_made |= made
            return _if_chain(expr.code, results)
        return self.steps(node, layer, p, operand, out, loop, state)

    def steps(self, node: Node, layer: Any, p: dict[str, _Expr], operand: str, out: str,
              loop: bool, state: _State) -> list[tuple[int, str]]:
        """The lines of the node's registry steps, every branch param fixed."""
        values: dict[str, Any] = dict(p)
        for branch in layer.keras.branches:
            if not p[branch].fixed:
                raise _Branching(branch)
            values[branch] = p[branch].value
        try:
            steps = layer.keras.plan(values, self.signature)
        except ShapeError as exc:
            raise SpecError(f"{node.type} '{node.id}' {exc}", node=node.id) from exc
        lines: list[tuple[int, str]] = []
        current = operand
        calls = [step for step in steps if isinstance(step, Call)]
        if state.first == out and any(NODE_INPUT in c.inputs or _takes_width(c) for c in calls[1:]):
            # The first step overwrites the node's input, which a later step still reads.
            lines.append((0, f"{_BLOCK_INPUT} = {state.first}"))
            state.first = _BLOCK_INPUT
        for step in steps:
            if isinstance(step, DataInput):
                current = f"inputs[{_q(step.name)}]"
                if step.name not in state.sources_made:
                    state.sources_made.add(step.name)
                    dtype = f", dtype={_q(step.dtype)}" if step.dtype != "float32" else ""
                    lines.append((0, f"{current} = keras.Input(shape={_lit(tuple(step.shape))}, "
                                     f"name={_q(step.name)}{dtype})"))
                continue
            if step.comment:
                lines.append((0, "# " + step.comment))
            name = _q(step.name) if step.name else self.layer_name(node.id, loop, step.suffix)
            if isinstance(step, Application):
                lines.extend((0, line) for line in self.application(step, name, current, state))
                lines.append((0, f"{step.keep or out} = backbone_model({current})"))
                current = step.keep or out
                continue
            operands = current
            if step.inputs:
                taken = [{NODE_INPUT: state.first, PREVIOUS: current}.get(k, k) for k in step.inputs]
                operands = "[" + ", ".join(taken) + "]" if step.merge else ", ".join(taken)
            target = step.keep or out
            lines.append((0, f"{target} = {self.call(step, name, state)}({operands})"))
            current = target
        if current != out:
            lines.append((0, f"{out} = {current}"))
        return lines

    def call(self, call: Call, name: str | None, state: _State) -> str:
        """``layers.Cls(args..., name=...)`` for one registry step (or a nested layer)."""
        cls = call.cls
        if isinstance(cls, _Expr):
            head = f"layers.{cls.value}" if cls.fixed else f"getattr(layers, {self.code(cls, state)})"
        else:
            head = f"layers.{cls}"
        parts = [self.code(a, state) for a in call.args]
        written = set()
        for key, value in call.kwargs.items():
            if key in call.keras_defaults and _fixed_to(value, call.keras_defaults[key]):
                continue
            if isinstance(value, Regularizer) and _fixed_zero(value.l1) and _fixed_zero(value.l2):
                continue  # no penalty of the layer's own (the engine passes None)
            parts.append(f"{key}={self.code(value, state)}")
            written.add(key)
        if self.regularizer is not None:
            parts.extend(f"{key}={self.regularizer}" for key in call.regularized if key not in written)
        if name is not None:
            parts.append(f"name={name}")
        if call.dtype is not None:
            parts.append(f"dtype={_q(call.dtype)}")
        return f"{head}({', '.join(parts)})"

    def application(self, step: Application, name: str, operand: str, state: _State) -> list[str]:
        """A Backbone's ``keras.applications`` network, as the engine builds it
        (:func:`automl_studio.engine.train.hypermodel.application`), in ``backbone_model``."""
        self.backbones = True
        pretrained = step.kwargs.get("weights") is not None  # a Backbone's weights branch: a fixed value
        arguments = ["include_top=False", f"input_shape=tuple({operand}.shape[1:])"]
        for key, value in step.kwargs.items():
            if key == "weights" and isinstance(value, _Expr) and value.fixed and isinstance(value.value, str):
                # A weights file: "~/…" expanded, as the engine does (Keras refuses it as it is).
                value = _Expr(_lit(os.path.expanduser(value.value)), value.param, fixed=True, value=value.value)
            arguments.append(f"{key}={self.code(value, state)}")
        first, second = self.code(step.trainable_blocks, state), self.code(step.second_phase_blocks, state)
        return [f"backbone_model = plain_application(keras.applications.{step.cls}, {', '.join(arguments)})",
                f"backbone_model.name = {name}",
                f"fine_tune_top_blocks(backbone_model, {first}, "
                f"{_q(step.blocks)}, pretrained={pretrained})",
                f"backbone_model.second_phase = (max({second}, {first}) if {second} else 0, {_q(step.blocks)}, "
                f"{self.code(step.second_phase_lr, state)}, {pretrained})"]

    def code(self, value: Any, state: _State) -> str:
        """An argument as code."""
        if isinstance(value, _Expr):
            if value.registers:
                state.asked.append(value.param)
            return value.code
        if isinstance(value, Call):
            return self.call(value, None, state)
        if isinstance(value, InputWidth):
            return f"{state.first}.shape[-1]"
        if isinstance(value, StepsBefore):
            if isinstance(value.keep, int) and value.keep == 0:  # all the steps
                return f"{state.first}.shape[1]"
            return f"{state.first}.shape[1] - {self.code(value.keep, state)}"
        if isinstance(value, Regularizer):
            return (f"keras.regularizers.L1L2(l1={self.code(value.l1, state)}, "
                    f"l2={self.code(value.l2, state)})")
        if isinstance(value, AsTuple):
            inner = value.value
            if isinstance(inner, _Expr) and inner.fixed:
                return _lit(tuple(inner.value))
            text = self.code(inner, state)
            return text if text.startswith("(") else f"tuple({text})"
        if isinstance(value, DataArray):
            state.constants.setdefault(value.name, value)
            return value.name
        if isinstance(value, tuple):
            return "(" + ", ".join(self.code(v, state) for v in value) + ("," if len(value) == 1 else "") + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self.code(v, state) for v in value) + "]"
        return _lit(value)


@dataclass(frozen=True)
class _Expr:
    """A param as code: a literal (``fixed``), a KerasTuner call (``registers``) or a local."""

    code: str
    param: str
    fixed: bool
    value: Any
    registers: bool = False


@dataclass
class _State:
    """What writing a node's steps changes: the model inputs made, the data constants used, and
    (for the order check) the searched params in the order the code asks for them."""

    sources_made: set[str]
    constants: dict[str, DataArray]
    asked: list[str] = field(default_factory=list)
    first: str = "None"  # the variable holding the node's (first) input


def _takes_width(call: Call) -> bool:
    """Whether a step's arguments read the node's input shape (:class:`InputWidth`,
    :class:`StepsBefore`)."""
    def reads_input(a: Any) -> bool:
        if isinstance(a, (tuple, list)):
            return any(reads_input(v) for v in a)
        return isinstance(a, (InputWidth, StepsBefore))

    return any(reads_input(a) for a in (*call.args, *call.kwargs.values()))


class _Branching(Exception):
    """A plan needs the value of a searched branch param."""


def _fixed_to(value: Any, default: Any) -> bool:
    """Whether an argument is fixed to ``default`` (the code may then leave it out)."""
    if isinstance(value, _Expr):
        return value.fixed and _lit(value.value) == _lit(default)
    return (not isinstance(value, (Call, AsTuple, DataArray, Regularizer))
            and _lit(value) == _lit(default))


def _fixed_zero(value: Any) -> bool:
    """Whether a penalty factor is fixed to 0."""
    if isinstance(value, _Expr):
        return value.fixed and not float(value.value)
    return not float(value)


def _if_chain(variable: str, results: list[tuple[Any, list[tuple[int, str]]]]) -> list[tuple[int, str]]:
    """``if variable == a: ... elif ...: ... else: ...`` over the lines each value writes.

    The last value is the ``else``; a value writing what the ``else`` writes joins it, values
    writing the same lines share a test, and lines every value starts with come first.
    """
    fallback = results[-1][1]
    groups: list[tuple[list[Any], list[tuple[int, str]]]] = []
    for option, lines in results[:-1]:
        if lines == fallback:
            continue
        for options, seen in groups:
            if seen == lines:
                options.append(option)
                break
        else:
            groups.append(([option], lines))
    if not groups:
        return list(fallback)
    everything = [lines for _, lines in groups] + [fallback]
    common = 0
    while all(len(lines) > common and lines[common] == everything[0][common] for lines in everything):
        common += 1
    out = list(everything[0][:common])
    for k, (options, lines) in enumerate(groups):
        test = (f"{variable} == {_lit(options[0])}" if len(options) == 1
                else f"{variable} in ({', '.join(map(_lit, options))})")
        out.append((0, f"{'if' if k == 0 else 'elif'} {test}:"))
        out.extend((rel + 1, line) for rel, line in lines[common:] or [(0, "pass")])
    out.append((0, "else:"))
    out.extend((rel + 1, line) for rel, line in fallback[common:] or [(0, "pass")])
    return out


def _code_chars(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, character, bracket depth after it)`` for each character of ``text`` from
    ``start`` that is Python code, not inside a string literal."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        else:
            depth += (ch in "([{") - (ch in ")]}")
            yield i, ch, depth
        i += 1


def _top_level_split(text: str) -> list[str]:
    """Splits call arguments at the commas outside brackets and strings."""
    parts, start = [], 0
    for i, ch, depth in _code_chars(text):
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _wrap(indent: str, line: str, width: int = 100) -> list[str]:
    """A long ``x = Layer(a, b=...)(x)`` line as one argument per line, as black would write it."""
    if len(indent) + len(line) <= width or line.lstrip().startswith("#"):
        return [indent + line]
    opening = line.find("(")
    if opening < 0:
        return [indent + line]
    closing = next((i for i, ch, depth in _code_chars(line, opening) if ch in ")]}" and depth == 0), -1)
    args = _top_level_split(line[opening + 1:closing]) if closing > 0 else []
    if len(args) < 2:
        return [indent + line]
    return ([indent + line[:opening + 1]] + [f"{indent}    {arg}," for arg in args]
            + [indent + line[closing:]])


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _training_lines(space: SearchSpace) -> tuple[list[str], dict[str, str]]:
    """Registers the training hyperparameters (first, as a search does) and names their values."""
    lines: list[str] = []
    values: dict[str, str] = {}
    for key in TRAINING_DEFAULTS:
        value = space.training.get(key, TRAINING_DEFAULTS[key])
        if not is_hp(value):
            values[key] = _lit(value)
            continue
        call = _hp_call(_q(f"training.{key}"), value)
        if key in ("batch_size", "patience"):
            lines.append(f"{call}  # read by HyperModel.fit()")
            values[key] = f'hp.get("training.{key}")'
        else:
            local = "optimizer_name" if key == "optimizer" else key
            lines.append(f"{local} = {call}")
            values[key] = local
    # The optimizer's own settings, asked (as the engine asks them) only when it takes them.
    optimizer = space.training.get("optimizer", TRAINING_DEFAULTS["optimizer"])
    chosen = tuple(optimizer.values) if isinstance(optimizer, Choice) else (optimizer,)
    for key in OPTIMIZER_SETTINGS:
        value = space.training.get(key)
        takers = optimizers_taking(key, chosen)
        if not is_hp(value) or not takers:
            continue
        call = _hp_call(_q(f"training.{key}"), value)
        if isinstance(optimizer, Choice):
            lines.append(f"if optimizer_name in {tuple(takers)!r}:")
            lines.append(f"    with hp.conditional_scope(\"training.optimizer\", {takers!r}):")
            lines.append(f"        {key} = {call}")
        else:
            lines.append(f"{key} = {call}")
        values[key] = key
    l1, l2 = values["l1"], values["l2"]
    raw = [space.training.get(k, TRAINING_DEFAULTS[k]) for k in ("l1", "l2")]
    if any(is_hp(v) for v in raw):
        searched = " or ".join(values[k] for k, v in zip(("l1", "l2"), raw, strict=True) if is_hp(v) or v)
        lines.append(f"regularizer = keras.regularizers.L1L2(l1={l1}, l2={l2}) if {searched} else None")
        values["regularizer"] = "regularizer"
    elif any(float(v) for v in raw):
        lines.append(f"regularizer = keras.regularizers.L1L2(l1={l1}, l2={l2})")
        values["regularizer"] = "regularizer"
    return lines, values


def _fit_value(space: SearchSpace, key: str) -> str:
    """A training setting as ``fit()`` reads it: a literal, or the trial's value."""
    value = space.training.get(key, TRAINING_DEFAULTS[key])
    return f'hp.get("training.{key}")' if is_hp(value) else _lit(value)


def _optimizer_call(space: SearchSpace, name: str, values: Mapping[str, str]) -> str:
    """``keras.optimizers.Cls(learning_rate=lr, ...)`` for one optimizer: each setting it takes
    from the spec (a literal, or the trial's value) or its own default; clipping when set."""
    optimizer = OPTIMIZER_TYPES[name]
    args = ["learning_rate=lr"]
    for key, default in optimizer.settings.items():
        args.append(f"{key}={values[key] if key in values else _lit(space.training.get(key, default))}")
    for key in ("clipnorm", "clipvalue"):
        if is_hp(space.training.get(key)) or float(space.training.get(key, 0.0) or 0.0) > 0:
            args.append(f"{key}={values[key]}")
    return f"keras.optimizers.{optimizer.keras_class}({', '.join(args)})"


_SCHEDULES = {
    "cosine": "lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, STEPS_PER_EPOCH * {epochs}))",
    "exponential": "lr = keras.optimizers.schedules.ExponentialDecay(lr, decay_steps=STEPS_PER_EPOCH, "
                   f"decay_rate={EXPONENTIAL_DECAY_RATE})",
    "cosine_restarts": "lr = keras.optimizers.schedules.CosineDecayRestarts(lr, first_decay_steps=STEPS_PER_EPOCH"
                       f" * {RESTART_EPOCHS})",
    "warmup_cosine": "lr = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=max(1, STEPS_PER_EPOCH * "
                     f"({{epochs}} - {WARMUP_EPOCHS})), warmup_target=lr, warmup_steps=STEPS_PER_EPOCH * "
                     f"{WARMUP_EPOCHS})",
}


def _branches(value: Any, variable: str, table: Mapping[str, str], default: str | None) -> list[str]:
    """An ``if/elif`` over the values of a searched setting (or the one line of a fixed one)."""
    if not is_hp(value):
        line = table.get(value, default)
        return line.split("\n") if line else []
    options = list(value.values) if isinstance(value, Choice) else list(table)
    lines: list[str] = []
    for option in options:
        line = table.get(option, default)
        if not line:
            continue
        lines.append(f"{'if' if not lines else 'elif'} {variable} == {_q(option)}:")
        lines.extend("    " + part for part in line.split("\n"))
    return lines


def _loss_lines(space: SearchSpace, signature: DataSignature,
                values: Mapping[str, str]) -> tuple[list[str], str]:
    """The loss as the engine compiles it (:func:`~automl_studio.engine.space.losses.keras_loss`):
    lines choosing it (an ``if`` over a searched loss or smoothing) and the expression to compile."""
    kind = task_kind(signature.task, signature.n_classes)
    loss = space.training.get("loss", TRAINING_DEFAULTS["loss"])
    smoothing = space.training.get("label_smoothing", TRAINING_DEFAULTS["label_smoothing"])
    smoothed = kind != "regression" and (is_hp(smoothing) or bool(smoothing))

    def call(name: str) -> str:
        """The loss's expression, or (a searched smoothing of the sparse cross-entropy) the
        lines that set ``loss_fn``."""
        try:
            cls, _kwargs = keras_loss(name, kind)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        if not smoothed:
            return f"keras.losses.{cls}()"
        ls = values["label_smoothing"]
        if cls != "SparseCategoricalCrossentropy":
            return f"keras.losses.{cls}(label_smoothing={ls})"
        # More than two classes: the sparse cross-entropy takes no smoothing, its one-hot twin does.
        one_hot = f"keras.losses.{SMOOTHED_MULTICLASS}(label_smoothing={ls})"
        if not is_hp(smoothing):
            return one_hot
        return f"if {ls}:\n    loss_fn = {one_hot}\nelse:\n    loss_fn = keras.losses.{cls}()"

    def statement(name: str) -> str:
        expression = call(name)
        return expression if expression.startswith("if ") else f"loss_fn = {expression}"

    if not is_hp(loss):
        expression = call(loss)
        return ([], expression) if not expression.startswith("if ") else (expression.split("\n"), "loss_fn")
    table = {name: statement(name) for name in loss.values}
    return _branches(loss, values["loss"], table, None), "loss_fn"


def _one_hot(space: SearchSpace, signature: DataSignature) -> bool | None:
    """Whether the generated model's loss reads one-hot targets: always (True), never (False),
    or depending on the trial's values (None)."""
    if task_kind(signature.task, signature.n_classes) != "multiclass":
        return False
    loss = space.training.get("loss", TRAINING_DEFAULTS["loss"])
    smoothing = space.training.get("label_smoothing", TRAINING_DEFAULTS["label_smoothing"])
    names = {resolved_loss(name, "multiclass") for name in (loss.values if isinstance(loss, Choice) else (loss,))}
    if is_hp(smoothing) and "crossentropy" in names:
        return None
    one_hot = {name == "focal" or bool(smoothing) for name in names}
    return one_hot.pop() if len(one_hot) == 1 else None


def _metrics(signature: DataSignature, one_hot: bool | None = False) -> str:
    if signature.task == "regression":
        return ('[keras.metrics.RootMeanSquaredError(name="rmse"), '
                'keras.metrics.MeanAbsoluteError(name="mae")]')
    if head_units(signature) == 1:
        return '[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]'
    if one_hot is None:
        return "[accuracy]"
    if one_hot:
        return '[keras.metrics.CategoricalAccuracy(name="accuracy")]'
    return '[keras.metrics.SparseCategoricalAccuracy(name="accuracy")]'


def kerastuner_code(space: SearchSpace, signature: DataSignature) -> str:
    """Python source that defines ``build(hp)`` (and a ``HyperModel``) for ``space``.

    Raises:
        SpecError: the graph cannot be built (a cycle, a malformed repeat block, an Input that
            reads data the dataset does not have).
    """
    order = topological_order(space)
    instantiate(space, lambda _name, hp: hp.min if isinstance(hp, IntRange) else False
                if isinstance(hp, Boolean) else hp.values[0] if isinstance(hp, Choice) else hp.min)
    training_lines, training = _training_lines(space)
    writer = _Writer(space, signature, training)

    repeat_of: dict[str, Repeat] = {n: rep for rep in space.repeats for n in rep.nodes}
    units: list[tuple[str, ...]] = []  # the node ids each step builds: one node, or a repeat chain
    seen_repeats: set[str] = set()
    for node_id in order:
        rep = repeat_of.get(node_id)
        if rep is None:
            units.append((node_id,))
        elif rep.id not in seen_repeats:
            seen_repeats.add(rep.id)
            units.append(tuple(rep.nodes))

    # A value that feeds only the very next step flows through ``x``; others get a name.
    for k, unit in enumerate(units):
        last = unit[-1]
        consumers = space.outputs_of(last)
        if space.node(last).type == "Output":
            name = "outputs"
        elif len(consumers) == 1 and k + 1 < len(units) and consumers[0] == units[k + 1][0]:
            name = "x"
        else:
            name = writer.name_for(last)
        for n in unit:
            writer.var[n] = name

    for unit in units:
        first = space.node(unit[0])
        args = [writer.var[src] for src in space.inputs_of(first.id)]
        result = writer.var[unit[-1]]
        rep = repeat_of.get(first.id)
        if rep is None:
            writer.node(first, args, result, 1, False)
            continue
        counts = (f"hp.Int({_q(rep.id + '.repeats')}, {rep.min}, {rep.max})" if rep.min != rep.max
                  else str(rep.min))
        span = f"{rep.min}–{rep.max} times" if rep.min != rep.max else f"{rep.min} times"
        writer.emit(1, f"# Repeat block '{rep.id}': {' → '.join(rep.nodes)}, {span}")
        if args and args[0] != "x":
            writer.emit(1, f"x = {args[0]}")
        writer.emit(1, f"for i in range({counts}):")
        for n in rep.nodes:
            writer.node(space.node(n), ["x"], "x", 2, True)
        if result != "x":
            writer.emit(1, f"{result} = x")

    loss_lines, loss = _loss_lines(space, signature, training)
    one_hot = _one_hot(space, signature)
    if one_hot is None:
        if loss != "loss_fn":
            loss_lines.append(f"loss_fn = {loss}")
            loss = "loss_fn"
        loss_lines += ["if isinstance(loss_fn, ONE_HOT_LOSSES):  # accuracy reads the targets as the loss does",
                       '    accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")',
                       "else:",
                       '    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")']
    metrics = _metrics(signature, one_hot)
    schedule = space.training.get("lr_schedule", TRAINING_DEFAULTS["lr_schedule"])
    optimizer = space.training.get("optimizer", TRAINING_DEFAULTS["optimizer"])
    schedule_table = {k: v.format(epochs=training["epochs"]) for k, v in _SCHEDULES.items()}
    schedule_lines = _branches(schedule, "lr_schedule", schedule_table, None)
    optimizer_table = {k: "optimizer = " + _optimizer_call(space, k, training) for k in OPTIMIZER_TYPES}
    optimizer_lines = _branches(optimizer, "optimizer_name", optimizer_table, None)
    if "learning_rate" not in space.training:  # the optimizer's own starting rate
        rates = {k: OPTIMIZER_TYPES[k].learning_rate for k in OPTIMIZER_TYPES}
        training = {**training, "learning_rate": (_lit(rates[optimizer]) if not is_hp(optimizer) else
                                                  f"{ {k: rates[k] for k in optimizer.values}!r}[optimizer_name]")}
    model_name = space.name.replace(" ", "_") or "model"

    out: list[str] = []
    out.append(f'"""KerasTuner search space {_q(space.name)[1:-1]!s}, written by automl-studio.')
    out.append("")
    out.append("build(hp) builds one network of the space; HyperModel trains it as automl-studio")
    out.append('does. The hyperparameter names match the app\'s trials ("dense.units",')
    out.append('"block.repeats", "training.learning_rate"), so a trial\'s values rebuild its network.')
    out.append('"""')
    out.append("")
    if writer.backbones:
        out.append("import contextlib")
        out.append("import re")
        out.append("")
    out.append("import keras")
    out.append("import keras_tuner as kt")
    if writer.constants:
        out.append("import numpy as np")
    out.append("from keras import layers")
    out.append("")
    if one_hot is not False:
        out.append("# Losses that read one-hot targets: HyperModel.fit() encodes the class indices for them.")
        out.append(f"ONE_HOT_LOSSES = ({', '.join('keras.losses.' + name for name in ONE_HOT_LOSSES)})")
        out.append("")
    noted: set[str] = set()
    for constant in writer.constants.values():
        if constant.comment and constant.comment not in noted:
            noted.add(constant.comment)
            out.append("# " + constant.comment)
        out.extend(_floats(constant.name, constant.values))
    if schedule_lines:
        out.append("STEPS_PER_EPOCH = 100  # set to ceil(training rows / batch size)")
    if writer.constants or schedule_lines:
        out.append("")
    if writer.backbones:
        out.append("")
        out.extend(FINE_TUNE_SOURCE.rstrip().splitlines())
        out.append("")
        out.append("")
        out.extend(PLAIN_KERAS_SOURCE.rstrip().splitlines())
        out.append("")
        out.append("")
        out.extend(SECOND_PHASE_SOURCE.rstrip().splitlines())
        out.append("")
    out.append("")
    out.append("def build(hp):")
    out.append('    """Builds and compiles one network of the search space for the values in ``hp``."""')
    for line in training_lines:
        out.append("    " + line)
    if training_lines:
        out.append("")
    out.append("    inputs = {}")
    out.extend(writer.lines)
    out.append("")
    out.append(f"    lr = {training['learning_rate']}")
    out.extend("    " + line for line in schedule_lines)
    out.extend("    " + line for line in optimizer_lines)
    out.extend("    " + line for line in loss_lines)
    out.append(f"    model = keras.Model(inputs={{k: inputs[k] for k in sorted(inputs)}}, outputs=outputs, "
               f"name={_q(model_name)})")
    out.append(f"    model.compile(optimizer=optimizer, loss={loss}, metrics={metrics})")
    if writer.backbones:
        out.append("    model.first_learning_rate = lr  # a backbone's second phase trains at a fraction of it")
    out.append("    return model")
    out.append("")
    out.append("")
    out.append("class HyperModel(kt.HyperModel):")
    out.append('    """Trains each network as automl-studio does: its batch size, early stopping."""')
    out.append("")
    out.append("    def build(self, hp):")
    out.append("        return build(hp)")
    out.append("")
    out.append("    def fit(self, hp, model, *args, **kwargs):")
    out.append('        callbacks = list(kwargs.pop("callbacks", None) or [])')
    patience = _fit_value(space, "patience")
    epochs = _fit_value(space, "epochs")
    batch = _fit_value(space, "batch_size")
    out.append(f"        patience = {patience}")
    out.append("        if patience:")
    out.append('            callbacks.append(keras.callbacks.EarlyStopping("val_loss", patience=patience, '
               f'min_delta={_fit_value(space, "min_delta")},')
    out.append("                                                           "
               f'restore_best_weights={_fit_value(space, "restore_best_weights")}))')
    schedule_value = space.training.get("lr_schedule", TRAINING_DEFAULTS["lr_schedule"])
    plateau = ('hp.get("training.lr_schedule") == "reduce_on_plateau"' if is_hp(schedule_value)
               else "True" if schedule_value == "reduce_on_plateau" else None)
    if plateau is not None:
        monitor = '"val_loss" if "validation_data" in kwargs or "validation_split" in kwargs else "loss"'
        out.append(f"        if {plateau}:" if plateau != "True" else "        if True:  # reduce_on_plateau")
        out.append(f"            callbacks.append(keras.callbacks.ReduceLROnPlateau({monitor}, "
                   f"factor={PLATEAU_FACTOR}, patience={PLATEAU_PATIENCE}, min_lr=1e-7))")
    weighting = space.training.get("class_weight", TRAINING_DEFAULTS["class_weight"])
    balanced = ('hp.get("training.class_weight") == "balanced"' if is_hp(weighting)
                else "True" if weighting == "balanced" else None)
    if balanced is not None and signature.task == "classification":
        out.append(f"        if {balanced}:" if balanced != "True" else "        if True:  # balanced class weights")
        out.append("            # Each class weighs the same in total: rows / (classes * rows of the class).")
        out.append("            import numpy")
        out.append("            from sklearn.utils.class_weight import compute_class_weight")
        out.append("            labels = numpy.asarray(args[1]).reshape(-1).astype(int)")
        out.append("            classes = numpy.unique(labels)")
        out.append("            weights = compute_class_weight(\"balanced\", classes=classes, y=labels)")
        out.append("            kwargs[\"class_weight\"] = dict(zip(classes.tolist(), weights.tolist()))")
    if one_hot is not False:
        classes = signature.n_classes
        out.append("        if isinstance(model.loss, ONE_HOT_LOSSES):  # y holds class indices")
        out.append(f"            args = (args[0], keras.utils.to_categorical(args[1], {classes}), *args[2:])")
        out.append('            if "validation_data" in kwargs:')
        out.append('                x_val, y_val = kwargs["validation_data"]')
        out.append(f'                kwargs["validation_data"] = (x_val, keras.utils.to_categorical(y_val, {classes}))')
    out.append(f'        kwargs.setdefault("epochs", {epochs})')
    if writer.backbones:
        out.append(f"        history = model.fit(*args, batch_size={batch}, callbacks=callbacks, **kwargs)")
        out.append("        if history.epoch and start_second_phase(model, model.first_learning_rate):")
        out.append("            # The same callbacks: early stopping starts afresh; KerasTuner keeps the best epoch.")
        out.append("            # But KerasTuner's TensorBoard hparams callback refuses a second fit.")
        out.append('            callbacks = [c for c in callbacks if not type(c).__module__.startswith("tensorboard")]')
        out.append("            done = len(history.epoch)")
        out.append('            kwargs["epochs"] += done')
        out.append(f"            second = model.fit(*args, batch_size={batch}, callbacks=callbacks, initial_epoch=done, "
                   "**kwargs)")
        out.append("            for key, values in second.history.items():")
        out.append("                history.history.setdefault(key, []).extend(values)")
        out.append("            history.epoch.extend(second.epoch)")
        out.append("        return history")
    else:
        out.append(f"        return model.fit(*args, batch_size={batch}, callbacks=callbacks, **kwargs)")
    out.append("")
    out.append("")
    sources = sorted(signature.inputs)
    x_arg = "{" + ", ".join(f'"{s}": x_{s}' for s in sources) + "}"
    out.append("# tuner = kt.RandomSearch(HyperModel(), objective=\"val_loss\", max_trials=20,")
    out.append("#                         directory=\"search\", project_name=" + _q(model_name) + ")")
    out.append(f"# tuner.search({x_arg}, y, validation_split=0.2)")
    lines: list[str] = []
    for line in out:
        body = line.lstrip(" ")
        lines.extend(_wrap(line[:len(line) - len(body)], body))
    return "\n".join(lines) + "\n"


__all__ = ["kerastuner_code"]
