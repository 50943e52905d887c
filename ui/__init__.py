"""Shared helpers for the charlab pages, one module per concept; `import ui` gives the names pages use.

Pages stay thin (widgets -> charlab -> drawing); everything they share lives here. Nothing in
this package imports TensorFlow: only starting a training (charlab.training) or importing a run
(charlab.runs) does, the first time it is needed. The modules, each importing only those above it:

- settings: the Train page's settings, presets and their words; the pages and colours
- text: visible characters, generated-text boxes, streaming, the copy check's marks
- page_guard: guard(), an unexpected error shown in plain words instead of a traceback
- job_registry: the server-wide registry (training queue, remembered sessions); is_running
- formatting: numbers, durations, dates and a training's progress in plain words
- limits: what one session may ask of this server
- owners: whose runs a session sees (nickname, private workspace, teacher mode)
- widget_state: widgets bound to st.session_state, seeding them, presets, controls a lesson hides
- corpus_cache: the chosen text (a charlab Corpus) and the cached corpus helpers
- lesson_links: lesson links and lesson files
- jobs: starting and stopping a training, Quick start, polling fragments' reruns
- saved_runs: loading runs (cached), their text, baselines, copy index; the runs list
- charts: the Altair charts
- grammar: the Grammar lab (the Reber sample)
- inside: Look inside (activations, rankings, surprise, the embedding map)
- session: set-up on every script run, remembering for a reload, the Streamlit patch (applied on import)
- sidebar: the sidebar on every page
- start_from: Start from a blank network or the classics writer, the settings the writer fixes
- train: the Train page's sections (live view, verdict, timelapse)
- runs_view: My runs (table, manage, compare)
- board: the class board (teacher mode)
"""

from charlab.diagnosis import check_first_loss
from charlab.neurons import trace
from ui.board import class_board
from ui.charts import probability_chart, vocabulary_chart, vocabulary_frame
from ui.corpus_cache import (
    changed_characters,
    cleaned_text,
    corpus_key,
    corpus_vocab_size,
    text_stats,
    use_sample,
    use_upload,
)
from ui.formatting import best_loss_words, fmt_duration, fmt_loss
from ui.grammar import grammar_view
from ui.inside import (
    INSIDE_MAX_CHARS,
    STATE_HELP,
    STATE_WORDS,
    activation_html,
    embedding_chart,
    embedding_frame,
    guesses_frame,
    new_random_seed,
    ranking_frame,
    run_trace,
    surprise_html,
)
from ui.job_registry import current_handle, is_running, registry, show_cluster_problem, watched_handle
from ui.jobs import (
    default_run_name,
    following_words,
    own_text_chosen,
    quick_start,
    rerun_page,
    start_training,
    stop_training,
)
from ui.lesson_links import lesson_fixes_something, lesson_hides_all, lesson_share, lesson_summary, training_time_words
from ui.limits import check_server_limits, fit_to_limit, server_limits, upload_box_mb
from ui.owners import NICKNAME_HELP, is_teacher
from ui.page_guard import callback, guard
from ui.privacy import delete_box as privacy_delete_box
from ui.privacy import expire_old_runs, what_this_server_keeps
from ui.runs_view import my_runs
from ui.saved_runs import (
    baseline_report,
    config_words,
    is_reber_run,
    is_reber_text,
    next_char_distribution,
    open_run,
    pick_current_run,
    run_info,
    run_label,
    run_labels,
    run_stamp,
    run_training_text,
    training_index,
    usable_runs,
    web_page_download,
)
from ui.session import init_session, open_requested_page, remember, through_entry_script
from ui.settings import (
    COMPARE_TEMPERATURES,
    DEFAULT_SAMPLE,
    PAGES,
    PRESETS,
    SETTING_COLUMNS,
    SETTING_HELP,
    SETTING_LABELS,
    STATUS_WORDS,
    TEMPERATURE_HELP,
    budget_seconds,
    model_config,
    preset_minutes,
    preset_settings,
    presets_recipe_words,
    training_length_words,
)
from ui.sidebar import on_preset_change, poll_seconds, sidebar
from ui.start_from import (
    own_text_words,
    shape_fixed,
    start_from_control,
    start_vocab_size,
    writer_path,
    writer_shape,
)
from ui.text import copy_check_missing, copy_summary, copy_view, md, scroll_to, stream, text_box, visible_text
from ui.train import BASELINE_WORDS, live_view, timelapse_words
from ui.widget_state import (
    apply_preset,
    bound,
    is_hidden,
    on_train_by_change,
    preset_fitted_note,
    seed_key,
    setting_widget,
    take_upload,
    training_length,
)

__all__ = [  # what pages, app.py, tests and bench use as ui.<name>
    "check_first_loss", "trace", "class_board", "is_teacher",
    "probability_chart", "vocabulary_chart", "vocabulary_frame",
    "changed_characters", "cleaned_text", "corpus_key", "corpus_vocab_size", "text_stats", "use_sample",
    "use_upload", "best_loss_words", "fmt_duration", "fmt_loss", "grammar_view", "INSIDE_MAX_CHARS", "STATE_HELP",
    "STATE_WORDS", "activation_html", "embedding_chart", "embedding_frame", "guesses_frame", "new_random_seed",
    "ranking_frame", "run_trace", "surprise_html", "current_handle", "is_running", "registry", "show_cluster_problem",
    "watched_handle", "default_run_name", "following_words", "own_text_chosen", "quick_start", "rerun_page",
    "start_training", "stop_training", "lesson_fixes_something", "lesson_hides_all", "lesson_share", "lesson_summary",
    "training_time_words", "check_server_limits", "fit_to_limit", "server_limits", "upload_box_mb", "NICKNAME_HELP",
    "callback", "guard", "privacy_delete_box", "expire_old_runs", "what_this_server_keeps", "my_runs",
    "baseline_report", "config_words", "is_reber_run", "is_reber_text", "open_run",
    "next_char_distribution", "pick_current_run", "run_info", "run_label", "run_labels", "run_stamp",
    "run_training_text", "web_page_download",
    "training_index", "usable_runs", "init_session", "open_requested_page", "remember", "through_entry_script",
    "COMPARE_TEMPERATURES", "DEFAULT_SAMPLE",
    "PAGES", "PRESETS", "SETTING_COLUMNS", "SETTING_HELP", "SETTING_LABELS", "STATUS_WORDS", "TEMPERATURE_HELP",
    "budget_seconds", "model_config", "preset_minutes", "preset_settings", "training_length_words", "on_preset_change",
    "presets_recipe_words", "poll_seconds", "sidebar",
    "own_text_words", "shape_fixed", "start_from_control", "start_vocab_size", "writer_path", "writer_shape",
    "copy_check_missing", "copy_summary", "copy_view", "md", "scroll_to", "stream", "text_box", "visible_text",
    "BASELINE_WORDS", "live_view", "timelapse_words", "apply_preset", "bound", "is_hidden", "on_train_by_change",
    "preset_fitted_note", "seed_key", "setting_widget", "take_upload", "training_length",
]  # fmt: skip
