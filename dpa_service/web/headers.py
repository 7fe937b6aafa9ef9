"""Security headers on every response: pages, the API, static files, and the router's own 404s
and 405s (a `before_send` hook runs for every response the app sends, routed or not)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.types import Message, Scope

NO_STORE_PREFIXES = ("/sign/", "/staff", "/objections/")
HSTS = b"max-age=63072000; includeSubDomains"


def _allowed_methods(scope: Scope) -> str | None:
    """Every method the path has. Litestar's own OPTIONS answer names only the methods of the
    first handlers registered for a path (GET missing beside POST, say)."""
    handler = scope.get("route_handler")
    app = scope.get("app")
    if handler is None or app is None:
        return None
    methods: set[str] = set()
    for path in getattr(handler, "paths", ()):
        methods |= set(app.route_handler_method_map.get(path, {}))
    return ", ".join(sorted(methods)) if methods else None


def security_headers(
    frame_ancestors: str, *, https: bool
) -> Callable[[Message, Scope], Awaitable[None]]:
    """Build the hook; `frame_ancestors` are the Klusaro origins that may embed signing, and
    `https` (DPA_PUBLIC_URL is https) turns on HSTS."""
    embed = " ".join(["'self'", *frame_ancestors.split()])

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path: str = scope.get("path", "")
        ancestors = embed if path.startswith("/sign/") else "'self'"
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; object-src 'self'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {ancestors}"
        )
        extra = [
            (b"content-security-policy", csp.encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if https:
            extra.append((b"strict-transport-security", HSTS))
        if path.startswith(NO_STORE_PREFIXES):
            # Tokens in URLs, personal data, staff work: never kept in a cache.
            extra.append((b"cache-control", b"no-store"))
        headers: list[Any] = list(message.get("headers", []))
        if scope.get("method") == "OPTIONS" and (allow := _allowed_methods(scope)):
            headers = [(k, v) for k, v in headers if bytes(k).lower() != b"allow"]
            headers.append((b"allow", allow.encode()))
        names = {bytes(k).lower() for k, _ in headers}
        headers += [(k, v) for k, v in extra if k not in names]
        message["headers"] = headers  # type: ignore[typeddict-unknown-key]

    return add_headers


async def no_body_for_head(message: Message, scope: Scope) -> None:
    """A HEAD answer carries the GET answer's headers (length, ETag, SHA-256) and no body:
    the PDF routes answer HEAD by running their GET (same checks, same headers)."""
    if scope.get("method") == "HEAD" and message["type"] == "http.response.body":
        message["body"] = b""  # type: ignore[typeddict-unknown-key]
