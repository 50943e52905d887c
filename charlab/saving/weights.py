"""A model's weights as plain, checked arrays: the only form in which a model crosses a trust boundary.

A run uploaded by anyone is rebuilt from charlab's own settings and these numbers; no model file
from outside is ever deserialised by Keras. So every array is checked before use: exactly the
names the settings call for, each float32, each of the shape the settings and the vocabulary
imply, every value finite. `weights.npz` is read with `allow_pickle=False`: an object array is
refused, never unpickled.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from charlab.errors import CharlabError
from charlab.network.cells import cell_type
from charlab.network.model import ModelConfig

DTYPE = np.dtype(np.float32)
_NPY_HEADER_ALLOWANCE = 4096  # an .npy header is 128 bytes or a few multiples of 64; generous


def expected_shapes(config: ModelConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
    """Every array a charlab model of these settings has, by the names the numpy sampler uses."""
    v, e, m, cell = vocab_size, config.embedding_dim, config.units, cell_type(config.cell)
    shapes: dict[str, tuple[int, ...]] = {"embedding": (v, e)}
    for i in range(config.layers):
        shapes.update(cell.weight_shapes(i, e if i == 0 else m, m))
    shapes["logits.kernel"] = (m, v)
    shapes["logits.bias"] = (v,)
    return shapes


def check_weights(weights: dict[str, np.ndarray], config: ModelConfig, vocab_size: int, what: str) -> None:
    """Raise a CharlabError unless `weights` are exactly what the settings call for.

    `what` names the weights in the message ("The run 'fables'", "The archive").
    """
    expected = expected_shapes(config, vocab_size)
    missing = [name for name in expected if name not in weights]
    if missing:
        raise CharlabError(f"{what} is damaged: its weights lack '{missing[0]}'.")
    extra = sorted(name for name in weights if name not in expected)
    if extra:
        raise CharlabError(f"{what} is damaged: its weights hold '{extra[0]}', which its settings do not have.")
    for name, shape in expected.items():
        array = weights[name]
        if not isinstance(array, np.ndarray) or array.dtype != DTYPE:
            kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
            raise CharlabError(f"{what} is damaged: '{name}' holds {kind} values, expected float32.")
        if array.shape != shape:
            raise CharlabError(f"{what} is damaged: '{name}' has shape {array.shape}, expected {shape}.")
        if not np.isfinite(array).all():
            raise CharlabError(
                f"{what} cannot be used: '{name}' holds values that are not numbers (NaN or infinity), "
                "as a training that diverged leaves them."
            )


def read_npz(source: bytes | Path, config: ModelConfig, vocab_size: int, what: str) -> dict[str, np.ndarray]:
    """Read and check a weights.npz (a path or its bytes); nothing in it is ever unpickled.

    Each member's unpacked size is checked against what its array may take before anything is
    read, so a small file cannot unpack into gigabytes.
    """
    expected = expected_shapes(config, vocab_size)
    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else Path(source)
    damaged = f"{what} is damaged: its weights (weights.npz) cannot be read."
    try:
        with zipfile.ZipFile(handle) as archive:
            for info in archive.infolist():
                name = info.filename.removesuffix(".npy")
                limit = DTYPE.itemsize * int(np.prod(expected.get(name, (0,)))) + _NPY_HEADER_ALLOWANCE
                if info.file_size > limit:
                    raise CharlabError(f"{what} is damaged: '{name}' in its weights is larger than its settings allow.")
        if not isinstance(handle, Path):
            handle.seek(0)
        with np.load(handle, allow_pickle=False) as data:
            weights = {name: data[name] for name in data.files}
    except CharlabError:
        raise
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise CharlabError(f"{what} was refused: its weights hold Python objects, not numbers.") from err
        raise CharlabError(damaged) from err
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise CharlabError(damaged) from err
    if not all(isinstance(array, np.ndarray) for array in weights.values()):
        raise CharlabError(damaged)  # numpy hands back a member without the .npy header as raw bytes
    check_weights(weights, config, vocab_size, what)
    return weights


def to_npz_bytes(weights: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    return buffer.getvalue()
