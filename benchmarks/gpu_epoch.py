"""One epoch of the default image search's largest model: automl-studio vs a bare ``model.fit``.

Issue: the training path must add no overhead on a GPU (target ratio ≤ 1.10). Both sides train the
same network (the image template with every range at its maximum and every optional layer on) on
the same 10,000 synthetic 32×32×3 images, in the same process, alternating A/B. The second epoch is
timed (the first includes tracing/compilation).

    KERAS_BACKEND=jax python benchmarks/gpu_epoch.py            # on the GPU machine
    python benchmarks/gpu_epoch.py --images 2000 --repeats 1   # a quick CPU check

Prints a table and writes benchmarks/results/gpu_epoch.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from automl_studio.engine.core.config import SearchConfig
from automl_studio.engine.core.events import Event
from automl_studio.engine.search.session import run_search
from automl_studio.engine.space.shapes import _chooser
from automl_studio.engine.space.spec import SearchSpace, is_hp
from automl_studio.engine.space.templates import template_spec


def largest_image_spec(batch_size: int) -> dict:
    """The image template with every hyperparameter fixed at its largest value."""
    spec = template_spec("image", inputs=["image"])
    spec.pop("template")
    choose = _chooser("high")
    space = SearchSpace.from_dict(spec)
    for node in spec["nodes"]:
        node.pop("optional", None)
        for key, _value in list(node["params"].items()):
            parsed = space.node(node["id"]).params[key]
            if is_hp(parsed):
                node["params"][key] = choose(key, parsed)
    for rep in spec["repeats"]:
        rep["min"] = rep["max"]
    spec["training"] = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": batch_size, "epochs": 2,
                        "patience": 0}
    return spec


def bare_epoch(x: np.ndarray, y: np.ndarray, spec: dict, batch_size: int) -> float:
    """Second-epoch seconds of a plain model.fit on the same network."""
    import keras

    from automl_studio.engine.data.features import prepare_data  # noqa: F401 (same preprocessing path)
    from automl_studio.engine.data.signature import DataSignature
    from automl_studio.engine.space.spec import fixed_chooser
    from automl_studio.engine.train.hypermodel import build_model

    signature = DataSignature("classification", 10, {"image": tuple(x.shape[1:])}, image_scale=1 / 255)
    model = build_model(SearchSpace.from_dict(spec), signature, fixed_chooser({}))
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit({"image": x}, y, batch_size=batch_size, epochs=2, verbose=0, callbacks=[Timer()])
    return times[-1]


def studio_epoch(data: Path, spec: dict, project: Path) -> float:
    """Second-epoch seconds inside an automl-studio search (from its epoch events)."""
    stamps: list[float] = []

    def listener(event: Event) -> None:
        if event.type in ("trial_started", "epoch_ended") and getattr(event, "trial_id", "") != "refit":
            stamps.append(event.time)

    run_search(SearchConfig(data_path=str(data), project_dir=str(project), space=spec, tuner="random",
                            max_trials=1, max_epochs=2, patience=0, refit=False, tensorboard=False,
                            validation_fraction=0.01, test_fraction=0.0, fresh=True), listener)
    return stamps[-1] - stamps[-2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import keras

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, args.images)
    spec = largest_image_spec(args.batch_size)
    results = {"studio": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "images.npz"
        # automl-studio trains on (1 - 0.01) of the rows; give bare fit the same count.
        np.savez(data, x=x, y=y)
        n_train = args.images - max(1, round(args.images * 0.01 / 10) * 10)
        for r in range(args.repeats):
            order = ("studio", "bare") if r % 2 == 0 else ("bare", "studio")
            for side in order:
                if side == "studio":
                    results[side].append(studio_epoch(data, spec, Path(tmp) / f"p{r}"))
                else:
                    results[side].append(bare_epoch(x[:n_train], y[:n_train], spec, args.batch_size))
                print(f"repeat {r + 1} {side:6s} epoch {results[side][-1]:.3f} s", flush=True)
    studio, bare = statistics.median(results["studio"]), statistics.median(results["bare"])
    device = "cpu"
    try:
        import jax

        device = str(jax.devices()[0])
    except Exception:  # noqa: BLE001 - any backend
        pass
    summary = {"backend": keras.backend.backend(), "device": device, "machine": platform.node(),
               "images": args.images, "batch_size": args.batch_size, "studio_s": studio, "bare_s": bare,
               "ratio": studio / bare, "runs": results}
    print(json.dumps(summary, indent=2))
    from results_file import write_results

    write_results("gpu_epoch", summary)


if __name__ == "__main__":
    main()
