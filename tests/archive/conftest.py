"""Archive fixtures: a moto S3 server on loopback that can be stopped and started, fresh buckets.

Everything speaks real S3 over HTTP to 127.0.0.1 only; AWS credentials and region are dummies.

Stopping and starting: `MotoS3.stop()` shuts down moto's HTTP listener and closes its socket,
so S3 calls fail at once with "connection refused" (not a hang). `MotoS3.start()` listens again
on the same port. Buckets and objects survive, because moto keeps its state in process-wide
backends (`moto.backends`), not in the server object or its thread: even a new
ThreadedMotoServer in this process would see them. What does lose them is a server in another
process (`moto_server` CLI) being restarted, a POST to /moto-api/reset, or any test that enters
`moto.mock_aws()` in this process (it resets every backend on entry and exit, and while active
it intercepts botocore calls that were meant for this server) — do not mix the two.

Fault tests elsewhere can import `start_moto`/`MotoS3`, or take the `moto_s3` fixture when
they live under tests/archive/.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from dpa_service.archive.s3 import S3Archive, S3Settings
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, _free_port, _postgres_database, make_api

HOST = "127.0.0.1"
REGION = "eu-central-1"

# the AWS chain must find dummies here and never a real profile, SSO cache or instance role
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
AWS_ENV_REMOVED = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def _wait_until_bindable(port: int, timeout: float = 10.0) -> None:
    # ThreadedMotoServer.start() waits forever if its thread cannot bind, so make sure it can
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((HOST, port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.05)


@dataclass
class MotoS3:
    """One moto server on a fixed loopback port, with its data kept across stop/start."""

    port: int
    server: ThreadedMotoServer | None = None
    _client: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self) -> None:
        if self.server is not None:
            return
        _wait_until_bindable(self.port)
        server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        server.start()
        self.server = server

    def stop(self) -> None:
        """Stop listening: new connections are refused; requests in flight may still finish."""
        if self.server is None:
            return
        self.server.stop()  # werkzeug closes the listening socket when serve_forever ends
        self.server = None

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """S3 is down inside the block and back, with every object, after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def client(self) -> Any:
        """A plain client for arranging and inspecting buckets, not the archive's own."""
        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                config=Config(
                    connect_timeout=5, read_timeout=30, retries={"total_max_attempts": 1}
                ),
            )
        return self._client

    def create_bucket(self, *, object_lock: bool = True, versioning: bool = True) -> str:
        """A fresh bucket; Object Lock implies versioning Enabled (S3 and moto alike)."""
        name = f"dpa-archive-{uuid.uuid4().hex[:16]}"
        client = self.client()
        client.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=object_lock,
        )
        if versioning and not object_lock:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def settings(self, bucket: str, **changes: Any) -> S3Settings:
        base = S3Settings(
            bucket=bucket,
            region=REGION,
            endpoint_url=self.endpoint_url,
            sse="AES256",
            kms_key_id=None,
            object_lock_mode="COMPLIANCE",
            retention_days=7,
        )
        return replace(base, **changes)


@contextmanager
def start_moto() -> Iterator[MotoS3]:
    """A running moto S3 on a free loopback port, with dummy AWS credentials in the environment."""
    with pytest.MonkeyPatch.context() as env:
        for name in AWS_ENV_REMOVED:
            env.delenv(name, raising=False)
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        moto = MotoS3(port=_free_port())
        moto.start()
        try:
            yield moto
        finally:
            moto.stop()


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    with start_moto() as moto:
        yield moto


@pytest.fixture
def s3(moto_s3: MotoS3) -> Iterator[MotoS3]:
    """The server, guaranteed running for this test and again after it (a test may stop it)."""
    moto_s3.start()
    yield moto_s3
    moto_s3.start()


@pytest.fixture
def locked_bucket(s3: MotoS3) -> str:
    return s3.create_bucket(object_lock=True)


@pytest.fixture
def unversioned_bucket(s3: MotoS3) -> str:
    return s3.create_bucket(object_lock=False, versioning=False)


@pytest.fixture
def s3_archive(s3: MotoS3, locked_bucket: str) -> S3Archive:
    return S3Archive(s3.settings(locked_bucket))


def s3_overrides(
    s3: MotoS3, bucket: str, endpoint: str | None = None, **more: Any
) -> dict[str, Any]:
    return {
        "archive": "s3",
        "s3_bucket": bucket,
        "s3_region": REGION,
        "s3_endpoint_url": endpoint or s3.endpoint_url,
        "s3_object_lock_mode": "COMPLIANCE",
        "s3_retention_days": 7,
        "sweep_seconds": 0.3,
        **more,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: the archive tests must not see other tests' objects."""
    if request.param == "sqlite":
        (tmp_path / "data").mkdir(exist_ok=True)
        yield f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def s3_app(
    s3: MotoS3, database: str, pool: ConverterPool, tmp_path: Path
) -> Iterator[Callable[..., Iterator[Api]]]:
    """Build the app on S3 (call it again for a 'restarted' service on the same database)."""
    bucket = s3.create_bucket()

    def build(**more: Any) -> Iterator[Api]:
        return make_api("s3", database, tmp_path, pool, **s3_overrides(s3, bucket, **more))

    build.bucket = bucket  # type: ignore[attr-defined]
    yield build


def object_versions(s3: MotoS3, bucket: str, key: str) -> list[dict[str, Any]]:
    listing = s3.client().list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in listing.get("Versions", []) if v["Key"] == key]


def cli(args: list[str], api: Api, **env: str) -> subprocess.CompletedProcess[str]:
    s = api.settings
    full_env = {
        **os.environ,
        **AWS_ENV,
        "DPA_DATABASE_URL": s.database_url,
        "DPA_DATA_DIR": str(s.data_dir),
        "DPA_ARCHIVE": s.archive,
        "DPA_ARCHIVE_DIR": str(s.archive_dir),
        "DPA_S3_BUCKET": s.s3_bucket,
        "DPA_S3_REGION": s.s3_region,
        "DPA_S3_ENDPOINT_URL": s.s3_endpoint_url,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
