"""The development seal: a CA and a seal certificate made once in the data folder when no
PKCS#12 is configured, so the whole signing path works out of the box (never for production).

The CA keeps its key so that it can publish a CRL (served at DEV_CRL_PATH and embedded in
every seal's validation data), which is what lets a development seal reach PAdES B-LT; the seal
certificate names that CRL. A set made before the CA published CRLs is replaced by a new one,
and its CA stays a trust root, so the seals it made still verify."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

DEV_CA_NAME = "dpa-service Development CA (not for production)"
DEV_SEAL_NAME = "dpa-service development seal"
DEV_ORGANIZATION = "SIA A.U. Holding (Klusaro)"
DEV_COUNTRY = "LV"
# Where the service publishes the development CA's CRL (under DPA_PUBLIC_URL).
DEV_CRL_PATH = "/pki/dev-ca.crl"
# A CRL is re-issued once a day and says it is good for a week: a validator that reads the one
# embedded in a seal, or fetches it, sees current revocation data either way.
CRL_REISSUE_AFTER = timedelta(days=1)
CRL_VALIDITY = timedelta(days=7)


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


def _dev_chain(
    crl_url: str,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh CA and a seal certificate it issued: (seal key, seal, CA key, CA).

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
    # No extendedKeyUsage: RFC 5280 then allows any purpose, which pyHanko, Acrobat and NSS
    # (pdfsig) accept; documentSigning (RFC 9336) is still missing from some readers' lists.
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
        # Where revocation data for it is published: without it a validator cannot tell which
        # CRL answers for this certificate, and the seal cannot reach B-LT.
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return seal_key, seal_cert, ca_key, ca_cert


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


@dataclass(frozen=True)
class DevIdentity:
    """The development seal's files, and the CAs of the sets it replaced."""

    p12_path: Path
    password: str
    ca_path: Path
    ca_key_path: Path
    retired_roots: tuple[x509.Certificate, ...]


def _names_a_crl(p12_path: Path, password: str) -> bool:
    bundle = pkcs12.load_pkcs12(p12_path.read_bytes(), password.encode())
    if bundle.cert is None:
        return False
    try:
        bundle.cert.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except x509.ExtensionNotFound:
        return False
    return True


def _retire(seal_dir: Path, ca_path: Path) -> None:
    """Keep an old set's CA as a trust root (retired-ca-<fingerprint>.pem) before replacing it."""
    pem = ca_path.read_bytes()
    fingerprint = hashlib.sha256(pem).hexdigest()[:16]
    _write_atomically(seal_dir / f"retired-ca-{fingerprint}.pem", pem, 0o644)


def ensure_dev_certificate(data_dir: Path, crl_url: str) -> DevIdentity:
    """Create the development seal once under data_dir/seal, naming `crl_url` as its CRL.

    A complete set is reused as it is (its CRL URL too, even if the public URL changed since:
    the CRL travels inside every seal). A set without the CA's key or whose seal certificate
    names no CRL (made before the CA published CRLs) cannot give B-LT seals: it is replaced,
    and its CA kept as retired-ca-*.pem, which stays among the trust roots.
    """
    seal_dir = data_dir / "seal"
    seal_dir.mkdir(parents=True, exist_ok=True)
    p12_path = seal_dir / "dev-seal.p12"
    password_path = seal_dir / "dev-seal.password"
    ca_path = seal_dir / "dev-ca.pem"
    ca_key_path = seal_dir / "dev-ca.key"
    with _locked(seal_dir / ".dev-seal.lock"):
        complete = all(p.is_file() for p in (p12_path, password_path, ca_path, ca_key_path))
        if complete:
            password = password_path.read_text(encoding="utf-8").strip()
            complete = _names_a_crl(p12_path, password)
        if not complete:
            if ca_path.is_file() and not ca_key_path.is_file():
                _retire(seal_dir, ca_path)  # an older set: its seals must still verify
            key, cert, ca_key, ca_cert = _dev_chain(crl_url)
            password = secrets.token_urlsafe(32)
            p12 = pkcs12.serialize_key_and_certificates(
                name=DEV_SEAL_NAME.encode(),
                key=key,
                cert=cert,
                cas=[ca_cert],
                encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
            )
            ca_key_pem = ca_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(password.encode()),
            )
            # The CA key goes last: the set counts as present only when all four files exist
            # and the seal names a CRL, so a crash part-way leaves something regenerated whole
            # (the CA of a half-written set has no key yet and is retired harmlessly).
            _write_atomically(password_path, password.encode() + b"\n", 0o600)
            _write_atomically(p12_path, p12, 0o600)
            _write_atomically(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
            _write_atomically(ca_key_path, ca_key_pem, 0o600)
        retired = tuple(
            x509.load_pem_x509_certificate(p.read_bytes())
            for p in sorted(seal_dir.glob("retired-ca-*.pem"))
        )
    return DevIdentity(p12_path, password, ca_path, ca_key_path, retired)


class DevCA:
    """The development CA, issuing its (empty) CRL; safe to share between threads."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self.certificate = certificate
        self._key = key
        self._lock = threading.Lock()
        self._crl: x509.CertificateRevocationList | None = None

    @classmethod
    def load(cls, identity: DevIdentity) -> DevCA:
        key = serialization.load_pem_private_key(
            identity.ca_key_path.read_bytes(), identity.password.encode()
        )
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(key, x509.load_pem_x509_certificate(identity.ca_path.read_bytes()))

    def crl(self, now: datetime | None = None) -> x509.CertificateRevocationList:
        """The current CRL: issued again once a day, valid for a week. The development CA
        never revokes, so it lists nothing; what matters is that it is signed and current."""
        now = now or datetime.now(UTC)
        with self._lock:
            crl = self._crl
            if crl is None or now - crl.last_update_utc >= CRL_REISSUE_AFTER:
                ski = self.certificate.extensions.get_extension_for_class(
                    x509.SubjectKeyIdentifier
                ).value
                crl = (
                    x509.CertificateRevocationListBuilder()
                    .issuer_name(self.certificate.subject)
                    .last_update(now - timedelta(minutes=5))  # a lagging verifier's clock
                    .next_update(now + CRL_VALIDITY)
                    .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
                    .add_extension(
                        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                        critical=False,
                    )
                    .sign(self._key, hashes.SHA256())
                )
                self._crl = crl
            return crl
