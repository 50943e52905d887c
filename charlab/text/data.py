"""Cut a text into training windows without ever building a one-hot array.

Many-to-many: a window of `seq_length` ids predicts the next id at every position, so each
character of the corpus is a training target once per epoch. Windows are integer views of one
id array: memory is a few bytes per character, not `seq_length * vocab_size` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError


@dataclass(frozen=True)
class Split:
    """Training and validation ids; validation is the end of the text and is never trained on."""

    train: np.ndarray
    validation: np.ndarray


def split_sizes(n_chars: int, validation_fraction: float, seq_length: int) -> tuple[int, int]:
    """How many characters train and how many validate; raises in words when the text is too short.

    The validation part is the end of the text, at least one window long whenever there is one.
    """
    if not 0.0 <= validation_fraction < 0.5:
        raise CharlabError("The validation share must be between 0% and 50% of the text.")
    n_val = int(n_chars * validation_fraction)
    if validation_fraction > 0:
        n_val = max(n_val, seq_length + 1)  # at least one window to measure on
    n_train = n_chars - n_val
    if n_train < seq_length + 1:
        raise CharlabError(
            f"After setting aside {validation_fraction:.0%} for validation, {max(n_train, 0):,} characters are left "
            f"for training: too few for a sequence length of {seq_length}. Use a longer text, a shorter "
            "sequence length or a smaller validation share."
        )
    return n_train, n_val


def split_ids(ids: np.ndarray, validation_fraction: float, seq_length: int) -> Split:
    """Hold out the last `validation_fraction` of the text for validation.

    The end of the text (not random windows) so no validation character was ever seen in a
    training window: windows overlapping the boundary would leak.
    """
    n_train, _ = split_sizes(len(ids), validation_fraction, seq_length)
    return Split(train=ids[:n_train], validation=ids[n_train:])


def windows(ids: np.ndarray, seq_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping (inputs, targets) windows, each (N, seq_length); targets are inputs shifted by one."""
    usable = (len(ids) - 1) // seq_length
    if usable < 1:
        raise CharlabError(f"The text is too short for one window of {seq_length} characters.")
    end = usable * seq_length
    return ids[:end].reshape(usable, seq_length), ids[1 : end + 1].reshape(usable, seq_length)


@dataclass(frozen=True)
class TrainingWindows:
    """What a training reads: its windows in whole batches, and the validation windows (None without any)."""

    x: np.ndarray
    y: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    batch_size: int  # the settings' batch size, or all the windows when there are fewer

    @property
    def steps_per_epoch(self) -> int:
        return len(self.x) // self.batch_size


def training_windows(ids: np.ndarray, validation_fraction: float, seq_length: int, batch_size: int) -> TrainingWindows:
    """Split the ids and cut both parts into windows; whole batches only, so each batch's own loss can be
    derived exactly from Keras' running mean."""
    split = split_ids(ids, validation_fraction, seq_length)
    x, y = windows(split.train, seq_length)
    if len(x) > batch_size:
        keep = len(x) - len(x) % batch_size
        x, y = x[:keep], y[:keep]
    validation = windows(split.validation, seq_length) if len(split.validation) > seq_length else None
    return TrainingWindows(x=x, y=y, validation=validation, batch_size=min(batch_size, len(x)))
