"""The first minute of a lesson, measured: what a minute of training gives, and how it feels in a browser.

    python bench/first_minute.py recipes [--seconds 60] [--only KEY ...]
    python bench/first_minute.py browser [--tabs 4]
    python bench/first_minute.py tabs 1 5 20

`browser` starts `streamlit run app.py` on 127.0.0.1 with an empty runs folder and drives Debian's
chromium at 1280x720 (Playwright), timing by the wall clock: click -> first point of the loss chart
for the first training after the server started (cold), for a later one (warm) and for a third
student while two train (queued; 2 trainings at once on 2 cores); Quick start from the click to
"Trained for 1 minute", its best and final validation loss and the share of real words it writes
at temperature 0.8; and the CPU the server process itself (not its training processes) spends per
tab watching a training.

For each candidate (a shipped text and a model), one training of exactly `--seconds` by the clock
(the job's time budget, as Quick start uses it) in this process, one after another. Printed per
recipe: wall-clock from start to finished (start-up, training, saving apart), epochs, trained
characters per wall-clock second, the best and the final validation loss (nats/char; a final loss
above the best means the last epochs overfitted, but the best weights are what the run keeps), and
the share of words written at temperature 0.8 (2,000 characters, 3 random seeds) that occur in the
training text.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charlab.learning.training import TrainingJob  # noqa: E402
from charlab.network.model import MAX_EPOCHS, ModelConfig, count_parameters  # noqa: E402
from charlab.saving import runs  # noqa: E402
from charlab.teaching.copying import TrainingTextIndex, real_word_share  # noqa: E402
from charlab.text import samples  # noqa: E402
from charlab.text.corpus import clean  # noqa: E402


@dataclass(frozen=True)
class Recipe:
    key: str
    sample: str
    cleaning: str
    config: ModelConfig


def _config(**values) -> ModelConfig:
    """An LSTM at a constant rate unless said otherwise (the candidates measured before GRU and the schedule)."""
    return ModelConfig(**{"cell": "lstm", "schedule": "constant", **values}, epochs=MAX_EPOCHS,
                       validation_fraction=0.1, clipnorm=1.0)  # fmt: skip


RECIPES = (
    Recipe("fables-old-quick", "fables", "keep", _config(units=256, embedding_dim=32, dropout=0.2, seq_length=64,
                                                          batch_size=32, learning_rate=3e-3)),
    Recipe("aesop-256", "aesop", "keep", _config(units=256, embedding_dim=32, dropout=0.2, seq_length=64,
                                                  batch_size=32, learning_rate=3e-3)),
    Recipe("aesop-128", "aesop", "keep", _config(units=128, embedding_dim=32, dropout=0.1, seq_length=64,
                                                  batch_size=32, learning_rate=5e-3)),
    Recipe("shakespeare-256", "tiny_shakespeare", "keep", _config(units=256, embedding_dim=64, seq_length=100,
                                                                   batch_size=64, learning_rate=3e-3)),
    Recipe("shakespeare-256-b32", "tiny_shakespeare", "keep", _config(units=256, embedding_dim=32, seq_length=64,
                                                                       batch_size=32, learning_rate=3e-3)),
    Recipe("shakespeare-gru-cosine", "tiny_shakespeare", "keep", _config(cell="gru", units=256, embedding_dim=32,
           seq_length=64, batch_size=64, learning_rate=5e-3, schedule="cosine")),
)  # fmt: skip


def word_share(texts: list[str], training_text: str) -> float:
    """Share of the words written that occur in the training text, as 'Is it copying?' counts them."""
    vocabulary = TrainingTextIndex(training_text).words
    found = total = 0
    for text in texts:
        share, checked, _ = real_word_share(text, vocabulary)
        found += share * checked
        total += checked
    return found / total if total else 0.0


def measure(recipe: Recipe, seconds: float, root: str) -> dict:
    text = clean(samples.load_sample(recipe.sample), recipe.cleaning)
    started = time.perf_counter()
    job = TrainingJob(text, recipe.config, name=recipe.key, corpus_name=recipe.sample, root=root,
                      budget_seconds=seconds)  # fmt: skip
    progress = job.run()
    wall = time.perf_counter() - started
    history = progress.history
    generator = runs.load_run(progress.run_path).generator()
    written = [generator.write("", 2000, temperature=0.8, random_seed=seed) for seed in range(3)]
    trained_chars = progress.step * recipe.config.batch_size * recipe.config.seq_length
    return {
        "recipe": recipe.key,
        "chars": len(text),
        "params": count_parameters(recipe.config, len(job.vocab)),
        "wall": wall,
        "train": progress.elapsed,
        "epochs": len(history),
        "chars_per_s": trained_chars / progress.elapsed if progress.elapsed else 0.0,
        "best": progress.best_val_loss,
        "final": history[-1]["val_loss"] if history else float("nan"),
        "best_epoch": min(range(len(history)), key=lambda i: history[i]["val_loss"]) + 1 if history else 0,
        "words": word_share(written, text),
        "status": progress.status,
    }


def recipes(args: argparse.Namespace) -> None:
    root = tempfile.mkdtemp(prefix="charlab-first-minute-")
    chosen = [r for r in RECIPES if not args.only or r.key in args.only]
    print(f"{'recipe':<22} {'text':>9} {'params':>9} {'wall s':>7} {'train s':>7} {'epochs':>6} {'best@':>5} "
          f"{'chars/s':>8} {'best':>6} {'final':>6} {'words':>6}")  # fmt: skip
    for recipe in chosen:
        row = measure(recipe, args.seconds, root)
        print(f"{row['recipe']:<22} {row['chars']:>9,} {row['params']:>9,} {row['wall']:>7.1f} {row['train']:>7.1f} "
              f"{row['epochs']:>6} {row['best_epoch']:>5} {row['chars_per_s']:>8,.0f} {row['best']:>6.3f} "
              f"{row['final']:>6.3f} {row['words']:>6.0%}", flush=True)  # fmt: skip


# ---------------------------------------------------------------- in a browser

PAGE_LOAD = 60_000  # ms
CHART = "stVegaLiteChart"


def _click_to_first_point(page, key: str) -> float:
    """Seconds from clicking `key` until the loss chart of a training with a first point is drawn."""
    main = page.get_by_test_id("stMainBlockContainer")
    started = time.perf_counter()
    main.locator(f".st-key-{key}").get_by_role("button").click()
    stop = main.locator(".st-key-train_stop").get_by_role("button")
    stop.wait_for(timeout=PAGE_LOAD)
    deadline = time.monotonic() + PAGE_LOAD * 3 / 1000
    while not stop.is_enabled():
        assert time.monotonic() < deadline, "the training did not start"
        time.sleep(0.02)
    # the page shows the new training once it says which step of the start it is at (an earlier run's
    # chart may still be on the page until then)
    starting = re.compile("Preparing the data|Building the network|Getting the first training step ready")
    seen = time.monotonic() + 5
    while not starting.search(main.inner_text()) and time.monotonic() < seen:
        time.sleep(0.02)
    main.get_by_test_id(CHART).first.wait_for(timeout=PAGE_LOAD * 3)
    return time.perf_counter() - started


def _stop(page) -> None:
    main = page.get_by_test_id("stMainBlockContainer")
    main.locator(".st-key-train_stop").get_by_role("button").click()
    main.get_by_text("Stopped", exact=False).first.wait_for(timeout=PAGE_LOAD * 2)


def _watching_tabs_cpu(server, url: str, tab, counts: tuple[int, ...]) -> list[tuple[str, str]]:
    """Server CPU (its own process, not the training's) while 1, then more tabs watch one long training,
    measured once the pages poll at their settled pace (after the training's first 30 s)."""
    from streamlit_server import cpu_seconds, vm

    watcher = tab(url + "?s=tiny_shakespeare&u=64&ep=50")
    _click_to_first_point(watcher, "home_quick_start")
    time.sleep(35)
    cpu, rss = {}, {}
    for tabs in counts:
        extra = [tab(watcher.url) for _ in range(tabs - 1)]
        time.sleep(3)
        before, t0 = cpu_seconds(server.pid), time.perf_counter()
        time.sleep(15)
        cpu[tabs] = (cpu_seconds(server.pid) - before) / (time.perf_counter() - t0)
        rss[tabs] = vm(server.pid, "VmRSS") / 2**20
        for page in extra:
            page.close()
    _stop(watcher)
    rows = [
        (f"server CPU, {n} tab{'s' if n > 1 else ''} watching a training", f"{cpu[n]:.2f} core, RSS {rss[n]:,.0f} MB")
        for n in counts
    ]
    if len(counts) > 1:
        per_tab = (cpu[counts[-1]] - cpu[counts[0]]) / (counts[-1] - counts[0])
        rows.append(("server CPU per extra watching tab", f"{per_tab:.3f} core"))
    return rows


class _Browser:
    """A fresh server with an empty runs folder per `server()`, and chromium tabs at 1280x720."""

    def __init__(self, chromium) -> None:
        self.chromium = chromium

    def server(self):
        sys.path.insert(0, str(ROOT / "tests"))
        from streamlit_server import StreamlitServer

        home = Path(tempfile.mkdtemp(prefix="charlab-first-minute-"))
        server = StreamlitServer(ROOT, home, home / "streamlit.log", env={"CHARLAB_OWNERS": "0"})
        return server, home, server.start()

    def tab(self, link: str):
        page = self.chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(link)
        page.get_by_test_id("stMainBlockContainer").locator("h1").first.wait_for(timeout=PAGE_LOAD)
        return page


def _print(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"charlab first minute · {os.cpu_count()} cores · chromium 1280x720 · {time.strftime('%Y-%m-%d %H:%M')}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def _chromium(pw):
    sys.path.insert(0, str(ROOT / "tests"))
    from streamlit_server import CHROMIUM, CHROMIUM_ARGS

    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def tabs(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = _chromium(pw)
        browser_ = _Browser(chromium)
        server, _, url = browser_.server()
        try:
            rows = _watching_tabs_cpu(server, url, browser_.tab, tuple(args.counts))
        finally:
            server.stop()
        chromium.close()
    _print(rows)


def browser(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, str]] = []
    with sync_playwright() as pw:
        chromium = _chromium(pw)
        browser_ = _Browser(chromium)
        new_server, tab = browser_.server, browser_.tab

        # coldest: the very first visitor after the server started clicks Quick start at once
        server, home, url = new_server()
        try:
            first = tab(url)
            coldest = _click_to_first_point(first, "home_quick_start")
            rows.append(("click -> first point, server just started, click at once", f"{coldest:.1f} s"))
            first.close()
        finally:
            server.stop()

        server, home, url = new_server()
        try:
            # cold: the first training after the server started, 3 s after the page opened; it runs its minute
            student = tab(url)
            time.sleep(3)
            started = time.perf_counter()
            cold = _click_to_first_point(student, "home_quick_start")
            rows.append(("click -> first point, cold (first training, page open 3 s)", f"{cold:.1f} s"))
            student.get_by_text("Trained for 1 minute, as planned").first.wait_for(timeout=PAGE_LOAD * 4)
            rows.append(("Quick start, click -> 'Trained for 1 minute'", f"{time.perf_counter() - started:.1f} s"))
            [info] = runs.list_runs(home)
            history = runs.read_history(info.path)
            rows.append(("Quick start best / final validation loss",
                         f"{info.best_val_loss:.3f} / {history[-1]['val_loss']:.3f} nats/char, "
                         f"{len(history)} epochs"))  # fmt: skip
            generator = runs.load_run(info.path).generator()
            written = [generator.write("", 2000, temperature=0.8, random_seed=seed) for seed in range(3)]
            shakespeare = samples.load_sample("tiny_shakespeare")
            rows.append(
                ("Quick start real words at T=0.8 (3 x 2,000 chars)", f"{word_share(written, shakespeare):.0%}")
            )

            # warm: the same student trains again (a spare process is ready by now)
            time.sleep(5)
            warm = [_click_to_first_point(student, "train_start")]
            _stop(student)
            time.sleep(5)
            warm.append(_click_to_first_point(student, "train_start"))
            rows.append(("click -> first point, warm (2 tries)", " / ".join(f"{w:.1f} s" for w in warm)))

            _stop(student)
            rows += _watching_tabs_cpu(server, url, tab, (1, 1 + args.tabs))

            # queued: two students train, a third clicks Quick start; one of the two stops 5 s later
            busy = [tab(url + "?s=limericks&u=64&ep=500") for _ in range(2)]
            for page in busy:
                _click_to_first_point(page, "home_quick_start")
            third = tab(url)
            started = time.perf_counter()
            waiting = third.get_by_test_id("stMainBlockContainer")
            waiting.locator(".st-key-home_quick_start").get_by_role("button").click()
            time.sleep(5)
            _stop(busy[0])
            waiting.get_by_test_id(CHART).first.wait_for(timeout=PAGE_LOAD * 3)  # a fresh tab: its own chart
            queued = time.perf_counter() - started
            rows.append(("click -> first point, queued (2 training; one stops 5 s later)", f"{queued:.1f} s"))
        finally:
            server.stop()
        chromium.close()
    _print(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    part = sub.add_parser("recipes", help="one minute of training per candidate recipe")
    part.add_argument("--seconds", type=float, default=60.0, help="the time budget of each training")
    part.add_argument("--only", nargs="*", help="recipe keys to measure (default: all)")
    part = sub.add_parser("browser", help="the first minute in chromium, by the clock")
    part.add_argument("--tabs", type=int, default=4, help="extra tabs watching a training, for the server's CPU")
    part = sub.add_parser("tabs", help="the server's CPU while more and more tabs watch one training")
    part.add_argument("counts", nargs="+", type=int, help="numbers of watching tabs, e.g. 1 5 20")
    args = parser.parse_args()
    {"recipes": recipes, "browser": browser, "tabs": tabs}[args.part](args)


if __name__ == "__main__":
    main()
