"""Two SAQ workers (and the embedded engine's code, from this process, at the same time) never
run the same archive write or e-mail twice; a worker killed holding a claim leaves its job to
another, which does it once the claim runs out."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from dpa_service.archive import service as archive_service
from dpa_service.archive.models import ArchiveObject
from dpa_service.clock import utcnow
from dpa_service.jobs.context import JobContext
from dpa_service.jobs.periodic import archive_pending, run_periodic
from dpa_service.notify import outbox
from dpa_service.notify.models import OutboundEmail
from dpa_service.rendering.converter import ConverterPool
from dpa_service.runtime import make_archive
from tests.archive.conftest import AWS_ENV, REGION, MotoS3
from tests.conftest import Api, _postgres_database, make_api, start_worker
from tests.smtp import LoopbackSMTP
from tests.topology.tcp import Forwarder

REDIS_URL = "redis://127.0.0.1:6379/9"
PUT = re.compile(rb"PUT /[^/ ]+/(agreements/[^ ?]+)")


@pytest.fixture
def cluster(
    s3: MotoS3, pool: ConverterPool, tmp_path: Path
) -> Iterator[tuple[Api, Forwarder, Forwarder, LoopbackSMTP]]:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    s3_proxy = Forwarder(s3.port)
    smtp = LoopbackSMTP()
    smtp.start()
    smtp_proxy = Forwarder(smtp.port)
    bucket = s3.create_bucket()
    try:
        for url in _postgres_database():
            yield from (
                (api, s3_proxy, smtp_proxy, smtp)
                for api in make_api(
                    "postgresql",
                    url,
                    tmp_path,
                    pool,
                    archive="s3",
                    s3_bucket=bucket,
                    s3_region=REGION,
                    s3_endpoint_url=f"http://127.0.0.1:{s3_proxy.port}",
                    s3_object_lock_mode="COMPLIANCE",
                    s3_retention_days=1,
                    queue_url=REDIS_URL,
                    queue_name=f"dpa-test-{uuid.uuid4().hex[:8]}",
                    smtp_host="127.0.0.1",
                    smtp_port=smtp_proxy.port,
                    smtp_starttls=False,
                )
            )
    finally:
        s3_proxy.close()
        smtp_proxy.close()
        smtp.stop()


def worker_env(api: Api, **more: str) -> dict[str, str]:
    s = api.settings
    return {
        **AWS_ENV,
        "DPA_ARCHIVE": "s3",
        "DPA_S3_BUCKET": s.s3_bucket,
        "DPA_S3_REGION": s.s3_region,
        "DPA_S3_ENDPOINT_URL": s.s3_endpoint_url,
        "DPA_S3_OBJECT_LOCK_MODE": "COMPLIANCE",
        "DPA_S3_RETENTION_DAYS": "1",
        "DPA_SMTP_HOST": "127.0.0.1",
        "DPA_SMTP_PORT": str(s.smtp_port),
        "DPA_SMTP_STARTTLS": "false",
        "DPA_CONVERTER_WORKERS": "1",
        **more,
    }


def stage_work(
    api: Api, n: int, tag: str, *, objects: bool = True, mails: bool = True
) -> tuple[list[str], list[str]]:
    """n archive objects and/or n e-mails, as requests would leave them."""
    keys, message_ids = [], []
    with api.session() as s:
        for i in range(n):
            data = f"%PDF-1.7 {tag} {i}".encode()
            if objects:
                obj = archive_service.stage(
                    session=s,
                    agreement_id=str(uuid.uuid4()),
                    version=1,
                    artifact="draft.pdf",
                    data=data,
                )
                keys.append(obj.key)
            if not mails:
                continue
            mail = outbox.enqueue(
                session=s,
                to=f"{tag}-{i}@example.lv",
                subject=f"{tag} {i}",
                text="A link to sign.",
                kind="test",
            )
            message_ids.append(mail.message_id)
        s.commit()
    return keys, message_ids


def puts_per_key(proxy: Forwarder) -> Counter[str]:
    return Counter(
        m.group(1).decode() for stream in list(proxy.streams) for m in PUT.finditer(bytes(stream))
    )


def wait_until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_two_workers_and_a_third_engine_never_do_one_write_or_mail_twice(
    cluster: tuple[Api, Forwarder, Forwarder, LoopbackSMTP], tmp_path: Path
) -> None:
    api, s3_proxy, _, smtp = cluster
    workers = [start_worker(api, tmp_path / f"w{i}.log", **worker_env(api)) for i in range(2)]
    wait_until(
        lambda: all("Worker starting" in (tmp_path / f"w{i}.log").read_text() for i in range(2)),
        60,
        "both workers to start",
    )
    keys, message_ids = stage_work(api, 24, "race")
    # the embedded engine's code, in four more threads of this process, at the same time
    ctx = JobContext(api.app.state.session_factory, make_archive(api.settings), api.settings)
    stop_threads = threading.Event()

    def engine() -> None:
        while not stop_threads.is_set():
            run_periodic(ctx)
            archive_pending(ctx)

    threads = [threading.Thread(target=engine) for _ in range(4)]
    for t in threads:
        t.start()
    try:

        def all_done() -> bool:
            with api.session() as s:
                objs = s.scalars(select(ArchiveObject.state).where(ArchiveObject.key.in_(keys)))
                mails = s.scalars(
                    select(OutboundEmail.state).where(OutboundEmail.message_id.in_(message_ids))
                )
                return all(x == "stored" for x in objs) and all(m == "sent" for m in mails)

        wait_until(all_done, 90, "every object stored and every e-mail sent")
    finally:
        stop_threads.set()
        for t in threads:
            t.join(30)
        for w in workers:
            stop(w)
    puts = puts_per_key(s3_proxy)
    assert {k: puts[k] for k in keys} == dict.fromkeys(keys, 1)  # one upload per object
    received = Counter(m["Message-ID"] for m in smtp.messages)
    assert {m: received[m] for m in message_ids} == dict.fromkeys(message_ids, 1)
    with api.session() as s:
        assert set(
            s.scalars(select(ArchiveObject.attempts).where(ArchiveObject.key.in_(keys)))
        ) == {1}
        assert set(
            s.scalars(
                select(OutboundEmail.attempts).where(OutboundEmail.message_id.in_(message_ids))
            )
        ) == {1}
    for i in range(2):  # both took part until the end and stopped cleanly
        assert '"message": "worker stopped"' in (tmp_path / f"w{i}.log").read_text()


def test_a_killed_workers_claimed_jobs_are_done_by_another(
    cluster: tuple[Api, Forwarder, Forwarder, LoopbackSMTP], tmp_path: Path
) -> None:
    api, s3_proxy, smtp_proxy, smtp = cluster
    env = worker_env(api, DPA_JOB_TIMEOUT_SECONDS="4", DPA_SMTP_TIMEOUT_S="30")

    def row(model: Any, where: Any) -> Any:
        with api.session() as s:
            return s.scalars(select(model).where(where)).one()

    def kill_holding(proxy: Forwarder, claimed: Any, log: str) -> None:
        """A worker whose request hangs at `proxy`, killed once it holds the claim."""
        proxy.set_mode("hang")
        first = start_worker(api, tmp_path / log, **env)
        try:
            wait_until(claimed, 60, "the first worker to claim the job")
        finally:
            os.killpg(first.pid, signal.SIGKILL)  # it dies holding the claim
            first.wait(10)
        proxy.set_mode("forward")

    # an archive write: its claim lasts DPA_JOB_TIMEOUT_SECONDS, then another worker takes it
    (key,), _ = stage_work(api, 1, "killed", mails=False)
    kill_holding(
        s3_proxy,
        lambda: row(ArchiveObject, ArchiveObject.key == key).claimed_until is not None,
        "first.log",
    )
    assert row(ArchiveObject, ArchiveObject.key == key).state == "pending"

    # an e-mail: its claim lasts past the slowest SMTP exchange (minutes); we let it run out
    _, (message_id,) = stage_work(api, 1, "killed", objects=False)
    kill_holding(
        smtp_proxy,
        lambda: row(OutboundEmail, OutboundEmail.message_id == message_id).state == "sending",
        "first-mail.log",
    )
    with api.session() as s:
        s.execute(
            update(OutboundEmail)
            .where(OutboundEmail.message_id == message_id)
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        s.commit()

    second = start_worker(api, tmp_path / "second.log", **env)
    try:
        wait_until(
            lambda: (
                row(ArchiveObject, ArchiveObject.key == key).state == "stored"
                and row(OutboundEmail, OutboundEmail.message_id == message_id).state == "sent"
            ),
            60,
            "the second worker to store the object and send the e-mail",
        )
    finally:
        stop(second)
    assert [m["Message-ID"] for m in smtp.messages].count(message_id) == 1
    stored = make_archive(api.settings).get(key)
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(b"%PDF-1.7 killed 0").hexdigest()
