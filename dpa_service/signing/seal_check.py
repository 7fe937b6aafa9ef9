"""Inspecting a PDF's seal: intact, trusted, certified, nothing but validation data after it,
the PAdES level its evidence reaches and until when that evidence stays valid. Also the detached
CMS signatures that seal audit checkpoints."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    async_validate_detached_cms,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.path import ValidationPath

from dpa_service.signing.certs import AnyCertificate, common_name, to_asn1
from dpa_service.signing.seal import off_event_loop

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
# What may follow a seal: nothing, or validation data and document timestamps.
_PERMITTED_AFTER_SEAL = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
# A file ends with its last revision's end-of-file marker; bytes after it belong to no revision.
_ENDS_AT_A_REVISION = re.compile(rb"%%EOF\s*\Z")


@dataclass(frozen=True)
class SealReport:
    sealed: bool  # a signature is present
    intact: bool  # the signed bytes are unchanged and the signature value verifies
    # nothing was added after the seal but validation data and document timestamps, and the
    # last revision is covered by the seal or a document timestamp
    covers_whole_file: bool
    trusted: bool  # the signer's chain validates to the given trust roots
    signer: str | None  # subject CN of the sealing certificate
    signed_at: datetime | None  # UTC; the timestamp when there is one, else the claimed time
    timestamped: bool  # an intact RFC 3161 signature timestamp from a trusted TSA
    timestamp_at: datetime | None
    problem: str | None  # why the seal is absent, broken, untrusted or not the last word
    certified: bool = False  # a certification signature (DocMDP) that permits no changes
    level: str | None = None  # PAdES baseline level reached: B-B, B-T, B-LT or B-LTA
    # until when the evidence can be validated as it is (the earliest expiry in the chains it
    # rests on; a B-LTA file is renewed with a new document timestamp before then)
    evidence_valid_until: datetime | None = None
    document_timestamps: tuple[datetime, ...] = ()  # valid, trusted document timestamps

    @property
    def ok(self) -> bool:
        """Sealed, unaltered, by a trusted certificate, and nothing but validation data since."""
        return self.sealed and self.intact and self.trusted and self.covers_whole_file


def _validation_context(
    roots: Iterable[AnyCertificate],
    certs: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[asn1_crl.CertificateList] = (),
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
) -> ValidationContext:
    # Offline by design: an archive check must not depend on the network, and the revocation
    # data that matters is the file's own. Missing revocation data only caps the level; a
    # certificate the data says is revoked is not trusted. An empty root list must stay empty,
    # never fall back to the OS store.
    return ValidationContext(
        trust_roots=[to_asn1(c) for c in roots],
        other_certs=list(certs),
        crls=list(crls),
        ocsps=list(ocsps),
        allow_fetching=False,
        revocation_mode="soft-fail",
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


def _trust_problem(status: Any) -> str:
    if status.revoked:
        return "the sealing certificate has been revoked"
    if status.trust_problem_indic is not None:
        indic = str(status.trust_problem_indic.standard_name).lower().replace("_", " ")
        return f"the sealing certificate is not trusted ({indic})"
    return "the sealing certificate does not chain to a trusted root"


@dataclass(frozen=True)
class _ValidationData:
    present: bool
    certs: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    ocsps: list[asn1_ocsp.OCSPResponse]


def _validation_data(reader: PdfFileReader) -> _ValidationData:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return _ValidationData(False, [], [], [])
    crls = [asn1_crl.CertificateList.load(c.get_object().data) for c in dss.crls or []]
    ocsps = [asn1_ocsp.OCSPResponse.load(o.get_object().data) for o in dss.ocsps or []]
    return _ValidationData(True, list(dss.load_certs()), crls, ocsps)


def _earliest_expiry(path: ValidationPath | None) -> datetime | None:
    if path is None:
        return None
    times = [_utc(c.not_valid_after) for c in path.iter_certs(include_root=True)]
    return min((t for t in times if t is not None), default=None)


def _revocation_covered(
    path: ValidationPath, crls: Sequence[asn1_crl.CertificateList], ocsps: Sequence[Any]
) -> bool:
    """Every certificate of the path below its root has a CRL from its issuer or an OCSP
    answer about it in the file."""
    certs = list(path.iter_certs(include_root=True))
    for issuer, cert in zip(certs, certs[1:], strict=False):
        if any(c["tbs_cert_list"]["issuer"] == issuer.subject for c in crls):
            continue
        answered = False
        for response in ocsps:
            try:
                answers = response.basic_ocsp_response["tbs_response_data"]["responses"]
                answered = any(
                    a["cert_id"]["serial_number"].native == cert.serial_number for a in answers
                )
            except Exception:
                answered = False
            if answered:
                break
        if not answered:
            return False
    return True


def _cms_certificates(signed_data: cms.SignedData) -> list[asn1_x509.Certificate]:
    return [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]


def _path_in_file(path: ValidationPath, available: Sequence[asn1_x509.Certificate]) -> bool:
    """The path's certificates below the root are in the file (DSS or a CMS); validators bring
    their own roots."""
    have = {c.dump() for c in available}
    return all(c.dump() in have for c in path.iter_certs(include_root=False))


def _document_metadata(reader: PdfFileReader, revision: int) -> tuple[Any, bytes | None]:
    """The Info dictionary and XMP packet as they were in `revision`."""
    resolver = reader.get_historical_resolver(revision)

    def at_revision(obj: Any) -> Any:  # references resolved in this revision, not the latest
        return resolver(obj.reference) if isinstance(obj, generic.IndirectObject) else obj

    trailer = resolver.trailer_view
    info = at_revision(trailer.raw_get("/Info")) if "/Info" in trailer else None
    items = {str(k): str(at_revision(info.raw_get(k))) for k in info} if info is not None else {}
    root = at_revision(trailer.raw_get("/Root"))
    metadata = at_revision(root.raw_get("/Metadata")) if "/Metadata" in root else None
    return items, (metadata.data if metadata is not None else None)


def _added_after_seal(pdf: bytes, reader: PdfFileReader, sig: Any, status: Any) -> str | None:
    """What was added after the seal that validation data and timestamps do not explain."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return None
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return "content"
    if sig.signed_revision == reader.xrefs.total_revisions - 1 or not _ENDS_AT_A_REVISION.search(
        pdf[-64:]
    ):
        return "bytes outside any revision"
    level = status.modification_level
    if status.docmdp_ok is False or level not in _PERMITTED_AFTER_SEAL:
        return level.name.lower().replace("_", " ") if level else "content"
    # pyHanko's analysis lets document metadata change freely; for PDF/A and for evidence, the
    # title and XMP are part of what was sealed.
    last = reader.xrefs.total_revisions - 1
    if _document_metadata(reader, sig.signed_revision) != _document_metadata(reader, last):
        return "changed document metadata"
    return None


def _last_dss_revision(reader: PdfFileReader) -> int:
    """The last revision that wrote the DSS or anything it holds."""
    history = reader.xrefs
    last = 0
    for revision in range(history.total_revisions):
        resolve = reader.get_historical_resolver(revision)
        root = resolve(reader.root_ref)
        if "/DSS" not in root:
            continue
        dss_ref = root.raw_get("/DSS")
        refs = {dss_ref.idnum} if isinstance(dss_ref, generic.IndirectObject) else set()
        dss = resolve(dss_ref.reference) if isinstance(dss_ref, generic.IndirectObject) else dss_ref
        for key in ("/Certs", "/CRLs", "/OCSPs"):
            array = dss.raw_get(key) if key in dss else None
            if isinstance(array, generic.IndirectObject):
                refs.add(array.idnum)
                array = resolve(array.reference)
            for item in array or []:
                if isinstance(item, generic.IndirectObject):
                    refs.add(item.idnum)
        changed = (
            refs
            if revision == 0
            else {r.idnum for r in history.explicit_refs_in_revision(revision)}
        )
        if refs & changed:
            last = revision
    return last


async def _inspect(
    pdf: bytes, roots: Sequence[AnyCertificate], ts_roots: Sequence[AnyCertificate]
) -> SealReport:
    try:
        # Strict: pyHanko then refuses hybrid cross-reference files, a known way to show a
        # different document from the one that was signed.
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        seals = sorted(reader.embedded_regular_signatures, key=lambda s: s.signed_revision)
        doc_stamps = [
            s
            for s in reader.embedded_timestamp_signatures
            if seals and s.signed_revision > seals[0].signed_revision
        ]
        data = _validation_data(reader)
    except Exception as exc:
        return _absent(f"not a readable PDF: {exc}")
    if not seals:
        return _absent("the document carries no seal")
    # The seal is the first signature: a certification signature must be, and anything signed
    # after it is a later change for the diff analysis to judge.
    sig = seals[0]
    try:
        signer: str | None = common_name(sig.signer_cert)
    except Exception:
        signer = None

    def context(trusted: Sequence[AnyCertificate]) -> ValidationContext:
        return _validation_context(trusted, data.certs, data.crls, data.ocsps)

    try:
        status: PdfSignatureStatus = await async_validate_pdf_signature(
            sig, signer_validation_context=context(roots), ts_validation_context=context(ts_roots)
        )
    except Exception as exc:
        return replace(_absent(f"the seal cannot be verified: {exc}"), sealed=True, signer=signer)

    intact = status.intact and status.valid
    trusted = status.trusted
    certified = sig.docmdp_level is not None
    try:
        added = _added_after_seal(pdf, reader, sig, status)
    except Exception:
        added = "content that cannot be analysed"
    covers = added is None
    ts = status.timestamp_validity
    timestamped = ts is not None and ts.intact and ts.valid and ts.trusted
    timestamp_at = _utc(ts.timestamp) if ts is not None and timestamped else None
    signed_at = timestamp_at or _utc(status.signer_reported_dt)

    stamps: list[tuple[Any, Any]] = []  # (embedded timestamp, its status) for valid ones
    stamps_ok = True
    for stamp in doc_stamps:
        try:
            stamp_status = await async_validate_pdf_timestamp(
                stamp, validation_context=context(ts_roots)
            )
        except Exception:
            stamps_ok = False
            continue
        if stamp_status.intact and stamp_status.valid and stamp_status.trusted:
            stamps.append((stamp, stamp_status))
        else:
            stamps_ok = False

    problem: str | None = None
    if not status.intact:
        problem = "the signed bytes were changed after sealing"
    elif not status.valid:
        problem = "the seal's signature value does not verify"
    elif not covers:
        problem = (
            f"content was added to the file after the seal ({added}), which it does not permit"
        )
    elif not trusted:
        problem = _trust_problem(status)
    elif not stamps_ok:
        problem = "a document timestamp after the seal does not validate"

    level: str | None = None
    until: datetime | None = None
    if intact and trusted and covers:
        level, until = _level(reader, sig, status, stamps, data)
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
        certified=certified,
        level=level,
        evidence_valid_until=until,
        document_timestamps=tuple(t for t in (_utc(s.timestamp) for _, s in stamps) if t),
    )


def _level(
    reader: PdfFileReader,
    sig: Any,
    status: PdfSignatureStatus,
    stamps: list[tuple[Any, Any]],
    data: _ValidationData,
) -> tuple[str, datetime | None]:
    """The PAdES baseline level (ETSI EN 319 142-1) the seal's evidence reaches, and the time
    until which it stays valid: B-B rests on the seal's chain; B-T also on a timestamp before
    the seal's certificate expires; B-LT on the timestamp's chain (the seal's validity at that
    time is proven by the embedded revocation data); B-LTA on the latest document timestamp's
    chain, renewable by another document timestamp before it expires."""
    seal_until = _earliest_expiry(status.validation_path)
    ts = status.timestamp_validity
    sig_ts = ts is not None and ts.intact and ts.valid and ts.trusted
    if not sig_ts and not stamps:
        return "B-B", seal_until
    # A document timestamp over the seal proves its existence in time as well (EN 319 142-1).
    ts_path = ts.validation_path if sig_ts and ts is not None else stamps[0][1].validation_path
    ts_until = _earliest_expiry(ts_path)
    b_t = "B-T", min((t for t in (seal_until, ts_until) if t), default=None)
    if not data.present or status.validation_path is None or ts_path is None:
        return b_t
    in_file = [*data.certs, *_cms_certificates(sig.signed_data)]
    for token in extract_tst_data_iter(sig.signer_info, signed=False):
        in_file += _cms_certificates(token)
    for stamp, _ in stamps:
        in_file += _cms_certificates(stamp.signed_data)
    for path in (status.validation_path, ts_path):
        if not (_path_in_file(path, in_file) and _revocation_covered(path, data.crls, data.ocsps)):
            return b_t
    latest_stamp = stamps[-1] if stamps else None
    if latest_stamp is not None and latest_stamp[0].signed_revision >= _last_dss_revision(reader):
        return "B-LTA", _earliest_expiry(latest_stamp[1].validation_path)
    return "B-LT", ts_until


def inspect_seal(
    pdf: bytes,
    trust_roots: Sequence[AnyCertificate],
    *,
    timestamp_trust_roots: Sequence[AnyCertificate] | None = None,
) -> SealReport:
    """Report on the seal (the first signature) in `pdf`; never raises for damaged or unsigned
    input. Timestamps are checked against `timestamp_trust_roots` (default: `trust_roots`); a
    token from a TSA outside them proves no time."""
    ts_roots = trust_roots if timestamp_trust_roots is None else timestamp_trust_roots
    return off_event_loop(lambda: asyncio.run(_inspect(pdf, trust_roots, ts_roots)))


@dataclass(frozen=True)
class DetachedReport:
    """A detached CMS signature (an audit checkpoint's) checked against its data."""

    intact: bool  # the data is what was signed and the signature value verifies
    trusted: bool
    signer: str | None
    timestamp_at: datetime | None  # a valid, trusted RFC 3161 signature timestamp
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted


def inspect_detached(
    data: bytes,
    signature: bytes,
    trust_roots: Sequence[AnyCertificate],
    *,
    timestamp_trust_roots: Sequence[AnyCertificate] | None = None,
) -> DetachedReport:
    """Check a detached CMS signature (DER) over `data`; never raises for garbage."""
    ts_roots = trust_roots if timestamp_trust_roots is None else timestamp_trust_roots
    try:
        signed_data = cms.ContentInfo.load(signature)["content"]
        signed_data.native  # noqa: B018 - a truncated or foreign file fails here, not later
    except Exception as exc:
        return DetachedReport(False, False, None, None, f"not a CMS signature: {exc}")

    async def check() -> Any:
        return await async_validate_detached_cms(
            data,
            signed_data,
            signer_validation_context=_validation_context(trust_roots),
            ts_validation_context=_validation_context(ts_roots),
        )

    try:
        status = off_event_loop(lambda: asyncio.run(check()))
    except Exception as exc:
        return DetachedReport(False, False, None, None, f"the signature cannot be verified: {exc}")
    intact = status.intact and status.valid
    ts = status.timestamp_validity
    stamped = ts is not None and ts.intact and ts.valid and ts.trusted
    try:
        signer: str | None = common_name(status.signing_cert)
    except Exception:
        signer = None
    problem = None
    if not intact:
        problem = "the signed data was changed, or the signature does not verify"
    elif not status.trusted:
        problem = _trust_problem(status)
    return DetachedReport(
        intact, status.trusted, signer, _utc(ts.timestamp) if stamped and ts else None, problem
    )
