"""Look inside: traced activations, unit rankings, surprise and guesses, the embedding map."""

from __future__ import annotations

import html
import math
from collections import Counter

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from charlab.errors import CharlabError
from charlab.network.cells import cell_type
from charlab.network.model import ModelConfig
from charlab.network.sampling import NumpyCharModel
from charlab.saving import runs
from charlab.teaching.neurons import Trace, UnitMatch, embedding_map, points_to_label, trace, unit_ranking
from charlab.text import corpus
from ui import state
from ui.display import chart
from ui.page_guard import callback
from ui.saved_runs import load_cached_run, open_run, run_stamp
from ui.text import DARK_TEXT, box, char_name, md, skipped_caption, visible_text
from ui.widget_state import seed

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


def reading_run(run_path: str) -> runs.Run:
    """The current run, opened; the page stops, in words, when it has no network to look into yet."""
    try:
        return open_run(run_path)
    except CharlabError as err:
        st.info(md(str(err)), icon=":material/hourglass_top:")
        st.stop()


def text_to_read(run: runs.Run, source_text: str | None) -> str:
    """A piece of the training text (`source_text`; None when it is not loaded) or a text typed; returns the part
    the network can read (characters it never saw are said and skipped). The page stops while it is empty."""
    sources = {"corpus": "A piece of the corpus", "typed": "Type a text"}
    seed(state.INSIDE_SOURCE, "corpus" if source_text else "typed")
    source = st.segmented_control(
        "Text",
        list(sources),
        key=state.INSIDE_SOURCE.key,
        format_func=sources.get,
        required=True,
        label_visibility="collapsed",
    )
    if source == "corpus" and source_text:
        chosen = _corpus_piece(source_text)
    else:
        if source == "corpus":
            st.caption("No corpus is chosen (pick one on the Corpus page), so type a text instead.")
        seed(state.INSIDE_TEXT, 'He said "hello (and goodbye)" to the cat.\nThe dog sat on the mat.\n')
        chosen = st.text_area("Your text", key=state.INSIDE_TEXT.key, max_chars=INSIDE_MAX_CHARS, height=110)
    encoded = run.vocab.encode_seed(chosen)
    skipped_caption(encoded.dropped)
    if not encoded.text:
        st.info("Type or pick a text to look at.", icon=":material/info:")
        st.stop()
    return encoded.text


def _corpus_piece(source_text: str) -> str:
    """A piece of the corpus: its length and start on two sliders (none for a text too short to choose from)."""
    longest = min(INSIDE_MAX_CHARS, len(source_text))
    length = longest
    if longest > 50:
        seed(state.INSIDE_LENGTH, min(600, longest))
        length = st.slider("Characters", min_value=50, max_value=longest, key=state.INSIDE_LENGTH.key)
    start, last_start = 0, len(source_text) - length
    if last_start > 0:
        seed(state.INSIDE_START, 0)
        state.INSIDE_START.set(min(state.INSIDE_START.get(), last_start))  # a longer piece leaves less room
        start = st.slider(
            "Start at character",
            min_value=0,
            max_value=last_start,
            key=state.INSIDE_START.key,
            help="Where in the corpus the piece starts.",
        )
    return source_text[start : start + length]


def ranking_view(result: Trace) -> list[UnitMatch]:
    """The units that follow a built-in idea most closely on this text, best first, and a picker that shows
    one of them below (see unit_picker); returns the ranking."""
    st.caption(
        "Each built-in idea (inside quotes, position in the line…) is compared with every unit's activation; "
        "a correlation near +1 or −1 means the unit follows that idea closely on this text. A negative one means "
        "it works the other way round: its activation drops (red below) where the idea holds, e.g. a unit that "
        "turns off inside quotes."
    )
    ranking = unit_ranking(result)
    if not ranking:
        st.caption("This text gives the ideas nothing to test (no quotes, brackets or new lines). Try a longer text.")
        return ranking
    st.dataframe(
        ranking_table(ranking)[["What it tracks", "Unit", "Correlation"]],
        hide_index=True,
        width="stretch",
        column_config={"Correlation": st.column_config.NumberColumn(format="%+.2f")},
    )

    @callback
    def show_ranked() -> None:
        picked = state.INSIDE_PICK.get()
        if picked is None or picked >= len(ranking):  # cleared, or another text meanwhile
            return
        match = ranking[picked]
        state.INSIDE_LAYER.set(match.layer + 1)
        state.INSIDE_STATE.set(match.state)
        state.INSIDE_UNIT.set(match.unit)

    if (state.INSIDE_PICK.get() or 0) >= len(ranking):  # another text or run
        state.INSIDE_PICK.set(None)
    st.selectbox(
        "Show a unit from the ranking",
        list(range(len(ranking))),
        key=state.INSIDE_PICK.key,
        format_func=lambda i: ranking[i].describe(),
        on_change=show_ranked,
        index=None,
        placeholder="Choose a unit…",
    )
    return ranking


def unit_picker(config: ModelConfig, ranking: list[UnitMatch]) -> tuple[int, str, int]:
    """The layer (from 1), state (one the run's cell carries) and unit (from 0) to show; at first the ranking's
    best, and the first unit again for a run that lacks the one shown before."""
    best = ranking[0] if ranking else None
    states = list(cell_type(config.cell).state_names)  # the output ("hidden") first; an LSTM's "cell" too
    seed(state.INSIDE_LAYER, best.layer + 1 if best else 1)
    seed(state.INSIDE_STATE, best.state if best else states[0])
    seed(state.INSIDE_UNIT, best.unit if best else 0)
    if (
        state.INSIDE_STATE.get() not in states
        or state.INSIDE_LAYER.get() > config.layers
        or state.INSIDE_UNIT.get() >= config.units
    ):  # another run
        state.INSIDE_LAYER.set(1)
        state.INSIDE_STATE.set(states[0])
        state.INSIDE_UNIT.set(0)
    a, b, c = st.columns([1, 2, 1])
    layer = a.selectbox("Layer", list(range(1, config.layers + 1)), key=state.INSIDE_LAYER.key)
    shown = b.segmented_control(
        "State", states, key=state.INSIDE_STATE.key, format_func=STATE_WORDS.get, required=True, help=STATE_HELP
    )
    unit = c.number_input("Unit", min_value=0, max_value=config.units - 1, step=1, key=state.INSIDE_UNIT.key)
    return layer, shown, int(unit)


def unit_view(result: Trace, layer: int, shown: str, unit: int) -> None:
    """The text coloured by one unit's activation."""
    st.markdown(f"**The text coloured by unit {unit} of layer {layer}** ({shown} state)")
    st.caption(
        "Blue: the unit is on (positive), underlined when strongly; red: negative, dotted underline when strongly; "
        "white: near zero. Hover a character for its numbers."
    )
    st.html(activation_html(result, layer - 1, shown, unit))


def surprise_view(result: Trace) -> None:
    """How surprised the network was by each character, and its top guesses after the one chosen on a slider."""
    st.caption(
        "Orange characters surprised the model (it gave them a low chance), underlined when strongly; white ones "
        "it saw coming. Hover a character for the model's top 5 guesses of what comes next."
    )
    st.html(surprise_html(result))
    with st.expander("The most surprising characters, in numbers"):
        st.dataframe(
            surprise_table(result),
            hide_index=True,
            column_config={"Surprise (nats)": st.column_config.NumberColumn(format="%.2f")},
        )
    position = st.slider("Character", min_value=0, max_value=len(result.text) - 1, value=0, key="inside_position")
    ch = result.text[position]
    st.caption(
        f"After “{md(visible_text(result.text[max(0, position - 30) : position + 1]))}” "
        f"(surprise at {md(visible_text(ch))}: {result.surprise[position]:.2f} nats), "
        "its top 5 guesses for the next character:"
    )
    st.dataframe(
        guesses_table(result, position),
        hide_index=True,
        column_config={"Probability": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
    )


def embedding_view(run: runs.Run, text: str) -> None:
    """Where the network puts each character: its embedding on a flat map, the characters `text` uses most
    written on it."""
    table, explained = embedding_table(run, text)
    alike = (
        "vowels with vowels, digits with digits"
        if {"vowel", "consonant"} & set(table["Kind"])
        else "digits with digits"
    )
    st.caption(
        "Each character's learned list of numbers, squeezed onto a flat map (PCA: the two directions that spread "
        f"them most, showing {explained[0] + explained[1]:.0%} of the differences). Characters the network uses "
        f"alike end up close together: {alike}."
    )
    if not table["Written"].all():
        st.caption(
            f"Only {table['Written'].sum()} characters are written on the map: the ones the text uses most, where "
            f"they have room. The other {(~table['Written']).sum():,} are dots (hover one to see it)."
        )
    chart(embedding_chart(table))
