"""Reading an exported model's description without Keras: metadata and a safety check.

An exported ``.h5`` carries, as an HDF5 attribute written with h5py, one JSON document (app
version, task, target, feature schema, class names, test metrics, best hyperparameters, the
search-space spec, a dataset fingerprint). A ``.keras`` file carries the same document as
``automl_studio.json`` inside its zip. :func:`check_safe` refuses a model whose config holds
Lambda layers or objects from outside Keras before anything deserialises it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from automl_studio.engine.core.errors import ModelFileError
from automl_studio.engine.train.ensemble import describe_ensemble
from automl_studio.engine.train.forest_record import all_rows_words, describe_forest, forest_words
from automl_studio.engine.train.metrics import baseline_note

METADATA_ATTR = "automl_studio"
METADATA_MEMBER = "automl_studio.json"
METADATA_SCHEMA_VERSION = 1
_SAFE_MODULES = ("keras", "keras.", "builtins")


def _h5_attrs(path: Path) -> dict[str, Any]:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return {k: handle.attrs[k] for k in handle.attrs}
    except OSError as exc:
        raise ModelFileError(f"{path}: not an HDF5 model file ({exc.__class__.__name__})") from exc


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The automl-studio document of an exported model (``{}`` for a model made elsewhere)."""
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: no such model file")
    if p.suffix.lower() == ".keras" or zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as archive:
                if METADATA_MEMBER not in archive.namelist():
                    return {}
                return json.loads(archive.read(METADATA_MEMBER).decode("utf-8"))
        except (zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{p}: a damaged .keras file ({exc})") from exc
    attrs = _h5_attrs(p)
    if METADATA_ATTR + "_parts" in attrs:
        text = "".join(_text(attrs[f"{METADATA_ATTR}_{i}"]) for i in range(int(attrs[METADATA_ATTR + "_parts"])))
    elif METADATA_ATTR in attrs:
        text = _text(attrs[METADATA_ATTR])
    else:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{p}: its automl-studio metadata is damaged ({exc})") from exc


def model_config(path: str | Path) -> dict[str, Any]:
    """The Keras model config stored in an ``.h5`` or ``.keras`` file."""
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: no such model file")
    if zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as archive:
                return json.loads(archive.read("config.json").decode("utf-8"))
        except (KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{p}: not a .keras model file ({exc})") from exc
    attrs = _h5_attrs(p)
    if "model_config" not in attrs:
        raise ModelFileError(f"{p}: an HDF5 file without a Keras model in it")
    try:
        return json.loads(_text(attrs["model_config"]))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{p}: its model config is damaged ({exc})") from exc


def unsafe_objects(config: Any) -> list[str]:
    """Class names in a model config that safe loading must refuse (Lambda, non-Keras code)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            cls = node.get("class_name")
            module = node.get("module")
            if cls == "Lambda" or cls == "__lambda__":
                found.append("Lambda layer" + (f" '{node.get('config', {}).get('name')}'"
                                               if isinstance(node.get("config"), dict) else ""))
            elif isinstance(module, str) and module and not module.startswith(_SAFE_MODULES):
                found.append(f"{cls} from {module}")
            elif node.get("registered_name") and isinstance(node["registered_name"], str) \
                    and ">" in node["registered_name"]:
                found.append(f"custom object {node['registered_name']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def check_safe(path: str | Path, *, allow_unsafe: bool = False) -> None:
    """Raises :class:`ModelFileError` if the model holds code that loading would run."""
    bad = unsafe_objects(model_config(path))
    if bad and not allow_unsafe:
        raise ModelFileError(
            f"{path}: refused to open — it holds code that would run on load ({', '.join(bad[:3])}); "
            "open it only if you trust its author (--allow-unsafe)"
        )


def describe(path: str | Path) -> dict[str, Any]:
    """A summary for ``automl-studio info``: metadata plus the layers of the model.

    ``baseline_note`` compares the model's test metrics with its trivial baseline's, in the words
    the search printed (:func:`~automl_studio.engine.train.metrics.baseline_note`); ``""`` for a
    model whose metadata keeps no baseline (made elsewhere, or before baselines were kept).
    ``baselines_note`` is the network against the linear and trivial models on the validation
    split (:func:`~automl_studio.engine.train.baselines.race_note`), ``""`` where none was raced.
    ``model`` says what the exported network is: "ensemble of 3 trials (ids …; weights …)",
    "average of N refits of trial T", "refit of trial T" or "trial T as trained" (``""`` for
    a model made elsewhere).
    """
    config = model_config(path)
    layers = config.get("config", {}).get("layers", []) if isinstance(config, dict) else []
    metadata = read_metadata(path)
    known = metadata if isinstance(metadata, dict) else {}
    test_metrics, baseline = known.get("test_metrics"), known.get("baseline_metrics")
    return {
        "path": str(path),
        "layers": [layer.get("class_name") for layer in layers if isinstance(layer, dict)],
        "metadata": metadata,
        "baseline_note": baseline_note(test_metrics, baseline)
        if isinstance(test_metrics, dict) and isinstance(baseline, dict) else "",
        "baselines_note": str(known.get("baselines_note") or ""),
        "model": _model_words(known),
        "unsafe": unsafe_objects(config),
    }


def _model_words(metadata: dict[str, Any]) -> str:
    """What the exported network is, from its metadata (see :func:`describe`), and where it was
    trained again on all rows after the test, that too."""
    words = _kind_words(metadata)
    again = all_rows_words(metadata.get("all_rows"))
    return f"{words}; {again}" if words and again else words


def _kind_words(metadata: dict[str, Any]) -> str:
    forest = metadata.get("forest")
    if isinstance(forest, dict) and describe_forest(forest):
        return forest_words(forest)
    ensemble = metadata.get("ensemble")
    if isinstance(ensemble, dict) and describe_ensemble(ensemble):
        return describe_ensemble(ensemble)
    if "best_trial_id" not in metadata:
        return ""
    trial, refits = metadata.get("best_trial_id"), metadata.get("refits")
    if isinstance(refits, int) and refits > 1:
        return f"average of {refits} refits of trial {trial}"
    return f"refit of trial {trial}" if refits == 1 or (refits is None and metadata.get("refit")) \
        else f"trial {trial} as trained"
