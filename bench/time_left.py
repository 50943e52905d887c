"""How true are "about 1 min 20 s left" and "starts in about 40 s"? Said against what the clock then showed.

    python bench/time_left.py [--epochs 3] [--minutes 1] [--small limericks --small-epochs 40]

Trainings run as the app runs them (a `JobQueue` of training processes, the Train page's default
settings on Tiny Shakespeare, kept as it is). Every half second the bench reads what the
page would say; once each training has ended it knows the truth, and prints, 10, 20, 30 and 60 s
after the training's first step:
- time left of a training by epochs (`--epochs`), of one by the clock (`--minutes`, as Quick start),
  and of many epochs of a small text (`--small`: saving, checking and sampling after each epoch
  then take longer than the epoch's training);
- the queue's "starts in about ..." for a student waiting behind a training by epochs (one place),
  then behind that training and another one waiting (whose length is the model's own estimate).
Ratio = what was said / what happened; the target is 0.7-1.3 from 10 s of training on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charlab.network.model import ModelConfig  # noqa: E402
from charlab.server import backends  # noqa: E402
from charlab.server.jobs import JobQueue  # noqa: E402
from charlab.text import samples  # noqa: E402
from charlab.text.corpus import clean  # noqa: E402
from ui.settings import budget_seconds, default_settings, model_config  # noqa: E402

MOMENTS = (10, 20, 30, 60)  # seconds after the first training step


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:6.1f} s"


class Watch:
    """What the page would say, read every half second in a thread, with the clock."""

    def __init__(self, read) -> None:
        self.read, self.said, self.done = read, [], threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while not self.done.is_set():
            self.said.append((time.monotonic(), self.read()))
            time.sleep(0.5)

    def at(self, moment: float) -> float | None:
        """What was said at the reading closest to `moment` (monotonic clock)."""
        near = min(self.said, key=lambda said: abs(said[0] - moment), default=None)
        return near[1] if near is not None and abs(near[0] - moment) < 1.0 else None


def first_step_time(handle) -> float:
    while handle.job.snapshot().step < 1 and not handle.job.done:
        time.sleep(0.05)
    return time.monotonic()


def rows_for(label: str, watch: Watch, began: float, truth_at: float) -> list[tuple[str, str, str, str]]:
    rows = []
    for moment in MOMENTS:
        said = watch.at(began + moment)
        truth = truth_at - (began + moment)
        if truth <= 0:
            break
        ratio = f"{said / truth:.2f}" if said is not None else "-"
        rows.append((f"{label}, {moment} s in", _fmt(said), _fmt(truth), ratio))
    return rows


# a training as the Train page starts it: its settings, and its minutes by the clock (None: by its epochs)
Plan = tuple[ModelConfig, float | None]


def _job(text: str, plan: Plan, name: str, root: str):
    config, minutes = plan
    return backends.training_job(
        text, config, name=name, corpus_name="Tiny Shakespeare", root=root, budget_seconds=budget_seconds(minutes)
    )


def time_left(queue: JobQueue, text: str, plan: Plan, label: str, root: str) -> list:
    job = _job(text, plan, label, root)
    handle = queue.submit(label, job)
    watch = Watch(lambda: job.snapshot().eta)
    began = first_step_time(handle)
    job.wait()
    ended = time.monotonic()
    watch.done.set()
    return rows_for(label, watch, began, ended)


def queue_wait(queue: JobQueue, text: str, ahead: list[Plan], quick: Plan, root: str, label: str) -> list:
    """A student presses Quick start behind `ahead` (the first one trains, the others wait), one place."""
    jobs = [_job(text, plan, f"ahead {i}", root) for i, plan in enumerate(ahead)]
    handles = [queue.submit(f"ahead {i}", job) for i, job in enumerate(jobs)]
    waiting = _job(text, quick, "waiting", root)
    handle = queue.submit("waiting", waiting)
    watch = Watch(lambda: queue.eta("waiting"))
    began = first_step_time(handles[0])
    while not handle.running and not waiting.done:
        time.sleep(0.05)
    started = time.monotonic()
    watch.done.set()
    waiting.stop()
    waiting.wait()
    return rows_for(label, watch, began, started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the training by epochs")
    parser.add_argument("--minutes", type=float, default=1.0, help="minutes of the training by the clock")
    parser.add_argument("--small", default="limericks", help="a small shipped sample, trained for many epochs")
    parser.add_argument("--small-epochs", type=int, default=40)
    args = parser.parse_args()
    text = clean(samples.load_sample("tiny_shakespeare"), "keep")
    by_epochs = (model_config(default_settings(), epochs=args.epochs), None)
    by_clock = (model_config(default_settings(), epochs=100), args.minutes)
    backends.prepare()
    time.sleep(10)  # the spare training process has imported TensorFlow, as on a server that has been up a while
    root = tempfile.mkdtemp(prefix="charlab-time-left-")
    queue = JobQueue(max_trainings=1)
    rows = time_left(queue, text, by_epochs, f"time left, {args.epochs} epochs", root)
    rows += time_left(queue, text, by_clock, f"time left, {args.minutes:g} min by the clock", root)
    small = clean(samples.load_sample(args.small), "keep")
    many = (model_config(default_settings(), epochs=args.small_epochs), None)
    rows += time_left(queue, small, many, f"time left, {args.small_epochs} epochs of {args.small}", root)
    two = (model_config(default_settings(), epochs=2), None)
    one = (model_config(default_settings(), epochs=1), None)
    rows += queue_wait(queue, text, [two], by_clock, root, "queue, 1 training ahead: 'starts in'")
    rows += queue_wait(queue, text, [two, one], by_clock, root, "queue, 2 ahead: 'starts in'")
    print(f"charlab time left and queue estimates · Tiny Shakespeare ({len(text):,} characters) · "
          f"{time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    width = max(len(row[0]) for row in rows)
    print(f"{'':<{width}}  {'said':>8}  {'truth':>8}  said/truth")
    for label, said, truth, ratio in rows:
        print(f"{label:<{width}}  {said:>8}  {truth:>8}  {ratio}")


if __name__ == "__main__":
    main()
