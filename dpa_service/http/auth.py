"""Who is calling: an API token on /api, a staff session cookie on /staff; and the role guard.

One middleware sets `request.user` to a `Principal` for both, so one guard, `roles(...)`, decides
for API routes and staff pages alike. A staff page without a valid session sends the browser to
the log-in page and back; an API call without a valid token is a 401.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from dpa_service.accounts import service as tokens
from dpa_service.accounts import users
from dpa_service.accounts.service import Principal

STAFF_COOKIE = "dpa_staff"
STAFF_HOME = "/staff/"
# No token or staff session on these: liveness, the schema, signer links (their own token),
# verification, static files, the staff log-in, the public subprocessor list, objection links,
# the development CA's CRL.
PUBLIC_PATHS = [
    "^/health",
    "^/ready",
    "^/metrics",
    "^/schema",
    "^/sign/",
    "^/verify",
    "^/static/",
    "^/api/v1/verify",
    "^/staff/login",
    "^/subprocessors",
    "^/objections/",
    "^/pki/",
]


class LoginRequired(Exception):
    """No valid staff session: the browser is sent to the log-in page, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Authentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        factory = connection.app.state.session_factory
        # The look-ups run in a worker thread: on the event loop, a database that is slow or
        # hangs would stop every request of this replica, /health and /ready too.
        if connection.url.path.startswith("/staff"):
            secret = connection.cookies.get(STAFF_COOKIE, "")

            def staff_user() -> Principal | None:
                with factory() as session:
                    user = users.user_for_session(session=session, secret=secret)
                    return users.principal_of(user) if user is not None else None

            principal = await anyio.to_thread.run_sync(staff_user) if secret else None
            if principal is None:
                path = connection.url.path
                is_get = connection.scope.get("method", "GET") == "GET"
                raise LoginRequired(path if is_get else STAFF_HOME)
            return AuthenticationResult(user=principal, auth=None)
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("an API token is required: Authorization: Bearer <token>")

        def token_holder() -> Principal | None:
            with factory() as session:
                return tokens.authenticate(session=session, secret=secret.strip())

        principal = await anyio.to_thread.run_sync(token_holder)
        if principal is None:
            raise NotAuthorizedException("the API token is not valid")
        return AuthenticationResult(user=principal, auth=None)


def roles(*allowed: str) -> Any:
    """A guard letting only callers with one of these roles through (403 otherwise)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        if principal is None:
            if connection.scope.get("method") == "OPTIONS":
                return  # what a route allows is no secret; the middleware lets OPTIONS through
            raise NotAuthorizedException("authentication is required")
        if not isinstance(principal, Principal) or principal.role not in allowed:
            role = getattr(principal, "role", "none")
            raise PermissionDeniedException(
                f"Your role ({role}) may not do this; it needs: {', '.join(allowed)}."
            )

    guard.__name__ = f"roles_{'_'.join(allowed)}"
    return guard


def current_user(request: Request[Any, Any, Any]) -> Principal:
    """The `user` dependency: the authenticated caller (routes behind the middleware only)."""
    principal = request.user
    assert isinstance(principal, Principal)
    return principal
