"""What a request says about its sender, as recorded with a signature, a log-in or an objection."""

from __future__ import annotations

from typing import Any

from litestar import Request


def client_of(request: Request[Any, Any, Any]) -> tuple[str | None, str | None]:
    """The client's address (behind the trusted proxy, the forwarded one) and user agent."""
    ip = request.client.host if request.client else None
    return ip, request.headers.get("user-agent")
