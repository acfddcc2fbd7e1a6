"""Engine tests run headless and quiet; TensorFlow's C++ logging is turned down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from datafiles import write_image_npz, write_mixed_table

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    return write_mixed_table(tmp_path / "mixed.csv")


@pytest.fixture
def image_npz(tmp_path: Path) -> Path:
    return write_image_npz(tmp_path / "images.npz")
