"""Signer links: the token's hash (the only thing stored), issuing a link, withdrawing links.

A token is 256 bits from `secrets`; only its SHA-256 is kept, so a link can be checked and
withdrawn but never shown again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dpa_service.agreements.models import AgreementVersion
from dpa_service.signing.models import SigningLink


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_link(
    *,
    session: Session,
    version: AgreementVersion,
    counterparty_id: str,
    kind: str,
    created_by: str,
    expires_at: datetime,
    require_code: bool = False,
    used_at: datetime | None = None,
) -> tuple[SigningLink, str]:
    """A new link to `version`; returns it and its secret (shown once, never stored).

    `kind` is "email", "embedded" or "copy"; a copy link is born used (`used_at`): it opens
    the completion page and the download, never the signing form.
    """
    secret = secrets.token_urlsafe(32)  # 256 bits
    link = SigningLink(
        agreement_id=version.agreement_id,
        version_id=version.id,
        counterparty_id=counterparty_id,
        token_hash=token_hash(secret),
        kind=kind,
        require_code=require_code,
        created_by=created_by,
        expires_at=expires_at,
        used_at=used_at,
    )
    session.add(link)
    session.flush()
    return link, secret


def find_link(*, session: Session, secret: str) -> SigningLink | None:
    if not secret or len(secret) > 100:
        return None
    return session.scalar(select(SigningLink).where(SigningLink.token_hash == token_hash(secret)))


def revoke_links(session: Session, version_id: str, now: datetime, keep: str | None = None) -> None:
    """Withdraw the version's links (but `keep`, the one the signer just used to decline)."""
    session.execute(
        update(SigningLink)
        .where(
            SigningLink.version_id == version_id,
            SigningLink.revoked_at.is_(None),
            SigningLink.id != (keep or ""),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
