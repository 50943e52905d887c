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


def split_ids(ids: np.ndarray, validation_fraction: float, seq_length: int) -> Split:
    """Hold out the last `validation_fraction` of the text for validation.

    The end of the text (not random windows) so no validation character was ever seen in a
    training window: windows overlapping the boundary would leak.
    """
    if not 0.0 <= validation_fraction < 0.5:
        raise CharlabError("The validation share must be between 0% and 50% of the text.")
    n_val = int(len(ids) * validation_fraction)
    if validation_fraction > 0:
        n_val = max(n_val, seq_length + 1)  # at least one window to measure on
    train, validation = ids[: len(ids) - n_val], ids[len(ids) - n_val :]
    if len(train) < seq_length + 1:
        raise CharlabError(
            f"After setting aside {validation_fraction:.0%} for validation, {len(train):,} characters are left "
            f"for training: too few for a sequence length of {seq_length}. Use a longer text, a shorter "
            "sequence length or a smaller validation share."
        )
    return Split(train=train, validation=validation)


def windows(ids: np.ndarray, seq_length: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping (inputs, targets) windows, each (N, seq_length); targets are inputs shifted by one.

    `offset` shifts where the windows start, so a different offset each epoch shows the model
    every character with a different amount of context before it.
    """
    usable = (len(ids) - offset - 1) // seq_length
    if usable < 1:
        raise CharlabError(f"The text is too short for one window of {seq_length} characters.")
    end = offset + usable * seq_length
    inputs = ids[offset:end].reshape(usable, seq_length)
    targets = ids[offset + 1 : end + 1].reshape(usable, seq_length)
    return inputs, targets


def batches_per_epoch(n_ids: int, seq_length: int, batch_size: int) -> int:
    """How many batches one pass over `n_ids` characters makes (the last partial batch included)."""
    n_windows = max(0, (n_ids - 1) // seq_length)
    return -(-n_windows // batch_size)
