"""Governed facts the DPA prints: the processor's profile and the table of supervisory authorities.

Both are data that legal edits and approves, never text in code. Values in, values out: the
loaders read the file they are given and check its shape; nothing here knows about a database.

A profile value is a node ``{"value": …, "confirmed": bool}``. ``value`` is a string, a
number, ``null`` (not known yet) or, for wording, ``{"en": …, "lv": …}``. A figure adds
``"unit"`` (``hours``, ``days`` or ``months``). ``confirmed`` is false for a value legal has
not yet confirmed: it is printed as "[to be confirmed: …]", and `unconfirmed_fields` lists it so
that the service can refuse to send such a DPA.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dpa_service.rendering.countries import is_country_code

LANGUAGES = ("en", "lv")
UNITS = ("hours", "days", "months")
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "templates"

# Where the profile keeps each kind of fact; every key listed must be present.
IDENTITY_FIELDS = ("legal_name", "trade_name", "registration_number", "email")
ADDRESS_FIELDS = ("street", "city", "postal_code", "country")
PRIVACY_FIELDS = ("name", "email")
SIGNATORY_FIELDS = ("name", "title")
SECURITY_FIGURES = (
    "backup_interval",
    "backup_retention",
    "rpo",
    "rto",
    "patch_critical",
    "patch_high",
    "restore_tests",
    "penetration_tests",
    "measures_review",
    "access_review",
    "log_retention",
)
SECURITY_VALUES = ("tls_min_version", "encryption_at_rest")
# The headings of Annex II, in order (the regulators' list, as in Annex II of the SCCs).
MEASURE_HEADINGS = (
    "encryption",
    "pseudonymisation",
    "resilience",
    "restore",
    "testing",
    "identification",
    "transmission",
    "storage",
    "physical",
    "logging",
    "configuration",
    "governance",
    "certification",
    "incidents",
    "minimisation",
    "portability",
    "staff",
    "subprocessors",
)


class ProfileError(ValueError):
    """The processor profile or the authority table does not have the expected shape."""


def _check_text(value: Any, where: str) -> None:
    if isinstance(value, dict):
        missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str)]
        if missing or set(value) - set(LANGUAGES):
            raise ProfileError(f"{where}: wording needs exactly the languages {LANGUAGES}")
        if not all(value[lang].strip() for lang in LANGUAGES):
            raise ProfileError(f"{where}: wording may not be empty")
    elif value is not None and not isinstance(value, str | int) or isinstance(value, bool):
        raise ProfileError(f"{where}: a value is text, a number, wording or null")


def _check_node(node: Any, where: str, *, figure: bool = False) -> None:
    if not isinstance(node, dict) or "value" not in node or "confirmed" not in node:
        raise ProfileError(f"{where}: expected {{'value': …, 'confirmed': true|false}}")
    if not isinstance(node["confirmed"], bool):
        raise ProfileError(f"{where}: 'confirmed' must be true or false")
    _check_text(node["value"], where)
    if node["value"] is None and node["confirmed"]:
        raise ProfileError(f"{where}: an unknown value (null) cannot be confirmed")
    if figure:
        if node.get("unit") not in UNITS:
            raise ProfileError(f"{where}: a figure needs a unit, one of {UNITS}")
        value = node["value"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ProfileError(f"{where}: a figure is a whole number of at least 1")


def _section(profile: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = profile.get(key)
    if not isinstance(section, dict):
        raise ProfileError(f"{key}: missing")
    return section


def validate_processor_profile(profile: Mapping[str, Any]) -> None:
    """Raise ProfileError naming the first problem with the profile's shape."""
    version = profile.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProfileError("version: a whole number of at least 1")
    for section, fields in (
        ("identity", IDENTITY_FIELDS),
        ("address", ADDRESS_FIELDS),
        ("privacy_contact", PRIVACY_FIELDS),
        ("signatory", SIGNATORY_FIELDS),
    ):
        values = _section(profile, section)
        for name in fields:
            _check_node(values.get(name), f"{section}.{name}")
    country = profile["address"]["country"]["value"]
    if country is not None and not (isinstance(country, str) and is_country_code(country)):
        raise ProfileError(
            f"address.country: {country!r} is not an ISO 3166-1 alpha-2 country code (LV, DE, …)"
        )
    security = _section(profile, "security")
    for name in SECURITY_FIGURES:
        _check_node(security.get(name), f"security.{name}", figure=True)
    for name in SECURITY_VALUES:
        _check_node(security.get(name), f"security.{name}")
    measures = _section(profile, "measures")
    unknown = set(measures) - set(MEASURE_HEADINGS)
    if unknown:
        raise ProfileError(f"measures: unknown headings {sorted(unknown)}")
    for heading in MEASURE_HEADINGS:
        items = measures.get(heading)
        if not isinstance(items, list) or not items:
            raise ProfileError(f"measures.{heading}: at least one measure")
        for i, item in enumerate(items):
            where = f"measures.{heading}[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("title"), dict):
                raise ProfileError(f"{where}: needs a title in every language")
            _check_text(item["title"], f"{where}.title")
            _check_node(item, where)
            if not isinstance(item["value"], dict):
                raise ProfileError(f"{where}: the measure is wording in every language")


def _nodes(profile: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for section in ("identity", "address", "privacy_contact", "signatory", "security"):
        for name, node in profile[section].items():
            if isinstance(node, dict) and "confirmed" in node:
                yield f"{section}.{name}", node
    for heading in MEASURE_HEADINGS:
        for i, item in enumerate(profile["measures"][heading]):
            yield f"measures.{heading}[{i}]", item


def unconfirmed_fields(profile: Mapping[str, Any]) -> list[str]:
    """The profile values legal has not confirmed yet, as paths such as
    ``identity.registration_number`` or ``measures.encryption[0]``. A DPA made from a profile
    with any of them is a draft that must not be sent for signature."""
    validate_processor_profile(profile)
    return [path for path, node in _nodes(profile) if not node["confirmed"]]


def load_processor_profile(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    validate_processor_profile(data)
    return data


def validate_authorities(table: Mapping[str, Any]) -> None:
    entries = table.get("authorities")
    if not isinstance(entries, dict) or not entries:
        raise ProfileError("authorities: a table of country code → authority")
    for code, entry in entries.items():
        if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
            raise ProfileError(f"authorities.{code}: the key is a country code")
        if not isinstance(entry, dict) or not isinstance(entry.get("official_name"), str):
            raise ProfileError(f"authorities.{code}: needs the authority's official name")
        _check_text(entry.get("name"), f"authorities.{code}.name")
        if not isinstance(entry.get("name"), dict):
            raise ProfileError(f"authorities.{code}.name: wording in every language")


def load_authorities(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    validate_authorities(data)
    return data


@functools.cache
def _builtin(name: str) -> str:
    return (BUILTIN_DIR / name).read_text(encoding="utf-8")


def builtin_processor_profile() -> dict[str, Any]:
    """The profile shipped in templates/processor_profile.json (a fresh copy)."""
    data: dict[str, Any] = json.loads(_builtin("processor_profile.json"))
    validate_processor_profile(data)
    return data


def builtin_authorities() -> dict[str, Any]:
    """The table shipped in templates/authorities.json (a fresh copy)."""
    data: dict[str, Any] = json.loads(_builtin("authorities.json"))
    validate_authorities(data)
    return data
