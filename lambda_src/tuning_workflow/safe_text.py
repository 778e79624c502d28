"""Text from untrusted input, made safe to put into a Fail cause, a log line or an alert.

Anything a user wrote (a manifest key, an S3 URI, an exception message that quotes them) may
carry line breaks or terminal escapes. Written into a plain-text SNS message unchanged, a
crafted key could add a line of its own ("Run SUCCEEDED - no action needed"). `safe_text`
shows every such character as a visible escape and bounds the length, so one field can never
look like more than one field.
"""

from __future__ import annotations

import unicodedata

# Step Functions keeps at most 32,768 characters of a Fail state's cause; SNS messages may be
# 256 KiB. Alerts stay far below both so a person can read them.
DEFAULT_LIMIT = 1_000
_ELLIPSIS = "..."
# Unicode categories that render as nothing or move the cursor: controls, format characters
# (zero-width, bidi overrides), line and paragraph separators, unassigned and private use.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Co", "Cs"})
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(character: str) -> str:
    if character in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[character]
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(character: str) -> str:
    if unicodedata.category(character) in _UNSAFE_CATEGORIES:
        return _escape(character)
    return character


def escape_unsafe(value: object) -> str:
    """`value` as text with every control, format and separator character escaped; not cut."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text
    return "".join(_visible(character) for character in text)


def safe_text(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` as one line of printable text, at most `limit` characters long.

    Control, format and separator characters become visible escapes (a newline becomes the
    two characters backslash and n); text past the limit is cut, never inside an escape, and
    says how many characters of `value` were cut. Only the first `limit` characters of a long
    value are looked at.
    """
    text = value if isinstance(value, str) else str(value)
    limit = max(limit, 0)
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text
    pieces: list[str] = []
    length = 0
    for index, character in enumerate(text):
        piece = _visible(character)
        if length + len(piece) > limit:
            return _cut(pieces, len(text) - index, limit)
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def _cut(pieces: list[str], cut: int, limit: int) -> str:
    """The pieces that fit in `limit` with the note saying how much was cut."""
    while True:
        note = f"{_ELLIPSIS} ({cut} more characters)"
        if len(note) > limit:
            return _ELLIPSIS[:limit]
        room = limit - len(note)
        kept: list[str] = []
        length = 0
        for piece in pieces:
            if length + len(piece) > room:
                break
            kept.append(piece)
            length += len(piece)
        dropped = len(pieces) - len(kept)
        if dropped == 0:
            return "".join(kept) + note
        # Characters kept back to make room for the note are cut too; say so exactly.
        pieces, cut = kept, cut + dropped
