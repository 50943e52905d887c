"""Generation settings, described once: seed text, temperature, length, top-k and random seed.

The Generate page's widgets, the command line's `generate` flags and the exported web page's inputs all
read `GENERATE_SETTINGS` (label, default, range, help), and `GenerateConfig.checked()` refuses a bad value
in words wherever it came from. A new generation setting is one row here and one field below.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from charlab.errors import CharlabError

MAX_SEED_CHARS = 2000  # a seed is a start, not a text: the model only carries its state forward


@dataclass(frozen=True)
class GenerateSetting:
    """One generation setting: its words, what is accepted, and what the widgets offer."""

    name: str
    label: str
    help: str
    kind: type  # int, float or str
    default: Any
    low: float = 0.0  # accepted range of a number (for text: its length)
    high: float = math.inf
    app_range: tuple[float, float] | None = None  # a widget's range, narrower than what is accepted
    step: float | None = None  # a widget's step
    clamp: bool = False  # beyond the range the value changes nothing: brought within it, not refused
    placeholder: str = ""  # a text box's example

    def checked(self, value: Any) -> Any:
        """The value as the setting's type when acceptable, else a CharlabError naming the setting."""
        if self.kind is str:
            if not isinstance(value, str):
                raise CharlabError(f"{self.label} must be text, not {value!r}.")
            if len(value) > self.high:
                raise CharlabError(f"{self.label} can be at most {self.high:,.0f} characters; it has {len(value):,}.")
            return value
        whole = self.kind is int
        if not _is_number(value) or (whole and not _is_whole(value)) or (self.clamp and value <= 0):
            raise CharlabError(f"{self.label} must be {self.range_words()}, not {_short(value)}.")
        if self.clamp:
            return float(min(max(value, self.low), self.high))  # compared before float(): 10**400 would overflow
        if not self.low <= value <= self.high:
            raise CharlabError(f"{self.label} must be {self.range_words()}; {_short(value)} is out of range.")
        return int(value) if whole else float(value)

    def range_words(self) -> str:
        """'a whole number from 0 to 1,000,000', 'a whole number, 0 or more', 'a number above 0'."""
        kind = "a whole number" if self.kind is int else "a number"
        if self.clamp:
            return f"{kind} above 0"
        if math.isinf(self.high):
            return f"{kind}, {self.low:,g} or more"
        return f"{kind} from {self.low:,g} to {self.high:,.0f}"


def _is_number(value: object) -> bool:
    """A real, finite number, but not a bool (an integer of any size is finite)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or math.isfinite(float(value))


def _is_whole(value: numbers.Real) -> bool:
    return isinstance(value, numbers.Integral) or float(value).is_integer()


def _short(value: Any) -> str:
    """A value as typed, a 400-digit one cut short so the message stays readable."""
    text = repr(value)
    return text if len(text) <= 20 else f"{text[:8]}…({len(text)} digits)"


GENERATE_SETTINGS: dict[str, GenerateSetting] = {
    s.name: s
    for s in (
        GenerateSetting(
            "seed_text", "Seed text", "The model continues from here. Empty: it starts a new line.",
            str, "", high=MAX_SEED_CHARS, placeholder="e.g. The fox",
        ),
        # beyond 0.001 and 1000 the text no longer changes (the favourite character every time, or pure
        # chance), but dividing by 1e-300 or 1e300 would overflow: kept within, not refused
        GenerateSetting(
            "temperature", "Temperature",
            "Low temperature: safe, repetitive text. 1: the model's own odds. High: surprising text with more "
            "mistakes.",
            float, 0.8, low=1e-3, high=1e3, app_range=(0.1, 2.0), step=0.05, clamp=True,
        ),
        # the app's highest is the server's limit (charlab.limits generate_chars), lower than this
        GenerateSetting(
            "length", "Length (characters)", "How many characters the model writes.",
            int, 500, low=0, high=1_000_000, app_range=(10, 1_000_000), step=50,
        ),
        # a top-k above the vocabulary's size keeps every character; a widget stops at the vocabulary's size
        GenerateSetting(
            "top_k", "Top-k (0 = all)",
            "Only pick among the k most likely next characters; 0 considers every character.",
            int, 0, low=0, app_range=(0, 1_000_000), step=1,
        ),
        # the web page's generator is 32-bit (charlab/saving/webpage_assets/page.js): its widgets stop there
        GenerateSetting(
            "random_seed", "Random seed", "The same random seed gives the same text again.",
            int, 42, low=0, app_range=(0, 2**31 - 1), step=1,
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class GenerateConfig:
    """How a run writes: one field per row of GENERATE_SETTINGS, with its default."""

    seed_text: str = GENERATE_SETTINGS["seed_text"].default
    temperature: float = GENERATE_SETTINGS["temperature"].default
    length: int = GENERATE_SETTINGS["length"].default
    top_k: int = GENERATE_SETTINGS["top_k"].default  # 0: every character
    random_seed: int | None = GENERATE_SETTINGS["random_seed"].default  # None: a new text each time

    def checked(self) -> GenerateConfig:
        """A copy with every value checked (whole-number floats become ints); CharlabError names the first bad one."""
        values = {}
        for setting in GENERATE_SETTINGS.values():
            value = getattr(self, setting.name)
            values[setting.name] = None if value is None and setting.name == "random_seed" else setting.checked(value)
        return replace(self, **values)

    def sampling_options(self) -> dict[str, Any]:
        """The keyword arguments of charlab.network.sampling.Generator.generate besides the seed text and length."""
        return {"temperature": self.temperature, "top_k": self.top_k or None, "random_seed": self.random_seed}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerateConfig:
        """Built from a dict of settings (the Generate page's), missing ones at their default, unknown ones ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# "Compare temperatures": the same seed, side by side
COMPARE_TEMPERATURES = (0.2, 0.8, 1.5)
