"""Webhook request and response bodies (admin API)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from dpa_service.counterparties.schemas import Strict

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


Description = Annotated[str, msgspec.Meta(max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]


EventName = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


DeliveryState = Literal["pending", "delivering", "delivered", "failed"]


class EndpointIn(Strict):
    url: Url
    events: list[EventName] | None = None  # omitted or null: every event
    description: Description = ""


class EndpointPatch(Strict):
    url: Url | None = None
    events: list[EventName] | None = None
    all_events: bool = False  # true: subscribe to every event (events must be omitted)
    description: Description | None = None
    active: bool | None = None


class EndpointOut(msgspec.Struct):
    id: str
    url: str
    events: list[str] | None
    active: bool
    description: str
    created_by: str
    created_at: str
    disabled_at: str | None


class EndpointCreated(EndpointOut):
    secret: str  # shown only in this answer


class AttemptOut(msgspec.Struct):
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None


class DeliveryOut(msgspec.Struct):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    event_created_at: str
    state: str
    attempts: int
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    delivered_at: str | None
    created_at: str
    attempt_log: list[AttemptOut]
