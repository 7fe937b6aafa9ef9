"""With SAQ workers, a version left `signed` by a failed automatic countersignature is completed
by a worker: the one list of periodic tasks runs on both engines."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from dpa_service.agreements.models import AgreementVersion
from dpa_service.audit.models import AuditEvent
from dpa_service.clock import utcnow
from dpa_service.rendering.converter import ConverterBusy, ConverterPool
from tests.conftest import Api, own_api, start_worker, wait_archived
from tests.signing.helpers import issue, open_page, sign

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture(params=["sqlite", "postgresql"])
def queued_api(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path: Path
) -> Iterator[Api]:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield from own_api(
        request.param,
        pool,
        tmp_path,
        queue_url=REDIS_URL,
        queue_name=f"dpa-test-{uuid.uuid4().hex[:8]}",  # runs never share a queue
    )


def _state(api: Api, issued: object) -> str:
    with api.session() as s:
        return str(
            s.scalar(
                select(AgreementVersion.state).where(
                    AgreementVersion.agreement_id == issued.agreement_id  # type: ignore[attr-defined]
                )
            )
        )


def test_a_worker_completes_a_version_the_automatic_countersignature_left_signed(
    queued_api: Api, pool: ConverterPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = queued_api
    issued = issue(api, f"stuck-{uuid.uuid4().hex[:6]}")
    _, csrf = open_page(api, issued)

    def saturated(_docx: bytes) -> bytes:
        raise ConverterBusy(retry_after=1)

    with monkeypatch.context() as busy:  # the converter is saturated while the signer signs
        busy.setattr(pool, "convert", saturated)
        assert sign(api, issued, csrf).status_code == 303
    assert _state(api, issued) == "signed"  # the signature stands; the countersignature failed

    # A minute passes (complete_stuck leaves fresh signatures to the request that made them).
    with api.session() as s:
        s.execute(
            update(AgreementVersion)
            .where(AgreementVersion.agreement_id == issued.agreement_id)
            .values(signed_at=utcnow() - timedelta(minutes=2))
        )
        s.commit()

    log = tmp_path / "worker.log"
    worker = start_worker(
        api,
        log,
        DPA_AUTO_COUNTERSIGN="true",
        DPA_PROCESSOR_SIGNATORY_NAME=api.settings.processor_signatory_name,
        DPA_CONVERTER_WORKERS="1",
    )
    try:
        deadline = time.monotonic() + 120
        while _state(api, issued) != "completed":
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        wait_archived(api, issued.agreement_id, issued.version, timeout=60)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)

    with api.session() as s:
        countersigned = s.scalars(
            select(AuditEvent).where(
                AuditEvent.agreement_id == issued.agreement_id, AuditEvent.type == "countersigned"
            )
        ).one()
    assert countersigned.data["auth_method"] == "Authorised signatory (automatic)"
    completed = api.client.get(f"{issued.version_path}/completed.pdf", headers=api.headers())
    assert completed.status_code == 200 and completed.content.startswith(b"%PDF-")
