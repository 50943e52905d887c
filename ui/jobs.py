"""Starting and stopping this session's training, Quick start, and the polling fragments' page reruns.

Nothing here imports TensorFlow: only starting a training (charlab.learning.training) does, the first time
it is needed."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from charlab.errors import CharlabError
from charlab.learning.training import FINAL_STATES, Progress
from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig
from charlab.server.backends import training_job
from charlab.server.jobs import JobHandle
from charlab.text.corpus import Corpus
from ui import state
from ui.corpus_cache import cleaned_text, use_sample
from ui.job_registry import current_handle, registry
from ui.lesson_links import lesson_fixes_something
from ui.limits import fit_to_limit, server_limits
from ui.owners import check_run_allowed, session_workspace, shared_owner
from ui.settings import DEFAULT_SAMPLE, QUICK_START_CLEANING, budget_seconds
from ui.start_from import BLANK, apply_preset, writer_path
from ui.text import md


def start_training(
    text: str,
    settings: ModelConfig,
    minutes: float | None,
    name: str,
    cleaning: str,
    corpus_name: str,
    resume_from: str | None = None,
    start_from: str | None = None,
) -> JobHandle:
    """Check everything now (errors in plain words), then train in the background, into this session's workspace:
    for `minutes` by the clock, or (None) for the settings' epochs; a new run from the writer at `start_from`."""
    if resume_from is not None:
        check_run_allowed(resume_from)
    if registry().cluster_error:
        raise CharlabError(registry().cluster_error)
    limit = server_limits()
    budget = budget_seconds(minutes)
    # by the clock, the epochs only cap it, at what this server allows; training_job checks the settings, once
    config = replace(settings, epochs=limit.max_epochs) if budget else settings
    job = training_job(  # in a child process, so a class's trainings do not slow the pages
        text,
        config,
        name=name,
        cleaning=cleaning,
        corpus_name=corpus_name,
        root=session_workspace(),
        resume_from=resume_from,
        start_from=start_from,
        time_limit_seconds=limit.training_seconds,
        budget_seconds=budget,
        token=state.TOKEN.get(),  # on a cluster, a restarted server gives the training back to this session
        owner=shared_owner(),
    )
    limit.check_training(job.config, len(job.vocab))  # after the job: a continued run keeps its own shape
    handle = registry().queue.submit(state.TOKEN.get(), job, owner=shared_owner())
    state.TIMELAPSE_BOX.forget()  # the time-lapse slider follows the newest frame again
    state.SCROLL_TO_LIVE.set(True)  # the Start button may sit below the settings: show the chart
    state.JOB_SEEN_RUNNING.set(True)
    return handle


def stop_training() -> None:
    handle = current_handle()
    if handle is None:
        return
    was_waiting = handle.waiting
    registry().queue.stop(handle.token)  # cancels a waiting job, or stops a running one (it saves)
    if was_waiting:
        state.JOB_SEEN_RUNNING.set(False)


def rerun_when_finished(p: Progress) -> None:
    """Called from polling fragments: once the job has ended, redraw the whole page (buttons, runs)."""
    if p.status in FINAL_STATES and state.JOB_SEEN_RUNNING.get():
        rerun_page()


def rerun_page() -> None:
    """A polling fragment's st.rerun(), after a yield point.

    Streamlit merges rerun requests and keeps the page of the newest, so a click on another page
    that arrived while the fragment ran would be undone by its st.rerun() (a student who clicked
    Generate would stay on Train). Drawing an element first lets such a click interrupt
    this run instead; the page it opens is drawn afresh anyway.
    """
    st.empty()
    st.rerun()


def following_words(handle: JobHandle) -> str:
    """The Train page's first line while it follows another session's training (a teacher's Load of a
    student's running run): that training's own text, never the viewer's."""
    job = handle.job
    corpus_name = job.corpus_name or "its text"
    return (
        f"Following «{md(job.name)}», learning from **{md(corpus_name)}**: another session is training it, "
        "so this page watches it live; its owner's page can stop it."
    )


def default_run_name(loaded: Corpus | None, settings: ModelConfig) -> str:
    corpus_name = loaded.name if loaded else "text"
    return f"{corpus_name} · {CELL_TYPES[settings.cell].label} {settings.units}"


def own_text_chosen() -> bool:
    """A text of the user's own is chosen (an upload): Quick start can train on it instead of the sample."""
    loaded = state.CORPUS.get()
    return loaded is not None and loaded.source == "upload"


def quick_start(own_text: bool = False) -> None:
    """Home's button: a bundled sample, small settings, training at once (in a lesson: its text and settings;
    with own_text: the user's uploaded text, its cleaning, and the Quick preset fitted to its size)."""
    if own_text and own_text_chosen():
        apply_preset("quick")  # fitted to the text: a 4 KB text gets a small network, not 241k parameters
    elif lesson_fixes_something() and state.CORPUS.get() is not None:
        fit_to_limit("settings", "epochs", server_limits().max_epochs)  # a lesson may ask more than this server allows
    else:
        use_sample(DEFAULT_SAMPLE)
        state.CLEANING.set(QUICK_START_CLEANING)
        state.START_FROM.set(BLANK)  # the demo Home describes: a blank network learns
        state.START_FROM_CHOSEN.set(False)
        apply_preset("quick")
    start_training(
        cleaned_text(),
        state.SETTINGS.get(),
        state.MINUTES.get(),
        default_run_name(state.CORPUS.get(), state.SETTINGS.get()),
        state.CLEANING.get(),
        state.CORPUS.get().name,
        start_from=writer_path(),  # a small text of one's own: the classics writer (apply_preset chose)
    )
