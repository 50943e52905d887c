"""Every environment variable charlab reads, besides the limits of a shared server (charlab/limits.py).

One place to see how a deployment is configured; the README lists them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from charlab.errors import CharlabError

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


def bfloat16_override() -> bool | None:
    """$CHARLAB_BFLOAT16: 1 treats this processor as computing bfloat16 in hardware, 0 as not (to compare
    the two on one machine, or where /proc/cpuinfo does not tell); unset, its flags decide (None)."""
    if not os.environ.get("CHARLAB_BFLOAT16", "").strip():
        return None
    return _switch("CHARLAB_BFLOAT16")


def owners_setting() -> str | None:
    """$CHARLAB_OWNERS as set (the app reads its secrets file when it is not)."""
    return os.environ.get("CHARLAB_OWNERS", "").strip() or None


def teacher_password() -> str | None:
    """$CHARLAB_TEACHER_PASSWORD as set (the app reads its secrets file when it is not)."""
    return os.environ.get("CHARLAB_TEACHER_PASSWORD") or None


def keep_days() -> float | None:
    """$CHARLAB_KEEP_DAYS: runs last changed longer ago than this are removed by the server itself (a school's
    retention rule); unset, runs stay until someone deletes them. A bad value is a CharlabError naming it."""
    raw = os.environ.get("CHARLAB_KEEP_DAYS", "").strip()
    if not raw:
        return None
    try:
        days = float(raw)
    except ValueError:
        days = float("nan")
    if not 0 < days <= 36_500:  # NaN fails too
        raise CharlabError(
            f"CHARLAB_KEEP_DAYS must be a number of days above 0 (such as 30, or 0.5 for half a day), not {raw!r}."
        )
    return days


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
    (charlab.server.cluster); unset, they run on this machine. Any other shape is refused, naming the variable."""
    raw = os.environ.get("CHARLAB_RAY_ADDRESS", "").strip()
    if not raw or raw == "auto":
        return raw or None
    match = _RAY_ADDRESS.fullmatch(raw)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        hint = (
            " (an http:// address is a web page, such as Ray's dashboard, not the cluster)"
            if raw.lower().startswith(("http://", "https://"))
            else ""
        )
        raise CharlabError(
            f"CHARLAB_RAY_ADDRESS must be auto, HOST:PORT (the head's port, 6379 unless 'ray start --head' "
            f"was given another) or ray://HOST:PORT (Ray Client, port 10001), not {raw!r}{hint}."
        )
    return raw


def ray_fallback_local() -> bool:
    """$CHARLAB_RAY_FALLBACK=local: a cluster that cannot be reached at start-up means local trainings."""
    raw = os.environ.get("CHARLAB_RAY_FALLBACK", "").strip()
    if raw.lower() not in ("", "local"):
        raise CharlabError(
            "CHARLAB_RAY_FALLBACK must be local (train on this computer when the cluster cannot be reached) "
            f"or unset (say so on every page instead), not {raw!r}."
        )
    return raw.lower() == "local"


def ray_shared_runs() -> bool:
    """$CHARLAB_RAY_SHARED_RUNS=1: the runs folder is mounted at the same path on every node, so a cluster's
    trainings write their runs there themselves instead of sending them back through Ray."""
    return _switch("CHARLAB_RAY_SHARED_RUNS")


def resources_per_training() -> tuple[float, float | None]:
    """(CPUs, GPUs) a training asks of a Ray cluster: $CHARLAB_CPUS_PER_TRAINING, else 1 (a training uses
    about one core: this server runs as many at once as it has cores, bench/README.md), and
    $CHARLAB_GPUS_PER_TRAINING, else None (a quarter of a GPU where the cluster has GPUs)."""
    cpus = _positive("CHARLAB_CPUS_PER_TRAINING", os.environ.get("CHARLAB_CPUS_PER_TRAINING", "").strip() or "1")
    raw = os.environ.get("CHARLAB_GPUS_PER_TRAINING", "").strip()
    gpus = None if not raw else _positive("CHARLAB_GPUS_PER_TRAINING", raw, zero=True)
    return cpus, gpus


def check_cluster_settings() -> None:
    """Every CHARLAB_RAY_* and CHARLAB_*_PER_TRAINING variable, read once at start-up: a mistyped one is refused
    in words naming it (all the mistyped ones at once), instead of a queue that waits forever."""
    problems = []
    for read in (ray_address, ray_fallback_local, ray_shared_runs, resources_per_training):
        try:
            read()
        except CharlabError as err:
            problems.append(str(err))
    if problems:
        raise CharlabError(" ".join(problems))


# [ray://]host:port, the host a name, an IPv4 address or a bracketed IPv6 one
_RAY_ADDRESS = re.compile(r"(ray://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(?P<port>[0-9]{1,5})")


def _switch(name: str) -> bool:
    """An on/off variable: unset or one of OFF_WORDS is off, one of ON_WORDS on, anything else refused."""
    raw = os.environ.get(name, "").strip()
    if raw.lower() in ON_WORDS:
        return True
    if not raw or raw.lower() in OFF_WORDS:
        return False
    raise CharlabError(f"{name} must be 1 (on) or 0 (off; also true/false, yes/no, on/off), not {raw!r}.")


def _positive(name: str, raw: str, zero: bool = False) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value >= 0 if zero else value > 0) or value > 1024:  # NaN fails the first test
        example = "0, 0.25 or 1" if zero else "1 or 2"
        raise CharlabError(
            f"{name} must be a number {'from 0' if zero else 'above 0'} up to 1024 (such as {example}), not {raw!r}."
        )
    return value
