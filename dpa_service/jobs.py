"""Background work: archiving staged objects and expiring unsigned versions.

Two engines run the same job functions. The embedded default is a thread in the service
process. With DPA_QUEUE_URL (redis://…) the service only enqueues, and `dpa-service worker`
processes run the jobs from SAQ's queue, on as many machines as needed. Either way the database
is the source of truth: a sweep finds every pending object, and every job is idempotent, so a
lost enqueue, a killed worker or a job delivered twice changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import sessionmaker

from dpa_service.agreements.reissue import run_reissues
from dpa_service.agreements.sending import send_reminders
from dpa_service.archive import service as archive_service
from dpa_service.archive.base import Archive, ArchiveError
from dpa_service.config import Settings
from dpa_service.notify.outbox import deliver_due
from dpa_service.notify.webhooks import catch_up_archived, deliver_webhooks
from dpa_service.rendering.converter import ConverterPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What periodic work needs; built by the service (embedded engine) or by each worker."""

    session_factory: sessionmaker  # type: ignore[type-arg]
    archive: Archive
    settings: Settings
    pool: ConverterPool | None = None  # work that renders (re-issue) runs where there is one


def _expire(ctx: JobContext) -> int:
    from dpa_service.signing.service import expire_due

    with ctx.session_factory() as session:
        expired = expire_due(session=session)
        if expired:
            session.commit()
    return len(expired)


def periodic_tasks() -> list[tuple[str, Callable[[JobContext], int]]]:
    """Work every sweep does, in order. Each task claims its rows in the database, so two
    workers sweeping at once never do the same thing twice; each returns how much it did."""
    return [
        ("expire", _expire),
        ("reminders", send_reminders),
        ("mail", deliver_due),
        ("archived events", catch_up_archived),
        ("webhooks", deliver_webhooks),
        ("reissue", run_reissues),
    ]


def run_periodic(ctx: JobContext) -> int:
    done = 0
    for name, task in periodic_tasks():
        try:
            done += task(ctx)
        except Exception:
            log.exception("periodic task %s failed; it runs again on the next sweep", name)
    return done


def sweep_once(ctx: JobContext) -> int:
    """Run the periodic tasks and archive everything pending; returns how much was done."""
    done = run_periodic(ctx)
    with ctx.session_factory() as session:
        ids = archive_service.pending_ids(session=session)
    for object_id in ids:
        try:
            if (
                archive_service.store(
                    session_factory=ctx.session_factory, archive=ctx.archive, object_id=object_id
                )
                == "stored"
            ):
                done += 1
        except ArchiveError as exc:
            log.warning("archive not reachable (%s); %d objects stay pending", exc, len(ids))
            break  # the archive is down: try the rest on the next sweep
    return done


class Jobs(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def kick(self) -> None:
        """New work was committed: look for it now rather than at the next sweep."""


class InProcessJobs:
    """The embedded engine: one thread sweeping every `interval_s`, or sooner when kicked."""

    def __init__(self, work: Callable[[], int], interval_s: float) -> None:
        self._work = work
        self._interval = interval_s
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dpa-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread:
            self._thread.join(30)

    def kick(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.clear()
            try:
                self._work()
            except Exception:
                log.exception("background sweep failed; next try in %ss", self._interval)
            self._wake.wait(self._interval)


class QueueJobs:
    """The service side of the SAQ engine: it only enqueues a sweep, which workers run."""

    def __init__(self, queue_url: str, queue_name: str = "dpa") -> None:
        self._url = queue_url
        self._name = queue_name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="dpa-queue", daemon=True
        )
        self._queue: Any = None

    def start(self) -> None:
        from saq import Queue

        self._thread.start()
        self._queue = Queue.from_url(self._url, name=self._name)
        asyncio.run_coroutine_threadsafe(self._queue.connect(), self._loop).result(10)

    def stop(self) -> None:
        if self._queue is not None:
            asyncio.run_coroutine_threadsafe(self._queue.disconnect(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def kick(self) -> None:
        future = asyncio.run_coroutine_threadsafe(
            self._queue.enqueue("sweep", key="sweep", timeout=300), self._loop
        )
        try:
            future.result(5)
        except Exception:
            # The sweep the workers run anyway will pick the work up.
            log.warning(
                "could not enqueue a sweep; the periodic sweep will catch up", exc_info=True
            )


# -- the SAQ worker (`dpa-service worker`) ------------------------------------------------------


def worker_settings(settings: Any) -> dict[str, Any]:
    """SAQ worker definition: job functions, a startup that builds what they need, a timer."""
    from saq import Queue

    from dpa_service.app import make_archive, pool_settings
    from dpa_service.db import make_engine, make_session_factory

    queue = Queue.from_url(settings.queue_url, name=settings.queue_name)

    async def startup(ctx: dict[str, Any]) -> None:
        engine = make_engine(settings.database_url)
        ctx["session_factory"] = make_session_factory(engine)
        ctx["archive"] = make_archive(settings)
        # Re-issuing renders new versions: a converter pool, warmed up in the background.
        ctx["pool"] = ConverterPool(pool_settings(settings))
        ctx["pool_start"] = asyncio.create_task(asyncio.to_thread(ctx["pool"].start))

        async def periodic() -> None:
            while True:
                try:
                    await queue.enqueue("sweep", key="sweep", timeout=300)
                except Exception:
                    log.exception("could not enqueue the periodic sweep")
                await asyncio.sleep(settings.sweep_seconds)

        ctx["periodic"] = asyncio.create_task(periodic())

    async def shutdown(ctx: dict[str, Any]) -> None:
        ctx["periodic"].cancel()
        await asyncio.to_thread(ctx["pool"].close)

    async def sweep(ctx: dict[str, Any]) -> int:
        """Run the periodic tasks, and fan out one archive job per pending object."""
        job_ctx = JobContext(ctx["session_factory"], ctx["archive"], settings, ctx["pool"])

        def find() -> list[str]:
            run_periodic(job_ctx)
            with ctx["session_factory"]() as session:
                ids = archive_service.pending_ids(session=session)
                # The database, not the queue, decides what is handed out again: an object
                # whose job is older than a job may run had its worker die.
                return archive_service.claim_for_queue(
                    session=session, ids=ids, stale_after_s=settings.job_timeout_seconds
                )

        ids = await asyncio.to_thread(find)
        for object_id in ids:
            await queue.enqueue(
                "archive_object", object_id=object_id, timeout=settings.job_timeout_seconds
            )
        return len(ids)

    async def archive_object(ctx: dict[str, Any], *, object_id: str) -> str:
        return await asyncio.to_thread(
            archive_service.store,
            session_factory=ctx["session_factory"],
            archive=ctx["archive"],
            object_id=object_id,
        )

    return {
        "queue": queue,
        "functions": [("sweep", sweep), ("archive_object", archive_object)],
        "startup": startup,
        "shutdown": shutdown,
        "concurrency": 4,
    }
