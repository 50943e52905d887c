"""Verdicts on synthetic loss curves: one per verdict, and the first-batch check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from charlab.learning.diagnosis import (
    DIVERGED,
    LEARNING,
    MEMORISING_RISE,
    OVERFITTING,
    PATIENCE_EPOCHS,
    PLATEAU,
    TOO_EARLY,
    UNDERFITTING,
    check_first_loss,
    diagnose,
    judged_loss,
    kept_epoch,
    learning_by_heart,
)

V = 65
UNIGRAM = 3.3  # "letter frequencies only" on a Shakespeare-like text


def _history(losses, val_losses):
    return [{"epoch": i + 1, "loss": a, "val_loss": b} for i, (a, b) in enumerate(zip(losses, val_losses, strict=True))]


def _batches(start: float, end: float, n: int, noise: float = 0.05, seed: int = 0) -> list[tuple[int, float]]:
    """An exponential approach from start to end, with batch-to-batch noise."""
    rng = np.random.default_rng(seed)
    curve = end + (start - end) * np.exp(-np.arange(n) / (n / 4))
    return [(i + 1, float(v)) for i, v in enumerate(curve + rng.normal(0, noise, n))]


def test_first_loss_near_random_guessing_is_fine():
    result = check_first_loss(math.log(V) + 0.1, V)
    assert result.ok and result.verdict == LEARNING
    assert check_first_loss(math.log(V) - 0.5, V).ok  # a continued model starts lower: fine


@pytest.mark.parametrize("loss", [math.log(V) + 3, float("nan"), float("inf")])
def test_first_loss_far_above_random_guessing_or_nan_warns(loss):
    result = check_first_loss(loss, V)
    assert not result.ok
    assert "learning rate" in result.suggestion


def test_falling_curves_are_learning():
    history = _history([2.6, 2.1, 1.8], [2.5, 2.05, 1.8])
    result = diagnose(history, reference_loss=UNIGRAM)
    assert result.verdict == LEARNING
    assert diagnose([], _batches(4.1, 1.5, 200, noise=0.02), UNIGRAM).verdict == LEARNING  # mid-descent, by batches


def test_flat_batches_are_a_plateau():
    batches = [(i + 1, 1.6 + 0.05 * math.sin(i)) for i in range(300)]
    result = diagnose([], batches, reference_loss=UNIGRAM)
    assert result.verdict == PLATEAU
    assert result.suggestion


def test_flat_epochs_are_a_plateau():
    result = diagnose(_history([1.60, 1.59, 1.588, 1.587], [1.62, 1.615, 1.612, 1.611]), reference_loss=UNIGRAM)
    assert result.verdict == PLATEAU


def test_validation_rising_while_training_falls_is_overfitting():
    history = _history([1.9, 1.6, 1.4, 1.2, 1.0], [1.8, 1.6, 1.55, 1.6, 1.7])
    result = diagnose(history, _batches(1.9, 1.0, 500), reference_loss=UNIGRAM)
    assert result.verdict == OVERFITTING
    assert "1.55" in result.message and "dropout" in result.suggestion


def test_noise_in_validation_is_not_overfitting():
    history = _history([1.9, 1.6, 1.5], [1.80, 1.600, 1.605])  # 0.005 up: within noise
    assert diagnose(history, reference_loss=UNIGRAM).verdict != OVERFITTING


def test_stuck_above_letter_frequencies_is_underfitting():
    batches = [(i + 1, 3.4 + 0.03 * math.cos(i)) for i in range(300)]
    result = diagnose([], batches, reference_loss=UNIGRAM)
    assert result.verdict == UNDERFITTING
    assert "units" in result.suggestion
    # three epochs still above it, even while creeping down, is underfitting too
    history = _history([3.9, 3.7, 3.5], [3.9, 3.7, 3.45])
    assert diagnose(history, reference_loss=UNIGRAM).verdict == UNDERFITTING
    # without a reference there is nothing to compare with
    assert diagnose([], batches).verdict == PLATEAU


def test_too_little_data_says_so_and_nan_is_diverged():
    assert diagnose([], _batches(4.1, 3.0, 10)).verdict == TOO_EARLY
    assert diagnose(_history([2.0], [2.1])).verdict == TOO_EARLY
    assert diagnose([], [(1, 4.0), (2, float("nan"))]).verdict == DIVERGED
    assert diagnose([], [4.0] * 50 + [float("nan")]).verdict == DIVERGED  # plain floats are accepted too


def test_flat_batches_after_a_continue_while_validation_falls_are_learning():
    """Seen after Stop then Continue: the verdict said 'Plateau' while validation fell from 1.96 to 1.785."""
    val = [1.96, 1.90, 1.86, 1.83, 1.80, 1.785]
    history = [{"epoch": i + 1, "loss": v + 0.05, "val_loss": v} for i, v in enumerate(val)]
    flat = [1.80 + 0.001 * (i % 3) for i in range(200)]  # this job's batches: flat
    found = diagnose(history, flat)
    assert found.verdict == LEARNING and "validation loss is still falling" in found.message
    assert diagnose(history[:2], flat).verdict == PLATEAU  # too few epochs to overrule the batches


def test_the_kept_epoch_is_the_lowest_validation_loss_the_earliest_of_equals():
    """Seen on a small text: the run kept epoch 5 of 370 (Generate used it) while the page showed the last."""
    val = [6.2, 5.95, 5.91, 6.3, 7.5, 5.91]
    history = [{"epoch": i + 1, "loss": 6.0 - i, "val_loss": v} for i, v in enumerate(val)]
    kept = kept_epoch(history)
    assert (kept.epoch, kept.loss, kept.on) == (3, 5.91, "validation")  # a tie later is not an improvement
    nan = float("nan")
    no_validation = [{"epoch": 1, "loss": 2.0, "val_loss": nan}, {"epoch": 2, "loss": 1.5, "val_loss": nan}]
    assert kept_epoch(no_validation) == type(kept)(2, 1.5, "training")
    assert kept_epoch([]) is None


def test_the_loss_judged_against_the_reference_lines_is_the_kept_networks():
    """Seen: 'Not yet better than guessing at random' for a run whose kept network (5.91) beats it (6.42)."""
    nan = float("nan")
    history = [{"epoch": 1, "loss": 6.0, "val_loss": 5.91}, {"epoch": 2, "loss": 0.5, "val_loss": 7.5}]
    assert judged_loss(history, [(1, 0.4)]) == 5.91  # the best validation loss, not the last
    no_validation = [{"loss": 2.0, "val_loss": nan}, {"loss": 1.8, "val_loss": nan}]
    assert judged_loss(no_validation, [(1, 9.0)]) == 1.8  # the kept network's training loss
    batches = [(i, 5.0) for i in range(1, 11)] + [(i, 1.0) for i in range(11, 31)] + [(31, nan)]
    assert judged_loss([], batches) == 1.0  # before the first epoch ends: the last 20 finite batch losses
    assert judged_loss([], []) is None


def test_a_kept_network_below_letter_frequencies_is_not_underfitting():
    """The last validation loss above the letter frequencies' while the kept (best) one is below them."""
    history = _history([3.2, 3.25, 3.22], [3.0, 3.05, 3.4])
    found = diagnose(history, reference_loss=UNIGRAM)
    assert found.verdict == PLATEAU, found
    worse = _history([3.6, 3.4, 3.45], [3.5, 3.4, 3.45])  # even its best is above them: underfitting
    found = diagnose(worse, reference_loss=UNIGRAM)
    assert found.verdict == UNDERFITTING and "best loss (3.40)" in found.message


def _rows(val_losses):
    return [{"epoch": i + 1, "loss": 1.0, "val_loss": v} for i, v in enumerate(val_losses)]


def test_learning_by_heart_needs_both_the_patience_and_a_rise():
    best, after = [3.0, 2.5, 2.0], PATIENCE_EPOCHS
    rising = _rows(best + [2.0 + 0.01 * (i + 1) + MEMORISING_RISE for i in range(after)])
    assert learning_by_heart(rising)  # 20 epochs since the best, well above it
    assert not learning_by_heart(rising[:-1])  # one epoch short of the patience
    assert not learning_by_heart(_rows(best + [2.0 + MEMORISING_RISE / 2] * after))  # a plateau trains on
    assert not learning_by_heart(_rows(best + [2.3] * (after - 1) + [1.9]))  # a new best at the end
    assert not learning_by_heart(_rows([math.nan] * 40)) and not learning_by_heart([])  # no validation text
    equal_best = _rows([2.0, 2.0] + [2.2] * (after - 1))  # the first of equal losses is the kept one
    assert learning_by_heart(equal_best)


def test_a_fine_tunes_verdict_says_a_small_text_is_learned_fast_and_the_best_weights_are_kept():
    from charlab.learning.diagnosis import PATIENCE_EPOCHS

    rising = [{"epoch": i + 1, "loss": 2 - 0.1 * i, "val_loss": v} for i, v in enumerate([1.5, 1.4, 1.45, 1.6, 1.7])]
    blank = diagnose(rising)
    tuned = diagnose(rising, writer_start=2.41)
    assert blank.verdict == tuned.verdict == "overfitting"
    assert "started from the writer's 2.41" in tuned.message and tuned.message.startswith(blank.message)
    assert "best weights (epoch 2's) are kept" in tuned.suggestion and f"{PATIENCE_EPOCHS} epochs" in tuned.suggestion
    assert "fewer units" not in tuned.suggestion  # its shape is the writer's
    flat = [{"epoch": i + 1, "loss": 1.5, "val_loss": 1.4} for i in range(5)]
    assert diagnose(flat).verdict == diagnose(flat, writer_start=2.0).verdict == "plateau"
    assert diagnose(flat, writer_start=2.0).suggestion.startswith("The writer's shape is fixed, so not a bigger model")
    assert diagnose(rising, writer_start=float("nan")) == blank
