"""Training windows: right targets, an honest validation split, and no copies of a big text."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.text.data import split_ids, split_sizes, training_windows, windows


def _naive_windows(ids, seq_length):
    """The obvious loop that windows() must agree with."""
    inputs, targets = [], []
    start = 0
    while start + seq_length + 1 <= len(ids):
        inputs.append(list(ids[start : start + seq_length]))
        targets.append(list(ids[start + 1 : start + seq_length + 1]))
        start += seq_length
    return inputs, targets


@pytest.mark.parametrize(("n", "seq_length"), [(101, 10), (100, 10), (109, 10), (111, 10), (2, 1), (57, 7), (1000, 33)])
def test_windows_match_a_naive_loop(n, seq_length):
    ids = np.random.default_rng(n).integers(0, 50, n).astype(np.int32)
    x, y = windows(ids, seq_length)
    naive_x, naive_y = _naive_windows(ids.tolist(), seq_length)
    assert x.shape == y.shape == (len(naive_x), seq_length)
    assert x.tolist() == naive_x
    assert y.tolist() == naive_y
    assert x.dtype == y.dtype == np.int32


def test_targets_are_inputs_shifted_by_one():
    ids = np.arange(1, 42, dtype=np.int32)  # 41 ids: 4 windows of 10 use ids 1..41
    x, y = windows(ids, 10)
    assert x.shape == (4, 10)
    assert np.array_equal(y, x + 1)
    assert np.array_equal(x[:, 1:], y[:, :-1])
    assert np.array_equal(x.ravel(), ids[:40])  # non-overlapping, consecutive
    assert y[-1, -1] == ids[-1]  # the last id is a target, never wasted


def test_too_short_for_one_window_is_refused():
    with pytest.raises(CharlabError) as err:
        windows(np.arange(10, dtype=np.int32), 10)  # needs 11: ten inputs and one more target
    assert "too short for one window of 10 characters" in str(err.value)
    windows(np.arange(11, dtype=np.int32), 10)


@pytest.mark.parametrize(("n", "fraction", "seq_length"), [(1000, 0.1, 20), (1000, 0.25, 10), (5003, 0.1, 100)])
def test_validation_is_held_out_from_the_end(n, fraction, seq_length):
    ids = np.arange(n, dtype=np.int32)
    split = split_ids(ids, fraction, seq_length)
    assert len(split.train) + len(split.validation) == n
    assert len(split.validation) == max(int(n * fraction), seq_length + 1)
    assert np.array_equal(np.concatenate([split.train, split.validation]), ids)  # train first, validation last
    assert split.validation[-1] == n - 1
    # no validation character is ever inside a training window
    x, y = windows(split.train, seq_length)
    seen = set(x.ravel().tolist()) | set(y.ravel().tolist())
    assert seen.isdisjoint(split.validation.tolist())
    assert max(seen) < split.validation[0]


def test_zero_validation_keeps_everything_for_training():
    ids = np.arange(500, dtype=np.int32)
    split = split_ids(ids, 0.0, 20)
    assert len(split.validation) == 0
    assert np.array_equal(split.train, ids)


@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.05])
def test_a_small_fraction_still_gives_one_validation_window(fraction):
    ids = np.arange(2000, dtype=np.int32)
    split = split_ids(ids, fraction, 100)
    assert len(split.validation) >= 101
    vx, vy = windows(split.validation, 100)
    assert len(vx) >= 1
    assert vy[0, -1] <= split.validation[-1]


@pytest.mark.parametrize("fraction", [-0.1, 0.5, 0.9, 1.0, 2.0, math.nan, math.inf, -math.inf])
def test_bad_fractions_are_refused(fraction):
    with pytest.raises(CharlabError) as err:
        split_ids(np.arange(1000, dtype=np.int32), fraction, 10)
    assert "validation share" in str(err.value) and "50%" in str(err.value)


def test_too_short_text_for_training_is_refused():
    with pytest.raises(CharlabError) as err:
        split_ids(np.arange(150, dtype=np.int32), 0.1, 100)  # 101 held out leaves 49 to train on
    message = str(err.value)
    assert "49 characters are left" in message and "sequence length of 100" in message
    with pytest.raises(CharlabError):
        split_ids(np.arange(100, dtype=np.int32), 0.0, 100)  # not even one window without validation
    split_ids(np.arange(101, dtype=np.int32), 0.0, 100)


def test_windows_of_a_big_text_are_views_not_copies():
    ids = np.arange(10_000_000, dtype=np.int32)  # a 10 MB text: 40 MB of ids
    split = split_ids(ids, 0.1, 100)
    x, y = windows(split.train, 100)
    vx, vy = windows(split.validation, 100)
    for part in (split.train, split.validation, x, y, vx, vy):
        assert np.shares_memory(part, ids)
        assert part.base is not None
    assert x.shape == (89_999, 100) and vx.shape == (9_999, 100)
    # whatever the pieces, the memory they own is at most two int32 copies of the text
    owned = sum(a.nbytes for a in (split.train, split.validation, x, y, vx, vy) if a.base is None)
    assert owned <= 2 * ids.nbytes
    assert x[12_345, 67] == 12_345 * 100 + 67 and y[12_345, 67] == 12_345 * 100 + 68


@pytest.mark.parametrize(
    ("n", "fraction", "seq_length"), [(1000, 0.1, 20), (150, 0.1, 100), (101, 0.0, 100), (40, 0.3, 5)]
)
def test_split_sizes_agree_with_the_split_without_the_ids(n, fraction, seq_length):
    """A job checks a text's length before it encodes anything: the same answer, the same refusal."""
    try:
        split = split_ids(np.arange(n, dtype=np.int32), fraction, seq_length)
    except CharlabError as err:
        with pytest.raises(CharlabError, match=re.escape(str(err))):
            split_sizes(n, fraction, seq_length)
    else:
        assert split_sizes(n, fraction, seq_length) == (len(split.train), len(split.validation))


@pytest.mark.parametrize(("n", "batch_size"), [(1001, 10), (1001, 7), (5003, 64), (130, 64)])
def test_training_windows_come_in_whole_batches(n, batch_size):
    ids = np.arange(n, dtype=np.int32)
    data = training_windows(ids, 0.1, 10, batch_size)
    split = split_ids(ids, 0.1, 10)
    all_x, _ = windows(split.train, 10)
    assert data.batch_size == min(batch_size, len(all_x))
    assert len(data.x) % data.batch_size == 0 and data.steps_per_epoch == len(data.x) // data.batch_size
    assert len(all_x) - len(data.x) < data.batch_size  # only the last partial batch is left out
    assert np.array_equal(data.x, all_x[: len(data.x)]) and np.array_equal(data.y, data.x + 1)
    vx, vy = data.validation
    assert np.array_equal(vx, windows(split.validation, 10)[0]) and np.array_equal(vy, vx + 1)


def test_training_windows_without_validation():
    data = training_windows(np.arange(500, dtype=np.int32), 0.0, 20, 8)
    assert data.validation is None and data.steps_per_epoch == 24 // 8
