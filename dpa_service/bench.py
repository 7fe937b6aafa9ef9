"""`dpa-service bench`: the service's generation path against a cold soffice per document.

Everything runs in a throw-away data folder (SQLite, local archive) so a bench never touches
real records. generate_ms covers what POST .../agreements does after HTTP parsing: database
reads, filling the templates, conversion on the warm pool, metadata, hashing, the archive write
and the commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from dpa_service import migrations
from dpa_service.agreements import service as agreements
from dpa_service.app import pool_settings
from dpa_service.archive.local import LocalArchive
from dpa_service.config import REPO_ROOT, Settings
from dpa_service.counterparties.schemas import parse_details
from dpa_service.counterparties.service import upsert_workspace
from dpa_service.db import make_engine, make_session_factory
from dpa_service.rendering.converter import ConverterPool


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[idx], 1)


def _tree_rss_mb() -> float:
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


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


def run_bench(
    base: Settings, *, n: int, concurrency: int, baseline_n: int, memory_n: int = 0
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
        details = parse_details((REPO_ROOT / "examples" / "workspace.json").read_bytes())
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
                        archive=archive,
                        settings=settings,
                        workspace_id=f"bench-{local.slot}",
                        new_version=True,
                        actor="bench",
                    )
                    session.commit()
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

            memory: dict[str, Any] = {}
            if memory_n:
                rss_before = _tree_rss_mb()
                for _ in range(memory_n):
                    generate_one()
                rss_after = _tree_rss_mb()
                memory = {
                    "memory_generations": memory_n,
                    "rss_mb_before": round(rss_before, 1),
                    "rss_mb_after": round(rss_after, 1),
                    "rss_growth_mb": round(rss_after - rss_before, 1),
                    "worker_restarts": pool.restarts,
                }
            with factory() as session:
                last = agreements.count_versions(session=session)

        baseline = _cold_soffice_ms(settings, docx_seen[0], baseline_n, workdir)
        p50 = _pct(times, 0.5)
        base_p50 = _pct(baseline, 0.5)
        return {
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
            **memory,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
