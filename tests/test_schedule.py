"""The learning rate over a training: warm-up, cosine decay sized to the training, and what a run records."""

from __future__ import annotations

import time

import pytest

from charlab.errors import CharlabError
from charlab.learning import training
from charlab.learning.training import FINISHED, TrainingJob
from charlab.network.model import ModelConfig
from charlab.network.schedule import FINAL_FRACTION, WARMUP_FRACTION, learning_rate
from charlab.saving import runs

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 60


def test_constant_keeps_the_chosen_rate():
    assert {learning_rate("constant", 3e-3, done) for done in (0, 0.3, 1)} == {3e-3}


def test_cosine_warms_up_peaks_then_decays_to_a_small_rate_at_the_end():
    peak = 0.01
    rates = [learning_rate("cosine", peak, i / 1000) for i in range(1001)]
    top = rates.index(max(rates))
    assert rates[0] == pytest.approx(0.1 * peak)  # a fresh network's first steps are small
    assert top / 1000 == pytest.approx(WARMUP_FRACTION, abs=0.002) and max(rates) == pytest.approx(peak)
    assert all(a <= b for a, b in zip(rates[:top], rates[1 : top + 1], strict=True))  # rises, then
    assert all(a >= b for a, b in zip(rates[top:], rates[top + 1 :], strict=False))  # only falls
    assert rates[-1] == pytest.approx(FINAL_FRACTION * peak)
    assert learning_rate("cosine", peak, 0.51) == pytest.approx(peak * (FINAL_FRACTION + 1) / 2, rel=0.02)
    assert learning_rate("cosine", peak, 7) == rates[-1] and learning_rate("cosine", peak, -1) == rates[0]


def test_an_unknown_schedule_is_refused_in_words():
    with pytest.raises(CharlabError, match="Learning-rate schedule must be one of constant, cosine"):
        ModelConfig(schedule="linear").checked()
    with pytest.raises(CharlabError, match="Cell type must be one of"):
        ModelConfig(cell="transformer").checked()


def test_a_training_by_epochs_decays_over_its_steps(tmp_path):
    config = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=4, learning_rate=0.01,
                      schedule="cosine")  # fmt: skip
    progress = TrainingJob(TEXT, config, name="cosine", root=tmp_path).run()
    assert progress.status == FINISHED
    rates = [row["learning_rate"] for row in progress.history]
    assert rates == sorted(rates, reverse=True) and rates[0] < 0.01
    assert rates[-1] == pytest.approx(FINAL_FRACTION * 0.01, rel=0.05)  # the end of the training: the end of the decay
    assert [row["learning_rate"] for row in runs.read_history(progress.run_path)] == pytest.approx(rates)

    flat = TrainingJob(TEXT, ModelConfig(**{**config.to_dict(), "schedule": "constant"}), name="flat", root=tmp_path)
    assert [row["learning_rate"] for row in flat.run().history] == pytest.approx([0.01] * 4)


def test_a_training_by_the_clock_decays_over_its_minutes(tmp_path, monkeypatch):
    """With a time budget the decay follows the clock: each step's rate is the schedule's at that share
    of the minutes (checked after every step, so the machine's speed does not matter)."""
    seen: list[tuple[float, float]] = []
    on_batch = TrainingJob.on_batch
    clock = {"seconds": 0.0}

    class Clock:  # the training's clock moves 0.05 s per step, however fast this machine is
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def monotonic() -> float:
            return 1000.0 + clock["seconds"]

    def recording(self, *args):
        clock["seconds"] += 0.05
        on_batch(self, *args)
        p = self.snapshot()
        seen.append((p.elapsed / p.budget_seconds, float(self._model.optimizer.learning_rate.numpy())))

    monkeypatch.setattr(training, "time", Clock())
    monkeypatch.setattr(TrainingJob, "on_batch", recording)
    config = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=10_000, learning_rate=0.01,
                      schedule="cosine")  # fmt: skip
    progress = TrainingJob(TEXT, config, name="budget", root=tmp_path, budget_seconds=3.0).run()
    assert progress.status == FINISHED and len(seen) == pytest.approx(60, abs=1)  # 3 s of 0.05 s steps
    total_steps = progress.total_steps  # 10,000 epochs: the step count is far from done, the clock decides
    assert progress.step < total_steps / 100
    for share, rate in seen:
        assert rate == pytest.approx(learning_rate("cosine", 0.01, share), rel=1e-3)
    assert seen[-1][0] >= 1.0 and seen[-1][1] == pytest.approx(FINAL_FRACTION * 0.01, rel=1e-3)
    assert progress.history[-1]["learning_rate"] == pytest.approx(FINAL_FRACTION * 0.01, rel=1e-3)
