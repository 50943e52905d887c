"""The Train page's settings and their words: labels, help, the options offered, and the presets
(each trains for its minutes by the clock); the app's pages and colours."""

from __future__ import annotations

import math
from collections.abc import Iterable

from charlab import limits
from charlab.model import ModelConfig

PAGES = {
    "home": "pages/home.py",
    "corpus": "pages/corpus.py",
    "train": "pages/train.py",
    "generate": "pages/generate.py",
    "inside": "pages/inside.py",
}
# what Quick start trains on: the classic char-RNN text, large enough that a minute never overfits
# (bench/sweep.py: a GRU 256 with a decaying rate learns the most per minute on 2 cores, bench/README.md)
DEFAULT_SAMPLE = "tiny_shakespeare"
QUICK_START_CLEANING = "keep"
COLORS = {"primary": "#4F46E5", "train": "#94A3B8", "validation": "#4F46E5", "guess": "#DC2626", "changed": "#F59E0B"}


# the same words as charlab.model's error messages and the README
SETTING_LABELS = {
    "seq_length": "Sequence length",
    "units": "Units",
    "layers": "Layers",
    "cell": "Cell type",
    "embedding_dim": "Embedding size",
    "dropout": "Dropout",
    "batch_size": "Batch size",
    "epochs": "Epochs",
    "minutes": "Minutes",
    "learning_rate": "Learning rate",
    "schedule": "Learning-rate schedule",
    "validation_fraction": "Validation share",
}
SETTING_HELP = {
    "seq_length": "How many characters the model reads in one training window. "
    "Longer windows let it learn longer patterns (a rhyme, a closing quote) but train slower.",
    "units": "Memory cells in each recurrent layer. More units can learn more, "
    "but train slower and can simply memorise a short text.",
    "layers": "Recurrent layers stacked on top of each other. One or two is plenty for a small text.",
    "cell": "LSTM and GRU have gates that let them remember over long stretches; "
    "SimpleRNN is the plain, forgetful original.",
    "embedding_dim": "Length of the list of numbers the model learns for each character.",
    "dropout": "Share of signals switched off at random while training, so the model cannot lean on "
    "memorising. 0 turns it off.",
    "batch_size": "Training windows processed together in one step. Bigger batches are faster per character "
    "but take more memory and fewer steps per epoch.",
    "epochs": "Passes over the whole training text.",
    "minutes": "How long to train, by the clock: the training ends after this many minutes on any computer, "
    "keeping the best model it found.",
    "learning_rate": "How big a step the optimizer (Adam) takes. Too high and the loss jumps or becomes NaN; "
    "too low and learning crawls.",
    "schedule": "Constant: Adam's steps keep the size you chose. Warm-up, then decay: small steps for the first "
    "moments, then the size you chose, then smaller and smaller until the training ends (sized to its minutes or "
    "epochs). The last part of the loss often comes only with small steps.",
    "validation_fraction": "Share of the text (its end) held back to check the model on text it never trained on.",
}
SCHEDULE_NAMES = {"constant": "Constant", "cosine": "Warm-up, then decay"}
UNITS_OPTIONS = (16, 32, 64, 128, 256, 384, 512, 768, 1024)
EMBEDDING_OPTIONS = (8, 16, 32, 64, 128, 256)
BATCH_OPTIONS = (8, 16, 32, 64, 128, 256)
LEARNING_RATE_OPTIONS = (1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2)

# preset key -> (label, training time by the clock in seconds, settings): a preset trains for its
# minutes on any computer (the job's time budget), keeping the best model it found
PRESETS: dict[str, tuple[str, float, dict]] = {
    "quick": (
        "Quick · 1 minute",
        60.0,
        dict(
            cell="gru",
            units=256,
            layers=1,
            embedding_dim=32,
            dropout=0.0,
            seq_length=64,
            batch_size=64,
            learning_rate=5e-3,
            schedule="cosine",
            validation_fraction=0.1,
        ),
    ),
    "balanced": (
        "Balanced · 5 minutes",
        300.0,
        dict(
            cell="gru",
            units=256,
            layers=1,
            embedding_dim=32,
            dropout=0.0,
            seq_length=64,
            batch_size=64,
            learning_rate=5e-3,
            schedule="cosine",
            validation_fraction=0.1,
        ),
    ),
    "best": (
        "Best quality · 20 minutes",
        1200.0,
        dict(
            cell="lstm",
            units=512,
            layers=2,
            embedding_dim=64,
            dropout=0.2,
            seq_length=100,
            batch_size=64,
            learning_rate=2e-3,
            schedule="constant",
            validation_fraction=0.1,
        ),
    ),
}

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
TEMPERATURE_HELP = (
    "Low temperature: safe, repetitive text. 1: the model's own odds. High: surprising text with more mistakes."
)
COMPARE_TEMPERATURES = (0.2, 0.8, 1.5)
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


def default_settings() -> dict:
    return dict(PRESETS["quick"][2], epochs=20, minutes=None, clipnorm=1.0)


def default_generate() -> dict:
    return {"seed_text": "", "length": 500, "temperature": 0.8, "top_k": 0, "random_seed": 42}


def model_config(settings: dict) -> ModelConfig:
    """The settings dict as the engine's dataclass (validated: raises CharlabError in plain words)."""
    known = {k: v for k, v in settings.items() if k in ModelConfig.__dataclass_fields__}
    return ModelConfig(**known).validate()


def preset_settings(key: str) -> dict:
    """A preset's settings: its minutes by the clock, within this server's time limit; epochs only cap it."""
    _, seconds, values = PRESETS[key]
    server = limits.current()
    minutes = min(seconds, server.training_seconds) / 60
    return dict(values, clipnorm=1.0, epochs=20, minutes=minutes)


def training_length_words(settings: dict) -> str:
    """How long a training with these settings lasts: '1 minute' by the clock, or '20 epochs'."""
    minutes = settings.get("minutes")
    if minutes:
        return f"{minutes:g} minute{'' if minutes == 1 else 's'}"
    return f"{settings['epochs']} epoch{'' if settings['epochs'] == 1 else 's'}"


def budget_seconds(settings: dict) -> float | None:
    """The training time by the clock the settings ask for (None: train for the epochs)."""
    minutes = settings.get("minutes")
    return float(minutes) * 60 if minutes else None


def snap(value, options: Iterable):
    """The option nearest to `value` (a run trained from the command line may use any number)."""
    options = list(options)
    return min(options, key=lambda o: abs(math.log(float(o)) - math.log(max(float(value), 1e-12))))


def settings_from_config(cfg: ModelConfig) -> dict:
    """A run's settings, fitted to the options the Train page offers."""
    s = cfg.to_dict()
    s["units"] = snap(s["units"], UNITS_OPTIONS)
    s["embedding_dim"] = snap(s["embedding_dim"], EMBEDDING_OPTIONS)
    s["batch_size"] = snap(s["batch_size"], BATCH_OPTIONS)
    s["learning_rate"] = snap(s["learning_rate"], LEARNING_RATE_OPTIONS)
    s["seq_length"] = int(min(400, max(8, s["seq_length"])))
    s["dropout"] = round(min(0.5, s["dropout"]) * 20) / 20
    s["validation_fraction"] = round(min(0.3, s["validation_fraction"]) * 20) / 20
    return s
