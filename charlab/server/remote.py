"""The server's side of a training that runs elsewhere (a child process: charlab.server.workers; a node of a
cluster: charlab.server.cluster): the checked plan, the progress, Stop and the end are kept here, with the same
face as a `TrainingJob` (the members charlab.server.jobs.Job lists), so the queue and the pages use either.
"""

from __future__ import annotations

import threading

from charlab.learning.training import (
    FAILED,
    STOPPING,
    Progress,
    TrainingJob,
    TrainingPlan,
    plan_training,
    progress_before,
)


class TrainedElsewhere:
    """A `TrainingJob`'s face for a training that runs elsewhere: the text and settings are checked here
    once, in words (`plan_training`), and the checked plan is what the other side trains from. A subclass
    says how to train there (`_train_elsewhere`) and how to ask it to stop (`_ask_to_stop`)."""

    def __init__(self, text: str, config, **kwargs):
        """Construct it as a `TrainingJob`."""
        self._begin(plan_training(text, config, **kwargs))

    @classmethod
    def from_plan(cls, plan: TrainingPlan, **options):
        """A job for inputs checked already (charlab.server.backends.training_job checks them once)."""
        job = cls.__new__(cls)
        job._begin(plan, **options)
        return job

    def _begin(self, plan: TrainingPlan, progress: Progress | None = None, expected: float | None = None) -> None:
        """The one initialiser. `progress` and `expected`: a training found running, whose text is not here."""
        self.plan = plan
        self.config, self.vocab, self.text, self.name = plan.config, plan.vocab, plan.text, plan.name
        self.cleaning, self.corpus_name = plan.cleaning, plan.corpus_name
        self._expected = plan.expected_seconds() if expected is None else expected
        self._progress = progress_before(plan) if progress is None else progress
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()

    # ------------------------------------------------------------ the same face as TrainingJob

    def expected_seconds(self) -> float:
        return self._expected

    def snapshot(self) -> Progress:
        with self._lock:
            return self._progress.copy()

    @property
    def trained_steps(self) -> int:
        with self._lock:
            return self._progress.step

    def stop(self) -> None:
        """Ask the training to stop after its current batch; what was learned is saved."""
        self._stop.set()
        with self._lock:
            if not self._progress.done:
                self._progress.status = STOPPING
        self._ask_to_stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def run(self) -> Progress:
        """Train elsewhere and follow it to its end (the job queue calls this in its own thread)."""
        try:
            if self._stop.is_set() and not self._under_way():  # stopped while it waited: nothing to train
                here = TrainingJob.from_plan(self.plan)
                here.stop()
                self._progress = here.run()
            else:
                self._train_elsewhere()
        except Exception as err:  # a failure not foreseen: said in words, and what arrived is kept
            self._end_as(FAILED, f"Training failed: {type(err).__name__}: {err}")
        finally:
            self._end()
        return self.snapshot()

    # ------------------------------------------------------------ for the subclasses

    def _under_way(self) -> bool:
        """Whether the training has begun elsewhere already (so a Stop goes to it)."""
        return False

    def _train_elsewhere(self) -> None:
        raise NotImplementedError

    def _ask_to_stop(self) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        """Over, as pages see it: let go of the text and a writer's weights (a finished job kept for its
        progress stays small)."""
        self.text = ""
        self.plan = self.plan.without_text()
        self._done.set()

    def _end_as(self, status: str, message: str) -> None:
        """End with this status and message, unless the training already said how it ended."""
        with self._lock:
            if not self._progress.done:
                self._progress.status, self._progress.message, self._progress.eta = status, message, 0.0

    def _set(self, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._progress, key, value)
