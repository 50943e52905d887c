"""Model settings, the Keras model they build, and what it costs (parameters, memory, time).

Everything but `build_model`, `load_keras_model` and `keras_weights` works without TensorFlow,
so the Train page can explain a model before TensorFlow is even imported.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from charlab.errors import CharlabError
from charlab.network import precision
from charlab.network.cells import CELL_TYPES, cell_type, weight_names
from charlab.network.keras_setup import import_keras
from charlab.network.schedule import SCHEDULES

MAX_EPOCHS = 10_000


@dataclass(frozen=True)
class ModelConfig:
    """Every setting of a model and of its training; saved as JSON beside the model.

    Frozen: a job, a run and the Train page's widgets can share one value, since none can change it
    (`dataclasses.replace` makes a changed copy)."""

    # the defaults learn the most per wall-clock minute on a 2-core laptop (bench/sweep.py, bench/README.md)
    cell: str = "gru"  # a key of charlab.network.cells.CELL_TYPES: lstm, gru or simple_rnn
    units: int = 256  # memory cells per recurrent layer (m)
    layers: int = 1  # stacked recurrent layers, 1-4
    embedding_dim: int = 32  # size of each character's learned vector (d of the first layer)
    dropout: float = 0.0  # share of activations zeroed after each recurrent layer while training
    seq_length: int = 64  # characters per training window (how far back gradients reach)
    batch_size: int = 64  # windows per training step
    learning_rate: float = 5e-3  # Adam's step size (the peak, with a schedule)
    schedule: str = "cosine"  # the step size over the training: constant, or warm-up then cosine decay
    clipnorm: float = 1.0  # gradients longer than this are scaled down; 0 turns clipping off
    epochs: int = 10  # passes over the training text
    validation_fraction: float = 0.1  # share of the text (its end) held out to measure learning
    precision: str = "auto"  # auto, float32 or bfloat16 (charlab.network.precision; auto resolved where it trains)

    def checked(self) -> ModelConfig:
        """The same settings, checked: a CharlabError names the first one out of range.

        Whole-number floats (16.0, as JSON or a number widget may give) become ints in the value returned.
        """
        return replace(self, **{s.name: s.checked(getattr(self, s.name)) for s in MODEL_SETTINGS.values()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from saved JSON, ignoring keys a newer charlab may have added.

        A setting missing takes today's default: a run saved before the setting existed was brought to
        today's format by charlab.saving.run_format, which fills in what it was trained with.
        """
        if not isinstance(data, dict):
            raise CharlabError("The saved model settings are not readable; the run may be damaged.")
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known}).checked()
        except TypeError as err:
            raise CharlabError(f"The saved model settings are not readable ({err}).") from err


@dataclass(frozen=True)
class ModelSetting:
    """One setting of a model or its training, described once: its words, its range, what the app offers.

    Validation and its messages, the command line's flags and help, the Train page's widgets and where they
    stand, the lesson links' short names and what a fine-tune or a Continue keeps all read this table: a new
    setting is a field of ModelConfig and a row here (tests/test_model.py checks every field has one).
    """

    name: str
    label: str
    help: str
    kind: type  # int, float or str
    low: float = 0.0  # the accepted range of a number
    high: float = 0.0
    choices: dict[str, str] | None = None  # a named choice: key -> label
    widget: str | None = None  # the Train page's: "segmented", "select_slider", "slider", "number" (None: not shown)
    offered: tuple[Any, ...] = ()  # the values a select slider or segmented control offers
    app_range: tuple[float, float] | None = None  # a slider's range, narrower than what is accepted
    percent: bool = False  # shown as a percentage
    # its short name in a lesson link (`u=128`): links handed out already use it, so it never changes
    url: str = field(kw_only=True)
    place: tuple[int, int] | None = None  # the Train page's (column, row) of its widget; None: not on the page
    shape: bool = False  # fixed by the network's weights: a fine-tune or a Continue keeps the writer's

    def checked(self, value: Any) -> Any:
        """The value as the setting's type when it is acceptable, else a CharlabError naming the setting."""
        if self.choices is not None:
            if not isinstance(value, str) or value not in self.choices:
                raise CharlabError(f"{self.label} must be one of {', '.join(self.choices)}, not '{value}'.")
            return value
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or (self.kind is int and not _whole(value))
        ):
            raise CharlabError(f"{self.label} must be a {'whole ' if self.kind is int else ''}number, not '{value}'.")
        if value == value and self.low <= value <= self.high:  # value != value: NaN
            return int(value) if self.kind is int else float(value)
        raise CharlabError(
            f"{self.label} must be between {self.low:g} and {self.high:g}; {_short(value)} is out of range."
        )

    def shown(self, value: Any) -> str:
        """A value in the app's words: 'GRU', '10%', '0.005'."""
        if self.choices is not None:
            return self.choices.get(value, str(value))
        return f"{value:.0%}" if self.percent else f"{value:g}"


MODEL_SETTINGS: dict[str, ModelSetting] = {
    s.name: s
    for s in (
        ModelSetting(
            "cell", "Cell type",
            "LSTM and GRU have gates that let them remember over long stretches; "
            "SimpleRNN is the plain, forgetful original.",
            str, choices={key: cell.label for key, cell in CELL_TYPES.items()}, widget="segmented",
            url="c", place=(0, 0), shape=True,
        ),
        ModelSetting(
            "units", "Units",
            "Memory cells in each recurrent layer. More units can learn more, "
            "but train slower and can simply memorise a short text.",
            int, 1, 2048, widget="select_slider", offered=(16, 32, 64, 128, 256, 384, 512, 768, 1024),
            url="u", place=(0, 1), shape=True,
        ),
        ModelSetting(
            "layers", "Layers",
            "Recurrent layers stacked on top of each other. One or two is plenty for a small text.",
            int, 1, 4, widget="segmented", offered=(1, 2, 3, 4), url="l", place=(0, 2), shape=True,
        ),
        ModelSetting(
            "embedding_dim", "Embedding size",
            "Length of the list of numbers the model learns for each character.",
            int, 1, 1024, widget="select_slider", offered=(8, 16, 32, 64, 128, 256),
            url="e", place=(0, 3), shape=True,
        ),
        ModelSetting(
            "dropout", "Dropout",
            "Share of signals switched off at random while training, so the model cannot lean on "
            "memorising. 0 turns it off.",
            float, 0.0, 0.9, widget="select_slider", offered=tuple(i / 20 for i in range(11)), percent=True,
            url="do", place=(1, 2),
        ),
        ModelSetting(
            "seq_length", "Sequence length",
            "How many characters the model reads in one training window. "
            "Longer windows let it learn longer patterns (a rhyme, a closing quote) but train slower.",
            int, 2, 1000, widget="slider", app_range=(8, 400), url="sl", place=(1, 0),
        ),
        ModelSetting(
            "batch_size", "Batch size",
            "Training windows processed together in one step. Bigger batches are faster per character "
            "but take more memory and fewer steps per epoch.",
            int, 1, 4096, widget="select_slider", offered=(8, 16, 32, 64, 128, 256),
            url="bs", place=(1, 1),
        ),
        ModelSetting(
            "learning_rate", "Learning rate",
            "How big a step the optimizer (Adam) takes. Too high and the loss jumps or becomes NaN; "
            "too low and learning crawls.",
            float, 1e-6, 1.0, widget="select_slider",
            offered=(1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 2.5e-3, 3e-3, 5e-3, 6e-3, 8e-3, 1e-2),  # 2.5e-3: a fine-tune's
            url="lr", place=(2, 1),
        ),
        ModelSetting(
            "schedule", "Learning-rate schedule",
            "Constant: Adam's steps keep the size you chose. Warm-up, then decay: small steps for the first "
            "moments, then the size you chose, then smaller and smaller until the training ends (sized to its "
            "minutes or epochs). The last part of the loss often comes only with small steps.",
            str, choices=SCHEDULES, widget="segmented", url="sch", place=(2, 2),
        ),
        ModelSetting(
            "clipnorm", "Gradient clipping",
            "Gradients longer than this are scaled down, so one odd batch cannot throw the network off; "
            "0 turns clipping off.",
            float, 0.0, 100.0, url="cn",
        ),
        ModelSetting(
            "epochs", "Epochs", "Passes over the whole training text.",
            int, 1, MAX_EPOCHS, widget="number", url="ep", place=(2, 0),
        ),
        ModelSetting(
            "validation_fraction", "Validation share",
            "Share of the text (its end) held back to check the model on text it never trained on.",
            float, 0.0, 0.49, widget="select_slider", offered=tuple(i / 20 for i in range(7)), percent=True,
            url="vf", place=(2, 3),
        ),
        ModelSetting(
            "precision", "Precision",
            "The numbers the network computes with. bfloat16 multiplies in 16 bits, which processors with "
            "AVX512-BF16 or AMX do about twice as fast for a big network; the weights, the loss and the saved "
            "model stay 32-bit. Auto uses it where this computer has it, float32 elsewhere.",
            str, choices=precision.PRECISIONS, widget="segmented", url="pr", place=(2, 4),
        ),
    )
}  # fmt: skip


def _whole(value: numbers.Real) -> bool:
    if isinstance(value, numbers.Integral):
        return True
    try:
        return float(value).is_integer()
    except OverflowError:
        return False


def _short(value: Any) -> str:
    """A number as typed, but a 400-digit one cut short so the message stays readable."""
    text = repr(value)
    return text if len(text) <= 20 else f"{text[:8]}…({len(text)} digits)"


# ---------------------------------------------------------------- what the model costs


@dataclass(frozen=True)
class LayerCount:
    """One row of the parameter table: the layer, its count, and the formula behind it."""

    layer: str
    parameters: int
    formula: str


def parameter_table(config: ModelConfig, vocab_size: int) -> list[LayerCount]:
    """Parameter count per layer, computed by formula (equal to Keras' count_params, see tests)."""
    v, e, m = vocab_size, config.embedding_dim, config.units
    rows = [LayerCount("Embedding", v * e, f"V·d = {v}·{e}")]
    cell = cell_type(config.cell)
    for i, d in enumerate(_layer_inputs(config)):
        rows.append(LayerCount(f"{cell.label} {i + 1}", cell.parameters(d, m), cell.formula(d, m)))
    rows.append(LayerCount("Output (Dense)", m * v + v, f"m·V + V = {m}·{v} + {v}"))
    return rows


def _layer_inputs(config: ModelConfig) -> list[int]:
    """Each recurrent layer's input size (d): the embedding's for the first, the layer below's units after."""
    return [config.embedding_dim] + [config.units] * (config.layers - 1)


def count_parameters(config: ModelConfig, vocab_size: int) -> int:
    return sum(row.parameters for row in parameter_table(config, vocab_size))


# Fitted by `python bench/estimate.py --fit` on a 2-core CPU: one training step costs a fixed
# overhead per time step and layer (the recurrent loop runs step by step, forward and backward)
# plus its arithmetic. An estimate to set expectations ("about 2 minutes per epoch"), not a promise.
_STEP_OVERHEAD_SECONDS = 3.1e-4
_TRAIN_FLOPS_PER_SECOND = 1.05e11
# Memory, measured as a training process's peak RSS (bench/precision.py --memory) on 2 cores: a GRU 16 peaks
# at 650 MB (Python, TensorFlow and Keras), and TensorFlow's CPU loop keeps about 2.5 times the numbers the
# cell's formula counts for the backward pass (GRU 512 and 1024 at batch 256: 1.07 and 1.74 GB). Mixed
# bfloat16 there took 10-100 MB more than float32, not less: TensorFlow keeps the float32 activations as well
# as their 16-bit copies (measured on a processor that emulates bfloat16; one with AMX is still to measure).
_TENSORFLOW_BYTES = 650_000_000
_ACTIVATION_COPIES = 2.5


@dataclass(frozen=True)
class Estimate:
    parameters: int
    memory_bytes: int  # training data, weights, optimizer state and one batch's activations
    chars_per_second: float
    seconds_per_epoch: float


def step_work(config: ModelConfig, vocab_size: int) -> tuple[int, float]:
    """What one training step costs: (sequential time steps across layers, floating-point operations)."""
    cell, m = cell_type(config.cell), config.units
    # forward + backward ≈ 3 × forward; forward ≈ 2 flops per weight used per character (the embedding's
    # is a lookup), + each cell's gate arithmetic
    recurrent = sum(cell.training_flops_per_char(d, m) for d in _layer_inputs(config))
    flops_per_char = recurrent + 6 * (m * vocab_size + vocab_size)  # + the output layer's
    return config.seq_length * config.layers, flops_per_char * config.batch_size * config.seq_length


def estimate(config: ModelConfig, vocab_size: int, n_chars: int, policy: str | None = None) -> Estimate:
    """A rough memory and time estimate, shown beside the settings before training starts.

    `policy`: the Keras dtype policy it trains in (None: what config.precision means on this computer). The
    weights, their gradients and Adam's two moments stay float32 in every precision (16 bytes a parameter).
    The speed is float32's (the fitted constants above): bfloat16's is measured by bench/precision.py.
    """
    params = count_parameters(config, vocab_size)
    m, b, t = config.units, config.batch_size, config.seq_length
    steps, flops = step_work(config, vocab_size)
    chars_per_second = b * t / (steps * _STEP_OVERHEAD_SECONDS + flops / _TRAIN_FLOPS_PER_SECOND)
    train_chars = n_chars * (1 - config.validation_fraction)
    # numbers kept per character
    kept = config.layers * cell_type(config.cell).activation_floats_per_char(m) + config.embedding_dim
    activations = b * t * (_ACTIVATION_COPIES * 4 * kept + 4 * 3 * vocab_size)  # + float32 logits, softmax, grad
    memory = 8 * n_chars + 16 * params + activations + _TENSORFLOW_BYTES
    if (policy or precision.resolve(config.precision).policy) != precision.FLOAT32:
        memory += 2 * params + b * t * kept  # 16-bit copies of the weights, and of (about half) the activations
    return Estimate(
        parameters=params,
        memory_bytes=int(memory),
        chars_per_second=chars_per_second,
        seconds_per_epoch=train_chars / chars_per_second,
    )


# ---------------------------------------------------------------- Keras (imported lazily)


def build_model(config: ModelConfig, vocab_size: int, policy: str | None = None):
    """Embedding -> recurrent layers (return_sequences) -> Dense logits over the vocabulary.

    `config` is checked already (`ModelConfig.checked`, where the settings came in): nothing is checked twice.

    `policy`: the Keras dtype policy (charlab.network.precision), else the one config.precision means on this machine.
    Each layer gets it as its own dtype, never Keras' global policy, so trainings in threads side by side
    can each have their own. The logits are computed in float32, so the softmax and the loss are too.
    """
    keras = import_keras()
    policy = policy or precision.resolve(config.precision).policy
    dtype = keras.DTypePolicy(policy)
    layers, cell = keras.layers, cell_type(config.cell)
    inputs = keras.Input(shape=(None,), dtype="int32", name="char_ids")  # (B, T)
    x = layers.Embedding(vocab_size, config.embedding_dim, name="embedding", dtype=dtype)(inputs)  # (B, T, d)
    for i in range(config.layers):
        x = cell.keras_layer(config.units, name=f"rnn_{i}", dtype=dtype)(x)  # (B, T, m)
        if config.dropout > 0:
            x = layers.Dropout(config.dropout, name=f"dropout_{i}", dtype=dtype)(x)
    logits = layers.Dense(vocab_size, name="logits", dtype="float32")(x)  # (B, T, V), float32 for the loss
    model = keras.Model(inputs, logits, name=f"charlab_{config.cell}")
    compile_model(model, config)
    return model


def model_policy(model) -> str:
    """The policy a charlab model computes in (its recurrent layers'): 'float32', 'mixed_bfloat16', ..."""
    return model.get_layer("rnn_0").dtype_policy.name


def set_policy(model, policy: str) -> None:
    """Make a loaded model compute in `policy` (a run saved in bfloat16 continues in float32 on a computer
    without it, and the reverse). Mixed policies keep float32 variables, so the weights and Adam's state are
    untouched; the logits layer stays float32."""
    keras = import_keras()
    for layer in model._flatten_layers(include_self=False, recursive=True):  # the recurrent layers' cells too
        if layer.name != "logits" and not isinstance(layer, keras.layers.InputLayer):
            layer.dtype_policy = keras.DTypePolicy(policy)


def compile_model(model, config: ModelConfig) -> None:
    keras = import_keras()
    optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm or None)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def load_keras_model(path: str | Path):
    """Load a `.keras` file with safe_mode on: a file with code in it (a Lambda layer) is refused."""
    keras = import_keras()
    try:
        return keras.saving.load_model(str(path), safe_mode=True, compile=True)
    except Exception as err:  # Keras raises many types for a bad file; the user needs one message
        raise CharlabError(
            f"The model file could not be loaded safely ({type(err).__name__}: {str(err)[:200]}). "
            "Only models trained with charlab can be loaded."
        ) from err


def keras_weights(model, config: ModelConfig) -> dict[str, np.ndarray]:
    """The weights as plain arrays, named for the numpy sampler (and saved as weights.npz)."""
    weights = {"embedding": model.get_layer("embedding").get_weights()[0]}
    for i in range(config.layers):  # Keras' order: kernel, recurrent kernel, bias
        weights.update(zip(weight_names(i), model.get_layer(f"rnn_{i}").get_weights(), strict=True))
    kernel, bias = model.get_layer("logits").get_weights()
    weights["logits.kernel"], weights["logits.bias"] = kernel, bias
    return {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()}


def set_keras_weights(model, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
    """The reverse of `keras_weights`: put checked plain arrays into a model `build_model` made."""
    model.get_layer("embedding").set_weights([weights["embedding"]])
    for i in range(config.layers):
        model.get_layer(f"rnn_{i}").set_weights([weights[name] for name in weight_names(i)])
    model.get_layer("logits").set_weights([weights["logits.kernel"], weights["logits.bias"]])
