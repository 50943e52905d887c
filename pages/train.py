"""Train: settings and what they cost, Start / Stop / Continue, the live loss chart, and My runs."""

import streamlit as st

from ui import state
from ui.corpus_cache import cleaned_text
from ui.job_registry import current_handle, is_running, watched_handle
from ui.jobs import stop_training
from ui.page_guard import guard
from ui.runs_view import my_runs
from ui.saved_runs import allowed_run_info
from ui.session import through_entry_script
from ui.train import continue_note, heading, live_section, scroll_to_live_once, start_or_continue, training_buttons
from ui.train_settings import settings_section

through_entry_script("train")

st.title("Train")
handle = current_handle()
running = is_running(handle)
watched = watched_handle(state.RUN_PATH.get())  # this session's training, or another's training of the current run
heading(watched, handle)
text = cleaned_text()

# the live view first once there is a training or a run to show (it fits a 1280x720 screen); the settings first
# while there is nothing to show yet
current = allowed_run_info(state.RUN_PATH.get())
live_first = running or current is not None
settings_area, controls_area = st.container(), st.container()
if live_first:
    settings_area, controls_area = controls_area, settings_area

with settings_area:
    settings, minutes = settings_section(text, expanded=not live_first)

with controls_area:
    run_name, start, stop, go_on = training_buttons(settings, minutes, current, running)
    if start or go_on:
        start_or_continue(text, settings, minutes, run_name, resume=current if go_on else None)
    elif stop:
        stop_training()
        st.rerun()
    continue_note(current)
    live_section(watched)
scroll_to_live_once()

st.header("My runs", divider="gray")
with guard("My runs"):
    my_runs()
