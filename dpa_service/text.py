"""Free text from people: what may be stored, so that what is printed is what was stored."""

from __future__ import annotations

_LINE_BREAKS = frozenset("\n\r\t")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """C0 and C1 controls and DEL; `multiline` text (comments, reasons) may hold line breaks."""
    return any(
        (ord(c) < 32 and not (multiline and c in _LINE_BREAKS)) or 0x7F <= ord(c) < 0xA0
        for c in text
    )
