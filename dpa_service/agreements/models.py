"""Agreements and their versions: what each version was rendered from and the hash of its PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dpa_service.db import Base, new_id, utcnow

VERSION_STATES = (
    "draft",
    "sent",
    "viewed",
    "signed",
    "completed",
    "declined",
    "expired",
    "voided",
    "superseded",
)


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number", lazy="selectin"
    )


class AgreementVersion(Base):
    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(20))
    counterparty_snapshot: Mapped[dict[str, Any]]
    counterparty_sha256: Mapped[str] = mapped_column(String(64))
    template_versions: Mapped[dict[str, Any]]
    subprocessor_list_version_id: Mapped[str] = mapped_column(
        ForeignKey("subprocessor_list_versions.id")
    )
    subprocessor_list_version: Mapped[int]
    draft_pdf_key: Mapped[str] = mapped_column(String(300))
    draft_pdf_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="versions")
