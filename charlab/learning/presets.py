"""The Train page's presets, and each fitted to the text it trains on: a small text gets a small network with
dropout, and fewer minutes.

A preset's network is sized for Tiny Shakespeare (1.1 MB): a GRU of 256-384 units, about 0.25
million numbers to learn. On a 4 KB text that is 60 numbers per character, enough to learn the text
by heart: its validation loss is best after a fraction of the minute and rises from there, and it
writes back passages of the text. Below `SMALL_TEXT_CHARS` the network, its dropout, its batch and
its minutes follow the text's size (the tiers below, chosen by `python bench/smalltext.py`, whose
measurements are in bench/README.md); above it, a preset is exactly as it is.

`PRESETS` holds the float32 winners; `preset` gives the recipe this computer trains (charlab.learning.calibration: a
bigger network where bfloat16 units make it learn more in the minutes, today's winner elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from charlab.errors import CharlabError
from charlab.learning import calibration
from charlab.network.model import ModelConfig
from charlab.text.data import split_sizes

# preset key -> (label, training time by the clock in seconds, model): a preset trains for its
# minutes on any computer (the job's time budget), keeping the best model it found; the epochs only cap it.
# These are measured on Tiny Shakespeare; `fit_to_text` fits them to a smaller text.
PRESETS: dict[str, tuple[str, float, ModelConfig]] = {
    "quick": ("Quick · 1 minute", 60.0, ModelConfig(cell="gru", units=256, epochs=20)),
    # GRU 384 learns more than 256 in 5 minutes: 1.546 against 1.569 (bench/sweep.py --minutes 5)
    "balanced": ("Balanced · 5 minutes", 300.0, ModelConfig(cell="gru", units=384, epochs=20)),
    # GRU 384 with a little dropout for its many epochs: 1.560 after 20 minutes (bench/README.md)
    "best": ("Best quality · 20 minutes", 1200.0, ModelConfig(cell="gru", units=384, dropout=0.1, epochs=20)),
}


def preset(key: str) -> tuple[str, float, ModelConfig]:
    """Preset `key` as this computer trains it: its label, its seconds by the clock and the recipe its measured
    speed chose (on a computer without bfloat16 units, PRESETS[key] itself)."""
    label, seconds, winner = PRESETS[key]
    return label, seconds, calibration.choose(key, winner).config


def recipe_words(key: str) -> str:
    """Which recipe preset `key` trains here, and why, in one sentence."""
    return calibration.choose(key, PRESETS[key][2]).words


@dataclass(frozen=True)
class Tier:
    """The network and time for texts of up to `max_chars` characters (after cleaning)."""

    max_chars: int
    units: int  # at most this many (a preset with fewer keeps its own)
    dropout: float  # at least this much
    max_seconds: float  # at most this long by the clock (a preset with less keeps its own)


# smallest first; the first whose max_chars holds the text applies. Chosen by `python bench/smalltext.py`
# (texts cut from Tiny Shakespeare, measurements in bench/README.md "A small text"). Its first run, one minute each:
# today's GRU 256 reached 2.43 on 3 KB (best after 16 s, 3.77 at the end), 2.40 on 8 KB and 3.22 on 20 KB (batch
# 64 is one step per pass on 3 and 8 KB); fitted, 2.40 (GRU 32: GRU 64 and 128 did no better and copied more),
# 2.12 (GRU 64; GRU 32 2.21, GRU 128 2.24-2.44) and 1.93 (GRU 128; GRU 32 2.62), each best within 25 s. The
# second run, Quick and Balanced before and after: better or equal best losses everywhere (Balanced 2.458 in 1
# minute against 2.448 in 5 on 3 KB, 2.125 in 2 against 2.347 on 8 KB, 1.931 in 3 against 2.138 on 20 KB).
TIERS: tuple[Tier, ...] = (
    Tier(max_chars=3_000, units=32, dropout=0.3, max_seconds=60.0),
    Tier(max_chars=12_000, units=64, dropout=0.3, max_seconds=120.0),
    Tier(max_chars=30_000, units=128, dropout=0.3, max_seconds=180.0),
)
SMALL_TEXT_CHARS = TIERS[-1].max_chars
BATCH_SIZES = (8, 16, 32, 64)  # the Train page's offered batch sizes a fitted preset chooses from
MIN_STEPS_PER_EPOCH = 8  # a pass over a small text is a few training steps: have at least this many
MAX_WINDOWS_LEFT_OUT = 0.05  # whole batches only: the windows left over are never trained on


@dataclass(frozen=True)
class TextFit:
    """A preset's model and minutes for one text, and whether they were changed for it."""

    config: ModelConfig
    seconds: float
    fitted: bool  # False: the text is big enough for the preset as it is


def fit_to_text(config: ModelConfig, seconds: float, n_chars: int) -> TextFit:
    """The preset's `config` and `seconds` fitted to a text of `n_chars` characters (after cleaning).

    Only ever smaller, shorter and more regularised than the preset: a text above SMALL_TEXT_CHARS
    gets the preset unchanged.
    """
    tier = next((t for t in TIERS if n_chars <= t.max_chars), None)
    if tier is None:
        return TextFit(config, seconds, fitted=False)
    fitted = replace(
        config,
        units=min(config.units, tier.units),
        dropout=max(config.dropout, tier.dropout),
        batch_size=small_text_batch(n_chars, config),
    )
    return TextFit(fitted, min(seconds, tier.max_seconds), fitted=True)


def small_text_batch(n_chars: int, config: ModelConfig) -> int:
    """The biggest offered batch (at most the preset's) that still gives MIN_STEPS_PER_EPOCH steps per pass and
    leaves out few windows, else the smallest: at batch 64 a 4 KB text is one step per epoch, and the epoch's
    fixed cost (validation, a sample, saving the history) then takes most of the minute."""
    try:
        n_train, _ = split_sizes(n_chars, config.validation_fraction, config.seq_length)
    except CharlabError:  # too short for even one window: the training will say so in words
        return min(BATCH_SIZES)
    windows = (n_train - 1) // config.seq_length
    for batch in sorted((b for b in BATCH_SIZES if b <= config.batch_size), reverse=True):
        if windows // batch >= MIN_STEPS_PER_EPOCH and windows % batch <= MAX_WINDOWS_LEFT_OUT * windows:
            return batch
    return min(BATCH_SIZES)


def winners() -> list[ModelConfig]:
    """The float32 recipes measured on the reference machine (what `calibration(full=True)` also times)."""
    return [winner for _, _, winner in PRESETS.values()]


def calibration_table(seconds: Mapping[str, float]) -> list[str]:
    """The calibration as `python -m charlab calibrate` prints it: each recipe's rate in each number type
    measured, what it needs, and each preset's choice."""
    lines = [f"{'preset':<10}{'recipe':<40}{'needs':>8}{'float32':>10}{'bfloat16':>10}  (GFLOP/s at its shapes)"]
    for key, (label, _, winner) in PRESETS.items():
        choice = calibration.choose(key, winner, seconds)
        rows = [(r.config, f"{r.needs_gflops:,.0f}") for r in calibration.CANDIDATES.get(key, ())] + [(winner, "-")]
        for config, needs in rows:
            measured = [calibration.rate(config, dtype, seconds) for dtype in ("float32", "bfloat16")]
            shown = [f"{r:,.0f}" if r is not None else "-" for r in measured]
            mark = " ← chosen" if config == choice.config else ""
            lines.append(
                f"{key:<10}{calibration.network_words(config):<40}{needs:>8}{shown[0]:>10}{shown[1]:>10}{mark}"
            )
        lines.append(f"  {label}: {choice.words}")
    return lines
