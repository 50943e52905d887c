"""What one session may ask of a shared server, in one place, each settable by an environment variable.

A teacher running charlab on one laptop for a class sets these before `streamlit run app.py`
(e.g. `CHARLAB_MAX_TRAINING_MINUTES=10`); the README lists them. The defaults suit a 2-core
laptop shared by a class: a text of a few MB, models up to the "Best quality" preset, and no
training holding a place in the queue for more than half an hour (Continue trains on).
The command line (`python -m charlab`) runs on the user's own machine and is not limited.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from charlab.errors import CharlabError
from charlab.network.model import ModelConfig, count_parameters

MB = 1_000_000


@dataclass(frozen=True)
class Setting:
    """One limit: its environment variable, what it is in words, and the smallest sensible value."""

    env: str
    words: str
    whole: bool = True
    minimum: float = 1


SETTINGS: dict[str, Setting] = {
    "upload_mb": Setting("CHARLAB_MAX_UPLOAD_MB", "the largest text file a student may upload, in MB", False, 0.001),
    "run_upload_mb": Setting(
        "CHARLAB_MAX_RUN_UPLOAD_MB", "the largest run (.zip) a student may upload, in MB", False, 0.001
    ),
    "max_parameters": Setting("CHARLAB_MAX_PARAMETERS", "the most parameters a model may have", minimum=100),
    "max_epochs": Setting("CHARLAB_MAX_EPOCHS", "the most epochs one training may ask for"),
    "training_minutes": Setting(
        "CHARLAB_MAX_TRAINING_MINUTES", "the minutes after which a training stops and saves", False, 0.01
    ),
    "generate_chars": Setting("CHARLAB_MAX_GENERATE_CHARS", "the most characters one Generate may write", minimum=10),
    "max_trainings": Setting("CHARLAB_MAX_TRAININGS", "the number of trainings at once"),
    "abandon_minutes": Setting(
        "CHARLAB_ABANDON_MINUTES", "the minutes before an unwatched training is stopped", False, 0.01
    ),
}


@dataclass(frozen=True)
class Limits:
    """The limits in force; `Limits.from_env()` reads them, a test builds its own."""

    upload_mb: float = 10.0  # a few MB of text is plenty to learn a style, and trains in minutes
    run_upload_mb: float = 100.0  # a run of 5 million parameters (the limit below) zips to about 80 MB
    max_parameters: int = 5_000_000  # "Best quality" (GRU 384) has about 0.5 million: room for bigger experiments
    max_epochs: int = 500
    training_minutes: float = 30.0  # then it stops and saves, and the next student gets the place
    generate_chars: int = 5_000
    max_trainings: int = os.cpu_count() or 1  # more than one per core only slows them all down
    abandon_minutes: float = 30.0  # a page polls every few seconds; half an hour of silence means nobody is there

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, each replaced by its environment variable when set; a bad value is refused in words."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(SETTINGS[f.name].env, "").strip()
            if raw:
                values[f.name] = parse(f.name, raw)
        return cls(**values)

    @property
    def upload_bytes(self) -> int:
        return int(self.upload_mb * MB)

    @property
    def run_upload_bytes(self) -> int:
        return int(self.run_upload_mb * MB)

    @property
    def training_seconds(self) -> float:
        return self.training_minutes * 60.0

    def check_training(self, config: ModelConfig, vocab_size: int) -> None:
        """Refuse a training this server does not allow (too many epochs, too big a model), saying what to change."""
        if config.epochs > self.max_epochs:
            raise CharlabError(
                f"{config.epochs:,} epochs is more than this server allows in one training ({self.max_epochs:,}). "
                "Train fewer epochs, then continue the run to train more."
            )
        self.check_parameters(count_parameters(config, vocab_size))

    def check_parameters(self, parameters: int) -> None:
        """Refuse a model bigger than this server allows, saying how to make it smaller."""
        if parameters > self.max_parameters:
            raise CharlabError(
                f"This model has {parameters:,} parameters; this server allows at most {self.max_parameters:,} "
                "per training, so that everyone's training stays quick. Use fewer units or fewer layers."
            )

    def check_run_upload(self, size: int, name: str) -> None:
        """A run (.zip) bigger than the upload limit, refused before it is opened (a text's size is checked
        by charlab.text.corpus.load_bytes, given `upload_bytes`)."""
        if size > self.run_upload_bytes:
            raise CharlabError(
                f"'{name}' is {size / MB:.1f} MB; this server takes run files of up to {self.run_upload_mb:g} MB."
            )


def parse(name: str, raw: str | int | float) -> int | float:
    """One limit's value from text (an environment variable), checked: whole where it must be, and not too small."""
    setting = SETTINGS[name]
    try:
        number = math.nan if isinstance(raw, bool) else float(str(raw).strip().replace("_", ""))
    except ValueError:
        number = math.nan
    kind = "a whole number" if setting.whole else "a number"
    if not math.isfinite(number) or number < setting.minimum or (setting.whole and number != int(number)):
        raise CharlabError(
            f"{setting.env} sets {setting.words}: it must be {kind} of at least {setting.minimum:g}, not '{raw}'."
        )
    return int(number) if setting.whole else number


def current() -> Limits:
    """The limits from this process's environment, read afresh (cheap), so a test can change them."""
    return Limits.from_env()
