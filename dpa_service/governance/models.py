"""The columns every reviewed record has: its state, its author, and who reviewed it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dpa_service.clock import utcnow

REVIEW_STATES = ("draft", "in_review", "approved", "rejected", "retired")


class Reviewed:
    """A mixin for a table of versions that go draft → in_review → approved | rejected, and
    approved → retired, approved by a person other than their author."""

    state: Mapped[str] = mapped_column(String(20))
    change_note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))  # display name
    author_subject: Mapped[str] = mapped_column(String(100))  # Principal.subject; four eyes
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    # Who approved or rejected it, when, and what they said.
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reviewer_subject: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
