"""Engine tests run headless and quiet; TensorFlow's C++ logging is turned down."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
