"""A server-wide queue of trainings: at most N run at once, the others wait their turn in order.

A classroom server keeps one `JobQueue` for all its sessions (Streamlit: `st.cache_resource`)
and talks to it with each session's owner token, so one session never sees another's job.
A page that polls its job calls `touch(token)`; `sweep()` stops the jobs nobody has polled for
a while (their runs are saved, as with Stop), drops waiting ones nobody waits for, and forgets
finished ones. Nothing here imports Streamlit, so these rules are tested directly.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from charlab import limits
from charlab.errors import CharlabError
from charlab.learning.training import Progress
from charlab.network.model import ModelConfig
from charlab.text.vocab import Vocab

KEEP_FINISHED_JOB_SECONDS = 24 * 3600.0  # a finished job's progress stays for a reload this long


class Job(Protocol):
    """A training, wherever it runs: every member the queue and the pages use, declared once.

    charlab.learning.training.TrainingJob (in a thread), charlab.server.workers.ProcessTrainingJob (a child
    process) and charlab.server.cluster.RayTrainingJob (a node of a cluster) have all of it;
    charlab.server.backends.training_job picks one. The queue's own tests use a cheap stand-in with the queue's
    part (name to snapshot)."""

    name: str  # the run's name, as typed
    text: str  # the cleaned training text while it trains; "" once over (a finished job stays small)
    vocab: Vocab
    config: ModelConfig  # checked, with a continued or fine-tuned run's network shape
    cleaning: str  # the cleaning the text had (charlab.text.corpus), for its baselines and the Reber lesson
    corpus_name: str  # the text's name, as the user gave it

    def run(self) -> Progress:
        """Train in this thread, to the end (the queue calls it in a thread of its own)."""
        ...

    def stop(self) -> None:
        """Ask it to stop after the current batch; what was learned is saved."""
        ...

    def wait(self, timeout: float | None = None) -> bool: ...

    def snapshot(self) -> Progress:
        """A copy of its progress, safe to read while it trains."""
        ...

    def expected_seconds(self) -> float | None:
        """The model's own estimate of the whole training (None: none), for the queue's ETA."""
        ...

    @property
    def done(self) -> bool:
        """Over, its run saved and marked."""
        ...

    @property
    def trained_steps(self) -> int:
        """Batches trained so far (without copying the progress, as snapshot does)."""
        ...


@dataclass(eq=False)
class JobHandle:
    """A job, its owner's token and its place in the queue. Only its owner's token finds it."""

    job: Job
    token: str
    queued_at: float
    last_seen: float
    started: threading.Event = field(default_factory=threading.Event)
    started_at: float | None = None
    ended_at: float | None = None  # when `run()` returned and the place was freed
    cancelled: bool = False  # taken out of the queue before it started
    abandoned: bool = False  # stopped by `sweep()` because no page polled it
    owner: str | None = None  # the workspace it trains into: another tab of the same owner may adopt it

    @property
    def waiting(self) -> bool:
        return not self.started.is_set() and not self.cancelled

    @property
    def running(self) -> bool:
        """Holding one of the places (from start until `run()` returns)."""
        return self.started.is_set() and self.ended_at is None

    @property
    def active(self) -> bool:
        """Waiting, or running and not yet finished: the owner cannot start another one."""
        return self.waiting or (self.running and not self.job.done)


@dataclass(frozen=True)
class Swept:
    """What one `sweep()` did (counts only: a token is its owner's secret)."""

    stopped: int = 0  # running jobs nobody polled: asked to stop, so they save their runs
    cancelled: int = 0  # waiting jobs nobody polled: taken out of the queue (nothing was trained yet)
    forgotten: int = 0  # finished jobs dropped from memory


def configured_max_trainings(value: int | str | None = None) -> int:
    """The cap on trainings at once: `value`, else $CHARLAB_MAX_TRAININGS, else the number of CPU cores."""
    if value is None:
        return limits.current().max_trainings
    return int(limits.parse("max_trainings", value))


def configured_abandon_seconds(minutes: float | str | None = None) -> float:
    """How long a job may go unpolled: `minutes`, else $CHARLAB_ABANDON_MINUTES, else 30 minutes; in seconds."""
    if minutes is None:
        return limits.current().abandon_minutes * 60.0
    return float(limits.parse("abandon_minutes", minutes)) * 60.0


class JobQueue:
    """Runs submitted jobs in order, at most `max_trainings` at a time, each in its own thread."""

    def __init__(
        self,
        max_trainings: int | str | None = None,
        abandon_minutes: float | str | None = None,
        forget_after: float = KEEP_FINISHED_JOB_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        capacity: Callable[[], int] | None = None,
        why_no_place: Callable[[], str | None] | None = None,
    ):
        """`clock` is injectable so tests can age jobs without sleeping. `capacity`, when given, says how many
        trainings fit now (a cluster's nodes come and go: charlab.server.cluster) instead of `max_trainings`, and
        `why_no_place` why none fits, in words, when it says 0."""
        self._max_trainings = configured_max_trainings(max_trainings) if capacity is None else 0
        self._capacity = capacity
        self._why_no_place = why_no_place
        self._capacity_error: str | None = None  # why `capacity` could not say, the last time it was asked
        self.abandon_after = configured_abandon_seconds(abandon_minutes)
        self.forget_after = float(forget_after)
        self._clock = clock
        self._lock = threading.Lock()
        self._handles: dict[str, JobHandle] = {}  # one per owner token
        self._waiting: deque[JobHandle] = deque()  # oldest first
        self._running = 0

    @property
    def max_trainings(self) -> int:
        """How many trainings may run at once now."""
        if self._capacity is None:
            return self._max_trainings
        try:
            places = max(0, int(self._capacity()))
        except Exception as err:  # a cluster that cannot say now: no new starts until it can
            self._capacity_error = str(err) or type(err).__name__
            return 0
        self._capacity_error = None
        return places

    def waiting_words(self, place: str) -> str:
        """Why a waiting training waits, in a sentence with its `place` in the queue ("yours is next"): every
        place taken by other trainings, or (on a cluster) no place at all now, and why."""
        if self._capacity is None or self.max_trainings > 0:
            where = "this computer" if self._capacity is None else "the cluster's computers"
            return f"Waiting for a free place: other trainings are using {where} ({place}). Training starts by itself."
        error = self._capacity_error
        why = None
        if error is None and self._why_no_place is not None:
            try:
                why = self._why_no_place()
            except Exception as err:  # the cluster stopped answering since it said how many places
                error = str(err) or type(err).__name__
        if error is not None:
            why = f"The cluster cannot say now how many trainings it holds ({error})."
        why = why or "No place is free now."
        return f"Waiting ({place}): {why} Training starts by itself once a computer of the cluster can hold it."

    # ------------------------------------------------------------ an owner's view

    def submit(self, token: str, job: Job, owner: str | None = None) -> JobHandle:
        """Queue `job` for its owner; it starts by itself when a place is free.

        `owner` (a nickname's workspace) lets another tab of the same owner find it (`adopt`)."""
        if not isinstance(token, str) or not token:
            raise CharlabError("This session has no token, so its training cannot be queued. Reload the page.")
        with self._lock:
            old = self._handles.get(token)
            if old is not None and old.active:
                raise CharlabError("A training is already running in this session. Stop it first.")
            now = self._clock()
            handle = JobHandle(job=job, token=token, queued_at=now, last_seen=now, owner=owner)
            self._handles[token] = handle
            self._waiting.append(handle)
            self._dispatch()
        return handle

    def attach(self, token: str, job: Job, owner: str | None = None) -> JobHandle:
        """A training that is already running somewhere (found again on a cluster after the server restarted):
        it holds a place at once, outside the queue's order, and its owner's token finds it as before."""
        with self._lock:
            now = self._clock()
            handle = JobHandle(job=job, token=token, queued_at=now, last_seen=now, owner=owner)
            handle.started_at = now
            handle.started.set()
            if not self._start_thread(handle):  # no threads left: it holds no place and nobody finds it
                raise CharlabError("The server could not start following this training (no threads left).")
            self._handles[token] = handle
            self._running += 1
        return handle

    def adopt(self, token: str, owner: str) -> JobHandle | None:
        """A tab that has no training of its own finds its owner's active one (a student who closed the
        tab and typed the same nickname again): from then on this token watches and stops it too."""
        with self._lock:
            mine = self._handles.get(token)
            if mine is not None and mine.active:
                return mine
            for handle in list(self._handles.values()):
                if handle.owner == owner and handle.active:
                    self._handles[token] = handle
                    handle.last_seen = self._clock()
                    return handle
            return None

    def touch(self, token: str) -> JobHandle | None:
        """The owner's job (None if none), marked as watched: call it whenever a page polls."""
        with self._lock:
            handle = self._handles.get(token)
            if handle is not None:
                handle.last_seen = self._clock()
            return handle

    def training_into(self, run_path: str | Path) -> JobHandle | None:
        """The job waiting or training into the run folder `run_path`, whoever started it (None if none): a
        teacher who loaded a student's run follows it live. Found by the run, never by a token."""
        with self._lock:
            handles = list({id(h): h for h in self._handles.values() if h.active}.values())
        wanted = Path(run_path)
        for handle in handles:
            found = handle.job.snapshot().run_path
            if found is not None and Path(found) == wanted and not handle.job.done:
                return handle
        return None

    def __contains__(self, token: object) -> bool:
        with self._lock:
            return token in self._handles

    def position(self, token: str) -> int | None:
        """How many jobs wait ahead of this owner's (0: it is next); None when it is not waiting."""
        with self._lock:
            handle = self._handles.get(token)
            if handle is None or not handle.waiting:
                return None
            return self._waiting.index(handle)

    def eta(self, token: str) -> float | None:
        """About how many seconds until this owner's waiting job starts; None when unknown or not waiting.

        The running jobs free their places when their own ETA says; each job ahead then takes the
        first free place for as long as its estimate says.
        """
        with self._lock:
            handle = self._handles.get(token)
            if handle is None or not handle.waiting:
                return None
            running = [h for h in self._handles.values() if h.running]
            ahead = list(self._waiting)[: self._waiting.index(handle)]
            now = self._clock()
        free_at = [_remaining(h, now) for h in running]
        durations = [_expected_seconds(h.job) for h in ahead]
        if any(t is None for t in free_at + durations):
            return None
        places = sorted(free_at + [0.0] * max(0, self.max_trainings - len(running)))
        if not places:  # no place at all now (a cluster without a node that has room)
            return None
        for duration in durations:
            heapq.heappush(places, heapq.heappop(places) + duration)
        return max(0.0, places[0])

    def cancel(self, token: str) -> bool:
        """Take a waiting job out of the queue (nothing was trained, so nothing is lost); False if not waiting."""
        with self._lock:
            handle = self._handles.get(token)
            if handle is None or not handle.waiting:
                return False
            self._cancel(handle)
            return True

    def stop(self, token: str) -> bool:
        """The Stop button: cancel a waiting job, or ask a running one to stop and save; False if there is none."""
        with self._lock:
            handle = self._handles.get(token)
            if handle is None:
                return False
            if handle.waiting:
                self._cancel(handle)
                return True
        if handle.running:
            handle.job.stop()
            return True
        return False

    # ------------------------------------------------------------ the server's view

    def counts(self) -> tuple[int, int]:
        """(running, waiting): for a teacher's page or a log line."""
        with self._lock:
            return self._running, len(self._waiting)

    def stop_all(self) -> int:
        """Cancel every waiting job and ask every running one to stop and save (server shutdown, test clean-up).

        Returns how many jobs were cancelled or asked to stop; `counts()` reaches (0, 0) once they have saved.
        """
        with self._lock:
            waiting = list(self._waiting)
            for handle in waiting:
                self._cancel(handle)
            running = list({id(h): h for h in self._handles.values() if h.running and not h.job.done}.values())
        for handle in running:
            handle.job.stop()
        return len(waiting) + len(running)

    def sweep(self) -> Swept:
        """Stop jobs nobody polled for `abandon_after` seconds (they save their runs) and forget old ones."""
        now = self._clock()
        to_stop: list[JobHandle] = []
        cancelled = forgotten = 0
        with self._lock:
            self._dispatch()  # a place may have come with a new cluster node
            for token, handle in list(self._handles.items()):
                idle = now - handle.last_seen
                if handle.cancelled or handle in to_stop:
                    continue  # already dealt with under another of its tokens (see `adopt`)
                if handle.waiting and idle > self.abandon_after:
                    self._cancel(handle)
                    cancelled += 1
                elif handle.running and not handle.job.done and idle > self.abandon_after and not handle.abandoned:
                    handle.abandoned = True
                    to_stop.append(handle)
                elif handle.ended_at is not None and now - max(handle.ended_at, handle.last_seen) > self.forget_after:
                    del self._handles[token]  # the job, its progress and what it still holds can go
                    forgotten += 1
        for handle in to_stop:
            handle.job.stop()
        return Swept(stopped=len(to_stop), cancelled=cancelled, forgotten=forgotten)

    # ------------------------------------------------------------ inside

    def _cancel(self, handle: JobHandle) -> None:
        """With the lock held."""
        handle.cancelled = True
        self._waiting.remove(handle)
        for token in [t for t, h in self._handles.items() if h is handle]:  # its owner's and adopters' tokens
            del self._handles[token]

    def _dispatch(self) -> None:
        """With the lock held: start waiting jobs, oldest first, while there are free places."""
        if not self._waiting:
            return
        places = self.max_trainings
        while self._waiting and self._running < places:
            handle = self._waiting.popleft()
            handle.started_at = self._clock()
            handle.started.set()
            self._running += 1
            if not self._start_thread(handle):  # no threads left: keep the job waiting, retry at the next end
                self._running -= 1
                handle.started.clear()
                handle.started_at = None
                self._waiting.appendleft(handle)
                return

    def _start_thread(self, handle: JobHandle) -> bool:
        name = f"charlab-job-{handle.job.name}"
        try:
            threading.Thread(target=self._work, args=(handle,), name=name, daemon=True).start()
        except RuntimeError:
            return False
        return True

    def _work(self, handle: JobHandle) -> None:
        try:
            handle.job.run()  # a TrainingJob saves and marks its run itself, whatever happens
        finally:
            with self._lock:
                self._running -= 1
                handle.ended_at = self._clock()
                self._dispatch()


def _expected_seconds(job: Job) -> float | None:
    seconds = job.expected_seconds()
    return float(seconds) if seconds is not None else None


def _remaining(handle: JobHandle, now: float) -> float | None:
    """Seconds until a running job frees its place: its measured ETA, else its estimate minus its time so far."""
    progress = handle.job.snapshot()
    if progress.done:
        return 0.0
    if progress.eta is not None:
        return float(progress.eta)
    expected = _expected_seconds(handle.job)
    if expected is None:
        return None
    return max(0.0, expected - (now - (handle.started_at or now)))
