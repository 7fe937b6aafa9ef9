"""The S3 archive: write-once, checksummed, object-locked agreements in a versioned bucket."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dpa_service.archive.base import (
    ArchiveError,
    ArchiveUnreachable,
    ObjectExists,
    ObjectMissing,
    StoredObject,
    check_key,
)

SSE_MODES = ("none", "AES256", "aws:kms")
OBJECT_LOCK_MODES = ("none", "GOVERNANCE", "COMPLIANCE")
# every object also records the SHA-256 we computed, so head() can answer without S3's checksum
SHA256_METADATA = "sha256"
_METADATA_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_READ_CHUNK = 1 << 20
_LOADER = botocore.session.get_session().get_component("data_loader")


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    region: str
    endpoint_url: str | None
    sse: str
    kms_key_id: str | None
    object_lock_mode: str
    retention_days: int
    presign_seconds: int = 300
    # short timeouts and one retry: a stopped S3 must fail the request in seconds, not minutes;
    # the service retries durable work itself
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 2

    def __post_init__(self) -> None:
        if self.sse not in SSE_MODES:
            raise ValueError(f"S3 sse must be one of {SSE_MODES}, not {self.sse!r}")
        if self.kms_key_id and self.sse != "aws:kms":
            raise ValueError("an S3 KMS key id only makes sense with sse 'aws:kms'")
        if self.object_lock_mode not in OBJECT_LOCK_MODES:
            raise ValueError(
                f"S3 object lock mode must be one of {OBJECT_LOCK_MODES}, "
                f"not {self.object_lock_mode!r}"
            )
        if self.object_lock_mode != "none" and self.retention_days < 1:
            raise ValueError("S3 object lock needs a retention of at least one day")
        if not 1 <= self.presign_seconds <= 7 * 24 * 3600:  # SigV4 URLs live at most 7 days
            raise ValueError("S3 presign_seconds must be between 1 and 604800")
        if self.max_attempts < 1:
            raise ValueError("S3 max_attempts must be at least 1")


def make_client(settings: S3Settings) -> Any:
    """An S3 client with credentials from the usual AWS chain (environment, profile, role)."""
    config = Config(
        region_name=settings.region,
        signature_version="s3v4",
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        # S3-compatible stores (MinIO, moto, Ceph) behind a custom endpoint rarely resolve
        # bucket subdomains
        s3={"addressing_style": "path"} if settings.endpoint_url else None,
    )
    # a session of our own, since boto3's default one is not safe to share between threads, but
    # with a shared model loader: parsing the S3 service model costs ~0.5 s per session
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    session = boto3.session.Session(botocore_session=core)
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)


class S3Archive:
    name = "s3"

    def __init__(self, settings: S3Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    def put(
        self,
        key: str,
        data: bytes,
        sha256: str,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        check_key(key)
        digest = hashlib.sha256(data).digest()
        if digest.hex() != sha256:
            raise ArchiveError(f"checksum mismatch before writing {key}")
        checksum = base64.b64encode(digest).decode("ascii")
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": content_type,
            "IfNoneMatch": "*",  # write-once: S3 refuses with 412 when the key exists
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": checksum,  # S3 rejects the upload if the bytes it got differ
            "Metadata": self._metadata(key, sha256, metadata),
            **self._encryption(),
            **self._retention(),
        }
        try:
            response = self.client.put_object(**params)
        except ClientError as exc:
            if _status(exc) == 412 or _code(exc) == "PreconditionFailed":
                raise ObjectExists(f"{key} already exists in the archive") from None
            if _code(exc) == "ConditionalRequestConflict":  # 409: a parallel put of the same key
                raise ArchiveError(f"another write of {key} was in progress; retry") from exc
            raise ArchiveError(f"writing {key} to S3 failed: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"writing {key} to S3 failed: {exc}") from exc
        version_id: str | None = response.get("VersionId")
        echoed = response.get("ChecksumSHA256")
        if echoed is not None and echoed != checksum:
            raise ArchiveError(
                f"S3 stored {key} (version {version_id}) with SHA-256 {echoed}, not {checksum}"
            )
        self._read_back(key, version_id, sha256, len(data))
        return StoredObject(
            key=key,
            sha256=sha256,
            size=len(data),
            version_id=version_id,
            etag=_etag(response.get("ETag")),
            checksum_sha256=echoed or checksum,
        )

    def get(self, key: str, version_id: str | None = None) -> bytes:
        body = self._open(key, version_id)
        try:
            return bytes(body.read())
        except BotoCoreError as exc:  # includes botocore's own checksum validation failing
            raise ArchiveError(f"reading {key} from S3 failed: {exc}") from exc
        finally:
            body.close()

    def stream(
        self, key: str, chunk_size: int = 65536, version_id: str | None = None
    ) -> Iterator[bytes]:
        # opened now, not on first iteration: a missing key fails before headers
        body = self._open(key, version_id)

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size)
            except BotoCoreError as exc:
                raise ArchiveError(f"reading {key} from S3 failed: {exc}") from exc
            finally:
                body.close()

        return chunks()

    def head(self, key: str, version_id: str | None = None) -> StoredObject | None:
        check_key(key)
        version = {"VersionId": version_id} if version_id else {}
        try:
            response = self.client.head_object(
                Bucket=self.bucket, Key=key, ChecksumMode="ENABLED", **version
            )
        except ClientError as exc:
            # a version id that is not (or no longer) there: 404, or 400 for a malformed one
            if _status(exc) == 404 or (version_id and _status(exc) == 400):
                return None
            raise ArchiveError(f"looking up {key} in S3 failed: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"looking up {key} in S3 failed: {exc}") from exc
        checksum: str | None = response.get("ChecksumSHA256")
        from_s3 = _hex_digest(checksum)
        recorded = response.get("Metadata", {}).get(SHA256_METADATA)
        if from_s3 and recorded and from_s3 != recorded:
            raise ArchiveError(
                f"{key}: S3's SHA-256 {from_s3} differs from the recorded {recorded}"
            )
        return StoredObject(
            key=key,
            # "" only for objects this service did not write (no checksum, no metadata)
            sha256=from_s3 or recorded or "",
            size=int(response["ContentLength"]),
            version_id=response.get("VersionId"),
            etag=_etag(response.get("ETag")),
            checksum_sha256=checksum,
        )

    def list_keys(self, prefix: str = "agreements/", *, page_size: int = 1000) -> list[str]:
        keys: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
            )
            for page in pages:
                keys.extend(item["Key"] for item in page.get("Contents", []))
        except ClientError as exc:
            raise ArchiveError(f"listing {prefix!r} in S3 failed: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"listing {prefix!r} in S3 failed: {exc}") from exc
        return sorted(keys)

    def presigned_url(self, key: str, version_id: str | None = None) -> str:
        """A GET link valid for presign_seconds (and never longer than the credentials behind
        it), to `version_id` when given: a version written over the key later is not served."""
        check_key(key)
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        url: str = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.settings.presign_seconds
        )
        return url

    def check(self) -> None:
        where = f" at {self.settings.endpoint_url}" if self.settings.endpoint_url else ""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _status(exc) == 404:
                raise ArchiveError(f"S3 bucket {self.bucket!r} does not exist{where}") from exc
            if _status(exc) == 403:
                raise ArchiveError(
                    f"access to S3 bucket {self.bucket!r}{where} is denied: check the credentials"
                ) from exc
            raise ArchiveError(f"S3 bucket {self.bucket!r}{where}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise ArchiveUnreachable(f"S3{where} is unreachable: {exc}") from exc
        versioning = self._versioning()
        if versioning != "Enabled":
            raise ArchiveError(
                f"S3 bucket {self.bucket!r} has versioning {versioning}; the archive needs it "
                "Enabled so that no stored agreement can ever be replaced or lost"
            )
        if self.settings.object_lock_mode != "none" and not self._object_lock_enabled():
            raise ArchiveError(
                f"S3 bucket {self.bucket!r} has no Object Lock, but object lock mode "
                f"{self.settings.object_lock_mode} is configured; Object Lock can only be "
                "switched on when a bucket is created"
            )

    def describe(self) -> dict[str, Any]:
        lock: dict[str, Any] | str = "off"
        if self.settings.object_lock_mode != "none":
            lock = {
                "mode": self.settings.object_lock_mode,
                "retention_days": self.settings.retention_days,
            }
        return {
            "bucket": self.bucket,
            "versioning": self._versioning(),
            "object_lock": lock,
            "sse": self.settings.sse,
        }

    def _open(self, key: str, version_id: str | None = None) -> Any:
        check_key(key)
        version = {"VersionId": version_id} if version_id else {}
        try:
            # ChecksumMode makes botocore verify the body against S3's SHA-256 as it is read
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, ChecksumMode="ENABLED", **version
            )
        except ClientError as exc:
            if _status(exc) == 404 or (version_id and _status(exc) == 400):
                where = f" (version {version_id})" if version_id else ""
                raise ObjectMissing(f"{key}{where} is not in the archive") from None
            raise ArchiveError(f"reading {key} from S3 failed: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"reading {key} from S3 failed: {exc}") from exc
        return response["Body"]

    def _read_back(self, key: str, version_id: str | None, sha256: str, size: int) -> None:
        # S3-compatible stores differ in whether they verify checksums they are sent (moto does
        # not), so hash what actually came to rest, by the exact version just written
        version = {"VersionId": version_id} if version_id else {}
        digest = hashlib.sha256()
        read = 0
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key, **version)["Body"]
            try:
                for chunk in body.iter_chunks(_READ_CHUNK):
                    digest.update(chunk)
                    read += len(chunk)
            finally:
                body.close()
        except (ClientError, BotoCoreError) as exc:
            detail = _describe(exc) if isinstance(exc, ClientError) else str(exc)
            raise ArchiveError(
                f"{key} was written (version {version_id}) but could not be read back: {detail}"
            ) from exc
        if read != size or digest.hexdigest() != sha256:
            # the key is now taken for good (write-once, maybe locked): a person must look
            raise ArchiveError(
                f"checksum mismatch after writing {key} (version {version_id}): S3 returned "
                f"{read} bytes with SHA-256 {digest.hexdigest()}, expected {size} bytes {sha256}"
            )

    def _metadata(self, key: str, sha256: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        metadata: dict[str, str] = {}
        for name, value in (extra or {}).items():
            # S3 lower-cases names and mangles non-ASCII values in x-amz-meta-* headers
            if not _METADATA_NAME.fullmatch(name) or not (value.isascii() and value.isprintable()):
                raise ArchiveError(
                    f"metadata {name!r} for {key}: names must be lower-case ASCII words joined "
                    "by '-', values printable ASCII"
                )
            metadata[name] = value
        if metadata.setdefault(SHA256_METADATA, sha256) != sha256:
            raise ArchiveError(f"metadata sha256 for {key} differs from the bytes' SHA-256")
        return metadata

    def _encryption(self) -> dict[str, str]:
        if self.settings.sse == "none":
            return {}
        params = {"ServerSideEncryption": self.settings.sse}
        if self.settings.kms_key_id:
            params["SSEKMSKeyId"] = self.settings.kms_key_id
        return params

    def _retention(self) -> dict[str, Any]:
        if self.settings.object_lock_mode == "none":
            return {}
        until = datetime.now(UTC) + timedelta(days=self.settings.retention_days)
        return {
            "ObjectLockMode": self.settings.object_lock_mode,
            "ObjectLockRetainUntilDate": until,
        }

    def _versioning(self) -> str:
        try:
            response = self.client.get_bucket_versioning(Bucket=self.bucket)
        except ClientError as exc:
            raise ArchiveError(
                f"reading the versioning of S3 bucket {self.bucket!r} failed: {_describe(exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"S3 is unreachable: {exc}") from exc
        status: str = response.get("Status") or "never enabled"
        return status

    def _object_lock_enabled(self) -> bool:
        try:
            response = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) == "ObjectLockConfigurationNotFoundError":
                return False
            raise ArchiveError(
                f"reading the Object Lock of S3 bucket {self.bucket!r} failed: {_describe(exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"S3 is unreachable: {exc}") from exc
        config = response.get("ObjectLockConfiguration", {})
        return bool(config.get("ObjectLockEnabled") == "Enabled")


def _status(exc: ClientError) -> int | None:
    status: int | None = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code') or _status(exc)}: {error.get('Message') or exc}"


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def _hex_digest(checksum: str | None) -> str | None:
    """S3's base64 SHA-256 as hex; None for none, or for a multipart checksum ("...-3")."""
    if not checksum:
        return None
    try:
        digest = base64.b64decode(checksum, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 32 else None
