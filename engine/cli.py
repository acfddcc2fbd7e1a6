"""The ``automl-studio`` command line: search, predict, evaluate, info, export, gui.

User errors print one line naming the file, row, column or key and exit with status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from automl_studio.engine.core.clock import process_started_at, startup_message, startup_watchdog
from automl_studio.engine.core.config import (
    DEFAULT_NGRAMS,
    MAX_CHAR_NGRAMS,
    TUNERS,
    SearchConfig,
    parse_lookback,
)
from automl_studio.engine.core.errors import UserError
from automl_studio.engine.core.events import (
    EpochEnded,
    Event,
    JsonLinesWriter,
    PhaseChanged,
    SearchFinished,
    SearchStarted,
    SearchWarning,
    TrialEnded,
    TrialStarted,
)
from automl_studio.engine.core.objectives import objectives_help
from automl_studio.engine.data.csv_format import (
    CsvOptions,
    parse_decimal,
    parse_delimiter,
    parse_encoding,
)
from automl_studio.engine.export.formats import FORMATS, QUANTIZE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl-studio",
        description="AutoML for Keras: search networks with KerasTuner, export a self-contained .h5.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("search", help="search for the best network for a data file")
    _search_options(s)
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run N trials at once in local worker processes (KerasTuner's distributed mode)")

    c = sub.add_parser("chief", help="serve a search to workers on other machines (KerasTuner's chief)")
    _search_options(c)
    c.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; the port is unauthenticated, so open it only on a trusted network)")
    c.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)")

    w = sub.add_parser("worker", help="join a chief and run trials with its configuration (KerasTuner's worker)")
    w.add_argument("--chief", required=True, metavar="HOST:PORT")
    w.add_argument("--config", required=True, metavar="FILE|PROJECT",
                   help="the chief's search_config.json (or its project folder): data, target, columns, split "
                        "and training settings exactly as the chief has them")
    w.add_argument("--data", metavar="PATH", help="this machine's copy of the data when it is not at the chief's "
                   "path (its fingerprint must match the chief's)")
    w.add_argument("--project", metavar="DIR", help="where this worker keeps its checkpoints (default: the chief's path)")
    w.add_argument("--device", help="auto, cpu, gpu or gpu:N on this machine (default: the chief's choice)")
    w.add_argument("--id", help="this worker's tuner id (default: worker-<host>-<pid>)")
    w.add_argument("--events", metavar="-|PATH", help="write every event as JSON Lines to stdout (-) or a file")

    p = sub.add_parser("predict", help="predict with an exported model",
                       description="Writes a CSV of predictions, one row per data row. A row that cannot be scored "
                                   "(a value that is not a number, a category never seen in training where no "
                                   "rare levels were bucketed) keeps its "
                                   "place with empty cells and its reason in a 'problem' column, and is named on "
                                   "stderr; the exit status is 2 only when no row can be scored.")
    p.add_argument("model"), p.add_argument("data")
    p.add_argument("--output", help="CSV to write (default: DATA.predictions.csv)")
    p.add_argument("--x-key")
    p.add_argument("--backtest", action="store_true", help="forecast models: a prediction for every row with a "
                   "full lookback window before it, instead of the next horizon steps after the last row")
    _csv_flags(p)
    p.add_argument("--allow-unsafe", action="store_true", help="load models with Lambda layers or custom code (only from people you trust)")

    e = sub.add_parser("evaluate", help="metrics of an exported model on labelled data")
    e.add_argument("model"), e.add_argument("data")
    e.add_argument("--target"), e.add_argument("--x-key"), e.add_argument("--y-key")
    _csv_flags(e)
    e.add_argument("--allow-unsafe", action="store_true")

    i = sub.add_parser("info", help="describe an exported model")
    i.add_argument("model")

    x = sub.add_parser("export", help="export a project's best model")
    x.add_argument("project"), x.add_argument("dest")
    x.add_argument("--keras", action="store_true", help="also write the .keras twin")
    x.add_argument("--format", action="append", choices=FORMATS, dest="formats", metavar="FORMAT",
                   help=f"a format to write, repeatable: {', '.join(FORMATS)} (default: h5); each is reloaded "
                        "in a fresh process with its own runtime and checked on held-out test rows")
    x.add_argument("--quantize", choices=QUANTIZE, default="none",
                   help="TFLite weights: none, float16 or dynamic (8-bit dynamic range)")

    r = sub.add_parser("report", help="write a search's report: one self-contained HTML file")
    r.add_argument("project", help="the search's project folder")
    r.add_argument("--output", metavar="FILE.html", help="where to write it (default: PROJECT/report.html)")

    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("path", nargs="?", help="a data file or project to open (default: the welcome view)")
    g.add_argument("--demo", action="store_true", help="open the bundled iris demo data")
    g.add_argument("--version", action="version", version=f"automl-studio {_version()}")

    d = sub.add_parser("install-desktop-entry",
                       help="add the app to this user's desktop menu (Linux: $XDG_DATA_HOME)")
    d.add_argument("--uninstall", action="store_true", help="remove what an install wrote")
    return parser


def _version() -> str:
    """The installed distribution's version (``automl_studio`` is a namespace: no ``__version__``)."""
    try:
        return importlib.metadata.version("automl-studio")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _csv_flags(s: argparse.ArgumentParser) -> None:
    """Overrides of what is detected about a CSV file (the search's notes say what was read)."""
    s.add_argument("--delimiter", type=_checked(parse_delimiter), metavar="CHAR",
                   help="CSV field separator: ',' ';' '|' tab ... (default: detected)")
    s.add_argument("--decimal", type=_checked(parse_decimal), metavar="./,",
                   help="decimal mark of the CSV's numbers (default: detected per file)")
    s.add_argument("--encoding", type=_checked(parse_encoding), metavar="NAME",
                   help="text encoding of the CSV: utf-8, cp1252, latin-1, utf-16 ... (default: detected)")
    header = s.add_mutually_exclusive_group()
    header.add_argument("--no-header", dest="header", action="store_false", default=None,
                        help="the CSV's first row is data, not column names (columns become column_1...)")
    header.add_argument("--header", dest="header", action="store_true",
                        help="the CSV's first row holds the column names (default: detected)")


def _checked(parse: Any) -> Any:
    def check(value: str) -> Any:
        try:
            return parse(value)
        except UserError as exc:
            raise argparse.ArgumentTypeError(exc.message) from exc
    return check


def _csv_options(args: argparse.Namespace) -> CsvOptions:
    return CsvOptions(args.delimiter, args.decimal, args.encoding, args.header)


def _search_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("data", help="CSV/TSV/Parquet, .npz, .npy, or a folder of images (one subfolder per class)")
    s.add_argument("--target", help="the column to predict (default: a column named like a label, else the last)")
    s.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    s.add_argument("--space", default="auto", help="a template: tabular, image, residual, sequence, forecast, text; or a "
                   "SPEC.json (default: fits the data)")
    s.add_argument("--tuner", choices=TUNERS, default="bayesian")
    s.add_argument("--max-trials", type=int)
    s.add_argument("--max-epochs", type=int)
    s.add_argument("--time-budget", type=float, metavar="SECONDS", help="wall-clock budget for the whole command, refit and export included")
    s.add_argument("--executions-per-trial", type=int, default=1)
    s.add_argument("--objective", help=objectives_help())
    s.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--project", help="project directory (default: ./automl-projects/<data name>)")
    s.add_argument("--export", metavar="PATH.h5", help="also write the best model here")
    s.add_argument("--events", metavar="-|PATH", help="write every event as JSON Lines to stdout (-) or a file")
    s.add_argument("--fresh", action="store_true", help="start over instead of resuming the project")
    s.add_argument("--exclude", action="append", default=[], metavar="COLUMN", help="leave a column out (repeatable)")
    s.add_argument("--include", action="append", default=[], metavar="COLUMN",
                   help="use a column the profiler left out (repeatable)")
    s.add_argument("--text", action="append", default=[], metavar="COLUMN",
                   help="read a column as free text: tokenized words (repeatable)")
    s.add_argument("--categorical", action="append", default=[], metavar="COLUMN",
                   help="read a column as categories, e.g. whole numbers that are codes (repeatable)")
    s.add_argument("--numeric", action="append", default=[], metavar="COLUMN",
                   help="read a column as a number (repeatable)")
    s.add_argument("--ngrams", type=int, default=DEFAULT_NGRAMS, metavar="N",
                   help=f"text columns: word n-grams up to N beside the words (default {DEFAULT_NGRAMS}: "
                        "words and pairs of neighbouring words; 1: words only)")
    s.add_argument("--char-ngrams", type=int, default=0, metavar="N",
                   help=f"text columns: each word's character n-grams of length N (1-{MAX_CHAR_NGRAMS}: fastText "
                        "subwords of <word>) join its tokens, for misspellings and word forms (default 0: none)")
    s.add_argument("--max-tokens", type=int, metavar="N",
                   help="text columns: keep each column's N most frequent tokens (default 20000)")
    s.add_argument("--time-column", metavar="COLUMN", help="forecast: order rows by this column (dates or whole "
                   "numbers; 'auto': detected) and split by time, the latest period for testing")
    s.add_argument("--horizon", type=int, default=1, metavar="H", help="forecast: steps ahead to predict (default 1)")
    s.add_argument("--lookback", type=_checked(parse_lookback), metavar="L|MIN:MAX", help="forecast: steps of history per "
                   "window, or a range MIN:MAX the search tries (windows hold MAX steps; default: two "
                   "seasonal periods, at least 8)")
    s.add_argument("--stride", type=int, default=1, metavar="S", help="forecast: steps between training windows")
    s.add_argument("--group", metavar="COLUMN", help="forecast: the column naming each series (one series without it)")
    s.add_argument("--x-key"), s.add_argument("--y-key")
    _csv_flags(s)
    s.add_argument("--image-size", type=int, nargs=2, default=(64, 64), metavar=("H", "W"))
    s.add_argument("--no-refit", action="store_true", help="export the best trial as trained, without retraining on train+validation")
    s.add_argument("--refits", type=int, metavar="N", help="average N refits of the best configuration, each with its own seed, "
                   "in the exported model (default: 5 up to 10,000 rows, 3 up to 100,000, else and for images 1)")
    s.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=False,
                   help="export a weighted ensemble of the best trials instead of the refits when greedy "
                   "selection on the validation split beats the best trial (default: off, the refits)")
    s.add_argument("--cv-folds", type=int, default=0, metavar="K",
                   help="score each trial by the mean of its best validation objective on K folds of "
                   "train+validation (5 is usual), its standard error beside it; each fold costs a fit, so under "
                   "a time budget fewer trials run (default 0: one validation split)")
    s.add_argument("--finalists", type=int, default=3, metavar="N",
                   help="on a small table (up to 1,000 train+validation rows), cross-validate the validation "
                   "split's best N trials and the first (linear) one after the search, on the same folds, and export "
                   "the smallest network within a standard error of the best mean, as time allows "
                   "(default 3; 0: export the validation split's best)")
    s.add_argument("--forest", action=argparse.BooleanOptionalAction, default=True,
                   help="on tables of numeric and categorical columns, score a random forest (100 trees of at most 64 "
                   "or 256 leaves, or 25 of at most 512: the shape the validation split prefers) beside the networks "
                   "and export it, compiled into standard Keras layers, where it scores better by more than a "
                   "standard error on the best trials' folds, or (without folds) on the validation split scores "
                   "better or trails the best network by no more than a standard error (default: on)")
    s.add_argument("--refit-all", action=argparse.BooleanOptionalAction, default=True,
                   help="once the test split is scored, train the exported model (its refits, or the forest) again "
                   "the same way on all rows, the test rows included, as time allows; the test metrics stay those "
                   "of the model before. An ensemble, or a search with --no-refit, is exported as scored "
                   "(default: on)")
    s.add_argument("--device", default="auto", help="auto (a GPU when present), cpu, gpu or gpu:N")
    s.add_argument("--mixed-precision", action="store_true", help="float16 compute on GPUs (output layer float32)")
    s.add_argument("--distribution", choices=["none", "data-parallel"], default="none",
                   help="data-parallel: every trial trains on all local GPUs (tf.distribute / keras.distribution)")


class _Progress:
    """A one-line progress display on a terminal (stderr)."""

    def __init__(self, stream: IO[str], max_trials: int | None) -> None:
        self.stream, self.max_trials = stream, max_trials
        self.done = 0
        self.best: float | None = None
        self.trial = ""
        self.epoch = ""
        self.started = time.monotonic()

    def __call__(self, event: Event) -> None:
        if isinstance(event, SearchStarted):
            self.max_trials = event.settings.get("max_trials")
            self.done = event.completed_trials
        elif isinstance(event, TrialStarted):
            self.trial, self.epoch = event.trial_id, ""
        elif isinstance(event, EpochEnded):
            self.epoch = f" epoch {event.epoch}"
        elif isinstance(event, TrialEnded):
            self.done += 1
            if event.score is not None:
                self.best = event.score if self.best is None else min(self.best, event.score)
            if event.status != "completed":
                self._line(f"trial {event.trial_id} {event.status}: {event.error}\n")
        elif isinstance(event, PhaseChanged):
            self._line(f"{event.phase}: {event.message}\n")
            return
        elif isinstance(event, SearchWarning):
            self._line(f"warning: {event.message}\n")
            return
        elif isinstance(event, SearchFinished):
            self._line("\n")
            return
        total = self.max_trials if self.max_trials and self.max_trials < 10_000 else None
        width = 24
        filled = int(width * self.done / total) if total else 0
        bar = "#" * filled + "-" * (width - filled) if total else ""
        best = f" best {self.best:.4g}" if self.best is not None else ""
        elapsed = time.monotonic() - self.started
        self._line(f"\r[{bar}] {self.done}/{total or '?'} trials{best} · trial {self.trial}{self.epoch} · {elapsed:.0f}s ")

    def _line(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _worker_config(args: argparse.Namespace) -> SearchConfig:
    """The chief's configuration for this worker, read from ``--config``; no flag is rebuilt.

    Only what is this machine's own may differ: where the data and checkpoints are, and the
    device. The chief's data identity goes along, so the search refuses to start when this
    machine's data or split differ.

    Raises:
        ProjectError: the document is missing, damaged, newer, or has no data fingerprint yet.
    """
    from automl_studio.engine.core.config import SearchDocument
    from automl_studio.engine.core.errors import ProjectError
    from automl_studio.engine.search.distributed import CHIEF_DATA
    from automl_studio.engine.search.project import CONFIG_FILE

    path = os.path.join(args.config, CONFIG_FILE) if os.path.isdir(args.config) else args.config
    document = SearchDocument.read(path)
    if not document.data_fingerprint:
        raise ProjectError(f"{path}: holds no data fingerprint (only a chief's search_config.json does); "
                           "use the file the chief wrote into its project folder")
    config = document.config
    changes: dict[str, Any] = dict(
        fresh=False, workers=1, export_path=None, chief_address="", chief_port=0, recycle_mb=0, time_budget_s=None,
        extra={**config.extra, CHIEF_DATA: dict(document.data)})
    if document.space is not None:
        changes["space"] = dict(document.space)  # the chief's resolved spec: no spec file needed here
    if args.data:
        changes["data_path"] = args.data.rstrip("/")
    if args.project:
        changes["project_dir"] = args.project
    if args.device:
        changes["device"] = args.device
    return config.replace(**changes)


def _config_from_flags(args: argparse.Namespace) -> SearchConfig:
    """The configuration of ``search`` and ``chief``, from their flags."""
    data = args.data.rstrip("/")
    project = args.project or os.path.join("automl-projects", os.path.splitext(os.path.basename(data))[0] or "data")
    chosen = [*args.numeric, *args.categorical, *args.text]
    if twice := sorted({c for c in chosen if chosen.count(c) > 1}):
        raise UserError(f"{', '.join(map(repr, twice))}: one kind per column (--numeric, --categorical or --text)")
    space: Any = args.space
    return SearchConfig(
        data_path=data, project_dir=project, target=args.target, task=args.task, space=space,
        tuner=args.tuner, max_trials=args.max_trials, max_epochs=args.max_epochs,
        time_budget_s=args.time_budget, executions_per_trial=args.executions_per_trial,
        objective=args.objective, patience=args.patience, seed=args.seed, export_path=args.export,
        fresh=args.fresh, exclude_columns=tuple(args.exclude), include_columns=tuple(args.include),
        column_kinds={**{c: "numeric" for c in args.numeric}, **{c: "categorical" for c in args.categorical},
                      **{c: "text" for c in args.text}},
        x_key=args.x_key, y_key=args.y_key,
        image_size=tuple(args.image_size), refit=not args.no_refit, refits=args.refits, device=args.device,
        ensemble=args.ensemble, cv_folds=args.cv_folds, finalists=args.finalists, forest=args.forest,
        refit_all=args.refit_all,
        mixed_precision=args.mixed_precision, distribution=args.distribution,
        workers=getattr(args, "workers", 1) if args.command == "search" else 1,
        csv_delimiter=args.delimiter, csv_decimal=args.decimal, csv_encoding=args.encoding, csv_header=args.header,
        time_column=args.time_column, horizon=args.horizon, lookback=args.lookback[0] if args.lookback else None,
        lookback_max=args.lookback[1] if args.lookback else None, stride=args.stride,
        group_column=args.group, ngrams=args.ngrams, max_tokens=args.max_tokens,
        char_ngrams=args.char_ngrams,
    )


def _print_warning_event(event: Event) -> None:
    """The search's warnings (dropped rows, how a file was read...) on stderr when no progress line is."""
    if isinstance(event, SearchWarning):
        print(f"automl-studio: warning: {event.message}", file=sys.stderr, flush=True)


def _print_leak_warnings(event: Event) -> None:
    """Columns that alone predict the target (likely leaks), on stderr before the first trial."""
    if isinstance(event, SearchStarted):
        for warning in event.profile.get("warnings", ()):
            if "likely leak" in warning or "leaks the answer" in warning:
                print(f"automl-studio: warning: {warning}", file=sys.stderr, flush=True)


def _print_dropped_columns(event: Event) -> None:
    """Feature columns left out because every row holds one value (or none), on stderr before the
    first trial: the window lists them on the Data page, a script would otherwise never know."""
    if isinstance(event, SearchStarted):
        for column in event.profile.get("columns", ()):
            if column.get("kind") == "constant":
                value = f" ('{column['examples'][0]}' in every row)" if column.get("examples") else ""
                print(f"automl-studio: note: column '{column['name']}' "
                      f"{str(column.get('reason', '')).removeprefix('dropped: ')}{value}; left out",
                      file=sys.stderr, flush=True)


def time_column_note(config: SearchConfig) -> str | None:
    """The note for a search without ``--time-column`` on a table that looks like a time series:
    the column the Data page would pick as time (the engine's ``suggest_time_column``), or None.

    Only tables are read (a second time: the search reads the file again); a file that cannot
    be read gets no note (the search itself says why)."""
    from automl_studio.engine.data.identity import load_config_dataset
    from automl_studio.engine.data.profile import profile_dataset
    from automl_studio.engine.data.timeseries import suggest_time_column

    path = config.data_path
    if config.time_column or os.path.isdir(path) or path.lower().endswith((".npz", ".npy")):
        return None
    try:
        dataset = load_config_dataset(config)
        profile = profile_dataset(dataset, config.target, config.task, exclude=tuple(config.exclude_columns),
                                  include=tuple(config.include_columns), kinds=config.column_kinds,
                                  keep_going=True, check_leaks=False)
    except UserError:
        return None
    found = suggest_time_column(dataset, profile)
    if found is None or found in config.exclude_columns:
        return None
    return (f"column '{found}' looks like time; rows are split at random — add --time-column {found} "
            "to forecast (chronological splits)")


def _search(args: argparse.Namespace, own_process: bool = False) -> int:
    from automl_studio.engine.search import distributed
    from automl_studio.engine.search.session import run_search
    from automl_studio.engine.train.baselines import race_note
    from automl_studio.engine.train.metrics import baseline_note, naive_note

    # The budget counts from the command's start: the interpreter, imports and loading included
    # (from this call when the command runs inside another program).
    started = process_started_at() if own_process else time.monotonic()
    config = _worker_config(args) if args.command == "worker" else _config_from_flags(args)
    project = config.project_dir
    if config.time_budget_s and config.workers > 1:  # local workers are processes of their own
        config = config.replace(time_budget_s=max(1.0, config.time_budget_s - (time.monotonic() - started)))
    listeners: list[Callable[[Event], None]] = []
    out_stream = sys.stdout
    handle = None
    # Stray prints (KerasTuner's, Keras') go to stderr: stdout carries only our JSON.
    redirect = contextlib.redirect_stdout(sys.stderr)
    if args.events == "-":
        listeners.append(JsonLinesWriter(out_stream))
    elif args.events:
        handle = open(args.events, "w", encoding="utf-8")
        listeners.append(JsonLinesWriter(handle))
    if sys.stderr.isatty():
        listeners.append(_Progress(sys.stderr, config.max_trials))
    else:  # no progress line, but warnings (dropped rows, odd encodings...) still reach the console
        listeners.append(_print_warning_event)
    listeners.append(_print_leak_warnings)
    listeners.append(_print_dropped_columns)

    began: list[Callable[[], None]] = []  # tells the start-up watchdog that the search has started

    def listener(event: Event) -> None:
        if began and isinstance(event, SearchStarted):
            began.pop()()
        for item in listeners:
            item(event)

    if own_process and config.time_budget_s and config.workers <= 1:
        def give_up(budget_s: float = config.time_budget_s) -> None:
            message = startup_message(budget_s)
            listener(SearchFinished.build("budget", message))
            if handle:
                handle.flush()
            if args.events != "-":
                print(json.dumps({"status": "budget", "exported": [], "message": message, "project": project},
                                 indent=2), flush=True)
            print(f"automl-studio: {message}", file=sys.stderr, flush=True)
            os._exit(0)  # the main thread is still importing: nothing of the project is half written

        began.append(startup_watchdog(started + config.time_budget_s, give_up))

    if args.command == "chief":
        config = config.replace(chief_address=args.address, chief_port=args.port)  # validates them
        address = config.chief_address or distributed.LOOPBACK
        listening = distributed.listen_port(address, config.chief_port)
        os.environ.update(distributed.roles_env(distributed.CHIEF_ID, address, listening))
        # Workers start from this document (with its data fingerprint), so it is written first.
        config = distributed.publish_search(config).config.replace(export_path=config.export_path)
        command, warning = distributed.chief_notices(config, address, listening)
        print("automl-studio: serving the search; on each worker machine run:\n  " + command, file=sys.stderr)
        if warning:
            print(f"automl-studio: warning: {warning}", file=sys.stderr)
    elif args.command == "worker":
        host, _, port = args.chief.rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"--chief must be HOST:PORT, got {args.chief!r}")
        worker_id = args.id or f"worker-{socket.gethostname()}-{os.getpid()}"
        if "chief" in worker_id:
            raise UserError("a worker id must not contain 'chief'")
        os.environ.update(distributed.roles_env(worker_id, host, int(port)))
    if args.command == "search":
        time_note = time_column_note(config)
        if time_note:
            _print_note(time_note)
    try:
        with redirect:
            if config.workers > 1:
                finish = distributed.run_local_workers(config, config.workers, listener)
            else:
                finish = SearchFinished.from_result(run_search(config, listener, budget_started_at=started))
    finally:
        if handle:
            handle.close()
    note = baseline_note(finish.test_metrics, finish.baseline_metrics)
    race = race_note(finish.baselines, finish.best_score, forest_exported=bool(finish.forest))
    naive = naive_note(finish.test_metrics, finish.baseline_metrics)  # forecasts: every naive forecast
    summary = {"status": finish.status, "best_trial": finish.best_trial_id, "best_score": finish.best_score,
               "test_metrics": {k: v for k, v in finish.test_metrics.items() if k not in ("sample",)},
               "baseline_note": note, "baselines_note": race, **({"naive_note": naive} if naive else {}),
               "exported": list(finish.exported),
               "refits": finish.refits, "ensemble": dict(finish.ensemble), "forest": dict(finish.forest),
               "all_rows": dict(finish.all_rows or {}), "message": finish.message,
               "project": project}
    if args.events != "-":
        print(json.dumps(summary, indent=2))
    else:
        print(f"{finish.status}: best trial {finish.best_trial_id}, exported {', '.join(finish.exported)}",
              file=sys.stderr)
    for said in (note, naive, race):
        if said:
            print(f"automl-studio: {said}", file=sys.stderr)
    return 0 if finish.status in ("completed", "budget", "stopped") else 1


def _print_note(note: str) -> None:
    """One line about the input (e.g. what an image folder skipped), on stderr."""
    print(f"automl-studio: note: {note}", file=sys.stderr)


def _print_warning(warning: str) -> None:
    """One line per problem with the input that changes what is scored (rows left out...), on stderr."""
    print(f"automl-studio: warning: {warning}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``automl-studio`` command."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if argv is None and args.command in ("search", "chief", "worker"):
        code = _main(args, own_process=True)
        # This process is the command: end it without the interpreter's teardown of TensorFlow,
        # which took 5-19 s on a busy machine after the work (and its time budget) was done.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return _main(args)


def _desktop_entry(*, uninstall: bool) -> int:
    from automl_studio.engine import desktop_entry

    if not sys.platform.startswith("linux") and "bsd" not in sys.platform:
        print("automl-studio: desktop entries are for Linux; on macOS and Windows see "
              "packaging/README.md (app bundle, Start-menu shortcut)", file=sys.stderr)
        return 2
    done = desktop_entry.uninstall() if uninstall else desktop_entry.install()
    for path in done.files:
        print(f"{'removed' if uninstall else 'wrote'} {path}")
    if done.refreshed:
        print(f"refreshed: {', '.join(done.refreshed)}")
    return 0


def _main(args: argparse.Namespace, own_process: bool = False) -> int:
    if args.command is None or args.command == "gui":
        # The GUI is an optional layer on top; looked up by name so the engine never imports it.
        try:
            app = importlib.import_module("automl_studio.gui.app")
        except ImportError as exc:
            print(f"automl-studio: the desktop app is not available ({exc})", file=sys.stderr)
            return 2
        return int(app.main(([args.path] if getattr(args, "path", None) else [])
                            + (["--demo"] if getattr(args, "demo", False) else [])))
    if args.command == "install-desktop-entry":
        return _desktop_entry(uninstall=args.uninstall)
    try:
        if args.command in ("search", "chief", "worker"):
            return _search(args, own_process)
        if args.command == "predict":
            from automl_studio.engine.export.predict import predict_file

            out = predict_file(args.model, args.data, args.output, x_key=args.x_key, allow_unsafe=args.allow_unsafe,
                              csv_options=_csv_options(args), on_note=_print_note, on_warning=_print_warning,
                              backtest=args.backtest)
            print(f"wrote {out}")
            return 0
        if args.command == "evaluate":
            from automl_studio.engine.export.predict import evaluate_file

            metrics = evaluate_file(args.model, args.data, args.target, x_key=args.x_key, y_key=args.y_key,
                                    allow_unsafe=args.allow_unsafe, csv_options=_csv_options(args),
                                    on_note=_print_note, on_warning=_print_warning)
            print(json.dumps(metrics, indent=2))
            return 0
        if args.command == "info":
            from automl_studio.engine.export.model_info import describe

            print(json.dumps(describe(args.model), indent=2))
            return 0
        if args.command == "report":
            from automl_studio.engine.search.report import write_report

            print(f"wrote {write_report(args.project, args.output)}")
            return 0
        if args.command == "export":
            from automl_studio.engine.search.session import export_project

            formats = list(dict.fromkeys(args.formats or ["h5"]))
            if args.keras and "keras" not in formats:
                formats.append("keras")
            result = export_project(args.project, args.dest, formats, quantize=args.quantize)
            for check in result.get("checks", []):
                print(check["words"], file=sys.stderr)
            print(json.dumps(result, indent=2))
            return 0
    except UserError as exc:
        if args.debug:
            raise
        print(f"automl-studio: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("automl-studio: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``automl-studio info MODEL.h5 | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
