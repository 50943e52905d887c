"""A run as one .zip, to download, share and upload again.

An uploaded archive comes from anyone in the room, so its contents are trusted only as data:
the settings and vocabulary are checked by charlab's own `ModelConfig` and `Vocab`, the weights
are plain float32 arrays checked against them (`charlab.saving.weights`), and the model is rebuilt by
charlab's own `build_model`. A `model.keras` inside the archive is never opened: Keras'
`safe_mode` has been bypassed by crafted archives again and again, so charlab writes the run's
own `model.keras` from the rebuilt model. Adam's running averages are not carried over: an
imported run's optimizer starts fresh when it is trained further (the Train page says so).
An archive of any run format version is read (charlab.saving.run_format) and the run is written in today's.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import uuid
import zipfile
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from charlab.errors import CharlabError
from charlab.network.model import ModelConfig
from charlab.saving import run_format, runs
from charlab.saving.weights import read_npz
from charlab.text.corpus import human_size
from charlab.text.vocab import Vocab

MAX_ZIP_BYTES = 300_000_000  # uncompressed; a 4-layer 1024-unit model is ~200 MB
REQUIRED = ("config.json", "weights.npz")
COPIED_AS_DATA = ("history.csv", "epoch_texts.json", "timelapse.json")  # read later by forgiving readers


def export_zip(path: str | Path) -> bytes:
    """The run as one .zip (files at the top level), to download or share."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in runs.RUN_FILES:
            stored = run_format.stored_file(path, name)  # today's name, whatever an older run called it
            if stored.exists():
                archive.write(stored, arcname=name)
    return buffer.getvalue()


def import_zip(data: bytes, root: str | Path | None = None, max_bytes: int = MAX_ZIP_BYTES) -> runs.RunInfo:
    """Add a run from a .zip made by export_zip, after checking every part of it.

    Refused: anything that is not a zip, unexpected files or folders, paths that climb out
    ('../'), archives larger than `max_bytes` unpacked, a config that is not charlab's, and
    weights that are not exactly the float32 arrays its settings call for (objects, wrong
    names, shapes or types, NaN or infinity).
    """
    root = runs.workspace(root)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise CharlabError("This file is not a .zip archive. Upload a run exported from charlab.") from err
    with archive:
        members = _checked_members(archive, max_bytes)
        meta, config, vocab = _parse_meta(_read_member(archive, members["config.json"]))
        weights = read_npz(_read_member(archive, members["weights.npz"]), config, len(vocab), "The archive's run")
        extras = {name: _read_member(archive, members[name]) for name in COPIED_AS_DATA if name in members}
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".import-"))
    try:
        for name, payload in extras.items():
            (staging / name).write_bytes(payload)
        return _finish_import(staging, meta, config, weights, root)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as err:
        # a bad checksum, a truncated file, an unknown compression method or a password
        raise CharlabError(f"The archive is damaged: '{member.filename}' cannot be unpacked. It was refused.") from err


def _checked_members(archive: zipfile.ZipFile, max_bytes: int) -> dict[str, zipfile.ZipInfo]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    names = [info.filename for info in infos]
    for name in names:
        if name.startswith(("/", "\\")) or ".." in Path(name.replace("\\", "/")).parts or ":" in name:
            raise CharlabError(f"The archive contains a path that leaves its folder ('{name}'). It was refused.")
    # accept files at the top level or inside one folder (as zipping a folder makes)
    known = (*runs.RUN_FILES, *run_format.RENAMED_FILES)
    if not any(name.replace("\\", "/").rsplit("/", 1)[-1] in known for name in names):
        raise CharlabError(
            "This .zip is not a run exported from charlab (it holds other files, such as a document or "
            "pictures). Only a run exported by charlab can be added."
        )
    prefixes = {n.split("/", 1)[0] + "/" for n in names if "/" in n}
    prefix = prefixes.pop() if len(prefixes) == 1 and all(n.count("/") == 1 for n in names) else ""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename[len(prefix) :]
        name = run_format.RENAMED_FILES.get(name, name)  # an archive exported before a file was renamed
        if name not in runs.RUN_FILES:
            raise CharlabError(
                f"The archive contains '{info.filename}', which is not part of a charlab run "
                f"(expected only {', '.join(runs.RUN_FILES)}). It was refused."
            )
        members[name] = info
    for required in REQUIRED:
        if required not in members:
            raise CharlabError(f"The archive has no '{required}', so it is not a complete charlab run.")
    if sum(info.file_size for info in infos) > max_bytes:
        raise CharlabError(f"The archive unpacks to more than {human_size(max_bytes)}. It was refused.")
    return members


def _parse_meta(raw: bytes) -> tuple[dict[str, Any], ModelConfig, Vocab]:
    """The archive's config.json in today's format, with its settings and vocabulary checked by charlab's own rules."""
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CharlabError("The archive's config.json is not valid JSON. It was refused.") from err
    try:
        meta = run_format.upgrade(meta)
    except CharlabError as err:
        raise CharlabError(f"The archive was refused: {err}") from err
    return meta, ModelConfig.from_dict(meta.get("settings")), Vocab.from_json(meta.get("vocab"))


def _finish_import(staging: Path, meta: dict[str, Any], config: ModelConfig, weights, root: Path) -> runs.RunInfo:
    """Rebuild the model from checked settings and numbers, write the run's files, move it into place."""
    from charlab.network.model import build_model, set_keras_weights

    model = build_model(config, weights["embedding"].shape[0])
    set_keras_weights(model, config, weights)
    runs.save_weights(staging, model, config)  # charlab's own model.keras and weights.npz
    if meta.get("status") == "training":
        meta["status"] = "interrupted"
    meta.pop("pid", None)
    meta["imported"] = runs.now_iso()
    meta[runs.FRESH_OPTIMIZER] = True
    runs.write_json_atomic(staging / "config.json", meta)
    damage = runs.run_info(staging).damaged  # e.g. a field of the wrong kind: refuse it now, not list it as broken
    if damage:
        raise CharlabError(f"The archive's run is damaged: {damage} It was refused.")
    name = runs.slugify(str(meta.get("name", "imported")))
    final = root / f"{datetime.now():%Y%m%d-%H%M%S}-{name}-{uuid.uuid4().hex[:6]}"
    os.replace(staging, final)
    return runs.run_info(final)
