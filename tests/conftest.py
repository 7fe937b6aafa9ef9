"""Fixtures: a shared LibreOffice pool, and the app on SQLite and on PostgreSQL.

Every test that takes `api` runs once per database backend. PostgreSQL is used when reachable
(DPA_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test); set
DPA_TEST_REQUIRE_POSTGRES=1 (CI does) to fail instead of skipping when it is not.
"""

from __future__ import annotations

import copy
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Engine

from dpa_service import migrations
from dpa_service.accounts.service import Principal, create_token
from dpa_service.accounts.users import create_user, find_user
from dpa_service.app import create_app
from dpa_service.config import Settings
from dpa_service.db import make_engine, make_session_factory
from dpa_service.profile import service as profiles
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.facts import unconfirmed_fields
from dpa_service.runtime import make_archive, pool_settings

PG_URL = os.environ.get("DPA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DPA_TEST_REQUIRE_POSTGRES") == "1"

WORKSPACE: dict[str, Any] = {
    "legal_name": "SIA Ziemeļu Logi",
    "registration_number": "40103999888",
    "vat_number": "LV40103999888",
    "address": {
        "street": "Brīvības iela 101",
        "city": "Rīga",
        "postal_code": "LV-1001",
        "country": "LV",
    },
    "signatory": {"name": "Ēriks Kalniņš", "title": "Chief Executive", "email": "eriks@example.lv"},
    "dpo": {"name": "Dace Liepiņa", "email": "dpo@example.lv"},
    "data_categories": ["leads", "booking_forms", "invoices_quotes", "workers"],
    "data_subjects": ["customers", "workers"],
    "language": "en",
}


def workspace(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(WORKSPACE)
    data.update(changes)
    return data


@pytest.fixture(scope="session")
def pool() -> Iterator[ConverterPool]:
    settings = Settings.from_env(converter_workers=2, converter_timeout_s=30)
    with ConverterPool(pool_settings(settings)) as p:
        yield p


def postgres_reachable() -> bool:
    """PostgreSQL answers at PG_URL (or the run requires it, and its fixtures will say why not)."""
    if REQUIRE_PG:
        return True
    try:
        psycopg.connect(PG_URL, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def _postgres_database() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    name = f"dpa_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        # over a new connection: the topology test restarts PostgreSQL in between
        for _ in range(30):
            try:
                with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as again:
                    again.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except psycopg.OperationalError:
                time.sleep(1)


@dataclass
class Api:
    """The app on one database backend, with a token for every role."""

    backend: str
    settings: Settings
    engine: Engine
    client: TestClient  # type: ignore[type-arg]
    tokens: dict[str, str]
    archive: Any  # LocalArchive, or S3Archive in the archive tests
    app: Litestar

    def headers(self, role: str = "app") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def put_workspace(self, workspace_id: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.put(
            f"/api/v1/workspaces/{workspace_id}", json=data or WORKSPACE, headers=self.headers()
        )

    def request_dpa(self, workspace_id: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/workspaces/{workspace_id}/agreements",
            json=body or None,
            headers=self.headers(),
        )

    def session(self) -> Any:
        return make_session_factory(self.engine)()


TEST_SETTINGS: dict[str, Any] = {
    "rate_limit_per_minute": 100_000,  # the rate-limit test makes its own app
    "auto_countersign": True,
    "processor_signatory_name": "Anna Ūdre",
    "processor_signatory_title": "Member of the Board",
    "frame_ancestors": "https://app.klusaro.com",
    "sweep_seconds": 0.5,
    "webhook_allow_private": True,  # the test receivers listen on 127.0.0.1
}


def wait_archived(api: Any, agreement_id: str, version: int, timeout: float = 30) -> dict[str, str]:
    """Wait until the background jobs stored every artifact of the version, and the audit
    checkpoints staged meanwhile (which `verify --archive` counts too)."""
    import time

    from sqlalchemy import select

    from dpa_service.archive.models import ArchiveObject
    from dpa_service.archive.service import state_of

    deadline = time.monotonic() + timeout
    while True:
        with api.session() as s:
            states = state_of(session=s, agreement_id=agreement_id, version=version)
            checkpoint_waiting = s.scalar(
                select(ArchiveObject.id).where(
                    ArchiveObject.agreement_id.is_(None), ArchiveObject.state == "pending"
                )
            )
        if states and all(v == "stored" for v in states.values()) and checkpoint_waiting is None:
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"not archived: {states}")
        time.sleep(0.1)


PROFILE_AUTHOR = Principal(subject="user:fixture-author", name="Fixture Author", role="legal")
PROFILE_REVIEWER = Principal(subject="user:fixture-reviewer", name="Fixture Reviewer", role="legal")


def confirmed_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """`profile` with every value confirmed (and the unknown ones filled in)."""
    profile = copy.deepcopy(profile)
    for path, node in profiles.nodes(profile):
        if node["value"] is None:
            node["value"] = "40003000000" if path.endswith("registration_number") else "Anna Ūdre"  # type: ignore[index]
        node["confirmed"] = True  # type: ignore[index]
    return profile


def approve_profile(session: Any, profile: dict[str, Any], note: str = "confirmed") -> int:
    """Approve `profile` as the processor profile (two legal people, four eyes)."""
    draft = profiles.create_draft(
        session=session, author=PROFILE_AUTHOR, profile=profile, change_note=note
    )
    profiles.submit(session=session, number=draft.version, actor=PROFILE_AUTHOR)
    profiles.approve(session=session, number=draft.version, reviewer=PROFILE_REVIEWER)
    return draft.version


def twin_keeps_the_key_first(monkeypatch: pytest.MonkeyPatch, session_factory: Any) -> None:
    """The next request with an Idempotency-Key meets a twin that keeps the same key first (in
    its own transaction, just after this request looked): this one is refused with 409 when it
    keeps its own answer, after it has made what it makes."""
    from dpa_service.idempotency import service as idempotency_service

    real_earlier = idempotency_service.earlier

    def twin_finishes_first(**kwargs: Any) -> Any:
        found = real_earlier(**kwargs)
        with session_factory() as s:
            idempotency_service.remember(
                session=s,
                subject=kwargs["subject"],
                key=kwargs["key"],
                request_fingerprint=kwargs["request_fingerprint"],
                status_code=201,
                media_type="application/json",
                body=b"{}",
            )
            s.commit()
        return found

    monkeypatch.setattr(idempotency_service, "earlier", twin_finishes_first)


def make_api(
    backend: str,
    url: str,
    tmp: Path,
    pool: ConverterPool,
    confirm_profile: bool = True,
    **overrides: Any,
) -> Iterator[Api]:
    """The app on a migrated database. Legal has confirmed the processor profile there (as
    in production before any DPA is sent), unless `confirm_profile` is false."""
    settings = Settings.from_env(
        data_dir=tmp / "data",
        database_url=url,
        archive_dir=tmp / "signed",
        **{**TEST_SETTINGS, **overrides},
    )
    engine = make_engine(settings.database_url)
    migrations.upgrade(engine)
    tokens: dict[str, str] = {}
    with make_session_factory(engine)() as session:
        for role in ("app", "legal", "sales", "admin"):
            # staff roles act as a person through the API, as their tokens do in production
            email = f"token-{role}@klusaro.com"
            user = (
                None
                if role == "app"
                # the same database served again (a restart test) keeps its users
                else find_user(session=session, email=email)
                or create_user(
                    session=session,
                    email=email,
                    name=f"Test {role.title()}",
                    role=role,
                    password=uuid.uuid4().hex,
                )
            )
            tokens[role] = create_token(session=session, role=role, name=f"test-{role}", user=user)[
                1
            ]
        current = profiles.current_approved(session=session)
        if confirm_profile and unconfirmed_fields(current.profile):
            approve_profile(session, confirmed_profile(current.profile))
        session.commit()
    archive = make_archive(settings)
    app = create_app(settings, pool=pool, archive=archive, engine=engine)
    with TestClient(app, base_url=settings.public_url) as client:
        yield Api(backend, settings, engine, client, tokens, archive, app)
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    yield from own_api(request.param, pool, tmp_path_factory.mktemp(request.param))


@pytest.fixture
def workspace_id() -> str:
    return f"ws-{uuid.uuid4().hex[:10]}"


@dataclass
class LiveServer:
    """The same app as `api`, served by uvicorn on a loopback port (for browsers and races)."""

    url: str
    api: Api


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(api: Api, pool: ConverterPool) -> Iterator[LiveServer]:
    """Serve `api`'s app (same database, archive and pool) by uvicorn on a loopback port."""
    import threading
    import time

    import httpx
    import uvicorn

    port = _free_port()
    settings = api.settings.with_(public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings, pool=pool, archive=api.archive, engine=api.engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{settings.public_url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    live_api = Api(api.backend, settings, api.engine, api.client, api.tokens, api.archive, app)
    yield LiveServer(settings.public_url, live_api)
    server.should_exit = True
    thread.join(10)


def own_api(backend: str, pool: ConverterPool, tmp: Path, **overrides: Any) -> Iterator[Api]:
    """An app on a database of its own, for tests that change what every later DPA contains
    (approving templates or subprocessor lists) or need other settings (SMTP, clocks)."""
    if backend == "sqlite":
        tmp.joinpath("data").mkdir(exist_ok=True)
        yield from make_api(
            "sqlite", f"sqlite:///{tmp / 'data' / 'dpa.sqlite3'}", tmp, pool, **overrides
        )
    else:
        for url in _postgres_database():
            yield from make_api("postgresql", url, tmp, pool, **overrides)


@pytest.fixture(scope="session")
def live_server(api: Api, pool: ConverterPool) -> Iterator[LiveServer]:
    yield from serve(api, pool)


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A loopback SMTP server on its own port (tests/smtp.py); `.messages`, `.wait_for(...)`."""
    from tests.smtp import LoopbackSMTP

    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


def start_worker(api: Api, log: Path, **env: str) -> Any:
    """`dpa-service worker` in its own process group, on `api`'s database, data folder and
    queue; `env` adds or overrides DPA_* variables (S3, countersigning, …)."""
    import subprocess
    import sys

    s = api.settings
    return subprocess.Popen(
        [sys.executable, "-m", "dpa_service.cli", "worker"],
        env={
            **os.environ,
            "DPA_DATABASE_URL": s.database_url,
            "DPA_DATA_DIR": str(s.data_dir),  # the same development seal
            "DPA_ARCHIVE_DIR": str(s.archive_dir),
            "DPA_QUEUE_URL": s.queue_url,
            "DPA_QUEUE_NAME": s.queue_name,
            "DPA_SWEEP_SECONDS": "0.5",
            **env,
        },
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
