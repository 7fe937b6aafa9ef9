"""Sales request and response bodies: prospects, their status, invitations."""

from __future__ import annotations

from typing import Any

import msgspec

from dpa_service.counterparties.schemas import Strict, WorkspaceId


class ProspectOwner(msgspec.Struct):
    subject: str
    name: str
    email: str | None = None


class ProspectVersion(msgspec.Struct):
    """Where the prospect's newest DPA version stands, with who moved it and when (UTC)."""

    agreement_id: str
    version: int
    state: str
    created_at: str
    sent_at: str | None = None
    viewed_at: str | None = None
    signed_at: str | None = None
    completed_at: str | None = None
    closed_at: str | None = None  # declined, expired or voided
    expires_at: str | None = None
    state_reason: str | None = None
    reminders_sent: int = 0
    last_emailed_at: str | None = None
    actors: dict[str, str] = msgspec.field(default_factory=dict)  # state -> who moved it there


class ProspectOut(msgspec.Struct):
    id: str
    kind: str  # "prospect", or "workspace" once converted
    workspace_id: str | None
    details: dict[str, Any]
    owner: ProspectOwner | None
    created_at: str
    updated_at: str
    converted_at: str | None
    latest: ProspectVersion | None


class ProspectList(msgspec.Struct):
    count: int
    prospects: list[ProspectOut]


class ProspectCreated(msgspec.Struct):
    id: str
    details: dict[str, Any]
    details_sha256: str
    owner: ProspectOwner
    created_at: str


class InvitationOut(msgspec.Struct):
    """What a send, resend or reminder did: the version, the new link, the queued e-mail."""

    prospect_id: str
    agreement_id: str
    version: int
    state: str
    sha256: str  # of the PDF the signatory is asked to sign
    kind: str
    to: str
    link_id: str
    link_expires_at: str
    email_id: str
    message_id: str


class ConvertRequest(Strict):
    workspace_id: WorkspaceId
