"""Create, find and revoke API tokens. The secret is shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service.accounts.models import ROLES, ApiToken
from dpa_service.db import utcnow

TOKEN_PREFIX = "dpa_"


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    subject: str  # stable identity: "token:<id>" or "user:<id>"; four-eyes compares this
    name: str
    role: str
    email: str = ""

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        kind = self.subject.split(":", 1)[0]
        return f"{kind}:{self.email or self.name} ({self.role})"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, session: Session, role: str, name: str) -> tuple[ApiToken, str]:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 200:
        raise ValueError("name must be 1-200 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    token = ApiToken(
        name=name.strip(), role=role, token_hash=hash_token(secret), prefix=secret[:12]
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate(*, session: Session, secret: str) -> Principal | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return Principal(subject=f"token:{token.id}", name=token.name, role=token.role)


def list_tokens(*, session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


def revoke_token(*, session: Session, token_id: str) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return True
