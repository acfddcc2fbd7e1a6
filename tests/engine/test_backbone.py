"""Transfer learning (#18): a Backbone node over ``keras.applications``, with local weights only.

Tests cannot download ImageNet weights, so the weights are those of a freshly built network of
the same architecture, saved with ``model.save_weights`` into a temporary folder; a search must
then fine-tune from them, export a ``.h5`` that a fresh interpreter without automl_studio loads
with plain Keras, and say which file is missing (and where Keras expects it) before any trial
when the weights are not there. Shape inference and the generated code are checked against
Keras; only one test trains.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datafiles import WITHOUT_APP, run_without_app
from PIL import Image

from automl_studio.engine.core.errors import SpecError
from automl_studio.engine.data.signature import DataSignature
from automl_studio.engine.space import shapes
from automl_studio.engine.space.backbones import BACKBONES, imagenet_file
from automl_studio.engine.space.spec import SearchSpace, fixed_chooser

SIG = DataSignature(task="classification", n_classes=2, inputs={"image": (32, 32, 3)}, image_scale=1 / 255)

LOAD_WITHOUT_APP = WITHOUT_APP + r"""import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
backbone = model.get_layer("backbone")
with np.load(sys.argv[2]) as data:
    inputs = {k: data[k] for k in data.files}
print(json.dumps({"backbone": type(backbone).__name__, "layers": len(backbone.layers),
                  "trainable": sorted(l.name for l in backbone.layers if l.trainable_weights),
                  "pred": np.asarray(model.predict(inputs, verbose=0)).tolist()}))
"""


def backbone_spec(**params: Any) -> dict[str, Any]:
    """image → Backbone(params) → Output."""
    return {"schema_version": 1, "name": "pretrained", "repeats": [], "training": {},
            "nodes": [{"id": "image", "type": "Input", "params": {"source": "image"}},
                      {"id": "backbone", "type": "Backbone", "params": params},
                      {"id": "head", "type": "Output", "params": {}}],
            "edges": [["image", "backbone"], ["backbone", "head"]]}


def save_backbone_weights(name: str, path: Path) -> Path:
    """Weights of a new ``keras.applications`` network without its top (what a download of its
    ImageNet weights would hold), saved with ``model.save_weights``."""
    import keras

    network = getattr(keras.applications, name)(include_top=False, weights=None, input_shape=(32, 32, 3))
    network.save_weights(path)
    keras.backend.clear_session()
    return path


def _image_folder(root: Path, per_class: int = 6) -> Path:
    """Two classes of 32×32 colour pictures: reddish and bluish noise."""
    rng = np.random.default_rng(0)
    for cls, channel in (("red", 0), ("blue", 2)):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 90, (32, 32, 3))
            pixels[..., channel] += 160
            Image.fromarray(pixels.astype(np.uint8)).save(root / cls / f"{i}.png")
    return root


@pytest.mark.slow
def test_a_backbone_fine_tunes_from_a_local_weights_file_and_its_h5_reloads_with_plain_keras(
        tmp_path: Path) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    weights = save_backbone_weights("MobileNetV2", tmp_path / "v2.weights.h5")
    folder = _image_folder(tmp_path / "pictures")
    spec = backbone_spec(backbone="MobileNetV2", weights="file", weights_file=str(weights), trainable_blocks=1)
    spec["training"] = {"epochs": 1, "batch_size": 4}
    result = run_search(SearchConfig(
        data_path=str(folder), project_dir=str(tmp_path / "project"), max_trials=1, max_epochs=1,
        tuner="random", image_size=(32, 32), space=spec, export_path=str(tmp_path / "best.h5"),
        export_keras=False, refit=False))
    assert result.status == "completed"

    sample = {"image": np.stack([np.asarray(Image.open(folder / c / "0.png")) for c in ("red", "blue")])}
    np.savez(tmp_path / "sample.npz", **sample)
    reply = run_without_app(LOAD_WITHOUT_APP, tmp_path / "best.h5", tmp_path / "sample.npz")
    assert reply["backbone"] == "Functional" and reply["layers"] > 100
    # The top block (block_16) and the final convolution after it train; nothing below.
    assert reply["trainable"] and all(name.startswith(("block_16_", "Conv_1")) for name in reply["trainable"])
    assert "Conv_1" in reply["trainable"] and not any(n.endswith(("_bn", "_BN")) for n in reply["trainable"])
    probabilities = np.asarray(reply["pred"])
    assert probabilities.shape == (2, 1) and np.all((probabilities >= 0) & (probabilities <= 1))

    # The .h5 holds the fine-tuned backbone: its top block moved away from the file's weights (a
    # little: a random network passes small gradients), the frozen stem did not.
    import keras

    start = keras.applications.MobileNetV2(include_top=False, weights=str(weights), input_shape=(32, 32, 3))
    tuned = keras.models.load_model(tmp_path / "best.h5").get_layer("backbone")
    for name, trained in (("block_16_project", True), ("Conv_1", True), ("Conv1", False), ("block_15_project", False)):
        same = np.array_equal(start.get_layer(name).get_weights()[0], tuned.get_layer(name).get_weights()[0])
        assert same != trained, name


# The top block of each, by the names Keras gives its layers.
TOP_BLOCK = {"MobileNetV3Small": ("expanded_conv_10_", "conv_1"),
             "ConvNeXtTiny": ("convnext_tiny_stage_3_block_2_", "layer_normalization")}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TOP_BLOCK))
def test_networks_built_from_operations_and_custom_layers_fine_tune_and_reload_from_h5(
        tmp_path: Path, name: str) -> None:
    """MobileNetV3's ``x + 3.0`` and ConvNeXt's residual ``inputs + x`` are Keras operations and
    ConvNeXt's LayerScale a custom layer: none of them reloads from a legacy .h5, so the engine
    builds them as standard layers, with the weights file's values."""
    import keras

    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    weights = save_backbone_weights(name, tmp_path / "net.weights.h5")
    folder = _image_folder(tmp_path / "pictures")
    spec = backbone_spec(backbone=name, weights="file", weights_file=str(weights), trainable_blocks=1)
    spec["training"] = {"epochs": 1, "batch_size": 4}
    result = run_search(SearchConfig(
        data_path=str(folder), project_dir=str(tmp_path / "project"), max_trials=1, max_epochs=1,
        tuner="random", image_size=(32, 32), space=spec, export_path=str(tmp_path / "best.h5"),
        export_keras=False, refit=False))
    assert result.status == "completed", result.message

    sample = {"image": np.stack([np.asarray(Image.open(folder / c / "0.png")) for c in ("red", "blue")])}
    np.savez(tmp_path / "sample.npz", **sample)
    reply = run_without_app(LOAD_WITHOUT_APP, tmp_path / "best.h5", tmp_path / "sample.npz")
    assert reply["backbone"] == "Functional"
    assert reply["trainable"] and all(n.startswith(TOP_BLOCK[name]) for n in reply["trainable"])
    exported = keras.models.load_model(tmp_path / "best.h5")
    np.testing.assert_allclose(reply["pred"], exported.predict(sample, verbose=0), rtol=1e-5, atol=1e-6)

    # Frozen layers hold the file's weights, each in its place (ConvNeXt's scales as 1×1 kernels).
    start = getattr(keras.applications, name)(include_top=False, weights=str(weights), input_shape=(32, 32, 3))
    tuned = exported.get_layer("backbone")
    assert "LayerScale" not in {type(layer).__name__ for layer in tuned.layers}
    frozen = [layer for layer in start.layers if layer.weights and not layer.name.startswith(TOP_BLOCK[name])]
    assert len(frozen) > 20
    for layer in frozen:
        for theirs, ours in zip(layer.get_weights(), tuned.get_layer(layer.name).get_weights(), strict=True):
            np.testing.assert_array_equal(theirs.reshape(ours.shape), ours, err_msg=layer.name)


def test_missing_imagenet_weights_name_the_file_and_folder_before_any_trial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import TrialStarted
    from automl_studio.engine.search.session import run_search

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    folder = _image_folder(tmp_path / "pictures", per_class=3)
    events: list[Any] = []
    with pytest.raises(SpecError) as caught:
        run_search(SearchConfig(data_path=str(folder), project_dir=str(tmp_path / "project"), max_trials=1,
                                tuner="random", image_size=(32, 32),
                                space=backbone_spec(backbone={"hp": "choice", "values": ["MobileNetV2", "ResNet50"]},
                                                    weights="imagenet")),
                   listener=events.append)
    message = str(caught.value)
    models = tmp_path / "keras_home" / "models"
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in message
    assert f"in {models}" in message and caught.value.node == "backbone"
    assert not any(isinstance(e, TrialStarted) for e in events)

    # The second backbone of the choice is checked too, not only the smallest network's.
    (models).mkdir(parents=True)
    imagenet_file("MobileNetV2", 32).write_bytes(b"")
    analysis = shapes.analyse(SearchSpace.from_dict(backbone_spec(
        backbone={"hp": "choice", "values": ["MobileNetV2", "ResNet50"]})), SIG)
    (issue,) = analysis.issues
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in issue.message and issue.node == "backbone"

    given = tmp_path / "nowhere.weights.h5"
    with pytest.raises(SpecError, match=f"Backbone 'backbone' needs the weights file {given}, which does not exist"):
        shapes.validate(SearchSpace.from_dict(backbone_spec(weights="file", weights_file=str(given))), SIG)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_the_table_of_backbones_matches_keras(name: str) -> None:
    """Shape inference never builds a network: each one's width and size come from the table."""
    import keras

    network = getattr(keras.applications, name)(include_top=False, weights=None, input_shape=(32, 40, 3),
                                                pooling="avg")
    assert tuple(network.output.shape[1:]) == (BACKBONES[name].features,)
    assert network.count_params() == BACKBONES[name].params
    keras.backend.clear_session()


@pytest.mark.parametrize("name", ["EfficientNetB0", "ResNet50"])  # MobileNetV2: the other tests
def test_shape_inference_of_a_backbone_node_matches_the_engines_model(name: str) -> None:
    import keras

    from automl_studio.engine.train.hypermodel import build_model

    space = SearchSpace.from_dict(backbone_spec(backbone=name, weights="none", pooling="max"))
    results, issues = shapes.evaluate(space, SIG, fixed_chooser({}))
    model = build_model(space, SIG, fixed_chooser({}))
    assert issues == []
    assert results["backbone"][0] == tuple(model.get_layer("backbone").output.shape[1:]) == (BACKBONES[name].features,)
    assert sum(p for _, p in results.values()) == model.count_params()
    assert not model.get_layer("backbone").trainable_weights  # trainable_blocks 0: frozen
    if name == "ResNet50":  # RGB in 0…1 to BGR in 0…255 less the ImageNet mean, as Keras' own
        pixels = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
        ours = model.get_layer("backbone_preprocess")(pixels)
        theirs = keras.applications.resnet50.preprocess_input(pixels * 255.0)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-3)
    keras.backend.clear_session()


def test_batch_normalization_trains_from_random_weights_and_stays_frozen_in_pretrained_ones(tmp_path: Path) -> None:
    """Keras' fine-tuning guide keeps pretrained BatchNormalization statistics; random ones must learn."""
    import keras

    from automl_studio.engine.train.hypermodel import build_model

    weights = save_backbone_weights("MobileNetV2", tmp_path / "v2.weights.h5")
    for source, statistics_train in (("none", True), ("file", False)):
        space = SearchSpace.from_dict(backbone_spec(backbone="MobileNetV2", weights=source, weights_file=str(weights),
                                                    trainable_blocks=64))
        network = build_model(space, SIG, fixed_chooser({})).get_layer("backbone")
        normalizations = [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]
        assert normalizations and all(layer.trainable == statistics_train for layer in normalizations), source
        # From random weights the moving statistics must catch up within a small dataset's steps.
        assert {layer.momentum for layer in normalizations} == ({0.9} if statistics_train else {0.999})
        assert network.get_layer("Conv1").trainable  # every other layer trains in both
        keras.backend.clear_session()


@pytest.mark.parametrize("shape, needle", [
    ((32, 32, 1), "needs colour images"), ((31, 64, 3), "at least 32×32"), ((32,), "rank 3")])
def test_a_backbone_refuses_inputs_it_cannot_take(shape: tuple[int, ...], needle: str) -> None:
    with pytest.raises(shapes.ShapeError, match=needle):
        shapes.layer_output("Backbone", {"backbone": "MobileNetV2", "weights": "none", "weights_file": "",
                                         "pooling": "avg", "trainable_blocks": 0}, [shape], SIG)


def test_the_generated_code_builds_the_same_fine_tuned_backbone(tmp_path: Path) -> None:
    import keras
    import keras_tuner as kt

    from automl_studio.engine.space.codegen import kerastuner_code
    from automl_studio.engine.train.hypermodel import build_model

    weights = save_backbone_weights("MobileNetV2", tmp_path / "v2.weights.h5")
    space = SearchSpace.from_dict(backbone_spec(
        backbone={"hp": "choice", "values": ["MobileNetV2", "EfficientNetB0", "MobileNetV3Small"]},
        weights={"hp": "choice", "values": ["file", "none"]}, weights_file=str(weights),
        pooling={"hp": "choice", "values": ["avg", "max"]}, trainable_blocks={"hp": "int", "min": 0, "max": 3}))
    source = kerastuner_code(space, SIG)
    assert "keras.applications.MobileNetV2," in source and "keras.applications.EfficientNetB0," in source
    assert "def fine_tune_top_blocks(" in source and "def plain_application(" in source
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the code under test
    for values in ({"backbone.backbone": "MobileNetV2", "backbone.weights": "file", "backbone.pooling": "max",
                    "backbone.trainable_blocks": 2},
                   {"backbone.backbone": "EfficientNetB0", "backbone.weights": "none", "backbone.pooling": "avg",
                    "backbone.trainable_blocks": 0},
                   {"backbone.backbone": "MobileNetV3Small", "backbone.weights": "none", "backbone.pooling": "avg",
                    "backbone.trainable_blocks": 0}):
        keras.backend.clear_session()
        engine = build_model(space, SIG, fixed_chooser(values))
        hp = kt.HyperParameters()
        hp.values.update(values)
        keras.backend.clear_session()
        code = namespace["build"](hp)
        for model in (engine, code):
            assert [type(layer).__name__ for layer in model.layers] == [
                "InputLayer", "Rescaling", "Rescaling", "Functional", "Dense"]
        assert code.count_params() == engine.count_params()
        trainable = [sum(int(np.prod(w.shape)) for w in m.trainable_weights) for m in (engine, code)]
        assert trainable[0] == trainable[1]
        tuned = [layer.name for layer in code.get_layer("backbone").layers if layer.trainable and layer.weights]
        if values["backbone.trainable_blocks"]:
            assert tuned and {n.split("_")[1] for n in tuned if n.startswith("block_")} == {"15", "16"}
        else:
            assert tuned == []
        if values["backbone.weights"] == "file":  # both started from the file's weights
            first = engine.get_layer("backbone").get_layer("Conv1").get_weights()[0]
            assert np.array_equal(first, code.get_layer("backbone").get_layer("Conv1").get_weights()[0])


def test_the_image_template_offers_pretrained_backbones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automl_studio.engine.space.templates import BACKBONE_OPTIONS, template_spec

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    spec = template_spec("image", BACKBONE_OPTIONS, inputs=["image"])
    space = SearchSpace.from_dict(spec)
    (node,) = [n for n in space.nodes if n.type == "Backbone"]
    assert not any(n.type == "Conv2D" for n in space.nodes) and space.training["learning_rate"].max == 1e-3
    assert node.params["backbone"].values == ("MobileNetV2", "EfficientNetB0")

    missing = {i.message for i in shapes.analyse(space, SIG).issues}
    assert any("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in m for m in missing)
    assert any("efficientnetb0_notop.h5" in m for m in missing)
    (tmp_path / "models").mkdir()
    for name in ("MobileNetV2", "EfficientNetB0"):
        imagenet_file(name, 32).write_bytes(b"")  # present is all shape inference asks
    analysis = shapes.analyse(space, SIG)
    assert analysis.valid, analysis.issues
    assert analysis.nodes["backbone"].shape == (1280,)
    assert analysis.params_min > BACKBONES["MobileNetV2"].params


def test_a_searched_input_size_resizes_before_the_backbone_in_engine_shapes_and_code() -> None:
    import keras
    import keras_tuner as kt

    from automl_studio.engine.space.codegen import kerastuner_code
    from automl_studio.engine.train.hypermodel import build_model

    space = SearchSpace.from_dict(backbone_spec(backbone="MobileNetV2", weights="none",
                                                input_size={"hp": "choice", "values": [0, 48]}))
    source = kerastuner_code(space, SIG)
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the code under test
    for size, layers in ((0, ["InputLayer", "Rescaling", "Rescaling", "Functional", "Dense"]),
                         (48, ["InputLayer", "Rescaling", "Resizing", "Rescaling", "Functional", "Dense"])):
        values = {"backbone.input_size": size}
        results, issues = shapes.evaluate(space, SIG, fixed_chooser(values))
        keras.backend.clear_session()
        engine = build_model(space, SIG, fixed_chooser(values))
        hp = kt.HyperParameters()
        hp.values.update(values)
        keras.backend.clear_session()
        code = namespace["build"](hp)
        for model in (engine, code):
            assert [type(layer).__name__ for layer in model.layers] == layers, size
            assert tuple(model.get_layer("backbone").input.shape[1:3]) == ((size, size) if size else (32, 32))
        assert issues == [] and sum(p for _, p in results.values()) == engine.count_params() == code.count_params()
    keras.backend.clear_session()


def test_an_input_size_lets_small_images_through_and_names_its_weights_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    small = DataSignature(task="classification", n_classes=2, inputs={"image": (16, 16, 3)}, image_scale=1 / 255)
    with pytest.raises(shapes.ShapeError, match="at least 32×32"):
        shapes.layer_output("Backbone", {"backbone": "MobileNetV2", "weights": "none", "weights_file": ""},
                            [(16, 16, 3)], small)
    assert shapes.layer_output("Backbone", {"backbone": "MobileNetV2", "weights": "none", "weights_file": "",
                                            "input_size": 64, "pooling": "avg"}, [(16, 16, 3)], small)[0] == (1280,)
    # ImageNet weights of MobileNetV2 depend on the size the backbone sees, not the images'.
    with pytest.raises(shapes.ShapeError, match="1.0_128_no_top.h5"):
        shapes.layer_output("Backbone", {"backbone": "MobileNetV2", "weights": "imagenet", "weights_file": "",
                                         "input_size": 128, "pooling": "avg"}, [(16, 16, 3)], small)


@pytest.mark.slow
def test_a_resized_backbone_fine_tunes_from_a_local_weights_file_and_its_h5_reloads_with_plain_keras(
        tmp_path: Path) -> None:
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    weights = save_backbone_weights("MobileNetV2", tmp_path / "v2.weights.h5")  # built at 32×32
    folder = _image_folder(tmp_path / "pictures")
    spec = backbone_spec(backbone="MobileNetV2", weights="file", weights_file=str(weights), trainable_blocks=1,
                         input_size=48)
    spec["training"] = {"epochs": 1, "batch_size": 4}
    result = run_search(SearchConfig(
        data_path=str(folder), project_dir=str(tmp_path / "project"), max_trials=1, max_epochs=1,
        tuner="random", image_size=(32, 32), space=spec, export_path=str(tmp_path / "best.h5"),
        export_keras=False, refit=False))
    assert result.status == "completed"
    sample = {"image": np.stack([np.asarray(Image.open(folder / c / "0.png")) for c in ("red", "blue")])}
    np.savez(tmp_path / "sample.npz", **sample)
    reply = run_without_app(LOAD_WITHOUT_APP.replace(
        '"backbone": type(backbone).__name__,',
        '"backbone": type(backbone).__name__, "sees": list(backbone.input.shape[1:3]), '
        '"resize": type(model.get_layer("backbone_resize")).__name__,'), tmp_path / "best.h5", tmp_path / "sample.npz")
    assert reply["resize"] == "Resizing" and reply["sees"] == [48, 48]
    assert reply["trainable"] and all(name.startswith(("block_16_", "Conv_1")) for name in reply["trainable"])
    assert np.asarray(reply["pred"]).shape == (2, 1)


@pytest.mark.slow
def test_a_second_phase_unfreezes_the_top_blocks_at_a_lower_rate_and_its_trial_weights_are_exported(
        tmp_path: Path) -> None:
    import keras

    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.search.session import run_search

    weights = save_backbone_weights("MobileNetV2", tmp_path / "v2.weights.h5")
    folder = _image_folder(tmp_path / "pictures")
    spec = backbone_spec(backbone="MobileNetV2", weights="file", weights_file=str(weights), trainable_blocks=0,
                         second_phase_blocks=1, second_phase_lr=0.5)
    spec["training"] = {"epochs": 1, "batch_size": 4, "patience": 0}
    events: list[Any] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_search(SearchConfig(
            data_path=str(folder), project_dir=str(tmp_path / "project"), max_trials=1, max_epochs=1,
            tuner="random", image_size=(32, 32), space=spec, export_path=str(tmp_path / "best.h5"),
            export_keras=False, refit=True), listener=events.append)
    assert result.status == "completed", result.message
    # Reloading the best checkpoint does not warn that its optimizer state is left out.
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    # One epoch with the backbone frozen, one more with its top block unfrozen.
    assert [e.epoch for e in events if e.type == "epoch_ended"] == [1, 2]
    assert [e.max_epochs for e in events if e.type == "trial_started"] == [2]  # what the progress bar counts to
    assert any("trained in two phases" in str(getattr(e, "message", "")) for e in events)

    # The exported weights are the best epoch's, whichever phase it fell in.
    (ended,) = [e for e in events if e.type == "trial_ended"]
    in_second_phase = ended.best_epoch == 2
    start = keras.applications.MobileNetV2(include_top=False, weights=str(weights), input_shape=(32, 32, 3))
    tuned = keras.models.load_model(tmp_path / "best.h5").get_layer("backbone")
    for name, trained in (("block_16_project", in_second_phase), ("Conv_1", in_second_phase),
                          ("block_15_project", False)):
        same = np.array_equal(start.get_layer(name).get_weights()[0], tuned.get_layer(name).get_weights()[0])
        assert same != trained, (name, ended.best_epoch)


def test_the_generated_code_runs_the_same_second_phase(tmp_path: Path) -> None:
    import keras
    import keras_tuner as kt

    from automl_studio.engine.space.codegen import kerastuner_code
    from automl_studio.engine.train.hypermodel import (
        SpecHyperModel,
        build_model,
        start_second_phase,
    )

    space = SearchSpace.from_dict(backbone_spec(
        backbone="MobileNetV2", weights="none", trainable_blocks=0,
        second_phase_blocks={"hp": "int", "min": 0, "max": 2}, second_phase_lr=0.1))
    source = kerastuner_code(space, SIG)
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the code under test
    values = {"backbone.second_phase_blocks": 2, "training.learning_rate": 1e-3}
    engine = build_model(space, SIG, fixed_chooser(values))
    hp = kt.HyperParameters()
    hp.values.update(values)
    code = namespace["build"](hp)
    trainable = [lambda m=m: sum(int(np.prod(w.shape)) for w in m.trainable_weights) for m in (engine, code)]
    assert trainable[0]() == trainable[1]() == 1281 * 1  # the head only: Dense(1) on 1,280 features
    assert start_second_phase(engine, 1e-3) and namespace["start_second_phase"](code, code.first_learning_rate)
    assert trainable[0]() == trainable[1]() > 100_000  # blocks 15 and 16 and the final convolution
    for model in (engine, code):
        assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-4)

    # A second phase of fewer blocks than the first trained never freezes them again.
    space_3_then_1 = SearchSpace.from_dict(backbone_spec(backbone="MobileNetV2", weights="none", trainable_blocks=3,
                                                         second_phase_blocks=1))
    namespace_3_then_1: dict[str, Any] = {}
    exec(kerastuner_code(space_3_then_1, SIG), namespace_3_then_1)  # noqa: S102 - the code under test
    for model in (build_model(space_3_then_1, SIG, fixed_chooser({})),
                  namespace_3_then_1["build"](kt.HyperParameters())):
        first_phase = len(model.trainable_weights)
        assert namespace_3_then_1["start_second_phase"](model, 1e-3)
        assert len(model.trainable_weights) == first_phase

    # Both HyperModels' fit train the second phase after the first, in one history.
    hp.values["backbone.second_phase_blocks"] = 1
    rng = np.random.default_rng(0)
    x, y = {"image": rng.uniform(0, 1, (8, 32, 32, 3)).astype("float32")}, rng.integers(0, 2, 8)
    one_epoch = {**space.to_dict(), "training": {"epochs": 1, "patience": 0}}
    engine_hypermodel = SpecHyperModel(SearchSpace.from_dict(one_epoch), SIG, n_train=8, listener=lambda e: None)
    for hypermodel in (namespace["HyperModel"](), engine_hypermodel):
        keras.backend.clear_session()
        model = hypermodel.build(hp)
        top = model.get_layer("backbone").get_layer("block_16_project")
        before = top.get_weights()[0]
        history = hypermodel.fit(hp, model, x, y, epochs=1, validation_data=(x, y), verbose=0)
        assert history.epoch == [0, 1] and len(history.history["val_loss"]) == 2
        assert not np.array_equal(before, top.get_weights()[0])  # trained in the second phase
        assert not model.get_layer("backbone").get_layer("block_15_project").trainable_weights


@pytest.mark.parametrize("given", ["MobileNetV2", "not HDF5"])
def test_a_weights_file_of_another_network_is_named_before_any_trial(
        tmp_path: Path, given: str) -> None:
    """MobileNetV2's weights given for a MobileNetV3Small (or a file that is no weights file at
    all) end the search with one line naming the file, not Keras' list of every layer."""
    from automl_studio.engine.core.config import SearchConfig
    from automl_studio.engine.core.events import SearchFinished, TrialStarted
    from automl_studio.engine.search.session import run_search

    if given == "not HDF5":
        weights = tmp_path / "notes.weights.h5"
        weights.write_text("not a weights file")
    else:
        weights = save_backbone_weights(given, tmp_path / "v2.weights.h5")
    folder = _image_folder(tmp_path / "pictures", per_class=3)
    events: list[Any] = []
    with pytest.raises(SpecError) as caught:
        run_search(SearchConfig(
            data_path=str(folder), project_dir=str(tmp_path / "project"), max_trials=1, tuner="random",
            image_size=(32, 32), space=backbone_spec(backbone="MobileNetV3Small", weights="file",
                                                     weights_file=str(weights))),
            listener=events.append)
    message = str(caught.value)
    assert f"the weights file {weights} does not hold the weights of MobileNetV3Small" in message
    assert caught.value.node == "backbone" and len(message) < 600 and "\n" not in message
    assert not any(isinstance(e, TrialStarted) for e in events)
    assert isinstance(events[-1], SearchFinished) and events[-1].status == "failed"


def test_one_weights_file_for_a_searched_choice_of_backbones_is_flagged(tmp_path: Path) -> None:
    weights = tmp_path / "mine.weights.h5"
    weights.write_bytes(b"")  # it exists; which network it holds does not matter here
    chosen = {"hp": "choice", "values": ["MobileNetV2", "EfficientNetB0"]}
    searched = shapes.analyse(SearchSpace.from_dict(backbone_spec(backbone=chosen, weights="file",
                                                           weights_file=str(weights))), SIG)
    assert any(i.node == "backbone" and "one weights file cannot hold the weights of every backbone searched "
               "(MobileNetV2, EfficientNetB0)" in i.message for i in searched.issues)
    one = shapes.analyse(SearchSpace.from_dict(backbone_spec(backbone="MobileNetV2", weights="file",
                                                      weights_file=str(weights))), SIG)
    assert not any("one weights file" in i.message for i in one.issues)


def test_a_weights_file_under_the_home_folder_loads_in_the_engine_and_the_generated_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``~/…`` as the weights file: the engine expanded it, the generated code handed it to Keras
    as it was, which refuses it ("The `weights` argument should be either None, imagenet, or the
    path to the weights file")."""
    import keras
    import keras_tuner as kt

    from automl_studio.engine.space.codegen import kerastuner_code
    from automl_studio.engine.train.hypermodel import build_model

    monkeypatch.setenv("HOME", str(tmp_path))
    save_backbone_weights("MobileNetV3Small", tmp_path / "v3.weights.h5")
    space = SearchSpace.from_dict(backbone_spec(backbone="MobileNetV3Small", weights="file",
                                                weights_file="~/v3.weights.h5"))
    source = kerastuner_code(space, SIG)
    assert f'weights="{tmp_path / "v3.weights.h5"}"' in source
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - the code under test
    engine = build_model(space, SIG, fixed_chooser({}))
    code = namespace["build"](kt.HyperParameters())
    for model in (engine, code):
        first = model.get_layer("backbone").get_layer("conv").get_weights()[0]
        start = keras.applications.MobileNetV3Small(include_top=False, weights=str(tmp_path / "v3.weights.h5"),
                                                    input_shape=(32, 32, 3))
        assert np.array_equal(first, start.get_layer("conv").get_weights()[0])
