"""Corpus loading and cleaning: every way a file can be odd is either read correctly or refused plainly."""

from __future__ import annotations

import codecs
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.text import corpus
from charlab.text.corpus import (
    CLEANING_MODES,
    DEFAULT_MAX_BYTES,
    changed_characters,
    check_length,
    clean,
    load_bytes,
    load_path,
    stats,
    visible,
    warnings,
)

FRENCH = "Élodie a mangé une crème brûlée à Noël; ça coûte 12 €!\nÇa suffit."
MIXED = 'The Quick, brown FOX — jumps!\n\t"Über" naïve café: 42 % (ok) [x] {y} #1 ½ ﬁne ß\u00a0end\r'


# ---------------------------------------------------------------- decoding


def test_utf8_without_bom_is_read_as_is():
    result = load_bytes(FRENCH.encode("utf-8"), "french.txt")
    assert result.text == FRENCH
    assert result.encoding == "utf-8"
    assert result.notes == ()
    assert result.name == "french.txt"


def test_utf8_bom_is_removed():
    result = load_bytes(codecs.BOM_UTF8 + FRENCH.encode("utf-8"), "bom.txt")
    assert result.text == FRENCH
    assert not result.text.startswith("\ufeff")
    assert result.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_converted_with_a_note(codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    text = "Γειά σου κόσμε — 你好 — " + FRENCH
    result = load_bytes(bom + text.encode(codec), "wide.txt")
    assert result.text == text
    assert result.encoding == "utf-16"
    assert any("UTF-16" in note for note in result.notes)


def test_latin1_file_keeps_its_accented_letters_and_says_so():
    text = "Café crème, naïve Noël à l'hôtel; señor, ¿qué tal?"
    result = load_bytes(text.encode("latin-1"), "old.txt")
    assert result.text == text
    assert result.encoding == "cp1252"
    assert len(result.notes) == 1 and "Windows-1252" in result.notes[0]


def test_cp1252_curly_quotes_and_euro_sign_are_decoded():
    text = "\u201cQuoted\u201d \u2014 it\u2019s 5 \u20ac, d\u00e9j\u00e0 vu"
    raw = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the premise: these bytes are not UTF-8
    assert load_bytes(raw, "quotes.txt").text == text


def test_undecodable_mess_is_refused_with_the_position_of_the_first_bad_byte():
    # bytes that are neither UTF-8 nor Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in it)
    data = b"hello " + b"\x81\x8d\x8f\x90\x9d" * 50
    with pytest.raises(CharlabError) as err:
        load_bytes(data, "mess.txt")
    message = str(err.value)
    assert "'mess.txt'" in message
    assert "UTF-8" in message
    assert "position 6" in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"one\r\ntwo\r\nthree\r\n", "one\ntwo\nthree\n"),
        (b"one\rtwo\rthree", "one\ntwo\nthree"),
        (b"mixed\r\nends\rhere\n", "mixed\nends\nhere\n"),
        (b"blank\r\n\r\nline", "blank\n\nline"),
    ],
)
def test_line_endings_become_newlines(raw, expected):
    assert load_bytes(raw, "lines.txt").text == expected


def test_line_endings_of_utf16_and_cp1252_files_are_normalised_too():
    assert load_bytes(codecs.BOM_UTF16_LE + "a\r\nb\rc".encode("utf-16-le")).text == "a\nb\nc"
    assert load_bytes("é\r\nè".encode("cp1252")).text == "é\nè"


def test_empty_input_is_refused():
    with pytest.raises(CharlabError) as err:
        load_bytes(b"", "nothing.txt")
    assert "'nothing.txt' is empty" in str(err.value)


@pytest.mark.parametrize(
    "data",
    [b"   \n\n\t  \r\n", "\u3000\u00a0 \n".encode(), codecs.BOM_UTF8 + b" \n "],
    ids=["ascii", "unicode-spaces", "bom-and-spaces"],
)
def test_whitespace_only_input_is_refused(data):
    with pytest.raises(CharlabError) as err:
        load_bytes(data, "blank.txt")
    message = str(err.value)
    assert "'blank.txt'" in message
    assert "only spaces and new lines" in message


def test_png_renamed_txt_is_refused_as_binary():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + b"\x00" * 200
    with pytest.raises(CharlabError) as err:
        load_bytes(png, "holiday.txt")
    message = str(err.value)
    assert "'holiday.txt'" in message and "binary" in message
    assert "plain text" in message


def test_random_bytes_are_refused():
    data = np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert b"\x00" in data
    with pytest.raises(CharlabError, match="'noise.txt' looks like a binary file"):
        load_bytes(data, "noise.txt")
    # without NUL bytes it still cannot pass as text
    with pytest.raises(CharlabError, match="'noise.txt'"):
        load_bytes(data.replace(b"\x00", b"\x01"), "noise.txt")


def test_mostly_unprintable_text_is_refused():
    controls = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\n\t\r")
    data = ("abc" + controls * 20).encode("utf-8")  # valid UTF-8, no NUL, but mostly control characters
    with pytest.raises(CharlabError) as err:
        load_bytes(data, "controls.txt")
    assert "'controls.txt' is mostly unprintable" in str(err.value)


def test_a_few_control_characters_are_tolerated():
    text = "A page.\x0cAnother page.\x0c" + "plain words " * 20
    assert load_bytes(text.encode(), "pages.txt").text == text


# ---------------------------------------------------------------- size and paths


def test_default_size_cap_is_10_mb():
    assert DEFAULT_MAX_BYTES == 10_000_000
    assert len(load_bytes(b"a" * DEFAULT_MAX_BYTES, "exact.txt").text) == DEFAULT_MAX_BYTES
    with pytest.raises(CharlabError) as err:
        load_bytes(b"a" * (DEFAULT_MAX_BYTES + 1), "big.txt")
    message = str(err.value)
    assert "'big.txt'" in message
    assert "the limit is 10 MB" in message


def test_configurable_size_cap_for_bytes_shows_a_readable_limit():
    assert load_bytes(b"x" * 1_500, "ok.txt", max_bytes=1_500).text == "x" * 1_500
    with pytest.raises(CharlabError) as err:
        load_bytes(b"x" * 1_501, "small.txt", max_bytes=1_500)
    message = str(err.value)
    assert "'small.txt'" in message
    assert "the limit is 1.5 KB" in message


def test_size_cap_for_paths_is_checked_before_reading(tmp_path):
    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate(DEFAULT_MAX_BYTES + 1)  # sparse: the size check must refuse it unread
    with pytest.raises(CharlabError) as err:
        load_path(big)
    assert "'huge.txt'" in str(err.value) and "the limit is 10 MB" in str(err.value)

    small = tmp_path / "small.txt"
    small.write_text("hello world, " * 100, encoding="utf-8")
    assert load_path(small, max_bytes=5_000).text == "hello world, " * 100
    with pytest.raises(CharlabError) as err:
        load_path(small, max_bytes=1_000)
    assert "'small.txt'" in str(err.value) and "the limit is 1 KB" in str(err.value)


def test_load_path_reads_a_file_and_names_it(tmp_path):
    file = tmp_path / "story.txt"
    file.write_bytes(codecs.BOM_UTF8 + b"Once upon a time\r\n")
    result = load_path(str(file))
    assert result.name == "story.txt"
    assert result.text == "Once upon a time\n"
    assert result.sha256 == corpus.text_hash("Once upon a time\n")


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(CharlabError) as err:
        load_path(tmp_path / "nope.txt")
    assert "There is no file at" in str(err.value) and "nope.txt" in str(err.value)


def test_folder_given_as_path_is_refused(tmp_path):
    with pytest.raises(CharlabError) as err:
        load_path(tmp_path)
    assert "is a folder" in str(err.value) and tmp_path.name in str(err.value)


# ---------------------------------------------------------------- cleaning


def test_cleaning_modes_are_the_documented_four():
    assert list(CLEANING_MODES) == ["keep", "lowercase", "letters_punct", "letters_only"]
    for label, explanation in CLEANING_MODES.values():
        assert label and explanation


def test_keep_changes_nothing():
    assert clean(MIXED, "keep") == MIXED


def test_lowercase_only_lowers():
    assert clean(MIXED, "lowercase") == MIXED.lower()
    assert clean("ÉLAN Über ẞ", "lowercase") == "élan über ß"


ASCII_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F)) + "\n\t"
EVERY_CHAR = "".join(chr(c) for c in range(0x20, 0x3000) if unicodedata.category(chr(c))[0] != "C") + "\n\t\r"
EVERY_LETTER = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)).startswith("L")]
GERMAN = "Die Mühlenstraße ist groß. „Anführungszeichen“ – sagt der Großvater … ÄÖÜ ẞ"
CHINESE = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


def test_letters_punct_keeps_english_to_49_symbols():
    cleaned = clean(ASCII_PRINTABLE, "letters_punct")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789 \n.,;:!?'\"-()")
    assert len(allowed) == 49
    assert set(cleaned) == allowed  # everything allowed survives, nothing else
    assert clean("Hello, World!\n(1-2) \"yes\"; no: 'maybe'?", "letters_punct") == (
        "hello, world!\n(1-2) \"yes\"; no: 'maybe'?"
    )
    assert clean("a[b]c{d}e#f", "letters_punct") == "a b c d e f"


def test_letters_only_keeps_english_to_27_symbols():
    cleaned = clean(ASCII_PRINTABLE, "letters_only")
    assert set(cleaned) == set("abcdefghijklmnopqrstuvwxyz ")
    assert "  " not in cleaned  # runs of spaces become one
    assert clean("Hello,  World!\nBye.", "letters_only") == "hello world bye "


@pytest.mark.parametrize(("mode", "allowed"), [("letters_punct", 49), ("letters_only", 27)])
def test_letter_modes_keep_only_their_symbols_besides_letters(mode, allowed):
    """Every character that is not a letter becomes one of the mode's symbols (or a space)."""
    not_letters = "".join(ch for ch in EVERY_CHAR if unicodedata.category(ch)[0] not in "LM")
    symbols = set(clean(not_letters, mode))
    assert len(symbols) <= allowed
    assert symbols <= set(clean(ASCII_PRINTABLE, mode))


@pytest.mark.parametrize("mode", list(CLEANING_MODES))
def test_no_mode_turns_a_letter_into_a_space(mode):
    """Letters of any script are letters: each of Unicode's ~140,000 stays (or becomes) a letter."""
    lost = [ch for ch in EVERY_LETTER if not any(unicodedata.category(c).startswith("L") for c in clean(ch, mode))]
    assert lost == []


@pytest.mark.parametrize("mode", ["letters_punct", "letters_only"])
def test_accents_are_stripped_not_lost(mode):
    cleaned = clean("Élodie mangé crème brûlée Noël ça naïve Ångström", mode)
    assert cleaned.split() == ["elodie", "mange", "creme", "brulee", "noel", "ca", "naive", "angstrom"]


def test_german_keeps_its_letters_and_quotes():
    assert clean("Mühlenstraße", "letters_punct") == "muhlenstrasse"
    assert clean("groß", "letters_punct") == "gross"
    assert clean("„Anführungszeichen“", "letters_punct") == '"anfuhrungszeichen"'
    assert clean("Er sagte ‚ja‘ – und ging …", "letters_punct") == "er sagte 'ja' - und ging ..."
    assert clean(GERMAN, "letters_punct") == (
        'die muhlenstrasse ist gross. "anfuhrungszeichen" - sagt der grossvater ... aou ss'
    )
    assert clean(GERMAN, "letters_only") == "die muhlenstrasse ist gross anfuhrungszeichen sagt der grossvater aou ss"
    assert clean(GERMAN, "lowercase") == "die mühlenstraße ist groß. „anführungszeichen“ – sagt der großvater … äöü ß"


def test_chinese_keeps_every_character():
    assert clean(CHINESE, "lowercase") == CHINESE  # no capitals: nothing to change
    assert clean(CHINESE, "letters_punct") == "床前明月光,疑是地上霜.举头望明月,低头思故乡."
    assert clean(CHINESE, "letters_only") == "床前明月光 疑是地上霜 举头望明月 低头思故乡 "
    assert clean("第１章：２０２４年（春）！", "letters_punct") == "第1章:2024年(春)!"  # full-width forms


def test_greek_and_cyrillic_are_lowercased_and_kept():
    assert clean("ΟΔΟΣ ΚΑΙ Ψυχή", "lowercase") == "οδος και ψυχή"  # a final sigma where the word ends
    assert clean("ΟΔΟΣ ΚΑΙ Ψυχή!", "letters_only") == "οδος και ψυχή "
    assert clean("Съешь же ещё этих мягких французских булок, да выпей чаю.", "letters_punct") == (
        "съешь же ещё этих мягких французских булок, да выпей чаю."
    )  # й and ё are letters of their own in Russian, not a letter with an accent


def test_mixed_scripts_each_keep_their_letters():
    text = "Tokyo 東京 (とうきょう) — Zürich, Αθήνα, Київ; हिंदी 123."
    assert clean(text, "letters_punct") == "tokyo 東京 (とうきょう) - zurich, αθήνα, київ; हिंदी 123."
    assert clean(text, "letters_only") == "tokyo 東京 とうきょう zurich αθήνα київ हिंदी "


def test_accents_written_apart_follow_their_letter():
    decomposed = unicodedata.normalize("NFD", "Crème brûlée")
    assert clean(decomposed, "letters_punct") == "creme brulee"
    assert changed_characters(decomposed, "letters_punct")["\u0300"] == ""  # dropped everywhere
    hindi = "हिंदी"  # its vowel signs are marks too, and stay with their letters
    assert clean(hindi, "letters_only") == hindi
    assert changed_characters(hindi, "letters_only") == {}
    assert clean("İstanbul", "letters_only") == "istanbul"  # İ lowercases to i + a dot above


def test_unknown_mode_is_refused_with_the_choices():
    with pytest.raises(CharlabError) as err:
        clean("text", "shouting")
    message = str(err.value)
    assert "'shouting'" in message
    for mode in CLEANING_MODES:
        assert mode in message
    with pytest.raises(CharlabError, match="'shouting'"):
        changed_characters("text", "shouting")


def test_changed_characters_lists_exactly_what_a_mode_changes():
    text = "Aé b!\n[Z]"
    assert changed_characters(text, "keep") == {}
    assert changed_characters(text, "lowercase") == {"A": "a", "Z": "z"}
    assert changed_characters(text, "letters_punct") == {"A": "a", "Z": "z", "é": "e", "[": " ", "]": " "}
    assert changed_characters(text, "letters_only") == {
        "A": "a",
        "Z": "z",
        "é": "e",
        "!": " ",
        "\n": " ",
        "[": " ",
        "]": " ",
    }
    assert list(changed_characters(text, "letters_only")) == sorted(changed_characters(text, "letters_only"))


@pytest.mark.parametrize("mode", list(CLEANING_MODES))
def test_changed_characters_agrees_with_clean(mode):
    changes = changed_characters(MIXED, mode)
    for ch in set(MIXED):
        assert clean(ch, mode) == changes.get(ch, ch)


# ---------------------------------------------------------------- figures and advice


def test_stats_counts_characters_lines_words_and_unique():
    text = "the cat\nthe hat\n\nbat"
    info = stats(text)
    assert info.characters == len(text) == 20
    assert info.lines == 4
    assert info.words == 5
    assert info.unique_characters == len(set(text))
    assert info.counts == dict(Counter(text))
    values = list(info.counts.values())
    assert values == sorted(values, reverse=True)  # most common first
    assert next(iter(info.counts)) == "t"


@pytest.mark.parametrize(("text", "lines"), [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("\n\n", 2)])
def test_stats_line_count(text, lines):
    assert stats(text).lines == lines


def test_stats_of_empty_text():
    info = stats("")
    assert (info.characters, info.lines, info.words, info.unique_characters, info.counts) == (0, 0, 0, 0, {})


def test_check_length_needs_four_windows_and_one_character():
    check_length("x" * 401, 100)
    with pytest.raises(CharlabError) as err:
        check_length("x" * 400, 100)
    message = str(err.value)
    assert "400 characters" in message and "sequence length of 100" in message and "401" in message
    check_length("x" * 21, 10, min_windows=2)
    with pytest.raises(CharlabError):
        check_length("x" * 20, 10, min_windows=2)


def _long_varied_text(n: int) -> str:
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "home"]
    out = " ".join(rng.choice(words, n // 3))
    return out[:n]


def test_no_warnings_for_a_good_text():
    assert warnings(_long_varied_text(60_000), seq_length=100, parameters=50_000) == []


def test_warns_about_short_text():
    found = warnings(_long_varied_text(5_000), seq_length=100)
    assert len(found) == 1
    assert "short" in found[0] and "5,000 characters" in found[0]


def test_warns_about_a_model_too_big_for_the_text():
    text = _long_varied_text(60_000)
    assert warnings(text, parameters=120_000) == []  # exactly twice the text: still fine
    found = warnings(text, parameters=120_001)
    assert len(found) == 1
    assert "120,001 parameters" in found[0] and "60,000 characters" in found[0]


@pytest.mark.parametrize(
    "alphabet",
    [
        [chr(c) for c in range(0x4E00, 0x4E00 + 400)],  # CJK
        [chr(c) for c in range(0x1F300, 0x1F300 + 300)],  # emoji and pictographs
    ],
    ids=["cjk", "emoji"],
)
def test_warns_about_a_huge_vocabulary(alphabet):
    rng = np.random.default_rng(1)
    text = "".join(rng.choice(alphabet, 30_000))
    found = warnings(text, seq_length=100)
    assert len(found) == 1
    assert f"{len(set(text)):,} different characters" in found[0]
    assert len(set(text)) > 150


def test_no_vocabulary_warning_at_150_characters():
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 150)]
    text = "".join(alphabet) * 200
    assert warnings(text) == []


DATA_DIR = Path(__file__).parent / "data"
MODE_LABELS = [label for label, _ in CLEANING_MODES.values()]


def test_a_chinese_vocabulary_is_explained_not_cleaned():
    text = (DATA_DIR / "tang_poems_zh.txt").read_text(encoding="utf-8") * 10
    assert len(set(text)) > 600  # the premise: a Chinese text of many different characters
    for mode in CLEANING_MODES:
        found = [w for w in warnings(clean(text, mode)) if "different characters" in w]
        assert len(found) == 1
        advice = found[0]
        assert "Chinese characters" in advice and "normal for this script" in advice
        assert not any(f"'{label}'" in advice for label in MODE_LABELS)  # no cleaning is advised
        assert "appear fewer than 5 times" in advice and "output is bigger" in advice


def test_a_big_latin_vocabulary_is_offered_the_cleaning_that_shrinks_it():
    accented = "".join(ch for ch in map(chr, range(0xC0, 0x250)) if unicodedata.category(ch).startswith("L"))
    text = (accented + " the end. ") * 200
    n = len(set(text))
    assert n > 150
    advice = next(w for w in warnings(text) if "different characters" in w)
    after = len(set(clean(text, "lowercase")))
    assert f"try the 'Lowercase' cleaning ({n:,} → {after:,})" in advice
    # once lowercased, Lowercase would change nothing: it is not offered again
    advice = next(w for w in warnings(clean(text, "lowercase")) if "different characters" in w)
    assert "'Lowercase'" not in advice and "'Letters and punctuation'" in advice


def test_no_cleaning_is_advised_when_it_would_blank_the_text():
    text = "".join(chr(c) for c in range(0x1F300, 0x1F300 + 300)) * 50  # emoji are symbols, not letters
    advice = next(w for w in warnings(text) if "different characters" in w)
    assert "no cleaning makes it smaller without removing most of the text" in advice
    assert not any(f"'{label}'" in advice for label in MODE_LABELS)


def test_a_cleaning_that_blanks_much_of_the_text_is_said_in_numbers():
    sums = "12+34=46\n7+8=15\n" * 100  # 1,400 visible characters, no letter
    warned = corpus.cleaning_warnings(stats(sums), "letters_only")
    assert len(warned) == 1
    assert "'Letters only' cleaning turns 1,400 of the text's 1,400 visible characters (100%) into spaces" in warned[0]
    assert "only 0 are left" in warned[0]
    assert len(corpus.cleaning_warnings(stats(sums), "letters_punct")) == 1  # + and = are 29 %
    assert corpus.cleaning_warnings(stats(sums), "lowercase") == []
    prose = _long_varied_text(10_000).replace(" on ", ", on ")  # a little punctuation goes: no warning
    assert corpus.cleaning_warnings(stats(prose), "letters_only") == []
    german = (DATA_DIR / "german_de.txt").read_text(encoding="utf-8")
    chinese = (DATA_DIR / "tang_poems_zh.txt").read_text(encoding="utf-8")
    for text in (german, chinese):
        for mode in CLEANING_MODES:
            assert corpus.cleaning_warnings(stats(text), mode) == []  # their letters stay


def test_stats_count_letters_of_every_script():
    assert stats("Straße 12, 東京!").letters == 8
    assert stats(clean("Straße", "letters_only")).letters == 7  # ß -> ss


def test_warns_about_one_dominant_character():
    text = " " * 30_001 + _long_varied_text(29_999)
    found = warnings(text)
    assert len(found) == 1
    assert "More than half" in found[0] and "␣" in found[0]


def test_warns_when_training_cannot_start():
    found = warnings("abcdefghij" * 30, seq_length=100)
    assert any("cannot start" in w and "100 characters" in w for w in found)
    assert not any("cannot start" in w for w in warnings("abcdefghij" * 41, seq_length=100))


@pytest.mark.parametrize(
    ("ch", "shown"),
    [
        (" ", "␣"),
        ("\n", "⏎"),
        ("\t", "⇥"),
        ("\r", "␍"),
        ("a", "a"),
        ("é", "é"),
        ("\x07", "U+0007"),
        ("\u00a0", "U+00A0"),
    ],
)
def test_visible(ch, shown):
    assert visible(ch) == shown


@pytest.mark.parametrize(
    ("n_bytes", "words"), [(999, "999 bytes"), (1_500, "1.5 KB"), (10_000_000, "10 MB"), (722_400_000, "722 MB"),
                           (1_300_000_000, "1.3 GB")],
)  # fmt: skip
def test_sizes_are_said_in_the_unit_that_reads_best(n_bytes, words):
    assert corpus.human_size(n_bytes) == words
