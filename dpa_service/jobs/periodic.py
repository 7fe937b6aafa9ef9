"""The one list of recurring work, run by both engines (the embedded thread and SAQ workers).

Each task claims its rows in the database, so two workers sweeping at once never do the same
thing twice, and each returns how much it did. Every run that did something or failed is one
log line (`job`, `done`, `duration_ms`, `outcome`) and counts in `dpa_job_runs_total`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import InterfaceError, OperationalError

from dpa_service.archive import service as archive_service
from dpa_service.archive.base import ArchiveError
from dpa_service.audit.checkpoints import write_due_checkpoint
from dpa_service.idempotency.service import purge_old
from dpa_service.jobs.context import JobContext
from dpa_service.log_context import request_id_bound
from dpa_service.metrics import JOB_FAILURES, JOB_RUNS
from dpa_service.notify.outbox import deliver_due
from dpa_service.reissue.service import run_reissues
from dpa_service.sales.reminders import send_reminders
from dpa_service.signing.completion import complete_stuck
from dpa_service.signing.service import expire_due
from dpa_service.webhooks.delivery import deliver_webhooks
from dpa_service.webhooks.events import catch_up_archived

log = logging.getLogger(__name__)

Task = Callable[[JobContext], int]
# The database or the archive not answering: the work waits, nothing is wrong with it.
PASSING_FAULTS = (OperationalError, InterfaceError, ArchiveError)


def _expire(ctx: JobContext) -> int:
    with ctx.session_factory() as session:
        expired = expire_due(session=session)
        if expired:
            session.commit()
    return len(expired)


PERIODIC_TASKS: tuple[tuple[str, Task], ...] = (
    ("expire", _expire),
    ("reminders", send_reminders),
    ("mail", deliver_due),
    ("archived_events", catch_up_archived),
    ("webhooks", deliver_webhooks),
    # The two that render and seal come last: a slow converter does not hold up the rest.
    ("complete_stuck", complete_stuck),
    ("audit_checkpoints", write_due_checkpoint),
    ("reissue", run_reissues),
    ("purge_idempotency_keys", purge_old),
)


def run_job(name: str, work: Callable[[], int], **fields: object) -> int:
    """Run one job (a periodic task, one archive write): time it, count it, log one line.

    A failure is logged and counted, not raised: the work stays pending in the database and
    the next sweep tries again."""
    started = time.monotonic()
    try:
        done = work()
    except Exception as exc:
        JOB_RUNS.labels(name, "failed").inc()
        JOB_FAILURES.labels(name).inc()
        passing = isinstance(exc, PASSING_FAULTS)  # no traceback for a server that is away
        log.log(
            logging.WARNING if passing else logging.ERROR,
            "job %s failed; it runs again on the next sweep: %s",
            name,
            str(exc).splitlines()[0] if passing and str(exc) else exc,
            exc_info=not passing,
            extra={"job": name, "outcome": "failed", **fields},
        )
        return 0
    JOB_RUNS.labels(name, "ok").inc()
    duration_ms = round((time.monotonic() - started) * 1000)
    log.log(
        logging.INFO if done else logging.DEBUG,
        "job %s did %d",
        name,
        done,
        extra={"job": name, "outcome": "ok", "done": done, "duration_ms": duration_ms, **fields},
    )
    return done


def run_periodic(ctx: JobContext) -> int:
    done = 0
    for name, task in PERIODIC_TASKS:
        if ctx.stopping.is_set():
            break  # shutting down: what is left stays pending for another worker
        done += run_job(name, lambda task=task: task(ctx))  # type: ignore[misc]
    return done


def archive_one(ctx: JobContext, object_id: str, request_id: str | None) -> str:
    """Store one pending archive object, logged as a job under the request that staged it.
    Returns its state afterwards, or "error" when the archive could not be reached."""
    outcome: list[str] = []

    def store() -> int:
        outcome.append(
            archive_service.store(
                session_factory=ctx.session_factory,
                archive=ctx.archive,
                object_id=object_id,
                lease_s=ctx.settings.job_timeout_seconds,
            )
        )
        return outcome[0] == "stored"

    with request_id_bound(request_id):
        run_job("archive", store, object_id=object_id)
    return outcome[0] if outcome else "error"  # raised: the archive is not reachable


def archive_pending(ctx: JobContext) -> int:
    """Store every pending archive object, one after another (the embedded engine)."""
    with ctx.session_factory() as session:
        ids = archive_service.pending_ids(session=session)
        requests = archive_service.request_ids(session=session, ids=ids)
    done = 0
    for object_id in ids:
        if ctx.stopping.is_set():
            break
        state = archive_one(ctx, object_id, requests.get(object_id))
        if state == "error":
            log.warning("archive not reachable; %d objects stay pending", len(ids) - done)
            break  # the archive is down: try the rest on the next sweep
        done += state == "stored"
    return done


def sweep_once(ctx: JobContext) -> int:
    """Everything due now, in this process: the periodic tasks, then the pending archive."""
    return run_periodic(ctx) + archive_pending(ctx)
