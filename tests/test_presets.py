"""Presets fitted to the text: a small text gets a small network with dropout; Tiny Shakespeare, the presets as
measured."""

from __future__ import annotations

import numpy as np
import pytest

from charlab.learning.presets import PRESETS, SMALL_TEXT_CHARS, fit_to_text
from charlab.network.model import MODEL_SETTINGS, ModelConfig, count_parameters
from charlab.text.data import training_windows

TINY_SHAKESPEARE_CHARS = 1_115_394
VOCAB = 65  # Tiny Shakespeare's characters: the most a small English text is likely to use
SMALL_SIZES = (1_500, 3_000, 4_000, 8_000, 12_000, 20_000, SMALL_TEXT_CHARS)


def test_tiny_shakespeare_keeps_the_presets_as_they_were_measured():
    """bench/sweep.py measured these on Tiny Shakespeare: fitting must leave them exactly as they are."""
    measured = {
        "quick": (60.0, ModelConfig(cell="gru", units=256, epochs=20)),
        "balanced": (300.0, ModelConfig(cell="gru", units=384, epochs=20)),
        "best": (1200.0, ModelConfig(cell="gru", units=384, dropout=0.1, epochs=20)),
    }
    for key, (seconds, config) in measured.items():
        assert PRESETS[key][1:] == (seconds, config)
        for n_chars in (TINY_SHAKESPEARE_CHARS, SMALL_TEXT_CHARS + 1):
            fit = fit_to_text(PRESETS[key][2], PRESETS[key][1], n_chars)
            assert (fit.config, fit.seconds, fit.fitted) == (config, seconds, False)


def test_a_4_kb_text_gets_a_small_network_with_dropout_for_a_minute_or_two():
    for _, seconds, config in PRESETS.values():
        fit = fit_to_text(config, seconds, 4_000)
        assert fit.fitted
        assert fit.config.units == 64 and fit.config.dropout >= 0.3
        assert fit.seconds == min(seconds, 120.0)  # Balanced's 5 minutes (and Best's 20) would only learn it by heart
        assert (fit.config.cell, fit.config.layers, fit.config.seq_length) == (config.cell, config.layers, 64)
    assert fit_to_text(PRESETS["quick"][2], 60.0, 3_000).config.units == 32
    assert fit_to_text(PRESETS["quick"][2], 60.0, 20_000).config.units == 128


@pytest.mark.parametrize("n_chars", SMALL_SIZES)
@pytest.mark.parametrize("key", list(PRESETS))
def test_a_fitted_preset_is_smaller_and_has_fewer_parameters_than_characters_to_learn(key, n_chars):
    _, seconds, config = PRESETS[key]
    fit = fit_to_text(config, seconds, n_chars)
    assert fit.fitted
    assert fit.config.units <= config.units and fit.config.dropout >= max(config.dropout, 0.3)
    assert fit.seconds <= seconds
    # today's presets: 60 numbers to learn per character of a 4 KB text; fitted, at most 10
    assert count_parameters(fit.config, VOCAB) <= 10 * n_chars
    assert count_parameters(config, VOCAB) > 50 * 4_000  # (what the issue measured: 241k for a 4 KB text)
    checked = fit.config.checked()  # a model the Train page can show: every value among its widget's options
    for name in ("units", "dropout", "batch_size"):
        assert getattr(checked, name) in MODEL_SETTINGS[name].offered


@pytest.mark.parametrize("n_chars", (3_000, 4_000, 8_000, 20_000))
def test_a_small_text_is_several_training_steps_per_pass_and_loses_few_windows(n_chars):
    """At batch 64, a 4 KB text is a single step per epoch: the epoch's own cost then takes most of the minute."""
    config = fit_to_text(PRESETS["quick"][2], 60.0, n_chars).config
    data = training_windows(np.arange(n_chars), config.validation_fraction, config.seq_length, config.batch_size)
    windows_in_text = (
        n_chars - max(int(n_chars * config.validation_fraction), config.seq_length + 1) - 1
    ) // config.seq_length
    assert data.steps_per_epoch >= 5
    assert len(data.x) >= 0.9 * windows_in_text


def test_a_text_too_short_to_train_is_still_fitted_and_left_to_the_training_to_refuse():
    fit = fit_to_text(PRESETS["quick"][2], 60.0, 50)
    assert fit.fitted and fit.config.batch_size == 8
