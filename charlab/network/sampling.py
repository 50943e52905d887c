"""Generate text one character at a time with a numpy copy of the network.

The recurrent state is carried from step to step, so each new character costs one small
matrix product per layer instead of a `model.predict` over a whole window: tens of thousands
of characters per second on a CPU, and no TensorFlow needed at all.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError
from charlab.network.cells import cell_type, weight_names
from charlab.network.generation import GENERATE_SETTINGS
from charlab.network.model import ModelConfig
from charlab.text.vocab import Vocab

# beyond these the text no longer changes (charlab.network.generation says why)
MIN_TEMPERATURE, MAX_TEMPERATURE = GENERATE_SETTINGS["temperature"].low, GENERATE_SETTINGS["temperature"].high
State = list[tuple[np.ndarray, ...]]  # per layer: its cell's state_names, (h,) or (h, c) for an LSTM


class NumpyCharModel:
    """The forward pass of a charlab Keras model, one character at a time, in numpy.

    float32 like Keras itself: half the memory traffic of float64 per step, and the
    probabilities still match Keras' to ~1e-6 (see tests/test_sampling.py).
    """

    def __init__(self, cell: str, layers: int, weights: dict[str, np.ndarray], dtype=np.float32):
        self.cell_type = cell_type(cell)  # its numpy step, state names and input bias
        self.cell, self.layers, self.dtype = cell, layers, dtype
        try:
            w = {name: np.asarray(weights[name], dtype=dtype) for name in self.expected_names(layers)}
        except KeyError as err:
            raise CharlabError(f"The model's weights are incomplete (missing {err}); the run may be damaged.") from err
        embedding = w["embedding"]
        self.vocab_size = embedding.shape[0]
        self.units = w["rnn_0.recurrent_kernel"].shape[0]
        self.kernels, self.recurrent, self.biases, self.input_biases = [], [], [], []
        for i in range(layers):
            kernel, recurrent, bias = (w[name] for name in weight_names(i))
            if self.cell_type.recurrent_bias:  # (2, gates·m): input bias and recurrent bias
                bias = bias.reshape(2, -1)
            self.kernels.append(kernel)
            self.recurrent.append(recurrent)
            self.biases.append(bias)
            self.input_biases.append(self.cell_type.input_bias(bias))
        # the first layer's input projection of every character, precomputed: (V, gates·m)
        self.input_table = embedding @ self.kernels[0] + self.input_biases[0]
        self.out_kernel, self.out_bias = w["logits.kernel"], w["logits.bias"]

    @staticmethod
    def expected_names(layers: int) -> list[str]:
        names = ["embedding", "logits.kernel", "logits.bias"]
        for i in range(layers):
            names += weight_names(i)
        return names

    @classmethod
    def from_config(cls, config: ModelConfig, weights: dict[str, np.ndarray]) -> NumpyCharModel:
        return cls(config.cell, config.layers, weights)

    def initial_state(self) -> State:
        return [self.cell_type.initial_state(self.units, self.dtype) for _ in range(self.layers)]

    def step(self, char_id: int, state: State) -> tuple[np.ndarray, State]:
        """Feed one character id; return the logits for the next one and the new state."""
        top, new_state = self.hidden_step(char_id, state)
        return top @ self.out_kernel + self.out_bias, new_state

    def hidden_step(self, char_id: int, state: State) -> tuple[np.ndarray, State]:
        """Feed one character id; return the top layer's output (before the logits) and the new state."""
        new_state: State = []
        x, step = None, self.cell_type.step
        for i in range(self.layers):
            projected = self.input_table[char_id] if i == 0 else x @ self.kernels[i] + self.input_biases[i]
            x, new = step(projected, state[i], self.recurrent[i], self.biases[i])
            new_state.append(new)
        return x, new_state

    def feed(self, ids, state: State | None = None) -> tuple[np.ndarray, State]:
        """Run a whole context through the network; return the last logits and the state."""
        state = state if state is not None else self.initial_state()
        top = None
        for char_id in ids:  # only the last character's logits are needed: skip the output layer until then
            top, state = self.hidden_step(int(char_id), state)
        if top is None:  # with no context at all every character is equally likely
            return np.zeros(self.vocab_size, dtype=self.dtype), state
        return top @ self.out_kernel + self.out_bias, state


def probabilities(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """Softmax of logits / temperature, optionally keeping only the top_k most likely characters.

    Temperature divides the log-probabilities: below 1 it sharpens the distribution (safer,
    more repetitive text), above 1 it flattens it (more surprising text, more mistakes).
    """
    temperature = check_temperature(temperature)
    scaled = _keep_top_k(np.asarray(logits, dtype=np.float64) / temperature, check_top_k(top_k))
    scaled -= scaled.max()
    exp = np.exp(scaled)
    return exp / exp.sum()


def check_top_k(top_k: int | None) -> int | None:
    """None (every character) or a whole number of at least 1."""
    if top_k is None:
        return None
    if not _is_whole(top_k) or top_k < 1:
        raise CharlabError(
            f"Top-k must be a whole number, at least 1 (or left empty to consider every character), not {top_k!r}."
        )
    return int(top_k)


def _keep_top_k(scaled: np.ndarray, top_k: int | None) -> np.ndarray:
    """The scaled logits with all but the top_k most likely characters set to -inf."""
    if top_k is None or top_k >= len(scaled):
        return scaled
    return np.where(scaled >= np.partition(scaled, -top_k)[-top_k], scaled, -np.inf)


def _is_whole(value: object) -> bool:
    """An integer of any kind (numpy's too), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_temperature(temperature: float) -> float:
    """The temperature to divide by: refused unless a number above 0; kept within [0.001, 1000].

    Beyond those the text no longer changes (the favourite character every time, or pure chance),
    but dividing by 1e-300 or 1e300 would overflow.
    """
    if (
        isinstance(temperature, (bool, np.bool_))
        or not isinstance(temperature, numbers.Real)
        or not np.isfinite(temperature)
        or temperature <= 0
    ):
        raise CharlabError(
            f"Temperature must be a number above 0 (e.g. 0.8), not {temperature!r}. "
            "Near 0 the model always picks its favourite character; 1 samples as it learned; above 1 it takes risks."
        )
    return min(max(float(temperature), MIN_TEMPERATURE), MAX_TEMPERATURE)


@dataclass(frozen=True)
class Generator:
    """A model ready to write: its numpy network and its vocabulary."""

    network: NumpyCharModel
    vocab: Vocab

    def next_char_probabilities(
        self, context: str, temperature: float = 1.0, top_k: int | None = None
    ) -> dict[str, float]:
        """The distribution of the next character after `context` (unseen characters dropped)."""
        logits, _ = self.network.feed(self._context_ids(context))
        probs = probabilities(logits, temperature, top_k)
        return {ch: float(p) for ch, p in zip(self.vocab.chars, probs, strict=True)}

    def generate(
        self,
        seed_text: str = "",
        length: int = 500,
        temperature: float = 0.8,
        top_k: int | None = None,
        random_seed: int | None = None,
    ) -> Iterator[str]:
        """Yield `length` new characters one by one, so a page can show them as they come.

        The seed text's unseen characters are dropped (see Vocab.encode_seed); an empty seed starts
        as if after a line break. The same `random_seed` reproduces the same text exactly.
        """
        temperature = check_temperature(temperature)
        length = GENERATE_SETTINGS["length"].checked(length)  # bad values refused before the first character
        if random_seed is not None:  # None: a new text each time
            random_seed = GENERATE_SETTINGS["random_seed"].checked(random_seed)
        top_k = check_top_k(top_k)
        network, chars, last = self.network, self.vocab.chars, len(self.vocab) - 1
        uniforms = np.random.default_rng(random_seed).random(length)
        # the temperature folded into the output layer: logits / T = h · (W / T) + b / T
        kernel = (network.out_kernel / temperature).astype(network.dtype)
        bias = (network.out_bias / temperature).astype(network.dtype)
        logits, state = network.feed(self._context_ids(seed_text))
        scaled = logits / temperature
        for u in uniforms:
            scaled = _keep_top_k(scaled, top_k)
            # inverse-CDF sampling on unnormalised weights: a handful of numpy calls per character
            cdf = np.exp(scaled - scaled.max()).cumsum()
            char_id = min(int(cdf.searchsorted(u * cdf[-1], side="right")), last)
            yield chars[char_id]
            top, state = network.hidden_step(char_id, state)
            scaled = top @ kernel + bias

    def _context_ids(self, context: str) -> np.ndarray:
        """The context as ids; an empty one becomes a line break, the most natural place to start."""
        ids = self.vocab.encode_seed(context).ids
        if len(ids) == 0 and "\n" in self.vocab:
            ids = np.array([self.vocab.id_of("\n")], dtype=np.int32)
        return ids

    def write(self, seed_text: str = "", length: int = 500, **kwargs) -> str:
        """The whole generated text at once (without the seed)."""
        return "".join(self.generate(seed_text, length, **kwargs))


def reshape(distribution: dict[str, float], temperature: float, top_k: int | None) -> dict[str, float]:
    """The same distribution at another temperature (softmax(log p / T) = softmax(logits / T))."""
    chars = list(distribution)
    logp = np.log(np.maximum(np.array([distribution[c] for c in chars]), 1e-300))
    probs = probabilities(logp, temperature, top_k)
    return dict(zip(chars, probs.tolist(), strict=True))
