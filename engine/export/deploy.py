"""Exporting the best model for deployment: SavedModel, TFLite and ONNX beside .h5/.keras.

Every file is first written into a hidden working folder beside the destination, reloaded in a
fresh process with its own runtime (:mod:`.roundtrip`) and compared with the app's model on
held-out rows; only when every format converted and passed are the files moved into place, with

* ``schema.json``: the model's inputs (names, dtypes, shapes), the preprocessing the app applies
  to a table before the model (from the ``.h5`` metadata: fills, vocabularies, codes), the output
  and the classes;
* ``reference.csv``: held-out test rows as the data file had them, with the app's predictions
  and probabilities, so a deployer can check that their pipeline reproduces them;
* ``MODEL_CARD.md``: the data, the metrics on the test split, the trivial baseline, intended use,
  limitations and the search settings (``resources/templates/model_card.md.j2``).

A format that cannot convert (a layer whose TensorFlow op has no ONNX or TFLite counterpart, a
converter that is not installed) raises :class:`ExportError` naming the format and the layer, and
nothing is written.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import ExportError
from automl_studio.engine.export.formats import (
    FORMATS,
    QUANTIZE,
    RUNTIMES,
    TOLERANCE,
    FormatCheck,
    missing_message,
)
from automl_studio.engine.train.forest_record import (
    all_rows_words,
    describe_forest,
    forest_words,
    trained_on,
)

SCHEMA_FILE = "schema.json"
REFERENCE_FILE = "reference.csv"
CARD_FILE = "MODEL_CARD.md"
CARD_TEMPLATE = "model_card.md.j2"
REFERENCE_ROWS = 20
_VERIFY_TIMEOUT_S = 600


def target_paths(folder: Path, stem: str) -> dict[str, Path]:
    """Where each format is written in ``folder``."""
    return {"h5": folder / f"{stem}.h5", "keras": folder / f"{stem}.keras",
            "savedmodel": folder / f"{stem}_savedmodel", "tflite": folder / f"{stem}.tflite",
            "onnx": folder / f"{stem}.onnx"}


def check_request(formats: Sequence[str], quantize: str) -> None:
    """Refuses unknown formats or quantisation, and formats whose converter is not installed.

    Raises:
        ExportError: before anything is written.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown export format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if quantize not in QUANTIZE:
        raise ExportError(f"unknown quantisation {quantize!r}; choose from {', '.join(QUANTIZE)}")
    for fmt in formats:
        message = missing_message(fmt)
        if message:
            raise ExportError(message + "; nothing was written")


# ------------------------------------------------------------------ layers named in op paths
def _all_layers(model: Any) -> list[Any]:
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)]


def layers_of_ops(model: Any, op_paths: Sequence[str]) -> list[str]:
    """``'name' (Class)`` of the model's layers whose TensorFlow ops appear in ``op_paths``.

    An op path is TensorFlow's scope, e.g. ``average_of_5_1/refit_1_1/categorical_encode_1/
    bincount/DenseBincount``; the innermost scope that is a layer's name (tracing adds ``_1``)
    names the layer.
    """
    by_name = {layer.name: layer for layer in _all_layers(model)}
    found: list[str] = []
    for op_path in op_paths:
        match = None
        for part in op_path.split("/"):
            for candidate in (part, re.sub(r"_\d+$", "", part)):
                if candidate in by_name:
                    match = by_name[candidate]
                    break
            if match is not None and part != op_path.split("/")[0] and match.__class__.__name__ != "Functional":
                break
        if match is not None:
            text = f"'{match.name}' ({match.__class__.__name__})"
            if text not in found:
                found.append(text)
    return found


# ------------------------------------------------------------------ converters
def _replace_erfc(proto: Any) -> None:
    """Rewrites each ``Erfc(x)`` node of an ONNX graph as ``1 - Erf(x)``, in place.

    Keras' exact GELU (``gelu`` in the search space's activations) computes
    ``0.5·x·erfc(-x/√2)``; tf2onnx copies TensorFlow's ``Erfc`` op through, but ONNX has only
    ``Erf``, so the checker refused the model ("No Op registered for Erfc"). ``CastLike`` gives
    the 1 the input's type (float16 or float32).
    """
    from onnx import TensorProto, helper

    nodes = []
    for node in proto.graph.node:
        if node.op_type != "Erfc" or node.domain not in ("", "ai.onnx"):
            nodes.append(node)
            continue
        base = node.name or node.output[0]
        one, typed, erf = f"{base}/one", f"{base}/one_typed", f"{base}/erf"
        nodes += [helper.make_node("Constant", [], [one], name=one,
                                   value=helper.make_tensor(one, TensorProto.FLOAT, [], [1.0])),
                  helper.make_node("CastLike", [one, node.input[0]], [typed], name=typed),
                  helper.make_node("Erf", [node.input[0]], [erf], name=erf),
                  helper.make_node("Sub", [typed, erf], [node.output[0]], name=base)]
    if len(nodes) != len(proto.graph.node):
        del proto.graph.node[:]
        proto.graph.node.extend(nodes)


def _serving_function(model: Any) -> Any:
    import tensorflow as tf

    signature = {t.name: tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=t.name) for t in model.inputs}

    @tf.function(input_signature=[signature])
    def serve(inputs: Any) -> Any:
        return model(inputs, training=False)

    return serve


def write_savedmodel(model: Any, path: Path) -> None:
    """TensorFlow Serving's layout: a ``serving_default`` signature with one input per name."""
    model.export(str(path), format="tf_saved_model", verbose=False)


def _tflite_friendly(model: Any) -> Any:
    """The model with multi-hot ``CategoryEncoding`` rebuilt from ops TFLite has built in.

    ``CategoryEncoding`` counts with ``tf.DenseBincount``, which the TFLite runtime lacks; for
    ``multi_hot``/``one_hot`` the same output is the largest of one-hot rows. Weights are copied.
    """
    import keras

    encodings = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.CategoryEncoding)
                 and layer.output_mode in ("multi_hot", "one_hot")]
    if not encodings:
        return model

    class OneHotMax(keras.layers.Layer):
        def __init__(self, num_tokens: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.num_tokens = num_tokens

        def call(self, codes: Any) -> Any:
            from keras import ops

            codes = ops.cast(codes, "int32")
            if len(codes.shape) == 1:
                codes = ops.expand_dims(codes, -1)
            return ops.max(ops.one_hot(codes, self.num_tokens, dtype=self.compute_dtype), axis=-2)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "num_tokens": self.num_tokens}

    def clone(layer: Any) -> Any:
        if isinstance(layer, keras.layers.CategoryEncoding) and layer.output_mode in ("multi_hot", "one_hot"):
            return OneHotMax(layer.num_tokens, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    twin = keras.models.clone_model(model, clone_function=clone, recursive=True)
    twin.set_weights(model.get_weights())
    return twin


def _select_ops(text: str) -> tuple[list[str], list[str]]:
    ops = sorted({m.strip() for line in re.findall(r"(?:TF Select|Flex) ops: ([^\n]+)", text)
                  for m in line.replace("Flex", "").split(",") if m.strip()})
    paths = re.findall(r'fused\["[A-Za-z0-9_]+:", "([^"@]+)@', text)
    return ops, paths


def write_tflite(model: Any, path: Path, quantize: str, workdir: Path) -> None:
    """Converts through a SavedModel with TFLite's built-in ops only (no Flex delegate needed).

    ``quantize``: ``none``, ``float16`` (weights in 16 bits) or ``dynamic`` (weights in 8 bits,
    dynamic-range quantisation).

    Raises:
        ExportError: a layer needs a TensorFlow op TFLite has no built-in kernel for (named).
    """
    import tensorflow as tf

    friendly = _tflite_friendly(model)
    source = workdir / "tflite_source"
    write_savedmodel(friendly, source)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(source))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flatbuffer = converter.convert()
    except Exception as exc:
        ops, paths = _select_ops(str(exc))
        layers = layers_of_ops(model, paths)
        if ops:
            raise ExportError(
                f"TFLite: cannot convert layer {', '.join(layers) or '(unknown)'}: it uses the TensorFlow "
                f"op{'s' if len(ops) > 1 else ''} {', '.join(ops)}, which the TFLite runtime has no built-in "
                "kernel for (it would need the Flex delegate); nothing was written") from None
        raise ExportError(f"TFLite: conversion failed ({exc.__class__.__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}); nothing was written") from None
    finally:
        shutil.rmtree(source, ignore_errors=True)
    path.write_bytes(flatbuffer)


def write_onnx(model: Any, path: Path) -> None:
    """Converts with tf2onnx from the frozen serving graph; inputs keep the model's input names.

    Keras' own ``model.export(format="onnx")`` leaves the normalisation statistics as graph inputs
    (they are captured constants tf2onnx does not freeze), so the graph is frozen here first.

    Raises:
        ExportError: a layer's TensorFlow op has no ONNX conversion (named).
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = _serving_function(model).get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf2onnx's uses of deprecated numpy and TF v1 names
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()  # tf2onnx still names np.object & co., gone in numpy 2
        import onnx
        import tf2onnx

        input_names = [t.name for t in frozen.inputs]
        output_names = [t.name for t in frozen.outputs]
        try:
            proto, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=input_names,
                                                      output_names=output_names)
        except Exception as exc:
            unsupported = re.findall(r"'([A-Za-z0-9]+)'", str(exc)) if "nsupported" in str(exc) else []
            paths = [n.name for n in graph_def.node if n.op in unsupported]
            layers = layers_of_ops(model, paths)
            detail = (f"layer {', '.join(layers)} uses TensorFlow op {', '.join(sorted(set(unsupported)))} "
                      "that tf2onnx cannot convert" if layers else f"{exc.__class__.__name__}: {exc}")
            raise ExportError(f"ONNX: cannot convert ({detail}); nothing was written") from None
    _replace_erfc(proto)
    unsupported_nodes = [n for n in proto.graph.node if n.domain not in ("", "ai.onnx", "ai.onnx.ml")]
    if unsupported_nodes:
        layers = layers_of_ops(model, [n.name for n in unsupported_nodes])
        ops = sorted({n.op_type for n in unsupported_nodes})
        raise ExportError(f"ONNX: cannot convert layer {', '.join(layers) or '(unknown)'}: TensorFlow op "
                          f"{', '.join(ops)} has no standard ONNX operator; nothing was written")
    rename = {t.name: t.name.split(":")[0] for t in frozen.inputs}
    rename.update({t.name: "output" for t in frozen.outputs})
    for value in [*proto.graph.input, *proto.graph.output]:
        value.name = rename.get(value.name, value.name)
    for node in proto.graph.node:
        node.input[:] = [rename.get(x, x) for x in node.input]
        node.output[:] = [rename.get(x, x) for x in node.output]
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


# ------------------------------------------------------------------ verification
def verify_exports(files: Mapping[str, Path], inputs: Mapping[str, np.ndarray], expected: np.ndarray,
                   task: str, quantize: str, workdir: Path) -> list[FormatCheck]:
    """Reloads each file in its own fresh process with its runtime and compares the outputs.

    The processes run at the same time. ``expected`` are the app's outputs for ``inputs``.

    Raises:
        ExportError: a fresh process could not load or run a file (its last error line).
    """
    inputs_path = workdir / "roundtrip_inputs.npz"
    np.savez(inputs_path, **{k: np.asarray(v) for k, v in inputs.items()})  # type: ignore[arg-type]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    running = []
    for fmt, path in files.items():
        out = workdir / f"roundtrip_{fmt}.npy"
        process = subprocess.Popen(
            [sys.executable, "-m", "automl_studio.engine.export.roundtrip", fmt, str(path), str(inputs_path),
             str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        running.append((fmt, path, out, process))
    checks = []
    for fmt, path, out, process in running:
        try:
            _, err = process.communicate(timeout=_VERIFY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise ExportError(f"{fmt}: the fresh process checking {path.name} did not finish in "
                              f"{_VERIFY_TIMEOUT_S} s") from None
        if process.returncode != 0 or not out.exists():
            last = [line for line in (err or "").splitlines() if line.strip()][-1:] or ["no message"]
            raise ExportError(f"{fmt}: {path.name} does not load with {RUNTIMES[fmt]} in a fresh process "
                              f"({last[0]}); nothing was written")
        got = np.load(out).reshape(len(expected), -1)
        want = np.asarray(expected, dtype=np.float32).reshape(len(expected), -1)
        diff = float(np.max(np.abs(got - want))) if got.shape == want.shape and len(want) else float("inf")
        if got.shape != want.shape:
            raise ExportError(f"{fmt}: {path.name} returns outputs of shape {got.shape}, the app's model "
                              f"{want.shape}; nothing was written")
        same = None
        if task == "classification":
            same = int(np.sum(_labels(got) == _labels(want)))
        q = quantize if fmt == "tflite" else "none"
        # A regressor predicts in the target's units (prices, counts): its tolerance is relative.
        scale = max(1.0, float(np.max(np.abs(want)))) if task == "regression" and len(want) else 1.0
        tolerance = TOLERANCE[q] * scale
        checks.append(FormatCheck(fmt, str(path), RUNTIMES[fmt], int(len(want)), diff, tolerance, same, q,
                                  bool(np.isfinite(diff) and diff <= tolerance)))
    return checks


def _labels(outputs: np.ndarray) -> np.ndarray:
    return (outputs[:, 0] >= 0.5).astype(int) if outputs.shape[1] == 1 else outputs.argmax(axis=1)


# ------------------------------------------------------------------ schema, reference, card
def schema_document(model: Any, metadata: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    """``schema.json``: what goes in, how the app prepares it, and what comes out."""
    inputs = [{"name": t.name, "dtype": str(t.dtype), "shape": [None, *[int(d) for d in t.shape[1:]]]}
              for t in model.inputs]
    task = metadata.get("task")
    classes = list(metadata.get("class_names") or [])
    width = int(model.outputs[0].shape[-1])
    if task == "regression":
        meaning = f"the predicted {metadata.get('target') or 'value'}, in the target's own units"
    elif width == 1:
        meaning = f"the probability of class '{classes[1] if len(classes) > 1 else 1}' (the other: 1 − p)"
    else:
        meaning = "one probability per class, in the order of 'classes'; the prediction is the largest"
    feature_schema = metadata.get("feature_schema")
    preprocessing: dict[str, Any]
    if feature_schema:
        numeric = feature_schema.get("numeric", [])
        categorical = feature_schema.get("categorical", [])
        preprocessing = {
            "applies_to": "each row of a table, before the model; the model then normalises 'numeric' "
                          "itself (training mean and variance, or its piecewise-linear encoding over "
                          "the training quantiles' bins) and encodes 'categorical' itself",
            "numeric": {
                "input": "numeric",
                "columns_in_order": [f["name"] for f in numeric],
                "steps": "per column: parse the number; a missing or non-numeric value becomes 'fill' "
                         "(the training median); when 'missing_flag' is true the next slot holds 1.0 if "
                         "the value was missing, else 0.0",
                "columns": numeric,
            },
            **({"dates": {
                "input": "numeric",
                "columns_in_order": [d["name"] for d in feature_schema["dates"]],
                "steps": "per column, after the numeric columns' slots: parse the date (ISO 8601, in UTC "
                         "where an offset is given); one slot per name in 'parts' (year, month, day, "
                         "day_of_week with Monday 0, day_of_year, hour with minutes as its fraction; "
                         "*_sin/*_cos = sin/cos(2π·v/period) of month-1 (12), day_of_week (7) and hour "
                         "(24)); a missing date takes 'fill', and when 'missing_flag' is true the next "
                         "slot holds 1.0 if it was missing, else 0.0",
                "columns": feature_schema["dates"],
            }} if feature_schema.get("dates") else {}),
            "categorical": {
                "input": "categorical",
                "columns_in_order": [c["name"] for c in categorical],
                "steps": "per column: code = offset + 1 + the value's position in 'vocabulary' (values "
                         "compared as text); a missing or unseen value, or one of 'rare' (levels seen in "
                         "fewer than 3 training rows), gets code = offset",
                "columns": categorical,
            },
        }
    else:
        preprocessing = {"applies_to": f"{metadata.get('input_kind')}: the arrays go to the model as they "
                                       "are (images as 0–255 pixels; the model rescales them itself)"}
    return {
        "app": "automl-studio",
        "app_version": metadata.get("app_version"),
        "task": task,
        "target": metadata.get("target"),
        "input_kind": metadata.get("input_kind"),
        "inputs": inputs,
        "output": {"shape": [None, width], "meaning": meaning},
        "classes": classes,
        "preprocessing": preprocessing,
        "files": dict(files),
        "reference": f"{REFERENCE_FILE}: held-out rows with the app's predictions; see MODEL_CARD.md",
    }


def decode_outputs(task: str, classes: Sequence[str], outputs: np.ndarray) -> tuple[list[Any], np.ndarray | None]:
    """Predicted labels (or values) and per-class probabilities, as ``automl-studio predict``."""
    if task == "regression":
        return [float(v) for v in outputs.reshape(-1)], None
    proba = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs
    return [classes[i] for i in proba.argmax(axis=1)], proba


def write_reference(path: Path, raw: Any, task: str, classes: Sequence[str], outputs: np.ndarray) -> None:
    """``reference.csv``: ``raw`` (a DataFrame of the file's columns, or ``None`` for arrays) with
    ``prediction`` and one ``probability_<class>`` column per class, as ``automl-studio predict``."""
    labels, proba = decode_outputs(task, classes, outputs)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        columns = [str(c) for c in raw.columns] if raw is not None else ["row"]
        probability = [f"probability_{c}" for c in classes] if proba is not None else []
        writer.writerow([*columns, "prediction", *probability])
        for i, label in enumerate(labels):
            if raw is not None:
                cells = ["" if _missing(v) else v for v in raw.iloc[i].tolist()]
            else:
                cells = [i]
            row = [*cells, f"{label:.9g}" if isinstance(label, float) else label]
            if proba is not None:
                row += [f"{v:.6g}" for v in proba[i]]
            writer.writerow(row)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def limitations(metadata: Mapping[str, Any], class_counts: Sequence[int]) -> list[str]:
    """What a user of the model should know, in sentences: imbalance, a small test, the baseline."""
    notes = []
    classes = list(metadata.get("class_names") or [])
    if metadata.get("task") == "classification" and class_counts and min(class_counts) > 0:
        small, large = min(class_counts), max(class_counts)
        if large >= 3 * small:
            rare = classes[list(class_counts).index(small)] if len(classes) == len(class_counts) else "?"
            notes.append(f"Class imbalance: '{rare}' has {small} rows against {large} for the most common "
                         "class; accuracy flatters the model, read balanced accuracy and per-class recall.")
    test_rows = int((metadata.get("test_metrics") or {}).get("n") or 0)
    if test_rows < 100:
        notes.append(f"Small test set: the metrics come from {test_rows} held-out rows, so they may be "
                     "several points off the model's real performance.")
    if metadata.get("beats_baseline") is False:
        # The note is whole sentences (it ends in a period): it follows, not precedes, the advice.
        notes.append("The model does NOT beat its trivial baseline on the test split: do not deploy it as is."
                     + (f" {metadata['baseline_note']}" if metadata.get("baseline_note") else ""))
    forest = metadata.get("forest")
    if isinstance(forest, dict) and describe_forest(forest):
        notes.append(f"The model is a {forest_words(forest)}; it is exported instead of the networks searched "
                     f"(fitted on {trained_on(metadata.get('all_rows'))}, in standard Keras layers: no "
                     "scikit-learn is needed to run it).")
    elif metadata.get("ensemble"):
        ensemble = metadata["ensemble"]
        refitted = ensemble.get("refitted") if isinstance(ensemble, dict) else None
        members = ("each member retrained on train + validation" if refitted and len(refitted) == len(ensemble["trials"])
                   else f"trials {', '.join(map(str, refitted))} retrained on train + validation, the others as trained"
                   if refitted else "each member is its trial as trained, not refit on train + validation")
        notes.append(f"The model is a weighted {metadata.get('model') or 'ensemble of trials'}, chosen on the "
                     f"validation split; {members}.")
    elif metadata.get("refit") is False:
        notes.append("The model is the best trial as trained, not refit on train + validation.")
    again = all_rows_words(metadata.get("all_rows"))
    if again:
        notes.append(f"{again[0].upper()}{again[1:]}. The test metrics therefore describe a model trained on "
                     "fewer rows; the test rows no longer measure this one.")
    return notes


def render_model_card(metadata: Mapping[str, Any], *, settings: Mapping[str, Any],
                      class_counts: Sequence[int], checks: Sequence[FormatCheck],
                      files: Mapping[str, str]) -> str:
    """``MODEL_CARD.md`` from the template in ``automl_studio.resources/templates``."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("automl_studio.resources", "templates"),
                             autoescape=False, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["number"] = lambda v: (f"{v:.4g}" if isinstance(v, float) else str(v))
    metrics = {k: v for k, v in (metadata.get("test_metrics") or {}).items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "n"}
    baseline = {k: v for k, v in (metadata.get("baseline_metrics") or {}).items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "n"}
    raced = dict(metadata.get("baselines") or {})
    linear = {k: v for k, v in (raced.get("linear_test_metrics") or {}).items()
              if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "n"}
    forest = {k: v for k, v in (raced.get("forest_test_metrics") or {}).items()
              if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "n"}
    dataset = dict(metadata.get("dataset") or {})
    return env.get_template(CARD_TEMPLATE).render(
        meta=metadata, dataset=dataset, file_name=Path(str(dataset.get("path", "?"))).name,
        n_columns=len((metadata.get("feature_schema") or {}).get("numeric", []))
        + len((metadata.get("feature_schema") or {}).get("categorical", [])),
        metrics=metrics, baseline=baseline, baseline_rule=(metadata.get("baseline_metrics") or {}).get("rule", ""),
        test_rows=int((metadata.get("test_metrics") or {}).get("n") or 0),
        limitations=limitations(metadata, class_counts), settings=settings, checks=checks, files=files,
        linear=linear, linear_model=str(raced.get("linear") or ""),
        forest=forest, forest_model=str(raced.get("forest") or ""),
        baselines_note=str(metadata.get("baselines_note") or ""),
        trained_on=trained_on(metadata.get("all_rows")))


# ------------------------------------------------------------------ the whole export
def as_model_inputs(model: Any, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``inputs`` (by input name) in the dtypes the model's Inputs declare.

    Images are held as uint8; Keras casts them, but the serving signatures of a SavedModel, a
    TFLite file and an ONNX graph take exactly their Input's dtype (float32), and refuse uint8.
    """
    dtypes = {str(t.name).split(":")[0]: str(t.dtype) for t in model.inputs}
    return {name: (np.asarray(value).astype(dtypes[name]) if name in dtypes and str(np.asarray(value).dtype)
                   != dtypes[name] else np.asarray(value)) for name, value in inputs.items()}


def export_bundle(model: Any, metadata: Mapping[str, Any], dest: str | os.PathLike[str], *,
                  formats: Sequence[str], quantize: str = "none",
                  held_out: Mapping[str, np.ndarray], reference_raw: Any = None,
                  reference_inputs: Mapping[str, np.ndarray] | None = None,
                  settings: Mapping[str, Any] | None = None,
                  class_counts: Sequence[int] = ()) -> dict[str, Any]:
    """Writes ``formats`` with ``schema.json``, ``reference.csv`` and ``MODEL_CARD.md``; verifies all.

    ``dest`` is a ``.h5``/``.keras`` file (the others go beside it, named after it) or a folder
    (files named ``model.*``). ``held_out`` are model inputs of test rows the exports are
    compared on; ``reference_raw`` (a DataFrame of the data file's columns for some test rows) and
    ``reference_inputs`` (the same rows as model inputs) make ``reference.csv``.

    Returns:
        ``files`` written, ``verified``, ``max_abs_diff``/``tolerance``/``checked_rows`` (the
        .h5/.keras check, as :func:`~.writers.export_model`), and ``checks``: one
        :meth:`FormatCheck.to_dict` per format, checked in a fresh process.

    Raises:
        ExportError: a format cannot convert or does not reproduce the model's outputs; nothing
            was written.
    """
    from automl_studio.engine.export.writers import export_model, json_default

    check_request(formats, quantize)
    held_out = as_model_inputs(model, held_out)
    dest = Path(dest)
    if dest.suffix.lower() in (".h5", ".keras"):
        folder, stem = dest.parent, dest.stem
    else:
        folder, stem = dest, "model"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{stem}.export-", dir=folder))
    except OSError as exc:
        raise ExportError(f"{folder}: cannot write there ({exc.strerror or exc})") from exc
    finals = target_paths(folder, stem)
    staged = target_paths(work, stem)
    try:
        result: dict[str, Any] = {}
        keras_formats = [f for f in ("h5", "keras") if f in formats]
        if keras_formats:
            result = export_model(model, staged["h5"], metadata, dict(held_out), keras_formats)
        for fmt in formats:
            if fmt == "savedmodel":
                write_savedmodel(model, staged[fmt])
            elif fmt == "tflite":
                write_tflite(model, staged[fmt], quantize, work)
            elif fmt == "onnx":
                write_onnx(model, staged[fmt])
        expected = np.asarray(model.predict_on_batch(dict(held_out)))
        checks = verify_exports({f: staged[f] for f in formats}, held_out, expected,
                                str(metadata.get("task")), quantize, work)
        failed = [c for c in checks if not c.passed]
        if failed:
            hint = ("; float16 holds numbers up to 65504 with 3 significant digits, too few for this model "
                    "(choose dynamic or no quantisation)" if any(c.quantize == "float16" for c in failed) else "")
            raise ExportError("; ".join(c.words().rstrip(".") for c in failed) + hint + "; nothing was written")
        checks = [replace(c, path=str(finals[c.format])) for c in checks]
        names = {f: finals[f].name for f in formats}
        task, classes = str(metadata.get("task")), list(metadata.get("class_names") or [])
        (work / SCHEMA_FILE).write_text(json.dumps(schema_document(model, metadata, names), indent=2,
                                                   default=json_default) + "\n", encoding="utf-8")
        ref_inputs = dict(reference_inputs) if reference_inputs else {k: v[:REFERENCE_ROWS] for k, v in held_out.items()}
        write_reference(work / REFERENCE_FILE, reference_raw, task, classes,
                        np.asarray(model.predict_on_batch(ref_inputs)))
        (work / CARD_FILE).write_text(render_model_card(metadata, settings=settings or {},
                                                        class_counts=class_counts, checks=checks,
                                                        files=names), encoding="utf-8")
        written = []
        for fmt in formats:
            _move(staged[fmt], finals[fmt])
            written.append(str(finals[fmt]))
        for name in (SCHEMA_FILE, REFERENCE_FILE, CARD_FILE):
            _move(work / name, folder / name)
            written.append(str(folder / name))
    except OSError as exc:
        raise ExportError(f"{folder}: cannot write the export ({exc.strerror or exc}); nothing was written") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not result:
        worst = max(checks, key=lambda c: c.max_abs_diff)
        result = {"verified": True, "max_abs_diff": worst.max_abs_diff, "tolerance": worst.tolerance,
                  "checked_rows": worst.rows}
    return {**result, "files": written, "verified": all(c.passed for c in checks),
            "checks": [c.to_dict() for c in checks]}


def _move(source: Path, target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    os.replace(source, target)


