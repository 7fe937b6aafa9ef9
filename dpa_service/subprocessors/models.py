"""Versions of the subprocessor list (immutable once approved), the changes announced to
counterparties, the notices sent for them and the objections received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base
from dpa_service.governance.models import REVIEW_STATES, Reviewed
from dpa_service.ids import new_id

LIST_STATES = REVIEW_STATES
FROZEN_STATES = ("approved", "retired")


class SubprocessorListVersion(Reviewed, Base):
    __tablename__ = "subprocessor_list_versions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(unique=True)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON of `entries`
    based_on: Mapped[int | None]  # the approved version the draft started from


@event.listens_for(SubprocessorListVersion, "before_update")
def _approved_lists_are_immutable(
    _mapper: Any, _conn: Any, target: SubprocessorListVersion
) -> None:
    """An approved list is a legal record that agreements point to: its entries never change."""
    state = inspect(target)
    was = state.attrs.state.history.deleted
    if (was and was[0] in FROZEN_STATES) or (not was and target.state in FROZEN_STATES):
        for name in ("entries", "sha256", "version"):
            if state.attrs[name].history.has_changes():
                raise ValueError(
                    f"subprocessor list version {target.version} is approved: immutable"
                )


class SubprocessorChange(Base):
    """What one approval changed, as announced: the diff against the list it replaced and the
    deadline for objections."""

    __tablename__ = "subprocessor_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("subprocessor_list_versions.id"), unique=True
    )
    version: Mapped[int]
    previous_version: Mapped[int | None]
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"added", "removed", "changed"}
    approved_at: Mapped[datetime]
    objection_deadline: Mapped[datetime]
    notices: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubprocessorNotice(Base):
    """One counterparty's notice of one change; its objection link's secret is stored hashed."""

    __tablename__ = "subprocessor_notices"
    __table_args__ = (UniqueConstraint("change_id", "counterparty_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    change_id: Mapped[str] = mapped_column(ForeignKey("subprocessor_changes.id"))
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    email_id: Mapped[str | None] = mapped_column(ForeignKey("outbound_emails.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    objected_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubprocessorObjection(Base):
    """A counterparty's objection to a change, made through its notice's link (once)."""

    __tablename__ = "subprocessor_objections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    notice_id: Mapped[str] = mapped_column(ForeignKey("subprocessor_notices.id"), unique=True)
    change_id: Mapped[str] = mapped_column(ForeignKey("subprocessor_changes.id"), index=True)
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"))
    reason: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
