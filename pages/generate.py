"""Generate: let a trained run write, and see how temperature reshapes its next-character odds."""

import streamlit as st

from ui import state
from ui.generate import (
    COMPARE_ANCHOR,
    asked_anchor,
    checked_settings,
    compare_temperatures,
    comparison_view,
    generation_controls,
    last_text,
    next_character_view,
    text_view,
    write_text,
    writing_run,
)
from ui.saved_runs import pick_current_run, training_index
from ui.session import through_entry_script
from ui.text import scroll_to

through_entry_script("generate")

st.title("Generate")
info = pick_current_run(state.GENERATE_RUN, "No trained run yet. Train one first: text appears after a minute.")
run_path = str(info.path)
run = writing_run(info)
settings_column, chart_column = st.columns([1, 1], gap="large")
with settings_column:
    generate, compare = generation_controls(run, info)
chosen = checked_settings()
index = training_index(run)  # the copy detector's view of the training text (None: not loaded)
output = last_text(run_path)
with chart_column:
    next_character_view(run_path, chosen, output)
if generate:
    write_text(run, run_path, chosen)
if output:
    text_view(run, info, output, index)
if compare:
    compare_temperatures(run, run_path, chosen)
comparison_view(run_path, index)
asked = asked_anchor()  # the text written before the last rerun
scroll_to(COMPARE_ANCHOR if compare else asked)  # the result just asked for, brought on screen once
