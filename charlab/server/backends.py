"""Where a server's trainings run: on a Ray cluster (charlab.server.cluster) when $CHARLAB_RAY_ADDRESS is set, else in
a child process (charlab.server.workers) unless $CHARLAB_TRAIN_IN_THREADS=1, else in a thread
(charlab.learning.training).
Every kind has the face charlab.server.jobs.Job declares, so the queue and the pages never ask which one they hold.

This module picks; the kinds never import each other or it.
"""

from __future__ import annotations

from charlab import environment
from charlab.errors import CharlabError
from charlab.learning.training import TrainingJob
from charlab.network.model import ModelConfig
from charlab.server import cluster, workers
from charlab.server.jobs import Job


def trains_in_processes() -> bool:
    """The server's trainings run in child processes unless CHARLAB_TRAIN_IN_THREADS=1."""
    return not environment.trains_in_threads()


def prepare() -> None:
    """Start the spare training process now, so even the first training after the server starts finds one
    ready (charlab.server.workers.prepare). Not on a cluster, whose nodes train."""
    try:
        local = cluster.backend() == "local"
    except CharlabError:  # a cluster that cannot be reached: the page says so (ui.job_registry)
        return
    if trains_in_processes() and local:
        workers.prepare()


def training_job(
    text: str, config: ModelConfig, in_child: bool | None = None, token: str = "", owner: str | None = None, **kwargs
) -> Job:
    """The server's trainings: on a Ray cluster when CHARLAB_RAY_ADDRESS is set (`token` and `owner` let a
    restarted server give it back to its session), else in a child process unless CHARLAB_TRAIN_IN_THREADS=1
    (or `in_child` says). The text and settings are checked once, here, in words
    (charlab.learning.training.plan_training)."""
    if in_child is None and cluster.backend() == "ray":
        return cluster.RayTrainingJob(text, config, token=token, owner=owner, **kwargs)
    if in_child is None:
        in_child = trains_in_processes()
    return (workers.ProcessTrainingJob if in_child else TrainingJob)(text, config, **kwargs)
