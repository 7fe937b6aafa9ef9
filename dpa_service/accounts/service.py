"""Create, find and revoke API tokens. The secret is shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service.accounts.models import ROLES, ApiToken, User
from dpa_service.clock import utcnow
from dpa_service.errors import Forbidden
from dpa_service.text import describe_character, refused_character

TOKEN_PREFIX = "dpa_"


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    subject: str  # stable identity: "token:<id>" or "user:<id>"; four-eyes compares this
    name: str
    role: str
    email: str = ""

    @property
    def is_person(self) -> bool:
        """A staff user (logged in, or through a token made for them), not a bare token."""
        return self.subject.startswith("user:")

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        kind = self.subject.split(":", 1)[0]
        return f"{kind}:{self.email or self.name} ({self.role})"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def require_person(principal: Principal, doing: str) -> None:
    """Governance steps need a person, so that four-eyes compares people, not credentials."""
    if not principal.is_person:
        raise Forbidden(
            f"to {doing}, act as a person: log in to the web UI, or use an API token made for "
            "your user (dpa-service tokens create --user EMAIL)"
        )


def create_token(
    *, session: Session, role: str, name: str, user: User | None = None
) -> tuple[ApiToken, str]:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if user is not None and user.role != role:
        raise ValueError(f"{user.email} has the role {user.role}; their tokens have it too")
    if not name.strip() or len(name) > 200:
        raise ValueError("name must be 1-200 characters")
    if (char := refused_character(name.strip())) is not None:  # printed as the audit actor
        raise ValueError(f"the name contains {describe_character(char)}, which cannot be used")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
    token = ApiToken(
        name=name.strip(),
        role=role,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        user_id=user.id if user else None,
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
    if token.user_id is not None:
        user = session.get(User, token.user_id)
        if user is None or user.disabled_at is not None or user.role != token.role:
            return None
        return Principal(
            subject=f"user:{user.id}", name=user.name, role=token.role, email=user.email
        )
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
