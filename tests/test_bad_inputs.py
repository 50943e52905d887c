"""A catalogue of hostile or clumsy inputs, each refused (or handled) in plain words, nothing lost.

Already covered elsewhere, not repeated here:
  empty, whitespace-only, binary, random-bytes, UTF-16 with a BOM, Latin-1/cp1252 files, the 10 MB cap
      -> tests/test_corpus.py
  one dominant character, a huge vocabulary, text shorter than four windows (warnings) -> tests/test_corpus.py
  seed text with unseen characters (dropped, reported) -> tests/test_vocab.py, tests/test_sampling.py
  sequence length longer than the text -> tests/test_corpus.py, tests/test_data.py, tests/test_training.py
  bad temperature, top-k, length -> tests/test_sampling.py; one bad value per setting -> tests/test_model.py
  .zip with extra files, '../', absolute paths, a non-Keras or Lambda model, too big declared -> tests/test_runs.py
  run names with '/', '..', only spaces, line breaks -> tests/test_runs.py
"""

from __future__ import annotations

import codecs
import io
import json
import random
import re
import struct
import time
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.learning.training import FINISHED, Timelapse, TrainingJob
from charlab.network.model import ModelConfig, build_model, import_keras, load_keras_model
from charlab.network.sampling import Generator, NumpyCharModel
from charlab.saving import archives, runs
from charlab.saving.weights import expected_shapes
from charlab.text import corpus
from charlab.text.corpus import load_bytes, warnings
from charlab.text.vocab import Vocab

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1)


# ---------------------------------------------------------------- files


def test_a_50_mb_upload_is_refused_by_its_size_before_any_decoding():
    huge = codecs.BOM_UTF16_LE + "x".encode("utf-16-le") * 25_000_000  # decoding this would take seconds
    started = time.perf_counter()
    with pytest.raises(CharlabError) as err:
        load_bytes(huge, "novel.txt")
    assert time.perf_counter() - started < 0.1
    assert "'novel.txt' is 50.0 MB; the limit is 10 MB" in str(err.value)
    assert "a few MB is plenty" in str(err.value)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_without_a_byte_order_mark_is_converted(codec):
    text = "Élodie's café — première ligne\nsecond line\n" * 20
    loaded = load_bytes(text.encode(codec), "notes.txt")
    assert loaded.text == text and loaded.encoding == codec
    assert "UTF-16" in loaded.notes[0]


def test_binary_with_every_other_byte_zero_is_still_refused():
    data = bytes(b for i in range(2000) for b in (i % 31 + 1, 0))  # looks like UTF-16, decodes to control characters
    with pytest.raises(CharlabError, match="mostly unprintable|binary"):
        load_bytes(data, "image.txt")


def test_a_file_of_one_repeated_character_is_warned_about_and_refused_for_training(tmp_path):
    text = "a" * 30_000
    found = warnings(text, seq_length=20)
    assert any("single character (a)" in w and "training cannot start" in w for w in found), found
    with pytest.raises(CharlabError) as err:
        TrainingJob(text, TINY, root=tmp_path)
    assert "only one character (a)" in str(err.value) and "at least two different characters" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # refused before any run folder was made
    assert TrainingJob("ab" * 200, TINY, root=tmp_path).vocab.chars == ("a", "b")  # two characters are enough


def _mixed_scripts(n_chars: int, seed: int = 0) -> str:
    """Chinese, Cyrillic, Greek, Arabic, emoji (outside the 16-bit range) and ASCII: a vocabulary in the thousands."""
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 1500)]  # CJK ideographs
    alphabet += [chr(c) for c in range(0x0400, 0x0450)] + [chr(c) for c in range(0x0391, 0x03A9)]
    alphabet += [chr(c) for c in range(0x0627, 0x064A)] + [chr(c) for c in range(0x1F600, 0x1F650)]
    alphabet += list("abcdefghij ,.\n") * 20
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n_chars))


@pytest.mark.slow
def test_emoji_and_mixed_scripts_warn_about_the_vocabulary_and_still_train(tmp_path):
    text = _mixed_scripts(6_000)
    loaded = load_bytes(text.encode("utf-8"), "mixed.txt")
    assert loaded.text == text and loaded.encoding == "utf-8"
    vocab_size = corpus.stats(text).unique_characters
    assert vocab_size > 1000
    assert any(f"{vocab_size:,} different characters" in w and "cleaning" in w for w in warnings(text)), warnings(text)

    progress = TrainingJob(text, TINY, name="mixed", root=tmp_path, timelapse=Timelapse(every_steps=None)).run()
    assert progress.status == FINISHED, progress.message
    assert progress.vocab_size == vocab_size
    generator = runs.load_run(progress.run_path).generator()
    written = generator.write("😀中", 200, random_seed=0)
    assert len(written) == 200 and set(written) <= set(text)
    assert generator.vocab.encode_seed("😀中🦊").dropped == ("🦊",)  # unseen: dropped and reported


# ---------------------------------------------------------------- number inputs


NUMBER_SETTINGS = [
    f.name for f in fields(ModelConfig) if f.name not in ("cell", "schedule", "precision")
]  # choices, not numbers
ZERO_ALLOWED = {"dropout", "clipnorm", "validation_fraction"}
HOSTILE_NUMBERS = {
    "zero": 0,
    "negative": -1,
    "huge-int": 10**400,
    "huge-float": 1e308,
    "inf": float("inf"),
    "minus-inf": float("-inf"),
    "nan": float("nan"),
    "digits-as-text": "12",
    "empty-text": "",
    "none": None,
    "list": [16],
    "bool": True,
    "bytes": b"16",
    "numpy-nan": np.float32("nan"),
}


@pytest.mark.parametrize("value", list(HOSTILE_NUMBERS.values()), ids=list(HOSTILE_NUMBERS))
@pytest.mark.parametrize("name", NUMBER_SETTINGS)
def test_every_number_setting_refuses_hostile_values_in_plain_words(name, value):
    config = ModelConfig(**{name: value})
    if value == 0 and not isinstance(value, bool) and name in ZERO_ALLOWED:
        assert config.checked() == config  # 0 means "off" for these
        return
    with pytest.raises(CharlabError) as err:
        config.checked()
    message = str(err.value)
    assert message.split(" must be ")[0] in {
        "Units", "Layers", "Embedding size", "Dropout", "Sequence length", "Batch size", "Learning rate",
        "Gradient clipping", "Epochs", "Validation share",
    }, message  # fmt: skip
    assert len(message) < 200 and "Traceback" not in message
    with pytest.raises(CharlabError):  # the same from saved JSON, e.g. an imported run
        ModelConfig.from_dict({**TINY.to_dict(), name: value})


def test_numpy_numbers_from_a_widget_are_accepted_as_plain_numbers():
    config = ModelConfig(
        units=np.int64(32), epochs=np.int32(3), dropout=np.float32(0.25), learning_rate=np.float64(0.01)
    ).checked()
    assert type(config.units) is int and type(config.epochs) is int and type(config.dropout) is float
    assert json.loads(json.dumps(config.to_dict()))["units"] == 32  # saved as plain JSON


def test_a_run_whose_saved_settings_hold_a_400_digit_number_is_listed_as_damaged(tmp_path):
    path = runs.create_run(tmp_path, "huge", TINY, Vocab.from_text("ab"), "keep", "x.txt", "0" * 64, 100)
    meta = json.loads((path / "config.json").read_text(encoding="utf-8"))
    meta["settings"]["units"] = 10**400
    (path / "config.json").write_text(json.dumps(meta), encoding="utf-8")
    [info] = runs.list_runs(tmp_path)
    assert info.status == "damaged" and "Units must be between 1 and 2048" in info.damaged
    assert len(info.damaged) < 200


def _generator() -> Generator:
    rng = np.random.default_rng(0)
    vocab, m, d = Vocab.from_text("abc \n"), 8, 4
    shapes = expected_shapes(ModelConfig(cell="lstm", units=m, embedding_dim=d), len(vocab))
    return Generator(NumpyCharModel("lstm", 1, {k: rng.normal(size=s) for k, s in shapes.items()}), vocab)


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("random_seed", -1, "Random seed must be a whole number"),
        ("random_seed", "42", "Random seed must be a whole number"),
        ("random_seed", 4.5, "Random seed must be a whole number"),
        ("top_k", 2.5, "Top-k must be a whole number"),
        ("top_k", True, "Top-k must be a whole number"),
        ("length", True, r"Length \(characters\) must be a whole number"),
        ("length", 10**30, r"Length \(characters\) must be a whole number"),
        ("temperature", np.nan, "Temperature must be a number above 0"),
    ],
)
def test_hostile_generation_settings_are_refused_in_plain_words(setting, value, words):
    kwargs = {"length": 10, setting: value}
    with pytest.raises(CharlabError, match=words):
        _generator().write("ab", **kwargs)


@pytest.mark.parametrize("temperature", [1e-300, 5e-324, 1e300, np.float32(0.8)])
def test_extreme_temperatures_write_without_overflow(temperature):
    with np.errstate(over="raise", invalid="raise"):  # an overflow would raise here instead of writing garbage
        text = _generator().write("ab", 50, temperature=temperature, random_seed=1)
    assert len(text) == 50
    probs = _generator().next_char_probabilities("ab", temperature=temperature)
    assert np.isfinite(list(probs.values())).all() and sum(probs.values()) == pytest.approx(1.0)


# ---------------------------------------------------------------- archives and model files


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _declare_size(archive: bytes, member: str, size: int) -> bytes:
    """Rewrite the unpacked size a zip declares for `member` (in both of its headers), as a zip bomb would."""
    data = bytearray(archive)
    for signature, size_at, name_length_at, header in ((b"PK\x01\x02", 24, 28, 46), (b"PK\x03\x04", 22, 26, 30)):
        at = data.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", data, at + name_length_at)[0]
            if bytes(data[at + header : at + header + length]) == member.encode():
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    return bytes(data)


def test_a_zip_bomb_declaring_more_than_the_cap_is_refused_unread(tmp_path):
    files = {"config.json": b"{}", "weights.npz": b"x" * 1000}
    bomb = _declare_size(_zip(files), "weights.npz", 4_000_000_000)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("weights.npz").file_size == 4_000_000_000  # the premise
    started = time.perf_counter()
    with pytest.raises(CharlabError, match="unpacks to more than 300 MB. It was refused."):
        archives.import_zip(bomb, tmp_path)
    assert time.perf_counter() - started < 0.5
    assert list(tmp_path.iterdir()) == []


def test_a_zip_member_lying_about_its_size_is_refused_as_damaged(tmp_path):
    liar = _declare_size(_zip({"config.json": b"\0" * 5_000_000, "weights.npz": b"x"}), "config.json", 100)
    with pytest.raises(CharlabError, match="archive is damaged: 'config.json' cannot be unpacked"):
        archives.import_zip(liar, tmp_path)  # read stops at the declared 100 bytes, and the checksum fails
    assert list(tmp_path.iterdir()) == []


def _keras_files(tmp_path: Path) -> dict[str, bytes]:
    path = tmp_path / "good.keras"
    build_model(TINY, 5).save(path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _with_config(files: dict[str, bytes], change) -> bytes:
    config = json.loads(files["config.json"])
    change(config)
    return _zip({**files, "config.json": json.dumps(config).encode()})


def _gadgets(marker: Path) -> dict[str, object]:
    """Ways a .keras config.json could try to run code on loading; each would create `marker`."""

    def layer(model_config: dict, **changes) -> None:
        model_config["config"]["layers"][1].update(registered_name=None, **changes)

    return {
        "subprocess": lambda c: layer(c, module="subprocess", class_name="Popen",
                                      config={"args": ["touch", str(marker)]}),
        "get-file": lambda c: layer(c, module="keras.utils", class_name="get_file",
                                    config={"fname": "x", "origin": f"file://{marker}"}),
        "builtins-exec": lambda c: c.update(module="builtins", class_name="exec",
                                            config={"source": f"open({str(marker)!r}, 'w')"}),
        "os-system-initializer": lambda c: c["config"]["layers"][1]["config"].update(
            embeddings_initializer={"module": "os", "class_name": "system", "registered_name": None,
                                    "config": {"command": f"touch {marker}"}}),
    }  # fmt: skip


@pytest.mark.slow
def test_model_files_with_code_in_them_are_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "code-ran"
    files = _keras_files(tmp_path)
    for name, gadget in _gadgets(marker).items():
        path = tmp_path / f"{name}.keras"
        path.write_bytes(_with_config(files, gadget))
        with pytest.raises(CharlabError, match="could not be loaded safely"):
            load_keras_model(path)
        assert not marker.exists(), name

    keras = import_keras()
    inputs = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    x = keras.layers.Embedding(5, 8, name="embedding")(inputs)
    payload = eval(f"lambda t: (open({str(marker)!r}, 'w').close(), t)[1]")  # the path inside the code itself
    x = keras.layers.Lambda(payload)(x)
    marker.unlink(missing_ok=True)  # building the model ran it once, here in the test
    lambda_path = tmp_path / "lambda.keras"
    keras.Model(inputs, x).save(lambda_path)
    with pytest.raises(CharlabError, match="could not be loaded safely"):
        load_keras_model(lambda_path)
    assert not marker.exists()
    keras.saving.load_model(lambda_path, safe_mode=False)  # the premise: this payload really is live code
    assert marker.exists()


# ---------------------------------------------------------------- text is data, never code


HOSTILE_TEXT = (
    "__import__('os').system('touch {marker}')\n"
    "{{7*7}} ${{7*7}} $(touch {marker}) `touch {marker}` %s%s%n\n"
    "<script>alert('x')</script> <img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))\n"
    "'; DROP TABLE runs; -- \u202e evil \u200b zero-width\n"
)


def test_uploaded_text_and_names_are_kept_as_literal_data(tmp_path):
    marker = tmp_path / "code-ran"
    text = HOSTILE_TEXT.format(marker=marker) * 50
    loaded = load_bytes(text.encode("utf-8"), "<script>alert(1)</script>.txt")
    assert loaded.text == text
    for mode in corpus.CLEANING_MODES:
        corpus.clean(text, mode)
    vocab = Vocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text
    name = "**run** <b>1</b> ../../etc/passwd"
    path = runs.create_run(tmp_path, name, TINY, vocab, "keep", loaded.name, loaded.sha256, len(text))
    assert path.parent == tmp_path  # the name is a label: the folder stays inside the workspace
    info = runs.run_info(path)
    assert info.name == name and info.corpus_name == loaded.name
    assert not marker.exists()


def test_the_engine_never_evaluates_or_unpickles_anything():
    pattern = re.compile(
        r"(?<![\w.])(eval|exec|compile)\(|import pickle|pickle\.loads?|marshal|allow_pickle=True|safe_mode=False"
        r"|shell=True|os\.system|__import__|yaml\.load"
    )
    sources = sorted((ROOT / "charlab").rglob("*.py"))
    assert len(sources) > 10
    found = [f"{p.name}: {m.group(0)}" for p in sources for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
