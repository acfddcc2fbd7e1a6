"""The deployment formats a best model can be exported to, and their round-trip checks in words.

Keras-free, so the window can list the formats and read the checks without loading TensorFlow.

======================  ======================================  ===============================
format                  written as                              checked with (a fresh process)
======================  ======================================  ===============================
``h5``                  ``STEM.h5`` (legacy Keras HDF5)         ``keras.models.load_model``
``keras``               ``STEM.keras`` (Keras v3 zip)           ``keras.models.load_model``
``savedmodel``          ``STEM_savedmodel/`` (TF Serving)       ``tf.saved_model.load``
``tflite``              ``STEM.tflite``                         ``tf.lite.Interpreter``
``onnx``                ``STEM.onnx``                           ``onnxruntime.InferenceSession``
======================  ======================================  ===============================
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from typing import Any

FORMATS = ("h5", "keras", "savedmodel", "tflite", "onnx")
QUANTIZE = ("none", "float16", "dynamic")
FORMAT_NAMES = {"h5": "Keras HDF5 (.h5)", "keras": "Keras v3 (.keras)",
                "savedmodel": "TensorFlow SavedModel", "tflite": "TensorFlow Lite (.tflite)",
                "onnx": "ONNX (.onnx)"}
RUNTIMES = {"h5": "keras.models.load_model", "keras": "keras.models.load_model",
            "savedmodel": "tf.saved_model.load", "tflite": "tf.lite.Interpreter",
            "onnx": "onnxruntime.InferenceSession"}
# Python modules each format needs beyond TensorFlow and Keras: (import name, pip name).
_NEEDS = {"onnx": (("tf2onnx", "tf2onnx"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime"))}
DEPLOY_EXTRA_HINT = "pip install 'automl-studio[deploy]'"

# How far an export's predictions may be from the app's. Quantised TFLite stores weights in 16 or
# 8 bits, so its outputs move by about the weights' rounding.
TOLERANCE = {"none": 1e-4, "float16": 1e-2, "dynamic": 5e-2}


def missing_packages(fmt: str) -> list[str]:
    """The pip names of what ``fmt`` needs and is not installed (``[]``: ready)."""
    return [pip for module, pip in _NEEDS.get(fmt, ()) if importlib.util.find_spec(module) is None]


def missing_message(fmt: str) -> str | None:
    """One line saying what to install for ``fmt``; ``None`` when nothing is missing."""
    missing = missing_packages(fmt)
    if not missing:
        return None
    return (f"{fmt.upper()} export needs: {DEPLOY_EXTRA_HINT} (missing: {', '.join(missing)})")


@dataclass(frozen=True)
class FormatCheck:
    """One exported file reloaded in a fresh process with its own runtime, and compared.

    Attributes:
        format: one of :data:`FORMATS`.
        path: the file or folder written.
        runtime: what loaded it in the fresh process (e.g. ``onnxruntime.InferenceSession``).
        rows: held-out rows predicted by both the app's model and the reloaded export.
        max_abs_diff: the largest absolute difference between the two outputs (probabilities or
            predicted values, in the model's output units).
        tolerance: the largest difference accepted (for a regressor, :data:`TOLERANCE` times its
            largest output, at least 1: its outputs are in the target's units).
        same_class: rows on which both predict the same class (classifiers; ``None`` otherwise).
        quantize: ``none``, ``float16`` or ``dynamic`` (TFLite only).
        passed: ``max_abs_diff <= tolerance``.
    """

    format: str
    path: str
    runtime: str
    rows: int
    max_abs_diff: float
    tolerance: float
    same_class: int | None = None
    quantize: str = "none"
    passed: bool = True

    def words(self) -> str:
        """The check in one sentence, e.g. for the window and the command line."""
        name = FORMAT_NAMES.get(self.format, self.format)
        if self.quantize != "none":
            name += f", {self.quantize}-quantised"
        same = (f"; the same class on {self.same_class} of {self.rows} rows"
                if self.same_class is not None else "")
        verdict = "✔" if self.passed else "✘"
        relation = "within" if self.passed else "more than"
        return (f"{verdict} {name}: reloaded with {self.runtime} in a fresh process; on {self.rows} "
                f"held-out rows its outputs differ from the app's by at most {self.max_abs_diff:.1e} "
                f"({relation} the {self.tolerance:.2g} allowed){same}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``words``."""
        return {**asdict(self), "words": self.words()}
