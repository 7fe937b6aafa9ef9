"""A reviewer's diff of two DOCX templates: paragraphs in document order, changed words marked.

Table rows read as one line, cells separated by " | ". Jinja tags stay visible as written.
Unchanged stretches are collapsed to a count, keeping a few paragraphs of context around changes.
"""

from __future__ import annotations

import difflib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dpa_service.clauses.package import parse_xml

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_WORD = re.compile(r"\w+")
# Pairing paragraphs inside a changed block costs len(old) × len(new) comparisons.
_MAX_PAIRING = 2500
_SIMILAR = 0.5


@dataclass(frozen=True)
class Segment:
    op: str  # equal | insert | delete
    text: str


@dataclass(frozen=True)
class DiffOp:
    """One line of the diff.

    equal/insert/delete/replace carry the paragraph text (`old`, `new`) and its 1-based number in
    each document; replace also carries word `segments`; collapsed stands for `count` unchanged
    paragraphs that are not shown.
    """

    op: str  # equal | insert | delete | replace | collapsed
    old: str | None = None
    new: str | None = None
    old_number: int | None = None
    new_number: int | None = None
    segments: tuple[Segment, ...] = ()
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "old": self.old,
            "new": self.new,
            "old_number": self.old_number,
            "new_number": self.new_number,
            "segments": [{"op": s.op, "text": s.text} for s in self.segments],
            "count": self.count,
        }


def _text(p: Any) -> str:
    out: list[str] = []
    for el in p.iter():
        if el.tag == _W + "t":
            out.append(el.text or "")
        elif el.tag in (_W + "tab", _W + "br", _W + "cr"):
            out.append(" ")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _owned_by(element: Any, tag: str, owner: Any) -> bool:
    """Whether `owner` is the nearest `tag` ancestor of `element`."""
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent is owner


def _walk(element: Any, out: list[str]) -> None:
    for child in element:
        if child.tag == _W + "p":
            text = _text(child)
            if text:
                out.append(text)
        elif child.tag == _W + "tbl":
            for row in child.iter(_W + "tr"):
                if not _owned_by(row, _W + "tbl", child):
                    continue  # a nested table's row: part of its cell's text
                cells = [
                    " ".join(t for p in cell.iter(_W + "p") if (t := _text(p)))
                    for cell in row.iter(_W + "tc")
                    if _owned_by(cell, _W + "tr", row)
                ]
                if any(cells):
                    out.append(" | ".join(cells))
        elif child.tag != _W + "sectPr":
            _walk(child, out)  # content controls, custom XML, tracked insertions


def document_paragraphs(docx: bytes) -> list[str]:
    """The non-empty paragraphs of a DOCX's body in document order (tables row by row)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        root = parse_xml("word/document.xml", zf.read("word/document.xml"))
    body = root.find(_W + "body")
    out: list[str] = []
    if body is not None:
        _walk(body, out)
    return out


def word_segments(old: str, new: str) -> tuple[Segment, ...]:
    """The words of `new` against `old`: equal, deleted and inserted runs, in reading order."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    raw: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            raw.append(Segment("equal", "".join(a[i1:i2])))
        if tag in ("delete", "replace"):
            raw.append(Segment("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            raw.append(Segment("insert", "".join(b[j1:j2])))
    merged: list[Segment] = []
    for seg in raw:
        if merged and merged[-1].op == seg.op:
            merged[-1] = Segment(seg.op, merged[-1].text + seg.text)
        else:
            merged.append(seg)
    return tuple(merged)


def _similarity(a: str, b: str) -> float:
    """Shared words (not spaces or punctuation) as a share of both paragraphs' words."""
    matcher = difflib.SequenceMatcher(None, _WORD.findall(a), _WORD.findall(b), autojunk=False)
    return matcher.ratio() if matcher.real_quick_ratio() >= _SIMILAR else 0.0


def _changed_block(old: Sequence[str], new: Sequence[str], i0: int, j0: int) -> list[DiffOp]:
    """Pair similar paragraphs of a changed block as replacements, in order; the rest are
    deletions and insertions."""
    ops: list[DiffOp] = []
    j = 0
    pairing = len(old) * len(new) <= _MAX_PAIRING
    for i, text in enumerate(old):
        best, best_score = None, _SIMILAR
        if pairing:
            for k in range(j, len(new)):
                score = _similarity(text, new[k])
                if score >= best_score:
                    best, best_score = k, score
        if best is None:
            ops.append(DiffOp("delete", old=text, old_number=i0 + i + 1))
            continue
        for k in range(j, best):
            ops.append(DiffOp("insert", new=new[k], new_number=j0 + k + 1))
        ops.append(
            DiffOp(
                "replace",
                old=text,
                new=new[best],
                old_number=i0 + i + 1,
                new_number=j0 + best + 1,
                segments=word_segments(text, new[best]),
            )
        )
        j = best + 1
    for k in range(j, len(new)):
        ops.append(DiffOp("insert", new=new[k], new_number=j0 + k + 1))
    return ops


def _collapse(ops: list[DiffOp], context: int) -> list[DiffOp]:
    out: list[DiffOp] = []
    i = 0
    while i < len(ops):
        if ops[i].op != "equal":
            out.append(ops[i])
            i += 1
            continue
        j = i
        while j < len(ops) and ops[j].op == "equal":
            j += 1
        run = ops[i:j]
        keep_before = context if i > 0 else 0  # context after the previous change
        keep_after = context if j < len(ops) else 0  # context before the next change
        if len(run) > keep_before + keep_after + 1:
            out.extend(run[:keep_before])
            out.append(DiffOp("collapsed", count=len(run) - keep_before - keep_after))
            out.extend(run[len(run) - keep_after :])
        else:
            out.extend(run)
        i = j
    return out


def diff_paragraphs(old: Sequence[str], new: Sequence[str], *, context: int = 2) -> list[DiffOp]:
    ops: list[DiffOp] = []
    matcher = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.extend(
                DiffOp("equal", old=old[i], new=new[j], old_number=i + 1, new_number=j + 1)
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        else:
            ops.extend(_changed_block(old[i1:i2], new[j1:j2], i1, j1))
    return _collapse(ops, context)


def diff_documents(old: bytes | None, new: bytes, *, context: int = 2) -> list[DiffOp]:
    """The paragraph diff of `new` against `old` (None: everything is new)."""
    before = document_paragraphs(old) if old is not None else []
    return diff_paragraphs(before, document_paragraphs(new), context=context)


def summary(ops: Sequence[DiffOp]) -> dict[str, int]:
    """How many paragraphs were inserted, deleted, changed and left alone."""
    counts = {"insert": 0, "delete": 0, "replace": 0, "equal": 0}
    for op in ops:
        if op.op == "collapsed":
            counts["equal"] += op.count
        else:
            counts[op.op] += 1
    return counts
