"""Append audit events to an agreement's hash chain, and walk the chains to find any break."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dpa_service.audit.models import AuditEvent
from dpa_service.clock import utcnow
from dpa_service.db import changed_rows
from dpa_service.errors import Conflict

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    body = {
        "agreement_id": event.agreement_id,
        "seq": event.seq,
        "version": event.version,
        "type": event.type,
        "actor": event.actor,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class NewEvent:
    """An event to be appended: what it says, not yet where it goes in the chain."""

    type: str
    actor: str
    data: dict[str, Any]
    version: int | None = None


def head(*, session: Session, agreement_id: str) -> tuple[int, str]:
    """The agreement chain's head: (number of the last event, its hash)."""
    from dpa_service.agreements.models import Agreement  # the chain's head lives there

    seq, last = session.execute(
        select(Agreement.audit_seq, Agreement.audit_head).where(Agreement.id == agreement_id)
    ).one()
    return int(seq), str(last)


def chained(
    *, agreement_id: str, after: tuple[int, str], events: Sequence[NewEvent], at: datetime
) -> list[AuditEvent]:
    """The events exactly as `record` will append them after the head `after` at time `at`,
    hashes included, without touching the database: what a sealed document can print before
    the transaction that records them (which must then find the head where it was)."""
    seq, prev = after
    planned = []
    for new in events:
        seq += 1
        event = AuditEvent(
            agreement_id=agreement_id,
            seq=seq,
            version=new.version,
            type=new.type,
            actor=new.actor,
            data=new.data,
            created_at=at,
            prev_hash=prev,
            hash="",
        )
        event.hash = prev = _digest(event)
        planned.append(event)
    return planned


def record(
    *,
    session: Session,
    agreement_id: str,
    type: str,
    actor: str,
    data: dict[str, Any] | None = None,
    version: int | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add the next event of the agreement's chain to the session (committed by the caller).

    The agreement row holds the chain's head; moving it is a compare-and-set, so two
    transactions appending at once cannot both succeed (the loser gets Conflict). `at` is the
    event's time when it was decided before it is recorded (default now).
    """
    from dpa_service.agreements.models import Agreement  # the chain's head lives there

    seq, prev = head(session=session, agreement_id=agreement_id)
    (event,) = chained(
        agreement_id=agreement_id,
        after=(seq, prev),
        events=[NewEvent(type, actor, data or {}, version)],
        at=at or utcnow(),
    )
    moved = changed_rows(
        session,
        update(Agreement)
        .where(Agreement.id == agreement_id, Agreement.audit_seq == seq)
        .values(audit_seq=seq + 1, audit_head=event.hash),
    )
    if moved != 1:
        raise Conflict("the agreement changed at the same time; retry")
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    agreement_id: str
    seq: int
    reason: str


def verify_chains(*, session: Session) -> tuple[int, list[ChainBreak]]:
    """Return (events checked, breaks). A deleted, inserted or edited row breaks its chain."""
    from dpa_service.agreements.models import Agreement

    breaks: list[ChainBreak] = []
    checked = 0
    heads = {
        a: (seq, head)
        for a, seq, head in session.execute(
            select(Agreement.id, Agreement.audit_seq, Agreement.audit_head)
        )
    }
    ids = set(session.scalars(select(AuditEvent.agreement_id).distinct()).all()) | {
        a for a, (seq, _) in heads.items() if seq > 0
    }
    for agreement_id in sorted(ids):
        prev, expected_seq = GENESIS, 1
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
            .order_by(AuditEvent.seq)
        )
        for event in events:
            checked += 1
            if event.seq != expected_seq:
                breaks.append(
                    ChainBreak(agreement_id, event.seq, f"event {expected_seq} is missing")
                )
            elif event.prev_hash != prev:
                breaks.append(
                    ChainBreak(agreement_id, event.seq, "does not follow the previous event")
                )
            elif _digest(event) != event.hash:
                breaks.append(
                    ChainBreak(agreement_id, event.seq, "was altered after it was written")
                )
            prev, expected_seq = event.hash, event.seq + 1
        head_seq, head = heads.get(agreement_id, (0, GENESIS))
        if (expected_seq - 1, prev) != (head_seq, head):
            breaks.append(
                ChainBreak(agreement_id, head_seq, "the chain does not end at the recorded head")
            )
    return checked, breaks


def count(*, session: Session, agreement_id: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
        )
        or 0
    )
