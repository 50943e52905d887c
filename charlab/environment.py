"""Every environment variable charlab reads, besides the limits of a shared server (charlab/limits.py).

One place to see how a deployment is configured; the README lists them.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

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


def public_url() -> str | None:
    """$CHARLAB_PUBLIC_URL: the address students open (e.g. http://192.168.1.20:8501, or a proxy's
    https://charlab.myschool.example), which lesson links are built on; unset, the teacher's browser
    address (or this computer's network address when that is localhost). A bad value is a CharlabError
    naming the variable: app.py checks it at start-up, with the limits."""
    raw = os.environ.get("CHARLAB_PUBLIC_URL", "").strip()
    if not raw:
        return None
    if not _is_web_address(raw):
        from charlab.errors import CharlabError

        raise CharlabError(
            "CHARLAB_PUBLIC_URL must be the address students open, starting with http:// or https://, such as "
            f"http://192.168.1.20:8501 or https://charlab.myschool.example, not {raw!r}."
        )
    return raw


def _is_web_address(raw: str) -> bool:
    """http(s)://host[:port][/path], with no query, fragment or blank inside."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.query or parts.fragment)
        and not any(ch.isspace() for ch in raw)
    )


def ray_address() -> str | None:
    """$CHARLAB_RAY_ADDRESS (auto, host:6379 or ray://host:10001): trainings run on that Ray cluster
    (charlab.cluster); unset, they run on this machine."""
    return os.environ.get("CHARLAB_RAY_ADDRESS", "").strip() or None


def ray_fallback_local() -> bool:
    """$CHARLAB_RAY_FALLBACK=local: a cluster that cannot be reached at start-up means local trainings."""
    return os.environ.get("CHARLAB_RAY_FALLBACK", "").strip().lower() == "local"


def ray_shared_runs() -> bool:
    """$CHARLAB_RAY_SHARED_RUNS=1: the runs folder is mounted at the same path on every node, so a cluster's
    trainings write their runs there themselves instead of sending them back through Ray."""
    return os.environ.get("CHARLAB_RAY_SHARED_RUNS", "").strip().lower() in ON_WORDS


def resources_per_training() -> tuple[float, float | None]:
    """(CPUs, GPUs) a training asks of a Ray cluster: $CHARLAB_CPUS_PER_TRAINING, else 1 (a training uses
    about one core: this server runs as many at once as it has cores, bench/README.md), and
    $CHARLAB_GPUS_PER_TRAINING, else None (a quarter of a GPU where the cluster has GPUs)."""
    cpus = _positive("CHARLAB_CPUS_PER_TRAINING", os.environ.get("CHARLAB_CPUS_PER_TRAINING") or "1")
    raw = os.environ.get("CHARLAB_GPUS_PER_TRAINING", "").strip()
    gpus = None if not raw else _positive("CHARLAB_GPUS_PER_TRAINING", raw, zero=True)
    return cpus, gpus


def _positive(name: str, raw: str, zero: bool = False) -> float:
    from charlab.errors import CharlabError

    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value >= 0 if zero else value > 0) or value > 1024:  # NaN fails the first test
        raise CharlabError(f"{name} must be a number {'from 0' if zero else 'above 0'} up to 1024, not {raw!r}.")
    return value
