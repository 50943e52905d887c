"""`streamlit run app.py` as a child process, and the browser that visits it: for the browser tests
and bench/classroom.py alike.

Each server gets its own runs folder (CHARLAB_HOME), a port on 127.0.0.1 and a log file. `kill()`
is a power cut (SIGKILL: nothing is cleaned up); `start()` again brings a new server up on the same
port and folder, as a teacher restarting the app would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; `playwright install` cannot download one here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # a container's small /dev/shm would crash a tab under load
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


class StreamlitServer:
    """One app server; `env` adds to (or overrides) this process's environment."""

    def __init__(self, app_dir: Path, home: Path, log_path: Path, port: int | None = None, env: dict | None = None):
        self.app_dir, self.home, self.log_path = Path(app_dir), Path(home), Path(log_path)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, CHARLAB_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def start(self, timeout: float = 90.0) -> str:
        """Start it and wait until it answers; its URL. RuntimeError with the log's end if it does not."""
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                   "--server.address", "127.0.0.1", "--server.port", str(self.port),
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.app_dir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"streamlit did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.25)
        return self.url

    def kill(self) -> None:
        """A power cut: SIGKILL, no clean-up of any kind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """A polite stop (SIGTERM), then SIGKILL after 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


# what a process costs, for the benchmarks that drive a server (bench/classroom.py, bench/first_minute.py)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (not its children), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm(pid: int, key: str) -> int:
    """A /proc/<pid>/status figure (VmRSS, VmHWM) in bytes; 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
