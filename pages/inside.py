"""Look inside: what single units of a trained network track, how surprised it is, where letters sit."""

import streamlit as st

from ui import state
from ui.corpus_cache import cleaned_text
from ui.inside import (
    embedding_view,
    ranking_view,
    reading_run,
    run_trace,
    surprise_view,
    text_to_read,
    unit_picker,
    unit_view,
)
from ui.saved_runs import pick_current_run, run_training_text
from ui.session import through_entry_script

through_entry_script("inside")

st.title("Look inside")
st.caption(
    "A trained network is thousands of numbers, but some single units learn one clear job, such as "
    "“am I inside quotes?”. Here you can find them and watch them switch on and off as the network reads."
)
info = pick_current_run(state.INSIDE_RUN, "No trained run yet. Train one first, then come back to look inside it.")
run_path = str(info.path)
run = reading_run(run_path)
source_text = run_training_text(run) or cleaned_text()

st.subheader("1 · A text for the network to read")
text = text_to_read(run, source_text)
with st.spinner("The network is reading…"):
    result = run_trace(run_path, text)

st.subheader("2 · Units that track something")
ranking = ranking_view(result)
layer, shown, unit = unit_picker(run.config, ranking)
unit_view(result, layer, shown, unit)

st.subheader("3 · How surprised the network is")
surprise_view(result)

st.subheader("4 · Where the network puts each character")
embedding_view(run, source_text or result.text)
