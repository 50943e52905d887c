"""Train the classics writer: the network a student's small text can start from (issue 20).

    python bench/writer.py [--epochs 10 | --minutes M] [--units 384] [--workspace DIR] [--out FILE]
    python bench/writer.py --ship RUN_FOLDER      # copy a finished run into sample_texts/writers/classics

The texts are the public-domain classics and the bundled pieces charlab ships (Tiny Shakespeare,
the sonnets, Alice, Aesop's fables, the fables and limericks written for charlab), read with
`charlab.text.samples.read_source` and joined in that fixed order, one blank line between them, into one
text file; then `python -m charlab train FILE --epochs 10` (or `--minutes M`) trains a GRU on it with charlab's own
engine (its default seed, so the same machine gives the same network up to TensorFlow's
threading). The run lands in `--workspace` (a temporary folder unless given) under the name
`classics-writer`; the script prints the command it ran and the load of the machine before and after.

`--ship` puts a finished run where `charlab.learning.writers.find_writer("writer")` finds it: its config.json
(settings, vocabulary, best validation loss; marked finished, with no process id and a fresh optimizer,
so continuing it never opens a Keras file), weights.npz (float32, as every run: 1 MB for a GRU 256),
history.csv and the texts it wrote, and sample.txt (what it writes at T=0.8 from random seed 0). The
copy is then loaded as an uploaded run is (`charlab.saving.runs.load_run`: every array checked against the
settings, nothing unpickled) before the script says it is done.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charlab.learning import writers  # noqa: E402
from charlab.saving import runs  # noqa: E402
from charlab.text import samples  # noqa: E402

WRITER_SOURCES = ("tiny_shakespeare", "sonnets", "alice", "aesop", "fables", "limericks")


def writer_text() -> str:
    """The writer's training text: the shipped samples, in a fixed order, one blank line between them."""
    parts = [samples.read_source(f"sample:{key}")[0].strip("\n") for key in WRITER_SOURCES]
    return "\n\n".join(parts) + "\n"


SHIPPED_FILES = ("weights.npz", "history.csv", "epoch_texts.json")
SAMPLE_LENGTH = 600


def ship(run_path: Path, dest: Path = writers.SHIPPED_WRITERS_DIR / writers.CLASSICS_WRITER) -> Path:
    """Copy a finished run into the repository as the shipped writer, and check it loads as an uploaded run does."""
    meta = runs.read_meta(run_path)
    if meta.get("status") != "finished":
        raise SystemExit(f"{run_path} is {meta.get('status')!r}, not finished: nothing shipped")
    dest.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        if (run_path / name).exists():
            shutil.copyfile(run_path / name, dest / name)
    meta.pop("pid", None)
    meta.pop("heartbeat", None)
    meta.update(name="classics writer", fresh_optimizer=True)
    meta["trained_with"] = "python bench/writer.py (see its docstring); texts: " + ", ".join(WRITER_SOURCES)
    (dest / "config.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    run = runs.load_run(dest)  # every array against the settings, read with allow_pickle=False
    sample = run.generator().write("", SAMPLE_LENGTH, temperature=0.8, random_seed=0)
    (dest / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in dest.iterdir())
    print(f"shipped {dest}: {size / 1e6:.2f} MB, best validation loss {run.info.best_loss:.3f}")
    print(sample)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # the shipped writer: 10 passes (a size compared with another on the same characters, whatever the load)
    parser.add_argument("--epochs", type=int, default=10, help="passes over the text (0: train by --minutes)")
    parser.add_argument("--minutes", type=float, default=18.0, help="minutes by the clock, with --epochs 0")
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--units", type=int, default=384)  # chosen by bench/finetune.py (bench/README.md)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--out", default=None, help="where to write the joined text (default: in the workspace)")
    parser.add_argument("--ship", metavar="RUN_FOLDER", help="copy this finished run into the repository")
    args = parser.parse_args()
    if args.ship:
        ship(Path(args.ship))
        return 0
    workspace = Path(args.workspace or tempfile.mkdtemp(prefix="charlab-writer-"))
    workspace.mkdir(parents=True, exist_ok=True)
    text_path = Path(args.out or workspace / "classics.txt")
    text = writer_text()
    text_path.write_text(text, encoding="utf-8")
    print(f"{len(text):,} characters, {len(set(text))} distinct, in {text_path}", flush=True)
    command = [
        sys.executable, "-m", "charlab", "--workspace", str(workspace), "train", str(text_path),
        "--name", "classics-writer", "--cell", args.cell, "--units", str(args.units), "--layers", str(args.layers),
    ]  # fmt: skip
    command += ["--epochs", str(args.epochs)] if args.epochs else ["--minutes", str(args.minutes)]
    print("command:", " ".join(command), flush=True)
    print(f"load before: {os.getloadavg()}", flush=True)
    started = time.time()
    result = subprocess.run(command, cwd=ROOT)
    print(f"\nload after: {os.getloadavg()}; {(time.time() - started) / 60:.1f} minutes by the clock", flush=True)
    print(f"workspace: {workspace}", flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
