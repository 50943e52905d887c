"""Look inside: traced activations, unit rankings, surprise and guesses, the embedding map."""

from __future__ import annotations

import html
import math
import random
from collections import Counter

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from charlab.network.sampling import NumpyCharModel
from charlab.saving import runs
from charlab.teaching.neurons import Trace, UnitMatch, embedding_map, points_to_label, trace
from charlab.text import corpus
from ui.page_guard import callback
from ui.saved_runs import load_cached_run, run_stamp
from ui.text import DARK_TEXT, box, char_name, visible_text
from ui.widget_state import store_value

INSIDE_MAX_CHARS = 2000  # characters traced and drawn at once (each becomes a coloured span)
STATE_WORDS = {"hidden": "Hidden state", "cell": "Cell state"}
STATE_HELP = "Hidden state: what the layer passes on to the next. Cell state: an LSTM's inner memory."
KIND_COLORS = {  # the kinds of character (charlab.teaching.neurons.character_kind) most texts have
    "vowel": "#DC2626",
    "consonant": "#4F46E5",
    "digit": "#059669",
    "punctuation": "#D97706",
    "space": "#6B7280",
}
MORE_KIND_COLORS = ("#0891B2", "#9333EA", "#65A30D", "#DB2777", "#92400E", "#1E3A8A")  # other scripts, marks…
MAP_LABELS = 80  # characters written on the embedding map: 600 Chinese ones written all at once made one blot


@st.cache_resource(show_spinner=False, max_entries=4)
def _trace(path: str, stamp: float, text: str) -> Trace:
    run = load_cached_run(path, stamp)
    return trace(NumpyCharModel.from_config(run.config, run.weights), run.vocab, text)


def run_trace(path: str, text: str) -> Trace:
    """What the run's network does while reading `text` (cached per run and text)."""
    return _trace(str(path), run_stamp(path), text)


def ranking_table(matches: list[UnitMatch]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "What it tracks": m.hypothesis.label,
                "Unit": m.describe(),
                "Layer": m.layer + 1,
                "State": m.state,
                "Unit number": m.unit,
                "Correlation": m.correlation,
            }
            for m in matches
        ],
        columns=["What it tracks", "Unit", "Layer", "State", "Unit number", "Correlation"],
    )


def activation_color(value: float) -> str:
    """Red (negative) – white (0) – blue (positive), for a value in [-1, 1]."""
    v = max(-1.0, min(1.0, float(value)))
    if v >= 0:
        r, g, b = (int(255 + (c - 255) * v) for c in (37, 99, 235))
    else:
        r, g, b = (int(255 + (c - 255) * -v) for c in (220, 38, 38))
    return f"#{r:02x}{g:02x}{b:02x}"


def surprise_color(value: float, scale: float) -> str:
    """White (no surprise) to orange (as surprised as guessing at random, or more)."""
    v = max(0.0, min(1.0, float(value) / max(scale, 1e-9)))
    r, g, b = (int(255 + (c - 255) * v) for c in (249, 115, 22))
    return f"#{r:02x}{g:02x}{b:02x}"


def guesses_words(result: Trace, t: int) -> str:
    return ", ".join(f"{corpus.visible(ch)} {p:.0%}" for ch, p in result.top_guesses(t, 5))


def _text_on(background: str) -> str:
    """Dark text on a light background, white on a strong one: the theme's own text colour (light in the dark
    theme) would vanish on a pale span."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#FFFFFF" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else DARK_TEXT


STRONG = 0.5  # a value at least half of its scale is also underlined: colour is never the only cue
UNDERLINE = {  # a second cue beside the colour, told in each view's caption
    "positive": "text-decoration:underline solid 2px;",
    "negative": "text-decoration:underline dotted 2px;",
}


def _char_span(ch: str, background: str, title: str, mark: str = "") -> str:
    shown = "↵\n" if ch == "\n" else ch
    style = f"background:{background};color:{_text_on(background)};{UNDERLINE.get(mark, '')}"
    return f'<span style="{style}" title="{html.escape(title, quote=True)}">{html.escape(shown)}</span>'


def _coloured_box(spans: list[str], height: int) -> str:
    return box("charlab-inside", "".join(spans), height, "line-height:1.6;")


def activation_html(result: Trace, layer: int, state: str, unit: int, height: int = 320) -> str:
    """Each character coloured by one unit's activation after reading it (escaped; details in the tooltip)."""
    values = result.activations(layer, state)[:, unit].astype(float)
    scale = 1.0 if state == "hidden" else max(1.0, float(np.abs(values).max()))  # tanh is in [-1, 1]; c is not
    spans = [
        _char_span(
            ch,
            activation_color(values[t] / scale),
            f"{char_name(ch)} · activation {values[t]:+.2f} · surprise {result.surprise[t]:.2f}",
            _strength(values[t] / scale),
        )
        for t, ch in enumerate(result.text)
    ]
    return _coloured_box(spans, height)


def _strength(value: float) -> str:
    """ "positive" or "negative" for a value of at least STRONG (on a scale of 1) either way, else ""."""
    if value >= STRONG:
        return "positive"
    return "negative" if value <= -STRONG else ""


def surprise_table(result: Trace, top: int = 10) -> pd.DataFrame:
    """The most surprising characters in a table: the surprise view's colours said in numbers."""
    order = np.argsort(-np.asarray(result.surprise, dtype=float), kind="stable")[:top]
    return pd.DataFrame(
        [
            {
                "Position": int(t),
                "Character": corpus.visible(result.text[t]),
                "After": visible_text(result.text[max(0, t - 20) : t]),
                "Surprise (nats)": float(result.surprise[t]),
            }
            for t in order
        ],
        columns=["Position", "Character", "After", "Surprise (nats)"],
    )


def surprise_html(result: Trace, height: int = 240) -> str:
    """Each character coloured by how surprised the model was to see it; its guesses for the next one in the tooltip."""
    scale = math.log(len(result.vocab))
    spans = [
        _char_span(
            ch,
            surprise_color(result.surprise[t], scale),
            f"{char_name(ch)} · surprise {result.surprise[t]:.2f} nats · next: {guesses_words(result, t)}",
            _strength(result.surprise[t] / scale),
        )
        for t, ch in enumerate(result.text)
    ]
    return _coloured_box(spans, height)


def guesses_table(result: Trace, t: int) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Guess": corpus.visible(ch), "Name": char_name(ch), "Probability": p} for ch, p in result.top_guesses(t, 5)],
        columns=["Guess", "Name", "Probability"],
    )


def embedding_table(
    run: runs.Run, text: str = "", labels: int = MAP_LABELS
) -> tuple[pd.DataFrame, tuple[float, float]]:
    """Each character's place on the map; beyond `labels` characters, only the ones `text` uses most are written."""
    found = embedding_map(run.weights["embedding"], run.vocab)
    counts = Counter(text)
    uses = [counts[ch] for ch in found.chars]
    table = pd.DataFrame(
        {
            "Character": [corpus.visible(ch) for ch in found.chars],
            "Name": [char_name(ch) for ch in found.chars],
            "Kind": list(found.kinds),
            "Uses": uses,
            "Written": points_to_label(found.xy, np.array(uses), labels),
            "x": found.xy[:, 0],
            "y": found.xy[:, 1],
        }
    )
    return table, found.explained


def kind_colors(kinds: set[str]) -> dict[str, str]:
    """A colour for each kind present: the usual five first, then the others (other scripts) in name order."""
    usual = {k: c for k, c in KIND_COLORS.items() if k in kinds}
    others = sorted(kinds - set(KIND_COLORS))
    return usual | {k: MORE_KIND_COLORS[i % len(MORE_KIND_COLORS)] for i, k in enumerate(others)}


def embedding_chart(table: pd.DataFrame) -> alt.Chart:
    """Every character a dot; the written ones (see embedding_table) also as text: a big vocabulary stays readable."""
    colors = kind_colors(set(table["Kind"]))
    color = alt.Color(
        "Kind:N",
        title=None,
        scale=alt.Scale(domain=list(colors), range=list(colors.values())),
        legend=alt.Legend(orient="top"),
    )
    base = alt.Chart(table).encode(
        x=alt.X("x:Q", title="First direction", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title="Second direction", axis=alt.Axis(labels=False, ticks=False)),
        color=color,
        tooltip=["Character:N", "Name:N", "Kind:N", alt.Tooltip("Uses:Q", format=",", title="Uses in the text")],
    )
    points = base.mark_circle(size=60 if table["Written"].all() else 30, opacity=0.35)
    labels = (
        base.transform_filter(alt.datum.Written).mark_text(fontSize=15, fontWeight="bold").encode(text="Character:N")
    )
    return alt.layer(points, labels).properties(height=380)


@callback
def new_random_seed() -> None:
    value = random.randrange(0, 1_000_000)
    store_value("generate", "random_seed", value)
    st.session_state["generate_random_seed"] = value
