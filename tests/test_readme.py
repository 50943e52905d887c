"""The README's promises: CI runs its exact test command, and the package stays free of UI imports."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command():
    blocks = _bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    test_command = next(b for b in blocks if "pytest" in b and "\n" not in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_app_command_starts_the_app():
    blocks = _bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert any("requirements.txt" in b and "streamlit run app.py" in b for b in blocks)


def test_charlab_never_imports_streamlit():
    offenders = [
        path.name
        for path in (ROOT / "charlab").rglob("*.py")
        if re.search(r"^\s*(import streamlit|from streamlit)", path.read_text(encoding="utf-8"), flags=re.M)
    ]
    assert offenders == []


def test_the_readme_settings_table_lists_every_setting_with_its_default():
    from dataclasses import fields

    from charlab.network.model import ModelConfig

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+?) \|", readme, re.M))  # the settings table's rows
    defaults = ModelConfig()
    assert set(rows) == {f.name for f in fields(ModelConfig)}
    for name, shown in rows.items():
        value = getattr(defaults, name)
        assert (shown.strip("`") == value) if isinstance(value, str) else float(shown) == value, name
