"""The server-wide registry (cached once per server): the training queue and each session's remembered
choices; this session's training and whether it runs."""

from __future__ import annotations

import threading
import time

import streamlit as st

from charlab.jobs import JobHandle, JobQueue

REMEMBER_SESSION_SECONDS = 24 * 3600  # a session's remembered choices (for a reload) are kept this long


class Registry:
    """Server-wide: the training queue (charlab.jobs) and each session's remembered choices, by session token."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queue = JobQueue()  # cap: $CHARLAB_MAX_TRAININGS or the CPU cores; unwatched jobs stopped and saved
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


def current_handle() -> JobHandle | None:
    """This session's training (waiting, running or ended), marked as watched."""
    token = st.session_state.get("token")
    return registry().queue.touch(token) if token else None


def is_running(handle: JobHandle | None = None) -> bool:
    handle = handle if handle is not None else current_handle()
    return handle is not None and not handle.job.done
