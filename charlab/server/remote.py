"""The server's side of a training that runs elsewhere (a child process: charlab.server.workers; a node of a
cluster: charlab.server.cluster): the checked plan, the progress, Stop and the end are kept here, with the same
face as a `TrainingJob` (the members charlab.server.jobs.Job lists), so the queue and the pages use either.
"""

from __future__ import annotations

from charlab.learning.training import FAILED, PlannedTraining, Progress, TrainingJob, TrainingPlan, progress_before


class TrainedElsewhere(PlannedTraining):
    """A `TrainingJob`'s face for a training that runs elsewhere: the text and settings are checked here
    once, in words (`plan_training`), and the checked plan is what the other side trains from. A subclass
    says how to train there (`_train_elsewhere`) and how to ask it to stop (`_ask_to_stop`)."""

    def _begin(self, plan: TrainingPlan, progress: Progress | None = None, expected: float | None = None) -> None:
        """The one initialiser. `progress` and `expected`: a training found running, whose text is not here."""
        self.plan = plan
        self.config, self.vocab, self.text, self.name = plan.config, plan.vocab, plan.text, plan.name
        self.cleaning, self.corpus_name = plan.cleaning, plan.corpus_name
        self._expected = plan.expected_seconds() if expected is None else expected
        self._keep(progress_before(plan) if progress is None else progress)

    # ------------------------------------------------------------ the same face as TrainingJob

    def expected_seconds(self) -> float:
        return self._expected

    def stop(self) -> None:
        super().stop()
        self._ask_to_stop()

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
