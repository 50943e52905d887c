"""A classroom load test: K students on one charlab server at once, each with their own text.

    python bench/classroom.py [--sessions 20] [--epochs 2] [--port 0] [--mode browser|apptest]
                              [--backend local|ray] [--nodes 2 [3 ...]] [--cpus-per-node 1]

Starts `streamlit run app.py` on 127.0.0.1 (its own temporary CHARLAB_HOME), then drives K
sessions at the same time. Each session uploads a different small corpus (with a marker word
such as "zebra07" and a character no other corpus has), sets tiny settings, starts training
(the server's queue makes most of them wait: we record that they saw the queue message), waits
for the end, generates text, and checks isolation:

- cross-talk = a session seeing another session's corpus marker in its sidebar or corpus
  preview, another session's unique character in its generated text (its model can only emit
  characters of its own corpus), or another session's run in its runs list when the app keeps
  runs per owner (detected from the ui code; otherwise the shared runs list is reported, not counted).

Modes:
- browser (default): one headless Debian chromium (Playwright, asyncio), one context per session,
  talking to the real server. Page response = time from a click or upload to the expected element.
- apptest: streamlit.testing.v1.AppTest sessions in threads, inside this process (no server, no
  browser): a lighter fallback when chromium is too heavy. RSS is then this process's, and the
  page times leave out the network and the browser's own work.

Prints a table: sessions completed, errors, cross-talk, page response p50/p95 (all, and while
trainings run), queue wait p50/max, peak RSS of the server, the server process's own CPU (browser
mode), wall time.

On one machine the K browser pages share the cores with the server (20 chromium renderers took
about as much CPU as the server on 2 cores), so the page response times are pessimistic for a
real class, where each student's browser runs on their own laptop.

Backends:
- local (default): the server trains on its own machine (child processes, or threads with
  CHARLAB_TRAIN_IN_THREADS=1), at most --max-trainings at once.
- ray: the trainings run as Ray actors (charlab/server/cluster.py) on a simulated cluster on this machine,
  made as tests/test_cluster.py makes it (ray.cluster_utils.Cluster): a head with 0 CPUs (it runs no
  training) and --nodes worker nodes of --cpus-per-node CPUs each, CHARLAB_CPUS_PER_TRAINING=1, so
  the queue has nodes × CPUs places. The server (browser mode) or this process (apptest mode) gets
  CHARLAB_RAY_ADDRESS. Several counts (--nodes 1 2 3) run the whole K-session test once each, on a
  fresh cluster, server and CHARLAB_HOME. Each report adds: trainings per node ("node 1".."node N" in
  the order the nodes were added; apptest mode from each session's job, `RayTrainingJob.node`; browser
  mode from Ray's actor table, which keeps the ended actors), how long a training held its place
  (apptest mode: the actor's start on its node counts), the cluster's own peak RSS (its daemons, idle
  workers and trainings; the server's RSS leaves it out), and the expected queue wait on a real
  cluster of 1, 2, 3, 5 and 10 nodes: with C = nodes × CPUs places, K students at once and T the
  measured training p50, about T × (ceil(K/C) - 1) / 2 on average and T × (ceil(K/C) - 1) for the
  last. Then one table row per node count. The simulated nodes share this machine's cores, so more
  of them cannot make trainings faster here: the projection is what says what real nodes would give.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from streamlit_server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, cpu_seconds, vm  # noqa: E402 - as the browser tests

ROOT = Path(__file__).resolve().parent.parent
# one character per session that no other corpus contains: Greek, then Cyrillic lower case
UNIQUE = [chr(c) for c in range(0x3B1, 0x3CA) if c != 0x3C2] + [chr(c) for c in range(0x430, 0x450)]
# what the Train page shows once a training was accepted; a toy training may already be over ("Finished ·")
STARTED = re.compile(r"Waiting for a free place|Preparing|Building the network|first training step|Epoch \d|Finished ·")
FINAL_WORDS = ("finished", "stopped", "failed", "diverged", "interrupted")
WORDS = (
    "the fox river stone song light garden window morning little quiet green winter bread "
    "market bridge candle yellow sleepy old kind brave small story"
).split()


# ---------------------------------------------------------------- corpora


def marker(i: int) -> str:
    """Session i's marker word: zebra07 plus a character only its corpus has."""
    return f"zebra{i:02d}{UNIQUE[i]}"


def corpus_text(i: int, chars: int) -> str:
    """A small text for session i, its marker in every line."""
    rng = random.Random(1000 + i)
    lines, size = [], 0
    while size < chars:
        words = rng.sample(WORDS, 6)
        line = f"The {marker(i)} and the {words[0]} {words[1]} by the {words[2]}, {words[3]} {words[4]} {words[5]}."
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- results


@dataclass
class Session:
    i: int
    marker: str
    run_name: str
    done: bool = False
    error: str | None = None
    saw_queue: bool = False
    queue_text: str = ""
    clicked_start: float | None = None  # time.time()
    seen_running: float | None = None  # first time the browser saw it out of the queue
    ended: float | None = None
    status: str = ""
    crosstalk: list[str] = field(default_factory=list)
    runs_seen: list[str] = field(default_factory=list)
    generated: str = ""
    node: str | None = None  # --backend ray, apptest mode: the Ray node id its training reported from
    handle: Any = None  # --backend ray, apptest mode: its charlab.server.jobs.JobHandle (the queue is this process's)


@dataclass
class Timing:
    what: str
    seconds: float
    under_load: bool


class Bench:
    def __init__(self, k: int):
        self.lock = threading.Lock()
        self.timings: list[Timing] = []
        self.active_trainings = 0  # sessions between Start and the end of their training (as seen)

    def record(self, what: str, seconds: float, under_load: bool) -> None:
        with self.lock:
            self.timings.append(Timing(what, seconds, under_load))

    def training(self, delta: int) -> None:
        with self.lock:
            self.active_trainings += delta

    @property
    def loaded(self) -> bool:
        return self.active_trainings > 0


def others_in(text: str, me: int, k: int, ascii_too: bool = True) -> list[str]:
    """Markers (or unique characters) of other sessions found in `text`."""
    found = []
    for j in range(k):
        if j == me:
            continue
        if UNIQUE[j] in text:
            found.append(f"char {UNIQUE[j]} (session {j})")
        elif ascii_too and re.search(rf"zebra{j:02d}(?!\d)", text):
            found.append(f"zebra{j:02d}")
    return found


# ---------------------------------------------------------------- the server and its memory


def proc_tree(
    pid: int, exclude: frozenset[int] = frozenset(), children: dict[int, list[int]] | None = None
) -> list[int]:
    """pid and all its descendants (from /proc/*/stat), leaving out the subtrees of `exclude`."""
    children = children if children is not None else proc_children()
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in exclude:
            continue
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def proc_children() -> dict[int, list[int]]:
    """Each process's children, from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


class MemoryWatch(threading.Thread):
    """Samples the summed VmRSS of a process tree (the server and its training processes) twice a
    second; keeps that peak, and each process's own VmHWM. With `cluster` (the pids of a simulated Ray
    cluster's daemons), their trees are left out of the server's and summed apart (`peak_cluster_rss`)."""

    def __init__(self, pid: int, cluster: tuple[int, ...] | list[int] = ()):
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.hwm = pid, 0, {}
        self.cluster, self.peak_cluster_rss = frozenset(cluster), 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(0.5)

    def sample(self) -> None:
        children = proc_children()
        tree = proc_tree(self.pid, self.cluster, children)
        self.peak_rss = max(self.peak_rss, sum(vm(p, "VmRSS") for p in tree))
        for p in tree:
            self.hwm[p] = max(self.hwm.get(p, 0), vm(p, "VmHWM"))
        if self.cluster:
            pids = {p for root in self.cluster for p in proc_tree(root, children=children)}
            self.peak_cluster_rss = max(self.peak_cluster_rss, sum(vm(p, "VmRSS") for p in pids))


def owners_on(app: Path) -> bool:
    """Whether the app keeps runs per owner: its ui code (ui.py or ui/) lists runs from an owner's workspace."""
    source = "".join(path.read_text() for path in [app / "ui.py", *sorted((app / "ui").glob("*.py"))] if path.exists())
    off = os.environ.get("CHARLAB_OWNERS", "").strip().lower() in {"0", "false", "no", "off"}
    return "owner_workspace" in source and not off


# ---------------------------------------------------------------- browser mode


async def browser_session(ctx, s: Session, k: int, args, url: str, bench: Bench, corpus: bytes) -> None:
    from playwright.async_api import expect

    page = await ctx.new_page()
    page.set_default_timeout(args.page_timeout * 1000)
    slow = args.page_timeout * 1000
    main = page.get_by_test_id("stMainBlockContainer")
    sidebar = page.get_by_test_id("stSidebar")

    async def timed(what: str, action, expectation) -> None:
        loaded = bench.loaded
        t0 = time.perf_counter()
        await action()
        await expectation()
        bench.record(what, time.perf_counter() - t0, loaded or bench.loaded)

    async def no_error() -> None:
        await expect(main.get_by_test_id("stException")).to_have_count(0)
        text = await main.inner_text()
        if "Something unexpected went wrong" in text:
            raise RuntimeError("the page says: Something unexpected went wrong")

    async def go_to(title: str, what: str = "navigate") -> None:
        await timed(
            what,
            lambda: sidebar.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click(),
            lambda: expect(main.locator("h1")).to_contain_text(title, timeout=slow),
        )

    def keyed(key: str, role: str = "button"):
        return main.locator(f".st-key-{key}").get_by_role(role)

    async def check_isolation(where: str, text: str, ascii_too: bool = True) -> None:
        for found in others_in(text, s.i, k, ascii_too):
            s.crosstalk.append(f"{where}: {found}")

    # ---- Home
    await timed("open", lambda: page.goto(url), lambda: expect(main.locator("h1")).to_contain_text("charlab"))
    # ---- Corpus: upload this session's text
    await go_to("Corpus")
    await main.get_by_role("tab", name="Upload your own").click()
    name = f"class-{s.marker}.txt"
    await timed(
        "upload",
        lambda: main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            files=[{"name": name, "mimeType": "text/plain", "buffer": corpus}]
        ),
        lambda: expect(main.locator("h2")).to_contain_text(s.marker, timeout=slow),
    )
    await expect(sidebar).to_contain_text(s.marker)
    await expect(main.get_by_test_id("stCode").first).to_contain_text(s.marker, timeout=slow)  # drawn after the h2
    await no_error()
    preview = " ".join(await main.get_by_test_id("stCode").all_inner_texts())
    if s.marker not in preview:
        raise RuntimeError("own marker missing from the corpus preview")
    await check_isolation("corpus preview", preview + await main.locator("h2").first.inner_text())
    await check_isolation("sidebar", await sidebar.inner_text())

    # ---- Train: tiny settings
    await go_to("Train")
    await expect(main).to_contain_text(s.marker)
    for label, steps in (("Units", 0), ("Sequence length", args.seq_steps), ("Embedding size", 0)):
        thumb = main.get_by_role("slider", name=label)
        await thumb.focus()
        await thumb.press("Home")
        for _ in range(steps):
            await thumb.press("ArrowRight")
    epochs = main.get_by_label("Epochs", exact=True)
    await epochs.fill(str(args.epochs))
    await epochs.press("Enter")
    await expect(epochs).to_have_value(str(args.epochs))
    run_name = main.get_by_label("Run name", exact=True)
    await run_name.fill(s.run_name)
    await run_name.press("Enter")
    await page.wait_for_timeout(300)  # the text input's rerun
    await no_error()
    bench.training(+1)
    s.clicked_start = time.time()
    try:
        await timed(
            "start training",
            lambda: keyed("train_start").click(),
            lambda: expect(main.get_by_text(STARTED).filter(visible=True).first).to_be_visible(timeout=slow),
        )
        # ---- wait for the end, looking in now and then from another page (the page response under load)
        deadline = time.monotonic() + args.training_timeout
        last_probe, on_train = time.monotonic(), True
        while True:
            side = await sidebar.inner_text()
            body = await main.inner_text() if on_train else ""
            both = side + "\n" + body
            if "Waiting for a free place" in both:
                s.saw_queue = True
                m = re.search(r"\(([^()]*(?:queue|next)[^()]*)\)", both)
                s.queue_text = s.queue_text or (m.group(1) if m else "waiting")
            elif s.seen_running is None and re.search(r"Training ·|Preparing|Epoch \d|Training «", both):
                s.seen_running = time.time()
            tail = side.split(s.run_name, 1)[1] if s.run_name in side else ""
            final = next((w for w in FINAL_WORDS if re.search(rf"\b{w}\b", tail[:120])), None)
            if final and "Training ·" not in side and "Waiting for a free place" not in side:
                s.status, s.ended = final, time.time()
                s.seen_running = s.seen_running or s.ended
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"training did not end within {args.training_timeout} s")
            if args.probe_every and time.monotonic() - last_probe > args.probe_every:
                last_probe = time.monotonic()
                if on_train:
                    await go_to("Corpus", "navigate while training")
                    await expect(main.locator("h2")).to_contain_text(s.marker)
                    await check_isolation("corpus preview", await main.locator("h2").first.inner_text())
                    on_train = False
                else:
                    await go_to("Train", "navigate while training")
                    on_train = True
                continue
            await page.wait_for_timeout(1000)
    finally:
        bench.training(-1)
    if s.status != "finished":
        raise RuntimeError(f"training ended as {s.status}")
    await check_isolation("sidebar", await sidebar.inner_text())

    # ---- My runs
    if not on_train:
        await go_to("Train")
    pick = main.get_by_role("combobox", name="Choose a run")
    await expect(pick).to_have_value(re.compile("^" + re.escape(s.run_name)), timeout=slow)
    s.runs_seen = await dropdown_options(page, pick)
    await no_error()

    # ---- Generate
    await go_to("Generate")
    await expect(main.get_by_role("combobox", name="Run", exact=True)).to_have_value(
        re.compile("^" + re.escape(s.run_name))
    )
    await timed(
        "generate",
        lambda: keyed("generate_go").click(),
        lambda: expect(keyed("generate_download")).to_be_visible(timeout=slow),
    )
    s.generated = await main.locator(".charlab-text").first.inner_text()
    if len(s.generated.strip()) < 50:
        raise RuntimeError("generated text too short")
    await check_isolation("generated text", s.generated, ascii_too=False)
    await check_isolation("sidebar", await sidebar.inner_text())
    await no_error()
    s.done = True
    await page.close()


async def dropdown_options(page, combobox) -> list[str]:
    """Every option of a Streamlit selectbox (its list is virtualised: scroll through it)."""
    listbox = page.get_by_role("listbox").last
    for attempt in range(4):  # a click during a rerun (the page redrawn after training) can be lost
        await combobox.click()
        try:
            await listbox.wait_for(timeout=5000)
            break
        except Exception:  # noqa: BLE001
            if attempt == 3:
                raise
            await page.keyboard.press("Escape")
            await page.wait_for_timeout(1000)
    seen: list[str] = []
    for _ in range(200):
        for text in await listbox.get_by_role("option").all_inner_texts():
            if text not in seen:
                seen.append(text)
        moved = await listbox.evaluate(
            """el => { let s = el; while (s && s.scrollHeight <= s.clientHeight) s = s.firstElementChild;
                       if (!s) return false; const before = s.scrollTop; s.scrollTop += s.clientHeight * 0.8;
                       return s.scrollTop > before; }"""
        )
        if not moved:
            break
        await page.wait_for_timeout(150)
    await page.keyboard.press("Escape")
    return seen


async def run_browser(sessions: list[Session], args, url: str, bench: Bench, corpora: list[bytes]) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=args.page_timeout * 1000)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)

        async def one(s: Session) -> None:
            await asyncio.sleep(s.i * args.stagger)
            ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
            try:
                await browser_session(ctx, s, len(sessions), args, url, bench, corpora[s.i])
            except Exception as err:  # noqa: BLE001 - every failure is a figure of the load test
                s.error = short(err)
                try:
                    pages = ctx.pages
                    if pages and args.shots:
                        await pages[0].screenshot(path=str(Path(args.shots) / f"error-{s.i:02d}.png"))
                except Exception:  # noqa: BLE001
                    pass
            finally:
                await ctx.close()

        await asyncio.gather(*(one(s) for s in sessions))
        await browser.close()


def short(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    text = re.sub(r"\s+", " ", text.split("Call log:")[0])
    return text[:220]


# ---------------------------------------------------------------- apptest mode


def apptest_session(s: Session, k: int, args, bench: Bench, corpus: bytes) -> None:
    from streamlit.testing.v1 import AppTest

    def timed(what, fn):
        loaded = bench.loaded
        t0 = time.perf_counter()
        out = fn()
        bench.record(what, time.perf_counter() - t0, loaded or bench.loaded)
        return out

    def text_of(at) -> str:
        parts = [e.value for e in at.sidebar.markdown] + [e.value for e in at.sidebar.caption]
        return "\n".join(str(p) for p in parts)

    def no_error(at) -> None:
        if at.exception:
            raise RuntimeError(f"exception: {at.exception[0].value}"[:200])

    at = AppTest.from_file(str(Path(args.app_dir) / "app.py"), default_timeout=args.page_timeout)
    s.apptest = at  # for the report of a failed session
    timed("open", at.run)
    timed("navigate", lambda: at.switch_page("pages/corpus.py").run())
    uploader = at.file_uploader(key="corpus_upload")
    timed("upload", lambda: uploader.upload(f"class-{s.marker}.txt", corpus, "text/plain").run())
    no_error(at)
    preview = "\n".join(c.value for c in at.code)
    if s.marker not in preview:
        raise RuntimeError("own marker missing from the corpus preview")
    for found in others_in(preview, s.i, k) + others_in(text_of(at), s.i, k):
        s.crosstalk.append(f"corpus/sidebar: {found}")
    timed("navigate", lambda: at.switch_page("pages/train.py").run())
    at.select_slider(key="settings_units").set_value(16)
    at.slider(key="settings_seq_length").set_value(8 + args.seq_steps)
    at.select_slider(key="settings_embedding_dim").set_value(8)
    at.number_input(key="settings_epochs").set_value(args.epochs)
    at.text_input(key="train_run_name").set_value(s.run_name)
    at.run()
    no_error(at)
    bench.training(+1)
    try:
        s.clicked_start = time.time()
        timed("start training", lambda: at.button(key="train_start").click().run())
        no_error(at)
        deadline = time.monotonic() + args.training_timeout
        while True:
            timed("navigate while training", at.run)
            side = text_of(at)
            if "Waiting for a free place" in side:
                s.saw_queue = True
                m = re.search(r"\(([^()]*(?:queue|next)[^()]*)\)", side)
                s.queue_text = s.queue_text or (m.group(1) if m else "waiting")
            elif s.seen_running is None and ("Training ·" in side or "training" in side):
                s.seen_running = time.time()
            tail = side.split(s.run_name, 1)[1] if s.run_name in side else ""
            final = next((w for w in FINAL_WORDS if re.search(rf"\b{w}\b", tail[:120])), None)
            if final:
                s.status, s.ended = final, time.time()
                s.seen_running = s.seen_running or s.ended
                if args.backend == "ray":
                    s.handle, s.node = trained_on(at)
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"training did not end within {args.training_timeout} s")
            time.sleep(1.0)
    finally:
        bench.training(-1)
    if s.status != "finished":
        raise RuntimeError(f"training ended as {s.status}")
    at.run()
    s.runs_seen = [str(o) for o in at.selectbox(key="runs_pick").options]
    timed("navigate", lambda: at.switch_page("pages/generate.py").run())
    timed("generate", lambda: at.button(key="generate_go").click().run())
    no_error(at)
    s.generated = "\n".join(str(h.proto.body) for h in at.get("html"))
    for found in others_in(s.generated, s.i, k, ascii_too=False):
        s.crosstalk.append(f"generated text: {found}")
    s.done = True


def trained_on(at) -> tuple[Any, str | None]:
    """This AppTest session's handle in the server's queue (this process's), and the Ray node id its training
    last reported from (`charlab.server.cluster.RayTrainingJob.node`; None when it never reported)."""
    import ui

    handle = ui.registry().queue.touch(at.session_state["token"])
    node = getattr(handle.job, "node", None) if handle is not None else None
    return handle, (node["id"] if node else None)


def places_held(sessions: list[Session]) -> list[float]:
    """apptest mode, --backend ray: how long each training held its place in the queue (from leaving the queue
    to its job's end: the actor's start on its node, the training, the last files sent back)."""
    held = []
    for s in sessions:
        started, ended = getattr(s.handle, "started_at", None), getattr(s.handle, "ended_at", None)
        if started is not None and ended is not None:
            held.append(ended - started)
    return held


def fit_apptest_for_threads() -> None:
    """Two changes to AppTest so K sessions can share this process.

    - app.py runs on every AppTest run, as on a server once its first request has run app.py:
      beside a `pages/` folder AppTest restarts in Streamlit's legacy multipage mode on every
      run, which runs the page file alone (no session set-up, no sidebar), so a finished
      training was never noticed. tests/conftest.py has the same fixture (entry_script_runs_every_time).
    - One script run at a time: each AppTest run installs its own mock Runtime in a class
      attribute and removes it at the end, under any other session's running script. On a real
      server the scripts of all sessions share one GIL, so they mostly take turns anyway; the
      page times below include the wait for a turn.

    Once per process (the ray backend runs the sessions once per node count).
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    if getattr(AppTest, "_classroom_fitted", False):
        return
    AppTest._classroom_fitted = True
    original_init, original_run = PagesManager.__init__, AppTest._run
    turn = threading.Lock()

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    def run_in_turn(self, *args, **kwargs):
        with turn:
            return original_run(self, *args, **kwargs)

    PagesManager.__init__ = init
    AppTest._run = run_in_turn


def page_dump(at, err: BaseException) -> str:
    """What a failed AppTest session's page showed: the apptest mode's screenshot."""
    import traceback

    lines = ["".join(traceback.format_exception(err))]
    for kind in ("title", "exception", "error", "warning", "info", "caption", "markdown", "code"):
        for element in at.get(kind):
            lines.append(f"{kind}: {str(getattr(element, 'value', element))[:300]}")
    lines += [f"sidebar: {str(e.value)[:300]}" for e in at.sidebar.markdown]
    return "\n".join(lines)


def run_apptest(sessions: list[Session], args, bench: Bench, corpora: list[bytes]) -> None:
    fit_apptest_for_threads()

    def one(s: Session) -> None:
        time.sleep(s.i * args.stagger)
        try:
            apptest_session(s, len(sessions), args, bench, corpora[s.i])
        except Exception as err:  # noqa: BLE001
            s.error = short(err)
            if args.shots and getattr(s, "apptest", None) is not None:
                (Path(args.shots) / f"error-{s.i:02d}.txt").write_text(page_dump(s.apptest, err))

    threads = [threading.Thread(target=one, args=(s,), name=f"session-{s.i}") for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---------------------------------------------------------------- the report


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def fmt_s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def crosstalk_found(sessions: list[Session], owners: bool) -> list[tuple[int, str]]:
    """(session, what) for every cross-talk seen; another session's run in a runs list counts when runs are
    kept per owner."""
    crosstalk = [(s.i, c) for s in sessions for c in s.crosstalk]
    run_names = {s.run_name for s in sessions}
    foreign_runs = {
        s.i: sorted({r for r in s.runs_seen for name in run_names if name != s.run_name and r.startswith(name)})
        for s in sessions
        if s.runs_seen
    }
    if owners:
        crosstalk += [(i, f"runs list: {', '.join(r)}") for i, r in foreign_runs.items() if r]
    return crosstalk


def report(
    sessions: list[Session],
    bench: Bench,
    args,
    wall: float,
    memory: dict,
    home: Path,
    sim: SimulatedCluster | None = None,
) -> str:
    k = len(sessions)
    done = [s for s in sessions if s.done]
    errors = [s for s in sessions if s.error]
    owners = owners_on(Path(args.app_dir))
    crosstalk = crosstalk_found(sessions, owners)
    waits = [s.seen_running - s.clicked_start for s in sessions if s.seen_running and s.clicked_start]
    server_waits, train_times = server_runs(sessions, home)
    all_t = [t.seconds for t in bench.timings]
    under = [t.seconds for t in bench.timings if t.under_load]
    lines = [
        f"charlab classroom load test · mode {args.mode} · K={k} sessions · {os.cpu_count()} cores · "
        + (
            f"max trainings {args.max_trainings or f'default ({os.cpu_count()})'}"
            if sim is None
            else f"backend ray, {sim.label} · queue places {sim.places} (the cluster's)"
        ),
        f"app: {args.app_label}",
        f"settings: units 16, embedding 8, sequence length {8 + args.seq_steps}, {args.epochs} epochs, "
        f"~{args.chars:,}-character corpora, stagger {args.stagger:g} s, probe every {args.probe_every:g} s",
        "",
        f"{'sessions completed':<44}{len(done)}/{k}",
        f"{'errors':<44}{len(errors)}",
    ]
    lines += [f"    session {s.i:02d}: {s.error}" for s in errors]
    lines += [f"{'cross-talk found':<44}{len(crosstalk) or 'none'}"]
    lines += [f"    session {i:02d}: {c}" for i, c in crosstalk]
    seen_counts = [len(s.runs_seen) for s in sessions if s.runs_seen]
    own_listed = sum(any(r.startswith(s.run_name) for r in s.runs_seen) for s in sessions)
    example = next((s.queue_text for s in sessions if s.queue_text), "")
    lines += [
        f"{'runs per owner in the app':<44}{'yes' if owners else 'no (runs list is server-wide)'}",
        f"{'runs listed per session (min/max)':<44}"
        + (f"{min(seen_counts)}/{max(seen_counts)} (own run listed in {own_listed})" if seen_counts else "–"),
        f"{'saw the queue message':<44}{sum(s.saw_queue for s in sessions)}/{k}"
        + (f" (e.g. “{example}”)" if example else ""),
        f"{'queue wait, browser view p50 / max':<44}{fmt_s(pct(waits, 50))} / {fmt_s(max(waits, default=None))}",
        f"{'queue wait, server (run created) p50 / max':<44}{fmt_s(pct(server_waits, 50))} / "
        f"{fmt_s(max(server_waits, default=None))}",
        f"{'training time, server p50 / max':<44}{fmt_s(pct(train_times, 50))} / "
        f"{fmt_s(max(train_times, default=None))}",
        f"{'page response p50 / p95, all (n)':<44}{fmt_s(pct(all_t, 50))} / {fmt_s(pct(all_t, 95))} ({len(all_t)})",
        f"{'page response p50/p95, trainings running (n)':<44}{fmt_s(pct(under, 50))} / {fmt_s(pct(under, 95))} "
        f"({len(under)})",
    ]
    for what in sorted({t.what for t in bench.timings}):
        xs = [t.seconds for t in bench.timings if t.what == what]
        lines.append(f"    {what:<40}{fmt_s(pct(xs, 50))} / {fmt_s(pct(xs, 95))} (n={len(xs)}, max {max(xs):.1f} s)")
    lines += [
        f"{'peak RSS of the server (sum over its tree)':<44}{memory.get('peak_rss', 0) / 2**20:,.0f} MB",
        f"{'VmHWM of the server process alone':<44}{memory.get('hwm', 0) / 2**20:,.0f} MB",
        f"{'total wall time':<44}{wall:.0f} s",
    ]
    if "server_cores" in memory:  # the server process alone: its pages, not the trainings in its children
        lines.append(f"{'server process CPU over the run (mean)':<44}{memory['server_cores']:.2f} core")
    lines += [
        f"{'load average at the end (1/5 min)':<44}{' '.join(Path('/proc/loadavg').read_text().split()[:2])}",
    ]
    if sim is not None:
        lines += ray_lines(sessions, args, memory, sim, pct(train_times, 50))
    return "\n".join(lines)


def server_runs(sessions: list[Session], home: Path) -> tuple[list[float], list[float]]:
    """From each run's config.json: queue waits (Start click to the run's creation, when it left the
    queue; 1-s resolution) and training times (created to last update)."""
    import json
    from datetime import datetime

    found = {}
    for path in home.rglob("config.json"):
        try:
            data = json.loads(path.read_text())
            created = datetime.fromisoformat(data["created"]).timestamp()
            found[data["name"]] = (created, datetime.fromisoformat(data["updated"]).timestamp() - created)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    waits = [found[s.run_name][0] - s.clicked_start for s in sessions if s.run_name in found and s.clicked_start]
    return waits, [found[s.run_name][1] for s in sessions if s.run_name in found]


# ---------------------------------------------------------------- --backend ray: a simulated cluster

ACTOR_PREFIX = "charlab-training-"  # cluster.ACTOR_PREFIX (not imported: the app may be another revision)
PROJECTED_NODES = (1, 2, 3, 5, 10)


class SimulatedCluster:
    """A Ray cluster of several nodes on this machine, made as tests/test_cluster.py makes it
    (ray.cluster_utils.Cluster): a head that runs no training (0 CPUs) and `nodes` worker nodes of `cpus`
    CPUs each, each its own raylet. They all share this machine's cores."""

    def __init__(self, nodes: int, cpus: int):
        from ray.cluster_utils import Cluster

        t0 = time.monotonic()
        self.made = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        try:
            workers = [self.made.add_node(num_cpus=cpus) for _ in range(nodes)]  # node 1..N in this order
            self.made.wait_for_nodes()
        except BaseException:
            self.made.shutdown()
            raise
        self.start_seconds = time.monotonic() - t0
        self.nodes, self.cpus = nodes, cpus
        self.address = self.made.address
        # Ray node id -> "node 1".."node N" in the order added, and "head"
        self.names = {node.node_id: f"node {i}" for i, node in enumerate(workers, 1)}
        self.names[self.made.head_node.node_id] = "head"
        self.pids = [  # the nodes' daemons (GCS, raylets...): every training's worker process is a raylet's child
            info.process.pid
            for node in [self.made.head_node, *workers]
            for infos in node.all_processes.values()
            for info in infos
        ]
        self.label = f"{nodes} simulated node{'s' if nodes > 1 else ''} × {cpus} CPU (head 0 CPUs)"

    @property
    def places(self) -> int:
        return self.nodes * self.cpus  # one CPU per training (CHARLAB_CPUS_PER_TRAINING=1)

    def actor_nodes(self) -> list[str | None]:
        """The node id of every charlab training actor the cluster has run: Ray's actor table (in its GCS) keeps
        the ended ones too, so this works when the trainings ran in another process (browser mode)."""
        table = self.made.global_state.actor_table(None)
        return [
            (actor.get("Address") or {}).get("NodeID")
            for actor in table.values()
            if str(actor.get("Name") or "").startswith(ACTOR_PREFIX)
        ]

    def shutdown(self) -> None:
        import ray

        try:
            ray.shutdown()  # apptest mode: this process is the cluster's driver (charlab.server.cluster connected it)
        finally:
            self.made.shutdown()


def placement(node_ids: list[str | None], sim: SimulatedCluster) -> str:
    """ "node 1: 3, node 2: 2" (every node, in the order added; the head and unknown ones only when found)."""
    counts: dict[str, int] = {}
    for node_id in node_ids:
        name = sim.names.get(node_id, "unknown") if node_id else "unknown"
        counts[name] = counts.get(name, 0) + 1
    order = [f"node {i}" for i in range(1, sim.nodes + 1)] + [n for n in ("head", "unknown") if n in counts]
    return ", ".join(f"{name}: {counts.get(name, 0)}" for name in order)


def trainings_per_node(result: Result, args) -> str:
    """apptest mode: from each session's job; browser mode: from Ray's actor table (the jobs are the server's)."""
    if args.mode == "apptest":
        return placement([s.node for s in result.sessions if s.ended is not None], result.sim)
    return placement(result.memory.get("actor_nodes", []), result.sim)


def expected_waits(k: int, cpus_per_node: int, seconds: float | None, held: float | None = None) -> list[str]:
    """The queue's wait on a real cluster of N nodes (each with its own cores): K students at once, C = N × CPUs
    per node places, each training T seconds: ceil(K/C) rounds; on average T × (ceil(K/C) - 1) / 2, the last
    T × (ceil(K/C) - 1). With `held` (a place held per training), the same with T = held beside it."""
    if seconds is None:
        return ["    (no training time measured)"]
    head = f"    {'nodes':>5}  {'places':>6}  {'rounds':>6}  {'average wait':>12}  {'the last waits':>14}"
    lines = [head + (f"  |  with T = a place held ({held:.1f} s): average, last" if held is not None else "")]
    for n in PROJECTED_NODES:
        places = n * cpus_per_node
        rounds = math.ceil(k / places)
        average, last = seconds * (rounds - 1) / 2, seconds * (rounds - 1)
        line = f"    {n:>5}  {places:>6}  {rounds:>6}  {average:>10.1f} s  {last:>12.1f} s"
        if held is not None:
            line += f"  |  {held * (rounds - 1) / 2:.1f} s, {held * (rounds - 1):.1f} s"
        lines.append(line)
    return lines


def ray_lines(
    sessions: list[Session], args, memory: dict, sim: SimulatedCluster, training_p50: float | None
) -> list[str]:
    k, cores = len(sessions), os.cpu_count()
    actors = memory.get("actor_nodes", [])
    held = places_held(sessions)
    lines = [
        "",
        f"{'backend':<44}ray: {sim.label}, 1 CPU per training: {sim.places} at once",
        f"{'cluster start-up (before the sessions)':<44}{sim.start_seconds:.0f} s",
    ]
    if args.mode == "apptest":
        jobs = [s.node for s in sessions if s.ended is not None]
        lines += [
            f"{'trainings per node (the sessions’ jobs)':<44}{placement(jobs, sim)}",
            f"{'training actors per node (Ray actor table)':<44}{placement(actors, sim)}",
            f"{'a place held per training p50 / max':<44}{fmt_s(pct(held, 50))} / {fmt_s(max(held, default=None))}"
            " (queue start to end: the actor's start on its node, training, files back)",
        ]
    else:
        lines += [
            f"{'training actors per node (Ray actor table)':<44}{placement(actors, sim)}",
            f"{'':<44}(browser mode: the jobs are the server's; Ray's actor table keeps the ended actors)",
        ]
    if not actors:
        lines.append(
            "WARNING: no charlab training ran on the cluster: this app trained on its own machine (a revision "
            "without charlab/server/cluster.py, or the cluster could not be reached: see the server's log)"
        )
    lines += [
        f"{'peak RSS of the Ray cluster (all nodes)':<44}{memory.get('cluster_rss', 0) / 2**20:,.0f} MB"
        " (its daemons, idle workers and trainings)",
        "",
        f"NOTE: {'the 1 simulated node shares' if sim.nodes == 1 else f'the {sim.nodes} simulated nodes share'} this "
        f"machine's {cores} cores (with the server, or this bench): more nodes cannot make trainings faster here.",
        f"Expected queue wait on a real cluster of N nodes × {sim.cpus} CPU, K={k} students at once, each training "
        f"T = {fmt_s(training_p50)} (the training p50 above, start to end):",
        *expected_waits(k, sim.cpus, training_p50, pct(held, 50)),
    ]
    return lines


@dataclass
class Result:
    """One K-session test (one node count with --backend ray), for the summary."""

    sessions: list[Session]
    bench: Bench
    memory: dict
    wall: float
    home: Path
    sim: SimulatedCluster | None = None


def summary(results: list[Result], args) -> str:
    """--backend ray: one row per node count (the same figures as each report), then the expected waits."""
    k, cores = len(results[0].sessions), os.cpu_count()
    source = "the sessions' jobs" if args.mode == "apptest" else "Ray's actor table"
    lines = [
        f"summary · mode {args.mode} · backend ray · K={k} sessions · {args.cpus_per_node} CPU per node, 1 per "
        f"training · app: {args.app_label}",
        "",
        "| nodes | completed | errors | cross-talk | page p50 / p95 | queue wait p50 / max (run created) "
        f"| training p50 | peak RSS server / cluster | wall | trainings per node ({source}) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    owners = owners_on(Path(args.app_dir))
    for r in results:
        server_waits, train_times = server_runs(r.sessions, r.home)
        all_t = [t.seconds for t in r.bench.timings]
        crosstalk = len(crosstalk_found(r.sessions, owners)) or "none"
        lines.append(
            f"| {r.sim.nodes} | {sum(s.done for s in r.sessions)}/{k} | {sum(bool(s.error) for s in r.sessions)} "
            f"| {crosstalk} | {fmt_s(pct(all_t, 50))} / {fmt_s(pct(all_t, 95))} "
            f"| {fmt_s(pct(server_waits, 50))} / {fmt_s(max(server_waits, default=None))} "
            f"| {fmt_s(pct(train_times, 50))} "
            f"| {r.memory.get('peak_rss', 0) / 2**20:,.0f} MB / {r.memory.get('cluster_rss', 0) / 2**20:,.0f} MB "
            f"| {r.wall:.0f} s | {trainings_per_node(r, args)} |"
        )
    lines += [
        "",
        f"NOTE: all the simulated nodes share this machine's {cores} cores, so more nodes cannot make trainings "
        "faster here; on a real cluster each node brings its own cores.",
        f"Expected queue wait on a real cluster of N nodes × {args.cpus_per_node} CPU, K={k} students at once, from "
        "each run's training p50 (T, start to end):",
    ]
    for r in results:
        seconds = pct(server_runs(r.sessions, r.home)[1], 50)
        lines.append(f"  T = {fmt_s(seconds)}, measured with {r.sim.label}:")
        lines += expected_waits(k, args.cpus_per_node, seconds, pct(places_held(r.sessions), 50))
    return "\n".join(lines)


def run_once(args, home: Path, tmp: Path, sim: SimulatedCluster | None = None) -> Result:
    """The K sessions against one fresh server (one CHARLAB_HOME; with `sim`, training on that cluster);
    prints its report."""
    home.mkdir()
    sessions = [Session(i, marker(i), f"Run {marker(i)}") for i in range(args.sessions)]
    corpora = [corpus_text(i, args.chars).encode() for i in range(args.sessions)]
    bench = Bench(args.sessions)
    memory: dict = {}
    cluster_pids = sim.pids if sim is not None else []
    started = time.monotonic()
    if args.mode == "browser":
        extra = {"CHARLAB_MAX_TRAININGS": args.max_trainings} if args.max_trainings else {}
        if sim is not None:
            extra.update(CHARLAB_RAY_ADDRESS=sim.address, CHARLAB_CPUS_PER_TRAINING="1")
        log = tmp / ("streamlit.log" if sim is None else f"streamlit-{sim.nodes}-nodes.log")
        server = StreamlitServer(Path(args.app_dir), home, log, args.port or None, extra)
        try:
            url = server.start()
        except RuntimeError as err:
            raise SystemExit(str(err)) from err
        watch = MemoryWatch(server.pid, cluster_pids)
        watch.start()
        print(f"server {url} (pid {server.pid}, CHARLAB_HOME {home}); {args.sessions} sessions…", flush=True)
        try:
            started, cpu_before = time.monotonic(), cpu_seconds(server.pid)
            asyncio.run(run_browser(sessions, args, url, bench, corpora))
        finally:
            wall = time.monotonic() - started
            watch.sample()
            watch.stopping.set()
            memory = {"peak_rss": watch.peak_rss, "hwm": watch.hwm.get(server.pid, 0)}
            memory["server_cores"] = (cpu_seconds(server.pid) - cpu_before) / wall
            server.stop()
    else:
        os.environ["CHARLAB_HOME"] = str(home)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if args.max_trainings:
            os.environ["CHARLAB_MAX_TRAININGS"] = args.max_trainings
        if sim is not None:  # read by charlab.server.cluster.backend() when the first page builds the registry
            os.environ.update(CHARLAB_RAY_ADDRESS=sim.address, CHARLAB_CPUS_PER_TRAINING="1")
        os.chdir(args.app_dir)
        if str(args.app_dir) not in sys.path:
            sys.path.insert(0, str(args.app_dir))
        watch = MemoryWatch(os.getpid(), cluster_pids)
        watch.start()
        run_apptest(sessions, args, bench, corpora)
        wall = time.monotonic() - started
        watch.sample()
        watch.stopping.set()
        memory = {"peak_rss": watch.peak_rss, "hwm": vm(os.getpid(), "VmHWM")}
    if sim is not None:
        memory["cluster_rss"] = watch.peak_cluster_rss
        memory["actor_nodes"] = sim.actor_nodes()
    print()
    print(report(sessions, bench, args, wall, memory, home, sim))
    return Result(sessions, bench, memory, wall, home, sim)


def forget_cluster() -> None:
    """apptest mode, between node counts: the next count is a fresh server in this same process, so charlab
    decides its backend again (charlab.server.cluster caches it per process) and builds a new registry and queue."""
    for name in ("CHARLAB_RAY_ADDRESS", "CHARLAB_CPUS_PER_TRAINING"):
        os.environ.pop(name, None)
    if "charlab.server.cluster" in sys.modules:
        sys.modules["charlab.server.cluster"].decide_again()
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_resource.clear()  # ui.registry() among them
        st.cache_data.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", "-k", type=int, default=20, help="sessions at once (default 20)")
    parser.add_argument("--mode", choices=("browser", "apptest"), default="browser")
    parser.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--chars", type=int, default=3000, help="characters per corpus")
    parser.add_argument("--seq-steps", type=int, default=8, help="sequence length = 8 + this")
    parser.add_argument("--stagger", type=float, default=0.5, help="seconds between session starts")
    parser.add_argument("--probe-every", type=float, default=6.0, help="switch pages this often while waiting")
    parser.add_argument("--max-trainings", default=None, help="CHARLAB_MAX_TRAININGS for the server")
    parser.add_argument("--page-timeout", type=float, default=120.0)
    parser.add_argument("--training-timeout", type=float, default=900.0)
    parser.add_argument("--shots", default=None, help="folder for screenshots of failed sessions")
    parser.add_argument("--app-dir", default=str(ROOT), help="the charlab checkout to serve (default: this one)")
    parser.add_argument(
        "--git-snapshot",
        metavar="REV",
        help="serve a clean copy of this git revision (e.g. HEAD) instead, unaffected by edits in progress",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary CHARLAB_HOME and server log")
    parser.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local: trainings on this machine (default); ray: on a simulated Ray cluster of --nodes nodes",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        nargs="+",
        metavar="N",
        help="--backend ray: worker nodes of the simulated cluster (default 2); several (1 2 3) run the whole test "
        "once per count, each on a fresh cluster and server",
    )
    parser.add_argument("--cpus-per-node", type=int, help="--backend ray: CPUs of each simulated node (default 1)")
    args = parser.parse_args()
    if not 1 <= args.sessions <= len(UNIQUE):
        parser.error(f"--sessions must be 1..{len(UNIQUE)}")
    if args.backend == "local" and (args.nodes or args.cpus_per_node):
        parser.error("--nodes and --cpus-per-node are for --backend ray")
    if args.backend == "ray":
        if args.max_trainings:
            parser.error("--max-trainings is for --backend local: on a cluster the nodes' CPUs are the queue's places")
        args.nodes, args.cpus_per_node = args.nodes or [2], args.cpus_per_node or 1
        if min(args.nodes) < 1 or args.cpus_per_node < 1:
            parser.error("--nodes and --cpus-per-node must be 1 or more")
        try:
            import ray.cluster_utils  # noqa: F401
        except ImportError:
            parser.error("--backend ray needs Ray: pip install -r requirements-cluster.txt")
    if args.shots:
        Path(args.shots).mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="charlab-classroom-"))
    if args.git_snapshot:
        app = tmp / "app"
        app.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.git_snapshot], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(app)], input=archive, check=True)
        args.app_dir = str(app)
    revision = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.git_snapshot or "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    args.app_label = f"git {args.git_snapshot} ({revision})" if args.git_snapshot else f"{args.app_dir} (working tree)"
    if args.backend == "local":
        results = [run_once(args, tmp / "home", tmp)]
    else:
        results = []
        for n in args.nodes:
            print(f"\nstarting a simulated Ray cluster: a head (0 CPUs) and {n} node(s) × {args.cpus_per_node} CPU…")
            sim = SimulatedCluster(n, args.cpus_per_node)
            print(f"cluster at {sim.address} ({sim.start_seconds:.0f} s)", flush=True)
            try:
                results.append(run_once(args, tmp / f"home-{n}-nodes", tmp, sim))
            finally:
                sim.shutdown()
                forget_cluster()
        print()
        print(summary(results, args))
    if args.keep:
        print(f"\nkept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    sessions = [s for r in results for s in r.sessions]
    sys.exit(0 if all(s.done for s in sessions) and not any(s.crosstalk for s in sessions) else 1)


if __name__ == "__main__":
    main()
