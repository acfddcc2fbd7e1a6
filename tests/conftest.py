"""Shared fixtures: small real datasets written to disk, and a quiet TensorFlow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
