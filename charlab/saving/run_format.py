"""The run format's versions, and the one place that reads a run of any version into today's shape.

A run's config.json says which version of the format wrote it (`format_version`). Every reader
(`runs.run_info`, `runs.load_run`, `runs.read_meta`, an uploaded archive, the exported web page)
passes it through `upgrade`, a chain of small steps, each turning version N into N + 1; so the
rest of charlab reads only today's shape. New runs are written at `VERSION`, and a run written to
again (renamed, trained further) is written back in today's shape.

Until version 7 every run said `format_version: 1` whatever its shape: a run labelled 1 may have
any shape from 1 to 6, so the steps up to 6 fill in what is missing and never overwrite what a
newer shape already holds. Additions that a reader can simply find absent (the `baselines`
of 2026-11-30, the `from` of a fine-tuned run of 2026-12-03) need no step.

tests/run_formats/ holds a small run of each version; each must keep loading, writing and training on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from charlab.errors import CharlabError

FORMAT = "charlab-run"
ORIGIN_KEY = "from"  # a fine-tuned run's config.json: {"name", "run_id", "val_loss", ...} of its writer
VALIDATION, TRAINING = "validation", "training"  # the text a run's best loss was measured on
# files renamed by a version: the old name -> today's (a run or an archive saved before keeps the old one)
RENAMED_FILES = {"samples.json": "epoch_texts.json"}


def _settings(meta: dict[str, Any]) -> dict[str, Any]:
    """The model settings as saved ({} when damaged: the reader reports that, not an upgrade)."""
    found = meta.get("settings", meta.get("model"))
    return found if isinstance(found, dict) else {}


def _metrics(meta: dict[str, Any]) -> dict[str, Any]:
    found = meta.get("metrics", meta.get("figures"))
    return found if isinstance(found, dict) else {}


def _to_v2(meta: dict[str, Any]) -> None:
    """2026-11-30 (65f0ac2): `fresh_optimizer` says whether model.keras holds the run's own Adam state.

    Before, an imported run (marked `imported`) was the only kind without it.
    """
    meta.setdefault("fresh_optimizer", "imported" in meta)


def _to_v3(meta: dict[str, Any]) -> None:
    """2026-11-30 (46db04e): the `schedule` setting; a run saved before trained at a constant learning rate.

    history.csv gained a `learning_rate` column then: a run saved before has none, and readers take it as absent.
    """
    _settings(meta).setdefault("schedule", "constant")


def _to_v4(meta: dict[str, Any]) -> None:
    """2026-11-30 (6ba1c0f): samples.json became epoch_texts.json (RENAMED_FILES); the metric `best_val_loss`
    became `best_loss`, with `best_loss_on` saying which text it was measured on.

    A run without a validation share kept its training loss under the old name.
    """
    metrics = _metrics(meta)
    if "best_val_loss" in metrics:
        metrics.setdefault("best_loss", metrics.pop("best_val_loss"))
    if "best_loss_on" not in metrics:
        share = _settings(meta).get("validation_fraction")
        metrics["best_loss_on"] = TRAINING if share == 0 else VALIDATION


def _to_v5(meta: dict[str, Any]) -> None:
    """2026-12-02 (c8bd648): the metric `epochs_trained` counts a partial epoch; a run saved before counted
    whole ones only (`epochs_done`)."""
    metrics = _metrics(meta)
    metrics.setdefault("epochs_trained", metrics.get("epochs_done", 0))


def _to_v6(meta: dict[str, Any]) -> None:
    """2026-12-03 (1cbe95f): the `precision` setting; a run saved before trained in float32."""
    _settings(meta).setdefault("precision", "float32")


def _to_v7(meta: dict[str, Any]) -> None:
    """2026-12-03 (issue 22): one word per concept, and a version that counts. The model settings' key
    `model` became `settings`, the `figures` became `metrics`."""
    for old, new in (("model", "settings"), ("figures", "metrics")):
        if old in meta:
            meta.setdefault(new, meta.pop(old))


# UPGRADES[n - 1] turns version n into n + 1
UPGRADES: tuple[Callable[[dict[str, Any]], None], ...] = (_to_v2, _to_v3, _to_v4, _to_v5, _to_v6, _to_v7)
VERSION = len(UPGRADES) + 1


def upgrade(meta: Any) -> dict[str, Any]:
    """A run's config.json of any version, in today's shape (a copy: the argument is left as it was)."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CharlabError("config.json is not a charlab run description.")
    version = meta.get("format_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CharlabError("config.json has a value of the wrong kind, so the run cannot be read.")
    if version > VERSION:
        raise CharlabError(
            f"This run was saved by a newer charlab (run format {version}; this one reads up to {VERSION}). "
            "Update charlab to open it."
        )
    meta = copy.deepcopy(meta)
    for step in UPGRADES[version - 1 :]:
        step(meta)
    meta["format_version"] = VERSION
    return meta


def stored_file(folder: Path, name: str) -> Path:
    """Where a run keeps the file today's format calls `name`: under an older name in a run saved before a rename."""
    path = Path(folder) / name
    if not path.exists():
        for old, new in RENAMED_FILES.items():
            if new == name and (path.parent / old).exists():
                return path.parent / old
    return path
