"""charlab.network.generation: the generation settings' one table, and GenerateConfig's check in words."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.network import sampling
from charlab.network.generation import GENERATE_SETTINGS, MAX_SEED_CHARS, GenerateConfig


def test_every_field_is_a_row_of_the_table_with_its_default():
    assert [f.name for f in fields(GenerateConfig)] == list(GENERATE_SETTINGS)
    assert GenerateConfig().to_dict() == {name: s.default for name, s in GENERATE_SETTINGS.items()}
    assert GenerateConfig() == GenerateConfig().checked()  # the defaults pass their own check
    for setting in GENERATE_SETTINGS.values():
        assert setting.label and setting.help.endswith(".")
        if setting.app_range is not None:  # what a widget offers is accepted
            low, high = setting.app_range
            assert setting.low <= low < high and (math.isinf(setting.high) or high <= setting.high)
            assert low <= setting.default <= high


def test_the_numpy_sampler_keeps_the_tables_temperature_range():
    temperature = GENERATE_SETTINGS["temperature"]
    assert (sampling.MIN_TEMPERATURE, sampling.MAX_TEMPERATURE) == (temperature.low, temperature.high)
    assert sampling.check_temperature(1e-9) == temperature.checked(1e-9) == temperature.low


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"temperature": 0}, "Temperature must be a number above 0, not 0."),
        ({"temperature": "hot"}, "Temperature must be a number above 0, not 'hot'."),
        ({"temperature": float("nan")}, "Temperature must be a number above 0"),
        ({"length": -1}, "Length (characters) must be a whole number from 0 to 1,000,000; -1 is out of range."),
        ({"length": 2.5}, "Length (characters) must be a whole number from 0 to 1,000,000, not 2.5."),
        ({"length": True}, "Length (characters) must be a whole number"),
        ({"top_k": -3}, "Top-k (0 = all) must be a whole number, 0 or more; -3 is out of range."),
        ({"random_seed": np.int64(-1)}, "Random seed must be a whole number, 0 or more"),
        ({"length": 10**400}, "Length (characters) must be a whole number from 0 to 1,000,000; 10000000…(401 digits)"),
        ({"seed_text": 42}, "Seed text must be text, not 42."),
        ({"seed_text": "x" * (MAX_SEED_CHARS + 1)}, "Seed text can be at most 2,000 characters; it has 2,001."),
    ],
)
def test_a_bad_value_is_refused_in_words(changes, words):
    with pytest.raises(CharlabError) as caught:
        GenerateConfig(**changes).checked()
    assert str(caught.value).startswith(words)


def test_checked_values_take_their_settings_type():
    chosen = GenerateConfig(temperature=1, length=60.0, top_k=np.int64(3), random_seed=None).checked()
    assert chosen == GenerateConfig(temperature=1.0, length=60, top_k=3, random_seed=None)
    assert type(chosen.length) is int and type(chosen.top_k) is int and type(chosen.temperature) is float
    assert GenerateConfig(temperature=10**400).checked().temperature == 1000.0  # beyond, the text no longer changes
    assert GenerateConfig(random_seed=10**40).checked().random_seed == 10**40  # numpy takes any whole seed


def test_top_k_zero_means_every_character_for_the_sampler():
    assert GenerateConfig(top_k=0).sampling_options() == {"temperature": 0.8, "top_k": None, "random_seed": 42}
    assert GenerateConfig(top_k=5, random_seed=None).sampling_options()["top_k"] == 5


def test_from_dict_completes_with_defaults_and_ignores_unknown_keys():
    assert GenerateConfig.from_dict({"length": 80, "from_a_newer_charlab": 1}) == GenerateConfig(length=80)
