"""A committed state change wakes the job engine: its webhook arrives at once, not at the sweep."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, own_api
from tests.signing.helpers import issue, open_page, sign
from tests.webhooks.receiver import Receiver, wait_for

SWEEP_SECONDS = 60  # nothing is found by the periodic sweep during a test


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def slow_sweep_api(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    yield from own_api(
        request.param,
        pool,
        tmp_path_factory.mktemp(f"wake-{request.param}"),
        sweep_seconds=SWEEP_SECONDS,
        auto_countersign=False,  # legal countersigns by API below
    )


def _arrives_within_a_second(receiver: Receiver, agreement_id: str, event: str) -> float:
    started = time.monotonic()
    wait_for(
        lambda: any(r.json["type"] == event for r in receiver.for_agreement(agreement_id)),
        timeout=1.0,
        what=f"{event} within 1 s",
    )
    return time.monotonic() - started


def test_state_changes_deliver_their_webhooks_at_once(slow_sweep_api: Api) -> None:
    api = slow_sweep_api
    assert api.settings.sweep_seconds == SWEEP_SECONDS
    receiver = Receiver().start()
    try:
        r = api.client.post(
            "/api/v1/webhooks", json={"url": receiver.url}, headers=api.headers("admin")
        )
        assert r.status_code == 201, r.text
        workspace = f"ws-{uuid.uuid4().hex[:8]}"
        issued = issue(api, workspace)  # API: a signing link; the version is sent
        _arrives_within_a_second(receiver, issued.agreement_id, "agreement.sent")

        _, csrf = open_page(api, issued)  # page: the signer views and signs
        _arrives_within_a_second(receiver, issued.agreement_id, "agreement.viewed")
        assert sign(api, issued, csrf).status_code == 303
        _arrives_within_a_second(receiver, issued.agreement_id, "agreement.signed")

        r = api.client.post(  # API: legal countersigns
            f"{issued.version_path}/countersign",
            json={"name": "Marta Zariņa", "title": "Head of Legal"},
            headers=api.headers("legal"),
        )
        assert r.status_code == 200, r.text
        _arrives_within_a_second(receiver, issued.agreement_id, "agreement.completed")
    finally:
        receiver.stop()
