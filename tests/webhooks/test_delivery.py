"""Webhooks reach a receiver on loopback: every event once, signed, retried, redelivered by hand."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from dpa_service.agreements.models import AgreementVersion
from dpa_service.clock import utcnow
from dpa_service.webhooks import delivery as webhook_delivery
from dpa_service.webhooks import events as webhook_events
from dpa_service.webhooks import secrets as webhook_secrets
from dpa_service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from tests.conftest import Api, wait_archived
from tests.signing.helpers import issue, open_page, sign
from tests.webhooks.conftest import Endpoint, deliveries, wait_settled
from tests.webhooks.receiver import Received, Receiver, wait_for
from tests.webhooks.verification import verify_dpa_webhook

README = Path(__file__).resolve().parents[2] / "README.md"


def verified(endpoint: Endpoint, request: Received) -> bool:
    h = request.headers
    return verify_dpa_webhook(
        endpoint.secret, h["X-DPA-Timestamp"], h["X-DPA-Signature"], request.body
    )


def types_of(requests: list[Received]) -> list[str]:
    return [r.json["type"] for r in requests]


def emit_now(api: Api, tag: str, event: str = "subprocessors.changed") -> str:
    """Record an event as the subprocessor list does; returns its id."""
    with api.session() as s:
        row = webhook_events.emit(session=s, event=event, data={"list_version": 7, "tag": tag})
        s.commit()
        return row.id


def for_event(receiver: Receiver, event_id: str) -> list[Received]:
    return receiver.requests(lambda r: r.json["id"] == event_id)


def test_a_signed_dpa_tells_the_app_every_step_once_with_a_valid_signature(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint], workspace_id: str
) -> None:
    ep = endpoint(receiver.url)
    issued = issue(api, workspace_id)  # sent
    _, csrf = open_page(api, issued)  # viewed
    assert sign(api, issued, csrf).status_code == 303  # signed, then countersigned: completed
    wait_archived(api, issued.agreement_id, issued.version)  # archived

    expected = [
        "agreement.sent",
        "agreement.viewed",
        "agreement.signed",
        "agreement.completed",
        "agreement.archived",
    ]
    wait_for(
        lambda: set(types_of(receiver.for_agreement(issued.agreement_id))) >= set(expected),
        what="all five events",
    )
    rows = wait_settled(api, ep.id, len(expected))
    got = receiver.for_agreement(issued.agreement_id)
    assert sorted(types_of(got)) == sorted(expected)  # each exactly once
    assert all(r.answered == 200 and verified(ep, r) for r in got)
    assert {d.id for d in rows} == {r.headers["X-DPA-Delivery"] for r in got}
    assert all(d.state == "delivered" and d.attempts == 1 for d in rows)
    for r in got:
        body = r.json
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["X-DPA-Event"] == body["type"]
        assert set(body) == {"id", "type", "created_at", "data"}
        assert body["created_at"].endswith("Z")
        data = body["data"]
        assert data["agreement_id"] == issued.agreement_id and data["version"] == issued.version
        assert data["counterparty"] == {"kind": "workspace", "id": workspace_id}
        assert data["state"] == body["type"].split(".")[1] or body["type"] == "agreement.archived"
    by_type = {r.json["type"]: r.json["data"] for r in got}
    assert by_type["agreement.sent"]["expires_at"]
    assert (
        by_type["agreement.completed"]["final_pdf_sha256"]
        == (by_type["agreement.archived"]["artifacts"]["completed.pdf"])
    )
    assert set(by_type["agreement.archived"]["artifacts"]) == {
        "draft.pdf",
        "completed.pdf",
        "manifest.json",
    }
    assert by_type["agreement.archived"]["state"] == "completed"


def test_declined_voided_and_expired_versions_are_reported(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint], workspace_id: str
) -> None:
    ep = endpoint(receiver.url)
    declined = issue(api, f"{workspace_id}-d")
    _, csrf = open_page(api, declined)
    r = api.client.post(
        f"{declined.path}/decline", data={"_csrf_token": csrf, "reason": "Wrong entity named"}
    )
    assert r.status_code == 200, r.text

    voided = issue(api, f"{workspace_id}-v")
    r = api.client.post(
        f"{voided.version_path}/void", json={"reason": "sent by mistake"}, headers=api.headers()
    )
    assert r.status_code == 200, r.text

    expired = issue(api, f"{workspace_id}-e")
    with api.session() as s:  # its 30 days are over: the next sweep expires it
        s.execute(
            update(AgreementVersion)
            .where(AgreementVersion.agreement_id == expired.agreement_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        s.commit()

    want = {
        declined.agreement_id: ["agreement.declined", "agreement.sent", "agreement.viewed"],
        voided.agreement_id: ["agreement.sent", "agreement.voided"],
        expired.agreement_id: ["agreement.expired", "agreement.sent"],
    }
    wait_for(
        lambda: all(
            set(types_of(receiver.for_agreement(a))) >= set(types) for a, types in want.items()
        ),
        what="declined, voided and expired",
    )
    wait_settled(api, ep.id, sum(len(t) for t in want.values()))
    for agreement_id, types in want.items():
        got = receiver.for_agreement(agreement_id)
        assert sorted(types_of(got)) == types
        assert all(verified(ep, r) for r in got)
    reasons = {
        r.json["type"]: r.json["data"].get("reason")
        for a in want
        for r in receiver.for_agreement(a)
    }
    assert reasons["agreement.declined"] == "Wrong entity named"
    assert reasons["agreement.voided"] == "sent by mistake"


def test_a_failing_receiver_is_retried_with_the_same_bytes_until_it_answers_200(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    receiver.status = 500
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    event_id = emit_now(api, "retry")
    # The background sweep makes the first attempt; each retry is due a backoff later, and the
    # test moves the clock there instead of waiting.
    wait_for(
        lambda: [d for d in deliveries(api, ep.id) if d.attempts == 1 and d.state == "pending"],
        what="the first failed attempt",
    )
    for attempt in (2, 3):
        (due,) = deliveries(api, ep.id)
        assert due.next_attempt_at is not None
        webhook_delivery.deliver_due(
            session_factory=api.session, settings=api.settings, now=due.next_attempt_at
        )
        (after,) = deliveries(api, ep.id)
        assert after.state == "pending" and after.attempts == attempt
        assert after.next_attempt_at is not None
        assert after.next_attempt_at - due.next_attempt_at == webhook_delivery.backoff(attempt)
    receiver.status = 200
    (due,) = deliveries(api, ep.id)
    assert due.next_attempt_at is not None
    delivered = webhook_delivery.deliver_due(
        session_factory=api.session, settings=api.settings, now=due.next_attempt_at
    )
    assert delivered == 1
    (delivery,) = deliveries(api, ep.id)

    got = for_event(receiver, event_id)
    assert delivery.state == "delivered" and delivery.last_status == 200
    assert [r.answered for r in got].count(200) == 1 and got[-1].answered == 200
    assert all(r.answered == 500 for r in got[:-1]) and len(got) == 4
    assert len({r.body for r in got}) == 1  # byte for byte the same body every time
    assert {r.headers["X-DPA-Delivery"] for r in got} == {delivery.id}
    assert all(verified(ep, r) for r in got)
    with api.session() as s:
        attempts = s.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
        ).all()
    assert [a.status_code for a in attempts] == [r.answered for r in got]
    assert delivery.attempts == len(got)
    assert all(a.response_excerpt and len(a.response_excerpt) <= 500 for a in attempts)
    assert attempts[0].error == "HTTP 500"

    # the log shows it to an admin
    log = api.client.get(f"/api/v1/webhooks/{ep.id}/deliveries", headers=api.headers("admin"))
    (entry,) = log.json()
    assert entry["state"] == "delivered" and entry["event_id"] == event_id
    assert [a["status_code"] for a in entry["attempt_log"]] == [r.answered for r in got]

    # delivered means done: another pass sends nothing
    before = len(receiver.requests())
    assert webhook_delivery.deliver_due(session_factory=api.session, settings=api.settings) == 0
    assert len(receiver.requests()) == before


def test_retries_go_on_for_the_whole_window_then_the_delivery_fails(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    receiver.status = 503
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    event_id = emit_now(api, "window")
    wait_for(
        lambda: [d for d in deliveries(api, ep.id) if d.attempts == 1 and d.state == "pending"],
        what="the first failed attempt",
    )
    (first,) = deliveries(api, ep.id)
    assert first.next_attempt_at is not None
    assert first.next_attempt_at - first.requested_at >= timedelta(seconds=29)  # 30 s backoff
    deadline = first.requested_at + timedelta(hours=api.settings.webhook_retry_hours)
    assert api.settings.webhook_retry_hours >= 24

    # shortly before the end it is still retried, and once more right at the end
    webhook_delivery.deliver_due(
        session_factory=api.session, settings=api.settings, now=deadline - timedelta(seconds=10)
    )
    (second,) = deliveries(api, ep.id)
    assert second.state == "pending" and second.attempts == 2
    assert second.next_attempt_at == deadline

    webhook_delivery.deliver_due(session_factory=api.session, settings=api.settings, now=deadline)
    (last,) = deliveries(api, ep.id)
    assert last.state == "failed" and last.attempts == 3 and last.last_status == 503
    assert len(for_event(receiver, event_id)) == 3

    # failed is final until someone redelivers by hand
    later = deadline + timedelta(days=2)
    webhook_delivery.deliver_due(session_factory=api.session, settings=api.settings, now=later)
    assert len(for_event(receiver, event_id)) == 3


def test_a_tampered_stale_or_foreign_request_fails_the_documented_verification(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    event_id = emit_now(api, "tamper")
    (request,) = wait_for(lambda: for_event(receiver, event_id), what="the delivery")
    ts, sig, body = (
        request.headers["X-DPA-Timestamp"],
        request.headers["X-DPA-Signature"],
        request.body,
    )
    assert re.fullmatch(r"v1=[0-9a-f]{64}", sig)
    assert abs(int(ts) - time.time()) < 120
    assert verify_dpa_webhook(ep.secret, ts, sig, body)

    tampered = body.replace(b'"list_version":7', b'"list_version":8')
    assert tampered != body
    assert not verify_dpa_webhook(ep.secret, ts, sig, tampered)
    assert not verify_dpa_webhook(ep.secret, ts, sig, body + b" ")
    assert not verify_dpa_webhook(ep.secret, str(int(ts) + 1), sig, body)
    assert not verify_dpa_webhook("whsec_someone-else", ts, sig, body)
    assert not verify_dpa_webhook(ep.secret, ts, "", body)
    assert not verify_dpa_webhook(ep.secret, "not-a-number", sig, body)
    # a correctly signed but old (or future) request is refused: no replays after 5 minutes
    for offset in (-301, 301):
        old = str(int(time.time()) + offset)
        assert not verify_dpa_webhook(
            ep.secret, old, webhook_secrets.signature(ep.secret, old, body), body
        )
    recent = str(int(time.time()) - 240)
    assert verify_dpa_webhook(
        ep.secret, recent, webhook_secrets.signature(ep.secret, recent, body), body
    )


def test_redelivery_by_hand_sends_the_same_event_again(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    event_id = emit_now(api, "redeliver")
    (delivery,) = wait_settled(api, ep.id, 1)
    assert delivery.state == "delivered"

    r = api.client.post(
        f"/api/v1/webhook-deliveries/{delivery.id}/redeliver", headers=api.headers("admin")
    )
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "pending" and r.json()["event_id"] == event_id
    first, again = wait_for(
        lambda: for_event(receiver, event_id) if len(for_event(receiver, event_id)) == 2 else None,
        what="the redelivery",
    )
    assert again.json["id"] == first.json["id"] == event_id
    assert again.body == first.body
    assert again.headers["X-DPA-Delivery"] == first.headers["X-DPA-Delivery"] == delivery.id
    assert verified(ep, again)
    (after,) = wait_settled(api, ep.id, 1)
    assert after.state == "delivered" and after.attempts == 2

    log = api.client.get(f"/api/v1/webhooks/{ep.id}/deliveries", headers=api.headers("admin"))
    assert [a["status_code"] for a in log.json()[0]["attempt_log"]] == [200, 200]
    missing = api.client.post(
        "/api/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/redeliver",
        headers=api.headers("admin"),
    )
    assert missing.status_code == 404


def test_two_delivery_passes_at_once_never_send_a_delivery_twice(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    receiver.delay_s = 0.1  # the passes overlap while requests are in flight
    with api.session() as s:
        ids = [
            webhook_events.emit(session=s, event="subprocessors.changed", data={"n": n}).id
            for n in range(8)
        ]
        s.commit()
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def run_pass() -> None:
        try:
            start.wait()
            webhook_delivery.deliver_due(session_factory=api.session, settings=api.settings)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run_pass) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    rows = wait_settled(api, ep.id, len(ids))  # the background sweep is a fourth contender
    assert not errors
    sent = Counter(r.headers["X-DPA-Delivery"] for r in receiver.requests())
    assert set(sent) == {d.id for d in rows}
    assert set(sent.values()) == {1}
    assert all(d.state == "delivered" and d.attempts == 1 for d in rows)


def test_a_claimed_delivery_cannot_be_claimed_again(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    receiver.status = 500
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    with api.session() as s:  # recorded, not committed yet: the background sweep cannot see it
        webhook_events.emit(session=s, event="subprocessors.changed", data={"claim": True})
        s.flush()
        (delivery_id,) = [
            d.id
            for d in s.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == ep.id))
        ]
        now = utcnow()
        first = webhook_delivery.claim(session=s, delivery_id=delivery_id, now=now, timeout_s=10)
        second = webhook_delivery.claim(session=s, delivery_id=delivery_id, now=now, timeout_s=10)
        assert first is not None and first.attempt == 1 and second is None
        # a worker that died holding it: once its claim ran out, another may take it
        later = now + timedelta(seconds=41)
        third = webhook_delivery.claim(session=s, delivery_id=delivery_id, now=later, timeout_s=10)
        assert third is not None and third.attempt == 2
        s.rollback()


def test_redirects_are_not_followed(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    receiver.status = 302
    receiver.location = receiver.url.replace("/hooks/dpa", "/elsewhere")
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    emit_now(api, "redirect")
    wait_for(
        lambda: [d for d in deliveries(api, ep.id) if d.attempts == 1 and d.state == "pending"]
    )
    (delivery,) = deliveries(api, ep.id)
    assert delivery.last_status == 302 and "redirects are not followed" in (
        delivery.last_error or ""
    )
    assert {r.path for r in receiver.requests()} == {"/hooks/dpa"}


def test_an_endpoint_hears_only_the_events_it_subscribed_to(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint], workspace_id: str
) -> None:
    ep = endpoint(receiver.url, events=["agreement.voided"])
    issued = issue(api, workspace_id)
    r = api.client.post(
        f"{issued.version_path}/void", json={"reason": "test"}, headers=api.headers()
    )
    assert r.status_code == 200
    (only,) = wait_for(lambda: receiver.for_agreement(issued.agreement_id), what="voided")
    wait_settled(api, ep.id, 1)
    assert only.json["type"] == "agreement.voided"
    assert [d.state for d in deliveries(api, ep.id)] == ["delivered"]


def test_archived_is_recorded_once_even_when_two_workers_notice_it(
    api: Api, workspace_id: str
) -> None:
    issued = issue(api, workspace_id)
    assert sign(api, issued).status_code == 303
    wait_archived(api, issued.agreement_id, issued.version)

    def archived() -> list[Any]:
        with api.session() as s:
            return list(
                s.scalars(
                    select(WebhookEvent).where(
                        WebhookEvent.type == "agreement.archived",
                        WebhookEvent.dedupe_key.like(f"%:{_version_id(api, issued)}"),
                    )
                )
            )

    wait_for(archived, what="agreement.archived")
    again = webhook_events.emit_archived_if_complete(
        session_factory=api.session, agreement_id=issued.agreement_id, version=issued.version
    )
    assert again is False and len(archived()) == 1
    # a version whose completed copy is not archived yet (a draft) is not "archived"
    draft = issue(api, f"{workspace_id}-2")
    assert not webhook_events.emit_archived_if_complete(
        session_factory=api.session, agreement_id=draft.agreement_id, version=draft.version
    )


def _version_id(api: Api, issued: Any) -> str:
    with api.session() as s:
        return str(
            s.scalar(
                select(AgreementVersion.id).where(
                    AgreementVersion.agreement_id == issued.agreement_id,
                    AgreementVersion.number == issued.version,
                )
            )
        )


def test_the_readme_shows_exactly_the_verification_code_the_tests_use() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    snippet = next(b for b in blocks if "def verify_dpa_webhook" in b)
    module = Path(__file__).with_name("verification.py").read_text()
    assert snippet == module


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    api: Api, receiver: Receiver, endpoint: Callable[..., Endpoint]
) -> None:
    ep = endpoint(receiver.url, events=["subprocessors.changed"])
    receiver.delay_s = 1.5
    later = utcnow() + timedelta(hours=1)
    with api.session() as s:
        webhook_events.emit(session=s, event="subprocessors.changed", data={"slow": True})
        s.flush()
        s.execute(  # out of the background sweep's reach: only the pass below sends it
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == ep.id)
            .values(next_attempt_at=later)
        )
        s.commit()
    impatient = api.settings.with_(webhook_timeout_s=0.3)
    assert (
        webhook_delivery.deliver_due(session_factory=api.session, settings=impatient, now=later)
        == 0
    )
    (delivery,) = deliveries(api, ep.id)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_status is None and "Timeout" in (delivery.last_error or "")
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > later


def test_an_archived_event_lost_in_a_crash_is_recorded_by_the_next_sweep(
    api: Api,
    receiver: Receiver,
    endpoint: Callable[..., Endpoint],
    workspace_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process dies after storing the last artifact and before recording the event."""
    from dpa_service.archive import service as archive_service

    ep = endpoint(receiver.url)
    with monkeypatch.context() as crash:
        crash.setattr(
            archive_service.webhook_events, "emit_archived_if_complete", lambda **_: False
        )
        issued = issue(api, workspace_id)
        _, csrf = open_page(api, issued)
        assert sign(api, issued, csrf).status_code == 303
        wait_archived(api, issued.agreement_id, issued.version)
    # back to normal: the sweep notices the version is archived without its event
    wait_for(
        lambda: "agreement.archived" in types_of(receiver.for_agreement(issued.agreement_id)),
        what="the archived event",
    )
    got = receiver.for_agreement(issued.agreement_id)
    assert types_of(got).count("agreement.archived") == 1
    assert all(verified(ep, r) for r in got)


def test_endpoints_on_internal_addresses_are_refused_unless_allowed(receiver: Receiver) -> None:
    """An admin's endpoint must not reach into the internal network (loopback here stands for
    it, as would 10.x, 169.254.169.254 or a compose service name)."""
    import httpx

    work = webhook_delivery.Claim(
        delivery_id="d-1",
        attempt=1,
        url=receiver.url,
        sealed_secret="",
        event_id="e-1",
        event_type="agreement.sent",
        body=b"{}",
        requested_at=utcnow(),
    )
    with httpx.Client(timeout=5) as client:
        refused = webhook_delivery.send(client, work, "secret", allow_private=False)
        assert refused.status_code is None and refused.error
        assert "127.0.0.1, which is not a public address" in refused.error
        assert receiver.requests() == []
        allowed = webhook_delivery.send(client, work, "secret", allow_private=True)
    assert allowed.ok and len(receiver.requests()) == 1
