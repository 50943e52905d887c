"""How long each cleaning mode takes on ~10 MB (the upload limit) of English, German and Chinese text.

    python bench/cleaning.py [--against OTHER_CHECKOUT]

With --against, the same texts are cleaned by the charlab of another checkout (e.g. a worktree of an
older commit) in its own process, and both are printed side by side: the two take turns, three rounds,
and the fastest of each is kept, as a shared machine's load swings timings twofold.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TARGET = 10_000_000


def texts() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from charlab.text import samples

    found = {
        "english": samples.load_sample("tiny_shakespeare"),
        "german": (DATA / "german_de.txt").read_text(encoding="utf-8"),
        "chinese": (DATA / "tang_poems_zh.txt").read_text(encoding="utf-8"),
    }
    return {name: text * (TARGET // len(text)) for name, text in found.items()}


def timings(checkout: Path) -> dict[str, float]:
    """Seconds per (text, mode), measured in a fresh process that imports `checkout`'s charlab."""
    script = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(checkout)!r})\n"
        "try:\n    from charlab.text import corpus\n"
        "except ImportError:  # a revision from before charlab's folders\n    from charlab import corpus\n"
        "texts = json.load(sys.stdin)\n"
        "out = {}\n"
        "for name, text in texts.items():\n"
        "    for mode in ('lowercase', 'letters_punct', 'letters_only'):\n"
        "        start = time.perf_counter(); corpus.clean(text, mode)\n"
        "        out[f'{name} {mode}'] = time.perf_counter() - start\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(texts()), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout whose charlab to time beside this one")
    args = parser.parse_args()
    started = time.perf_counter()
    here: dict[str, float] = {}
    other: dict[str, float] = {}
    for _ in range(3):
        for checkout, best in ((ROOT, here), (args.against, other)):
            if checkout is not None:
                for key, seconds in timings(checkout).items():
                    best[key] = min(seconds, best.get(key, seconds))
    print(f"{'text and mode':30} {'this':>8}" + (f" {'other':>8}" if other else ""))
    for key, seconds in here.items():
        print(f"{key:30} {seconds:7.2f}s" + (f" {other[key]:7.2f}s" if other else ""))
    print(f"(~{TARGET / 1e6:.0f} MB each; {time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
