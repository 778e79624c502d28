"""Text quoted from input: one printable line, bounded, every hidden character made visible."""

from __future__ import annotations

import unicodedata

import pytest

from tuning_workflow.safe_text import DEFAULT_LIMIT, escape_unsafe, safe_text

UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cn", "Co", "Cs"}


def visible(text: str) -> bool:
    return not any(unicodedata.category(character) in UNSAFE for character in text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("line\nRun SUCCEEDED", "line\\nRun SUCCEEDED"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("bell\x07 escape\x1b[2J del\x7f", "bell\\x07 escape\\x1b[2J del\\x7f"),
        ("next line\x85", "next line\\x85"),
        ("line sep\u2028para sep\u2029", "line sep\\u2028para sep\\u2029"),
        ("bidi \u202eevil\u202c zero\u200bwidth \ufeffbom", "bidi \\u202eevil\\u202c zero\\u200bwidth \\ufeffbom"),
        ("tag \U000e0041 private \ue000", "tag \\U000e0041 private \\ue000"),
        ("lone surrogate \ud800", "lone surrogate \\ud800"),
    ],
)  # fmt: skip
def test_hidden_characters_become_visible_escapes(raw: str, shown: str) -> None:
    # GIVEN text with a control, format or separator character WHEN it is made safe
    # THEN each such character is written as a visible escape, and nothing else changes
    assert safe_text(raw) == shown
    assert escape_unsafe(raw) == shown


def test_printable_text_is_unchanged_accents_spaces_and_backslashes_included() -> None:
    text = "s3://bucket/été/ü data\\n 'quoted' — ok ✓"
    assert safe_text(text) == text
    assert escape_unsafe(text) == text


def test_values_that_are_not_text_are_shown_as_text() -> None:
    assert safe_text(42) == "42"
    assert safe_text(ValueError("bad\nvalue")) == "bad\\nvalue"


def test_long_text_is_cut_to_the_limit_and_says_how_much_was_cut() -> None:
    # GIVEN 5,000 characters WHEN shown with the default limit
    shown = safe_text("x" * 5_000)

    # THEN the result is exactly the limit long and counts the characters left out
    assert len(shown) == DEFAULT_LIMIT
    kept = shown.index("...")
    assert shown.endswith(f"... ({5_000 - kept} more characters)")


def test_the_cut_never_splits_an_escape() -> None:
    # GIVEN only newlines, each shown as two characters
    shown = safe_text("\n" * 100, limit=40)

    # THEN the kept part is whole escapes, and the count is of the newlines left out
    kept, note = shown.split("...", 1)
    assert len(shown) <= 40
    assert kept == "\\n" * (len(kept) // 2)
    assert note == f" ({100 - len(kept) // 2} more characters)"


@pytest.mark.parametrize("limit", [0, 1, 3, 10, 25, 26, 100])
def test_the_limit_holds_even_when_the_note_does_not_fit(limit: int) -> None:
    shown = safe_text("\u2028" * 1_000, limit=limit)
    assert len(shown) <= limit
    assert visible(shown)


def test_text_at_the_limit_is_not_cut() -> None:
    assert safe_text("y" * 30, limit=30) == "y" * 30
    assert safe_text("\n" * 15, limit=30) == "\\n" * 15


def test_only_the_start_of_a_huge_value_is_looked_at() -> None:
    shown = safe_text("\n" * 5_000_000, limit=50)
    assert len(shown) <= 50
    assert shown.endswith("more characters)")
