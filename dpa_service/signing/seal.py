"""The service's PAdES seal over a completed PDF, with the configured identity (or the
development one) and, when configured, an RFC 3161 timestamp."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from dpa_service.signing.certs import common_name, to_asn1, to_pyca
from dpa_service.signing.dev_ca import ensure_dev_certificate

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Room in the signature beyond the certificates embedded in it: signed attributes, an RSA-8192
# value and CMS framing fit in 4 KiB; a TSA token with its own chain (4-8 KiB in practice) in
# 12 KiB. Too little fails the seal outright; too much costs file size and, since pyHanko parses
# /Contents byte by byte, about 1 ms per KiB at every verification.
SIGNATURE_HEADROOM = 4 * 1024
TIMESTAMP_HEADROOM = 12 * 1024


class SealError(Exception):
    """The seal could not be made: unusable key material, unreadable PDF, or the TSA failed."""


@dataclass(frozen=True)
class SealSettings:
    p12_path: Path | None  # None: use (and on first use create) the development certificate
    p12_password: str
    data_dir: Path
    tsa_url: str | None  # None: no signature timestamp (PAdES B-B instead of B-T)
    tsa_ca_pem: Path | None = None  # the TSA's root(s), so verification can trust its time


# --- development certificate -------------------------------------------------------------------


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
        self.signer_name: str = common_name(leaf)
        self.certificate: x509.Certificate = to_pyca(leaf)
        self.trust_roots: tuple[x509.Certificate, ...] = tuple(to_pyca(c) for c in anchors)
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
            out = off_event_loop(
                lambda: pdf_signer.sign_pdf(writer, bytes_reserved=self._bytes_reserved)
            )
        except Exception as exc:
            # pyHanko raises a wide range of types (PdfReadError, SigningError,
            # TimestampRequestError, ValueError...); callers need one.
            raise SealError(f"sealing failed: {exc}") from exc
        return bytes(out.getbuffer())


def off_event_loop(call: Callable[[], _T]) -> _T:
    """Run `call` here, or on a helper thread when this thread already runs an event loop:
    pyHanko uses asyncio.run, which refuses to start inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# --- inspection --------------------------------------------------------------------------------
