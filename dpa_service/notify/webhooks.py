"""Webhooks to the Klusaro app: record events, deliver them signed, retry with backoff, redeliver.

An event is recorded with one delivery per subscribed endpoint in the transaction that caused
it, so a state change and the news of it commit together. A periodic task sends what is due:
each delivery is claimed with a compare-and-set before it is sent, so two workers never send it
at once. Each attempt is signed anew (`X-DPA-Signature: v1=HMAC-SHA256(secret, "<ts>.<body>")`)
over the body bytes stored with the event, so every retry carries the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.archive.models import STORED, ArchiveObject
from dpa_service.clock import iso, iso_or_none, utcnow
from dpa_service.config import Settings
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import changed_rows
from dpa_service.errors import Conflict, DomainError, NotFound
from dpa_service.ids import new_id
from dpa_service.notify.webhook_models import (
    DELIVERED,
    DELIVERING,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

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
    "subprocessors.changed",
)
# Version states whose reaching is an event (superseded is not: the app learns of the new one).
VERSION_EVENTS = frozenset(
    {"sent", "viewed", "signed", "completed", "declined", "expired", "voided"}
)

# Backoff after the n-th failed attempt: BACKOFF_BASE_S * 2**(n-1), at most BACKOFF_MAX_S.
# Tests shorten the base (the background thread reads it on every pass).
BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0
CLAIM_MARGIN_S = 30.0  # a claim outlives the request timeout by this much
MAX_PER_PASS = 100
PASS_BUDGET_S = 20.0  # stop claiming more in one pass after this long; the next sweep goes on
EXCERPT_CHARS = 500
SECRET_PREFIX = "whsec_"
USER_AGENT = "dpa-service-webhooks/1"


class InvalidEndpoint(DomainError):
    status_code = 422


# -- secrets ------------------------------------------------------------------------------------


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"dpa-service webhook secrets\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_secret(secret: str, secret_key: str) -> str:
    """The endpoint secret encrypted with a key derived from DPA_SECRET_KEY."""
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def open_secret(sealed: str, secret_key: str) -> str:
    return _fernet(secret_key).decrypt(sealed.encode()).decode()


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-DPA-Signature value: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


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
                with session.begin_nested():
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


def check_url(url: str) -> str:
    url = url.strip()
    if not url or len(url) > 2000 or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise InvalidEndpoint("url must be an absolute http(s) URL without spaces (≤ 2000 chars)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise InvalidEndpoint("url is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidEndpoint("url must start with http:// or https://")
    if not parts.hostname:
        raise InvalidEndpoint("url must name a host")
    if parts.username or parts.password:
        raise InvalidEndpoint("url must not carry credentials; the signature authenticates us")
    return url


def check_events(events: list[str] | None) -> list[str] | None:
    if events is None:
        return None
    if not events:
        raise InvalidEndpoint("events must name at least one event, or be omitted for all")
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidEndpoint(f"unknown events: {', '.join(unknown)}; known: {', '.join(EVENTS)}")
    return sorted(set(events), key=EVENTS.index)


def create_endpoint(
    *,
    session: Session,
    url: str,
    events: list[str] | None,
    description: str,
    actor: str,
    secret_key: str,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned here only; stored encrypted)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        url=check_url(url),
        events=check_events(events),
        description=description.strip(),
        secret=seal_secret(secret, secret_key),
        active=True,
        created_by=actor,
    )
    session.add(endpoint)
    session.flush()
    log.info("webhook endpoint %s created by %s for %s", endpoint.id, actor, endpoint.url)
    return endpoint, secret


def list_endpoints(*, session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))


def get_endpoint(*, session: Session, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id!r} not found")
    return endpoint


def update_endpoint(
    *,
    session: Session,
    endpoint_id: str,
    url: str | None = None,
    events: list[str] | None = None,
    all_events: bool = False,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    if url is not None:
        endpoint.url = check_url(url)
    if all_events:
        endpoint.events = None
    elif events is not None:
        endpoint.events = check_events(events)
    if description is not None:
        endpoint.description = description.strip()
    if active is True and not endpoint.active:
        endpoint.active, endpoint.disabled_at = True, None
    elif active is False:
        disable_endpoint(session=session, endpoint_id=endpoint_id)
    session.flush()
    return endpoint


def disable_endpoint(*, session: Session, endpoint_id: str) -> WebhookEndpoint:
    """No more events for it; what was still waiting is marked failed (redeliverable by hand)."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    if endpoint.active:
        endpoint.active, endpoint.disabled_at = False, utcnow()
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.state == PENDING)
        .values(state=FAILED, last_error="endpoint disabled", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return endpoint


@dataclass(frozen=True)
class DeliveryLog:
    delivery: WebhookDelivery
    event: WebhookEvent
    attempts: list[WebhookAttempt]


def _with_attempts(session: Session, rows: Any) -> list[DeliveryLog]:
    pairs = list(rows)
    attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d, _ in pairs}
    if attempts:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [DeliveryLog(d, e, attempts[d.id]) for d, e in pairs]


def _newest_deliveries(limit: int) -> Any:
    return (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    )


def delivery_log(
    *, session: Session, endpoint_id: str, state: str | None = None, limit: int = 100
) -> list[DeliveryLog]:
    """An endpoint's deliveries, newest first, each with its event and every attempt."""
    get_endpoint(session=session, endpoint_id=endpoint_id)
    query = _newest_deliveries(limit).where(WebhookDelivery.endpoint_id == endpoint_id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    return _with_attempts(session, session.execute(query).all())


def recent_deliveries(*, session: Session, limit: int = 50) -> list[DeliveryLog]:
    """The newest deliveries of every endpoint (the staff page), with their attempts."""
    return _with_attempts(session, session.execute(_newest_deliveries(limit)).all())


def get_delivery(*, session: Session, delivery_id: str) -> DeliveryLog:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id!r} not found")
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    attempts = list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery.id)
            .order_by(WebhookAttempt.id)
        )
    )
    return DeliveryLog(delivery, event, attempts)


def redeliver(*, session: Session, delivery_id: str, now: datetime | None = None) -> DeliveryLog:
    """Send the same event (same id, same body) again now, whatever became of it; a failing
    redelivery is retried for webhook_retry_hours from now. Earlier attempts stay in the log."""
    now = now or utcnow()
    found = get_delivery(session=session, delivery_id=delivery_id)
    endpoint = get_endpoint(session=session, endpoint_id=found.delivery.endpoint_id)
    if not endpoint.active:
        raise Conflict("the endpoint is disabled; enable it before redelivering")
    moved = changed_rows(
        session,
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state != DELIVERING)
        .values(
            state=PENDING,
            next_attempt_at=now,
            requested_at=now,
            claimed_until=None,
        ),
    )
    if moved != 1:
        raise Conflict("the delivery is being sent right now; try again in a moment")
    session.refresh(found.delivery)
    log.info("webhook delivery %s queued again by hand", delivery_id)
    return found


# -- delivering ---------------------------------------------------------------------------------


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
            if state == DELIVERED:
                delivered += 1
            elif state == FAILED:
                log.warning(
                    "webhook delivery %s failed for good: %s", work.delivery_id, outcome.error
                )
    return delivered


def deliver_webhooks(ctx: JobContext) -> int:
    """The periodic task (see jobs.periodic.PERIODIC_TASKS)."""
    return deliver_due(session_factory=ctx.session_factory, settings=ctx.settings)
