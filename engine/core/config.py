"""What a search is asked to do: :class:`SearchConfig`, and the versioned document that holds it.

The command line builds one from its flags, the window from its forms, and the process runner
sends it to the child as a dict. ``None`` means "choose for me": the engine fills in what a good
practitioner would pick for the data (see :func:`automl_studio.engine.search.defaults.resolve_defaults`).

:class:`SearchDocument` is the one persisted form: ``{"schema_version", "app", "search": config,
"data": identity of the prepared data, "space": resolved spec}``. The chief writes it into the
project folder (``search_config.json``), workers start from it (``automl-studio worker --config``)
and the window's project file is the same document plus a name and notes. A document from a newer
version is refused with a clear message rather than half-read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_studio.engine.core.errors import ProjectError, UserError
from automl_studio.engine.core.jsonfile import (
    check_schema_version,
    parse_json_document,
    read_json_document,
)

RECYCLE_STATUS = "recycle"  # a run that ended itself to be restarted (SearchConfig.recycle_mb)
TUNERS = ("random", "bayesian", "hyperband", "grid")
TASKS = ("auto", "classification", "regression")
# 6: search.finalists (the exported trial chosen by cross-validating the best few on small tables;
# a version-5 reader would silently export the validation split's best). 5: search.cv_folds (trials scored by k-fold cross-validation; a version-4 reader would silently
# score them on the validation split). 4: search.char_ngrams (character n-grams of text columns; a version-3 reader would silently
# search without them). 3: search.lookback_max (a searched lookback range; a version-2 reader
# would silently search one lookback). 2: one document for search_config.json and project files ("search", "data", "space").
# 1: project files (the same "search" section) and search_config.json with "config" and "fingerprint".
CONFIG_SCHEMA_VERSION = 6
APP = "automl-studio"
MAX_NGRAMS = 3  # word n-grams of text columns: longer ones are too rare to learn from
# Words and pairs of neighbouring words by default: the first trial (averaged embeddings into a
# linear head) then reads what TF-IDF 1-2-grams read (BENCHMARKS.md, "Text classification").
DEFAULT_NGRAMS = 2
MAX_CV_FOLDS = 10  # folds of a cross-validated trial score: each costs a fit
MAX_FINALISTS = 10  # trials cross-validated after the search: each costs its folds' fits
MAX_CHAR_NGRAMS = 6  # fastText's longest subword (Bojanowski et al. 2017 use lengths 3 to 6)
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True)
class SearchConfig:
    """Everything one search needs, from the data file to the export path."""

    data_path: str
    project_dir: str
    target: str | None = None
    task: str = "auto"
    space: str | Mapping[str, Any] = "auto"  # "auto", "tabular", "image", a spec path or dict
    tuner: str = "bayesian"
    max_trials: int | None = None
    max_epochs: int | None = None
    time_budget_s: float | None = None
    executions_per_trial: int = 1
    objective: str | None = None  # default: val_loss (see README: accuracy ties on small data)
    patience: int | None = None
    seed: int = 1
    export_path: str | None = None
    export_keras: bool = True
    fresh: bool = False
    refit: bool = True
    # How many refits of the best configuration (seeds seed, seed+1, …) the exported model
    # averages. None: 5 for tables and feature arrays up to 10,000 rows, 3 up to 100,000, else 1.
    refits: int | None = None
    # A weighted ensemble of the best different trials (greedy selection on validation, see
    # engine.train.ensemble), exported instead of the refits when it beats the best trial there.
    # Opt-in: on digits it beat the best trial but lost to the refits on train+validation
    # (benchmarks/ensemble_quality.py: 0.9675 vs 0.9768 test accuracy over 3 seeds).
    ensemble: bool = False
    # Each trial's score is the mean of its best validation objective on this many folds of
    # train+validation (its standard error beside it; engine.search.defaults.trial_folds); 0 or
    # 1: one validation split. Opt-in: under a time budget each fold costs what a trial does, and
    # at --time-budget 150 five folds left one trial on three of four small tables and scored
    # breast_cancer and diabetes lower (BENCHMARKS.md, "Cross-validated trial scores").
    cv_folds: int = 0
    # On a small table (engine.train.crossval.applies), the validation split's best this many
    # trials (and the first, linear one) are cross-validated after the search, and the smallest
    # network within a standard error of the best mean fold score is exported
    # (train.crossval.choose, events.FinalistsScored); 0 or 1: the split's best is exported.
    finalists: int = 3
    # A random forest (engine.train.forest.FOREST_SHAPES: 100 trees of at most 64 or 256 leaves, or 25
    # of at most 512, the shape the validation split prefers; compiled into standard Keras layers)
    # is scored beside the networks on tables of numeric and categorical columns - on the
    # finalists' folds, else on the validation split - and exported instead of them where it
    # scores better on the folds by more than a standard error, or on the validation split scores
    # better or trails the best trial by no more than a standard error. False: networks only.
    forest: bool = True
    # Once the test split is scored, the exported model (its refits, or the forest) is trained
    # again the same way on all rows, the test rows included, as time allows; the test metrics
    # stay those of the model before (held-out randhie, split seed 2: a forest without the test
    # split's 20 % of rows scored R² 0.05 where the same forest on all of them scores 0.14).
    # False: the exported model is the one the test metrics measured.
    refit_all: bool = True
    exclude_columns: tuple[str, ...] = ()
    include_columns: tuple[str, ...] = ()  # force-include columns the profiler excluded
    # The user's kind per column ("numeric" or "categorical"), over what the profiler detected.
    column_kinds: Mapping[str, str] = field(default_factory=dict)
    validation_fraction: float = 0.2
    test_fraction: float = 0.2
    x_key: str | None = None
    y_key: str | None = None
    # How to read a CSV file; None: detected (see engine.data.csv_format.CsvOptions).
    csv_delimiter: str | None = None
    csv_decimal: str | None = None  # "." or ","
    csv_encoding: str | None = None
    csv_header: bool | None = None  # False: the file has no header row
    image_size: tuple[int, int] = (64, 64)
    # Forecasting (see engine.data.timeseries): the column rows are ordered by ("auto": detected;
    # None: rows are independent), steps ahead, steps of history (None: chosen), steps between
    # training windows, and the column naming each series. With ``lookback_max`` the lookback is
    # searched from ``lookback`` to ``lookback_max`` (windows hold lookback_max steps; each network
    # keeps its last ``lookback.steps``: see engine.search.defaults.lookback_space).
    time_column: str | None = None
    horizon: int = 1
    lookback: int | None = None
    lookback_max: int | None = None
    stride: int = 1
    group_column: str | None = None
    # Text columns (see engine.data.text): word n-grams up to this length beside the words, and
    # each column's vocabulary size (None: 20,000); character n-grams of this length of each word
    # (0: none, the default) join the same vocabulary.
    ngrams: int = DEFAULT_NGRAMS
    max_tokens: int | None = None
    char_ngrams: int = 0
    max_consecutive_failures: int = 5
    tensorboard: bool = True
    device: str = "auto"  # auto (a GPU when present), cpu, gpu, gpu:N
    mixed_precision: bool = False  # float16 compute on GPUs; the output layer stays float32
    distribution: str = "none"  # none, or data-parallel (all local GPUs train each trial)
    workers: int = 1  # trials at once, in local worker processes (KerasTuner's chief/workers)
    # Where the local chief's oracle listens (``automl-studio chief --address/--port``). Empty: only
    # this machine (127.0.0.1); the port is unauthenticated, so other machines join only when an
    # address is named. Port 0: any free port.
    chief_address: str = ""
    chief_port: int = 0
    # Keras/TensorFlow keep a few MB per built model that clear_session() does not free, so a
    # child run by SearchProcess ends itself between trials once it has grown this much and is
    # restarted on the same project (a resume). 0: never (the in-process CLI cannot restart).
    recycle_mb: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tuner not in TUNERS:
            raise UserError(f"unknown tuner {self.tuner!r}; choose one of {', '.join(TUNERS)}")
        if self.task not in TASKS:
            raise UserError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS)}")
        if self.max_trials is not None and self.max_trials < 1:
            raise UserError("--max-trials must be at least 1")
        if self.max_epochs is not None and self.max_epochs < 1:
            raise UserError("--max-epochs must be at least 1")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise UserError("--time-budget must be a positive number of seconds")
        if not (self.device in ("auto", "cpu", "gpu") or (self.device.startswith("gpu:")
                                                          and self.device[4:].isdigit())):
            raise UserError(f"unknown device {self.device!r}; use auto, cpu, gpu or gpu:N")
        if not 1 <= self.workers <= 64:
            raise UserError("--workers must be between 1 and 64")
        if self.chief_address and not _HOST.fullmatch(self.chief_address):
            raise UserError(f"chief address {self.chief_address!r} must be a host name or an IPv4 address "
                            "such as 0.0.0.0 or 192.168.1.20, without a port (the port is a separate setting)")
        if not 0 <= self.chief_port <= 65535:
            raise UserError(f"the chief's port must be between 0 (any free port) and 65535, got {self.chief_port}")
        if self.refits is not None and not 1 <= self.refits <= 20:
            raise UserError(f"--refits must be between 1 and 20, got {self.refits}")
        if not 0 <= self.cv_folds <= MAX_CV_FOLDS:
            raise UserError(f"--cv-folds must be 0 or 1 (one validation split) to {MAX_CV_FOLDS}, got {self.cv_folds}")
        if not 0 <= self.finalists <= MAX_FINALISTS:
            raise UserError(f"--finalists must be 0 (the validation split's best) to {MAX_FINALISTS}, got {self.finalists}")
        if self.horizon < 1 or self.stride < 1 or (self.lookback is not None and self.lookback < 1):
            raise UserError("--horizon, --lookback and --stride must be at least 1")
        if self.lookback_max is not None and (self.lookback is None or self.lookback_max < self.lookback):
            raise UserError(f"a lookback range needs its smallest value first (--lookback MIN:MAX), got "
                            f"{self.lookback}:{self.lookback_max}")
        if not 1 <= self.ngrams <= MAX_NGRAMS:
            raise UserError(f"--ngrams must be 1 (words only) to {MAX_NGRAMS} (word n-grams up to that length), "
                            f"got {self.ngrams}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise UserError(f"--max-tokens must be at least 1, got {self.max_tokens}")
        if not 0 <= self.char_ngrams <= MAX_CHAR_NGRAMS:
            raise UserError(f"--char-ngrams must be 0 (none) to {MAX_CHAR_NGRAMS} (character n-grams of that "
                            f"length), got {self.char_ngrams}")
        if self.recycle_mb < 0:
            raise UserError("recycle_mb must be 0 (never) or a positive number of MB")
        if self.distribution not in ("none", "data-parallel"):
            raise UserError(f"unknown distribution {self.distribution!r}; use none or data-parallel")
        for name, kind in self.column_kinds.items():
            if kind not in ("numeric", "categorical", "text"):
                raise UserError(f"column '{name}': unknown kind {kind!r}; use numeric, categorical or text")
        if not 0 < self.validation_fraction < 0.9 or not 0 <= self.test_fraction < 0.9:
            raise UserError("validation and test fractions must be between 0 and 0.9")

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (tuples as lists)."""
        data = dataclasses.asdict(self)
        data["exclude_columns"] = list(self.exclude_columns)
        data["include_columns"] = list(self.include_columns)
        data["image_size"] = list(self.image_size)
        data["space"] = self.space if isinstance(self.space, str) else dict(self.space)
        data["extra"] = dict(self.extra)
        data["column_kinds"] = dict(self.column_kinds)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchConfig:
        """The inverse of :meth:`to_dict`; unknown keys (from other versions) are ignored.

        Raises:
            UserError: a value is out of range; TypeError: a required field is missing.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("exclude_columns", "include_columns", "image_size"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)

    def replace(self, **changes: Any) -> SearchConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        """This configuration as a versioned :class:`SearchDocument` (no data identity yet)."""
        return SearchDocument(self).to_json()

    @classmethod
    def from_json(cls, text: str, *, source: str = "search configuration") -> SearchConfig:
        """The configuration of a :class:`SearchDocument`'s JSON text.

        Raises:
            ProjectError: not such a document, from a newer version, or malformed (names ``source``).
        """
        return SearchDocument.from_json(text, source=source).config


def parse_lookback(text: str) -> tuple[int, int | None]:
    """``--lookback``'s value: ``"24"`` is ``(24, None)``, one lookback; ``"12:48"`` is ``(12, 48)``,
    a range the search tries (both ends at least 1, the smaller first).

    Raises:
        UserError: neither form, or a bad range (one line quoting the value).
    """
    low, sep, high = text.strip().partition(":")
    try:
        first, last = int(low), int(high) if sep else None
    except ValueError:
        raise UserError(f"--lookback {text!r}: give a number of steps (24) or a range MIN:MAX (12:48)") from None
    if first < 1 or (last is not None and last < first):
        raise UserError(f"--lookback {text!r}: steps must be at least 1 and a range's smallest value comes first")
    return first, last if last != first else None


@dataclass(frozen=True)
class SearchDocument:
    """The persisted form of one search: its configuration and what the chief prepared from it.

    Attributes:
        config: what the search was asked to do.
        data: the identity of the prepared data (``DataIdentity.to_dict()`` of
            :mod:`automl_studio.engine.data.identity`: file and split hashes, target, task,
            columns, ``fingerprint``); empty until the data has been prepared.
        space: the resolved search-space spec, once known.
        schema_version: the version the document was written with.
    """

    config: SearchConfig
    data: Mapping[str, Any] = field(default_factory=dict)
    space: Mapping[str, Any] | None = None
    schema_version: int = CONFIG_SCHEMA_VERSION

    @property
    def data_fingerprint(self) -> str:
        """The prepared data's fingerprint (``sha256:…``), or ``""`` before it was prepared."""
        return str(self.data.get("fingerprint") or "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready document; ``data`` and ``space`` only when known."""
        out: dict[str, Any] = {"schema_version": CONFIG_SCHEMA_VERSION, "app": APP,
                               "search": self.config.to_dict()}
        if self.data:
            out["data"] = dict(self.data)
        if self.space is not None:
            out["space"] = dict(self.space)
        return out

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "search configuration",
                  what: str = "search configuration") -> SearchDocument:
        """Reads a document of this or an older schema version.

        ``what`` names the kind of file in messages (``project file`` for the window's).

        Raises:
            ProjectError: not a document, written by a newer version, or malformed; the message
                names ``source`` (a file path) and the part at fault.
        """
        if not isinstance(data, dict):
            raise ProjectError(f"{source}: not an automl-studio {what}")
        legacy = data.get("schema_version") == 1 and "search" not in data and isinstance(data.get("config"), dict)
        if data.get("app") != APP and not legacy:
            raise ProjectError(f"{source}: not an automl-studio {what}")
        version = check_schema_version(data, newest=CONFIG_SCHEMA_VERSION, source=source, kind=what,
                                       error=ProjectError)
        search = data.get("config") if legacy else data.get("search")
        if not isinstance(search, dict) or not isinstance(search.get("data_path"), str) \
                or not isinstance(search.get("project_dir"), str):
            raise ProjectError(f"{source}: the {what} has no valid 'search' section")
        try:
            config = SearchConfig.from_dict(search)
        except TypeError as exc:
            raise ProjectError(f"{source}: the 'search' section is malformed ({exc})") from None
        except UserError as exc:
            raise ProjectError(f"{source}: {exc}") from None
        identity = data.get("data") or {}
        if legacy and data.get("fingerprint"):
            # Version 1 knew the file's bytes and the target/task asked for, not the split.
            identity = {"path": config.data_path, "file": data["fingerprint"]}
            if config.target is not None:
                identity["target"] = config.target
            if config.task != "auto":
                identity["task"] = config.task
        if not isinstance(identity, dict):
            raise ProjectError(f"{source}: the 'data' section is not an object")
        space = data.get("space")
        if space is not None and not isinstance(space, dict):
            raise ProjectError(f"{source}: the 'space' section is not an object")
        return cls(config, identity, space, version)

    @classmethod
    def from_json(cls, text: str, *, source: str = "search configuration") -> SearchDocument:
        """Parses :meth:`to_json` output; errors as :meth:`from_dict` (invalid JSON included)."""
        return cls.from_dict(parse_json_document(text, source=source, kind="search configuration",
                                                 error=ProjectError), source=source)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SearchDocument:
        """Reads the document at ``path``.

        Raises:
            ProjectError: the file is missing, unreadable or not a valid document (names ``path``).
        """
        data = read_json_document(path, kind="search configuration file", error=ProjectError,
                                  schema_version=CONFIG_SCHEMA_VERSION)
        return cls.from_dict(data, source=str(path))
