"""Outgoing e-mail, recorded before it is sent: the outbox and every delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base, QueuedWork
from dpa_service.ids import new_id

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class OutboundEmail(QueuedWork, Base):
    """One message, written in the transaction that decided to send it and delivered by the
    periodic task. The Message-ID is fixed here, so a retry re-sends the very same message."""

    __tablename__ = "outbound_emails"
    __table_args__ = (Index("ix_outbound_emails_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(60))  # "signing.code", "dpa.sent", …
    ref: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. an agreement id
    to_addr: Mapped[str] = mapped_column(String(254))
    # Where an answer goes (the salesperson of a prospect's DPA); None: no Reply-To header.
    reply_to: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]  # a worker is sending it; after this, it died
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class EmailAttempt(Base):
    """One try at handing a message to the SMTP server (or the mail folder), with its answer."""

    __tablename__ = "email_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email_id: Mapped[str] = mapped_column(ForeignKey("outbound_emails.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))  # "sent" | "failed"
    detail: Mapped[str] = mapped_column(Text)  # the server's reply, or the error
