"""The class board: the whole class's trainings of the day, for the teacher's projector.

Everything here comes from the runs' small files (config.json, history.csv, epoch_texts.json),
never from their weights, so a board that redraws every few seconds costs little. Curves are
only ever compared on one axis when the runs trained on the same text (the cleaned text's
hash): a loss on Shakespeare and a loss on a recipe book are different numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig
from charlab.saving.runs import RunInfo

NO_NAME = "(no name)"  # runs saved in the root workspace (the command line, or owners switched off)


@dataclass(frozen=True)
class BoardRow:
    """One training on the board."""

    path: str
    nickname: str  # as the student typed it ('private …' for a tab without a name)
    run_name: str
    text: str  # the text's name, as chosen or uploaded
    text_key: str  # the cleaned text's hash: rows with the same key trained on the very same text
    model: str  # e.g. '2×GRU 256'
    vocab_size: int  # characters in the text's vocabulary: where random guessing's reference line sits
    status: str
    minutes: float
    best_val_loss: float | None  # None: no epoch measured yet, or a run without validation text
    updated: str


def model_words(config: ModelConfig | None) -> str:
    """A network in a few characters: '2×GRU 256' (the board's column is narrow)."""
    if config is None:
        return ""
    layers = f"{config.layers}×" if config.layers > 1 else ""
    return f"{layers}{CELL_TYPES[config.cell].label} {config.units}"


def start_of_today(now: datetime | None = None) -> datetime:
    """Midnight of today in the server's time zone: the board's default 'since'."""
    now = (now or datetime.now()).astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _when(iso: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None


def board_rows(pairs: Iterable[tuple[str, RunInfo]], since: datetime) -> list[BoardRow]:
    """Every training running now or changed since `since` (charlab.server.owners.list_all_runs' pairs), newest first.

    A run that cannot be read (damaged, no settings) is left out: the board has nothing to show of it.
    """
    rows = []
    for owner, info in pairs:
        if info.config is None or info.status == "damaged":
            continue
        when = _when(info.updated) or _when(info.created)
        if info.status != "training" and (when is None or when < since):
            continue
        best = info.best_val_loss
        rows.append(
            BoardRow(
                path=str(info.path),
                nickname=owner or NO_NAME,
                run_name=info.name,
                text=info.corpus_name or "(unnamed text)",
                text_key=info.corpus_sha256 or f"name:{info.corpus_name}",
                model=model_words(info.config),
                vocab_size=info.vocab_size,
                status=info.status,
                minutes=round(float(info.metrics.get("train_seconds") or 0.0) / 60, 1),
                best_val_loss=best if best is not None and math.isfinite(best) else None,
                updated=info.updated or info.created,
            )
        )
    return sorted(rows, key=lambda row: row.updated, reverse=True)


def texts(rows: Iterable[BoardRow]) -> dict[str, str]:
    """The texts trained on, {text_key: label}, the most trained-on first; two different texts that share
    a name are told apart ('cats.txt', 'cats.txt (2)')."""
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for row in rows:
        counts[row.text_key] = counts.get(row.text_key, 0) + 1
        names.setdefault(row.text_key, row.text)
    labels: dict[str, str] = {}
    seen: dict[str, int] = {}
    for key in sorted(counts, key=lambda k: (-counts[k], names[k], k)):
        seen[names[key]] = seen.get(names[key], 0) + 1
        labels[key] = names[key] if seen[names[key]] == 1 else f"{names[key]} ({seen[names[key]]})"
    return labels


def on_text(rows: Iterable[BoardRow], text_key: str) -> list[BoardRow]:
    return [row for row in rows if row.text_key == text_key]


def leaderboard(rows: Iterable[BoardRow], text_key: str) -> list[BoardRow]:
    """The runs on one text with a validation loss, lowest (best) first; a tie goes to the shorter training."""
    scored = [row for row in on_text(rows, text_key) if row.best_val_loss is not None]
    return sorted(scored, key=lambda row: (row.best_val_loss, row.minutes, row.nickname))


def line_labels(rows: Iterable[BoardRow]) -> dict[str, str]:
    """Each run's line name, {path: label}: the nickname, with the run's name when a student has several."""
    rows = list(rows)
    per_student: dict[str, int] = {}
    for row in rows:
        per_student[row.nickname] = per_student.get(row.nickname, 0) + 1
    return {
        row.path: row.nickname if per_student[row.nickname] == 1 else f"{row.nickname} · {row.run_name}" for row in rows
    }


def curve_points(
    rows: Iterable[BoardRow], histories: dict[str, list[dict[str, Any]]]
) -> list[tuple[str, float, float]]:
    """(line label, epoch, validation loss) for every measured epoch of every run in `rows` (runs on one text)."""
    rows = list(rows)
    labels = line_labels(rows)
    points = []
    for row in rows:
        for h in histories.get(row.path, []):
            value = h.get("val_loss", float("nan"))
            if math.isfinite(value):
                points.append((labels[row.path], float(h["epoch"]), float(value)))
    return points


def newest_epoch_text(epoch_texts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The text a run wrote at the end of its latest epoch (None before its first epoch)."""
    return max(epoch_texts, key=lambda entry: float(entry.get("epoch", 0)), default=None)
