"""Every request gets a request id and one log line; `/metrics` serves this replica's series.

The id is the caller's `X-Request-ID` when it is a plain token, or a new one; it is answered in
`X-Request-ID`, set for every log line the request writes, and stored with the background work
the request queues, so the jobs that do that work log it too. Signer and objection tokens in
paths are masked: they are bearer secrets kept only as hashes.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from litestar import Response, get
from litestar._asgi.utils import wrap_in_exception_handler
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from dpa_service.log_context import accepted_request_id, new_request_id, request_id_bound
from dpa_service.metrics import HTTP_REQUESTS

log = logging.getLogger("dpa_service.access")

_SECRET_IN_PATH = re.compile(r"/(sign|objections)/[^/\s?]+")


def mask_secrets(path: str) -> str:
    return _SECRET_IN_PATH.sub(r"/\1/***", path)


def request_ids(app: ASGIApp) -> ASGIApp:
    """ASGI middleware (outermost): request id, `X-Request-ID`, one access line, a count."""
    # An error raised by a middleware inside this one (the token check's 401, the limiter's
    # 429) is turned into its answer here, through `send_with_id`: left to Litestar's outer
    # handler, it was answered without the id and logged and counted as a 500.
    app = wrap_in_exception_handler(app)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = accepted_request_id(given) or new_request_id()
        started = time.monotonic()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        with request_id_bound(request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                method = scope.get("method", "")
                HTTP_REQUESTS.labels(method, str(status)).inc()
                client = scope.get("client")
                log.info(
                    "%s %s %d",
                    method,
                    mask_secrets(scope.get("path", "")),
                    status,
                    extra={
                        "method": method,
                        "path": mask_secrets(scope.get("path", "")),
                        "status": status,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                        "client": client[0] if client else None,
                    },
                )

    return middleware


@get("/metrics", tags=["system"], exclude_from_auth=True, include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    """Prometheus text: this process's counters and histograms, and its scrape-time figures
    (converter pool, work waiting per task, archive pending)."""
    body = generate_latest(REGISTRY)
    registry: Any = state.get("metrics_registry")
    if registry is not None:
        import anyio.to_thread

        body += await anyio.to_thread.run_sync(generate_latest, registry)  # reads the database
    return Response(body, media_type=CONTENT_TYPE_LATEST)
