"""The production topology under faults: two `dpa-service serve` replicas and two `dpa-service
worker` processes on PostgreSQL, Redis and S3 (moto's server), with a mixed workload from a
client that round-robins the replicas.

Mid-way one replica and one worker are SIGKILLed and started again; later PostgreSQL restarts
(`pg_ctlcluster … restart -m fast`) and Redis pauses. Then: every request succeeded or failed
retryably and was retried; no version number used twice or lost; every completed version
archived with its recorded hash (`verify --archive`); the audit chains intact (`verify
--audit`); every webhook event delivered at least once; nothing stuck in `signed`; the rate
limit counted once across both replicas; /metrics carries the operators' series.

Restarting PostgreSQL interrupts every other user of the machine's server for a few seconds:
set DPA_TEST_TOPOLOGY_PG_RESTART=0 to leave it out (the test says so in its figures).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from sqlalchemy import select

from dpa_service import migrations
from dpa_service.accounts.service import create_token
from dpa_service.accounts.users import create_user
from dpa_service.agreements.models import AgreementVersion
from dpa_service.db import make_engine, make_session_factory
from dpa_service.profile import service as profiles
from dpa_service.webhooks.models import WebhookDelivery, WebhookEvent
from tests.archive.conftest import AWS_ENV, REGION, MotoS3
from tests.clauses.docx_files import with_jinja
from tests.conftest import PG_URL, WORKSPACE, _free_port, approve_profile, confirmed_profile
from tests.signing.helpers import CSRF, png_data_url
from tests.topology.test_operations import scrape_has_series
from tests.webhooks.receiver import Receiver

REDIS_URL = "redis://127.0.0.1:6379/9"
WORKSPACES = 40
REQUESTS_PER_WORKSPACE = 5  # 200 DPA requests: v1, the same, a new version, the same twice
RATE_LIMIT = 12
PG_RESTART = os.environ.get("DPA_TEST_TOPOLOGY_PG_RESTART", "1") != "0"
RETRYABLE = (429, 502, 503, 504)


# -- processes -----------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "dpa_service.cli", *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL, no clean-up: its LibreOffice children (in sessions of their own) lose
        their parent and go; its work folder stays until the next pool starts."""
        assert self.popen is not None
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else None
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            return self.popen.wait(45)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            return None

    def tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]


# -- the client ----------------------------------------------------------------------------


@dataclass
class Figures:
    requests: int = 0
    retries: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    unretryable: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class RoundRobin:
    """Sends each request to the next replica; a retryable failure (connection refused or
    reset, 429/502/503/504) is retried on the next one after a pause."""

    def __init__(self, bases: list[str], figures: Figures) -> None:
        self.bases = bases
        self.figures = figures
        self._next = 0
        self._lock = threading.Lock()
        self.http = httpx.Client(timeout=90, follow_redirects=False)

    def base(self) -> str:
        with self._lock:
            self._next += 1
            return self.bases[self._next % len(self.bases)]

    def call(
        self,
        method: str,
        path: str,
        *,
        client: httpx.Client | None = None,
        on_transport_error: Callable[[], httpx.Response | None] | None = None,
        deadline_s: float = 150,
        **kw: Any,
    ) -> httpx.Response:
        deadline = time.monotonic() + deadline_s
        http = client or self.http
        while True:
            with self.figures.lock:
                self.figures.requests += 1
            try:
                r = http.request(method, self.base() + path, **kw)
            except httpx.TransportError:
                with self.figures.lock:
                    self.figures.transport_errors += 1
                    self.figures.retries += 1
                # a request cut off mid-way may have been done: ask before doing it again
                if on_transport_error is not None and (done := on_transport_error()) is not None:
                    return done
                assert time.monotonic() < deadline, f"{method} {path}: no answer in time"
                time.sleep(0.3)
                continue
            with self.figures.lock:
                self.figures.answers[r.status_code] += 1
            if r.status_code in RETRYABLE and r.headers.get("retry-after"):
                with self.figures.lock:
                    self.figures.retries += 1
                assert time.monotonic() < deadline, f"{method} {path}: still {r.status_code}"
                time.sleep(min(float(r.headers["retry-after"]), 2.0) * random.uniform(0.5, 1))
                continue
            if r.status_code >= 500 or r.status_code in RETRYABLE:
                with self.figures.lock:
                    self.figures.unretryable.append(
                        f"{method} {path} {r.status_code} {r.text[:200]}"
                    )
            return r


# -- the test ------------------------------------------------------------------------------


@pytest.fixture
def topology_database() -> Iterator[str]:
    """A database of its own, dropped over a new connection (PostgreSQL restarts meanwhile)."""
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("DPA_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    name = f"dpa_topology_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        for _ in range(30):
            try:
                with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except psycopg.OperationalError:
                time.sleep(1)


def _tokens(url: str) -> dict[str, str]:
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    migrations.upgrade(engine)
    tokens: dict[str, str] = {}
    with make_session_factory(engine)() as s:
        tokens["app"] = create_token(session=s, role="app", name="Klusaro app")[1]
        tokens["admin"] = create_token(session=s, role="admin", name="ops")[1]
        for key in ("legal", "legal2"):
            user = create_user(
                session=s,
                email=f"{key}-{uuid.uuid4().hex[:6]}@klusaro.com",
                name=f"Topology {key}",
                role="legal",
                password=uuid.uuid4().hex,
            )
            tokens[key] = create_token(session=s, role="legal", name=key, user=user)[1]
        # Legal has confirmed the processor profile, as in production before any DPA is sent.
        approve_profile(s, confirmed_profile(profiles.current_approved(session=s).profile))
        s.commit()
    engine.dispose()
    return tokens


def test_two_replicas_and_two_workers_under_faults(
    s3: MotoS3, topology_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    started = time.monotonic()
    tokens = _tokens(topology_database)
    bucket = s3.create_bucket()
    receiver = Receiver().start()
    queue = f"dpa-topology-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DPA_")},
        **AWS_ENV,
        "DPA_DATABASE_URL": topology_database,
        "DPA_DATA_DIR": str(data),  # one development seal for every process
        "DPA_ARCHIVE": "s3",
        "DPA_S3_BUCKET": bucket,
        "DPA_S3_REGION": REGION,
        "DPA_S3_ENDPOINT_URL": s3.endpoint_url,
        "DPA_S3_OBJECT_LOCK_MODE": "COMPLIANCE",
        "DPA_S3_RETENTION_DAYS": "1",
        "DPA_QUEUE_URL": REDIS_URL,
        "DPA_QUEUE_NAME": queue,
        "DPA_SECRET_KEY": "topology-" + uuid.uuid4().hex,
        "DPA_AUTO_COUNTERSIGN": "true",
        "DPA_PROCESSOR_SIGNATORY_NAME": "Anna Ūdre",
        "DPA_WEBHOOK_ALLOW_PRIVATE": "true",
        "DPA_CONVERTER_WORKERS": "1",
        "DPA_CONVERTER_QUEUE": "12",
        "DPA_SWEEP_SECONDS": "1",
        "DPA_JOB_TIMEOUT_SECONDS": "20",
        "DPA_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
        "DPA_FORWARDED_ALLOW_IPS": "127.0.0.1",  # clients are told apart by X-Forwarded-For
        "DPA_SHUTDOWN_GRACE_SECONDS": "10",
        "DPA_HOST": "127.0.0.1",
    }
    ports = [_free_port(), _free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    replicas = [
        Proc(
            f"replica{i}",
            ["serve"],
            {**base_env, "DPA_PORT": str(p), "DPA_PUBLIC_URL": f"http://127.0.0.1:{p}"},
            tmp_path / f"replica{i}.log",
        )
        for i, p in enumerate(ports)
    ]
    metric_ports = [_free_port(), _free_port()]
    workers = [
        Proc(
            f"worker{i}",
            ["worker", "--concurrency", "2"],
            {**base_env, "DPA_METRICS_PORT": str(mp)},
            tmp_path / f"worker{i}.log",
        )
        for i, mp in enumerate(metric_ports)
    ]
    everyone = replicas + workers
    figures = Figures()
    client = RoundRobin(bases, figures)
    faults: list[str] = []
    try:
        for proc in everyone:
            proc.start()
        for base, proc in zip(bases, replicas, strict=True):
            _wait_ready(base, proc)
        app = {"Authorization": f"Bearer {tokens['app']}"}

        # Webhooks to a receiver on loopback, every event.
        r = client.call(
            "POST",
            "/api/v1/webhooks",
            json={"url": receiver.url, "description": "topology"},
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        assert r.status_code == 201, r.text

        # -- 200 DPA requests over 40 workspaces; one replica and one worker die mid-way ----
        workspace_ids = [f"topo-{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(WORKSPACES)]
        returned: dict[str, list[tuple[str, int]]] = {w: [] for w in workspace_ids}
        progress = Counter[str]()

        def dpa_requests(ws: str) -> None:
            details = {
                **WORKSPACE,
                "legal_name": f"SIA Topoloģija {ws}",
                "signatory": {**WORKSPACE["signatory"], "email": f"{ws}@example.lv"},
            }
            put = client.call("PUT", f"/api/v1/workspaces/{ws}", json=details, headers=app)
            assert put.status_code in (200, 201), put.text
            for n in range(REQUESTS_PER_WORKSPACE):
                body = {"new_version": True} if n == 2 else None
                r = client.call(
                    "POST", f"/api/v1/workspaces/{ws}/agreements", json=body, headers=app
                )
                assert r.status_code in (200, 201), (ws, n, r.status_code, r.text[:300])
                returned[ws].append((r.json()["agreement_id"], r.json()["version"]))
                with figures.lock:
                    progress["dpa"] += 1

        def kill_and_restart() -> None:
            while progress["dpa"] < WORKSPACES * REQUESTS_PER_WORKSPACE // 2:
                if requests_over.is_set():
                    return  # the requests failed: their error is the one shown
                time.sleep(0.2)
            replicas[0].kill()
            workers[0].kill()
            faults.append(f"SIGKILL replica0 and worker0 after {progress['dpa']} DPA requests")
            time.sleep(2)
            replicas[0].start()
            workers[0].start()

        requests_over = threading.Event()
        with ThreadPoolExecutor(6) as pool:
            killer = pool.submit(kill_and_restart)
            try:
                list(pool.map(dpa_requests, workspace_ids[:-1]))
                dpa_requests(workspace_ids[-1])
            finally:
                requests_over.set()
            killer.result()
        _wait_ready(bases[0], replicas[0])

        # -- a template approval (four eyes) -------------------------------------------------
        legal = {"Authorization": f"Bearer {tokens['legal']}"}
        legal2 = {"Authorization": f"Bearer {tokens['legal2']}"}
        r = client.call(
            "POST",
            "/api/v1/templates/confidentiality/versions",
            files={"file": ("c.docx", with_jinja("Topology wording.", "confidentiality"))},
            data={"change_note": "topology"},
            headers=legal,
        )
        assert r.status_code == 201, r.text
        number = r.json()["version"]
        for action, who in (("submit", legal), ("approve", legal2)):
            r = client.call(
                "POST", f"/api/v1/templates/confidentiality/versions/{number}/{action}", headers=who
            )
            assert r.status_code == 200, r.text

        # -- 40 signings with automatic countersignature; Redis pauses, PostgreSQL restarts --
        def signing(i_ws: tuple[int, str]) -> None:
            i, ws = i_ws
            # The template approval above made every draft stale: asking for the DPA again
            # replaces it with a version made from the approved words (a stale draft gets no link).
            r = client.call("POST", f"/api/v1/workspaces/{ws}/agreements", headers=app)
            assert r.status_code in (200, 201), r.text
            agreement_id, version = r.json()["agreement_id"], r.json()["version"]
            signer = {"X-Forwarded-For": f"10.1.{i}.7"}
            r = client.call(
                "POST",
                f"/api/v1/agreements/{agreement_id}/versions/{version}/signing-links",
                json={"embedded": True, "workspace_id": ws},
                headers=app,
            )
            assert r.status_code == 201, r.text
            path = "/sign/" + r.json()["url"].rsplit("/sign/", 1)[1]
            with httpx.Client(timeout=90, follow_redirects=False, headers=signer) as browser:
                page = client.call("GET", path, client=browser)
                assert page.status_code == 200, page.text[:300]
                csrf = CSRF.search(page.text)
                assert csrf, page.text[:500]
                sha = re.search(r"[0-9a-f]{64}", page.text)
                assert sha

                def state() -> str:
                    agreement = client.call(
                        "GET", f"/api/v1/agreements/{agreement_id}", headers=app
                    ).json()
                    return str(
                        next(v for v in agreement["versions"] if v["version"] == version)["state"]
                    )

                def already_signed() -> httpx.Response | None:
                    # the replica died after the signature committed: do not sign again
                    return httpx.Response(303) if state() in ("signed", "completed") else None

                r = client.call(
                    "POST",
                    path,
                    client=browser,
                    on_transport_error=already_signed,
                    data={
                        "_csrf_token": csrf.group(1),
                        "shown_sha256": sha.group(0),
                        "typed_name": "Ēriks Kalniņš",
                        "title": "Chief Executive",
                        "consent": "yes",
                        "drawn_signature": png_data_url(),
                    },
                )
                assert r.status_code == 303 or state() in ("signed", "completed"), r.text[:300]
            with figures.lock:
                progress["signed"] += 1

        def signed_at_least(n: int) -> None:
            # wait for n signatures, or give up with the signings (their error is the one shown)
            while progress["signed"] < n and not signings_over.is_set():
                time.sleep(0.2)

        def database_and_redis_faults() -> None:
            signed_at_least(WORKSPACES // 4)
            redis.Redis.from_url(REDIS_URL).client_pause(3000)
            faults.append(f"Redis paused 3 s after {progress['signed']} signatures")
            signed_at_least(WORKSPACES // 2)
            if PG_RESTART:
                version = sorted(os.listdir("/etc/postgresql"))[-1]
                t0 = time.monotonic()
                restart = subprocess.run(
                    [
                        "pg_ctlcluster",
                        "--skip-systemctl-redirect",
                        version,
                        "main",
                        "restart",
                        "-m",
                        "fast",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert restart.returncode == 0, restart.stderr
                faults.append(
                    f"PostgreSQL {version} restarted (-m fast, {time.monotonic() - t0:.1f} s) "
                    f"after {progress['signed']} signatures"
                )
            else:
                faults.append("PostgreSQL restart left out (DPA_TEST_TOPOLOGY_PG_RESTART=0)")

        signings_over = threading.Event()
        with ThreadPoolExecutor(5) as pool:
            fault = pool.submit(database_and_redis_faults)
            try:
                list(pool.map(signing, enumerate(workspace_ids)))
            finally:
                signings_over.set()
            fault.result()

        # -- a subprocessor list change: notices to every counterparty with a completed DPA --
        r = client.call("GET", "/api/v1/subprocessors/", headers=app)
        entries = [  # the approved entries as they are, without the fields only answers carry
            {k: v for k, v in e.items() if k not in ("location_name", "in_eea")}
            for e in r.json()["entries"]
        ]
        entries.append(
            {
                "name": f"Topology Helpdesk {uuid.uuid4().hex[:6]}",
                "purpose": "Customer support tickets",
                "location": "US",
                "transfer_safeguard": "SCCs (Module 3)",
            }
        )
        _wait(
            lambda: _count_states(topology_database).get("signed", 0) == 0, 150, "countersignatures"
        )
        r = client.call(
            "POST",
            "/api/v1/subprocessors/versions",
            json={"entries": entries, "change_note": "topology"},
            headers=legal,
        )
        assert r.status_code == 201, r.text
        sp_number = r.json()["version"]
        for action, who in (("submit", legal), ("approve", legal2)):
            r = client.call(
                "POST", f"/api/v1/subprocessors/versions/{sp_number}/{action}", headers=who
            )
            assert r.status_code == 200, r.text
        notices = r.json()

        # -- the rate limit, counted once across both replicas --------------------------------
        limited = [
            client.http.get(
                bases[i % 2] + "/verify", headers={"X-Forwarded-For": "10.99.0.1"}
            ).status_code
            for i in range(RATE_LIMIT + 1)
        ]
        assert limited == [200] * RATE_LIMIT + [429], limited

        # -- settle: archive, webhooks, e-mail all done ---------------------------------------
        _wait(lambda: _background_done(topology_database), 150, "background work to finish")

        # -- invariants ------------------------------------------------------------------------
        assert figures.unretryable == [], figures.unretryable
        assert 500 not in figures.answers, figures.answers
        versions, completions = _check_versions(topology_database, returned)
        assert completions == WORKSPACES
        env = {**base_env}
        for args in (["verify", "--archive"], ["verify", "--audit"]):
            check = subprocess.run(
                [sys.executable, "-m", "dpa_service.cli", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert check.returncode == 0, (args, check.stdout[-3000:], check.stderr[-3000:])
        delivered, duplicates = _check_webhooks(topology_database, receiver)

        # -- /metrics on every replica and worker -----------------------------------------------
        for base in bases:
            text = httpx.get(base + "/metrics", timeout=10).text
            assert scrape_has_series(text) == [], base
        for port in metric_ports:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            assert 'dpa_job_runs_total{outcome="ok",task="mail"}' in text
            assert "dpa_converter_busy" in text and 'dpa_queue_depth{task="archive"}' in text

        # -- a replica and a worker stop gracefully on SIGTERM -----------------------------------
        # (uvicorn ends by raising the SIGTERM it caught again, once shut down)
        assert replicas[1].stop() in (0, -signal.SIGTERM), replicas[1].tail()
        assert workers[1].stop() == 0, workers[1].tail()
        logged = replicas[1].log.read_text()
        assert '"path": "/api/v1/workspaces/' in logged and '"request_id"' in logged
        assert "Application shutdown complete" in logged, replicas[1].tail()
        # its converter pool closed and its work folder went with it
        assert replicas[1].popen is not None and workers[1].popen is not None
        for pid in (replicas[1].popen.pid, workers[1].popen.pid):
            assert not list((data / "converter").glob(f"pool-{pid}-*")), pid
        assert '"job": "archive"' in workers[0].log.read_text() + workers[1].log.read_text()

        elapsed = time.monotonic() - started
        with capsys.disabled():  # on the terminal in every run, CI's too
            print(
                "\ntopology figures: "
                + json.dumps(
                    {
                        "requests": figures.requests,
                        "retries": figures.retries,
                        "transport_errors": figures.transport_errors,
                        "answers": dict(sorted(figures.answers.items())),
                        "dpa_requests": WORKSPACES * REQUESTS_PER_WORKSPACE,
                        "versions": versions,
                        "completions": completions,
                        "subprocessor_notices": notices["change"]["notices"],
                        "webhook_events_delivered": delivered,
                        "webhook_duplicates_delivered": duplicates,
                        "faults": faults,
                        "pg_restart": PG_RESTART,
                        "seconds": round(elapsed, 1),
                    },
                    ensure_ascii=False,
                )
            )
        assert elapsed < 300, f"the topology test took {elapsed:.0f} s"
    except BaseException:
        for proc in everyone:
            print(f"--- {proc.name} ---\n{proc.tail()}")
        raise
    finally:
        for proc in everyone:
            proc.stop()
        receiver.stop()


# -- helpers -------------------------------------------------------------------------------


def _wait_ready(base: str, proc: Proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.popen is not None and proc.popen.poll() is None, proc.tail()
        try:
            if httpx.get(base + "/ready", timeout=3).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{proc.name} not ready: {proc.tail()}")


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (psycopg.OperationalError, Exception) as exc:  # noqa: B014 - PostgreSQL may be back a moment later
            last = exc
        else:
            last = None
        assert time.monotonic() < deadline, f"timed out waiting for {what} ({last})"
        time.sleep(0.5)


def _session(url: str) -> Any:
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    return engine, make_session_factory(engine)()


def _count_states(url: str) -> Counter[str]:
    engine, s = _session(url)
    try:
        return Counter(s.scalars(select(AgreementVersion.state)))
    finally:
        s.close()
        engine.dispose()


def _background_done(url: str) -> bool:
    from dpa_service.archive.models import ArchiveObject
    from dpa_service.notify.models import OutboundEmail

    engine, s = _session(url)
    try:
        pending_archive = s.scalars(
            select(ArchiveObject.id).where(ArchiveObject.state != "stored")
        ).all()
        pending_hooks = s.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.state != "delivered")
        ).all()
        pending_mail = s.scalars(
            select(OutboundEmail.id).where(OutboundEmail.state != "sent")
        ).all()
        archived_events = s.scalars(
            select(WebhookEvent.id).where(WebhookEvent.type == "agreement.archived")
        ).all()
        return (
            not pending_archive
            and not pending_hooks
            and not pending_mail
            and len(archived_events) >= WORKSPACES
        )
    finally:
        s.close()
        engine.dispose()


def _check_versions(url: str, returned: dict[str, list[tuple[str, int]]]) -> tuple[int, int]:
    """No version number used twice or lost; every version a client was given exists."""
    engine, s = _session(url)
    try:
        rows = s.execute(
            select(AgreementVersion.agreement_id, AgreementVersion.number, AgreementVersion.state)
        ).all()
    finally:
        s.close()
        engine.dispose()
    numbers: dict[str, list[int]] = {}
    for agreement_id, number, _ in rows:
        numbers.setdefault(agreement_id, []).append(number)
    for agreement_id, got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1)), (agreement_id, sorted(got))
    for ws, pairs in returned.items():
        assert len(pairs) == REQUESTS_PER_WORKSPACE, ws
        for agreement_id, number in pairs:
            assert number in numbers.get(agreement_id, []), (ws, agreement_id, number)
    states = Counter(state for _, _, state in rows)
    assert states.get("signed", 0) == 0, states  # nothing stuck between signature and seal
    return len(rows), states.get("completed", 0)


def _check_webhooks(url: str, receiver: Receiver) -> tuple[int, int]:
    """Every event recorded was received (2xx) at least once; how many came twice."""
    engine, s = _session(url)
    try:
        event_ids = set(s.scalars(select(WebhookEvent.id)))
    finally:
        s.close()
        engine.dispose()
    received = Counter(r.json["id"] for r in receiver.requests(lambda r: r.ok))
    missing = event_ids - set(received)
    assert not missing, f"{len(missing)} webhook events never delivered"
    assert event_ids, "no webhook events at all"
    return len(event_ids), sum(n - 1 for n in received.values())
