"""Subprocessor list entries as values: validation, the canonical hash, and the diff between two
lists. Pure: no database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from dpa_service.errors import Unprocessable
from dpa_service.i18n import N_, gettext_for
from dpa_service.rendering.context import (
    DATA_CATEGORIES,
    GENERAL,
    MECHANISMS,
    category_label,
    country_name,
    place_name,
)
from dpa_service.subprocessors.schemas import EntryIn

# The text every entry has (the API requires them; lists before issue 13 had only these) …
TEXT_FIELDS = ("name", "purpose", "location", "transfer_safeguard")
# … and the structured fields an entry may have (see docs/templates.md, "Subprocessor entries").
DETAIL_FIELDS = (
    "contracting_entity",
    "processing_locations",
    "transfers",
    "supplementary_measures",
    "categories",
    "sms",
    "translations",
)
FIELDS = TEXT_FIELDS + DETAIL_FIELDS
FIELD_LABELS = {
    "name": N_("name"),
    "purpose": N_("purpose"),
    "location": N_("location"),
    "transfer_safeguard": N_("transfer safeguard"),
    "contracting_entity": N_("contracting entity"),
    "processing_locations": N_("processing locations"),
    "transfers": N_("transfers"),
    "supplementary_measures": N_("supplementary measures"),
    "categories": N_("features served"),
    "sms": N_("sends text messages"),
    "translations": N_("Latvian purpose"),
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


def location_name(location: str, language: str = "en") -> str:
    """How a location reads for people: "EU" and country codes spelled out; other (older,
    free-text) locations as they were approved."""
    if location == EU or is_location_code(location):
        return place_name(location, language)
    return location


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _same(entry: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return all(entry.get(f) == other.get(f) for f in FIELDS)


def _clean(value: Any) -> Any:
    """Structured values with their text's runs of white space made single spaces."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _detail_problems(details: Mapping[str, Any], label: str) -> list[str]:
    problems = []
    entity = details.get("contracting_entity")
    if entity and not _is_country(entity["country"]):
        problems.append(
            f"{label}: the contracting entity's country {entity['country']!r} is unknown"
        )
    places = details.get("processing_locations") or []
    for place in places:
        if place not in (EU, "GLOBAL") and not _is_country(place):
            problems.append(f"{label}: the processing location {place!r} is unknown")
    if len(set(places)) != len(places):
        problems.append(f"{label}: a processing location is listed twice")
    for number, transfer in enumerate(details.get("transfers") or [], start=1):
        where = f"{label}, transfer {number}"
        country = transfer["country"]
        if not _is_country(country):
            problems.append(f"{where}: the country {country!r} is unknown")
        elif country in EEA:
            problems.append(f"{where}: {country} is in the EEA, so this is no transfer")
        mechanisms = transfer["mechanisms"]
        if len(set(mechanisms)) != len(mechanisms):
            problems.append(f"{where}: a mechanism is listed twice")
        if "dpf" in mechanisms and country != "US":
            problems.append(f"{where}: the EU–US Data Privacy Framework applies to the US only")
    categories = details.get("categories") or []
    if len(set(categories)) != len(categories):
        problems.append(f"{label}: a feature is listed twice")
    if GENERAL in categories and len(categories) > 1:
        problems.append(f"{label}: an entry serves every workspace (general) or some features")
    if details.get("supplementary_measures") and not details.get("transfers"):
        problems.append(f"{label}: supplementary measures belong to a transfer; add the transfer")
    return problems


def _is_country(code: str) -> bool:
    try:
        country_name(code)
    except ValueError:
        return False
    return True


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
        entry: dict[str, Any] = {f: " ".join(str(getattr(item, f)).split()) for f in TEXT_FIELDS}
        details = {
            f: _clean(msgspec.to_builtins(getattr(item, f)))
            for f in DETAIL_FIELDS
            if getattr(item, f) is not msgspec.UNSET
        }
        label = f"entry {number} ({entry['name'][:60] or 'no name'})"
        for f in TEXT_FIELDS:
            if not entry[f]:
                problems.append(f"{label}: the {FIELD_LABELS[f]} is empty")
        key = _key(entry["name"])
        if key in seen:
            problems.append(f"{label}: the name is the same as entry {seen[key]}'s")
        seen.setdefault(key, number)
        carried = next((a for a in approved if _same({**entry, **details}, a)), None)
        if carried is not None:
            out.append(dict(carried))
            continue
        problems += _detail_problems(details, label)
        if "processing_locations" in details:
            # Structured: `location` is the summary people read; the DPA prints the places
            # and the transfers, and the data leaves the EEA only where a transfer says so.
            in_eea = not details.get("transfers")
        else:
            code = entry["location"].upper()
            if not is_location_code(code):
                problems.append(
                    f"{label}: the location {entry['location'][:60]!r} must be a two-letter "
                    "country code (for example DE or US) or EU"
                )
            entry["location"] = code
            in_eea = code == EU or code in EEA
        out.append({**entry, "in_eea": in_eea, **details})
    if problems:
        raise Unprocessable("; ".join(problems))
    return out


def field_text(field: str, value: Any, language: str = "en") -> str:
    """A field's value as one line for people, in `language` where it has words."""
    _ = gettext_for(language)
    if value is None:
        return "—"
    if field == "location":
        return location_name(str(value), language)
    if field == "contracting_entity":
        return f"{value['name']} ({country_name(value['country'], language)})"
    if field == "processing_locations":
        return ", ".join(place_name(p, language) for p in value)
    if field == "transfers":
        parts = []
        for t in value:
            order = " → ".join(MECHANISMS[m][language][1] for m in t["mechanisms"])
            onward = _(", onward by the subprocessor") if t["by"] == "subprocessor" else ""
            parts.append(
                f"{t['importer']} ({country_name(t['country'], language)}){onward}: {order}"
            )
        return "; ".join(parts) or _("none")
    if field == "supplementary_measures":
        return "; ".join(m[language] for m in value) or _("none")
    if field == "categories":
        return ", ".join(
            _("every workspace") if c == GENERAL else category_label(c, language)
            for c in value
            if c == GENERAL or c in DATA_CATEGORIES
        )
    if field == "sms":
        return _("yes") if value else _("no")
    if field == "translations":
        return str((value.get("lv") or {}).get("purpose", ""))
    return str(value)


def purpose_in(entry: Mapping[str, Any], language: str) -> str:
    """The entry's purpose in `language` (its Latvian wording, where it has one)."""
    translated = (entry.get("translations") or {}).get(language) or {}
    return str(translated.get("purpose") or entry["purpose"])


def diff(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What changed from `before` to `after`, entries matched by name: added, removed, and the
    fields changed in entries present in both (a renamed entry is one removed and one added).
    A field's `before` and `after` are its values as stored (text, or structured values)."""
    old = {_key(e["name"]): e for e in before}
    new = {_key(e["name"]): e for e in after}
    changed = []
    for key, entry in new.items():
        if key in old:
            fields = [
                {"field": f, "before": old[key].get(f), "after": entry.get(f)}
                for f in FIELDS
                if old[key].get(f) != entry.get(f)
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


def describe(change: Mapping[str, Any], language: str = "en") -> list[str]:
    """One line per change, for e-mails, the feed and the history, in `language`."""
    _ = gettext_for(language)
    lines = []
    for e in change["added"]:
        lines.append(
            _(
                "Added: {name} — {purpose}; location: {location}; transfer safeguard: {safeguard}"
            ).format(
                name=e["name"],
                purpose=purpose_in(e, language),
                location=location_name(e["location"], language),
                safeguard=e["transfer_safeguard"],
            )
        )
    for e in change["removed"]:
        lines.append(
            _("Removed: {name} — {purpose}").format(name=e["name"], purpose=purpose_in(e, language))
        )
    for c in change["changed"]:
        parts = []
        for f in c["fields"]:
            field = f["field"]
            parts.append(
                f"{_(FIELD_LABELS.get(field, field))} “{field_text(field, f['before'], language)}”"
                f" → “{field_text(field, f['after'], language)}”"
            )
        lines.append(
            _("Changed: {name} — {fields}").format(name=c["name"], fields="; ".join(parts))
        )
    return lines
