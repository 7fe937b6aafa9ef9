"""Free text from people: what may be stored, so that what is printed is what was stored."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

_LINE_BREAKS = frozenset("\n\r\t")
# The patterns below are read by JSON Schema as ECMA-262 and by Python tools with `re`, so they
# use nothing the two read differently: `(?![\s\S])` ends the text (Python's `$` also matches
# before a final line break), and "not a space" is the explicit complement of what str.isspace
# (and so str.strip, which the handlers use) calls a space (ECMA's \s also has U+FEFF).
END = r"(?![\s\S])"
_NOT_SPACE = r"[^\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
# What `has_control_characters` refuses, as a pattern for the OpenAPI schema.
NO_CONTROLS = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*" + END
# The same for text that may hold line breaks and tabs (notes, comments, reasons), and for such
# text that must say something (not only spaces).
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*" + END
SAID = (
    rf"^(?=[\s\S]*{_NOT_SPACE})"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*" + END
)


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """C0 and C1 controls and DEL, and the bidi embeddings, overrides and isolates (U+202A-U+202E,
    U+2066-U+2069), which make text show in another order than it was typed (a reason or a note
    read on a staff page could say the opposite of what was stored); `multiline` text (comments,
    reasons) may hold line breaks."""
    return any(
        (ord(c) < 32 and not (multiline and c in _LINE_BREAKS))
        or 0x7F <= ord(c) < 0xA0
        or 0x202A <= ord(c) <= 0x202E
        or 0x2066 <= ord(c) <= 0x2069
        for c in text
    )


# What may be stored in the text fields of a counterparty's details, so that what is printed is
# exactly what was stored. Refused: controls (Cc), format characters (Cf: bidi embeddings and
# overrides U+202A-U+202E, isolates U+2066-U+2069, zero-width characters, the soft hyphen),
# line and paragraph separators (Zl, Zp), private use (Co), unassigned code points (Cn),
# surrogates (Cs), variation selectors, and emoji (their fonts are not in the PDF; LibreOffice
# would drop them). Everything else — letters, marks, digits, punctuation, symbols, spaces —
# in any script prints as typed.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),  # emoji, pictographs, transport, supplemental symbols …
    (0x2600, 0x27BF),  # miscellaneous symbols and dingbats
    (0x2B00, 0x2BFF),  # arrows and shapes drawn as emoji
    (0xFE00, 0xFE0F),  # variation selectors (emoji or text presentation)
    (0xE0100, 0xE01EF),  # variation selectors supplement
)


def refused_character(text: str) -> str | None:
    """The first character of `text` that may not be stored, or None."""
    for char in text:
        point = ord(char)
        if unicodedata.category(char) in REFUSED_CATEGORIES or any(
            low <= point <= high for low, high in _EMOJI_RANGES
        ):
            return char
    return None


_KINDS = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Cs": "a surrogate",
}


def describe_character(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE; U+0085 (a control character)"""
    name = unicodedata.name(char, "") or f"({_KINDS.get(unicodedata.category(char), 'unnamed')})"
    return f"U+{ord(char):04X} {name}"


def check_printable(value: Any, field: str = "") -> None:
    """Walk strings in dicts and lists; raise ValueError naming the field and the character."""
    if isinstance(value, str):
        char = refused_character(value)
        if char is not None:
            raise ValueError(
                f"{field or 'the text'}: the character {describe_character(char)} cannot be "
                "used (invisible, reordering and emoji characters would print differently from "
                "what is stored)"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_printable(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            check_printable(item, field)


def _allowed_ranges() -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for point in range(0x110000):
        if refused_character(chr(point)) is not None:
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return ranges


def _class_char(point: int) -> str:
    # ASCII and the rest of the Basic Multilingual Plane as \uXXXX escapes (ECMA-262 and Python
    # read them alike); astral characters as themselves, since an ECMA pattern without the `u`
    # flag has no escape for them.
    return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)


@functools.cache
def printable_class() -> str:
    """A regular-expression character class of exactly the characters `refused_character`
    lets through, for the OpenAPI schema (so that what the schema allows is what is stored)."""
    parts = [
        _class_char(low) if low == high else f"{_class_char(low)}-{_class_char(high)}"
        for low, high in _allowed_ranges()
    ]
    return "[" + "".join(parts) + "]"
