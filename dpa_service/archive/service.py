"""Staging bytes for the archive, storing them exactly once, and checking the archive."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker, undefer

from dpa_service.archive.base import Archive, ArchiveError, ObjectExists, version_key
from dpa_service.archive.models import FAILED, PENDING, STORED, ArchiveObject
from dpa_service.clock import utcnow
from dpa_service.db import changed_rows
from dpa_service.errors import NotFound, ServiceUnavailable
from dpa_service.rendering.pdf import sha256_hex
from dpa_service.webhooks import events as webhook_events

log = logging.getLogger(__name__)


def stage(
    *,
    session: Session,
    agreement_id: str,
    version: int,
    artifact: str,
    data: bytes,
    content_type: str = "application/pdf",
) -> ArchiveObject:
    """Record bytes that must reach the archive, in the caller's transaction."""
    obj = ArchiveObject(
        key=version_key(agreement_id, version, artifact),
        agreement_id=agreement_id,
        version=version,
        artifact=artifact,
        content_type=content_type,
        sha256=sha256_hex(data),
        size=len(data),
        content=data,
        state=PENDING,
    )
    session.add(obj)
    session.flush()
    return obj


def store(*, session_factory: sessionmaker, archive: Archive, object_id: str) -> str:  # type: ignore[type-arg]
    """Put one staged object into the archive; safe to run twice, or in two workers at once.

    Returns the object's state afterwards. A key that already holds the same bytes (an earlier
    attempt that died after the upload) counts as stored; different bytes are a failure that
    needs a person, and never an overwrite.
    """
    with session_factory() as session:
        obj = session.scalars(
            select(ArchiveObject)
            .where(ArchiveObject.id == object_id)
            .options(undefer(ArchiveObject.content))
        ).one_or_none()
        if obj is None or obj.state != PENDING:
            return obj.state if obj else "missing"
        if obj.content is None:
            raise ArchiveError(f"{obj.key} has no staged bytes")
        key, data, sha, content_type = obj.key, obj.content, obj.sha256, obj.content_type
        metadata = {"agreement-id": obj.agreement_id, "version": str(obj.version), "sha256": sha}
        session.rollback()  # hold no transaction during the upload

    log.info("archiving %s (%d bytes)", key, len(data))
    try:
        stored = archive.put(key, data, sha, content_type, metadata=metadata)
    except ObjectExists:
        existing = archive.head(key)
        if existing is None or existing.sha256 != sha:
            return _finish(session_factory, object_id, FAILED, error=f"{key} holds other bytes")
        stored = existing
    except ArchiveError as exc:
        with session_factory() as session:
            session.execute(
                update(ArchiveObject)
                .where(ArchiveObject.id == object_id)
                .values(attempts=ArchiveObject.attempts + 1, last_error=str(exc)[:2000])
            )
            session.commit()
        raise
    state = _finish(
        session_factory,
        object_id,
        STORED,
        backend=archive.name,
        version_id=stored.version_id,
        etag=stored.etag,
        checksum_sha256=stored.checksum_sha256,
    )
    # The last artifact of a completed version: tell the Klusaro app (once, after the commit).
    webhook_events.emit_archived_if_complete(
        session_factory=session_factory,
        agreement_id=metadata["agreement-id"],
        version=int(metadata["version"]),
    )
    return state


def _finish(
    session_factory: sessionmaker,
    object_id: str,
    state: str,
    error: str | None = None,
    **values: object,
) -> str:  # type: ignore[type-arg]
    with session_factory() as session:
        changes: dict[str, object] = {"state": state, "attempts": ArchiveObject.attempts + 1}
        if state == STORED:
            changes.update(stored_at=utcnow(), content=None, last_error=None, **values)
        else:
            changes["last_error"] = error
            log.error("archive object %s failed: %s", object_id, error)
        session.execute(
            update(ArchiveObject)
            .where(ArchiveObject.id == object_id, ArchiveObject.state == PENDING)
            .values(**changes)
        )
        session.commit()
    return state


def pending_ids(*, session: Session, limit: int = 500) -> list[str]:
    return list(
        session.scalars(
            select(ArchiveObject.id)
            .where(ArchiveObject.state == PENDING)
            .order_by(ArchiveObject.created_at)
            .limit(limit)
        )
    )


def claim_for_queue(*, session: Session, ids: list[str], stale_after_s: float) -> list[str]:
    """The pending objects to hand to queue workers now: never handed out, or handed out longer
    ago than a job may run (its worker died). One compare-and-set per object, so two sweeps
    running at once never hand out the same object twice."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s)
    claimed = []
    for object_id in ids:
        if changed_rows(
            session,
            update(ArchiveObject)
            .where(
                ArchiveObject.id == object_id,
                ArchiveObject.state == PENDING,
                or_(ArchiveObject.enqueued_at.is_(None), ArchiveObject.enqueued_at < stale),
            )
            .values(enqueued_at=now),
        ):
            claimed.append(object_id)
    session.commit()
    return claimed


def open_object(*, session: Session, archive: Archive, key: str) -> Iterator[bytes]:
    """The bytes under `key`: from the archive, or from staging while it is still pending."""
    obj = session.scalars(
        select(ArchiveObject)
        .where(ArchiveObject.key == key)
        .options(undefer(ArchiveObject.content))
    ).one_or_none()
    if obj is None:
        raise NotFound(f"{key} is not known")
    if obj.state != STORED and obj.content is not None:
        return iter([obj.content])
    try:
        return archive.stream(key)
    except ArchiveError as exc:
        log.error("cannot read %s from the archive: %s", key, exc)  # details stay in the log
        raise ServiceUnavailable(
            "the archive is not available; try again shortly", headers={"Retry-After": "10"}
        ) from exc


def presigned_url(*, session: Session, archive: Archive, key: str) -> str | None:
    """A short-lived direct URL when the archive offers one and the object is already there."""
    make_url = getattr(archive, "presigned_url", None)
    if make_url is None:
        return None
    stored = session.scalar(
        select(ArchiveObject.id).where(ArchiveObject.key == key, ArchiveObject.state == STORED)
    )
    return str(make_url(key)) if stored else None


def state_of(*, session: Session, agreement_id: str, version: int) -> dict[str, str]:
    rows = session.execute(
        select(ArchiveObject.artifact, ArchiveObject.state).where(
            ArchiveObject.agreement_id == agreement_id, ArchiveObject.version == version
        )
    )
    return {artifact: state for artifact, state in rows}


@dataclass
class ArchiveReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.extra


def verify_archive(*, session: Session, archive: Archive) -> ArchiveReport:
    """Every object the database knows is in the archive with its SHA-256; nothing else is."""
    report = ArchiveReport()
    known: set[str] = set()
    for obj in session.scalars(select(ArchiveObject).order_by(ArchiveObject.key)):
        known.add(obj.key)
        report.checked += 1
        if obj.state == PENDING:
            report.problems.append(
                f"PENDING {obj.key}: not archived yet ({obj.last_error or 'queued'})"
            )
            continue
        if obj.state == FAILED:
            report.problems.append(f"FAILED {obj.key}: {obj.last_error}")
            continue
        try:
            found = archive.head(obj.key)
        except ArchiveError as exc:
            report.problems.append(f"UNREADABLE {obj.key}: {exc}")
            continue
        if found is None:
            report.problems.append(f"MISSING {obj.key}")
        elif found.sha256 != obj.sha256:
            report.problems.append(
                f"ALTERED {obj.key}: sha256 {found.sha256} != recorded {obj.sha256}"
            )
        elif obj.version_id and found.version_id and found.version_id != obj.version_id:
            report.problems.append(
                f"REPLACED {obj.key}: version {found.version_id} != recorded {obj.version_id}"
            )
    report.extra = sorted(set(archive.list_keys()) - known)
    return report


def copy_archive(*, session: Session, source: Archive, target: Archive) -> tuple[int, int]:
    """Copy every stored object from `source` (the local folder) into `target` (S3).

    Returns (copied, already there). Each object is checked against its recorded SHA-256 on
    the way; the database then records the target's version id and checksum.
    """
    copied = present = 0
    for obj in session.scalars(select(ArchiveObject).where(ArchiveObject.state == STORED)):
        data = source.get(obj.key)
        if sha256_hex(data) != obj.sha256:
            raise ArchiveError(f"{obj.key} in {source.name} does not match its recorded SHA-256")
        try:
            stored = target.put(
                obj.key,
                data,
                obj.sha256,
                obj.content_type,
                metadata={
                    "agreement-id": obj.agreement_id,
                    "version": str(obj.version),
                    "sha256": obj.sha256,
                },
            )
            copied += 1
        except ObjectExists:
            found = target.head(obj.key)
            if found is None or found.sha256 != obj.sha256:
                raise ArchiveError(
                    f"{obj.key} already holds other bytes in {target.name}"
                ) from None
            stored = found
            present += 1
        obj.backend = target.name
        obj.version_id = stored.version_id
        obj.etag = stored.etag
        obj.checksum_sha256 = stored.checksum_sha256
    return copied, present
