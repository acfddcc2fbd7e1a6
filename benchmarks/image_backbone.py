"""Images with a keras.applications backbone against the default image template (#18), same splits.

    .venv/bin/python benchmarks/image_backbone.py [--seeds 0,1,2] [--budget 150]

The data: scikit-learn's 8×8 digits as colour images (the grey channel three times, 0…255), in
an ``.npz`` — the only real labelled images on this machine (it cannot reach Keras' ImageNet
weights, so the backbone starts from random weights: ``weights none``). For each split seed
(80/20, stratified, made here), the same training file is searched twice with the command a user
runs, ``automl-studio search TRAIN.npz --time-budget B``:

* **template**: the default space for the data (the image template);
* **backbone**: the image template with a Backbone node in place of its convolution blocks —
  MobileNetV3Small or MobileNetV2 (searched), images resized to 32×32 inside the model, every
  block trainable (random weights: nothing to keep frozen);

and each exported ``.h5`` is scored by ``automl-studio predict`` on the test file, beside
scikit-learn's LogisticRegression / RandomForest / HistGradientBoosting on the flattened pixels of
the same rows. Raw results: ``benchmarks/results/image_backbone.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_runs import search_and_predict  # noqa: E402
from heldout_corpus import BY_NAME, baselines, score, split  # noqa: E402
from results_file import run_info, write_results  # noqa: E402

BACKBONES = ["MobileNetV3Small", "MobileNetV2"]


def colour_digits() -> dict[str, np.ndarray]:
    """scikit-learn's digits as (1797, 8, 8, 3) uint8 colour images and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    grey = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    return {"x": np.repeat(grey, 3, axis=-1), "y": digits.target.astype(np.int64)}


def backbone_space(path: Path) -> Path:
    """The image template with a from-scratch Backbone in place of its convolution blocks."""
    from automl_studio.engine.space.templates import template_spec

    spec = template_spec("image", {"backbone": BACKBONES}, inputs=["image"])
    (node,) = [n for n in spec["nodes"] if n["type"] == "Backbone"]
    node["params"].update(weights="none", input_size=32, trainable_blocks=64)
    del spec["template"]  # edited: not to be re-laid from the template's options
    path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return path


def searched(space: list[str], train: Path, test: Path, actual: np.ndarray, work: Path,
             budget: float) -> dict[str, Any]:
    """One search on ``train`` with ``space`` options, its export scored by ``predict`` on ``test``."""
    work.mkdir(parents=True)
    record, predicted = search_and_predict(train, [*space, "--time-budget", f"{budget:g}"], test, work, [])
    record["score"] = None
    if predicted is None:
        return record
    record["score"] = score("classification", actual, predicted.to_numpy())
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=float, default=150.0)
    args = parser.parse_args(argv)
    run = run_info()
    data = colour_digits()
    corpus_entry = BY_NAME["digits_images"]  # classification on images: flattened pixels for scikit-learn
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="image-backbone-") as scratch:
        root = Path(scratch)
        space_file = backbone_space(root / "backbone_space.json")
        for seed in (int(s) for s in args.seeds.split(",")):
            train_rows, test_rows = split(data["y"], "classification", seed)
            train = {k: v[train_rows] for k, v in data.items()}
            test = {k: v[test_rows] for k, v in data.items()}
            work = root / f"seed{seed}"
            work.mkdir()
            np.savez(work / "train.npz", **train)
            np.savez(work / "test.npz", x=test["x"])
            row: dict[str, Any] = {"seed": seed, "train": len(train_rows), "test": len(test_rows),
                                   "baselines": baselines(corpus_entry, train, test)}
            for name, space in (("template", []), ("backbone", ["--space", str(space_file)])):
                row[name] = searched(space, work / "train.npz", work / "test.npz", test["y"], work / name,
                                     args.budget)
                print(f"seed {seed} {name}: {row[name]['score']} "
                      f"({row[name].get('trials', {}).get('completed')} trials, {row[name]['wall_s']:.0f} s)",
                      flush=True)
            runs.append(row)
    summary: dict[str, Any] = {}
    for name in ("template", "backbone"):
        scores = [r[name]["score"] for r in runs]
        ok = [s for s in scores if s is not None]
        summary[name] = {"mean": statistics.mean(ok) if ok else None, "worst": min(ok) if ok else None,
                         "failed": len(scores) - len(ok)}
    means = {b: statistics.mean(r["baselines"][b]["score"] for r in runs) for b in runs[0]["baselines"]}
    summary["best_baseline"] = max(means, key=lambda b: means[b])
    summary["baseline_means"] = means

    def fmt(x: float | None) -> str:
        return "—" if x is None else f"{x:.4f}"

    rows = [{"what": f"Images (digits as 8×8 colour, {len(runs)} split seeds, `--time-budget {args.budget:g}`): "
                     "a from-scratch Backbone (MobileNetV3Small/V2, resized to 32×32) vs the default image template",
             "target": "reported (no ImageNet weights here)",
             "measured": (f"accuracy mean/worst: template {fmt(summary['template']['mean'])}/"
                          f"{fmt(summary['template']['worst'])}, backbone {fmt(summary['backbone']['mean'])}/"
                          f"{fmt(summary['backbone']['worst'])}; best scikit-learn {summary['best_baseline']} "
                          f"{means[summary['best_baseline']]:.4f}"),
             "status": "measured"}]
    write_results("image_backbone", {"budget_s": args.budget, "backbones": BACKBONES, "runs": runs,
                                     "summary": summary, "summary_rows": rows}, run)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
