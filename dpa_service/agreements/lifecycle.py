"""The version states of SPEC §4 and the one place that moves a version between them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dpa_service import audit
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.clock import utcnow
from dpa_service.db import changed_rows
from dpa_service.errors import Conflict
from dpa_service.webhooks import events as webhook_events

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"sent", "voided"}),
    "sent": frozenset({"viewed", "signed", "declined", "expired", "voided"}),
    "viewed": frozenset({"signed", "declined", "expired", "voided"}),
    "signed": frozenset({"completed", "voided"}),
    "completed": frozenset({"superseded"}),
    "declined": frozenset(),
    "expired": frozenset(),
    "voided": frozenset(),
    "superseded": frozenset(),
}
OPEN_FOR_SIGNING = frozenset({"sent", "viewed"})
CLOSED = frozenset({"declined", "expired", "voided", "superseded"})

# The column that remembers when a version reached a state.
_STAMP = {
    "sent": "sent_at",
    "viewed": "viewed_at",
    "signed": "signed_at",
    "completed": "completed_at",
    "declined": "closed_at",
    "expired": "closed_at",
    "voided": "closed_at",
    "superseded": "closed_at",
}


def lock_agreement(session: Session, agreement_id: str) -> None:
    """Take the agreement's row lock for the rest of the transaction.

    Lock order everywhere: the agreement (its audit chain head) before its versions, as signing
    and reminders take them, so two transactions never wait on each other. A no-op UPDATE, not
    SELECT … FOR UPDATE: SQLite has no row locks, and a read before the first write would let
    another connection's commit invalidate the snapshot ("database is locked"); a write takes
    SQLite's write lock at once, waiting for it like any write.
    """
    session.execute(
        update(Agreement)
        .where(Agreement.id == agreement_id)
        .values(audit_seq=Agreement.audit_seq)
        .execution_options(synchronize_session=False)
    )


def transition(
    *,
    session: Session,
    version: AgreementVersion,
    to: str,
    actor: str,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
    event_at: datetime | None = None,
) -> None:
    """Move `version` to state `to` and chain the audit event, in the caller's transaction.

    An illegal move is a Conflict (409). The update is a compare-and-set on the current state,
    so of two requests moving the same version at once exactly one succeeds. `event_at`: the
    audit event's time, when it was decided in advance (default: when it is recorded).
    """
    now = now or utcnow()
    current = version.state
    if to not in TRANSITIONS[current]:
        raise Conflict(f"version {version.number} is {current}; it cannot become {to}")
    values: dict[str, Any] = {"state": to, _STAMP[to]: now, **(extra or {})}
    if reason is not None:
        values["state_reason"] = reason
    lock_agreement(session, version.agreement_id)
    moved = changed_rows(
        session,
        update(AgreementVersion)
        .where(AgreementVersion.id == version.id, AgreementVersion.state == current)
        .values(**values),
    )
    if moved != 1:
        raise Conflict(
            f"version {version.number} changed at the same time; it is no longer {current}"
        )
    for key, value in values.items():
        set_committed_value(version, key, value)  # the row already holds these values
    audit.record(
        session=session,
        agreement_id=version.agreement_id,
        version=version.number,
        type=f"version.{to}",
        actor=actor,
        data={"from": current, **({"reason": reason} if reason else {}), **(data or {})},
        at=event_at,
    )
    if to in webhook_events.VERSION_EVENTS:  # the Klusaro app hears of it in the same transaction
        webhook_events.emit_for_version(
            session=session, version=version, previous=current, reason=reason, now=now
        )
