"""Template versions: the master DPA and each clause, immutable once approved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dpa_service.db import Base, new_id, utcnow

TEMPLATE_KEYS = ("master", "security", "confidentiality", "subprocessors")
TEMPLATE_STATES = ("draft", "in_review", "approved", "rejected", "retired")


class TemplateVersion(Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_key", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    template_key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    change_note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
