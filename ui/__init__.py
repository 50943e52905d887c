"""Shared helpers for the charlab pages, one module per concept. A page imports each helper from the module
that holds it (`from ui.train import live_view`), so a reader sees where it lives.

Pages stay thin, a list of calls (widgets -> charlab -> drawing): each group of widgets is drawn by a function
here that returns what it read. Nothing in this package imports TensorFlow: only starting a training
(charlab.learning.training) or importing a run (charlab.saving.runs) does, the first time it is needed. The
modules, each importing only those above it:

- settings: the Train page's settings, presets and their words; the pages and colours
- state: every value a session keeps in st.session_state, declared once (no other module touches it)
- text: visible characters, generated-text boxes, streaming, the copy check's marks
- page_guard: guard(), an unexpected error shown in plain words instead of a traceback
- formatting: numbers, durations, dates and a training's progress in plain words
- job_registry: the server-wide registry (training queue, remembered sessions); is_running; queue words
- owners: whose runs a session sees (nickname, private workspace, teacher mode)
- widget_state: widgets bound to a session value (a setting), seeding them, uploads taken once, controls a lesson hides
- limits: what one session may ask of this server
- corpus_cache: the chosen text (a charlab Corpus) and the cached corpus helpers
- lesson_links: lesson links and lesson files
- saved_runs: loading runs (cached), their text, baselines, copy index; the runs list
- charts: the Altair charts
- display: projector mode, the focus ring, charts drawn at projector size
- grammar: the Grammar lab (the Reber sample)
- corpus: the Corpus page's sections (choosing a text, cleaning, vocabulary, preview)
- generate: the Generate page's sections (settings, next-character odds, the text, comparing temperatures)
- inside: Look inside's sections (the text read, rankings, a unit's activations, surprise, the embedding map)
- start_from: Start from a blank network or the classics writer, the settings the writer fixes
- jobs: starting and stopping a training, Quick start, polling fragments' reruns
- session: set-up on every script run, remembering for a reload, the Streamlit patch (applied on import)
- sidebar: the sidebar on every page
- train_settings: the Train page's settings section (preset, start from, model settings and their cost)
- train: the Train page's sections (live view, verdict, timelapse)
- home: Home's sections (the flow, Quick start)
- runs_view: My runs (table, manage, compare)
- privacy: the Privacy page's sections (what this server keeps, deleting it) and the expiry of old runs
- board: the class board (teacher mode)
"""

from ui.job_registry import registry

# The one name kept here: scripts outside the app (bench/classroom.py, bench/codepath.py) reach this server's
# queue as `ui.registry()`.
__all__ = ["registry"]
