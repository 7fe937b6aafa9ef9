"""Is this PDF a genuine, unmodified, archived agreement? Seal check plus an archive lookup."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from cryptography import x509
from pypdf import PdfReader
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dpa_service.agreements.models import AgreementVersion
from dpa_service.clock import iso, iso_or_none, utc_label
from dpa_service.rendering.pdf import sha256_hex
from dpa_service.signing.seal import Sealer
from dpa_service.signing.seal_check import SealReport, inspect_seal

MAX_PDF_BYTES = 25 * 1024 * 1024
_CLAIM = re.compile(rb"/DPAAgreementId\s*\(([0-9a-f-]{36})\)")


@dataclass(frozen=True)
class Verdict:
    # completed: exactly the bytes of an archived completed version, sealed by a trusted
    #   certificate, nothing added since
    # untrusted: exactly those bytes, seal intact, but its certificate is not trusted here
    #   (e.g. the development CA where production roots are configured)
    # draft: exactly an issued, unsigned draft
    # modified: carries our seal or names one of our agreements, but the bytes differ
    # unknown: nothing links it to an agreement we issued
    status: str
    message: str
    sha256: str
    agreement_id: str | None = None
    version: int | None = None
    version_state: str | None = None
    completed_at: str | None = None
    seal: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _claimed_agreement(pdf: bytes) -> tuple[str | None, int | None]:
    try:
        meta: Any = PdfReader(io.BytesIO(pdf)).metadata or {}
        agreement_id = meta.get("/DPAAgreementId")
        number = meta.get("/DPAAgreementVersion")
        return (str(agreement_id) if agreement_id else None, int(str(number)) if number else None)
    except Exception:
        # Too damaged for a PDF reader; our metadata keys may still be readable as bytes.
        found = _CLAIM.search(pdf)
        return (found.group(1).decode(), None) if found else (None, None)


def _seal_info(seal: SealReport) -> dict[str, Any]:
    return {
        "sealed": seal.sealed,
        "intact": seal.intact,
        "trusted": seal.trusted,
        "covers_whole_file": seal.covers_whole_file,
        "certified": seal.certified,
        "signer": seal.signer,
        "signed_at": iso_or_none(seal.signed_at),
        "timestamped": seal.timestamped,
        "timestamp_at": iso_or_none(seal.timestamp_at),
        "document_timestamps": [iso(t) for t in seal.document_timestamps],
        "level": seal.level,
        "evidence_valid_until": iso_or_none(seal.evidence_valid_until),
        "problem": seal.problem,
    }


def _evidence(seal: SealReport) -> str:
    if seal.level is None:
        return ""
    until = seal.evidence_valid_until
    return f" (PAdES {seal.level}{f', evidence valid until {utc_label(until)}' if until else ''})"


def verify_pdf(
    *,
    session: Session,
    pdf: bytes,
    sealer: Sealer,
    extra_roots: Sequence[x509.Certificate] = (),
) -> Verdict:
    """What `pdf` is: one of our completed agreements exactly (and whether its seal is trusted
    here), a draft, a modified copy, or unknown. `extra_roots` are trusted besides the seal's
    own (and, for timestamps, the TSA's), e.g. the CLI's --trust-roots."""
    digest = sha256_hex(pdf)
    seal: SealReport = inspect_seal(
        pdf,
        [*sealer.trust_roots, *extra_roots],
        timestamp_trust_roots=[*sealer.timestamp_roots, *extra_roots],
    )
    seal_info = _seal_info(seal)
    match = session.scalars(
        select(AgreementVersion).where(
            or_(
                AgreementVersion.final_pdf_sha256 == digest,
                AgreementVersion.draft_pdf_sha256 == digest,
            )
        )
    ).first()
    if match is not None and match.final_pdf_sha256 == digest:
        archived = seal.sealed and seal.intact and seal.covers_whole_file
        completed = f"{match.completed_at:%Y-%m-%d %H:%M:%S} UTC"
        which = f"agreement {match.agreement_id} version {match.number}"
        if archived and seal.trusted:
            status = "completed"
            message = (
                f"Genuine: {which}, completed {completed}, sealed by {seal.signer}, a trusted "
                f"Klusaro certificate{_evidence(seal)}, unmodified."
            )
        elif archived:
            status = "untrusted"
            message = (
                f"Our archive's bytes: {which}, completed {completed}, unmodified; but the "
                f"certificate that sealed it ({seal.signer}) is not trusted here: {seal.problem}."
            )
        else:
            status = "modified"
            message = "The bytes match an archived agreement but its seal does not validate."
        return Verdict(
            status=status,
            message=message,
            sha256=digest,
            agreement_id=match.agreement_id,
            version=match.number,
            version_state=match.state,
            completed_at=iso_or_none(match.completed_at),
            seal=seal_info,
        )
    if match is not None:
        return Verdict(
            status="draft",
            message=(
                f"An unsigned draft of agreement {match.agreement_id} version {match.number} "
                f"(now {match.state}); it is not a signed agreement."
            ),
            sha256=digest,
            agreement_id=match.agreement_id,
            version=match.number,
            version_state=match.state,
            seal=seal_info,
        )
    claimed_id, claimed_version = _claimed_agreement(pdf)
    if seal.sealed or claimed_id:
        why = seal.problem or "its bytes are not those of any agreement we archived"
        return Verdict(
            status="modified",
            # (no "Modified:" label: the status says it; the CLI prints "MODIFIED: <message>")
            message=f"This file is not the agreement we issued ({why}).",
            sha256=digest,
            agreement_id=claimed_id,
            version=claimed_version,
            seal=seal_info,
        )
    return Verdict(
        status="unknown",
        message="This file was not issued by dpa-service.",
        sha256=digest,
        seal=seal_info,
    )
