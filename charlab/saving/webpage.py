"""A run as one web page that writes: offline, by double-click from disk, with no Python and no server.

The page is one .html file: the weights (float16, base64), the vocabulary and the words go in a
`<script type="application/json">` data block, the network runs in one inline script (each cell's
step from charlab.network.cells, the rest in webpage_assets/page.js). A page opened from `file://` cannot
fetch a sibling file, so nothing is outside it; a Content-Security-Policy lets only that one
script run (by its hash) and allows no connection anywhere.

Everything from the run (its name, its text's name, the vocabulary, the epoch texts) is data:
JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped, so `</script>` in a run name cannot close the
block, and the page puts it on screen with `textContent` only.

What the weights cost: float16 is 2 bytes a number, 2.67 once in base64 (float32: 5.33). The
default GRU 256 (about 240,000 numbers for 65 characters) makes a page of about 0.66 MB; the
5-minute preset's GRU 384 about 1.4 MB (bench/webpage.py measures them). Rounding to float16
moves a logit by about 1e-3; bench/webpage.py and tests/test_webpage.py say when that changes
the greedy text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from importlib import resources
from pathlib import Path

import numpy as np

from charlab.errors import CharlabError
from charlab.network.cells import JS_PRELUDE, cell_type, js_cells_source
from charlab.network.generation import COMPARE_TEMPERATURES, GENERATE_SETTINGS
from charlab.network.model import count_parameters
from charlab.saving import runs
from charlab.saving.weights import expected_shapes
from charlab.text import corpus

ENCODINGS = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
# ~13 MB of page: the app trains up to 5 million numbers by default (charlab.limits), and a page that big
# still opens in a second or two; a teacher's bigger model is refused in words
MAX_PAGE_PARAMETERS = 5_000_000
MAX_LENGTH = 5_000  # characters one Write may ask for, as the app's default (charlab.limits)
MAX_EPOCH_TEXTS = 12  # the texts written while it learned: the first, the last and some between
ASSETS = "webpage_assets"
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def export_html(run: str | Path | runs.Run, encoding: str = "float16") -> str:
    """The run as one self-contained web page (the text of a .html file)."""
    if not isinstance(run, runs.Run):
        run = runs.load_run(run)
    if encoding not in ENCODINGS:
        raise CharlabError(f"Weights can be written as {' or '.join(ENCODINGS)}, not '{encoding}'.")
    problem = export_problem(run.info)
    if problem:
        raise CharlabError(problem)
    script = page_script()
    return _fill(
        _asset("page.html"),
        csp=content_security_policy(script, _asset("page.css")),
        style=_asset("page.css"),
        data=json_for_html(page_data(run, encoding)),
        script=script,
    )


def export_problem(info: runs.RunInfo) -> str | None:
    """Why the run cannot become a web page (no model saved yet, or too big), in words; None when it can."""
    if info.config is None or info.damaged:
        return info.damaged or "This run cannot be read."
    if not any((info.path / name).exists() for name in ("weights.npz", "model.keras")):
        return f"«{info.name}» has no saved model yet: it can become a web page after its first checkpoint."
    numbers = count_parameters(info.config, info.vocab_size)
    if numbers <= MAX_PAGE_PARAMETERS:
        return None
    return (
        f"«{info.name}» has {numbers:,} numbers to learn: as a web page it would weigh about "
        f"{numbers * 8 / 3 / 1e6:.0f} MB, too big to open quickly. A web page holds a model of up to "
        f"{MAX_PAGE_PARAMETERS:,} numbers (the app's largest by default); download it as a .zip instead."
    )


def page_script() -> str:
    """The page's one inline script: the cells' JavaScript from charlab.network.cells, then the page's own."""
    script = "\n".join(['"use strict";', JS_PRELUDE, js_cells_source(), _asset("page.js")])
    if re.search(r"</script|<!--", script, re.IGNORECASE):  # would end the script element early
        raise CharlabError("The page's script cannot be put inside a web page (it holds '</script').")
    return script


def content_security_policy(script: str, style: str) -> str:
    """Only this script and this style may run; no connection, font, frame or outside image at all."""
    return (
        f"default-src 'none'; script-src '{_sha256(script)}'; style-src '{_sha256(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def page_data(run: runs.Run, encoding: str = "float16") -> dict:
    """What the page shows and runs, as plain JSON values."""
    config, info = run.config, run.info
    return {
        "name": info.name,
        "corpus_name": info.corpus_name,
        "facts": facts_words(run),
        "start_from": run.info.writer_name,
        "cell": config.cell,
        "units": config.units,
        "layers": config.layers,
        "vocab": list(run.vocab.chars),
        "visible": [corpus.visible(ch) for ch in run.vocab.chars],
        "weights": encode_weights(run, encoding),
        "epoch_texts": _some_epoch_texts(run.epoch_texts()),
        "compare_temperatures": list(COMPARE_TEMPERATURES),
        "settings": settings_data(len(run.vocab)),
        "words": {
            "numbers_help": numbers_help(),
            "footer": "Trained with charlab. This page runs the network by itself, offline: it sends nothing "
            "anywhere and keeps no record of what you write.",
        },
    }


def settings_data(vocab_size: int) -> dict[str, dict]:
    """Each generation setting as the page's inputs draw it (charlab.network.generation.GENERATE_SETTINGS): its label,
    help, default and the range its input offers, the length capped at MAX_LENGTH, top-k at the vocabulary."""
    caps = {"length": MAX_LENGTH, "top_k": vocab_size}
    data = {}
    for name, setting in GENERATE_SETTINGS.items():
        low, high = setting.app_range or (0, setting.high)
        data[name] = {
            "label": setting.label,
            "help": setting.help,
            "default": setting.default,
            "min": low,
            "max": min(high, caps.get(name, high)),
            "step": setting.step,
            "whole": setting.kind is int,  # typed in a box: checked before writing
            "placeholder": setting.placeholder,
        }
        if setting.clamp:  # beyond these the value changes nothing: the page keeps it within, as charlab does
            data[name]["kept_within"] = [setting.low, setting.high]
    return data


def numbers_help() -> str:
    """Top-k's and the random seed's help in one line, under the row of number boxes."""
    top_k = GENERATE_SETTINGS["top_k"].help
    return f"Top-k: {top_k[0].lower()}{top_k[1:]} {GENERATE_SETTINGS['random_seed'].help}"


def facts_words(run: runs.Run) -> str:
    """'Learned from tiny-shakespeare.txt · GRU 256 · best validation loss 1.476', in the app's words."""
    config, info = run.config, run.info
    layers = f"{config.layers}×" if config.layers > 1 else ""
    learned = f"Learned from {info.corpus_name}" if info.corpus_name else "Learned from a text"
    how_well = runs.best_loss_words(info.best_loss, info.best_loss_on)
    writer = info.writer_name
    started = f" · fine-tuned from {writer}" if writer else ""
    return f"{learned}{started} · {layers}{cell_type(config.cell).label} {config.units} · {how_well}"


def encode_weights(run: runs.Run, encoding: str = "float16") -> dict:
    """Every array in one little-endian block, base64; the page finds each by its offset (in numbers)."""
    dtype = ENCODINGS[encoding]
    names = list(expected_shapes(run.config, len(run.vocab)))
    arrays, offset = [], 0
    for name in names:
        shape = list(run.weights[name].shape)
        arrays.append({"name": name, "shape": shape, "offset": offset})
        offset += math.prod(shape)
    flat = np.concatenate([run.weights[name].astype(dtype).ravel() for name in names])
    return {"encoding": encoding, "arrays": arrays, "data": base64.b64encode(flat.tobytes()).decode("ascii")}


def rounded_weights(weights: dict[str, np.ndarray], encoding: str = "float16") -> dict[str, np.ndarray]:
    """The weights as the page sees them: rounded to `encoding`, back in float32 (for comparing with numpy)."""
    return {name: array.astype(ENCODINGS[encoding]).astype(np.float32) for name, array in weights.items()}


def json_for_html(value: object) -> str:
    """JSON that cannot end its <script> block or a line of script: <, >, &, U+2028, U+2029 as \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group()], text)


def _some_epoch_texts(entries: list[dict]) -> list[dict]:
    """At most MAX_EPOCH_TEXTS, evenly spread from the first to the last; only the fields the page shows."""
    if len(entries) > MAX_EPOCH_TEXTS:
        step = (len(entries) - 1) / (MAX_EPOCH_TEXTS - 1)
        entries = [entries[round(i * step)] for i in range(MAX_EPOCH_TEXTS)]
    return [
        {"epoch": _number(e.get("epoch")), "temperature": _number(e.get("temperature")), "text": e["text"]}
        for e in entries
    ]


def _number(value: object) -> float | int | str:
    """A number from a run file, as the page may print it (a hand-edited file may hold anything)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value
    return str(value)


def _asset(name: str) -> str:
    return resources.files("charlab.saving").joinpath(ASSETS, name).read_text(encoding="utf-8")


def _fill(template: str, **parts: str) -> str:
    """{{name}} markers replaced in one pass: a part's own text is never searched for markers."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], template)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def suggested_file_name(run: runs.Run | runs.RunInfo) -> str:
    info = run.info if isinstance(run, runs.Run) else run
    return f"{runs.slugify(info.name)}.html"
