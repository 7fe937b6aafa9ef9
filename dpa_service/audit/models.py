"""Audit events: append-only, each chained to the previous event of its agreement by hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("agreement_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int]
    version: Mapped[int | None]
    type: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
