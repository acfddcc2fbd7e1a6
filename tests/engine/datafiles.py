"""Small data files the engine tests make at test time (no binary junk is committed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
IRIS = REPO / "resources" / "iris.csv"

# The start of a fresh-process script that proves an exported file needs no automl_studio: any
# import of the package fails (it is installed in this venv, so it must be blocked).
WITHOUT_APP = r"""import sys, json
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "automl_studio":
            raise ImportError("automl_studio is not installed here")
        return None
sys.meta_path.insert(0, Block())
"""


# A fresh-process script: loads the .h5 of argv[1] with plain Keras and prints its predictions
# (flattened) on the inputs of the .npz of argv[2], as JSON.
PREDICT_WITHOUT_APP = WITHOUT_APP + r"""import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
with np.load(sys.argv[2]) as data:
    inputs = {k: data[k] for k in data.files}
print(json.dumps(np.asarray(model.predict(inputs, verbose=0)).reshape(-1).tolist()))
"""


def run_without_app(script: str, *args: Path | str, timeout: int = 600) -> Any:
    """Runs ``script`` (one that starts with :data:`WITHOUT_APP`) with ``args`` in a fresh
    interpreter and returns the JSON its last line of output prints; a failure shows its stderr."""
    fresh = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                           timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    return json.loads(fresh.stdout.strip().splitlines()[-1])


def write_png(path: Path, size: tuple[int, int] = (8, 6), seed: int = 0) -> Path:
    """Writes a small random RGB PNG."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def make_image_folder(root: Path, counts: dict[str, int]) -> Path:
    """A folder with one subfolder of PNGs per class, ``counts[class]`` images each."""
    root.mkdir(parents=True, exist_ok=True)
    for k, (name, n) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(exist_ok=True)
        for i in range(n):
            write_png(folder / f"{i}.png", seed=100 * k + i)
    return root


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_image_npz(path: Path) -> Path:
    """60 tiny RGB images (12×12) of two classes that differ in brightness, as ``x`` and ``y``."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    x = (rng.uniform(0, 120, (60, 12, 12, 3)) + y[:, None, None, None] * 100).astype(np.uint8)
    np.savez(path, x=x, y=y)
    return path


def write_mixed_table(path: Path, rows: int = 160, seed: int = 0) -> Path:
    """A table with numbers, categories, missing values, an ID column and string labels."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, rows).round(1)
    income = rng.lognormal(10, 0.5, rows).round(0)
    city = rng.choice(["Paris", "Lyon", "Nice"], rows)
    score = age / 10 + (city == "Paris") * 2 + rng.normal(0, 1, rows)
    label = np.where(score > np.median(score), "Yes", "no")
    lines = ["id,age,income,city,label"]
    for i in range(rows):
        a = "" if i % 11 == 0 else str(age[i])
        c = "NA" if i % 13 == 0 else city[i]
        lines.append(f"{1000 + i},{a},{income[i]:.0f},{c},{label[i]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_GOOD = ("great", "wonderful", "loved", "excellent", "superb", "délicieux", "très bien", "好看", "😀", "brilliant")
_BAD = ("awful", "terrible", "hated", "boring", "dreadful", "décevant", "très mauvais", "难看", "😡", "waste")
_NEUTRAL = ("the film", "this café", "our meal", "the story", "the actors", "the ending", "le service",
            "the music", "电影", "the book")


def write_reviews(path: Path, rows: int = 200, seed: int = 0, *, with_stars: bool = False) -> Path:
    """Short reviews labelled ``pos``/``neg``: several words each, accents, CJK and emoji mixed in.

    The sentiment lies in the words only, so a model that reads the text learns it and one that
    treats each review as a category cannot. ``with_stars`` adds a weakly related number column.
    """
    rng = np.random.default_rng(seed)
    lines = ["review,stars,label" if with_stars else "review,label"]
    for i in range(rows):
        positive = i % 2 == 0
        words = _GOOD if positive else _BAD
        text = (f"{rng.choice(_NEUTRAL)} was {rng.choice(words)}, {rng.choice(_NEUTRAL)} "
                f"{rng.choice(['really', 'quite', 'so', 'vraiment'])} {rng.choice(words)} #{i}")
        stars = int(np.clip(rng.normal(4 if positive else 2, 1.2), 1, 5))
        label = "pos" if positive else "neg"
        lines.append(f'"{text}",{stars},{label}' if with_stars else f'"{text}",{label}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_steps(path: Path, rows: int, seed: int = 0) -> Path:
    """A table whose label is an exclusive-or of two thresholds and a category (one label in 25
    flipped): a forest's staircase, which a network of a few epochs does not learn."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0, 10, rows), rng.uniform(-5, 5, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    flipped = rng.uniform(size=rows) < 0.04
    label = np.where((a > 6.2) ^ (b > 1.3) ^ (colour == "blue") ^ flipped, "yes", "no")
    path.write_text("a,b,colour,label\n" + "\n".join(
        f"{x:.3f},{y:.3f},{c},{t}" for x, y, c, t in zip(a, b, colour, label, strict=True)) + "\n")
    return path


def write_slope(path: Path, rows: int, noise: float, slope: float = 1.0, seed: int = 5) -> Path:
    """A regression table ``a, b, c -> y``: ``y = slope · a + 0.5 b − c`` (the last two only where
    ``slope`` is 1) plus normal noise of standard deviation ``noise``; ``a, b, c`` uniform on [0, 10]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, (rows, 3))
    y = slope * x[:, 0] + (0.5 * x[:, 1] - x[:, 2] if slope == 1.0 else 0.0) + rng.normal(0, noise, rows)
    path.write_text("a,b,c,y\n" + "\n".join(f"{p:.4f},{q:.4f},{r:.4f},{t:.4f}" for (p, q, r), t in
                                             zip(x, y, strict=True)) + "\n")
    return path
