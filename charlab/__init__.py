"""charlab: teach a character-level recurrent network to write like a text, and watch it learn.

The package in folders, each building only on the ones before it (tests/test_imports.py checks):
- text/      the text: reading and cleaning it, its characters, training windows, ready-made texts, baselines
- network/   the network: settings and Keras model, cells, precision, writing one character at a time in numpy
- saving/    a run on disk: its folder, its format's versions, checked weights, a zip, one offline web page
- learning/  training: the training job, its verdict, presets sized to this computer, the shipped writers
- server/    many users on one machine: the queue, training processes or a Ray cluster, owners, the board
- teaching/  lesson tools: copying, neurons, lesson links and files (server and teaching never import each other)
On top: errors (CharlabError, the one exception a user reads), environment and limits (how an installation is
configured), cli (`python -m charlab`).

The public API below is the most used of it, imported on first use. None of it imports TensorFlow or
Streamlit: TensorFlow is imported only when a model is built, trained or loaded from a `.keras` file.
"""

from __future__ import annotations

import importlib
from typing import Any

# the public API: each name, the module that holds it. Imported on first use (PEP 562), not here: this file
# then imports nothing, so two threads of a server importing charlab's modules at once never wait on each other
# (an eager import here held the package's import lock while it imported half of charlab, and a module doing
# `from charlab import environment` in another thread waited for it: a deadlock, seen in a browser test)
PUBLIC: dict[str, str] = {
    "CharlabError": "charlab.errors",
    **dict.fromkeys(("Progress", "Timelapse", "TrainingJob"), "charlab.learning.training"),
    **dict.fromkeys(("ModelConfig", "count_parameters", "estimate", "parameter_table"), "charlab.network.model"),
    **dict.fromkeys(("Generator", "NumpyCharModel", "probabilities"), "charlab.network.sampling"),
    **dict.fromkeys(("RunInfo", "list_runs", "load_run", "workspace"), "charlab.saving.runs"),
    **dict.fromkeys(("JobHandle", "JobQueue"), "charlab.server.jobs"),
    **dict.fromkeys(("list_all_runs", "owner_workspace"), "charlab.server.owners"),
    **dict.fromkeys(
        ("CLEANING_MODES", "Corpus", "CorpusStats", "clean", "load_bytes", "load_path", "stats"), "charlab.text.corpus"
    ),
    "Vocab": "charlab.text.vocab",
}


def __getattr__(name: str) -> Any:
    if name not in PUBLIC:
        raise AttributeError(f"module 'charlab' has no attribute {name!r}")
    found = getattr(importlib.import_module(PUBLIC[name]), name)
    globals()[name] = found  # the next look-up is a plain attribute
    return found


def __dir__() -> list[str]:
    return sorted({*globals(), *PUBLIC})


__all__ = tuple(sorted(PUBLIC))
