"""charlab: teach a character-level recurrent network to write like a text, and watch it learn.

The public API, by concept (one module each). None of these imports TensorFlow or Streamlit:
TensorFlow is imported only when a model is built, trained or loaded from a `.keras` file.
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
