"""Keras' side of a training: the batches it reads, its callback, and one eager loss before it starts.

Imported only when a training starts (it imports TensorFlow): `charlab.learning.training` stays importable,
and a page that never trains never pays for TensorFlow.
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

import numpy as np

from charlab.network.keras_setup import import_keras
from charlab.text.data import TrainingWindows

keras = import_keras()  # before TensorFlow itself: it sizes TensorFlow's thread pools

import tensorflow as tf  # noqa: E402 - after import_keras, as said above


class Listener(Protocol):
    """What a training job hears from Keras, in the training thread."""

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_batch(self, batch_in_epoch: int, loss: float, seconds: float) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None: ...


class ProgressCallback(keras.callbacks.Callback):
    """Hands each batch's own loss and time, and each epoch's end, to the job."""

    def __init__(self, job: Listener):
        super().__init__()
        self.job = job
        self._previous_mean = 0.0
        self._batch_started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._previous_mean = 0.0
        self.job.on_epoch_begin(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        seconds = time.perf_counter() - self._batch_started
        mean = float((logs or {}).get("loss", float("nan")))
        # Keras reports the running mean of the epoch; recover this batch's own loss
        loss = (batch + 1) * mean - batch * self._previous_mean
        self._previous_mean = mean
        self.job.on_batch(batch, loss, seconds)

    def on_epoch_end(self, epoch, logs=None):
        self.job.on_epoch_end(epoch, logs or {})


def fit(model, data: TrainingWindows, epochs: int, callback: ProgressCallback) -> None:
    """Train until the epochs are done or the callback's job stops the model."""
    model.fit(
        endless_batches(data.x, data.y, data.batch_size),
        steps_per_epoch=data.steps_per_epoch,
        epochs=epochs,
        validation_data=data.validation,
        shuffle=False,  # the stream reshuffles every pass itself
        verbose=0,
        callbacks=[callback],
    )


def endless_batches(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """The training windows, reshuffled every pass, as one endless stream of batches.

    Handed numpy arrays, Keras builds a new data iterator at every epoch, which stalled the first
    batch of most epochs by seconds on 2 cores (4 s of a 10 s epoch on 300k characters); one
    endless stream read `steps_per_epoch` batches at a time has no such pause.
    """
    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .prefetch(2)
    )


def loss_before_training(model, x: np.ndarray, y: np.ndarray, batch_size: int) -> float | None:
    """The untrained network's loss on the first batch (near ln V), by one eager forward pass: a point for
    the chart long before the compiled training step (seconds to build) has run once."""
    try:
        logits = model(x[:batch_size], training=False)
        losses = keras.losses.sparse_categorical_crossentropy(y[:batch_size], logits, from_logits=True)
        loss = float(keras.ops.convert_to_numpy(keras.ops.mean(losses)))
    except Exception:  # only a nicety: training goes on without it
        return None
    return loss if math.isfinite(loss) else None


def validation_loss(model, data: TrainingWindows) -> float | None:
    """The network's mean loss on all the validation windows, by eager forward passes (as Keras' val_loss counts
    it): a writer's loss on a new text before its first step. None without a validation text."""
    if data.validation is None:
        return None
    x, y = data.validation
    total, count = 0.0, 0
    for begin in range(0, len(x), data.batch_size):
        batch = slice(begin, begin + data.batch_size)
        logits = model(x[batch], training=False)
        losses = keras.losses.sparse_categorical_crossentropy(y[batch], logits, from_logits=True)
        total += float(keras.ops.convert_to_numpy(keras.ops.sum(losses)))
        count += int(np.prod(losses.shape))
    loss = total / count
    return loss if math.isfinite(loss) else None
