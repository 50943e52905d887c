"""The precision setting: what it means on each kind of computer, the numbers a bfloat16 training gives
beside float32's, and what a run records."""

from __future__ import annotations

import numpy as np
import pytest

from charlab.learning.training import FINISHED, TrainingJob
from charlab.network import precision
from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig, build_model, estimate, import_keras, keras_weights, model_policy
from charlab.network.precision import FLOAT32, MIXED_BFLOAT16, MIXED_FLOAT16, resolve
from charlab.saving import runs
from charlab.text.samples import SAMPLE_TEXTS_DIR

TINY = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1, learning_rate=0.01)
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 60


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv("CHARLAB_BFLOAT16", raising=False)
    return monkeypatch


# ---------------------------------------------------------------- what each setting means where


@pytest.mark.parametrize(
    ("setting", "unit", "gpu", "policy"),
    [
        ("auto", "AMX", False, MIXED_BFLOAT16),
        ("auto", "AVX512-BF16", False, MIXED_BFLOAT16),
        ("auto", "", False, FLOAT32),
        ("auto", "", True, MIXED_FLOAT16),
        ("auto", "AMX", True, MIXED_FLOAT16),  # the GPU trains, not the processor
        ("float32", "AMX", True, FLOAT32),
        ("bfloat16", "AMX", False, MIXED_BFLOAT16),
        ("bfloat16", "", True, MIXED_BFLOAT16),
        ("bfloat16", "", False, FLOAT32),  # the fallback: no bfloat16 unit, no GPU
    ],
)
def test_each_setting_resolves_to_a_policy_by_what_the_computer_has(setting, unit, gpu, policy):
    assert resolve(setting, unit, gpu).policy == policy


def test_the_fallback_and_auto_say_why_in_words():
    fallback = resolve("bfloat16", "", False)
    assert fallback.words.startswith("float32") and "no bfloat16 unit" in fallback.words
    assert "AMX" in resolve("auto", "AMX", False).words
    assert (
        resolve("auto", "", False).words == "float32 (auto): this processor has no bfloat16 unit (AVX512-BF16 or AMX)."
    )


def test_the_processor_flags_name_its_bfloat16_unit(tmp_path, no_override):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512_bf16 amx_tile amx_bf16\n\n", encoding="utf-8")
    assert {"avx512_bf16", "amx_bf16"} <= precision.cpu_flags(cpuinfo)
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()  # macOS, Windows: no bfloat16 assumed
    detected = "amx_bf16" in precision.cpu_flags() or "avx512_bf16" in precision.cpu_flags()
    assert (precision.bfloat16_unit() is not None) == detected  # this machine's own flags decide


@pytest.mark.parametrize(("value", "unit"), [("1", "CHARLAB_BFLOAT16=1"), ("on", "CHARLAB_BFLOAT16=1"), ("0", None)])
def test_charlab_bfloat16_overrides_the_flags(no_override, value, unit):
    no_override.setenv("CHARLAB_BFLOAT16", value)
    assert precision.bfloat16_unit() == unit
    no_override.setattr(precision, "has_gpu", lambda: False)
    words = precision.support_words()
    assert ("auto trains in mixed bfloat16" in words) == (unit is not None)
    assert ("no bfloat16 unit" in words) == (unit is None)


# ---------------------------------------------------------------- the network in each precision


def test_a_bfloat16_network_computes_in_bfloat16_but_keeps_float32_weights_logits_and_global_policy():
    keras = import_keras()
    model = build_model(TINY, 12, policy=MIXED_BFLOAT16)
    inside = keras.Model(model.input, model.get_layer("rnn_0").output)
    x = np.zeros((2, 5), dtype=np.int32)
    assert inside(x).dtype == "bfloat16" and model(x).dtype == "float32"
    assert model_policy(model) == MIXED_BFLOAT16 and model.get_layer("logits").dtype_policy.name == FLOAT32
    assert {v.dtype for v in model.weights} == {"float32"}
    assert keras.config.dtype_policy().name == FLOAT32  # no global: trainings in threads keep their own
    same = build_model(TINY, 12, policy=FLOAT32)
    assert list(keras_weights(model, TINY)) == list(keras_weights(same, TINY))  # weights.npz is unchanged


# the numbers a bfloat16 training gives beside float32's: a GRU 64 trained 60 seeded steps (batch 16, windows of
# 32) on fables.txt. Measured over seeds 0-4 (tests run seed 0 and 2): the mean gap between the two trainings'
# per-step losses was 0.0005-0.0026 and the final evaluation's 0.0002-0.0010. With the loss computed in bfloat16
# (a wrong cast) the mean gap was 0.0042-0.0054 on every seed, so a tolerance of 0.004 tells the two apart.
PARITY_STEPS, PARITY_TOLERANCE = 60, 0.004


def _parity_losses(policy: str, seed: int, loss_dtype: str = "float32") -> tuple[np.ndarray, float]:
    """Each step's loss, and the loss on one more batch after them, for a seeded training."""
    keras = import_keras()
    text = (SAMPLE_TEXTS_DIR / "fables.txt").read_text(encoding="utf-8")
    chars = {c: i for i, c in enumerate(sorted(set(text)))}
    ids = np.array([chars[c] for c in text], dtype=np.int32)
    t, b = 32, 16
    starts = np.random.default_rng(seed).integers(0, len(ids) - t - 1, size=(PARITY_STEPS + 1, b))
    x = np.stack([[ids[s : s + t] for s in row] for row in starts])
    y = np.stack([[ids[s + 1 : s + t + 1] for s in row] for row in starts])
    keras.utils.set_random_seed(seed)
    config = ModelConfig(
        units=64, embedding_dim=16, seq_length=t, batch_size=b, learning_rate=5e-3, schedule="constant"
    )
    model = build_model(config, len(chars), policy=policy)
    if loss_dtype != "float32":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=loss_dtype)
        model.compile(optimizer=keras.optimizers.Adam(5e-3, clipnorm=1.0), loss=loss)
    losses = np.array([float(model.train_on_batch(x[i], y[i])) for i in range(PARITY_STEPS)])
    return losses, float(model.evaluate(x[-1], y[-1], verbose=0))


def _bfloat16_representable(values: np.ndarray) -> np.ndarray:
    """True where a float32 value is exactly a bfloat16 (its 16 low bits are zero)."""
    return (values.astype(np.float32).view(np.uint32) & 0xFFFF) == 0


@pytest.mark.parametrize("seed", [0, 2])
def test_bfloat16_trains_to_the_same_losses_as_float32_within_the_measured_tolerance(seed):
    f32, f32_end = _parity_losses(FLOAT32, seed)
    bf16, bf16_end = _parity_losses(MIXED_BFLOAT16, seed)
    assert not np.array_equal(f32, bf16)  # bfloat16 really computed: the numbers differ a little
    assert np.abs(bf16 - f32).mean() <= PARITY_TOLERANCE
    assert abs(bf16_end - f32_end) <= PARITY_TOLERANCE
    assert f32[-10:].mean() < f32[:10].mean() - 0.5  # both learned something: the comparison means something
    assert not _bfloat16_representable(bf16).any()  # the loss itself was computed in float32


def test_the_parity_check_fails_when_the_loss_is_computed_in_bfloat16():
    f32, _ = _parity_losses(FLOAT32, 0)
    wrong, _ = _parity_losses(MIXED_BFLOAT16, 0, loss_dtype="bfloat16")
    assert np.abs(wrong - f32).mean() > PARITY_TOLERANCE
    assert _bfloat16_representable(wrong).all()


# ---------------------------------------------------------------- what a run records


def test_a_run_records_the_precision_it_trained_in_and_continues_in_float32_without_bfloat16(tmp_path, no_override):
    no_override.setattr(precision, "has_gpu", lambda: False)  # a GPU would train in float16
    no_override.setenv("CHARLAB_BFLOAT16", "1")  # a computer with a bfloat16 unit
    config = ModelConfig(**{**TINY.to_dict(), "precision": "auto"})
    first = TrainingJob(TEXT, config, name="bf16", root=tmp_path).run()
    assert first.status == FINISHED, first.message
    figures = runs.read_meta(first.run_path)["metrics"]
    assert figures["precision"] == MIXED_BFLOAT16 and "auto" in figures["precision_words"]
    assert runs.run_info(first.run_path).config.precision == "auto"  # the setting, as chosen
    saved = runs.load_run(first.run_path).weights
    assert {w.dtype for w in saved.values()} == {np.dtype("float32")}
    no_override.setenv("CHARLAB_BFLOAT16", "0")  # the same run continued on a computer without one
    more = TrainingJob(TEXT, config, root=tmp_path, resume_from=first.run_path).run()
    assert more.status == FINISHED, more.message
    assert more.precision == FLOAT32
    assert runs.read_meta(first.run_path)["metrics"]["precision"] == FLOAT32
    assert model_policy(runs.load_keras(first.run_path)) == FLOAT32  # saved as it trained last


def test_an_explicit_bfloat16_without_a_unit_trains_in_float32_and_says_so(tmp_path, no_override):
    no_override.setenv("CHARLAB_BFLOAT16", "0")
    no_override.setattr(precision, "has_gpu", lambda: False)  # a GPU would compute bfloat16
    config = ModelConfig(**{**TINY.to_dict(), "precision": "bfloat16"})
    progress = TrainingJob(TEXT, config, name="asked", root=tmp_path).run()
    assert progress.status == FINISHED and progress.precision == FLOAT32
    assert "bfloat16 was chosen, but this computer has no bfloat16 unit" in progress.precision_words


def test_a_run_saved_before_the_precision_existed_loads_as_float32_and_continues_in_bfloat16(tmp_path, no_override):
    progress = TrainingJob(TEXT, TINY, name="old", root=tmp_path).run()
    meta = runs.read_meta(progress.run_path)
    meta["format_version"] = 1  # what every charlab before run format 7 wrote
    del meta["settings"]["precision"]
    for key in ("precision", "precision_words"):
        meta["metrics"].pop(key)
    runs.write_json_atomic(progress.run_path / "config.json", meta)
    run = runs.load_run(progress.run_path)
    assert run.config.precision == FLOAT32
    assert runs.run_info(progress.run_path).config.precision == FLOAT32
    no_override.setattr(precision, "has_gpu", lambda: False)
    no_override.setenv("CHARLAB_BFLOAT16", "1")  # continued with auto on a computer with a bfloat16 unit
    more = TrainingJob(TEXT, TINY, root=tmp_path, resume_from=progress.run_path).run()
    assert more.status == FINISHED and more.precision == MIXED_BFLOAT16
    assert {w.dtype for w in runs.load_run(progress.run_path).weights.values()} == {np.dtype("float32")}


# ---------------------------------------------------------------- what it costs


def test_the_memory_estimate_says_what_bfloat16_adds_and_auto_follows_the_computer(no_override):
    config = ModelConfig(units=512, batch_size=256, seq_length=64)
    f32 = estimate(config, 65, 1_000_000, policy=FLOAT32)
    bf16 = estimate(config, 65, 1_000_000, policy=MIXED_BFLOAT16)
    kept = CELL_TYPES["gru"].activation_floats_per_char(512) + config.embedding_dim
    # the weights and Adam stay float32; the 16-bit copies of the weights and activations come on top
    assert bf16.memory_bytes - f32.memory_bytes == 2 * f32.parameters + 256 * 64 * kept
    assert bf16.parameters == f32.parameters and bf16.chars_per_second == f32.chars_per_second
    # measured peaks (charlab/network/model.py): 1.07 GB in float32, 1.09 GB in mixed bfloat16; within ±30 %
    assert 0.7 * 1.069e9 <= f32.memory_bytes <= 1.3 * 1.069e9
    assert 0.7 * 1.088e9 <= bf16.memory_bytes <= 1.3 * 1.088e9
    no_override.setattr(precision, "has_gpu", lambda: False)
    no_override.setenv("CHARLAB_BFLOAT16", "1")
    assert estimate(config, 65, 1_000_000) == bf16  # auto: what this computer trains in
    no_override.setenv("CHARLAB_BFLOAT16", "0")
    assert estimate(config, 65, 1_000_000) == f32


def test_the_progress_line_says_when_a_training_computes_in_16_bits():
    from charlab.learning.training import Progress
    from ui.formatting import progress_words

    live = Progress(step=5, epoch=1, epochs=2, chars_per_second=1234.0, elapsed=3.0, eta=10.0)
    assert "1,234 characters/s ·" in progress_words(live)  # float32 goes without saying
    live.precision = MIXED_BFLOAT16
    assert "1,234 characters/s in mixed bfloat16 ·" in progress_words(live)
