"""Which of charlab's own modules one uploaded file passes through, from the Corpus page to generated text.

    python bench/codepath.py [--git-snapshot REV]

Drives the app in AppTest (no browser) with trainings in threads, so one profiler sees every call:
upload a small text on the Corpus page, train a tiny network for one epoch on the Train page,
write text on the Generate page. Prints the modules of app.py, pages/, ui/ and charlab/ whose code
ran, by part of the journey: a measure of how much of the codebase a newcomer follows to understand
one use of it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 60


def journey(app_dir: Path) -> dict[str, set[str]]:
    """The project modules that ran in each part of the journey."""
    os.environ.update(CHARLAB_HOME=tempfile.mkdtemp(prefix="charlab-path-"), CHARLAB_TRAIN_IN_THREADS="1",
                      CHARLAB_OWNERS="0")  # fmt: skip
    sys.path.insert(0, str(app_dir))
    os.chdir(app_dir)
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    original_init = PagesManager.__init__

    def init(self, *args, **kwargs):  # app.py runs on every AppTest run, as on a server (see tests/conftest.py)
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    seen: dict[str, set[str]] = {}
    part = {"name": "open"}
    roots = [str(app_dir / name) for name in ("app.py", "pages", "ui", "charlab")]

    def profile(frame, event, arg):
        if event == "call":
            file = frame.f_code.co_filename
            if file.startswith(tuple(roots)):
                seen.setdefault(part["name"], set()).add(str(Path(file).relative_to(app_dir)))

    threading.setprofile(profile)
    sys.setprofile(profile)
    at = AppTest.from_file(str(app_dir / "app.py"), default_timeout=120)
    at.run()
    part["name"] = "upload"
    at.switch_page("pages/corpus.py").run()
    at.file_uploader(key="corpus_upload").upload("cats.txt", TEXT.encode(), "text/plain").run()
    part["name"] = "train"
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="settings_train_by").set_value("epochs").run()
    at.select_slider(key="settings_units").set_value(16)
    at.number_input(key="settings_epochs").set_value(1)
    at.button(key="train_start").click().run()
    import ui  # the app's own registry of jobs, as the tests reach it

    ui.registry().queue.touch(at.session_state["token"]).job.wait(300)
    at.run()
    part["name"] = "generate"
    at.switch_page("pages/generate.py").run()
    at.button(key="generate_go").click().run()
    sys.setprofile(None)
    threading.setprofile(None)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--git-snapshot", help="measure a clean copy of this revision instead of the working tree")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        seen = journey(Path(args.inner))
        every = sorted(set().union(*seen.values()))
        for name, modules in seen.items():
            print(f"{name:>9}: {len(modules):3d}  {' '.join(sorted(modules))}")
        print(f"{'in all':>9}: {len(every):3d} modules")
        return
    app_dir = ROOT
    if args.git_snapshot:
        app_dir = Path(tempfile.mkdtemp(prefix="charlab-snapshot-"))
        git = ["git", "-C", str(ROOT), "archive", args.git_snapshot]
        archive = subprocess.run(git, capture_output=True, check=True)
        subprocess.run(["tar", "x", "-C", str(app_dir)], input=archive.stdout, check=True)
    subprocess.run([sys.executable, __file__, "--inner", str(app_dir)], check=True)


if __name__ == "__main__":
    main()
