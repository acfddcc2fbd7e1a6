"""Shared fixtures: small real datasets written to disk, and a quiet TensorFlow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app log (engine/core/app_log.py) of the tests' windows and engine children: not the user's.
os.environ.setdefault("AUTOML_STUDIO_LOG_DIR", tempfile.mkdtemp(prefix="automl-studio-test-log-"))
# The windows' autosaved projects (gui/autosave.py) too: a test never meets a real user's.
os.environ.setdefault("AUTOML_STUDIO_AUTOSAVE_DIR", tempfile.mkdtemp(prefix="automl-studio-test-autosave-"))

REPO = Path(__file__).resolve().parent.parent
IRIS = REPO / "resources" / "iris.csv"


@pytest.fixture
def iris_csv() -> Path:
    return IRIS


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


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    return write_mixed_table(tmp_path / "mixed.csv")


@pytest.fixture
def image_npz(tmp_path: Path) -> Path:
    """60 tiny RGB images of two classes that differ in brightness."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    x = (rng.uniform(0, 120, (60, 12, 12, 3)) + y[:, None, None, None] * 100).astype(np.uint8)
    path = tmp_path / "images.npz"
    np.savez(path, x=x, y=y)
    return path
