"""Lessons for teachers: a link (or a small JSON lesson file) that opens charlab set up for one exercise.

A lesson names a sample text, a cleaning mode, the settings it fixes, how long a training
lasts (minutes by the clock, or the settings' epochs) and the controls it hides, e.g. "train
on the sonnets with 128 units for 1 minute; show only the epochs slider", or "hide all
settings". In a URL each part has a short name (`?s=sonnets&u=128&min=1&h=l.e.do`, `h=all`,
`pm=1` for projector mode: large text and charts for the back of a classroom) so the link stays
readable; in a lesson file the full names are used, the same words as everywhere else in charlab.

Students open the link on their own computers, so the address it is built on matters: one
that means "this computer" (localhost) leads nowhere there. `link_address` chooses the
address students can reach (see its docstring).

Links and lesson files come from outside, so decoding checks everything: unknown keys are
ignored (a newer charlab may add some), bad values are refused with a plain-words
CharlabError, and settings go through ModelConfig.checked. Presets are JSON, never pickle.
"""

from __future__ import annotations

import ipaddress
import json
import math
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from charlab.errors import CharlabError
from charlab.learning import writers
from charlab.network.model import MODEL_SETTINGS, ModelConfig
from charlab.text import samples
from charlab.text.corpus import CLEANING_MODES

LESSON_FILE_FORMAT = "charlab-lesson"
LESSON_FILE_VERSION = 3  # 2 added "minutes" and "hide_all" (1 trains by its epochs); 3 "projector" and "start_from"
MAX_LESSON_FILE_BYTES = 64_000
MAX_TITLE_CHARS = 120
# a lesson's minutes by the clock: from the Train page's smallest step up to ten hours (a server lowers it
# to its own limit, CHARLAB_MAX_TRAINING_MINUTES)
MIN_MINUTES, MAX_MINUTES = 0.5, 600.0

# ModelConfig field -> its short name in a URL (charlab.network.model.MODEL_SETTINGS' `url`)
SETTING_PARAMS: dict[str, str] = {setting.name: setting.url for setting in MODEL_SETTINGS.values()}
SAMPLE_PARAM, CLEANING_PARAM, HIDDEN_PARAM, TITLE_PARAM, MINUTES_PARAM = "s", "cl", "h", "t", "min"
PROJECTOR_PARAM = "pm"  # `pm=1`: projector mode on (`pm=0`: the learner's own choice, as without it)
START_FROM_PARAM = "from"  # `from=writer`: start from the classics writer (`from=blank`: a blank network)
# every control a lesson can hide: the text choices, where a training starts from and each setting
CONTROLS: dict[str, str] = {"sample": "s", "cleaning": "cl", "start_from": START_FROM_PARAM, **SETTING_PARAMS}
HIDE_ALL = "all"  # `h=all`: every control hidden, the learner sees Start / Quick start and the chart
LESSON_PARAMS = frozenset(
    {SAMPLE_PARAM, CLEANING_PARAM, HIDDEN_PARAM, TITLE_PARAM, MINUTES_PARAM, PROJECTOR_PARAM, START_FROM_PARAM,
     *SETTING_PARAMS.values()}
)  # fmt: skip
_CONTROL_OF_PARAM = {short: name for name, short in CONTROLS.items()}
_FIELD_TYPES = {f.name: f.type for f in fields(ModelConfig)}


@dataclass
class Lesson:
    """What a lesson sets up; anything left empty keeps the learner's own choice."""

    sample: str | None = None  # key of a sample text (charlab.text.samples)
    cleaning: str | None = None  # one of charlab.text.corpus.CLEANING_MODES
    settings: dict[str, Any] = field(default_factory=dict)  # ModelConfig fields the lesson fixes
    hidden: tuple[str, ...] = ()  # controls the pages hide (names from CONTROLS)
    title: str = ""  # shown at the top, e.g. "Lesson 2: more units"
    minutes: float | None = None  # each training lasts this long by the clock; None: the settings' epochs
    hide_all: bool = False  # every control hidden (then `hidden` is left empty)
    projector: bool = False  # projector mode on: large text, controls and charts (off leaves the learner's choice)
    start_from: str | None = None  # "blank" or "writer" (writers.START_FROM); None: the learner's choice

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
        if not isinstance(self.hide_all, bool):
            raise CharlabError("A lesson either hides all settings or not: 'hide_all' must be true or false.")
        if not isinstance(self.projector, bool):
            raise CharlabError("A lesson either turns projector mode on or not: 'projector' must be true or false.")
        self.hidden = () if self.hide_all else tuple(dict.fromkeys(n for n in self.hidden if n in CONTROLS))
        if not isinstance(self.title, str) or len(self.title) > MAX_TITLE_CHARS:
            raise CharlabError(f"A lesson title can be at most {MAX_TITLE_CHARS} characters of text.")
        if self.minutes is not None:
            self.minutes = checked_minutes(self.minutes)
        if self.start_from is not None and self.start_from not in writers.START_FROM:
            choices = " or ".join(f"'{key}' ({words})" for key, words in writers.START_FROM.items())
            raise CharlabError(
                f"The lesson starts from '{self.start_from}', which charlab does not know: it starts from {choices}."
            )
        return self

    @property
    def hidden_controls(self) -> tuple[str, ...]:
        """Every control the pages hide. Hiding all settings hides every one, except the text and cleaning
        choices when the lesson leaves them to the learner (a link made from an uploaded text)."""
        if not self.hide_all:
            return self.hidden
        left_to_learner = {"sample": self.sample is None, "cleaning": self.cleaning is None}
        return tuple(name for name in CONTROLS if not left_to_learner.get(name, False))

    def config(self, base: ModelConfig | None = None) -> ModelConfig:
        """`base` (or the default settings) with this lesson's settings applied, checked."""
        merged = {**(base or ModelConfig()).to_dict(), **self.settings}
        return ModelConfig(**merged).checked()


def checked_minutes(value: Any, typed: str | None = None) -> float:
    """A lesson's minutes by the clock as a float, or a CharlabError in plain words (quoting `typed`, the
    link's text, when there was one)."""
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    if not MIN_MINUTES <= number <= MAX_MINUTES:  # NaN fails too
        raise CharlabError(
            f"A lesson's training time must be a number of minutes from {MIN_MINUTES:g} to {MAX_MINUTES:g}, "
            f"not '{value if typed is None else typed}'."
        )
    return float(number)


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
    if lesson.minutes is not None:
        params[MINUTES_PARAM] = f"{lesson.minutes:g}"
    if lesson.start_from is not None:
        params[START_FROM_PARAM] = lesson.start_from
    if lesson.hide_all:
        params[HIDDEN_PARAM] = HIDE_ALL
    elif lesson.hidden:
        params[HIDDEN_PARAM] = ".".join(CONTROLS[name] for name in lesson.hidden)
    if lesson.projector:
        params[PROJECTOR_PARAM] = "1"
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
        minutes=_parse_minutes(values[MINUTES_PARAM]) if values.get(MINUTES_PARAM) else None,
        hide_all=HIDE_ALL in hidden_names,
        projector=_parse_projector(values.get(PROJECTOR_PARAM, "")),
        start_from=values.get(START_FROM_PARAM) or None,
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


def _parse_projector(raw: str) -> bool:
    """`pm=1` on, `pm=0` (or none) off; anything else refused in words."""
    if raw not in ("", "0", "1"):
        raise CharlabError(f"The lesson link's projector mode (pm) is '{raw}': it can be 1 (on) or 0 (off).")
    return raw == "1"


def _parse_minutes(raw: str) -> float:
    try:
        value: Any = float(raw)
    except ValueError:  # "abc": refused in words below
        value = raw
    return checked_minutes(value, typed=raw)


# ---------------------------------------------------------------- the address a link is built on


@dataclass(frozen=True)
class LinkAddress:
    """The address a lesson link is built on ("": a relative "?…" link) and why it was chosen."""

    base: str
    reason: str  # "public", "browser", "network", "listens_locally" or "no_network": see link_address


def link_address(
    browser_url: str,
    public_url: str | None,
    listen_address: str | None,
    network_address: Callable[[], str | None],
) -> LinkAddress:
    """Where students can open the app, for a link the teacher hands out.

    - "public": `public_url` (CHARLAB_PUBLIC_URL), the address whoever runs the server said students use;
    - "browser": the teacher's browser address, when it is not this computer's own name for itself;
    - "network": the browser is on localhost, so this computer's address on the network, same port and
      path (the address the server listens on, when it names one, else `network_address()`);
    - "listens_locally": the browser is on localhost and the server listens only on this computer, so no
      other computer can reach it: the link stays the browser's;
    - "no_network": the browser is on localhost and this computer's network address is not known.
    """
    if public_url:
        return LinkAddress(public_url, "public")
    if not browser_url or not is_local_address(browser_url):
        return LinkAddress(browser_url, "browser")
    listen = (listen_address or "").strip().strip("[]")
    if listen and listen not in ("0.0.0.0", "::"):  # the server listens on one address only
        if is_local_address(f"http://{listen}/"):
            return LinkAddress(browser_url, "listens_locally")
        return LinkAddress(with_host(browser_url, listen), "network")
    found = network_address()
    return LinkAddress(with_host(browser_url, found), "network") if found else LinkAddress(browser_url, "no_network")


def is_local_address(url: str) -> bool:
    """Whether a URL names this computer itself (localhost, 127.x.x.x, ::1): on another computer it leads
    nowhere."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def network_address() -> str | None:
    """This computer's IPv4 address on its network, or None when it has none.

    Connecting a UDP socket sends nothing: the system only picks the interface it would route through
    (to a private address here), and the socket's own address is that interface's.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))
            found = probe.getsockname()[0]
        except OSError:  # no network at all
            return None
    address = ipaddress.ip_address(found)
    return None if address.is_loopback or address.is_unspecified else found


def with_host(url: str, host: str) -> str:
    """`url` with another host (an IPv6 address in brackets), its scheme, port and path kept."""
    parts = urlsplit(url)
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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
        "minutes": lesson.minutes,
        "hide_all": lesson.hide_all,
        "projector": lesson.projector,
        "start_from": lesson.start_from,
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
        minutes=parsed.get("minutes"),  # version 1 has none: it trains by its epochs
        hide_all=parsed.get("hide_all", False),
        projector=parsed.get("projector", False),  # versions 1 and 2 have none: off
        start_from=_optional_text(parsed.get("start_from"), "start_from"),  # version 2 has none: the learner's
    )
    return lesson.validate()


def _optional_text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise CharlabError(f"The lesson file is damaged: its {name} is not text.")
