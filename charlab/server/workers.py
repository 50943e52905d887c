"""A training in a child process, so a class's trainings do not slow every page of the server.

A `TrainingJob` in a thread shares the server's one Python interpreter lock with every page
being drawn: with two trainings running, a page waited seconds for its turn. `ProcessTrainingJob`
checks everything in the server once (bad settings are refused in words at the click), then
trains the checked plan in a fresh process with a lower CPU priority, and sends its progress back a
few times a second. It has the same face as `TrainingJob` (charlab.server.jobs.Job), so the job queue and
the pages use either; charlab.server.backends picks which one a server's training is.

If the server dies (even with SIGKILL) the child is killed with it, so the run is listed as
interrupted at its last checkpoint, exactly as a training in a thread would be.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from charlab.learning.training import FAILED, Progress, TrainingJob, TrainingPlan
from charlab.saving import runs
from charlab.server.remote import TrainedElsewhere

SEND_EVERY_SECONDS = 0.25  # how stale the server's copy of the progress may be
CHILD_NICENESS = 10  # trainings yield the CPU to the server's pages whenever those need it
_PR_SET_PDEATHSIG = 1


class ProcessTrainingJob(TrainedElsewhere):
    """A `TrainingJob` whose training runs in a child process; construct it as a `TrainingJob`."""

    def _begin(self, plan: TrainingPlan, **options) -> None:
        super()._begin(plan, **options)
        _spares().warm()  # its process starts importing while the job waits for its place
        self._conn: Connection | None = None

    def _ask_to_stop(self) -> None:
        with self._lock:
            conn = self._conn
        if conn is not None:
            try:
                conn.send("stop")
            except (OSError, ValueError):
                pass  # the child has just ended: nothing to stop

    def _train_elsewhere(self) -> None:
        self._run_child()

    # ------------------------------------------------------------ inside

    def _run_child(self) -> None:
        child, ours = _spares().take()
        run_path = None
        try:
            ours.send(self.plan)  # checked in this server: the child trains from it as it is
            with self._lock:
                self._conn = ours
            if self._stop.is_set():  # Stop pressed while the child started
                self.stop()
            while True:
                try:
                    if not ours.poll(1.0):
                        if child.poll() is not None:
                            break
                        continue
                    kind, payload = ours.recv()
                except (EOFError, OSError):
                    break
                if kind == "progress":
                    self._merge(payload)
                    if run_path is None and payload.run_path is not None:
                        run_path = payload.run_path
                        runs.mark_active(run_path, True)  # this server's list shows it as training
                elif kind == "done":  # the run is saved and marked with its final status
                    self._merge(payload)
                    if run_path is not None:  # no longer training: it may be deleted or renamed at once
                        runs.mark_active(run_path, False)
                    self._end()  # at once, as a thread's job would; the child's exit is not waited for
                    break
        finally:
            with self._lock:
                self._conn = None
            ours.close()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if run_path is not None:
                runs.mark_active(run_path, False)
            self._end_as(  # unless the child said how it ended: it died before it could
                FAILED,
                f"The training process ended unexpectedly (exit code {child.returncode}); its last checkpoint is kept.",
            )

    def _merge(self, payload: Progress) -> None:
        """The child sends only the batch losses since its last message: add them to the rest."""
        with self._lock:
            losses = self._progress.batch_losses
            self._progress = replace(payload, batch_losses=losses + payload.batch_losses)


# ---------------------------------------------------------------- starting children


def _start_child() -> tuple[subprocess.Popen, Connection]:
    """A training process, waiting for its job on the returned connection.

    `python -m charlab.server.workers` rather than multiprocessing: its "spawn" re-imports the parent's
    __main__, and in a Streamlit server that is the app script itself.
    """
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "charlab.server.workers", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
        )
    finally:
        theirs.close()
    return child, Connection(ours.detach())


class _Spares:
    """Keeps one training process started ahead of need, its imports (TensorFlow: 2-3 s, far more on
    a busy server) done, so the next training starts at once.

    One long-lived thread starts the spares: Linux kills a child when the *thread* that started it
    ends (see _die_with_parent), so a passing thread must not start one.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._spare: tuple[subprocess.Popen, Connection] | None = None
        self._wanted = threading.Event()
        threading.Thread(target=self._keep, name="charlab-spare-training", daemon=True).start()

    def warm(self) -> None:
        """Have a spare ready (or starting) soon: called when a training is asked for."""
        self._wanted.set()

    def take(self) -> tuple[subprocess.Popen, Connection]:
        """The spare (started in the background, maybe still importing), else a new process; then warm the next."""
        with self._lock:
            spare, self._spare = self._spare, None
        self._wanted.set()
        if spare is not None and spare[0].poll() is None:
            return spare
        if spare is not None:
            spare[1].close()
        return _start_child()  # from the job's own thread, which waits for this child to end

    def _keep(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            with self._lock:
                ready = self._spare is not None and self._spare[0].poll() is None
            if not ready:
                try:
                    spare = _start_child()
                except OSError:
                    continue  # no process could be started now: the next training starts its own
                with self._lock:
                    old, self._spare = self._spare, spare
                if old is not None:
                    old[1].close()


_spares_lock = threading.Lock()
_spares_instance: _Spares | None = None


def _spares() -> _Spares:
    global _spares_instance
    with _spares_lock:
        if _spares_instance is None:
            _spares_instance = _Spares()
        return _spares_instance


# ---------------------------------------------------------------- the child


def _child_main(conn: Connection) -> None:
    """The child process: train, send its progress every SEND_EVERY_SECONDS, stop when asked."""
    _die_with_parent()
    try:
        os.nice(CHILD_NICENESS)
    except OSError:
        pass
    from charlab.network.keras_setup import import_keras

    import_keras()  # before the job arrives: a spare waits with TensorFlow ready
    if not conn.poll(0):  # no job waiting yet: use the idle time
        _warm_up()
    try:
        plan = conn.recv()  # our own server's checked plan (never a user's file)
    except (EOFError, OSError):
        return  # a spare nobody needed: the server stopped
    job = TrainingJob.from_plan(plan)
    sent_losses = 0

    def listen() -> None:
        try:
            while True:
                if conn.recv() == "stop":
                    job.stop()
        except (EOFError, OSError):
            job.stop()  # the server is gone: stop and save what was learned

    def message(kind: str) -> tuple[str, Progress]:
        nonlocal sent_losses
        p = job.snapshot()
        new = p.batch_losses[sent_losses:]
        sent_losses = len(p.batch_losses)
        return kind, replace(p, batch_losses=new)

    threading.Thread(target=listen, name="charlab-stop-listener", daemon=True).start()
    job.start()
    try:
        while not job.wait(SEND_EVERY_SECONDS):
            conn.send(message("progress"))
        conn.send(message("done"))
    except (OSError, ValueError):
        job.stop()  # the server went away: save, then end
        job.wait()
    finally:
        conn.close()
    # Everything is saved (and fsynced) once the job is done, but Keras may take many more seconds to
    # return from fit() (seen: 19 s on 2 cores), holding a core and the server's place in the queue.
    os._exit(0)


def _warm_up() -> None:
    """Build a tiny network and run it once, so Keras' first-time work is done before a job arrives."""
    from charlab.network.model import ModelConfig, build_model

    try:
        model = build_model(ModelConfig(units=4, embedding_dim=2, seq_length=4, batch_size=2), 3)
        model(np.zeros((2, 4), dtype=np.int32), training=False)
    except Exception:  # only a head start: a real job still builds its own network
        pass


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when the server does (even on SIGKILL); elsewhere, a watcher thread."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0 and os.getppid() == parent:
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="charlab-parent-watch", daemon=True).start()


def prepare() -> None:
    """Start the spare training process now (TensorFlow takes seconds to import), so even the first
    training after the server starts finds one ready. Cheap to call again: one spare at a time."""
    _spares().warm()


if __name__ == "__main__":  # python -m charlab.server.workers FD: a training for ProcessTrainingJob
    _child_main(Connection(int(sys.argv[1])))
