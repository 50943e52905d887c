"""Lessons for teachers: a link (or a small JSON lesson file) that opens charlab set up for one exercise.

A lesson names a sample text, a cleaning mode, the settings it fixes and the controls it
hides, e.g. "train on the sonnets with 128 units; show only the epochs slider". In a URL
each part has a short name (`?s=sonnets&u=128&h=l.e.do`) so the link stays readable; in a
lesson file the full names are used, the same words as everywhere else in charlab.

Links and lesson files come from outside, so decoding checks everything: unknown keys are
ignored (a newer charlab may add some), bad values are refused with a plain-words
CharlabError, and settings go through ModelConfig.validate. Presets are JSON, never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

from charlab import samples
from charlab.corpus import CLEANING_MODES
from charlab.errors import CharlabError
from charlab.model import ModelConfig

LESSON_FILE_FORMAT = "charlab-lesson"
LESSON_FILE_VERSION = 1
MAX_LESSON_FILE_BYTES = 64_000
MAX_TITLE_CHARS = 120

# ModelConfig field -> its short name in a URL
SETTING_PARAMS: dict[str, str] = {
    "cell": "c",
    "units": "u",
    "layers": "l",
    "embedding_dim": "e",
    "dropout": "do",
    "seq_length": "sl",
    "batch_size": "bs",
    "learning_rate": "lr",
    "schedule": "sch",
    "clipnorm": "cn",
    "epochs": "ep",
    "validation_fraction": "vf",
}
# every control a lesson can hide: the text choices and each setting
CONTROLS: dict[str, str] = {"sample": "s", "cleaning": "cl", **SETTING_PARAMS}
SAMPLE_PARAM, CLEANING_PARAM, HIDDEN_PARAM, TITLE_PARAM = "s", "cl", "h", "t"
LESSON_PARAMS = frozenset({SAMPLE_PARAM, CLEANING_PARAM, HIDDEN_PARAM, TITLE_PARAM, *SETTING_PARAMS.values()})
_CONTROL_OF_PARAM = {short: name for name, short in CONTROLS.items()}
_FIELD_TYPES = {f.name: f.type for f in fields(ModelConfig)}


@dataclass
class Lesson:
    """What a lesson sets up; anything left empty keeps the learner's own choice."""

    sample: str | None = None  # key of a sample text (charlab.samples)
    cleaning: str | None = None  # one of charlab.corpus.CLEANING_MODES
    settings: dict[str, Any] = field(default_factory=dict)  # ModelConfig fields the lesson fixes
    hidden: tuple[str, ...] = ()  # controls the pages hide (names from CONTROLS)
    title: str = ""  # shown at the top, e.g. "Lesson 2: more units"

    def validate(self) -> Lesson:
        """Raise a CharlabError for the first thing that is wrong; return self when all is fine."""
        if self.sample is not None:
            samples.get_sample(self.sample)
        if self.cleaning is not None and self.cleaning not in CLEANING_MODES:
            raise CharlabError(
                f"The lesson asks for a cleaning mode '{self.cleaning}' that does not exist. "
                "Choose one of: " + "; ".join(f"{key} ({label})" for key, (label, _) in CLEANING_MODES.items()) + "."
            )
        unknown = [name for name in self.settings if name not in SETTING_PARAMS]
        if unknown:
            raise CharlabError(f"The lesson sets '{unknown[0]}', which is not a setting charlab has.")
        self.settings = {name: getattr(self.config(), name) for name in self.settings}  # whole numbers as ints
        self.hidden = tuple(dict.fromkeys(name for name in self.hidden if name in CONTROLS))
        if not isinstance(self.title, str) or len(self.title) > MAX_TITLE_CHARS:
            raise CharlabError(f"A lesson title can be at most {MAX_TITLE_CHARS} characters of text.")
        return self

    def config(self, base: ModelConfig | None = None) -> ModelConfig:
        """`base` (or the default settings) with this lesson's settings applied, checked."""
        merged = {**(base or ModelConfig()).to_dict(), **self.settings}
        return ModelConfig(**merged).validate()


# ---------------------------------------------------------------- links


def to_query_params(lesson: Lesson) -> dict[str, str]:
    """The lesson as URL query parameters with short names (only what the lesson sets)."""
    lesson.validate()
    params: dict[str, str] = {}
    if lesson.title:
        params[TITLE_PARAM] = lesson.title
    if lesson.sample is not None:
        params[SAMPLE_PARAM] = lesson.sample
    if lesson.cleaning is not None:
        params[CLEANING_PARAM] = lesson.cleaning
    for name, value in lesson.settings.items():
        params[SETTING_PARAMS[name]] = f"{value:g}" if isinstance(value, float) else str(value)
    if lesson.hidden:
        params[HIDDEN_PARAM] = ".".join(CONTROLS[name] for name in lesson.hidden)
    return params


def lesson_url(lesson: Lesson, base_url: str) -> str:
    """A link to hand out: `base_url` (the app's address) with the lesson's parameters."""
    query = urlencode(to_query_params(lesson))
    return f"{base_url.rstrip('?&')}{'&' if '?' in base_url else '?'}{query}" if query else base_url


def is_lesson(params: Mapping[str, Any]) -> bool:
    """True when a page's query parameters carry a lesson (other parameters, like a session, do not count)."""
    return any(key in LESSON_PARAMS for key in params)


def from_query_params(params: Mapping[str, Any]) -> Lesson:
    """Read a lesson back from query parameters (st.query_params or a parsed URL); unknown keys are ignored."""
    values = {key: _single(value) for key, value in params.items() if key in LESSON_PARAMS}
    settings: dict[str, Any] = {}
    for name, short in SETTING_PARAMS.items():
        if short in values:
            settings[name] = _parse_setting(name, values[short])
    hidden_names = [part for part in values.get(HIDDEN_PARAM, "").split(".") if part]
    lesson = Lesson(
        sample=values.get(SAMPLE_PARAM) or None,
        cleaning=values.get(CLEANING_PARAM) or None,
        settings=settings,
        hidden=tuple(_CONTROL_OF_PARAM[p] for p in hidden_names if p in _CONTROL_OF_PARAM),
        title=values.get(TITLE_PARAM, ""),
    )
    return lesson.validate()


def _single(value: Any) -> str:
    """One value per key: repeated keys (a list) keep the last, as browsers and Streamlit do."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def _parse_setting(name: str, raw: str) -> Any:
    if "str" in str(_FIELD_TYPES[name]):
        return raw
    try:
        return float(raw) if "float" in str(_FIELD_TYPES[name]) or "." in raw or "e" in raw.lower() else int(raw)
    except ValueError:
        raise CharlabError(f"The lesson link's value for '{name}' is '{raw}', which is not a number.") from None


# ---------------------------------------------------------------- lesson files


def lesson_to_json(lesson: Lesson) -> str:
    """A small, readable JSON lesson file with the full names charlab uses everywhere."""
    lesson.validate()
    data = {
        "format": LESSON_FILE_FORMAT,
        "format_version": LESSON_FILE_VERSION,
        "title": lesson.title,
        "sample": lesson.sample,
        "cleaning": lesson.cleaning,
        "settings": lesson.settings,
        "hidden": list(lesson.hidden),
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def lesson_from_json(data: str | bytes) -> Lesson:
    """Read a lesson file; anything that is not a charlab lesson file is refused in plain words."""
    if len(data) > MAX_LESSON_FILE_BYTES:
        raise CharlabError("This file is too large to be a lesson file (they are a few hundred bytes).")
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CharlabError("This file is not a lesson file: it is not valid JSON.") from None
    if not isinstance(parsed, dict) or parsed.get("format") != LESSON_FILE_FORMAT:
        raise CharlabError("This file is not a charlab lesson file.")
    settings, hidden = parsed.get("settings") or {}, parsed.get("hidden") or []
    if not isinstance(settings, dict) or not isinstance(hidden, list):
        raise CharlabError("The lesson file is damaged: its settings or hidden controls are not readable.")
    lesson = Lesson(
        sample=_optional_text(parsed.get("sample"), "sample"),
        cleaning=_optional_text(parsed.get("cleaning"), "cleaning"),
        settings={name: value for name, value in settings.items() if name in SETTING_PARAMS},
        hidden=tuple(str(name) for name in hidden),
        title=_optional_text(parsed.get("title"), "title") or "",
    )
    return lesson.validate()


def _optional_text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise CharlabError(f"The lesson file is damaged: its {name} is not text.")
