"""Security headers on every response (an ASGI middleware, so static files get them too)."""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def security_headers(frame_ancestors: str) -> Any:
    """Build the middleware; `frame_ancestors` are the Klusaro origins that may embed signing."""
    embed = " ".join(["'self'", *frame_ancestors.split()])

    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
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
            if path.startswith("/sign/"):
                extra.append((b"cache-control", b"no-store"))

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    names = {k.lower() for k, _ in message.get("headers", [])}
                    headers = list(message.get("headers", []))
                    headers += [(k, v) for k, v in extra if k not in names]
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, send_with_headers)

        return wrapped

    return middleware
