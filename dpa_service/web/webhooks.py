"""Staff page (admins): webhook endpoints, recent deliveries, redeliver."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.errors import DomainError
from dpa_service.web.staff import staff
from dpa_service.webhooks import endpoints as webhook_endpoints


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
        endpoints = webhook_endpoints.list_endpoints(session=db)
        return Template(
            "staff/webhooks.html",
            context={
                "user": user,
                "endpoints": endpoints,
                "urls": {e.id: e.url for e in endpoints},
                "deliveries": webhook_endpoints.recent_deliveries(session=db, limit=50),
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
            entry = webhook_endpoints.redeliver(session=db, delivery_id=str(delivery_id))
        except DomainError as exc:
            return Redirect(f"/staff/webhooks?error={quote(exc.detail)}", status_code=303)
        db.commit()
        request.app.state.jobs.kick()
        note = f"{entry.event.type} ({entry.event.id}) will be sent again now; by {admin.name}"
        return Redirect(f"/staff/webhooks?done={quote(note)}", status_code=303)
