"""Webhook events: recorded with one delivery per subscribed endpoint in the transaction that
caused them, so a state change and the news of it commit together."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.archive.models import STORED, ArchiveObject
from dpa_service.clock import iso, iso_or_none, utcnow
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import savepoint
from dpa_service.ids import new_id
from dpa_service.webhooks.models import PENDING, WebhookDelivery, WebhookEndpoint, WebhookEvent

if TYPE_CHECKING:
    from dpa_service.jobs.context import JobContext

log = logging.getLogger(__name__)

EVENTS = (
    "agreement.sent",
    "agreement.viewed",
    "agreement.signed",
    "agreement.completed",
    "agreement.declined",
    "agreement.expired",
    "agreement.voided",
    "agreement.archived",
    "archive.integrity_failed",
    "subprocessors.changed",
)
# Version states whose reaching is an event (superseded is not: the app learns of the new one).
VERSION_EVENTS = frozenset(
    {"sent", "viewed", "signed", "completed", "declined", "expired", "voided"}
)


# -- secrets ------------------------------------------------------------------------------------


# -- recording events ---------------------------------------------------------------------------


def _subscribed(endpoint: WebhookEndpoint, event: str) -> bool:
    return endpoint.events is None or event in endpoint.events


def emit(
    *,
    session: Session,
    event: str,
    data: dict[str, Any],
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> WebhookEvent:
    """Record `event` and a delivery for every active endpoint subscribed to it, in the caller's
    transaction. The body is serialised once here; every attempt sends these exact bytes."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    created = now or utcnow()
    # Plain JSON from here on (a datetime or UUID in `data` becomes its string).
    data = json.loads(json.dumps(data, default=str))
    event_id = new_id()
    body = json.dumps(
        {
            "id": event_id,
            "type": event,
            "created_at": iso(created),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    row = WebhookEvent(
        id=event_id, type=event, data=data, body=body, dedupe_key=dedupe_key, created_at=created
    )
    session.add(row)
    scheduled = utcnow()  # delivery runs on the real clock, whatever time the event carries
    for endpoint in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active)):
        if _subscribed(endpoint, event):
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_id=row.id,
                    state=PENDING,
                    attempts=0,
                    next_attempt_at=scheduled,
                    requested_at=scheduled,
                    created_at=scheduled,
                )
            )
    session.flush()
    return row


def version_data(*, session: Session, version: AgreementVersion) -> dict[str, Any]:
    """What every agreement.* event says about the version."""
    agreement = session.get(Agreement, version.agreement_id)
    counterparty = session.get(Counterparty, agreement.counterparty_id) if agreement else None
    return {
        "agreement_id": version.agreement_id,
        "version": version.number,
        "state": version.state,
        "counterparty": {
            "kind": counterparty.kind if counterparty else None,
            "id": counterparty.external_id if counterparty else None,
        },
        "legal_name": (version.counterparty_snapshot or {}).get("legal_name"),
    }


def emit_for_version(
    *,
    session: Session,
    version: AgreementVersion,
    previous: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> WebhookEvent:
    """agreement.<state> for a version that has just reached it (called by lifecycle)."""
    state = version.state
    data = version_data(session=session, version=version)
    data["previous_state"] = previous
    if reason is not None:
        data["reason"] = reason
    if state == "sent":
        data["expires_at"] = iso_or_none(version.expires_at)
    if state == "completed":
        data["final_pdf_sha256"] = version.final_pdf_sha256
    return emit(session=session, event=f"agreement.{state}", data=data, now=now)


ARCHIVED_CATCH_UP = timedelta(hours=24)


def catch_up_archived(ctx: JobContext) -> int:
    """Periodic task: record agreement.archived for a completed version archived lately whose
    event is missing (the process died between storing the last artifact and recording it)."""
    since = utcnow() - ARCHIVED_CATCH_UP
    with ctx.session_factory() as session:
        finished = session.execute(
            select(AgreementVersion.id, ArchiveObject.agreement_id, ArchiveObject.version)
            .join(
                AgreementVersion,
                and_(
                    AgreementVersion.agreement_id == ArchiveObject.agreement_id,
                    AgreementVersion.number == ArchiveObject.version,
                ),
            )
            .where(
                ArchiveObject.artifact == "completed.pdf",
                ArchiveObject.state == STORED,
                ArchiveObject.stored_at >= since,
            )
        ).all()
        if not finished:
            return 0
        recorded = set(
            session.scalars(
                select(WebhookEvent.dedupe_key).where(
                    WebhookEvent.dedupe_key.in_([f"agreement.archived:{v}" for v, _, _ in finished])
                )
            )
        )
    return sum(
        emit_archived_if_complete(
            session_factory=ctx.session_factory, agreement_id=agreement_id, version=number
        )
        for version_id, agreement_id, number in finished
        if f"agreement.archived:{version_id}" not in recorded
    )


def emit_archived_if_complete(
    *,
    session_factory: sessionmaker,  # type: ignore[type-arg]
    agreement_id: str,
    version: int,
) -> bool:
    """agreement.archived once every artifact of a completed version is in the archive.

    Called after an archive object was stored and committed. Two workers storing the last two
    artifacts at once may both see the version complete; the event's dedupe key lets only one
    of them record it. Returns whether this call recorded it.
    """
    try:
        with session_factory() as session:
            row = session.scalar(
                select(AgreementVersion).where(
                    AgreementVersion.agreement_id == agreement_id,
                    AgreementVersion.number == version,
                )
            )
            if row is None or not row.final_pdf_key:
                return False
            artifacts = session.execute(
                select(ArchiveObject.artifact, ArchiveObject.state, ArchiveObject.sha256).where(
                    ArchiveObject.agreement_id == agreement_id, ArchiveObject.version == version
                )
            ).all()
            if "completed.pdf" not in {a for a, _, _ in artifacts} or any(
                s != STORED for _, s, _ in artifacts
            ):
                return False
            data = version_data(session=session, version=row)
            data["final_pdf_sha256"] = row.final_pdf_sha256
            data["artifacts"] = {a: sha for a, _, sha in sorted(artifacts)}
            try:
                with savepoint(session):
                    emit(
                        session=session,
                        event="agreement.archived",
                        data=data,
                        dedupe_key=f"agreement.archived:{row.id}",
                    )
                session.commit()
            except IntegrityError:
                session.rollback()
                return False  # another worker recorded it
            return True
    except Exception:
        # The archive itself succeeded; losing the notice must not undo or retry that.
        log.exception("could not record agreement.archived for %s v%s", agreement_id, version)
        return False


# -- endpoints (admin API) ----------------------------------------------------------------------


# -- delivering ---------------------------------------------------------------------------------
