"""The Grammar lab: how well a run trained on the Reber sample follows the grammar, and its growth."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from charlab.saving import runs
from charlab.text.reber import first_error, grammar_lines, grammar_score
from ui import state
from ui.display import chart
from ui.settings import COLORS
from ui.text import marked_text


def grammar_timelapse_table(timelapse: list[dict]) -> pd.DataFrame:
    """Share of grammatical strings in each time-lapse frame, by epoch and training time."""
    rows = []
    for entry in timelapse:
        score = grammar_score(entry.get("text", ""))
        if score.total:
            rows.append((float(entry.get("epoch", 0.0)), float(entry.get("seconds", 0.0)), score.share, score.total))
    return pd.DataFrame(rows, columns=["epoch", "seconds", "grammatical", "strings"])


def grammar_chart(table: pd.DataFrame) -> alt.Chart:
    """The share of grammatical strings against training time: the proof that rules are being learned."""
    return (
        alt.Chart(table)
        .mark_line(point=True, color=COLORS["primary"])
        .encode(
            x=alt.X("seconds:Q", title="Training time (seconds)"),
            y=alt.Y(
                "grammatical:Q", title="Grammatical strings", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            tooltip=[
                alt.Tooltip("epoch:Q", format=".2f", title="Epoch"),
                alt.Tooltip("seconds:Q", format=".0f", title="Seconds of training"),
                alt.Tooltip("grammatical:Q", format=".0%", title="Grammatical"),
                alt.Tooltip("strings:Q", title="Strings checked"),
            ],
        )
        .properties(height=220)
    )


def grammar_growth(timelapse: list[dict]) -> None:
    """How the share of grammatical strings grew over the time-lapse frames (Train and Generate)."""
    table = grammar_timelapse_table(timelapse)
    if len(table) > 1:
        st.markdown("**Grammatical strings as it learned** (in each time-lapse frame)")
        chart(grammar_chart(table))


def grammar_view(run: runs.Run, text: str) -> None:
    """Share of grammatical strings, its growth over the time-lapse, and where a chosen string breaks the rules."""
    score = grammar_score(text)
    st.metric(
        "Grammatical strings",
        f"{score.share:.0%}" if score.total else "–",
        help="Lines that are exactly one string the embedded Reber grammar allows (the cut-off last line is not "
        "counted).",
        border=True,
    )
    st.caption(f"{score.grammatical} of {score.total} complete strings follow every rule of the grammar.")
    grammar_growth(run.timelapse())
    lines = grammar_lines(text)
    if not lines:
        return
    if state.GRAMMAR_LINE.get(0) >= len(lines):  # a shorter text than the one last checked
        state.GRAMMAR_LINE.set(0)
    i = st.selectbox(
        "Check one string",
        list(range(len(lines))),
        key=state.GRAMMAR_LINE.key,
        format_func=lambda k: f"{k + 1}: {lines[k][:60]}",
    )
    line = lines[i]
    where = first_error(line)
    if where is None:
        st.success("This string follows the grammar from start to end.", icon=":material/check_circle:")
        st.html(marked_text(line, [], height=None))
    else:
        st.warning(
            f"It breaks the grammar at character {where + 1}"
            + (" (the string ends too early)." if where >= len(line) else "."),
            icon=":material/error:",
        )
        st.html(marked_text(line + (" " if where >= len(line) else ""), [(where, where + 1, "#FCA5A5")], height=None))
