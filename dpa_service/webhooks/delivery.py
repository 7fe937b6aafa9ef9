"""Delivering webhooks: a periodic task sends what is due. Each delivery is claimed with a
compare-and-set before it is sent, so two workers never send it at once; each attempt is signed
anew over the body bytes stored with the event, so every retry carries the same bytes; failures
are retried with exponential backoff for DPA_WEBHOOK_RETRY_HOURS."""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import InvalidToken
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.db import changed_rows
from dpa_service.log_context import request_id_bound
from dpa_service.metrics import WEBHOOK_DELIVERIES
from dpa_service.webhooks.models import (
    DELIVERED,
    DELIVERING,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from dpa_service.webhooks.secrets import open_secret, signature

if TYPE_CHECKING:
    from dpa_service.jobs.context import JobContext

log = logging.getLogger(__name__)


# Backoff after the n-th failed attempt: BACKOFF_BASE_S * 2**(n-1), at most BACKOFF_MAX_S.
BACKOFF_BASE_S = 30.0


BACKOFF_MAX_S = 3600.0


CLAIM_MARGIN_S = 30.0  # a claim outlives the request timeout by this much


MAX_PER_PASS = 100


PASS_BUDGET_S = 20.0  # stop claiming more in one pass after this long; the next sweep goes on


EXCERPT_CHARS = 500


USER_AGENT = "dpa-service-webhooks/1"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


def _due(now: datetime) -> Any:
    return or_(
        and_(WebhookDelivery.state == PENDING, WebhookDelivery.next_attempt_at <= now),
        # a worker that claimed it died or hung past its claim
        and_(WebhookDelivery.state == DELIVERING, WebhookDelivery.claimed_until < now),
    )


def due_ids(*, session: Session, now: datetime, limit: int = MAX_PER_PASS) -> list[str]:
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookEndpoint.active, _due(now))
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    attempt: int  # the attempt number this claim makes; finishing compares against it
    url: str
    sealed_secret: str
    event_id: str
    event_type: str
    body: bytes
    requested_at: datetime
    request_id: str | None = None  # the request that made the event, for the log lines


def claim(*, session: Session, delivery_id: str, now: datetime, timeout_s: float) -> Claim | None:
    """Take one due delivery for this worker (compare-and-set), or None if another has it."""
    row = session.execute(
        select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        return None
    delivery, endpoint, event = row
    if not endpoint.active:
        # disabled while its previous attempt was in flight (so the disabling missed it)
        changed_rows(
            session,
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, _due(now))
            .values(state=FAILED, last_error="endpoint disabled", next_attempt_at=None),
        )
        return None
    attempt = delivery.attempts + 1
    moved = changed_rows(
        session,
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == delivery.attempts,
            _due(now),
        )
        .values(
            state=DELIVERING,
            attempts=attempt,
            claimed_until=now + timedelta(seconds=timeout_s + CLAIM_MARGIN_S),
        ),
    )
    if moved != 1:
        return None
    return Claim(
        delivery_id=delivery.id,
        attempt=attempt,
        url=endpoint.url,
        sealed_secret=endpoint.secret,
        event_id=event.id,
        event_type=event.type,
        body=event.body.encode(),
        requested_at=delivery.requested_at,
        request_id=delivery.request_id,
    )


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def non_public_address(url: str) -> str | None:
    """The first address `url`'s host resolves to that is not on the public internet
    (loopback, private, link-local such as cloud metadata), or None."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None  # it will not connect either; the attempt records that error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return str(address)
    return None


def send(
    client: httpx.Client,
    work: Claim,
    secret: str,
    timeout_s: float = 10.0,
    allow_private: bool = False,
) -> Outcome:
    """One signed POST; never follows a redirect, reads at most a little of the answer.

    Only to public addresses unless `allow_private` (DPA_WEBHOOK_ALLOW_PRIVATE): an admin's
    endpoint must not turn the service into a way into the internal network.
    """
    if not allow_private and (address := non_public_address(work.url)):
        return Outcome(
            None,
            f"refused: the endpoint's host resolves to {address}, which is not a public "
            "address (set DPA_WEBHOOK_ALLOW_PRIVATE=true to allow it)",
            None,
            0,
        )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-DPA-Event": work.event_type,
        "X-DPA-Delivery": work.delivery_id,
        "X-DPA-Event-Id": work.event_id,
        "X-DPA-Timestamp": str(timestamp),
        "X-DPA-Signature": signature(secret, timestamp, work.body),
    }
    started = time.monotonic()
    try:
        with client.stream("POST", work.url, content=work.body, headers=headers) as response:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                # enough for the log; and a receiver dripping its answer is not waited for
                if len(raw) >= EXCERPT_CHARS * 4 or time.monotonic() - started > timeout_s:
                    break
            status = response.status_code
        excerpt = raw.decode("utf-8", "replace")[:EXCERPT_CHARS] or None
        error = None
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (
                " (redirects are not followed)" if 300 <= status < 400 else ""
            )
    except Exception as exc:  # refused, timed out, TLS, a malformed answer: a failed attempt
        status, excerpt = None, None
        error = f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__
    return Outcome(status, error, excerpt, int((time.monotonic() - started) * 1000))


def finish(
    *,
    session: Session,
    work: Claim,
    outcome: Outcome,
    now: datetime,
    retry_hours: float,
) -> str:
    """Record the attempt and move the delivery on: delivered, pending again, or failed."""
    session.add(
        WebhookAttempt(
            delivery_id=work.delivery_id,
            at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
    )
    values: dict[str, Any] = {
        "claimed_until": None,
        "last_status": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.ok:
        values.update(state=DELIVERED, delivered_at=now, next_attempt_at=None)
    else:
        deadline = work.requested_at + timedelta(hours=retry_hours)
        active = session.scalar(
            select(WebhookEndpoint.active)
            .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
            .where(WebhookDelivery.id == work.delivery_id)
        )
        if not active:  # disabled while this attempt was in flight
            values.update(state=FAILED, next_attempt_at=None, last_error="endpoint disabled")
        elif now >= deadline:
            values.update(state=FAILED, next_attempt_at=None)
        else:
            values.update(state=PENDING, next_attempt_at=min(now + backoff(work.attempt), deadline))
    changed_rows(
        session,
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == work.delivery_id,
            WebhookDelivery.state == DELIVERING,
            WebhookDelivery.attempts == work.attempt,
        )
        .values(**values),
    )
    session.commit()
    return str(values["state"])


def deliver_due(
    *,
    session_factory: sessionmaker,  # type: ignore[type-arg]
    settings: Settings,
    now: datetime | None = None,
) -> int:
    """Send every delivery that is due; returns how many were answered with a 2xx.

    `now` (tests) replaces the clock for what is due and when to retry; the signed timestamp
    is always the real time of sending.
    """

    def clock() -> datetime:
        return now or utcnow()

    with session_factory() as session:
        ids = due_ids(session=session, now=clock())
    if not ids:
        return 0
    secret_key = settings.resolved_secret_key()
    started = time.monotonic()
    delivered = 0
    with httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False) as client:
        for delivery_id in ids:
            if time.monotonic() - started > PASS_BUDGET_S:
                break  # the rest waits for the next sweep; other periodic work runs meanwhile
            with session_factory() as session:
                work = claim(
                    session=session,
                    delivery_id=delivery_id,
                    now=clock(),
                    timeout_s=settings.webhook_timeout_s,
                )
                session.commit()
            if work is None:
                continue  # another worker has it
            with request_id_bound(work.request_id):
                state, outcome = _attempt(
                    session_factory, settings, client, work, secret_key, clock
                )
            if state == DELIVERED:
                delivered += 1
    return delivered


def _attempt(
    session_factory: sessionmaker,  # type: ignore[type-arg]
    settings: Settings,
    client: httpx.Client,
    work: Claim,
    secret_key: str,
    clock: Callable[[], datetime],
) -> tuple[str, Outcome]:
    try:
        outcome = send(
            client,
            work,
            open_secret(work.sealed_secret, secret_key),
            settings.webhook_timeout_s,
            settings.webhook_allow_private,
        )
    except InvalidToken:
        outcome = Outcome(
            None,
            "the endpoint secret cannot be decrypted (DPA_SECRET_KEY changed?)",
            None,
            0,
        )
    with session_factory() as session:
        state = finish(
            session=session,
            work=work,
            outcome=outcome,
            now=clock(),
            retry_hours=settings.webhook_retry_hours,
        )
    WEBHOOK_DELIVERIES.labels(OUTCOME_OF_STATE.get(state, "retry")).inc()
    log.info(
        "webhook %s %s to %s: %s",
        work.event_type,
        work.delivery_id,
        work.url,
        state,
        extra={"event_id": work.event_id, "status": outcome.status_code, "attempt": work.attempt},
    )
    if state == FAILED:
        log.warning("webhook delivery %s failed for good: %s", work.delivery_id, outcome.error)
    return state, outcome


OUTCOME_OF_STATE = {DELIVERED: "delivered", FAILED: "failed"}  # pending again: a retry


def deliver_webhooks(ctx: JobContext) -> int:
    """The periodic task (see jobs.periodic.PERIODIC_TASKS)."""
    return deliver_due(session_factory=ctx.session_factory, settings=ctx.settings)
