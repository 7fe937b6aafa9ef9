"""Staff users: Argon2 passwords, a slow-down after repeated failures, database-backed sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service.accounts.models import STAFF_ROLES, LoginThrottle, StaffSession, User
from dpa_service.accounts.service import Principal
from dpa_service.clock import utcnow
from dpa_service.db import savepoint
from dpa_service.text import describe_character, refused_character

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
    if (char := refused_character(name)) is not None:
        raise UserError(f"the name contains {describe_character(char)}, which cannot be used")
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


def unlock(*, session: Session, user: User) -> None:
    """Lift every slow-down of the user's address, from every client address."""
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.email == user.email)
        .execution_options(synchronize_session=False)
    )
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


REFUSED = (
    "The e-mail address or the password is wrong, or there were too many attempts from this "
    "address: wait a few minutes and try again."
)


def _throttle_email(email: str) -> str:
    """How a typed address is counted: normalised when valid, as typed (trimmed) when not."""
    try:
        return normalise_email(email)[:320]
    except UserError:
        return email.strip().lower()[:320]


def _count_failure(
    session: Session, email: str, ip: str, now: datetime, max_failures: int, longest: timedelta
) -> None:
    """One more failure for (e-mail, address); from `max_failures` on, that pair waits 1, 2,
    4 … minutes (at most `longest`) before it may try again. Counted in the database, so
    parallel guesses each count."""
    where = (LoginThrottle.email == email, LoginThrottle.ip == ip)
    failures = session.execute(
        update(LoginThrottle)
        .where(*where)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if failures is None:
        try:
            with savepoint(session):
                session.add(LoginThrottle(email=email, ip=ip, failures=1, last_failure_at=now))
            failures = 1
        except IntegrityError:  # a parallel failure made the row first
            _count_failure(session, email, ip, now, max_failures, longest)
            return
    if failures >= max_failures:
        wait = min(timedelta(minutes=2 ** (failures - max_failures)), longest)
        session.execute(
            update(LoginThrottle)
            .where(*where)
            .values(blocked_until=now + wait)
            .execution_options(synchronize_session=False)
        )


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
    """Check the password and open a session; the caller commits either way (failures count).

    Every refusal — unknown address, wrong password, disabled account, too many attempts — is
    the same message after the same work (one Argon2 verification), so an outsider learns
    nothing about which addresses are staff. Failures slow down one e-mail from one client
    address (see `_count_failure`), never the account everywhere.
    """
    now = now or utcnow()
    counted_as = _throttle_email(email)
    address = (ip or "unknown")[:64]
    blocked_until = session.scalar(
        select(LoginThrottle.blocked_until).where(
            LoginThrottle.email == counted_as, LoginThrottle.ip == address
        )
    )
    blocked = blocked_until is not None and blocked_until > now
    user = (
        find_user(session=session, email=email)
        if not blocked and len(password) <= MAX_PASSWORD
        else None
    )
    usable = user is not None and user.disabled_at is None
    try:
        _hasher.verify(
            user.password_hash if usable and user else _DUMMY_HASH, password[:MAX_PASSWORD]
        )
        right = usable
    except (VerificationError, InvalidHashError):
        right = False
    if not right or user is None:
        if not blocked:  # a try that was not even checked does not count again
            _count_failure(session, counted_as, address, now, max_failures, lockout)
        raise LoginRefused(REFUSED)
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.email == counted_as, LoginThrottle.ip == address)
        .execution_options(synchronize_session=False)
    )
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


@dataclass(frozen=True)
class Slowdown:
    """A staff member's address that failed too often: where from, how often, until when."""

    email: str
    ip: str
    failures: int
    blocked_until: datetime


def slowdowns(*, session: Session, now: datetime | None = None) -> dict[str, list[Slowdown]]:
    """Staff e-mail addresses currently slowed down, by e-mail (for the admin's user list)."""
    now = now or utcnow()
    rows = session.execute(
        select(LoginThrottle)
        .join(User, User.email == LoginThrottle.email)
        .where(LoginThrottle.blocked_until > now)
        .order_by(LoginThrottle.blocked_until.desc())
    ).scalars()
    found: dict[str, list[Slowdown]] = {}
    for row in rows:
        assert row.blocked_until is not None
        found.setdefault(row.email, []).append(
            Slowdown(row.email, row.ip, row.failures, row.blocked_until)
        )
    return found


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
