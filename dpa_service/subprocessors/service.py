"""The subprocessor list: drafts, four-eyes review, approval with notices to every counterparty
holding a completed DPA, objections, and the public history."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal, require_person
from dpa_service.clock import utcnow
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import changed_rows
from dpa_service.errors import (
    Conflict,
    Gone,
    NotFound,
    Unprocessable,
)
from dpa_service.governance import review
from dpa_service.governance.drafts import Versions
from dpa_service.subprocessors import entries as entry_values
from dpa_service.subprocessors.models import (
    SubprocessorChange,
    SubprocessorListVersion,
    SubprocessorNotice,
    SubprocessorObjection,
)
from dpa_service.subprocessors.schemas import EntryIn
from dpa_service.text import has_control_characters

log = logging.getLogger(__name__)

REVIEWERS = ("legal",)
REASON_MAX = 2000
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): 256 bits


# -- reading ------------------------------------------------------------------------------------


VERSIONS = Versions(SubprocessorListVersion, "subprocessor list", "list", reviewers=REVIEWERS)


def current_approved(*, session: Session) -> SubprocessorListVersion:
    return VERSIONS.current(session)


def get_version(*, session: Session, number: int) -> SubprocessorListVersion:
    return VERSIONS.get(session, number)


def list_versions(*, session: Session) -> list[SubprocessorListVersion]:
    return VERSIONS.all(session)


def diff_against_current(
    *, session: Session, version: SubprocessorListVersion
) -> dict[str, Any] | None:
    """What approving `version` would change (None for versions that were already approved)."""
    if version.state not in ("draft", "in_review", "rejected"):
        return None
    return entry_values.diff(current_approved(session=session).entries, version.entries)


# -- drafts and review --------------------------------------------------------------------------


def create_draft(
    *,
    session: Session,
    author: Principal,
    entries: Sequence[EntryIn] | None,
    change_note: str = "",
) -> SubprocessorListVersion:
    """A new draft, started from the current approved list (or given `entries` instead)."""
    require_person(author, "propose a subprocessor list")
    current = current_approved(session=session)
    stored = (
        [dict(e) for e in current.entries]
        if entries is None
        else entry_values.validate(entries, current.entries)
    )
    number = VERSIONS.next_number(session)
    row = SubprocessorListVersion(
        version=number,
        state="draft",
        entries=stored,
        sha256=entry_values.sha256_of(stored),
        change_note=review.clean_comment(change_note, "change note", limit=REASON_MAX),
        author=author.name,
        author_subject=author.subject,
        based_on=current.version,
    )
    VERSIONS.add(session, row)
    log.info("subprocessor list draft %d started by %s", number, author.actor)
    return row


def update_draft(
    *,
    session: Session,
    number: int,
    actor: Principal,
    entries: Sequence[EntryIn],
    change_note: str,
) -> SubprocessorListVersion:
    version = VERSIONS.own_draft(session, number, actor)
    base = get_version(session=session, number=version.based_on) if version.based_on else None
    stored = entry_values.validate(entries, base.entries if base else [])
    return VERSIONS.save(
        session,
        version,
        actor,
        {
            "entries": stored,
            "sha256": entry_values.sha256_of(stored),
            "change_note": review.clean_comment(change_note, "change note", limit=REASON_MAX),
        },
    )


def submit(*, session: Session, number: int, actor: Principal) -> SubprocessorListVersion:
    """Draft → in review. Refused when it changes nothing or the approved list moved on."""
    require_person(actor, "submit a subprocessor list")
    version = VERSIONS.own_draft(session, number, actor)
    current = VERSIONS.require_based_on_current(session, version)
    if entry_values.is_empty(entry_values.diff(current.entries, version.entries)):
        raise Unprocessable(
            "this draft changes nothing: add, remove or edit a subprocessor before submitting it"
        )
    return VERSIONS.submit(session, version)


def reject(
    *, session: Session, number: int, reviewer: Principal, comment: str
) -> SubprocessorListVersion:
    text = review.clean_comment(
        comment, limit=REASON_MAX, required="a rejection needs a comment saying why"
    )
    version = VERSIONS.in_review(session, number, reviewer, "reject")
    VERSIONS.reject(session, version, reviewer, text)
    log.info("subprocessor list version %d rejected by %s", number, reviewer.actor)
    return version


@dataclass(frozen=True)
class Approval:
    version: SubprocessorListVersion
    previous: SubprocessorListVersion
    change: SubprocessorChange


def approve(
    *,
    session: Session,
    number: int,
    reviewer: Principal,
    notice_days: int,
    now: datetime | None = None,
) -> Approval:
    """In review → approved, by a legal user other than the author; the list it replaces retires,
    and the change is recorded with its objection deadline (`notice_days` from now). Telling the
    counterparties is the workflow's part (`subprocessors.changes`)."""
    version = VERSIONS.in_review(session, number, reviewer, "approve")
    now = now or utcnow()
    previous = VERSIONS.approve(
        session,
        version,
        reviewer,
        now=now,
        comment=None,
        values={"sha256": entry_values.sha256_of(version.entries)},
    )
    change = SubprocessorChange(
        version_id=version.id,
        version=version.version,
        previous_version=previous.version,
        diff=entry_values.diff(previous.entries, version.entries),
        approved_at=now,
        objection_deadline=now + timedelta(days=notice_days),
        notices=0,
    )
    session.add(change)
    session.flush()
    return Approval(version, previous, change)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- objections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeAccess:
    notice: SubprocessorNotice
    change: SubprocessorChange
    counterparty: Counterparty
    objection: SubprocessorObjection | None


def open_notice(*, session: Session, token: str) -> NoticeAccess:
    """The notice an objection link belongs to (NotFound for an unknown or malformed token)."""
    notice = (
        session.scalar(
            select(SubprocessorNotice).where(SubprocessorNotice.token_hash == hash_token(token))
        )
        if TOKEN_SHAPE.match(token)
        else None
    )
    if notice is None:
        raise NotFound("this objection link is not valid")
    change = session.get(SubprocessorChange, notice.change_id)
    counterparty = session.get(Counterparty, notice.counterparty_id)
    assert change is not None and counterparty is not None
    objection = session.scalar(
        select(SubprocessorObjection).where(SubprocessorObjection.notice_id == notice.id)
    )
    return NoticeAccess(notice, change, counterparty, objection)


def closed(access: NoticeAccess, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= access.notice.expires_at


def record_objection(
    *,
    session: Session,
    token: str,
    reason: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> SubprocessorObjection:
    """Record the counterparty's objection: once per link, and only until the deadline."""
    now = now or utcnow()
    access = open_notice(session=session, token=token)
    if access.objection is not None:
        raise Conflict(
            f"an objection to this change was already recorded on "
            f"{access.objection.created_at:%-d %B %Y at %H:%M} UTC"
        )
    if closed(access, now):
        raise Gone(
            f"the objection window closed on {access.notice.expires_at:%-d %B %Y at %H:%M} UTC"
        )
    reason = reason.strip()
    if not reason:
        raise Unprocessable("please give the reason for your objection")
    if len(reason) > REASON_MAX:
        raise Unprocessable(f"the reason is longer than {REASON_MAX} characters")
    if has_control_characters(reason, multiline=True):
        raise Unprocessable("the reason contains control characters or text-direction marks")
    taken = changed_rows(
        session,
        update(SubprocessorNotice)
        .where(
            SubprocessorNotice.id == access.notice.id,
            SubprocessorNotice.objected_at.is_(None),
            SubprocessorNotice.expires_at > now,
        )
        .values(objected_at=now),
    )
    if taken != 1:
        raise Conflict("an objection to this change was already recorded")
    objection = SubprocessorObjection(
        notice_id=access.notice.id,
        change_id=access.change.id,
        counterparty_id=access.counterparty.id,
        reason=reason,
        ip=(ip or None) and ip[:64],
        user_agent=(user_agent or None) and user_agent[:400],
        created_at=now,
    )
    session.add(objection)
    session.flush()
    log.info(
        "objection to subprocessor list version %d from counterparty %s",
        access.change.version,
        access.counterparty.id,
    )
    return objection


# -- changes, objections and history for legal and the public ---------------------------------


def list_changes(*, session: Session) -> list[tuple[SubprocessorChange, int]]:
    """Every announced change, newest first, with how many objections it received."""
    counts = dict(
        session.execute(
            select(SubprocessorObjection.change_id, func.count()).group_by(
                SubprocessorObjection.change_id
            )
        ).all()
    )
    changes = session.scalars(
        select(SubprocessorChange).order_by(SubprocessorChange.version.desc())
    )
    return [(c, int(counts.get(c.id, 0))) for c in changes]


def get_change(*, session: Session, change_id: str) -> SubprocessorChange:
    change = session.get(SubprocessorChange, change_id)
    if change is None:
        raise NotFound(f"subprocessor change {change_id!r} not found")
    return change


def objections(
    *, session: Session, change_id: str | None = None
) -> list[tuple[SubprocessorObjection, SubprocessorChange, Counterparty]]:
    query = (
        select(SubprocessorObjection, SubprocessorChange, Counterparty)
        .join(SubprocessorChange, SubprocessorChange.id == SubprocessorObjection.change_id)
        .join(Counterparty, Counterparty.id == SubprocessorObjection.counterparty_id)
        .order_by(SubprocessorObjection.created_at.desc())
    )
    if change_id is not None:
        get_change(session=session, change_id=change_id)
        query = query.where(SubprocessorObjection.change_id == change_id)
    return [(o, ch, cp) for o, ch, cp in session.execute(query).all()]


@dataclass(frozen=True)
class HistoryItem:
    version: int
    approved_at: datetime
    entries: list[dict[str, Any]]
    diff: dict[str, Any] | None  # None: the first published list
    objection_deadline: datetime | None


def history(*, session: Session) -> list[HistoryItem]:
    """Every list that was approved (the current one and those it replaced), newest first,
    each with what it changed."""
    versions = list(
        session.scalars(
            select(SubprocessorListVersion)
            .where(SubprocessorListVersion.state.in_(("approved", "retired")))
            .order_by(SubprocessorListVersion.version)
        )
    )
    changes = {c.version_id: c for c in session.scalars(select(SubprocessorChange))}
    items: list[HistoryItem] = []
    previous: SubprocessorListVersion | None = None
    for v in versions:
        change = changes.get(v.id)
        if change is not None:
            change_diff: dict[str, Any] | None = change.diff
        elif previous is not None:
            change_diff = entry_values.diff(previous.entries, v.entries)
        else:
            change_diff = None
        items.append(
            HistoryItem(
                version=v.version,
                approved_at=v.approved_at or v.created_at,
                entries=list(v.entries),
                diff=change_diff,
                objection_deadline=change.objection_deadline if change else None,
            )
        )
        previous = v
    return list(reversed(items))
