"""Endpoint secrets (stored encrypted with a key derived from DPA_SECRET_KEY) and the signature
every delivery carries: `X-DPA-Signature: v1=HMAC-SHA256(secret, "<timestamp>.<body>")`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet

if TYPE_CHECKING:
    pass


SECRET_PREFIX = "whsec_"


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"dpa-service webhook secrets\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_secret(secret: str, secret_key: str) -> str:
    """The endpoint secret encrypted with a key derived from DPA_SECRET_KEY."""
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def open_secret(sealed: str, secret_key: str) -> str:
    return _fernet(secret_key).decrypt(sealed.encode()).decode()


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-DPA-Signature value: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"
