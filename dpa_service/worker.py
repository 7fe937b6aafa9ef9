"""`dpa-service worker`: an SAQ worker running every kind of background work from the queue.

Each worker builds its own database engine, archive, converter pool (re-issue and stuck
countersignatures render) and sealer at start, sweeps every DPA_SWEEP_SECONDS, and
fans the pending archive writes out as one job each; a request's wake-up is a queued sweep
that any free worker runs. On SIGTERM it takes no new work, lets
the jobs in hand finish within DPA_SHUTDOWN_GRACE_SECONDS, then closes its converter pool;
whatever it had claimed and not finished is handed out again when its claim runs out.
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
from dpa_service.jobs.periodic import archive_one, run_job, run_periodic
from dpa_service.log_context import request_id_bound
from dpa_service.rendering.converter import ConverterPool
from dpa_service.runtime import make_archive, make_sealer, pool_settings, serve_worker_metrics

log = logging.getLogger(__name__)

ARCHIVE_OBJECT = "archive_object"


def worker_settings(settings: Settings, *, concurrency: int | None = None) -> dict[str, Any]:
    """SAQ worker definition: job functions, a startup that builds what they need, a timer."""
    from saq import Queue

    queue = Queue.from_url(settings.queue_url, name=settings.queue_name)

    async def startup(ctx: dict[str, Any]) -> None:
        pool = ConverterPool(pool_settings(settings))
        ctx["pool_start"] = asyncio.create_task(asyncio.to_thread(pool.start))  # warms up
        # SAQ keeps its own Job under ctx["job"]
        job = ctx["dpa"] = JobContext(
            make_session_factory(make_engine(settings.database_url)),
            make_archive(settings),
            settings,
            pool,
            make_sealer(settings),
        )
        if settings.metrics_port:
            serve_worker_metrics(job, settings.host, settings.metrics_port)

        async def periodic() -> None:
            # Every worker sweeps on its own clock, outside the queue: a worker killed in the
            # middle of a queued sweep (whose key then blocks wake-ups until SAQ sweeps it
            # away) never stops the others from doing the work.
            while not job.stopping.is_set():
                try:
                    await enqueue_archive_jobs(await asyncio.to_thread(sweep_here, job))
                except Exception:
                    log.exception("periodic sweep failed; next try in %ss", settings.sweep_seconds)
                await asyncio.sleep(settings.sweep_seconds)

        async def on_stop() -> None:
            # SAQ sets its event on SIGTERM/SIGINT, then waits for the jobs in hand
            await ctx["worker"].event.wait()
            log.info("worker stopping: no new work; finishing the jobs in hand")
            job.stopping.set()

        ctx["periodic"] = asyncio.create_task(periodic())
        ctx["on_stop"] = asyncio.create_task(on_stop())

    async def shutdown(ctx: dict[str, Any]) -> None:
        job: JobContext = ctx["dpa"]
        job.stopping.set()
        ctx["periodic"].cancel()  # a sweep still in hand after the grace period is left
        ctx["on_stop"].cancel()
        if job.pool is not None:
            await asyncio.to_thread(job.pool.close)  # removes its work files too
        log.info("worker stopped")

    def sweep_here(job: JobContext) -> list[tuple[str, str | None]]:
        """The periodic tasks, then the pending archive objects to hand out as jobs."""
        if job.stopping.is_set():
            return []
        run_periodic(job)
        claimed: list[str] = []
        requests: dict[str, str | None] = {}

        def claim() -> int:
            with job.session_factory() as session:
                ids = archive_service.pending_ids(session=session)
                # The database, not the queue, decides what is handed out again: an object
                # whose job is older than a job may run had its worker die.
                claimed.extend(
                    archive_service.claim_for_queue(
                        session=session, ids=ids, stale_after_s=settings.job_timeout_seconds
                    )
                )
                requests.update(archive_service.request_ids(session=session, ids=claimed))
            return len(claimed)

        run_job("sweep", claim)
        return [(object_id, requests.get(object_id)) for object_id in claimed]

    async def enqueue_archive_jobs(found: list[tuple[str, str | None]]) -> None:
        for object_id, object_request_id in found:
            await queue.enqueue(
                ARCHIVE_OBJECT,
                object_id=object_id,
                request_id=object_request_id,
                timeout=settings.job_timeout_seconds,
            )

    async def sweep(ctx: dict[str, Any], *, request_id: str | None = None) -> int:
        """A wake-up from a request that queued work: sweep now, on whichever worker is free."""
        job: JobContext = ctx["dpa"]
        with request_id_bound(request_id):  # the request that woke this sweep
            found = await asyncio.to_thread(sweep_here, job)
        await enqueue_archive_jobs(found)
        return len(found)

    async def archive_object(
        ctx: dict[str, Any], *, object_id: str, request_id: str | None = None
    ) -> str:
        job: JobContext = ctx["dpa"]
        if job.stopping.is_set():
            # handed to us as we stop: give it back, so another worker's next sweep takes it
            await asyncio.to_thread(_release, job, object_id)
            return "released"
        return await asyncio.to_thread(archive_one, job, object_id, request_id)

    return {
        "queue": queue,
        "functions": [(SWEEP, sweep), (ARCHIVE_OBJECT, archive_object)],
        "startup": startup,
        "shutdown": shutdown,
        "concurrency": concurrency or settings.worker_concurrency,
        # how often SAQ looks for jobs of dead workers (a wake-up sweep times out after 60 s)
        "timers": {"sweep": 10},
    }


def _release(job: JobContext, object_id: str) -> None:
    with job.session_factory() as session:
        archive_service.release_for_queue(session=session, object_id=object_id)
        session.commit()


def make_worker(settings: Settings, *, concurrency: int | None = None) -> Any:
    """The SAQ worker `dpa-service worker` runs, stopping gracefully (see GracefulWorker)."""
    from saq import Worker

    class GracefulWorker(Worker):  # type: ignore[misc]
        """On SIGTERM: no new work (the jobs see `stopping`), the jobs in hand get up to
        DPA_SHUTDOWN_GRACE_SECONDS to finish, then SAQ stops at once. (SAQ's own grace period
        also waits for its idle loops, so it would always take the whole period.)"""

        async def stop(self) -> None:
            self.event.set()
            dpa: JobContext | None = self.context.get("dpa")
            if dpa is not None:
                dpa.stopping.set()
            running = [c["task"] for c in self.job_task_contexts.values() if not c["task"].done()]
            periodic = self.context.get("periodic")
            if periodic is not None and not periodic.done():
                running.append(periodic)  # ends after the sweep in hand
            if running:
                log.info("finishing %d jobs in hand before stopping", len(running))
                _, late = await asyncio.wait(running, timeout=settings.shutdown_grace_seconds)
                if late:
                    log.warning("%d jobs did not finish in time; their claims run out", len(late))
            for task in list(self.tasks):  # SAQ's idle loops: nothing to wait for
                task.cancel()
            self._shutdown_grace_period_s = 1
            await super().stop()

    definition = worker_settings(settings, concurrency=concurrency)
    queue = definition.pop("queue")
    return GracefulWorker(queue, **definition)
