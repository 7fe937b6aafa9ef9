"""The development seal: a CA and a seal certificate made once in the data folder when no
PKCS#12 is configured, so the whole signing path works out of the box (never for production)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import tempfile
from collections.abc import Iterator
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
