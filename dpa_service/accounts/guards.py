"""API authentication (bearer token) and role guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from dpa_service.accounts import service
from dpa_service.accounts.service import Principal


class TokenAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("an API token is required: Authorization: Bearer <token>")
        factory = connection.app.state.session_factory
        with factory() as session:
            principal = service.authenticate(session=session, secret=secret.strip())
        if principal is None:
            raise NotAuthorizedException("the API token is not valid")
        return AuthenticationResult(user=principal, auth=None)


def roles(*allowed: str) -> Any:
    """A guard letting only tokens with one of these roles through (403 otherwise)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in allowed:
            role = getattr(principal, "role", "none")
            raise PermissionDeniedException(
                f"role {role!r} may not do this; allowed: {', '.join(allowed)}"
            )

    guard.__name__ = f"roles_{'_'.join(allowed)}"
    return guard
