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


# `make test` runs the suite on two pytest-xdist workers with `--dist loadgroup`: each test file
# is one group (its module fixtures, a trained model or a window, are built once), and the files
# that build the package in the source tree (egg-info, build/) share one group, so that no two
# builds of the tree run at the same time.
SOURCE_TREE_BUILDS = {"test_install.py", "test_packaging.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        group = "source-tree" if name in SOURCE_TREE_BUILDS else str(item.path.relative_to(REPO))
        item.add_marker(pytest.mark.xdist_group(group))
