"""The precision a network trains in: float32, or mixed precision where the hardware computes faster in it.

Mixed precision computes the layers' products in 16 bits (bfloat16 on a processor with AVX512-BF16 or
AMX, float16 on a GPU) while the variables, the loss, Adam's state and the saved weights stay float32:
weights.npz, the numpy sampler, export and import never see a 16-bit number. Issue 23 measured a
GRU 512 at batch 256 training twice as many characters per second in bfloat16 on a processor with AMX.

`auto` is resolved on the machine that trains, each time a training starts, so a run trained in bfloat16
continues in float32 on a laptop without it. Works without TensorFlow (the Train page explains the
choice before TensorFlow is imported).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from charlab import environment

PRECISIONS = {"auto": "Auto", "float32": "float32", "bfloat16": "bfloat16"}
# the Keras dtype policy of each precision a training can run in
FLOAT32, MIXED_BFLOAT16, MIXED_FLOAT16 = "float32", "mixed_bfloat16", "mixed_float16"
POLICY_WORDS = {FLOAT32: "float32", MIXED_BFLOAT16: "mixed bfloat16", MIXED_FLOAT16: "mixed float16"}
# /proc/cpuinfo's flag -> the name people know it by, the strongest first
BFLOAT16_FLAGS = {"amx_bf16": "AMX", "avx512_bf16": "AVX512-BF16"}


@dataclass(frozen=True)
class Resolved:
    """What a precision setting means on this machine: the Keras policy, and why, in words."""

    policy: str  # FLOAT32, MIXED_BFLOAT16 or MIXED_FLOAT16
    words: str


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The processor's feature flags (empty where there is no /proc/cpuinfo: macOS, Windows)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


@lru_cache(maxsize=1)
def _detected_bfloat16_unit() -> str | None:
    flags = cpu_flags()
    return next((name for flag, name in BFLOAT16_FLAGS.items() if flag in flags), None)


def bfloat16_unit() -> str | None:
    """The processor's bfloat16 unit ('AMX', 'AVX512-BF16'), or None; $CHARLAB_BFLOAT16 overrides the flags."""
    override = environment.bfloat16_override()
    if override is not None:
        return "CHARLAB_BFLOAT16=1" if override else None
    return _detected_bfloat16_unit()


def has_gpu() -> bool:
    """A GPU TensorFlow can use: asked of TensorFlow once it is imported, else guessed from the NVIDIA driver's
    device file (so the Train page does not import TensorFlow to say it)."""
    if "tensorflow" in sys.modules:
        return bool(sys.modules["tensorflow"].config.list_physical_devices("GPU"))
    return Path("/dev/nvidia0").exists()


def resolve(precision: str, unit: str | None = None, gpu: bool | None = None) -> Resolved:
    """The policy a training with this setting runs in here (`unit`, `gpu`: this machine's, unless given).

    An explicit bfloat16 where neither the processor nor a GPU computes it trains in float32 and says so:
    emulated bfloat16 is slower than float32 and learns no better, and a run or lesson link asking for it
    must still train on any computer.
    """
    unit = bfloat16_unit() if unit is None else unit or None
    gpu = has_gpu() if gpu is None else gpu
    if precision == FLOAT32:
        return Resolved(FLOAT32, "float32, as chosen.")
    if precision == "bfloat16":
        if unit or gpu:
            where = f"in hardware ({unit})" if unit else "on the GPU"
            return Resolved(MIXED_BFLOAT16, f"mixed bfloat16, as chosen: computed {where}.")
        return Resolved(
            FLOAT32,
            "float32: bfloat16 was chosen, but this computer has no bfloat16 unit (AVX512-BF16 or AMX), where "
            "it would only be slower.",
        )
    if gpu:
        return Resolved(MIXED_FLOAT16, "mixed float16 (auto): the GPU computes 16-bit products fastest.")
    if unit:
        return Resolved(MIXED_BFLOAT16, f"mixed bfloat16 (auto): this processor computes it in hardware ({unit}).")
    return Resolved(FLOAT32, "float32 (auto): this processor has no bfloat16 unit (AVX512-BF16 or AMX).")


def support_words() -> str:
    """One line for the Train page: what this computer supports, and what auto trains in here."""
    unit, gpu = bfloat16_unit(), has_gpu()
    auto = POLICY_WORDS[resolve("auto", unit or "", gpu).policy]
    if gpu:
        return f"This computer has a GPU: auto trains in {auto}, computing 16-bit products on it."
    if unit:
        return f"This processor computes bfloat16 products in hardware ({unit}): auto trains in {auto}."
    return (
        "This processor has no bfloat16 unit (AVX512-BF16 or AMX): auto trains in float32, and so does bfloat16, "
        "where it would only be slower."
    )
