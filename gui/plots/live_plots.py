"""Live plots of a search, redrawn from a ~100 ms timer rather than per event.

The plots show a :class:`~automl_studio.gui.models.trial_store.TrialStore` and keep no trials of
their own: its signals only mark what changed, and :meth:`LivePlots.redraw` (the timer's slot)
calls ``setData`` on curve items created once. Every trial's validation curve is drawn by a
single curve with NaN breaks (``connect="finite"``), so 200 trials × 100 epochs cost one
``setData``; the best and the selected trial get their own highlighted curves on top.

What the plots say must be true: loss and the metric each have their own labelled y axis, every
x axis that counts trials uses the trial's number (live and reopened alike), the legend names
only curves that are drawn, and a plot with nothing to show says so instead of drawing axes.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPalette, QTextDocumentFragment
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from automl_studio.engine.core.events import REFIT_TRIAL
from automl_studio.engine.core.objectives import Objective
from automl_studio.gui.qt_workarounds import protect_none_refcount
from automl_studio.gui.widgets import empty_state

protect_none_refcount()  # pyqtgraph's painting hits a PySide6 6.12 refcount bug (see module)

# The timer pushes one plot per tick: the window paints every changed widget in one event, so
# four plots changed together would freeze it for four plots' worth of painting (~15 ms each on
# a 2-core machine that is also training). Each plot still updates at least every 4 × 40 ms.
REDRAW_INTERVAL_MS = 40
PLOT_ORDER = ("current", "all", "best", "scatter")
NO_SEARCH = "No search running"  # the batch bar while idle
COLOURS = {"loss": "#2b6cd4", "val_loss": "#e07b00", "metric": "#2f9e44", "val_metric": "#c2255c",
           "best": "#e07b00", "selected": "#7048e8", "others": (128, 128, 128, 90),
           "scatter": "#2b6cd4"}


class TrialCurves(Protocol):
    """One trial as the plots read it (a ``TrialCurves`` of the trial store)."""

    trial_id: str
    epochs: list[int]
    metrics: dict[str, list[float]]
    score: float | None
    status: str
    order: int
    number: int


class TrialSource(Protocol):
    """What the plots show: the window's ``gui.models.trial_store.TrialStore``.

    Plots and models are sibling layers, so the plots name only what they read and follow;
    the signals are the store's (see there).
    """

    searchReset: Any
    objectiveChanged: Any
    trialAdded: Any
    trialChanged: Any
    epochAppended: Any
    refitAppended: Any
    batchProgressed: Any
    bestChanged: Any

    @property
    def objective(self) -> Objective: ...
    @property
    def best_trial_id(self) -> str | None: ...
    @property
    def current_trial_id(self) -> str | None: ...
    @property
    def batch(self) -> tuple[int, int, int | None] | None: ...
    def trial_ids(self) -> list[str]: ...
    def trial(self, tid: str | None) -> TrialCurves | None: ...


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


class LivePlots(QWidget):
    """The four live plots of the Search page and the batch progress bar, showing ``store``.

    It redraws on its own timer while :meth:`start_timer` is in effect (or when :meth:`redraw`
    is called). The axes that show scores name the objective and its direction.
    """

    trialClicked = Signal(str)

    def __init__(self, store: TrialSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName("livePlots")
        pg.setConfigOptions(antialias=False, foreground=self.palette().color(QPalette.ColorRole.WindowText),
                            background=self.palette().color(QPalette.ColorRole.Base))
        self.current_plot = _plot("currentTrialPlot", "Current trial", "epoch", "loss")
        self.all_plot = _plot("allTrialsPlot", "All trials (validation curve)", "epoch", "objective")
        self.best_plot = _plot("bestScorePlot", "Best score so far", "trial", "best score")
        self.scatter_plot = _plot("trialScorePlot", "Score of each trial", "trial", "score")
        # The metric (accuracy, MAE…) on an axis of its own at the right: on the loss's axis it
        # would be squashed flat.
        current = self.current_plot.getPlotItem()
        self._metric_view = pg.ViewBox()
        current.showAxis("right")
        current.scene().addItem(self._metric_view)
        current.getAxis("right").linkToView(self._metric_view)
        current.getAxis("right").enableAutoSIPrefix(False)
        current.getAxis("right").setStyle(maxTickLevel=0)
        self._metric_view.setXLink(current)
        current.vb.sigResized.connect(self._sync_metric_view)
        self._empty: dict[str, QLabel] = {}
        self._cells: dict[str, QStackedWidget] = {}
        self.batch_progress = QProgressBar()
        self.batch_progress.setObjectName("batchProgress")
        self.batch_progress.setAccessibleName("Progress of the current epoch")
        self.batch_progress.setRange(0, 1000)
        self.batch_progress.setFormat(NO_SEARCH)
        self.batch_progress.setValue(0)
        self.batch_progress.setMaximumHeight(18)
        self.batch_progress.setTextVisible(True)

        current_box = QWidget()
        box = QVBoxLayout(current_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self._cell("current", self.current_plot), 1)
        box.addWidget(self.batch_progress)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        grid.addWidget(current_box, 0, 0)
        grid.addWidget(self._cell("all", self.all_plot), 0, 1)
        grid.addWidget(self._cell("best", self.best_plot), 1, 0)
        grid.addWidget(self._cell("scatter", self.scatter_plot), 1, 1)

        self._current_curves = {
            key: self.current_plot.plot([], [], pen=pg.mkPen(COLOURS[key], width=2))
            for key in ("loss", "val_loss")
        }
        for key in ("metric", "val_metric"):
            self._current_curves[key] = pg.PlotDataItem([], [], pen=pg.mkPen(COLOURS[key], width=2))
            self._metric_view.addItem(self._current_curves[key])
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
        self._timer.timeout.connect(self._redraw_next)
        self._turn = 0  # which plot the next tick may redraw (PLOT_ORDER)
        self._selected: str | None = None
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # objective curve per trial
        self._title_text: str | None = None
        self._labelled: str | None = None  # the objective the axes are labelled with
        self._dirty: set[str] = set()
        store.searchReset.connect(self._on_reset)
        store.objectiveChanged.connect(self._on_objective)
        store.trialAdded.connect(self._on_trial_started)
        store.trialChanged.connect(self._on_trial_changed)
        store.epochAppended.connect(self._on_epoch)
        store.refitAppended.connect(self._on_refit)
        store.batchProgressed.connect(self._on_batch)
        store.bestChanged.connect(self._on_best)
        self._on_reset()

    def _cell(self, key: str, plot: pg.PlotWidget) -> QStackedWidget:
        """A plot with the text shown in its place while it has nothing to draw."""
        cell = _PlotCell(plot.sizeHint())
        label = empty_state("No trials yet", f"{plot.objectName()}Empty")
        label.setAutoFillBackground(True)
        cell.addWidget(label)
        cell.addWidget(plot)
        self._empty[key], self._cells[key] = label, cell
        return cell

    @Slot()
    def _sync_metric_view(self) -> None:
        view = self.current_plot.getPlotItem().vb
        self._metric_view.setGeometry(view.sceneBoundingRect())
        self._metric_view.linkedViewChanged(view, self._metric_view.XAxis)

    def _show_cell(self, key: str, has_data: bool, empty_text: str = "No trials yet") -> None:
        self._empty[key].setText(empty_text)
        self._empty[key].setAccessibleName(empty_text)
        self._cells[key].setCurrentIndex(1 if has_data else 0)

    def empty_text(self, plot: str) -> str | None:
        """The text shown instead of ``plot`` (``current``, ``all``, ``best``, ``scatter``), or
        ``None`` while the plot itself is shown."""
        return self._empty[plot].text() if self._cells[plot].currentIndex() == 0 else None

    # ------------------------------------------------------------- following the store
    @Slot()
    def _on_reset(self) -> None:
        self._selected = None
        self._curves.clear()
        self._label_axes()
        self.invalidate()

    @Slot(str)
    def _on_objective(self, _name: str) -> None:
        self._curves.clear()
        self._label_axes()
        self._dirty |= {"current", "all"}

    @Slot(str)
    def _on_trial_started(self, _tid: str) -> None:
        self._dirty |= {"current", "batch", "best", "scatter"}  # their empty-state text changes

    @Slot(str)
    def _on_trial_changed(self, tid: str) -> None:
        # A trial ended (or a resumed search started it again, without its old curves).
        self._curves.pop(tid, None)
        self._dirty |= {"all", "best", "scatter"}
        trial = self.store.trial(tid)
        if trial is not None and (trial.status == "running" or tid == self.store.current_trial_id):
            self._dirty |= {"current", "batch"}

    @Slot(str, int)
    def _on_epoch(self, tid: str, _epoch: int) -> None:
        self._curves.pop(tid, None)
        self._dirty |= {"current", "all"}

    @Slot(int)
    def _on_refit(self, _epoch: int) -> None:
        self._dirty.add("current")

    @Slot()
    def _on_batch(self) -> None:
        self._dirty.add("batch")

    @Slot(str)
    def _on_best(self, _tid: str) -> None:
        self._dirty |= {"all", "best", "scatter"}

    def _label_axes(self) -> None:
        objective = self.store.objective
        name = objective.name
        if name == self._labelled:  # a new label lays the plots out again (3 ms on Start)
            return
        self._labelled = name
        # Two lines: "val_loss (lower is better)" in one ran past plots ~100 px high (1024×700).
        described = f"{name}<br>({objective.better_words})"
        self.all_plot.getPlotItem().setLabel("left", described)
        self.all_plot.getPlotItem().setTitle("All trials, per epoch", size="10pt")
        self.best_plot.getPlotItem().setLabel("left", described)
        self.best_plot.getPlotItem().setTitle(f"Best {name} so far", size="10pt")
        self.scatter_plot.getPlotItem().setLabel("left", described)
        self.scatter_plot.getPlotItem().setTitle(f"{name} of each trial", size="10pt")

    # ------------------------------------------------------------- state
    @property
    def objective(self) -> str:
        """The name of the objective the plots rank trials by."""
        return self.store.objective.name

    def trial_ids(self) -> list[str]:
        return self.store.trial_ids()

    def current_trial(self) -> str | None:
        """The trial (or ``"refit"``) the current-trial plot shows."""
        return self.store.current_trial_id

    def current_epochs(self) -> int:
        trial = self.store.trial(self.store.current_trial_id)
        return len(trial.epochs) if trial is not None else 0

    def best_trial(self) -> str | None:
        return self.store.best_trial_id

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
            for axis in ("left", "bottom", "right"):
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
        for key in (*PLOT_ORDER, "batch"):
            if key in dirty:
                self._draw(key)

    @Slot()
    def _redraw_next(self) -> None:
        """The timer's redraw: the batch bar and at most one plot, taking turns."""
        if "batch" in self._dirty:
            self._dirty.discard("batch")
            self._draw_batch()
        for step in range(len(PLOT_ORDER)):
            key = PLOT_ORDER[(self._turn + step) % len(PLOT_ORDER)]
            if key in self._dirty:
                self._dirty.discard(key)
                self._turn = (self._turn + step + 1) % len(PLOT_ORDER)
                self._draw(key)
                return

    def _draw(self, key: str) -> None:
        {"current": self._draw_current, "all": self._draw_all, "best": self._draw_best,
         "scatter": self._draw_scatter, "batch": self._draw_batch}[key]()
        view = dict(zip(PLOT_ORDER, self.views(), strict=True)).get(key)
        if view is not None and view.isVisible():
            # Fit the axes to the new data now: pyqtgraph would do it inside the paint, and axes
            # that change there schedule a second paint of the whole plot.
            view.scene().prepareForPaint()

    def _metric_key(self, trial: TrialCurves) -> str | None:
        for key in ("accuracy", "mae", "mean_absolute_error", "auc", "rmse"):
            if key in trial.metrics:
                return key
        candidates = [k for k in trial.metrics if not k.startswith("val_") and k != "loss"
                      and k != "learning_rate" and f"val_{k}" in trial.metrics]
        return candidates[0] if candidates else None

    def _draw_current(self) -> None:
        current = self.store.current_trial_id
        trial = self.store.trial(current)
        item = self.current_plot.getPlotItem()
        if trial is None:
            for curve in self._current_curves.values():
                curve.setData([], [])
            item.getAxis("right").setLabel("")
            self._set_current_title("Current trial")
            self._show_cell("current", False,
                            "No trial running" if self.store.trial_ids() else "No trials yet")
            return
        x = np.asarray(trial.epochs, dtype=float)
        metric = self._metric_key(trial)
        keys = {"loss": "loss", "val_loss": "val_loss",
                "metric": metric, "val_metric": f"val_{metric}" if metric else None}
        drawn = set()
        for slot, curve in self._current_curves.items():
            key = keys[slot]
            values = trial.metrics.get(key) if key else None
            y = np.asarray(values, dtype=float) if values else np.empty(0)
            if np.isfinite(y).any():
                curve.setData(x, y, **_dots(len(x), COLOURS[slot]))
                drawn.add(slot)
            else:
                curve.setData([], [])
        item.getAxis("right").setLabel(metric or "")
        title = "Refit of the best trial" if current == REFIT_TRIAL else f"Current trial {current}"
        # The title doubles as the legend, so no legend box ever hides the newest epochs; it
        # names only the curves drawn (a refit has no validation curves).
        names = {"loss": "loss", "val_loss": "val loss", "metric": f"{metric} →",
                 "val_metric": f"val {metric} →"}
        legend = "  ".join(f"<span style='color:{COLOURS[k]}'>━ {names[k]}</span>"
                           for k in ("loss", "val_loss", "metric", "val_metric") if k in drawn)
        self._set_current_title(f"{title}<br><span style='font-size:8pt'>{legend}</span>"
                                if legend else title)
        # A trial stopped (or failed) before its first epoch is not waiting for one any more.
        waiting = "waiting for its first epoch" if trial.status == "running" else \
            f"{trial.status} before its first epoch"
        self._show_cell("current", bool(drawn), f"{title}: {waiting}")

    def _set_current_title(self, text: str) -> None:
        if text != self._title_text:
            self._title_text = text
            item = self.current_plot.getPlotItem()
            item.setTitle(text, size="10pt")
            # A title wider than the plot would push the right axis out of sight.
            item.titleLabel.setMinimumWidth(0)

    def current_title(self) -> str:
        """The current-trial plot's title and legend, as plain text."""
        return QTextDocumentFragment.fromHtml(self._title_text or "").toPlainText()

    def _curve(self, trial: TrialCurves) -> tuple[np.ndarray, np.ndarray]:
        """A trial's objective per epoch (NaN where an epoch did not log it), cached until it
        changes."""
        curve = self._curves.get(trial.trial_id)
        if curve is None:
            values = trial.metrics.get(self.store.objective.name)
            y = np.asarray(values, dtype=float) if values else np.full(len(trial.epochs), np.nan)
            curve = self._curves[trial.trial_id] = (np.asarray(trial.epochs, dtype=float), y)
        return curve

    def _draw_all(self) -> None:
        xs, ys = [], []
        best = self.store.best_trial_id
        for tid in self.store.trial_ids():
            trial = self.store.trial(tid)
            if trial is None or not trial.epochs or tid in (best, self._selected):
                continue
            x, y = self._curve(trial)
            xs.append(x)
            xs.append(_NAN1)
            ys.append(y)
            ys.append(_NAN1)
        if xs:
            longest = max(len(x) for x in xs)
            self._others.setData(np.concatenate(xs), np.concatenate(ys), connect="finite",
                                 **_dots(longest, COLOURS["others"]))
        else:
            self._others.setData([], [])
        self._show_cell("all", any(t is not None and t.epochs for t in map(self.store.trial,
                                                                          self.store.trial_ids())))
        for wanted, curve in ((best, self._best_curve), (self._selected, self._selected_curve)):
            shown = self.store.trial(wanted) if wanted != REFIT_TRIAL else None
            if shown is not None and shown.epochs:
                x, y = self._curve(shown)
                curve.setData(x, y, **_dots(len(x), curve.opts["pen"].color()))
            else:
                curve.setData([], [])

    def _scored(self) -> list[TrialCurves]:
        """Ended trials with a score, by trial number."""
        trials = (self.store.trial(tid) for tid in self.store.trial_ids())
        return sorted((t for t in trials if t is not None and t.score is not None and t.order >= 0),
                      key=lambda t: t.number)

    def _no_scores_text(self) -> str:
        return "No finished trials yet" if self.store.trial_ids() else "No trials yet"

    def _draw_best(self) -> None:
        scored = self._scored()
        self._show_cell("best", bool(scored), self._no_scores_text())
        if not scored:
            self._best_line.setData([], [])
            self._best_marks.setData([], [])
            return
        objective = self.store.objective
        # The best among trials 0…n at each trial number n that improved it.
        points: list[tuple[float, float]] = []
        for trial in scored:
            score = trial.score
            if score is not None and (not points or objective.better(score, points[-1][1])):
                points.append((float(trial.number), score))
        pts = np.asarray(points, dtype=float)
        # A step line: the best score holds until the next improvement, up to the last trial.
        xs = np.repeat(pts[:, 0], 2)[1:]
        ys = np.repeat(pts[:, 1], 2)[:-1]
        end = max(float(scored[-1].number), float(pts[-1, 0]))
        self._best_line.setData(np.append(xs, end), np.append(ys, pts[-1, 1]))
        self._best_marks.setData(pts[:, 0], pts[:, 1])
        self._whole_trial_ticks(self.best_plot, len(scored))

    @staticmethod
    def _whole_trial_ticks(plot: pg.PlotWidget, count: int) -> None:
        axis = plot.getPlotItem().getAxis("bottom")
        if count <= 15:
            axis.setTickSpacing(1, 1)  # whole trial numbers while there are few
        else:
            axis.setTickSpacing()

    def _draw_scatter(self) -> None:
        best = self.store.best_trial_id
        done = self._scored()
        self._show_cell("scatter", bool(done), self._no_scores_text())
        self._whole_trial_ticks(self.scatter_plot, len(done))
        if not done:
            self._scatter.setData([], [])
            return
        normal = pg.mkBrush(COLOURS["scatter"])
        best_brush = pg.mkBrush(COLOURS["best"])
        self._scatter.setData(
            x=[t.number for t in done], y=[t.score for t in done],
            data=[t.trial_id for t in done],
            brush=[best_brush if t.trial_id == best else normal for t in done],
            size=[12 if t.trial_id == best else 8 for t in done],
        )

    def _draw_batch(self) -> None:
        current, progress = self.store.current_trial_id, self.store.batch
        if progress is None:
            self.batch_progress.setValue(0)
            if current is not None:
                self.batch_progress.setFormat(f"Trial {current}: starting")
            else:  # idle (no search yet, or other data cleared it): nothing waits for a batch
                self.batch_progress.setFormat("Waiting for the first batch" if self._timer.isActive()
                                              else NO_SEARCH)
            return
        epoch, batch, batches = progress
        who = "Refit" if current == REFIT_TRIAL else f"Trial {current}"
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


class _PlotCell(QStackedWidget):
    """One cell of the plots' grid: a plot, or the text shown while it has nothing to draw.

    Its size hints are fixed, so the grid never moves when a cell swaps plot and text: a
    pyqtgraph view hints its current size once shown and the wrapped text hints a height for
    its width, and either would make a swap resize and repaint all four plots (~60 ms when the
    first trial ends).
    """

    def __init__(self, hint: QSize) -> None:
        super().__init__()
        self._hint = QSize(hint)

    def sizeHint(self) -> QSize:
        return QSize(self._hint)

    def minimumSizeHint(self) -> QSize:
        plot = self.widget(1)
        return plot.minimumSizeHint() if plot is not None else super().minimumSizeHint()

    def hasHeightForWidth(self) -> bool:
        return False


_NAN1 = np.array([np.nan])


def _dots(points: int, colour: Any) -> dict[str, Any]:
    """Symbols for a curve of a single point (one epoch), which a line alone does not draw."""
    if points == 1:
        return {"symbol": "o", "symbolSize": 7, "symbolPen": None, "symbolBrush": colour}
    return {"symbol": None}
