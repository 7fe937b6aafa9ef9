"""The sales status board: every prospect with its newest DPA version, who moved it, the
reminders and e-mails sent; one prospect's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dpa_service.agreements.models import VERSION_STATES, Agreement, AgreementVersion
from dpa_service.agreements.service import latest_version
from dpa_service.audit.models import AuditEvent
from dpa_service.counterparties import service as counterparties
from dpa_service.counterparties.models import Counterparty, SigningInvitation
from dpa_service.errors import NotFound, Unprocessable
from dpa_service.text import has_control_characters

if TYPE_CHECKING:
    pass


BOARD_STATES = ("new", *VERSION_STATES)  # "new": no DPA made yet


@dataclass
class ProspectStatus:
    prospect: Counterparty
    version: AgreementVersion | None = None
    actors: dict[str, str] = field(default_factory=dict)  # state -> who moved the version there
    reminders_sent: int = 0
    last_emailed_at: datetime | None = None

    @property
    def state(self) -> str:
        return self.version.state if self.version else "new"


def board(
    *,
    session: Session,
    state: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    limit: int = 200,
) -> list[ProspectStatus]:
    """Every prospect (newest first) with its newest version, who acted and the reminders.

    `state` is a version state or "new"; `owner` a subject ("user:<id>") or an e-mail; `q`
    matches the company, registration number and signatory, ignoring case.
    """
    if state and state not in BOARD_STATES:
        raise Unprocessable(f"state must be one of {', '.join(BOARD_STATES)}")
    if has_control_characters(owner or "") or has_control_characters(q or ""):
        raise Unprocessable(
            "owner and q may not contain control characters or text-direction marks"
        )
    query = select(Counterparty).where(
        (Counterparty.kind == counterparties.PROSPECT) | Counterparty.converted_at.is_not(None)
    )
    if owner:
        query = query.where(
            (Counterparty.owner_subject == owner) | (Counterparty.owner_email == owner.lower())
        )
    prospects = list(session.scalars(query.order_by(Counterparty.created_at.desc())))
    needle = " ".join((q or "").split()).casefold()
    if needle:
        prospects = [p for p in prospects if needle in _haystack(p.details)]
    if not prospects:
        return []
    agreements_of = dict(
        session.execute(
            select(Agreement.counterparty_id, Agreement.id).where(
                Agreement.counterparty_id.in_([p.id for p in prospects])
            )
        ).all()
    )
    newest = (
        select(AgreementVersion.agreement_id, func.max(AgreementVersion.number).label("number"))
        .where(AgreementVersion.agreement_id.in_(list(agreements_of.values())))
        .group_by(AgreementVersion.agreement_id)
        .subquery()
    )
    versions = {
        v.agreement_id: v
        for v in session.scalars(
            select(AgreementVersion).join(
                newest,
                and_(
                    AgreementVersion.agreement_id == newest.c.agreement_id,
                    AgreementVersion.number == newest.c.number,
                ),
            )
        )
    }
    rows = []
    for prospect in prospects:
        version = versions.get(agreements_of.get(prospect.id, ""))
        row = ProspectStatus(prospect, version)
        if not state or row.state == state:
            rows.append(row)
    rows = rows[:limit]
    _fill_history(session, [r for r in rows if r.version])
    return rows


def _haystack(details: dict[str, Any]) -> str:
    signatory = details.get("signatory", {})
    parts = [
        details.get("legal_name", ""),
        details.get("registration_number", ""),
        signatory.get("name", ""),
        signatory.get("email", ""),
    ]
    return " ".join(" ".join(str(p).split()) for p in parts).casefold()


def _fill_history(session: Session, rows: list[ProspectStatus]) -> None:
    """Who moved each version to each state, from the audit trail; reminders and e-mails."""
    if not rows:
        return
    by_key = {(r.version.agreement_id, r.version.number): r for r in rows if r.version}
    events = session.execute(
        select(
            AuditEvent.agreement_id,
            AuditEvent.version,
            AuditEvent.type,
            AuditEvent.actor,
            AuditEvent.data,
            AuditEvent.created_at,
        )
        .where(
            AuditEvent.agreement_id.in_({a for a, _ in by_key}),
            AuditEvent.type.like("version.%") | AuditEvent.type.in_(("reminder.sent",)),
        )
        .order_by(AuditEvent.agreement_id, AuditEvent.seq)
    ).all()
    for agreement_id, number, type_, actor, data, _ in events:
        row = by_key.get((agreement_id, number))
        if row is None:
            continue
        if type_ == "reminder.sent":
            row.reminders_sent += 1
        else:
            state = type_.removeprefix("version.")
            who = actor
            if state == "signed" and (data or {}).get("name"):
                who = f"{data['name']} ({actor})"
            row.actors[state] = who
    emailed = session.execute(
        select(SigningInvitation.version_id, func.max(SigningInvitation.created_at))
        .where(SigningInvitation.version_id.in_([r.version.id for r in rows if r.version]))
        .group_by(SigningInvitation.version_id)
    ).all()
    last = dict(emailed)
    for row in rows:
        if row.version:
            row.last_emailed_at = last.get(row.version.id)


def get_status(*, session: Session, prospect_id: str) -> ProspectStatus:
    prospect = counterparties.get_prospect(session=session, prospect_id=prospect_id)
    row = ProspectStatus(prospect, latest_version(session, prospect.id))
    _fill_history(session, [row] if row.version else [])
    return row


def history(*, session: Session, prospect_id: str) -> list[AuditEvent]:
    """The prospect's whole audit trail, oldest first (for its page)."""
    prospect = counterparties.get_prospect(session=session, prospect_id=prospect_id)
    agreement_id = session.scalar(
        select(Agreement.id).where(Agreement.counterparty_id == prospect.id)
    )
    if agreement_id is None:
        return []
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
            .order_by(AuditEvent.seq)
        )
    )


def require_version(session: Session, prospect_id: str) -> AgreementVersion:
    prospect = counterparties.get_prospect(session=session, prospect_id=prospect_id)
    version = latest_version(session, prospect.id)
    if version is None:
        raise NotFound("this prospect has no DPA yet")
    return version
