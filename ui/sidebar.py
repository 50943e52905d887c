"""The sidebar, drawn on every page: the current text and run, the training's progress, the owner box."""

from __future__ import annotations

import time

import streamlit as st

from charlab.saving.runs import best_loss_words
from charlab.server.jobs import JobHandle
from charlab.text import corpus
from ui import state
from ui.corpus_cache import text_stats
from ui.display import projector_toggle
from ui.formatting import fmt_duration
from ui.job_registry import current_handle, queue_words
from ui.jobs import rerun_page, rerun_when_finished
from ui.lesson_links import hidden_words, leave_lesson
from ui.owners import owner_box
from ui.page_guard import callback
from ui.saved_runs import allowed_run_info
from ui.settings import STATUS_WORDS
from ui.start_from import apply_preset
from ui.text import md


def sidebar() -> None:
    with st.sidebar:
        owner_box()
        lesson = state.LESSON.get()
        if lesson and (lesson.get("title") or lesson.get("hidden")):
            st.markdown("#### Lesson")
            if lesson.get("title"):
                st.markdown(md(lesson["title"]))
            if lesson.get("hidden"):
                st.caption(f"Set by the lesson: {md(hidden_words(lesson))}.")
                st.button(
                    "Show all controls",
                    key="lesson_leave",
                    icon=":material/visibility:",
                    on_click=callback(leave_lesson),
                )
        st.markdown("#### Corpus")
        loaded = state.CORPUS.get()
        if loaded is None:
            st.caption("No text chosen yet.")
        else:
            label, _ = corpus.CLEANING_MODES[state.CLEANING.get()]
            left = text_stats(loaded, state.CLEANING.get()).characters  # what the model learns from
            st.markdown(f"**{md(loaded.name)}**  \n{left:,} characters · {label}")
        st.markdown("#### Run")
        info = allowed_run_info(state.RUN_PATH.get())
        handle = current_handle()
        running = handle is not None and not handle.job.done
        if running and (info is None or info.status != "training"):  # its folder may not exist yet
            doing = "waiting for a free place" if handle.waiting else STATUS_WORDS["training"]
            st.markdown(f"**{md(handle.job.name)}**  \n{doing}")
        elif info is None:
            st.caption("No run yet: train one, or load one from My runs.")
        else:
            loss = f" · {best_loss_words(info.best_loss, info.best_loss_on)}" if info.best_loss else ""
            st.markdown(f"**{md(info.name)}**  \n{STATUS_WORDS.get(info.status, info.status)}{loss}")
        projector_toggle()
        poll = poll_seconds(handle)
        if poll is not None:
            st.fragment(run_every=poll * 2)(_sidebar_progress)(poll)  # the Train page's live view is the fast one


SETTLED_AFTER_SECONDS = 30.0


def poll_seconds(handle: JobHandle | None) -> float | None:
    """How often a page redraws a training: four times a second until its first step (so the first
    point reaches the chart at once), then every second, and every 2 s after its first 30 s; every 5 s
    while it waits for a place (a full class waiting must not keep the server busy), never once it has
    ended."""
    if handle is None or handle.job.done:
        return None
    if handle.waiting:
        return 5.0
    if handle.job.trained_steps == 0:
        return 0.25
    started = handle.started_at
    # every second while the curve drops fast, then every 2 s: a class of tabs watching costs the server half
    return 2.0 if started is not None and time.monotonic() - started > SETTLED_AFTER_SECONDS else 1.0


def _sidebar_progress(poll: float) -> None:
    handle = current_handle()
    if handle is None:
        return
    if poll_seconds(handle) not in (poll, None):  # it got its place: redraw, and poll at the new pace
        rerun_page()
    p = handle.job.snapshot()
    if p.done or handle.cancelled:
        rerun_when_finished(p)
        return
    if handle.waiting:
        st.caption(f"Waiting for a free place ({queue_words(handle)})…")
    else:
        epoch = p.first_epoch + max(p.epoch, 1)
        if p.budget_seconds:  # by the clock
            words = f"Training · {fmt_duration(p.elapsed)} of {fmt_duration(p.budget_seconds)}"
        else:
            words = f"Training · epoch {epoch}/{p.first_epoch + p.epochs}"
        st.progress(p.fraction, text=words)


@callback
def on_preset_change() -> None:
    """The Preset control changed: fill every setting from the preset."""
    apply_preset(state.PRESET_BOX.get())
