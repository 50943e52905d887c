"""The held-out texts of bench/finetune.py: none of them is part of what the classics writer learned from, and the
bench trains each with the app's settings (a blank network fitted to the text; the writer's shape and rate)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from charlab.learning import writers
from charlab.learning.presets import SMALL_TEXT_CHARS
from charlab.saving import runs

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "sample_texts" / "heldout"
PASSAGE = 40  # a shared passage this long would mean the writer read (part of) the held-out text


def _bench(name: str):
    """A bench/ script as a module (bench/ is not a package; its scripts add the project to sys.path)."""
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def writer_text() -> str:
    return _bench("writer").writer_text()


@pytest.mark.parametrize("name,size", [("letters", 4_062), ("fairy_tale", 10_741), ("poems", 30_277)])
def test_each_held_out_text_is_the_documented_size_and_the_writer_never_read_it(name, size, writer_text):
    text = (HELDOUT / f"{name}.txt").read_text(encoding="utf-8")
    assert len(text) == size
    assert f"`{name}.txt`" in (ROOT / "sample_texts" / "README.md").read_text(encoding="utf-8")  # its source is said
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= PASSAGE]
    shared = [line for line in lines if line[:PASSAGE] in writer_text]
    assert lines and not shared


def test_the_bench_trains_a_small_text_as_the_app_does_from_either_start():
    bench = _bench("finetune")
    letters = (HELDOUT / "letters.txt").read_text(encoding="utf-8")
    blank, none = bench.settings(letters, 60.0, "blank")
    assert none is None and blank.units < 256 and blank.dropout > 0  # a small network, fitted to 4 KB
    tuned, folder = bench.settings(letters, 60.0, "writer")
    writer = writers.find_writer("writer")
    assert Path(folder) == writer
    shape = runs.load_run(writer).config
    assert (tuned.cell, tuned.units, tuned.layers) == (shape.cell, shape.units, shape.layers)  # the writer's shape
    assert tuned.learning_rate == writers.FINE_TUNE_LEARNING_RATE
    assert tuned.batch_size == blank.batch_size  # the same training settings, only the shape is the writer's
    poems = (HELDOUT / "poems.txt").read_text(encoding="utf-8")
    assert len(poems) > SMALL_TEXT_CHARS and bench.settings(poems, 60.0, "blank")[0].units == 256  # unfitted
