"""The sample catalogue: every sample loads offline; the download fallback works against a local server only."""

import dataclasses
import gzip
import importlib.util
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from charlab.errors import CharlabError
from charlab.text import samples
from charlab.text.reber import grammar_score

BOOK = (
    "\ufeffThe Project Gutenberg eBook of Test Sonnets\r\n"
    "This header is licence text.\r\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK TEST SONNETS ***\r\n"
    "\r\n"
    "From fairest creatures we desire increase,\r\n"
    "That thereby beauty's rose might never die.\r\n"
    "\r\n"
    "*** END OF THE PROJECT GUTENBERG EBOOK TEST SONNETS ***\r\n"
    "Footer: more licence text.\r\n"
)
BOOK_TEXT = "From fairest creatures we desire increase,\nThat thereby beauty's rose might never die.\n"


class _BookHandler(BaseHTTPRequestHandler):
    body = BOOK.encode("utf-8")

    def do_GET(self):  # noqa: N802 - name fixed by http.server
        if self.path == "/missing.txt":
            self.send_error(404, "Not Found")
            return
        body = self.body * 200 if "big" in self.path else self.body
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        if "no-length" not in self.path:  # without it the client reads until the connection closes
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    """A local HTTP server on a free port; yields (base_url, stop)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _BookHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stopped = False

    def stop():
        nonlocal stopped
        if not stopped:
            httpd.shutdown()
            httpd.server_close()
            stopped = True

    yield f"http://127.0.0.1:{httpd.server_address[1]}", stop
    stop()


@pytest.fixture
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/book.txt"  # nothing listens there any more


def _point_sample_at(monkeypatch, key: str, url: str) -> None:
    """As in an installation without the shipped classics: `key` falls back to a download from `url`."""
    patched = tuple(dataclasses.replace(s, url=url) if s.key == key else s for s in samples.SAMPLES)
    monkeypatch.setattr(samples, "SAMPLES", patched)
    monkeypatch.setattr(samples, "CLASSICS_DIR", Path("/nonexistent/charlab-classics"))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach the network fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a sample tried the network: {args}")

    monkeypatch.setattr(samples.urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# ---- catalogue ----


def test_catalogue_keys_are_unique_and_kinds_known():
    keys = [s.key for s in samples.SAMPLES]
    assert len(keys) == len(set(keys))
    assert {s.kind for s in samples.SAMPLES} == {"bundled", "classic", "generated", "stdlib"}
    for sample in samples.SAMPLES:
        assert sample.title and sample.description and sample.approx_size > 0
        assert sample.url is None or sample.kind == "classic"
        assert bool(sample.source) == (sample.kind == "classic")
    assert {
        "reber",
        "arithmetic",
        "fables",
        "recipes",
        "limericks",
        "python_stdlib",
        "tiny_shakespeare",
        "sonnets",
        "alice",
        "aesop",
    } <= set(keys)


def test_unknown_key_lists_valid_ones():
    with pytest.raises(CharlabError, match="no sample text called 'nope'.*tiny_shakespeare"):
        samples.get_sample("nope")
    with pytest.raises(CharlabError):
        samples.load_sample("nope")


@pytest.mark.parametrize("key", [s.key for s in samples.SAMPLES])
def test_every_sample_loads_offline_near_its_approx_size(key, tmp_path, no_network):
    sample = samples.get_sample(key)
    assert samples.is_offline(key, cache_dir=tmp_path)
    text = samples.load_sample(key, cache_dir=tmp_path)
    assert text.strip()
    assert "\r" not in text and "\ufeff" not in text
    assert sample.approx_size * 0.9 <= len(text) <= sample.approx_size * 1.1 or sample.kind == "stdlib"
    assert list(tmp_path.iterdir()) == []  # nothing is written to the cache


def test_the_shipped_classics_are_the_books_they_claim_to_be(no_network):
    shakespeare = samples.load_sample("tiny_shakespeare")
    assert len(shakespeare) == 1_115_394 and shakespeare.startswith("First Citizen:\nBefore we proceed")
    assert len(set(shakespeare)) == 65  # the classic char-RNN vocabulary
    sonnets = samples.load_sample("sonnets").split("\n\n")
    assert len(sonnets) == 154 and sonnets[0].startswith("FROM fairest creatures we desire increase")
    assert all(len(sonnet.split("\n")) in (12, 14, 15) for sonnet in sonnets)  # 99 is 15 lines, 126 is 12
    alice = samples.load_sample("alice")
    assert alice.startswith("ALICE'S ADVENTURES IN WONDERLAND") and alice.rstrip().endswith("THE END")
    assert "CHAPTER XII" in alice and "Down the Rabbit-Hole" in alice
    aesop = samples.load_sample("aesop")
    assert aesop.startswith("The Cock and the Pearl\n") and "The Hare and the Tortoise" in aesop
    for text in (alice, aesop, "\n".join(sonnets)):
        assert "Gutenberg" not in text and "gutenberg" not in text  # header, licence and footer are stripped


def test_a_damaged_shipped_classic_is_a_friendly_error(tmp_path, monkeypatch):
    (tmp_path / "alice.txt.gz").write_bytes(gzip.compress(b"\xff\xfe not utf-8")[:-4])
    monkeypatch.setattr(samples, "CLASSICS_DIR", tmp_path)
    with pytest.raises(CharlabError, match="copy of 'Alice in Wonderland' in this installation is damaged"):
        samples.load_sample("alice")


def test_the_cli_lists_which_samples_are_offline(capsys, monkeypatch):
    from charlab.cli import main

    assert main(["samples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(samples.SAMPLES) and all("offline" in line for line in lines)
    monkeypatch.setattr(samples, "CLASSICS_DIR", Path("/nonexistent/charlab-classics"))
    assert main(["samples"]) == 0
    online = [line.split()[0] for line in capsys.readouterr().out.splitlines() if "needs the internet once" in line]
    assert online == ["sample:aesop", "sample:tiny_shakespeare", "sample:sonnets", "sample:alice"]


def test_bundled_texts_are_files_in_sample_texts():
    bundled = [s for s in samples.SAMPLES if s.kind == "bundled"]
    assert bundled
    for sample in bundled:
        assert (samples.SAMPLE_TEXTS_DIR / f"{sample.key}.txt").is_file()


def test_generated_samples_are_deterministic_and_checkable():
    reber = samples.load_sample("reber")
    assert reber == samples.load_sample("reber")
    assert grammar_score(reber).share == 1.0
    arithmetic = samples.load_sample("arithmetic")
    assert arithmetic == samples.load_sample("arithmetic")
    assert samples.arithmetic_score(arithmetic).share == 1.0


def test_arithmetic_corpus_and_score():
    text = samples.arithmetic_corpus(100, seed=1, max_operand=9)
    assert text.count("\n") == 100
    for line in text.splitlines():
        a, rest = line.split("+")
        b, total = rest.split("=")
        assert int(a) + int(b) == int(total) and int(a) <= 9 and int(b) <= 9
    score = samples.arithmetic_score("1+1=2\n2+2=5\nhello\n\n3+3=")  # last line cut off
    assert (score.total, score.grammatical) == (3, 1)
    with pytest.raises(CharlabError, match="number of lines"):
        samples.arithmetic_corpus(0)


def test_python_stdlib_has_headers_and_a_cap():
    text = samples.load_sample("python_stdlib")
    assert text.startswith("# ---- file: argparse.py ----\n")
    assert "# ---- file: textwrap.py ----" in text
    capped = samples.python_stdlib_text(cap_chars=5_000)
    assert len(capped) <= 5_000 and capped.endswith("\n")


def test_python_stdlib_missing_everywhere_is_a_friendly_error(monkeypatch):
    monkeypatch.setattr(samples, "_STDLIB_MODULES", ("no_such_module_xyz.py",))
    with pytest.raises(CharlabError, match="standard library"):
        samples.load_sample("python_stdlib")


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CHARLAB_CACHE", str(tmp_path / "c"))
    assert samples.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("CHARLAB_CACHE")
    assert samples.default_cache_dir() == Path.home() / ".cache" / "charlab"


# ---- downloads, against a local server only ----


def test_download_writes_file_and_reports_progress(server, tmp_path):
    base, _ = server
    calls = []
    dest = tmp_path / "sub" / "book.txt"
    samples._download(f"{base}/book.txt", dest, lambda done, total: calls.append((done, total)), 5.0)
    assert dest.read_bytes() == BOOK.encode("utf-8")
    size = len(BOOK.encode("utf-8"))
    assert calls[0] == (0, size) and calls[-1] == (size, size)
    assert [p.name for p in dest.parent.iterdir()] == ["book.txt"]  # no temp file left


def test_download_without_content_length_reports_unknown_total(server, tmp_path):
    base, _ = server
    calls = []
    samples._download(f"{base}/no-length.txt", tmp_path / "b.txt", lambda d, t: calls.append((d, t)), 5.0)
    assert calls[-1] == (len(BOOK.encode("utf-8")), None)


def test_load_sample_downloads_once_then_uses_cache(server, tmp_path, monkeypatch):
    base, stop = server
    _point_sample_at(monkeypatch, "sonnets", f"{base}/book.txt")
    assert not samples.is_offline("sonnets", cache_dir=tmp_path)
    calls = []
    text = samples.load_sample("sonnets", cache_dir=tmp_path, progress=lambda d, t: calls.append(d))
    assert text == BOOK_TEXT  # BOM gone, \r\n normalised, header and footer stripped
    assert calls and calls[-1] == len(BOOK.encode("utf-8"))
    assert samples.is_offline("sonnets", cache_dir=tmp_path)

    stop()  # no server any more: the second load must come from the cache
    calls.clear()
    assert samples.load_sample("sonnets", cache_dir=tmp_path, progress=lambda d, t: calls.append(d)) == text
    assert calls == []


def test_load_sample_uses_charlab_cache_env(server, tmp_path, monkeypatch):
    base, _ = server
    _point_sample_at(monkeypatch, "alice", f"{base}/book.txt")
    monkeypatch.setenv("CHARLAB_CACHE", str(tmp_path / "envcache"))
    samples.load_sample("alice")
    assert (tmp_path / "envcache" / "alice.txt").is_file()


def test_text_without_gutenberg_markers_is_kept_whole():
    assert samples.strip_gutenberg("First Citizen:\nBefore we proceed\n") == "First Citizen:\nBefore we proceed\n"
    assert samples._decode_download(b"a\r\nb\r\n") == "a\nb\n"


def test_unreachable_url_is_a_friendly_error_and_leaves_no_file(closed_port_url, tmp_path, monkeypatch):
    _point_sample_at(monkeypatch, "tiny_shakespeare", closed_port_url)
    with pytest.raises(CharlabError) as caught:
        samples.load_sample("tiny_shakespeare", cache_dir=tmp_path, timeout=5.0)
    message = str(caught.value)
    assert "Could not download 'Tiny Shakespeare' (no internet connection?)" in message
    assert closed_port_url in message and "use that file instead" in message
    assert list(tmp_path.iterdir()) == []
    assert not samples.is_offline("tiny_shakespeare", cache_dir=tmp_path)


def test_http_error_names_the_status(server, tmp_path, monkeypatch):
    base, _ = server
    _point_sample_at(monkeypatch, "sonnets", f"{base}/missing.txt")
    with pytest.raises(CharlabError, match="404"):
        samples.load_sample("sonnets", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_oversized_download_is_refused_and_leaves_no_file(server, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setattr(samples, "_MAX_DOWNLOAD_BYTES", 10_000)
    for path in ("/big.txt", "/no-length-big.txt"):
        with pytest.raises(CharlabError, match="larger than"):
            samples._download(f"{base}{path}", tmp_path / "big.txt", None, 5.0)
    assert list(tmp_path.iterdir()) == []


def test_charlab_modules_do_not_import_ui_or_ml_frameworks():
    code = (
        "import sys, charlab.text.samples, charlab.text.reber; "
        "assert 'streamlit' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_bad_timeout_is_refused(tmp_path, monkeypatch):
    _point_sample_at(monkeypatch, "sonnets", "http://127.0.0.1:9/book.txt")
    with pytest.raises(CharlabError, match="timeout"):
        samples.load_sample("sonnets", cache_dir=tmp_path, timeout=0)


def test_a_source_is_a_shipped_sample_or_a_text_file(tmp_path):
    text, name, notes = samples.read_source("sample:tiny_shakespeare")  # shipped as .gz: never read as UTF-8
    assert name == "Tiny Shakespeare" and text.startswith("First Citizen:") and len(text) == 1_115_394
    assert notes == ()
    latin = tmp_path / "café.txt"
    latin.write_bytes("Un café à Paris.\n".encode("latin-1"))
    text, name, notes = samples.read_source(str(latin))
    assert (text, name) == ("Un café à Paris.\n", "café.txt") and any("Latin-1" in n for n in notes)
    with pytest.raises(CharlabError, match="no sample text called"):
        samples.read_source("sample:no_such_text")


def test_the_benchmarks_default_text_ships_with_the_repository():
    """Before, bench/engine.py, sweep, estimate and insight read ../shared/corpora/, which a fresh clone lacks."""
    bench = Path(__file__).resolve().parent.parent / "bench"
    spec = importlib.util.spec_from_file_location("bench_engine", bench / "engine.py")
    engine = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(engine)
    assert engine.DEFAULT_CORPUS == "sample:tiny_shakespeare"
    assert engine.read_corpus(engine.DEFAULT_CORPUS).startswith("First Citizen:")
    for name in ("engine.py", "sweep.py", "estimate.py", "insight.py"):
        assert "shared" + "/corpora" not in (bench / name).read_text(encoding="utf-8"), name
