"""The Train page's settings and their words: labels, help, the options offered, and the presets
(each trains for its minutes by the clock); the app's pages and colours."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from charlab import limits
from charlab.learning.presets import PRESETS, TextFit, fit_to_text, preset, recipe_words
from charlab.network.cells import CELL_TYPES
from charlab.network.generation import COMPARE_TEMPERATURES, GENERATE_SETTINGS  # noqa: F401  (ui re-exports)
from charlab.network.model import MODEL_SETTINGS, ModelConfig
from charlab.text.corpus import human_size

PAGES = {
    "home": "pages/home.py",
    "corpus": "pages/corpus.py",
    "train": "pages/train.py",
    "generate": "pages/generate.py",
    "inside": "pages/inside.py",
    "privacy": "pages/privacy.py",
    "board": "pages/board.py",  # teacher mode only (app.py)
}
# what Quick start trains on: the classic char-RNN text, large enough that a minute never overfits
# (bench/sweep.py: a GRU 256 with a decaying rate learns the most per minute on 2 cores, bench/README.md)
DEFAULT_SAMPLE = "tiny_shakespeare"
QUICK_START_CLEANING = "keep"
# the charts' colours: Okabe-Ito's colour-blind-safe ones where they can be, each at least 3:1 against both the light
# and the dark theme's background (tests/test_charts_colours.py), since a chart cannot know which one a student chose
COLORS = {"primary": "#0072B2", "train": "#8A94A6", "validation": "#0072B2", "guess": "#7F7F7F", "changed": "#D55E00"}
CHART_BACKGROUNDS = {"light": "#FFFFFF", "dark": "#0E1117"}  # .streamlit/config.toml's [theme.light] and [theme.dark]


# every model setting's label and help come from charlab.network.model.MODEL_SETTINGS; "minutes" is the app's own
# (a time budget, not a model setting)
MINUTES_LABEL = "Minutes"
MINUTES_HELP = (
    "How long to train, by the clock: the training ends after this many minutes on any computer, "
    "keeping the best model it found."
)
SETTING_LABELS = {**{s.name: s.label for s in MODEL_SETTINGS.values() if s.widget}, "minutes": MINUTES_LABEL}
SETTING_HELP = {**{s.name: s.help for s in MODEL_SETTINGS.values() if s.widget}, "minutes": MINUTES_HELP}
# the Train page's three columns of settings, as MODEL_SETTINGS places them ("epochs" stands for how long to
# train: minutes or epochs)
_PLACED = sorted((s.place, s.name) for s in MODEL_SETTINGS.values() if s.place)
SETTING_COLUMNS = tuple(tuple(name for (column, _), name in _PLACED if column == i) for i in range(3))

LOSS_UNITS = {
    "loss": "Loss (nats)",
    "bits": "Bits per character",
    "perplexity": "Perplexity",
}
LOSS_UNIT_HELP = (
    "Loss: how surprised the model is by each real next character (0 = never surprised). "
    "Bits per character: the same in bits. Perplexity: the model is as unsure as if it chose among this many "
    "characters."
)
STATUS_WORDS = {
    "queued": "waiting",
    "starting": "starting",
    "training": "training",
    "stopping": "stopping",
    "finished": "finished",
    "stopped": "stopped",
    "failed": "failed",
    "diverged": "diverged",
    "interrupted": "interrupted",
    "damaged": "damaged",
}


def default_settings() -> ModelConfig:
    """The Train page's settings before any choice: Quick start's model, for 20 epochs."""
    return preset("quick")[2]


TEMPERATURE_HELP = GENERATE_SETTINGS["temperature"].help  # said under the Generate page's slider, not as a tooltip


def model_config(config: ModelConfig, **changes) -> ModelConfig:
    """The session's settings with `changes`, checked (raises CharlabError in plain words)."""
    return replace(config, **changes).checked()


def preset_for_text(key: str, n_chars: int | None = None) -> TextFit:
    """A preset fitted to a text of `n_chars` characters after cleaning (None: no text, the preset as it is)."""
    _, seconds, config = preset(key)  # the recipe this computer's measured speed chose
    if n_chars is None:
        return TextFit(config, seconds, fitted=False)
    return fit_to_text(config, seconds, n_chars)


def presets_recipe_words() -> str:
    """For the Preset control's help: which recipe each preset trains on this computer, and why (one sentence
    where they share the reason: a computer without bfloat16 units)."""
    words = {key: recipe_words(key) for key in PRESETS}
    if len(set(words.values())) == 1:
        return next(iter(words.values()))
    return " ".join(f"{PRESETS[key][0]}: {said}" for key, said in words.items())


def preset_settings(key: str, n_chars: int | None = None) -> ModelConfig:
    """A preset's model, fitted to the text (frozen: the session may hold the preset's own value)."""
    return preset_for_text(key, n_chars).config


def preset_minutes(key: str, n_chars: int | None = None) -> float:
    """A preset's minutes by the clock, fitted to the text, within this server's time limit."""
    return capped_minutes(preset_for_text(key, n_chars).seconds)


def capped_minutes(seconds: float) -> float:
    """A training's seconds by the clock as minutes, within this server's time limit."""
    return min(seconds, limits.current().training_seconds) / 60


def fitted_words(key: str, n_chars: int) -> str | None:
    """The one line that says a preset was fitted to a small text, and why (None: the preset as it is)."""
    fit = preset_for_text(key, n_chars)
    if not fit.fitted:
        return None
    config = fit.config
    minutes = "" if fit.seconds == PRESETS[key][1] else f", for {training_length_words(config, fit.seconds / 60)}"
    dropout = MODEL_SETTINGS["dropout"].shown(config.dropout)
    network = f"{CELL_TYPES[config.cell].label} {config.units} with dropout {dropout}{minutes}"
    return f"Fitted to this {human_size(n_chars, '.2g')} text: {network} — a bigger network would learn it by heart."


def training_length_words(config: ModelConfig, minutes: float | None) -> str:
    """How long a training lasts: '1 minute' by the clock, or '20 epochs'."""
    if minutes:
        return f"{minutes:g} minute{'' if minutes == 1 else 's'}"
    return f"{config.epochs} epoch{'' if config.epochs == 1 else 's'}"


def budget_seconds(minutes: float | None) -> float | None:
    """The training time by the clock (None: train for the epochs)."""
    return float(minutes) * 60 if minutes else None


def snap(value, options: Iterable, ratio: bool = True):
    """The option nearest to `value` (a run trained from the command line may use any number): nearest in
    ratio (64 is as far from 32 as from 128), or by difference for shares."""
    options = list(options)
    if not ratio:
        return min(options, key=lambda o: abs(float(o) - float(value)))
    return min(options, key=lambda o: abs(math.log(float(o)) - math.log(max(float(value), 1e-12))))


def settings_from_config(config: ModelConfig) -> ModelConfig:
    """A run's settings, fitted to the options the Train page offers."""
    fitted = {}
    for setting in MODEL_SETTINGS.values():
        value = getattr(config, setting.name)
        if setting.widget == "select_slider":
            fitted[setting.name] = snap(value, setting.offered, ratio=not setting.percent)
        elif setting.widget == "slider":
            low, high = setting.app_range
            fitted[setting.name] = int(min(high, max(low, value)))
    return replace(config, **fitted)
