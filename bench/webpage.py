"""What an exported web page weighs and how fast it writes in chromium, against charlab's numpy generator.

    python bench/webpage.py [--chars 5000] [--run RUN ...] [--screenshot RUN --to docs/take-it-home.png]

Per model size (GRU 128, the default GRU 256, the 5-minute preset's GRU 384, a 2-layer LSTM 256; 65
characters as Tiny Shakespeare; seeded random weights, which write as fast as trained ones): the page's
size in float16 and float32, its load time in Debian's chromium (from navigation to the network being
ready), characters per second in chromium (the page's own writer, no drawing) against numpy's
`Generator.write` in this process, and how long the page takes to show 500 characters after Write.

`--run` adds trained runs and says whether float16 changes their greedy text (300 characters from a few
seeds, numpy on float32 weights against numpy on the page's float16 weights). `--screenshot` exports a
run and takes the README's picture of it at a phone's size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from webpage_runs import make_run  # noqa: E402

from charlab.network.sampling import Generator, NumpyCharModel  # noqa: E402
from charlab.saving import runs, webpage  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
SIZES = [("GRU 128", "gru", 128, 1), ("GRU 256 (default)", "gru", 256, 1), ("GRU 384 (5 minutes)", "gru", 384, 1),
         ("LSTM 256 × 2", "lstm", 256, 2)]  # fmt: skip


def offline_page(browser, html_file: Path, viewport: dict):
    """The page from file://, every other request refused; (page, seconds from navigation to ready)."""
    context = browser.new_context(viewport=viewport)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page = context.new_page()
    page.goto(html_file.as_uri())
    expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=60_000)
    return page, float(page.locator("body").get_attribute("data-ready-ms")) / 1000


def chromium_speed(page, chars: int) -> float:
    page.evaluate("() => charlabPage.write('The ', 300, 0.8, 0, 1)")  # warm up the JIT
    timed = "(n) => { const t0 = performance.now(); charlabPage.write('The ', n, 0.8, 0, 1); "
    timed += "return performance.now() - t0; }"
    ms = page.evaluate(timed, chars)
    return chars / (ms / 1000)


def first_500(page) -> float:
    """Seconds from Write to 500 characters on screen (the page's own figure, drawing included)."""
    page.locator("#length").fill("500")
    page.locator("#write").click()
    expect(page.locator("#text-speed")).to_contain_text("500 characters in", timeout=60_000)
    return float(page.locator("#text-speed").text_content().split(" in ")[1].split(" s")[0])


def numpy_speed(run: runs.Run, chars: int) -> float:
    generator = run.generator()
    generator.write("The ", 300)
    started = time.perf_counter()
    generator.write("The ", chars, temperature=0.8, random_seed=1)
    return chars / (time.perf_counter() - started)


def float16_changes(run: runs.Run, seeds: int = 100, length: int = 300) -> str:
    """How often the page's float16 weights change the greedy text: seeds of 3 random characters of the run's
    own vocabulary, numpy on the float32 weights against numpy on the float16-rounded ones."""
    exact = Generator(NumpyCharModel.from_config(run.config, run.weights), run.vocab)
    rounded = Generator(NumpyCharModel.from_config(run.config, webpage.rounded_weights(run.weights)), run.vocab)
    rng = np.random.default_rng(0)
    parted = []
    for _ in range(seeds):
        seed = "".join(rng.choice(list(run.vocab.chars), 3))
        a = exact.write(seed, length, temperature=0.1, top_k=1)
        b = rounded.write(seed, length, temperature=0.1, top_k=1)
        parted += [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y][:1]
    where = f"; the others part at characters {sorted(parted)}" if parted else ""
    return f"{seeds - len(parted)} of {seeds} seeds give the same {length} greedy characters{where}"


def measure(browser, label: str, run: runs.Run, folder: Path, chars: int) -> dict:
    html_file = folder / f"{runs.slugify(label)}.html"
    html_file.write_text(webpage.export_html(run), encoding="utf-8")
    float32_mb = len(webpage.export_html(run, encoding="float32").encode("utf-8")) / 1e6
    page, load = offline_page(browser, html_file, {"width": 1280, "height": 720})
    row = {
        "model": label,
        "numbers": sum(w.size for w in run.weights.values()),
        "page_mb": html_file.stat().st_size / 1e6,
        "float32_mb": float32_mb,
        "load_s": load,
        "chromium": chromium_speed(page, chars),
        "numpy": numpy_speed(run, chars),
        "first_500_s": first_500(page),
    }
    page.context.close()
    return row


def screenshot(browser, run_ref: str, target: Path) -> None:
    run = runs.load_run(runs.find_run(run_ref))
    with tempfile.TemporaryDirectory() as folder:
        html_file = Path(folder) / "page.html"
        html_file.write_text(webpage.export_html(run), encoding="utf-8")
        page, _ = offline_page(browser, html_file, {"width": 390, "height": 844})
        page.locator("#seed-text").fill("ROMEO:\n")
        page.locator("#length").fill("300")
        page.locator("#random-seed").fill("7")
        page.locator("#write").click()
        expect(page.locator("#text-speed")).to_contain_text("300 characters in", timeout=60_000)
        page.screenshot(path=str(target), full_page=True)
        page.context.close()
    print(f"wrote {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=5000, help="characters written per speed measurement")
    parser.add_argument("--run", action="append", default=[], help="a trained run (path) to measure too")
    parser.add_argument("--screenshot", metavar="RUN", help="take the README's picture of this run's page")
    parser.add_argument("--to", default=str(ROOT / "docs" / "take-it-home.png"), help="where the picture goes")
    args = parser.parse_args()
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.screenshot:
            screenshot(browser, args.screenshot, Path(args.to))
            return
        folder = Path(tmp)
        measured = []
        for label, cell, units, layers in SIZES:
            path = make_run(folder / "runs", cell=cell, units=units, layers=layers, name=label)
            measured.append(measure(browser, label, runs.load_run(path), folder, args.chars))
        findings = []
        for ref in args.run:
            run = runs.load_run(runs.find_run(ref))
            label = f"{run.info.name} ({run.config.cell} {run.config.units}×{run.config.layers})"
            measured.append(measure(browser, label, run, folder, args.chars))
            findings.append(f"{label}, float16 against float32: {float16_changes(run)}")
        browser.close()
    print("| model | numbers | page (float16) | float32 would be | load | chromium chars/s | numpy chars/s | "
          "chromium ÷ numpy | 500 chars shown in |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in measured:
        print(f"| {r['model']} | {r['numbers']:,} | {r['page_mb']:.2f} MB | {r['float32_mb']:.2f} MB | "
              f"{r['load_s']:.2f} s | {r['chromium']:,.0f} | {r['numpy']:,.0f} | {r['chromium'] / r['numpy']:.2f} | "
              f"{r['first_500_s']:.2f} s |")  # fmt: skip
    for finding in findings:
        print(finding)


if __name__ == "__main__":
    main()
