"""Archive objects: what must be in the archive, staged in the database until it is there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dpa_service.clock import utcnow
from dpa_service.db import Base, QueuedWork
from dpa_service.ids import new_id

PENDING, STORED, FAILED = "pending", "stored", "failed"


class ArchiveObject(QueuedWork, Base):
    """One write-once archive key. The database is the source of truth for pending work:
    the bytes are staged here in the same transaction that produced them, and cleared once the
    archive holds them and a read-back matched their SHA-256."""

    __tablename__ = "archive_objects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    # None for what belongs to no agreement: the audit checkpoints
    agreement_id: Mapped[str | None] = mapped_column(String(36), index=True)
    version: Mapped[int | None]
    # draft.pdf, completed.pdf, manifest.json; checkpoint.json, checkpoint.p7s
    artifact: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    state: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    backend: Mapped[str | None] = mapped_column(String(20))
    version_id: Mapped[str | None] = mapped_column(String(200))  # S3 object version
    etag: Mapped[str | None] = mapped_column(String(200))
    checksum_sha256: Mapped[str | None] = mapped_column(String(100))  # as S3 reports it (base64)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]  # last handed to a queue worker (see jobs.py)
    claimed_until: Mapped[datetime | None]  # a worker is storing it until then (see store)
    stored_at: Mapped[datetime | None]
