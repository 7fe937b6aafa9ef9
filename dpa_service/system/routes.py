"""Liveness and readiness.

`/ready` checks the database, Redis (when configured), the archive and the converter pool at
once, each in its own thread, and answers within READY_BUDGET_S whatever hangs: a check still
running then is reported as timed out (and not started again until it returns, so a hanging S3
cannot pile up threads). Details (errors, bucket, endpoint) are shown to an admin token only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from sqlalchemy import text

from dpa_service import migrations
from dpa_service.accounts import service as tokens

READY_BUDGET_S = 1.5  # all checks together; the answer comes well within 2 s


@get("/health", tags=["system"], exclude_from_auth=True)
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


class ReadinessChecks:
    """The checks of one app, run concurrently with a deadline; at most one of each in flight."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dpa-ready")
        self._running: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    def run(self, checks: dict[str, Callable[[], str]], budget_s: float) -> dict[str, str]:
        futures: dict[str, Future[str]] = {}
        with self._lock:
            for name, check in checks.items():
                running = self._running.get(name)
                if running is None or running.done():
                    running = self._running[name] = self._executor.submit(check)
                futures[name] = running
        deadline = time.monotonic() + budget_s
        results: dict[str, str] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                results[name] = f"error: no answer within {budget_s:g}s"
            except Exception as exc:
                results[name] = f"error: {type(exc).__name__}: {exc}"
        return results

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _is_admin(state: State, request: Request[Any, Any, Any]) -> bool:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return False
    try:
        with state.session_factory() as session:
            principal = tokens.authenticate(session=session, secret=secret.strip())
    except Exception:
        return False  # the database is down: no details
    return principal is not None and principal.role == "admin"


@get("/ready", tags=["system"], sync_to_thread=True, exclude_from_auth=True)
def ready(state: State, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Database reachable and migrated, Redis answering (when configured), archive usable,
    converter workers alive; within 2 s even when one of them hangs."""

    def database() -> str:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        migrations.ensure_migrated(state.engine)
        return "ok"

    def archive() -> str:
        state.archive.check()
        return f"ok ({state.archive.name}: {state.archive.describe()})"

    def converter() -> str:
        pool = state.pool
        if pool.healthy():
            return f"ok ({len(pool.worker_pids())}/{pool.settings.size} workers)"
        return "error: no LibreOffice worker is running"

    checks: dict[str, Callable[[], str]] = {"database": database}
    redis = state.get("redis")
    if redis is not None:
        checks["redis"] = lambda: "ok" if redis.ping() else "error: no PONG"
    checks["archive"] = archive
    checks["converter"] = converter
    checker: ReadinessChecks = state.readiness
    results = checker.run(checks, READY_BUDGET_S)
    ok = all(v.startswith("ok") for v in results.values())
    if not _admin_within(state, request, results):
        # the bucket, endpoint and error texts are for operators
        results = {k: v.split(" ", 1)[0].rstrip(":") for k, v in results.items()}
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": results},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"}
        if ok
        else {"Retry-After": "5", "Cache-Control": "no-store"},
    )


def _admin_within(state: State, request: Request[Any, Any, Any], results: dict[str, str]) -> bool:
    """An admin token asks for details; only checked while the database answers."""
    if not request.headers.get("authorization") or not results.get("database", "").startswith("ok"):
        return False
    return _is_admin(state, request)
