"""The shipped .streamlit/config.toml: the settings a school would ask about, each a real Streamlit option.

A typo in an option name would be ignored by Streamlit without a word; here it fails.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from charlab.limits import Limits

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def _options() -> dict:
    streamlit_config.get_option("server.port")  # loads Streamlit's table of options
    return streamlit_config._config_options


def _names(table: dict, prefix: str = "") -> list[str]:
    """Every setting's dotted name; a nested table ([theme.light]) adds its own part."""
    names = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        names += _names(value, name + ".") if isinstance(value, dict) else [name]
    return names


def test_every_shipped_setting_is_a_streamlit_option():
    known = _options()
    names = _names(SHIPPED)
    assert len(names) >= 15
    assert [name for name in names if name not in known] == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("server.enableXsrfProtection", True),
        ("server.enableCORS", True),
        ("server.fileWatcherType", "none"),
        ("server.runOnSave", False),
        ("server.enableStaticServing", False),
        ("server.headless", True),
        ("runner.postScriptGC", False),
        ("browser.gatherUsageStats", False),
        ("client.showErrorDetails", "none"),
    ],
)
def test_a_classroom_setting(name, value):
    section, key = name.split(".")
    assert SHIPPED[section][key] == value


def test_each_student_chooses_light_or_dark():
    """No theme is forced: a light and a dark one are offered in the app menu, each with its own colours."""
    theme = SHIPPED["theme"]
    assert "base" not in theme
    for name in ("light", "dark"):
        assert {"primaryColor", "backgroundColor", "secondaryBackgroundColor", "textColor"} <= set(theme[name])


def test_the_upload_fence_holds_each_upload_box():
    """Streamlit refuses any upload above maxUploadSize, so it must be at least each box's own cap."""
    fence_mb = SHIPPED["server"]["maxUploadSize"]
    limits = Limits()
    assert fence_mb >= limits.upload_mb and fence_mb >= limits.run_upload_mb


def test_no_certificate_is_shipped():
    assert "sslCertFile" not in SHIPPED["server"] and "sslKeyFile" not in SHIPPED["server"]
