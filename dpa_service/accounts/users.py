"""Staff users: Argon2 passwords, lock-out after repeated failures, database-backed sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dpa_service.accounts.models import STAFF_ROLES, StaffSession, User
from dpa_service.accounts.service import Principal
from dpa_service.clock import utcnow

MIN_PASSWORD = 12
MAX_PASSWORD = 256
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """Input for a user that cannot be accepted; the message says why."""


class LoginRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LoggedIn:
    user: User
    secret: str  # goes into the cookie, never stored
    expires_at: datetime


def principal_of(user: User) -> Principal:
    return Principal(subject=f"user:{user.id}", name=user.name, role=user.role, email=user.email)


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(f"not a valid e-mail address: {exc}") from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password may have at most {MAX_PASSWORD} characters")


def create_user(*, session: Session, email: str, name: str, role: str, password: str) -> User:
    if role not in STAFF_ROLES:
        raise UserError(f"role must be one of {', '.join(STAFF_ROLES)}")
    name = name.strip()
    if not name or len(name) > 200:
        raise UserError("the name must have 1-200 characters")
    email = normalise_email(email)
    check_password(password)
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise UserError(f"a user with the e-mail {email} exists already")
    user = User(email=email, name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    check_password(password)
    user.password_hash = _hasher.hash(password)
    end_sessions(session=session, user=user)


def unlock(*, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def find_user(*, session: Session, email: str) -> User | None:
    try:
        email = normalise_email(email)
    except UserError:
        return None
    return session.scalar(select(User).where(User.email == email))


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def login(
    *,
    session: Session,
    email: str,
    password: str,
    max_failures: int,
    lockout: timedelta,
    lifetime: timedelta,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> LoggedIn:
    """Check the password and open a session; the caller commits either way (failures count)."""
    now = now or utcnow()
    wrong = LoginRefused("The e-mail address or the password is wrong.")
    user = find_user(session=session, email=email) if len(password) <= MAX_PASSWORD else None
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASH, password[:MAX_PASSWORD])
        except VerificationError:
            pass
        raise wrong
    if user.disabled_at is not None:
        try:  # as long as a wrong password takes
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        raise wrong
    if user.locked_until is not None and user.locked_until > now:
        raise LoginRefused(
            "This account is locked after too many failed logins. "
            f"Try again after {user.locked_until:%H:%M} UTC or ask an admin to unlock it."
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        # Counted in the database, so parallel guesses each count.
        failures = session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        if failures >= max_failures:
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(locked_until=now + lockout, failed_logins=0)
                .execution_options(synchronize_session=False)
            )
            raise LoginRefused(
                f"Too many failed logins: this account is locked for {lockout.seconds // 60} minutes."
            ) from None
        raise wrong from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    secret = secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(
        StaffSession(
            user_id=user.id,
            secret_hash=_hash(secret),
            expires_at=expires,
            ip=ip,
            user_agent=(user_agent or "")[:400] or None,
        )
    )
    session.flush()
    return LoggedIn(user=user, secret=secret, expires_at=expires)


def user_for_session(*, session: Session, secret: str, now: datetime | None = None) -> User | None:
    if not secret or len(secret) > 100:
        return None
    now = now or utcnow()
    row = session.scalar(select(StaffSession).where(StaffSession.secret_hash == _hash(secret)))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return user


def logout(*, session: Session, secret: str) -> None:
    row = session.scalar(select(StaffSession).where(StaffSession.secret_hash == _hash(secret)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()


def end_sessions(*, session: Session, user: User) -> None:
    for row in session.scalars(
        select(StaffSession).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
    ):
        row.ended_at = utcnow()
