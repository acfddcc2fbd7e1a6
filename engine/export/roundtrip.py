"""Reloads one exported model with its own runtime and predicts; run as a fresh process.

``python -m automl_studio.engine.export.roundtrip FORMAT MODEL INPUTS.npz OUTPUT.npy``

``INPUTS.npz`` holds one array per model input, keyed by input name; ``OUTPUT.npy`` receives the
model's output (rows × outputs, float32). Only the target's runtime is imported: ``onnxruntime``
for ONNX, ``tf.lite.Interpreter`` for TFLite (LiteRT's when installed), ``tf.saved_model.load``
for a SavedModel (as TensorFlow Serving loads it), ``keras.models.load_model`` for .h5/.keras.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np


def _single(outputs: Any) -> np.ndarray:
    if isinstance(outputs, dict):
        if len(outputs) != 1:
            raise ValueError(f"expected one output, got {sorted(outputs)}")
        outputs = next(iter(outputs.values()))
    elif isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    return np.asarray(outputs, dtype=np.float32)


def predict(fmt: str, path: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The raw outputs of the exported model at ``path`` (``fmt`` as in ``formats.FORMATS``)."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = {i.name: inputs[i.name] for i in session.get_inputs() if i.name in inputs}
        return _single(session.run(None, feed))
    if fmt == "tflite":
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter  # noqa: N806  # TF 2.21 warns it moves to LiteRT
        interpreter = Interpreter(model_path=path)
        runner = interpreter.get_signature_runner("serving_default")
        return _single(runner(**inputs))
    if fmt == "savedmodel":
        import tensorflow as tf

        serve = tf.saved_model.load(path).signatures["serving_default"]
        return _single(serve(**{k: tf.constant(v) for k, v in inputs.items()}))
    import keras

    model = keras.models.load_model(path, compile=False, safe_mode=True)
    return _single(model.predict_on_batch(inputs))


def main(argv: list[str]) -> int:
    """Command-line entry: ``FORMAT MODEL INPUTS.npz OUTPUT.npy``; exit status 0 on success."""
    fmt, path, inputs_path, output_path = argv
    with np.load(inputs_path, allow_pickle=False) as stored:
        inputs = {k: stored[k] for k in stored.files}
    np.save(output_path, predict(fmt, path, inputs))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.simplefilter("ignore")
    sys.exit(main(sys.argv[1:]))
