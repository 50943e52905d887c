"""The one exception type a user can cause, so every page and the CLI can show it plainly."""


class CharlabError(Exception):
    """A problem with something the user gave (a file, a setting, a seed text).

    The message is written for a non-programmer: it says what is wrong and what to do,
    and pages show it with ``st.error`` without a traceback.
    """
