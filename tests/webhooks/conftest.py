"""Webhook fixtures: a loopback receiver, endpoints made through the admin API, short backoff."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from dpa_service.webhooks.models import WebhookDelivery
from tests.conftest import Api
from tests.webhooks.receiver import Receiver, wait_for


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    secret: str


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def endpoint(api: Api) -> Iterator[Callable[..., Endpoint]]:
    """Register endpoints as an admin would; they are disabled again after the test, so other
    tests sharing the app do not feed them."""
    made: list[str] = []

    def make(url: str, events: list[str] | None = None, description: str = "test") -> Endpoint:
        body: dict[str, Any] = {"url": url, "description": description}
        if events is not None:
            body["events"] = events
        r = api.client.post("/api/v1/webhooks", json=body, headers=api.headers("admin"))
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        return Endpoint(r.json()["id"], url, r.json()["secret"])

    yield make
    for endpoint_id in made:
        api.client.delete(f"/api/v1/webhooks/{endpoint_id}", headers=api.headers("admin"))


def deliveries(api: Api, endpoint_id: str) -> list[WebhookDelivery]:
    with api.session() as s:
        return list(
            s.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
        )


def wait_settled(api: Api, endpoint_id: str, count: int, timeout: float = 60) -> list[Any]:
    """Wait until the endpoint has `count` deliveries and none is still pending or in flight."""

    def settled() -> list[WebhookDelivery] | None:
        rows = deliveries(api, endpoint_id)
        done = len(rows) >= count and all(d.state in ("delivered", "failed") for d in rows)
        return rows if done else None

    return wait_for(settled, timeout, f"{count} deliveries of {endpoint_id} to settle")  # type: ignore[no-any-return]
