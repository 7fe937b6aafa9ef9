"""The service on S3: write-once objects, and nothing lost when S3, a worker or the service fails."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func

from dpa_service.archive.base import ObjectExists
from dpa_service.rendering.converter import ConverterPool
from tests.archive.conftest import AWS_ENV, REGION, MotoS3, cli, object_versions, s3_overrides
from tests.archive.proxy import HoldingProxy
from tests.conftest import Api, make_api, start_worker, wait_archived
from tests.signing.helpers import issue, sign, version_state

REDIS_URL = "redis://127.0.0.1:6379/9"


def test_completed_agreement_is_archived_write_once_with_checksum_and_retention(
    s3: MotoS3, s3_app: Any
) -> None:
    for api in s3_app():
        issued = issue(api, "s3-ws")
        assert sign(api, issued).status_code == 303
        states = wait_archived(api, issued.agreement_id, issued.version)
        assert states == {
            "draft.pdf": "stored",
            "completed.pdf": "stored",
            "manifest.json": "stored",
        }
        state = version_state(api, issued)
        key = f"agreements/{issued.agreement_id}/v{issued.version}/completed.pdf"
        head = s3.client().head_object(Bucket=s3_app.bucket, Key=key, ChecksumMode="ENABLED")
        digest = bytes.fromhex(state["completed_sha256"])
        assert head["ChecksumSHA256"] == base64.b64encode(digest).decode()
        assert head["Metadata"]["agreement-id"] == issued.agreement_id
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = head["ObjectLockRetainUntilDate"]
        assert timedelta(days=6) < until - datetime.now(UTC) < timedelta(days=8)
        assert head["ServerSideEncryption"] == "AES256"
        body = s3.client().get_object(Bucket=s3_app.bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).digest() == digest
        manifest = json.loads(
            s3.client()
            .get_object(Bucket=s3_app.bucket, Key=key.replace("completed.pdf", "manifest.json"))[
                "Body"
            ]
            .read()
        )
        assert manifest["documents"]["completed.pdf"]["sha256"] == state["completed_sha256"]
        assert [s["party"] for s in manifest["signers"]] == ["controller", "processor"]

        # a second put to the same key is refused and the original stays as it was
        with pytest.raises(ObjectExists):
            api.archive.put(
                key, b"%PDF-forged", hashlib.sha256(b"%PDF-forged").hexdigest(), "application/pdf"
            )
        versions = object_versions(s3, s3_app.bucket, key)
        assert len(versions) == 1 and versions[0]["VersionId"] == head["VersionId"]
        # downloads stream from S3
        pdf = api.client.get(state["completed_download_url"], headers=api.headers()).content
        assert hashlib.sha256(pdf).digest() == digest
        assert cli(["verify", "--archive"], api).returncode == 0
        assert api.client.get("/ready").json()["checks"]["archive"] == "ok"  # no details …
        ready = api.client.get("/ready", headers=api.headers("admin")).json()["checks"]["archive"]
        # … except for an admin
        assert ready.startswith("ok (s3") and "COMPLIANCE" in ready and "Enabled" in ready


def test_presigned_downloads(s3: MotoS3, s3_app: Any) -> None:
    import httpx

    for api in s3_app(s3_presigned_downloads=True):
        api.put_workspace("presigned-ws")
        body = api.request_dpa("presigned-ws").json()
        wait_archived(api, body["agreement_id"], 1)
        r = api.client.get(body["download_url"], headers=api.headers(), follow_redirects=False)
        assert r.status_code == 307, r.text
        location = r.headers["location"]
        assert location.startswith(s3.endpoint_url) and "Signature" in location
        assert hashlib.sha256(httpx.get(location).content).hexdigest() == body["sha256"]


def wait_failed_attempts(api: Api, key: str, attempts: int, timeout: float = 30) -> str:
    """Wait until the sweeps tried to store `key` `attempts` times and failed; the last error."""
    from dpa_service.archive.models import ArchiveObject

    deadline = time.monotonic() + timeout
    while True:
        with api.session() as s:
            row = s.query(ArchiveObject).filter_by(key=key).one_or_none()
            if row is not None and row.attempts >= attempts and row.last_error:
                return row.last_error
        assert time.monotonic() < deadline, "the sweeps never tried the archive"
        time.sleep(0.05)


def test_s3_down_while_a_signature_completes(s3: MotoS3, s3_app: Any) -> None:
    for api in s3_app():
        issued = issue(api, "down-ws")
        wait_archived(api, issued.agreement_id, issued.version)
        with s3.stopped():
            r = sign(api, issued)
            assert r.status_code == 303  # signing does not wait for S3
            state = version_state(api, issued)
            assert state["state"] == "completed"
            completed_key = f"agreements/{issued.agreement_id}/v{issued.version}/completed.pdf"
            wait_failed_attempts(api, completed_key, 2)  # several sweeps found S3 down
            assert version_state(api, issued)["archive"]["completed.pdf"] == "pending"
            # the signer can still download the signed copy, from staging
            signed = api.client.get(f"{issued.path}/signed.pdf")
            assert hashlib.sha256(signed.content).hexdigest() == state["completed_sha256"]
        wait_archived(api, issued.agreement_id, issued.version)
        for artifact in ("draft.pdf", "completed.pdf", "manifest.json"):
            key = f"agreements/{issued.agreement_id}/v{issued.version}/{artifact}"
            assert len(object_versions(s3, s3_app.bucket, key)) == 1, artifact
        assert cli(["verify", "--archive"], api).returncode == 0


def test_service_restarted_with_work_pending_resumes(s3: MotoS3, s3_app: Any) -> None:
    with s3.stopped():
        for api in s3_app():
            api.put_workspace("restart-ws")
            body = api.request_dpa("restart-ws").json()
            wait_failed_attempts(api, f"agreements/{body['agreement_id']}/v1/draft.pdf", 1)
            shown = api.client.get(
                f"/api/v1/agreements/{body['agreement_id']}", headers=api.headers()
            )
            assert shown.json()["versions"][0]["archive"] == {"draft.pdf": "pending"}
        # the service is gone now, with the draft still pending
    with api.session() as s:
        from dpa_service.archive.service import state_of

        assert state_of(session=s, agreement_id=body["agreement_id"], version=1) == {
            "draft.pdf": "pending"
        }
    for api in s3_app():  # started again, S3 is back
        wait_archived(api, body["agreement_id"], 1)
        key = f"agreements/{body['agreement_id']}/v1/draft.pdf"
        assert len(object_versions(s3, s3_app.bucket, key)) == 1


def _start_worker(api: Api, endpoint: str, log: Path) -> subprocess.Popen[str]:
    s = api.settings
    return start_worker(  # type: ignore[no-any-return]
        api,
        log,
        **AWS_ENV,
        DPA_ARCHIVE="s3",
        DPA_S3_BUCKET=s.s3_bucket,
        DPA_S3_REGION=s.s3_region,
        DPA_S3_ENDPOINT_URL=endpoint,
        DPA_JOB_TIMEOUT_SECONDS="6",
    )


def test_a_worker_killed_in_the_middle_of_an_upload_is_redone_once(
    s3: MotoS3, s3_app: Any, tmp_path: Path
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is needed for the worker tests (127.0.0.1:6379)")
    proxy = HoldingProxy(upstream_port=s3.port, hold_replies=True).start()
    log = tmp_path / "worker.log"
    workers: list[subprocess.Popen[str]] = []
    try:
        queue_name = f"dpa-test-{uuid.uuid4().hex[:8]}"  # runs never share a queue
        for api in s3_app(queue_url=REDIS_URL, queue_name=queue_name):
            first = _start_worker(api, proxy.url, log)
            workers.append(first)
            api.put_workspace("killed-ws")
            body = api.request_dpa("killed-ws").json()
            key = f"agreements/{body['agreement_id']}/v1/draft.pdf"
            deadline = time.monotonic() + 60
            # the PUT went through the proxy and S3 stored it; the worker waits for the reply
            while not (proxy.saw(b"PUT") and object_versions(s3, s3_app.bucket, key)):
                assert time.monotonic() < deadline, log.read_text()
                assert first.poll() is None, log.read_text()
                time.sleep(0.1)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
            proxy.release()
            with api.session() as s:
                from dpa_service.archive.service import state_of

                assert state_of(session=s, agreement_id=body["agreement_id"], version=1) == {
                    "draft.pdf": "pending"
                }
            workers.append(_start_worker(api, proxy.url, log))
            wait_archived(api, body["agreement_id"], 1, timeout=60)
            assert len(object_versions(s3, s3_app.bucket, key)) == 1  # redone, once
            assert cli(["verify", "--archive"], api).returncode == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
        proxy.close()


def test_verify_archive_finds_deleted_altered_and_extra_objects(s3: MotoS3, s3_app: Any) -> None:
    for api in s3_app(s3_object_lock_mode="none"):
        api.put_workspace("verify-ws")
        first = api.request_dpa("verify-ws").json()
        second = api.request_dpa("verify-ws", new_version=True).json()
        wait_archived(api, first["agreement_id"], 1)
        wait_archived(api, second["agreement_id"], 2)
        assert cli(["verify", "--archive"], api).returncode == 0
        client, bucket = s3.client(), s3_app.bucket
        deleted = f"agreements/{first['agreement_id']}/v1/draft.pdf"
        client.delete_object(Bucket=bucket, Key=deleted)  # a delete marker hides it
        altered = f"agreements/{second['agreement_id']}/v2/draft.pdf"
        client.put_object(Bucket=bucket, Key=altered, Body=b"%PDF-1.7 something else")
        client.put_object(Bucket=bucket, Key="agreements/stray/v1/draft.pdf", Body=b"%PDF stray")
        result = cli(["verify", "--archive"], api)
        assert result.returncode == 1
        assert f"MISSING {deleted}: deleted over the recorded version" in result.stdout
        # the recorded version is still there; what was written over it is named with its hash
        other = hashlib.sha256(b"%PDF-1.7 something else").hexdigest()
        assert f"REPLACED {altered}: version" in result.stdout
        assert f"with sha256 {other} written over the recorded version" in result.stdout
        assert "EXTRA agreements/stray/v1/draft.pdf" in result.stdout


def test_the_service_refuses_a_bucket_without_versioning(
    s3: MotoS3, database: str, pool: ConverterPool, tmp_path: Path
) -> None:
    from dpa_service.archive.base import ArchiveError

    bucket = s3.create_bucket(object_lock=False, versioning=False)
    with pytest.raises(ArchiveError, match="versioning"):
        for _ in make_api(
            "s3", database, tmp_path, pool, **s3_overrides(s3, bucket, s3_object_lock_mode="none")
        ):
            pass


def _wait_checkpoint_stored(api: Api, agreement_id: str, timeout: float = 30) -> str:
    """The key of the audit checkpoint anchoring the agreement's chain, once it is archived."""
    from sqlalchemy import select

    from dpa_service.agreements.models import Agreement
    from dpa_service.archive.models import ArchiveObject
    from dpa_service.audit.models import AuditCheckpoint

    deadline = time.monotonic() + timeout
    while True:
        with api.session() as s:
            agreement = s.get(Agreement, agreement_id)
            key = s.scalar(select(func.max(AuditCheckpoint.key)))
            states = set(
                s.scalars(select(ArchiveObject.state).where(ArchiveObject.agreement_id.is_(None)))
            )
        if agreement and agreement.anchored_seq == agreement.audit_seq and states == {"stored"}:
            assert key is not None
            return key
        assert time.monotonic() < deadline, "no checkpoint was archived"
        time.sleep(0.1)


def test_archive_sync_copies_the_local_archive_into_s3(
    s3: MotoS3, database: str, pool: ConverterPool, tmp_path: Path
) -> None:
    for api in make_api("local", database, tmp_path, pool, sweep_seconds=0.3):
        api.put_workspace("sync-ws")
        body = api.request_dpa("sync-ws").json()
        wait_archived(api, body["agreement_id"], 1)
        checkpoint = _wait_checkpoint_stored(api, body["agreement_id"])
        bucket = s3.create_bucket()
        env = {
            "DPA_ARCHIVE": "s3",
            "DPA_S3_BUCKET": bucket,
            "DPA_S3_REGION": REGION,
            "DPA_S3_ENDPOINT_URL": s3.endpoint_url,
        }
        first = cli(["archive", "sync"], api, **env)
        assert first.returncode == 0, first.stderr
        # the draft, and the audit checkpoint anchoring its chain with its signature
        assert "3 objects copied, 0 already there" in first.stdout
        again = cli(["archive", "sync"], api, **env)
        assert "0 objects copied, 3 already there" in again.stdout
        key = f"agreements/{body['agreement_id']}/v1/draft.pdf"
        assert len(object_versions(s3, bucket, key)) == 1
        assert len(object_versions(s3, bucket, checkpoint + ".p7s")) == 1
        assert cli(["verify", "--archive"], api, **env).returncode == 0
