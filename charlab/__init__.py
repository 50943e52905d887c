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

The public API below is the most used of it. None of these imports TensorFlow or Streamlit: TensorFlow is
imported only when a model is built, trained or loaded from a `.keras` file.
"""

from charlab.errors import CharlabError
from charlab.learning.training import Progress, Timelapse, TrainingJob
from charlab.network.model import ModelConfig, count_parameters, estimate, parameter_table
from charlab.network.sampling import Generator, NumpyCharModel, probabilities
from charlab.saving.runs import RunInfo, list_runs, load_run, workspace
from charlab.server.jobs import JobHandle, JobQueue
from charlab.server.owners import list_all_runs, owner_workspace
from charlab.text.corpus import CLEANING_MODES, Corpus, CorpusStats, clean, load_bytes, load_path, stats
from charlab.text.vocab import Vocab

__all__ = (
    "CLEANING_MODES",
    "CharlabError",
    "Corpus",
    "CorpusStats",
    "Generator",
    "JobHandle",
    "JobQueue",
    "ModelConfig",
    "NumpyCharModel",
    "Progress",
    "RunInfo",
    "Timelapse",
    "TrainingJob",
    "Vocab",
    "clean",
    "count_parameters",
    "estimate",
    "list_all_runs",
    "list_runs",
    "load_bytes",
    "load_path",
    "load_run",
    "owner_workspace",
    "parameter_table",
    "probabilities",
    "stats",
    "workspace",
)
