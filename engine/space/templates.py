"""Built-in search spaces a user gets with zero architecture work.

``tabular``: the profiled columns as inputs (numbers standardised or, searched, piecewise-linear
over quantile bins; categories one-hot or, for many levels, also a learned embedding), then an MLP
block repeated 0–4 times with optional batch-norm and dropout. Zero blocks matters: on small
tables a linear model often wins. ``image``: optional augmentation (flips, small rotations and
zooms), conv blocks repeated, pooling, a dense head; with the ``backbone`` option
(:data:`BACKBONE_OPTIONS`), a pretrained Backbone node fine-tuned instead of the conv blocks. ``text``: token ids embedded (padding
masked), optionally a bidirectional LSTM/GRU, a Transformer encoder block and a Conv1D, averaged,
merged with the table's other columns, a dense head. ``residual`` (an image block with a skip
connection) and ``sequence`` (an LSTM) are starting points for the editor. ``forecast`` (windows
of a time series): optional Conv1D, LSTM and GRU layers and a Transformer encoder block (a Dense
projection, self-attention with a learnt position embedding) over the window, flattened into an
optional dense layer; with every option off it is a linear autoregression. The output head always
follows from the task.

A template spec remembers how it was made (its ``template`` key), so the search can lay its inputs
out for the data actually loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.core.jsonfile import read_json_document
from automl_studio.engine.data.features import MANY_LEVELS
from automl_studio.engine.space.spec import SearchSpace

TEMPLATES = ("tabular", "image", "residual", "sequence", "forecast", "text")

MIN_STEPS = 8  # gradient steps per epoch the default batch sizes aim for
MIN_BATCH = 8

_COMMON = {
    "optimizers": ["adam", "adamw"],
    "min_lr": 1e-4,
    "max_lr": 1e-2,
    "batch_sizes": [32, 64],
    "epochs": 100,
    "patience": 8,
}

_DEFAULTS: dict[str, dict[str, Any]] = {
    # A range of 1e-3..3e-2 was tried and made things worse on small tables (overconfident
    # networks win on tiny validation splits; BENCHMARKS.md): the first trial's linear baseline
    # uses the top of this range instead.
    "tabular": {"min_blocks": 0, "max_blocks": 4, "min_units": 16, "max_units": 256,
                "dropout": True, "batch_norm": True, "numeric_bins": True, **_COMMON},
    "image": {"augment": True, "flip": True, "min_blocks": 1, "max_blocks": 3, "min_filters": 16,
              "max_filters": 128, "flatten": False, "backbone": [], **_COMMON, "epochs": 50},
    "residual": {"augment": True, "flip": True, "min_filters": 16, "max_filters": 64, **_COMMON, "epochs": 50},
    "sequence": {"min_units": 16, "max_units": 128, **_COMMON},
    # Forecast: the first trial is a linear autoregression on the window; the search adds Conv1D,
    # LSTM, GRU and a Transformer encoder block over the steps, and a dense layer.
    "forecast": {"min_units": 16, "max_units": 64, "attention": True, **_COMMON, "epochs": 60},
    # Text: the first trial is fastText's averaged embeddings into a linear head; the search adds
    # a bidirectional LSTM/GRU, a Transformer encoder block and a Conv1D over the tokens, and a
    # dense layer after pooling.
    "text": {"embedding_dims": [32, 64], "min_units": 16, "max_units": 64, "recurrent": True,
             "attention": True, "conv": True, **_COMMON, "max_lr": 3e-2, "epochs": 60, "patience": 6},
}


TINY_IMAGE_PIXELS = 16 * 16
"""Images of at most this many pixels (8×8 digits) have their last feature map flattened rather
than averaged (where its strokes are is what tells one digit from another) and, from
:data:`LINEAR_IMAGE_ROWS` training images, are searched from a linear model on their pixels up.
On scikit-learn's digits a linear model on the 64 pixels scores 0.955 (issue #16)."""

LINEAR_IMAGE_ROWS = 500
"""Training images from which tiny ones start from a linear model. Its raw pixels (0…1, never
centred) make it slow to learn: 24 images of 6×6 pixels, dim against bright, needed 26 epochs at
batches of 8, where one convolution block with its bias and ReLU needs a few."""


def embedding_size(levels: int) -> int:
    """The width of a learned embedding of a categorical column with ``levels`` levels:
    ``min(600, round(1.6 * levels ** 0.56))`` — fastai's ``emb_sz_rule`` (Howard & Gugger,
    *fastai*, 2020), found empirically on tabular benchmarks. 37 levels: 12; 1,000 levels: 77."""
    return max(1, min(600, round(1.6 * max(levels, 1) ** 0.56)))


def template_defaults(name: str, train_rows: int = 0,
                      image_shape: Sequence[int | None] | None = None) -> dict[str, Any]:
    """The options a template starts with; batch sizes follow ``train_rows`` when it is known,
    the image templates' augmentation and first layers the images' ``(height, width, channels)``."""
    if name not in _DEFAULTS:
        raise SpecError(f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}")
    options = {k: (list(v) if isinstance(v, list) else v) for k, v in _DEFAULTS[name].items()}
    if train_rows:
        options["batch_sizes"] = batch_sizes_for(train_rows, options["batch_sizes"])
    if name in ("image", "residual") and image_shape is not None and len(image_shape) == 3:
        height, width, channels = image_shape
        if channels == 1:
            options["flip"] = False  # a mirrored digit or letter is another symbol, or none
        if name == "image" and height and width and height * width <= TINY_IMAGE_PIXELS:
            options["flatten"] = True
            if train_rows >= LINEAR_IMAGE_ROWS:
                options["min_blocks"] = 0
    return options


def batch_sizes_for(train_rows: int, usual: list[int]) -> list[int]:
    """Batch sizes that give an epoch at least :data:`MIN_STEPS` gradient steps.

    On 90 rows, batches of 32 or 64 make an epoch 2–3 steps: every trial ran into the epoch cap
    still improving, and which under-trained network won 30 validation rows was chance
    (BENCHMARKS.md, iris). Smaller tables get smaller batches; large ones keep ``usual``.
    """
    top = max(usual)
    while top > MIN_BATCH and train_rows / top < MIN_STEPS:
        top //= 2
    if top == max(usual):
        return list(usual)
    return [b for b in (top // 2, top) if b >= MIN_BATCH] or [MIN_BATCH]


def _choice_or_fixed(values: list[Any]) -> Any:
    values = list(dict.fromkeys(values))
    return values[0] if len(values) == 1 else {"hp": "choice", "values": values}


def _int_range(lo: int, hi: int, step: int = 1) -> Any:
    if lo > hi:
        raise SpecError(f"template range {lo}…{hi} is empty (min is above max)")
    return lo if lo == hi else {"hp": "int", "min": lo, "max": hi, "step": step}


def _training(o: Mapping[str, Any]) -> dict[str, Any]:
    lo, hi = float(o["min_lr"]), float(o["max_lr"])
    if not 0 < lo <= hi:
        raise SpecError(f"learning-rate range {lo}…{hi} needs 0 < min ≤ max")
    return {
        "optimizer": _choice_or_fixed(list(o["optimizers"])),
        "learning_rate": lo if lo == hi else {"hp": "float", "min": lo, "max": hi, "log": True},
        "batch_size": _choice_or_fixed([int(b) for b in o["batch_sizes"]]),
        "epochs": int(o["epochs"]),
        "patience": int(o["patience"]),
        "lr_schedule": "constant",
    }


BACKBONE_OPTIONS = {"backbone": ["MobileNetV2", "EfficientNetB0"]}
"""Options of the image template that fine-tune pretrained ImageNet backbones instead of
searching convolution blocks (the editor's *Image, pretrained backbone* template)."""

BACKBONE_MAX_LR = 1e-3  # fine-tuning at the template's usual 1e-2 would wreck pretrained weights


def _backbone(add: Any, o: dict[str, Any], last: str) -> str:
    """The image template's feature extractor as a Backbone node: the ``backbone`` option's
    networks (a choice when several) with Keras' cached ImageNet weights, their top 0–2 blocks
    fine-tuned. The learning rate's range tops at :data:`BACKBONE_MAX_LR` (a given ``max_lr``
    counts)."""
    names = list(o["backbone"]) if isinstance(o["backbone"], (list, tuple)) else [o["backbone"]]
    o["max_lr"] = min(float(o["max_lr"]), BACKBONE_MAX_LR)
    o["min_lr"] = min(float(o["min_lr"]), o["max_lr"] / 10)
    return add("backbone", "Backbone", {
        "backbone": names[0] if len(names) == 1 else {"hp": "choice", "values": names},
        "weights": "imagenet", "trainable_blocks": {"hp": "int", "min": 0, "max": 2}}, after=last)


NUMERIC_BINS = [0, 8, 16]
"""The tabular template's numeric Input: standardised values (0, the first trial's) or the
piecewise-linear encoding over 8 or 16 equal-frequency bins (Gorishniy et al. 2022), where a
network reads a threshold — the split a tree makes — as one weight."""


def _input_params(source: str, categorical_levels: int, *, bins: bool = False) -> dict[str, Any]:
    if source == "numeric" and bins:
        return {"source": source, "bins": {"hp": "choice", "values": list(NUMERIC_BINS)}}
    if source == "categorical" and categorical_levels > MANY_LEVELS:
        return {"source": source, "encoding": {"hp": "choice", "values": ["one_hot", "embedding"]},
                "embedding_dim": embedding_size(categorical_levels)}
    return {"source": source}


def _units_step(lo: int, hi: int) -> int:
    return 16 if lo % 16 == 0 and hi % 16 == 0 and hi - lo >= 32 else 1


def template_spec(name: str, options: Mapping[str, Any] | None = None,
                  inputs: Iterable[str] | None = None, train_rows: int = 0,
                  image_shape: Sequence[int | None] | None = None,
                  categorical_levels: int = 0) -> dict[str, Any]:
    """A template as a JSON spec.

    Args:
        name: one of :data:`TEMPLATES`.
        options: overrides of :func:`template_defaults`.
        inputs: the data's input sources (``numeric``, ``categorical``...); the tabular template
            makes one Input node for each. ``None``: numeric only, re-laid for the data by the
            search.
        train_rows: how many rows the search trains on (0: unknown), for the batch sizes.
        image_shape: the images' ``(height, width, channels)`` (None: unknown), for the image
            templates' defaults (:func:`template_defaults`).
        categorical_levels: levels of the data's categorical column with the most (0: unknown).
            Above :data:`MANY_LEVELS`, the tabular and text templates' categorical Input searches
            one-hot codes (first: the simplest network) against a learned embedding of
            :func:`embedding_size` — the many-level categoricals where one-hot networks lose most
            (issue #16; Guo & Berkhahn 2016, "Entity Embeddings of Categorical Variables").
    """
    o = {**template_defaults(name, train_rows, image_shape), **(options or {})}
    nodes: list[dict[str, Any]] = []
    edges: list[list[str]] = []
    repeats: list[dict[str, Any]] = []

    def add(node_id: str, kind: str, params: Mapping[str, Any] | None = None, *,
            after: str | list[str] | None = None, optional: bool = False) -> str:
        item: dict[str, Any] = {"id": node_id, "type": kind, "params": dict(params or {})}
        if optional:
            item["optional"] = True
        nodes.append(item)
        for src in ([after] if isinstance(after, str) else after or []):
            edges.append([src, node_id])
        return node_id

    if name == "tabular":
        sources = [s for s in (inputs or ["numeric"]) if s in ("numeric", "categorical")] or ["numeric"]
        heads = [add(s, "Input", _input_params(s, categorical_levels, bins=bool(o["numeric_bins"])))
                 for s in sources]
        last = add("features", "Concatenate", after=heads) if len(heads) > 1 else heads[0]
        lo, hi = int(o["min_units"]), int(o["max_units"])
        chain = [add("dense", "Dense", {
            "units": _int_range(lo, hi, _units_step(lo, hi)),
            "activation": {"hp": "choice", "values": ["relu", "gelu"]}}, after=last)]
        last = chain[-1]
        if o["batch_norm"]:
            last = add("batch_norm", "BatchNormalization", after=last, optional=True)
            chain.append(last)
        if o["dropout"]:
            last = add("dropout", "Dropout", {"rate": {"hp": "float", "min": 0.0, "max": 0.5, "step": 0.1}},
                       after=last, optional=True)
            chain.append(last)
        repeats.append({"id": "block", "nodes": chain, "min": int(o["min_blocks"]),
                        "max": int(o["max_blocks"])})
        add("head", "Output", after=last)
        training = _training(o)
        training["l2"] = {"hp": "choice", "values": [0.0, 1e-4, 1e-3]}
    elif name in ("image", "residual"):
        last = add("image", "Input", {"source": "image"})
        if o["augment"]:
            if o["flip"]:
                last = add("flip", "RandomFlip", {"mode": "horizontal"}, after=last, optional=True)
            last = add("rotate", "RandomRotation", {"factor": 0.05}, after=last, optional=True)
            last = add("zoom", "RandomZoom", {"height_factor": 0.1}, after=last, optional=True)
        lo, hi = int(o["min_filters"]), int(o["max_filters"])
        if name == "image" and o["backbone"]:
            last = _backbone(add, o, last)
        elif name == "image":
            conv = add("conv", "Conv2D", {"filters": _int_range(lo, hi, _units_step(lo, hi)),
                                          "kernel_size": {"hp": "choice", "values": [3, 5]}}, after=last)
            norm = add("conv_norm", "BatchNormalization", after=conv, optional=True)
            pool = add("pool", "MaxPooling2D", {"pool_size": 2, "padding": "same"}, after=norm)
            repeats.append({"id": "conv_block", "nodes": [conv, norm, pool],
                            "min": int(o["min_blocks"]), "max": int(o["max_blocks"])})
            last = (add("flatten", "Flatten", after=pool) if o["flatten"]
                    else add("gap", "GlobalAveragePooling2D", after=pool))
        else:
            # The skip connection adds the stem to the block's output, so both keep one width;
            # the block's inner width is what varies.
            width = max(lo, min(hi, 32))
            stem = add("stem", "Conv2D", {"filters": width, "kernel_size": 3}, after=last)
            a = add("res_conv1", "Conv2D", {"filters": _int_range(lo, hi, _units_step(lo, hi))}, after=stem)
            b = add("res_norm", "BatchNormalization", after=a)
            c = add("res_conv2", "Conv2D", {"filters": width, "activation": "linear"}, after=b)
            last = add("skip", "Add", after=[stem, c])
            last = add("gap", "GlobalAveragePooling2D", after=last)
        last = add("dense", "Dense", {"units": _int_range(32, 256, 32)}, after=last, optional=True)
        last = add("dropout", "Dropout", {"rate": {"hp": "float", "min": 0.0, "max": 0.5, "step": 0.1}},
                   after=last, optional=True)
        add("head", "Output", after=last)
        training = _training(o)
    elif name == "forecast":
        last = add("window", "Input", {"source": "sequence"})
        lo, hi = int(o["min_units"]), int(o["max_units"])
        units = _int_range(lo, hi, _units_step(lo, hi))
        last = add("conv", "Conv1D", {"filters": units, "kernel_size": {"hp": "choice", "values": [3, 5]}},
                   after=last, optional=True)
        last = add("lstm", "LSTM", {"units": units, "return_sequences": True}, after=last, optional=True)
        last = add("gru", "GRU", {"units": units, "return_sequences": True}, after=last, optional=True)
        if o["attention"]:
            # Self-attention over the window's steps, with a learnt vector per step for their
            # order. A Dense projection first: the block's LayerNormalization over a window one or
            # two columns wide (a series and a covariate) would flatten every step to a constant.
            # One block, repeated 0–1 times, so the projection and the encoder go on together.
            project = add("attention_in", "Dense", {"units": units, "activation": "linear"}, after=last)
            last = add("transformer", "TransformerEncoder", {
                "num_heads": 2, "key_dim": 16, "ff_units": hi, "dropout": 0.1, "position_embedding": True},
                after=project)
            repeats.append({"id": "attention", "nodes": [project, last], "min": 0, "max": 1})
        last = add("flatten", "Flatten", after=last)
        last = add("dense", "Dense", {"units": units}, after=last, optional=True)
        last = add("dropout", "Dropout", {"rate": {"hp": "float", "min": 0.0, "max": 0.5, "step": 0.1}},
                   after=last, optional=True)
        add("head", "Output", after=last)
        training = _training(o)
    elif name == "sequence":
        last = add("sequence", "Input", {"source": "sequence"})
        lo, hi = int(o["min_units"]), int(o["max_units"])
        last = add("lstm", "LSTM", {"units": _int_range(lo, hi, _units_step(lo, hi))}, after=last)
        last = add("dropout", "Dropout", {"rate": {"hp": "float", "min": 0.0, "max": 0.5, "step": 0.1}},
                   after=last, optional=True)
        add("head", "Output", after=last)
        training = _training(o)
    elif name == "text":
        last = add("text", "Input", {"source": "text", "encoding": "embedding",
                                     "embedding_dim": _choice_or_fixed([int(d) for d in o["embedding_dims"]])})
        lo, hi = int(o["min_units"]), int(o["max_units"])
        units = _int_range(lo, hi, _units_step(lo, hi))
        # The Embedding masks padding; recurrent layers, attention and pooling honour the mask.
        # Conv1D cannot, so it comes last: with it on, pooling also sees the padded steps.
        if o["recurrent"]:
            last = add("rnn", "Bidirectional", {
                "layer": {"hp": "choice", "values": ["LSTM", "GRU"]},
                "units": units, "return_sequences": True},
                after=last, optional=True)
        if o["attention"]:
            last = add("transformer", "TransformerEncoder", {
                "num_heads": 2, "key_dim": 16, "ff_units": _int_range(lo, 2 * hi, _units_step(lo, 2 * hi)),
                "dropout": 0.1, "position_embedding": True}, after=last, optional=True)
        if o["conv"]:
            last = add("conv", "Conv1D", {"filters": units, "kernel_size": {"hp": "choice", "values": [3, 5]},
                                          "activation": "relu"}, after=last, optional=True)
        last = add("pool", "GlobalAveragePooling1D", after=last)
        tabular = [s for s in (inputs or []) if s in ("numeric", "categorical")]
        if tabular:
            # Text and table columns feed one model: a branch per input, merged after pooling.
            branches = [add(s, "Input", _input_params(s, categorical_levels)) for s in tabular]
            last = add("features", "Concatenate", after=[last, *branches])
        last = add("dense", "Dense", {"units": _int_range(lo, 2 * hi, _units_step(lo, 2 * hi)),
                                      "activation": "relu"}, after=last, optional=True)
        last = add("dropout", "Dropout", {"rate": {"hp": "float", "min": 0.0, "max": 0.5, "step": 0.1}},
                   after=last, optional=True)
        add("head", "Output", after=last)
        training = _training(o)
    else:
        raise SpecError(f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}")
    spec = {
        "schema_version": 1, "name": name, "nodes": nodes, "edges": edges, "repeats": repeats,
        "training": training, "template": {"name": name, "options": dict(options or {})},
    }
    SearchSpace.from_dict(spec, source=f"template '{name}'")  # a template is always well formed
    return spec


def default_template_for(input_sources: Iterable[str]) -> str:
    """The template that fits the data: images → image, sequences → sequence, text columns →
    text (with the table's other columns as a second branch), else tabular."""
    sources = set(input_sources)
    if "image" in sources:
        return "image"
    if "text" in sources:
        return "text"
    if "sequence" in sources:
        return "sequence"
    return "tabular"


def resolve_space(space: str | Mapping[str, Any], input_sources: Iterable[str],
                  train_rows: int = 0, image_shape: Sequence[int | None] | None = None,
                  categorical_levels: int = 0) -> SearchSpace:
    """Turns the config's ``space`` (``auto``, a template name, a spec path or dict) into a spec.

    Template specs are re-laid for the data's inputs (and rows, image shape and categorical
    levels), keeping their options.
    """
    sources = list(input_sources)
    data: dict[str, Any] = {"inputs": sources, "train_rows": train_rows, "image_shape": image_shape,
                            "categorical_levels": categorical_levels}
    if isinstance(space, str):
        if space == "auto":
            return SearchSpace.from_dict(template_spec(default_template_for(sources), **data))
        if space in TEMPLATES:
            return SearchSpace.from_dict(template_spec(space, **data))
        return _relaid(SearchSpace.load(space), space, data)
    template = space.get("template")
    if isinstance(template, Mapping) and template.get("name") in TEMPLATES:
        return SearchSpace.from_dict(template_spec(template["name"], template.get("options"), **data))
    return SearchSpace.from_dict(space)


def _relaid(space: SearchSpace, path: str, data: Mapping[str, Any]) -> SearchSpace:
    document = read_json_document(path, kind="spec file", error=SpecError)  # read once already by load()
    template = document.get("template")
    if isinstance(template, Mapping) and template.get("name") in TEMPLATES:
        return SearchSpace.from_dict(template_spec(template["name"], template.get("options"), **data))
    return space
