"""Pretrained image backbones from ``keras.applications``, described without importing Keras.

A Backbone node (declared in :mod:`automl_studio.engine.space.registry`) is one of these networks
without its classifier (``include_top=False``), pooled to one feature vector. What the editor and
the engine need to know about each is here, measured once in Keras 3 with ``include_top=False``:
its output width and parameter count (shape inference runs on every edit, so it never builds
one), the weights file Keras caches for it, how its layers' names group them into blocks (for
fine-tuning the top ones), and how the pixels must be prepared for it.

Weights are never downloaded during a search: ``imagenet`` means the file Keras itself caches
(``$KERAS_HOME/models`` or ``~/.keras/models``), and :func:`weights_problem` says, before any
trial, which file is missing and where Keras expects it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_SIZE = 32
"""The smallest height and width ``keras.applications`` accept (``obtain_input_shape``)."""

# The sizes MobileNetV2 has ImageNet weights for; at any other size Keras loads the 224 ones.
_MOBILENET_V2_SIZES = (96, 128, 160, 192, 224)

# Each ``keras.applications`` network expects the pixels as its own ``preprocess_input`` makes
# them from 0…255. The node receives 0…1 (the image Input's rescale), so:
#   "tf":     x * 2 - 1                       (MobileNetV2, ResNet50V2)
#   "inside": x * 255; the network rescales itself (EfficientNet, MobileNetV3, ConvNeXt)
#   "caffe":  RGB → BGR, x * 255 - ImageNet mean, as a frozen Dense(3) (ResNet50)
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)


@dataclass(frozen=True)
class BackboneType:
    """One ``keras.applications`` network without its top.

    ``features``: the width of its pooled output. ``params``: its ``count_params()``.
    ``weights_file``: the file name Keras caches its ImageNet weights under (``{size}``: the
    input size, where the file depends on it). ``blocks``: a pattern whose first group names the
    block a layer belongs to. ``preprocessing``: one of "tf", "inside", "caffe".
    """

    name: str
    features: int
    params: int
    weights_file: str
    blocks: str
    preprocessing: str


# MobileNetV3 and ConvNeXt are built through PLAIN_KERAS_SOURCE (below), so that a legacy .h5
# reloads them. More networks (DenseNet, Xception) are one row each, plus their preprocessing.
BACKBONES: dict[str, BackboneType] = {b.name: b for b in (
    BackboneType("MobileNetV2", 1280, 2_257_984,
                 "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5",
                 r"^(expanded_conv|block_\d+)_", "tf"),
    BackboneType("EfficientNetB0", 1280, 4_049_571, "efficientnetb0_notop.h5", r"^(block\d+[a-z])_", "inside"),
    BackboneType("EfficientNetB1", 1280, 6_575_239, "efficientnetb1_notop.h5", r"^(block\d+[a-z])_", "inside"),
    BackboneType("EfficientNetB2", 1408, 7_768_569, "efficientnetb2_notop.h5", r"^(block\d+[a-z])_", "inside"),
    BackboneType("ResNet50", 2048, 23_587_712, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                 r"^(conv\d_block\d+)_", "caffe"),
    BackboneType("ResNet50V2", 2048, 23_564_800, "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                 r"^(conv\d_block\d+)_", "tf"),
    BackboneType("MobileNetV3Small", 576, 939_120, "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
                 r"^(expanded_conv(?:_\d+)?)_", "inside"),
    BackboneType("MobileNetV3Large", 960, 2_996_352, "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
                 r"^(expanded_conv(?:_\d+)?)_", "inside"),
    BackboneType("ConvNeXtTiny", 768, 27_820_128, "convnext_tiny_notop.h5",
                 r"^convnext_tiny_(stage_\d+_block_\d+)_", "inside"),
)}

WEIGHTS = ("imagenet", "file", "none")
"""Where a Backbone's starting weights come from: Keras' ImageNet cache, a file, or random."""


def keras_models_dir() -> Path:
    """The folder Keras caches downloaded weights in: ``$KERAS_HOME/models``, else
    ``~/.keras/models`` (``keras.utils.get_file``'s ``cache_subdir="models"``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def imagenet_file(backbone: str, size: int | None) -> Path:
    """Where Keras looks for ``backbone``'s ImageNet weights (without top) for images of
    ``size`` × ``size`` pixels (``None``: not square or unknown)."""
    name = BACKBONES[backbone].weights_file
    if "{size}" in name:
        name = name.format(size=size if size in _MOBILENET_V2_SIZES else 224)
    return keras_models_dir() / name


def weights_problem(backbone: str, weights: str, weights_file: str, size: int | None) -> str | None:
    """What is missing for a Backbone's weights, in one sentence, or None when nothing is.

    ``imagenet``: the file Keras caches must be there (a search never downloads it); ``file``:
    the file given must exist. ``none`` needs nothing.
    """
    if weights == "imagenet":
        path = imagenet_file(backbone, size)
        if path.is_file():
            return None
        return (f"needs the ImageNet weights file {path.name} in {path.parent} (a search never "
                f"downloads it: run keras.applications.{backbone}(include_top=False) once with "
                f"internet, or copy the file there), or set weights to file or none")
    if weights == "file":
        if not str(weights_file).strip():
            return "needs a weights file: choose one, or set weights to imagenet or none"
        if not Path(weights_file).expanduser().is_file():
            return f"needs the weights file {weights_file}, which does not exist"
    return None


# The code view writes this very text into the generated code, so the two freeze the same
# layers; it is kept as text because a bundled app has no sources for inspect.getsource.
FINE_TUNE_SOURCE = '''\
def fine_tune_top_blocks(backbone, blocks, pattern, pretrained=True):
    """Freezes a ``keras.applications`` network except its top ``blocks`` blocks.

    A layer belongs to the block the last layer whose name matches ``pattern`` named (the layers
    after the last block, its final convolution, belong to that block). In a ``pretrained``
    network BatchNormalization layers stay frozen (in inference mode) even in a trained block, as
    Keras' fine-tuning guide advises: a small dataset's batch statistics would wreck the
    pretrained ones; in one with random weights they train with their block, their moving
    averages at momentum 0.9 (keras.applications' 0.999 suits ImageNet's hundreds of thousands of
    steps: after a small dataset's few hundred, the statistics a trained network predicts with
    are still mostly their initial values). ``blocks`` 0: the whole network is frozen; as many
    as it has or more: every layer trains (but BatchNormalization, when pretrained).
    """
    order, block_of, current = [], {}, None
    for index, layer in enumerate(backbone.layers):
        found = re.match(pattern, layer.name)
        if found:
            current = found.group(1)
            if current not in order:
                order.append(current)
        block_of[index] = current
    top = set(order[max(0, len(order) - blocks):]) if blocks > 0 else set()
    everything = blocks >= len(order) > 0
    for index, layer in enumerate(backbone.layers):
        if type(layer).__name__ == "InputLayer":
            continue
        trains = everything or block_of[index] in top
        normalizes = type(layer).__name__ == "BatchNormalization"
        layer.trainable = trains and not (pretrained and normalizes)
        if normalizes and not pretrained:
            layer.momentum = min(layer.momentum, 0.9)
'''

_namespace: dict[str, Any] = {"re": re}
exec(FINE_TUNE_SOURCE, _namespace)  # noqa: S102 - our own constant text, above
fine_tune_top_blocks: Callable[..., None] = _namespace["fine_tune_top_blocks"]


# The second phase of Keras' transfer-learning recipe (https://keras.io/guides/transfer_learning/):
# once the head has trained on the frozen backbone, its top blocks are unfrozen and the whole
# network trains on at a lower learning rate. A Backbone that asks for it carries
# ``second_phase = (blocks, pattern, factor, pretrained)``; the engine's and the generated HyperModel.fit
# call this after the first ``fit`` and, when it returns True, fit again. Run with ``keras``
# and ``fine_tune_top_blocks``, and written into the generated code, like FINE_TUNE_SOURCE.
SECOND_PHASE_SOURCE = '''\
def start_second_phase(model, learning_rate):
    """Unfreezes the top ``blocks`` blocks of each backbone of ``model`` whose ``second_phase``
    asks for them, and compiles ``model`` again (loss, metrics and optimizer settings kept) at
    the constant rate ``learning_rate`` times the smallest factor. Returns whether it did."""
    networks = [layer for layer in model.layers if getattr(layer, "second_phase", (0,))[0] > 0]
    if not networks:
        return False
    for network in networks:
        blocks, pattern, _factor, pretrained = network.second_phase
        fine_tune_top_blocks(network, blocks, pattern, pretrained)
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)  # mixed precision wraps it
    settings = optimizer.get_config()
    settings["learning_rate"] = learning_rate * min(network.second_phase[2] for network in networks)
    config = model.get_compile_config()
    config["optimizer"] = keras.optimizers.serialize(type(optimizer).from_config(settings))
    model.compile_from_config(config)
    return True
'''


# Like FINE_TUNE_SOURCE, the engine runs this text (with ``contextlib`` and ``keras``; see
# :func:`automl_studio.engine.train.hypermodel.application`) and the code view writes it.
PLAIN_KERAS_SOURCE = '''\
@contextlib.contextmanager
def operators_as_layers():
    """While a keras.applications network is built, ``a + b`` and ``a * b`` on its tensors
    become the Keras layers Add, Multiply and Rescaling instead of operations.

    A legacy .h5 reloads layers but not such operations: MobileNetV3's ``x + 3.0`` fails with
    "Only input tensors may be passed as positional arguments", ConvNeXt's residual
    ``inputs + x`` with "too many positional arguments" (Keras 3.15). The results are the same.
    """
    tensor = type(keras.Input(shape=(1,)))
    saved = {name: getattr(tensor, name) for name in ("__add__", "__radd__", "__mul__", "__rmul__")}

    def add(a, b, original):
        if isinstance(b, tensor):
            return keras.layers.Add()([a, b])
        if isinstance(b, (int, float)):
            return keras.layers.Rescaling(1.0, offset=float(b))(a)
        return original(a, b)

    def multiply(a, b, original):
        if isinstance(b, tensor):
            return keras.layers.Multiply()([a, b])
        if isinstance(b, (int, float)):
            return keras.layers.Rescaling(float(b))(a)
        return original(a, b)

    tensor.__add__ = lambda a, b: add(a, b, saved["__add__"])
    tensor.__radd__ = lambda a, b: add(a, b, saved["__radd__"])
    tensor.__mul__ = lambda a, b: multiply(a, b, saved["__mul__"])
    tensor.__rmul__ = lambda a, b: multiply(a, b, saved["__rmul__"])
    try:
        yield
    finally:
        for name, method in saved.items():
            setattr(tensor, name, method)


def without_custom_layers(network):
    """``network`` with ConvNeXt's LayerScale (each channel times its own learnt scale) as a
    standard DepthwiseConv2D(1, use_bias=False) holding the same scales, every weight kept, so
    that plain Keras reloads it; any other network is returned as it is."""
    if not any(type(layer).__name__ == "LayerScale" for layer in network.layers):
        return network

    def clone(layer):
        if type(layer).__name__ == "LayerScale":
            return keras.layers.DepthwiseConv2D(1, use_bias=False, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    with operators_as_layers():
        plain = keras.models.clone_model(network, clone_function=clone)
    for old, new in zip(network.layers, plain.layers):
        weights = old.get_weights()
        if type(old).__name__ == "LayerScale":
            weights = [weights[0].reshape(1, 1, -1, 1)]
        new.set_weights(weights)
    return plain


def plain_application(network, **kwargs):
    """``network(**kwargs)`` (a keras.applications function) in standard Keras layers only."""
    with operators_as_layers():
        built = network(**kwargs)
    return without_custom_layers(built)
'''


__all__ = ["BACKBONES", "FINE_TUNE_SOURCE", "MIN_SIZE", "PLAIN_KERAS_SOURCE", "SECOND_PHASE_SOURCE", "WEIGHTS", "BackboneType", "fine_tune_top_blocks",
           "imagenet_file", "keras_models_dir", "weights_problem"]
