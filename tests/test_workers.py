"""Trainings in a child process: the same results as in a thread, Stop, and no orphan when the server dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from charlab.errors import CharlabError
from charlab.learning.training import FAILED, FINISHED, STOPPED, TrainingJob
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.server.backends import training_job
from charlab.server.workers import CHILD_NICENESS, ProcessTrainingJob

ROOT = Path(__file__).resolve().parent.parent
TINY = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=2, learning_rate=0.01)
LONG = ModelConfig(**{**TINY.to_dict(), "epochs": 5000})
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 60
TIMEOUT = 120


def wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def child_pid(job: ProcessTrainingJob) -> int:
    """The training process's pid, as its run's meta.json records it."""
    wait_for(lambda: job.snapshot().run_path is not None, "the run folder")
    return _meta(job.snapshot().run_path)["pid"]


def test_a_child_process_trains_like_a_thread(tmp_path):
    job = ProcessTrainingJob(TEXT, TINY, name="in a child", corpus_name="cats.txt", root=tmp_path)
    assert (job.name, job.corpus_name, job.cleaning) == ("in a child", "cats.txt", "keep")
    assert len(job.vocab) == len(set(TEXT)) and job.config == TINY and job.expected_seconds() > 0
    progress = job.run()
    assert job.done and progress.status == FINISHED, progress.message
    assert progress.step == progress.total_steps == 2 * progress.batches_per_epoch
    assert [s for s, _ in progress.batch_losses] == list(range(1, progress.step + 1))  # every batch, once, in order
    assert [row["epoch"] for row in progress.history] == [1, 2] and len(progress.epoch_texts) == 2
    assert job.text == ""  # a finished job lets go of its text
    info = runs.run_info(progress.run_path)
    assert info.status == "finished" and info.name == "in a child"
    assert _meta(progress.run_path)["pid"] != os.getpid()  # it really trained elsewhere
    assert len(runs.load_run(progress.run_path).generator().write("the ", 30, random_seed=0)) == 30


def test_stop_reaches_the_child_and_what_it_learned_is_saved(tmp_path):
    job = ProcessTrainingJob(TEXT * 4, LONG, name="stopper", root=tmp_path)
    worker = threading.Thread(target=job.run, daemon=True)
    worker.start()
    wait_for(lambda: job.snapshot().step >= 5, "five steps")
    pid = child_pid(job)
    assert runs.run_info(job.snapshot().run_path).status == "training"  # this process knows it trains it
    job.stop()
    assert job.wait(TIMEOUT), "the job did not stop"
    progress = job.snapshot()
    assert progress.status == STOPPED and progress.step < progress.total_steps
    assert runs.run_info(progress.run_path).status == "stopped"
    assert len(runs.load_run(progress.run_path).generator().write("the ", 20, random_seed=0)) == 20
    wait_for(lambda: not _alive(pid), "the child to exit", timeout=30)


def test_stop_while_waiting_starts_no_process_and_saves_nothing(tmp_path):
    job = ProcessTrainingJob(TEXT, TINY, name="never", root=tmp_path)
    job.stop()
    started = time.monotonic()
    progress = job.run()
    assert progress.status == STOPPED and "nothing was saved" in progress.message
    assert time.monotonic() - started < 2  # no child, no TensorFlow
    assert runs.list_runs(tmp_path) == []


def test_bad_settings_are_refused_in_the_server_before_any_process(tmp_path):
    with pytest.raises(CharlabError, match="too short"):
        ProcessTrainingJob("short text", TINY, root=tmp_path)


def test_the_child_trains_at_a_lower_priority(tmp_path):
    job = ProcessTrainingJob(TEXT * 4, LONG, name="nice", root=tmp_path)
    worker = threading.Thread(target=job.run, daemon=True)
    worker.start()
    try:
        pid = child_pid(job)
        assert _niceness(pid) == min(19, _niceness(os.getpid()) + CHILD_NICENESS)  # pages first (19: the most)
    finally:
        job.stop()
        assert job.wait(TIMEOUT)


def test_a_child_that_dies_ends_the_job_as_failed_and_its_run_as_interrupted(tmp_path):
    job = ProcessTrainingJob(TEXT * 4, LONG, name="killed", root=tmp_path)
    worker = threading.Thread(target=job.run, daemon=True)
    worker.start()
    wait_for(lambda: job.snapshot().step >= 3, "three steps")
    os.kill(child_pid(job), signal.SIGKILL)  # e.g. the system ran out of memory
    assert job.wait(TIMEOUT)
    progress = job.snapshot()
    assert progress.status == FAILED and "ended unexpectedly" in progress.message
    assert runs.run_info(progress.run_path).status == "interrupted"


def test_no_training_outlives_a_killed_server(tmp_path):
    """The 'server' is a Python process running a ProcessTrainingJob; SIGKILL it and its child goes too."""
    root = tmp_path / "runs"
    script = f"""
from charlab.network.model import ModelConfig
from charlab.server.workers import ProcessTrainingJob
config = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=5000)
ProcessTrainingJob({TEXT * 4!r}, config, name="orphan?", root={str(root)!r}).run()
"""
    server = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: runs.list_runs(root) if root.exists() else [], "the run folder")
        [info] = runs.list_runs(root)
        pid = _meta(info.path)["pid"]
        wait_for(lambda: len(_children(server.pid)) == 2, "the training and a spare for the next")
        assert pid in _children(server.pid) and _alive(pid)
        children = _children(server.pid)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    wait_for(lambda: not any(_alive(child) for child in children), "the orphaned processes to die", timeout=15)
    assert runs.list_runs(root)[0].status == "interrupted"


def test_a_spare_process_waits_ready_and_the_next_training_takes_it(tmp_path):
    before = set(_children(os.getpid()))  # a spare may already wait, from an earlier test
    first = ProcessTrainingJob(TEXT, TINY, name="first", root=tmp_path)
    wait_for(lambda: set(_children(os.getpid())) - before or before, "a spare process")
    waiting = set(_children(os.getpid()))
    assert len(waiting) == 1  # one spare, never more
    assert first.run().status == FINISHED
    assert {_meta(first.snapshot().run_path)["pid"]} == waiting  # the first training took the spare
    wait_for(lambda: set(_children(os.getpid())) - waiting, "the next spare")
    [next_spare] = set(_children(os.getpid())) - waiting
    second = ProcessTrainingJob(TEXT, TINY, name="second", root=tmp_path)
    assert second.run().status == FINISHED
    assert _meta(second.snapshot().run_path)["pid"] == next_spare


def test_the_server_trains_in_processes_unless_told_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv("CHARLAB_TRAIN_IN_THREADS", raising=False)
    assert isinstance(training_job(TEXT, TINY, root=tmp_path), ProcessTrainingJob)
    monkeypatch.setenv("CHARLAB_TRAIN_IN_THREADS", "1")
    assert type(training_job(TEXT, TINY, root=tmp_path)) is TrainingJob


def _meta(run_path: Path) -> dict:
    return json.loads((Path(run_path) / "config.json").read_text(encoding="utf-8"))


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting for its parent to collect it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    """The live training processes (`python -m charlab.server.workers`) whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z" and b"charlab.server.workers" in command:
                found.append(int(entry.name))
    return sorted(found)


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
