"""`dpa-service bench`: the service's generation path against a cold soffice per document.

Everything runs in a throw-away data folder (SQLite, local archive) so a bench never touches
real records. generate_ms covers what POST .../agreements does after HTTP parsing: database
reads, filling the templates, conversion on the warm pool, metadata, hashing, the archive write
and the commit.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import select

from dpa_service import migrations
from dpa_service.accounts.service import Principal
from dpa_service.agreements import service as agreements
from dpa_service.archive import service as archive_service
from dpa_service.archive.local import LocalArchive
from dpa_service.archive.models import ArchiveObject
from dpa_service.config import REPO_ROOT, Settings
from dpa_service.counterparties.schemas import parse_details
from dpa_service.counterparties.service import upsert_workspace
from dpa_service.db import make_engine, make_session_factory
from dpa_service.profile import service as profiles
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.pdf import sha256_hex
from dpa_service.runtime import make_sealer, pool_settings
from dpa_service.signing import service as signing
from dpa_service.signing.completion import Countersigner, complete
from dpa_service.signing.verification import verify_pdf


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[idx], 1)


def _rss_mb() -> tuple[float, float]:
    """(this process, its LibreOffice workers) resident memory in MB."""
    me = psutil.Process()
    children = 0
    for child in me.children(recursive=True):
        try:
            children += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return me.memory_info().rss / 1e6, children / 1e6


def _cold_soffice_ms(settings: Settings, docx: bytes, runs: int, workdir: Path) -> list[float]:
    profile = workdir / "baseline-profile"
    src = workdir / "baseline.docx"
    src.write_bytes(docx)
    cmd = [
        settings.soffice,
        "--headless",
        f"-env:UserInstallation=file://{profile}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(workdir / "baseline-out"),
        str(src),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)  # creates the profile once
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)
        times.append((time.perf_counter() - t) * 1000)
    return times


def _bench_signing(
    settings: Settings, factory: Any, pool: ConverterPool, archive: LocalArchive, n: int
) -> dict[str, Any]:
    """sign_complete: the controller's Sign to the sealed PDF stored (automatic countersignature),
    as the signing page does it after parsing the form; seal_verify: checking a completed PDF."""
    sealer = make_sealer(settings)
    countersigner = Countersigner(
        name="Bench Signatory",
        title="Authorised signatory",
        email="info@klusaro.com",
        method="Authorised signatory (automatic)",
        actor="bench",
    )
    sign_ms: list[float] = []
    verify_ms: list[float] = []
    for i in range(n + 1):  # the first round warms caches and is not counted
        with factory() as session:
            outcome = agreements.request_dpa(
                session=session,
                pool=pool,
                settings=settings,
                workspace_id="bench-0",
                new_version=True,
                actor="bench",
            )
            session.commit()
            link, secret = signing.create_link(
                session=session,
                agreement_id=outcome.version.agreement_id,
                number=outcome.version.number,
                embedded=False,
                require_code=False,
                actor="bench",
                settings=settings,
            )
            session.commit()
        t = time.perf_counter()
        with factory() as session:
            access = signing.open_link(session=session, secret=secret)
            signing.sign(
                session=session,
                access=access,
                typed_name="Līga Bērziņa",
                title="Board member",
                drawing=None,
                consented=True,
                shown_sha256=access.version.draft_pdf_sha256,
                code_verified=False,
                ip="127.0.0.1",
                user_agent="bench",
            )
            session.commit()
            complete(
                session=session,
                version=access.version,
                countersigner=countersigner,
                pool=pool,
                sealer=sealer,
                settings=settings,
            )
            session.commit()
            final_key = access.version.final_pdf_key
            for object_id in archive_service.pending_ids(session=session):
                archive_service.store(session_factory=factory, archive=archive, object_id=object_id)
        elapsed = (time.perf_counter() - t) * 1000
        assert final_key is not None
        pdf = archive.get(final_key)
        t = time.perf_counter()
        with factory() as session:
            verdict = verify_pdf(session=session, pdf=pdf, sealer=sealer)
        assert verdict.status == "completed", verdict
        if i:
            sign_ms.append(elapsed)
            verify_ms.append((time.perf_counter() - t) * 1000)
    return {
        "sign_runs": n,
        "sign_complete_ms_p50": _pct(sign_ms, 0.5),
        "sign_complete_ms_p95": _pct(sign_ms, 0.95),
        "seal_verify_ms_p50": _pct(verify_ms, 0.5),
    }


def _bench_s3_put(sample: bytes, n: int) -> dict[str, Any]:
    """archive_put_ms: one write-once put with checksum, retention and read-back, against moto's
    S3 server on a loopback port (the test dependency moto must be installed)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return {"archive_put_ms_p50": None, "archive_put_note": "moto not installed"}
    import socket
    import uuid

    import boto3

    from dpa_service.archive.s3 import S3Archive, S3Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="eu-central-1").create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
            ObjectLockEnabledForBucket=True,
        )
        archive = S3Archive(
            S3Settings(
                bucket=bucket,
                region="eu-central-1",
                endpoint_url=endpoint,
                sse="AES256",
                kms_key_id=None,
                object_lock_mode="COMPLIANCE",
                retention_days=1,
            )
        )
        digest = sha256_hex(sample)
        times = []
        for i in range(n + 1):
            t = time.perf_counter()
            archive.put(f"bench/{i}/completed.pdf", sample, digest, "application/pdf")
            if i:  # the first put opens the connection
                times.append((time.perf_counter() - t) * 1000)
        return {"archive_put_ms_p50": _pct(times, 0.5), "archive_put_bytes": len(sample)}
    finally:
        server.stop()


def _confirm_profile(factory: Any) -> None:
    """The bench's throw-away database gets a processor profile with every value confirmed
    (two made-up legal users), so that its DPAs may be sent and signed."""
    author = Principal(subject="user:bench-author", name="Bench Author", role="legal")
    reviewer = Principal(subject="user:bench-reviewer", name="Bench Reviewer", role="legal")
    with factory() as session:
        profile = copy.deepcopy(profiles.current_approved(session=session).profile)
        for _path, node in profiles.nodes(profile):
            if node["value"] is None:
                node["value"] = "Bench value"  # type: ignore[index]
            node["confirmed"] = True  # type: ignore[index]
        draft = profiles.create_draft(
            session=session, author=author, profile=profile, change_note="bench"
        )
        profiles.submit(session=session, number=draft.version, actor=author)
        profiles.approve(session=session, number=draft.version, reviewer=reviewer)
        session.commit()


def run_bench(
    base: Settings,
    *,
    n: int,
    concurrency: int,
    baseline_n: int,
    memory_n: int = 0,
    sign_n: int = 10,
    language: str = "en",
    bilingual: bool = False,
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="dpa-bench-"))
    settings = base.with_(
        data_dir=workdir,
        database_url=f"sqlite:///{workdir / 'bench.sqlite3'}",
        archive_dir=workdir / "signed",
        converter_workers=max(base.converter_workers, concurrency),
    )
    fills: list[float] = []
    docx_seen: list[bytes] = []
    pages: list[int] = []
    try:
        engine = make_engine(settings.database_url)
        migrations.upgrade(engine)
        factory = make_session_factory(engine)
        _confirm_profile(factory)
        sample = json.loads((REPO_ROOT / "examples" / "workspace.json").read_bytes())
        sample["language"] = language
        if bilingual:
            sample["bilingual"] = True
        details = parse_details(json.dumps(sample))
        slots = concurrency + 1  # the warm-up (main thread) and each runner thread
        with factory() as session:  # one workspace per concurrent caller, as in real traffic
            for i in range(slots):
                upsert_workspace(session=session, workspace_id=f"bench-{i}", details=details)
            session.commit()
        local = threading.local()
        free_slots = list(range(slots))
        archive = LocalArchive(settings.archive_dir)
        lock = threading.Lock()

        with ConverterPool(pool_settings(settings)) as pool:

            def generate_one() -> float:
                if not hasattr(local, "slot"):
                    with lock:
                        local.slot = free_slots.pop()
                t = time.perf_counter()
                with factory() as session:
                    outcome = agreements.request_dpa(
                        session=session,
                        pool=pool,
                        settings=settings,
                        workspace_id=f"bench-{local.slot}",
                        new_version=True,
                        actor="bench",
                    )
                    session.commit()
                    object_id = session.scalars(
                        select(ArchiveObject.id).where(
                            ArchiveObject.key == outcome.version.draft_pdf_key
                        )
                    ).one()
                archive_service.store(session_factory=factory, archive=archive, object_id=object_id)
                assert outcome.rendered is not None
                fills.append(outcome.rendered.fill_ms)
                if not docx_seen:
                    docx_seen.append(outcome.rendered.docx)
                    pages.append(outcome.rendered.pages)
                return (time.perf_counter() - t) * 1000

            for _ in range(slots):  # warm-up: first document per worker
                generate_one()
            fills.clear()
            times: list[float] = []
            counter = iter(range(n))

            def runner() -> None:
                while True:
                    with lock:
                        if next(counter, None) is None:
                            return
                    ms = generate_one()
                    with lock:
                        times.append(ms)

            t0 = time.perf_counter()
            threads = [threading.Thread(target=runner) for _ in range(concurrency)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t0

            signing = _bench_signing(settings, factory, pool, archive, sign_n)
            completed = sorted((settings.archive_dir / "agreements").rglob("completed.pdf"))
            signing.update(_bench_s3_put(completed[0].read_bytes(), 20))
            memory: dict[str, Any] = {}
            if memory_n:
                gc.collect()
                service_before, workers_before = _rss_mb()
                for _ in range(memory_n):
                    generate_one()
                gc.collect()
                service_after, workers_after = _rss_mb()
                memory = {
                    "memory_generations": memory_n,
                    "service_rss_mb_before": round(service_before, 1),
                    "service_rss_mb_after": round(service_after, 1),
                    "service_rss_growth_mb": round(service_after - service_before, 1),
                    "converter_rss_growth_mb": round(workers_after - workers_before, 1),
                    "worker_restarts": pool.restarts,
                }
            with factory() as session:
                last = agreements.count_versions(session=session)

        baseline = _cold_soffice_ms(settings, docx_seen[0], baseline_n, workdir)
        p50 = _pct(times, 0.5)
        base_p50 = _pct(baseline, 0.5)
        return {
            "language": language,
            "bilingual": bilingual,
            "pages": pages[0],
            "n": n,
            "concurrency": concurrency,
            "converter_workers": settings.converter_workers,
            "render_ms_p50": _pct(fills, 0.5),
            "generate_ms_p50": p50,
            "generate_ms_p95": _pct(times, 0.95),
            "throughput_per_s": round(n / wall, 2),
            "baseline_runs": baseline_n,
            "baseline_cold_soffice_ms_p50": base_p50,
            "speedup_vs_baseline": round(base_p50 / p50, 2),
            "versions_written": last,
            "cpu_count": os.cpu_count(),
            **signing,
            **memory,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
