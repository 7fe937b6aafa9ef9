"""One unit of work per request: the `db` dependency.

The session commits once, after the handler returned (and before the response is sent), or
rolls back when the handler raised. If the transaction queued background work (an e-mail, an
archive write, a webhook delivery, a re-issue item), the job engine is woken after the commit —
without waiting for it — so the work starts now rather than at the next sweep. Handlers never
commit and never wake the engine themselves; work that must follow the response runs as the
response's background task (the automatic countersignature, see web/signing.py). Work
recorded in a transaction of its own that must stand whatever becomes of the request (an
archive integrity failure's webhook) wakes the engine after a rollback too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import State
from sqlalchemy.orm import Session

from dpa_service.db import take_queued_work
from dpa_service.http.errors import PageAnswer

log = logging.getLogger(__name__)


def _commit(session: Session, state: State) -> None:
    session.commit()
    if take_queued_work(session):
        state.jobs.kick()  # never blocks: a lost wake-up is caught up by the next sweep


async def provide_db(
    state: State, request: Request[Any, Any, Any]
) -> AsyncGenerator[Session, None]:
    session: Session = state.session_factory()
    try:
        yield session
    except PageAnswer as answer:
        await anyio.to_thread.run_sync(session.rollback)
        await anyio.to_thread.run_sync(answer.render, request)  # may load what it shows
        raise
    except BaseException:
        await anyio.to_thread.run_sync(session.rollback)
        if take_queued_work(session):
            state.jobs.kick()
        raise
    else:
        await anyio.to_thread.run_sync(_commit, session, state)
    finally:
        await anyio.to_thread.run_sync(session.close)
