"""Audit checkpoints: the audit chains' heads, signed with the seal's key (and timestamped when a
TSA is configured) and kept write-once in the archive, so that whoever can write the database
cannot rewrite or shorten a chain unseen; and the check of the database against them and
against the event log printed in every sealed certificate of completion."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.archive import service as archive_service
from dpa_service.archive.base import Archive, ArchiveError
from dpa_service.archive.models import PENDING, ArchiveObject
from dpa_service.audit.models import AuditCheckpoint, AuditEvent
from dpa_service.clock import iso, utcnow
from dpa_service.db import savepoint
from dpa_service.errors import DomainError
from dpa_service.jobs.context import JobContext
from dpa_service.rendering.pdf import sha256_hex
from dpa_service.signing.certificate import read_event_log
from dpa_service.signing.seal import Sealer
from dpa_service.signing.seal_check import inspect_detached, inspect_seal

log = logging.getLogger(__name__)

FORMAT = "dpa-service audit checkpoint 1"
SIGNATURE_SUFFIX = ".p7s"


# -- writing ------------------------------------------------------------------------------------


def _unanchored(session: Session) -> list[tuple[str, int, str]]:
    """(agreement, seq, head) of every chain that grew since the last checkpoint."""
    rows = session.execute(
        select(Agreement.id, Agreement.audit_seq, Agreement.audit_head)
        .where(Agreement.audit_seq != Agreement.anchored_seq)
        .order_by(Agreement.id)
    ).all()
    return [(str(a), int(seq), str(head)) for a, seq, head in rows]


def checkpoint_due(*, session: Session, interval: timedelta | None, now: datetime) -> str | None:
    """Why a checkpoint is due now ("completion", "interval"), or None: a completion not yet
    anchored, or chains that grew and the interval since the last checkpoint has passed."""
    completion = session.scalar(
        select(AuditEvent.id)
        .join(Agreement, Agreement.id == AuditEvent.agreement_id)
        .where(AuditEvent.type == "version.completed", AuditEvent.seq > Agreement.anchored_seq)
        .limit(1)
    )
    if completion is not None:
        return "completion"
    if interval is None:
        return None
    grown = session.scalar(
        select(Agreement.id).where(Agreement.audit_seq != Agreement.anchored_seq).limit(1)
    )
    if grown is None:
        return None
    last = session.scalar(select(func.max(AuditCheckpoint.created_at)))
    return "interval" if last is None or now - last >= interval else None


def _key(number: int, at: datetime) -> str:
    return f"{archive_service.CHECKPOINT_PREFIX}{at:%Y%m%dT%H%M%SZ}-{number:08d}.json"


def write_checkpoint(
    *, session: Session, sealer: Sealer, reason: str, now: datetime | None = None
) -> AuditCheckpoint | None:
    """Anchor every chain that grew since the last checkpoint, in the caller's transaction:
    the signed checkpoint and its signature are staged for the archive, and the chains marked
    anchored. Returns None when there is nothing to anchor, or when another writer took the
    next number first (its checkpoint covers the same ground)."""
    now = now or utcnow()
    heads = _unanchored(session)
    if not heads:
        return None
    previous = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.number.desc()).limit(1)
    ).first()
    number = previous.number + 1 if previous else 1
    # The events up to each anchored head only: under READ COMMITTED an event committed since
    # the heads were read must not be counted (verify counts up to the head).
    anchored_seq = {agreement: seq for agreement, seq, _ in heads}
    counts: Counter[str] = Counter()
    for agreement, seq in session.execute(
        select(AuditEvent.agreement_id, AuditEvent.seq).where(
            AuditEvent.agreement_id.in_(list(anchored_seq))
        )
    ):
        if seq <= anchored_seq[agreement]:
            counts[agreement] += 1
    totals = {
        "agreements": session.scalar(select(func.count()).select_from(Agreement)) or 0,
        "events": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    }
    key = _key(number, now)
    body = json.dumps(
        {
            "format": FORMAT,
            "number": number,
            "created_at": iso(now),
            "reason": reason,
            "previous": (
                {"number": previous.number, "key": previous.key, "sha256": previous.sha256}
                if previous
                else None
            ),
            "totals": totals,
            "heads": {
                agreement: {"seq": seq, "head": head, "events": int(counts.get(agreement, 0))}
                for agreement, seq, head in heads
            },
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    signature = sealer.sign_detached(body)  # with the TSA's timestamp when there is one
    row = AuditCheckpoint(
        number=number,
        created_at=now,
        reason=reason,
        key=key,
        sha256=sha256_hex(body),
        agreements=len(heads),
        events=totals["events"],
    )
    try:
        with savepoint(session):
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # another worker wrote number `number` meanwhile
    for agreement, seq, _ in heads:
        session.execute(
            update(Agreement)
            .where(Agreement.id == agreement)
            .values(anchored_seq=seq)
            .execution_options(synchronize_session=False)
        )
    for data, artifact, suffix, content_type in (
        (body, "checkpoint.json", "", "application/json"),
        (signature, "checkpoint.p7s", SIGNATURE_SUFFIX, "application/pkcs7-signature"),
    ):
        archive_service.stage(
            session=session,
            agreement_id=None,
            version=None,
            artifact=artifact,
            data=data,
            content_type=content_type,
            key=key + suffix,
        )
    log.info("audit checkpoint %d (%s): %d chains anchored", number, reason, len(heads))
    return row


def write_due_checkpoint(ctx: JobContext, now: datetime | None = None) -> int:
    """Periodic task: write a checkpoint when one is due (see `checkpoint_due`). Safe on two
    workers at once: the checkpoint number is unique, so one of them writes it."""
    if ctx.sealer is None:
        return 0  # a process without the seal cannot sign one
    now = now or utcnow()
    minutes = ctx.settings.audit_checkpoint_minutes
    interval = timedelta(minutes=minutes) if minutes > 0 else None
    with ctx.session_factory() as session:
        reason = checkpoint_due(session=session, interval=interval, now=now)
        if reason is None:
            return 0
        written = write_checkpoint(session=session, sealer=ctx.sealer, reason=reason, now=now)
        if written is None:
            session.rollback()
            return 0
        session.commit()
    return 1


# -- checking -----------------------------------------------------------------------------------


@dataclass
class AuditReport:
    checkpoints: int = 0
    certificates: int = 0
    # (agreement id or None, what is wrong)
    problems: list[tuple[str | None, str]] = field(default_factory=list)

    def add(self, agreement_id: str | None, problem: str) -> None:
        self.problems.append((agreement_id, problem))


@dataclass(frozen=True)
class _Checkpoint:
    number: int
    key: str
    created_at: str
    heads: dict[str, Any]


def _read_checkpoints(
    archive: Archive,
    roots: Sequence[x509.Certificate],
    timestamp_roots: Sequence[x509.Certificate],
    report: AuditReport,
) -> list[_Checkpoint]:
    """The checkpoints in the archive whose signature holds, in order; a broken signature, a
    missing one or a gap in the numbering is a problem."""
    keys = archive.list_keys(archive_service.CHECKPOINT_PREFIX)
    found: list[tuple[_Checkpoint, str, dict[str, Any] | None]] = []
    for key in keys:
        if key.endswith(SIGNATURE_SUFFIX):
            continue
        try:
            body = archive.get(key)
            signature = archive.get(key + SIGNATURE_SUFFIX)
        except ArchiveError as exc:
            report.add(None, f"checkpoint {key} cannot be read with its signature: {exc}")
            continue
        check = inspect_detached(body, signature, roots, timestamp_trust_roots=timestamp_roots)
        if not check.ok:
            report.add(None, f"checkpoint {key} is not validly signed: {check.problem}")
            continue
        try:
            content = json.loads(body)
            assert content["format"] == FORMAT
            checkpoint = _Checkpoint(
                int(content["number"]), key, str(content["created_at"]), dict(content["heads"])
            )
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            report.add(None, f"checkpoint {key} is not a checkpoint: {exc}")
            continue
        found.append((checkpoint, sha256_hex(body), content.get("previous")))
    found.sort(key=lambda item: item[0].number)
    by_number = {c.number: (c, sha) for c, sha, _ in found}
    for checkpoint, _, previous in found:
        if checkpoint.number == 1:
            continue
        before = by_number.get(checkpoint.number - 1)
        if before is None:
            report.add(None, f"checkpoint {checkpoint.number - 1} is missing from the archive")
        elif previous is None or previous.get("sha256") != before[1]:
            report.add(
                None,
                f"checkpoint {checkpoint.number} does not name checkpoint "
                f"{checkpoint.number - 1} as it is in the archive",
            )
    report.checkpoints = len(found)
    return [c for c, _, _ in found]


def _check_against_checkpoints(
    session: Session, checkpoints: list[_Checkpoint], report: AuditReport
) -> None:
    heads = {
        a: int(seq) for a, seq in session.execute(select(Agreement.id, Agreement.audit_seq)).all()
    }
    anchored_in_archive: dict[str, int] = {}
    for checkpoint in checkpoints:
        when = f"checkpoint {checkpoint.number} of {checkpoint.created_at}"
        for agreement_id, anchored in checkpoint.heads.items():
            seq, head, count = int(anchored["seq"]), anchored["head"], int(anchored["events"])
            anchored_in_archive[agreement_id] = max(anchored_in_archive.get(agreement_id, 0), seq)
            if agreement_id not in heads:
                report.add(agreement_id, f"the agreement is gone, though {when} anchored it")
                continue
            event = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.agreement_id == agreement_id, AuditEvent.seq == seq
                )
            ).first()
            if event is None:
                report.add(
                    agreement_id,
                    f"the chain ends at event {heads[agreement_id]}, but {when} anchored it up "
                    f"to event {seq}: events were removed and the head moved back",
                )
                continue
            if event.hash != head:
                report.add(
                    agreement_id,
                    f"event {seq} no longer has the hash {when} anchored: an event up to it "
                    "was changed, removed or inserted (and the chain rehashed)",
                )
            held = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.agreement_id == agreement_id, AuditEvent.seq <= seq)
            )
            if held != count:
                report.add(
                    agreement_id,
                    f"{held} events up to event {seq}, where {when} counted {count}",
                )
    in_archive = {c.number for c in checkpoints}
    for number, key, state in session.execute(
        select(AuditCheckpoint.number, AuditCheckpoint.key, ArchiveObject.state)
        .outerjoin(ArchiveObject, ArchiveObject.key == AuditCheckpoint.key)
        .order_by(AuditCheckpoint.number)
    ).all():
        if number not in in_archive:
            why = (
                "is not archived yet" if state == PENDING else "is recorded but not in the archive"
            )
            report.add(None, f"checkpoint {number} ({key}) {why}")
    claimed = session.execute(
        select(Agreement.id, Agreement.anchored_seq).where(Agreement.anchored_seq > 0)
    ).all()
    for agreement_id, anchored_seq in claimed:
        if anchored_seq > anchored_in_archive.get(agreement_id, 0):
            report.add(
                agreement_id,
                f"the database says events up to {anchored_seq} are anchored, but no checkpoint "
                f"in the archive holds more than {anchored_in_archive.get(agreement_id, 0)}",
            )


def _check_certificates(
    session: Session,
    archive: Archive,
    roots: Sequence[x509.Certificate],
    timestamp_roots: Sequence[x509.Certificate],
    report: AuditReport,
) -> None:
    """Each completed version's sealed certificate lists its events up to completion: the
    database must hold exactly those events, with those times and hashes."""
    versions = session.scalars(
        select(AgreementVersion)
        .where(AgreementVersion.final_pdf_key.is_not(None))
        .order_by(AgreementVersion.agreement_id, AgreementVersion.number)
    ).all()
    for version in versions:
        where = f"version {version.number}'s sealed certificate"
        assert version.final_pdf_key is not None and version.final_pdf_sha256 is not None
        try:
            pdf = archive_service.open_object(
                session=session,
                archive=archive,
                key=version.final_pdf_key,
                sha256=version.final_pdf_sha256,
                read_by="verify --audit",
            )
        except DomainError as exc:
            report.add(version.agreement_id, f"{where} cannot be read: {exc.detail}")
            continue
        seal = inspect_seal(pdf, roots, timestamp_trust_roots=timestamp_roots)
        if not (seal.sealed and seal.intact and seal.covers_whole_file):
            report.add(version.agreement_id, f"{where} is not intact: {seal.problem}")
            continue
        printed = read_event_log(pdf)
        report.certificates += 1
        if not printed:
            continue  # sealed before certificates printed their events
        events = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.agreement_id == version.agreement_id,
                AuditEvent.version == version.number,
            )
            .order_by(AuditEvent.seq)
        ).all()
        by_hash = {e.hash: e for e in events}
        for number, (at, kind, digest) in enumerate(printed, start=1):
            event = by_hash.get(digest)
            if event is None:
                report.add(
                    version.agreement_id,
                    f"event {number} of {where} ({kind} at {at}) is not in the database as it "
                    "was sealed (changed or removed)",
                )
            elif (f"{event.created_at:%Y-%m-%d %H:%M:%S}", event.type) != (at, kind):
                report.add(
                    version.agreement_id,
                    f"event {number} of {where} reads {kind} at {at}; the database has "
                    f"{event.type} at {event.created_at:%Y-%m-%d %H:%M:%S}",
                )
        sealed = {digest for _, _, digest in printed}
        last_printed = max((by_hash[d].seq for d in sealed if d in by_hash), default=None)
        if last_printed is not None:
            for event in events:
                if event.seq < last_printed and event.hash not in sealed:
                    report.add(
                        version.agreement_id,
                        f"event {event.seq} ({event.type}) is in the database but not in {where}, "
                        "which lists every event before it (inserted)",
                    )


def verify_anchoring(*, session: Session, archive: Archive, sealer: Sealer) -> AuditReport:
    """The database's audit events against the checkpoints in the archive and the sealed
    certificates of completion."""
    report = AuditReport()
    roots = list(sealer.trust_roots)
    timestamp_roots = list(sealer.timestamp_roots)
    checkpoints = _read_checkpoints(archive, roots, timestamp_roots, report)
    _check_against_checkpoints(session, checkpoints, report)
    _check_certificates(session, archive, roots, timestamp_roots, report)
    return report
