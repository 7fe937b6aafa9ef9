"""The request id a log line belongs to: set per request, stored with the work a request queues,
and set again while a job does that work, so one id follows a change from the API into jobs."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REQUEST_ID: ContextVar[str | None] = ContextVar("dpa_request_id", default=None)
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id() -> str:
    return secrets.token_hex(8)


def accepted_request_id(value: str | None) -> str | None:
    """A caller's X-Request-ID when it is a plain token (it goes into logs), else None."""
    return value if value and _ACCEPTED.fullmatch(value) else None


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Log lines inside the block carry `request_id` (a job doing a request's work)."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)
