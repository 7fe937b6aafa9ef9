"""The service's PAdES seal over a completed PDF, with the configured identity (or the
development one): a certification signature (DocMDP, no changes allowed) whose own revision
carries the validation data (chain and CRLs in a DSS), with an RFC 3161 signature timestamp
and a document timestamp after it when a TSA is configured — PAdES B-LTA; B-B without a TSA.
Also detached CMS signatures over other evidence (audit checkpoints) with the same key."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import (
    _ObjectImporter,  # public import_object needs a file-read object
)
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import (
    DSSContentSettings,
    PdfSignatureMetadata,
    PdfSigner,
    PdfSigningSession,
    PdfTimeStamper,
    SigDSSPlacementPreference,
    TimestampDSSContentSettings,
)
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from dpa_service.signing.certs import common_name, to_asn1, to_pyca
from dpa_service.signing.dev_ca import DEV_CRL_PATH, DevCA, ensure_dev_certificate
from dpa_service.signing.revocation import (
    RevocationFileError,
    check_files,
    read_crl_files,
    to_asn1_crl,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Room in the signature beyond the certificates embedded in it: signed attributes, an RSA-8192
# value and CMS framing fit in 4 KiB; a TSA token with its own chain (4-8 KiB in practice) in
# 12 KiB. Too little fails the seal outright; too much costs file size and, since pyHanko parses
# /Contents byte by byte, about 1 ms per KiB at every verification.
SIGNATURE_HEADROOM = 4 * 1024
TIMESTAMP_HEADROOM = 12 * 1024
SEAL_FIELD = "DPA-Seal"
ARCHIVE_TIMESTAMP_FIELD = "DPA-Archive-Timestamp"


class _NoFetchingNotice(logging.Filter):
    """pyHanko warns at every seal that validation data is embedded without fetching: here
    that is the configuration (the CRLs are supplied), not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_NoFetchingNotice())


class SealError(Exception):
    """The seal could not be made: unusable key material, unreadable PDF, or the TSA failed."""


@dataclass(frozen=True)
class SealSettings:
    p12_path: Path | None  # None: use (and on first use create) the development certificate
    p12_password: str
    data_dir: Path
    tsa_url: str | None  # None: no timestamps (PAdES B-B instead of B-LTA)
    tsa_ca_pem: Path | None = None  # the TSA's root(s): required with a TSA
    public_url: str = "http://127.0.0.1:8000"  # the development CA's CRL is published under it
    crl_files: tuple[Path, ...] = ()  # CRLs for the seal's and the TSA's chains, kept current
    fetch_revocation: bool = False  # let pyHanko fetch CRLs and OCSP answers while sealing


# --- sealing -----------------------------------------------------------------------------------


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


class _TimedPdfSigner(PdfSigner):
    """A PdfSigner whose signing time (the signature's /M and CMS signingTime) is given, so the
    seal says the same time as the completion it seals; pyHanko otherwise takes its own now."""

    def __init__(self, *args: Any, signing_time: datetime | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(
        self, pdf_out: Any, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        if self._signing_time is not None:
            session.system_time = self._signing_time
        return session


def _key_usages(cert: x509.Certificate) -> set[str]:
    """What pyHanko must find in the certificate before signing: the signing usages it has.
    E-seal certificates differ (digitalSignature, nonRepudiation or both), and pyHanko's
    default demands nonRepudiation."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return set()
    found = set()
    if usage.digital_signature:
        found.add("digital_signature")
    if usage.content_commitment:
        found.add("non_repudiation")
    return found


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
            signing_cert=to_asn1(cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([to_asn1(c) for c in others]),
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

    The key material is read once and never mutated; every seal builds its own writer and
    PdfSigner. The timestamp client is shared, because it keeps the TSA's certificates from
    its first answer (without them every seal would cost another TSA request). pyHanko runs
    each operation on its own event loop: call it from a worker thread, not from a running
    event loop (or let `off_event_loop` move it).
    """

    def __init__(
        self,
        signer: _SealSigner,
        tsa_url: str | None,
        *,
        timestamp_roots: Sequence[x509.Certificate] = (),
        retired_roots: Sequence[x509.Certificate] = (),
        dev_ca: DevCA | None = None,
        crl_files: Sequence[Path] = (),
        fetch_revocation: bool = False,
    ) -> None:
        self._signer = signer
        self._tsa_url = tsa_url
        self._timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
        self._dev_ca = dev_ca
        self._crl_files = tuple(crl_files)
        self._fetch = fetch_revocation
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
        self.signer_name: str = common_name(leaf)
        self.certificate: x509.Certificate = to_pyca(leaf)
        self._chain = chain
        self._key_usage = _key_usages(self.certificate)
        # The roots seals verify against: this identity's, and those of development sets it
        # replaced, whose seals must keep verifying.
        self.trust_roots: tuple[x509.Certificate, ...] = tuple(
            [*(to_pyca(c) for c in anchors), *retired_roots]
        )
        # Roots a timestamp token may chain to (DPA_TSA_CA_PEM); without a TSA, the seal's own.
        self.timestamp_roots: tuple[x509.Certificate, ...] = (
            tuple(timestamp_roots) or self.trust_roots
        )
        # /Contents holds the DER signature as hex: every byte counts twice.
        embedded = sum(len(c.dump()) for c in [leaf, *chain])
        headroom = SIGNATURE_HEADROOM + (TIMESTAMP_HEADROOM if tsa_url else 0)
        self._bytes_reserved = 2 * (embedded + headroom)

    @classmethod
    def from_settings(cls, settings: SealSettings) -> Sealer:
        dev_ca: DevCA | None = None
        retired: tuple[x509.Certificate, ...] = ()
        if settings.p12_path is None:
            crl_url = settings.public_url.rstrip("/") + DEV_CRL_PATH
            identity = ensure_dev_certificate(settings.data_dir, crl_url)
            p12_path, password = identity.p12_path, identity.password
            dev_ca, retired = DevCA.load(identity), identity.retired_roots
        else:
            p12_path, password = settings.p12_path, settings.p12_password
        tsa_roots: tuple[x509.Certificate, ...] = ()
        if settings.tsa_url:
            if settings.tsa_ca_pem is None:
                raise SealError(
                    "a TSA (DPA_TSA_URL) needs its root certificate(s) in DPA_TSA_CA_PEM: seals "
                    "carry the TSA's validation data, and verification must be able to trust "
                    "its time"
                )
            try:
                pem = settings.tsa_ca_pem.read_bytes()
                tsa_roots = tuple(x509.load_pem_x509_certificates(pem))
            except (OSError, ValueError) as exc:
                raise SealError(f"cannot read the TSA roots {settings.tsa_ca_pem}: {exc}") from exc
        try:
            check_files(settings.crl_files)
        except RevocationFileError as exc:
            raise SealError(str(exc)) from exc
        sealer = cls(
            _load_signer(p12_path, password),
            settings.tsa_url,
            timestamp_roots=tsa_roots,
            retired_roots=retired,
            dev_ca=dev_ca,
            crl_files=settings.crl_files,
            fetch_revocation=settings.fetch_revocation,
        )
        if dev_ca is None and not settings.crl_files and not settings.fetch_revocation:
            log.warning(
                "no revocation data for the seal (DPA_SEAL_CRL_FILES, DPA_SEAL_FETCH_REVOCATION): "
                "seals will not reach PAdES B-LT"
            )
        return sealer

    def published_crl(self) -> bytes | None:
        """The development CA's current CRL (DER), which its seal certificate names; None when
        the seal is a configured one (its CA publishes its own)."""
        if self._dev_ca is None:
            return None
        return self._dev_ca.crl().public_bytes(serialization.Encoding.DER)

    def _validation_context(self) -> ValidationContext:
        """What pyHanko validates the seal's and the TSA's chains with before signing, and
        embeds (certificates and CRLs) as the document's validation data."""
        crls = read_crl_files(self._crl_files)
        if self._dev_ca is not None:
            crls.append(to_asn1_crl(self._dev_ca.crl()))
        return ValidationContext(
            trust_roots=[to_asn1(c) for c in {*self.trust_roots, *self.timestamp_roots}],
            other_certs=self._chain,
            crls=crls,
            allow_fetching=self._fetch,
            # Missing revocation data lowers the level a seal reaches (verification reports
            # it); a certificate the data says is revoked refuses the seal.
            revocation_mode="soft-fail",
        )

    def seal(
        self,
        pdf: bytes,
        *,
        reason: str,
        location: str = "Riga, Latvia",
        field_name: str = SEAL_FIELD,
        appendix: bytes | None = None,
        signed_at: datetime | None = None,
    ) -> bytes:
        """Certify the whole document with one invisible PAdES seal, as incremental updates.

        The input bytes are left untouched and are an exact prefix of the result, so hashes of
        the unsealed PDF stay meaningful. `appendix` (a PDF, e.g. the certificate of completion)
        has its pages added at the end in the seal's own update, together with the validation
        data, so the seal covers both. With a TSA, the seal carries a signature timestamp and a
        second update adds the TSA's validation data and a document timestamp over everything.
        `signed_at` (timezone-aware) is the time the seal states; default now.
        """
        context = self._validation_context()
        meta = PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            embed_validation_info=True,
            validation_context=context,
            signer_key_usage=self._key_usage,
            # In the seal's own revision, so no unsigned revision follows it; VRI dictionaries
            # (deprecated in PAdES) would need the signature's bytes, which do not exist yet.
            dss_settings=DSSContentSettings(
                placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
            ),
            use_pades_lta=False,  # pyHanko's own LTA path rewrites the XMP (PDF/A)
        )
        pdf_signer = _TimedPdfSigner(
            meta,
            signer=self._signer,
            timestamper=self._timestamper,
            new_field_spec=fields.SigFieldSpec(sig_field_name=field_name),
            signing_time=signed_at,
        )
        try:
            writer = _AppendOnlyWriter(io.BytesIO(pdf))
            if appendix is not None:
                _append_pages(writer, appendix)
            out = off_event_loop(
                lambda: pdf_signer.sign_pdf(writer, bytes_reserved=self._bytes_reserved)
            )
            sealed = bytes(out.getbuffer())
            if self._timestamper is not None:
                sealed = self._document_timestamp(sealed, context)
        except Exception as exc:
            # pyHanko raises a wide range of types (PdfReadError, SigningError,
            # TimestampRequestError, ValueError...); callers need one.
            raise SealError(f"sealing failed: {exc}") from exc
        return sealed

    def _document_timestamp(self, pdf: bytes, context: ValidationContext) -> bytes:
        """B-LTA: the TSA's validation data, then a document timestamp over the whole file,
        in one update, so that nothing unsigned follows it."""
        assert self._timestamper is not None
        writer = _AppendOnlyWriter(io.BytesIO(pdf))
        stamper = PdfTimeStamper(self._timestamper, field_name=ARCHIVE_TIMESTAMP_FIELD)
        out = off_event_loop(
            lambda: stamper.timestamp_pdf(
                writer,
                "sha256",
                validation_context=context,
                dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False),
                in_place=False,
                output=io.BytesIO(),
            )
        )
        return bytes(out.getbuffer())

    def sign_detached(self, data: bytes) -> bytes:
        """A detached CMS (CAdES) signature over `data` (DER), carrying the certificate chain
        and, with a TSA, an RFC 3161 signature timestamp; verify with `seal_check`."""

        async def sign() -> Any:
            return await self._signer.async_sign_general_data(
                data, "sha256", detached=True, use_cades=True, timestamper=self._timestamper
            )

        try:
            signed = off_event_loop(lambda: asyncio.run(sign()))
        except Exception as exc:
            raise SealError(f"signing failed: {exc}") from exc
        return bytes(signed.dump())


def off_event_loop(call: Callable[[], _T]) -> _T:
    """Run `call` here, or on a helper thread when this thread already runs an event loop:
    pyHanko uses asyncio.run, which refuses to start inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
