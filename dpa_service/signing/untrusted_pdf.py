"""Reading a PDF that anyone may upload: structural limits first, and the parsers' complaints
about it kept to one log line per check.

pypdf and pyHanko log a warning for every damaged object they skip; a crafted file of a few
hundred kilobytes makes thousands of lines, and the verification page is open to everyone.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_OBJECTS = 20_000  # a completed DPA has a few hundred
MAX_NESTING = 64  # dictionaries and arrays within each other
PARSER_LOGGERS = ("pypdf", "pyhanko", "pyhanko_certvalidator")

_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_local = threading.local()
log = logging.getLogger(__name__)


class UntrustedPdfError(ValueError):
    """The file is beyond what a genuine agreement could be."""


def check_structure(pdf: bytes) -> None:
    """Refuse files with more objects or deeper nesting than any agreement of ours has, before
    a parser walks them. Stream contents are skipped (they are data, not structure)."""
    skeleton = _STREAM.sub(b"stream endstream", pdf)
    if len(_OBJECT.findall(skeleton)) > MAX_OBJECTS:
        raise UntrustedPdfError(f"the file has more than {MAX_OBJECTS} objects")
    depth = 0
    i, end = 0, len(skeleton)
    while i < end:
        c = skeleton[i]
        if c == 0x28:  # "(" a literal string: skip it, with its nesting and escapes
            level, i = 1, i + 1
            while i < end and level:
                ch = skeleton[i]
                if ch == 0x5C:  # backslash
                    i += 1
                elif ch == 0x28:
                    level += 1
                elif ch == 0x29:
                    level -= 1
                i += 1
            continue
        if c == 0x25:  # "%" a comment, to the end of the line
            while i < end and skeleton[i] not in (0x0A, 0x0D):
                i += 1
            continue
        if skeleton.startswith(b"<<", i) or c == 0x5B:  # "<<" or "["
            depth += 1
            if depth > MAX_NESTING:
                raise UntrustedPdfError(f"the file nests more than {MAX_NESTING} levels deep")
            i += 2 if c == 0x3C else 1
            continue
        if skeleton.startswith(b">>", i) or c == 0x5D:
            depth = max(depth - 1, 0)
            i += 2 if c == 0x3E else 1
            continue
        i += 1


@dataclass
class _Complaints:
    count: int = 0
    first: list[str] = field(default_factory=list)


class _OnePerCheck(logging.Filter):
    """Inside `parser_warnings_contained()`, the parsers' records are counted, not emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        complaints: _Complaints | None = getattr(_local, "complaints", None)
        if (
            complaints is None
            or record.levelno >= logging.ERROR
            or not record.name.startswith(PARSER_LOGGERS)
        ):
            return True
        complaints.count += 1
        if len(complaints.first) < 3:
            complaints.first.append(record.getMessage()[:200])
        return False


_FILTER = _OnePerCheck()


def _install() -> None:
    """A logger's filters see only its own records, and pypdf makes its loggers as it goes
    (pypdf._reader …): so the filter sits on the handlers the records reach — the root's and
    any the parser loggers have."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in PARSER_LOGGERS)]
    for handler in (h for logger in loggers for h in logger.handlers):
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


@contextlib.contextmanager
def parser_warnings_contained(what: str) -> Iterator[None]:
    """At most one log line (a count and the first few) for the parsers' warnings about `what`
    in this thread; other threads' logging is untouched."""
    _install()
    complaints = _Complaints()
    _local.complaints = complaints
    try:
        yield
    finally:
        _local.complaints = None
        if complaints.count:
            log.warning(
                "%s: the PDF parsers complained %d times (first: %s)",
                what,
                complaints.count,
                " | ".join(complaints.first),
            )
