"""The server-wide job queue: the cap, the order, positions and waiting times, cancel, stop, abandoned jobs.

Most tests use a cheap stand-in with the queue's side of a TrainingJob; the cap and the
abandoned-job rule are also checked with real (tiny) trainings.
"""

from __future__ import annotations

import ast
import gc
import random
import threading
import time
import weakref
from pathlib import Path

import pytest

from charlab.errors import CharlabError
from charlab.learning.training import FINISHED, STOPPED, PlannedTraining, Progress, TrainingJob
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.server.jobs import Job, JobQueue, Swept, configured_abandon_seconds, configured_max_trainings

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "sample_texts" / "fables.txt").read_text(encoding="utf-8")[:4000]
TINY = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1)
TIMEOUT = 60


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tally:
    """How many fake jobs run at once, and in which order they started."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.order: list[str] = []

    def enter(self, name: str) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.order.append(name)

    def leave(self) -> None:
        with self.lock:
            self.running -= 1


class FakeJob:
    """The queue's side of a TrainingJob (name, run, stop, snapshot, done, expected_seconds), without TensorFlow."""

    def __init__(self, name: str = "fake", expected: float | None = 60.0, tally: Tally | None = None):
        self.name, self.expected, self.tally = name, expected, tally
        self.eta: float | None = None
        self.runs = 0
        self.release = threading.Event()
        self.began = threading.Event()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._status = "queued"

    def run(self) -> Progress:
        self.runs += 1
        self._status = "training"
        if self.tally:
            self.tally.enter(self.name)
        self.began.set()
        deadline = time.monotonic() + TIMEOUT
        while not (self.release.is_set() or self._stop.is_set()) and time.monotonic() < deadline:
            time.sleep(0.005)
        if self.tally:
            self.tally.leave()
        self._status = STOPPED if self._stop.is_set() else FINISHED
        self._done.set()
        return self.snapshot()

    def stop(self) -> None:
        self._stop.set()

    def snapshot(self) -> Progress:
        return Progress(status=self._status, eta=self.eta)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def expected_seconds(self) -> float | None:
        return self.expected


def _wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _finish(queue: JobQueue, *jobs: FakeJob) -> None:
    for job in jobs:
        job.release.set()
    _wait_for(lambda: queue.counts() == (0, 0) or all(job.done for job in jobs))


# ---------------------------------------------------------------- the cap and the order


def test_cap_is_respected_and_jobs_start_in_order():
    tally = Tally()
    queue = JobQueue(max_trainings=2)
    jobs = [FakeJob(f"job{i}", tally=tally) for i in range(5)]
    handles = [queue.submit(f"owner{i}", job) for i, job in enumerate(jobs)]
    _wait_for(lambda: jobs[0].began.is_set() and jobs[1].began.is_set())
    assert queue.counts() == (2, 3)
    assert [h.waiting for h in handles] == [False, False, True, True, True]
    for job in jobs:  # finish them one by one: each end lets exactly one more start
        job.release.set()
        _wait_for(lambda job=job: job.done)
    _wait_for(lambda: queue.counts() == (0, 0))
    assert tally.most == 2
    assert tally.order == [f"job{i}" for i in range(5)]
    assert all(job.runs == 1 for job in jobs)


@pytest.mark.slow
def test_real_trainings_wait_for_a_free_place_and_release_their_model(tmp_path):
    queue = JobQueue(max_trainings=1)
    first = TrainingJob(TEXT, TINY, name="first", root=tmp_path / "a")
    second = TrainingJob(TEXT, TINY, name="second", root=tmp_path / "b")
    one, two = queue.submit("owner-a", first), queue.submit("owner-b", second)
    assert one.started.is_set() and two.waiting
    assert queue.position("owner-b") == 0
    eta = queue.eta("owner-b")
    assert eta is not None and 0 <= eta < 600  # the first job's estimate (or its measured ETA)
    assert first.wait(TIMEOUT) and second.wait(TIMEOUT)
    _wait_for(lambda: queue.counts() == (0, 0))
    assert first.snapshot().status == second.snapshot().status == FINISHED
    assert two.started_at >= one.ended_at  # never both at once
    for job in (first, second):
        assert job._model is None and job._best_weights is None and job.text == ""  # memory released
        assert runs.run_info(job.snapshot().run_path).status == "finished"


def test_the_cap_survives_many_threads_submitting_cancelling_and_polling_at_once():
    tally = Tally()
    queue = JobQueue(max_trainings=3)
    jobs: dict[str, FakeJob] = {}
    cancelled: set[str] = set()
    lock = threading.Lock()

    def session(i: int) -> None:
        rng = random.Random(i)
        token = f"session-{i}"
        job = FakeJob(token, tally=tally)
        with lock:
            jobs[token] = job
        queue.submit(token, job)
        for _ in range(rng.randint(0, 5)):
            queue.touch(token), queue.position(token), queue.eta(token)
            time.sleep(rng.random() * 0.005)
        if rng.random() < 0.3 and queue.cancel(token):
            with lock:
                cancelled.add(token)
        job.release.set()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    _wait_for(lambda: queue.counts() == (0, 0))
    assert tally.most <= 3
    for token, job in jobs.items():
        assert job.runs == (0 if token in cancelled else 1), token


# ---------------------------------------------------------------- positions and waiting times


def test_positions_count_the_jobs_ahead():
    queue = JobQueue(max_trainings=1)
    running, *waiting = [FakeJob(f"j{i}") for i in range(4)]
    queue.submit("r", running)
    for i, job in enumerate(waiting):
        queue.submit(f"w{i}", job)
    assert [queue.position(f"w{i}") for i in range(3)] == [0, 1, 2]
    assert queue.position("r") is None  # running: not in the queue
    assert queue.position("nobody") is None
    assert queue.cancel("w0")
    assert [queue.position(f"w{i}") for i in (1, 2)] == [0, 1]
    _finish(queue, running, *waiting)


def test_eta_adds_up_the_running_and_waiting_jobs():
    clock = Clock()
    queue = JobQueue(max_trainings=2, clock=clock)
    fast, slow = FakeJob("fast"), FakeJob("slow")
    fast.eta, slow.eta = 30.0, 100.0  # measured by the running jobs themselves
    queue.submit("fast", fast)
    queue.submit("slow", slow)
    waiting = [FakeJob(f"w{i}", expected=50.0) for i in range(3)]
    for i, job in enumerate(waiting):
        queue.submit(f"w{i}", job)
    # w0 takes fast's place at 30 s; w1 takes w0's at 80 s (before slow's at 100 s); w2 then slow's
    assert [queue.eta(f"w{i}") for i in range(3)] == [30.0, 80.0, 100.0]
    assert queue.eta("fast") is None  # running, not waiting
    _finish(queue, fast, slow, *waiting)


def test_eta_before_a_running_job_has_measured_itself_uses_its_estimate():
    clock = Clock()
    queue = JobQueue(max_trainings=1, clock=clock)
    running, waiting = FakeJob("r", expected=60.0), FakeJob("w", expected=10.0)
    queue.submit("r", running)
    queue.submit("w", waiting)
    clock.now += 20
    assert queue.eta("w") == 40.0  # 60 s expected, 20 s already spent
    clock.now += 100
    assert queue.eta("w") == 0.0  # over its estimate: any moment now
    running.expected = None
    assert queue.eta("w") is None  # nothing to go on: the page shows the position only
    _finish(queue, running, waiting)


# ---------------------------------------------------------------- cancel, stop, one job per owner


def test_cancel_takes_a_waiting_job_out_and_frees_the_owner():
    queue = JobQueue(max_trainings=1)
    running, waiting = FakeJob("r"), FakeJob("w")
    queue.submit("r", running)
    handle = queue.submit("w", waiting)
    assert queue.cancel("w") is True
    assert handle.cancelled and not handle.waiting
    assert queue.touch("w") is None and "w" not in queue
    assert queue.cancel("w") is False and queue.cancel("r") is False  # nothing waiting under these tokens
    again = FakeJob("again")
    queue.submit("w", again)  # the owner may queue a new one
    _finish(queue, running, again)
    assert waiting.runs == 0 and again.runs == 1


def test_stop_cancels_a_waiting_job_and_stops_a_running_one():
    queue = JobQueue(max_trainings=1)
    running, waiting = FakeJob("r"), FakeJob("w")
    queue.submit("r", running)
    queue.submit("w", waiting)
    running.began.wait(TIMEOUT)
    assert queue.stop("w") is True and "w" not in queue
    assert queue.stop("r") is True
    _wait_for(lambda: running.done)
    assert running.snapshot().status == STOPPED
    assert waiting.runs == 0
    assert queue.stop("nobody") is False


def test_stop_all_empties_the_queue_and_stops_what_runs():
    queue = JobQueue(max_trainings=2)
    jobs = [FakeJob(f"j{i}") for i in range(5)]
    for i, job in enumerate(jobs):
        queue.submit(f"owner{i}", job)
    _wait_for(lambda: jobs[0].began.is_set() and jobs[1].began.is_set())
    assert queue.stop_all() == 5
    _wait_for(lambda: queue.counts() == (0, 0))
    assert [job.snapshot().status for job in jobs[:2]] == [STOPPED, STOPPED]
    assert [job.runs for job in jobs] == [1, 1, 0, 0, 0]
    assert queue.stop_all() == 0


def test_one_active_job_per_owner():
    queue = JobQueue(max_trainings=2)
    job = FakeJob("first")
    queue.submit("owner", job)
    with pytest.raises(CharlabError, match="already running in this session"):
        queue.submit("owner", FakeJob("second"))
    _finish(queue, job)
    queue.submit("owner", FakeJob("third")).job.release.set()  # finished: a new one is fine
    with pytest.raises(CharlabError, match="no token"):
        queue.submit("", FakeJob("anonymous"))


def test_no_owner_sees_or_controls_another_owners_job():
    queue = JobQueue(max_trainings=1)
    mine, theirs = FakeJob("mine"), FakeJob("theirs")
    queue.submit("alice-token", mine)
    queue.submit("bob-token", theirs)
    assert queue.touch("alice-token").job is mine
    assert queue.touch("bob-token").job is theirs
    for wrong in ("carol-token", "alice", "ALICE-TOKEN", "", "alice-token "):
        assert queue.touch(wrong) is None
        assert queue.position(wrong) is None and queue.eta(wrong) is None
        assert queue.stop(wrong) is False and queue.cancel(wrong) is False
    assert not mine.done and queue.position("bob-token") == 0  # untouched by the others' calls
    assert not hasattr(queue, "jobs")  # no public table of everyone's jobs
    _finish(queue, mine, theirs)


def test_a_new_tab_of_the_same_owner_adopts_its_active_job_and_no_one_elses():
    queue = JobQueue(max_trainings=1)
    running, waiting = FakeJob("zoe"), FakeJob("sam")
    first = queue.submit("zoe-tab-1", running, owner="/runs/owners/zoé")
    queue.submit("sam-tab", waiting, owner="/runs/owners/sam")
    running.began.wait(TIMEOUT)
    assert queue.adopt("stranger-tab", "/runs/owners/nobody") is None
    assert queue.adopt("zoe-tab-2", "/runs/owners/zoé") is first  # the tab she opened again
    assert queue.touch("zoe-tab-2") is first
    assert queue.adopt("sam-tab-2", "/runs/owners/sam").job is waiting  # a waiting job too
    assert queue.cancel("sam-tab-2") is True and "sam-tab" not in queue and "sam-tab-2" not in queue
    assert queue.stop("zoe-tab-2") is True  # Stop works from the new tab
    _wait_for(lambda: running.done)
    assert running.snapshot().status == STOPPED
    assert queue.adopt("zoe-tab-3", "/runs/owners/zoé") is None  # an ended job is not adopted
    mine = queue.submit("zoe-tab-3", FakeJob("mine"), owner="/runs/owners/zoé")
    assert queue.adopt("zoe-tab-3", "/runs/owners/zoé") is mine  # a tab with its own active job keeps it
    assert queue.stop_all() == 1
    assert queue.sweep().cancelled == 0


class FakeRunJob(FakeJob):
    """A FakeJob that trains into a run folder, as a TrainingJob's snapshot says once it has begun."""

    def __init__(self, name: str, run_path: Path):
        super().__init__(name)
        self.run_path = run_path

    def snapshot(self) -> Progress:
        return Progress(status=self._status, run_path=self.run_path if self.began.is_set() else None)


def test_a_training_is_found_by_its_run_folder_while_it_trains_and_only_then(tmp_path):
    """A teacher who loads a student's running run follows it: found by the run, never by the student's token."""
    queue = JobQueue(max_trainings=1)
    zoe, sam = FakeRunJob("zoe", tmp_path / "zoe-run"), FakeRunJob("sam", tmp_path / "sam-run")
    first = queue.submit("zoe-tab", zoe)
    queue.submit("sam-tab", sam)
    zoe.began.wait(TIMEOUT)
    assert queue.training_into(tmp_path / "zoe-run") is first
    assert queue.training_into(str(tmp_path / "zoe-run")) is first  # a path as st.session_state keeps it
    assert queue.training_into(tmp_path / "sam-run") is None  # waiting: it has no run folder yet
    assert queue.training_into(tmp_path / "other") is None
    assert queue.touch("teacher-tab") is None  # finding it adopts nothing
    _finish(queue, zoe)
    assert queue.training_into(tmp_path / "zoe-run") is None  # ended: the saved run is shown instead
    sam.began.wait(TIMEOUT)
    assert queue.training_into(tmp_path / "sam-run").job is sam
    _finish(queue, sam)


# ---------------------------------------------------------------- abandoned and finished jobs


@pytest.mark.slow
def test_sweep_stops_an_abandoned_training_and_its_run_is_saved_as_stopped(tmp_path):
    clock = Clock()
    queue = JobQueue(max_trainings=2, abandon_minutes=30, clock=clock)
    config = ModelConfig(**{**TINY.to_dict(), "epochs": 500})
    abandoned = TrainingJob(TEXT, config, name="left behind", root=tmp_path)
    watched, waiting = FakeJob("watched"), FakeJob("waiting")
    queue.submit("gone", abandoned)
    queue.submit("here", watched)
    queue.submit("also-gone", waiting)
    _wait_for(lambda: abandoned.snapshot().step >= 3)

    clock.now += 29 * 60
    assert queue.sweep() == Swept()  # 29 minutes: not yet
    queue.touch("here")
    clock.now += 2 * 60
    assert queue.sweep() == Swept(stopped=1, cancelled=1)
    assert abandoned.wait(TIMEOUT), "the abandoned job did not stop"
    progress = abandoned.snapshot()
    assert progress.status == STOPPED and progress.step < progress.total_steps
    assert queue.touch("gone").abandoned  # the owner, if they come back, can be told why
    assert runs.run_info(progress.run_path).status == "stopped"
    assert len(runs.load_run(progress.run_path).generator().write("The ", 20, random_seed=0)) == 20
    assert not watched.done and "also-gone" not in queue and waiting.runs == 0
    assert queue.sweep() == Swept()  # stopped once, not again
    _finish(queue, watched)


def test_sweep_forgets_finished_jobs_and_lets_them_be_collected():
    clock = Clock()
    queue = JobQueue(max_trainings=1, forget_after=3600, clock=clock)
    job = FakeJob("done")
    queue.submit("owner", job)
    _finish(queue, job)
    _wait_for(lambda: queue.counts() == (0, 0))
    clock.now += 3000
    queue.touch("owner")  # the owner looked at the result: keep it a while longer
    clock.now += 3000
    assert queue.sweep() == Swept()
    clock.now += 700
    assert queue.sweep() == Swept(forgotten=1)
    assert queue.touch("owner") is None
    alive = weakref.ref(job)
    del job
    gc.collect()
    assert alive() is None  # the queue keeps no reference to a forgotten job


# ---------------------------------------------------------------- configuration


def test_cap_and_abandon_time_from_arguments_env_vars_and_defaults(monkeypatch):
    monkeypatch.delenv("CHARLAB_MAX_TRAININGS", raising=False)
    monkeypatch.delenv("CHARLAB_ABANDON_MINUTES", raising=False)
    assert JobQueue().max_trainings == configured_max_trainings() >= 1
    assert JobQueue().abandon_after == 30 * 60
    monkeypatch.setenv("CHARLAB_MAX_TRAININGS", " 3 ")
    monkeypatch.setenv("CHARLAB_ABANDON_MINUTES", "0.5")
    queue = JobQueue()
    assert queue.max_trainings == 3 and queue.abandon_after == 30.0
    assert JobQueue(max_trainings=5, abandon_minutes=10).max_trainings == 5
    assert configured_abandon_seconds(10) == 600.0


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", True, 0])
def test_a_bad_cap_is_refused_in_plain_words(value):
    with pytest.raises(CharlabError, match="CHARLAB_MAX_TRAININGS.*whole number of at least 1, not"):
        configured_max_trainings(value)


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan", "inf", False])
def test_a_bad_abandon_time_is_refused_in_plain_words(value):
    with pytest.raises(CharlabError, match="CHARLAB_ABANDON_MINUTES.*a number of at least 0.01, not"):
        configured_abandon_seconds(value)


# ---------------------------------------------------------------- one interface for every kind of training


def job_members() -> set[str]:
    """What charlab.server.jobs.Job declares: its fields, methods and properties."""
    return set(Job.__annotations__) | {name for name in vars(Job) if not name.startswith("_")}


def members_used(source: str) -> set[str]:
    """The members a module reads of a job: `job.x`, `handle.job.x`."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            holder = node.value
            if (isinstance(holder, ast.Name) and holder.id == "job") or (
                isinstance(holder, ast.Attribute) and holder.attr == "job"
            ):
                used.add(node.attr)
    return used


def test_the_job_interface_declares_every_member_the_queue_and_the_pages_use():
    sources = [
        ROOT / "charlab" / "server" / "jobs.py",
        ROOT / "app.py",
        *(ROOT / "ui").glob("*.py"),
        *(ROOT / "pages").glob("*.py"),
    ]
    used = set().union(*(members_used(path.read_text(encoding="utf-8")) for path in sources))
    assert {"snapshot", "done", "text", "vocab", "config"} <= used  # the pages were read
    assert used <= job_members()


def _has_every_member(job: object) -> None:
    missing = {name for name in job_members() if not hasattr(job, name)}
    assert not missing, f"{type(job).__name__} lacks {sorted(missing)}"


def test_every_kind_of_training_has_the_whole_interface(tmp_path, monkeypatch):
    from charlab.server import cluster, workers

    monkeypatch.setattr(workers, "_spares", lambda: type("NoSpare", (), {"warm": lambda self: None})())
    monkeypatch.setattr(cluster, "check_room", lambda: None)  # no cluster here: only the server's side is built
    jobs = [
        TrainingJob(TEXT, TINY, root=tmp_path),
        workers.ProcessTrainingJob(TEXT, TINY, root=tmp_path),
        cluster.RayTrainingJob(TEXT, TINY, root=tmp_path, token="t"),
    ]
    for job in jobs:
        _has_every_member(job)
        assert job.text == TEXT and job.config == TINY and job.trained_steps == 0 and not job.done
        assert job.expected_seconds() > 0


def test_the_bookkeeping_every_kind_of_training_shares_is_written_once():
    """Made from a plan, its progress behind a lock, Stop, wait and done: in PlannedTraining, never again."""
    from charlab.server import cluster, remote, workers

    shared = {"from_plan", "_keep", "snapshot", "trained_steps", "wait", "done", "_set"}
    assert shared | {"__init__", "stop"} <= set(vars(PlannedTraining))  # a Ray job checks for room before planning
    for kind in (TrainingJob, remote.TrainedElsewhere, workers.ProcessTrainingJob, cluster.RayTrainingJob):
        assert issubclass(kind, PlannedTraining)
        assert not shared & set(vars(kind)), f"{kind.__name__} writes {sorted(shared & set(vars(kind)))} again"


def test_a_training_found_on_the_cluster_is_built_as_a_started_one_is(tmp_path, monkeypatch):
    """`RayTrainingJob.attach` goes through the same initialiser: the same members, nothing set by hand."""
    from charlab.server import cluster

    monkeypatch.setattr(cluster, "check_room", lambda: None)
    started = cluster.RayTrainingJob(TEXT, TINY, name="a run", root=tmp_path, token="t", owner="ann")
    about = dict(started._about, run_id="20260101-a-run", node={"id": "n1", "ip": "10.0.0.2"}, done=False)
    found = cluster.RayTrainingJob.attach("the actor", "charlab-training-x", about)
    _has_every_member(found)
    assert set(vars(found)) == set(vars(started))
    assert (found.name, found.config, found.vocab.chars, found.text) == ("a run", TINY, started.vocab.chars, "")
    assert found.expected_seconds() == started.expected_seconds()
    assert found.snapshot().message == "Found again on the cluster…" and found.node == about["node"]
    assert found._about == started._about  # a second restart finds it again with the same description
