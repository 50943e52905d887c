"""The server-wide registry (cached once per server): the training queue and each session's remembered
choices; this session's training and whether it runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import streamlit as st

from charlab.errors import CharlabError
from charlab.saving import runs
from charlab.server import cluster
from charlab.server.jobs import JobHandle, JobQueue
from ui import state
from ui.formatting import fmt_duration, ordinal
from ui.text import md

REMEMBER_SESSION_SECONDS = 24 * 3600  # a session's remembered choices (for a reload) are kept this long


class Registry:
    """Server-wide: the training queue (charlab.server.jobs) and each session's remembered choices, by session token."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cluster_error: str | None = None  # a cluster setting mistyped, or the cluster unreachable, in words
        room = None
        try:
            if cluster.backend() == "ray":
                room = cluster.queue_room()  # the cluster's nodes say how many train at once
        except CharlabError as err:
            self.cluster_error = str(err)
        # cap: $CHARLAB_MAX_TRAININGS or the CPU cores (or the cluster's room); unwatched jobs stopped and saved
        if room is None:
            self.queue = JobQueue()
        else:
            self.queue = JobQueue(capacity=room.places, why_no_place=room.why_none)
            cluster.reattach(self.queue)  # a restarted server follows the trainings still on the cluster
        self.memory: dict[str, dict] = {}
        self.memory_seen: dict[str, float] = {}

    def remember(self, token: str, memory: dict) -> None:
        with self.lock:
            self.memory[token] = memory
            self.memory_seen[token] = time.monotonic()

    def sweep(self) -> None:
        """Stop trainings nobody watches (their runs are saved); forget sessions not seen for a day."""
        self.queue.sweep()
        now = time.monotonic()
        with self.lock:
            for token, seen in list(self.memory_seen.items()):
                if now - seen > REMEMBER_SESSION_SECONDS and token not in self.queue:
                    self.memory.pop(token, None)
                    self.memory_seen.pop(token, None)


@st.cache_resource(show_spinner=False)
def registry() -> Registry:
    return Registry()


def show_cluster_problem() -> None:
    """A cluster setting mistyped (CHARLAB_RAY_ADDRESS, CHARLAB_CPUS_PER_TRAINING…), or a Ray cluster configured
    but unreachable: said on every page (trainings cannot start until the server restarts with it fixed, or
    with CHARLAB_RAY_FALLBACK=local for an unreachable cluster)."""
    problem = registry().cluster_error
    if problem:
        st.error(f"Trainings cannot start: {md(problem)} Then start the server again.", icon=":material/cloud_off:")


def current_handle() -> JobHandle | None:
    """This session's training (waiting, running or ended), marked as watched."""
    token = state.TOKEN.get()
    return registry().queue.touch(token) if token else None


def watched_handle(run_path: str | None) -> JobHandle | None:
    """The training the Train page's live view follows: this session's while it waits or trains; else the one
    still training the current run, whoever started it (a teacher who loaded a student's run, which is not
    this session's to stop); else this session's last one."""
    mine = current_handle()
    if mine is not None and not mine.job.done:
        return mine
    if run_path and (Path(run_path) / "config.json").is_file() and runs.read_meta(run_path).get("status") == "training":
        return registry().queue.training_into(run_path) or mine
    return mine


def is_running(handle: JobHandle | None = None) -> bool:
    handle = handle if handle is not None else current_handle()
    return handle is not None and not handle.job.done


def queue_words(handle: JobHandle) -> str:
    """ "yours is next, about 2 min" — the place in the queue and, when it can be told, the wait."""
    queue = registry().queue
    ahead = queue.position(handle.token) or 0
    eta = queue.eta(handle.token)
    place = "yours is next" if ahead == 0 else f"{ordinal(ahead + 1)} in the queue"
    if eta is None:
        return place
    return f"{place}, starts in a few seconds" if eta < 10 else f"{place}, starts in about {fmt_duration(eta)}"
