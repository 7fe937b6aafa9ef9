"""Versions of the processor profile (immutable once approved): the facts about Klusaro that every
DPA prints — identity, address, contacts, signatory, security figures and measures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.db import Base
from dpa_service.governance.models import Reviewed
from dpa_service.ids import new_id

FROZEN_STATES = ("approved", "retired")


class ProcessorProfileVersion(Reviewed, Base):
    __tablename__ = "processor_profile_versions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(unique=True)
    # The profile as rendering.facts describes it; its "version" key equals `version`.
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON of `profile`
    based_on: Mapped[int | None]  # the approved version the draft started from


@event.listens_for(ProcessorProfileVersion, "before_update")
def _approved_profiles_are_immutable(
    _mapper: Any, _conn: Any, target: ProcessorProfileVersion
) -> None:
    """An approved profile is what agreements were made from: its facts never change."""
    state = inspect(target)
    was = state.attrs.state.history.deleted
    if (was and was[0] in FROZEN_STATES) or (not was and target.state in FROZEN_STATES):
        for name in ("profile", "sha256", "version"):
            if state.attrs[name].history.has_changes():
                raise ValueError(
                    f"processor profile version {target.version} is approved: immutable"
                )
