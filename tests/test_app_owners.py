"""Owners and teacher mode in AppTest: a workspace per nickname, the teacher's view, names shown as typed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_pages import (
    APP_FIXTURES,
    ROOT,
    TEXT,
    contains,
    go,
    job,
    open_app,
    plain,
    run,
    runs_table,
    set_tiny_settings,
    sidebar_text,
    texts,
    upload_text,
    wait_done,
    wait_until,
)
from streamlit.testing.v1 import AppTest

import ui.job_registry
import ui.owners
import ui.text
from charlab.errors import CharlabError
from charlab.saving import archives, runs
from charlab.server import owners as charlab_owners
from ui.job_registry import registry
from ui.owners import NICKNAME_HELP
from ui.text import visible_text

pytestmark = APP_FIXTURES


def put_run(trained_run: Path, folder: Path, name: str) -> Path:
    """A copy of the trained run, named `name`, in `folder` (an owner's workspace, or the root)."""
    path = Path(shutil.copytree(trained_run, folder / runs.slugify(name)))
    runs.rename_run(path, name)
    return path


def named(nickname: str) -> AppTest:
    """A new session (a student opening the app) that types its nickname in the sidebar."""
    return run(open_app().text_input(key="owner_nickname").input(nickname))


def listed(at: AppTest) -> list[str]:
    """The run names in My runs (on the Train page)."""
    go(at, "train")
    found = [d.value for d in at.dataframe if "Best validation loss" in d.value.columns]
    return list(found[0]["Name"]) if found else []


def test_each_nickname_sees_only_its_runs_and_finds_them_again_another_day(trained_run, owners):
    alice = named("Alice")
    assert alice.session_state["workspace"] == str(charlab_owners.owner_workspace(owners, "Alice"))
    assert contains(alice.sidebar.caption, NICKNAME_HELP)
    go(alice, "train")
    run(alice.file_uploader(key="runs_upload").upload("cats.zip", archives.export_zip(trained_run), "application/zip"))
    assert "Added «Tiny cats» to My runs: it is the current run, Generate uses it." in map(plain, texts(alice.success))
    assert [i.name for i in runs.list_runs(charlab_owners.owner_workspace(owners, "Alice"))] == ["Tiny cats"]
    assert runs.list_runs(owners) == []  # nothing lands in the shared root
    put_run(trained_run, charlab_owners.owner_workspace(owners, "Bob"), "Bob cats")
    bob = named("Bob")
    assert listed(bob) == ["Bob cats"]
    assert listed(alice) == ["Tiny cats"]
    another_day = named("  alice ")  # a new session, the same name typed a little differently
    assert another_day.text_input(key="owner_nickname").value == "alice"
    assert listed(another_day) == ["Tiny cats"]


def test_a_private_sessions_runs_are_its_own_and_come_back_after_a_reload(owners):
    at = open_app()
    private = Path(at.session_state["workspace"])
    assert private.parent == owners / runs.OWNERS_DIR and at.text_input(key="owner_nickname").value == ""
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=1)
    at.text_input(key="train_run_name").input("my private cats")
    run(at.button(key="train_start").click())
    wait_done(at)
    [info] = runs.list_runs(private)  # trained into the session's own workspace
    assert info.name == "my private cats" and at.session_state["run_path"] == str(info.path)
    assert listed(at) == ["my private cats"] and runs.list_runs(owners) == []

    reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    reloaded.query_params["session"] = at.session_state["token"]
    run(reloaded)
    assert reloaded.session_state["workspace"] == str(private)
    assert listed(reloaded) == ["my private cats"]

    stranger = open_app()
    assert stranger.session_state["workspace"] != str(private)
    assert listed(stranger) == [] and listed(named("my private cats")) == []

    registry().memory.clear()  # the server restarts: it remembers no session, only the URL's token
    restarted = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    restarted.query_params["session"] = at.session_state["token"]
    run(restarted)
    assert restarted.session_state["corpus"] is None  # the text was in memory only
    assert restarted.session_state["workspace"] == str(private) and listed(restarted) == ["my private cats"]


def test_a_tab_that_never_saves_a_run_leaves_no_folder(owners):
    for _ in range(3):
        at = open_app()
        upload_text(at)
        go(at, "train")
        go(at, "generate")
    assert not (owners / runs.OWNERS_DIR).exists() or list((owners / runs.OWNERS_DIR).iterdir()) == []
    assert not Path(at.session_state["workspace"]).exists()


@pytest.mark.parametrize("bad", ["../x", "a/b"])
def test_a_bad_nickname_is_refused_in_plain_words_and_the_workspace_kept(bad, trained_run, owners):
    put_run(trained_run, charlab_owners.owner_workspace(owners, "Dana"), "Dana cats")
    at = named("Dana")
    before = at.session_state["workspace"]
    run(at.text_input(key="owner_nickname").input(bad))
    with pytest.raises(CharlabError) as refused:
        charlab_owners.check_nickname(bad)
    assert contains(at.sidebar.error, str(refused.value))
    assert at.session_state["nickname"] == "Dana" and at.session_state["workspace"] == before
    assert listed(at) == ["Dana cats"]
    folders = {p.name for p in (owners / runs.OWNERS_DIR).iterdir()}
    assert {f for f in folders if not f.startswith(charlab_owners.PRIVATE_PREFIX)} == {"dana"}
    assert sorted(p.name for p in owners.parent.iterdir()) == ["runs"]  # nothing climbed out


def zoes_long_training():
    """Zoé, a student with a nickname, starts a tiny training of 500 epochs: it runs while a test looks."""
    zoe = named("Zoé")
    upload_text(zoe)
    go(zoe, "train")
    set_tiny_settings(zoe, epochs=500)
    run(zoe.button(key="train_start").click())
    return zoe, job(zoe)


def test_the_same_nickname_finds_its_running_training_from_a_new_tab(owners):
    """Seen in a browser: a student who closed the tab saw 'Press Start training' and could not stop it."""
    zoe, training = zoes_long_training()
    wait_until(lambda: training.snapshot().step >= 1)

    again = go(named("zoé"), "train")  # a new tab, the same nickname typed again
    assert job(again) is training
    assert any("Training «" in plain(h) for h in texts(again.subheader))
    assert not again.button(key="train_stop").disabled and again.button(key="train_start").disabled
    assert again.session_state["run_path"] == str(training.snapshot().run_path)
    stranger = go(named("Sam"), "train")  # another nickname sees nothing of it
    assert registry().queue.touch(stranger.session_state["token"]) is None
    run(again.button(key="train_stop").click())
    wait_done(again)
    assert training.snapshot().status == "stopped"


def test_a_teacher_who_loads_a_running_run_follows_it_live(owners, monkeypatch):
    """Seen in a class: a teacher's Load of a student's running run said "has no saved model yet" or showed a
    snapshot that never moved, under "Learning from Tiny Shakespeare" (the teacher's own text); once it
    crashed to Streamlit's raw error page (the minutes box's callback, after Load took the box away)."""
    monkeypatch.setenv("CHARLAB_TEACHER_PASSWORD", "owl-42")
    zoe, training = zoes_long_training()
    wait_until(lambda: training.snapshot().step >= 1, timeout=300)  # a loaded machine takes its time
    student_run = str(training.snapshot().run_path)

    teacher = named("Ms Teacher")
    upload_text(teacher, "To be, or not to be: that is the question.\n" * 40, "hamlet.txt")
    go(teacher, "train")
    run(teacher.segmented_control(key="settings_train_by").set_value("minutes"))  # the box Load takes away
    run(teacher.text_input(key="teacher_password_input").input("owl-42"))
    run(teacher.selectbox(key="runs_pick").set_value(student_run))
    run(teacher.number_input(key="settings_minutes").set_value(2.0))
    run(teacher.button(key="runs_load").click())
    assert teacher.session_state["run_path"] == student_run
    assert "Training «cats.txt · LSTM 16»" in map(plain, texts(teacher.subheader))  # the live view of the job
    assert contains(teacher.caption, "Following «cats.txt · LSTM 16», learning from **cats.txt**")
    assert not contains(teacher.caption, "Learning from **hamlet.txt**")
    assert not contains(teacher.info, "no saved model")
    assert teacher.get("progress"), "no live progress"
    assert teacher.button(key="train_stop").disabled  # the student's page stops it, not the teacher's Stop
    assert not teacher.button(key="train_start").disabled  # the teacher may still train their own
    assert registry().queue.touch(teacher.session_state["token"]) is None  # nothing was adopted

    run(zoe.button(key="train_stop").click())
    wait_done(zoe)
    run(teacher)  # the live view's next refresh: the run as saved
    assert "Run «cats.txt · LSTM 16»" in map(plain, texts(teacher.subheader))
    assert contains(teacher.caption, "Learning from **hamlet.txt**")


def test_the_name_cannot_change_while_a_training_runs(owners, monkeypatch):
    at = named("Erin")
    # its run is saved under the name it began with (the name box looks is_running up in ui.owners, pages in
    # ui.job_registry)
    for module in (ui.job_registry, ui.owners):
        monkeypatch.setattr(module, "is_running", lambda handle=None: True)
    run(at.text_input(key="owner_nickname").input("Frank"))
    assert contains(at.sidebar.error, "Your training is still going")
    assert at.session_state["nickname"] == "Erin"


def test_teacher_mode_lists_everyones_runs_with_their_owner(trained_run, owners, monkeypatch):
    alice_run = put_run(trained_run, charlab_owners.owner_workspace(owners, "Alice"), "Alice cats")
    bob_run = put_run(trained_run, charlab_owners.owner_workspace(owners, "Bob"), "Bob cats")
    unset = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    unset.secrets["charlab"] = {}  # no password configured: no teacher box
    assert "teacher_password_input" not in [t.key for t in run(unset).text_input]

    monkeypatch.setenv("CHARLAB_TEACHER_PASSWORD", "owl-42")
    at = named("Ms Teacher")
    run(at.text_input(key="teacher_password_input").input("owl-41"))
    assert contains(at.sidebar.error, "That is not the teacher password.")
    assert not at.session_state["teacher"] and listed(at) == []
    run(at.text_input(key="teacher_password_input").input("owl-42"))
    assert at.session_state["teacher"] and "teacher_password_input" not in [t.key for t in at.text_input]
    assert sorted(listed(at)) == ["Alice cats", "Bob cats"]
    table = runs_table(at)
    assert sorted(zip(table["Owner"], table["Name"], strict=True)) == [("Alice", "Alice cats"), ("Bob", "Bob cats")]

    run(at.selectbox(key="runs_pick").set_value(str(alice_run)))
    run(at.button(key="runs_load").click())  # the teacher may open and delete anyone's run
    assert at.session_state["run_path"] == str(alice_run) and "Alice cats" in sidebar_text(at)
    run(at.selectbox(key="runs_pick").set_value(str(bob_run)))
    run(at.button(key="runs_delete").click())
    run(at.button(key="runs_delete_yes").click())
    assert not bob_run.exists() and alice_run.exists()

    run(at.button(key="teacher_leave").click())
    assert at.session_state["run_path"] is None and listed(at) == []


def test_the_teacher_password_can_come_from_secrets_toml(trained_run, owners):
    put_run(trained_run, charlab_owners.owner_workspace(owners, "Alice"), "Alice cats")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["charlab"] = {"teacher_password": "héron"}
    run(run(at).text_input(key="teacher_password_input").input("héron"))
    assert at.session_state["teacher"] and listed(at) == ["Alice cats"]


def test_another_owners_run_cannot_be_opened_without_teacher_mode(trained_run, owners):
    bob_run = put_run(trained_run, charlab_owners.owner_workspace(owners, "Bob"), "Bob cats")
    at = named("Alice")
    at.session_state["run_path"] = str(bob_run)  # a path from elsewhere (another session, an old memory)
    go(at, "generate")
    assert at.session_state["run_path"] is None and "Bob cats" not in sidebar_text(at)
    assert contains(at.info, "No trained run yet")
    go(at, "train")
    assert "train_continue" not in [b.key for b in at.button] or at.button(key="train_continue").disabled


def test_owners_switched_off_share_the_root_workspace(trained_run, owners):
    put_run(trained_run, owners, "Shared cats")
    classroom = open_app("train")  # the default: the root's runs are not anybody's
    assert listed(classroom) == [] and contains(classroom.caption, "Older runs saved without a name")
    single = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    single.secrets["charlab"] = {"owners": False}  # as `owners = false` under [charlab] in secrets.toml
    run(single)
    assert "owner_nickname" not in [t.key for t in single.text_input]
    assert single.session_state["workspace"] == str(owners) and listed(single) == ["Shared cats"]


# ---------------------------------------------------------------- what a user typed is shown as typed


PAYLOAD = "**b** :red[x] $k$ `<b>"  # bold, colour, LaTeX, a backtick and HTML: none may be interpreted
RAW_MARKUP = ("**b**", ":red[x]", "$k$", "<b>")  # what an unescaped PAYLOAD leaves in a markdown source
# elements whose text Streamlit shows as it is (st.text, st.code, st.html of escaped text, tables, charts)
PLAIN_ELEMENTS = {"text", "code", "html", "arrow_data_frame", "dataframe", "json", "arrow_vega_lite_chart",
                  "vega_lite_chart", "table", "empty", "imgs"}  # fmt: skip
# fields shown as plain text even in widgets: typed values, placeholders, and the options of lists
PLAIN_FIELDS = {"id", "formId", "value", "default", "placeholder", "rawValue", "rawValues", "setValue", "options",
                "fileName", "url", "data", "spec", "useContainerWidth", "type"}  # fmt: skip
MARKDOWN_OPTIONS = {"radio", "button_group"}  # these render their options (and captions) as markdown


def _strings(value, key: str = ""):
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def markdown_sources(at: AppTest) -> list[tuple[str, str, str]]:
    """(element type, field, text) for every string the page renders as markdown: bodies of markdown,
    captions, headers and alerts, toasts, and the labels and help of widgets, expanders and links."""
    from google.protobuf.json_format import MessageToDict

    found = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is None or kind in PLAIN_ELEMENTS or not hasattr(proto, "DESCRIPTOR"):
            continue
        for field, text in _strings(MessageToDict(proto)):
            if field not in PLAIN_FIELDS or (field == "options" and kind in MARKDOWN_OPTIONS):
                found.append((kind, field, text))
    return found


def assert_shown_as_typed(at: AppTest, where: str, expect: int = 1, shown: str = PAYLOAD) -> None:
    """No markdown source holds the PAYLOAD unescaped, and it is shown (escaped) in at least `expect` of them."""
    sources = markdown_sources(at)
    raw = [(kind, field, text) for kind, field, text in sources if any(m in text for m in RAW_MARKUP)]
    assert raw == [], f"{where}: user text interpreted as markdown in {raw}"
    escaped = [text for _, _, text in sources if shown in plain(text)]
    assert len(escaped) >= expect, f"{where}: the payload is shown escaped only {len(escaped)} times"


def test_what_a_user_typed_is_shown_as_typed_everywhere(with_run, workspace):
    """File names, run names, corpus names, seed text, typed text and URL parameters never turn into markup."""
    runs.update_meta(with_run, name=PAYLOAD, corpus={"name": f"{PAYLOAD}.txt", "sha256": "0" * 64, "characters": 1})
    at = open_app("corpus")
    content = (TEXT + f"{PAYLOAD} é\n").encode()
    run(at.file_uploader(key="corpus_upload").upload(f"{PAYLOAD}.txt", content, "text/plain"))
    run(at.radio(key="corpus_cleaning").set_value("letters_punct"))  # the backtick and é are changed by cleaning
    assert_shown_as_typed(at, "Corpus", expect=2)  # the header and the sidebar
    assert contains(at.markdown, "Changed by cleaning") and any("\\`" in t for t in texts(at.markdown))

    go(at, "train")
    assert_shown_as_typed(at, "Train, before a run", expect=1)  # "Learning from …"
    run(at.selectbox(key="runs_pick").set_value(str(with_run)))
    run(at.button(key="runs_load").click())
    assert_shown_as_typed(at, "Train, a loaded run", expect=3)  # toast, heading, caption, sidebar
    run(at.button(key="runs_delete").click())
    assert_shown_as_typed(at, "Delete, asked to confirm", expect=3)
    run(at.button(key="runs_delete_no").click())
    run(at.text_input(key="runs_new_name").input(f"{PAYLOAD} 2"))
    run(at.button(key="runs_rename").click())
    assert_shown_as_typed(at, "Rename", expect=2)

    go(at, "generate")
    run(at.text_area(key="generate_seed_text").input(PAYLOAD))
    assert_shown_as_typed(at, "Generate, the seed", expect=1, shown=visible_text(PAYLOAD))  # "would write after"
    run(at.button(key="generate_go").click())
    assert_shown_as_typed(at, "Generate", expect=2)  # the run's name and "What the model would write after …"

    go(at, "inside")
    run(at.segmented_control(key="inside_source").set_value("typed"))
    run(at.text_area(key="inside_text").input(PAYLOAD * 3))
    assert_shown_as_typed(at, "Look inside", expect=1)

    for param in ("s", "cl", "u", "t"):  # sample, cleaning, units: refused in words; the title is shown
        link = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        link.query_params[param] = PAYLOAD
        run(link)
        assert contains(link.error, "This lesson link could not be opened") == (param != "t")
        assert_shown_as_typed(link, f"A lesson link's {param}", expect=1)


def test_a_refused_nickname_is_shown_as_typed(owners):
    at = open_app()
    run(at.text_input(key="owner_nickname").input("$k$ **b** :red[x] <b>"))
    assert at.error, "the nickname is refused"
    sources = markdown_sources(at)
    assert [text for _, _, text in sources if any(m in text for m in RAW_MARKUP) or "'$'" in text] == []
