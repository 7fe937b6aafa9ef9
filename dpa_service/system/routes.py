"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from dpa_service import migrations


@get("/health", tags=["system"], exclude_from_auth=True)
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/ready", tags=["system"], sync_to_thread=True, exclude_from_auth=True)
def ready(state: State) -> Response[dict[str, Any]]:
    """Database reachable and migrated, archive writable, converter workers alive."""
    checks: dict[str, Any] = {}
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        migrations.ensure_migrated(state.engine)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc}"
    try:
        state.archive.check()
        checks["archive"] = f"ok ({state.archive.name}: {state.archive.describe()})"
    except Exception as exc:
        checks["archive"] = f"error: {exc}"
    pool = state.pool
    if pool.healthy():
        checks["converter"] = f"ok ({len(pool.worker_pids())}/{pool.settings.size} workers)"
    else:
        checks["converter"] = "error: no LibreOffice worker is running"
    ok = all(str(v).startswith("ok") for v in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
