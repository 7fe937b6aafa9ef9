"""Counterparties: the controllers a DPA is made with (Klusaro workspaces and sales prospects),
and the e-mails that invited a prospect's signatory to sign."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base
from dpa_service.ids import new_id


class Counterparty(Base):
    __tablename__ = "counterparties"
    __table_args__ = (
        UniqueConstraint("kind", "external_id"),
        # The agreements list sorts by company name page by page (agreements/listing.py).
        Index("ix_counterparties_name_key_id", "name_key", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))  # "workspace" | "prospect"
    # The Klusaro workspace id; a prospect's own id until it is converted into a workspace.
    external_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]]
    details_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Prospects: the sales user who owns it (kept after conversion, for the status board).
    owner_subject: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    converted_at: Mapped[datetime | None]  # when the prospect became a workspace
    # Kept from `details` on every write (below): the company name to sort by, and what the
    # agreements list searches (name, registration number, signatory e-mail), case-folded.
    name_key: Mapped[str] = mapped_column(String(300), default="", server_default="")
    search_text: Mapped[str] = mapped_column(String(1000), default="", server_default="")


def search_fields(details: dict[str, Any]) -> dict[str, str]:
    """`name_key` and `search_text` of these details."""
    signatory = details.get("signatory") or {}
    name = str(details.get("legal_name", ""))
    parts = (name, str(details.get("registration_number", "")), str(signatory.get("email", "")))
    return {
        "name_key": name.casefold()[:300],
        "search_text": "\n".join(p.casefold() for p in parts)[:1000],
    }


@event.listens_for(Counterparty, "before_insert")
@event.listens_for(Counterparty, "before_update")
def _keep_search_fields(_mapper: Any, _connection: Any, row: Counterparty) -> None:
    for key, value in search_fields(row.details or {}).items():
        setattr(row, key, value)


# What an invitation e-mail was: the first send, a resend, a reminder, or a re-issued version.
SEND, RESEND, REMINDER, REISSUE = "send", "resend", "reminder", "reissue"
# The invitations that open a version for signing by e-mail (reminders and the copy follow).
FIRST_INVITATIONS = (SEND, REISSUE)


class SigningInvitation(Base):
    """One e-mail that carried a signing link to the signatory: the first send, a resend, or a
    reminder. A scheduled reminder has its number in the schedule; the unique key lets exactly
    one worker send each (manual reminders have none, and NULLs never collide)."""

    __tablename__ = "signing_invitations"
    __table_args__ = (UniqueConstraint("version_id", "reminder_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"))
    kind: Mapped[str] = mapped_column(String(20))  # SEND | RESEND | REMINDER | REISSUE
    reminder_number: Mapped[int | None]
    # Set in the same transaction right after the row claims its place.
    link_id: Mapped[str | None] = mapped_column(ForeignKey("signing_links.id"))
    email_id: Mapped[str | None] = mapped_column(ForeignKey("outbound_emails.id"))
    to_addr: Mapped[str] = mapped_column(String(254))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
