"""Trainings on a Ray cluster, for a class bigger than one machine: each training is a Ray actor on
whichever node has room, and the server follows it as it follows a local one.

Off unless $CHARLAB_RAY_ADDRESS is set (charlab.environment); `ray` is imported only then
(`pip install -r requirements-cluster.txt`). With it:

- a training asks Ray for its CPUs (and a share of a GPU where the cluster has some) and runs in a
  detached actor named after it, so a restarted server finds it again (`reattach`);
- the page polls `RayTrainingJob` exactly as a `ProcessTrainingJob`: the same `Progress`, Stop, time
  limit, verdicts and time-lapse;
- the node trains into a folder of its own and each poll brings back the run's files that changed,
  which the server writes into its runs folder with the same atomic writes; with
  $CHARLAB_RAY_SHARED_RUNS=1 the nodes write into a runs folder mounted at the same path everywhere;
- a node that dies leaves its run interrupted at its last checkpoint, which stays loadable;
- the queue's number of places follows the cluster's nodes (`capacity`).

Nothing here is ever given a user's file: an actor gets the server's own checked text and settings.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from charlab import environment
from charlab.errors import CharlabError
from charlab.learning.training import FAILED, INTERRUPTED, STARTING, Progress, TrainingJob, TrainingPlan, plan_training
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.server.remote import TrainedElsewhere
from charlab.text.vocab import Vocab

NAMESPACE = "charlab"
ACTOR_PREFIX = "charlab-training-"
POLL_SECONDS = 0.25  # how stale the server's copy of a training's progress may be, as for a local child
CALL_TIMEOUT_SECONDS = 20.0  # one poll of a live actor takes milliseconds; an actor not yet placed waits
REACH_SECONDS = 3.0  # a cluster's address must answer this quickly at start-up
ANSWER_SECONDS = 10.0  # and say it speaks Ray's protocol (gRPC) this quickly: a live head does in milliseconds
UNAVAILABLE_SECONDS = 60.0  # an actor unreachable this long is taken for gone with its node
GPU_SHARE_WHEN_PRESENT = 0.25  # several small networks share one GPU (TensorFlow's memory growth is on)
_log = logging.getLogger(__name__)

_connect_lock = threading.Lock()
_backend: str | None = None  # "ray" or "local", decided once per server process


# ---------------------------------------------------------------- connecting


def configured() -> bool:
    return environment.ray_address() is not None


def backend() -> str:
    """Where this server's trainings run: "ray" (connected), or "local" (not configured, or unreachable
    with $CHARLAB_RAY_FALLBACK=local). An unreachable cluster without the fallback raises, in words."""
    global _backend
    with _connect_lock:
        if _backend is not None:
            return _backend
        environment.check_cluster_settings()  # a mistyped setting is said, never fallen back from
        if not configured():
            _backend = "local"
            return _backend
        try:
            _connect()
        except CharlabError as err:
            if not environment.ray_fallback_local():
                raise
            _log.warning("%s Training on this machine instead (CHARLAB_RAY_FALLBACK=local).", err)
            _backend = "local"
            return _backend
        _backend = "ray"
        return _backend


def decide_again() -> None:
    """Forget where trainings run, so the next `backend()` reads CHARLAB_RAY_ADDRESS again (a test or a
    bench that points it at another cluster)."""
    global _backend
    with _connect_lock:
        _backend = None


def _connect() -> None:
    address = environment.ray_address()
    if address is None:
        raise CharlabError("No Ray cluster is configured (CHARLAB_RAY_ADDRESS is not set).")
    try:
        import ray
    except ImportError as err:
        raise CharlabError(
            f"CHARLAB_RAY_ADDRESS is set ({address}) but Ray is not installed. "
            "Install it with: pip install -r requirements-cluster.txt"
        ) from err
    _check_reachable(address)  # first: this process may be connected to another cluster (a test's)
    if ray.is_initialized():
        return
    package = str(Path(__file__).resolve().parents[1])  # the whole charlab package
    try:
        ray.init(
            address=address,
            namespace=NAMESPACE,
            runtime_env={"py_modules": [package]},  # the nodes need Python and the requirements, not charlab
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except Exception as err:  # ConnectionError, RuntimeError, ValueError... each Ray version words it its own way
        raise CharlabError(
            f"The Ray cluster at {address} (CHARLAB_RAY_ADDRESS) cannot be reached: {str(err).rstrip('.')}. "
            "Start it with 'ray start --head' and check the address, or set CHARLAB_RAY_FALLBACK=local to "
            "train on this machine meanwhile."
        ) from err


def _check_reachable(address: str) -> None:
    """A host:port where nothing answers, or something else than Ray (a web server, Ray's own dashboard), is
    said in seconds: Ray itself retries for minutes either way."""
    target = address.removeprefix("ray://")
    if address == "auto" or ":" not in target:
        return  # "auto" finds a cluster started on this machine, and says so at once when there is none
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_SECONDS) as connection:
            reply = _grpc_greeting(connection)
    except (OSError, ValueError) as err:
        raise CharlabError(
            f"The Ray cluster at {address} (CHARLAB_RAY_ADDRESS) cannot be reached: nothing answers there "
            f"({err}). Start it with 'ray start --head' and check the address, or set "
            "CHARLAB_RAY_FALLBACK=local to train on this machine meanwhile."
        ) from err
    if not _is_http2_settings(reply) and not _ray_uses_tls():
        web = " (a web server; Ray's dashboard, on port 8265, is one)" if reply.startswith((b"HTTP/", b"<")) else ""
        raise CharlabError(
            f"CHARLAB_RAY_ADDRESS is {address}, but something else than a Ray cluster answers there{web}. Set it "
            "to the address 'ray start --head' printed (HOST:6379 unless it was given another port, or "
            "ray://HOST:10001), or set CHARLAB_RAY_FALLBACK=local to train on this machine meanwhile."
        )


# A gRPC server (Ray's head, and Ray Client) speaks HTTP/2 over plain TCP: told HTTP/2's connection preface
# and an empty SETTINGS frame, it answers with a SETTINGS frame of its own at once.
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_HTTP2_FRAME_HEADER = 9  # bytes: length (3), type (1), flags (1), stream (4)
_HTTP2_SETTINGS = 4


def _grpc_greeting(connection: socket.socket) -> bytes:
    """The first frame header the service at the other end answers to HTTP/2's preface (less if it closes
    or stays silent for ANSWER_SECONDS)."""
    connection.settimeout(ANSWER_SECONDS)
    connection.sendall(_HTTP2_PREFACE)
    reply = b""
    try:
        while len(reply) < _HTTP2_FRAME_HEADER:
            chunk = connection.recv(_HTTP2_FRAME_HEADER - len(reply))
            if not chunk:
                break
            reply += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return reply


def _is_http2_settings(reply: bytes) -> bool:
    return len(reply) == _HTTP2_FRAME_HEADER and reply[3] == _HTTP2_SETTINGS and reply[5:9] == bytes(4)


def _ray_uses_tls() -> bool:
    """Ray's own $RAY_USE_TLS: its head then speaks TLS first, so the plain greeting above cannot tell it apart."""
    return os.environ.get("RAY_USE_TLS", "0").strip().lower() in ("1", "true")


def _ray():
    """Ray, connected to the configured cluster (never a new local one, as Ray's own first call would start)."""
    import ray

    if not ray.is_initialized():
        with _connect_lock:
            _connect()
    return ray


def resources() -> tuple[float, float]:
    """(CPUs, GPUs) one training asks of the cluster."""
    cpus, gpus = environment.resources_per_training()
    if gpus is None:
        gpus = GPU_SHARE_WHEN_PRESENT if _ray().cluster_resources().get("GPU", 0) > 0 else 0.0
    return cpus, gpus


@dataclass(frozen=True)
class Room:
    """How many trainings the cluster's live nodes hold at once now and, when none, why in words; `setting`
    names the variable to change when it asks more than the largest node has (Start refuses then)."""

    places: int
    why_none: str | None = None
    setting: str | None = None


def room() -> Room:
    """The room on the cluster's live nodes now, for trainings as CHARLAB_*_PER_TRAINING asks (`room_on`)."""
    cpus, gpus = resources()
    return room_on([node.get("Resources") or {} for node in _ray().nodes() if node.get("Alive")], cpus, gpus)


def capacity() -> int:
    """How many trainings the cluster's live nodes hold at once now (`room`)."""
    return room().places


def check_room() -> None:
    """Start refuses a training that no live node can hold because a setting asks too much, in words naming it."""
    now = room()
    if now.setting is not None:
        raise CharlabError(f"{now.why_none} Then start the server again.")


def room_on(nodes: list[dict[str, float]], cpus: float, gpus: float) -> Room:
    """Each node (Ray's resources of a live node: {"CPU": 2.0, "GPU": 1.0, ...}) fits as many trainings as its
    CPUs (and GPUs) allow, so a training is never split across nodes; when none fits, why."""
    places = sum(_fits(have, cpus, gpus) for have in nodes)
    if places:
        return Room(places)
    if max((have.get("CPU", 0.0) for have in nodes), default=0.0) <= 0:
        return Room(0, "No computer of the cluster has a CPU for trainings now (they may have left the cluster).")
    cannot = "No computer of the cluster can hold a training:"
    if gpus > 0:
        most_gpus = max(have.get("GPU", 0.0) for have in nodes)
        if most_gpus < gpus:
            fix = f"set it to {most_gpus:g} or less" if most_gpus > 0 else "set it to 0"
            words = f"CHARLAB_GPUS_PER_TRAINING={gpus:g} but the largest computer of the cluster has {_gpus(most_gpus)}"
            return Room(0, f"{cannot} {words}: {fix}.", "CHARLAB_GPUS_PER_TRAINING")
        nodes = [have for have in nodes if have.get("GPU", 0.0) >= gpus]  # those that hold its share of a GPU
    largest = "the largest computer of the cluster" + (" with a GPU" if gpus > 0 else "")
    most_cpus = max(have.get("CPU", 0.0) for have in nodes)
    if most_cpus <= 0:
        words = "its computers with a GPU have no CPU for trainings: set CHARLAB_GPUS_PER_TRAINING to 0"
        return Room(0, f"{cannot} {words}.", "CHARLAB_GPUS_PER_TRAINING")
    words = f"CHARLAB_CPUS_PER_TRAINING={cpus:g} but {largest} has {_cpus(most_cpus)}"
    return Room(0, f"{cannot} {words}: set it to {most_cpus:g} or less.", "CHARLAB_CPUS_PER_TRAINING")


def _fits(have: dict[str, float], cpus: float, gpus: float) -> int:
    fits = int(have.get("CPU", 0.0) // cpus + 1e-9)
    if gpus > 0:
        fits = min(fits, int(have.get("GPU", 0.0) // gpus + 1e-9))
    return fits


def _cpus(count: float) -> str:
    return f"{count:g} CPU" + ("" if count == 1 else "s")


def _gpus(count: float) -> str:
    return f"{count:g} GPU" + ("" if count == 1 else "s")


class QueueRoom:
    """`room`, asked of the cluster at most every few seconds (the queue asks at every page run): the queue's
    number of places (charlab.server.jobs.JobQueue's `capacity`) and, when none, why (its `why_no_place`)."""

    def __init__(self, every_seconds: float = 5.0):
        self._every, self._at, self._room = every_seconds, -1e9, Room(0)
        self._lock = threading.Lock()

    def places(self) -> int:
        return self._now().places

    def why_none(self) -> str | None:
        return self._now().why_none

    def _now(self) -> Room:
        with self._lock:
            if time.monotonic() - self._at > self._every:
                self._room, self._at = room(), time.monotonic()
            return self._room


def queue_room() -> QueueRoom:
    return QueueRoom()


# ---------------------------------------------------------------- on a node


class TrainingActor:
    """Runs one `TrainingJob` on a cluster node (made a Ray actor by `_actor_class`)."""

    def __init__(self, plan: TrainingPlan, about: dict[str, Any], resume_files: dict[str, bytes] | None):
        if about.get("gpus"):
            _gpu_memory_growth()
        shared = about.get("shared_root")
        root = Path(shared) if shared else Path(tempfile.mkdtemp(prefix="charlab-ray-"))
        plan = replace(plan, root=root)  # checked by the server: trained as it is, into this node's folder
        if about.get("resume_run_id"):
            folder = root / about["resume_run_id"]
            if resume_files is not None:  # a run folder of the server's, copied here to continue
                folder.mkdir(parents=True, exist_ok=True)
                for name, payload in resume_files.items():
                    runs.write_bytes_atomic(folder / name, payload)
            plan = replace(plan, resume_from=folder)
        self._shared = bool(shared)
        self._root = root
        self._about = dict(about)
        self._node = _node()  # where this actor runs: told with every poll
        self._job = TrainingJob.from_plan(plan)
        self._job.start()

    def poll(self, losses_seen: int, versions: dict[str, list[int]]) -> dict[str, Any]:
        """The progress (batch losses after the first `losses_seen`), and the run's files whose
        (mtime, size) differ from `versions`, read after the progress so a finished job's files are final."""
        p = self._job.snapshot()
        files: dict[str, tuple[list[int], bytes]] = {}
        if p.run_path is not None and not self._shared:
            for name in runs.RUN_FILES:
                file = Path(p.run_path) / name
                try:
                    stat = file.stat()
                    version = [stat.st_mtime_ns, stat.st_size]
                    if versions.get(name) != version:
                        files[name] = (version, file.read_bytes())
                except FileNotFoundError:
                    continue
        return {
            "progress": replace(p, batch_losses=p.batch_losses[losses_seen:]),
            "losses": len(p.batch_losses),
            "run_id": Path(p.run_path).name if p.run_path is not None else None,
            "files": files,
            "node": self._node,
        }

    def stop(self) -> None:
        self._job.stop()

    def clean_up(self) -> None:
        """The node's copy of the run, once the server has it all (a shared runs folder stays)."""
        if not self._shared and self._job.done:
            shutil.rmtree(self._root, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        """What a restarted server needs to follow this training again."""
        p = self._job.snapshot()
        return dict(
            self._about,
            run_id=Path(p.run_path).name if p.run_path is not None else None,
            done=p.done,
            node=self._node,
        )


def _node() -> dict[str, str]:
    context = _ray().get_runtime_context()
    return {"id": context.get_node_id(), "ip": _ray().util.get_node_ip_address()}


def _gpu_memory_growth() -> None:
    """Several trainings share a GPU: each takes memory as it needs it, not all of it at once."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialised in this process


_actor_classes: dict[str, Any] = {}


def _actor_class():
    if "actor" not in _actor_classes:
        _actor_classes["actor"] = _ray().remote(max_restarts=0, max_task_retries=0)(TrainingActor)
    return _actor_classes["actor"]


# ---------------------------------------------------------------- on the server


class RayTrainingJob(TrainedElsewhere):
    """A `TrainingJob` trained by a Ray actor; construct it as a `TrainingJob` (plus the session's token
    and owner, so a restarted server gives it back to them)."""

    def __init__(self, text: str, config: ModelConfig, token: str = "", owner: str | None = None, **kwargs):
        check_room()  # before anything is prepared: a training no node can hold is refused at Start
        self._begin(plan_training(text, config, **kwargs), token=token, owner=owner)

    @classmethod
    def attach(cls, actor, actor_name: str, about: dict[str, Any]) -> RayTrainingJob:
        """Follow a training found running on the cluster (see `reattach`): no text here, its run's files
        and progress come from the actor."""
        plan = TrainingPlan(
            text="",
            config=ModelConfig.from_dict(about["config"]),
            vocab=Vocab(about["vocab"]),
            name=about["name"],
            cleaning=about["cleaning"],
            corpus_name=about["corpus_name"],
            root=Path(about["root"]),
        )
        run_path = plan.root / about["run_id"] if about.get("run_id") else None
        return cls.from_plan(
            plan,
            progress=Progress(status=STARTING, message="Found again on the cluster…"),
            expected=float(about.get("expected_seconds") or 0.0),
            token=about.get("token") or "",
            owner=about.get("owner"),
            found=(actor, actor_name, run_path, about.get("node")),
        )

    def _begin(
        self,
        plan: TrainingPlan,
        progress: Progress | None = None,
        expected: float | None = None,
        token: str = "",
        owner: str | None = None,
        found: tuple[Any, str, Path | None, dict[str, str] | None] | None = None,
    ) -> None:
        """`found`: a training already on the cluster (its actor, the actor's name, its run folder here, its node)."""
        super()._begin(plan, progress, expected)
        self.root = plan.root
        self._about = {"token": token, "owner": owner, "root": str(self.root), "name": self.name,
                       "cleaning": self.cleaning, "corpus_name": self.corpus_name,
                       "config": self.config.to_dict(), "vocab": list(self.vocab.chars),
                       "expected_seconds": self._expected}  # fmt: skip
        self._track(*(found or (None, None, None, None)))

    def _track(self, actor, actor_name: str | None, run_path: Path | None, node: dict[str, str] | None) -> None:
        """The actor this job follows (None until it starts one) and what has come back from it so far."""
        self._actor, self._actor_name = actor, actor_name
        self._run_path = run_path  # the run's folder in this server's runs folder
        self._versions: dict[str, list[int]] = {}  # the files copied so far, by (mtime, size) on the node
        self._losses_seen = 0  # batch losses received so far
        self.node = node  # where it trains: {"id", "ip"}

    def _under_way(self) -> bool:
        return self._actor is not None

    def _ask_to_stop(self) -> None:
        actor = self._actor
        if actor is not None:
            try:
                actor.stop.remote()
            except Exception:  # the actor is gone: its end is seen at the next poll
                pass

    def _train_elsewhere(self) -> None:
        if self._actor is None:
            self._start_actor()
        self._follow()

    def _end(self) -> None:
        if self._run_path is not None:
            runs.mark_active(self._run_path, False)
        super()._end()

    # ------------------------------------------------------------ inside

    def _start_actor(self) -> None:
        cpus, gpus = resources()
        shared = str(self.root) if environment.ray_shared_runs() else None
        resume = self.plan.resume_from
        about = dict(self._about, gpus=gpus, shared_root=shared,
                     resume_run_id=resume.name if resume is not None else None)  # fmt: skip
        files = None
        if resume is not None and shared is None:
            files = {n: (resume / n).read_bytes() for n in runs.RUN_FILES if (resume / n).is_file()}
            self._run_path = resume
        self._actor_name = f"{ACTOR_PREFIX}{uuid.uuid4().hex[:12]}"
        options: dict[str, Any] = {"name": self._actor_name, "namespace": NAMESPACE, "lifetime": "detached",
                                   "num_cpus": cpus}  # fmt: skip
        if gpus:
            options["num_gpus"] = gpus
        self._set(status=STARTING, message="Waiting for a computer of the cluster…")
        self._actor = _actor_class().options(**options).remote(self.plan, about, files)

    def _follow(self) -> None:
        ray = _ray()
        stop_sent = False
        unavailable_since: float | None = None
        while True:
            if self._stop.is_set() and not stop_sent:
                self.stop()
                stop_sent = True
            try:
                reply = ray.get(
                    self._actor.poll.remote(self._losses_seen, self._versions), timeout=CALL_TIMEOUT_SECONDS
                )
            except ray.exceptions.GetTimeoutError:
                continue  # not placed yet (no node has room), or a slow network: keep asking
            except ray.exceptions.ActorUnavailableError as err:  # a network hiccup, for a while; then it is gone
                unavailable_since = unavailable_since or time.monotonic()
                if time.monotonic() - unavailable_since > UNAVAILABLE_SECONDS:
                    self._interrupted(err)
                    return
                time.sleep(1.0)
                continue
            except ray.exceptions.RayActorError as err:  # its node died, or it was killed
                self._interrupted(err)
                return
            except ray.exceptions.ActorUnschedulableError:
                cpus, gpus = resources()
                self._end_as(
                    FAILED,
                    f"No computer of the cluster has the {cpus:g} CPUs{f' and {gpus:g} GPU' if gpus else ''} "
                    "a training asks for (CHARLAB_CPUS_PER_TRAINING, CHARLAB_GPUS_PER_TRAINING).",
                )
                self._let_go()
                return
            unavailable_since = None
            self._apply(reply)
            if reply["progress"].done:
                self._let_go()
                return
            time.sleep(POLL_SECONDS)

    def _apply(self, reply: dict[str, Any]) -> None:
        """Write the files that changed (before the progress names the run), then take the progress."""
        if reply["run_id"] is not None and self._run_path is None:
            self._run_path = self.root / reply["run_id"]
        if self._run_path is not None:
            if reply["files"]:
                self._run_path.mkdir(parents=True, exist_ok=True)
            for name, (version, payload) in reply["files"].items():
                runs.write_bytes_atomic(self._run_path / name, payload)
                self._versions[name] = version
            runs.mark_active(self._run_path, not reply["progress"].done)
        self.node = reply["node"]
        with self._lock:
            losses = self._progress.batch_losses
            self._progress = replace(
                reply["progress"], batch_losses=losses + reply["progress"].batch_losses, run_path=self._run_path
            )
        self._losses_seen = reply["losses"]

    def _interrupted(self, err: Exception) -> None:
        """The actor is gone mid-training: the run keeps its last checkpoint copied here, marked interrupted."""
        message = (
            "The computer of the cluster that trained this run stopped answering (it left the cluster, or "
            "crashed). The last checkpoint that reached this server is kept: open it in My runs, or "
            "continue it."
        )
        if self._run_path is not None and (self._run_path / "config.json").is_file():
            try:
                runs.update_meta(self._run_path, status=INTERRUPTED, message=message)
            except Exception as save_err:  # listed as interrupted anyway: its trainer is gone
                _log.warning("Could not mark %s interrupted: %s", self._run_path, save_err)
        elif self._run_path is None:
            message = "The computer of the cluster that was to train this run stopped answering before it began."
        _log.warning("Training %s interrupted: %s", self.name, err)
        self._end_as(INTERRUPTED if self._run_path is not None else FAILED, message)
        self._let_go()

    def _let_go(self) -> None:
        """A detached actor lives until killed: once its run is saved here, end it, its node's copy first."""
        ray = _ray()
        try:
            ray.get(self._actor.clean_up.remote(), timeout=CALL_TIMEOUT_SECONDS)
        except Exception:  # gone already (its node died): nothing left to clean
            pass
        try:
            ray.kill(self._actor)
        except Exception:
            pass


def reattach(queue) -> int:
    """A restarted server: every training still on the cluster goes back to its session's token (a reload
    of the same address finds it), running. Returns how many were found."""
    ray = _ray()
    found = 0
    for entry in ray.util.list_named_actors(all_namespaces=True):
        name = entry["name"] if isinstance(entry, dict) else entry
        namespace = entry.get("namespace") if isinstance(entry, dict) else NAMESPACE
        if namespace != NAMESPACE or not name.startswith(ACTOR_PREFIX):
            continue
        try:
            actor = ray.get_actor(name, namespace=NAMESPACE)
            about = ray.get(actor.describe.remote(), timeout=CALL_TIMEOUT_SECONDS)
            job = RayTrainingJob.attach(actor, name, about)
            queue.attach(about.get("token") or name, job, owner=about.get("owner"))
        except Exception as err:  # gone between the listing and now, its node is dead, or no thread to follow it
            _log.warning("Training %s on the cluster could not be followed again: %s", name, err)
            continue
        found += 1
    return found
