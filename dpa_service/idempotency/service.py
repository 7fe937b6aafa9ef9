"""Idempotency keys (a client's `Idempotency-Key` header on a POST that creates something).

The first answer is kept with the key, in the same transaction as what the request made, so a
key either has its answer and its effect or neither. The same key again (from the same caller)
gets that answer back and makes nothing; the same key for a different request is refused. Two
requests with one key at the same moment: the second one's transaction fails on the key's unique
index and rolls back, and its retry gets the first one's answer. Keys are kept for a day.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service.clock import utcnow
from dpa_service.errors import Conflict, Unprocessable
from dpa_service.idempotency.models import IdempotentRequest
from dpa_service.jobs.context import JobContext

KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces, at most 200
KEPT = timedelta(hours=24)


def check_key(key: str) -> str:
    if not KEY_SHAPE.match(key):
        raise Unprocessable(
            "Idempotency-Key must be 1-200 printable ASCII characters without spaces "
            "(a UUID is a good choice)"
        )
    return key


def fingerprint(method: str, path: str, body: bytes, *, query: str = "") -> str:
    parts = [method.encode(), path.encode(), body]
    if query:  # without one, the fingerprint of keys kept before the query counted
        parts.append(query.encode())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def earlier(
    *, session: Session, subject: str, key: str, request_fingerprint: str
) -> IdempotentRequest | None:
    """The answer kept for this caller's key, or None; 422 if the key was used for another
    request."""
    row = session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.subject == subject, IdempotentRequest.key == key
        )
    )
    if row is not None and row.fingerprint != request_fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was used for a different request; use a new key for a new request"
        )
    return row


def remember(
    *,
    session: Session,
    subject: str,
    key: str,
    request_fingerprint: str,
    status_code: int,
    media_type: str,
    body: bytes,
) -> None:
    session.add(
        IdempotentRequest(
            subject=subject,
            key=key,
            fingerprint=request_fingerprint,
            status_code=status_code,
            media_type=media_type,
            body=body,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "another request with this Idempotency-Key finished first; send this one again to "
            "get its answer"
        ) from None


def purge_old(ctx: JobContext, *, now: datetime | None = None) -> int:
    """Periodic task: forget keys older than a day."""
    cutoff = (now or utcnow()) - KEPT
    with ctx.session_factory() as session:
        gone = session.execute(
            delete(IdempotentRequest)
            .where(IdempotentRequest.created_at < cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return int(gone or 0)
