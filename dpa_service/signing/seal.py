"""The service's PAdES seal: a development certificate, sealing a PDF, and inspecting a seal."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import io
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeAlias, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import (
    _ObjectImporter,  # public import_object needs a file-read object
)
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

log = logging.getLogger(__name__)
_T = TypeVar("_T")

DEV_CA_NAME = "dpa-service Development CA (not for production)"
DEV_SEAL_NAME = "dpa-service development seal"
DEV_ORGANIZATION = "SIA A.U. Holding (Klusaro)"
DEV_COUNTRY = "LV"

# Room in the signature beyond the certificates embedded in it: signed attributes, an RSA-8192
# value and CMS framing fit in 4 KiB; a TSA token with its own chain (4-8 KiB in practice) in
# 12 KiB. Too little fails the seal outright; too much costs file size and, since pyHanko parses
# /Contents byte by byte, about 1 ms per KiB at every verification.
SIGNATURE_HEADROOM = 4 * 1024
TIMESTAMP_HEADROOM = 12 * 1024

AnyCertificate: TypeAlias = x509.Certificate | asn1_x509.Certificate


class SealError(Exception):
    """The seal could not be made: unusable key material, unreadable PDF, or the TSA failed."""


@dataclass(frozen=True)
class SealSettings:
    p12_path: Path | None  # None: use (and on first use create) the development certificate
    p12_password: str
    data_dir: Path
    tsa_url: str | None  # None: no signature timestamp (PAdES B-B instead of B-T)
    tsa_ca_pem: Path | None = None  # the TSA's root(s), so verification can trust its time


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


# --- development certificate -------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, DEV_COUNTRY),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _dev_chain() -> tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]:
    """A fresh CA and a seal certificate it issued; the CA key is dropped once it has signed.

    RSA, not EC: for an ECDSA P-256 signer pyHanko declares the document PDF 2.0 (the ISO 32002
    extension), which a PDF/A-2b file must not claim. RSA keeps it at 1.7 with the ESIC extension.
    """
    now = datetime.now(UTC)
    # Backdated a little so a verifier whose clock lags ours still sees the certificates valid.
    not_before = now - timedelta(minutes=5)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(DEV_CA_NAME))
        .issuer_name(_name(DEV_CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + timedelta(days=3652))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    # No extendedKeyUsage: RFC 5280 then allows any purpose, which pyHanko and Acrobat both
    # accept; documentSigning (RFC 9336) is still missing from some readers' allow-lists.
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(DEV_SEAL_NAME))
        .issuer_name(ca_cert.subject)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return seal_key, seal_cert, ca_cert


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename itself must survive a crash too, or a restart would find a half set.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    # Several workers may start at once on an empty data_dir; without the lock two of them could
    # each write half a set (one's .p12, the other's password).
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def ensure_dev_certificate(data_dir: Path) -> tuple[Path, str, Path]:
    """Create the development seal once under data_dir/seal; returns (p12, password, CA PEM).

    Existing files are reused as they are, never renewed: the CA in dev-ca.pem is what earlier
    seals verify against, so replacing it would orphan them.
    """
    seal_dir = data_dir / "seal"
    seal_dir.mkdir(parents=True, exist_ok=True)
    p12_path = seal_dir / "dev-seal.p12"
    password_path = seal_dir / "dev-seal.password"
    ca_path = seal_dir / "dev-ca.pem"
    with _locked(seal_dir / ".dev-seal.lock"):
        if not (p12_path.is_file() and password_path.is_file() and ca_path.is_file()):
            key, cert, ca_cert = _dev_chain()
            password = secrets.token_urlsafe(32)
            p12 = pkcs12.serialize_key_and_certificates(
                name=DEV_SEAL_NAME.encode(),
                key=key,
                cert=cert,
                cas=[ca_cert],
                encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
            )
            # The password goes first and the CA last: the set counts as present only when all
            # three exist, so a crash part-way leaves something that is regenerated whole.
            _write_atomically(password_path, password.encode() + b"\n", 0o600)
            _write_atomically(p12_path, p12, 0o600)
            _write_atomically(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        password = password_path.read_text(encoding="utf-8").strip()
    return p12_path, password, ca_path


# --- sealing -----------------------------------------------------------------------------------


def _to_asn1(cert: AnyCertificate) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _to_pyca(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _common_name(cert: asn1_x509.Certificate) -> str:
    cn = cert.subject.native.get("common_name")
    if isinstance(cn, list):  # a subject may repeat CN; the most specific comes last
        cn = cn[-1]
    return str(cn) if cn else cert.subject.human_friendly


class _AppendOnlyWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's metadata alone.

    pyHanko normally re-serialises the XMP packet and appends itself to Info /Producer on every
    write, which leaves Info and XMP disagreeing (a PDF/A-2 failure) and rewrites LibreOffice's
    packet. Overriding _update_meta is the maintainer's advice (pyHanko issue #223).
    """

    def _update_meta(self) -> None:
        return None


_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _append_pages(writer: IncrementalPdfFileWriter, appendix: bytes) -> None:
    """Copy every page of `appendix` (with what it references) to the end of the document."""
    source = PdfFileReader(io.BytesIO(appendix))

    def leaves(node: generic.DictionaryObject, inherited: dict[str, generic.PdfObject]) -> list:
        here = {**inherited, **{k: node[k] for k in _INHERITABLE if k in node}}
        if node.get("/Type") == "/Page":
            return [(node, here)]
        found = []
        for kid in node["/Kids"]:
            found += leaves(kid.get_object(), here)
        return found

    # One importer for all pages, so fonts and images they share are copied once.
    importer = _ObjectImporter(source=source, target=writer, obj_stream=None, reference_map={})
    for page, inherited in leaves(source.root["/Pages"], {}):
        copy = generic.DictionaryObject(
            {generic.NameObject(k): v for k, v in page.items() if k != "/Parent"}
        )
        for key, value in inherited.items():
            copy.setdefault(generic.NameObject(key), value)
        writer.insert_page(importer.import_object(copy))


class _SealSigner(signers.SimpleSigner):
    """A SimpleSigner that keeps its parsed private key.

    SimpleSigner re-parses the key from DER for every signature, and OpenSSL 3 re-checks an RSA
    key each time it is loaded: about 150 ms of a seal for RSA 3072.
    """

    def __init__(
        self,
        key: PrivateKeyTypes,
        cert: x509.Certificate,
        others: Sequence[x509.Certificate],
    ) -> None:
        der_key = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(
            signing_cert=_to_asn1(cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([_to_asn1(c) for c in others]),
        )
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if isinstance(self._key, rsa.RSAPrivateKey) and mechanism == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


def _load_signer(p12_path: Path, password: str) -> _SealSigner:
    try:
        bundle = pkcs12.load_pkcs12(p12_path.read_bytes(), password.encode() or None)
    except (OSError, ValueError) as exc:
        raise SealError(f"cannot load the seal PKCS#12 {p12_path}: {exc}") from exc
    if bundle.key is None or bundle.cert is None:
        raise SealError(f"the seal PKCS#12 {p12_path} must hold a private key and its certificate")
    key = bundle.key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # pyHanko declares PDF 2.0 for ECDSA on these curves, which a PDF/A-2 file must not.
        log.warning("seal key is ECDSA (%s): sealed PDFs will declare PDF 2.0", key.curve.name)
    elif not isinstance(key, rsa.RSAPrivateKey):
        raise SealError(f"unsupported seal key type {type(key).__name__}; use RSA")
    others = [c.certificate for c in bundle.additional_certs]
    return _SealSigner(key, bundle.cert.certificate, others)


class Sealer:
    """Seals PDFs with one PKCS#12 identity; safe to share between threads.

    The key material is read once and never mutated; every seal builds its own writer, PdfSigner
    and timestamp client, and pyHanko runs each on its own event loop. Call it from a worker
    thread, not from a running event loop (pyHanko uses asyncio.run).
    """

    def __init__(self, signer: _SealSigner, tsa_url: str | None) -> None:
        self._signer = signer
        self._tsa_url = tsa_url
        leaf = signer.signing_cert
        assert leaf is not None  # _SealSigner always has one
        # Keyed by DER: asn1crypto compares certificates by identity, and some tools put the
        # leaf among the CA certificates too.
        by_der = {c.dump(): c for c in signer.cert_registry}
        by_der.pop(leaf.dump(), None)
        chain = list(by_der.values())
        roots = [c for c in chain if c.subject == c.issuer]
        # A chain without its root still anchors trust in what the operator configured; a bare
        # certificate is its own anchor.
        anchors = roots or chain or [leaf]
        self.signer_name: str = _common_name(leaf)
        self.certificate: x509.Certificate = _to_pyca(leaf)
        self.trust_roots: tuple[x509.Certificate, ...] = tuple(_to_pyca(c) for c in anchors)
        # Roots a timestamp token may chain to (DPA_TSA_CA_PEM); by default the seal's own.
        self.timestamp_roots: tuple[x509.Certificate, ...] = self.trust_roots
        # /Contents holds the DER signature as hex: every byte counts twice.
        embedded = sum(len(c.dump()) for c in [leaf, *chain])
        headroom = SIGNATURE_HEADROOM + (TIMESTAMP_HEADROOM if tsa_url else 0)
        self._bytes_reserved = 2 * (embedded + headroom)

    @classmethod
    def from_settings(cls, settings: SealSettings) -> Sealer:
        if settings.p12_path is None:
            p12_path, password, _ = ensure_dev_certificate(settings.data_dir)
        else:
            p12_path, password = settings.p12_path, settings.p12_password
        sealer = cls(_load_signer(p12_path, password), settings.tsa_url)
        if settings.tsa_ca_pem is not None:
            try:
                pem = settings.tsa_ca_pem.read_bytes()
                sealer.timestamp_roots = tuple(x509.load_pem_x509_certificates(pem))
            except (OSError, ValueError) as exc:
                raise SealError(f"cannot read the TSA roots {settings.tsa_ca_pem}: {exc}") from exc
        return sealer

    def seal(
        self,
        pdf: bytes,
        *,
        reason: str,
        location: str = "Riga, Latvia",
        field_name: str = "DPA-Seal",
        appendix: bytes | None = None,
    ) -> bytes:
        """Append one invisible PAdES seal over the whole document as an incremental update.

        The input bytes are left untouched and are an exact prefix of the result, so hashes of
        the unsealed PDF stay meaningful. `appendix` (a PDF, e.g. the certificate of completion)
        has its pages added at the end in the same update, so the seal covers them too; only
        the appendix's objects are written, never a copy of the whole document.
        """
        meta = PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        timestamper = HTTPTimeStamper(self._tsa_url) if self._tsa_url else None
        pdf_signer = PdfSigner(
            meta,
            signer=self._signer,
            timestamper=timestamper,
            new_field_spec=fields.SigFieldSpec(sig_field_name=field_name),
        )
        try:
            writer = _AppendOnlyWriter(io.BytesIO(pdf))
            if appendix is not None:
                _append_pages(writer, appendix)
            out = _off_event_loop(
                lambda: pdf_signer.sign_pdf(writer, bytes_reserved=self._bytes_reserved)
            )
        except Exception as exc:
            # pyHanko raises a wide range of types (PdfReadError, SigningError,
            # TimestampRequestError, ValueError...); callers need one.
            raise SealError(f"sealing failed: {exc}") from exc
        return bytes(out.getbuffer())


def _off_event_loop(call: Callable[[], _T]) -> _T:
    """Run `call` here, or on a helper thread when this thread already runs an event loop:
    pyHanko uses asyncio.run, which refuses to start inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# --- inspection --------------------------------------------------------------------------------


def _validation_context(roots: Sequence[AnyCertificate]) -> ValidationContext:
    # Offline by design: the dev CA publishes no CRL or OCSP, and an archive check must not
    # depend on the network. An empty root list must stay empty, never fall back to the OS store.
    return ValidationContext(
        trust_roots=[_to_asn1(c) for c in roots],
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
        signer: str | None = _common_name(sig.signer_cert)
    except Exception:
        signer = None
    ts_roots = trust_roots if timestamp_trust_roots is None else timestamp_trust_roots
    try:
        # Diff analysis judges what later revisions changed; a seal must be the last word, and
        # covers_whole_file already says whether it is.
        status = _off_event_loop(
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
