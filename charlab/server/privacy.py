"""What a server keeps of its users, and how it lets go of it: one student's everything, a whole class's, and
runs older than the days a school chose (CHARLAB_KEEP_DAYS).

A server keeps runs only (settings, weights, losses, the texts the network wrote), in runs folders on its own
disk. An uploaded text lives in the server's memory while its tab uses it and is never written to disk.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from charlab.errors import CharlabError
from charlab.saving.runs import OWNERS_DIR, RunInfo, delete_run, list_runs, workspace


def _refuse_while_training(infos: list[RunInfo], whose: str) -> None:
    training = [info.name for info in infos if info.status == "training"]
    if training:
        names = ", ".join(f"«{name}»" for name in training[:3]) + (" …" if len(training) > 3 else "")
        raise CharlabError(f"{whose} still training ({names}). Stop it first, then delete; nothing was deleted.")


def delete_workspace(folder: str | Path) -> int:
    """Delete every run in a workspace and, for an owner's workspace, the folder with the nickname in it.
    Returns how many runs went. Nothing is deleted while one of them trains (a half-deleted class is worse)."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0  # a private tab that never saved a run has nothing on disk
    infos = list_runs(folder)
    _refuse_while_training(infos, "A run of yours is")
    for info in infos:
        delete_run(info.path)
    if folder.parent.name == OWNERS_DIR:
        shutil.rmtree(folder, ignore_errors=True)  # owner.json and anything left of a half-written run
    return len(infos)


def _workspaces(root: Path) -> list[Path]:
    """The root (runs of the command line, or of a server with owners off) and every owner's workspace."""
    return [root] + sorted(p for p in (root / OWNERS_DIR).glob("*") if p.is_dir())


def delete_every_workspace(root: str | Path | None = None) -> int:
    """The teacher's end of term: every student's workspace and the runs saved in the root itself."""
    folders = _workspaces(workspace(root))
    everything = [info for folder in folders for info in list_runs(folder)]
    _refuse_while_training(everything, "A run is")
    return sum(delete_workspace(folder) for folder in folders)


def remove_expired(days: float, root: str | Path | None = None, now: datetime | None = None) -> list[str]:
    """Delete runs last changed more than `days` ago (a run still training is left alone); returns their names.
    An owner's folder left without runs goes too, so a nickname is not kept longer than its runs."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    removed: list[str] = []
    for folder in _workspaces(workspace(root)):
        for info in list_runs(folder):
            if info.status != "training" and _changed(info) < cutoff:
                delete_run(info.path)
                removed.append(info.name)
        if folder.parent.name == OWNERS_DIR and not list_runs(folder) and _folder_changed(folder) < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
    return removed


def _changed(info: RunInfo) -> datetime:
    try:
        stamp = datetime.fromisoformat(info.updated or info.created)
    except ValueError:  # a hand-edited run: its files' time says when it changed
        return _folder_changed(info.path)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _folder_changed(folder: Path) -> datetime:
    times = [p.stat().st_mtime for p in [folder, *folder.iterdir()]] if folder.exists() else [0.0]
    return datetime.fromtimestamp(max(times), tz=UTC)
