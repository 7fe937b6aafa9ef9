"""One unit of work per request: the `db` dependency.

The session commits once, after the handler returned (and before the response is sent), or
rolls back when the handler raised. After the commit come the actions the handler asked for
with `db.after_commit` (an automatic countersignature, in its own transaction) and, if the
transaction queued background work (an e-mail, an archive write, a webhook delivery, a re-issue
item), a wake-up for the job engine, so the work starts now rather than at the next sweep.
Work recorded in a transaction of its own that must stand whatever becomes of the request (an
archive integrity failure's webhook) wakes the engine after a rollback too.
Handlers never commit and never wake the engine themselves.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import State
from sqlalchemy.orm import Session

from dpa_service.db import take_after_commit, take_queued_work
from dpa_service.http.errors import PageAnswer

log = logging.getLogger(__name__)


def _commit(session: Session, state: State) -> None:
    session.commit()
    actions = take_after_commit(session)
    for action in actions:
        try:
            action()
        except Exception:  # what was committed stands; the action's own retry is the sweep
            log.exception("an action after the commit failed")
    # Actions commit transactions of their own, which may queue work too.
    if take_queued_work(session) or actions:
        state.jobs.kick()


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
