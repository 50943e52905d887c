"""Every cell's JavaScript step computes in chromium what its numpy step computes (Keras = numpy = JavaScript).

The driver below does what the exported page does around the cells: the first layer's table lookup
(embedding·kernel + input bias), the upper layers' projections, the steps and the logits. Both sides
are float32; the logits agree to 1e-5 after 30 characters (measured: at most 6e-7).
"""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page

from charlab.network.cells import CELL_TYPES, JS_PRELUDE, js_cells_source
from charlab.network.model import ModelConfig
from charlab.network.sampling import NumpyCharModel
from charlab.saving.weights import expected_shapes

pytestmark = pytest.mark.browser

VOCAB_SIZE, UNITS, EMBEDDING_DIM, STEPS = 12, 8, 5, 30
TOLERANCE = 1e-5  # float32 on both sides, summed in different orders

DRIVER = """
const cell = CHARLAB_CELLS[args.cell];
const m = args.units, width = cell.gates * m, V = args.vocabSize, e = args.embeddingDim;
const layers = args.layers.map((l) => ({
  units: m, kernel: Float32Array.from(l.kernel), recurrent: Float32Array.from(l.recurrent),
  bias: Float32Array.from(l.bias), scratch: new Float32Array(width),
}));
// x·kernel + input bias; the input bias is the first gates·m numbers of the flattened bias
const project = (x, layer) => {
  const out = vecMat(x, layer.kernel, width, new Float32Array(width));
  for (let j = 0; j < width; j++) out[j] += layer.bias[j];
  return out;
};
const embedding = Float32Array.from(args.embedding);
const table = [];
for (let v = 0; v < V; v++) table.push(project(embedding.subarray(v * e, (v + 1) * e), layers[0]));
const outKernel = Float32Array.from(args.outKernel), outBias = Float32Array.from(args.outBias);
let states = layers.map(() => cell.states.map(() => new Float32Array(m)));
const allLogits = [];
let untouched = true;
for (const id of args.ids) {
  let x = null;
  states = states.map((state, i) => {
    const projected = i === 0 ? table[id] : project(x, layers[i]);
    const before = JSON.stringify([Array.from(projected), state.map((s) => Array.from(s))]);
    const next = cell.step(projected, state, layers[i]);
    const after = JSON.stringify([Array.from(projected), state.map((s) => Array.from(s))]);
    untouched = untouched && before === after && next.every((s, k) => s !== state[k] && s instanceof Float32Array);
    x = next[0];
    return next;
  });
  const logits = vecMat(x, outKernel, V, new Float32Array(V));
  for (let j = 0; j < V; j++) logits[j] += outBias[j];
  allLogits.push(Array.from(logits));
}
return {logits: allLogits, untouched, states: cell.states, gates: cell.gates};
"""


def _random_weights(config: ModelConfig) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    shapes = expected_shapes(config, VOCAB_SIZE)
    return {name: rng.normal(0, 0.5, shape).astype(np.float32) for name, shape in shapes.items()}


def _flat(array: np.ndarray) -> list[float]:
    return array.astype(np.float32).ravel().tolist()


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", list(CELL_TYPES))
def test_javascript_steps_match_numpy(page: Page, cell, layers):
    config = ModelConfig(cell=cell, units=UNITS, layers=layers, embedding_dim=EMBEDDING_DIM)
    weights = _random_weights(config)
    ids = np.random.default_rng(3).integers(0, VOCAB_SIZE, STEPS).tolist()

    network = NumpyCharModel.from_config(config, weights)
    state, expected = network.initial_state(), []
    for char_id in ids:
        logits, state = network.step(char_id, state)
        expected.append(logits)

    args = {
        "cell": cell,
        "units": UNITS,
        "vocabSize": VOCAB_SIZE,
        "embeddingDim": EMBEDDING_DIM,
        "embedding": _flat(weights["embedding"]),
        "outKernel": _flat(weights["logits.kernel"]),
        "outBias": _flat(weights["logits.bias"]),
        "layers": [
            {
                "kernel": _flat(weights[f"rnn_{i}.kernel"]),
                "recurrent": _flat(weights[f"rnn_{i}.recurrent_kernel"]),
                "bias": _flat(weights[f"rnn_{i}.bias"]),
            }
            for i in range(layers)
        ],
        "ids": ids,
    }
    page.goto("about:blank")
    got = page.evaluate("(args) => {\n" + JS_PRELUDE + js_cells_source() + DRIVER + "\n}", args)

    assert got["states"] == list(CELL_TYPES[cell].state_names) and got["gates"] == CELL_TYPES[cell].gates
    assert got["untouched"], "a step changed its input or handed back its input arrays"
    got_logits, expected = np.array(got["logits"]), np.array(expected)
    assert got_logits.shape == (STEPS, VOCAB_SIZE)
    assert np.abs(expected).max() > 0.5  # the logits are not all near zero: the comparison means something
    np.testing.assert_allclose(got_logits, expected, atol=TOLERANCE, rtol=0)


def test_vec_mat_skips_zeros_and_fills_out(page: Page):
    """vecMat writes x·W into `out` (its old contents ignored) and returns it."""
    page.goto("about:blank")
    got = page.evaluate(
        "() => {\n" + JS_PRELUDE + "\n"
        "const out = Float32Array.from([9, 9, 9]);\n"
        "const back = vecMat(Float32Array.from([2, 0, -1]), Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, out);\n"
        "return {same: back === out, out: Array.from(out), s: [sigmoid(0), sigmoid(-1000), sigmoid(1000)]};\n}"
    )
    assert got["same"]
    assert got["out"] == (np.array([2, 0, -1]) @ np.arange(1, 10).reshape(3, 3)).tolist() == [-5, -4, -3]
    assert got["s"] == [0.5, 0, 1]
