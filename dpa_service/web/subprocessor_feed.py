"""The Atom feed (RFC 4287) of subprocessor list changes, built with ElementTree so every value
is escaped by the serializer. Pure: history in, bytes out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from dpa_service.subprocessors.entries import describe, location_name
from dpa_service.subprocessors.service import HistoryItem

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry at all (escaping does not help); entries are validated to
# be free of them, this keeps the feed well-formed whatever an older row holds.
_ILLEGAL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def _clean(text: str) -> str:
    return text.translate(_ILLEGAL)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def entry_summary(item: HistoryItem) -> list[str]:
    if item.diff is None:
        return [
            f"First published list: {len(item.entries)} subprocessors.",
            *(
                f"{e['name']} — {e['purpose']}; location: {location_name(e['location'])}; "
                f"transfer safeguard: {e['transfer_safeguard']}"
                for e in item.entries
            ),
        ]
    lines = describe(item.diff) or ["The order of the list changed."]
    if item.objection_deadline is not None:
        lines.append(f"Objections until {item.objection_deadline:%-d %B %Y, %H:%M} UTC.")
    return lines


def atom_feed(items: Sequence[HistoryItem], *, base_url: str) -> bytes:
    """`items` newest first; `base_url` the service's public address."""
    ET.register_namespace("", ATOM)
    page = f"{base_url.rstrip('/')}/subprocessors"
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", f"{page}/feed.atom")
    _sub(feed, "title", "Klusaro subprocessors: changes to the list")
    _sub(feed, "subtitle", "Every approved version of the subprocessor list and what it changed.")
    updated = items[0].approved_at if items else datetime(2025, 1, 1, tzinfo=UTC)
    _sub(feed, "updated", _stamp(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{page}/feed.atom")
    _sub(feed, "link", rel="alternate", type="text/html", href=page)
    author = _sub(feed, "author")
    _sub(author, "name", "Klusaro (SIA “A.U. Holding”)")
    for item in items:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"{page}#version-{item.version}")
        _sub(entry, "title", f"Subprocessor list version {item.version}")
        _sub(entry, "updated", _stamp(item.approved_at))
        _sub(entry, "published", _stamp(item.approved_at))
        _sub(
            entry, "link", rel="alternate", type="text/html", href=f"{page}#version-{item.version}"
        )
        _sub(entry, "content", "\n".join(entry_summary(item)), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
