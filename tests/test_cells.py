"""Each cell type's home says what its Keras layer is (parameters, weight shapes, states), and is its only home."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES, cell_type, js_cells_source, weight_names
from charlab.network.model import MODEL_SETTINGS, import_keras

ROOT = Path(__file__).resolve().parent.parent


def _keras_layer(cell, units: int, input_dim: int):
    """The cell's Keras layer, built on a (batch, time, input_dim) input."""
    keras = import_keras()
    layer = cell.keras_layer(units, name="rnn_0")
    layer(keras.ops.zeros((1, 2, input_dim)))
    return layer


@pytest.mark.parametrize("input_dim", [5, 7])  # a first layer (the embedding's size) and an upper one
@pytest.mark.parametrize("key", list(CELL_TYPES))
def test_parameters_and_weight_shapes_are_those_of_the_keras_layer(key, input_dim):
    cell, units = CELL_TYPES[key], 7
    layer = _keras_layer(cell, units, input_dim)
    assert cell.parameters(input_dim, units) == layer.count_params()
    shapes = cell.weight_shapes(3, input_dim, units)
    assert list(shapes) == list(weight_names(3)) == ["rnn_3.kernel", "rnn_3.recurrent_kernel", "rnn_3.bias"]
    assert list(shapes.values()) == [tuple(w.shape) for w in layer.get_weights()]
    assert str(cell.parameters(input_dim, units)) not in cell.formula(input_dim, units)  # the formula, not its result
    assert f"{units}² + {units}·{input_dim}" in cell.formula(input_dim, units)


@pytest.mark.parametrize("key", list(CELL_TYPES))
def test_states_are_those_the_keras_cell_carries(key):
    cell = CELL_TYPES[key]
    layer = _keras_layer(cell, 4, 3)
    state_size = layer.cell.state_size
    assert len(state_size if isinstance(state_size, (list, tuple)) else [state_size]) == len(cell.state_names)
    assert cell.state_names[0] == "hidden"  # the output every cell passes on
    assert [s.shape for s in cell.initial_state(4)] == [(4,)] * len(cell.state_names)


@pytest.mark.parametrize("key", list(CELL_TYPES))
def test_numpy_step_matches_the_keras_layer_from_a_non_zero_state(key):
    """One step from a random state (the sampler's tests start from zeros): the step's whole contract."""
    cell, units, input_dim = CELL_TYPES[key], 6, 4
    layer = _keras_layer(cell, units, input_dim)
    rng = np.random.default_rng(5)
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    kernel, recurrent, bias = layer.get_weights()
    x = rng.normal(size=input_dim).astype(np.float32)
    state = tuple(rng.normal(size=units).astype(np.float32) for _ in cell.state_names)
    keras_out, *keras_state = layer.cell(x[None, :], [s[None, :] for s in state])
    keras_state = keras_state[0] if isinstance(keras_state[0], (list, tuple)) else keras_state
    output, new_state = cell.step(x @ kernel + cell.input_bias(bias), state, recurrent, bias)
    np.testing.assert_allclose(output, np.asarray(keras_out)[0], atol=1e-6)
    for got, expected in zip(new_state, keras_state, strict=True):
        np.testing.assert_allclose(got, np.asarray(expected)[0], atol=1e-6)


def test_input_bias_is_the_first_gates_times_units_numbers_of_the_bias():
    """What the JavaScript contract promises the page: the flattened bias starts with the input bias."""
    for cell in CELL_TYPES.values():
        shape = cell.weight_shapes(0, 3, 5)["rnn_0.bias"]
        bias = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        np.testing.assert_array_equal(cell.input_bias(bias), bias.ravel()[: cell.gates * 5])


def test_the_registry_drives_the_settings_and_the_page_script():
    assert MODEL_SETTINGS["cell"].choices == {key: cell.label for key, cell in CELL_TYPES.items()}
    source = js_cells_source()
    for key, cell in CELL_TYPES.items():
        entry = f"{json.dumps(key)}: {{states: {json.dumps(list(cell.state_names))}, gates: {cell.gates}, step: "
        assert entry + cell.js_step + "}" in source
    with pytest.raises(CharlabError, match=f"Unknown cell type 'tcn'. Choose one of: {', '.join(CELL_TYPES)}"):
        cell_type("tcn")


def test_no_other_module_compares_cell_names():
    """A cell type is asked, not compared: `cell == "lstm"` anywhere but charlab/network/cells.py is a second home."""
    comparison = re.compile(r"""\.cell\s*(==|!=|in)\s|["'](lstm|gru|simple_rnn)["']\s*(==|!=)|CELLS\[|GATES\[""")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("charlab", "ui", "pages")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "cells.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if comparison.search(line)
    ]
    assert offenders == []


def test_importing_the_cells_imports_no_tensorflow():
    code = "import sys, charlab.network.cells; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
