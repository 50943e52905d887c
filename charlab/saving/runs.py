"""Training runs on disk: one folder per run, everything needed to use the model inside it.

    <workspace>/<run_id>/
        config.json    settings, cleaning mode, vocabulary, corpus name and hash, metrics, status, format version
        model.keras    the Keras model (best validation weights and Adam's state), written by charlab only
        weights.npz    the same weights as plain arrays: generation needs no TensorFlow
        history.csv    one row per epoch
        epoch_texts.json  text written at the end of each epoch
        timelapse.json text written every few steps from one fixed seed (step, epoch, seconds, text)

A run saved by an older charlab is read through charlab.saving.run_format, which brings it to today's shape.

On a classroom server each owner has a workspace of their own, a runs folder like any other
(charlab.server.owners).

Every file is written to a temporary name and renamed into place, so a crash or a full disk
leaves the previous checkpoint intact; changes to a run's config.json, renames and deletes take
one lock, so two sessions never undo each other's change. Nothing here ever unpickles anything.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from charlab import environment
from charlab.errors import CharlabError
from charlab.network.model import ModelConfig
from charlab.network.sampling import Generator, NumpyCharModel
from charlab.saving import run_format
from charlab.saving.weights import check_weights, read_npz, to_npz_bytes
from charlab.text.baselines import BaselineReport, report_from_dict
from charlab.text.vocab import Vocab

RUN_FILES = ("config.json", "model.keras", "weights.npz", "history.csv", "epoch_texts.json", "timelapse.json")
HISTORY_COLUMNS = ("epoch", "loss", "val_loss", "seconds", "chars_per_second")
HISTORY_EXTRA_COLUMNS = ("learning_rate",)  # since run format 3: a row without one is read as it is
VALIDATION, TRAINING = run_format.VALIDATION, run_format.TRAINING  # the text a run's best loss was measured on
STATUSES = ("training", "finished", "stopped", "interrupted", "failed", "diverged")
_HEARTBEAT_STALE_SECONDS = 15 * 60

_active_runs: set[Path] = set()  # run folders this process is training right now
# one lock for every read-modify-write of a run (config.json, delete, active marks): two sessions
# renaming, deleting or training the same run take turns, so none undoes another's change
_runs_lock = threading.RLock()

OWNERS_DIR = "owners"  # <root>/owners/<workspace>/: the owners' workspaces (charlab.server.owners), not a run


def workspace(path: str | Path | None = None) -> Path:
    """Where runs live: the argument, else $CHARLAB_HOME, else ./runs (created on demand)."""
    root = Path(path) if path is not None else environment.runs_home()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CharlabError(f"Cannot create the runs folder '{root}': {err.strerror}.") from err
    return root


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunInfo:
    """What the runs list shows about one run (a damaged run has `damaged` set and little else)."""

    path: Path
    name: str
    status: str
    created: str = ""
    updated: str = ""
    cleaning: str = ""
    corpus_name: str = ""
    corpus_sha256: str = ""  # the text trained on: runs with the same one can be compared on one axis
    config: ModelConfig | None = None
    vocab_size: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Any] = field(default_factory=dict)  # a fine-tune's writer (charlab.learning.writers.Start.origin)
    damaged: str | None = None

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def best_loss(self) -> float | None:
        """The lowest loss of the weights the run keeps."""
        return self.metrics.get("best_loss")

    @property
    def best_loss_on(self) -> str:
        """Which text best_loss was measured on: VALIDATION, or TRAINING for a run without validation text."""
        return TRAINING if self.metrics.get("best_loss_on") == TRAINING else VALIDATION

    @property
    def writer_name(self) -> str | None:
        """The writer a fine-tuned run started from; None for a run trained from a blank network."""
        name = self.origin.get("name")
        return name if isinstance(name, str) else None

    @property
    def writer_start_loss(self) -> float | None:
        """A fine-tuned run's writer's loss on its text before the first step (None when not measured)."""
        value = self.origin.get("val_loss")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def best_val_loss(self) -> float | None:
        """The best loss on the validation text (None for a run without one)."""
        return self.best_loss if self.best_loss_on == VALIDATION else None


def best_loss_words(value: float | None, on: str) -> str:
    """'best validation loss 1.234', or the training loss of a run without validation text, said as such."""
    shown = "–" if value is None or not math.isfinite(value) else f"{value:.3f}"
    return f"best {'training' if on == TRAINING else 'validation'} loss {shown}"


@dataclass
class Run:
    """A loaded run: its info, settings, vocabulary and weights, ready to generate."""

    info: RunInfo
    config: ModelConfig
    vocab: Vocab
    weights: dict[str, np.ndarray]
    meta: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.info.path

    def generator(self) -> Generator:
        return Generator(NumpyCharModel.from_config(self.config, self.weights), self.vocab)

    def history(self) -> list[dict[str, float]]:
        return read_history(self.path)

    def epoch_texts(self) -> list[dict[str, Any]]:
        return read_epoch_texts(self.path)

    def timelapse(self) -> list[dict[str, Any]]:
        """The time-lapse frames, oldest first ([] for a run trained without them)."""
        return read_timelapse(self.path)

    @property
    def baselines(self) -> BaselineReport | None:
        """The reference lines saved with the run (None for a run saved before runs kept them)."""
        return report_from_dict(self.meta.get("baselines"))


# ---------------------------------------------------------------- writing


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40] or "run"


def check_run_name(name: str) -> str:
    """A run name is a label, not a path: any characters but control ones, 1–80 of them."""
    if not isinstance(name, str) or not name.strip():
        raise CharlabError("Give the run a name (at least one letter or digit).")
    name = name.strip()
    if len(name) > 80:
        raise CharlabError("Run names can be at most 80 characters long.")
    if any(ord(ch) < 32 for ch in name):
        raise CharlabError("Run names cannot contain tabs or line breaks.")
    return name


def create_run(
    root: Path,
    name: str,
    config: ModelConfig,
    vocab: Vocab,
    cleaning: str,
    corpus_name: str,
    corpus_sha256: str,
    corpus_characters: int,
) -> Path:
    """Make a new run folder with its config.json (status 'training')."""
    name = check_run_name(name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{stamp}-{slugify(name)}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True)
    meta = {
        "format": run_format.FORMAT,
        "format_version": run_format.VERSION,
        "name": name,
        "created": now_iso(),
        "updated": now_iso(),
        "status": "training",
        "pid": os.getpid(),
        "heartbeat": time.time(),
        "settings": config.to_dict(),
        "cleaning": cleaning,
        "vocab": list(vocab.chars),
        "corpus": {"name": corpus_name, "sha256": corpus_sha256, "characters": corpus_characters},
        "metrics": {},
    }
    write_json_atomic(path / "config.json", meta)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    write_bytes_atomic(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    """A file of a run, whole or not at all (charlab.server.cluster writes a node's checkpoints with it too)."""
    tmp = _write_temp(path, payload, f"'{path.name}'")
    try:
        os.replace(tmp, path)
    except OSError as err:
        raise CharlabError(_save_failed(f"'{path.name}'", err, "previous version")) from err
    finally:
        tmp.unlink(missing_ok=True)


def _write_temp(path: Path, payload: bytes, what: str, kept: str = "previous version") -> Path:
    """Write `payload` in full beside `path` (fsynced), so renaming it into place can never leave half a file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        if not path.parent.exists():
            raise CharlabError("That run no longer exists (it may have been deleted in another tab).") from err
        raise CharlabError(_save_failed(what, err, kept)) from err
    try:
        try:
            handle = os.fdopen(fd, "wb")
        except OSError:
            os.close(fd)
            raise
        with handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise CharlabError(_save_failed(what, err, kept)) from err
    return Path(tmp)


def _save_failed(what: str, err: OSError, kept: str) -> str:
    """Why a save failed, in plain words; a full disk is the likely cause on a shared laptop."""
    reason = err.strerror or str(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"The disk is full. Could not save {what} ({reason}); the {kept} is kept. "
            "Delete old runs or other files to make room, then try again."
        )
    return f"Could not save {what} ({reason}); the {kept} is kept."


def update_meta(path: Path, **changes: Any) -> dict[str, Any]:
    """Change fields of a run's config.json (metrics are merged, not replaced); a run saved by an older charlab
    is written back in today's format.

    Read, change and write under one lock, so a rename never undoes a training's status (or the reverse).
    """
    with _runs_lock:
        meta = _read_meta(path)
        metrics = changes.pop("metrics", None)
        meta.update(changes)
        if metrics:
            meta.setdefault("metrics", {}).update(metrics)
        meta["updated"] = now_iso()
        write_json_atomic(path / "config.json", meta)
        return meta


def save_weights(path: Path, model, config: ModelConfig) -> None:
    """Checkpoint: model.keras and weights.npz, both written in full before either replaces the old one."""
    from charlab.network.model import keras_weights

    payload = to_npz_bytes(keras_weights(model, config))
    tmp_model = path / f".model-{uuid.uuid4().hex[:8]}.keras"  # Keras insists on the .keras ending
    tmp_weights: Path | None = None
    try:
        try:
            model.save(tmp_model)
        except OSError as err:
            raise CharlabError(_save_failed("the model", err, "previous checkpoint")) from err
        except Exception as err:  # Keras may wrap a failed write in its own error
            raise CharlabError(
                f"Could not save the model ({type(err).__name__}: {str(err)[:200]}); the previous checkpoint is kept."
            ) from err
        tmp_weights = _write_temp(path / "weights.npz", payload, "the model", "previous checkpoint")
        try:
            os.replace(tmp_model, path / "model.keras")
            os.replace(tmp_weights, path / "weights.npz")
        except OSError as err:
            raise CharlabError(_save_failed("the model", err, "previous checkpoint")) from err
    finally:
        tmp_model.unlink(missing_ok=True)
        if tmp_weights is not None:
            tmp_weights.unlink(missing_ok=True)


def write_history(path: Path, rows: list[dict[str, float]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HISTORY_COLUMNS + HISTORY_EXTRA_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes_atomic(path / "history.csv", out.getvalue().encode("utf-8"))


def write_epoch_texts(path: Path, texts: list[dict[str, Any]]) -> None:
    write_json_atomic(path / "epoch_texts.json", texts)


def write_timelapse(path: Path, entries: list[dict[str, Any]]) -> None:
    write_json_atomic(path / "timelapse.json", entries)


def mark_active(path: Path, active: bool) -> None:
    """Tell the runs list that this process is (or is no longer) training the run."""
    with _runs_lock:
        (_active_runs.add if active else _active_runs.discard)(Path(path).resolve())


# ---------------------------------------------------------------- reading


def _read_json(path: Path, default: Any = None) -> Any:
    if not path.exists() and default is not None:
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CharlabError(f"'{path.name}' is missing from the run folder '{path.parent.name}'.") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CharlabError(f"'{path.name}' in run '{path.parent.name}' is damaged and cannot be read.") from err


def read_history(path: Path) -> list[dict[str, float]]:
    """history.csv as rows; rows a hand edit damaged are skipped, so the run stays usable."""
    file = Path(path) / "history.csv"
    if not file.exists():
        return []
    rows = []
    try:
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    values = {k: float(v) if v not in ("", None) else float("nan") for k, v in row.items() if k}
                except (TypeError, ValueError):
                    continue
                if all(column in values for column in HISTORY_COLUMNS):
                    rows.append(values)
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # keep the rows read so far
    return rows


def read_epoch_texts(path: Path) -> list[dict[str, Any]]:
    """epoch_texts.json; entries without an epoch and a text are dropped, and a damaged file reads as none."""
    return _read_entries(run_format.stored_file(path, "epoch_texts.json"), ("epoch", "temperature"))


def read_timelapse(path: Path) -> list[dict[str, Any]]:
    """timelapse.json, with entries that lack a step or a text dropped; a damaged file reads as none."""
    return _read_entries(Path(path) / "timelapse.json", ("step",))


def _read_entries(file: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """A JSON list of {"text": ..., *required} entries; what does not fit is dropped, not fatal."""
    try:
        entries = _read_json(file, default=[])
    except CharlabError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        e for e in entries if isinstance(e, dict) and isinstance(e.get("text"), str) and all(k in e for k in required)
    ]


def _live_status(path: Path, meta: dict[str, Any]) -> str:
    """A run marked 'training' whose trainer is gone (crash, restart) is shown as 'interrupted'."""
    status = meta.get("status", "interrupted")
    if status != "training":
        return status if status in STATUSES else "interrupted"
    if path.resolve() in _active_runs:
        return "training"
    pid = meta.get("pid")
    fresh = time.time() - float(meta.get("heartbeat", 0)) < _HEARTBEAT_STALE_SECONDS
    if isinstance(pid, int) and pid > 0 and pid != os.getpid() and fresh and _pid_alive(pid):
        return "training"  # trained by another process, e.g. the command line
    return "interrupted"


def _pid_alive(pid: int) -> bool:
    """Whether a training process still runs. A zombie (dead, not yet collected: a killed server's
    training in a container whose first process never collects orphans) counts as gone."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):  # gone, or a number no process can have
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS, Windows): os.kill said it exists


def run_info(path: Path) -> RunInfo:
    """Read a run folder; a folder that cannot be used is returned as damaged, with the reason."""
    path = Path(path)
    try:
        meta = _read_meta(path)
        config = ModelConfig.from_dict(meta.get("settings"))
        vocab = Vocab.from_json(meta.get("vocab"))
        info = RunInfo(
            path=path,
            name=str(meta.get("name") or path.name),
            status=_live_status(path, meta),
            created=str(meta.get("created", "")),
            updated=str(meta.get("updated", "")),
            cleaning=str(meta.get("cleaning", "")),
            corpus_name=str((meta.get("corpus") or {}).get("name", "")),
            corpus_sha256=str((meta.get("corpus") or {}).get("sha256", "")),
            config=config,
            vocab_size=len(vocab),
            metrics=dict(meta.get("metrics") or {}),
            origin=dict(meta.get(run_format.ORIGIN_KEY) or {}),
        )
    except CharlabError as err:
        return RunInfo(path=path, name=path.name, status="damaged", damaged=str(err))
    except (AttributeError, TypeError, ValueError, ArithmeticError):  # a field of the wrong kind, e.g. "corpus": "a"
        return RunInfo(
            path=path,
            name=path.name,
            status="damaged",
            damaged="config.json has a value of the wrong kind, so the run cannot be read.",
        )
    if not (path / "weights.npz").exists() and not (path / "model.keras").exists():
        if info.status != "training":
            info.damaged = "No model was saved in this run (it ended before its first checkpoint)."
    return info


def list_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every run in the workspace, newest first; damaged ones included and marked.

    Hidden folders (an import or a delete in progress) and the owners' workspaces are not runs.
    """
    root = workspace() if root is None else Path(root)
    if not root.is_dir():
        return []  # a workspace nobody has saved into yet
    infos = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name.startswith(".") or _is_owners_dir(folder):
            continue
        info = run_info(folder)
        if info.damaged and not folder.exists():
            continue  # deleted by another session while we looked: gone, not damaged
        infos.append(info)
    return sorted(infos, key=lambda info: (info.created, info.run_id), reverse=True)


def _is_owners_dir(folder: Path) -> bool:
    return folder.name == OWNERS_DIR and not (folder / "config.json").exists()


def find_run(ref: str | Path, root: str | Path | None = None) -> Path:
    """A run folder from a path, a run id or a run name (the CLI accepts all three)."""
    candidate = Path(ref)
    if (candidate / "config.json").exists():
        return candidate
    infos = list_runs(root)
    for info in infos:
        if info.run_id == str(ref) or info.name == str(ref):
            return info.path
    names = ", ".join(f"'{i.name}'" for i in infos[:8]) or "none yet"
    raise CharlabError(f"No run called '{ref}'. Runs in this workspace: {names}.")


def load_run(path: str | Path) -> Run:
    """Load a run for generation: config, vocabulary and weights (no TensorFlow needed)."""
    path = Path(path)
    info = run_info(path)
    if info.status == "damaged" or info.config is None:
        raise CharlabError(f"The run '{path.name}' is damaged: {info.damaged}")
    meta = _read_meta(path)
    vocab = Vocab.from_json(meta["vocab"])
    weights_file = path / "weights.npz"
    what = f"The run '{info.name}'"
    if weights_file.exists():
        weights = read_npz(weights_file, info.config, len(vocab), what)
    elif (path / "model.keras").exists():  # a first checkpoint cut off between its two files (before 44930ef)
        from charlab.network.model import keras_weights, load_keras_model

        weights = keras_weights(load_keras_model(path / "model.keras"), info.config)
        check_weights(weights, info.config, len(vocab), what)
    else:
        raise CharlabError(f"The run '{info.name}' has no saved model yet.")
    return Run(info=info, config=info.config, vocab=vocab, weights=weights, meta=meta)


FRESH_OPTIMIZER = "fresh_optimizer"  # config.json: model.keras holds no optimizer state of the run's own


def _read_meta(path: Path) -> dict[str, Any]:
    """A run's config.json in today's format, whichever version wrote it."""
    return run_format.upgrade(_read_json(Path(path) / "config.json"))


def read_meta(path: str | Path) -> dict[str, Any]:
    """A run's config.json in today's format; {} when it is missing or damaged (callers fall back to what they can)."""
    try:
        return _read_meta(Path(path))
    except CharlabError:
        return {}


def read_baselines(path: str | Path) -> BaselineReport | None:
    """A run's saved reference lines, without loading its weights (None when it has none)."""
    return report_from_dict(read_meta(path).get("baselines"))


def continuable(info: RunInfo | None) -> bool:
    """Whether a training can go on from this run: a whole run, not training now, with a Keras model saved (a run
    whose first checkpoint was cut off has only its weights)."""
    return (
        info is not None and info.damaged is None and info.status != "training" and (info.path / "model.keras").exists()
    )


def fresh_optimizer(path: str | Path) -> bool:
    """Whether training the run further starts Adam afresh: true for an imported run until it is trained here."""
    return bool(read_meta(path).get(FRESH_OPTIMIZER))


def load_keras(path: str | Path):
    """The run's Keras model, to continue training.

    A run trained here: model.keras, with Adam's state as it was saved. An imported run: rebuilt
    by `build_model` from its checked settings and weights.npz, with a fresh optimizer; a model
    file that came from outside is never opened.
    """
    path = Path(path)
    if fresh_optimizer(path):
        from charlab.network.model import build_model, set_keras_weights

        run = load_run(path)
        model = build_model(run.config, len(run.vocab))
        set_keras_weights(model, run.config, run.weights)
        return model
    from charlab.network.model import load_keras_model

    file = path / "model.keras"
    if not file.exists():
        raise CharlabError("This run has no saved Keras model, so training cannot continue from it.")
    return load_keras_model(file)


# ---------------------------------------------------------------- managing


def rename_run(path: str | Path, new_name: str) -> None:
    """Renaming changes the label only; the folder stays, so nothing can be lost halfway."""
    path = Path(path)
    new_name = check_run_name(new_name)
    with _runs_lock:
        if not (path / "config.json").exists():
            raise CharlabError("That run no longer exists (it may have been deleted in another tab).")
        update_meta(path, name=new_name)


def delete_run(path: str | Path) -> None:
    """Delete a run folder; deleting one that is already gone (from another tab) does nothing."""
    path = Path(path)
    with _runs_lock:
        if path.resolve() in _active_runs:
            raise CharlabError("This run is still training. Stop it first, then delete it.")
        if not path.exists():
            return  # already gone (deleted from another tab): nothing to do
        if not (path / "config.json").exists() and any(path.iterdir()):
            raise CharlabError(f"'{path.name}' does not look like a charlab run folder; it was not deleted.")
        # move aside first so a half-deleted folder never shows up as a broken run
        trash = path.with_name(f".deleting-{path.name}-{uuid.uuid4().hex[:6]}")
        try:
            os.replace(path, trash)
        except FileNotFoundError:
            return
        except OSError as err:
            raise CharlabError(f"Could not delete the run ({err.strerror}); nothing was deleted.") from err
    shutil.rmtree(trash, ignore_errors=True)
