"""Peak memory of a search on data larger than is comfortable.

Generates (1) a 2,000,000 × 30 CSV (28 numeric columns, one categorical, a binary target;
~430 MB) and (2) a folder of 20,000 PNG images (64×64, 10 classes), then in the same run measures
the peak resident memory (ru_maxrss of a child process) of:

* baselines: ``pandas.read_csv`` of the CSV with default settings, nothing else; decoding the
  whole image folder into one array (what the loader does for small folders);
* automl-studio: a whole search on each — profile, features, one trial of one epoch, refit, test
  evaluation and export — through the engine's command line.

Target: ≤ 1.5 GB while training.

    python benchmarks/large_data.py [--rows 2000000] [--images 20000] [--keep DIR]

Writes benchmarks/results/large_data.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

READ_ONLY = "import sys, pandas; frame = pandas.read_csv(sys.argv[1]); print(frame.shape)"


def make_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    header = [f"x{i}" for i in range(28)] + ["color", "target"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(header) + "\n")
        for start in range(0, rows, 200_000):
            n = min(200_000, rows - start)
            x = rng.normal(size=(n, 28)).astype(np.float32)
            color = rng.choice(np.array(["red", "green", "blue", "amber"]), n)
            target = (x[:, 0] + 0.5 * x[:, 1] + (color == "red") + rng.normal(0, 1, n) > 0.5).astype(int)
            lines = [",".join(f"{v:.4f}" for v in row) + f",{c},{t}" for row, c, t in zip(x, color, target, strict=False)]
            handle.write("\n".join(lines) + "\n")


def make_images(folder: Path, count: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        label = i % 10
        pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) // 2 + label * 12
        target = folder / f"class_{label}"
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels.astype(np.uint8)).save(target / f"{i:05d}.png")


EAGER_IMAGES = ("import sys; from pathlib import Path; from automl_studio.engine.data.images import load_image_folder; "
                "print(load_image_folder(Path(sys.argv[1]), lazy=False).x.shape)")


def peak_child_mb(command: list[str]) -> tuple[float, float]:
    """Runs a command in a fresh process; returns (peak RSS in MB, seconds)."""
    start = time.monotonic()
    wrapper = ("import resource, subprocess, sys\n"
               "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--keep", help="folder to keep the generated CSV in (reused when present)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"large_{args.rows}.csv"
    if not data.exists():
        t = time.monotonic()
        make_csv(data, args.rows)
        print(f"generated {data} ({data.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - t:.0f} s", flush=True)
    spec = {"schema_version": 1, "name": "linear-plus",
            "nodes": [{"id": "numeric", "type": "Input", "params": {"source": "numeric"}},
                      {"id": "categorical", "type": "Input", "params": {"source": "categorical"}},
                      {"id": "features", "type": "Concatenate"},
                      {"id": "dense", "type": "Dense", "params": {"units": 32}},
                      {"id": "head", "type": "Output"}],
            "edges": [["numeric", "features"], ["categorical", "features"], ["features", "dense"], ["dense", "head"]],
            "training": {"batch_size": 2048, "epochs": 1, "patience": 0}}
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec))
    baseline_mb, baseline_s = peak_child_mb([sys.executable, "-c", READ_ONLY, str(data)])
    print(f"baseline pandas.read_csv: peak {baseline_mb:.0f} MB ({baseline_s:.0f} s)", flush=True)
    studio_mb, studio_s = peak_child_mb([
        sys.executable, "-m", "automl_studio.engine.cli", "search", str(data), "--target", "target",
        "--space", str(spec_path), "--tuner", "random", "--max-trials", "1", "--max-epochs", "1",
        "--project", str(folder / "project"), "--fresh"])
    print(f"automl-studio search (1 trial, refit, export): peak {studio_mb:.0f} MB ({studio_s:.0f} s)")
    images = folder / f"images_{args.images}"
    if not images.exists():
        t = time.monotonic()
        make_images(images, args.images)
        print(f"generated {args.images} images in {time.monotonic() - t:.0f} s", flush=True)
    eager_mb, eager_s = peak_child_mb([sys.executable, "-c", EAGER_IMAGES, str(images)])
    print(f"baseline: decode the whole folder: peak {eager_mb:.0f} MB ({eager_s:.0f} s)", flush=True)
    image_spec = {"schema_version": 1, "name": "small-cnn",
                  "nodes": [{"id": "image", "type": "Input", "params": {"source": "image"}},
                            {"id": "conv", "type": "Conv2D", "params": {"filters": 16, "strides": 2}},
                            {"id": "gap", "type": "GlobalAveragePooling2D"},
                            {"id": "head", "type": "Output"}],
                  "edges": [["image", "conv"], ["conv", "gap"], ["gap", "head"]],
                  "training": {"batch_size": 256, "epochs": 1, "patience": 0}}
    image_spec_path = folder / "image_spec.json"
    image_spec_path.write_text(json.dumps(image_spec))
    lazy_mb, lazy_s = peak_child_mb([
        sys.executable, "-m", "automl_studio.engine.cli", "search", str(images), "--space", str(image_spec_path),
        "--tuner", "random", "--max-trials", "1", "--max-epochs", "1", "--project", str(folder / "image_project"),
        "--fresh"])
    print(f"automl-studio search on the images (1 trial, refit, export): peak {lazy_mb:.0f} MB ({lazy_s:.0f} s)")
    summary = {"machine": platform.node(), "rows": args.rows, "columns": 30,
               "file_mb": data.stat().st_size / 1e6, "baseline_read_csv_peak_mb": baseline_mb,
               "search_peak_mb": studio_mb, "ratio_to_baseline": studio_mb / baseline_mb,
               "search_seconds": studio_s, "images": args.images, "baseline_decode_all_peak_mb": eager_mb,
               "image_search_peak_mb": lazy_mb, "image_ratio_to_baseline": lazy_mb / eager_mb,
               "image_search_seconds": lazy_s, "target_mb": 1536}
    print(json.dumps(summary, indent=2))
    from results_file import write_results

    write_results("large_data", summary)


if __name__ == "__main__":
    main()
