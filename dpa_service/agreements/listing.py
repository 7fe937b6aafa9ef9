"""Every agreement in one list: filters, text search, keyset pages, and the work in figures.

One query serves the staff list, its CSV export and `GET /api/v1/agreements`. Each row is an
agreement with its latest version (the highest number); a page is read by keyset (the sort
value and the agreement id of the last row seen), so page 2,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, aliased, defer

from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.archive.models import ArchiveObject
from dpa_service.audit.models import AuditEvent
from dpa_service.clauses import service as clauses
from dpa_service.clauses.models import TemplateVersion
from dpa_service.clock import utcnow
from dpa_service.counterparties.models import Counterparty
from dpa_service.errors import DomainError
from dpa_service.profile import service as profiles
from dpa_service.subprocessors import service as subprocessors
from dpa_service.text import has_control_characters

KINDS = ("workspace", "prospect")
SORTS = ("-created", "created", "company", "-company")
DATE_FIELDS = ("created", "sent", "signed", "completed")
# The states a counterparty has or is about to have: an outdated version in one of these is
# worth a new one (the re-issue's rule); a closed one is history.
CURRENT_STATES = ("draft", "sent", "viewed", "signed", "completed")
OPEN_FOR_SIGNING = ("sent", "viewed")
MAX_LIMIT = 200  # a page of the list
EXPORT_BATCH = 1000  # rows read at a time for the CSV export


class BadParameter(DomainError):
    """A list parameter that cannot be used: 400, naming it."""

    status_code = 400

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ()
    kind: str | None = None
    q: str = ""
    date_field: str = "created"
    since: date | None = None  # from this day (UTC), inclusive
    until: date | None = None  # to this day (UTC), inclusive
    template: tuple[str, int] | None = None  # ("security", 2): made from security v2
    subprocessor_list_version: int | None = None
    awaiting_countersignature: bool = False
    expiring_within_days: int | None = None
    outdated: bool = False
    sort: str = "-created"

    def any(self) -> bool:
        return self != Filters(sort=self.sort)


@dataclass(frozen=True)
class Row:
    """One agreement and its latest version."""

    agreement: AgreementSummaryData
    version: AgreementVersion
    counterparty: Counterparty
    archive: str  # stored | pending | failed | none (every artifact of the latest version)
    outdated: bool


@dataclass(frozen=True)
class AgreementSummaryData:
    id: str
    created_at: datetime


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    limit: int
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class Approved:
    """What new DPAs are made from now: any other words make a version outdated."""

    template_ids: dict[str, str]
    subprocessor_list_id: str
    profile_id: str

    @classmethod
    def now(cls, session: Session) -> Approved:
        return cls(
            clauses.approved_ids(session=session),
            subprocessors.current_approved(session=session).id,
            profiles.current_approved(session=session).id,
        )

    def outdates(self, version: AgreementVersion) -> bool:
        made_from = {k: v.get("id") for k, v in version.template_versions.items()}
        return version.state in CURRENT_STATES and (
            made_from != {k: self.template_ids.get(k) for k in made_from}
            or version.subprocessor_list_version_id != self.subprocessor_list_id
            or version.processor_profile_version_id != self.profile_id
        )

    def outdated_clause(self, v: Any, superseded_template_ids: list[str]) -> ColumnElement[bool]:
        """The same rule in SQL: another subprocessor list or processor profile, or a template
        version that was approved once and is not the approved one now. Template ids are UUIDs
        found nowhere else in the record, so the record's text is searched for them: one pass
        over it, where reading each language's templates out of the JSON costs ten."""
        record = cast(v.template_versions, String)
        return and_(
            v.state.in_(CURRENT_STATES),
            or_(
                v.subprocessor_list_version_id != self.subprocessor_list_id,
                v.processor_profile_version_id.is_(None),
                v.processor_profile_version_id != self.profile_id,
                *(record.contains(f'"{i}"') for i in superseded_template_ids),
            ),
        )


def _superseded_template_ids(session: Session, approved: Approved) -> list[str]:
    """Template versions that generation used once and uses no more."""
    current = set(approved.template_ids.values())
    return [
        i
        for i in session.scalars(
            select(TemplateVersion.id).where(TemplateVersion.state.in_(("approved", "retired")))
        )
        if i not in current
    ]


def _is_latest(v: Any) -> ColumnElement[bool]:
    """The version is its agreement's newest: no version of it has a higher number (an
    anti-join on the unique (agreement_id, number) index, which the planner estimates well)."""
    newer = aliased(AgreementVersion)
    return ~(
        select(newer.id)
        .where(newer.agreement_id == v.agreement_id, newer.number > v.number)
        .correlate(v)
        .exists()
    )


def _sort_columns(sort: str) -> tuple[Any, Any, bool]:
    """The sort value's column, the unique column that breaks its ties, and whether they run
    descending: each pair has an index to walk (0016)."""
    if sort.endswith("created"):
        return Agreement.created_at, Agreement.id, sort.startswith("-")
    return Counterparty.name_key, Counterparty.id, sort.startswith("-")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _where(filters: Filters, now: datetime, session: Session) -> list[ColumnElement[bool]]:
    v = AgreementVersion
    clauses_: list[ColumnElement[bool]] = [_is_latest(v)]
    if filters.states:
        clauses_.append(v.state.in_(filters.states))
    if filters.kind:
        clauses_.append(Counterparty.kind == filters.kind)
    if filters.q:
        q = filters.q
        if has_control_characters(q):  # in no stored text, and PostgreSQL refuses a NUL
            clauses_.append(false())
        elif _is_uuid(q):  # an agreement's, a prospect's or a workspace's id
            clauses_.append(
                or_(
                    Agreement.id == q.lower(),
                    Counterparty.id == q.lower(),
                    Counterparty.external_id == q,  # the app's own, as it was given
                )
            )
        else:  # on the counterparty alone, so the database filters it before any join
            clauses_.append(
                or_(
                    # name, registration number and e-mail, case-folded (counterparties.models)
                    Counterparty.search_text.contains(q.casefold(), autoescape=True),
                    Counterparty.external_id == q,
                )
            )
    column = {
        "created": Agreement.created_at,
        "sent": v.sent_at,
        "signed": v.signed_at,
        "completed": v.completed_at,
    }[filters.date_field]
    if filters.since:
        clauses_.append(column >= _day_start(filters.since))
    if filters.until and filters.until < date.max:  # the last day there is bounds nothing
        clauses_.append(column < _day_start(filters.until + timedelta(days=1)))
    if filters.template:
        key, number = filters.template
        clauses_.append(v.template_versions[(key, "version")].as_integer() == number)
    if filters.subprocessor_list_version is not None:
        clauses_.append(v.subprocessor_list_version == filters.subprocessor_list_version)
    if filters.awaiting_countersignature:
        clauses_.append(v.state == "signed")
    if filters.expiring_within_days is not None:
        clauses_.append(
            and_(
                v.state.in_(OPEN_FOR_SIGNING),
                v.expires_at > now,
                v.expires_at <= now + timedelta(days=filters.expiring_within_days),
            )
        )
    if filters.outdated:
        approved = Approved.now(session)
        clauses_.append(approved.outdated_clause(v, _superseded_template_ids(session, approved)))
    return clauses_


def encode_cursor(sort: str, value: Any, row_id: str) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    raw = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, agreement_id = json.loads(raw)
        if not isinstance(agreement_id, str) or not isinstance(value, str):
            raise ValueError
        # never given out: a NUL (PostgreSQL text holds none) or a lone surrogate (no UTF-8;
        # encode() raises UnicodeEncodeError, a ValueError)
        if "\x00" in (value + agreement_id).encode().decode():
            raise ValueError
        if sort.endswith("created"):
            parsed: Any = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
            value = parsed.astimezone(UTC)  # OverflowError: a time with no UTC equivalent
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise BadParameter("cursor", "not a cursor this list gave out") from None
    if made_for != sort:
        raise BadParameter("cursor", f"it was given for sort={made_for}, not sort={sort}")
    return value, agreement_id


def page_query(
    *, session: Session, filters: Filters, limit: int, now: datetime, cursor: str | None = None
) -> Select[Any]:
    """The query of one page (one row more than `limit`, to know whether another follows)."""
    key, tiebreak, descending = _sort_columns(filters.sort)
    query = (
        select(Agreement.id, Agreement.created_at, key, tiebreak, AgreementVersion, Counterparty)
        .join(Counterparty, Counterparty.id == Agreement.counterparty_id)
        .join(AgreementVersion, AgreementVersion.agreement_id == Agreement.id)
        .where(*_where(filters, now, session))
        # what a row never shows, and the largest part of a version's row
        .options(
            defer(AgreementVersion.counterparty_snapshot),
            defer(AgreementVersion.terms),
            defer(AgreementVersion.unconfirmed),
        )
    )
    if cursor:
        value, after_id = decode_cursor(cursor, filters.sort)
        position = tuple_(key, tiebreak)
        seen = tuple_(literal(value, type_=key.type), literal(after_id, type_=tiebreak.type))
        query = query.where(position < seen if descending else position > seen)
    order = (key.desc(), tiebreak.desc()) if descending else (key.asc(), tiebreak.asc())
    return query.order_by(*order).limit(limit + 1)


def list_agreements(
    *,
    session: Session,
    filters: Filters,
    limit: int = 50,
    cursor: str | None = None,
    now: datetime | None = None,
    approved: Approved | None = None,
) -> Page:
    """One page of agreements matching `filters`, after `cursor` (None: the first page)."""
    now = now or utcnow()
    limit = max(1, min(limit, EXPORT_BATCH))  # the API and the pages allow MAX_LIMIT
    query = page_query(session=session, filters=filters, limit=limit, now=now, cursor=cursor)
    found = session.execute(query).all()
    more = len(found) > limit
    found = found[:limit]
    approved = approved or Approved.now(session)
    archive = _archive_states(session, [(r[4].agreement_id, r[4].number) for r in found])
    rows = [
        Row(
            agreement=AgreementSummaryData(id=agreement_id, created_at=created_at),
            version=version,
            counterparty=counterparty,
            archive=archive.get((agreement_id, version.number), "none"),
            outdated=approved.outdates(version),
        )
        for agreement_id, created_at, _, _, version, counterparty in found
    ]
    next_cursor = None
    if more and found:
        last = found[-1]
        next_cursor = encode_cursor(filters.sort, last[2], last[3])
    return Page(rows=rows, next_cursor=next_cursor, limit=limit, filters=filters)


def every_row(*, session: Session, filters: Filters, now: datetime | None = None) -> Iterator[Row]:
    """Every matching row, a keyset page at a time (for the CSV export)."""
    approved = Approved.now(session)
    cursor = None
    while True:
        page = list_agreements(
            session=session,
            filters=filters,
            limit=EXPORT_BATCH,
            cursor=cursor,
            now=now,
            approved=approved,
        )
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _archive_states(
    session: Session, versions: list[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    if not versions:
        return {}
    rows = session.execute(
        select(ArchiveObject.agreement_id, ArchiveObject.version, ArchiveObject.state).where(
            ArchiveObject.agreement_id.in_({a for a, _ in versions})
        )
    ).all()
    wanted = set(versions)
    states: dict[tuple[str, int], set[str]] = {}
    for agreement_id, number, state in rows:
        if agreement_id is not None and number is not None and (agreement_id, number) in wanted:
            states.setdefault((agreement_id, number), set()).add(state)
    return {
        k: "failed" if "failed" in s else "pending" if "pending" in s else "stored"
        for k, s in states.items()
    }


# --- one agreement --------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    artifact: str  # draft.pdf | completed.pdf | manifest.json
    sha256: str
    size: int
    state: str  # pending | stored | failed
    stored_at: datetime | None


def documents(*, session: Session, agreement_id: str) -> dict[int, list[Document]]:
    """Every archived artifact of the agreement, by version number."""
    order = {"draft.pdf": 0, "completed.pdf": 1, "manifest.json": 2}
    found: dict[int, list[Document]] = {}
    for obj in session.scalars(
        select(ArchiveObject).where(ArchiveObject.agreement_id == agreement_id)
    ):
        found.setdefault(obj.version or 0, []).append(
            Document(obj.artifact, obj.sha256, obj.size, obj.state, obj.stored_at)
        )
    for docs in found.values():
        docs.sort(key=lambda d: order.get(d.artifact, 9))
    return found


def timeline(*, session: Session, agreement_id: str) -> list[AuditEvent]:
    """The agreement's audit events in the order they were chained."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
            .order_by(AuditEvent.seq)
        )
    )


# --- the work in figures (the staff home page) ----------------------------------------------


@dataclass(frozen=True)
class Overview:
    by_state: dict[str, int]
    awaiting_countersignature: int
    expiring_soon: int
    median_sent_to_signed: timedelta | None  # over versions signed in the last 30 days
    signed_last_30_days: int
    completions_per_week: list[tuple[date, int]]  # Monday of each week, oldest first


def overview(
    *, session: Session, now: datetime | None = None, weeks: int = 12, soon_days: int = 7
) -> Overview:
    now = now or utcnow()
    v = AgreementVersion
    latest = _is_latest(v)
    by_state = {
        state: count
        for state, count in session.execute(
            select(v.state, func.count()).where(latest).group_by(v.state)
        )
    }
    expiring = (
        session.scalar(
            select(func.count())
            .select_from(v)
            .where(
                latest,
                v.state.in_(OPEN_FOR_SIGNING),
                v.expires_at > now,
                v.expires_at <= now + timedelta(days=soon_days),
            )
        )
        or 0
    )
    since = now - timedelta(days=30)
    spans = [
        signed - sent
        for sent, signed in session.execute(
            select(v.sent_at, v.signed_at).where(v.signed_at >= since, v.sent_at.is_not(None))
        )
        if sent is not None and signed is not None
    ]
    this_monday = (now - timedelta(days=now.weekday())).date()
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    per_week = dict.fromkeys((first_monday + timedelta(weeks=i) for i in range(weeks)), 0)
    for (completed_at,) in session.execute(
        select(v.completed_at).where(v.completed_at >= _day_start(first_monday))
    ):
        if completed_at is None:
            continue
        day = completed_at.date()
        monday = day - timedelta(days=day.weekday())
        if monday in per_week:
            per_week[monday] += 1
    return Overview(
        by_state=by_state,
        awaiting_countersignature=by_state.get("signed", 0),
        expiring_soon=expiring,
        median_sent_to_signed=(
            timedelta(seconds=statistics.median(s.total_seconds() for s in spans))
            if spans
            else None
        ),
        signed_last_30_days=len(spans),
        completions_per_week=list(per_week.items()),
    )
