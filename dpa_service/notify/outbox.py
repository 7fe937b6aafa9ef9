"""The outbox: e-mail is recorded in the caller's transaction and delivered by a periodic task.

A message exists once the transaction that decided to send it commits, and only then. The task
claims each due message with a compare-and-set UPDATE and commits the claim before talking to
SMTP, so two workers never send the same message; failures are retried with exponential
backoff. A worker that dies between the server accepting a message and recording it leaves a
claim that runs out, and the message is sent again with the same Message-ID (at least once,
never silently lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dpa_service.clock import iso, utcnow
from dpa_service.config import Settings
from dpa_service.db import changed_rows
from dpa_service.errors import DomainError
from dpa_service.log_context import request_id_bound
from dpa_service.notify.mail import DeliveryError, Transport, build_message, envelope_sender
from dpa_service.notify.mail import make_transport as _make_transport
from dpa_service.notify.models import FAILED, PENDING, SENDING, SENT, EmailAttempt, OutboundEmail

if TYPE_CHECKING:
    from dpa_service.jobs.context import JobContext

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "dpa.klusaro.com"
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
SUBJECT_MAX = 300


class InvalidEmail(DomainError):
    status_code = 422


def enqueue(
    *,
    session: Session,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str,
    ref: str | None = None,
    reply_to: str | None = None,
) -> OutboundEmail:
    """Record one message for `to` in the caller's transaction (flushed, not committed).
    `reply_to`: where answers should go (a person, not the no-reply sender); left out when it
    is not a valid address."""
    try:
        valid = validate_email(to, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"{to!r} is not a valid e-mail address: {exc}") from None
    answer_to = None
    if reply_to:
        try:
            checked = validate_email(reply_to, check_deliverability=False)
            answer_to = checked.ascii_email or checked.normalized
        except EmailNotValidError:
            log.warning("no Reply-To on a %s e-mail: %r is not an e-mail address", kind, reply_to)
    # A subject is one header line: newlines in it (from a company name, say) would let the
    # text inject headers, so all whitespace runs become one space.
    subject = " ".join(subject.split())
    if not subject:
        raise InvalidEmail("an e-mail needs a subject")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    for part in (text, html or ""):
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidEmail("the e-mail text is not valid Unicode") from None
    row = OutboundEmail(
        kind=kind,
        ref=ref,
        to_addr=valid.ascii_email or valid.normalized,
        reply_to=answer_to,
        subject=subject,
        text=text,
        html=html,
        message_id=make_msgid(domain=MESSAGE_ID_DOMAIN),
        state=PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    session.flush()
    log.info("mail %s (%s) to %s queued", row.id, kind, row.to_addr)
    return row


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1 min, 2, 4, … at most 6 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def claim_lease(settings: Settings) -> timedelta:
    """How long a claim holds: longer than the slowest send (every SMTP step timing out), so a
    live worker is never overtaken; after it, the worker is taken to have died."""
    return timedelta(seconds=60 + 10 * settings.smtp_timeout_s)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboundEmail.state == PENDING, OutboundEmail.next_attempt_at <= now),
        and_(OutboundEmail.state == SENDING, OutboundEmail.claimed_until < now),
    )


def deliver_due(
    ctx: JobContext,
    *,
    now: datetime | None = None,
    limit: int = 100,
    transport: Transport | None = None,
) -> int:
    """Send every due message once; returns how many were sent. `now` (tests) fixes the clock."""
    clock: Callable[[], datetime] = utcnow if now is None else (lambda: now)
    with ctx.session_factory() as session:
        ids = list(
            session.scalars(
                select(OutboundEmail.id)
                .where(_due(clock()))
                .order_by(OutboundEmail.next_attempt_at)
                .limit(limit)
            )
        )
    if not ids:
        return 0
    transport = transport or _make_transport(ctx.settings)
    sent = 0
    try:
        for email_id in ids:
            row = _claim(ctx, email_id, clock())
            if row is None:
                continue  # another worker has it, or has sent it
            with request_id_bound(row.request_id):  # the request that queued it
                try:
                    detail = _send(ctx.settings, transport, row)
                except DeliveryError as exc:
                    _failed(ctx, row, exc, clock())
                    if exc.connection:
                        break  # the server is not there: the rest would fail the same way
                except Exception as exc:
                    log.exception("mail %s (%s) could not be sent", row.id, row.kind)
                    _failed(ctx, row, DeliveryError(f"{type(exc).__name__}: {exc}"), clock())
                else:
                    _sent(ctx, row, detail, clock())
                    sent += 1
    finally:
        transport.close()
    return sent


def _claim(ctx: JobContext, email_id: str, now: datetime) -> OutboundEmail | None:
    with ctx.session_factory() as session:
        claimed = changed_rows(
            session,
            update(OutboundEmail)
            .where(OutboundEmail.id == email_id, _due(now))
            .values(state=SENDING, claimed_until=now + claim_lease(ctx.settings)),
        )
        if claimed != 1:
            session.rollback()
            return None
        row = session.get(OutboundEmail, email_id)
        session.commit()  # the claim is visible to other workers before anything is sent
        return row


def _send(settings: Settings, transport: Transport, row: OutboundEmail) -> str:
    msg = build_message(
        sender=settings.mail_from,
        to=row.to_addr,
        subject=row.subject,
        text=row.text,
        html=row.html,
        message_id=row.message_id,
        date=row.created_at,
        reply_to=row.reply_to,
    )
    return transport.send(msg, envelope_from=envelope_sender(settings), to=row.to_addr, key=row.id)


def _sent(ctx: JobContext, row: OutboundEmail, detail: str, now: datetime) -> None:
    with ctx.session_factory() as session:
        session.add(EmailAttempt(email_id=row.id, at=now, outcome=SENT, detail=detail[:2000]))
        changed_rows(
            session,
            update(OutboundEmail)
            .where(OutboundEmail.id == row.id, OutboundEmail.state != SENT)
            .values(
                state=SENT,
                sent_at=now,
                attempts=OutboundEmail.attempts + 1,
                claimed_until=None,
                last_error=None,
            ),
        )
        session.commit()
    log.info(
        "mail %s (%s) to %s sent as %s: %s", row.id, row.kind, row.to_addr, row.message_id, detail
    )


def _failed(ctx: JobContext, row: OutboundEmail, exc: DeliveryError, now: datetime) -> None:
    attempts = row.attempts + 1
    gives_up = exc.permanent or attempts >= ctx.settings.mail_max_attempts
    next_at = row.next_attempt_at if gives_up else now + backoff(attempts)
    with ctx.session_factory() as session:
        session.add(EmailAttempt(email_id=row.id, at=now, outcome=FAILED, detail=exc.detail[:2000]))
        # Only the claim's holder records the outcome: a claim that ran out belongs to another.
        changed_rows(
            session,
            update(OutboundEmail)
            .where(
                OutboundEmail.id == row.id,
                OutboundEmail.state == SENDING,
                OutboundEmail.claimed_until == row.claimed_until,
            )
            .values(
                state=FAILED if gives_up else PENDING,
                attempts=OutboundEmail.attempts + 1,
                next_attempt_at=next_at,
                claimed_until=None,
                last_error=exc.detail[:2000],
            ),
        )
        session.commit()
    if gives_up:
        log.error(
            "mail %s (%s) to %s failed for good after %d attempt(s): %s",
            row.id,
            row.kind,
            row.to_addr,
            attempts,
            exc.detail,
        )
    else:
        log.warning(
            "mail %s (%s) to %s not sent (attempt %d): %s; next try at %s",
            row.id,
            row.kind,
            row.to_addr,
            attempts,
            exc.detail,
            iso(next_at),
        )
