"""Staging bytes for the archive, storing them exactly once, reading them back only as they
were recorded, and checking the archive."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker, undefer

from dpa_service import audit
from dpa_service.archive.base import Archive, ArchiveError, ObjectExists, ObjectMissing, version_key
from dpa_service.archive.models import FAILED, PENDING, STORED, ArchiveObject
from dpa_service.clock import utcnow
from dpa_service.db import changed_rows, queue_work, savepoint
from dpa_service.errors import NotFound, ServiceUnavailable
from dpa_service.rendering.pdf import sha256_hex
from dpa_service.webhooks import events as webhook_events

log = logging.getLogger(__name__)

# Where the archive holds what belongs to no agreement.
CHECKPOINT_PREFIX = "audit/checkpoints/"
ARCHIVE_PREFIXES = ("agreements/", "audit/")


class ArchivedCopyBeingChecked(ServiceUnavailable):
    """The archive returned other bytes than were recorded: nothing is sent."""

    def __init__(self) -> None:
        super().__init__(
            "The archived copy of this document did not match its recorded fingerprint, so it "
            "is not sent; it is being checked and Klusaro has been alerted. Please try again "
            "later."
        )


def stage(
    *,
    session: Session,
    agreement_id: str | None,
    version: int | None,
    artifact: str,
    data: bytes,
    content_type: str = "application/pdf",
    key: str | None = None,
) -> ArchiveObject:
    """Record bytes that must reach the archive, in the caller's transaction: an agreement
    version's artifact, or (with `key` and no agreement) an audit checkpoint."""
    if key is None:
        assert agreement_id is not None and version is not None
        key = version_key(agreement_id, version, artifact)
    obj = ArchiveObject(
        key=key,
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


def store(
    *,
    session_factory: sessionmaker,  # type: ignore[type-arg]
    archive: Archive,
    object_id: str,
    lease_s: float = 120.0,
) -> str:
    """Put one staged object into the archive; safe to run twice, or in two workers at once.

    The object is claimed first (a compare-and-set on `claimed_until`, committed before the
    upload), so two workers never upload it at the same time; a worker that dies holding the
    claim leaves it to another once `lease_s` has passed. Returns the object's state afterwards
    ("claimed" when another worker holds it). A key that already holds the same bytes (an
    earlier attempt that died after the upload) counts as stored; different bytes are a failure
    that needs a person, and never an overwrite.
    """
    with session_factory() as session:
        now = utcnow()
        if not changed_rows(
            session,
            update(ArchiveObject)
            .where(
                ArchiveObject.id == object_id,
                ArchiveObject.state == PENDING,
                or_(ArchiveObject.claimed_until.is_(None), ArchiveObject.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=lease_s)),
        ):
            state = session.scalar(select(ArchiveObject.state).where(ArchiveObject.id == object_id))
            session.rollback()
            return "claimed" if state == PENDING else (state or "missing")
        session.commit()  # the claim is visible to other workers before the upload
        obj = session.scalars(
            select(ArchiveObject)
            .where(ArchiveObject.id == object_id)
            .options(undefer(ArchiveObject.content))
        ).one()
        if obj.content is None:
            raise ArchiveError(f"{obj.key} has no staged bytes")
        key, data, sha, content_type = obj.key, obj.content, obj.sha256, obj.content_type
        agreement_id, version = obj.agreement_id, obj.version
        metadata = _metadata(obj)
        session.rollback()  # hold no transaction during the upload

    log.info("archiving %s (%d bytes)", key, len(data))
    try:
        stored = archive.put(key, data, sha, content_type, metadata=metadata)
    except ObjectExists:
        existing = archive.head(key)
        if existing is None or existing.sha256 != sha:
            with session_factory() as session:
                obj = session.get(ArchiveObject, object_id)
                if obj is not None:
                    _report_integrity_failure(
                        session=session,
                        obj=obj,
                        problem="other bytes under the key",
                        found_sha256=existing.sha256 if existing else None,
                        found_version_id=existing.version_id if existing else None,
                        read_by="archive job",
                    )
            # the staged bytes stay: downloads are served from them, checked
            return _finish(session_factory, object_id, FAILED, error=f"{key} holds other bytes")
        stored = existing
    except ArchiveError as exc:
        with session_factory() as session:
            session.execute(
                update(ArchiveObject)
                .where(ArchiveObject.id == object_id)
                .values(
                    attempts=ArchiveObject.attempts + 1,
                    last_error=str(exc)[:2000],
                    claimed_until=None,  # the next sweep may try again at once
                )
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
    if agreement_id is not None and version is not None:
        webhook_events.emit_archived_if_complete(
            session_factory=session_factory, agreement_id=agreement_id, version=version
        )
    return state


def _metadata(obj: ArchiveObject) -> dict[str, str]:
    if obj.agreement_id is None:
        return {"kind": "audit-checkpoint", "sha256": obj.sha256}
    return {"agreement-id": obj.agreement_id, "version": str(obj.version), "sha256": obj.sha256}


def _finish(
    session_factory: sessionmaker,
    object_id: str,
    state: str,
    error: str | None = None,
    **values: object,
) -> str:  # type: ignore[type-arg]
    with session_factory() as session:
        changes: dict[str, object] = {
            "state": state,
            "attempts": ArchiveObject.attempts + 1,
            "claimed_until": None,
        }
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
            # agreements' documents before audit checkpoints: with the archive down, a sweep
            # stops at the first failure, and it should be the one that matters most
            .order_by(ArchiveObject.agreement_id.is_(None), ArchiveObject.created_at)
            .limit(limit)
        )
    )


def request_ids(*, session: Session, ids: list[str]) -> dict[str, str | None]:
    """The request that staged each object, for the log lines of the job that stores it."""
    if not ids:
        return {}
    rows = session.execute(
        select(ArchiveObject.id, ArchiveObject.request_id).where(ArchiveObject.id.in_(ids))
    )
    return {object_id: request_id for object_id, request_id in rows}


def pending_count(*, session: Session) -> int:
    return int(
        session.scalar(select(func.count(ArchiveObject.id)).where(ArchiveObject.state == PENDING))
        or 0
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


def _report_integrity_failure(
    *,
    session: Session,
    obj: ArchiveObject,
    problem: str,
    found_sha256: str | None,
    found_version_id: str | None,
    read_by: str,
) -> None:
    """Log, chain an `archive.integrity_failed` audit event and record its webhook, once per
    object and finding, in a transaction of its own: the record must stand although the read
    that found it fails (its unit of work rolls back)."""
    log.error(
        "archive integrity failed (%s) for %s, read by %s: recorded sha256 %s version %s, "
        "found sha256 %s version %s",
        problem,
        obj.key,
        read_by,
        obj.sha256,
        obj.version_id,
        found_sha256,
        found_version_id,
    )
    data: dict[str, Any] = {
        "key": obj.key,
        "artifact": obj.artifact,
        "problem": problem,
        "recorded_sha256": obj.sha256,
        "recorded_version_id": obj.version_id,
        "found_sha256": found_sha256,
        "found_version_id": found_version_id,
        "read_by": read_by,
    }
    finding = (found_version_id if problem == "replaced" else found_sha256) or "missing"
    with Session(bind=session.get_bind()) as own:
        try:
            with savepoint(own):
                webhook_events.emit(
                    session=own,
                    event="archive.integrity_failed",
                    data={"agreement_id": obj.agreement_id, "version": obj.version, **data},
                    dedupe_key=f"archive.integrity_failed:{obj.id}:{problem}:{finding}"[:200],
                )
                if obj.agreement_id is not None:
                    audit.record(
                        session=own,
                        agreement_id=obj.agreement_id,
                        version=obj.version,
                        type="archive.integrity_failed",
                        actor="system",
                        data=data,
                    )
            own.commit()
        except IntegrityError:
            own.rollback()  # this finding was reported already
        except Exception:
            own.rollback()
            log.exception("could not record the integrity failure of %s", obj.key)
    queue_work(session)  # its webhook: wake the job engine whatever becomes of the read


def release_for_queue(*, session: Session, object_id: str) -> None:
    """A worker that is stopping gives back an object it was handed but did not start."""
    session.execute(
        update(ArchiveObject)
        .where(ArchiveObject.id == object_id, ArchiveObject.state == PENDING)
        .values(enqueued_at=None)
    )


def _object(session: Session, key: str) -> ArchiveObject:
    obj = session.scalars(
        select(ArchiveObject)
        .where(ArchiveObject.key == key)
        .options(undefer(ArchiveObject.content))
    ).one_or_none()
    if obj is None:
        raise NotFound(f"{key} is not known")
    return obj


def _unavailable(key: str, exc: Exception) -> ServiceUnavailable:
    log.error("cannot read %s from the archive: %s", key, exc)  # details stay in the log
    return ServiceUnavailable(
        "the archive is not available; try again shortly", headers={"Retry-After": "10"}
    )


def open_object(
    *, session: Session, archive: Archive, key: str, sha256: str, read_by: str
) -> bytes:
    """The exact bytes recorded under `key`, checked before any is handed out.

    A stored object is read at its recorded version and must hash to the recorded SHA-256
    (and to `sha256`, what the caller's own record says); a pending one comes from staging,
    checked the same way. On a mismatch the failure is logged and reported (audit event and
    webhook), the staged copy is used if it is still held and matches, and otherwise
    ArchivedCopyBeingChecked (503) is raised. A later version written over a stored key is
    reported too, though the recorded one is what is returned.
    """
    obj = _object(session, key)
    expected = {obj.sha256, sha256}
    staged = (
        obj.content if obj.content is not None and sha256_hex(obj.content) in expected else None
    )
    if len(expected) > 1:
        # the database disagrees with itself: neither record can vouch for any bytes
        _report_integrity_failure(
            session=session,
            obj=obj,
            problem="record mismatch",
            found_sha256=sha256,
            found_version_id=None,
            read_by=read_by,
        )
        raise ArchivedCopyBeingChecked()
    if obj.state != STORED:
        if staged is not None:
            return staged
        if obj.content is not None:
            _report_integrity_failure(
                session=session,
                obj=obj,
                problem="staged copy altered",
                found_sha256=sha256_hex(obj.content),
                found_version_id=None,
                read_by=read_by,
            )
            raise ArchivedCopyBeingChecked()
        raise NotFound(f"{key} has no stored or staged bytes")
    try:
        data: bytes | None = archive.get(key, version_id=obj.version_id)
    except ObjectMissing:
        data = None
    except ArchiveError as exc:
        raise _unavailable(key, exc) from exc
    found = None if data is None else sha256_hex(data)
    if data is not None and found == obj.sha256:
        _notice_later_versions(session=session, archive=archive, obj=obj, read_by=read_by)
        return data
    _report_integrity_failure(
        session=session,
        obj=obj,
        problem="missing" if data is None else "altered",
        found_sha256=found,
        found_version_id=obj.version_id if data is not None else None,
        read_by=read_by,
    )
    if staged is not None:
        return staged
    raise ArchivedCopyBeingChecked()


def _notice_later_versions(
    *, session: Session, archive: Archive, obj: ArchiveObject, read_by: str
) -> None:
    """Report a version written over a write-once key (S3 keeps it beside the recorded one:
    Object Lock stops deletion, not new versions)."""
    if not obj.version_id:
        return
    try:
        latest = archive.head(obj.key)
    except ArchiveError as exc:
        log.warning("could not look for later versions of %s: %s", obj.key, exc)
        return
    if latest is None:  # a delete marker hides the recorded version
        _report_integrity_failure(
            session=session,
            obj=obj,
            problem="deleted",
            found_sha256=None,
            found_version_id=None,
            read_by=read_by,
        )
    elif latest.version_id and latest.version_id != obj.version_id:
        _report_integrity_failure(
            session=session,
            obj=obj,
            problem="replaced",
            found_sha256=latest.sha256 or None,  # as the store reports it (verify hashes it)
            found_version_id=latest.version_id,
            read_by=read_by,
        )


def presigned_url(
    *, session: Session, archive: Archive, key: str, sha256: str, read_by: str
) -> str | None:
    """A short-lived direct URL to the recorded version, when the archive offers one and the
    object is stored there, after checking that version's SH-256 as the store reports it."""
    make_url = getattr(archive, "presigned_url", None)
    if make_url is None:
        return None
    obj = _object(session, key)
    if obj.state != STORED or not obj.version_id:
        return None  # served from staging, or not pinnable to a version: read and check instead
    try:
        found = archive.head(key, version_id=obj.version_id)
    except ArchiveError as exc:
        raise _unavailable(key, exc) from exc
    if found is None or found.sha256 != obj.sha256 or sha256 != obj.sha256:
        _report_integrity_failure(
            session=session,
            obj=obj,
            problem="missing" if found is None else "altered",
            found_sha256=found.sha256 if found else None,
            found_version_id=obj.version_id if found else None,
            read_by=read_by,
        )
        return None  # the caller reads, checks, and falls back or refuses
    _notice_later_versions(session=session, archive=archive, obj=obj, read_by=read_by)
    return str(make_url(key, version_id=obj.version_id))


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


def _hash_of(archive: Archive, key: str, version_id: str | None) -> str | None:
    try:
        return sha256_hex(archive.get(key, version_id=version_id))
    except ObjectMissing:
        return None


def verify_archive(*, session: Session, archive: Archive) -> ArchiveReport:
    """Every object the database knows is in the archive, its recorded version holding bytes
    with the recorded SHA-256 (computed here from the bytes), no version written over it;
    nothing else is there. Findings are reported as integrity failures too."""
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
            found = _hash_of(archive, obj.key, obj.version_id)
            latest = archive.head(obj.key) if obj.version_id else None
        except ArchiveError as exc:
            report.problems.append(f"UNREADABLE {obj.key}: {exc}")
            continue
        where = f" (version {obj.version_id})" if obj.version_id else ""
        problem: str | None = None
        found_version = obj.version_id
        if found is None:
            problem = "missing"
            report.problems.append(f"MISSING {obj.key}{where}")
        elif found != obj.sha256:
            problem = "altered"
            report.problems.append(
                f"ALTERED {obj.key}{where}: sha256 {found} != recorded {obj.sha256}"
            )
        elif obj.version_id and latest is None:
            problem = "deleted"
            report.problems.append(
                f"MISSING {obj.key}: deleted over the recorded version {obj.version_id} "
                f"(sha256 {found}, still held)"
            )
        elif obj.version_id and latest is not None and latest.version_id != obj.version_id:
            problem, found_version = "replaced", latest.version_id
            try:
                found = _hash_of(archive, obj.key, latest.version_id)
            except ArchiveError as exc:
                found = f"unreadable ({exc})"
            report.problems.append(
                f"REPLACED {obj.key}: version {latest.version_id} with sha256 {found} written "
                f"over the recorded version {obj.version_id} (sha256 {obj.sha256}, still held)"
            )
        if problem is not None:
            _report_integrity_failure(
                session=session,
                obj=obj,
                problem=problem,
                found_sha256=found,
                found_version_id=found_version,
                read_by="verify --archive",
            )
    listed: set[str] = set()
    for prefix in ARCHIVE_PREFIXES:
        listed |= set(archive.list_keys(prefix))
    report.extra = sorted(listed - known)
    return report


def copy_archive(*, session: Session, source: Archive, target: Archive) -> tuple[int, int]:
    """Copy every stored object from `source` (the local folder) into `target` (S3).

    Returns (copied, already there). Each object is checked against its recorded SHA-256 on
    the way; the database then records the target's version id and checksum.
    """
    copied = present = 0
    for obj in session.scalars(select(ArchiveObject).where(ArchiveObject.state == STORED)):
        data = source.get(obj.key, version_id=obj.version_id)
        if sha256_hex(data) != obj.sha256:
            raise ArchiveError(f"{obj.key} in {source.name} does not match its recorded SHA-256")
        try:
            stored = target.put(
                obj.key, data, obj.sha256, obj.content_type, metadata=_metadata(obj)
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
