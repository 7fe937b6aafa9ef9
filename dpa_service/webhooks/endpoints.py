"""Webhook endpoints (admins): create, change, disable; the delivery log and redelivery."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dpa_service.clock import utcnow
from dpa_service.db import changed_rows, queue_work
from dpa_service.errors import Conflict, DomainError, NotFound
from dpa_service.webhooks.events import EVENTS
from dpa_service.webhooks.models import (
    DELIVERING,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from dpa_service.webhooks.secrets import SECRET_PREFIX, seal_secret

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class InvalidEndpoint(DomainError):
    status_code = 422


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
    queue_work(session)
    log.info("webhook delivery %s queued again by hand", delivery_id)
    return found
