"""How jobs run. The embedded default is a thread in the service process; with DPA_QUEUE_URL
(redis://…) the service only enqueues, and `dpa-service worker` processes run the jobs from SAQ's
queue. Either way the database is the source of truth: a sweep finds all pending work and every
job claims its rows, so a lost enqueue, a killed worker or a job run twice changes nothing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from dpa_service.log_context import current_request_id

log = logging.getLogger(__name__)

SWEEP = "sweep"


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


def _log_failed_kick(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        # The sweep the workers run anyway will pick the work up.
        log.warning(
            "could not enqueue a sweep (%s); the periodic sweep will catch up", future.exception()
        )


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
        self._lock = threading.Lock()
        self._pending: concurrent.futures.Future[Any] | None = None

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
        """Enqueue a sweep carrying the request id in force, without waiting for Redis: a
        request never waits on the queue, and while one wake-up is on its way (Redis slow or
        paused) further ones are dropped; the workers' own periodic sweep catches up."""
        with self._lock:
            if self._pending is not None and not self._pending.done():
                return
            self._pending = asyncio.run_coroutine_threadsafe(
                self._queue.enqueue(SWEEP, key=SWEEP, timeout=60, request_id=current_request_id()),
                self._loop,
            )
            self._pending.add_done_callback(_log_failed_kick)
