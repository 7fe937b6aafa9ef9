"""Certificates in the two libraries that handle them: cryptography (pyca) and asn1crypto."""

from __future__ import annotations

from typing import TypeAlias

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

AnyCertificate: TypeAlias = x509.Certificate | asn1_x509.Certificate


def to_asn1(cert: AnyCertificate) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def to_pyca(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def common_name(cert: asn1_x509.Certificate) -> str:
    cn = cert.subject.native.get("common_name")
    if isinstance(cn, list):  # a subject may repeat CN; the most specific comes last
        cn = cn[-1]
    return str(cn) if cn else cert.subject.human_friendly
