"""What a search space needs to know of the data: :class:`DataSignature`.

Built from the prepared arrays (:mod:`automl_studio.engine.data.features`) and read by shape
inference, the hypermodel and the templates. Plain Python: no Keras.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

QUANTILE_STEPS = 32
"""The numeric columns' training quantiles are kept at steps of 1/32: any bin count dividing 32
reads its edges exactly, others by linear interpolation between them."""


def quantile_edges(points: tuple[float, ...], bins: int) -> list[float]:
    """The ``bins + 1`` edges of ``bins`` equal-frequency bins, from a column's quantiles at
    steps of ``1 / (len(points) - 1)`` (interpolated linearly between them)."""
    steps = len(points) - 1
    edges = []
    for t in range(bins + 1):
        at = t * steps / bins
        k = min(int(at), steps - 1)
        edges.append(points[k] + (points[k + 1] - points[k]) * (at - k))
    return edges


@dataclass(frozen=True)
class DataSignature:
    """What the spec needs to know of the data: task, classes and the shape of each input.

    ``inputs`` maps an input source (``numeric``, ``categorical``, ``text``, ``image``, ``sequence``) to
    its shape without the batch axis. The statistics let the model normalise its own inputs.
    """

    task: str
    n_classes: int
    inputs: Mapping[str, tuple[int, ...]]
    categorical_tokens: int = 0
    # Codes of the categorical column with the most, rare levels as one (0: none); from more
    # than data.features.MANY_LEVELS the tabular template searches an embedding of the codes.
    categorical_levels: int = 0
    text_tokens: int = 0  # ids of the ``text`` input (0 pads; see data.text)
    numeric_mean: tuple[float, ...] = ()
    numeric_variance: tuple[float, ...] = ()
    image_scale: float = 1.0
    target_mean: float = 0.0
    target_std: float = 1.0
    train_rows: int = 0  # rows the search trains on (0: unknown); templates size batches by it
    # Per feature (last axis) of the training sequences: the model normalises its sequence input.
    sequence_mean: tuple[float, ...] = ()
    sequence_variance: tuple[float, ...] = ()
    target_width: int = 1  # values a regression predicts per row (a forecast's horizon)
    # log1p(target) over the training rows of a regression target without negative values (std
    # 0: none), for the log1p target transform; its maximum caps the model's log-unit output.
    log_target_mean: float = 0.0
    log_target_std: float = 0.0
    log_target_max: float = 0.0
    # The target transform this model is built with (``none`` or ``log1p``): set per trial by the
    # hypermodel, never by the data (see train.hypermodel.build_model).
    target_transform: str = "none"
    # A forecast (windows whose first feature is the target): the standard deviation, over the
    # training windows, of the target less the window's last target value. Above 0, the head
    # forecasts that change and adds the last value back (a network at zero is the last-value
    # naive forecast, and a trend beyond the training period's range needs no extrapolation).
    change_std: float = 0.0
    # Per numeric input column (tables and feature arrays), its training rows' quantiles at
    # 0, 1/QUANTILE_STEPS … 1: the bin edges of the piecewise-linear encoding (space.registry).
    numeric_quantiles: tuple[tuple[float, ...], ...] = ()

    @property
    def can_log_target(self) -> bool:
        """Whether the target allows the log1p transform (regression, never negative, and not a
        forecast of the change from the last value)."""
        return self.task == "regression" and self.log_target_std > 0 and self.target_width == 1 \
            and self.change_std == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "n_classes": self.n_classes,
            "inputs": {k: list(v) for k, v in self.inputs.items()},
            "categorical_tokens": self.categorical_tokens,
            **({"categorical_levels": self.categorical_levels} if self.categorical_levels else {}),
            **({"text_tokens": self.text_tokens} if self.text_tokens else {}),
            "numeric_mean": list(self.numeric_mean), "numeric_variance": list(self.numeric_variance),
            "image_scale": self.image_scale, "target_mean": self.target_mean,
            "target_std": self.target_std, "train_rows": self.train_rows,
            **({"sequence_mean": list(self.sequence_mean),
                "sequence_variance": list(self.sequence_variance)} if self.sequence_mean else {}),
            **({"target_width": self.target_width} if self.target_width != 1 else {}),
            **({"log_target_mean": self.log_target_mean, "log_target_std": self.log_target_std,
                "log_target_max": self.log_target_max} if self.log_target_std else {}),
            **({"target_transform": self.target_transform} if self.target_transform != "none" else {}),
            **({"change_std": self.change_std} if self.change_std else {}),
            **({"numeric_quantiles": [list(q) for q in self.numeric_quantiles]}
               if self.numeric_quantiles else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataSignature:
        return cls(
            task=data["task"], n_classes=int(data["n_classes"]),
            inputs={k: tuple(v) for k, v in data["inputs"].items()},
            categorical_tokens=int(data.get("categorical_tokens", 0)),
            categorical_levels=int(data.get("categorical_levels", 0)),
            text_tokens=int(data.get("text_tokens", 0)),
            numeric_mean=tuple(data.get("numeric_mean", ())),
            numeric_variance=tuple(data.get("numeric_variance", ())),
            image_scale=float(data.get("image_scale", 1.0)),
            target_mean=float(data.get("target_mean", 0.0)),
            target_std=float(data.get("target_std", 1.0)),
            train_rows=int(data.get("train_rows", 0)),
            sequence_mean=tuple(data.get("sequence_mean", ())),
            sequence_variance=tuple(data.get("sequence_variance", ())),
            target_width=int(data.get("target_width", 1)),
            log_target_mean=float(data.get("log_target_mean", 0.0)),
            log_target_std=float(data.get("log_target_std", 0.0)),
            log_target_max=float(data.get("log_target_max", 0.0)),
            target_transform=str(data.get("target_transform", "none")),
            change_std=float(data.get("change_std", 0.0)),
            numeric_quantiles=tuple(tuple(float(v) for v in q) for q in data.get("numeric_quantiles", ())),
        )
