"""Write tests/run_formats/v1 ... v7: one tiny run of each run format version (charlab.saving.run_format).

How they were made: one tiny GRU trained for one epoch by today's charlab (format 7), then its files
rewritten by hand, step by step back, into the shape each older version had (read from `git log -p
charlab/saving/runs.py` and the commits each upgrade step names). Runs before version 7 say format_version 1,
as every charlab before it wrote. The folders are committed; run this again only to remake them:

    nice -n 19 .venv/bin/python tests/run_formats/make_runs.py
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from charlab.learning.training import FINISHED, Timelapse, TrainingJob  # noqa: E402
from charlab.network.model import ModelConfig  # noqa: E402
from charlab.saving import run_format, runs  # noqa: E402

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 40
# constant rate and float32: what every version could train, so each old shape tells the truth about its run
SETTINGS = ModelConfig(
    cell="gru", units=8, embedding_dim=4, seq_length=16, batch_size=16, epochs=1,
    learning_rate=0.01, schedule="constant", precision="float32",
)  # fmt: skip
KEPT_ENTRIES = 2  # time-lapse frames and epoch texts kept: enough to read, a few KB


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def train_today(folder: Path) -> Path:
    job = TrainingJob(TEXT, SETTINGS, name="tiny cat", corpus_name="cats.txt", root=folder, timelapse=Timelapse(2, 40))
    progress = job.run()
    assert progress.status == FINISHED, progress.message
    path = Path(progress.run_path)
    for name in ("timelapse.json", "epoch_texts.json"):
        entries = _json(path / name)
        _write_json(path / name, entries[:1] + entries[1:][-(KEPT_ENTRIES - 1) :])
    meta = _json(path / "config.json")
    meta.pop("pid", None)
    meta["created"] = meta["updated"] = "2026-12-03T06:00:00+00:00"
    meta["heartbeat"] = 0
    _write_json(path / "config.json", meta)
    return path


def to_v6(path: Path, meta: dict) -> None:
    """Before 7: format_version 1 for every shape, `model` and `figures` as the keys."""
    meta["format_version"] = 1
    meta["model"] = meta.pop("settings")
    meta["figures"] = meta.pop("metrics")
    _order(meta)


def to_v5(path: Path, meta: dict) -> None:
    """Before 6: no precision setting (and no precision among the figures)."""
    del meta["model"]["precision"]
    for key in ("precision", "precision_words"):
        meta["figures"].pop(key, None)


def to_v4(path: Path, meta: dict) -> None:
    """Before 5: no epochs_trained."""
    del meta["figures"]["epochs_trained"]


def to_v3(path: Path, meta: dict) -> None:
    """Before 4: samples.json, and best_val_loss with no best_loss_on."""
    (path / "epoch_texts.json").rename(path / "samples.json")
    figures = meta["figures"]
    figures["best_val_loss"] = figures.pop("best_loss")
    del figures["best_loss_on"]


def to_v2(path: Path, meta: dict) -> None:
    """Before 3: no schedule setting, no learning_rate column in history.csv; runs kept no baselines yet."""
    del meta["model"]["schedule"]
    meta.pop("baselines", None)
    rows = list(csv.DictReader(io.StringIO((path / "history.csv").read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=runs.HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    (path / "history.csv").write_text(out.getvalue(), encoding="utf-8")


def to_v1(path: Path, meta: dict) -> None:
    """Before 2: no fresh_optimizer flag; runs wrote no time-lapse yet (it came on 2026-11-26)."""
    del meta["fresh_optimizer"]
    (path / "timelapse.json").unlink()


def _order(meta: dict) -> None:
    """Keys in the order the old create_run wrote them."""
    order = ("format", "format_version", "name", "created", "updated", "status", "heartbeat", "model")
    items = {key: meta.pop(key) for key in order if key in meta}
    rest = dict(meta)
    meta.clear()
    meta.update(items)
    meta.update(rest)


BACK_STEPS = {6: to_v6, 5: to_v5, 4: to_v4, 3: to_v3, 2: to_v2, 1: to_v1}  # version N: N + 1 rewritten as N


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        today = train_today(Path(tmp))
        previous = today
        for version in range(run_format.VERSION, 0, -1):
            folder = HERE / f"v{version}"
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(previous, folder)
            if version in BACK_STEPS:
                meta = _json(folder / "config.json")
                BACK_STEPS[version](folder, meta)
                _write_json(folder / "config.json", meta)
            previous = folder
    for folder in sorted(HERE.glob("v*")):
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder.name}: {size / 1000:.1f} KB, {sorted(f.name for f in folder.iterdir())}")


if __name__ == "__main__":
    main()
