"""The Corpus page's sections: choosing a text, its cleaning, what cleaning changes, its vocabulary and a preview.
Each draws one group and returns what it read."""

from __future__ import annotations

import streamlit as st

from charlab.errors import CharlabError
from charlab.network.model import estimate
from charlab.text import corpus, samples
from charlab.text.corpus import Corpus, CorpusStats
from ui import state
from ui.charts import vocabulary_chart, vocabulary_table
from ui.corpus_cache import changed_characters, cleaned_text, text_stats, use_sample, use_upload
from ui.display import chart
from ui.limits import server_limits, upload_box_mb
from ui.page_guard import callback
from ui.settings import DEFAULT_SAMPLE, model_config
from ui.text import md, visible_text
from ui.widget_state import is_hidden, take_upload

CHART_BARS = 70  # more bars than this cannot be read on a projector (35 for Chinese: see ui.charts.vocabulary_chart)
CHANGES_LISTED = 40  # characters changed by cleaning, listed in one line under the chart


def text_chooser() -> None:
    """A sample text or an upload, each becoming the session's text (CORPUS) as it is chosen; nothing when a
    lesson chose the text."""
    if is_hidden("sample"):  # a lesson chose the text: no other can be picked
        st.caption("This lesson chose the text.")
        return
    sample_tab, upload_tab = st.tabs(["Sample texts", "Upload your own"])
    with sample_tab:
        _sample_chooser()
    with upload_tab:
        limit = server_limits()
        upload = st.file_uploader(
            f"Drop a .txt file here (at most {limit.upload_mb:g} MB)",
            type=["txt"],
            key="corpus_upload",
            max_upload_size=upload_box_mb(limit.upload_mb),
            help="Plain text, ideally UTF-8. Word or PDF documents must be saved as plain text first.",
        )
        take_upload(upload, "corpus_upload", lambda f: use_upload(f.name, f.getvalue()))


def _sample_chooser() -> None:
    loaded = state.CORPUS.get()
    keys = [s.key for s in samples.SAMPLES]
    current = loaded.source.removeprefix("sample:") if loaded else DEFAULT_SAMPLE
    choice = st.radio(
        "Sample texts",
        keys,
        index=keys.index(current) if current in keys else 0,
        key="corpus_sample",
        format_func=lambda k: samples.get_sample(k).title,
        label_visibility="collapsed",
        captions=[
            f"{s.description} ≈{s.approx_size:,} characters"
            + ("" if samples.is_offline(s.key) else " · needs the internet once")
            for s in samples.SAMPLES
        ],
    )
    sample = samples.get_sample(choice)
    if st.button(f"Use “{sample.title}”", type="primary", key="corpus_use_sample", icon=":material/check:"):
        try:
            with st.spinner(f"Loading {sample.title}…"):
                use_sample(choice)
        except CharlabError as err:
            st.error(md(str(err)), icon=":material/error:")
        else:
            st.rerun()  # the sidebar, drawn before this page, shows the new text at once


def chosen_text() -> Corpus:
    """The text chosen, under its name with its notes; until there is one, the page says how and stops."""
    loaded = state.CORPUS.get()
    if loaded is None:
        st.info("Choose a sample text or upload a file to begin.", icon=":material/arrow_upward:")
        st.stop()
    st.header(md(loaded.name), divider="gray")
    for note in loaded.notes:
        st.info(md(note), icon=":material/info:")
    return loaded


def cleaning_choice() -> str:
    """How the text is cleaned (a key of CLEANING_MODES, kept in CLEANING), and what that cleaning does; a lesson's
    cleaning stays, with no choice drawn."""
    if not is_hidden("cleaning"):
        modes = list(corpus.CLEANING_MODES)
        state.CLEANING.set(
            st.radio(
                "Cleaning",
                modes,
                index=modes.index(state.CLEANING.get()),
                horizontal=True,
                key=state.CLEANING_BOX.key,
                format_func=lambda m: corpus.CLEANING_MODES[m][0],
                help="What the model learns is the cleaned text.",
                on_change=_keep_cleaning,
            )
        )
    cleaning = state.CLEANING.get()
    st.caption(corpus.CLEANING_MODES[cleaning][1])
    return cleaning


@callback
def _keep_cleaning() -> None:
    """The choice reaches CLEANING before the sidebar, drawn before this page, shows the text's size."""
    state.CLEANING.set(state.CLEANING_BOX.get() or state.CLEANING.get())


def text_metrics(loaded: Corpus, cleaning: str) -> tuple[CorpusStats, CorpusStats]:
    """Characters, letters, lines, words and vocabulary after cleaning, with what cleaning took away; returns the
    raw text's statistics and the cleaned text's."""
    raw, cleaned = text_stats(loaded), text_stats(loaded, cleaning)
    metrics = st.columns(5)
    for column, label, before, after in (
        (metrics[0], "Characters", raw.characters, cleaned.characters),
        (metrics[1], "Letters", raw.letters, cleaned.letters),
        (metrics[2], "Lines", raw.lines, cleaned.lines),
        (metrics[3], "Words", raw.words, cleaned.words),
        (metrics[4], "Vocabulary size", raw.unique_characters, cleaned.unique_characters),
    ):
        column.metric(
            label,
            f"{after:,}",
            delta=f"{after - before:+,} by cleaning" if after != before else None,
            delta_color="off",
            border=True,
        )
    return raw, cleaned


def text_warnings(raw: CorpusStats, cleaned: CorpusStats, cleaning: str) -> None:
    """What may go wrong training on this text with the settings on the Train page (too short, too big a network
    for it, a cleaning that removes most of it)."""
    settings = state.SETTINGS.get()
    try:
        parameters = estimate(model_config(settings), cleaned.unique_characters, cleaned.characters).parameters
    except CharlabError:
        parameters = None
    for warning in corpus.cleaning_warnings(raw, cleaning) + corpus.warnings(
        cleaned_text(), settings.seq_length, parameters
    ):
        st.warning(md(warning), icon=":material/warning:")


def vocabulary_view(loaded: Corpus, raw: CorpusStats, cleaned: CorpusStats, cleaning: str) -> None:
    """The text's characters, most frequent first, as a chart and a table, and what cleaning does to them."""
    st.subheader("Vocabulary")
    changes = changed_characters(loaded, cleaning)
    vocabulary = vocabulary_table(raw, changes)
    replaced, dropped = (vocabulary["Cleaning"] == "replaced").sum(), (vocabulary["Cleaning"] == "dropped").sum()
    st.caption(
        f"The {raw.unique_characters:,} different characters of the text, most frequent first "
        "(␣ space, ⏎ new line, ⇥ tab"
        + (
            f"); the chart shows the most frequent, the table below lists all {raw.unique_characters:,}. "
            if raw.unique_characters > CHART_BARS
            else "). "
        )
        + (
            f"Cleaning replaces {replaced} of them and drops {dropped}; the model will learn "
            f"{cleaned.unique_characters} characters."
            if replaced or dropped
            else "Cleaning changes none of them."
        )
    )
    chart(vocabulary_chart(vocabulary, CHART_BARS))
    if replaced or dropped:
        shown = [
            f"{visible_text(c)} → {visible_text(to) or '(dropped)'}" for c, to in list(changes.items())[:CHANGES_LISTED]
        ]
        more = " …" if len(changes) > CHANGES_LISTED else ""
        st.markdown("**Changed by cleaning:** " + " · ".join(md(s) for s in shown) + more)
    with st.expander(f"All {raw.unique_characters:,} characters as a table"):
        st.dataframe(
            vocabulary,
            hide_index=True,
            width="stretch",
            column_config={"Share": st.column_config.NumberColumn(format="percent")},
        )


def preview(loaded: Corpus, cleaning: str) -> None:
    """The start of the text as uploaded and as cleaned, side by side."""
    st.subheader("Preview")
    left, right = st.columns(2)
    left.markdown("**As uploaded**")
    left.code(loaded.text[:1500], language=None, wrap_lines=True, height=260)
    right.markdown(f"**Cleaned: {corpus.CLEANING_MODES[cleaning][0]}**")
    right.code(cleaned_text(loaded, cleaning)[:1500], language=None, wrap_lines=True, height=260)
