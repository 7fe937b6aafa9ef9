"""Counterparties: the controllers a DPA is made with (Klusaro workspaces; later sales prospects)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.db import Base, new_id, utcnow


class Counterparty(Base):
    __tablename__ = "counterparties"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))  # "workspace"
    external_id: Mapped[str] = mapped_column(String(100))  # the Klusaro workspace id
    details: Mapped[dict[str, Any]]
    details_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
