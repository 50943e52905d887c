"""How soon a training's first step comes: in a thread of the server vs in a training process.

    python bench/training_start.py [--repeat 2]

Measured side by side in one run, on a tiny LSTM so the start-up is what counts: a thread whose
process has not imported TensorFlow yet, a thread once it has, a process started cold, and the
spare process `ProcessTrainingJob` keeps ready (TensorFlow already imported).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from charlab import workers  # noqa: E402
from charlab.model import ModelConfig  # noqa: E402
from charlab.training import TrainingJob  # noqa: E402

CONFIG = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1)
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 60


def first_step(job) -> tuple[float, float]:
    """Seconds until the first training step, and until the job has ended."""
    started = time.perf_counter()
    threading.Thread(target=job.run, daemon=True).start()
    while job.snapshot().step < 1 and not job.done:
        time.sleep(0.005)
    first = time.perf_counter() - started
    job.wait()
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="warm measurements of each kind")
    args = parser.parse_args()
    rows = []

    def measure(label: str, make) -> None:
        first, whole = first_step(make())
        rows.append((label, first, whole))

    root = tempfile.mkdtemp(prefix="charlab-start-")
    measure("thread, TensorFlow not yet imported", lambda: TrainingJob(TEXT, CONFIG, root=root))
    for _ in range(args.repeat):
        measure("thread, TensorFlow imported", lambda: TrainingJob(TEXT, CONFIG, root=root))
    cold = workers._start_child  # a process started when the job starts, without the spare
    workers._spares().take = lambda: cold()
    measure("process, started cold", lambda: workers.ProcessTrainingJob(TEXT, CONFIG, root=root))
    del workers._spares().take  # back to the spare
    time.sleep(5)  # the spare (warmed by the job above) finishes importing, as it would between trainings
    for _ in range(args.repeat):
        measure("process, the spare (TensorFlow ready)", lambda: workers.ProcessTrainingJob(TEXT, CONFIG, root=root))
        time.sleep(5)
    base = min(first for label, first, _ in rows if label == "thread, TensorFlow imported")
    print(f"{'':42}{'first step':>12}{'whole job':>12}{'vs warm thread':>16}")
    for label, first, whole in rows:
        print(f"{label:42}{first:>10.2f} s{whole:>10.2f} s{first / base:>15.1f}x")


if __name__ == "__main__":
    main()
