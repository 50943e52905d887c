"""Trainings on a Ray cluster (charlab.server.cluster), on a real cluster of several Ray nodes made on this machine
(ray.cluster_utils.Cluster: a head without CPUs for trainings, and worker nodes, each its own raylet)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import ray
from app_pages import contains, go, run, start_tiny_training, wait_done, wait_until
from app_pages import job as session_job
from ray.cluster_utils import Cluster

from charlab import environment
from charlab.errors import CharlabError
from charlab.learning.training import FINISHED, INTERRUPTED, STOPPED
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.server import backends, cluster
from charlab.server.jobs import JobQueue
from ui.job_registry import registry

ROOT = Path(__file__).resolve().parent.parent
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 60
TINY = ModelConfig(cell="gru", units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=2, learning_rate=0.01)
LONG = ModelConfig(**{**TINY.to_dict(), "epochs": 400})  # trains until stopped, or its node goes


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node that runs no training (0 CPUs) and two worker nodes of one CPU each."""
    made = _head_node()
    workers_ = [made.add_node(num_cpus=1) for _ in range(2)]
    made.wait_for_nodes()
    saved = {k: os.environ.get(k) for k in ("CHARLAB_RAY_ADDRESS", "CHARLAB_CPUS_PER_TRAINING")}
    os.environ["CHARLAB_RAY_ADDRESS"] = made.address
    os.environ["CHARLAB_CPUS_PER_TRAINING"] = "1"
    cluster.decide_again()
    assert cluster.backend() == "ray"
    registry.clear()  # this module's app tests get a server whose queue takes its places from the cluster
    yield made, workers_
    registry.clear()  # and the next modules a local one again
    ray.shutdown()
    made.shutdown()
    cluster.decide_again()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _head_node(attempts: int = 3) -> Cluster:
    """A cluster's head, started again when Ray gives up on it: Ray waits a fixed 30 s for a node to register,
    which a machine shared by many test runs sometimes exceeds (the processes of a failed try end with pytest)."""
    for attempt in range(attempts):
        try:
            return Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        except Exception as err:  # "The current node timed out during startup"
            if attempt == attempts - 1:
                raise
            print(f"The test cluster's head did not start ({err}); trying again.", file=sys.stderr)
    raise AssertionError("unreachable")


def _wait_for(condition, seconds: float = 120.0, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_ids(made: Cluster) -> set[str]:
    return {node.node_id for node in made.worker_nodes}


def _charlab_actors() -> list[str]:
    return [
        a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith(cluster.ACTOR_PREFIX)
    ]


def test_a_training_on_a_cluster_node_writes_the_same_run_as_a_local_one_and_generates(ray_cluster, tmp_path):
    made, _ = ray_cluster
    job = backends.training_job(TEXT, TINY, name="on the cluster", root=tmp_path / "server", token="t1")
    assert isinstance(job, cluster.RayTrainingJob)
    progress = job.run()
    assert progress.status == FINISHED, progress.message
    assert job.node["id"] in _worker_ids(made)  # a worker node trained it, not the server's
    run_path = Path(progress.run_path)
    assert run_path.parent == tmp_path / "server"  # the server's own runs folder
    local = backends.training_job(TEXT, TINY, in_child=False, name="here", root=tmp_path / "local").run()
    assert sorted(p.name for p in run_path.iterdir()) == sorted(p.name for p in Path(local.run_path).iterdir())
    info = runs.run_info(run_path)
    assert info.status == "finished" and info.damaged is None and info.metrics["epochs_done"] == 2
    assert [row["epoch"] for row in runs.read_history(run_path)] == [1, 2] == [r["epoch"] for r in progress.history]
    assert [step for step, _ in progress.batch_losses] == list(range(1, progress.step + 1))  # every loss, once
    run = runs.load_run(run_path)
    assert len(run.generator().write("the ", 40, random_seed=0)) == 40
    _wait_for(lambda: not _charlab_actors(), 30, "the finished actor to end")  # a detached actor is ended
    # and its node's copy of the run is gone (the nodes of this simulated cluster share this machine's /tmp)
    assert not list(Path(tempfile.gettempdir()).glob(f"charlab-ray-*/{run_path.name}"))


def test_progress_comes_back_while_it_trains_and_stop_keeps_what_was_learned(ray_cluster, tmp_path):
    job = cluster.RayTrainingJob(TEXT, LONG, name="stop me", root=tmp_path)
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    first = _wait_for(lambda: (p := job.snapshot()).step > 0 and p, what="the first step")
    _wait_for(lambda: job.snapshot().history, what="the first epoch")
    later = job.snapshot()
    assert later.step > first.step and later.run_path == first.run_path and later.run_path.parent == tmp_path
    assert runs.run_info(later.run_path).status == "training"  # this server lists it as training
    job.stop()
    assert job.wait(60)
    thread.join(30)
    p = job.snapshot()
    assert p.status == STOPPED and len(p.history) < LONG.epochs
    info = runs.run_info(p.run_path)
    assert info.status == "stopped" and info.metrics["epochs_done"] == len(p.history)
    assert len(runs.load_run(p.run_path).generator().write("the ", 20, random_seed=0)) == 20


def test_with_a_shared_runs_folder_the_node_writes_the_run_itself_and_the_time_limit_holds(
    ray_cluster, tmp_path, monkeypatch
):
    monkeypatch.setenv("CHARLAB_RAY_SHARED_RUNS", "1")  # tmp_path is the same path on every simulated node
    job = cluster.RayTrainingJob(TEXT, LONG, name="shared", root=tmp_path, time_limit_seconds=3.0)
    progress = job.run()
    assert progress.status == STOPPED and "limit of 3 seconds" in progress.message
    assert job._versions == {}  # nothing came back through Ray: the node wrote the run where the server reads it
    info = runs.run_info(progress.run_path)
    assert info.path.parent == tmp_path and info.status == "stopped" and info.damaged is None
    assert len(runs.load_run(info.path).generator().write("the ", 20, random_seed=0)) == 20


def test_the_queue_takes_its_places_from_the_cluster_nodes(ray_cluster, tmp_path):
    made, _ = ray_cluster
    assert cluster.capacity() == 2  # two worker nodes of one CPU, one training each
    extra = made.add_node(num_cpus=2)
    made.wait_for_nodes()
    try:
        _wait_for(lambda: cluster.capacity() == 4, 30, "the new node's places")
    finally:
        made.remove_node(extra)
    _wait_for(lambda: cluster.capacity() == 2, 60, "the places of the node that left to go")
    queue = JobQueue(capacity=cluster.capacity)
    jobs = [cluster.RayTrainingJob(TEXT, TINY, name=f"queued {i}", root=tmp_path) for i in range(3)]
    handles = [queue.submit(f"student {i}", job) for i, job in enumerate(jobs)]
    assert [h.running for h in handles] == [True, True, False] and queue.position("student 2") == 0
    for job in jobs:
        assert job.wait(180)
    assert [job.snapshot().status for job in jobs] == [FINISHED] * 3


def test_a_node_that_dies_mid_training_leaves_its_run_interrupted_and_loadable(ray_cluster, tmp_path):
    made, _ = ray_cluster
    job = cluster.RayTrainingJob(TEXT, LONG, name="its node dies", root=tmp_path)
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    _wait_for(lambda: len(job.snapshot().history) >= 2, what="two epochs")
    _wait_for(lambda: (tmp_path / job.snapshot().run_path.name / "weights.npz").is_file(), what="a checkpoint")
    victim = next(node for node in made.worker_nodes if node.node_id == job.node["id"])
    made.remove_node(victim)
    try:
        assert job.wait(120)
        p = job.snapshot()
        assert p.status == INTERRUPTED and "stopped answering" in p.message and "checkpoint" in p.message
        info = runs.run_info(p.run_path)
        assert info.status == "interrupted" and info.damaged is None
        run = runs.load_run(p.run_path)
        assert len(run.generator().write("the ", 20, random_seed=0)) == 20
        assert run.history()  # the epochs that reached the server
    finally:
        made.add_node(num_cpus=1)  # the other tests' cluster again
        made.wait_for_nodes()


def test_a_restarted_server_finds_its_running_trainings_again(ray_cluster, tmp_path):
    """A server process starts a training on the cluster, then dies (SIGKILL); a new server re-attaches."""
    made, _ = ray_cluster
    script = textwrap.dedent(f"""
        import os, sys, threading, time
        sys.path.insert(0, {str(ROOT)!r})
        from charlab.server import cluster
        from charlab.network.model import ModelConfig
        job = cluster.RayTrainingJob({TEXT!r}, ModelConfig(**{LONG.to_dict()!r}), name="survives",
                                     root={str(tmp_path)!r}, token="student-token", owner="ada")
        threading.Thread(target=job.run, daemon=True).start()
        while len(job.snapshot().history) < 1:
            time.sleep(0.1)
        print(job.snapshot().run_path, flush=True)
        os.kill(os.getpid(), 9)
    """)
    env = dict(os.environ, CHARLAB_RAY_ADDRESS=made.address)
    said = tmp_path / "server.out"
    with said.open("w") as out:  # a file, not a pipe: processes Ray started may hold a pipe open after the kill
        server = subprocess.run([sys.executable, "-c", script], env=env, stdout=out, stderr=subprocess.DEVNULL,
                                timeout=240)  # fmt: skip
    run_path = Path(said.read_text().strip().splitlines()[-1])
    assert server.returncode == -9 and run_path.parent == tmp_path

    queue = JobQueue(capacity=cluster.capacity)  # the new server's queue
    assert cluster.reattach(queue) == 1
    handle = queue.touch("student-token")  # the same session (a reload) finds it
    assert handle is not None and handle.owner == "ada" and handle.running
    job = handle.job
    _wait_for(lambda: job.snapshot().step > 0 and job.snapshot().run_path == run_path, what="its progress")
    assert job.name == "survives" and runs.run_info(run_path).status == "training"
    assert queue.stop("student-token")  # and Stop works from the new server
    assert job.wait(60)
    assert job.snapshot().status == STOPPED and runs.run_info(run_path).status == "stopped"
    assert runs.load_run(run_path).history()
    _wait_for(lambda: not _charlab_actors(), 30, "the actor to end")


def test_continue_on_the_cluster_appends_to_the_same_run(ray_cluster, tmp_path):
    first = cluster.RayTrainingJob(TEXT, TINY, name="twice", root=tmp_path).run()
    more = ModelConfig(**{**TINY.to_dict(), "epochs": 1})
    second = cluster.RayTrainingJob(TEXT, more, name="twice", root=tmp_path, resume_from=first.run_path).run()
    assert second.status == FINISHED, second.message
    assert second.run_path == first.run_path
    assert [row["epoch"] for row in runs.read_history(first.run_path)] == [1, 2, 3]
    assert len(runs.list_runs(tmp_path)) == 1


@pytest.mark.usefixtures("entry_script_runs_every_time")
def test_the_train_page_trains_on_the_cluster_and_stops_it_as_a_local_training(ray_cluster, workspace):
    made, _ = ray_cluster
    at = start_tiny_training(epochs=500)
    training = session_job(at)
    assert isinstance(training, cluster.RayTrainingJob)
    wait_until(lambda: training.snapshot().step >= 3, timeout=120)
    run(at)
    assert not at.button(key="train_stop").disabled and training.node["id"] in _worker_ids(made)
    run(at.button(key="train_stop").click())
    wait_done(at)
    assert training.snapshot().status == "stopped"
    assert contains(at.info, "Stopped: what was learned is saved.")
    [info] = runs.list_runs(workspace)
    assert info.status == "stopped" and info.damaged is None and info.path.parent == workspace
    go(at, "generate")
    run(at.button(key="generate_go").click())
    assert len(at.session_state["generate_output"]["text"]) == at.session_state["generate"].length


@pytest.mark.parametrize(
    "environ, words",
    [
        ({"CHARLAB_RAY_ADDRESS": "127.0.0.1:1"}, "cannot be reached: nothing answers there"),
        ({"CHARLAB_RAY_ADDRESS": "127.0.0.1:1", "CHARLAB_RAY_FALLBACK": "local"}, "local"),
        ({"CHARLAB_RAY_ADDRESS": "127.0.0.1:1", "CHARLAB_CPUS_PER_TRAINING": "many"}, "CHARLAB_CPUS_PER_TRAINING"),
        ({}, "local · ray imported: False"),  # not configured: Ray is never imported
    ],
)
def test_an_unreachable_cluster_is_said_at_once_or_falls_back_to_local(environ, words):
    """In a fresh process: this one is connected to the test cluster."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from charlab import environment
        from charlab.server import cluster
        from charlab.errors import CharlabError
        try:
            environment.resources_per_training()
            print(cluster.backend(), "· ray imported:", "ray" in sys.modules)
        except CharlabError as err:
            print(err)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARLAB_")}
    # Ray alone retries an address that does not answer for minutes: the timeout fails such a wait
    out = subprocess.run([sys.executable, "-c", script], env={**env, **environ}, capture_output=True, text=True,
                         timeout=45)  # fmt: skip
    assert words in out.stdout, out.stdout + out.stderr


def test_resources_per_training_are_checked(monkeypatch):
    monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "2")
    monkeypatch.setenv("CHARLAB_GPUS_PER_TRAINING", "0.25")
    assert environment.resources_per_training() == (2.0, 0.25)
    for bad in ("0", "-1", "nan", "two"):
        monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", bad)
        with pytest.raises(CharlabError, match="CHARLAB_CPUS_PER_TRAINING must be a number above 0"):
            environment.resources_per_training()
    monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "1")
    monkeypatch.setenv("CHARLAB_GPUS_PER_TRAINING", "0")
    assert environment.resources_per_training() == (1.0, 0.0)


def test_a_training_no_node_can_hold_is_refused_at_start_naming_the_setting(ray_cluster, tmp_path, monkeypatch):
    """Before, CHARLAB_CPUS_PER_TRAINING above every node's CPUs was taken: the queue read 0 places and the
    training waited forever, said to wait for other trainings."""
    monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "2")  # the worker nodes have 1 CPU each
    with pytest.raises(CharlabError) as refused:
        cluster.RayTrainingJob(TEXT, TINY, name="too big", root=tmp_path)
    assert "CHARLAB_CPUS_PER_TRAINING=2 but the largest computer of the cluster has 1 CPU: set it to 1 or less" in str(
        refused.value
    )
    monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "1")
    monkeypatch.setenv("CHARLAB_GPUS_PER_TRAINING", "1")  # no node has a GPU
    with pytest.raises(CharlabError, match="CHARLAB_GPUS_PER_TRAINING=1 but the largest computer of the cluster has 0"):
        cluster.RayTrainingJob(TEXT, TINY, name="no GPU", root=tmp_path)
    assert not list(tmp_path.iterdir()) and not _charlab_actors()  # nothing was prepared or started


def test_a_waiting_training_says_no_node_can_hold_it_not_that_others_train(ray_cluster, tmp_path, monkeypatch):
    job = cluster.RayTrainingJob(TEXT, TINY, name="waits", root=tmp_path)  # fits: 1 CPU per training
    monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "2")  # and then no node can hold it (as if the nodes changed)
    room = cluster.QueueRoom(every_seconds=0.0)
    queue = JobQueue(capacity=room.places, why_no_place=room.why_none)
    handle = queue.submit("student", job)
    try:
        assert handle.waiting
        words = queue.waiting_words("yours is next")
        assert words.startswith("Waiting (yours is next): No computer of the cluster can hold a training:")
        assert "CHARLAB_CPUS_PER_TRAINING=2 but the largest computer of the cluster has 1 CPU" in words
        assert "other trainings" not in words
        monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "1")
        assert queue.waiting_words("yours is next").startswith("Waiting for a free place: other trainings are using "
                                                               "the cluster's computers")  # fmt: skip
    finally:
        queue.cancel("student")


@pytest.mark.usefixtures("entry_script_runs_every_time")
def test_start_refuses_on_the_page_when_no_node_can_hold_a_training(ray_cluster, workspace, monkeypatch):
    monkeypatch.setenv("CHARLAB_CPUS_PER_TRAINING", "4")
    at = start_tiny_training()
    assert contains(at.error, "CHARLAB_CPUS_PER_TRAINING=4 but the largest computer of the cluster has 1 CPU: set it")
    assert registry().queue.touch(at.session_state["token"]) is None  # nothing was queued
    assert not at.button(key="train_start").disabled  # the settings and text are kept for the next click


@pytest.mark.usefixtures("entry_script_runs_every_time")
def test_when_the_nodes_leave_a_waiting_training_says_so(ray_cluster, workspace):
    made, _ = ray_cluster
    for node in list(made.worker_nodes):
        made.remove_node(node)
    try:
        _wait_for(lambda: registry().queue.max_trainings == 0, 120, "the queue to see no room")
        at = start_tiny_training()
        assert not at.error and registry().queue.touch(at.session_state["token"]).waiting
        assert contains(at.info, "Waiting (yours is next): No computer of the cluster has a CPU for trainings now")
        assert not contains(at.info, "other trainings")
        run(at.button(key="train_stop").click())  # leaves the queue: nothing was trained
        assert registry().queue.touch(at.session_state["token"]) is None
    finally:
        for _ in range(2):
            made.add_node(num_cpus=1)  # the other tests' cluster again
        made.wait_for_nodes()
        _wait_for(lambda: cluster.capacity() == 2, 120, "the nodes' places to come back")


@pytest.mark.parametrize("fallback, words", [("", "but something else than a Ray cluster answers there"),
                                             ("local", "local")])  # fmt: skip
def test_another_service_at_the_address_is_refused_within_seconds(fallback, words):
    """A web server (here a plain one on this machine, as Ray's dashboard would be) where the cluster should
    be: before, the connection succeeded and Ray then retried for minutes, the server hanging meanwhile."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from charlab.server import cluster
        from charlab.errors import CharlabError
        try:
            print(cluster.backend())
        except CharlabError as err:
            print(err)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARLAB_")}
    env.update(CHARLAB_RAY_ADDRESS=address, CHARLAB_RAY_FALLBACK=fallback)
    try:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    said = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert words in said, out.stdout + out.stderr
    if not fallback:
        assert said.startswith(f"CHARLAB_RAY_ADDRESS is {address}") and "(a web server" in said


def test_room_says_which_setting_asks_more_than_the_largest_computer():
    two_cpus, gpu_node = {"CPU": 2.0}, {"CPU": 1.0, "GPU": 1.0}
    assert cluster.room_on([two_cpus, two_cpus], 1.0, 0.0) == cluster.Room(4)
    assert cluster.room_on([two_cpus, gpu_node], 1.0, 0.25) == cluster.Room(1)  # only the GPU node holds one
    too_many = cluster.room_on([two_cpus, {"CPU": 0.0}], 3.0, 0.0)
    assert too_many.places == 0 and too_many.setting == "CHARLAB_CPUS_PER_TRAINING"
    assert (
        "CHARLAB_CPUS_PER_TRAINING=3 but the largest computer of the cluster has 2 CPUs: set it to 2"
        in too_many.why_none
    )
    on_gpu = cluster.room_on([{"CPU": 8.0}, gpu_node], 2.0, 0.5)
    assert on_gpu.setting == "CHARLAB_CPUS_PER_TRAINING" and "largest computer of the cluster with a GPU has 1 CPU" in (
        on_gpu.why_none
    )
    gpus = cluster.room_on([gpu_node], 1.0, 2.0)
    assert gpus.setting == "CHARLAB_GPUS_PER_TRAINING" and "has 1 GPU: set it to 1 or less" in gpus.why_none
    left = cluster.room_on([{"CPU": 0.0}], 1.0, 0.0)  # only the head, which runs no training
    assert left.setting is None and "No computer of the cluster has a CPU for trainings now" in left.why_none


def test_a_cluster_that_cannot_say_its_room_is_said_to_a_waiting_training():
    def no_answer() -> int:
        raise ConnectionError("the head stopped answering")

    queue = JobQueue(capacity=no_answer, why_no_place=lambda: None)
    assert queue.max_trainings == 0
    assert queue.waiting_words("yours is next") == (
        "Waiting (yours is next): The cluster cannot say now how many trainings it holds (the head stopped "
        "answering). Training starts by itself once a computer of the cluster can hold it."
    )
    local = JobQueue(max_trainings=1)
    assert local.waiting_words("2nd in the queue") == (
        "Waiting for a free place: other trainings are using this computer (2nd in the queue). "
        "Training starts by itself."
    )
