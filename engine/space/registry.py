"""The layer registry: one declaration per layer type, read by everything that handles layers.

A :class:`LayerType` says all there is to know about one node type of a spec:

* its params (:class:`ParamDef`: kind, default, allowed range or choices, help), how many inputs
  it takes, its palette group, its help text and the id the editor gives a new node of it;
* its shape rule: ``(input shapes, params, signature) -> (output shape, parameter count)``, in
  plain Python (:mod:`automl_studio.engine.space.shapes` runs it on every edit);
* how it becomes Keras, as *data* — a :class:`KerasLayer`: the ``keras.layers`` class name, a
  function from params to positional and keyword arguments, the keyword arguments that receive
  the training's global L1/L2 regularizer (a layer's own :class:`Regularizer` overrides it),
  and how the layer is called on its inputs. The engine builds
  ``getattr(keras.layers, cls)(*args, **kwargs)`` from it
  (:mod:`automl_studio.engine.train.hypermodel`) and the code view prints
  ``layers.Cls(args...)`` from the very same description
  (:mod:`automl_studio.engine.space.codegen`), so the two cannot drift apart. Layers that are more
  than one Keras call (the Input's preprocessing, the Output head) give a :class:`KerasPlan`:
  a function from params and the data signature to a list of :class:`DataInput` and
  :class:`Call` steps.

Nothing here imports Keras. The argument functions receive the params and must only *place* them
(in positional or keyword arguments, tuples, lists, :class:`AsTuple` or a nested :class:`Call`),
never compute with them: when printing code a searched param is an expression, not a value.
A plan's ``branches`` params are the exception: they arrive as plain values (the code view writes
an ``if`` over a searched one), so a plan may test them.

Adding a layer type is one :func:`register` call (plus its tests); :data:`LAYER_TYPES` is the
live table every other module reads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from automl_studio.engine.data.signature import DataSignature, quantile_edges
from automl_studio.engine.space.backbones import (
    BACKBONES,
    IMAGENET_MEAN_BGR,
    MIN_SIZE,
    WEIGHTS,
    weights_problem,
)

Shape = tuple[int | None, ...]

ACTIVATIONS = ("relu", "gelu", "elu", "selu", "swish", "tanh", "sigmoid", "softplus", "linear")

# The palette's groups, in the order it lists them (a group a new type names goes at the end).
CATEGORIES = ("Input", "Core", "Convolution", "Pretrained", "Pooling", "Normalization", "Recurrent",
              "Attention & embedding", "Augmentation", "Merge", "Output")


class ShapeError(Exception):
    """A layer cannot take the shape it is given; the message says why."""


# --- params ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamDef:
    """One param of a layer type: its kind (int, float, choice, bool, ints), default and bounds.

    ``searchable``: whether the param may be a hyperparameter (an Input's data source may not).
    ``shown_if``: ``(other param, value)`` pairs when the param only matters where one of them
    holds (an Input's embedding size: for the embedding encoding, or a text source); the editor's
    cards and inspector, and the trial's description, leave it out otherwise (:func:`param_shown`).
    ``check_each``: shape inference checks every value of a searched choice of it, not only the
    smallest and largest network's (a Backbone's each backbone needs its own weights file).
    Kind ``path``: a file's path, as text (never searched).
    """

    name: str
    kind: str
    default: Any
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    doc: str = ""
    searchable: bool = True
    shown_if: tuple[tuple[str, Any], ...] = ()
    check_each: bool = False


# --- Keras, as data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One ``keras.layers`` call: ``getattr(keras.layers, cls)(*args, **kwargs)``.

    ``cls`` is a class name, or a param placed there (Bidirectional's inner layer).
    ``keras_defaults``: keyword values Keras assumes anyway; the code view leaves such a keyword
    out when its value is fixed to that. ``regularized``: keyword arguments that receive the
    spec's L1/L2 regularizer. A step of a node is named after the node (plus ``suffix``), or
    ``name`` when that is given; a :class:`Call` nested in another's arguments has no name.
    ``comment``: a line the code view writes before the step.

    A step of a :class:`KerasPlan` that is not a chain (a residual block) says where its operands
    come from: ``inputs`` names them (:data:`NODE_INPUT`, :data:`PREVIOUS` or an earlier step's
    ``keep``; empty: the previous step's output), ``merge`` passes them as one list (as ``Add``
    takes them) rather than as positional arguments, and ``keep`` names this step's output for
    a later step (the code view holds it in a variable of that name).
    """

    cls: Any
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    keras_defaults: Mapping[str, Any] = field(default_factory=dict)
    regularized: tuple[str, ...] = ()
    name: str | None = None
    suffix: str = ""
    dtype: str | None = None
    comment: str = ""
    inputs: tuple[str, ...] = ()
    merge: bool = False
    keep: str = ""


NODE_INPUT = "<input>"
"""In a :class:`Call`'s ``inputs``: the node's (first) input tensor."""

PREVIOUS = "<previous>"
"""In a :class:`Call`'s ``inputs``: the previous step's output."""


@dataclass(frozen=True)
class InputWidth:
    """An argument that is the size of the last axis of the node's input (a residual block's
    projection back to its input width); the code view writes ``x.shape[-1]``."""


@dataclass(frozen=True)
class StepsBefore:
    """An argument that is the length of the node's input sequence (axis 1) less ``keep``: how
    many leading steps to crop so that the last ``keep`` remain; the code view writes
    ``x.shape[1] - keep``. ``keep`` may be a searched param (a lookback range)."""

    keep: Any


@dataclass(frozen=True)
class AsTuple:
    """A param passed as a tuple (a JSON list arrives as a list or tuple)."""

    value: Any


@dataclass(frozen=True)
class Regularizer:
    """A keyword argument that is ``keras.regularizers.L1L2(l1=l1, l2=l2)``; left out (``None``)
    when both factors are fixed to 0. On a key in ``regularized`` the spec's global L1/L2 then
    applies, so a layer's own factors override the global ones."""

    l1: Any
    l2: Any


@dataclass(frozen=True)
class DataArray:
    """A float32 array from the data (a normalisation's mean); the code names it ``name``."""

    name: str
    values: tuple[float, ...]
    comment: str = ""


@dataclass(frozen=True)
class DataInput:
    """A model input (``keras.Input``) read from the dataset; several nodes may share it."""

    name: str
    shape: Shape
    dtype: str = "float32"


@dataclass(frozen=True)
class Application(Call):
    """A step that is a whole ``keras.applications`` network without its classifier:
    ``getattr(keras.applications, cls)(include_top=False, input_shape=<the node's input>,
    **kwargs)``, named after the node, then frozen but for its top ``trainable_blocks`` blocks
    (:func:`automl_studio.engine.space.backbones.fine_tune_top_blocks` with ``blocks``, the
    pattern that groups its layers into blocks). The code view writes the same calls.
    """

    blocks: str = ""
    trainable_blocks: Any = 0
    # A second phase of training: these top blocks unfrozen, the learning rate times this factor
    # (:data:`automl_studio.engine.space.backbones.SECOND_PHASE_SOURCE`); 0 blocks: none.
    second_phase_blocks: Any = 0
    second_phase_lr: Any = 0.1


Arguments = Callable[[Mapping[str, Any]], tuple[Sequence[Any], Mapping[str, Any]]]


def no_arguments(_params: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    return (), {}


CALL_MODES = ("one", "list", "self")


@dataclass(frozen=True)
class KerasLayer:
    """An ordinary layer type: one ``keras.layers.<cls>`` built from the params.

    ``call``: ``"one"`` (``layer(x)``), ``"list"`` (a merge: ``layer([a, b, ...])``) or
    ``"self"`` (self-attention: ``layer(x, x)``).
    """

    cls: str
    arguments: Arguments = no_arguments
    regularized: tuple[str, ...] = ()
    keras_defaults: Mapping[str, Any] = field(default_factory=dict)
    call: str = "one"
    branches: tuple[str, ...] = ()

    def plan(self, params: Mapping[str, Any], signature: DataSignature) -> list[Call | DataInput]:
        args, kwargs = self.arguments(params)
        return [Call(self.cls, tuple(args), dict(kwargs), self.keras_defaults, self.regularized)]


@dataclass(frozen=True)
class KerasPlan:
    """A layer type that is several steps: ``steps(params, signature)`` lists them in order.

    The first :class:`Call` takes the node's inputs (as ``call`` says); each further one takes
    the previous step's output. A :class:`DataInput` step starts from a model input instead.
    ``branches``: params the steps depend on as values (see the module's note).
    """

    steps: Callable[[Mapping[str, Any], DataSignature], list[Call | DataInput]]
    branches: tuple[str, ...] = ()
    call: str = "one"

    def plan(self, params: Mapping[str, Any], signature: DataSignature) -> list[Call | DataInput]:
        return list(self.steps(params, signature))


ShapeRule = Callable[[list[Shape], Mapping[str, Any], DataSignature], tuple[Shape, int]]


# --- layer types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerType:
    """Everything about one node type; see the module's documentation.

    ``inputs``: ``"none"`` (reads the data), ``"one"`` or ``"many"`` (a merge). ``role``:
    ``"input"``, ``"output"`` (the head, exactly one per graph) or ``"layer"``. ``id_prefix``:
    how the editor names a new node (``id_param``: a param whose value names it instead).
    ``example``: input shapes the layer accepts with its default params (the tests build every
    registered type on them); ``example_params``: params the tests fix instead of the defaults
    (a Backbone's weights: none, since tests cannot download ImageNet weights).
    """

    name: str
    category: str
    params: tuple[ParamDef, ...] = ()
    inputs: str = "one"
    doc: str = ""
    shape: ShapeRule = field(kw_only=True)
    keras: KerasLayer | KerasPlan = field(kw_only=True)
    role: str = "layer"
    id_prefix: str = ""
    id_param: str = ""
    example: tuple[Shape, ...] = ()
    example_params: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> ParamDef:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def can_be_optional(self) -> bool:
        """Whether a node of this type may be skipped (and so repeated): one input, not the head."""
        return self.inputs == "one" and self.role == "layer"

    def default_params(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def node_id_base(self, params: Mapping[str, Any]) -> str:
        """The id the editor gives a new node of this type (made unique by the editor)."""
        if self.id_param:
            return str(params.get(self.id_param, self.id_prefix or self.name.lower()))
        return self.id_prefix or re.sub(r"(?<=[a-z])(?=[A-Z])", "_", self.name).lower()


LAYER_TYPES: dict[str, LayerType] = {}
"""Every registered layer type by name, in declaration order (the palette's order)."""

_KINDS = ("int", "float", "choice", "bool", "ints", "path")


def register(layer: LayerType, *, replace: bool = False) -> LayerType:
    """Adds a layer type to :data:`LAYER_TYPES` (checked: a faulty declaration fails here)."""
    if layer.name in LAYER_TYPES and not replace:
        raise ValueError(f"layer type {layer.name!r} is already registered")
    if layer.inputs not in ("none", "one", "many"):
        raise ValueError(f"{layer.name}: inputs must be 'none', 'one' or 'many', not {layer.inputs!r}")
    if layer.role not in ("input", "output", "layer"):
        raise ValueError(f"{layer.name}: role must be 'input', 'output' or 'layer', not {layer.role!r}")
    if layer.keras.call not in CALL_MODES:
        raise ValueError(f"{layer.name}: call must be one of {', '.join(CALL_MODES)}")
    names = [p.name for p in layer.params]
    if len(set(names)) != len(names):
        raise ValueError(f"{layer.name}: two params share a name")
    for p in layer.params:
        if p.kind not in _KINDS:
            raise ValueError(f"{layer.name}.{p.name}: unknown param kind {p.kind!r}")
        if p.kind == "choice" and p.default not in p.choices:
            raise ValueError(f"{layer.name}.{p.name}: the default is not one of the choices")
    for name in layer.keras.branches:
        if name not in names:
            raise ValueError(f"{layer.name}: branch param {name!r} is not one of its params")
    LAYER_TYPES[layer.name] = layer
    return layer


def unregister(name: str) -> None:
    """Removes a layer type (a test's throwaway one)."""
    LAYER_TYPES.pop(name, None)


@contextmanager
def registered(layer: LayerType) -> Iterator[LayerType]:
    """Registers ``layer`` for the duration of a ``with`` block."""
    register(layer)
    try:
        yield layer
    finally:
        unregister(layer.name)


def categories() -> list[str]:
    """The palette groups: :data:`CATEGORIES`, then any other group a registered type names."""
    extra = [t.category for t in LAYER_TYPES.values() if t.category not in CATEGORIES]
    return list(CATEGORIES) + list(dict.fromkeys(extra))


# --- shape helpers --------------------------------------------------------------------------


def head_units(signature: DataSignature) -> int:
    """Width of the output layer: one per value a regression predicts per row (a forecast's
    horizon; usually one), one for binary, else one per class."""
    if signature.task == "regression":
        return max(signature.target_width, 1)
    if signature.n_classes == 2:
        return 1
    return signature.n_classes


def conv_length(n: int | None, k: int, s: int, padding: str) -> int | None:
    """The length of one axis after a window ``k`` with stride ``s``."""
    if n is None:
        return None
    if padding == "same":
        return math.ceil(n / s)
    out = (n - k) // s + 1
    if out < 1:
        raise ShapeError(f"input length {n} is smaller than the window {k}")
    return out


def last_axis(shape: Shape) -> int:
    d = shape[-1] if shape else None
    if d is None:
        raise ShapeError("the last axis must have a known size")
    return d


def need_rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) != rank:
        raise ShapeError(f"needs {what} (rank {rank}), got shape {format_shape(shape)}")


def param_shown(layer: LayerType, pdef: ParamDef, params: Mapping[str, Any]) -> bool:
    """Whether param ``pdef`` of a ``layer`` node whose spec params are ``params`` matters:
    always, unless none of its ``shown_if`` ``(other, value)`` pairs holds. A pair holds when
    ``other`` (or its default) is ``value``, or is searched with ``value`` among its values; a
    searched ``pdef`` always matters (its search can be switched off)."""
    if not pdef.shown_if or isinstance(params.get(pdef.name), Mapping):
        return True
    for other, wanted in pdef.shown_if:
        value = params.get(other, layer.param(other).default)
        if isinstance(value, Mapping):
            hp = value.get("hp")
            if hp == "bool":
                holds = isinstance(wanted, bool)
            elif hp in ("int", "float"):
                holds = isinstance(wanted, (int, float)) and bool(value["min"] <= wanted <= value["max"])
            else:
                holds = wanted in value.get("values", ())
        else:
            holds = bool(value == wanted)
        if holds:
            return True
    return False


def format_shape(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    return ("(" + ", ".join("?" if d is None else str(d) for d in shape)
            + ("," if len(shape) == 1 else "") + ")")


SEQUENCE = "a sequence (steps, features)"
IMAGE = "an image (height, width, channels)"


def need_sequence(shape: Shape) -> None:
    need_rank(shape, 2, SEQUENCE)


def need_image(shape: Shape) -> None:
    need_rank(shape, 3, IMAGE)


def _need_rank(rank: int, what: str) -> ShapeRule:
    """Output = the input, no weights, for an input of ``rank`` only."""

    def rule(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
        need_rank(inputs[0], rank, what)
        return inputs[0], 0

    return rule


def same_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    """Output = the (first) input, no weights."""
    return inputs[0], 0


# --- the built-in types ---------------------------------------------------------------------


def _units(default: int = 64) -> ParamDef:
    return ParamDef("units", "int", default, min=1, max=65536, doc="output width")


def _activation(default: str = "relu") -> ParamDef:
    return ParamDef("activation", "choice", default, ACTIVATIONS)


INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                "lecun_normal")
"""The weight initialisers a layer with weights offers (Keras' names; Glorot uniform is its
default). He suits ReLU-like activations, LeCun SELU, Glorot tanh and sigmoid."""

# Kernel, bias and activity penalties of a layer with weights, as Keras' ``*_regularizer``
# arguments take them (the loss adds l1·Σ|w| + l2·Σw²).
_PENALTY_TARGETS = {
    "kernel": "the weights",
    "bias": "the biases",
    "activity": "the layer's outputs",
}


def _weight_params() -> tuple[ParamDef, ...]:
    """The initialiser and the L1/L2 factors every layer with a kernel takes (0: none)."""
    params = [ParamDef("kernel_initializer", "choice", "glorot_uniform", INITIALIZERS,
                       doc="How the weights start: Glorot suits tanh/sigmoid, He ReLU, LeCun SELU.")]
    for target, what in _PENALTY_TARGETS.items():
        fallback = "the training L1/L2 applies" if target == "kernel" else "none"
        params.append(ParamDef(f"{target}_l1", "float", 0.0, min=0.0, max=1.0,
                               doc=f"L1 penalty on {what}, pushing them to exactly zero (0: {fallback})."))
        params.append(ParamDef(f"{target}_l2", "float", 0.0, min=0.0, max=1.0,
                               doc=f"L2 penalty on {what}, keeping them small (0: {fallback})."))
    return tuple(params)


def _weight_arguments(p: Mapping[str, Any], kernels: tuple[str, ...] = ("kernel",)) -> dict[str, Any]:
    """The keyword arguments of :func:`_weight_params` (``kernels``: the layer's kernel names)."""
    kwargs: dict[str, Any] = {f"{k}_initializer": p["kernel_initializer"] for k in kernels}
    kwargs.update({f"{k}_regularizer": Regularizer(p["kernel_l1"], p["kernel_l2"]) for k in kernels})
    for target in ("bias", "activity"):
        kwargs[f"{target}_regularizer"] = Regularizer(p[f"{target}_l1"], p[f"{target}_l2"])
    return kwargs


_WEIGHT_DEFAULTS = {"kernel_initializer": "glorot_uniform"}


# Input: the data, normalised or encoded inside the model.

SOURCES = ("numeric", "categorical", "text", "image", "sequence")


def _input_shape(_inputs: list[Shape], p: Mapping[str, Any], sig: DataSignature) -> tuple[Shape, int]:
    shape = tuple(_source_shape(p["source"], sig))
    if p["source"] == "numeric" and p["bins"]:
        return (shape[0] * p["bins"],), 0
    if p["source"] == "categorical":
        if p["encoding"] == "embedding":
            return (shape[0] * p["embedding_dim"],), sig.categorical_tokens * p["embedding_dim"]
        return (sig.categorical_tokens,), 0
    if p["source"] == "text":
        return (shape[0], p["embedding_dim"]), sig.text_tokens * p["embedding_dim"]
    return shape, 0


def _source_shape(source: str, sig: DataSignature) -> Shape:
    if source not in sig.inputs:
        have = ", ".join(sig.inputs) or "none"
        raise ShapeError(f"reads {source} data, but the dataset has no {source} input (it has {have})")
    return tuple(sig.inputs[source])


def _input_steps(p: Mapping[str, Any], sig: DataSignature) -> list[Call | DataInput]:
    source = p["source"]
    shape = _source_shape(source, sig)
    steps: list[Call | DataInput] = [
        DataInput(source, shape, "int32" if source in ("categorical", "text") else "float32")]
    if source == "numeric" and p["bins"]:
        steps.extend(_piecewise_linear_steps(int(p["bins"]), sig))
    elif source == "numeric":
        note = "Statistics of the training data's numeric columns (the model normalises its inputs)."
        steps.append(Call("Normalization", kwargs={
            "mean": DataArray("NUMERIC_MEAN", tuple(sig.numeric_mean), note),
            "variance": DataArray("NUMERIC_VARIANCE", tuple(sig.numeric_variance), note)},
            suffix="_normalize", dtype="float32"))  # a float16 variance overflows from a std of 256
    elif source == "categorical":
        if p["encoding"] == "embedding":
            steps.append(Call("Embedding", (sig.categorical_tokens, p["embedding_dim"]), suffix="_embed"))
            steps.append(Call("Flatten", suffix="_flatten"))
        else:
            steps.append(Call("CategoryEncoding", (sig.categorical_tokens,),
                              {"output_mode": "multi_hot"}, suffix="_encode"))
    elif source == "text":
        # Token ids (data.text): id 0 pads, and the mask keeps padding out of recurrent layers,
        # attention and pooling. The .h5 writer drops the mask's ops from the saved graph
        # (export.writers.h5_config), since a reload derives them again from mask_zero.
        steps.append(Call("Embedding", (sig.text_tokens, p["embedding_dim"]), {"mask_zero": True},
                          suffix="_embed"))
    elif source == "image" and sig.image_scale != 1.0:
        steps.append(Call("Rescaling", (float(sig.image_scale),), suffix="_rescale"))
    elif source == "sequence" and sig.sequence_mean:
        note = "Per-feature statistics of the training sequences (the model normalises its inputs)."
        steps.append(Call("Normalization", kwargs={
            "mean": DataArray("SEQUENCE_MEAN", tuple(sig.sequence_mean), note),
            "variance": DataArray("SEQUENCE_VARIANCE", tuple(sig.sequence_variance), note)},
            suffix="_normalize"))
    return steps


def _piecewise_linear_steps(bins: int, sig: DataSignature) -> list[Call | DataInput]:
    """The piecewise-linear encoding of numeric columns (Gorishniy, Rubachev & Babenko 2022, "On
    Embeddings for Numerical Features in Tabular Deep Learning", eq. 1), from standard layers only
    so that a legacy ``.h5`` keeps it: each column repeated once per bin (``RepeatVector`` then
    ``Flatten``: bin-major), ``(x - lower edge) / bin width`` (a ``Normalization`` whose mean and
    variance are the edges and the widths squared), clipped to 0…1 (``ReLU(max_value=1)``). A bin
    is 1 below the value, 0 above it and the value's position inside the bin where it falls; the
    edges are equal-frequency bins of the training rows. Unlike eq. 1, the outer bins are clipped
    too: a value beyond the training range reads as its end (no extrapolation). A bin of zero
    width (a column of few values) becomes a step: 0 up to its edge, 1 above it (its width is a
    millionth of the column's range). A signature without quantiles (made before they were
    kept) gets the equal-frequency bins of a normal distribution of each column's mean and
    variance, its outer edges at its 0.1st and 99.9th percentiles. In float32 whatever the
    precision policy: a float16 variance overflows from widths of 256."""
    if sig.numeric_quantiles:
        edges = [quantile_edges(q, bins) for q in sig.numeric_quantiles]
    else:
        edges = [[NormalDist(m, math.sqrt(v) or 1.0).inv_cdf(min(max(t / bins, 0.001), 0.999))
                  for t in range(bins + 1)] for m, v in zip(sig.numeric_mean, sig.numeric_variance, strict=True)]
    lower: list[float] = []
    width: list[float] = []
    floors = [1e-6 * (column[-1] - column[0]) or 1e-6 for column in edges]
    for t in range(bins):
        for column, floor in zip(edges, floors, strict=True):
            lower.append(column[t])
            width.append(max(column[t + 1] - column[t], floor) ** 2)
    note = (f"Edges of {bins} equal-frequency bins of each numeric column's training values "
            "(bin-major: every column's first bin, then every column's second…).")
    return [Call("RepeatVector", (bins,), suffix="_repeat", dtype="float32"),
            Call("Flatten", suffix="_bins", dtype="float32"),
            Call("Normalization", kwargs={"mean": DataArray(f"BIN_LOWER_EDGES_{bins}", tuple(lower), note),
                                          "variance": DataArray(f"BIN_WIDTHS_SQUARED_{bins}", tuple(width), note)},
                 suffix="_position", dtype="float32"),
            Call("ReLU", kwargs={"max_value": 1.0}, suffix="_piecewise_linear", dtype="float32")]


# Output: the head follows from the task.


def _output_shape(inputs: list[Shape], _p: Mapping[str, Any], sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    if len(x) != 1:
        raise ShapeError(f"the head needs a flat input, got {format_shape(x)}; add Flatten or "
                         "GlobalAveragePooling before it")
    units = head_units(sig)
    return (units,), last_axis(x) * units + units


# Log units above the largest training target that a log1p model may answer: at most twice it
# (log1p(y) <= log1p(max) + log 2, so y <= 2 max + 1). A network linear in a standardised input
# extrapolates linearly in log units, so exponentially in the target's: on grunfeld (held out,
# seed 1) single refits answered 4-6x the largest training investment for a firm's largest years,
# one exported model scored test R^2 -12.9, and capping the same refits at twice the largest
# raised their R^2 from -1.47..0.90 to 0.86..0.92. The cap was e^5 times it (float32 finiteness only).
LOG_CAP_MARGIN = math.log(2.0)


def _output_steps(_p: Mapping[str, Any], sig: DataSignature) -> list[Call | DataInput]:
    units = head_units(sig)
    if sig.task == "regression" and sig.target_transform == "log1p":
        return [
            Call("Dense", (units,), name="head", dtype="float32"),
            Call("Rescaling", kwargs={"scale": float(sig.log_target_std), "offset": float(sig.log_target_mean)},
                 name="to_log_units", dtype="float32",
                 comment="The network learns log1p(target) at unit scale."),
            # log1p of a target without negative values is >= 0: softplus keeps the answer there
            # with a gradient everywhere (a prediction below 0 would stall the log loss, which
            # clips it), and the cap, twice the largest training target (LOG_CAP_MARGIN), keeps
            # exp() finite and an extrapolating network within reach of the data.
            Call("Activation", ("softplus",), name="non_negative_log_units", dtype="float32"),
            Call("ReLU", kwargs={"max_value": float(sig.log_target_max) + LOG_CAP_MARGIN},
                 name="cap_log_units", dtype="float32"),
            Call("Activation", ("exponential",), name="exp", dtype="float32"),
            Call("Rescaling", kwargs={"scale": 1.0, "offset": -1.0}, name="to_target_units", dtype="float32",
                 comment="expm1: the inverse of log1p, so the model answers in the target's units."),
        ]
    if sig.task == "regression" and sig.change_std > 0 and "sequence" in sig.inputs:
        steps, features = sig.inputs["sequence"]
        return [
            Call("Dense", (units,), name="head", dtype="float32"),
            Call("Rescaling", kwargs={"scale": float(sig.change_std), "offset": 0.0}, name="to_change_units",
                 dtype="float32", keep="change",
                 comment="A forecast: the network learns the change from the window's last value."),
            # The window's last target value (step -1, feature 0) from the raw input, repeated
            # for each step ahead, in standard layers (a legacy .h5 reloads them).
            DataInput("sequence", (steps, features)),
            Call("Cropping1D", kwargs={"cropping": (steps - 1, 0)}, name="last_step", dtype="float32"),
            Call("Permute", ((2, 1),), name="last_step_features", dtype="float32"),
            Call("Cropping1D", kwargs={"cropping": (0, features - 1)}, name="last_target", dtype="float32"),
            Call("Flatten", name="last_value", dtype="float32"),
            Call("RepeatVector", (units,), name="last_value_repeated", dtype="float32"),
            Call("Flatten", name="last_value_ahead", dtype="float32"),
            Call("Add", name="to_target_units", dtype="float32", inputs=("change", PREVIOUS), merge=True,
                 comment="The forecast: the last value plus the change."),
        ]
    if sig.task == "regression":
        return [
            Call("Dense", (units,), name="head", dtype="float32"),
            Call("Rescaling", kwargs={"scale": float(sig.target_std), "offset": float(sig.target_mean)},
                 name="to_target_units", dtype="float32",
                 comment="The network learns at unit scale; the model answers in the target's units."),
        ]
    activation = "sigmoid" if units == 1 else "softmax"
    return [Call("Dense", (units,), {"activation": activation}, name="head", dtype="float32")]


# Core


def _dense_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    d = last_axis(x)
    return x[:-1] + (p["units"],), d * p["units"] + (p["units"] if p["use_bias"] else 0)


def _flatten_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    if any(d is None for d in x):
        raise ShapeError(f"cannot flatten a shape with unknown sizes {format_shape(x)}")
    return (math.prod(x),), 0  # type: ignore[arg-type]


def _reshape_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    target = tuple(p["target_shape"])
    size = math.prod(d for d in x if d is not None)
    known = math.prod(d for d in target if d != -1)
    if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
        raise ShapeError(f"target shape {target} may hold at most one -1 and no zeros")
    if -1 in target:
        if known == 0 or size % known:
            raise ShapeError(f"cannot reshape {format_shape(x)} ({size} values) into {target}")
        target = tuple(size // known if d == -1 else d for d in target)
    elif known != size:
        raise ShapeError(f"cannot reshape {format_shape(x)} ({size} values) into {target} ({known})")
    return target, 0


def _batch_norm_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    return inputs[0], 4 * last_axis(inputs[0])  # gamma, beta, moving mean and variance


def _layer_norm_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    return inputs[0], 2 * last_axis(inputs[0])


# Convolution and pooling


def _conv_shape(spatial: int, separable: bool = False) -> ShapeRule:
    def rule(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
        x = inputs[0]
        need_rank(x, spatial + 1, SEQUENCE if spatial == 1 else IMAGE)
        c = last_axis(x)
        k, s, f = p["kernel_size"], p["strides"], p["filters"]
        dims = tuple(conv_length(n, k, s, p["padding"]) for n in x[:-1])
        params = k * k * c + c * f + f if separable else k ** spatial * c * f + f
        return dims + (f,), params

    return rule


def _transpose_length(n: int | None, k: int, s: int, padding: str) -> int | None:
    """The length of one axis after a transposed convolution (Keras' ``deconv_output_length``)."""
    if n is None:
        return None
    return n * s if padding == "same" else n * s + max(k - s, 0)


def _conv_transpose_shape(spatial: int) -> ShapeRule:
    def rule(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
        x = inputs[0]
        need_rank(x, spatial + 1, SEQUENCE if spatial == 1 else IMAGE)
        k, s, f = p["kernel_size"], p["strides"], p["filters"]
        dims = tuple(_transpose_length(n, k, s, p["padding"]) for n in x[:-1])
        return dims + (f,), k ** spatial * last_axis(x) * f + f

    return rule


def _resize_shape(spatial: int, param: str, resize: Callable[[int, int], int]) -> ShapeRule:
    """Each spatial axis resized by ``resize(length, value of param)``; no weights."""

    def rule(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
        x = inputs[0]
        need_rank(x, spatial + 1, SEQUENCE if spatial == 1 else IMAGE)
        dims = tuple(None if n is None else resize(n, p[param]) for n in x[:-1])
        return dims + (x[-1],), 0

    return rule


def _last_steps_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    need_sequence(x)
    steps = int(p["steps"])
    if x[0] is not None and steps > x[0]:
        raise ShapeError(f"keeps the last {steps} steps of a sequence of only {x[0]}; lower its steps or "
                         "lengthen the windows (the lookback)")
    return (steps, x[1]), 0


def _cropped(n: int, c: int) -> int:
    if n - 2 * c < 1:
        raise ShapeError(f"cropping {c} from both ends of an axis of length {n} leaves nothing")
    return n - 2 * c


def _pool_shape(spatial: int) -> ShapeRule:
    def rule(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
        x = inputs[0]
        need_rank(x, spatial + 1, SEQUENCE if spatial == 1 else IMAGE)
        k = p["pool_size"]
        return tuple(conv_length(n, k, k, p["padding"]) for n in x[:-1]) + (x[-1],), 0

    return rule


def _global_pool_shape(spatial: int) -> ShapeRule:
    def rule(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
        x = inputs[0]
        need_rank(x, spatial + 1, SEQUENCE if spatial == 1 else IMAGE)
        return (x[-1],), 0

    return rule


def _conv_arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    return (p["filters"], p["kernel_size"]), {"strides": p["strides"], "padding": p["padding"],
                                              "activation": p["activation"], **_weight_arguments(p)}


def _separable_arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    return (p["filters"], p["kernel_size"]), {
        "strides": p["strides"], "padding": p["padding"], "activation": p["activation"],
        **_weight_arguments(p, ("depthwise", "pointwise"))}


def _pool_arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    return (), {"pool_size": p["pool_size"], "padding": p["padding"]}


# Recurrent


def _rnn_params(cell: str, units: int, d: int) -> int:
    if cell == "SimpleRNN":
        return units * (d + units) + units
    return 4 * (units * (d + units) + units) if cell == "LSTM" else 3 * units * (d + units) + 6 * units


def _rnn_shape(inputs: list[Shape], p: Mapping[str, Any], sig: DataSignature, cell: str,
               directions: int) -> tuple[Shape, int]:
    x = inputs[0]
    need_sequence(x)
    u = p["units"]
    params = directions * _rnn_params(cell, u, last_axis(x))
    width = directions * u
    return ((x[0], width) if p["return_sequences"] else (width,)), params


def _conv_lstm_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    need_rank(x, 3, "a sequence of 1D signals (steps, length, channels)")
    k, f = p["kernel_size"], p["filters"]
    rows = conv_length(x[1], k, p["strides"], p["padding"])
    # Input and recurrent kernels and biases of the four gates.
    params = 4 * (k * last_axis(x) * f + k * f * f + f)
    return ((x[0], rows, f) if p["return_sequences"] else (rows, f)), params


def _conv_lstm_arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    return (p["filters"], p["kernel_size"]), {
        "strides": p["strides"], "padding": p["padding"], "return_sequences": p["return_sequences"],
        "dropout": p["dropout"], "recurrent_dropout": p["recurrent_dropout"], **_weight_arguments(p)}


_RNN_DEFAULTS = {"return_sequences": False, "dropout": 0.0, "recurrent_dropout": 0.0, **_WEIGHT_DEFAULTS}


def _recurrent_arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    return (p["units"],), {"return_sequences": p["return_sequences"], "dropout": p["dropout"],
                           "recurrent_dropout": p["recurrent_dropout"], **_weight_arguments(p)}


def _bidirectional_arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    args, kwargs = _recurrent_arguments(p)
    return (Call(p["layer"], tuple(args), kwargs, keras_defaults=_RNN_DEFAULTS),), {}


# Attention and embedding


def _embedding_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    need_rank(x, 1, "a sequence of token ids (steps,)")
    return (x[0], p["output_dim"]), p["input_dim"] * p["output_dim"]


def _attention_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    need_sequence(x)
    d, h, k = last_axis(x), p["num_heads"], p["key_dim"]
    return x, 3 * (d * h * k + h * k) + h * k * d + d  # query, key, value and output projections


def _score_attention_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    """Attention/AdditiveAttention over ``[query, value]`` or ``[query, value, key]``."""
    if len(inputs) not in (2, 3):
        raise ShapeError(f"takes two inputs (query, then value) or three (query, value, key), got "
                         f"{len(inputs)}")
    for x in inputs:
        need_sequence(x)
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    if last_axis(query) != last_axis(key):
        raise ShapeError(f"the query and the key must have the same width, got "
                         f"{format_shape(query)} and {format_shape(key)}")
    if len(inputs) == 3 and None not in (key[0], value[0]) and key[0] != value[0]:
        raise ShapeError(f"the value and the key must have the same length, got "
                         f"{format_shape(value)} and {format_shape(key)}")
    if "score_mode" in p:  # dot-product Attention: a scalar scale, a scalar concat weight
        weights = int(p["use_scale"]) + int(p["score_mode"] == "concat")
    else:  # AdditiveAttention: one scale per feature
        weights = last_axis(query) if p["use_scale"] else 0
    return (query[0], last_axis(value)), weights


def _transformer_shape(inputs: list[Shape], p: Mapping[str, Any], sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    _, attention = _attention_shape(inputs, p, sig)
    d, ff = last_axis(x), p["ff_units"]
    positions = 0
    if p["position_embedding"]:
        if x[0] is None:
            raise ShapeError(f"a position embedding needs sequences of a known length, got {format_shape(x)}; "
                             "turn position_embedding off")
        positions = (d + 1) + x[0] * d  # the frozen Dense(1) that makes a 1, the table of steps × width
    return x, positions + attention + (d * ff + ff) + (ff * d + d) + 2 * 2 * d  # two Dense, two LayerNorm


def _transformer_steps(p: Mapping[str, Any], _sig: DataSignature) -> list[Call | DataInput]:
    """Post-norm encoder block, as in Keras' "Text classification with Transformer" example,
    in standard layers (so a legacy .h5 reloads it with plain ``keras.models.load_model``).

    The position embedding (keras_hub's ``PositionEmbedding``: a learnt steps × width table added
    to the input) is no core Keras layer and a custom one would not reload without our code, so
    it is built from core layers: a frozen ``Dense(1)`` with a zero kernel and a bias of one, averaged
    over the steps, is the constant 1 per row, and an ``EinsumDense`` whose kernel is the
    (1, steps, width) table turns that 1 into the table itself.
    """
    residual = NODE_INPUT
    steps: list[Call | DataInput] = []
    if p["position_embedding"]:
        residual = "positioned"
        steps = [
            Call("Dense", (1,), {"kernel_initializer": "zeros", "bias_initializer": "ones", "trainable": False},
                 suffix="_ones", comment="position embedding: a learnt vector per step, added to the input"),
            Call("GlobalAveragePooling1D", suffix="_one"),
            # StepsBefore(0): all the input's steps.
            Call("EinsumDense", ("ab,bcd->acd",), {"output_shape": (StepsBefore(0), InputWidth()),
                                                  "kernel_initializer": "random_uniform"}, suffix="_positions"),
            Call("Add", inputs=(NODE_INPUT, PREVIOUS), merge=True, suffix="_positioned", keep=residual),
        ]
    return [
        *steps,
        Call("MultiHeadAttention", (p["num_heads"], p["key_dim"]), inputs=(PREVIOUS, PREVIOUS),
             suffix="_attention"),
        Call("Dropout", (p["dropout"],), suffix="_attention_dropout"),
        Call("Add", inputs=(residual, PREVIOUS), merge=True, suffix="_attention_residual"),
        Call("LayerNormalization", suffix="_attention_norm", keep="attended"),
        Call("Dense", (p["ff_units"],), {"activation": "relu"}, suffix="_ff"),
        Call("Dense", (InputWidth(),), suffix="_ff_out"),
        Call("Dropout", (p["dropout"],), suffix="_ff_dropout"),
        Call("Add", inputs=("attended", PREVIOUS), merge=True, suffix="_ff_residual"),
        Call("LayerNormalization"),
    ]


def _augmentation_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    need_image(inputs[0])
    return inputs[0], 0


# Merges


def _elementwise_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    if len(inputs) < 2:
        raise ShapeError("needs at least two inputs")
    for other in inputs[1:]:
        if other != x:
            raise ShapeError(f"inputs must have the same shape, got {', '.join(map(format_shape, inputs))}")
    return x, 0


def _concatenate_shape(inputs: list[Shape], _p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    if len(inputs) < 2:
        raise ShapeError("needs at least two inputs")
    for other in inputs[1:]:
        if len(other) != len(x) or other[:-1] != x[:-1]:
            raise ShapeError("inputs must match on every axis but the last, got "
                             + ", ".join(map(format_shape, inputs)))
    return x[:-1] + (sum(last_axis(s) for s in inputs),), 0


def _one(*names: str) -> Arguments:
    """Arguments that pass the named params positionally, in order."""

    def arguments(p: Mapping[str, Any]) -> tuple[Sequence[Any], Mapping[str, Any]]:
        return tuple(p[n] for n in names), {}

    return arguments


_CONV_PARAMS = (
    ParamDef("filters", "int", 32, min=1, max=4096),
    ParamDef("kernel_size", "int", 3, min=1, max=64),
    ParamDef("strides", "int", 1, min=1, max=16),
    ParamDef("padding", "choice", "same", ("same", "valid")),
    _activation(),
    *_weight_params(),
)
_DROP_RATE = ParamDef("rate", "float", 0.2, min=0.0, max=0.95,
                      doc="Fraction of channels set to zero in each training step.")
_POOL_PARAMS = (
    ParamDef("pool_size", "int", 2, min=1, max=64),
    ParamDef("padding", "choice", "valid", ("valid", "same")),
)
_RNN_PARAMS = (
    _units(32), ParamDef("return_sequences", "bool", False),
    ParamDef("dropout", "float", 0.0, min=0.0, max=0.95,
             doc="Fraction of the inputs dropped at each step while training."),
    ParamDef("recurrent_dropout", "float", 0.0, min=0.0, max=0.95,
             doc="Fraction of the recurrent state dropped at each step while training (slower: no "
                 "fused kernel)."),
    *_weight_params(),
)
_FLAT, _SEQ, _IMG = ((12,),), ((10, 6),), ((16, 16, 3),)
_SIZE = ParamDef("size", "int", 2, min=1, max=64, doc="How many times each step or pixel is repeated.")
_ZERO_PADDING = ParamDef("padding", "int", 1, min=0, max=256,
                         doc="Zeros added at both ends of each spatial axis.")
_CROPPING = ParamDef("cropping", "int", 1, min=0, max=256,
                     doc="Steps or pixels removed from both ends of each spatial axis.")
_ATTENTION_DROPOUT = ParamDef("dropout", "float", 0.0, min=0.0, max=0.95,
                              doc="Fraction of the attention scores dropped while training.")
_TRANSPOSE_DOC = ("Learned upsampling: with strides 2 the output is twice as long (a decoder's "
                  "counterpart of {}")

for _layer in (
    LayerType("Input", "Input", (
        ParamDef("source", "choice", "numeric", SOURCES, searchable=False,
                 doc="which part of the dataset this input reads"),
        ParamDef("encoding", "choice", "one_hot", ("one_hot", "embedding"), shown_if=(("source", "categorical"),),
                 doc="categorical columns: one-hot codes or a learned embedding"),
        ParamDef("embedding_dim", "int", 8, min=1, max=1024,
                 shown_if=(("encoding", "embedding"), ("source", "text")),
                 doc="width of the learned embedding (categorical columns with embedding encoding, "
                     "and text)"),
        ParamDef("bins", "int", 0, min=0, max=64, shown_if=(("source", "numeric"),),
                 doc="numeric columns: 0 reads each value standardised; from 1, a piecewise-linear "
                     "encoding over this many equal-frequency bins of the training values "
                     "(Gorishniy et al. 2022), where a threshold is one weight"),
    ), inputs="none", doc="Columns or arrays of the dataset, normalised inside the model",
        shape=_input_shape, keras=KerasPlan(_input_steps, branches=("source", "encoding", "bins")),
        role="input", id_prefix="input", id_param="source"),
    LayerType("Dense", "Core", (_units(), _activation(), ParamDef("use_bias", "bool", True),
                                *_weight_params()),
              shape=_dense_shape, example=_FLAT,
              keras=KerasLayer("Dense", lambda p: ((p["units"],), {
                  "activation": p["activation"], "use_bias": p["use_bias"], **_weight_arguments(p)}),
                  regularized=("kernel_regularizer",),
                  keras_defaults={"use_bias": True, **_WEIGHT_DEFAULTS})),
    LayerType("Activation", "Core", (_activation(),), shape=same_shape, example=_FLAT,
              keras=KerasLayer("Activation", _one("activation"))),
    LayerType("Dropout", "Core", (ParamDef("rate", "float", 0.2, min=0.0, max=0.95),),
              shape=same_shape, example=_FLAT, keras=KerasLayer("Dropout", _one("rate"))),
    LayerType("SpatialDropout1D", "Core", (_DROP_RATE,), shape=_need_rank(2, SEQUENCE), example=_SEQ,
              doc="Drops whole feature channels of a sequence (neighbouring steps are correlated)",
              id_prefix="spatial_dropout", keras=KerasLayer("SpatialDropout1D", _one("rate"))),
    LayerType("SpatialDropout2D", "Core", (_DROP_RATE,), shape=_need_rank(3, IMAGE), example=_IMG,
              doc="Drops whole feature maps of an image (neighbouring pixels are correlated)",
              id_prefix="spatial_dropout", keras=KerasLayer("SpatialDropout2D", _one("rate"))),
    LayerType("GaussianNoise", "Core", (
        ParamDef("stddev", "float", 0.1, min=0.0, max=10.0,
                 doc="Standard deviation of the noise added to each value while training."),),
        shape=same_shape, example=_FLAT, doc="Adds zero-mean noise while training (none at inference)",
        id_prefix="noise", keras=KerasLayer("GaussianNoise", _one("stddev"))),
    LayerType("Flatten", "Core", shape=_flatten_shape, example=_SEQ, keras=KerasLayer("Flatten")),
    LayerType("Reshape", "Core", (ParamDef("target_shape", "ints", (-1,)),),
              shape=_reshape_shape, example=_FLAT,
              keras=KerasLayer("Reshape", lambda p: ((AsTuple(p["target_shape"]),), {}))),
    LayerType("Conv1D", "Convolution", _CONV_PARAMS, shape=_conv_shape(1), example=_SEQ,
              keras=KerasLayer("Conv1D", _conv_arguments, regularized=("kernel_regularizer",),
                               keras_defaults={"strides": 1, **_WEIGHT_DEFAULTS})),
    LayerType("Conv2D", "Convolution", _CONV_PARAMS, shape=_conv_shape(2), example=_IMG,
              keras=KerasLayer("Conv2D", _conv_arguments, regularized=("kernel_regularizer",),
                               keras_defaults={"strides": 1, **_WEIGHT_DEFAULTS})),
    LayerType("SeparableConv2D", "Convolution", _CONV_PARAMS, shape=_conv_shape(2, separable=True),
              example=_IMG, id_prefix="sep_conv",
              keras=KerasLayer("SeparableConv2D", _separable_arguments,
                               regularized=("depthwise_regularizer", "pointwise_regularizer"),
                               keras_defaults={"strides": 1, "depthwise_initializer": "glorot_uniform",
                                               "pointwise_initializer": "glorot_uniform"})),
    LayerType("Conv1DTranspose", "Convolution", _CONV_PARAMS, shape=_conv_transpose_shape(1),
              example=_SEQ, id_prefix="deconv", doc=_TRANSPOSE_DOC.format("Conv1D)"),
              keras=KerasLayer("Conv1DTranspose", _conv_arguments, regularized=("kernel_regularizer",),
                               keras_defaults={"strides": 1, **_WEIGHT_DEFAULTS})),
    LayerType("Conv2DTranspose", "Convolution", _CONV_PARAMS, shape=_conv_transpose_shape(2),
              example=_IMG, id_prefix="deconv", doc=_TRANSPOSE_DOC.format("Conv2D)"),
              keras=KerasLayer("Conv2DTranspose", _conv_arguments, regularized=("kernel_regularizer",),
                               keras_defaults={"strides": 1, **_WEIGHT_DEFAULTS})),
    LayerType("UpSampling1D", "Convolution", (_SIZE,), shape=_resize_shape(1, "size", lambda n, k: n * k),
              example=_SEQ, id_prefix="upsample", doc="Repeats each step of a sequence size times",
              keras=KerasLayer("UpSampling1D", _one("size"))),
    LayerType("UpSampling2D", "Convolution", (
        _SIZE, ParamDef("interpolation", "choice", "nearest", ("nearest", "bilinear"),
                        doc="nearest repeats pixels; bilinear blends neighbours")),
        shape=_resize_shape(2, "size", lambda n, k: n * k), example=_IMG, id_prefix="upsample",
        doc="Enlarges an image size times along height and width",
        keras=KerasLayer("UpSampling2D", lambda p: ((p["size"],), {"interpolation": p["interpolation"]}),
                         keras_defaults={"interpolation": "nearest"})),
    LayerType("ZeroPadding1D", "Convolution", (_ZERO_PADDING,),
              shape=_resize_shape(1, "padding", lambda n, k: n + 2 * k), example=_SEQ,
              id_prefix="zero_pad", doc="Adds zero steps at both ends of a sequence",
              keras=KerasLayer("ZeroPadding1D", _one("padding"))),
    LayerType("ZeroPadding2D", "Convolution", (_ZERO_PADDING,),
              shape=_resize_shape(2, "padding", lambda n, k: n + 2 * k), example=_IMG,
              id_prefix="zero_pad", doc="Adds a border of zeros around an image",
              keras=KerasLayer("ZeroPadding2D", _one("padding"))),
    LayerType("Cropping1D", "Convolution", (_CROPPING,), shape=_resize_shape(1, "cropping", _cropped),
              example=_SEQ, id_prefix="crop", doc="Removes steps at both ends of a sequence",
              keras=KerasLayer("Cropping1D", _one("cropping"))),
    LayerType("LastSteps", "Convolution", (
        ParamDef("steps", "int", 8, min=1, max=100_000,
                 doc="How many of the sequence's latest steps the network sees: a forecast's lookback. "
                     "Searched, it tries shorter histories on windows of the longest one."),),
        shape=_last_steps_shape, example=_SEQ, id_prefix="last_steps",
        doc="Keeps the last steps of a sequence (a searchable lookback); a Cropping1D of the first ones",
        # A plan, not a KerasLayer: its argument depends on the input's length.
        keras=KerasPlan(lambda p, _sig: [Call("Cropping1D", kwargs={"cropping": (StepsBefore(p["steps"]), 0)})])),
    LayerType("Cropping2D", "Convolution", (_CROPPING,), shape=_resize_shape(2, "cropping", _cropped),
              example=_IMG, id_prefix="crop", doc="Removes a border of pixels around an image",
              keras=KerasLayer("Cropping2D", _one("cropping"))),
    LayerType("MaxPooling1D", "Pooling", _POOL_PARAMS, shape=_pool_shape(1), example=_SEQ,
              keras=KerasLayer("MaxPooling1D", _pool_arguments)),
    LayerType("MaxPooling2D", "Pooling", _POOL_PARAMS, shape=_pool_shape(2), example=_IMG,
              keras=KerasLayer("MaxPooling2D", _pool_arguments)),
    LayerType("AveragePooling1D", "Pooling", _POOL_PARAMS, shape=_pool_shape(1), example=_SEQ,
              keras=KerasLayer("AveragePooling1D", _pool_arguments)),
    LayerType("AveragePooling2D", "Pooling", _POOL_PARAMS, shape=_pool_shape(2), example=_IMG,
              keras=KerasLayer("AveragePooling2D", _pool_arguments)),
    LayerType("GlobalAveragePooling1D", "Pooling", shape=_global_pool_shape(1), example=_SEQ,
              id_prefix="global_pool", keras=KerasLayer("GlobalAveragePooling1D")),
    LayerType("GlobalAveragePooling2D", "Pooling", shape=_global_pool_shape(2), example=_IMG,
              id_prefix="global_pool", keras=KerasLayer("GlobalAveragePooling2D")),
    LayerType("GlobalMaxPooling1D", "Pooling", shape=_global_pool_shape(1), example=_SEQ,
              id_prefix="global_max_pool", doc="The largest value of each feature over the steps",
              keras=KerasLayer("GlobalMaxPooling1D")),
    LayerType("GlobalMaxPooling2D", "Pooling", shape=_global_pool_shape(2), example=_IMG,
              id_prefix="global_max_pool", doc="The largest value of each channel over the image",
              keras=KerasLayer("GlobalMaxPooling2D")),
    LayerType("BatchNormalization", "Normalization", shape=_batch_norm_shape, example=_FLAT,
              id_prefix="batch_norm", keras=KerasLayer("BatchNormalization")),
    LayerType("LayerNormalization", "Normalization", shape=_layer_norm_shape, example=_SEQ,
              id_prefix="layer_norm", keras=KerasLayer("LayerNormalization")),
    LayerType("LSTM", "Recurrent", _RNN_PARAMS, example=_SEQ,
              shape=lambda i, p, s: _rnn_shape(i, p, s, "LSTM", 1),
              keras=KerasLayer("LSTM", _recurrent_arguments, keras_defaults=_RNN_DEFAULTS)),
    LayerType("GRU", "Recurrent", _RNN_PARAMS, example=_SEQ,
              shape=lambda i, p, s: _rnn_shape(i, p, s, "GRU", 1),
              keras=KerasLayer("GRU", _recurrent_arguments, keras_defaults=_RNN_DEFAULTS)),
    LayerType("SimpleRNN", "Recurrent", _RNN_PARAMS, example=_SEQ,
              doc="The plain recurrent layer (tanh of input and previous state; short memory)",
              shape=lambda i, p, s: _rnn_shape(i, p, s, "SimpleRNN", 1),
              keras=KerasLayer("SimpleRNN", _recurrent_arguments, keras_defaults=_RNN_DEFAULTS)),
    LayerType("ConvLSTM1D", "Recurrent", (
        ParamDef("filters", "int", 16, min=1, max=4096),
        ParamDef("kernel_size", "int", 3, min=1, max=64),
        ParamDef("strides", "int", 1, min=1, max=16),
        ParamDef("padding", "choice", "same", ("same", "valid")),
        *_RNN_PARAMS[1:]),
        shape=_conv_lstm_shape, example=_IMG, id_prefix="conv_lstm",
        doc="An LSTM whose gates are 1D convolutions, over a sequence of 1D signals (steps, length, "
            "channels): an image's rows as steps, or a Reshape of a sequence",
        keras=KerasLayer("ConvLSTM1D", _conv_lstm_arguments, regularized=("kernel_regularizer",),
                         keras_defaults={"strides": 1, **_RNN_DEFAULTS})),
    LayerType("Bidirectional", "Recurrent", (
        ParamDef("layer", "choice", "LSTM", ("LSTM", "GRU", "SimpleRNN")), *_RNN_PARAMS),
        shape=lambda i, p, s: _rnn_shape(i, p, s, p["layer"], 2), example=_SEQ,
        id_prefix="bidirectional", keras=KerasLayer("Bidirectional", _bidirectional_arguments)),
    LayerType("Embedding", "Attention & embedding", (
        ParamDef("input_dim", "int", 1000, min=1, max=10_000_000, doc="vocabulary size"),
        ParamDef("output_dim", "int", 32, min=1, max=4096)),
        shape=_embedding_shape, example=_FLAT,
        keras=KerasLayer("Embedding", _one("input_dim", "output_dim"))),
    LayerType("MultiHeadAttention", "Attention & embedding", (
        ParamDef("num_heads", "int", 4, min=1, max=128), ParamDef("key_dim", "int", 32, min=1, max=4096)),
        doc="self-attention over a sequence", shape=_attention_shape, example=_SEQ,
        id_prefix="attention",
        keras=KerasLayer("MultiHeadAttention", _one("num_heads", "key_dim"), call="self")),
    LayerType("Attention", "Attention & embedding", (
        ParamDef("use_scale", "bool", False, doc="Learn a scalar that scales the scores."),
        ParamDef("score_mode", "choice", "dot", ("dot", "concat"),
                 doc="dot: query·key scores (Luong); concat: tanh(query + key) summed"),
        _ATTENTION_DROPOUT),
        inputs="many", shape=_score_attention_shape, example=_SEQ * 2, id_prefix="attention",
        doc="Dot-product attention of a query sequence over a value sequence: connect the query "
            "first, then the value (and optionally a key); query and key must be equally wide",
        keras=KerasLayer("Attention", lambda p: ((), {
            "use_scale": p["use_scale"], "score_mode": p["score_mode"], "dropout": p["dropout"]}),
            keras_defaults={"use_scale": False, "score_mode": "dot", "dropout": 0.0}, call="list")),
    LayerType("AdditiveAttention", "Attention & embedding", (
        ParamDef("use_scale", "bool", True, doc="Learn one scale per feature of the scores."),
        _ATTENTION_DROPOUT),
        inputs="many", shape=_score_attention_shape, example=_SEQ * 2, id_prefix="attention",
        doc="Additive (Bahdanau) attention of a query sequence over a value sequence: connect "
            "the query first, then the value (and optionally a key)",
        keras=KerasLayer("AdditiveAttention", lambda p: ((), {
            "use_scale": p["use_scale"], "dropout": p["dropout"]}),
            keras_defaults={"use_scale": True, "dropout": 0.0}, call="list")),
    LayerType("TransformerEncoder", "Attention & embedding", (
        ParamDef("num_heads", "int", 2, min=1, max=128, doc="Attention heads."),
        ParamDef("key_dim", "int", 16, min=1, max=4096, doc="Width of each head's query and key."),
        ParamDef("ff_units", "int", 64, min=1, max=65536,
                 doc="Width of the feed-forward layer between the attention and the output."),
        ParamDef("dropout", "float", 0.1, min=0.0, max=0.95,
                 doc="Fraction dropped after the attention and after the feed-forward layer."),
        # Off unless set: a spec or project made before the option keeps its network (and its
        # trials' checkpoints still load); the text template turns it on.
        ParamDef("position_embedding", "bool", False,
                 doc="Add a learnt vector per step (steps × width weights) to the input, so the "
                     "attention sees the order of the steps; needs sequences of a known length.")),
        shape=_transformer_shape, example=_SEQ, id_prefix="transformer",
        doc="A Transformer encoder block over a sequence: a learnt position embedding added to the "
            "input (optional), multi-head self-attention, dropout, residual and LayerNormalization, "
            "then Dense(ff_units, relu) and Dense back to the input width, dropout, residual and "
            "LayerNormalization; the output is as wide as the input. Without the position embedding "
            "it sees no order: put a Conv1D or recurrent layer before it where the order matters",
        keras=KerasPlan(_transformer_steps, branches=("position_embedding",))),
    LayerType("RandomFlip", "Augmentation", (
        ParamDef("mode", "choice", "horizontal", ("horizontal", "vertical", "horizontal_and_vertical")),),
        shape=_augmentation_shape, example=_IMG, keras=KerasLayer("RandomFlip", _one("mode"))),
    LayerType("RandomRotation", "Augmentation", (ParamDef("factor", "float", 0.1, min=0.0, max=1.0),),
              shape=_augmentation_shape, example=_IMG,
              keras=KerasLayer("RandomRotation", _one("factor"))),
    LayerType("RandomZoom", "Augmentation", (ParamDef("height_factor", "float", 0.1, min=0.0, max=0.9),),
              shape=_augmentation_shape, example=_IMG,
              keras=KerasLayer("RandomZoom", _one("height_factor"))),
    LayerType("Add", "Merge", inputs="many", shape=_elementwise_shape, example=_FLAT * 2,
              keras=KerasLayer("Add", call="list")),
    LayerType("Concatenate", "Merge", inputs="many", shape=_concatenate_shape, example=_FLAT * 2,
              id_prefix="concat", keras=KerasLayer("Concatenate", call="list")),
    LayerType("Multiply", "Merge", inputs="many", shape=_elementwise_shape, example=_FLAT * 2,
              keras=KerasLayer("Multiply", call="list")),
    LayerType("Output", "Output", inputs="one",
              doc="The head: units, activation and loss follow from the task",
              shape=_output_shape, keras=KerasPlan(_output_steps), role="output", id_prefix="head",
              example=((8,),)),
):
    register(_layer)
del _layer


# Backbone: a pretrained keras.applications network as one node (issue #18).

BACKBONE_INPUT_SIZES = (0, 32, 48, 64, 96, 128, 160, 192, 224, 256)
"""A Backbone's input sizes: 0 keeps the images' own; the others resize them first (a Keras
``Resizing`` layer, which a legacy .h5 reloads). MobileNetV2 has ImageNet weights for 96–224."""


def _backbone_shape(inputs: list[Shape], p: Mapping[str, Any], _sig: DataSignature) -> tuple[Shape, int]:
    x = inputs[0]
    need_image(x)
    if x[2] != 3:
        raise ShapeError(f"needs colour images (height, width, 3), got {format_shape(x)}; repeat grey arrays "
                         "into three channels (numpy.repeat(x, 3, axis=-1)) — an image folder is read in colour")
    size = int(p.get("input_size", 0))
    if size:
        x = (size, size, 3)  # resized first
    elif any(d is not None and d < MIN_SIZE for d in x[:2]):
        raise ShapeError(f"needs images of at least {MIN_SIZE}×{MIN_SIZE} pixels, got {format_shape(x)}; "
                         "or set an input size")
    problem = weights_problem(p["backbone"], p["weights"], p["weights_file"], x[0] if x[0] == x[1] else None)
    if problem:
        raise ShapeError(problem)
    backbone = BACKBONES[p["backbone"]]
    return (backbone.features,), backbone.params + (3 * 3 + 3 if backbone.preprocessing == "caffe" else 0)


def _backbone_steps(p: Mapping[str, Any], _sig: DataSignature) -> list[Call | DataInput]:
    """The backbone's own preprocessing of 0…1 pixels, in standard layers (a legacy .h5 reloads
    it with plain Keras), then the network (see :mod:`automl_studio.engine.space.backbones`)."""
    backbone = BACKBONES[p["backbone"]]
    how = backbone.preprocessing
    steps: list[Call | DataInput] = []
    size = int(p.get("input_size", 0))
    if size:
        steps.append(Call("Resizing", (size, size), suffix="_resize",
                          comment=f"{backbone.name} sees the images resized to {size}×{size} pixels."))
    if how == "tf":
        steps.append(Call("Rescaling", (2.0,), {"offset": -1.0}, suffix="_preprocess",
                          comment=f"{backbone.name} takes pixels in -1…1."))
    elif how == "inside":
        steps.append(Call("Rescaling", (255.0,), suffix="_preprocess",
                          comment=f"{backbone.name} takes pixels in 0…255 and normalises them itself."))
    else:  # "caffe"
        flip = [[0.0, 0.0, 255.0], [0.0, 255.0, 0.0], [255.0, 0.0, 0.0]]
        steps.append(Call("Dense", (3,), {
            "kernel_initializer": {"class_name": "Constant", "config": {"value": flip}},
            "bias_initializer": {"class_name": "Constant", "config": {"value": [-m for m in IMAGENET_MEAN_BGR]}},
            "trainable": False}, suffix="_preprocess",
            comment=f"{backbone.name} takes BGR pixels in 0…255 less the ImageNet mean (a fixed Dense(3))."))
    weights = {"imagenet": "imagenet", "file": p["weights_file"], "none": None}[p["weights"]]
    steps.append(Application(backbone.name, kwargs={"weights": weights, "pooling": p["pooling"]},
                             blocks=backbone.blocks, trainable_blocks=p["trainable_blocks"],
                             second_phase_blocks=p.get("second_phase_blocks", 0),
                             second_phase_lr=p.get("second_phase_lr", 0.1)))
    return steps


def _backbone_params() -> tuple[ParamDef, ...]:
    return (
        ParamDef("backbone", "choice", "MobileNetV2", tuple(BACKBONES), check_each=True,
                 doc="The keras.applications network, without its classifier."),
        ParamDef("weights", "choice", "imagenet", WEIGHTS, check_each=True,
                 doc="imagenet: Keras' cached ImageNet weights (never downloaded during a search); "
                     "file: a weights file of the same network; none: random, trained from scratch."),
        ParamDef("weights_file", "path", "", searchable=False, shown_if=(("weights", "file"),),
                 doc="A weights file of this network without its top (keras.applications' "
                     "*_notop.h5, or one saved with model.save_weights)."),
        ParamDef("input_size", "choice", 0, BACKBONE_INPUT_SIZES, check_each=True,
                 doc="The images are resized to this many pixels square before the backbone (0: their "
                     "own size); larger sizes show it more detail and cost more time."),
        ParamDef("pooling", "choice", "avg", ("avg", "max"),
                 doc="How the last feature map becomes one vector: its average or its maximum."),
        ParamDef("trainable_blocks", "int", 0, min=0, max=64,
                 doc="Blocks at the top of the backbone that train with the head (0: the backbone "
                     "is frozen; with pretrained weights its BatchNormalization stays frozen)."),
        ParamDef("second_phase_blocks", "int", 0, min=0, max=64,
                 doc="A second phase of training once the first ends: this many top blocks (at least the "
                     "trainable blocks) train on at a lower learning rate, for up to as many epochs again "
                     "(0: no second phase)."),
        ParamDef("second_phase_lr", "float", 0.1, min=0.001, max=1.0,
                 doc="The second phase's learning rate, as a fraction of the first phase's."),
    )


register(LayerType(
    "Backbone", "Pretrained", _backbone_params(), shape=_backbone_shape,
    keras=KerasPlan(_backbone_steps, branches=("backbone", "weights", "input_size")), id_prefix="backbone",
    doc="A pretrained image network from keras.applications (MobileNetV2, MobileNetV3, EfficientNetB0–B2, "
        "ResNet50, ConvNeXt-Tiny) as one layer, with its own preprocessing of 0…1 pixels; outputs one feature "
        "vector. Needs colour images of at least 32×32 pixels",
    example=((32, 32, 3),), example_params={"backbone": "MobileNetV2", "weights": "none"}))


__all__ = [
    "ACTIVATIONS", "CATEGORIES", "INITIALIZERS", "LAYER_TYPES", "Application", "AsTuple", "Call", "DataArray",
    "DataInput", "InputWidth", "StepsBefore", "KerasLayer", "NODE_INPUT", "PREVIOUS", "KerasPlan", "LayerType", "ParamDef", "Regularizer", "ShapeError", "categories", "format_shape",
    "head_units", "register", "registered", "unregister",
]
