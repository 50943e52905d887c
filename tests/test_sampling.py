"""The numpy sampler must compute exactly what the Keras model computes, and sample as documented."""

from __future__ import annotations

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig, build_model, keras_weights
from charlab.network.sampling import Generator, NumpyCharModel, probabilities, reshape
from charlab.text.vocab import Vocab

TEXT = "the quick brown fox jumps over the lazy dog.\nTHE QUICK BROWN FOX!\n"


def _random_model(cell: str, layers: int, units: int = 24, embedding_dim: int = 8, dropout: float = 0.0):
    """A Keras model with random (not zero) biases, so every weight matters to the comparison."""
    vocab = Vocab.from_text(TEXT)
    config = ModelConfig(cell=cell, units=units, layers=layers, embedding_dim=embedding_dim, dropout=dropout)
    model = build_model(config, len(vocab))
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in model.get_weights()])
    return model, config, vocab


@pytest.mark.parametrize(("layers", "dropout"), [(1, 0.0), (2, 0.2)])  # dropout must change nothing when writing
@pytest.mark.parametrize("cell", list(CELL_TYPES))
def test_numpy_step_matches_keras_probabilities(cell, layers, dropout):
    """Keras = numpy for every cell type (and numpy = JavaScript: tests/test_cells_js.py)."""
    model, config, vocab = _random_model(cell, layers, dropout=dropout)
    ids = vocab.encode(TEXT)
    keras_logits = model(ids[None, :], training=False).numpy()[0]  # (T, V)
    keras_probs = np.exp(keras_logits - keras_logits.max(-1, keepdims=True))
    keras_probs /= keras_probs.sum(-1, keepdims=True)

    network = NumpyCharModel.from_config(config, keras_weights(model, config))
    state = network.initial_state()
    for t, char_id in enumerate(ids):
        logits, state = network.step(int(char_id), state)
        np.testing.assert_allclose(probabilities(logits), keras_probs[t], atol=1e-5, rtol=0)


def test_next_char_probabilities_match_keras_for_a_context():
    model, config, vocab = _random_model("lstm", 2)
    generator = Generator(NumpyCharModel.from_config(config, keras_weights(model, config)), vocab)
    context = "the lazy fox"
    logits = model(vocab.encode(context)[None, :], training=False).numpy()[0, -1]
    expected = probabilities(logits, temperature=0.5)
    got = generator.next_char_probabilities(context, temperature=0.5)
    assert list(got) == list(vocab.chars)
    np.testing.assert_allclose(list(got.values()), expected, atol=1e-5)
    assert sum(got.values()) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def generator() -> Generator:
    model, config, vocab = _random_model("gru", 1)
    return Generator(NumpyCharModel.from_config(config, keras_weights(model, config)), vocab)


def test_same_random_seed_reproduces_text_exactly(generator):
    first = generator.write("the ", 300, temperature=1.0, random_seed=42)
    second = generator.write("the ", 300, temperature=1.0, random_seed=42)
    other = generator.write("the ", 300, temperature=1.0, random_seed=43)
    assert first == second
    assert first != other
    assert len(first) == 300
    assert set(first) <= set(generator.vocab.chars)


def test_generation_is_a_stream(generator):
    stream = generator.generate("the ", 50, random_seed=1)
    assert next(stream) in generator.vocab.chars
    assert len("".join(stream)) == 49


def test_low_temperature_approaches_argmax(generator):
    """At T→0 sampling becomes greedy: every run gives the argmax path, whatever the random seed."""
    greedy, state = [], None
    logits, state = generator.network.feed(generator.vocab.encode("the "))
    for _ in range(40):
        char_id = int(np.argmax(logits))
        greedy.append(generator.vocab.chars[char_id])
        logits, state = generator.network.step(char_id, state)
    for seed in range(3):
        assert generator.write("the ", 40, temperature=1e-4, random_seed=seed) == "".join(greedy)


def test_temperature_reshapes_distribution():
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    cold, normal, hot = probabilities(logits, 0.5), probabilities(logits, 1.0), probabilities(logits, 2.0)
    assert cold[0] > normal[0] > hot[0]
    assert cold[-1] < normal[-1] < hot[-1]
    np.testing.assert_allclose(normal, np.exp(logits) / np.exp(logits).sum())
    np.testing.assert_allclose(cold, np.exp(2 * logits) / np.exp(2 * logits).sum())


def test_top_k_keeps_only_the_k_most_likely(generator):
    probs = probabilities(np.array([3.0, 1.0, 2.0, 0.0, -1.0]), top_k=2)
    assert np.count_nonzero(probs) == 2
    assert probs[0] > probs[2] > 0
    assert probs.sum() == pytest.approx(1.0)
    text = generator.write("the ", 200, temperature=1.5, top_k=1, random_seed=5)
    assert text == generator.write("the ", 200, temperature=1.5, top_k=1, random_seed=6)  # top-1 is greedy


@pytest.mark.parametrize("bad", [0, -0.5, float("nan"), float("inf"), "hot"])
def test_bad_temperature_is_a_clear_error(generator, bad):
    with pytest.raises(CharlabError, match="Temperature must be a number above 0"):
        generator.write("the", 10, temperature=bad)


def test_bad_top_k_and_length_are_clear_errors(generator):
    with pytest.raises(CharlabError, match="Top-k"):
        generator.write("the", 10, top_k=0)
    with pytest.raises(CharlabError, match="Length"):
        generator.write("the", -1)


def test_unseen_seed_characters_are_dropped_predictably(generator):
    with_unseen = generator.write("thé 🦊 quick", 100, random_seed=3)
    without = generator.write("th  quick", 100, random_seed=3)
    assert with_unseen == without
    seed = generator.vocab.encode_seed("thé 🦊 quick")
    assert seed.dropped == ("é", "🦊")


def test_empty_seed_starts_after_a_line_break(generator):
    assert generator.write("", 60, random_seed=9) == generator.write("\n", 60, random_seed=9)


def test_incomplete_weights_are_refused():
    model, config, _ = _random_model("lstm", 1)
    weights = keras_weights(model, config)
    del weights["rnn_0.bias"]
    with pytest.raises(CharlabError, match="incomplete"):
        NumpyCharModel.from_config(config, weights)


def test_reshape_is_the_same_distribution_at_another_temperature():
    at_one = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert reshape(at_one, 1.0, None) == pytest.approx(at_one)
    colder, hotter = reshape(at_one, 0.5, None), reshape(at_one, 2.0, None)
    assert colder == pytest.approx({"a": 25 / 38, "b": 9 / 38, "c": 4 / 38})  # p^2, normalised
    assert hotter["c"] > at_one["c"] > colder["c"] and sum(hotter.values()) == pytest.approx(1.0)
    assert reshape(at_one, 1.0, 1) == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.0})  # top-k keeps the likeliest
