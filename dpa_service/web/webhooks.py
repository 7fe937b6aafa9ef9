"""Staff page (admins): webhook endpoints, recent deliveries, redeliver."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.http.auth import roles
from dpa_service.http.errors import back_with
from dpa_service.webhooks import endpoints as webhook_endpoints

HOME = "/staff/webhooks"


class WebhookPages(Controller):
    """/staff/webhooks: endpoints and recent deliveries, with a Redeliver button (admins)."""

    path = HOME
    include_in_schema = False
    guards = [roles("admin")]

    @get("/", sync_to_thread=True)
    def overview(self, db: NamedDependency[Session]) -> Template:
        endpoints = webhook_endpoints.list_endpoints(session=db)
        return Template(
            "staff/webhooks.html",
            context={
                "endpoints": endpoints,
                "urls": {e.id: e.url for e in endpoints},
                "deliveries": webhook_endpoints.recent_deliveries(session=db, limit=50),
            },
        )

    @post(
        "/deliveries/{delivery_id:uuid}/redeliver",
        status_code=303,
        sync_to_thread=True,
        opt={"back": HOME},
    )
    def redeliver(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        delivery_id: FromPath[UUID],
    ) -> Redirect:
        entry = webhook_endpoints.redeliver(session=db, delivery_id=str(delivery_id))
        note = f"{entry.event.type} ({entry.event.id}) will be sent again now; by {user.name}"
        return back_with(HOME, done=note)
