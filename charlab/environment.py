"""Every environment variable charlab reads, besides the limits of a shared server (charlab/limits.py).

One place to see how a deployment is configured; the README lists them.
"""

from __future__ import annotations

import os
from pathlib import Path

OFF_WORDS = {"0", "false", "no", "off"}
ON_WORDS = {"1", "true", "yes", "on"}


def runs_home() -> Path:
    """Where runs live when no folder is given: $CHARLAB_HOME, else ./runs."""
    return Path(os.environ.get("CHARLAB_HOME") or "runs")


def cache_dir() -> Path:
    """Where downloaded texts are kept: $CHARLAB_CACHE, else ~/.cache/charlab."""
    configured = os.environ.get("CHARLAB_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "charlab"


def trains_in_threads() -> bool:
    """$CHARLAB_TRAIN_IN_THREADS=1: the server trains in its own threads instead of child processes."""
    return os.environ.get("CHARLAB_TRAIN_IN_THREADS", "").strip().lower() in ON_WORDS


def tensorflow_threads() -> tuple[int, int]:
    """TensorFlow's (intra-op, inter-op) threads: $CHARLAB_INTRA_THREADS and $CHARLAB_INTER_THREADS, else
    1 and 2, measured fastest for these small recurrent networks on 2 cores (bench/engine.py)."""
    return int(os.environ.get("CHARLAB_INTRA_THREADS", 1)), int(os.environ.get("CHARLAB_INTER_THREADS", 2))


def owners_setting() -> str | None:
    """$CHARLAB_OWNERS as set (the app reads its secrets file when it is not)."""
    return os.environ.get("CHARLAB_OWNERS", "").strip() or None


def teacher_password() -> str | None:
    """$CHARLAB_TEACHER_PASSWORD as set (the app reads its secrets file when it is not)."""
    return os.environ.get("CHARLAB_TEACHER_PASSWORD") or None


def debug() -> bool:
    """$CHARLAB_DEBUG=1: pages show an unexpected error's traceback."""
    return os.environ.get("CHARLAB_DEBUG") == "1"
