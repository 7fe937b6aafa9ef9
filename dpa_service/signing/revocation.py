"""Revocation data for the seal's and the TSA's certificates: CRL files an operator keeps
current (DPA_SEAL_CRL_FILES), read when they are needed, in the two libraries that use them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from cryptography import x509
from cryptography.hazmat.primitives import serialization

log = logging.getLogger(__name__)


class RevocationFileError(ValueError):
    """A configured CRL file cannot be read or is not a CRL."""


def to_asn1_crl(crl: x509.CertificateRevocationList) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))


def read_crl_file(path: Path) -> list[asn1_crl.CertificateList]:
    """The CRL(s) in a DER file or a PEM file (which may hold several)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RevocationFileError(f"cannot read the CRL file {path}: {exc}") from exc
    try:
        if pem.detect(data):
            blocks = [
                der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "X509 CRL"
            ]
        else:
            blocks = [data]
        crls = [asn1_crl.CertificateList.load(der) for der in blocks]
        for crl in crls:
            crl.native  # noqa: B018 - parse it all now, not when a validator trips over it
    except (ValueError, TypeError) as exc:
        raise RevocationFileError(f"{path} is not a CRL (DER or PEM): {exc}") from exc
    if not crls:
        raise RevocationFileError(f"{path} holds no 'X509 CRL' PEM block")
    return crls


def read_crl_files(paths: Iterable[Path]) -> list[asn1_crl.CertificateList]:
    """Every CRL in `paths`; a file that cannot be used is logged and skipped, so a failed
    refresh costs the level of the next seals (reported by verification), not the seals."""
    crls: list[asn1_crl.CertificateList] = []
    for path in paths:
        try:
            crls += read_crl_file(path)
        except RevocationFileError as exc:
            log.error("%s; seals made now lack that revocation data", exc)
    return crls


def parse_paths(value: str) -> tuple[Path, ...]:
    """DPA_SEAL_CRL_FILES: paths separated by commas or whitespace."""
    return tuple(Path(p) for p in value.replace(",", " ").split())


def check_files(paths: Sequence[Path]) -> None:
    """Refuse at start what can never work: a configured CRL file that cannot be read now."""
    for path in paths:
        read_crl_file(path)
