"""HTTP (admins only): webhook endpoints, their delivery log, and redelivery by hand; the API and
the staff page."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.guards import roles
from dpa_service.accounts.service import Principal
from dpa_service.clock import iso, iso_or_none
from dpa_service.counterparties.schemas import Strict
from dpa_service.errors import DomainError
from dpa_service.notify import webhooks
from dpa_service.notify.webhook_models import WebhookEndpoint
from dpa_service.web.staff import staff

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Description = Annotated[str, msgspec.Meta(max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]
EventName = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
DeliveryState = Literal["pending", "delivering", "delivered", "failed"]


class EndpointIn(Strict):
    url: Url
    events: list[EventName] | None = None  # omitted or null: every event
    description: Description = ""


class EndpointPatch(Strict):
    url: Url | None = None
    events: list[EventName] | None = None
    all_events: bool = False  # true: subscribe to every event (events must be omitted)
    description: Description | None = None
    active: bool | None = None


class EndpointOut(msgspec.Struct):
    id: str
    url: str
    events: list[str] | None
    active: bool
    description: str
    created_by: str
    created_at: str
    disabled_at: str | None


class EndpointCreated(EndpointOut):
    secret: str  # shown only in this answer


class AttemptOut(msgspec.Struct):
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None


class DeliveryOut(msgspec.Struct):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    event_created_at: str
    state: str
    attempts: int
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    delivered_at: str | None
    created_at: str
    attempt_log: list[AttemptOut]


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


def delivery_out(entry: webhooks.DeliveryLog) -> DeliveryOut:
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
        state: State,
        request: Request[Principal, None, State],
    ) -> EndpointCreated:
        """Register an endpoint. The answer carries its signing secret, shown only this once."""
        endpoint, secret = webhooks.create_endpoint(
            session=db,
            url=data.url,
            events=data.events,
            description=data.description,
            actor=request.user.actor,
            secret_key=state.settings.resolved_secret_key(),
        )
        db.commit()
        return EndpointCreated(**msgspec.structs.asdict(endpoint_out(endpoint)), secret=secret)

    @get("/api/v1/webhooks", sync_to_thread=True)
    def list_endpoints(self, db: NamedDependency[Session]) -> list[EndpointOut]:
        return [endpoint_out(e) for e in webhooks.list_endpoints(session=db)]

    @get("/api/v1/webhooks/{endpoint_id:uuid}", sync_to_thread=True)
    def show(self, endpoint_id: FromPath[UUID], db: NamedDependency[Session]) -> EndpointOut:
        return endpoint_out(webhooks.get_endpoint(session=db, endpoint_id=str(endpoint_id)))

    @patch("/api/v1/webhooks/{endpoint_id:uuid}", sync_to_thread=True)
    def update(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointPatch],
        db: NamedDependency[Session],
    ) -> EndpointOut:
        """Change the URL, events or description, or disable (`active: false`) / enable it."""
        if data.all_events and data.events is not None:
            raise webhooks.InvalidEndpoint("give either events or all_events, not both")
        endpoint = webhooks.update_endpoint(
            session=db,
            endpoint_id=str(endpoint_id),
            url=data.url,
            events=data.events,
            all_events=data.all_events,
            description=data.description,
            active=data.active,
        )
        db.commit()
        return endpoint_out(endpoint)

    @delete("/api/v1/webhooks/{endpoint_id:uuid}", sync_to_thread=True, status_code=200)
    def disable(self, endpoint_id: FromPath[UUID], db: NamedDependency[Session]) -> EndpointOut:
        """Disable the endpoint: no new events; waiting deliveries are marked failed. Its
        delivery log is kept."""
        endpoint = webhooks.disable_endpoint(session=db, endpoint_id=str(endpoint_id))
        db.commit()
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
            for entry in webhooks.delivery_log(
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
        request: Request[Principal, None, State],
    ) -> Response[DeliveryOut]:
        """Send the delivery's event again (same event id and body), now."""
        entry = webhooks.redeliver(session=db, delivery_id=str(delivery_id))
        db.commit()
        request.app.state.jobs.kick()
        return Response(delivery_out(entry), status_code=202)


class WebhookPages(Controller):
    """/staff/webhooks: endpoints and recent deliveries, with a Redeliver button (admins)."""

    path = "/staff/webhooks"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def overview(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        error: FromQuery[str] = "",
        done: FromQuery[str] = "",
    ) -> Template:
        user = staff(request, db, "admin")
        endpoints = webhooks.list_endpoints(session=db)
        return Template(
            "staff/webhooks.html",
            context={
                "user": user,
                "endpoints": endpoints,
                "urls": {e.id: e.url for e in endpoints},
                "deliveries": webhooks.recent_deliveries(session=db, limit=50),
                "error": error[:300] or None,
                "done": done[:300] or None,
            },
        )

    @post("/deliveries/{delivery_id:uuid}/redeliver", status_code=303, sync_to_thread=True)
    def redeliver(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        delivery_id: FromPath[UUID],
    ) -> Redirect:
        admin = staff(request, db, "admin")
        try:
            entry = webhooks.redeliver(session=db, delivery_id=str(delivery_id))
        except DomainError as exc:
            return Redirect(f"/staff/webhooks?error={quote(exc.detail)}", status_code=303)
        db.commit()
        request.app.state.jobs.kick()
        note = f"{entry.event.type} ({entry.event.id}) will be sent again now; by {admin.name}"
        return Redirect(f"/staff/webhooks?done={quote(note)}", status_code=303)
