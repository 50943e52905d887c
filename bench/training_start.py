"""Where a training's fixed cost goes: from "start" to its first step, and from its last step to "saved".

    python bench/training_start.py [--repeat 2] [--quick-text PATH]

Two trainings, each measured the way the server runs it (in the spare training process that
`ProcessTrainingJob` keeps ready) and in a thread of a process that has TensorFlow imported:

- the classroom bench's toy (a GRU of 16 units, 2 epochs of a 3,000-character text): nearly all fixed
  cost, which decides how long a class's queue waits (`bench/classroom.py`);
- Quick start's network (GRU 256) for a 5-second budget on Tiny Shakespeare: the fixed cost a student
  sees before the chart moves and after the minute is up.

Each part is timed inside the job (`Progress.phases`); the process rows add the hand-over to the
child before it, and the child's last message after it. The start of a cold process (imports) is
printed apart, as is the memory of a spare process waiting for its job.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charlab.learning.training import TrainingJob  # noqa: E402
from charlab.network.model import ModelConfig  # noqa: E402
from charlab.server import workers  # noqa: E402

TOY = ModelConfig(units=16, embedding_dim=8, seq_length=16, epochs=2)  # as bench/classroom.py sets its pages
QUICK = ModelConfig(epochs=1000)  # the default settings are Quick start's network
QUICK_SECONDS = 5.0
WORDS = "the fox river stone song light garden window morning little quiet green winter bread market".split()
PHASES = ("data", "network", "run folder", "first loss", "first step", "last step", "saved")
COLUMNS = ("hand-over", *PHASES, "told done")


def toy_text(chars: int = 3000) -> str:
    words, i = [], 0
    while sum(len(w) + 1 for w in words) < chars:
        words.append(WORDS[(i * 7 + i // 3) % len(WORDS)])
        i += 1
    return " ".join(words)[:chars]


def timeline(job) -> dict[str, float]:
    """Run the job as the job queue does (job.run in a thread) and time each part from the call on."""
    started, started_wall = time.perf_counter(), time.time()
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    while not job.done:
        time.sleep(0.002)
    told_done = time.perf_counter() - started
    p = job.snapshot()
    phases = p.phases
    # the job's own clock starts when the child (or thread) begins it: what came before is the hand-over
    handover = p.began_at - started_wall
    row = {"hand-over": handover}
    row.update({name: handover + phases[name] for name in PHASES if name in phases})
    row["told done"] = told_done
    row["training"] = phases.get("last step", 0.0) - phases.get("first step", 0.0)
    row["status"] = p.status
    return row


def spare_memory_mb() -> float:
    """The resident memory of a spare training process waiting for its job (TensorFlow imported, warmed up)."""
    child, conn = workers._start_child()
    try:
        time.sleep(12)  # imports and the warm-up are done well within this on 2 cores
        status = Path(f"/proc/{child.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024
    finally:
        conn.close()
        child.wait(timeout=30)


def cold_imports() -> float:
    """Seconds for a new Python process to import TensorFlow and Keras as a training process does."""
    code = (
        "import time; t = time.perf_counter(); from charlab.network.model import import_keras; import_keras(); "
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="measurements of each kind (the median is printed)")
    parser.add_argument("--quick-text", default=str(ROOT / "sample_texts" / "classics" / "tiny_shakespeare.txt.gz"))
    args = parser.parse_args()
    quick_path = Path(args.quick_text)
    quick_text = (gzip.open if quick_path.suffix == ".gz" else open)(quick_path, "rt", encoding="utf-8").read()
    root = tempfile.mkdtemp(prefix="charlab-start-")
    trainings = {
        "toy": lambda **kw: dict(text=toy_text(), config=TOY, root=root, **kw),
        "Quick start, 5 s": lambda **kw: dict(
            text=quick_text, config=QUICK, root=root, budget_seconds=QUICK_SECONDS, **kw
        ),
    }
    workers.prepare()
    time.sleep(12)  # the spare process has imported TensorFlow, as between a class's trainings
    rows = []
    for label, kwargs in trainings.items():
        for where, make in (
            ("spare process", lambda kw: workers.ProcessTrainingJob(**kw)),
            ("thread", lambda kw: TrainingJob(**kw)),
        ):
            measured = []
            for _ in range(args.repeat):
                measured.append(timeline(make(kwargs())))
                time.sleep(8)  # the next spare has started and imported (a class's trainings are this far apart)
            rows.append((f"{label}, {where}", measured))

    print("Seconds from the job's start (the queue calling job.run) to the end of each part; median of", args.repeat)
    print(f"{'':32}" + "".join(f"{c:>11}" for c in COLUMNS) + f"{'training':>10}{'fixed':>8}")
    for label, measured in rows:
        cells = []
        for column in (*COLUMNS, "training"):
            values = [m[column] for m in measured if column in m]
            cells.append(f"{statistics.median(values):>11.2f}" if values else f"{'-':>11}")
        fixed = statistics.median(m["told done"] - m["training"] for m in measured)
        statuses = {m["status"] for m in measured}
        print(f"{label:32}" + "".join(cells[:-1]) + f"{cells[-1]:>10}{fixed:>8.2f}  {'/'.join(statuses)}")
    print("fixed = told done - (last step - first step): everything around the training's own steps")
    print(f"a cold process importing TensorFlow and Keras: {cold_imports():.2f} s")
    print(f"memory of a spare training process waiting for its job: {spare_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
