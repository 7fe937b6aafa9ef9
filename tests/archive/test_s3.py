"""The S3 archive against moto's S3 server over HTTP, and the contract it shares with the folder."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from dpa_service.archive.base import (
    Archive,
    ArchiveError,
    ObjectExists,
    ObjectMissing,
    version_key,
)
from dpa_service.archive.local import LocalArchive
from dpa_service.archive.s3 import S3Archive, S3Settings
from tests.archive.conftest import MotoS3

KEY = version_key("0b5f3c1e-agreement", 1, "draft.pdf")


def pdf(size: int = 200_000, seed: bytes = b"dpa") -> bytes:
    block = hashlib.sha256(seed).digest() * 32
    return (b"%PDF-1.7\n" + block * (size // len(block) + 1))[:size]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def retention_of(client: Any, bucket: str, key: str, version_id: str) -> tuple[str, datetime]:
    """(mode, retain-until) of one version.

    moto 5.2 answers GetObjectRetention with a 500 (not implemented), so fall back to the
    x-amz-object-lock-* headers HeadObject returns, which real S3 sends too.
    """
    try:
        got = client.get_object_retention(Bucket=bucket, Key=key, VersionId=version_id)
        return got["Retention"]["Mode"], got["Retention"]["RetainUntilDate"]
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] != 500:
            raise
    head = client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
    return head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]


class Recording:
    """A client that passes everything on and remembers which operations were called."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if callable(attr):
            self.calls.append(name)
        return attr


class CorruptingReads(Recording):
    """S3 that hands back other bytes than it was given: moto never does, so we pretend."""

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.calls.append("get_object")
        response: dict[str, Any] = self._client.get_object(**params)
        body = bytearray(response["Body"].read())
        body[len(body) // 2] ^= 0x01
        response["Body"] = StreamingBody(io.BytesIO(bytes(body)), len(body))
        return response


# --- put -------------------------------------------------------------------------------------


def test_put_stores_the_object_with_checksum_metadata_encryption_and_retention(
    s3: MotoS3, locked_bucket: str, s3_archive: S3Archive
) -> None:
    data = pdf()
    before = datetime.now(UTC)
    stored = s3_archive.put(
        KEY,
        data,
        sha(data),
        "application/pdf",
        metadata={"agreement-id": "0b5f3c1e", "version": "1"},
    )

    assert stored.key == KEY and stored.sha256 == sha(data) and stored.size == len(data)
    assert stored.version_id and stored.etag
    assert stored.checksum_sha256 == b64sha(data)

    client = s3.client()
    head = client.head_object(Bucket=locked_bucket, Key=KEY, ChecksumMode="ENABLED")
    assert head["VersionId"] == stored.version_id
    assert head["ChecksumSHA256"] == b64sha(data)
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == len(data)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"] == {"agreement-id": "0b5f3c1e", "version": "1", "sha256": sha(data)}
    body = client.get_object(Bucket=locked_bucket, Key=KEY, VersionId=stored.version_id)["Body"]
    assert body.read() == data

    mode, until = retention_of(client, locked_bucket, KEY, stored.version_id)
    assert mode == "COMPLIANCE"
    expected = before + timedelta(days=7)
    # S3 keeps the date to the second
    assert expected - timedelta(seconds=2) <= until <= expected + timedelta(seconds=60)


def test_put_without_lock_or_encryption_sends_neither(s3: MotoS3, locked_bucket: str) -> None:
    archive = S3Archive(s3.settings(locked_bucket, sse="none", object_lock_mode="none"))
    data = pdf(1000)
    archive.put(KEY, data, sha(data), "application/pdf")
    head = s3.client().head_object(Bucket=locked_bucket, Key=KEY)
    assert "ObjectLockMode" not in head and "ServerSideEncryption" not in head


def test_put_with_kms_names_the_key(s3: MotoS3, locked_bucket: str) -> None:
    key_id = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    archive = S3Archive(s3.settings(locked_bucket, sse="aws:kms", kms_key_id=key_id))
    data = pdf(1000)
    archive.put(KEY, data, sha(data), "application/pdf")
    head = s3.client().head_object(Bucket=locked_bucket, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_id


def test_a_second_put_to_the_same_key_is_refused_and_the_original_stays(
    s3: MotoS3, locked_bucket: str, s3_archive: S3Archive
) -> None:
    data = pdf(seed=b"original")
    first = s3_archive.put(KEY, data, sha(data), "application/pdf")
    client = s3.client()
    retention = retention_of(client, locked_bucket, KEY, first.version_id or "")

    other = pdf(seed=b"forgery")
    with pytest.raises(ObjectExists, match="already exists"):
        s3_archive.put(KEY, other, sha(other), "application/pdf")
    with pytest.raises(ObjectExists):  # the same bytes again are refused too: write-once
        s3_archive.put(KEY, data, sha(data), "application/pdf")

    versions = client.list_object_versions(Bucket=locked_bucket, Prefix=KEY)
    assert [v["VersionId"] for v in versions["Versions"]] == [first.version_id]
    assert "DeleteMarkers" not in versions
    assert s3_archive.get(KEY) == data
    assert retention_of(client, locked_bucket, KEY, first.version_id or "") == retention
    assert s3_archive.head(KEY) == first


def test_data_that_does_not_match_its_sha256_is_refused_before_upload(
    s3: MotoS3, locked_bucket: str
) -> None:
    client = Recording(s3.client())
    archive = S3Archive(s3.settings(locked_bucket), client=client)
    data = pdf()
    with pytest.raises(ArchiveError, match="checksum mismatch before writing"):
        archive.put(KEY, data, sha(data + b"x"), "application/pdf")
    assert client.calls == []
    assert "Versions" not in s3.client().list_object_versions(Bucket=locked_bucket)


def test_bytes_read_back_differently_are_detected(s3: MotoS3, locked_bucket: str) -> None:
    client = CorruptingReads(s3.client())
    archive = S3Archive(s3.settings(locked_bucket), client=client)
    data = pdf()
    with pytest.raises(ArchiveError, match="checksum mismatch after writing") as caught:
        archive.put(KEY, data, sha(data), "application/pdf")
    assert client.calls == ["put_object", "get_object"]
    # the read-back asked for the exact version just written
    version = s3.client().head_object(Bucket=locked_bucket, Key=KEY)["VersionId"]
    assert version in str(caught.value)


def test_metadata_must_be_plain_ascii(s3_archive: S3Archive) -> None:
    data = pdf(100)
    with pytest.raises(ArchiveError, match="metadata"):
        s3_archive.put(KEY, data, sha(data), "application/pdf", metadata={"Signer": "x"})
    with pytest.raises(ArchiveError, match="metadata"):
        s3_archive.put(KEY, data, sha(data), "application/pdf", metadata={"signer": "Ēriks"})
    with pytest.raises(ArchiveError, match="sha256"):
        s3_archive.put(KEY, data, sha(data), "application/pdf", metadata={"sha256": "0" * 64})


def test_a_stopped_server_makes_put_fail_fast_and_a_restart_keeps_the_data(
    s3: MotoS3, s3_archive: S3Archive
) -> None:
    kept = pdf(seed=b"kept")
    s3_archive.put(KEY, kept, sha(kept), "application/pdf")
    data = pdf(seed=b"during outage")
    later = version_key("0b5f3c1e-agreement", 2, "draft.pdf")

    with s3.stopped():
        started = time.monotonic()
        with pytest.raises(ArchiveError, match="writing .* to S3 failed"):
            s3_archive.put(later, data, sha(data), "application/pdf")
        assert time.monotonic() - started < 15
        with pytest.raises(ArchiveError):
            s3_archive.check()

    s3_archive.check()
    assert s3_archive.get(KEY) == kept
    assert s3_archive.head(later) is None
    s3_archive.put(later, data, sha(data), "application/pdf")  # the service's retry succeeds
    assert s3_archive.get(later) == data


def test_s3_going_away_between_upload_and_read_back(s3: MotoS3, locked_bucket: str) -> None:
    class StopsAfterUpload(Recording):
        def put_object(self, **params: Any) -> Any:
            response = self._client.put_object(**params)
            s3.stop()
            return response

    archive = S3Archive(s3.settings(locked_bucket), client=StopsAfterUpload(s3.client()))
    data = pdf()
    with pytest.raises(ArchiveError, match="was written .* but could not be read back"):
        archive.put(KEY, data, sha(data), "application/pdf")
    s3.start()

    # the retry finds the key taken; head() tells the caller it holds exactly these bytes
    retry = S3Archive(s3.settings(locked_bucket))
    with pytest.raises(ObjectExists):
        retry.put(KEY, data, sha(data), "application/pdf")
    head = retry.head(KEY)
    assert head is not None and head.sha256 == sha(data)


# --- reading ---------------------------------------------------------------------------------


def test_stream_yields_the_same_bytes_for_a_large_object(s3_archive: S3Archive) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    s3_archive.put(KEY, data, sha(data), "application/pdf")
    chunks = list(s3_archive.stream(KEY, chunk_size=65536))
    assert b"".join(chunks) == data
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 65536


def test_missing_keys(s3_archive: S3Archive) -> None:
    with pytest.raises(ObjectMissing):
        s3_archive.get(KEY)
    with pytest.raises(ObjectMissing):
        s3_archive.stream(KEY)  # at once, before anything is iterated
    assert s3_archive.head(KEY) is None


def test_head_reports_what_is_stored(s3_archive: S3Archive) -> None:
    data = pdf()
    stored = s3_archive.put(KEY, data, sha(data), "application/pdf")
    head = s3_archive.head(KEY)
    assert head == stored
    assert head is not None and head.checksum_sha256 == b64sha(data)


def test_head_refuses_an_object_whose_recorded_sha256_disagrees_with_s3(
    s3: MotoS3, locked_bucket: str, s3_archive: S3Archive
) -> None:
    data = pdf(500)
    s3.client().put_object(
        Bucket=locked_bucket,
        Key=KEY,
        Body=data,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=b64sha(data),
        Metadata={"sha256": sha(b"something else")},
    )
    with pytest.raises(ArchiveError, match="differs from the recorded"):
        s3_archive.head(KEY)


def test_head_of_an_object_written_by_someone_else_uses_what_it_has(
    s3: MotoS3, locked_bucket: str, s3_archive: S3Archive
) -> None:
    s3.client().put_object(Bucket=locked_bucket, Key="agreements/by-hand.pdf", Body=b"abc")
    head = s3_archive.head("agreements/by-hand.pdf")
    assert head is not None and head.size == 3 and head.version_id
    # no checksum was sent and no metadata recorded: moto then keeps no SHA-256 at all
    assert head.sha256 in ("", sha(b"abc"))


def test_list_keys_pages_through_everything_under_the_prefix(
    s3: MotoS3, locked_bucket: str, s3_archive: S3Archive
) -> None:
    keys = [version_key(f"a{i:02d}", v, "draft.pdf") for i in range(4) for v in (1, 2)]
    for key in keys:
        data = key.encode()
        s3_archive.put(key, data, sha(data), "application/pdf")
    s3.client().put_object(Bucket=locked_bucket, Key="other/stray.txt", Body=b"x")

    pages: list[str] = []
    s3_archive.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **kw: pages.append("page")
    )
    assert s3_archive.list_keys(page_size=3) == sorted(keys)
    assert len(pages) == 3  # 8 keys, 3 a page
    assert s3_archive.list_keys("agreements/a01/") == [
        "agreements/a01/v1/draft.pdf",
        "agreements/a01/v2/draft.pdf",
    ]
    assert s3_archive.list_keys("nothing/") == []


def test_a_presigned_url_downloads_the_object(s3_archive: S3Archive) -> None:
    data = pdf()
    s3_archive.put(KEY, data, sha(data), "application/pdf")
    url = s3_archive.presigned_url(KEY)
    assert url.startswith(s3_archive.settings.endpoint_url or "")
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url
    response = httpx.get(url, trust_env=False, timeout=10)
    assert response.status_code == 200
    assert response.content == data


# --- readiness -------------------------------------------------------------------------------


def test_check_accepts_a_versioned_locked_bucket(s3_archive: S3Archive) -> None:
    s3_archive.check()


def test_check_refuses_a_bucket_without_versioning(s3: MotoS3, unversioned_bucket: str) -> None:
    archive = S3Archive(s3.settings(unversioned_bucket, object_lock_mode="none"))
    with pytest.raises(
        ArchiveError, match="versioning never enabled; the archive needs it Enabled"
    ):
        archive.check()
    s3.client().put_bucket_versioning(
        Bucket=unversioned_bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    with pytest.raises(ArchiveError, match="versioning Suspended"):
        archive.check()


def test_check_refuses_a_missing_bucket(s3: MotoS3) -> None:
    archive = S3Archive(s3.settings("dpa-archive-does-not-exist"))
    with pytest.raises(ArchiveError, match="S3 bucket 'dpa-archive-does-not-exist' does not exist"):
        archive.check()


def test_check_refuses_object_lock_settings_on_a_bucket_without_it(s3: MotoS3) -> None:
    bucket = s3.create_bucket(object_lock=False, versioning=True)
    with pytest.raises(ArchiveError, match="has no Object Lock, but object lock mode COMPLIANCE"):
        S3Archive(s3.settings(bucket)).check()
    S3Archive(s3.settings(bucket, object_lock_mode="none")).check()


def test_describe_reports_bucket_versioning_lock_and_encryption(
    s3: MotoS3, locked_bucket: str, s3_archive: S3Archive
) -> None:
    assert s3_archive.describe() == {
        "bucket": locked_bucket,
        "versioning": "Enabled",
        "object_lock": {"mode": "COMPLIANCE", "retention_days": 7},
        "sse": "AES256",
    }
    unlocked = S3Archive(s3.settings(locked_bucket, object_lock_mode="none", sse="none"))
    assert unlocked.describe()["object_lock"] == "off"
    assert unlocked.describe()["sse"] == "none"


@pytest.mark.parametrize(
    "changes",
    [
        {"sse": "aes256"},
        {"sse": "AES256", "kms_key_id": "k"},
        {"object_lock_mode": "compliance"},
        {"retention_days": 0},
        {"presign_seconds": 0},
        {"presign_seconds": 8 * 24 * 3600},
    ],
)
def test_settings_refuse_nonsense(changes: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "bucket": "b",
        "region": "eu-central-1",
        "endpoint_url": None,
        "sse": "AES256",
        "kms_key_id": None,
        "object_lock_mode": "COMPLIANCE",
        "retention_days": 30,
    }
    with pytest.raises(ValueError):
        S3Settings(**(base | changes))


# --- the contract both backends keep ---------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    if request.param == "local":
        return LocalArchive(tmp_path / "signed")
    return request.getfixturevalue("s3_archive")  # type: ignore[no-any-return]


def test_both_archives_store_once_and_answer_alike(archive: Archive) -> None:
    archive.check()
    data = pdf()
    stored = archive.put(KEY, data, sha(data), "application/pdf", metadata={"version": "1"})
    assert (stored.key, stored.sha256, stored.size) == (KEY, sha(data), len(data))
    assert archive.get(KEY) == data
    assert b"".join(archive.stream(KEY, chunk_size=4096)) == data
    head = archive.head(KEY)
    assert head is not None and (head.sha256, head.size) == (sha(data), len(data))
    assert head.version_id == stored.version_id
    with pytest.raises(ObjectExists):
        archive.put(KEY, data, sha(data), "application/pdf")
    assert archive.get(KEY) == data

    second = version_key("0b5f3c1e-agreement", 10, "completed.pdf")
    archive.put(second, b"x", sha(b"x"), "application/pdf")
    assert archive.list_keys() == [KEY, second]
    assert archive.list_keys("agreements/0b5f3c1e-agreement/v1") == [KEY, second]
    assert archive.list_keys("agreements/0b5f3c1e-agreement/v1/") == [KEY]
    assert archive.list_keys("agreements/zzz") == []
    assert archive.head("agreements/none.pdf") is None
    with pytest.raises(ObjectMissing):
        archive.get("agreements/none.pdf")
    assert isinstance(archive.describe(), dict)


@pytest.mark.parametrize("key", ["", "/agreements/a.pdf", "agreements/../a.pdf", "a//b", "a/"])
def test_both_archives_refuse_the_same_odd_keys(archive: Archive, key: str) -> None:
    with pytest.raises(ArchiveError, match="invalid archive key"):
        archive.put(key, b"x", sha(b"x"), "application/pdf")
    with pytest.raises(ArchiveError, match="invalid archive key"):
        archive.head(key)


def test_the_folder_lists_no_temporary_files(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path)
    archive.put(KEY, b"x", sha(b"x"), "application/pdf")
    (tmp_path / "agreements" / "0b5f3c1e-agreement" / "v1" / ".draft.pdf.123.tmp").write_bytes(b"")
    assert archive.list_keys() == [KEY]
    assert archive.list_keys("") == [KEY]
    assert archive.describe() == {"folder": str(tmp_path)}
