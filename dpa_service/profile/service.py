"""The processor profile: drafts, four-eyes review and approval, and the values legal has not
confirmed yet (which a DPA prints as such and which block sending it).

The profile's shape and the meaning of "confirmed" are `rendering.facts`'s; this module keeps
its versions. Like a subprocessor list, a version goes draft → in review → approved (by a legal
user other than its author) | rejected, and the approved version it replaces retires. The
built-in `templates/processor_profile.json` is version 1 (migration 0013).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clock import utcnow
from dpa_service.errors import NotFound, Unprocessable
from dpa_service.governance import review
from dpa_service.governance.drafts import Versions
from dpa_service.profile.models import ProcessorProfileVersion
from dpa_service.rendering.countries import country_name, is_country_code
from dpa_service.rendering.facts import (
    LANGUAGES,
    ProfileError,
    validate_processor_profile,
)
from dpa_service.text import describe_character, refused_character

log = logging.getLogger(__name__)

AUTHORS = ("legal",)
REVIEWERS = ("legal",)
MAX_TEXT = 2000  # characters in one value
MAX_PROFILE_BYTES = 200_000
MAX_NOTE = 2000


# -- values -------------------------------------------------------------------------------------


def canonical_json(profile: Mapping[str, Any]) -> str:
    return json.dumps(profile, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(profile: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(profile).encode("utf-8")).hexdigest()


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def checked_profile(profile: Any) -> dict[str, Any]:
    """A copy of `profile` fit to store, or Unprocessable naming the problem: the shape
    `rendering.facts` expects, and text that prints as stored (no control characters, no
    value longer than MAX_TEXT)."""
    if not isinstance(profile, dict):
        raise Unprocessable("the profile is a JSON object (see templates/processor_profile.json)")
    data = copy.deepcopy(profile)
    data["version"] = data.get("version") or 1  # set to the version's number when stored
    if len(canonical_json(data).encode()) > MAX_PROFILE_BYTES:
        raise Unprocessable(f"the profile is larger than {MAX_PROFILE_BYTES // 1000} KB")
    for where, text in _strings(data, ""):
        if len(text) > MAX_TEXT:
            raise Unprocessable(f"{where}: at most {MAX_TEXT} characters")
        if (char := refused_character(text)) is not None:  # printed in every DPA, as stored
            raise Unprocessable(f"{where}: {describe_character(char)} cannot be used")
    try:
        validate_processor_profile(data)
    except ProfileError as exc:
        raise Unprocessable(f"the profile is not valid: {exc}") from None
    return data


def nodes(profile: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Every value of the profile with its path (``identity.registration_number``,
    ``measures.encryption[0]``), in the order the DPA prints them."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    for section in ("identity", "address", "privacy_contact", "signatory", "security"):
        for name, node in profile[section].items():
            if isinstance(node, dict) and "confirmed" in node:
                out.append((f"{section}.{name}", node))
    for heading, items in profile["measures"].items():
        for i, item in enumerate(items):
            out.append((f"measures.{heading}[{i}]", item))
    return out


COUNTRY_PATH = "address.country"


def value_text(node: Mapping[str, Any], path: str = "") -> str:
    """A value as one line for people: wording in every language, a figure with its unit, a
    country by its name (with the code the profile stores)."""
    value = node.get("value")
    if value is None:
        return "(unknown)"
    if isinstance(value, dict):
        return " / ".join(f"{lang}: {value.get(lang, '')}" for lang in LANGUAGES)
    if path == COUNTRY_PATH and isinstance(value, str) and is_country_code(value):
        return f"{country_name(value)} ({value})"
    unit = node.get("unit")
    return f"{value} {unit}" if unit else str(value)


def _described(node: Mapping[str, Any] | None, path: str) -> str:
    if node is None:
        return "(none)"
    mark = "" if node.get("confirmed") else " [not confirmed]"
    title = node.get("title")
    prefix = f"{title.get('en')}: " if isinstance(title, dict) else ""
    return f"{prefix}{value_text(node, path)}{mark}"


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str]]:
    """What changed from `before` to `after`, value by value (a confirmation is a change)."""
    old, new = dict(nodes(before)), dict(nodes(after))
    changes = []
    for path in [*old, *(p for p in new if p not in old)]:
        a, b = old.get(path), new.get(path)
        if a != b:
            changes.append(
                {"path": path, "before": _described(a, path), "after": _described(b, path)}
            )
    return changes


def refusal(fields: list[str], version: int) -> str:
    """Why a DPA cannot be sent while it prints values legal has not confirmed."""
    return (
        f"the DPA prints processor profile values that legal has not confirmed (profile "
        f"version {version}): {', '.join(fields)}. Legal must confirm them in a new profile "
        "version (/staff/processor-profile) and the DPA must be made again before it is sent"
    )


# -- reading ------------------------------------------------------------------------------------


VERSIONS = Versions(ProcessorProfileVersion, "processor profile", "profile", REVIEWERS)


def current_approved(*, session: Session) -> ProcessorProfileVersion:
    return VERSIONS.current(session)


def get_version(*, session: Session, number: int) -> ProcessorProfileVersion:
    return VERSIONS.get(session, number)


def get_by_id(*, session: Session, version_id: str) -> ProcessorProfileVersion:
    row = session.get(ProcessorProfileVersion, version_id)
    if row is None:
        raise NotFound(f"processor profile version {version_id!r} not found")
    return row


def list_versions(*, session: Session) -> list[ProcessorProfileVersion]:
    return VERSIONS.all(session)


def diff_against_current(
    *, session: Session, version: ProcessorProfileVersion
) -> list[dict[str, str]] | None:
    """What approving `version` would change (None for versions approved already)."""
    if version.state not in ("draft", "in_review", "rejected"):
        return None
    return diff(current_approved(session=session).profile, version.profile)


# -- drafts and review --------------------------------------------------------------------------


def _note(text: str) -> str:
    return review.clean_comment(text, "change note", limit=MAX_NOTE)


def create_draft(
    *,
    session: Session,
    author: Principal,
    profile: Mapping[str, Any] | None = None,
    change_note: str = "",
) -> ProcessorProfileVersion:
    """A new draft: a copy of the approved profile, or `profile` instead."""
    review.require_role(author, AUTHORS, "propose a processor profile")
    current = current_approved(session=session)
    data = checked_profile(copy.deepcopy(current.profile) if profile is None else profile)
    number = VERSIONS.next_number(session)
    data["version"] = number
    row = ProcessorProfileVersion(
        version=number,
        state="draft",
        profile=data,
        sha256=sha256_of(data),
        change_note=_note(change_note),
        author=author.name[:200],
        author_subject=author.subject[:100],
        based_on=current.version,
    )
    VERSIONS.add(session, row)
    log.info("processor profile draft %d started by %s", number, author.actor)
    return row


def update_draft(
    *,
    session: Session,
    number: int,
    actor: Principal,
    profile: Mapping[str, Any],
    change_note: str,
) -> ProcessorProfileVersion:
    review.require_role(actor, AUTHORS, "change a processor profile")
    version = VERSIONS.own_draft(session, number, actor)
    data = checked_profile(profile)
    data["version"] = version.version
    return VERSIONS.save(
        session,
        version,
        actor,
        {"profile": data, "sha256": sha256_of(data), "change_note": _note(change_note)},
    )


def submit(*, session: Session, number: int, actor: Principal) -> ProcessorProfileVersion:
    """Draft → in review. Refused when it changes nothing or the approved profile moved on."""
    review.require_role(actor, AUTHORS, "submit a processor profile")
    version = VERSIONS.own_draft(session, number, actor)
    current = VERSIONS.require_based_on_current(session, version)
    if not diff(current.profile, version.profile):
        raise Unprocessable(
            "this draft changes nothing: change or confirm a value before submitting it"
        )
    return VERSIONS.submit(session, version)


@dataclass(frozen=True)
class Approval:
    version: ProcessorProfileVersion
    previous: ProcessorProfileVersion


def approve(*, session: Session, number: int, reviewer: Principal, comment: str = "") -> Approval:
    """In review → approved, by a legal user other than the author; the profile it replaces
    retires. New DPAs are made from this one; existing versions keep the one they recorded."""
    text = review.clean_comment(comment) or None
    version = VERSIONS.in_review(session, number, reviewer, "approve")
    previous = VERSIONS.approve(session, version, reviewer, now=utcnow(), comment=text)
    log.info("processor profile version %d approved by %s", number, reviewer.actor)
    return Approval(version, previous)


def reject(
    *, session: Session, number: int, reviewer: Principal, comment: str
) -> ProcessorProfileVersion:
    text = review.clean_comment(comment, required="a rejection needs a comment saying why")
    version = VERSIONS.in_review(session, number, reviewer, "reject")
    return VERSIONS.reject(session, version, reviewer, text)
