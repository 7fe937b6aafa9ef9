"""Domain errors that carry their own HTTP status; the app turns them into JSON problem replies."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class Forbidden(DomainError):
    """The caller's role or identity may not do this (e.g. approve their own change)."""

    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class ServiceUnavailable(DomainError):
    status_code = 503


class Unprocessable(DomainError):
    """Well-formed but unacceptable input (422)."""

    status_code = 422


class Gone(DomainError):
    """It existed, and its time is over (an objection window that closed)."""

    status_code = 410
