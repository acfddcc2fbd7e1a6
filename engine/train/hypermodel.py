"""Compiling a spec into Keras: :func:`build_model` and :class:`SpecHyperModel`.

Only the backend-neutral ``keras`` API is used (layers, ``keras.ops``, NumPy inputs), so the same
search runs under ``KERAS_BACKEND=jax`` or ``torch``. Preprocessing that a legacy ``.h5`` can hold
lives in the model: normalisation of numbers, encoding of category codes, image rescaling, and
for regression a final rescale to the target's units. Losses and metrics are objects, not
strings: string losses fail to reload from ``.h5``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import keras
import keras_tuner
import numpy as np

from automl_studio.engine.core.cancel import CancelToken
from automl_studio.engine.core.events import BatchProgress, EpochEnded, Event
from automl_studio.engine.core.objectives import Objective, get_objective
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space.registry import (
    LAYER_TYPES,
    NODE_INPUT,
    PREVIOUS,
    Application,
    AsTuple,
    Call,
    DataArray,
    DataInput,
    InputWidth,
    Regularizer,
    StepsBefore,
)
from automl_studio.engine.space.shapes import head_units
from automl_studio.engine.space.spec import (
    Boolean,
    Choice,
    FloatRange,
    IntRange,
    SearchSpace,
    instantiate,
)


class SearchStopped(keras_tuner.errors.FatalError):
    """Raised inside training when the user stops the search: KerasTuner lets it through."""


class BudgetSpent(keras_tuner.errors.FatalError):
    """Raised inside training when the search's time budget is spent."""


def kt_chooser(hp: keras_tuner.HyperParameters) -> Callable[[str, Any], Any]:
    """Registers each spec hyperparameter with KerasTuner and returns its value for this trial."""

    def choose(name: str, d: Any) -> Any:
        if isinstance(d, IntRange):
            return hp.Int(name, d.min, d.max, step=d.step)
        if isinstance(d, FloatRange):
            if d.min == d.max:
                return hp.Fixed(name, d.min)
            return hp.Float(name, d.min, d.max, step=d.step, sampling="log" if d.log else "linear")
        if isinstance(d, Choice):
            return hp.Choice(name, list(d.values))
        if isinstance(d, Boolean):
            return hp.Boolean(name)
        raise TypeError(d)

    return choose


def training_values(space: SearchSpace, choose: Callable[[str, Any], Any],
                    conditional: Callable[[str, list[Any]], Any] | None = None) -> dict[str, Any]:
    """The training settings of one trial (each fixed or chosen).

    The optimizer's own settings (:data:`~automl_studio.engine.space.optimizers.OPTIMIZER_SETTINGS`)
    are asked only when the chosen optimizer takes them, and default to its own values; an absent
    learning rate is the optimizer's starting rate. ``conditional`` (KerasTuner's
    ``hp.conditional_scope``) declares each such setting active only for those optimizers.
    """
    from automl_studio.engine.space.optimizers import (
        OPTIMIZER_SETTINGS,
        OPTIMIZER_TYPES,
        optimizers_taking,
    )
    from automl_studio.engine.space.spec import TRAINING_DEFAULTS, is_hp

    out = {}
    for key, default in TRAINING_DEFAULTS.items():
        value = space.training.get(key, default)
        out[key] = choose(f"training.{key}", value) if is_hp(value) else value
    optimizer = OPTIMIZER_TYPES[out["optimizer"]]
    if "learning_rate" not in space.training:
        out["learning_rate"] = optimizer.learning_rate
    searched = space.training.get("optimizer")
    for key in OPTIMIZER_SETTINGS:
        if key not in optimizer.settings:
            continue
        value = space.training.get(key, optimizer.default(key))
        if is_hp(value) and isinstance(searched, Choice) and conditional is not None:
            with conditional("training.optimizer", optimizers_taking(key, tuple(searched.values))):
                out[key] = choose(f"training.{key}", value)
        else:
            out[key] = choose(f"training.{key}", value) if is_hp(value) else value
    return out


def _regularizer(training: dict[str, Any]) -> Any:
    l1, l2 = float(training["l1"]), float(training["l2"])
    if l1 == 0 and l2 == 0:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def _argument(value: Any, width: int | None = None, length: int | None = None) -> Any:
    """A registry argument as Keras takes it: nested layers built, tuples and arrays made
    (``width``: the node's input width, for :class:`InputWidth`; ``length``: its steps, for
    :class:`StepsBefore`)."""
    if isinstance(value, InputWidth):
        if width is None:
            raise ValueError("this layer needs the width of its input")
        return width
    if isinstance(value, StepsBefore):
        if length is None:
            raise ValueError("this layer needs the length of its input sequence")
        return length - int(value.keep)
    if isinstance(value, Call):
        return _make_layer(value, None, None)
    if isinstance(value, AsTuple):
        return tuple(value.value)
    if isinstance(value, DataArray):
        return np.asarray(value.values, dtype="float32")
    if isinstance(value, Regularizer):
        l1, l2 = float(value.l1), float(value.l2)
        return keras.regularizers.L1L2(l1=l1, l2=l2) if l1 or l2 else None
    if isinstance(value, (tuple, list)):
        return type(value)(_argument(v, width, length) for v in value)
    return value


def _make_layer(call: Call, name: str | None, reg: Any, width: int | None = None,
                length: int | None = None) -> keras.layers.Layer:
    """``getattr(keras.layers, cls)(*args, **kwargs)`` for one step of a registry declaration."""
    kwargs = {key: _argument(value, width, length) for key, value in call.kwargs.items()}
    # The global L1/L2 where the layer sets no penalty of its own.
    kwargs.update({key: reg for key in call.regularized if kwargs.get(key) is None})
    if name is not None:
        kwargs["name"] = name
    if call.dtype is not None:
        kwargs["dtype"] = call.dtype
    return getattr(keras.layers, call.cls)(*(_argument(a, width, length) for a in call.args), **kwargs)


@functools.cache
def _backbone_code() -> dict[str, Any]:
    """The functions of :data:`~automl_studio.engine.space.backbones.PLAIN_KERAS_SOURCE` and
    :data:`~automl_studio.engine.space.backbones.SECOND_PHASE_SOURCE`, by name (run once)."""
    from automl_studio.engine.space.backbones import (
        PLAIN_KERAS_SOURCE,
        SECOND_PHASE_SOURCE,
        fine_tune_top_blocks,
    )

    namespace: dict[str, Any] = {"contextlib": contextlib, "keras": keras, "fine_tune_top_blocks": fine_tune_top_blocks}
    exec(PLAIN_KERAS_SOURCE + "\n\n" + SECOND_PHASE_SOURCE, namespace)  # noqa: S102 - our own constant text
    return namespace


def start_second_phase(model: keras.Model, learning_rate: float) -> bool:
    """Unfreezes the top blocks of each backbone of ``model`` that asks for a second phase of
    training and compiles ``model`` again at a fraction of ``learning_rate`` (see
    :data:`~automl_studio.engine.space.backbones.SECOND_PHASE_SOURCE`); returns whether it did."""
    return bool(_backbone_code()["start_second_phase"](model, learning_rate))


def application(step: Application, input_shape: tuple[int | None, ...], name: str) -> keras.Model:
    """The ``keras.applications`` network of a Backbone step for inputs of ``input_shape``
    (without the batch axis), renamed ``name`` and frozen but for its top blocks.

    Its weights come from a local file only: ``imagenet`` is built (and so checked against its
    hash) from the file Keras caches, which must be there, since a search never downloads.

    Raises:
        SpecError: the weights file is missing (the message names it and its folder), or holds
            another network's weights (the message names it).
    """
    from pathlib import Path

    from automl_studio.engine.core.errors import SpecError
    from automl_studio.engine.space.backbones import (
        fine_tune_top_blocks,
        imagenet_file,
        weights_problem,
    )

    weights = step.kwargs.get("weights")
    source = "none" if weights is None else "imagenet" if weights == "imagenet" else "file"
    size = input_shape[0] if input_shape[0] == input_shape[1] else None
    problem = weights_problem(step.cls, source, str(weights or ""), size)
    if problem:
        raise SpecError(f"Backbone '{name}' {problem}", node=name)
    kwargs = dict(step.kwargs)
    if source == "file":
        kwargs["weights"] = str(Path(str(weights)).expanduser())
    try:
        network = _backbone_code()["plain_application"](getattr(keras.applications, step.cls), include_top=False,
                                                      input_shape=input_shape, **kwargs)
    except (ValueError, OSError) as exc:
        # Keras refuses a file of another network with a ValueError listing every layer, h5py
        # one that is not HDF5 with an OSError; the search would end in a traceback.
        if source == "none":
            raise
        path = imagenet_file(step.cls, size) if source == "imagenet" else kwargs["weights"]
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].split(" Example error")[0]
        raise SpecError(f"Backbone '{name}': the weights file {path} does not hold the weights of "
                        f"{step.cls} without its top (Keras: {reason[:200]}); choose that network's "
                        f"*_notop.h5, or one saved with model.save_weights", node=name) from exc
    # Renamed after building: EfficientNet names its cached weights file after its own name.
    network.name = name
    pretrained = source != "none"
    fine_tune_top_blocks(network, int(step.trainable_blocks), step.blocks, pretrained)
    # The second phase trains at least the blocks the first did (never freezes them again).
    second = int(step.second_phase_blocks)
    network.second_phase = (max(second, int(step.trainable_blocks)) if second else 0, step.blocks,
                            float(step.second_phase_lr), pretrained)
    return network


def keras_layer(kind: str, params: dict[str, Any], *, name: str | None = None,
                regularizer: Any = None) -> keras.layers.Layer:
    """The Keras layer of a registered type that is one layer (not an Input or the head)."""
    steps = LAYER_TYPES[kind].keras.plan(params, DataSignature("regression", 0, {}))
    if len(steps) != 1 or not isinstance(steps[0], Call):
        raise ValueError(f"a {kind} node is not one Keras layer")
    return _make_layer(steps[0], name, regularizer)


@contextlib.contextmanager
def _masks_may_end() -> Iterator[None]:
    """Quiets Keras' warning that a layer without mask support (a Conv1D after the text
    template's masked Embedding) ends the mask: by design, the layers after it see padding."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*does not support masking", category=UserWarning)
        yield


def build_node(kind: str, params: dict[str, Any], node_id: str, args: list[Any],
               signature: DataSignature, model_inputs: dict[str, Any], reg: Any) -> Any:
    """One node's output tensor: the steps its registry declaration lists, applied to ``args``.

    ``model_inputs`` collects the ``keras.Input`` s by name (nodes reading the same data share one).
    """
    keras_spec = LAYER_TYPES[kind].keras
    safe = node_id.replace("#", "_")
    if keras_spec.call == "list":
        operands: tuple[Any, ...] = (args,)
    elif keras_spec.call == "self":
        operands = (args[0], args[0])
    else:
        operands = tuple(args[:1])
    kept: dict[str, Any] = {NODE_INPUT: args[0]} if args else {}
    width = int(args[0].shape[-1]) if args and args[0].shape[-1] is not None else None
    length = int(args[0].shape[1]) if args and len(args[0].shape) > 2 and args[0].shape[1] is not None else None
    for step in keras_spec.plan(params, signature):
        if isinstance(step, DataInput):
            if step.name not in model_inputs:
                model_inputs[step.name] = keras.Input(shape=step.shape, name=step.name, dtype=step.dtype)
            operands = (model_inputs[step.name],)
            continue
        if isinstance(step, Application):
            operands = (application(step, tuple(operands[0].shape[1:]), step.name or safe + step.suffix)(operands[0]),)
            continue
        if step.inputs:
            kept[PREVIOUS] = operands[0]
            taken = [kept[key] for key in step.inputs]
            operands = (taken,) if step.merge else tuple(taken)
        layer = _make_layer(step, step.name or safe + step.suffix, reg, width, length)
        with _masks_may_end():
            operands = (layer(*operands),)
        if step.keep:
            kept[step.keep] = operands[0]
    return operands[0]


def build_model(space: SearchSpace, signature: DataSignature,
                choose: Callable[[str, Any], Any], *, steps_per_epoch: int = 100,
                mixed_precision: bool = False,
                conditional: Callable[[str, list[Any]], Any] | None = None) -> keras.Model:
    """Builds and compiles one network of the space for the values ``choose`` returns
    (``conditional``: as :func:`training_values` takes it)."""
    if mixed_precision:
        # Set here, not once: KerasTuner clears the Keras session (and this policy) per trial.
        keras.mixed_precision.set_global_policy("mixed_float16")
    nodes = instantiate(space, choose)
    training = training_values(space, choose, conditional)
    signature = with_target_transform(signature, str(training["target_transform"]))
    reg = _regularizer(training)
    inputs: dict[str, Any] = {}
    tensors: dict[str, Any] = {}
    for node in nodes:
        tensors[node.id] = build_node(node.type, dict(node.params), node.id,
                                      [tensors[i] for i in node.inputs], signature, inputs, reg)
    output = next(tensors[n.id] for n in nodes if LAYER_TYPES[n.type].role == "output")
    ordered = {k: inputs[k] for k in sorted(inputs)}
    model = keras.Model(inputs=ordered, outputs=output, name=space.name.replace(" ", "_") or "model")
    loss = make_loss(signature, training)
    model.compile(optimizer=make_optimizer(training, steps_per_epoch), loss=loss,
                  metrics=make_metrics(signature, loss))
    return model


def with_target_transform(signature: DataSignature, transform: str) -> DataSignature:
    """The signature a trial's network is built for: ``log1p`` puts ``expm1`` after its head
    (:func:`~automl_studio.engine.space.registry._output_steps`).

    Raises:
        SpecError: ``log1p`` for a target that is not a regression target without negative values.
    """
    from dataclasses import replace

    from automl_studio.engine.core.errors import SpecError

    if transform == "none":
        return signature
    if not signature.can_log_target:
        raise SpecError("the log1p target transform needs a regression target without negative values; "
                        "set training.target_transform to none")
    return replace(signature, target_transform=transform)


def average_models(members: list[keras.Model], signature: DataSignature) -> keras.Model:
    """One model whose output is the mean of the members' (class probabilities or values).

    The members are nested whole, renamed ``refit_1``, ``refit_2``…, behind inputs named and
    shaped like theirs, so the result saves as legacy HDF5 and is fed exactly like one member.
    """
    first = members[0]
    inputs = {name: keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype, name=name)
              for name, tensor in first.input.items()}
    for index, member in enumerate(members, 1):
        member.name = f"refit_{index}"
    # float32 like the members' heads, also under a mixed-precision policy.
    with _masks_may_end():
        outputs = [member(inputs) for member in members]
    output = keras.layers.Average(name="average", dtype="float32")(outputs)
    model = keras.Model(inputs=inputs, outputs=output, name=f"average_of_{len(members)}")
    model.compile(loss=make_loss(signature), metrics=make_metrics(signature))
    return model


def weighted_models(members: list[keras.Model], weights: list[int], names: list[str],
                    signature: DataSignature) -> keras.Model:
    """One model whose output is the weighted mean of the members' (class probabilities or
    values in the target's units): ``sum(w_i * member_i) / sum(w)``.

    Standard layers only (each member's output through ``Rescaling(w_i / sum(w))``, then ``Add``),
    so the result saves as legacy HDF5 and reloads with plain ``keras.models.load_model``. The
    members are nested whole, renamed ``names`` (unique), behind inputs named and shaped like
    the first member's; every member must take those same inputs.

    Raises:
        ValueError: a member's inputs differ from the first's, or the lists' lengths differ.
    """
    if not members or len(members) != len(weights) or len(members) != len(names):
        raise ValueError("one weight and one name per member")
    first = members[0]
    shapes = {name: tuple(tensor.shape[1:]) for name, tensor in first.input.items()}
    for member in members[1:]:
        if {name: tuple(tensor.shape[1:]) for name, tensor in member.input.items()} != shapes:
            raise ValueError(f"member {member.name} takes other inputs than {first.name}")
    inputs = {name: keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype, name=name)
              for name, tensor in first.input.items()}
    for member, name in zip(members, names, strict=True):
        member.name = name
    total = float(sum(weights))
    with _masks_may_end():
        outputs = [keras.layers.Rescaling(weight / total, name=f"weight_{name}", dtype="float32")(member(inputs))
                   for member, weight, name in zip(members, weights, names, strict=True)]
    output = keras.layers.Add(name="weighted_sum", dtype="float32")(outputs)
    model = keras.Model(inputs=inputs, outputs=output, name=f"ensemble_of_{len(members)}")
    model.compile(loss=make_loss(signature), metrics=make_metrics(signature))
    return model


def make_loss(signature: DataSignature, training: dict[str, Any] | None = None) -> keras.losses.Loss:
    """The ``keras.losses`` object of a trial's ``loss`` and ``label_smoothing`` (none given: the
    task's usual loss), as :func:`automl_studio.engine.space.losses.keras_loss` declares it.

    Raises:
        SpecError: the loss does not apply to the task.
    """
    from automl_studio.engine.core.errors import SpecError
    from automl_studio.engine.core.objectives import task_kind
    from automl_studio.engine.space.losses import keras_loss

    training = training or {}
    if training.get("target_transform", "none") == "log1p":
        if str(training.get("loss", "auto")) not in ("auto", "mse"):
            raise SpecError(f"the log1p target transform trains with mean squared error in log units; "
                            f"the loss {training['loss']!r} has no such form — use loss auto or mse")
        # Mean squared error of log1p(prediction) and log1p(target): the model answers in the
        # target's units (expm1 inside it), so this is the squared error in log units.
        return keras.losses.MeanSquaredLogarithmicError()
    try:
        cls, kwargs = keras_loss(str(training.get("loss", "auto")), task_kind(signature.task, signature.n_classes),
                                 float(training.get("label_smoothing", 0.0)))
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return getattr(keras.losses, cls)(**kwargs)


def make_metrics(signature: DataSignature, loss: keras.losses.Loss | None = None) -> list[keras.metrics.Metric]:
    """The metrics compiled for the task: those behind every objective
    :func:`~automl_studio.engine.core.objectives.objectives_for` offers for it.

    Each metric's ``name`` makes its history key (``val_`` + name), which is the objective's name:
    ``rmse`` and ``mae`` for regression, ``accuracy`` for classification and, with two classes
    (one sigmoid unit), ``auc`` (ROC AUC). Accuracy reads targets as ``loss`` does: one-hot for
    a loss of :func:`takes_one_hot`, class indices otherwise.
    """
    if signature.task == "regression":
        return [keras.metrics.RootMeanSquaredError(name="rmse"), keras.metrics.MeanAbsoluteError(name="mae")]
    if head_units(signature) == 1:
        return [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]
    if loss is not None and takes_one_hot(loss):
        return [keras.metrics.CategoricalAccuracy(name="accuracy")]
    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def takes_one_hot(loss: Any) -> bool:
    """Whether a compiled loss reads one-hot targets (one of
    :data:`~automl_studio.engine.space.losses.ONE_HOT_LOSSES`) rather than class indices."""
    from automl_studio.engine.space.losses import ONE_HOT_LOSSES

    return isinstance(loss, tuple(getattr(keras.losses, name) for name in ONE_HOT_LOSSES))


def fit_targets(model: keras.Model, y: np.ndarray) -> np.ndarray:
    """``y`` as ``model``'s loss reads it: class indices one-hot encoded (N×classes) when the
    loss takes one-hot targets (:func:`takes_one_hot`), else ``y`` unchanged."""
    y = np.asarray(y)
    if not takes_one_hot(getattr(model, "loss", None)) or (y.ndim == 2 and y.shape[1] > 1):
        return y
    return keras.utils.to_categorical(y.reshape(-1).astype(int), int(model.outputs[0].shape[-1]))


def make_optimizer(training: dict[str, Any], steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The ``keras.optimizers`` instance of a trial's training values (:func:`training_values`),
    its learning rate following the schedule (steps are batches)."""
    from automl_studio.engine.space import optimizers as table

    lr: Any = float(training["learning_rate"])
    schedule = training["lr_schedule"]
    steps = max(1, steps_per_epoch)
    total = max(1, steps * int(training["epochs"]))
    schedules = keras.optimizers.schedules
    if schedule == "cosine":
        lr = schedules.CosineDecay(lr, decay_steps=total)
    elif schedule == "exponential":
        lr = schedules.ExponentialDecay(lr, decay_steps=steps, decay_rate=table.EXPONENTIAL_DECAY_RATE)
    elif schedule == "cosine_restarts":
        lr = schedules.CosineDecayRestarts(lr, first_decay_steps=steps * table.RESTART_EPOCHS)
    elif schedule == "warmup_cosine":
        warmup = min(steps * table.WARMUP_EPOCHS, total - 1)
        lr = schedules.CosineDecay(0.0, decay_steps=max(1, total - warmup), warmup_target=lr,
                                   warmup_steps=warmup)
    optimizer = table.OPTIMIZER_TYPES[training["optimizer"]]
    settings = {key: training[key] for key in optimizer.settings}
    clipping = {key: float(training[key]) for key in ("clipnorm", "clipvalue") if float(training[key]) > 0}
    return getattr(keras.optimizers, optimizer.keras_class)(learning_rate=lr, **settings, **clipping)


def schedule_callbacks(training: dict[str, Any], *, validation: bool) -> list[keras.callbacks.Callback]:
    """The callbacks a schedule needs besides the optimizer's own: ``reduce_on_plateau`` watches
    the validation loss (the training loss in a refit, which has no validation data)."""
    from automl_studio.engine.space import optimizers as table

    if training["lr_schedule"] != "reduce_on_plateau":
        return []
    return [keras.callbacks.ReduceLROnPlateau("val_loss" if validation else "loss", factor=table.PLATEAU_FACTOR,
                                              patience=table.PLATEAU_PATIENCE, min_lr=1e-7, verbose=0)]


def early_stopping(training: dict[str, Any], objective: Objective, patience: int) -> keras.callbacks.EarlyStopping:
    """A trial's early stopping: ends training after ``patience`` epochs (≥ 1) in which
    ``objective`` improved by no more than the trial's ``min_delta`` (its units), then keeps the
    best epoch's weights when ``restore_best_weights`` (:func:`training_values` gives both)."""
    return keras.callbacks.EarlyStopping(objective.name, patience=patience, mode=objective.direction,
                                         min_delta=float(training["min_delta"]),
                                         restore_best_weights=bool(training["restore_best_weights"]))


class TrialCallback(keras.callbacks.Callback):
    """Reports epochs and (throttled) batches, stops on request or budget, fails on NaN loss."""

    def __init__(self, trial_id: str, listener: Callable[[Event], None], stop: CancelToken | None,
                 deadline: float | None, batches: int | None, *, hard_deadline: bool = False,
                 revise_deadline: Callable[[TrialCallback], float | None] | None = None) -> None:
        super().__init__()
        self.trial_id, self.listener, self.stop, self.deadline = trial_id, listener, stop, deadline
        self.hard_deadline = hard_deadline
        self.revise_deadline = revise_deadline  # called at each epoch's end with this callback
        self.batches = batches
        self.epoch = 0
        self._last_report = 0.0
        # Seconds spent in training steps (not validation, not checkpoints), epoch by epoch:
        # what an epoch of a refit on the same rows costs; and in validation passes.
        self.epoch_seconds: list[float] = []
        self.validation_seconds = 0.0
        self.first_epoch_s = 0.0  # the first epoch from its start to its end, validation included
        self._epoch_started = self._last_batch = self._test_started = 0.0

    def recent_epoch_s(self, last: int = 3) -> float:
        """Seconds of training per epoch as the latest epochs ran: their mean, or the median of
        the run if higher. A busier machine shows in the latest epochs first; the first epoch,
        which also builds the step function, counts only when it is the only one."""
        steady = self.epoch_seconds[1:] or self.epoch_seconds
        if not steady:
            return 0.0
        return max(float(np.median(steady)), float(np.mean(steady[-last:])))

    def startup_s(self) -> float:
        """Seconds the first epoch took beyond a steady one: tracing the step function (0 before
        two epochs). Evaluating, saving and reloading a model pay about the same again."""
        if len(self.epoch_seconds) < 2:
            return 0.0
        return max(0.0, self.epoch_seconds[0] - float(np.median(self.epoch_seconds[1:])))

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch
        self._epoch_started = self._last_batch = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.stop is not None and self.stop.is_set():
            raise SearchStopped("stopped by the user")
        now = time.monotonic()
        self._last_batch = now
        if self.deadline is not None and now > self.deadline:
            if self.hard_deadline:
                raise BudgetSpent("time budget spent")
            # A trial cut by the budget still counts, with the epochs it finished.
            self.model.stop_training = True
        if now - self._last_report >= 0.1:
            self._last_report = now
            self.listener(BatchProgress(trial_id=self.trial_id, epoch=self.epoch + 1, batch=batch + 1,
                                        batches=self.batches))

    def on_test_begin(self, logs: Any = None) -> None:
        self._test_started = time.monotonic()

    def on_test_end(self, logs: Any = None) -> None:
        self.validation_seconds += time.monotonic() - self._test_started

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if not self.epoch_seconds:
            self.first_epoch_s = time.monotonic() - self._epoch_started
        self.epoch_seconds.append(self._last_batch - self._epoch_started)
        if self.revise_deadline is not None:  # re-estimated from what this run measures now
            self.deadline = self.revise_deadline(self)
        metrics = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        self.listener(EpochEnded(trial_id=self.trial_id, epoch=epoch + 1, metrics=metrics))
        loss = metrics.get("loss")
        if loss is not None and not math.isfinite(loss):
            raise keras_tuner.errors.FailedTrialError(
                f"the loss became {loss} at epoch {epoch + 1}; try a smaller learning rate")


STREAM_BYTES = 64 * 1024 * 1024


class ArrayBatches(keras.utils.PyDataset):
    """Feeds arrays batch by batch, so a large table is never copied whole into the backend."""

    def __init__(self, x: Any, y: np.ndarray, batch_size: int, *, shuffle: bool, seed: int = 0) -> None:
        super().__init__(workers=2, use_multiprocessing=False, max_queue_size=8)
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(y)) if shuffle else np.arange(len(y))

    def __len__(self) -> int:
        return math.ceil(len(self.y) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[Any, np.ndarray]:
        rows = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        return {k: v[rows] for k, v in self.x.items()}, self.y[rows]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self.rng.permutation(len(self.y))


def nbytes(x: Any) -> int:
    return sum(int(v.nbytes) for v in x.values()) if isinstance(x, dict) else int(getattr(x, "nbytes", 0))


def _in_memory(x: Any) -> bool:
    values = x.values() if isinstance(x, dict) else [x]
    return all(isinstance(v, np.ndarray) for v in values) and nbytes(x) <= STREAM_BYTES


class _InputBatches(keras.utils.PyDataset):
    """Inputs only, in order, for ``predict`` on large or lazily decoded data."""

    def __init__(self, x: Any, batch_size: int) -> None:
        super().__init__(workers=2, use_multiprocessing=False, max_queue_size=8)
        self.x, self.batch_size = x, batch_size
        self.n = len(next(iter(x.values())))

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return ({k: v[rows] for k, v in self.x.items()},)


def predict_arrays(model: keras.Model, x: Any, batch_size: int = 256) -> np.ndarray:
    """``model.predict`` that streams large or lazily decoded inputs."""
    if _in_memory(x):
        return np.asarray(model.predict(dict(x), verbose=0, batch_size=batch_size))
    return np.asarray(model.predict(_InputBatches(x, batch_size), verbose=0))


def fit_arrays(model: keras.Model, x: Any, y: np.ndarray, *, batch_size: int, epochs: int,
               validation_data: tuple[Any, np.ndarray] | None = None, **kwargs: Any) -> Any:
    """``model.fit`` on arrays; past :data:`STREAM_BYTES` of inputs (or for images decoded on
    demand) they are fed batch by batch. Targets are class indices; a model whose loss reads
    them one-hot gets them so (:func:`fit_targets`), validation targets too."""
    y = fit_targets(model, y)
    if validation_data is not None:
        validation_data = (validation_data[0], fit_targets(model, validation_data[1]))
    if _in_memory(x) and (validation_data is None or _in_memory(validation_data[0])):
        return model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=validation_data, **kwargs)
    train = ArrayBatches(x, y, batch_size, shuffle=True)
    val = ArrayBatches(*validation_data, batch_size, shuffle=False) if validation_data is not None else None
    return model.fit(train, epochs=epochs, validation_data=val, **kwargs)


class SpecHyperModel(keras_tuner.HyperModel):
    """A KerasTuner HyperModel built from a spec; trains with our callbacks and batch size, and
    early-stops on ``objective`` (default ``val_loss``) in that objective's direction.

    After a classification trial's training it keeps the trained model's recall of each class on
    the validation split (:attr:`class_recall`, by trial id; ``class_names`` name the classes).
    A network whose Backbone asks for a second phase trains on after the first, its top blocks
    unfrozen at a lower learning rate, epochs numbered on (:func:`start_second_phase`).
    """

    def __init__(self, space: SearchSpace, signature: DataSignature, *, n_train: int,
                 listener: Callable[[Event], None], stop: CancelToken | None = None,
                 max_epochs: int | None = None, patience: int | None = None,
                 objective: Objective | None = None, mixed_precision: bool = False,
                 class_names: tuple[str, ...] = ()) -> None:
        super().__init__(name=space.name)
        self.space, self.signature, self.n_train = space, signature, n_train
        self.class_names = tuple(class_names) or tuple(str(i) for i in range(max(signature.n_classes, 2)))
        # Each trial's per-class validation recall (metrics.class_recall), its weights as fit left
        # them: the best epoch's when early stopping restored them.
        self.class_recall: dict[str, dict[str, float | None]] = {}
        self.listener, self.stop = listener, stop
        self.max_epochs, self.patience = max_epochs, patience
        self.objective = objective or get_objective(None)
        self.mixed_precision = mixed_precision
        self.trial_id = "?"
        self.deadline: float | None = None
        # Set by the session under a time budget: the running trial's deadline, re-estimated
        # at each epoch's end from its callback (see TrialCallback.revise_deadline).
        self.revise_deadline: Callable[[TrialCallback], float | None] | None = None
        self.startup_s: dict[str, float] = {}  # seconds of each trial's first epoch beyond a steady one
        self.first_epoch_s: dict[str, float] = {}  # each trial's first epoch, its validation included
        self.epoch_train_s: dict[str, float] = {}  # seconds of training steps per epoch, by trial
        self.epoch_validation_s: dict[str, float] = {}  # seconds of validation per epoch, by trial

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        value = self.space.training.get("batch_size", 32)
        return int(hp.get("training.batch_size")) if "training.batch_size" in hp.values else int(value)

    def training(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        """The trial's training values, its optimizer's settings declared conditional on it."""
        return training_values(self.space, kt_chooser(hp), hp.conditional_scope)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        choose = kt_chooser(hp)
        training = self.training(hp)
        steps = max(1, math.ceil(self.n_train / int(training["batch_size"])))
        return build_model(self.space, self.signature, choose, steps_per_epoch=steps,
                           mixed_precision=self.mixed_precision, conditional=hp.conditional_scope)

    def class_weight(self, hp: keras_tuner.HyperParameters, y: np.ndarray) -> dict[int, float] | None:
        """The trial's class weights for ``model.fit`` (``y``: its training targets), or None
        when every row weighs the same (``training.class_weight`` "none", or regression)."""
        from automl_studio.engine.data.imbalance import balanced_class_weights

        if self.signature.task == "regression" or self.training(hp)["class_weight"] != "balanced":
            return None
        return balanced_class_weights(np.asarray(y), self.signature.n_classes)

    def has_second_phase(self, hp: keras_tuner.HyperParameters) -> bool:
        """Whether the trial's network trains a backbone in a second phase (see :meth:`fit`),
        which a refit of its configuration does not replay."""
        return any(node.type == "Backbone" and int(node.params.get("second_phase_blocks", 0)) > 0
                   for node in instantiate(self.space, kt_chooser(hp)))

    def epochs_for(self) -> int:
        epochs = int(self.space.training_value("epochs"))
        return min(epochs, self.max_epochs) if self.max_epochs else epochs

    def patience_for(self) -> int:
        """Early-stopping patience in epochs (0: none)."""
        return self.patience if self.patience is not None else int(self.space.training_value("patience"))

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        batch_size = self._batch_size(hp)
        epochs = kwargs.pop("epochs", None) or self.epochs_for()
        patience = self.patience_for()
        callbacks = list(kwargs.pop("callbacks", []) or [])
        batches = math.ceil(self.n_train / batch_size)
        reporter = TrialCallback(self.trial_id, self.listener, self.stop, self.deadline, batches,
                                 revise_deadline=self.revise_deadline)
        callbacks.append(reporter)
        training = self.training(hp)
        callbacks.extend(schedule_callbacks(training, validation=kwargs.get("validation_data") is not None))
        if patience > 0:
            callbacks.append(early_stopping(training, self.objective, patience))
        kwargs.setdefault("verbose", 0)
        x, y = args[0], args[1]
        weights = self.class_weight(hp, y)
        if weights is not None:
            kwargs["class_weight"] = weights
        history = fit_arrays(model, x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                             **kwargs)
        budget_left = reporter.deadline is None or time.monotonic() < reporter.deadline
        if history.epoch and budget_left and start_second_phase(model, float(training["learning_rate"])):
            # The same callbacks: early stopping and reduce-on-plateau start afresh at a fit's
            # start, KerasTuner's best-epoch checkpoint keeps the best of both phases; but the
            # TensorBoard hparams callback KerasTuner adds refuses a second fit.
            done = len(history.epoch)
            again = [c for c in callbacks if not type(c).__module__.startswith("tensorboard")]
            second = fit_arrays(model, x, y, batch_size=batch_size, epochs=done + epochs, initial_epoch=done,
                                callbacks=again, **kwargs)
            for key, values in second.history.items():
                history.history.setdefault(key, []).extend(values)
            history.epoch.extend(second.epoch)
        validation = kwargs.get("validation_data")
        if self.signature.task == "classification" and validation is not None:
            from automl_studio.engine.train.metrics import class_recall

            self.class_recall[self.trial_id] = class_recall(validation[1], predict_arrays(model, validation[0]),
                                                            self.class_names)
        if reporter.epoch_seconds:
            # Not the first epoch (it also pays for TensorFlow's start-up), and as the latest
            # epochs ran: a refit runs after them, on the machine as busy as it is then.
            self.epoch_train_s[self.trial_id] = reporter.recent_epoch_s()
            if len(reporter.epoch_seconds) >= 2:
                self.startup_s[self.trial_id] = reporter.startup_s()
            self.first_epoch_s[self.trial_id] = reporter.first_epoch_s
            self.epoch_validation_s[self.trial_id] = reporter.validation_seconds / len(reporter.epoch_seconds)
        return history
