"""Numbers, durations, dates and a training's progress in plain words.

Built on charlab's values only: nothing here reaches the server's registry (ui.job_registry) or Ray."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from charlab.network.precision import FLOAT32, POLICY_WORDS

if TYPE_CHECKING:  # names for the hints only: formatting needs no training code to run
    from charlab.learning.diagnosis import KeptEpoch
    from charlab.learning.training import Progress


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 0.5:
        return "under 1 s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s" if seconds % 60 else f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def fmt_loss(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.3f}"


def fmt_epochs(epochs: float) -> str:
    """'3 epochs', '1 epoch', '2.5 epochs', '0.04 epochs': a clock that stopped mid-epoch counts what it trained."""
    if abs(epochs - round(epochs)) < 0.005:
        whole = round(epochs)
        return f"{whole:,} epoch{'' if whole == 1 else 's'}"
    return f"{epochs:.2g} epochs" if epochs < 1 else f"{epochs:,.1f} epochs"


def kept_words(kept: KeptEpoch, last_epoch: float, so_far: bool = False) -> str:
    """'the network from epoch 5 of 370, kept because its validation loss (1.79) was the lowest'; `so_far`
    while it trains ('… is the lowest so far')."""
    which = f"epoch {kept.epoch:g} of {last_epoch:g}" if last_epoch != kept.epoch else f"epoch {kept.epoch:g}, the last"
    lowest = "is the lowest so far" if so_far else "was the lowest"
    return f"the network from {which}, kept because its {kept.on} loss ({kept.loss:.2f}) {lowest}"


def fmt_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d %b %Y, %H:%M")
    except (TypeError, ValueError):
        return iso or "–"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def starting_words(p: Progress) -> str:
    """Which step of its start a training is at (the job says so in its message until the first step)."""
    return p.message if p.message and p.message != "Training…" else "Starting the training…"


def progress_words(p: Progress) -> str:
    if not p.step:  # the compiled training step is being prepared (the untrained network's loss is on the chart)
        return starting_words(p)
    if p.budget_seconds:  # by the clock: the epochs are only a cap
        epoch = f"Epoch {p.first_epoch + max(p.epoch, 1)} · {fmt_duration(p.budget_seconds)} of training"
    else:
        epoch = f"Epoch {p.first_epoch + max(p.epoch, 1)} of {p.first_epoch + p.epochs}"
    speed = f"{p.chars_per_second:,.0f} characters/s" if p.chars_per_second else "measuring speed"
    if p.precision and p.precision != FLOAT32:  # float32 goes without saying
        speed += f" in {POLICY_WORDS[p.precision]}"
    if p.eta is None or not p.step:
        eta = "estimating time left"
    else:
        eta = "almost done" if p.eta < 1 else f"about {fmt_duration(p.eta)} left"
    return f"{epoch} · {speed} · {fmt_duration(p.elapsed)} elapsed · {eta}"
