"""Signer links, one-time codes and signatures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base
from dpa_service.ids import new_id


class SigningLink(Base):
    """A link for the controller's signatory; the token is stored only as its SHA-256."""

    __tablename__ = "signing_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # "email" | "embedded"
    require_code: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]  # the act of signing or declining used it up


class SigningCode(Base):
    """An e-mailed one-time code (6 digits, 10 minutes, 5 attempts) for a link."""

    __tablename__ = "signing_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    link_id: Mapped[str] = mapped_column(ForeignKey("signing_links.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None]


class Signature(Base):
    """One party's signature on one version; the unique key allows one per party."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("version_id", "party"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))  # "controller" | "processor"
    link_id: Mapped[str | None] = mapped_column(ForeignKey("signing_links.id"))
    name: Mapped[str] = mapped_column(String(300))  # the typed name
    title: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(254))
    organisation: Mapped[str] = mapped_column(String(300))
    drawn_png: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    auth_method: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(1000))
    consent_text_version: Mapped[str | None] = mapped_column(String(40))
    consented_at: Mapped[datetime | None]
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    document_sha256: Mapped[str] = mapped_column(String(64))
