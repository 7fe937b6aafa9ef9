"""Template versions: the master DPA and each clause, immutable once approved, and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base
from dpa_service.governance.models import REVIEW_STATES, Reviewed
from dpa_service.ids import new_id

TEMPLATE_KEYS = ("master", "security", "confidentiality", "subprocessors")
TEMPLATE_STATES = REVIEW_STATES
# Each language has its own set of the four templates, versioned on its own.
TEMPLATE_LANGUAGES = ("en", "lv")


def record_key(language: str, template_key: str) -> str:
    """How an agreement version names a template it was made from: "master" (English, as
    before languages existed), "lv/master"."""
    return template_key if language == "en" else f"{language}/{template_key}"


def split_record_key(key: str) -> tuple[str, str]:
    """(language, template key) of a recorded template name."""
    language, _, template_key = key.rpartition("/")
    return language or "en", template_key


class TemplateVersion(Reviewed, Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("language", "template_key", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    language: Mapped[str] = mapped_column(String(5), default="en")
    template_key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))  # of `content`, the exact bytes uploaded
    size: Mapped[int]
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    filename: Mapped[str | None] = mapped_column(String(255))  # as uploaded
    # Set on an approved version when the same template was changed in another language: this
    # language's text may no longer say the same (the templates page marks it until updated).
    outdated_by: Mapped[str | None] = mapped_column(String(36))
    outdated_at: Mapped[datetime | None]


class TemplateEvent(Base):
    """One step in a template version's life: who did what, when (the history page)."""

    __tablename__ = "template_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("template_versions.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    template_key: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    type: Mapped[str] = mapped_column(String(20))  # registered uploaded submitted approved …
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))  # display name
    actor_subject: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
