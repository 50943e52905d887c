"""Lessons: links and lesson files that open charlab on a text with settings, some controls hidden."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

import streamlit as st

from charlab import lessons, runs
from charlab.errors import CharlabError
from charlab.model import MODEL_SETTINGS
from ui.corpus_cache import use_sample
from ui.settings import MINUTES_LABEL, model_config
from ui.text import md
from ui.widget_state import reseed, take_upload

CONTROL_LABELS = {
    "sample": "Sample text",
    "cleaning": "Cleaning",
    **{s.name: s.label for s in MODEL_SETTINGS.values()},
    "minutes": MINUTES_LABEL,
}


def apply_lesson(lesson: lessons.Lesson, key: str = "") -> None:
    """Set up the session as the lesson says: its sample text, cleaning and settings; remember what to hide."""
    ss = st.session_state
    lesson.validate()
    settings = model_config(ss.settings, **lesson.settings)  # refuses bad values in plain words, before any change
    if lesson.sample is not None:
        use_sample(lesson.sample)
    if lesson.cleaning is not None:
        ss.cleaning = lesson.cleaning
        ss.pop("corpus_cleaning", None)
    ss.settings, ss.preset = settings, None
    ss.pop("train_preset", None)
    reseed("settings")
    ss.lesson = {"key": key, "title": lesson.title, "hidden": list(lesson.hidden)}


def open_lesson_link() -> None:
    """A lesson link (see charlab.lessons): applied once per session, so the learner's own changes then stay."""
    ss = st.session_state
    params = {k: st.query_params.get_all(k) for k in st.query_params if k in lessons.LESSON_PARAMS}
    if not params:
        return
    key = repr(sorted(params.items()))
    if (ss.lesson or {}).get("key") == key or ss.get("lesson_link_failed") == key:
        return
    try:
        apply_lesson(lessons.from_query_params(params), key)
    except CharlabError as err:
        ss.lesson_link_failed = key
        st.error(f"This lesson link could not be opened: {md(str(err))}", icon=":material/error:")


def leave_lesson() -> None:
    st.session_state.lesson = None
    for key in list(st.query_params):
        if key in lessons.LESSON_PARAMS:
            del st.query_params[key]


def current_lesson(hidden: Iterable[str], title: str) -> lessons.Lesson:
    """This session's text and settings as a lesson, hiding the chosen controls."""
    ss = st.session_state
    loaded = ss.corpus
    sample = loaded.source.removeprefix("sample:") if loaded and loaded.source.startswith("sample:") else None
    settings = {name: getattr(ss.settings, name) for name in lessons.SETTING_PARAMS}
    return lessons.Lesson(
        sample=sample, cleaning=ss.cleaning, settings=settings, hidden=tuple(hidden), title=title.strip()
    ).validate()


def app_base_url() -> str:
    """The server's address as the browser sees it (without its query), or "" for a relative "?…" link."""
    try:
        url = st.context.url or ""
    except AttributeError:  # an older Streamlit
        url = ""
    return url.split("?", 1)[0].split("#", 1)[0]


def lesson_share() -> None:
    """Train page: make a lesson link and lesson file from the current settings; open a lesson file."""
    ss = st.session_state
    st.caption(
        "Hand out a link that opens charlab on this text with these settings, with the controls you choose "
        "hidden, so a class can focus on one idea."
    )
    if ss.corpus is not None and not ss.corpus.source.startswith("sample:"):
        st.caption(":material/info: An uploaded text cannot travel in a link: learners keep their own text.")
    hidden = st.multiselect(
        "Controls to hide", list(lessons.CONTROLS), key="lesson_hide", format_func=CONTROL_LABELS.get
    )
    title = st.text_input(
        "Lesson title", key="lesson_title", max_chars=lessons.MAX_TITLE_CHARS, placeholder="e.g. Lesson 2: more units"
    )
    lesson = current_lesson(hidden, title)
    base = app_base_url()
    url = lessons.lesson_url(lesson, base) if base else "?" + urlencode(lessons.to_query_params(lesson))
    st.markdown("**The lesson link**" + ("" if base else " (add it to this page's address)"))
    st.code(url, language=None, wrap_lines=True)
    st.download_button(
        "Download as a lesson file",
        data=lessons.lesson_to_json(lesson),
        key="lesson_download",
        file_name=f"{runs.slugify(title or 'lesson')}.json",
        mime="application/json",
        icon=":material/download:",
    )
    upload = st.file_uploader("Open a lesson file (.json)", type=["json"], key="lesson_upload", max_upload_size=1)
    take_upload(
        upload, "lesson_upload", lambda f: apply_lesson(lessons.lesson_from_json(f.getvalue()), f"file:{f.file_id}")
    )


def lesson_fixes_something() -> bool:
    """Whether this session opened a lesson link: then Quick start trains the lesson's text and settings
    (a teacher's link with a text and a small network must not turn into the default minute)."""
    return bool(st.session_state.get("lesson"))
