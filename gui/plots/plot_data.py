"""The plain data the trial plots draw: axes of values, brushes, lines, points and curves.

No Qt and no pyqtgraph here: the Compare page builds these before its plots exist (pyqtgraph is
imported only when the page is first shown), and tests read them without drawing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Distinct colours for the compared trials' curves (Okabe-Ito, readable by colour-blind users).
TRIAL_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def format_number(value: float) -> str:
    """A tick label: 4 significant digits, no trailing zeros."""
    return f"{value:.4g}"


@dataclass(frozen=True)
class Brush:
    """A range kept on one axis: ``low``..``high`` in the axis's units, or the ``categories``
    kept on a categorical axis."""

    low: float = -math.inf
    high: float = math.inf
    categories: tuple[Any, ...] | None = None

    def accepts(self, value: Any) -> bool:
        """Whether a value (None: not used) passes."""
        if value is None:
            return False
        if self.categories is not None:
            return any(value == c and type(value) is type(c) for c in self.categories)
        return isinstance(value, (int, float)) and not isinstance(value, bool) and self.low <= value <= self.high


@dataclass(frozen=True)
class Axis:
    """One vertical axis.

    Attributes:
        name: what it shows (a hyperparameter's name, or the objective's for the score).
        label: its title, e.g. ``"val_loss (lower is better)"``.
        kind: ``"linear"``, ``"log"`` or ``"category"``.
        low, high: the value range drawn bottom to top (numeric axes).
        categories: the categories bottom to top (categorical axes).
    """

    name: str
    label: str
    kind: str = "linear"
    low: float = 0.0
    high: float = 1.0
    categories: tuple[Any, ...] = ()

    def position(self, value: Any) -> float | None:
        """Where ``value`` sits, 0 (bottom) to 1 (top); None when it is missing or unknown."""
        if value is None:
            return None
        if self.kind == "category":
            for i, category in enumerate(self.categories):
                if value == category and type(value) is type(category):
                    return (i + 0.5) / len(self.categories)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        low, high, v = self.low, self.high, float(value)
        if self.kind == "log":
            if v <= 0 or low <= 0:
                return None
            low, high, v = math.log10(low), math.log10(high), math.log10(v)
        if high == low:
            return 0.5
        return (v - low) / (high - low)

    def value_at(self, position: float) -> float:
        """The value at a height (0..1) of a numeric axis."""
        if self.kind == "log":
            low, high = math.log10(self.low), math.log10(self.high)
            return float(10 ** (low + position * (high - low)))
        return self.low + position * (self.high - self.low)

    def brush_between(self, y0: float, y1: float) -> Brush:
        """The brush for a drag from height ``y0`` to ``y1`` (either order)."""
        lo, hi = sorted((y0, y1))
        if self.kind == "category":
            kept = tuple(c for i, c in enumerate(self.categories)
                         if lo <= (i + 0.5) / len(self.categories) <= hi)
            return Brush(categories=kept)
        if self.high == self.low:
            return Brush(self.low, self.high) if lo <= 0.5 <= hi else Brush(math.inf, -math.inf)
        return Brush(self.value_at(max(lo, 0.0)), self.value_at(min(hi, 1.0)))

    def ticks(self) -> list[tuple[float, str]]:
        """``(height, text)`` of the labels beside the axis."""
        if self.kind == "category":
            return [((i + 0.5) / len(self.categories), str(c)) for i, c in enumerate(self.categories)]
        if self.high == self.low:
            return [(0.5, format_number(self.low))]
        return [(p, format_number(self.value_at(p))) for p in (0.0, 0.5, 1.0)]


def make_axis(name: str, label: str, values: Sequence[Any], *, log: bool = False,
              categories: Sequence[Any] | None = None) -> Axis:
    """An axis that fits ``values`` (None: not used).

    Booleans, strings and ``categories`` (a choice's values) make a categorical axis, numbers a
    linear one (``log``: logarithmic, when every value is positive).
    """
    present = [v for v in values if v is not None]
    numeric = [float(v) for v in present
               if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if categories is not None or any(isinstance(v, (bool, str)) for v in present) or len(numeric) < len(present):
        ordered: list[Any] = list(categories) if categories is not None else []
        for v in present:
            if not any(v == c and type(v) is type(c) for c in ordered):
                ordered.append(v)
        if categories is None:
            ordered.sort(key=lambda c: (str(type(c)), c if isinstance(c, (int, float)) else str(c)))
        return Axis(name, label, "category", categories=tuple(ordered))
    if not numeric:
        return Axis(name, label, "linear", 0.0, 1.0)
    low, high = min(numeric), max(numeric)
    kind = "log" if log and low > 0 else "linear"
    return Axis(name, label, kind, low, high)


@dataclass(frozen=True)
class Line:
    """One trial: its ``key`` (trial id), one value per axis (None: not used) and ``shade``, 0
    (worst score) to 1 (best), None when it has no score."""

    key: str
    values: tuple[Any, ...]
    shade: float | None = None


@dataclass(frozen=True)
class ScorePoint:
    """One trial in the score scatter: its hyperparameter value (None: not used) and score."""

    key: str
    value: Any
    score: float


@dataclass(frozen=True)
class TrialCurve:
    """One compared trial's curves: per metric, one value per epoch (NaN: not logged)."""

    key: str
    label: str
    metrics: Mapping[str, Sequence[float]]
    best_epoch: int | None = None


def shades(scores: Mapping[str, float | None], maximize: bool) -> dict[str, float | None]:
    """Each key's shade, 0 (worst score) to 1 (best) by rank; None without a score."""
    ranked = sorted((s, k) for k, s in scores.items() if s is not None and math.isfinite(s))
    if maximize:
        ranked.reverse()
    n = len(ranked)
    out: dict[str, float | None] = {k: None for k in scores}
    for rank, (_s, key) in enumerate(ranked):
        out[key] = 1.0 - rank / (n - 1) if n > 1 else 1.0
    return out
