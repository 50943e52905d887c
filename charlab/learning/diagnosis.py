"""Plain-words verdicts on a training's loss: is the start sane, and what is happening now?

A beginner sees a falling curve and cannot tell "still learning" from "stuck" or "memorising".
These rules read the same metrics the chart shows and answer with one sentence and one thing
to try. They are rules of thumb with explicit thresholds, not statistics: each verdict
says which numbers it looked at, so a teacher can check it against the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEARNING, PLATEAU, OVERFITTING, UNDERFITTING = "learning", "plateau", "overfitting", "underfitting"
TOO_EARLY, DIVERGED = "too early", "diverged"
VERDICTS = (LEARNING, PLATEAU, OVERFITTING, UNDERFITTING, TOO_EARLY, DIVERGED)

FIRST_LOSS_TOLERANCE = 1.0  # nats above ln(V) still counted as a normal start
PLATEAU_IMPROVEMENT = 0.01  # less than 1% better over the recent stretch: a plateau
OVERFIT_RISE = 0.01  # validation this many nats above its best counts as rising
MIN_BATCHES = 40  # per-batch losses needed to judge a trend from batches
WINDOW_EPOCHS = 3  # epochs compared when judging from the per-epoch history
# a training by the clock ends early when its validation loss has not beaten its best for this many epochs and
# stands this far above it: a small text (a 4 KB song) then only learns its text by heart for the rest of its
# minute (300 epochs of a rising curve); a text that merely plateaus (no rise) trains on
PATIENCE_EPOCHS = 20
MEMORISING_RISE = 0.1  # nats


@dataclass(frozen=True)
class Diagnosis:
    """A verdict, what it is based on, and one thing to try."""

    verdict: str  # one of VERDICTS
    message: str  # what the numbers show, in plain words
    suggestion: str  # one thing to do about it ("" when nothing needs doing)

    @property
    def ok(self) -> bool:
        return self.verdict in (LEARNING, TOO_EARLY)


def check_first_loss(loss: float, vocab_size: int, tolerance: float = FIRST_LOSS_TOLERANCE) -> Diagnosis:
    """A fresh network should start near ln(V) (guessing every character equally); far above means trouble."""
    guess = math.log(vocab_size)
    if not math.isfinite(loss):
        return Diagnosis(
            DIVERGED,
            "The loss is not a number from the very first batch: the calculation broke down at once.",
            "Lower the learning rate (try 0.001) and start again.",
        )
    if loss > guess + tolerance:
        return Diagnosis(
            DIVERGED,
            f"The first loss is {loss:.2f}, far above the {guess:.2f} of guessing at random: the untrained "
            "network is confidently wrong, which a normal start never is.",
            "Lower the learning rate; if that does not help, the settings or the text may be unusual.",
        )
    return Diagnosis(
        LEARNING,
        f"The first loss is {loss:.2f}, close to the {guess:.2f} of guessing at random: a normal start.",
        "",
    )


def diagnose(
    history: Sequence[dict[str, float]],
    batch_losses: Sequence[float] | Sequence[tuple[int, float]] = (),
    reference_loss: float | None = None,
    writer_start: float | None = None,
) -> Diagnosis:
    """The state of a training from its per-epoch history and/or its per-batch losses.

    `reference_loss` is a loss any working model should beat; pass the unigram baseline
    ("letter frequencies only", see charlab.text.baselines). Without it, underfitting is not judged.
    `writer_start`: a fine-tune's writer's validation loss before its first step; the verdict is then said in a
    fine-tune's words (fine_tune_words).
    """
    found = _diagnose(history, batch_losses, reference_loss)
    if writer_start is None or not math.isfinite(writer_start):
        return found
    return fine_tune_words(found, writer_start, kept_epoch([r for r in history if "loss" in r]))


def fine_tune_words(found: Diagnosis, writer_start: float, kept: KeptEpoch | None) -> Diagnosis:
    """A verdict for a run that started from a writer: a small text is learned in a few epochs from there, then
    learned by heart; the best weights are kept and a training by the clock stops early, so rising is expected,
    not a fault; its shape is the writer's, so "a bigger model" is no advice."""
    start = f"It started from the writer's {writer_start:.2f}"
    if found.verdict == OVERFITTING:
        best = f" (epoch {kept.epoch:g}'s)" if kept is not None else ""
        return Diagnosis(
            OVERFITTING,
            f"{found.message} {start}: from a writer, a small text is learned in a few epochs, then learned by heart.",
            f"Nothing is lost: the best weights{best} are kept, and a training by the clock stops early once more "
            f"epochs only learn the text by heart ({PATIENCE_EPOCHS} epochs without a better validation loss). "
            "More text, not more minutes, helps now.",
        )
    if found.verdict == PLATEAU:
        return Diagnosis(
            PLATEAU,
            f"{found.message} {start}.",
            "The writer's shape is fixed, so not a bigger model: lower the learning rate to settle deeper, or stop "
            "here if its writing reads well.",
        )
    if found.verdict in (LEARNING, UNDERFITTING):
        return Diagnosis(found.verdict, f"{found.message} {start}.", found.suggestion)
    return found


def _diagnose(
    history: Sequence[dict[str, float]],
    batch_losses: Sequence[float] | Sequence[tuple[int, float]],
    reference_loss: float | None,
) -> Diagnosis:
    """diagnose's verdict for any network, blank or fine-tuned."""
    losses = [float(b[1]) if isinstance(b, (tuple, list)) else float(b) for b in batch_losses]
    rows = [r for r in history if "loss" in r]
    latest = [losses[-1]] if losses else []
    latest += [rows[-1]["loss"]] if rows else []
    if any(not math.isfinite(x) for x in latest):
        return Diagnosis(
            DIVERGED,
            "The loss became NaN: training broke down.",
            "Lower the learning rate and train again (the best weights before that are kept).",
        )
    overfit = _overfitting(rows)
    if overfit is not None:
        return overfit
    trend = _trend(rows, losses)
    if trend is None:
        return Diagnosis(TOO_EARLY, "Too little training so far to tell where it is going.", "")
    level, improvement, source = trend
    by_epoch = _trend(rows, ())
    if improvement < PLATEAU_IMPROVEMENT and by_epoch is not None and by_epoch[2] == "validation":
        if len(rows) >= WINDOW_EPOCHS and by_epoch[1] >= PLATEAU_IMPROVEMENT:
            # flat batches (as after Stop and Continue) while validation still falls: it is learning
            level, improvement, source = by_epoch
    enough = len(rows) >= WINDOW_EPOCHS or improvement < PLATEAU_IMPROVEMENT
    kept = kept_epoch(rows)
    # the network that is kept is judged: a best epoch below the line is no underfitting, whatever came after
    judged = min(level, kept.loss) if kept is not None else level
    if reference_loss is not None and judged >= reference_loss and enough:
        return Diagnosis(
            UNDERFITTING,
            f"The best loss ({judged:.2f}) is no better than knowing letter frequencies ({reference_loss:.2f}): "
            "the network has not picked up even which letters are common together.",
            "Raise the learning rate or use more units; check the text has enough repeated structure.",
        )
    if improvement < PLATEAU_IMPROVEMENT:
        return Diagnosis(
            PLATEAU,
            f"The {source} loss has improved by only {improvement:.1%} lately ({level:.2f} now): a plateau.",
            "Lower the learning rate to settle deeper, or use a bigger model; if its writing reads well, stop here.",
        )
    return Diagnosis(
        LEARNING,
        f"The {source} loss is still falling ({improvement:.1%} better lately, {level:.2f} now).",
        "Keep training; watch the validation loss for the moment it turns up.",
    )


def _overfitting(rows: Sequence[dict[str, float]]) -> Diagnosis | None:
    """Validation clearly above its best of an earlier epoch while training kept falling."""
    rows = [r for r in rows if math.isfinite(r.get("val_loss", float("nan")))]
    if len(rows) < 3:
        return None
    val = [r["val_loss"] for r in rows]
    best = int(np.argmin(val))
    rising = best < len(rows) - 1 and val[-1] > val[best] + OVERFIT_RISE and val[-1] >= val[-2]
    if rising and rows[-1]["loss"] < rows[best]["loss"]:
        return Diagnosis(
            OVERFITTING,
            f"Validation loss is rising ({val[best]:.2f} at epoch {rows[best].get('epoch', best + 1):g}, "
            f"{val[-1]:.2f} now) while training loss keeps falling: the network is memorising its training "
            "text instead of learning rules that carry over.",
            "Stop here (the best weights are kept), or add dropout, use fewer units or a longer text.",
        )
    return None


def _trend(rows: Sequence[dict[str, float]], losses: Sequence[float]) -> tuple[float, float, str] | None:
    """(current level, relative improvement over the recent stretch, which curve) or None when too early.

    Per-batch losses are noisy, so two windows of means are compared: the last fifth of the
    batches against the fifth before it. Per-epoch rows compare the latest epoch with the one
    WINDOW_EPOCHS - 1 epochs before, using validation loss when there is one.
    """
    if len(losses) >= MIN_BATCHES:
        window = max(10, len(losses) // 5)
        recent, before = np.mean(losses[-window:]), np.mean(losses[-2 * window : -window])
        return float(recent), float((before - recent) / before) if before > 0 else 0.0, "training"
    if len(rows) >= 2:
        key = "val_loss" if all(math.isfinite(r.get("val_loss", float("nan"))) for r in rows) else "loss"
        tail = rows[-WINDOW_EPOCHS:]
        first, last = tail[0][key], tail[-1][key]
        per_epoch = (first - last) / first / (len(tail) - 1) if first > 0 else 0.0
        return float(last), float(per_epoch), "validation" if key == "val_loss" else "training"
    return None


@dataclass(frozen=True)
class KeptEpoch:
    """The epoch whose weights a run keeps (and Generate uses): its number, loss and which text measured it."""

    epoch: float
    loss: float
    on: str  # "validation", or "training" for a run without validation text


def kept_epoch(history: Sequence[dict[str, float]]) -> KeptEpoch | None:
    """The epoch with the lowest validation loss (the lowest training loss for a run without validation text).

    A training saves the weights of an epoch only when it beats every earlier one (charlab.learning.training), so of
    equal losses the earliest is the one kept; `min` returns the first of equals.
    """
    on, key = "validation", "val_loss"
    rows = [r for r in history if math.isfinite(r.get(key, float("nan")))]
    if not rows:
        on, key = "training", "loss"
        rows = [r for r in history if math.isfinite(r.get(key, float("nan")))]
    if not rows:
        return None
    best = min(rows, key=lambda r: r[key])
    return KeptEpoch(best.get("epoch", rows.index(best) + 1), float(best[key]), on)


def learning_by_heart(history: Sequence[dict[str, float]]) -> bool:
    """Whether more epochs would only learn the text by heart: the validation loss has not improved for
    PATIENCE_EPOCHS epochs and the latest stands MEMORISING_RISE above the best (a training by the clock ends)."""
    losses = [r["val_loss"] for r in history if math.isfinite(r.get("val_loss", float("nan")))]
    if not losses:
        return False
    best_at = int(np.argmin(losses))  # the first of equal losses, as the kept epoch
    return len(losses) - 1 - best_at >= PATIENCE_EPOCHS and losses[-1] >= losses[best_at] + MEMORISING_RISE


def judged_loss(history: list[dict], batch_losses: list[tuple[int, float]]) -> float | None:
    """The loss to compare with the reference lines: the kept network's (see kept_epoch), else, before any
    epoch has ended, the recent training loss."""
    kept = kept_epoch(history)
    if kept is not None:
        return kept.loss
    recent = [loss for _, loss in batch_losses[-20:] if math.isfinite(loss)]
    return float(np.mean(recent)) if recent else None
