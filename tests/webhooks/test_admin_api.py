"""The webhook admin API: admins only, secrets shown once, hostile input refused, schema in step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from dpa_service.clock import utcnow
from dpa_service.db import Base
from dpa_service.webhooks import delivery as webhook_delivery
from dpa_service.webhooks import events as webhook_events
from dpa_service.webhooks import secrets as webhook_secrets
from dpa_service.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import Api
from tests.webhooks.conftest import Endpoint, deliveries
from tests.webhooks.receiver import Receiver, wait_for

NOBODY = "00000000-0000-4000-8000-000000000000"


def endpoint_count(api: Api) -> int:
    with api.session() as s:
        return int(s.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0)


def test_only_admins_may_use_the_webhook_api(api: Api, endpoint: Callable[..., Endpoint]) -> None:
    ep = endpoint("https://app.example.test/hooks")
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/api/v1/webhooks", {"url": "https://evil.example.test/"}),
        ("GET", "/api/v1/webhooks", None),
        ("GET", f"/api/v1/webhooks/{ep.id}", None),
        ("PATCH", f"/api/v1/webhooks/{ep.id}", {"url": "https://evil.example.test/"}),
        ("DELETE", f"/api/v1/webhooks/{ep.id}", None),
        ("GET", f"/api/v1/webhooks/{ep.id}/deliveries", None),
        ("POST", f"/api/v1/webhook-deliveries/{NOBODY}/redeliver", None),
    ]
    before = endpoint_count(api)
    for method, path, body in calls:
        for role in ("app", "legal", "sales"):
            r = api.client.request(method, path, json=body, headers=api.headers(role))
            assert r.status_code == 403, (method, path, role, r.status_code)
        anonymous = api.client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
    assert endpoint_count(api) == before
    shown = api.client.get(f"/api/v1/webhooks/{ep.id}", headers=api.headers("admin")).json()
    assert shown["url"] == "https://app.example.test/hooks" and shown["active"] is True


def test_the_secret_is_shown_once_and_stored_encrypted(
    api: Api, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint("https://app.example.test/hooks", events=["agreement.completed"])
    assert ep.secret.startswith("whsec_") and len(ep.secret) > 40
    listed = api.client.get("/api/v1/webhooks", headers=api.headers("admin"))
    shown = api.client.get(f"/api/v1/webhooks/{ep.id}", headers=api.headers("admin"))
    assert ep.secret not in listed.text and ep.secret not in shown.text
    assert "secret" not in shown.json()
    assert shown.json()["events"] == ["agreement.completed"]
    with api.session() as s:
        stored = s.get(WebhookEndpoint, ep.id)
        assert stored is not None and ep.secret not in stored.secret
        key = api.settings.resolved_secret_key()
        assert webhook_secrets.open_secret(stored.secret, key) == ep.secret


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://app.example.test/hooks"},
        {"url": "javascript:alert(1)"},
        {"url": "file:///etc/passwd"},
        {"url": "http://"},
        {"url": "not a url"},
        {"url": "https://app.example.test/ hooks"},
        {"url": "https://app.example.test/\r\nX-Injected: 1"},
        {"url": "https://user:pass@app.example.test/hooks"},
        {"url": "https://app.example.test:99999/hooks"},
        {"url": "https://app.example.test/" + "a" * 2000},
        {"url": ""},
        {},
        {"url": "https://app.example.test/hooks", "events": []},
        {"url": "https://app.example.test/hooks", "events": ["agreement.hacked"]},
        {"url": "https://app.example.test/hooks", "events": "agreement.sent"},
        {"url": "https://app.example.test/hooks", "description": "x" * 301},
        {"url": "https://app.example.test/hooks", "description": "bell\x07"},
        {"url": "https://app.example.test/hooks", "secret": "mine"},
        {"url": "https://app.example.test/hooks", "active": False},
    ],
)
def test_bad_endpoints_are_refused_and_nothing_is_created(api: Api, body: dict[str, Any]) -> None:
    before = endpoint_count(api)
    r = api.client.post("/api/v1/webhooks", json=body, headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    assert endpoint_count(api) == before


def test_bad_changes_and_unknown_ids_are_refused(
    api: Api, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint("https://app.example.test/hooks")
    admin = api.headers("admin")
    for body in (
        {"url": "gopher://app.example.test/"},
        {"events": ["nope"]},
        {"events": ["agreement.sent"], "all_events": True},
        {"active": "yes"},
        {"unknown": 1},
    ):
        r = api.client.patch(f"/api/v1/webhooks/{ep.id}", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
    shown = api.client.get(f"/api/v1/webhooks/{ep.id}", headers=admin).json()
    assert shown["url"] == "https://app.example.test/hooks" and shown["events"] is None

    r = api.client.patch(
        f"/api/v1/webhooks/{ep.id}", json={"events": ["agreement.sent"]}, headers=admin
    )
    assert r.status_code == 200 and r.json()["events"] == ["agreement.sent"]
    r = api.client.patch(f"/api/v1/webhooks/{ep.id}", json={"all_events": True}, headers=admin)
    assert r.status_code == 200 and r.json()["events"] is None

    for method, path in (
        ("GET", f"/api/v1/webhooks/{NOBODY}"),
        ("DELETE", f"/api/v1/webhooks/{NOBODY}"),
        ("GET", f"/api/v1/webhooks/{NOBODY}/deliveries"),
        ("POST", f"/api/v1/webhook-deliveries/{NOBODY}/redeliver"),
    ):
        assert api.client.request(method, path, headers=admin).status_code == 404, path
    assert api.client.get("/api/v1/webhooks/not-a-uuid", headers=admin).status_code in (404, 422)
    bad_query = api.client.get(
        f"/api/v1/webhooks/{ep.id}/deliveries?state=weird&limit=0", headers=admin
    )
    assert bad_query.status_code in (400, 422)


def test_a_disabled_endpoint_gets_nothing_more_and_cannot_be_redelivered_to(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    receiver.status = 500
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    admin = api.headers("admin")
    with api.session() as s:
        webhook_events.emit(session=s, event="subprocessors.changed", data={"step": "before"})
        s.commit()
    wait_for(lambda: receiver.requests(), what="an attempt")

    r = api.client.delete(f"/api/v1/webhooks/{ep.id}", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["disabled_at"]
    # waiting for its retry, or still in flight when disabled: failed either way
    (waiting,) = wait_for(
        lambda: [d for d in deliveries(api, ep.id) if d.state == "failed"], what="failed"
    )
    assert waiting.last_error == "endpoint disabled" and waiting.next_attempt_at is None

    with api.session() as s:
        webhook_events.emit(session=s, event="subprocessors.changed", data={"step": "after"})
        s.commit()
    assert len(deliveries(api, ep.id)) == 1  # no delivery for a disabled endpoint
    r = api.client.post(f"/api/v1/webhook-deliveries/{waiting.id}/redeliver", headers=admin)
    assert r.status_code == 409 and "disabled" in r.json()["detail"]

    log = api.client.get(f"/api/v1/webhooks/{ep.id}/deliveries?state=failed", headers=admin)
    assert [d["id"] for d in log.json()] == [waiting.id]  # the log is kept

    r = api.client.patch(f"/api/v1/webhooks/{ep.id}", json={"active": True}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is True
    receiver.status = 200
    r = api.client.post(f"/api/v1/webhook-deliveries/{waiting.id}/redeliver", headers=admin)
    assert r.status_code == 202
    wait_for(
        lambda: [d for d in deliveries(api, ep.id) if d.state == "delivered"], what="redelivery"
    )


def test_webhook_routes_are_in_the_openapi_schema(api: Api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/webhooks"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/webhooks/{endpoint_id}"])
    assert "get" in paths["/api/v1/webhooks/{endpoint_id}/deliveries"]
    assert "post" in paths["/api/v1/webhook-deliveries/{delivery_id}/redeliver"]


def test_the_webhook_tables_match_their_models(api: Api) -> None:
    with api.engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    ours = [d for d in diffs if "webhook_" in repr(d)]
    assert ours == []


def test_an_endpoint_disabled_while_an_attempt_is_in_flight_ends_failed(
    api: Api, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint("https://app.example.test/hooks", events=["subprocessors.changed"])
    later = utcnow() + timedelta(hours=1)
    with api.session() as s:
        webhook_events.emit(session=s, event="subprocessors.changed", data={"in_flight": True})
        s.flush()
        s.execute(  # out of the background sweep's reach
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == ep.id)
            .values(next_attempt_at=later)
        )
        s.commit()
    (delivery,) = deliveries(api, ep.id)
    with api.session() as s:
        work = webhook_delivery.claim(session=s, delivery_id=delivery.id, now=later, timeout_s=10)
        s.commit()
    assert work is not None
    r = api.client.delete(f"/api/v1/webhooks/{ep.id}", headers=api.headers("admin"))
    assert r.status_code == 200
    assert [d.state for d in deliveries(api, ep.id)] == ["delivering"]
    with api.session() as s:
        outcome = webhook_delivery.Outcome(500, "HTTP 500", "no", 12)
        webhook_delivery.finish(session=s, work=work, outcome=outcome, now=later, retry_hours=30)
    (after,) = deliveries(api, ep.id)
    assert after.state == "failed" and after.last_error == "endpoint disabled"
