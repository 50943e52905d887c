"""Model settings: validated in plain words; parameter counts equal to Keras'; unsafe files refused."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES
from charlab.network.model import (
    MODEL_SETTINGS,
    ModelConfig,
    build_model,
    count_parameters,
    estimate,
    import_keras,
    load_keras_model,
    parameter_table,
)

# (field, bad value, words the message must contain)
BAD_SETTINGS = [
    ("units", 0, "Units must be between 1 and 2048"),
    ("units", -16, "Units must be between"),
    ("units", 4096, "Units must be between"),
    ("units", 16.5, "Units must be a whole number"),
    ("units", "256", "Units must be a whole number"),
    ("units", None, "Units must be a whole number"),
    ("units", True, "Units must be a whole number"),
    ("layers", 0, "Layers must be between 1 and 4"),
    ("layers", 5, "Layers must be between 1 and 4"),
    ("layers", 2.5, "Layers must be a whole number"),
    ("embedding_dim", 0, "Embedding size must be between"),
    ("embedding_dim", 2000, "Embedding size must be between"),
    ("dropout", -0.1, "Dropout must be between 0 and 0.9"),
    ("dropout", 0.95, "Dropout must be between 0 and 0.9"),
    ("dropout", math.nan, "Dropout must be between"),
    ("dropout", "0.2", "Dropout must be a number"),
    ("dropout", False, "Dropout must be a number"),
    ("seq_length", 1, "Sequence length must be between 2 and 1000"),
    ("seq_length", 1001, "Sequence length must be between"),
    ("seq_length", [100], "Sequence length must be a whole number"),
    ("batch_size", "abc", "Batch size must be a whole number, not 'abc'"),
    ("batch_size", 0, "Batch size must be between 1 and 4096"),
    ("batch_size", 1e9, "Batch size must be between"),
    ("learning_rate", math.nan, "Learning rate must be between"),
    ("learning_rate", math.inf, "Learning rate must be between"),
    ("learning_rate", 0.0, "Learning rate must be between"),
    ("learning_rate", -0.001, "Learning rate must be between"),
    ("learning_rate", 2.0, "Learning rate must be between"),
    ("learning_rate", "fast", "Learning rate must be a number"),
    ("clipnorm", -1.0, "Gradient clipping must be between 0 and 100"),
    ("clipnorm", math.nan, "Gradient clipping must be between"),
    ("epochs", 0, "Epochs must be between 1 and 10000"),
    ("epochs", 1.5, "Epochs must be a whole number"),
    ("epochs", True, "Epochs must be a whole number"),
    ("validation_fraction", 0.5, "Validation share must be between 0 and 0.49"),
    ("validation_fraction", -0.01, "Validation share must be between"),
    ("validation_fraction", "10%", "Validation share must be a number"),
    ("cell", "transformer", "Cell type must be one of lstm, gru, simple_rnn, not 'transformer'"),
    ("cell", "LSTM", "Cell type must be one of"),
    ("cell", None, "Cell type must be one of"),
    ("cell", 3, "Cell type must be one of"),
    ("cell", ["lstm"], "Cell type must be one of"),
    ("schedule", "linear", "Learning-rate schedule must be one of constant, cosine, not 'linear'"),
    ("schedule", None, "Learning-rate schedule must be one of"),
    ("schedule", 1, "Learning-rate schedule must be one of"),
    ("precision", "float16", "Precision must be one of auto, float32, bfloat16, not 'float16'"),
    ("precision", "BF16", "Precision must be one of"),
    ("precision", None, "Precision must be one of"),
]
CHOICE_SETTINGS = {"cell", "schedule", "precision"}  # their messages list the choices (simple_rnn)


def test_defaults_are_valid():
    config = ModelConfig()
    assert config.checked() == config


def test_settings_cannot_change_under_a_job_and_checking_returns_a_new_value():
    """A job, a run and the widgets share one ModelConfig: nobody can change it in place, so nobody copies it."""
    typed = ModelConfig(units=16.0, epochs=np.int64(3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        typed.units = 32
    checked = typed.checked()
    assert checked is not typed and type(checked.units) is int and type(checked.epochs) is int
    assert type(typed.units) is float and type(typed.epochs) is np.int64  # the value checked is left as it was


@pytest.mark.parametrize(("name", "value", "words"), BAD_SETTINGS)
def test_validate_refuses_out_of_range_or_wrong_type(name, value, words):
    config = dataclasses.replace(ModelConfig(), **{name: value})
    with pytest.raises(CharlabError) as err:
        config.checked()
    assert words in str(err.value)
    if name not in CHOICE_SETTINGS:
        assert name not in str(err.value)  # plain words, not the code's field name


def test_every_field_is_covered_by_the_bad_settings():
    assert {f.name for f in dataclasses.fields(ModelConfig)} == {name for name, _, _ in BAD_SETTINGS}


@pytest.mark.parametrize(
    ("name", "value"),
    [("units", 1), ("units", 2048), ("layers", 4), ("dropout", 0), ("dropout", 0.9), ("clipnorm", 0.0),
     ("learning_rate", 1e-6), ("learning_rate", 1.0), ("validation_fraction", 0.0), ("seq_length", 2),
     ("cell", "gru"), ("cell", "simple_rnn"), ("precision", "auto"), ("precision", "float32"),
     ("precision", "bfloat16")],
)  # fmt: skip
def test_validate_accepts_the_limits(name, value):
    dataclasses.replace(ModelConfig(), **{name: value}).checked()


def test_whole_number_floats_are_accepted_as_whole_numbers():
    """JSON or a number widget may give 16.0; it must build a model, not crash in Keras."""
    config = ModelConfig(
        units=16.0, layers=1.0, embedding_dim=8.0, seq_length=20.0, batch_size=8.0, epochs=2.0
    ).checked()
    for name in ("units", "layers", "embedding_dim", "seq_length", "batch_size", "epochs"):
        assert type(getattr(config, name)) is int
    assert build_model(config, 10).count_params() == count_parameters(config, 10)


def test_dict_round_trip():
    config = ModelConfig(cell="gru", units=48, layers=3, embedding_dim=12, dropout=0.25, seq_length=64, batch_size=16,
                      learning_rate=5e-4, clipnorm=0.0, epochs=7, validation_fraction=0.2)  # fmt: skip
    data = config.to_dict()
    assert data["cell"] == "gru" and data["units"] == 48 and data["dropout"] == 0.25
    assert set(data) == {f.name for f in dataclasses.fields(ModelConfig)}
    assert ModelConfig.from_dict(data) == config


def test_from_dict_ignores_unknown_keys_and_fills_missing_ones_with_todays_defaults():
    """What an older run was trained with is filled in by charlab.saving.run_format (tests/test_run_format.py)."""
    config = ModelConfig.from_dict({"units": 32, "attention_heads": 8, "future_setting": {"x": 1}})
    assert config == ModelConfig(units=32)
    assert ModelConfig.from_dict({}) == ModelConfig()
    assert ModelConfig.from_dict({"schedule": "constant"}).schedule == "constant"
    assert ModelConfig.from_dict({"precision": "bfloat16"}).precision == "bfloat16"


@pytest.mark.parametrize("data", [None, [], "lstm", 42])
def test_from_dict_refuses_what_is_not_a_dict(data):
    with pytest.raises(CharlabError, match="settings are not readable"):
        ModelConfig.from_dict(data)


def test_from_dict_validates():
    with pytest.raises(CharlabError, match="Layers must be between 1 and 4"):
        ModelConfig.from_dict({"layers": 9})


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("cell", list(CELL_TYPES))
@pytest.mark.parametrize(("layers", "dropout"), [(1, 0.0), (2, 0.0), (3, 0.3), (1, 0.2)])
def test_parameter_table_equals_keras_count(cell, layers, dropout):
    config = ModelConfig(cell=cell, units=12, layers=layers, embedding_dim=5, dropout=dropout)
    vocab_size = 17
    model = build_model(config, vocab_size)
    table = parameter_table(config, vocab_size)
    assert sum(row.parameters for row in table) == model.count_params() == count_parameters(config, vocab_size)
    # row by row too, so two wrong rows cannot cancel out
    keras_rows = [model.get_layer("embedding").count_params()]
    keras_rows += [model.get_layer(f"rnn_{i}").count_params() for i in range(layers)]
    keras_rows += [model.get_layer("logits").count_params()]
    assert [row.parameters for row in table] == keras_rows
    assert len(table) == layers + 2 and all(row.formula for row in table)


def test_lstm_formula_by_hand():
    config = ModelConfig(cell="lstm", units=3, layers=2, embedding_dim=2)
    table = parameter_table(config, vocab_size=5)
    m, d, v = 3, 2, 5
    assert table[0].parameters == v * d == 10
    assert table[1].parameters == 4 * (m * m + m * d + m) == 72  # 4·(9 + 6 + 3)
    assert table[2].parameters == 4 * (m * m + m * m + m) == 84  # the second layer's input is the first's m
    assert table[3].parameters == m * v + v == 20
    assert count_parameters(config, 5) == 186
    assert "4·(3² + 3·2 + 3)" in table[1].formula
    assert [row.layer for row in table] == ["Embedding", "LSTM 1", "LSTM 2", "Output (Dense)"]


def test_estimate_is_positive_and_grows_with_the_model():
    previous = None
    for units in (8, 32, 64, 128, 256, 512, 1024):
        est = estimate(ModelConfig(units=units), vocab_size=60, n_chars=1_000_000)
        assert est.parameters == count_parameters(ModelConfig(units=units), 60) > 0
        assert est.memory_bytes > 0 and est.chars_per_second > 0 and est.seconds_per_epoch > 0
        assert est.seconds_per_epoch == pytest.approx(900_000 / est.chars_per_second)
        if previous is not None:
            assert est.parameters > previous.parameters
            assert est.memory_bytes > previous.memory_bytes
            assert est.seconds_per_epoch >= previous.seconds_per_epoch
            if units >= 128:  # above the per-step overhead floor, more units are strictly slower
                assert est.seconds_per_epoch > previous.seconds_per_epoch
        previous = est


def test_estimate_grows_with_layers_text_and_batch():
    base = estimate(ModelConfig(units=256), 60, 1_000_000)
    deeper = estimate(ModelConfig(units=256, layers=3), 60, 1_000_000)
    longer = estimate(ModelConfig(units=256), 60, 5_000_000)
    bigger_batch = estimate(ModelConfig(units=256, batch_size=256), 60, 1_000_000)
    assert deeper.parameters > base.parameters and deeper.seconds_per_epoch > base.seconds_per_epoch
    assert longer.seconds_per_epoch == pytest.approx(5 * base.seconds_per_epoch)
    assert longer.memory_bytes > base.memory_bytes
    assert bigger_batch.memory_bytes > base.memory_bytes


# ---------------------------------------------------------------- loading .keras files safely


def test_load_keras_model_refuses_a_lambda_layer(tmp_path):
    keras = import_keras()
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    path = tmp_path / "evil.keras"
    keras.Model(inputs, outputs).save(path)
    assert keras.saving.load_model(path, safe_mode=False) is not None  # the premise: a valid file, refused for its code
    with pytest.raises(CharlabError) as err:
        load_keras_model(path)
    message = str(err.value)
    assert "could not be loaded safely" in message and "Only models trained with charlab" in message
    assert "Lambda" in message or "safe_mode" in message


def test_load_keras_model_refuses_random_bytes(tmp_path):
    path = tmp_path / "noise.keras"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(CharlabError, match="could not be loaded safely"):
        load_keras_model(path)


def test_load_keras_model_reads_a_charlab_model(tmp_path):
    config = ModelConfig(cell="gru", units=8, embedding_dim=4, layers=2)
    model = build_model(config, 9)
    path = tmp_path / "good.keras"
    model.save(path)
    loaded = load_keras_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_every_setting_is_described_once_and_what_the_app_offers_is_accepted():
    from dataclasses import fields, replace

    assert list(MODEL_SETTINGS) == [f.name for f in fields(ModelConfig)]  # one description per setting, in order
    defaults = ModelConfig()
    for setting in MODEL_SETTINGS.values():
        assert setting.label and setting.help.endswith(".")
        offered = list(setting.choices or setting.offered)
        if setting.widget == "slider":
            offered = list(setting.app_range)
        for value in offered:  # every value a widget offers is a valid setting
            replace(defaults, **{setting.name: value}).checked()
        if setting.widget in ("segmented", "select_slider"):  # and the default is among them
            assert getattr(defaults, setting.name) in offered, setting.name
    assert MODEL_SETTINGS["dropout"].shown(0.25) == "25%" and MODEL_SETTINGS["cell"].shown("gru") == "GRU"
    assert MODEL_SETTINGS["learning_rate"].shown(5e-3) == "0.005"


def test_every_setting_has_a_lesson_link_name_and_a_place_on_the_train_page():
    from charlab.teaching import lessons

    urls = [setting.url for setting in MODEL_SETTINGS.values()]
    assert all(urls) and len(set(urls)) == len(urls)  # each its own short name
    others = lessons.LESSON_PARAMS - set(urls)
    assert len(others) == len(lessons.LESSON_PARAMS) - len(urls)  # none shared with the lesson's other params
    assert {"s", "cl", "h", "t", "min", "pm", "from"} <= others
    places = [setting.place for setting in MODEL_SETTINGS.values() if setting.place]
    assert len(set(places)) == len(places)
    for setting in MODEL_SETTINGS.values():  # a widget has a place on the page, and only a widget
        assert (setting.place is None) == (setting.widget is None), setting.name


def _another_value(name: str):
    """An accepted value of the setting other than its default."""
    setting, default = MODEL_SETTINGS[name], getattr(ModelConfig(), name)
    candidates = [*(setting.choices or ()), *setting.offered, setting.low, setting.high]
    return next(value for value in candidates if value != default)


@pytest.mark.parametrize("name", list(MODEL_SETTINGS))
def test_a_setting_is_marked_shape_exactly_when_it_changes_the_weights_shapes(name):
    """Continue and a fine-tune keep the `shape` settings (writers.SHAPE_SETTINGS), since the weights fix them."""
    from charlab.saving.weights import expected_shapes

    changed = dataclasses.replace(ModelConfig(), **{name: _another_value(name)}).checked()
    assert MODEL_SETTINGS[name].shape == (expected_shapes(changed, 40) != expected_shapes(ModelConfig(), 40))
