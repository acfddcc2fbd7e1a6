"""The optimizers and learning-rate schedules a spec may name: one declaration each.

An :class:`OptimizerType` says which ``keras.optimizers`` class it is, which of the optimizer
settings (:data:`OPTIMIZER_SETTINGS`) it takes with its own default for each, and the learning
rate it usually starts from. Everything that handles optimizers reads this table: the spec's
checks, the hypermodel that builds them, the KerasTuner code view and the editor's training box.

A setting is asked of the tuner only when the trial's optimizer takes it (KerasTuner's
``conditional_scope`` on ``training.optimizer``), so a search over several optimizers does not
spend its Bayesian model's dimensions on settings that do not apply.

Defaults are Keras' own (``keras.optimizers``), except where noted: SGD keeps Nesterov momentum
0.9 (the setting most SGD recipes use; set momentum 0 for plain SGD), AdamW's weight decay is
1e-4, and Adadelta starts from learning rate 1.0 as in Zeiler (2012), "ADADELTA: An Adaptive
Learning Rate Method" (Keras' 1e-3 barely moves it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automl_studio.engine.space.registry import ParamDef

OPTIMIZER_SETTINGS: dict[str, ParamDef] = {
    "momentum": ParamDef("momentum", "float", 0.0, min=0.0, max=0.9999,
                         doc="How much of the previous update carries into the next (0: none)."),
    "nesterov": ParamDef("nesterov", "bool", False,
                         doc="Nesterov momentum: the gradient is taken after the momentum step."),
    "beta_1": ParamDef("beta_1", "float", 0.9, min=0.0, max=0.9999,
                       doc="Decay of the running mean of the gradients."),
    "beta_2": ParamDef("beta_2", "float", 0.999, min=0.0, max=0.99999,
                       doc="Decay of the running mean of the squared gradients."),
    "epsilon": ParamDef("epsilon", "float", 1e-7, min=1e-12, max=1.0,
                        doc="Added to the step's denominator; larger values take smaller, steadier steps."),
    "weight_decay": ParamDef("weight_decay", "float", 1e-4, min=0.0, max=1.0,
                             doc="Decoupled weight decay per step (Loshchilov & Hutter, 2019)."),
    "rho": ParamDef("rho", "float", 0.9, min=0.0, max=0.9999,
                    doc="Decay of the running mean of the squared gradients."),
}


@dataclass(frozen=True)
class OptimizerType:
    """One optimizer: its ``keras.optimizers`` class, the settings it takes (with its defaults)
    and the learning rate it starts from when the spec names none."""

    name: str
    keras_class: str
    settings: Mapping[str, Any]
    learning_rate: float
    doc: str

    def default(self, setting: str) -> Any:
        return self.settings[setting]


_ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
OPTIMIZER_TYPES: dict[str, OptimizerType] = {o.name: o for o in (
    OptimizerType("adam", "Adam", _ADAM, 1e-3, "Adam (Kingma & Ba, 2015): the usual first choice."),
    OptimizerType("adamw", "AdamW", {**_ADAM, "weight_decay": 1e-4}, 1e-3,
                  "Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."),
    OptimizerType("sgd", "SGD", {"momentum": 0.9, "nesterov": True}, 1e-2,
                  "Stochastic gradient descent; momentum 0 makes it plain SGD."),
    OptimizerType("rmsprop", "RMSprop", {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7}, 1e-3,
                  "RMSprop (Hinton, 2012): steps scaled by recent gradient size."),
    OptimizerType("adagrad", "Adagrad", {"epsilon": 1e-7}, 1e-2,
                  "Adagrad (Duchi et al., 2011): per-weight steps that shrink over time."),
    OptimizerType("adadelta", "Adadelta", {"rho": 0.95, "epsilon": 1e-7}, 1.0,
                  "Adadelta (Zeiler, 2012): runs near learning rate 1.0."),
    OptimizerType("nadam", "Nadam", _ADAM, 1e-3, "Adam with Nesterov momentum (Dozat, 2016)."),
    OptimizerType("adamax", "Adamax", _ADAM, 1e-3, "Adam with the infinity norm (Kingma & Ba, 2015)."),
)}
OPTIMIZERS = tuple(OPTIMIZER_TYPES)

# Learning-rate schedules. Their own settings are fixed here (one place), chosen as the usual ones:
# cosine decays to 0 over the training; exponential loses 5 % per epoch; cosine_restarts restarts
# after 10 epochs, each period twice the last (Loshchilov & Hutter, 2017, "SGDR");
# warmup_cosine rises linearly from 0 over the first epoch (Goyal et al., 2017) then decays as
# cosine; reduce_on_plateau halves the rate when the validation loss has not improved for 2 epochs
# (keras.callbacks.ReduceLROnPlateau).
LR_SCHEDULES = ("constant", "cosine", "exponential", "cosine_restarts", "warmup_cosine", "reduce_on_plateau")
EXPONENTIAL_DECAY_RATE = 0.95
RESTART_EPOCHS = 10
WARMUP_EPOCHS = 1
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE = 2


def optimizers_taking(setting: str, among: tuple[str, ...] = OPTIMIZERS) -> list[str]:
    """The optimizers (of ``among``) that take ``setting``, in table order."""
    return [name for name in among if setting in OPTIMIZER_TYPES[name].settings]
