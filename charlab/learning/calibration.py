"""Presets sized to the machine: each preset's recipe chosen by the product rate this computer measures.

A recipe that learns most per minute with bfloat16 units (a bigger GRU at a bigger batch) trains too few
characters without them, so each preset keeps today's float32 winner (charlab.learning.presets.PRESETS) and lists
bigger bfloat16 candidates, each with the bfloat16 product rate it needs. A computer that cannot train in
bfloat16 (no AVX512-BF16 or AMX, or CHARLAB_BFLOAT16=0) gets the float32 winner without measuring
anything. Where it can, a calibration of a few seconds times the matrix products of each recipe's own
shapes, once: the times are cached in `environment.cache_dir()/calibration.json`, keyed by what changes
them (processor, its flags, TensorFlow's version, its threads, CHARLAB_BFLOAT16). `python -m charlab
calibrate` runs it again and prints the table. TensorFlow is imported only to time.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from charlab import environment
from charlab.errors import CharlabError
from charlab.network import precision
from charlab.network.cells import CELL_TYPES, cell_type
from charlab.network.model import ModelConfig, count_parameters

VOCAB = 65  # Tiny Shakespeare's characters: the text the presets are measured on
CACHE_NAME = "calibration.json"
CACHE_VERSION = 1
DTYPES = {precision.FLOAT32: "float32", precision.MIXED_BFLOAT16: "bfloat16"}
SECONDS_PER_PRODUCT = 0.1  # each product is timed at least twice and about this long: a few seconds in all


@dataclass(frozen=True)
class Recipe:
    """A bigger network for a preset, chosen where this computer's bfloat16 products reach `needs_gflops`
    (at the recipe's own shapes: charlab.learning.calibration.products)."""

    config: ModelConfig
    needs_gflops: float


# Estimates, not yet measurements: no machine with bfloat16 units has run bench/precision.py on these rows.
# What they rest on is issue 23's table, from a processor with AMX: a GRU 512 at batch 256 trained 31.9k chars/s
# in mixed bfloat16 (16.0k in float32) and reached a best validation of 1.839 in 2 minutes (float32 1.920). That
# is 5.26 MFLOP a trained character (charlab.network.model.step_work), 168 GFLOP/s: about a third of the ~500 GFLOP/s
# its products' shapes allow there (339 GFLOP/s at 128 rows, 1,075 at 1024³). A candidate's threshold is the
# rate at which, at that third, it trains the characters per second it needs:
#   Balanced, GRU 512 at batch 256: 25k chars/s (≈ 7.5 passes over Tiny Shakespeare in 5 minutes), 400 GFLOP/s;
#   Best, GRU 768 at batch 256 (11.4 MFLOP a character): the same 25k chars/s, 870 GFLOP/s; else GRU 512;
#   Quick, GRU 384 at batch 128 (3.06 MFLOP): in one minute characters count most, so as many as today's GRU 256
#   trained there in float32 (63.5k chars/s), 600 GFLOP/s.
# Best's candidates get dropout (20 minutes is many passes for a bigger network) and 40 epochs (the clock decides;
# at 25k chars/s 20 minutes is ~30 passes). Biggest first: the first whose rate is reached is chosen.
CANDIDATES: dict[str, tuple[Recipe, ...]] = {
    "quick": (Recipe(ModelConfig(cell="gru", units=384, batch_size=128, epochs=20), needs_gflops=600.0),),
    "balanced": (Recipe(ModelConfig(cell="gru", units=512, batch_size=256, epochs=20), needs_gflops=400.0),),
    "best": (
        Recipe(ModelConfig(cell="gru", units=768, batch_size=256, dropout=0.2, epochs=40), needs_gflops=870.0),
        Recipe(ModelConfig(cell="gru", units=512, batch_size=256, dropout=0.1, epochs=40), needs_gflops=400.0),
    ),
}


@dataclass(frozen=True)
class Choice:
    """The recipe a preset trains here, and why, in words."""

    config: ModelConfig
    bfloat16: bool  # a bigger bfloat16 recipe (False: today's float32 winner)
    words: str


# ---------------------------------------------------------------- the shapes and their rate


def products(config: ModelConfig, vocab: int = VOCAB) -> tuple[tuple[int, int, int, int], ...]:
    """The matrix products of one training window, as (rows, inner, columns, times): at every character a
    recurrent layer multiplies its input and its state by its gates' weights; the output layer multiplies every
    character's state by its weights once."""
    gates, m, b, t = cell_type(config.cell).gates, config.units, config.batch_size, config.seq_length
    layers = [(b, d, gates * m, t) for d in [config.embedding_dim] + [m] * (config.layers - 1)]
    return (*layers, (b, m, gates * m, t * config.layers), (b * t, m, vocab, 1))


def product_name(m: int, k: int, n: int, dtype: str) -> str:
    return f"{m}x{k}x{n} {dtype}"


def rate(config: ModelConfig, dtype: str, seconds: Mapping[str, float], vocab: int = VOCAB) -> float | None:
    """GFLOP/s of the recipe's own products in `dtype`, from their best times (None: not measured)."""
    flops = spent = 0.0
    for m, k, n, count in products(config, vocab):
        best = seconds.get(product_name(m, k, n, dtype))
        if best is None:
            return None
        flops += 2 * m * k * n * count
        spent += best * count
    return flops / spent / 1e9


def time_products(
    wanted: Iterable[tuple[int, int, int, str]], seconds_each: float = SECONDS_PER_PRODUCT
) -> dict[str, float]:
    """The best time of each (rows, inner, columns, dtype) product, as charlab's training runs TensorFlow
    (bench/precision.py's ceilings time them longer)."""
    import numpy as np

    from charlab.network.keras_setup import import_keras

    import_keras()  # TensorFlow's thread pools as charlab trains
    import tensorflow as tf

    rng = np.random.default_rng(0)
    found = {}
    for m, k, n, dtype in sorted(set(wanted)):
        a = tf.cast(tf.constant(rng.standard_normal((m, k), dtype=np.float32)), dtype)
        b = tf.cast(tf.constant(rng.standard_normal((k, n), dtype=np.float32)), dtype)
        tf.linalg.matmul(a, b).numpy()  # warm-up
        best, repeats, started = math.inf, 0, time.perf_counter()
        while repeats < 2 or (repeats < 50 and time.perf_counter() - started < seconds_each):
            begun = time.perf_counter()
            tf.linalg.matmul(a, b).numpy()
            best, repeats = min(best, time.perf_counter() - begun), repeats + 1
        found[product_name(m, k, n, dtype)] = best
    return found


# ---------------------------------------------------------------- the calibration and its cache


def bfloat16_here() -> bool:
    """Whether a preset's `auto` trains in mixed bfloat16 on this computer (its processor's units, or
    CHARLAB_BFLOAT16=1): only then are the bfloat16 recipes worth timing."""
    return precision.resolve("auto").policy == precision.MIXED_BFLOAT16


def dtypes_here() -> tuple[str, ...]:
    """The number types this computer trains in (float32 always; bfloat16 where `auto` means it)."""
    return ("float32", "bfloat16") if bfloat16_here() else ("float32",)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    names = [line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("model name")]
    return names[0] if names else os.uname().machine


TENSORFLOW_PACKAGES = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly")


def tensorflow_version() -> str:
    """TensorFlow's version, read from its package without importing it."""
    for name in TENSORFLOW_PACKAGES:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def cache_key() -> dict[str, str]:
    """What the measured times depend on: a cached calibration made under another key is measured again."""
    flags = " ".join(sorted(precision.cpu_flags()))
    intra, inter = environment.tensorflow_threads()
    return {
        "cpu": cpu_model(),
        "flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
        "tensorflow": tensorflow_version(),
        "threads": f"{intra}/{inter}",
        "CHARLAB_BFLOAT16": os.environ.get("CHARLAB_BFLOAT16", "").strip(),
    }


def cache_path() -> Path:
    return environment.cache_dir() / CACHE_NAME


def wanted_products(full: bool = False, winners: Iterable[ModelConfig] = ()) -> set[tuple[int, int, int, str]]:
    """What the choice needs: the bigger recipes' products in bfloat16, where this computer trains in it.
    `full`: every recipe's (and the float32 `winners'`: charlab.learning.presets) in every number type it trains in,
    for the table."""
    candidates = [recipe.config for recipes in CANDIDATES.values() for recipe in recipes]
    if not full:
        return (
            {(m, k, n, "bfloat16") for each in candidates for m, k, n, _ in products(each)}
            if bfloat16_here()
            else set()
        )
    configs = candidates + list(winners)
    return {(m, k, n, dtype) for config in configs for m, k, n, _ in products(config) for dtype in dtypes_here()}


def read_cache(key: Mapping[str, str], path: Path | None = None) -> dict[str, float] | None:
    """The cached product times, if the file is whole and was measured under `key` (else None: measure again)."""
    try:
        saved = json.loads((path or cache_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, not JSON (UnicodeDecodeError is a ValueError)
        return None
    if not isinstance(saved, dict) or saved.get("version") != CACHE_VERSION or saved.get("key") != dict(key):
        return None
    seconds = saved.get("seconds")
    if not isinstance(seconds, dict) or not all(
        isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in seconds.values()
    ):
        return None
    return {str(k): float(v) for k, v in seconds.items()}


def write_cache(key: Mapping[str, str], seconds: Mapping[str, float], path: Path | None = None) -> bool:
    """Save the times whole or not at all (False: not saved); a cache folder that cannot be written only means
    measuring again in the next process."""
    from charlab.saving.runs import write_json_atomic

    path = path or cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, {"version": CACHE_VERSION, "key": dict(key), "seconds": dict(seconds)})
    except (OSError, CharlabError):
        return False
    return True


_measured: dict[str, dict[str, float]] = {}  # this process's calibration, by its cache key


def calibration(again: bool = False, full: bool = False, winners: Iterable[ModelConfig] = ()) -> dict[str, float]:
    """The product times of the recipes' shapes on this computer (`wanted_products`): this process's, else the
    cached file's, else measured now (a few seconds) and cached. `again`: measure now whatever is cached."""
    key = cache_key()
    memo = json.dumps(key, sort_keys=True)
    known = {} if again else _measured.get(memo) or read_cache(key) or {}
    missing = {p for p in wanted_products(full, winners) if product_name(*p) not in known}
    if missing:
        known = {**known, **time_products(missing)}
        write_cache(key, known)
    _measured[memo] = known
    return known


# ---------------------------------------------------------------- the choice


def network_words(config: ModelConfig) -> str:
    dropout = f" with dropout {config.dropout:.0%}" if config.dropout else ""
    return f"{CELL_TYPES[config.cell].label} {config.units} at batch {config.batch_size}{dropout}"


def fits_server(config: ModelConfig) -> bool:
    """A bigger recipe must still be one this server lets a student train (CHARLAB_MAX_PARAMETERS)."""
    from charlab import limits

    try:
        return count_parameters(config, VOCAB) <= limits.current().max_parameters
    except CharlabError:  # a bad limit is reported at start-up; the float32 winner is the safe choice meanwhile
        return False


def choose(key: str, winner: ModelConfig, seconds: Mapping[str, float] | None = None) -> Choice:
    """The recipe preset `key` trains here: the first bfloat16 candidate whose rate this computer reaches, else
    `winner` (today's float32 recipe). `seconds`: the product times (None: this computer's calibration, only
    measured where bfloat16 can be used at all)."""
    if not bfloat16_here():
        if precision.resolve("auto").policy == precision.MIXED_FLOAT16:
            why = "This computer trains in float16 on its GPU: the float32 recipe (the bigger ones are for processors)."
        else:
            why = "This computer has no bfloat16 units (AVX512-BF16 or AMX): the float32 recipe."
        return Choice(winner, bfloat16=False, words=why)
    if seconds is None:
        try:
            seconds = calibration()
        except Exception as err:  # noqa: BLE001 - a preset must never fail because timing did
            words = f"Timing this computer's bfloat16 failed ({type(err).__name__}): the float32 recipe."
            return Choice(winner, bfloat16=False, words=words)
    missed = []
    for recipe in CANDIDATES.get(key, ()):
        measured = rate(recipe.config, "bfloat16", seconds) or 0.0
        if measured >= recipe.needs_gflops and fits_server(recipe.config):
            words = (
                f"This processor computes bfloat16 products at {measured:,.0f} GFLOP/s at its shapes (it needs "
                f"{recipe.needs_gflops:,.0f}): a {network_words(recipe.config)} in mixed bfloat16."
            )
            return Choice(recipe.config, bfloat16=True, words=words)
        missed.append(f"{network_words(recipe.config)} needs {recipe.needs_gflops:,.0f} GFLOP/s, {measured:,.0f} here")
    why = "; ".join(missed) or "no bigger recipe for it"
    return Choice(winner, bfloat16=False, words=f"bfloat16 is not fast enough here for a bigger network ({why}): "
                  "the float32 recipe.")  # fmt: skip
