"""Train a model in a background thread that a UI polls, and save it as a run.

A page calls `job.start()`, then draws `job.snapshot()` every second; `job.stop()` asks the
job to stop at the next batch and keeps what was learned. The job saves and marks its run
itself (from the Keras callback), so nothing waits on `fit()` returning, and a job whose page
went away still ends with its run saved.
"""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import numpy as np

from charlab.errors import CharlabError
from charlab.learning import writers
from charlab.learning.diagnosis import PATIENCE_EPOCHS, learning_by_heart
from charlab.network import precision, schedule
from charlab.network.model import (
    ModelConfig,
    build_model,
    compile_model,
    estimate,
    keras_weights,
    model_policy,
    set_keras_weights,
    set_policy,
)
from charlab.network.sampling import Generator, NumpyCharModel
from charlab.saving import runs
from charlab.text import data as data_module
from charlab.text.baselines import compute_baselines, report_to_dict
from charlab.text.corpus import check_length, text_hash, visible
from charlab.text.vocab import Vocab

# job states; the last four are final
QUEUED, STARTING, TRAINING, STOPPING = "queued", "starting", "training", "stopping"
FINISHED, STOPPED, FAILED, DIVERGED = "finished", "stopped", "failed", "diverged"
INTERRUPTED = "interrupted"  # the computer training it went away (a cluster node): the last checkpoint is kept
FINAL_STATES = (FINISHED, STOPPED, FAILED, DIVERGED, INTERRUPTED)

# what a training costs besides its batches, for the queue's "starts in about …" (measured on 2 cores:
# a tiny model takes 4-13 s alone, nearly all of it building the model, validating, sampling, saving)
_JOB_START_SECONDS = 6.0
_EPOCH_EXTRA_SECONDS = 1.0
CHECKPOINT_EVERY_SECONDS = 20.0  # best weights reach the disk at most this stale (always at the end)
HEARTBEAT_EVERY_SECONDS = 60.0  # well inside runs' 15 minutes after which a silent training counts as interrupted
TIMELAPSE_AUTO = "auto"
TIMELAPSE_FRAMES = 30  # "auto" spaces the time-lapse frames so a training gets about this many
TIMELAPSE_RANDOM_SEED = 0  # the same random draws every time: the text changes only because the network did
EPOCH_TEXT_LENGTH = 200  # the text written after each epoch
EARLY_STOP_WORDS = (
    f"Stopped early: the validation loss has not improved for {PATIENCE_EPOCHS} epochs and is rising, so more "
    "training would only learn the text by heart."
)
WRITING_TEMPERATURE = 0.8  # of the epoch texts and the time-lapse: recognisable text, not the model's safest guess


@dataclass(frozen=True)
class Timelapse:
    """How a training writes as it learns: every `every_steps` steps (None: never; "auto": about
    TIMELAPSE_FRAMES times per training, spaced by the clock for a time budget), `length` characters
    from `seed_text`, always with the same random seed, so the frames differ only by what was learned."""

    every_steps: int | str | None = TIMELAPSE_AUTO
    length: int = 120
    seed_text: str = ""

    def checked(self) -> Timelapse:
        every = self.every_steps
        if every not in (None, TIMELAPSE_AUTO) and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise CharlabError(
                f"The time-lapse interval must be a whole number of steps (1 or more), 'auto' or None, not {every!r}."
            )
        if isinstance(self.length, bool) or not isinstance(self.length, int) or not 1 <= self.length <= 2000:
            raise CharlabError("The time-lapse's text length must be a whole number from 1 to 2,000 characters.")
        return self


class TimelapseClock:
    """When a training's time-lapse frames fall: every few steps, or once per slot of a time budget."""

    def __init__(self, timelapse: Timelapse, budget_seconds: float | None):
        self._timelapse, self._budget = timelapse, budget_seconds
        self.every_steps = 0  # steps between frames, fixed once the number of steps is known
        self.period = 0.0  # with a budget: one frame per this many seconds
        self._slot = 0
        self._last_step = -1

    def plan(self, total_steps: int) -> None:
        """Space the frames: by the clock for a time budget, else by steps."""
        every = self._timelapse.every_steps
        if every == TIMELAPSE_AUTO and self._budget:
            self.period = self._budget / TIMELAPSE_FRAMES
        elif every == TIMELAPSE_AUTO:
            self.every_steps = max(1, round(total_steps / TIMELAPSE_FRAMES))
        else:
            self.every_steps = every or 0

    @property
    def on(self) -> bool:
        return bool(self.every_steps or self.period)

    def due(self, step: int, elapsed: float) -> bool:
        """Whether this step (after `elapsed` seconds of training) gets a frame."""
        if self.every_steps and step % self.every_steps == 0:
            return True
        if self.period and int(elapsed / self.period) > self._slot:
            self._slot = int(elapsed / self.period)
            return True
        return False

    def take(self, step: int) -> bool:
        """False when this step already has its frame; else it has one now."""
        if step == self._last_step:
            return False
        self._last_step = step
        return True


@dataclass
class Progress:
    """A consistent copy of a job's progress (its status and metrics), safe to read from another thread."""

    status: str = QUEUED
    message: str = ""
    run_path: Path | None = None
    vocab_size: int = 0
    epoch: int = 0  # epochs of this job started so far (1-based while training)
    epochs: int = 0
    first_epoch: int = 0  # epochs already trained before this job (when continuing a run)
    step: int = 0  # batches trained by this job
    total_steps: int = 0
    batches_per_epoch: int = 0
    batch_losses: list[tuple[int, float]] = field(default_factory=list)  # (step, loss of that batch)
    history: list[dict[str, float]] = field(default_factory=list)  # one row per epoch, all epochs of the run
    epoch_texts: list[dict[str, Any]] = field(default_factory=list)  # {"epoch", "temperature", "text"}
    # {"step", "epoch", "seconds", "text"}: step counts in this job (as batch_losses does); epoch and
    # seconds of training in the whole run (as history does, the loss chart's x axis)
    timelapse: list[dict[str, Any]] = field(default_factory=list)
    # the lowest loss of the weights the run keeps: on the validation text, or on the training text when the
    # run has none (best_loss_on says which; a loss on the text it learned from is no measure of writing well)
    best_loss: float | None = None
    best_loss_on: str = runs.VALIDATION

    @property
    def best_val_loss(self) -> float | None:
        """The best loss on the validation text (None for a run without one)."""
        return self.best_loss if self.best_loss_on == runs.VALIDATION else None

    chars_per_second: float = 0.0
    elapsed: float = 0.0
    eta: float | None = None
    budget_seconds: float | None = None  # trains this long by the clock, then finishes (None: by epochs)
    initial_loss: float | None = None  # a new network's loss on its first batch, before any training step
    start_from: dict[str, Any] | None = None  # a fine-tune's writer and its validation loss before the first step
    elapsed_before: float = 0.0  # training seconds of a continued run before this job
    epochs_before: float = 0.0  # epochs of a continued run trained before this job (2.48 when a clock cut one)
    # when each part of the job's own work ended, in seconds from its start: where a training's fixed
    # cost goes ("data", "network", "run folder", "first loss", "first step", "last step", "saved")
    phases: dict[str, float] = field(default_factory=dict)
    began_at: float | None = None  # time.time() when the job began its work (in whichever process)
    text_sha256: str = ""  # the cleaned training text's hash: names it in caches (the text itself is not copied)
    # the Keras policy this job trains in (charlab.network.precision: what the precision setting means on this machine)
    # and why, in words; recorded in the run's metrics
    precision: str = ""
    precision_words: str = ""

    @property
    def run_seconds(self) -> float:
        """Training seconds of the whole run, earlier jobs included (as its history counts epochs)."""
        return self.elapsed_before + self.elapsed

    @property
    def epochs_trained(self) -> float:
        """Epochs of the whole run counted by the batches trained: a clock that stops the third epoch after
        48 of its 100 batches has trained 2.48 epochs, though the history has a third row."""
        if not self.batches_per_epoch:  # before the data is ready: nothing trained by this job yet
            return self.epochs_before
        return self.epochs_before + self.step / self.batches_per_epoch

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATES

    def copy(self) -> Progress:
        """A copy with lists of its own, so a page can read it while the training appends to the original."""
        return replace(
            self,
            batch_losses=list(self.batch_losses),
            history=list(self.history),
            epoch_texts=list(self.epoch_texts),
            timelapse=list(self.timelapse),
            phases=dict(self.phases),
        )

    @property
    def fraction(self) -> float:
        by_steps = min(1.0, self.step / self.total_steps) if self.total_steps else 0.0
        if self.budget_seconds:
            return max(by_steps, min(1.0, self.elapsed / self.budget_seconds))
        return by_steps

    @property
    def random_guess_loss(self) -> float:
        """ln(V): the loss of guessing every character with equal probability."""
        return math.log(self.vocab_size) if self.vocab_size else float("nan")


@dataclass(frozen=True)
class TrainingPlan:
    """A training's inputs, checked once where they come in (`plan_training`): a job in a thread, in a child
    process or on a cluster's node trains from it without checking them again."""

    text: str = field(repr=False)
    config: ModelConfig  # checked; for a continued or fine-tuned run, with that run's network shape
    vocab: Vocab
    name: str
    cleaning: str
    corpus_name: str
    root: Path
    resume_from: Path | None = None
    start_from: Path | None = None
    timelapse: Timelapse = Timelapse()
    time_limit_seconds: float | None = None
    budget_seconds: float | None = None
    start: writers.Start | None = field(default=None, repr=False)  # `start_from`'s weights, grown for the text

    def expected_seconds(self) -> float:
        return expected_seconds(self.config, len(self.vocab), len(self.text), self.budget_seconds)

    def without_text(self) -> TrainingPlan:
        """The plan once its training is over: a finished job kept for its progress stays small."""
        return replace(self, text="", start=None)


def expected_seconds(config: ModelConfig, vocab_size: int, n_chars: int, budget_seconds: float | None) -> float:
    """The model's own estimate of a whole training: how long a queue tells the next student to wait."""
    per_epoch = estimate(config, vocab_size, n_chars).seconds_per_epoch + _EPOCH_EXTRA_SECONDS
    training = per_epoch * config.epochs
    return _JOB_START_SECONDS + (min(training, budget_seconds) if budget_seconds else training)


def plan_training(
    text: str,
    config: ModelConfig,
    name: str = "run",
    cleaning: str = "keep",
    corpus_name: str = "text",
    root: str | Path | None = None,
    resume_from: str | Path | None = None,
    timelapse: Timelapse = Timelapse(),
    time_limit_seconds: float | None = None,
    budget_seconds: float | None = None,
    start_from: str | Path | None = None,
) -> TrainingPlan:
    """Check a training's text and settings, in words, before any thread or process starts.

    `start_from`: a writer's run folder (charlab.learning.writers.find_writer): a new run that starts from its weights
    (its shape, its vocabulary grown by the text's new characters) with a fresh optimizer, as fine-tuning does;
    `resume_from` instead continues a run in its own folder.
    `time_limit_seconds`: stop (and save) after this much training, as Stop would: a shared
    server's cap, so one long training does not hold a place in the queue for hours.
    `budget_seconds`: train this long by the clock (at most the config's epochs), then finish as
    planned, keeping the best weights: a lesson's "1 minute" is a minute on any machine or load."""
    config = config.checked()
    name = runs.check_run_name(name)
    if resume_from is not None and start_from is not None:
        raise CharlabError("A training either continues a run or starts from a writer, not both.")
    if time_limit_seconds is not None and not time_limit_seconds > 0:
        raise CharlabError("A training's time limit must be a number of seconds above 0.")
    if budget_seconds is not None and not budget_seconds > 0:
        raise CharlabError("A training's time budget must be a number of seconds above 0.")
    timelapse = timelapse.checked()
    check_length(text, config.seq_length)
    start = None
    if resume_from is not None:
        previous = runs.load_run(resume_from)
        # the network's shape is fixed by its weights; only training settings may change
        config, vocab = writers.fine_tune_config(config, previous.config), previous.vocab
        vocab.encode(text)  # raises when the text has characters the model never saw
    elif start_from is not None:
        start = writers.prepare_start(start_from, text)
        config, vocab = writers.fine_tune_config(config, start.config), start.vocab
    else:
        vocab = Vocab.from_text(text)
        if len(vocab) < 2:  # Keras cannot even compute a loss over one class
            raise CharlabError(
                f"The text uses only one character ({visible(text[0])}), so there is nothing to learn. "
                "Use a text with at least two different characters."
            )
    data_module.split_sizes(len(text), config.validation_fraction, config.seq_length)
    return TrainingPlan(
        text=text,
        config=config,
        vocab=vocab,
        name=name,
        cleaning=cleaning,
        corpus_name=corpus_name,
        root=runs.workspace(root),
        resume_from=Path(resume_from) if resume_from is not None else None,
        start_from=Path(start_from) if start_from is not None else None,
        timelapse=timelapse,
        time_limit_seconds=time_limit_seconds,
        budget_seconds=budget_seconds,
        start=start,
    )


def progress_before(plan: TrainingPlan) -> Progress:
    """A planned training's progress before its first step: a continued run's history, epochs and best loss."""
    progress = Progress(
        epochs=plan.config.epochs,
        budget_seconds=plan.budget_seconds,
        text_sha256=text_hash(plan.text),
        vocab_size=len(plan.vocab),
    )
    if plan.resume_from is None:
        return progress
    previous = runs.load_run(plan.resume_from)
    progress.history = previous.history()
    progress.epoch_texts = previous.epoch_texts()
    progress.timelapse = previous.timelapse()
    progress.first_epoch = len(progress.history)
    trained = previous.info.metrics.get("epochs_trained")  # runs saved before it counted whole epochs
    progress.epochs_before = float(trained if isinstance(trained, (int, float)) else len(progress.history))
    progress.best_loss = previous.info.best_loss
    progress.best_loss_on = previous.info.best_loss_on
    before = previous.info.metrics.get("train_seconds")
    if not isinstance(before, (int, float)) and progress.history:
        before = progress.history[-1].get("seconds")
    progress.elapsed_before = float(before) if isinstance(before, (int, float)) else 0.0
    return progress


class PlannedTraining:
    """A training made from a checked plan, wherever it runs: the bookkeeping every job shares.

    Its progress is kept behind a lock (a page reads a copy while the training writes it), with the Stop asked
    for and its end. `TrainingJob` trains in this process; charlab.server.remote.TrainedElsewhere follows a
    training in a child process or on a cluster's node. A subclass's `_begin` sets the job up from its plan
    and calls `_keep`."""

    def __init__(self, text: str, config: ModelConfig, **options: Any):
        """The text and settings are checked here, once, in words: `options` are `plan_training`'s (name,
        cleaning, corpus_name, root, resume_from, timelapse, time_limit_seconds, budget_seconds, start_from),
        which says what each one means."""
        self._begin(plan_training(text, config, **options))

    @classmethod
    def from_plan(cls, plan: TrainingPlan, **options: Any) -> Self:
        """A job for inputs checked already (charlab.server.backends.training_job checks them once, in the
        server, before a child process or a cluster's node gets them): nothing is checked twice. `options`: the
        subclass's `_begin`'s."""
        job = cls.__new__(cls)
        job._begin(plan, **options)
        return job

    def _begin(self, plan: TrainingPlan, **options: Any) -> None:
        """Set the job up from its plan (and call `_keep`)."""
        raise NotImplementedError

    def _keep(self, progress: Progress) -> None:
        """Start keeping `progress`: nothing stopped, nothing ended yet."""
        self._progress = progress
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()

    def stop(self) -> None:
        """Ask the training to stop after its current batch; what was learned is saved."""
        self._stop.set()
        with self._lock:
            if not self._progress.done:
                self._progress.status = STOPPING

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has saved its run and ended; False if `timeout` passed first."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def snapshot(self) -> Progress:
        """A copy of its progress, safe to read while it trains."""
        with self._lock:
            return self._progress.copy()

    @property
    def trained_steps(self) -> int:
        """Batches trained so far (without copying the progress, as snapshot does)."""
        with self._lock:
            return self._progress.step

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._progress, key, value)


class TrainingJob(PlannedTraining):
    """One training run: build (or continue) a model on a cleaned text and save it under `root`."""

    def _begin(self, plan: TrainingPlan) -> None:
        """The job's one initialiser, whichever way it was made."""
        self.config, self.vocab, self.text, self.name = plan.config, plan.vocab, plan.text, plan.name
        self.cleaning, self.corpus_name, self.root = plan.cleaning, plan.corpus_name, plan.root
        self.resume_from, self.start_from, self.timelapse = plan.resume_from, plan.start_from, plan.timelapse
        self.time_limit_seconds, self.budget_seconds = plan.time_limit_seconds, plan.budget_seconds
        self._n_chars = len(plan.text)
        self._start: writers.Start | None = plan.start  # the writer's grown weights, until the network holds them
        self._keep(progress_before(plan))
        # a continued run's time-lapse goes on from its last moment
        self._timelapse_seconds_before = (
            float(self._progress.timelapse[-1].get("seconds", 0.0) or 0.0) if self._progress.timelapse else 0.0
        )
        self._frames = TimelapseClock(self.timelapse, self.budget_seconds)
        self._ending: tuple[str, str] | None = None  # how a stop that is not the user's ends: (status, words)
        self._thread: threading.Thread | None = None
        # the training's own state, set as it goes
        self.run_path: Path | None = None
        self._model = None  # the Keras model while training
        self._best_weights: list[np.ndarray] | None = None  # of the best epoch so far
        self._best_on_disk = True  # False from an improvement until the next checkpoint writes it
        self._diverged = False
        self._run_began = 0.0  # time.monotonic() when run() began: the phases count from here
        self._started = 0.0  # ... when the network was ready: the training's elapsed time counts from here
        self._first_step_at = 0.0  # ... when the first step ended: the pace (and the time left) counts from here
        self._last_checkpoint = self._last_heartbeat = 0.0
        self._batch_seconds = 0.0  # time inside batches only: the page's characters per second

    # ------------------------------------------------------------ control

    def start(self) -> TrainingJob:
        """Train in a daemon thread; returns at once."""
        if self._thread is not None:
            raise CharlabError("This training has already been started.")
        self._thread = threading.Thread(target=self.run, name=f"charlab-train-{self.name}", daemon=True)
        self._thread.start()
        return self

    def expected_seconds(self) -> float:
        """The model's own estimate of the whole training: how long a queue tells the next student to wait."""
        return expected_seconds(self.config, len(self.vocab), self._n_chars, self.budget_seconds)

    # ------------------------------------------------------------ the work

    def run(self) -> Progress:
        """Train in this thread (the CLI and tests call this; `start` calls it in a thread)."""
        self._set(status=STARTING, message="Preparing the data and the model…", began_at=time.time())
        self._run_began = time.monotonic()
        try:
            self._train()
        except CharlabError as err:
            self._finish(FAILED, str(err))
        except Exception as err:  # anything unexpected still ends the job with its run marked
            self._finish(FAILED, f"Training failed: {type(err).__name__}: {err}")
        finally:
            self._release()
        return self.snapshot()

    def _train(self) -> None:
        self._set(message="Preparing the data…")
        config = self.config
        data = data_module.training_windows(
            self.vocab.encode(self.text), config.validation_fraction, config.seq_length, config.batch_size
        )
        if self._stop.is_set() and self.resume_from is None:
            self._finish(STOPPED, "Stopped before training began: nothing was saved.")  # no empty run left behind
            return
        self._mark("data")
        self._set(message="Building the network…")
        from charlab.learning import fitting  # TensorFlow: only once there is a network to build

        resolved = precision.resolve(config.precision)  # here, on the machine that trains (a cluster's node)
        self._policy = resolved.policy
        self._set(precision=resolved.policy, precision_words=resolved.words)
        self._model = self._load_network() if self.resume_from is not None else self._new_network()
        runs.mark_active(self.run_path, True)
        self._mark("run folder")
        self._model.optimizer.learning_rate.assign(schedule.learning_rate(config.schedule, config.learning_rate, 0.0))
        self._set(
            status=STOPPING if self._stop.is_set() else TRAINING,
            message="Getting the first training step ready…",
            run_path=self.run_path,
            batches_per_epoch=data.steps_per_epoch,
            total_steps=data.steps_per_epoch * config.epochs,
        )
        self._started = self._last_checkpoint = self._last_heartbeat = time.monotonic()
        if self._stop.is_set():
            self._finish(STOPPED, "Stopped before training began.")
            return
        self._frames.plan(data.steps_per_epoch * config.epochs)
        if self.resume_from is None:  # the chart's first point within a second, while the first step is compiled
            self._set(initial_loss=fitting.loss_before_training(self._model, data.x, data.y, data.batch_size))
            self._mark("first loss")
            if self._start is not None:  # the writer's own loss on this text: where the chart marks its start
                origin = self._start.origin(fitting.validation_loss(self._model, data))
                runs.update_meta(self.run_path, **{writers.ORIGIN_KEY: origin})
                self._set(start_from=origin)
                self._start = None  # its weights live in the network now
            if self._frames.on:
                self._record_timelapse()  # the untrained network: where every time-lapse starts
        fitting.fit(self._model, data, config.epochs, fitting.ProgressCallback(self))
        if not self._done.is_set():  # fit ended without the callback finishing (should not happen)
            self._finish(STOPPED if self._stop.is_set() else FINISHED, "Training ended.")

    def _new_network(self):
        """A fresh network, and its run folder (with the text's counting reference lines)."""
        model = build_model(self.config, len(self.vocab), policy=self._policy)
        if self._start is not None:  # a writer's weights, with Adam fresh from build_model
            set_keras_weights(model, self.config, self._start.weights)
        self._mark("network")
        self.run_path = runs.create_run(
            self.root,
            self.name,
            self.config,
            self.vocab,
            self.cleaning,
            self.corpus_name,
            self._progress.text_sha256,
            len(self.text),
        )
        runs.update_meta(self.run_path, baselines=self._baselines())
        return model

    def _load_network(self):
        """The run's saved network with Adam's state as it was saved, its folder marked as training again."""
        model = runs.load_keras(self.resume_from)
        if getattr(model, "optimizer", None) is None:
            compile_model(model, self.config)
        if model_policy(model) != self._policy:  # saved in bfloat16, continued on a computer without it (or back)
            set_policy(model, self._policy)
        self._mark("network")
        self.run_path = self.resume_from
        runs.update_meta(
            self.run_path,
            status="training",
            settings=self.config.to_dict(),
            pid=os.getpid(),
            heartbeat=time.time(),
            baselines=self._baselines(),
        )
        return model

    # what Keras tells the job (charlab.learning.fitting.ProgressCallback), in the training thread

    def on_batch(self, batch_in_epoch: int, loss: float, seconds: float) -> None:
        config = self.config
        step, elapsed, done = self._count_step(loss, seconds)
        if config.schedule != "constant":  # sized to this training: its minutes, else its steps
            rate = schedule.learning_rate(config.schedule, config.learning_rate, done)
            self._model.optimizer.learning_rate.assign(rate)
        if time.monotonic() - self._last_heartbeat > HEARTBEAT_EVERY_SECONDS:
            self._last_heartbeat = time.monotonic()  # a long epoch without a checkpoint is still alive to
            runs.update_meta(self.run_path, heartbeat=time.time())  # other processes (the CLI beside a server)
        if math.isfinite(loss) and self._frames.due(step, elapsed):
            self._record_timelapse()
        self._stop_by_the_clock(elapsed)
        if not math.isfinite(loss):
            self._diverged = True
            self._model.stop_training = True
        elif self._stop.is_set():
            self._model.stop_training = True

    def _count_step(self, loss: float, seconds: float) -> tuple[int, float, float]:
        """One more step in the progress a page shows; returns the step, the training's seconds, the share done."""
        config = self.config
        self._batch_seconds += seconds
        now = time.monotonic()
        with self._lock:
            p = self._progress
            p.step += 1
            p.batch_losses.append((p.step, loss))
            chars = p.step * config.batch_size * config.seq_length
            p.chars_per_second = chars / self._batch_seconds if self._batch_seconds > 0 else 0.0
            p.elapsed = now - self._started
            if p.step == 1:
                p.message = "Training…"
                self._first_step_at = now
                p.phases["first step"] = now - self._run_began
            p.phases["last step"] = now - self._run_began  # so far: what follows it is the ending's cost
            # seconds per step by the clock since the first step, epoch ends included: the start-up
            # (imports, building, tracing) is over and counted it twice as long 10 s in
            per_step = (now - self._first_step_at) / (p.step - 1) if p.step > 1 else p.elapsed
            p.eta = (p.total_steps - p.step) * per_step
            if self.budget_seconds:
                p.eta = min(p.eta, max(0.0, self.budget_seconds - p.elapsed))
            return p.step, p.elapsed, p.fraction

    def _stop_by_the_clock(self, elapsed: float) -> None:
        """A time budget ends the training as planned; a server's time limit stops it, as Stop would."""
        if self._stop.is_set():
            return
        if self.budget_seconds is not None and elapsed >= self.budget_seconds:
            self._ending = (FINISHED, f"Trained for {_minutes(self.budget_seconds)}, as planned.")
            self.stop()
        elif self.time_limit_seconds is not None and elapsed >= self.time_limit_seconds:
            self._ending = (
                STOPPED,
                f"Stopped at this server's limit of {_minutes(self.time_limit_seconds)} per training: what was "
                "learned is saved. Continue the run to train it more.",
            )
            self.stop()

    def on_epoch_begin(self, epoch: int) -> None:
        self._set(epoch=epoch + 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        loss, val_loss = float(logs.get("loss", "nan")), logs.get("val_loss")
        val_loss = float(val_loss) if val_loss is not None else None
        diverged = self._diverged or not math.isfinite(loss)
        last = epoch + 1 >= self.config.epochs
        if self._frames.on and not diverged and (last or self._stop.is_set()):
            self._record_timelapse()  # where the training ended, unless the last step already has one
        history = self._record_epoch(epoch, loss, val_loss) if not diverged else []
        if diverged:
            self._finish(
                DIVERGED,
                "The loss became NaN (training diverged). Lower the learning rate and try again;"
                " the best weights before that were kept.",
            )
        elif self._stop.is_set():
            self._finish(*(self._ending or (STOPPED, "Stopped: what was learned is saved.")))
        elif last:
            self._finish(FINISHED, "Training finished.")
        elif self.budget_seconds and learning_by_heart(history):
            self._finish(FINISHED, EARLY_STOP_WORDS)
        elif not self._best_on_disk and time.monotonic() - self._last_checkpoint > CHECKPOINT_EVERY_SECONDS:
            self._checkpoint()  # also when the best came earlier and later epochs did not beat it

    def _record_epoch(self, epoch: int, loss: float, val_loss: float | None) -> list[dict[str, float]]:
        """The epoch's row of the history and its text, kept as the best weights when it improved, on disk;
        returns the history so far (the copy written to disk)."""
        p = self.snapshot()
        whole = p.first_epoch + epoch + 1
        cut_short = bool(p.batches_per_epoch) and p.step < (epoch + 1) * p.batches_per_epoch
        row = {
            # an epoch cut short by Stop or the clock is filed where it ended (7.8, not 8), as the time-lapse is:
            # the kept network's words and the chart's validation point then agree with "after 7.8 epochs"
            "epoch": round(p.first_epoch + p.step / p.batches_per_epoch, 2) if cut_short else whole,
            "loss": loss,
            "val_loss": val_loss if val_loss is not None else float("nan"),
            "seconds": round(p.run_seconds, 2),
            "chars_per_second": round(p.chars_per_second),
            "learning_rate": float(self._model.optimizer.learning_rate.numpy()),  # where its schedule has got to
        }
        score, on = (val_loss, runs.VALIDATION) if val_loss is not None else (loss, runs.TRAINING)
        # a best loss on the other text (a run continued with or without validation text) is no yardstick
        earlier = p.best_loss if p.best_loss_on == on else None
        improved = math.isfinite(score) and (earlier is None or score < earlier)
        if improved:
            self._best_weights = self._model.get_weights()
            self._best_on_disk = False
        text = self._writer().write("", EPOCH_TEXT_LENGTH, temperature=WRITING_TEMPERATURE, random_seed=0)
        with self._lock:
            p2 = self._progress
            p2.history.append(row)
            p2.epoch_texts.append({"epoch": row["epoch"], "temperature": WRITING_TEMPERATURE, "text": text})
            if improved:
                p2.best_loss, p2.best_loss_on = score, on
            history, texts, timelapse = list(p2.history), list(p2.epoch_texts), list(p2.timelapse)
        runs.write_history(self.run_path, history)
        runs.write_epoch_texts(self.run_path, texts)
        if timelapse:
            runs.write_timelapse(self.run_path, timelapse)
        return history

    def _record_timelapse(self) -> None:
        """Sample the current weights from the fixed seed (a numpy copy: ~10 ms for a 256-unit LSTM)."""
        with self._lock:
            p = self._progress
            step, bpe, first_epoch = p.step, p.batches_per_epoch, p.first_epoch
        if not self._frames.take(step):
            return  # this step already has its frame
        text = self._writer().write(
            self.timelapse.seed_text,
            self.timelapse.length,
            temperature=WRITING_TEMPERATURE,
            random_seed=TIMELAPSE_RANDOM_SEED,
        )
        entry = {
            "step": step,
            "epoch": round(first_epoch + (step / bpe if bpe else 0.0), 4),
            "seconds": round(self._timelapse_seconds_before + time.monotonic() - self._started, 2),
            "text": text,
        }
        with self._lock:
            self._progress.timelapse.append(entry)

    def _writer(self) -> Generator:
        """The network as it is now, as a numpy generator (a copy of its weights: ~10 ms for a 256-unit LSTM)."""
        return Generator(NumpyCharModel.from_config(self.config, keras_weights(self._model, self.config)), self.vocab)

    def _baselines(self) -> dict | None:
        """The counting reference lines for this text (a fraction of a second for 1 MB), kept with the run
        so its chart shows them after the training, when the text is no longer at hand."""
        try:
            report = compute_baselines(self.text, self.vocab, self.config.validation_fraction, self.config.seq_length)
        except CharlabError:
            return None
        return report_to_dict(report)

    def _checkpoint(self) -> None:
        """Write the best weights so far to the run folder (the model keeps training on its own)."""
        if self._best_weights is None:
            return
        current = self._model.get_weights()
        self._model.set_weights(self._best_weights)
        try:
            runs.save_weights(self.run_path, self._model, self.config)
        finally:
            self._model.set_weights(current)
        p = self.snapshot()
        # model.keras now holds this training's own optimizer state, even for an imported run
        runs.update_meta(
            self.run_path, heartbeat=time.time(), metrics=self._metrics(p), **{runs.FRESH_OPTIMIZER: False}
        )
        self._last_checkpoint = time.monotonic()
        self._best_on_disk = True

    def _metrics(self, p: Progress) -> dict[str, Any]:
        return {
            "best_loss": p.best_loss,
            "best_loss_on": p.best_loss_on,
            "epochs_done": len(p.history),
            "epochs_trained": round(p.epochs_trained, 2),
            "chars_per_second": round(p.chars_per_second),
            "train_seconds": round(p.run_seconds, 1),
            "last_loss": p.history[-1]["loss"] if p.history else None,
            "precision": p.precision,  # what the setting meant where it trained: 'auto' names no number type
            "precision_words": p.precision_words,
        }

    def _finish(self, status: str, message: str) -> None:
        """Save the best weights and mark the run; runs once, whatever ended the job, and always ends it.

        A save that fails (a full disk) ends the job as failed, saying why; the previous checkpoint
        stays on disk, since every file is written to a temporary name and then renamed.
        """
        if self._done.is_set():
            return
        run_path = self.run_path
        try:
            if run_path is not None:
                try:
                    if self._best_weights is not None:
                        self._checkpoint()
                    p = self.snapshot()
                    if p.timelapse:
                        runs.write_timelapse(run_path, p.timelapse)
                except Exception as err:
                    status, message = FAILED, _with_save_error(message, err)
                try:
                    runs.update_meta(run_path, status=status, message=message, metrics=self._metrics(self.snapshot()))
                except Exception as err:  # the run stays marked 'training', so the list shows it as interrupted
                    status, message = FAILED, _with_save_error(message, err)
        finally:
            if run_path is not None:
                runs.mark_active(run_path, False)
            self._mark("saved")
            with self._lock:
                self._progress.status = status
                self._progress.message = message
                self._progress.eta = 0.0
            self._done.set()
        if self._model is not None:
            self._model.stop_training = True

    def _release(self) -> None:
        """Drop the model and the text once training is over: a finished job kept for its progress stays small."""
        self._model = None
        self._best_weights = None
        self.text = ""
        gc.collect()  # a Keras model holds reference cycles: free its memory now, not at some later collection

    def _mark(self, phase: str) -> None:
        """Note when a part of the job ended (Progress.phases): what a bench prints as the fixed cost."""
        with self._lock:
            self._progress.phases[phase] = time.monotonic() - self._run_began


def _with_save_error(message: str, err: Exception) -> str:
    """The job's message plus why saving failed, said once (a failed checkpoint may be retried at the end)."""
    reason = str(err) if isinstance(err, CharlabError) else f"{type(err).__name__}: {err}"
    return message if reason in message else f"{message} But saving failed: {reason}"


def _minutes(seconds: float) -> str:
    """90 -> '1.5 minutes', 1800 -> '30 minutes', 20 -> '20 seconds'."""
    if seconds < 60:
        return f"{seconds:g} seconds"
    minutes = seconds / 60
    return f"{minutes:.3g} minute{'s' if minutes != 1 else ''}"
