"""Subprocessor list entries as values: validation, the canonical hash, and the diff between two
lists. Pure: no database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from dpa_service.errors import Unprocessable
from dpa_service.rendering.context import country_name
from dpa_service.subprocessors.schemas import EntryIn

FIELDS = ("name", "purpose", "location", "transfer_safeguard")
FIELD_LABELS = {
    "name": "name",
    "purpose": "purpose",
    "location": "location",
    "transfer_safeguard": "transfer safeguard",
}
EU = "EU"
# The European Economic Area: the EU member states, Iceland, Liechtenstein and Norway.
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)


def canonical_json(entries: Sequence[Mapping[str, Any]]) -> str:
    """The exact text that is hashed (the same form the built-in list was hashed in)."""
    return json.dumps(list(entries), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(entries: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(entries).encode("utf-8")).hexdigest()


def is_location_code(value: str) -> bool:
    if value == EU:
        return True
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        return False
    try:
        country_name(value)
    except ValueError:
        return False
    return True


def location_name(location: str) -> str:
    """How a location reads for people: "EU" and country codes spelled out; other (older,
    free-text) locations as they were approved."""
    if location == EU:
        return "European Union"
    if is_location_code(location):
        return country_name(location)
    return location


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _same(entry: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return all(entry[f] == other.get(f) for f in FIELDS)


def parse(raw: Any) -> list[EntryIn]:
    """Entries from untrusted JSON-like data (a web form), with the API's limits."""
    try:
        return msgspec.convert(raw, list[EntryIn])
    except msgspec.ValidationError as exc:
        raise Unprocessable(f"the entries are not valid: {exc}") from None


def validate(
    entries: Sequence[EntryIn], approved: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The stored form of `entries`, or Unprocessable naming every problem.

    A location is a country code (ISO 3166-1 alpha-2) or "EU". An entry carried over unchanged
    from the approved list `approved` is kept as it was approved, older free-text location
    included, so a change never rewrites what it does not touch.
    """
    problems: list[str] = []
    seen: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    if not entries:
        problems.append("the list needs at least one subprocessor")
    for number, item in enumerate(entries, start=1):
        entry = {f: " ".join(str(getattr(item, f)).split()) for f in FIELDS}
        label = f"entry {number} ({entry['name'][:60] or 'no name'})"
        for f in FIELDS:
            if not entry[f]:
                problems.append(f"{label}: the {FIELD_LABELS[f]} is empty")
        key = _key(entry["name"])
        if key in seen:
            problems.append(f"{label}: the name is the same as entry {seen[key]}'s")
        seen.setdefault(key, number)
        carried = next((a for a in approved if _same(entry, a)), None)
        if carried is not None:
            out.append(dict(carried))
            continue
        code = entry["location"].upper()
        if not is_location_code(code):
            problems.append(
                f"{label}: the location {entry['location'][:60]!r} must be a two-letter "
                "country code (for example DE or US) or EU"
            )
        entry["location"] = code
        out.append({**entry, "in_eea": code == EU or code in EEA})
    if problems:
        raise Unprocessable("; ".join(problems))
    return out


def diff(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What changed from `before` to `after`, entries matched by name: added, removed, and the
    fields changed in entries present in both (a renamed entry is one removed and one added)."""
    old = {_key(e["name"]): e for e in before}
    new = {_key(e["name"]): e for e in after}
    changed = []
    for key, entry in new.items():
        if key in old:
            fields = [
                {"field": f, "before": str(old[key][f]), "after": str(entry[f])}
                for f in FIELDS
                if old[key][f] != entry[f]
            ]
            if fields:
                changed.append({"name": entry["name"], "fields": fields})
    return {
        "added": [dict(e) for k, e in new.items() if k not in old],
        "removed": [dict(e) for k, e in old.items() if k not in new],
        "changed": changed,
    }


def is_empty(change: Mapping[str, Any]) -> bool:
    return not (change["added"] or change["removed"] or change["changed"])


def describe(change: Mapping[str, Any]) -> list[str]:
    """One line per change, for e-mails, the feed and the history."""
    lines = []
    for e in change["added"]:
        lines.append(
            f"Added: {e['name']} — {e['purpose']}; location: {location_name(e['location'])}; "
            f"transfer safeguard: {e['transfer_safeguard']}"
        )
    for e in change["removed"]:
        lines.append(f"Removed: {e['name']} — {e['purpose']}")
    for c in change["changed"]:
        parts = []
        for f in c["fields"]:
            before, after = f["before"], f["after"]
            if f["field"] == "location":
                before, after = location_name(before), location_name(after)
            parts.append(f"{FIELD_LABELS[f['field']]} “{before}” → “{after}”")
        lines.append(f"Changed: {c['name']} — " + "; ".join(parts))
    return lines
