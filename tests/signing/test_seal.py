"""The PAdES seal: development certificate, sealing, and what inspect_seal says about the result."""

from __future__ import annotations

import io
import ipaddress
import socket
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from dpa_service.signing.dev_ca import (
    DEV_CA_NAME,
    DEV_SEAL_NAME,
    DevCA,
    ensure_dev_certificate,
)
from dpa_service.signing.seal import Sealer, SealError, SealSettings
from dpa_service.signing.seal_check import inspect_seal
from tests.signing.tsa import LoopbackTSA

REASON = "Agreement DPA-2025-0001 concluded"
CRL_URL = "http://127.0.0.1:8000/pki/dev-ca.crl"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that would leave 127.0.0.1 (a TSA, CRL or OCSP fetch)."""
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"network access to {address!r} during a seal test")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


def make_pdf(pages: int = 10) -> bytes:
    """A small PDF shaped like ours: uncompressed content, then one incremental update."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=0)
    for n in range(1, pages + 1):
        c.drawString(72, 720, f"Data Processing Agreement, page {n}")
        c.drawString(72, 700, "The Processor shall process Personal Data only on instructions.")
        c.showPage()
    c.save()
    writer = PdfWriter(io.BytesIO(buf.getvalue()), incremental=True)
    writer.add_metadata({"/DPAAgreementId": "DPA-2025-0001"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_pdf()


@pytest.fixture(scope="module")
def dev_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def sealer(dev_dir: Path) -> Sealer:
    return Sealer.from_settings(SealSettings(None, "", dev_dir, None))


@pytest.fixture(scope="module")
def sealed(sealer: Sealer, pdf: bytes) -> bytes:
    return sealer.seal(pdf, reason=REASON)


def _load_p12(path: Path, password: str) -> pkcs12.PKCS12KeyAndCertificates:
    return pkcs12.load_pkcs12(path.read_bytes(), password.encode())


def _signature_dict(pdf: bytes) -> Any:
    sigs = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(sigs) == 1
    return sigs[0]


# --- development certificate -------------------------------------------------------------------


def test_dev_certificate_is_created_once_and_reused(tmp_path: Path) -> None:
    identity = ensure_dev_certificate(tmp_path, CRL_URL)
    assert identity.p12_path == tmp_path / "seal" / "dev-seal.p12"
    assert identity.ca_path == tmp_path / "seal" / "dev-ca.pem"
    assert identity.retired_roots == ()
    first = {p: p.read_bytes() for p in (tmp_path / "seal").iterdir()}
    cert = _load_p12(identity.p12_path, identity.password).cert
    assert cert is not None
    serial = cert.certificate.serial_number

    again = ensure_dev_certificate(tmp_path, "http://elsewhere.example/pki/dev-ca.crl")

    assert again == identity
    assert {p: p.read_bytes() for p in (tmp_path / "seal").iterdir()} == first
    bundle = _load_p12(identity.p12_path, identity.password)
    assert bundle.cert is not None and bundle.cert.certificate.serial_number == serial
    for secret in (
        identity.p12_path,
        tmp_path / "seal" / "dev-seal.password",
        identity.ca_key_path,
    ):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not list((tmp_path / "seal").glob(".dev-*.*.*"))  # no temporary files left behind


def test_concurrent_first_use_makes_one_dev_certificate(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: ensure_dev_certificate(tmp_path, CRL_URL), range(4)))

    assert len(set(results)) == 1
    assert _load_p12(results[0].p12_path, results[0].password).key is not None


def test_dev_certificate_profile(tmp_path: Path) -> None:
    identity = ensure_dev_certificate(tmp_path, CRL_URL)
    bundle = _load_p12(identity.p12_path, identity.password)
    assert bundle.cert is not None and isinstance(bundle.key, rsa.RSAPrivateKey)
    seal = bundle.cert.certificate
    ca = x509.load_pem_x509_certificate(identity.ca_path.read_bytes())
    assert [c.certificate for c in bundle.additional_certs] == [ca]

    assert ca.subject == ca.issuer
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == DEV_CA_NAME
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign and not ca_usage.digital_signature
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > timedelta(days=3650)

    assert seal.issuer == ca.subject
    names = {a.oid: a.value for a in seal.subject}
    assert names == {
        NameOID.COMMON_NAME: DEV_SEAL_NAME,
        NameOID.ORGANIZATION_NAME: "SIA A.U. Holding (Klusaro)",
        NameOID.COUNTRY_NAME: "LV",
    }
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not seal.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = seal.not_valid_after_utc - seal.not_valid_before_utc
    assert timedelta(days=3 * 365) <= lifetime < timedelta(days=3 * 366)
    points = seal.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name or []] == [CRL_URL]


def test_the_dev_ca_publishes_a_current_signed_crl(tmp_path: Path) -> None:
    identity = ensure_dev_certificate(tmp_path, CRL_URL)
    ca = DevCA.load(identity)

    crl = ca.crl()

    assert crl.issuer == ca.certificate.subject and len(list(crl)) == 0
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert crl.next_update_utc is not None
    assert crl.last_update_utc <= datetime.now(UTC) < crl.next_update_utc
    assert crl.next_update_utc - datetime.now(UTC) > timedelta(days=6)
    assert ca.crl() is crl  # the same CRL for a day
    tomorrow = datetime.now(UTC) + timedelta(days=1, minutes=10)
    assert ca.crl(tomorrow).last_update_utc > crl.last_update_utc


def _old_dev_set(data_dir: Path) -> x509.Certificate:
    """The development set as it was made before the CA kept its key and published a CRL."""
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEV_CA_NAME)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEV_SEAL_NAME)]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1000))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = data_dir / "seal"
    folder.mkdir(parents=True)
    (folder / "dev-seal.password").write_text("old password\n")
    (folder / "dev-seal.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"old", key, seal, [ca], serialization.BestAvailableEncryption(b"old password")
        )
    )
    (folder / "dev-ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca


def test_an_old_dev_set_is_replaced_and_its_seals_still_verify(tmp_path: Path, pdf: bytes) -> None:
    old_ca = _old_dev_set(tmp_path)
    # sealed with the old set's key, as the service did before
    old_p12 = Sealer.from_settings(
        SealSettings(tmp_path / "seal" / "dev-seal.p12", "old password", tmp_path, None)
    )
    old_sealed = old_p12.seal(pdf, reason=REASON)

    identity = ensure_dev_certificate(tmp_path, CRL_URL)
    renewed = Sealer.from_settings(SealSettings(None, "", tmp_path, None, public_url="http://x"))

    assert identity.retired_roots == (old_ca,)
    assert identity.ca_key_path.is_file()
    new_ca = x509.load_pem_x509_certificate(identity.ca_path.read_bytes())
    assert new_ca != old_ca
    assert renewed.trust_roots == (new_ca, old_ca)
    assert inspect_seal(old_sealed, renewed.trust_roots).ok
    assert renewed.published_crl() is not None
    again = ensure_dev_certificate(tmp_path, CRL_URL)
    assert again == identity  # replaced once, then reused


def test_dev_sealer_uses_the_dev_certificate(sealer: Sealer, dev_dir: Path) -> None:
    ca = x509.load_pem_x509_certificate((dev_dir / "seal" / "dev-ca.pem").read_bytes())
    assert sealer.signer_name == DEV_SEAL_NAME
    assert sealer.trust_roots == (ca,)
    assert sealer.certificate.issuer == ca.subject
    crl = x509.load_der_x509_crl(sealer.published_crl() or b"")
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())


# --- sealing and inspecting --------------------------------------------------------------------


def test_sealed_pdf_validates(sealer: Sealer, pdf: bytes, sealed: bytes) -> None:
    report = inspect_seal(sealed, sealer.trust_roots)

    assert report.sealed and report.intact and report.trusted and report.covers_whole_file
    assert report.ok and report.problem is None
    assert report.signer == DEV_SEAL_NAME
    assert report.signed_at is not None and report.signed_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - report.signed_at) < timedelta(minutes=5)
    assert not report.timestamped and report.timestamp_at is None
    # a certification seal; without a TSA the evidence is B-B and lasts as long as the seal's
    # certificate, though the chain and the CA's CRL travel with it
    assert report.certified and report.level == "B-B"
    assert report.evidence_valid_until == sealer.certificate.not_valid_after_utc
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(sealed)))
    assert len(dss.crls) == 1 and len(list(dss.load_certs())) >= 2


def test_the_seal_states_the_time_it_is_given(sealer: Sealer, pdf: bytes) -> None:
    at = datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)

    report = inspect_seal(sealer.seal(pdf, reason=REASON, signed_at=at), sealer.trust_roots)

    assert report.signed_at == at


def test_seal_is_one_invisible_pades_signature_appended_to_the_input(
    pdf: bytes, sealed: bytes
) -> None:
    assert sealed.startswith(pdf)  # an incremental update: not one original byte rewritten
    sig = _signature_dict(sealed)
    assert sig.field_name == "DPA-Seal"
    assert sig.sig_object["/Filter"] == "/Adobe.PPKLite"
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.sig_object["/Reason"] == REASON
    assert sig.sig_object["/Location"] == "Riga, Latvia"
    assert sig.md_algorithm == "sha256"
    assert [float(v) for v in sig.sig_field["/Rect"]] == [0, 0, 0, 0]


def test_seal_leaves_the_document_metadata_alone(pdf: bytes, sealed: bytes) -> None:
    # PDF/A needs Info and XMP to agree; pyHanko would otherwise append itself to /Producer.
    before, after = PdfReader(io.BytesIO(pdf)), PdfReader(io.BytesIO(sealed))
    assert after.metadata == before.metadata
    # RSA keeps the document at PDF 1.7 (with the ESIC extension); a PDF/A-2 file must not
    # claim PDF 2.0, which pyHanko declares for ECDSA P-256 signers.
    assert after.root_object.get("/Version") == "/1.7"


def test_changing_one_signed_byte_breaks_the_seal(sealer: Sealer, sealed: bytes) -> None:
    at = sealed.index(b"Data Processing Agreement, page 3")
    tampered = sealed[:at] + b"d" + sealed[at + 1 :]

    report = inspect_seal(tampered, sealer.trust_roots)

    assert report.sealed and not report.intact and not report.trusted and not report.ok
    assert report.covers_whole_file  # the bytes were swapped, not added
    assert report.problem is not None and "changed" in report.problem


def test_bytes_appended_after_the_seal_are_reported(sealer: Sealer, sealed: bytes) -> None:
    report = inspect_seal(sealed + b"\n% appended later\n", sealer.trust_roots)

    assert report.sealed and report.intact and report.trusted
    assert not report.covers_whole_file and not report.ok
    assert report.problem is not None and "after the seal" in report.problem


def test_an_incremental_update_after_the_seal_is_reported(sealer: Sealer, sealed: bytes) -> None:
    writer = PdfWriter(io.BytesIO(sealed), incremental=True)
    writer.add_metadata({"/Title": "Edited after sealing"})
    out = io.BytesIO()
    writer.write(out)

    report = inspect_seal(out.getvalue(), sealer.trust_roots)

    assert report.sealed and report.intact and not report.covers_whole_file


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a pdf at all", b"%PDF-1.7\n" + bytes(range(256)) * 8, b"%PDF-1.4\n%%EOF\n"],
    ids=["empty", "text", "binary", "empty-pdf"],
)
def test_garbage_is_not_sealed_and_does_not_raise(sealer: Sealer, garbage: bytes) -> None:
    report = inspect_seal(garbage, sealer.trust_roots)

    assert not report.sealed and not report.intact and not report.trusted
    assert report.problem


def test_a_truncated_seal_does_not_raise(sealer: Sealer, sealed: bytes) -> None:
    report = inspect_seal(sealed[: len(sealed) - 2000], sealer.trust_roots)

    assert not report.ok and report.problem


def test_an_unsealed_pdf_is_not_sealed(sealer: Sealer, pdf: bytes) -> None:
    report = inspect_seal(pdf, sealer.trust_roots)

    assert not report.sealed and report.signer is None
    assert report.problem == "the document carries no seal"


def test_an_unrelated_ca_does_not_trust_the_seal(tmp_path: Path, sealed: bytes) -> None:
    other = ensure_dev_certificate(tmp_path, CRL_URL)
    other_ca = x509.load_pem_x509_certificate(other.ca_path.read_bytes())

    report = inspect_seal(sealed, [other_ca])

    assert report.sealed and report.intact and report.covers_whole_file
    assert not report.trusted and not report.ok
    assert report.signer == DEV_SEAL_NAME
    assert report.problem is not None and "not trusted" in report.problem


def test_no_trust_roots_trust_nothing(sealed: bytes) -> None:
    # An empty list must not fall back to the operating system's trust store.
    report = inspect_seal(sealed, [])

    assert report.intact and not report.trusted


def test_concurrent_seals_from_a_thread_pool(sealer: Sealer) -> None:
    docs = [make_pdf(pages=n) for n in range(1, 9)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda d: sealer.seal(d, reason=REASON), docs))
        reports = list(pool.map(lambda s: inspect_seal(s, sealer.trust_roots), results))

    for doc, out, report in zip(docs, results, reports, strict=True):
        assert out.startswith(doc)
        assert report.ok, report.problem


def test_sealing_an_already_sealed_field_fails_cleanly(sealer: Sealer, sealed: bytes) -> None:
    with pytest.raises(SealError):
        sealer.seal(sealed, reason=REASON)


def test_sealing_garbage_raises_seal_error(sealer: Sealer) -> None:
    with pytest.raises(SealError):
        sealer.seal(b"not a pdf", reason=REASON)


# --- a configured PKCS#12 ----------------------------------------------------------------------


def _make_p12(path: Path, password: str) -> x509.Certificate:
    """An RSA seal issued by its own CA, as a PKCS#12 with the chain; returns the CA."""
    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Qualified CA"))
        .issuer_name(name("Test Qualified CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("Klusaro production seal"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, [ca], serialization.BestAvailableEncryption(password.encode())
        )
    )
    return ca


def test_a_configured_pkcs12_is_used_instead_of_the_dev_one(
    tmp_path: Path, pdf: bytes, sealer: Sealer
) -> None:
    p12 = tmp_path / "production.p12"
    ca = _make_p12(p12, "correct horse")
    data_dir = tmp_path / "data"

    configured = Sealer.from_settings(SealSettings(p12, "correct horse", data_dir, None))
    out = configured.seal(pdf, reason=REASON)

    assert configured.signer_name == "Klusaro production seal"
    assert configured.trust_roots == (ca,)
    assert not (data_dir / "seal").exists()  # no development certificate was made
    report = inspect_seal(out, [ca])
    assert report.ok and report.signer == "Klusaro production seal"
    assert not inspect_seal(out, sealer.trust_roots).trusted


def test_an_ecdsa_pkcs12_works_but_warns(
    tmp_path: Path, pdf: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EC seal")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    p12 = tmp_path / "ec.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ec", key, cert, None, serialization.BestAvailableEncryption(b"pw")
        )
    )

    configured = Sealer.from_settings(SealSettings(p12, "pw", tmp_path, None))

    assert "PDF 2.0" in caplog.text
    assert configured.trust_roots == (cert,)  # a lone self-signed certificate anchors itself
    report = inspect_seal(configured.seal(pdf, reason=REASON), configured.trust_roots)
    assert report.ok and report.signer == "EC seal"


def test_a_wrong_pkcs12_password_is_a_seal_error(tmp_path: Path) -> None:
    p12 = tmp_path / "production.p12"
    _make_p12(p12, "correct horse")

    with pytest.raises(SealError, match="PKCS#12"):
        Sealer.from_settings(SealSettings(p12, "battery staple", tmp_path, None))
    with pytest.raises(SealError, match="PKCS#12"):
        Sealer.from_settings(SealSettings(tmp_path / "missing.p12", "", tmp_path, None))


# --- with a timestamp authority ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tsa() -> Iterator[LoopbackTSA]:
    with LoopbackTSA() as server:
        yield server


def _tsa_files(tsa: LoopbackTSA, folder: Path) -> tuple[Path, Path]:
    """(the TSA's roots as DPA_TSA_CA_PEM, its root's CRL as one of DPA_SEAL_CRL_FILES)"""
    folder.mkdir(parents=True, exist_ok=True)
    roots, crl = folder / "tsa-roots.pem", folder / "tsa-root.crl"
    roots.write_bytes(tsa.ca_certificate.public_bytes(serialization.Encoding.PEM))
    crl.write_bytes(tsa.crl_pem)
    return roots, crl


@pytest.fixture(scope="module")
def stamping(tsa: LoopbackTSA, dev_dir: Path) -> Sealer:
    roots, crl = _tsa_files(tsa, dev_dir / "tsa")
    return Sealer.from_settings(SealSettings(None, "", dev_dir, tsa.url, roots, crl_files=(crl,)))


def test_a_timestamped_seal_reaches_pades_b_lta(
    tsa: LoopbackTSA, stamping: Sealer, pdf: bytes
) -> None:
    stamping.seal(pdf, reason=REASON)  # the first seal also learns the TSA's certificates
    before = tsa.requests

    out = stamping.seal(pdf, reason=REASON)
    report = inspect_seal(out, stamping.trust_roots, timestamp_trust_roots=stamping.timestamp_roots)

    assert tsa.requests == before + 2  # the seal's timestamp and the document timestamp
    assert out.startswith(pdf)
    assert report.ok and report.problem is None and report.certified
    assert report.level == "B-LTA"
    assert report.timestamped and report.timestamp_at is not None
    assert report.timestamp_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - report.timestamp_at) < timedelta(minutes=1)
    assert report.signed_at == report.timestamp_at
    assert len(report.document_timestamps) == 1
    # the evidence rests on the document timestamp's TSA chain from now on
    assert report.evidence_valid_until == tsa.ca_certificate.not_valid_after_utc.replace(
        microsecond=0
    )
    reader = PdfFileReader(io.BytesIO(out))
    (stamp,) = reader.embedded_timestamp_signatures
    assert stamp.signed_revision == reader.xrefs.total_revisions - 1  # nothing follows it
    dss = DocumentSecurityStore.read_dss(reader)
    issuers = {
        asn1_crl.CertificateList.load(c.get_object().data).issuer.human_friendly for c in dss.crls
    }
    assert any("Development CA" in i for i in issuers) and any("TSA root" in i for i in issuers)


def test_without_the_tsa_revocation_data_a_seal_stays_b_t(
    tsa: LoopbackTSA, dev_dir: Path, pdf: bytes
) -> None:
    roots, _ = _tsa_files(tsa, dev_dir / "tsa-no-crl")
    sealer = Sealer.from_settings(SealSettings(None, "", dev_dir, tsa.url, roots))

    report = inspect_seal(
        sealer.seal(pdf, reason=REASON),
        sealer.trust_roots,
        timestamp_trust_roots=[tsa.ca_certificate],
    )

    assert report.ok and report.timestamped and report.level == "B-T"


def test_revocation_data_is_fetched_only_when_allowed(
    tsa: LoopbackTSA, dev_dir: Path, pdf: bytes
) -> None:
    roots, _ = _tsa_files(tsa, dev_dir / "tsa-fetch")
    fetching = Sealer.from_settings(
        SealSettings(None, "", dev_dir, tsa.url, roots, fetch_revocation=True)
    )
    before = tsa.crl_requests

    report = inspect_seal(
        fetching.seal(pdf, reason=REASON),
        fetching.trust_roots,
        timestamp_trust_roots=[tsa.ca_certificate],
    )

    assert tsa.crl_requests > before  # from the distribution point its certificate names
    assert report.ok and report.level == "B-LTA"


def test_a_timestamp_from_an_untrusted_tsa_proves_no_time(stamping: Sealer, pdf: bytes) -> None:
    out = stamping.seal(pdf, reason=REASON)

    # The TSA's root is not among the roots: the tokens are there but vouch for nothing.
    report = inspect_seal(out, stamping.trust_roots)

    assert report.ok and not report.timestamped and report.timestamp_at is None
    assert report.level == "B-B" and report.document_timestamps == ()


def test_a_tsa_without_its_roots_is_refused(tsa: LoopbackTSA, dev_dir: Path) -> None:
    with pytest.raises(SealError, match="DPA_TSA_CA_PEM"):
        Sealer.from_settings(SealSettings(None, "", dev_dir, tsa.url))


def test_an_unreadable_crl_file_is_refused(dev_dir: Path) -> None:
    junk = dev_dir / "junk.crl"
    junk.write_bytes(b"-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n")
    for files in ((junk,), (dev_dir / "missing.crl",)):
        with pytest.raises(SealError, match="CRL"):
            Sealer.from_settings(SealSettings(None, "", dev_dir, None, crl_files=files))


def test_an_unreachable_tsa_fails_the_seal(tsa: LoopbackTSA, dev_dir: Path, pdf: bytes) -> None:
    roots, crl = _tsa_files(tsa, dev_dir / "tsa-gone")
    with LoopbackTSA() as gone:
        url = gone.url
    sealer = Sealer.from_settings(SealSettings(None, "", dev_dir, url, roots, crl_files=(crl,)))

    with pytest.raises(SealError):
        sealer.seal(pdf, reason=REASON)
