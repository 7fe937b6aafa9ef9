"""Inspecting a PDF's seal: intact, covering the whole file, by whom, trusted or not, timestamped."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from dpa_service.signing.certs import AnyCertificate, common_name, to_asn1
from dpa_service.signing.seal import off_event_loop


@dataclass(frozen=True)
class SealReport:
    sealed: bool  # a signature is present
    intact: bool  # the signed bytes are unchanged and the signature value verifies
    covers_whole_file: bool  # nothing was appended after the seal's signed range
    trusted: bool  # the signer's chain validates to the given trust roots
    signer: str | None  # subject CN of the sealing certificate
    signed_at: datetime | None  # UTC; the timestamp when there is one, else the claimed time
    timestamped: bool  # an intact RFC 3161 signature timestamp from a trusted TSA
    timestamp_at: datetime | None
    problem: str | None  # why the seal is absent, broken, untrusted or not the last word

    @property
    def ok(self) -> bool:
        """Sealed, unaltered, by a trusted certificate, and nothing added since."""
        return self.sealed and self.intact and self.trusted and self.covers_whole_file


def _validation_context(roots: Sequence[AnyCertificate]) -> ValidationContext:
    # Offline by design: the dev CA publishes no CRL or OCSP, and an archive check must not
    # depend on the network. An empty root list must stay empty, never fall back to the OS store.
    return ValidationContext(
        trust_roots=[to_asn1(c) for c in roots],
        allow_fetching=False,
        revocation_mode="none",
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _absent(problem: str) -> SealReport:
    return SealReport(
        sealed=False,
        intact=False,
        covers_whole_file=False,
        trusted=False,
        signer=None,
        signed_at=None,
        timestamped=False,
        timestamp_at=None,
        problem=problem,
    )


def _trust_problem(status: PdfSignatureStatus) -> str:
    if status.revoked:
        return "the sealing certificate has been revoked"
    if status.trust_problem_indic is not None:
        indic = str(status.trust_problem_indic.standard_name).lower().replace("_", " ")
        return f"the sealing certificate is not trusted ({indic})"
    return "the sealing certificate does not chain to a trusted root"


def inspect_seal(
    pdf: bytes,
    trust_roots: Sequence[AnyCertificate],
    *,
    timestamp_trust_roots: Sequence[AnyCertificate] | None = None,
) -> SealReport:
    """Report on the last signature in `pdf`; never raises for damaged or unsigned input.

    The timestamp's TSA is checked against `timestamp_trust_roots` (default: `trust_roots`); a
    token from a TSA outside them proves no time and leaves `timestamped` False.
    """
    try:
        # Strict: pyHanko then refuses hybrid cross-reference files, a known way to show a
        # different document from the one that was signed.
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        sigs = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    except Exception as exc:
        return _absent(f"not a readable PDF: {exc}")
    if not sigs:
        return _absent("the document carries no seal")
    # The seal is the outermost signature: the one in the latest revision.
    sig = max(sigs, key=lambda s: s.signed_revision)
    try:
        signer: str | None = common_name(sig.signer_cert)
    except Exception:
        signer = None
    ts_roots = trust_roots if timestamp_trust_roots is None else timestamp_trust_roots
    try:
        # Diff analysis judges what later revisions changed; a seal must be the last word, and
        # covers_whole_file already says whether it is.
        status = off_event_loop(
            lambda: validate_pdf_signature(
                sig,
                signer_validation_context=_validation_context(trust_roots),
                ts_validation_context=_validation_context(ts_roots),
                skip_diff=True,
            )
        )
    except Exception as exc:
        report = _absent(f"the seal cannot be verified: {exc}")
        return replace(report, sealed=True, signer=signer)

    intact = status.intact and status.valid
    covers = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    trusted = status.trusted
    ts = status.timestamp_validity
    timestamped = ts is not None and ts.intact and ts.valid and ts.trusted
    timestamp_at = _utc(ts.timestamp) if ts is not None and timestamped else None
    signed_at = timestamp_at or _utc(status.signer_reported_dt)

    problem: str | None = None
    if not status.intact:
        problem = "the signed bytes were changed after sealing"
    elif not status.valid:
        problem = "the seal's signature value does not verify"
    elif not trusted:
        problem = _trust_problem(status)
    elif not covers:
        problem = "content was added to the file after the seal"
    return SealReport(
        sealed=True,
        intact=intact,
        covers_whole_file=covers,
        trusted=trusted,
        signer=signer,
        signed_at=signed_at,
        timestamped=timestamped,
        timestamp_at=timestamp_at,
        problem=problem,
    )
