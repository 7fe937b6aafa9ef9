"""`dpa-service worker`: an SAQ worker running every kind of background work from the queue.

Each worker builds its own database engine, archive, converter pool (re-issue and stuck
countersignatures render) and sealer at start, enqueues a sweep every DPA_SWEEP_SECONDS, and
fans the pending archive writes out as one job each.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dpa_service.archive import service as archive_service
from dpa_service.config import Settings
from dpa_service.db import make_engine, make_session_factory
from dpa_service.jobs.context import JobContext
from dpa_service.jobs.engines import SWEEP
from dpa_service.jobs.periodic import run_periodic
from dpa_service.rendering.converter import ConverterPool
from dpa_service.runtime import make_archive, make_sealer, pool_settings

log = logging.getLogger(__name__)

ARCHIVE_OBJECT = "archive_object"


def worker_settings(settings: Settings) -> dict[str, Any]:
    """SAQ worker definition: job functions, a startup that builds what they need, a timer."""
    from saq import Queue

    queue = Queue.from_url(settings.queue_url, name=settings.queue_name)

    async def startup(ctx: dict[str, Any]) -> None:
        pool = ConverterPool(pool_settings(settings))
        ctx["pool_start"] = asyncio.create_task(asyncio.to_thread(pool.start))  # warms up
        # SAQ keeps its own Job under ctx["job"]
        ctx["dpa"] = JobContext(
            make_session_factory(make_engine(settings.database_url)),
            make_archive(settings),
            settings,
            pool,
            make_sealer(settings),
        )

        async def periodic() -> None:
            while True:
                try:
                    await queue.enqueue(SWEEP, key=SWEEP, timeout=300)
                except Exception:
                    log.exception("could not enqueue the periodic sweep")
                await asyncio.sleep(settings.sweep_seconds)

        ctx["periodic"] = asyncio.create_task(periodic())

    async def shutdown(ctx: dict[str, Any]) -> None:
        ctx["periodic"].cancel()
        job: JobContext = ctx["dpa"]
        if job.pool is not None:
            await asyncio.to_thread(job.pool.close)

    async def sweep(ctx: dict[str, Any]) -> int:
        """Run the periodic tasks, and fan out one archive job per pending object."""
        job: JobContext = ctx["dpa"]

        def find() -> list[str]:
            run_periodic(job)
            with job.session_factory() as session:
                ids = archive_service.pending_ids(session=session)
                # The database, not the queue, decides what is handed out again: an object
                # whose job is older than a job may run had its worker die.
                return archive_service.claim_for_queue(
                    session=session, ids=ids, stale_after_s=settings.job_timeout_seconds
                )

        ids = await asyncio.to_thread(find)
        for object_id in ids:
            await queue.enqueue(
                ARCHIVE_OBJECT, object_id=object_id, timeout=settings.job_timeout_seconds
            )
        return len(ids)

    async def archive_object(ctx: dict[str, Any], *, object_id: str) -> str:
        job: JobContext = ctx["dpa"]
        return await asyncio.to_thread(
            archive_service.store,
            session_factory=job.session_factory,
            archive=job.archive,
            object_id=object_id,
        )

    return {
        "queue": queue,
        "functions": [(SWEEP, sweep), (ARCHIVE_OBJECT, archive_object)],
        "startup": startup,
        "shutdown": shutdown,
        "concurrency": 4,
    }
