"""HTTP (admins only): webhook endpoints, their delivery log, redelivery."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clock import iso, iso_or_none
from dpa_service.config import Settings
from dpa_service.http.auth import roles
from dpa_service.webhooks import endpoints as webhook_endpoints
from dpa_service.webhooks.models import WebhookEndpoint
from dpa_service.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryState,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
)


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        active=endpoint.active,
        description=endpoint.description,
        created_by=endpoint.created_by,
        created_at=iso(endpoint.created_at),
        disabled_at=iso_or_none(endpoint.disabled_at),
    )


def delivery_out(entry: webhook_endpoints.DeliveryLog) -> DeliveryOut:
    d, e = entry.delivery, entry.event
    return DeliveryOut(
        id=d.id,
        endpoint_id=d.endpoint_id,
        event_id=e.id,
        event_type=e.type,
        event_created_at=iso(e.created_at),
        state=d.state,
        attempts=d.attempts,
        next_attempt_at=iso_or_none(d.next_attempt_at),
        last_status=d.last_status,
        last_error=d.last_error,
        delivered_at=iso_or_none(d.delivered_at),
        created_at=iso(d.created_at),
        attempt_log=[
            AttemptOut(
                at=iso(a.at),
                status_code=a.status_code,
                duration_ms=a.duration_ms,
                error=a.error,
                response_excerpt=a.response_excerpt,
            )
            for a in entry.attempts
        ],
    )


class WebhookController(Controller):
    tags = ["webhooks"]
    guards = [roles("admin")]

    @post("/api/v1/webhooks", sync_to_thread=True, status_code=201)
    def create(
        self,
        data: JSONBody[EndpointIn],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
    ) -> EndpointCreated:
        """Register an endpoint. The answer carries its signing secret, shown only this once."""
        endpoint, secret = webhook_endpoints.create_endpoint(
            session=db,
            url=data.url,
            events=data.events,
            description=data.description,
            actor=user.actor,
            secret_key=settings.resolved_secret_key(),
        )
        return EndpointCreated(**msgspec.structs.asdict(endpoint_out(endpoint)), secret=secret)

    @get("/api/v1/webhooks", sync_to_thread=True)
    def list_endpoints(self, db: NamedDependency[Session]) -> list[EndpointOut]:
        return [endpoint_out(e) for e in webhook_endpoints.list_endpoints(session=db)]

    @get("/api/v1/webhooks/{endpoint_id:uuid}", sync_to_thread=True)
    def show(self, endpoint_id: FromPath[UUID], db: NamedDependency[Session]) -> EndpointOut:
        return endpoint_out(
            webhook_endpoints.get_endpoint(session=db, endpoint_id=str(endpoint_id))
        )

    @patch("/api/v1/webhooks/{endpoint_id:uuid}", sync_to_thread=True)
    def update(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointPatch],
        db: NamedDependency[Session],
    ) -> EndpointOut:
        """Change the URL, events or description, or disable (`active: false`) / enable it."""
        if data.all_events and data.events is not None:
            raise webhook_endpoints.InvalidEndpoint("give either events or all_events, not both")
        endpoint = webhook_endpoints.update_endpoint(
            session=db,
            endpoint_id=str(endpoint_id),
            url=data.url,
            events=data.events,
            all_events=data.all_events,
            description=data.description,
            active=data.active,
        )
        return endpoint_out(endpoint)

    @delete("/api/v1/webhooks/{endpoint_id:uuid}", sync_to_thread=True, status_code=200)
    def disable(self, endpoint_id: FromPath[UUID], db: NamedDependency[Session]) -> EndpointOut:
        """Disable the endpoint: no new events; waiting deliveries are marked failed. Its
        delivery log is kept."""
        endpoint = webhook_endpoints.disable_endpoint(session=db, endpoint_id=str(endpoint_id))
        return endpoint_out(endpoint)

    @get("/api/v1/webhooks/{endpoint_id:uuid}/deliveries", sync_to_thread=True)
    def deliveries(
        self,
        endpoint_id: FromPath[UUID],
        db: NamedDependency[Session],
        only: Annotated[DeliveryState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=500)] = 100,
    ) -> list[DeliveryOut]:
        """The delivery log, newest first, with every attempt (status, duration, error, the
        first 500 characters of the answer)."""
        return [
            delivery_out(entry)
            for entry in webhook_endpoints.delivery_log(
                session=db, endpoint_id=str(endpoint_id), state=only, limit=limit
            )
        ]

    @post(
        "/api/v1/webhook-deliveries/{delivery_id:uuid}/redeliver",
        sync_to_thread=True,
        status_code=202,
    )
    def redeliver(
        self,
        delivery_id: FromPath[UUID],
        db: NamedDependency[Session],
    ) -> Response[DeliveryOut]:
        """Send the delivery's event again (same event id and body), now."""
        entry = webhook_endpoints.redeliver(session=db, delivery_id=str(delivery_id))
        return Response(delivery_out(entry), status_code=202)
