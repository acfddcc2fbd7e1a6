"""From a profiled dataset to the arrays a model eats, and back for prediction.

:class:`FeatureSchema` is the part of preprocessing that cannot live in a legacy ``.h5`` model:
imputing missing numbers (with a missing flag) and turning category strings into integer codes.
It is fitted on the training split only, written into the exported model's metadata, and applied
again by ``predict``. What *can* live in the model does: normalisation (mean/variance from the
training split) and the category encoding (one-hot or embedding over the codes).

Model inputs are a dict keyed by source: ``numeric`` (float32, N×F), ``categorical`` (int32 N×C;
code 0 of every column means missing, unseen or rare, and columns use disjoint code ranges so one
encoding layer serves them all), ``text`` (int32 N×L token ids of every text column, side by
side; see :mod:`.text`), ``image`` (N×H×W×C) or ``sequence`` (N×T×F).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError
from automl_studio.engine.data.csv_format import to_numbers
from automl_studio.engine.data.dataset import Dataset
from automl_studio.engine.data.dates import DateFeature
from automl_studio.engine.data.profile import (
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    TEXT,
    DatasetProfile,
    dropped_rows_message,
    label_text,
    row_number,
)
from automl_studio.engine.data.signature import QUANTILE_STEPS, DataSignature
from automl_studio.engine.data.text import (
    TextFeature,
    TextOptions,
    TokenStatistics,
    token_statistics,
    words,
)
from automl_studio.engine.data.timeseries import ForecastOptions, prepare_forecast


@dataclass(frozen=True)
class NumericFeature:
    """A numeric column: the value that fills a gap, and whether a missing flag follows it."""

    name: str
    fill: float
    flag: bool


MANY_LEVELS = 10
"""A categorical column with more levels than this in its training rows is a many-level one: the
tabular template searches a learned embedding for it beside one-hot codes (``space.templates``)."""

RARE_LEVEL_ROWS = 3
"""Levels seen in fewer training rows than this share the column's code for missing and unseen
values, as scikit-learn's ``OneHotEncoder(min_frequency=3, handle_unknown="infrequent_if_exist")``
groups them: a weight learnt from one or two rows is noise, and the shared code, trained on them,
then stands for the values ``predict`` meets that training never saw (an integer column of a few
codes with a stray value, a make of car sold once). Not where every level is rare: a tiny table
keeps its levels."""


@dataclass(frozen=True)
class CategoricalFeature:
    """A categorical column: its vocabulary (codes ``offset+1…``; ``offset`` means missing, unseen
    or rare) and its ``rare`` levels (seen in training, too seldom for a code of their own)."""

    name: str
    vocabulary: tuple[str, ...]
    offset: int
    rare: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureSchema:
    """How table columns become model inputs; JSON-serialisable into the exported model."""

    numeric: tuple[NumericFeature, ...] = ()
    categorical: tuple[CategoricalFeature, ...] = ()
    text: tuple[TextFeature, ...] = ()
    # Date columns, expanded into calendar parts that follow the numeric columns in ``numeric``.
    dates: tuple[DateFeature, ...] = ()

    @property
    def text_tokens(self) -> int:
        """The text embedding's input size: padding id 0 plus every text column's ids."""
        return 1 + sum(t.ids for t in self.text) if self.text else 0

    @property
    def tokens(self) -> int:
        return sum(len(c.vocabulary) + 1 for c in self.categorical)

    @property
    def most_levels(self) -> int:
        """Codes of the categorical column with the most, rare levels bucketed as one (its
        levels that keep a code, plus one where it has rare ones); 0 without any."""
        return max((len(c.vocabulary) + bool(c.rare) for c in self.categorical), default=0)

    @property
    def numeric_width(self) -> int:
        return len(self.numeric) + sum(f.flag for f in self.numeric) + sum(d.width for d in self.dates)

    @property
    def columns(self) -> list[str]:
        return ([f.name for f in self.numeric] + [d.name for d in self.dates]
                + [c.name for c in self.categorical] + [t.name for t in self.text])

    @classmethod
    def fit(cls, frame: Any, profile: DatasetProfile, text_options: TextOptions | None = None) -> FeatureSchema:
        """Learns fills, vocabularies and token rules from ``frame`` (the training rows); text
        columns are tokenized as ``text_options`` say (None: words, :data:`~.text.MAX_TOKENS`)."""
        options = text_options or TextOptions()
        numeric, categorical, text, dates = [], [], [], []
        offset = 0
        text_offset = 1  # id 0 pads texts
        for col in profile.feature_columns:
            series = frame[col.name]
            if col.kind == NUMERIC:
                values = _to_numeric(series)
                fill = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
                numeric.append(NumericFeature(col.name, fill, bool(np.isnan(values).any()
                                                                   or col.missing > 0)))
            elif col.kind == CATEGORICAL:
                counts = series.dropna().map(label_text).value_counts()
                rare = tuple(sorted(str(v) for v in counts.index[counts < RARE_LEVEL_ROWS]))
                if len(rare) == len(counts):
                    rare = ()
                vocab = tuple(sorted(str(v) for v in counts.index if counts[v] >= RARE_LEVEL_ROWS or not rare))
                categorical.append(CategoricalFeature(col.name, vocab, offset, rare))
                offset += len(vocab) + 1
            elif col.kind == TEXT:
                texts = [v for v in series.tolist() if isinstance(v, str)]
                feature = TextFeature.fit(col.name, texts, text_offset, ngrams=options.ngrams,
                                          max_tokens=options.max_tokens, char_ngrams=options.char_ngrams)
                if not feature.vocabulary:
                    raise DataError(f"{profile.path}: text column '{col.name}' has no words in the training rows "
                                    "(empty or punctuation only); exclude it or treat it as categorical")
                text.append(feature)
                text_offset += feature.ids
            elif col.kind == DATETIME:
                dates.append(DateFeature.fit(col.name, series))
        return cls(tuple(numeric), tuple(categorical), tuple(text), tuple(dates))

    def transform(self, frame: Any, *, source: str = "data") -> dict[str, np.ndarray]:
        """Applies the schema to a DataFrame with (at least) the schema's columns."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(f"{source}: missing column(s) the model needs: {', '.join(missing)}")
        out: dict[str, np.ndarray] = {}
        n = len(frame)
        if self.numeric or self.dates:
            # Filled column by column into one float32 block: a copy per column, not per table.
            numeric = np.empty((n, self.numeric_width), dtype=np.float32)
            j = 0
            for f in self.numeric:
                values = _to_numeric(frame[f.name])
                gaps = ~np.isfinite(values)
                numeric[:, j] = np.where(gaps, f.fill, values)
                j += 1
                if f.flag:
                    numeric[:, j] = gaps
                    j += 1
            for d in self.dates:
                numeric[:, j:j + d.width] = d.transform(frame[d.name])
                j += d.width
            out["numeric"] = numeric
        if self.categorical:
            codes_block = np.empty((n, len(self.categorical)), dtype=np.int32)
            for j, c in enumerate(self.categorical):
                lookup = {v: i + 1 for i, v in enumerate(c.vocabulary)}
                codes = frame[c.name].map(lambda v, lk=lookup: lk.get(label_text(v), 0)
                                          if v == v and v is not None else 0)
                codes_block[:, j] = codes.to_numpy(dtype=np.int64) + c.offset
            out["categorical"] = codes_block
        if self.text:
            out["text"] = np.concatenate([t.encode(frame[t.name].tolist()) for t in self.text], axis=1)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": [{"name": f.name, "fill": f.fill, "missing_flag": f.flag} for f in self.numeric],
            "categorical": [{"name": c.name, "vocabulary": list(c.vocabulary), "offset": c.offset,
                             **({"rare": list(c.rare)} if c.rare else {})}
                            for c in self.categorical],
            **({"text": [t.to_dict() for t in self.text]} if self.text else {}),
            **({"dates": [d.to_dict() for d in self.dates]} if self.dates else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSchema:
        return cls(
            tuple(NumericFeature(f["name"], float(f["fill"]), bool(f["missing_flag"]))
                  for f in data.get("numeric", [])),
            tuple(CategoricalFeature(c["name"], tuple(c["vocabulary"]), int(c["offset"]),
                                     tuple(c.get("rare", ())))
                  for c in data.get("categorical", [])),
            tuple(TextFeature.from_dict(t) for t in data.get("text", [])),
            tuple(DateFeature.from_dict(d) for d in data.get("dates", [])),
        )


def text_note(feature: TextFeature, validation: list[Any]) -> str:
    """What the tokenizer learnt of a text column, and how much of the validation text it knows."""
    grams = f" (words and word n-grams up to {feature.ngrams})" if feature.ngrams > 1 else ""
    if feature.char_ngrams:
        grams = (grams[:-1] + ", " if grams else " (words, ") + f"character {feature.char_ngrams}-grams)"
    return (f"text column '{feature.name}': {len(feature.vocabulary)} tokens{grams} learnt from the training rows, "
            f"sequences of {feature.length} tokens (95th percentile of lengths); "
            f"{feature.out_of_vocabulary_rate(validation):.0%} of validation tokens out of vocabulary")


def rare_levels_note(feature: CategoricalFeature) -> str:
    """``column 'make': 14 of 37 levels were seen in fewer than 3 training rows (…): they share one
    code with missing and unseen values`` (see :data:`RARE_LEVEL_ROWS`)."""
    shown = ", ".join(f"'{v}'" for v in feature.rare[:4]) + (", …" if len(feature.rare) > 4 else "")
    levels = len(feature.rare) + len(feature.vocabulary)
    return (f"column '{feature.name}': {len(feature.rare)} of {levels} levels were seen in fewer than "
            f"{RARE_LEVEL_ROWS} training rows ({shown}): they share one code with missing and unseen values")


def wordless_rows_note(dataset: Dataset, name: str, target: str) -> str:
    """``; 3 rows have no words (rows 5, 9, 12): each reads as one unknown word`` for the
    rows of text column ``name`` (with a ``target`` value) that are empty, missing or punctuation
    only; ``""`` when every row has a word."""
    kept = dataset.frame[target].notna().to_numpy()
    empty = [i for i, (value, keep) in enumerate(zip(dataset.frame[name], kept, strict=True))
             if keep and not (isinstance(value, str) and words(value))]
    if not empty:
        return ""
    shown = ", ".join(str(row_number(dataset, i)) for i in empty[:5]) + (", …" if len(empty) > 5 else "")
    noun = "row has" if len(empty) == 1 else "rows have"
    return f"; {len(empty)} {noun} no words (row{'s' if len(empty) > 1 else ''} {shown}): each reads as one unknown word"


def _to_numeric(series: Any) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return to_numbers(series).to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class Split:
    """One split of the data: model inputs ``x`` (dict by source) and targets ``y``."""

    x: Mapping[str, np.ndarray]
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class PreparedData:
    """Everything the search trains on, plus what export needs to describe the model."""

    train: Split
    validation: Split
    test: Split
    signature: DataSignature
    profile: DatasetProfile
    schema: FeatureSchema | None
    class_names: tuple[str, ...]
    input_kind: str  # table, features, sequences, images
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The rows of train, validation and test (after rows without a target are dropped), so a
    # worker can prove it trains on its chief's split (see data.identity).
    split_indices: tuple[np.ndarray, ...] = ()
    # A forecast's ForecastSpec.to_dict() (data.timeseries): how raw history becomes windows.
    forecast: Mapping[str, Any] | None = None


def stratified_split(labels: np.ndarray | None, n: int, fractions: tuple[float, float],
                     seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train/validation/test indices; per class when ``labels`` are given.

    Every split gets at least one row of each class that has three or more; a class with fewer
    rows goes to training first.
    """
    rng = np.random.default_rng(seed)
    val_f, test_f = fractions
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == k) for k in np.unique(labels)]
    train, val, test = [], [], []
    for group in groups:
        group = rng.permutation(group)
        m = len(group)
        n_test = int(round(m * test_f)) if test_f > 0 else 0
        n_val = int(round(m * val_f))
        if m >= 3:
            n_val = max(n_val, 1)
            n_test = max(n_test, 1) if test_f > 0 else 0
        elif m == 2:
            n_val, n_test = 1, 0
        else:
            n_val, n_test = 0, 0
        n_test = min(n_test, max(m - n_val - 1, 0))
        test.append(group[:n_test])
        val.append(group[n_test:n_test + n_val])
        train.append(group[n_test + n_val:])
    return (rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val)),
            rng.permutation(np.concatenate(test)))


def encode_target(values: Any, task: str, class_names: tuple[str, ...]) -> np.ndarray:
    if task == "classification":
        lookup = {name: i for i, name in enumerate(class_names)}
        return np.array([lookup[label_text(v)] for v in values], dtype=np.int32)
    return np.asarray(values, dtype=np.float32)


def table_split(dataset: Dataset, profile: DatasetProfile, *, validation_fraction: float = 0.2,
                test_fraction: float = 0.2, seed: int = 1) -> tuple[Any, np.ndarray, tuple[np.ndarray, ...]]:
    """A table's rows with a target value (a new DataFrame, index 0…n-1), their encoded targets
    and the train/validation/test row indices into it: the split :func:`prepare_data` makes."""
    task = profile.task or "classification"
    frame = dataset.frame
    frame = frame[frame[profile.target].notna()].reset_index(drop=True)
    raw_y = frame[profile.target]
    if task == "regression":
        import pandas as pd
        raw_y = pd.to_numeric(raw_y, errors="coerce")
    y = encode_target(raw_y, task, profile.class_names)
    fractions = (validation_fraction, test_fraction)
    return frame, y, stratified_split(y if task == "classification" else None, len(y), fractions, seed)


def text_token_statistics(dataset: Dataset, profile: DatasetProfile, *, validation_fraction: float = 0.2,
                          test_fraction: float = 0.2, seed: int = 1,
                          text: TextOptions | None = None) -> tuple[TokenStatistics, ...]:
    """What a search with these settings feeds its model of each text column of a table: its
    vocabulary learnt from the training rows, token lengths with the n-grams, and the validation
    rows' out-of-vocabulary rate (:class:`~.text.TokenStatistics`; none without text columns)."""
    columns = [c.name for c in profile.feature_columns if c.kind == TEXT]
    if dataset.kind != "table" or not columns or profile.target is None:
        return ()
    frame, _, (tr, va, _) = table_split(dataset, profile, validation_fraction=validation_fraction,
                                        test_fraction=test_fraction, seed=seed)
    return tuple(token_statistics(name, frame[name].iloc[tr].tolist(), frame[name].iloc[va].tolist(), text)
                 for name in columns)


def prepare_data(dataset: Dataset, profile: DatasetProfile, *, validation_fraction: float = 0.2,
                 test_fraction: float = 0.2, seed: int = 1,
                 forecast: ForecastOptions | None = None, text: TextOptions | None = None) -> PreparedData:
    """Splits the data (stratified for classification) and builds the model inputs.

    The feature schema and normalisation statistics come from the training split only, so the
    test split is never seen before the final evaluation. With ``forecast``, a table becomes
    windows over time split chronologically (:func:`~.timeseries.prepare_forecast`). ``text``:
    how text columns are tokenized (n-grams, vocabulary size).
    """
    task = profile.task or "classification"
    class_names = profile.class_names
    notes = dataset.notes
    spec = None
    if forecast is not None:
        x_all, y, (tr, va, te), spec, more, first_rows = prepare_forecast(
            dataset, profile, forecast, validation_fraction=validation_fraction, test_fraction=test_fraction)
        task, class_names, schema, input_kind = "regression", (), None, "sequences"
        notes = (*notes, *more)
    elif dataset.kind == "table":
        if profile.dropped_target_rows:
            # Said again with the search's warnings (console, window, log): no row vanishes unseen.
            notes = (*notes, dropped_rows_message(dataset, dataset.frame[profile.target], str(profile.target)))
        frame, y, (tr, va, te) = table_split(dataset, profile, validation_fraction=validation_fraction,
                                             test_fraction=test_fraction, seed=seed)
        schema = FeatureSchema.fit(frame.iloc[tr], profile, text)
        x_all = schema.transform(frame, source=dataset.path)
        input_kind = "table"
        notes = (*notes, *(text_note(t, frame[t.name].iloc[va].tolist())
                           + wordless_rows_note(dataset, t.name, str(profile.target)) for t in schema.text))
        notes = (*notes, *(rare_levels_note(c) for c in schema.categorical if c.rare))
    else:
        assert dataset.x is not None and dataset.y is not None
        schema = None
        x = dataset.x
        if dataset.kind == "images" or x.ndim == 4:
            input_kind, source = "images", "image"
            if x.ndim == 3:
                x = x[..., None]
        elif x.ndim == 3:
            input_kind, source = "sequences", "sequence"
        else:
            input_kind, source = "features", "numeric"
        x_all = {source: x}
        if task == "classification":
            if dataset.class_names is not None:
                y = dataset.y.astype(np.int32)
            else:
                y = encode_target(dataset.y, task, class_names)
        else:
            y = dataset.y.astype(np.float32)
        tr, va, te = stratified_split(y if task == "classification" else None, len(y),
                                      (validation_fraction, test_fraction), seed)
    signature = _signature(x_all, tr, y, task, class_names, schema,
                           (spec.mean, tuple(v * v for v in spec.std)) if spec is not None else None,
                           forecast=spec is not None)
    if "image" in x_all and x_all["image"].dtype != np.uint8:
        x_all["image"] = x_all["image"].astype(np.float32)
    if "sequence" in x_all:
        x_all["sequence"] = x_all["sequence"].astype(np.float32)

    def take(idx: np.ndarray) -> Split:
        return Split({k: v.subset(idx) if hasattr(v, "subset") else v[idx] for k, v in x_all.items()}, y[idx])

    train, validation, test = take(tr), take(va), take(te)
    if len(train) < 2 or len(validation) < 1:
        raise DataError(f"{dataset.path}: too few rows ({len(y)}) to train and validate a model")
    return PreparedData(train, validation, test, signature, profile, schema, class_names,
                        input_kind, notes,
                        # A forecast's identity: the file rows its windows forecast from, so another
                        # time column, series, lookback or horizon is another search.
                        tuple(first_rows[s] for s in (tr, va, te)) if spec is not None else (tr, va, te),
                        spec.to_dict() if spec is not None else None)


def _signature(x_all: Mapping[str, np.ndarray], train_idx: np.ndarray, y: np.ndarray, task: str,
               class_names: tuple[str, ...], schema: FeatureSchema | None,
               sequence_stats: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
               forecast: bool = False) -> DataSignature:
    inputs = {k: tuple(int(d) for d in v.shape[1:]) for k, v in x_all.items()}
    mean: tuple[float, ...] = ()
    variance: tuple[float, ...] = ()
    quantiles: tuple[tuple[float, ...], ...] = ()
    if "numeric" in x_all:
        train = x_all["numeric"][train_idx].astype(np.float64)
        mean = tuple(float(m) for m in train.mean(axis=0))
        variance = tuple(float(max(v, 1e-12)) for v in train.var(axis=0))
        sample = train[::max(1, len(train) // 100_000)]  # a large table's quantiles: of 100k–200k rows
        grid = np.quantile(sample, np.linspace(0.0, 1.0, QUANTILE_STEPS + 1), axis=0) if len(train) else None
        quantiles = tuple(tuple(float(v) for v in grid[:, j]) for j in range(train.shape[1])) \
            if grid is not None else ()
    seq_mean: tuple[float, ...] = ()
    seq_variance: tuple[float, ...] = ()
    if sequence_stats is not None:
        seq_mean, seq_variance = sequence_stats
    elif "sequence" in x_all:
        # Per feature over every step of the training sequences, as tables are normalised.
        steps = np.asarray(x_all["sequence"][train_idx], dtype=np.float64)
        steps = steps.reshape(-1, steps.shape[-1])
        seq_mean = tuple(float(m) for m in steps.mean(axis=0))
        seq_variance = tuple(float(max(v, 1e-12)) for v in steps.var(axis=0))
    image_scale = 1.0
    if "image" in x_all:
        image = x_all["image"]
        image_scale = 1 / 255.0 if image.dtype == np.uint8 or float(np.max(image[:1000])) > 2.0 else 1.0
    target_mean, target_std = 0.0, 1.0
    log_mean = log_std = log_max = 0.0
    if task == "regression":
        target_mean = float(np.mean(y[train_idx]))
        target_std = float(np.std(y[train_idx])) or 1.0
        if y.ndim == 1 and len(train_idx) and float(np.min(y[train_idx])) >= 0 and not forecast:
            logs = np.log1p(y[train_idx].astype(np.float64))
            log_mean, log_std, log_max = float(np.mean(logs)), float(np.std(logs)), float(np.max(logs))
    return DataSignature(
        task=task, n_classes=len(class_names) if task == "classification" else 0, inputs=inputs,
        categorical_tokens=schema.tokens if schema else 0,
        categorical_levels=schema.most_levels if schema else 0,
        text_tokens=schema.text_tokens if schema else 0, numeric_mean=mean,
        numeric_variance=variance, image_scale=image_scale, target_mean=target_mean,
        target_std=target_std, train_rows=len(train_idx), sequence_mean=seq_mean,
        sequence_variance=tuple(max(v, 1e-12) for v in seq_variance),
        target_width=int(y.shape[1]) if task == "regression" and y.ndim == 2 else 1,
        log_target_mean=log_mean, log_target_std=log_std, log_target_max=log_max,
        change_std=_change_std(x_all["sequence"][train_idx], y[train_idx]) if forecast else 0.0,
        numeric_quantiles=quantiles,
    )


def _change_std(windows: np.ndarray, y: np.ndarray) -> float:
    """The standard deviation of a forecast's targets less each window's last target value."""
    last = np.asarray(windows[:, -1, 0], dtype=np.float64)
    change = np.asarray(y, dtype=np.float64).reshape(len(last), -1) - last[:, None]
    return float(np.std(change)) or 1.0
