"""Owners on a classroom server: each nickname (or private tab) has a workspace, a runs folder like any other.

    <root>/owners/<nickname, lowercased>/   or   <root>/owners/~<random>/   (private)

A teacher sees every workspace (`list_all_runs`); everyone else only their own.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from pathlib import Path

from charlab.errors import CharlabError
from charlab.saving.runs import OWNERS_DIR, RunInfo, list_runs, now_iso, workspace, write_json_atomic

PRIVATE_PREFIX = "~"  # a private workspace's folder starts with a character no nickname may contain
OWNER_FILE = "owner.json"  # the nickname as first typed, for the teacher's list
_WINDOWS_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def check_nickname(nickname: str) -> str:
    """A nickname names a workspace: letters, digits, spaces and - _ . only, 1–40 of them."""
    if not isinstance(nickname, str) or not nickname.strip():
        raise CharlabError("Type a nickname (at least one letter or digit).")
    if any(unicodedata.category(ch).startswith("C") for ch in nickname):
        raise CharlabError("A nickname cannot contain tabs, line breaks or other invisible characters.")
    nickname = unicodedata.normalize("NFC", " ".join(nickname.split()))
    if len(nickname) > 40:
        raise CharlabError("A nickname can be at most 40 characters long.")
    bad = sorted({ch for ch in nickname if not _nickname_char(ch)})
    if bad:
        shown = " ".join(f"'{ch}'" for ch in bad[:5])
        raise CharlabError(f"A nickname can use letters, digits, spaces and - _ . only, not {shown}.")
    if ".." in nickname or nickname.startswith("."):
        raise CharlabError("A nickname cannot start with a dot or contain '..'.")
    if not any(ch.isalnum() for ch in nickname):
        raise CharlabError("A nickname needs at least one letter or digit.")
    if _owner_folder(nickname).split(".")[0] in _WINDOWS_NAMES:
        raise CharlabError(f"'{nickname}' is a name Windows keeps for itself. Choose another nickname.")
    return nickname


def _nickname_char(ch: str) -> bool:
    """Letters and digits of any script (with their accents and vowel signs), space, - _ and ."""
    return ch.isalnum() or ch in " -_." or unicodedata.category(ch).startswith("M")


def _owner_folder(nickname: str) -> str:
    """The folder of a checked nickname: the same for 'Zoé', 'ZOÉ' and 'ｚｏé'."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", nickname).casefold()).rstrip(". ")


def owner_workspace(
    root: str | Path | None, nickname: str | None = None, key: str | None = None, create: bool = True
) -> Path:
    """An owner's own runs folder under `root`: their nickname's, else a private one.

    A private workspace has a name nobody can type as a nickname. With a `key` (the session
    token a browser keeps in its URL) it is always the same folder for that key, so a reload or
    a restarted server finds it again; without one it is new each time. `create=False` only
    names the folder: a tab that never trains leaves nothing on disk (saving a run creates it).
    """
    owners = Path(workspace(root)) / OWNERS_DIR
    if nickname is None or (isinstance(nickname, str) and not nickname.strip()):
        folder, label = private_folder_name(key), ""
    else:
        label = check_nickname(nickname)
        folder = _owner_folder(label)
    path = owners / folder
    if create:
        workspace(path)
        if not (path / OWNER_FILE).exists():
            write_json_atomic(path / OWNER_FILE, {"nickname": label, "private": not label, "created": now_iso()})
    return path


def private_folder_name(key: str | None = None) -> str:
    """A private workspace's folder: derived from `key` (one-way, so the teacher's list does not show
    the key that opens it), or random."""
    if key is None:
        return PRIVATE_PREFIX + secrets.token_hex(8)
    return PRIVATE_PREFIX + hashlib.sha256(f"charlab private workspace:{key}".encode()).hexdigest()[:16]


def owner_label(path: str | Path) -> str:
    """How the teacher's list names a workspace: the nickname as first typed, or 'private …'."""
    path = Path(path)
    if path.name.startswith(PRIVATE_PREFIX):
        return f"private {path.name[len(PRIVATE_PREFIX) :][:6]}"
    try:
        nickname = json.loads((path / OWNER_FILE).read_text(encoding="utf-8")).get("nickname")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        nickname = None
    return nickname if isinstance(nickname, str) and nickname else path.name


def list_all_runs(root: str | Path | None = None) -> list[tuple[str, RunInfo]]:
    """The teacher's view: (owner, run) for every workspace under `root`, newest first.

    Runs saved in `root` itself (e.g. by the command line) have the owner ''.
    """
    root = workspace(root)
    pairs = [("", info) for info in list_runs(root)]
    owners = root / OWNERS_DIR
    if owners.is_dir():
        for folder in owners.iterdir():
            if folder.is_dir() and not folder.name.startswith("."):
                label = owner_label(folder)
                pairs += [(label, info) for info in list_runs(folder)]
    return sorted(pairs, key=lambda pair: (pair[1].created, pair[1].run_id), reverse=True)


def may_open(run_path: str | Path, own_workspace: str | Path, teacher: bool = False) -> bool:
    """Whether a session may open a run: one in its own workspace; a teacher, any under the root."""
    folder = workspace() if teacher else own_workspace
    try:
        return Path(run_path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError, ValueError):
        return False
