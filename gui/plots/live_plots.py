"""Live plots of a search, redrawn from a ~100 ms timer rather than per event.

Events only update plain arrays and mark what changed; :meth:`LivePlots.redraw` (the timer's
slot) calls ``setData`` on curve items created once. Every trial's validation curve is drawn by a
single curve with NaN breaks (``connect="finite"``), so 200 trials × 100 epochs cost one
``setData``; the best and the selected trial get their own highlighted curves on top.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout, QProgressBar, QVBoxLayout, QWidget

from automl_studio.gui.qt_workarounds import protect_none_refcount

protect_none_refcount()  # pyqtgraph's painting hits a PySide6 6.12 refcount bug (see module)

REDRAW_INTERVAL_MS = 100
REFIT_TRIAL = "refit"  # the engine's trial id for retraining the best trial
MAXIMIZED_HINTS = ("acc", "auc", "precision", "recall", "f1", "r2")
COLOURS = {"loss": "#2b6cd4", "val_loss": "#e07b00", "metric": "#2f9e44", "val_metric": "#c2255c",
           "best": "#e07b00", "selected": "#7048e8", "others": (128, 128, 128, 90),
           "scatter": "#2b6cd4"}


def maximizes(objective: str | None) -> bool:
    """Whether a larger value of the objective is better (accuracy, AUC…); loss and errors: no."""
    name = (objective or "val_loss").lower()
    return any(hint in name for hint in MAXIMIZED_HINTS) and "loss" not in name


def _plot(name: str, title: str, x: str, y: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setObjectName(name)
    widget.setAccessibleName(title)
    widget.setMinimumHeight(140)
    item = widget.getPlotItem()
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)
        # Grid lines at major ticks only: the minor levels cost ~3/4 of every repaint.
        item.getAxis(axis).setStyle(maxTickLevel=0)
    item.setTitle(title, size="10pt")
    item.setLabel("bottom", x)
    item.setLabel("left", y)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    return widget


class _Trial:
    """The curve of one trial: epochs and every logged metric."""

    __slots__ = ("epochs", "metrics", "cache", "score", "status", "order")

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.metrics: dict[str, list[float]] = {}
        self.cache: tuple[np.ndarray, np.ndarray] | None = None
        self.score: float | None = None
        self.status = "running"
        self.order = -1

    def add_epoch(self, epoch: int, metrics: dict[str, Any]) -> None:
        n = len(self.epochs)
        self.epochs.append(epoch)  # the engine counts epochs from 1
        for key, value in metrics.items():
            series = self.metrics.setdefault(key, [math.nan] * n)
            series.append(math.nan if value is None else float(value))
        for series in self.metrics.values():
            if len(series) < n + 1:
                series.append(math.nan)
        self.cache = None

    def curve(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        if self.cache is None:
            values = self.metrics.get(key)
            y = np.asarray(values, dtype=float) if values else np.full(len(self.epochs), np.nan)
            self.cache = (np.asarray(self.epochs, dtype=float), y)
        return self.cache


class LivePlots(QWidget):
    """The four live plots of the Search page and the batch progress bar.

    Feed it event dicts with :meth:`apply_event`; it redraws on its own timer while
    :meth:`start_timer` is in effect (or when :meth:`redraw` is called).
    """

    trialClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("livePlots")
        pg.setConfigOptions(antialias=False, foreground=self.palette().color(QPalette.ColorRole.WindowText),
                            background=self.palette().color(QPalette.ColorRole.Base))
        self.current_plot = _plot("currentTrialPlot", "Current trial", "epoch", "value")
        self.all_plot = _plot("allTrialsPlot", "All trials (validation curve)", "epoch", "objective")
        self.best_plot = _plot("bestScorePlot", "Best score so far", "elapsed (s)", "best score")
        self.scatter_plot = _plot("trialScorePlot", "Score of each trial", "n-th trial run", "score")
        self.batch_progress = QProgressBar()
        self.batch_progress.setObjectName("batchProgress")
        self.batch_progress.setAccessibleName("Progress of the current epoch")
        self.batch_progress.setRange(0, 1000)
        self.batch_progress.setFormat("Waiting for the first batch")
        self.batch_progress.setValue(0)
        self.batch_progress.setMaximumHeight(18)
        self.batch_progress.setTextVisible(True)

        current = QWidget()
        box = QVBoxLayout(current)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.current_plot, 1)
        box.addWidget(self.batch_progress)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        grid.addWidget(current, 0, 0)
        grid.addWidget(self.all_plot, 0, 1)
        grid.addWidget(self.best_plot, 1, 0)
        grid.addWidget(self.scatter_plot, 1, 1)

        self._current_curves = {
            key: self.current_plot.plot([], [], pen=pg.mkPen(COLOURS[key], width=2))
            for key in ("loss", "val_loss", "metric", "val_metric")
        }
        self._others = self.all_plot.plot([], [], pen=pg.mkPen(COLOURS["others"], width=1),
                                          connect="finite")
        self._best_curve = self.all_plot.plot([], [], pen=pg.mkPen(COLOURS["best"], width=3))
        self._selected_curve = self.all_plot.plot(
            [], [], pen=pg.mkPen(COLOURS["selected"], width=3, style=Qt.PenStyle.DashLine))
        self._best_line = self.best_plot.plot([], [], pen=pg.mkPen(COLOURS["best"], width=2))
        self._best_marks = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(COLOURS["best"]))
        self.best_plot.addItem(self._best_marks)
        self._scatter = pg.ScatterPlotItem(size=8, pen=None)
        self._scatter.sigClicked.connect(self._on_scatter_clicked)
        self.scatter_plot.addItem(self._scatter)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)
        self.reset()

    # ------------------------------------------------------------- state
    def reset(self, objective: str | None = None, started_at: float | None = None) -> None:
        """Forgets every trial; the next events start a new search."""
        self._objective = objective or "val_loss"
        self._maximize = maximizes(self._objective)
        self._trials: dict[str, _Trial] = {}
        self._current: str | None = None
        self._selected: str | None = None
        self._best: str | None = None
        self._started_at = started_at
        self._best_points: list[tuple[float, float]] = []
        self._last_elapsed = 0.0
        self._refit: _Trial | None = None
        self._title_text: str | None = None
        self._batch: tuple[int, int, int | None] | None = None
        self._dirty = {"current", "all", "best", "scatter", "batch"}
        self.all_plot.getPlotItem().setLabel("left", self._objective)

    def set_objective(self, objective: str | None) -> None:
        if objective and objective != self._objective:
            self._objective = objective
            self._maximize = maximizes(objective)
            for trial in self._trials.values():
                trial.cache = None
            self.all_plot.getPlotItem().setLabel("left", objective)
            self._dirty |= {"current", "all"}

    @property
    def objective(self) -> str:
        return self._objective

    def trial_ids(self) -> list[str]:
        return list(self._trials)

    def current_trial(self) -> str | None:
        return self._current

    def current_epochs(self) -> int:
        trial = self._refit if self._current == REFIT_TRIAL else self._trials.get(self._current or "")
        return len(trial.epochs) if trial is not None else 0

    def best_trial(self) -> str | None:
        return self._best

    def selected_trial(self) -> str | None:
        return self._selected

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What a curve shows now: ``loss``/``val_loss``/``metric``/``val_metric`` (current
        trial), ``others``/``best``/``selected`` (all trials), ``best_score`` or ``scores``."""
        if name == "scores":
            points = self._scatter.points()
            return (np.array([p.pos().x() for p in points]), np.array([p.pos().y() for p in points]))
        item = {**self._current_curves, "others": self._others, "best": self._best_curve,
                "selected": self._selected_curve, "best_score": self._best_line}[name]
        x, y = item.getData()
        empty = np.empty(0)
        return (empty if x is None else np.asarray(x), empty if y is None else np.asarray(y))

    def show_finished(self, text: str) -> None:
        """Replaces the batch progress with how the search ended."""
        self._dirty.discard("batch")
        self._batch = None
        self.batch_progress.setValue(1000)
        self.batch_progress.setFormat(text)

    def invalidate(self) -> None:
        """Marks every plot as changed, so the next redraw pushes everything again."""
        self._dirty |= {"current", "all", "best", "scatter", "batch"}

    def start_timer(self) -> None:
        self._timer.start()

    def stop_timer(self) -> None:
        self._timer.stop()
        self.redraw()

    @property
    def timer_active(self) -> bool:
        return self._timer.isActive()

    def apply_event(self, event: dict[str, Any]) -> None:
        """Records one event dict; nothing is drawn until the next redraw."""
        kind = event.get("type")
        tid = None if event.get("trial_id") is None else str(event["trial_id"])
        if kind == "search_started":
            settings = event.get("settings") or {}
            self.set_objective(settings.get("objective"))
            if self._started_at is None:
                self._started_at = event.get("time")
        elif kind == "trial_started" and tid is not None:
            if self._started_at is None and isinstance(event.get("time"), (int, float)):
                self._started_at = float(event["time"])  # no search_started seen (a replay)
            self._trials.setdefault(tid, _Trial())
            self._current = tid
            self._batch = None
            self._dirty |= {"current", "batch"}
        elif kind == "epoch_ended" and tid == REFIT_TRIAL:
            # The best trial retrained on train+validation: shown as the current run only. When
            # the exported model averages several refits, each starts again at epoch 1.
            epoch = int(event.get("epoch", 0))
            if self._refit is None or (self._refit.epochs and epoch <= self._refit.epochs[-1]):
                self._refit = _Trial()
            self._refit.add_epoch(epoch, dict(event.get("metrics") or {}))
            self._current = REFIT_TRIAL
            self._dirty.add("current")
        elif kind == "epoch_ended" and tid is not None:
            trial = self._trials.setdefault(tid, _Trial())
            trial.add_epoch(int(event.get("epoch", len(trial.epochs) + 1)),
                            dict(event.get("metrics") or {}))
            self._current = tid
            self._dirty |= {"current", "all"}
        elif kind == "batch_progress" and tid is not None:
            self._batch = (int(event.get("epoch", 0)), int(event.get("batch", 0)), event.get("batches"))
            self._dirty.add("batch")
        elif kind == "trial_ended" and tid is not None:
            self._end_trial(tid, event)

    def _end_trial(self, tid: str, event: dict[str, Any]) -> None:
        trial = self._trials.setdefault(tid, _Trial())
        trial.status = str(event.get("status", "completed"))
        score = event.get("score")
        trial.score = float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None
        trial.order = sum(1 for t in self._trials.values() if t.order >= 0)
        self._dirty |= {"scatter", "all"}
        when = event.get("time")
        start = self._started_at if self._started_at is not None else when
        if isinstance(when, (int, float)) and start is not None:
            elapsed = max(float(when - start), 0.0)
        else:
            elapsed = float(trial.order + 1)  # no clock (an old project): one step per trial
        self._last_elapsed = max(self._last_elapsed, elapsed)
        self._dirty.add("best")
        if trial.score is None:
            return
        best = self._trials[self._best].score if self._best is not None else None
        if best is None or (trial.score > best if self._maximize else trial.score < best):
            self._best = tid
            self._best_points.append((elapsed, trial.score))

    def load_history(self, records: dict[str, Any], objective: str | None = None) -> None:
        """Shows the trials of an opened project (``read_trials`` output)."""
        self.reset(objective)
        for tid, rec in records.items():
            self.apply_event({"type": "trial_started", "trial_id": tid})
            for row in rec.history:
                metrics = {k: v for k, v in row.items() if k != "epoch"}
                self.apply_event({"type": "epoch_ended", "trial_id": tid,
                                  "epoch": int(row.get("epoch", 0)), "metrics": metrics})
            if rec.status != "running":
                self.apply_event({"type": "trial_ended", "trial_id": tid, "status": rec.status,
                                  "score": rec.score, "time": None})
        self.redraw()

    @Slot(str)
    def highlight_trial(self, tid: str | None) -> None:
        """Draws the chosen trial's curve on top (the table's selection calls this)."""
        self._selected = tid
        self._dirty.add("all")
        self.redraw()

    def changeEvent(self, event: QEvent) -> None:
        # Follow the system's light/dark switch: plots take their colours from the palette.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()
        super().changeEvent(event)

    def views(self) -> tuple[pg.PlotWidget, ...]:
        """The four plot widgets, in reading order."""
        return self.current_plot, self.all_plot, self.best_plot, self.scatter_plot

    def _apply_palette(self) -> None:
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.WindowText)
        for view in self.views():
            view.setBackground(background)
            item = view.getPlotItem()
            for axis in ("left", "bottom"):
                item.getAxis(axis).setPen(pg.mkPen(text))
                item.getAxis(axis).setTextPen(pg.mkPen(text))
            item.titleLabel.setAttr("color", text)
        self._title_text = None  # redraw the coloured title in the new text colour
        self._dirty.add("current")

    # ------------------------------------------------------------- drawing
    @Slot()
    def redraw(self) -> None:
        """Pushes what changed since the last redraw into the curve items."""
        dirty, self._dirty = self._dirty, set()
        if "current" in dirty:
            self._draw_current()
        if "all" in dirty:
            self._draw_all()
        if "best" in dirty:
            self._draw_best()
        if "scatter" in dirty:
            self._draw_scatter()
        if "batch" in dirty:
            self._draw_batch()

    def _metric_key(self, trial: _Trial) -> str | None:
        for key in ("accuracy", "mae", "mean_absolute_error", "auc", "rmse"):
            if key in trial.metrics:
                return key
        candidates = [k for k in trial.metrics if not k.startswith("val_") and k != "loss"
                      and k != "learning_rate" and f"val_{k}" in trial.metrics]
        return candidates[0] if candidates else None

    def _draw_current(self) -> None:
        current = self._current
        trial: _Trial | None
        if current == REFIT_TRIAL:
            trial = self._refit
        else:
            trial = self._trials.get(current) if current else None
        if trial is None:
            for curve in self._current_curves.values():
                curve.setData([], [])
            return
        x = np.asarray(trial.epochs, dtype=float)
        metric = self._metric_key(trial)
        keys = {"loss": "loss", "val_loss": "val_loss",
                "metric": metric, "val_metric": f"val_{metric}" if metric else None}
        for slot, curve in self._current_curves.items():
            key = keys[slot]
            values = trial.metrics.get(key) if key else None
            if values:
                curve.setData(x, np.asarray(values, dtype=float))
            else:
                curve.setData([], [])
        title = ("Refit of the best trial (train + validation)" if self._current == REFIT_TRIAL
                 else f"Current trial {self._current}")
        # The title doubles as the legend, so no legend box ever hides the newest epochs.
        names = {"loss": "loss", "val_loss": "val loss", "metric": metric or "",
                 "val_metric": f"val {metric}" if metric else ""}
        legend = "  ".join(f"<span style='color:{COLOURS[k]}'>━ {names[k]}</span>"
                           for k in ("loss", "val_loss", "metric", "val_metric") if names[k])
        text = f"{title}<br><span style='font-size:8pt'>{legend}</span>"
        if text != self._title_text:
            self._title_text = text
            self.current_plot.getPlotItem().setTitle(text, size="10pt")

    def _draw_all(self) -> None:
        xs, ys = [], []
        for tid, trial in self._trials.items():
            if not trial.epochs or tid in (self._best, self._selected):
                continue
            x, y = trial.curve(self._objective)
            xs.append(x)
            xs.append(_NAN1)
            ys.append(y)
            ys.append(_NAN1)
        if xs:
            self._others.setData(np.concatenate(xs), np.concatenate(ys), connect="finite")
        else:
            self._others.setData([], [])
        for wanted, curve in ((self._best, self._best_curve), (self._selected, self._selected_curve)):
            shown = self._trials.get(wanted) if wanted else None
            if shown is not None and shown.epochs:
                curve.setData(*shown.curve(self._objective))
            else:
                curve.setData([], [])

    def _draw_best(self) -> None:
        if not self._best_points:
            self._best_line.setData([], [])
            self._best_marks.setData([], [])
            return
        pts = np.asarray(self._best_points, dtype=float)
        # A step line: the best score holds until the next improvement, up to the last trial.
        xs = np.repeat(pts[:, 0], 2)[1:]
        ys = np.repeat(pts[:, 1], 2)[:-1]
        end = max(self._last_elapsed, float(pts[-1, 0]))
        self._best_line.setData(np.append(xs, end), np.append(ys, pts[-1, 1]))
        self._best_marks.setData(pts[:, 0], pts[:, 1])

    def _draw_scatter(self) -> None:
        done = [(t.order, t.score, tid) for tid, t in self._trials.items() if t.score is not None]
        axis = self.scatter_plot.getPlotItem().getAxis("bottom")
        if len(done) <= 15:
            axis.setTickSpacing(1, 1)  # whole trial numbers while there are few
        else:
            axis.setTickSpacing()
        if not done:
            self._scatter.setData([], [])
            return
        normal = pg.mkBrush(COLOURS["scatter"])
        best = pg.mkBrush(COLOURS["best"])
        self._scatter.setData(
            x=[o + 1 for o, _s, _t in done], y=[s for _o, s, _t in done],
            data=[t for _o, _s, t in done],
            brush=[best if t == self._best else normal for _o, _s, t in done],
            size=[12 if t == self._best else 8 for _o, _s, t in done],
        )

    def _draw_batch(self) -> None:
        if self._batch is None:
            self.batch_progress.setValue(0)
            self.batch_progress.setFormat("Waiting for the first batch" if self._current is None
                                          else f"Trial {self._current}: starting")
            return
        epoch, batch, batches = self._batch
        who = "Refit" if self._current == REFIT_TRIAL else f"Trial {self._current}"
        if batches:
            self.batch_progress.setValue(int(1000 * min(batch / batches, 1.0)))
            self.batch_progress.setFormat(f"{who} · epoch {epoch} · batch {batch} of {batches}")
        else:
            self.batch_progress.setValue(0)
            self.batch_progress.setFormat(f"{who} · epoch {epoch} · batch {batch}")

    def _on_scatter_clicked(self, _item: Any, points: Any, *_rest: Any) -> None:
        if len(points):
            tid = points[0].data()
            if tid is not None:
                self.trialClicked.emit(str(tid))


_NAN1 = np.array([np.nan])
