"""Agreements and their versions: what each version was rendered from and the hash of its PDF."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dpa_service.clock import utcnow
from dpa_service.db import Base, QueuedWork
from dpa_service.ids import new_id

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
    # The staff list and GET /api/v1/agreements page by (created_at, id): see listing.py.
    __table_args__ = (Index("ix_agreements_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Head of the audit hash chain: a deleted last event is detectable too.
    audit_seq: Mapped[int] = mapped_column(default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="0" * 64)
    # The chain length the latest audit checkpoint holds for this agreement: the next
    # checkpoint includes it when the chain has grown since.
    anchored_seq: Mapped[int] = mapped_column(default=0)

    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number", lazy="selectin"
    )


class AgreementVersion(Base):
    __tablename__ = "agreement_versions"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        # The list's filters and the home page's figures (listing.py).
        Index("ix_agreement_versions_state_expires_at", "state", "expires_at"),
        Index("ix_agreement_versions_signed_at", "signed_at"),
        Index("ix_agreement_versions_completed_at", "completed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(20))
    counterparty_snapshot: Mapped[dict[str, Any]]
    counterparty_sha256: Mapped[str] = mapped_column(String(64))
    template_versions: Mapped[dict[str, Any]]
    # The configurable figures printed in it (breach hours, notice days…), frozen with it.
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subprocessor_list_version_id: Mapped[str] = mapped_column(
        ForeignKey("subprocessor_list_versions.id")
    )
    subprocessor_list_version: Mapped[int]
    # The processor profile it printed (None: made before the profile was governed data), and
    # the profile values it printed as not confirmed: while there are any, it is not sent.
    processor_profile_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("processor_profile_versions.id")
    )
    processor_profile_version: Mapped[int | None]
    unconfirmed: Mapped[list[str] | None] = mapped_column(JSON)
    # The day the DPA applies from (the main agreement's start), printed in it; None: the DPA
    # states the rule without a date (and versions made before effective dates existed).
    effective_on: Mapped[date | None]
    draft_pdf_key: Mapped[str] = mapped_column(String(300))
    draft_pdf_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    viewed_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # declined, expired, voided or superseded
    expires_at: Mapped[datetime | None]  # unsigned versions expire; set when first sent
    state_reason: Mapped[str | None] = mapped_column(String(1000))
    final_pdf_key: Mapped[str | None] = mapped_column(String(300))
    final_pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    signed_body_sha256: Mapped[str | None] = mapped_column(String(64))

    agreement: Mapped[Agreement] = relationship(back_populates="versions")


class Reissue(Base):
    """One legal action: every affected agreement gets a new version made from the approved set."""

    __tablename__ = "reissues"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reason: Mapped[str] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]


class ReissueItem(QueuedWork, Base):
    """One agreement of a re-issue. Claimed by a worker, then done in the version's transaction."""

    __tablename__ = "reissue_items"
    __table_args__ = (UniqueConstraint("reissue_id", "agreement_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reissue_id: Mapped[str] = mapped_column(ForeignKey("reissues.id"), index=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"))
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    claim: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    new_version: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(1000))
    done_at: Mapped[datetime | None]
