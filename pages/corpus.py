"""Corpus: choose the text the model learns from, clean it, and look at its characters."""

import streamlit as st

from charlab.errors import CharlabError
from charlab.network.model import estimate
from charlab.text import corpus, samples
from ui.charts import vocabulary_chart, vocabulary_table
from ui.corpus_cache import changed_characters, cleaned_text, text_stats, use_sample, use_upload
from ui.display import chart
from ui.limits import server_limits, upload_box_mb
from ui.page_guard import callback
from ui.session import through_entry_script
from ui.settings import DEFAULT_SAMPLE, PAGES, model_config
from ui.text import md, visible_text
from ui.widget_state import is_hidden, take_upload

through_entry_script("corpus")

ss = st.session_state
st.title("Corpus")
st.caption("The text the model learns to imitate. Pick a sample or upload a plain-text file.")

if is_hidden("sample"):  # a lesson chose the text: no other can be picked
    st.caption("This lesson chose the text.")
else:
    sample_tab, upload_tab = st.tabs(["Sample texts", "Upload your own"])
    with sample_tab:
        keys = [s.key for s in samples.SAMPLES]
        current = ss.corpus.source.removeprefix("sample:") if ss.corpus else DEFAULT_SAMPLE
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

loaded = ss.corpus
if loaded is None:
    st.info("Choose a sample text or upload a file to begin.", icon=":material/arrow_upward:")
    st.stop()

st.header(md(loaded.name), divider="gray")
for note in loaded.notes:
    st.info(md(note), icon=":material/info:")
modes = list(corpus.CLEANING_MODES)
if not is_hidden("cleaning"):  # else the lesson's cleaning stays
    ss.cleaning = st.radio(
        "Cleaning",
        modes,
        index=modes.index(ss.cleaning),
        horizontal=True,
        key="corpus_cleaning",
        format_func=lambda m: corpus.CLEANING_MODES[m][0],
        help="What the model learns is the cleaned text.",
        # before the sidebar is drawn
        on_change=callback(lambda: ss.update(cleaning=ss.get("corpus_cleaning") or ss.cleaning)),
    )
st.caption(corpus.CLEANING_MODES[ss.cleaning][1])

raw, cleaned = text_stats(loaded), text_stats(loaded, ss.cleaning)  # the metrics show what is left
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

try:
    parameters = estimate(model_config(ss.settings), cleaned.unique_characters, cleaned.characters).parameters
except CharlabError:
    parameters = None
for warning in corpus.cleaning_warnings(raw, ss.cleaning) + corpus.warnings(
    cleaned_text(), ss.settings.seq_length, parameters
):
    st.warning(md(warning), icon=":material/warning:")

st.subheader("Vocabulary")
changes = changed_characters(loaded, ss.cleaning)
vocabulary = vocabulary_table(raw, changes)
replaced, dropped = (vocabulary["Cleaning"] == "replaced").sum(), (vocabulary["Cleaning"] == "dropped").sum()
CHART_BARS = 70  # more bars than this cannot be read on a projector (35 for Chinese: see ui.charts.vocabulary_chart)
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
    shown = [f"{visible_text(c)} → {visible_text(to) or '(dropped)'}" for c, to in list(changes.items())[:40]]
    st.markdown("**Changed by cleaning:** " + " · ".join(md(s) for s in shown) + (" …" if len(changes) > 40 else ""))
with st.expander(f"All {raw.unique_characters:,} characters as a table"):
    st.dataframe(
        vocabulary,
        hide_index=True,
        width="stretch",
        column_config={"Share": st.column_config.NumberColumn(format="percent")},
    )

st.subheader("Preview")
left, right = st.columns(2)
left.markdown("**As uploaded**")
left.code(loaded.text[:1500], language=None, wrap_lines=True, height=260)
right.markdown(f"**Cleaned: {corpus.CLEANING_MODES[ss.cleaning][0]}**")
right.code(cleaned_text()[:1500], language=None, wrap_lines=True, height=260)
st.page_link(PAGES["train"], label="Next: train a model on this text", icon=":material/arrow_forward:")
