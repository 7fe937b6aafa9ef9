"""The one list of recurring work, run by both engines (the embedded thread and SAQ workers).

Each task claims its rows in the database, so two workers sweeping at once never do the same
thing twice, and each returns how much it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dpa_service.archive import service as archive_service
from dpa_service.archive.base import ArchiveError
from dpa_service.audit.checkpoints import write_due_checkpoint
from dpa_service.idempotency.service import purge_old
from dpa_service.jobs.context import JobContext
from dpa_service.notify.outbox import deliver_due
from dpa_service.reissue.service import run_reissues
from dpa_service.sales.reminders import send_reminders
from dpa_service.signing.completion import complete_stuck
from dpa_service.signing.service import expire_due
from dpa_service.webhooks.delivery import deliver_webhooks
from dpa_service.webhooks.events import catch_up_archived

log = logging.getLogger(__name__)

Task = Callable[[JobContext], int]


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
    ("archived events", catch_up_archived),
    ("webhooks", deliver_webhooks),
    # The two that render and seal come last: a slow converter does not hold up the rest.
    ("complete stuck countersignatures", complete_stuck),
    ("audit checkpoints", write_due_checkpoint),
    ("reissue", run_reissues),
    ("forget old idempotency keys", purge_old),
)


def run_periodic(ctx: JobContext) -> int:
    done = 0
    for name, task in PERIODIC_TASKS:
        try:
            done += task(ctx)
        except Exception:
            log.exception("periodic task %s failed; it runs again on the next sweep", name)
    return done


def archive_pending(ctx: JobContext) -> int:
    """Store every pending archive object, one after another (the embedded engine)."""
    with ctx.session_factory() as session:
        ids = archive_service.pending_ids(session=session)
    done = 0
    for object_id in ids:
        try:
            stored = archive_service.store(
                session_factory=ctx.session_factory, archive=ctx.archive, object_id=object_id
            )
        except ArchiveError as exc:
            log.warning("archive not reachable (%s); %d objects stay pending", exc, len(ids))
            break  # the archive is down: try the rest on the next sweep
        done += stored == "stored"
    return done


def sweep_once(ctx: JobContext) -> int:
    """Everything due now, in this process: the periodic tasks, then the pending archive."""
    return run_periodic(ctx) + archive_pending(ctx)
