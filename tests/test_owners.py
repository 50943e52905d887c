"""Owners' workspaces on a classroom server: nicknames of any script, one folder per nickname, private ones."""

from __future__ import annotations

import pytest

from charlab.errors import CharlabError
from charlab.saving import runs
from charlab.server import owners


def test_a_nickname_is_one_workspace_whatever_its_case_and_spacing(tmp_path):
    zoe = owners.owner_workspace(tmp_path, "Zoé B")
    assert zoe == tmp_path / runs.OWNERS_DIR / "zoé b" and zoe.is_dir()
    for same in ("zoé b", "ZOÉ B", "  Zoé   B ", "Zoe\u0301 B", "ｚｏé b"):  # decomposed é, full-width letters
        assert owners.owner_workspace(tmp_path, same) == zoe, same
    assert owners.owner_workspace(tmp_path, "Zoé C") != zoe
    assert owners.owner_label(zoe) == "Zoé B"  # as first typed
    assert runs.list_runs(tmp_path) == []  # the owners' folder is not a run of the root


@pytest.mark.parametrize("nickname", ["Ada", "李小龙", "नमस्ते", "José María", "j.smith-2_b", "x" * 40, "a.b.c"])
def test_nicknames_of_any_script_are_accepted(tmp_path, nickname):
    path = owners.owner_workspace(tmp_path, nickname)
    assert path.parent == tmp_path / runs.OWNERS_DIR
    assert runs.list_runs(path) == []


@pytest.mark.parametrize(
    ("nickname", "words"),
    [
        ("a/b", "letters, digits, spaces and - _ . only, not '/'"),
        ("..\\..\\x", "not '\\'"),
        ("../x", "not '/'"),
        ("..", "cannot start with a dot or contain '..'"),
        ("a..b", "contain '..'"),
        (".hidden", "cannot start with a dot"),
        ("tab\there", "tabs, line breaks or other invisible characters"),
        ("nul\x00byte", "invisible characters"),
        ("line\nbreak", "invisible characters"),
        ("x" * 41, "at most 40 characters"),
        ("Zoé 🙂", "not '🙂'"),
        ("~secret", "not '~'"),
        ("<script>", "not '<'"),
        ("---", "at least one letter or digit"),
        ("CON", "Windows keeps for itself"),
        ("lpt1.txt", "Windows keeps for itself"),
        (42, "Type a nickname"),
    ],
)
def test_bad_nicknames_are_refused_in_plain_words_and_create_nothing(tmp_path, nickname, words):
    with pytest.raises(CharlabError) as err:
        owners.owner_workspace(tmp_path, nickname)
    assert words in str(err.value), str(err.value)
    owners_dir = tmp_path / runs.OWNERS_DIR
    assert not owners_dir.exists() or list(owners_dir.iterdir()) == []
    assert not (tmp_path.parent / "x").exists()


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_no_nickname_gives_a_new_private_workspace(tmp_path, blank):
    first, second = owners.owner_workspace(tmp_path, blank), owners.owner_workspace(tmp_path, blank)
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name.startswith(owners.PRIVATE_PREFIX) and len(first.name) == 17
    assert owners.owner_label(first).startswith("private ")
    with pytest.raises(CharlabError):  # no typed nickname can reach a private workspace
        owners.check_nickname(first.name)


def test_a_keyed_private_workspace_is_found_again_and_made_only_when_asked(tmp_path):
    named = owners.owner_workspace(tmp_path, None, key="0123456789abcdef", create=False)
    assert not named.exists() and runs.list_runs(named) == [] and not named.exists()  # nothing on disk yet
    made = owners.owner_workspace(tmp_path, "", key="0123456789abcdef")
    assert made == named and made.is_dir()  # the same key, the same folder: after a reload or a restart
    assert owners.owner_workspace(tmp_path, None, key="fedcba9876543210") != made
    assert made.name.startswith(owners.PRIVATE_PREFIX) and "0123456789abcdef" not in made.name  # the key is not shown
    assert owners.owner_label(made) == f"private {made.name[1:7]}"


def test_owner_label_falls_back_to_the_folder_name(tmp_path):
    path = owners.owner_workspace(tmp_path, "Ada")
    (path / owners.OWNER_FILE).write_text("{broken", encoding="utf-8")
    assert owners.owner_label(path) == "ada"
    (path / owners.OWNER_FILE).unlink()
    assert owners.owner_label(path) == "ada"
    assert owners.owner_workspace(tmp_path, "ADA") == path and owners.owner_label(path) == "ADA"  # written again


def test_a_session_may_open_only_its_own_runs_and_a_teacher_any(tmp_path, monkeypatch):
    monkeypatch.setenv("CHARLAB_HOME", str(tmp_path))
    ada, bob = owners.owner_workspace(tmp_path, "Ada"), owners.owner_workspace(tmp_path, "Bob")
    assert owners.may_open(ada / "run-1", ada) and not owners.may_open(bob / "run-1", ada)
    assert not owners.may_open(ada / ".." / "bob" / "run-1", ada)  # a path that climbs out is refused
    assert owners.may_open(bob / "run-1", ada, teacher=True)
    assert not owners.may_open(tmp_path.parent / "elsewhere", ada, teacher=True)  # not even a teacher outside it
