"""Counterparties: the controllers a DPA is made with (Klusaro workspaces and sales prospects),
and the e-mails that invited a prospect's signatory to sign."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base
from dpa_service.ids import new_id


class Counterparty(Base):
    __tablename__ = "counterparties"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

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
