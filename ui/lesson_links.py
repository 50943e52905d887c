"""Lessons: links and lesson files that open charlab on a text with settings and a training length, some
controls (or all) hidden; the link built on an address students can reach."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

import streamlit as st

from charlab import environment, limits
from charlab.errors import CharlabError
from charlab.network.model import MODEL_SETTINGS
from charlab.saving import runs
from charlab.teaching import lessons
from ui import state
from ui.corpus_cache import use_sample
from ui.settings import MINUTES_LABEL, PAGES, model_config, training_length_words
from ui.text import md
from ui.widget_state import reseed, take_upload

CONTROL_LABELS = {
    "sample": "Sample text",
    "cleaning": "Cleaning",
    **{s.name: s.label for s in MODEL_SETTINGS.values()},
    "epochs": "Training length (minutes or epochs)",  # hiding it hides both: the lesson says how long
    "minutes": MINUTES_LABEL,
    "start_from": "Start from",
}


def apply_lesson(lesson: lessons.Lesson, key: str = "") -> str | None:
    """Set up the session as the lesson says: its sample text, cleaning, settings and training length;
    remember what to hide. Returns a note when this server trains for less time than the lesson asks."""
    lesson.validate()
    settings = model_config(state.SETTINGS.get(), **lesson.settings)  # refuses bad values in plain words, first
    if lesson.sample is not None:
        use_sample(lesson.sample)
    if lesson.cleaning is not None:
        state.CLEANING.set(lesson.cleaning)
        state.CLEANING_BOX.forget()
    state.SETTINGS.set(settings)
    state.PRESET.set(None)
    note = None
    if lesson.minutes is not None:  # by the clock, within this server's limit
        most = limits.current().training_seconds / 60
        state.MINUTES.set(min(lesson.minutes, most))
        if lesson.minutes > most:
            note = (
                f"This lesson trains for {lesson.minutes:g} minutes, but this server stops each training after "
                f"{most:g}: its trainings last {most:g} minutes here."
            )
    elif "epochs" in lesson.settings:  # a lesson (or an older link) that fixes its epochs trains by them
        state.MINUTES.set(None)
    state.PRESET_BOX.forget()
    if lesson.start_from is not None:  # the writer's shape comes into the settings when the Train page draws
        state.START_FROM.set(lesson.start_from)
        state.START_FROM_CHOSEN.set(True)
        state.START_FROM_BOX.forget()
    reseed("settings")
    if lesson.projector:  # pm=0 or none leaves the learner's own choice
        state.PROJECTOR.set(True)
    state.LESSON.set(
        {"key": key, "title": lesson.title, "hidden": list(lesson.hidden_controls), "hide_all": lesson.hide_all}
    )
    return note


def open_lesson_link() -> None:
    """A lesson link (charlab.teaching.lessons): applied once per session, so the learner's own changes then stay."""
    params = {k: st.query_params.get_all(k) for k in st.query_params if k in lessons.LESSON_PARAMS}
    if not params:
        return
    key = repr(sorted(params.items()))
    if (state.LESSON.get() or {}).get("key") == key or state.LESSON_LINK_FAILED.get() == key:
        return
    try:
        note = apply_lesson(lessons.from_query_params(params), key)
    except CharlabError as err:
        state.LESSON_LINK_FAILED.set(key)
        st.error(f"This lesson link could not be opened: {md(str(err))}", icon=":material/error:")
    else:
        if note:
            st.info(note, icon=":material/timer:")


def leave_lesson() -> None:
    state.LESSON.set(None)
    for key in list(st.query_params):
        if key in lessons.LESSON_PARAMS:
            del st.query_params[key]


def current_lesson(
    hidden: Iterable[str], title: str, hide_all: bool = False, projector: bool = False
) -> lessons.Lesson:
    """This session's text, settings and training length (minutes by the clock, or epochs) as a lesson,
    hiding the chosen controls, or all of them; `projector`: the lesson opens in projector mode."""
    loaded, minutes = state.CORPUS.get(), state.MINUTES.get()
    sample = loaded.source.removeprefix("sample:") if loaded and loaded.source.startswith("sample:") else None
    settings = {name: getattr(state.SETTINGS.get(), name) for name in lessons.SETTING_PARAMS}
    return lessons.Lesson(
        sample=sample,
        cleaning=state.CLEANING.get(),
        settings=settings,
        hidden=tuple(hidden),
        title=title.strip(),
        # under half a minute only on a server whose limit is that short: each server keeps to its own limit
        minutes=max(minutes, lessons.MIN_MINUTES) if minutes else None,
        hide_all=hide_all,
        start_from=state.START_FROM.get("blank"),  # a link made after a fine-tune starts from the writer too
        projector=projector,
    ).validate()


def training_time_words() -> str:
    """How long this session's trainings last, in words: "1 minute by the clock" or "20 epochs"."""
    minutes = state.MINUTES.get()
    words = training_length_words(state.SETTINGS.get(), minutes)
    return f"{words} by the clock" if minutes else words


def lesson_hides_all() -> bool:
    """Whether this session's lesson hides every setting: the Train page then shows only what a training
    will do, Start and the chart."""
    return bool((state.LESSON.get() or {}).get("hide_all"))


def lesson_summary() -> None:
    """Train page, in place of the settings a lesson hides: what each training does, in one line."""
    chosen = hidden_words(state.LESSON.get())
    start = ", from the classics writer" if state.START_FROM.get() == "writer" else ""
    st.caption(f":material/school: This lesson chose {chosen}: each training lasts {training_time_words()}{start}.")


def hidden_words(lesson: dict) -> str:
    """The controls a lesson hides, for the sidebar: "units, cleaning", or "the text and every setting"."""
    hidden = lesson.get("hidden", ())
    if lesson.get("hide_all"):
        return "the text and every setting" if "sample" in hidden else "every setting"
    return ", ".join(CONTROL_LABELS.get(c, c).lower() for c in hidden)


def app_base_url() -> str:
    """The server's address as the browser sees it (without its query), or "" for a relative "?…" link."""
    try:
        url = st.context.url or ""
    except AttributeError:  # an older Streamlit
        url = ""
    return url.split("?", 1)[0].split("#", 1)[0]


def lesson_share() -> None:
    """Train page: make a lesson link and lesson file from the current settings; open a lesson file."""
    loaded = state.CORPUS.get()
    st.caption(
        "Hand out a link that opens charlab on this text with these settings, with the controls you choose "
        "hidden, so a class can focus on one idea."
    )
    if loaded is not None and not loaded.source.startswith("sample:"):
        st.caption(":material/info: An uploaded text cannot travel in a link: learners keep their own text.")
    hide_all = st.checkbox(
        "Hide all settings",
        key=state.LESSON_HIDE_ALL_BOX.key,
        help="Learners see only Start training, Quick start and the chart: the text and every setting are the "
        "lesson's.",
    )
    hidden = st.multiselect(
        "Controls to hide",
        list(lessons.CONTROLS),
        key=state.LESSON_HIDE_BOX.key,
        format_func=CONTROL_LABELS.get,
        disabled=hide_all,
    )
    title = st.text_input(
        "Lesson title",
        key=state.LESSON_TITLE_BOX.key,
        max_chars=lessons.MAX_TITLE_CHARS,
        placeholder="e.g. Lesson 2: more units",
    )
    projector = st.checkbox(
        "Open in projector mode",
        key=state.LESSON_PROJECTOR_BOX.key,
        help="The link opens charlab with large text and charts, readable from the back of a classroom "
        "(each learner can turn it off in the sidebar).",
    )
    lesson = current_lesson(hidden, title, hide_all, projector)
    st.caption(f":material/timer: Learners train for {training_time_words()}, as you do now.")
    browser = app_base_url()
    address = lessons.link_address(
        browser, environment.public_url(), st.get_option("server.address"), lessons.network_address
    )
    address_words(address, browser)
    base = address.base
    url = lessons.lesson_url(lesson, base) if base else "?" + urlencode(lessons.to_query_params(lesson))
    st.markdown("**The lesson link**" + ("" if base else " (add it to this page's address)"))
    st.code(url, language=None, wrap_lines=True)
    st.download_button(
        "Download as a lesson file",
        data=lessons.lesson_to_json(lesson),
        key=state.LESSON_DOWNLOAD_BUTTON.key,
        file_name=f"{runs.slugify(title or 'lesson')}.json",
        mime="application/json",
        icon=":material/download:",
    )
    upload = st.file_uploader(
        "Open a lesson file (.json)", type=["json"], key=state.LESSON_UPLOAD_BOX.key, max_upload_size=1
    )
    take_upload(
        upload,
        state.LESSON_UPLOAD_BOX.key,
        lambda f: apply_lesson(lessons.lesson_from_json(f.getvalue()), f"file:{f.file_id}"),
    )


def app_root(url: str) -> str:
    """The app's own address, without the page a URL opens (st.context.url may end in /train)."""
    for page in PAGES:
        if url.rstrip("/").endswith(f"/{page}"):
            return url.rstrip("/").removesuffix(page)
    return url


def address_words(address: lessons.LinkAddress, browser: str) -> None:
    """Say which address the link is built on when it is not simply this browser's, and what students need."""
    here = (
        f"This browser opens charlab at {md(app_root(browser))}, a name that means this computer: on a "
        "student's computer that address leads nowhere."
    )
    set_public = "set `CHARLAB_PUBLIC_URL` to the address students use and start the server again"
    if address.reason == "public":
        st.caption(":material/public: The link is built on `CHARLAB_PUBLIC_URL`, the address students use:")
        st.code(address.base, language=None)
    elif address.reason == "network":
        st.warning(
            f"{here} The link below uses this computer's network address instead, which computers on the same "
            f"network can open. If they cannot (another network, a firewall), {set_public}.",
            icon=":material/wifi:",
        )
        st.caption("Students open charlab at:")
        st.code(app_root(address.base), language=None)
    elif address.reason == "listens_locally":
        st.warning(
            f"{here} This server also listens only on this computer, so no other computer can reach it: start it "
            f"with `--server.address 0.0.0.0` (a classroom server), or {set_public}.",
            icon=":material/wifi_off:",
        )
    elif address.reason == "no_network":
        st.warning(
            f"{here} This computer's network address could not be found: {set_public}.",
            icon=":material/wifi_off:",
        )


def lesson_fixes_something() -> bool:
    """Whether this session opened a lesson link: then Quick start trains the lesson's text and settings
    (a teacher's link with a text and a small network must not turn into the default minute)."""
    return bool(state.LESSON.get())
