"""The check every filled DPA passes before it is converted: nothing of it is lost or hidden.

Values are printed as escaped text (see document.py), so a company name cannot turn into markup.
This check does not rely on that: whatever went wrong while filling, a document that fails it is
never converted, stored or sent.

- Every XML part is well-formed (a `</w:t></w:r>` that reached the XML would make LibreOffice
  drop everything after it without a word).
- No text is hidden: no `w:vanish` or `w:specVanish` in a run, paragraph, style or default.
- Every marker of its templates is there exactly once. The templates carry markers as
  bookmarks, which print nothing: `dpa_clause_<n>` at each numbered clause heading,
  `dpa_annex_<I…>` at each annex heading, and `dpa_signature_controller` /
  `dpa_signature_processor` at the two signature blocks (scripts/build_templates.py). A clause
  a template condition or loop dropped or repeated is caught here, not by the reader.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterable

from lxml import etree

MARKER_PREFIX = "dpa_"
CLAUSE_PREFIX = "dpa_clause_"
SIGNATURE_MARKERS = ("dpa_signature_controller", "dpa_signature_processor")

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HIDING = (_W + "vanish", _W + "specVanish")
_OFF = {"0", "false", "off"}


class IncompleteDocument(ValueError):
    """A filled document lost, repeated or hid part of the agreement."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return {
            name: zf.read(name)
            for name in zf.namelist()
            if name.endswith(".xml") or name.endswith(".rels")
        }


def _bookmarks(document: etree._Element) -> list[str]:
    return [
        str(b.get(_W + "name"))
        for b in document.iter(_W + "bookmarkStart")
        if str(b.get(_W + "name", "")).startswith(MARKER_PREFIX)
    ]


@functools.lru_cache(maxsize=16)
def template_markers(docx: bytes) -> frozenset[str]:
    """The markers a (merged) template carries; empty for a template made before markers."""
    document = etree.fromstring(_parts(docx)["word/document.xml"], _parser())
    return frozenset(_bookmarks(document))


def check_document(docx: bytes, required: Iterable[str]) -> None:
    """Raise IncompleteDocument unless `docx` is well-formed, hides nothing and holds each of
    the `required` markers exactly once."""
    roots: dict[str, etree._Element] = {}
    for name, data in _parts(docx).items():
        try:
            roots[name] = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise IncompleteDocument(
                f"the filled document is broken: {name} is not well-formed XML ({exc})"
            ) from None
    for name, root in roots.items():
        if not name.startswith("word/"):
            continue
        for tag in _HIDING:
            for element in root.iter(tag):
                if str(element.get(_W + "val", "true")).lower() not in _OFF:
                    raise IncompleteDocument(
                        f"the filled document hides text ({etree.QName(tag).localname} in {name})"
                    )
    document = roots.get("word/document.xml")
    if document is None:
        raise IncompleteDocument("the filled document has no word/document.xml")
    found = _bookmarks(document)
    problems = []
    for marker in sorted(required):
        count = found.count(marker)
        if count != 1:
            what = "is missing" if count == 0 else f"appears {count} times"
            problems.append(f"{describe(marker)} ({marker}) {what}")
    if problems:
        raise IncompleteDocument("the filled document is incomplete: " + "; ".join(problems))


def describe(marker: str) -> str:
    if marker.startswith(CLAUSE_PREFIX):
        return f"clause {marker.removeprefix(CLAUSE_PREFIX)}"
    if marker.startswith("dpa_annex_"):
        return f"annex {marker.removeprefix('dpa_annex_')}"
    if marker in SIGNATURE_MARKERS:
        return f"the {marker.removeprefix('dpa_signature_')}'s signature block"
    return marker


def required_markers(template: bytes, signature_blocks: bool) -> frozenset[str]:
    """What a DPA filled from `template` must hold: all its markers, but the signature blocks
    only where this language version prints them (a bilingual DPA signs once)."""
    markers = template_markers(template)
    return markers if signature_blocks else markers - set(SIGNATURE_MARKERS)
