"""The learning rate over a training: a short warm-up, then a cosine decay that ends with the training.

A lesson has minutes, not epochs: Adam at a high rate learns fast at first, but the last part of the
loss only comes once the steps get smaller. The decay is sized to the training's own length, its
minutes by the clock (a time budget) or its steps (a training by epochs), so whatever the user chose
ends at a small rate.
"""

from __future__ import annotations

import math

SCHEDULES = {  # key -> its name in the app (charlab.network.model.MODEL_SETTINGS says what each does)
    "constant": "Constant",
    "cosine": "Warm-up, then decay",
}
WARMUP_FRACTION = 0.02  # of the training: a fresh network's first steps at full rate can overshoot
FINAL_FRACTION = 0.05  # the rate at the end, as a share of the chosen rate


def learning_rate(schedule: str, peak: float, done: float) -> float:
    """The rate when `done` (0 to 1) of the training has passed; the chosen rate is the peak."""
    if schedule == "constant":
        return peak
    if schedule != "cosine":
        raise ValueError(f"unknown schedule {schedule!r}")
    done = min(1.0, max(0.0, done))
    if done < WARMUP_FRACTION:
        return peak * (0.1 + 0.9 * done / WARMUP_FRACTION)
    decay = (done - WARMUP_FRACTION) / (1 - WARMUP_FRACTION)
    return peak * (FINAL_FRACTION + (1 - FINAL_FRACTION) * 0.5 * (1 + math.cos(math.pi * decay)))
