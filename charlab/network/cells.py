"""One home per recurrent cell type: everything charlab knows about an LSTM, a GRU or a SimpleRNN.

Each cell holds its words ("GRU"), its Keras layer (TensorFlow imported only when one is built),
its weight names and shapes, its parameter count and the formula behind it, what a character
costs it in training, the names of its state, and its step written twice: in numpy (the sampler,
Look inside) and in JavaScript (the exported web page). model, weights, sampling, neurons and the
pages ask the cell; none of them compares cell names.

Adding a fourth cell type touches:
- this file: a `Cell` subclass with its numpy `step` and `js_step`, and one entry in `CELL_TYPES`;
- its settings, in words only: the "Cell type" help sentence in charlab/network/model.py (MODEL_SETTINGS
  names the cells) and the `cell` row of README.md's settings table;
- its tests: none to write for parity, since tests/test_cells.py, test_cells_js.py,
  test_sampling.py, test_model.py, test_weights.py and test_neurons.py loop over `CELL_TYPES`.
The Train page's "Cell type" choice, the CLI's --cell, validation, the parameter table, the
estimate, the weight checks, the sampler, Look inside and the page's `CHARLAB_CELLS` all read
this registry. More is needed only for a cell whose Keras class needs arguments beyond its units
(see `keras_layer`), whose weights are not (kernel, recurrent_kernel, bias), or that carries a
state other than "hidden" and "cell" (its words go in ui/inside.py's STATE_WORDS and STATE_HELP).

The JavaScript contract (the exported page codes against it):
- `JS_PRELUDE` defines `sigmoid(z)` and `vecMat(x, w, cols, out)` (out = x·W, W row-major (x.length, cols)).
- each cell's `js_step` is one function expression `step(projected, state, layer) -> newState`:
  `projected` = x·kernel + input bias (gates·m), `state` the cell's states in `state_names` order,
  `layer` = {units, recurrent (m, gates·m), bias (the Keras bias flattened), scratch (gates·m)}.
  It returns new Float32Arrays, never touching its arguments; the layer's output is `newState[0]`.
  The input bias is always the first gates·m numbers of the flattened bias.
- `js_cells_source()` defines `CHARLAB_CELLS = {key: {states, gates, step}}` from the registry.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError

NumpyState = tuple[np.ndarray, ...]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + e^-x), without overflow warnings


def weight_names(layer: int) -> tuple[str, str, str]:
    """The names of one recurrent layer's arrays, in Keras' order; saved runs depend on them (weights.npz)."""
    return f"rnn_{layer}.kernel", f"rnn_{layer}.recurrent_kernel", f"rnn_{layer}.bias"


@dataclass(frozen=True)
class Cell:
    """A recurrent cell type: a layer of `units` (m) cells reading inputs of size d.

    Every cell's weights are Keras' three arrays per layer: kernel (d, gates·m), recurrent_kernel
    (m, gates·m) and bias, the gates side by side in Keras' order.
    """

    key: str  # the config's word: "gru"
    label: str  # the app's word: "GRU"
    keras_class: str  # the keras.layers class that builds it
    gates: int  # weight blocks: the 4 in 4·(m² + m·d + m)
    state_names: tuple[str, ...]  # what it carries from character to character; the output is the first
    js_step: str  # the JavaScript step (see the module docstring)
    recurrent_bias: bool = False  # a second bias on the recurrent side (Keras' GRU with reset_after=True)

    # ---- weights and what they cost

    def weight_shapes(self, layer: int, input_dim: int, units: int) -> dict[str, tuple[int, ...]]:
        width = self.gates * units
        bias = (2, width) if self.recurrent_bias else (width,)
        kernel, recurrent, bias_name = weight_names(layer)
        return {kernel: (input_dim, width), recurrent: (units, width), bias_name: bias}

    def parameters(self, input_dim: int, units: int) -> int:
        """One layer's parameter count (equal to Keras' count_params, see tests/test_cells.py)."""
        biases = 2 if self.recurrent_bias else 1
        return self.gates * (units * units + units * input_dim + biases * units)

    def formula(self, input_dim: int, units: int) -> str:
        """The parameter count as the Train page writes it: '3·(m² + m·d + 2m) = 3·(256² + 256·32 + 2·256)'."""
        g = f"{self.gates}·" if self.gates > 1 else ""
        m, d = units, input_dim
        if self.recurrent_bias:
            return f"{g}(m² + m·d + 2m) = {g}({m}² + {m}·{d} + 2·{m})"
        return f"{g}(m² + m·d + m) = {g}({m}² + {m}·{d} + {m})"

    def training_flops_per_char(self, input_dim: int, units: int) -> int:
        """One layer's floating-point work per trained character: forward + backward ≈ 3 × forward, forward ≈
        2 flops per weight, plus the gate arithmetic (the time estimate in charlab.network.model)."""
        return 6 * self.parameters(input_dim, units) + 60 * units

    def activation_floats_per_char(self, units: int) -> int:
        """Numbers one layer keeps per character of a batch for the backward pass (the memory estimate)."""
        return units * (self.gates + 3)

    # ---- Keras

    def keras_layer(self, units: int, name: str, dtype=None):
        """The Keras layer (return_sequences: every position predicts its next character); `dtype`: its
        Keras dtype policy (None: float32)."""
        from charlab.network.keras_setup import import_keras  # TensorFlow only when a layer is built

        layer_class = getattr(import_keras().layers, self.keras_class)
        return layer_class(units, return_sequences=True, name=name, dtype=dtype)

    # ---- the numpy step

    def input_bias(self, bias: np.ndarray) -> np.ndarray:
        """The part of a layer's bias added to its input projection (x·kernel + input_bias)."""
        return bias[0] if self.recurrent_bias else bias

    def initial_state(self, units: int, dtype=np.float32) -> NumpyState:
        zeros = np.zeros(units, dtype=dtype)
        return tuple(zeros for _ in self.state_names)

    def step(
        self, projected: np.ndarray, state: NumpyState, recurrent: np.ndarray, bias: np.ndarray
    ) -> tuple[np.ndarray, NumpyState]:
        """One character: (the layer's output, its new state), from the projected input and the old state.

        `projected` is x·kernel + input_bias; `bias` is the layer's whole bias (a GRU's as (2, 3m)).
        """
        raise NotImplementedError


@functools.cache
def _lstm_scale_shift(width: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """0.5 and +1 on the gates, 1 and +0 on the candidate: sigmoid(z) = (tanh(z/2) + 1) / 2."""
    m = width // 4
    scale = np.full(width, 0.5, dtype=dtype)
    scale[2 * m : 3 * m] = 1.0
    shift = np.ones(width, dtype=dtype)
    shift[2 * m : 3 * m] = 0.0
    return scale, shift


class LSTMCell(Cell):
    """Keras gate order: input, forget, cell candidate, output."""

    def step(self, projected, state, recurrent, bias):
        h, c = state
        m = len(h)
        scale, shift = _lstm_scale_shift(len(projected), projected.dtype)
        # one tanh for all four: sigmoid(z) = (tanh(z/2) + 1) / 2 for the gates, tanh(z) for the candidate
        t = np.tanh((projected + h @ recurrent) * scale)
        t += shift  # gates now 2·sigmoid, the candidate unchanged
        c = 0.5 * (t[m : 2 * m] * c + t[:m] * t[2 * m : 3 * m])
        h = 0.5 * t[3 * m :] * np.tanh(c)
        return h, (h, c)


class GRUCell(Cell):
    """Keras gate order: update, reset, candidate; the reset gate applied after U·h (reset_after=True)."""

    def step(self, projected, state, recurrent, bias):
        (h,) = state
        m = len(h)
        rec = h @ recurrent + bias[1]
        update = _sigmoid(projected[:m] + rec[:m])
        reset = _sigmoid(projected[m : 2 * m] + rec[m : 2 * m])
        candidate = np.tanh(projected[2 * m :] + reset * rec[2 * m :])
        h = update * h + (1.0 - update) * candidate
        return h, (h,)


class SimpleRNNCell(Cell):
    """h = tanh(x·W + h·U + b)."""

    def step(self, projected, state, recurrent, bias):
        (h,) = state
        h = np.tanh(projected + h @ recurrent)
        return h, (h,)


# ---------------------------------------------------------------- JavaScript

JS_PRELUDE = """\
function sigmoid(z) {
  return 0.5 * (Math.tanh(0.5 * z) + 1);  // = 1 / (1 + e^-z), never overflows
}
function vecMat(x, w, cols, out) {
  // out = x·W with W row-major (x.length, cols); w read in order, four rows at a time so that out is read
  // and written a quarter as often: twice the characters per second in chromium (bench/webpage.py)
  out.fill(0);
  const n = x.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    const r0 = i * cols, r1 = r0 + cols, r2 = r1 + cols, r3 = r2 + cols;
    for (let j = 0; j < cols; j++) out[j] += x0 * w[r0 + j] + x1 * w[r1 + j] + x2 * w[r2 + j] + x3 * w[r3 + j];
  }
  for (; i < n; i++) {
    const xi = x[i], row = i * cols;
    for (let j = 0; j < cols; j++) out[j] += xi * w[row + j];
  }
  return out;
}
"""

_LSTM_JS = """\
function lstmStep(projected, state, layer) {
  // Keras gate order: input, forget, cell candidate, output
  const m = layer.units, z = vecMat(state[0], layer.recurrent, 4 * m, layer.scratch), c0 = state[1];
  const h = new Float32Array(m), c = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const input = sigmoid(projected[j] + z[j]);
    const forget = sigmoid(projected[m + j] + z[m + j]);
    const candidate = Math.tanh(projected[2 * m + j] + z[2 * m + j]);
    const output = sigmoid(projected[3 * m + j] + z[3 * m + j]);
    c[j] = forget * c0[j] + input * candidate;
    h[j] = output * Math.tanh(c[j]);
  }
  return [h, c];
}"""

_GRU_JS = """\
function gruStep(projected, state, layer) {
  // Keras gate order: update, reset, candidate; reset applied to U·h + recurrent bias (reset_after=True)
  const m = layer.units, h0 = state[0], b = layer.bias, rb = 3 * m;  // b: input bias, then recurrent bias
  const r = vecMat(h0, layer.recurrent, 3 * m, layer.scratch);
  const h = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const update = sigmoid(projected[j] + r[j] + b[rb + j]);
    const reset = sigmoid(projected[m + j] + r[m + j] + b[rb + m + j]);
    const candidate = Math.tanh(projected[2 * m + j] + reset * (r[2 * m + j] + b[rb + 2 * m + j]));
    h[j] = update * h0[j] + (1 - update) * candidate;
  }
  return [h];
}"""

_SIMPLE_RNN_JS = """\
function simpleRnnStep(projected, state, layer) {
  const m = layer.units, r = vecMat(state[0], layer.recurrent, m, layer.scratch);
  const h = new Float32Array(m);
  for (let j = 0; j < m; j++) h[j] = Math.tanh(projected[j] + r[j]);
  return [h];
}"""


# ---------------------------------------------------------------- the registry

CELL_TYPES: dict[str, Cell] = {
    cell.key: cell
    for cell in (
        LSTMCell("lstm", "LSTM", "LSTM", 4, ("hidden", "cell"), _LSTM_JS),
        GRUCell("gru", "GRU", "GRU", 3, ("hidden",), _GRU_JS, recurrent_bias=True),
        SimpleRNNCell("simple_rnn", "SimpleRNN", "SimpleRNN", 1, ("hidden",), _SIMPLE_RNN_JS),
    )
}


def cell_type(key: str) -> Cell:
    """The cell a config's `cell` names; a clear error for a name charlab does not know."""
    try:
        return CELL_TYPES[key]
    except (KeyError, TypeError):
        raise CharlabError(f"Unknown cell type '{key}'. Choose one of: {', '.join(CELL_TYPES)}.") from None


def js_cells_source() -> str:
    """`const CHARLAB_CELLS = {...}`: every cell's states, gates and JavaScript step, for the exported page."""
    entries = [
        f"  {json.dumps(cell.key)}: {{states: {json.dumps(list(cell.state_names))}, gates: {cell.gates}, "
        f"step: {cell.js_step}}}"
        for cell in CELL_TYPES.values()
    ]
    return "const CHARLAB_CELLS = {\n" + ",\n".join(entries) + "\n};\n"
