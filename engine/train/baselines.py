"""The baselines raced beside every search: the trivial model, a linear model and a random forest.

A network earns its keep only if it beats what needs no search at all. Three baselines are scored
on exactly the search's splits, with the search objective on the validation rows (so they compare
with every trial's score) and with the reported test metrics on the test rows:

* the trivial model: the training split's class shares (its most common class wins every row) or
  its mean, as scikit-learn's ``DummyClassifier(strategy="prior")`` / ``DummyRegressor()``;
* a linear model at scikit-learn's defaults: ``LogisticRegression`` (multinomial for more than two
  classes) or ``Ridge``, on the features the network gets (numeric columns standardised with the
  training statistics the model's ``Normalization`` layer holds, categorical columns one-hot, text as a bag of its token ids,
  pixels and sequences flattened, images scaled as the model's ``Rescaling`` does);
* a random forest at scikit-learn's defaults (``RandomForestClassifier`` or
  ``RandomForestRegressor``, 100 trees, ``random_state=0``) on the same features — what a person
  comparing the network with a scikit-learn pipeline tries first, and on many tables the one to
  beat (Grinsztajn, Oyallon & Varoquaux 2022, "Why do tree-based models still outperform deep
  learning on typical tabular data?"). Tables and feature arrays only: on images, sequences and
  text a forest of raw pixels or token ids says little.

All are fitted on the training split for the validation score and refitted on training +
validation for the test metrics, as the search's own refit and the trivial test baseline
(:func:`~automl_studio.engine.train.metrics.baseline_metrics`) are. :class:`BaselineRace` runs
this in a background thread of the search process, so the first trial does not wait for it;
:func:`race_note` is the one wording of the comparison (window, command line, report, model card).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from automl_studio.engine.core.events import BaselinesScored
from automl_studio.engine.data.features import PreparedData
from automl_studio.engine.train.metrics import classification_metrics, regression_metrics, roc_auc

MAX_FEATURES = 20_000  # wider inputs (large images) would make the linear fit slow and meaningless
MAX_CELLS = 20_000_000  # rows × features beyond which a fit no longer takes seconds on a laptop CPU
MAX_ITER = 1000  # LogisticRegression's lbfgs converges well within this on standardised features
# A forest's fit grows as rows × log(rows) × features^0.5 per tree; beyond these it no longer takes
# seconds on a laptop CPU, while the search trains beside it.
FOREST_MAX_ROWS = 50_000
FOREST_MAX_FEATURES = 500
FOREST_INPUTS = ("table", "features")  # PreparedData.input_kind values a forest is raced on
# forest_skipped of baselines taken before the forest was done: a resumed search races it again.
FOREST_UNFINISHED = "it was still being fitted when the search ended"


def one_hot(codes: Any, tokens: int) -> np.ndarray:
    """Categorical codes (rows × columns, disjoint code ranges) one-hot over ``tokens`` codes in one
    float32 matrix (rows × tokens), as ``CategoryEncoding(tokens, output_mode="multi_hot")`` gives
    them; a code beyond the range counts as the last."""
    values = np.asarray(codes).astype(np.int64)
    rows = len(values)
    encoded = np.zeros((rows, max(tokens, 1)), dtype=np.float32)
    values = values.reshape(rows, -1)
    for column in range(values.shape[1]):
        encoded[np.arange(rows), np.clip(values[:, column], 0, encoded.shape[1] - 1)] = 1.0
    return encoded


def linear_features(x: Mapping[str, Any], prepared: PreparedData) -> np.ndarray:
    """The rows of ``x`` (a split's model inputs, by source) as one float matrix (rows × features).

    Numeric columns are standardised with the training statistics of the data signature,
    categorical tokens one-hot encoded (``signature.categorical_tokens`` columns), images scaled
    by ``signature.image_scale`` and flattened, sequences flattened.
    """
    sig = prepared.signature
    blocks: list[np.ndarray] = []
    for source in sorted(x):
        values = np.asarray(x[source])
        rows = len(values)
        if source == "numeric":
            mean = np.asarray(sig.numeric_mean, dtype=np.float64)
            scale = np.sqrt(np.asarray(sig.numeric_variance, dtype=np.float64))
            blocks.append(np.nan_to_num((values.astype(np.float64) - mean) / scale))
        elif source == "categorical":
            blocks.append(one_hot(values, sig.categorical_tokens))
        elif source == "text":  # token ids, 0 pads: a bag of words
            width = max(int(getattr(sig, "text_tokens", 0)), int(values.max(initial=0)) + 1)
            bag = np.zeros((rows, width), dtype=np.float32)
            ids = values.astype(np.int64).reshape(rows, -1)
            np.add.at(bag, (np.repeat(np.arange(rows), ids.shape[1]), ids.reshape(-1)), 1.0)
            bag[:, 0] = 0.0
            blocks.append(bag)
        elif source == "image":
            blocks.append(values.reshape(rows, -1).astype(np.float32) * np.float32(sig.image_scale))
        else:
            blocks.append(values.reshape(rows, -1).astype(np.float32))
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((0, 0))


def feature_count(prepared: PreparedData) -> int:
    """How many columns :func:`linear_features` gives for ``prepared``'s inputs."""
    sig = prepared.signature
    total = 0
    for source, shape in sig.inputs.items():
        if source == "categorical":
            total += max(sig.categorical_tokens, 1)
        elif source == "text":
            total += max(int(getattr(sig, "text_tokens", 0)), 1)
        else:
            total += int(np.prod(shape))
    return total


def objective_value(objective: str, y_true: np.ndarray, output: np.ndarray, n_classes: int) -> float | None:
    """The objective's value (``val_loss``, ``val_accuracy``, ``val_auc``, ``val_rmse``,
    ``val_mae``) of a model's ``output`` on rows with targets ``y_true``, as Keras logs it.

    ``output`` is class probabilities (rows × ``n_classes``) for classification (``n_classes``
    > 0) and predicted values for regression. The loss is the network's: cross-entropy for
    classes, mean squared error for regression. ``None`` when the value is undefined (a ROC AUC
    on rows of one class).
    """
    if n_classes and objective.removeprefix("val_") == "auc":
        proba = np.asarray(output, dtype=np.float64)
        return roc_auc(np.asarray(y_true).astype(int).reshape(-1), proba[:, 1]) if proba.shape[1] == 2 else None
    rows = objective_rows(objective, y_true, output, n_classes)
    if rows is None:
        return None
    return float(np.sqrt(np.mean(rows))) if objective.removeprefix("val_") == "rmse" else float(np.mean(rows))


def objective_rows(objective: str, y_true: np.ndarray, output: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Each row's term of :func:`objective_value` (rows): its cross-entropy (Keras' clipping),
    1/0 for right/wrong, squared error (``val_loss``, ``val_rmse``: the root of their mean) or
    absolute error; the objective is their mean. ``None`` for a ROC AUC, which has no rows' terms,
    or an objective not listed there."""
    name = objective.removeprefix("val_")
    if n_classes:
        y = np.asarray(y_true).astype(int).reshape(-1)
        proba = np.clip(np.asarray(output, dtype=np.float64), 1e-7, 1 - 1e-7)  # Keras' epsilon
        if name == "loss":
            return -np.log(proba[np.arange(len(y)), y])
        if name == "accuracy":
            return (proba.argmax(axis=1) == y).astype(np.float64)
        return None
    err = np.asarray(output, dtype=np.float64).reshape(-1) - np.asarray(y_true, dtype=np.float64).reshape(-1)
    return {"loss": err ** 2, "rmse": err ** 2, "mae": np.abs(err)}.get(name)


def _fit_linear(task: str, features: np.ndarray, y: np.ndarray, n_classes: int) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "classification":
        return LogisticRegression(max_iter=MAX_ITER).fit(features, y)
    return Ridge().fit(features, y)


def estimator_output(model: Any, task: str, features: np.ndarray, n_classes: int) -> np.ndarray:
    """A fitted scikit-learn estimator's class probabilities over all ``n_classes`` (rows ×
    n_classes; a class missing from the fitting rows gets 0), or its predicted values (rows)."""
    if task != "classification":
        return np.asarray(model.predict(features), dtype=np.float64)
    full = np.zeros((len(features), n_classes))
    full[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(features)
    return full


def _fit_forest(task: str, features: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kind = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return kind(random_state=0, n_jobs=1).fit(features, y)  # one core: the search trains on the others


def _forest_skip(prepared: PreparedData, width: int, rows: int) -> str:
    """Why no forest is raced on ``prepared`` ("" when one is)."""
    if prepared.input_kind not in FOREST_INPUTS or "text" in prepared.signature.inputs:
        return ("not raced on a table with a text column" if "text" in prepared.signature.inputs
                else f"not raced on {prepared.input_kind}")
    if width > FOREST_MAX_FEATURES:
        return f"the inputs have {width:,} features (more than {FOREST_MAX_FEATURES:,})"
    if rows > FOREST_MAX_ROWS:
        return f"{rows:,} rows (more than {FOREST_MAX_ROWS:,}) is too many to fit a forest in seconds"
    return ""


def _prior(y: np.ndarray, n_classes: int, rows: int) -> np.ndarray:
    counts = np.bincount(np.asarray(y).astype(int).reshape(-1), minlength=n_classes).astype(np.float64)
    return np.tile(counts / max(counts.sum(), 1.0), (rows, 1))


def _test_metrics(task: str, y: np.ndarray, output: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    if task != "classification":
        return regression_metrics(y, output)
    metrics = classification_metrics(y, output, class_names)
    for key in ("confusion_matrix", "class_names"):
        metrics.pop(key, None)
    return metrics


def _targets(task: str, y: np.ndarray) -> np.ndarray:
    """Class indices (rows), or values: rows, or rows × steps for a forecast of several steps
    ahead (scikit-learn's ``Ridge`` fits one line per step)."""
    if task == "classification":
        return np.asarray(y).astype(int).reshape(-1)
    values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    return values[:, 0] if values.shape[1] == 1 else values


def score_baselines(prepared: PreparedData, objective: str, direction: str,
                    on_partial: Callable[[BaselinesScored], None] | None = None) -> BaselinesScored:
    """Fits and scores the baselines on ``prepared``'s splits (see the module's docstring).

    The linear model is skipped, with the reason in ``skipped``, when the inputs are wider than
    :data:`MAX_FEATURES` or the training table larger than :data:`MAX_CELLS`, or when
    scikit-learn cannot fit it (one class in the training split). The random forest is skipped,
    with the reason in ``forest_skipped``, for inputs other than :data:`FOREST_INPUTS`, text, more
    than :data:`FOREST_MAX_FEATURES` features or :data:`FOREST_MAX_ROWS` rows, and one class.
    """
    started = time.monotonic()
    task = prepared.signature.task
    n_classes = prepared.signature.n_classes
    train, validation, test = prepared.train, prepared.validation, prepared.test
    y_train, y_validation = _targets(task, train.y), _targets(task, validation.y)
    y_seen = np.concatenate([y_train, y_validation])
    if task == "classification":
        trivial = "the majority class"
        trivial_output = _prior(y_train, n_classes, len(validation))
    else:
        trivial = "the training mean"
        mean = y_train.mean(axis=0) if len(y_train) else np.zeros(y_train.shape[1:])
        trivial_output = np.tile(mean, (len(validation),) + (1,) * (y_train.ndim - 1))
    trivial_score = objective_value(objective, validation.y, trivial_output, n_classes)
    linear = "LogisticRegression" if task == "classification" else "Ridge"
    width = feature_count(prepared)
    skipped, linear_score, linear_test = "", None, {}
    if width > MAX_FEATURES:
        skipped = (f"the inputs have {width:,} features (more than {MAX_FEATURES:,}), too many for a quick "
                   "linear model")
    elif width * (len(train) + len(validation)) > MAX_CELLS:
        skipped = (f"{len(train) + len(validation):,} rows × {width:,} features is too large to fit a linear "
                   "model in seconds")
    elif task == "classification" and len(np.unique(y_train)) < 2:
        skipped = "the training split holds one class only"
    else:
        features = linear_features(train.x, prepared)
        model = _fit_linear(task, features, y_train, n_classes)
        linear_score = objective_value(objective, validation.y,
                                       estimator_output(model, task, linear_features(validation.x, prepared),
                                                      n_classes), n_classes)
        if len(test):
            seen = np.concatenate([features, linear_features(validation.x, prepared)])
            refit = _fit_linear(task, seen, y_seen, n_classes)
            linear_test = _test_metrics(task, test.y, estimator_output(refit, task, linear_features(test.x, prepared),
                                                                     n_classes), tuple(prepared.class_names))
    forest = "RandomForestClassifier" if task == "classification" else "RandomForestRegressor"
    forest_skipped = _forest_skip(prepared, width, len(train) + len(validation))
    if not forest_skipped and task == "classification" and len(np.unique(y_train)) < 2:
        forest_skipped = "the training split holds one class only"
    if on_partial is not None and not forest_skipped:  # what is known while the forest grows
        on_partial(BaselinesScored(
            objective=objective, direction=direction, trivial=trivial, trivial_score=trivial_score, linear=linear,
            linear_score=linear_score, linear_test_metrics=linear_test, skipped=skipped,
            seconds=round(time.monotonic() - started, 3), forest=forest, forest_skipped=FOREST_UNFINISHED))
    forest_score, forest_test = None, {}
    if not forest_skipped:
        features = linear_features(train.x, prepared)
        held = linear_features(validation.x, prepared)
        model = _fit_forest(task, features, y_train)
        forest_score = objective_value(objective, validation.y, estimator_output(model, task, held, n_classes),
                                       n_classes)
        if len(test):
            refit = _fit_forest(task, np.concatenate([features, held]), y_seen)
            forest_test = _test_metrics(task, test.y, estimator_output(refit, task, linear_features(test.x, prepared),
                                                                     n_classes), tuple(prepared.class_names))
    return BaselinesScored(objective=objective, direction=direction, trivial=trivial, trivial_score=trivial_score,
                           linear=linear, linear_score=linear_score, linear_test_metrics=linear_test,
                           skipped=skipped, seconds=round(time.monotonic() - started, 3), forest=forest,
                           forest_score=forest_score, forest_test_metrics=forest_test,
                           forest_skipped=forest_skipped)


class BaselineRace:
    """:func:`score_baselines` in a daemon thread, started at once; :meth:`result` collects it.

    The thread only computes: its event is sent by whoever calls :meth:`result`, on that
    caller's thread, as every listener expects.
    """

    def __init__(self, prepared: PreparedData, objective: str, direction: str, *,
                 candidate: Callable[[PreparedData, str], Any] | None = None,
                 scored: BaselinesScored | None = None) -> None:
        self._result: BaselinesScored | None = None
        self._partial: BaselinesScored | None = None  # the linear and trivial ones, before the forest
        self._error: str = ""
        # With ``candidate`` (train.forest.prepared_candidate), once the baselines are scored: its
        # answer for these data and objective (the forest that may be exported instead of the
        # network), or why there is none. With ``scored`` (a resumed search's baselines, already
        # sent), only the candidate is fitted, where that event or the data's size do not skip it.
        self.candidate: Any = None
        self.candidate_error = ""
        self.candidate_wanted = candidate is not None
        self._scored = scored
        self._thread = threading.Thread(target=self._run, args=(prepared, objective, direction, candidate),
                                        name="baselines", daemon=True)
        self._thread.start()

    def _run(self, prepared: PreparedData, objective: str, direction: str,
             candidate: Callable[[PreparedData, str], Any] | None) -> None:
        try:
            self._result = self._scored or score_baselines(prepared, objective, direction,
                                                           on_partial=self._keep_partial)
        except (ValueError, MemoryError, ArithmeticError) as exc:  # scikit-learn's refusals; never the search's end
            self._error = f"the baselines could not be scored ({exc})"
            return
        # A resumed search's event may come from a version without the forest's size limits.
        skipped = self._result.forest_skipped or (self._scored is not None and _forest_skip(
            prepared, feature_count(prepared), len(prepared.train) + len(prepared.validation)))
        if candidate is not None and not skipped:
            try:
                self.candidate = candidate(prepared, objective)
            except (ValueError, MemoryError, ArithmeticError) as exc:
                self.candidate_error = f"no forest candidate ({exc})"

    @property
    def candidate_pending(self) -> bool:
        """Whether the baselines or the forest candidate are still being fitted."""
        return self._thread.is_alive()

    def candidate_result(self, timeout: float) -> Any:
        """The forest candidate (a :class:`~automl_studio.engine.train.forest.ForestCandidate`) once
        fitted, waiting up to ``timeout`` seconds; None while it is still being fitted or where there is none."""
        self._thread.join(max(timeout, 0.0))
        return self.candidate

    def _keep_partial(self, scored: BaselinesScored) -> None:
        self._partial = scored

    def result(self, timeout: float, *, final: bool = False) -> BaselinesScored | str | None:
        """The scored baselines once done (waiting up to ``timeout`` seconds), the reason they
        failed as a string, or ``None`` while they are still being scored — except that a
        ``final`` call takes the linear and trivial baselines without the forest still being
        fitted (``forest_skipped`` says so) rather than nothing."""
        self._thread.join(max(timeout, 0.0))
        if self._result is not None:  # the forest candidate may still be growing
            return self._result
        if self._thread.is_alive():
            return self._partial if final else None
        return self._error


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) else None


def and_list(items: list[str]) -> str:
    """The items as words: ``a``, ``a and b``, ``a, b and c`` (``items`` must not be empty)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def race_note(baselines: Mapping[str, Any], network_score: float | None, *, forest_exported: bool = False) -> str:
    """The network against its baselines, in one or two plain sentences (``""``: nothing to say).

    ``baselines`` is a :class:`~automl_studio.engine.core.events.BaselinesScored` as a dict
    (``SearchFinished.baselines``, or ``to_dict()`` of the event); ``network_score`` the best
    trial's value of the same validation objective. E.g. "The network (val_accuracy 0.910) beats
    the linear model (0.880), a random forest (0.900) and the majority class (0.340) on the
    validation split." When a baseline scores as well or better, the sentence names the strongest
    such baseline, says so and what to consider.

    ``forest_exported``: the exported model is the search's own forest (``SearchFinished.forest``), so
    the sentence says so instead of advising to consider one.
    """
    objective = str(baselines.get("objective") or "")
    if not objective:
        return ""
    maximize = baselines.get("direction") == "max"
    trivial, trivial_score = str(baselines.get("trivial") or "the trivial baseline"), _number(
        baselines.get("trivial_score"))
    linear_score = _number(baselines.get("linear_score"))
    forest_score = _number(baselines.get("forest_score"))
    named = [(name, score) for name, score in (("the linear model", linear_score), ("a random forest", forest_score),
                                               (trivial, trivial_score)) if score is not None]
    skipped = str(baselines.get("skipped") or "")
    forest_skipped = str(baselines.get("forest_skipped") or "")
    why_no_linear = "".join(f" (no {name}: {why})" for name, why in (("linear model", skipped),
                                                                     ("random forest", forest_skipped)) if why)
    if network_score is None or not math.isfinite(network_score):
        if not named:
            return ""
        scores = and_list([f"{name} {score:.3f}" for name, score in named])
        return f"Baselines on the validation split ({objective}): {scores}{why_no_linear}."

    def better(a: float, b: float) -> bool:
        return a > b if maximize else a < b

    beaten = [(name, score) for name, score in named if better(network_score, score)]
    unbeaten = [(name, score) for name, score in named if not better(network_score, score)]
    network = f"The network ({objective} {network_score:.3f})"
    if not unbeaten:
        if not beaten:
            return ""
        scores = and_list([f"{name} ({score:.3f})" for name, score in beaten])
        exported = (" Still, the search's own random forest, compiled into Keras layers, is the exported model: "
                    "after the search it was chosen over the networks." if forest_exported else "")
        return f"{network} beats {scores} on the validation split{why_no_linear}.{exported}"
    lead_name, lead_score = unbeaten[0]
    for name, score in unbeaten[1:]:  # the strongest baseline leads the sentence
        if better(score, lead_score):
            lead_name, lead_score = name, score
    subject = lead_name[0].upper() + lead_name[1:]
    text = f"{subject} ({lead_score:.3f}) scores as well as or better than the best network ({objective} " \
           f"{network_score:.3f}) on the validation split"
    if lead_name != "a random forest":
        text += ", so the network does not earn its keep yet"
    if lead_name == "the linear model":
        text += (f" — consider the linear model ({baselines.get('linear') or 'scikit-learn'}) itself, or search "
                 "longer, with more epochs, other networks or more data")
    elif lead_name == "a random forest" and forest_exported:
        text += " — so a forest, compiled into Keras layers, is the exported model"
    elif lead_name == "a random forest":
        text += (f" — on this table a forest at scikit-learn's defaults ({baselines.get('forest') or 'scikit-learn'}) "
                 "finds what the networks tried so far do not; search longer or with wider networks, or consider "
                 "the forest itself")
    else:
        text += " — it learnt nothing the class counts or the mean did not already say; search longer, " \
                "check the learning rate, or add data"
    others = [f"{name} scores {score:.3f}" for name, score in named if name != lead_name]
    return text + (f" ({'; '.join(others)})" if others else "") + f"{why_no_linear}."
