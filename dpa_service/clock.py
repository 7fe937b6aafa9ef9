"""Time: timezone-aware UTC everywhere, and one way to write it (RFC 3339 with `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    """RFC 3339 in UTC with `Z`: what the API, webhooks, manifests and pages write."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in dpa-service is timezone-aware UTC")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_or_none(at: datetime | None) -> str | None:
    return iso(at) if at is not None else None


def utc_label(at: datetime) -> str:
    """For people (e-mails, pages, the certificate): minutes, with the zone named."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
