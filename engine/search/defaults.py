"""What a search runs with when the user leaves a setting open: :func:`resolve_defaults`.

``None`` in :class:`~automl_studio.engine.core.config.SearchConfig` means "choose for me"; this is
where the engine chooses, as a good practitioner would for the data at hand. Keras-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.objectives import Objective, check_objective, get_objective
from automl_studio.engine.data.features import PreparedData

DEFAULT_MAX_TRIALS = {"table": 20, "features": 20, "sequences": 12, "images": 10}
# How many refits the exported model averages, by train+validation rows (images: one). A refit's
# initial weights alone moved digits' test accuracy by up to 1.7 points (six seeds: 0.967-0.983;
# averages of three: 0.983-0.986), and on wine and iris by a test row (averages of five: none).
ENSEMBLE_REFITS = ((10_000, 5), (100_000, 3))


@dataclass(frozen=True)
class Resolved:
    """The settings a search actually runs with, after "choose for me" defaults."""

    objective: str  # a name from :mod:`~automl_studio.engine.core.objectives`, checked for the task
    max_trials: int | None
    max_epochs: int | None
    patience: int | None
    refits: int = 1  # how many refits of the best configuration the exported model averages

    @property
    def rule(self) -> Objective:
        """The objective's name, direction and label."""
        return get_objective(self.objective)

    @property
    def direction(self) -> str:
        """``"min"`` or ``"max"``, from the objective rule."""
        return self.rule.direction


def resolve_defaults(config: SearchConfig, prepared: PreparedData) -> Resolved:
    """What a good practitioner would choose when the user leaves a setting open.

    The objective is validation loss: on small tables accuracy ties between many trials, so
    picking (and refitting) by it is close to arbitrary. The exported model averages a few
    refits of the best configuration where they are cheap: one refit's initial weights decide
    a point of accuracy on a small table.

    Raises:
        UserError: an objective the model does not compile for this task (e.g. ``val_auc`` with
            three classes), naming the objectives that exist for it — before any trial runs.
    """
    signature = prepared.signature
    try:
        objective = check_objective(config.objective, signature.task, signature.n_classes)
    except UserError as exc:
        raise UserError(f"{config.data_path}: {exc}") from None
    max_trials = config.max_trials
    if max_trials is None:
        max_trials = 10_000 if config.time_budget_s else DEFAULT_MAX_TRIALS.get(prepared.input_kind, 20)
    refits = config.refits
    if refits is None:
        rows = len(prepared.train) + len(prepared.validation)
        refits = next((n for most, n in ENSEMBLE_REFITS if rows <= most), 1) if prepared.input_kind != "images" else 1
    return Resolved(objective.name, max_trials, config.max_epochs, config.patience,
                    refits if config.refit else 1)
