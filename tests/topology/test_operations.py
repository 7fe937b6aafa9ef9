"""What operators rely on when several replicas run: metrics, a bounded /ready, a 503 while the
database is away, request ids that follow the work, and rate limits counted once in Redis."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from litestar.testing import TestClient
from sqlalchemy import select

from dpa_service.app import create_app
from dpa_service.archive.models import ArchiveObject
from dpa_service.rendering.converter import ConverterPool
from dpa_service.runtime import JsonLogFormatter
from tests.archive.conftest import MotoS3
from tests.archive.test_durability import s3_overrides
from tests.conftest import PG_URL, Api, _postgres_database, make_api, own_api, serve
from tests.topology.tcp import Forwarder

REDIS_URL = "redis://127.0.0.1:6379/9"

SERIES = (
    'dpa_generation_seconds_bucket{le="5.0"}',
    'dpa_signing_seconds_bucket{le="5.0",step="sign"}',
    'dpa_signing_seconds_count{step="complete"}',
    "dpa_converter_busy ",
    "dpa_converter_queued ",
    'dpa_queue_depth{task="archive"}',
    'dpa_queue_depth{task="mail"}',
    'dpa_queue_depth{task="webhooks"}',
    'dpa_job_failures_total{task="archive"}',
    'dpa_job_failures_total{task="mail"}',
    'dpa_job_runs_total{outcome="ok",task="webhooks"}',
    "dpa_archive_pending ",
    'dpa_webhook_deliveries_total{outcome="delivered"}',
    'dpa_webhook_deliveries_total{outcome="failed"}',
)


def scrape_has_series(text: str) -> list[str]:
    """The series of SERIES missing from a /metrics answer."""
    return [name for name in SERIES if name not in text]


def _redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")


def test_metrics_carry_the_operators_series(api: Api) -> None:
    ws = f"metrics-{uuid.uuid4().hex[:8]}"
    api.put_workspace(ws)
    assert api.request_dpa(ws).status_code == 201
    r = api.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert scrape_has_series(r.text) == []
    count = [
        line for line in r.text.splitlines() if line.startswith("dpa_generation_seconds_count")
    ]
    assert count and float(count[0].split()[-1]) >= 1


def test_request_ids_are_answered_logged_and_stored_with_the_work_they_queue(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    ws = f"rid-{uuid.uuid4().hex[:8]}"
    api.put_workspace(ws)
    with caplog.at_level(logging.INFO, logger="dpa_service.access"):
        r = api.client.post(
            f"/api/v1/workspaces/{ws}/agreements",
            headers={**api.headers(), "X-Request-ID": "req-topology-1"},
        )
    assert r.status_code == 201 and r.headers["x-request-id"] == "req-topology-1"
    with api.session() as s:
        obj = s.scalars(
            select(ArchiveObject).where(ArchiveObject.agreement_id == r.json()["agreement_id"])
        ).one()
    assert obj.request_id == "req-topology-1"
    (line,) = [
        rec
        for rec in caplog.records
        if getattr(rec, "path", "") == f"/api/v1/workspaces/{ws}/agreements"
    ]
    formatted = json.loads(JsonLogFormatter().format(line))
    assert formatted["status"] == 201 and formatted["method"] == "POST"
    assert formatted["duration_ms"] > 0
    # a header that is not a plain token is replaced, never logged
    odd = api.client.get("/health", headers={"X-Request-ID": "two words<script>" + "a" * 100})
    assert odd.headers["x-request-id"].isalnum()


def test_answers_from_the_middleware_are_logged_and_counted_with_their_own_status(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad token's 401 (raised by the authentication middleware, like the limiter's 429) is
    logged and counted as 401, not 500, and answers its request id."""

    def counted(status: str) -> float:
        text = api.client.get("/metrics").text
        prefix = f'dpa_http_requests_total{{method="GET",status="{status}"}} '
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))

    before_401, before_500 = counted("401"), counted("500")
    with caplog.at_level(logging.INFO, logger="dpa_service.access"):
        r = api.client.get(
            "/api/v1/agreements",
            headers={"Authorization": "Bearer dpa_not-a-token", "X-Request-ID": "req-401"},
        )
    assert r.status_code == 401
    assert r.headers.get("x-request-id") == "req-401"
    (line,) = [rec for rec in caplog.records if getattr(rec, "path", "") == "/api/v1/agreements"]
    assert json.loads(JsonLogFormatter().format(line))["status"] == 401
    assert counted("401") == before_401 + 1 and counted("500") == before_500


def test_a_job_logs_the_request_id_of_the_work_it_does(caplog: pytest.LogCaptureFixture) -> None:
    from dpa_service.log_context import request_id_bound

    record = logging.LogRecord("dpa_service.jobs", logging.INFO, "", 0, "job %s", ("mail",), None)
    record.job = "mail"
    with request_id_bound("req-7"):
        line = json.loads(JsonLogFormatter().format(record))
    assert line["request_id"] == "req-7" and line["job"] == "mail" and line["message"] == "job mail"


@pytest.fixture
def hanging_s3_api(
    s3: MotoS3, pool: ConverterPool, tmp_path: Path
) -> Iterator[tuple[Api, Forwarder]]:
    forwarder = Forwarder(s3.port)
    bucket = s3.create_bucket()
    try:
        for url in _postgres_database():
            yield from (
                (api, forwarder)
                for api in make_api(
                    "postgresql",
                    url,
                    tmp_path,
                    pool,
                    **s3_overrides(s3, bucket, endpoint=f"http://127.0.0.1:{forwarder.port}"),
                )
            )
    finally:
        forwarder.close()


def test_ready_answers_within_two_seconds_when_s3_hangs_and_shows_details_to_admins_only(
    hanging_s3_api: tuple[Api, Forwarder],
) -> None:
    api, s3 = hanging_s3_api
    ok = api.client.get("/ready")
    assert ok.status_code == 200, ok.text
    assert ok.json()["checks"] == {"database": "ok", "archive": "ok", "converter": "ok"}
    admin = api.client.get("/ready", headers=api.headers("admin")).json()["checks"]
    assert api.settings.s3_bucket in admin["archive"]
    assert api.settings.s3_bucket not in api.client.get("/ready", headers=api.headers()).text

    s3.set_mode("hang")
    for _ in range(3):  # again and again: a hanging check is not started twice
        started = time.monotonic()
        r = api.client.get("/ready")
        assert time.monotonic() - started < 2.0
        assert r.status_code == 503 and r.headers["retry-after"]
        assert r.json()["checks"]["archive"] == "error"
        assert r.json()["checks"]["database"] == "ok"
    started = time.monotonic()
    admin = api.client.get("/ready", headers=api.headers("admin")).json()["checks"]
    assert time.monotonic() - started < 2.0
    assert "no answer within" in admin["archive"]
    s3.set_mode("forward")


def test_a_database_outage_answers_503_with_retry_after_and_the_service_recovers(
    pool: ConverterPool, tmp_path: Path
) -> None:
    port = int(PG_URL.rsplit(":", 1)[1].split("/")[0])
    database = Forwarder(port)
    try:
        for url in _postgres_database():
            via = url.replace(f":{port}/", f":{database.port}/")
            for api in make_api("postgresql", via, tmp_path, pool):
                ws = f"pg-{uuid.uuid4().hex[:8]}"
                assert api.put_workspace(ws).status_code == 201
                database.set_mode("refuse")  # as `pg_ctlcluster … restart -m fast` does
                for path in (f"/api/v1/workspaces/{ws}", "/subprocessors"):
                    r = api.client.get(path, headers=api.headers(), follow_redirects=False)
                    assert r.status_code == 503, (path, r.status_code, r.text[:300])
                    assert r.headers["retry-after"] == "2"
                assert api.request_dpa(ws).status_code == 503
                database.set_mode("forward")
                assert (
                    api.client.get(f"/api/v1/workspaces/{ws}", headers=api.headers()).status_code
                    == 200
                )
                assert api.request_dpa(ws).status_code == 201
    finally:
        database.close()


def test_a_database_that_hangs_answers_503_in_bounded_time_and_blocks_nothing_else(
    pool: ConverterPool, tmp_path: Path
) -> None:
    """A database that accepts connections and never answers (a partition, a stuck failover):
    an API call answers 503 with Retry-After within a bounded time, and meanwhile the replica
    still answers what needs no database (the token check ran on the event loop and froze it,
    /health included, for as long as the connection hung)."""
    import concurrent.futures

    import httpx

    port = int(PG_URL.rsplit(":", 1)[1].split("/")[0])
    database = Forwarder(port)
    try:
        for url in _postgres_database():
            via = url.replace(f":{port}/", f":{database.port}/")
            for api in make_api("postgresql", via, tmp_path, pool):
                ws = f"hang-{uuid.uuid4().hex[:8]}"
                assert api.put_workspace(ws).status_code == 201
                for live in serve(api, pool):
                    database.set_mode("hang")
                    with concurrent.futures.ThreadPoolExecutor(1) as run:
                        started = time.monotonic()
                        pending = run.submit(
                            httpx.get,
                            f"{live.url}/api/v1/workspaces/{ws}",
                            headers=api.headers(),
                            timeout=60,
                        )
                        time.sleep(0.5)  # the call is waiting for the database
                        health = httpx.get(f"{live.url}/health", timeout=5)
                        assert health.status_code == 200
                        answer = pending.result(timeout=60)
                        took = time.monotonic() - started
                    assert answer.status_code == 503, answer.text[:300]
                    assert answer.headers["retry-after"] and took < 15, took
                    database.set_mode("forward")
                    back = httpx.get(
                        f"{live.url}/api/v1/workspaces/{ws}", headers=api.headers(), timeout=30
                    )
                    assert back.status_code == 200
    finally:
        database.close()


def test_the_rate_limit_counts_once_across_two_replicas(
    pool: ConverterPool, tmp_path: Path
) -> None:
    _redis()
    name = f"dpa-test-{uuid.uuid4().hex[:8]}"
    for api in own_api(
        "postgresql", pool, tmp_path, redis_url=REDIS_URL, queue_name=name, rate_limit_per_minute=4
    ):
        second = create_app(api.settings, pool=pool, archive=api.archive, engine=api.engine)
        with TestClient(second, base_url=api.settings.public_url) as other:
            answers = []
            for i in range(5):  # the limit plus one, split over the replicas
                client = api.client if i % 2 == 0 else other
                answers.append(client.get("/verify").status_code)
            assert answers == [200, 200, 200, 200, 429]
            assert api.client.get("/verify").status_code == 429
        keys = redis.Redis.from_url(REDIS_URL).keys(f"dpa-rate-limit-{name}*")
        assert keys  # counted in Redis, not in either process
