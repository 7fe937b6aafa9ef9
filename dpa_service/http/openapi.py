"""The OpenAPI document says every answer an operation can give, not only its success.

Litestar documents the success and, for operations with parameters, a 400. The error answers
come from our own layers, so they are added here from what those layers do, once, when the app
is made (`complete_openapi`):

- authentication (http/auth.py): 401 without a valid token, 403 when the token's role may not
  use the operation; operations on PUBLIC_PATHS need no token (`security: []`);
- a path naming something that does not exist: 404;
- a body or query that does not fit (http/errors.on_validation_error, and the domain's own
  checks): 422 — and 400 for a body that is no JSON at all or nested too deeply;
- a state change the current state does not allow, or an Idempotency-Key reused with another
  body: 409;
- an upload over the size limit: 413;
- the rate limit on the public routes: 429 with Retry-After;
- the database, archive or converter unavailable for a moment: 503 with Retry-After.

Every error body is a `Problem`: `{"status_code": …, "detail": …}` (and `extra` with the
validation errors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    Schema,
)

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["status_code", "detail"],
    properties={
        "status_code": Schema(type=OpenAPIType.INTEGER, description="the HTTP status again"),
        "detail": Schema(type=OpenAPIType.STRING, description="what went wrong, for a person"),
        "extra": Schema(description="validation errors: where and what"),
    },
    description="An error: the status and a sentence saying what went wrong.",
)

_RETRY_AFTER: dict[str, OpenAPIHeader | Reference] = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description="seconds to wait before trying again"
    )
}
_DESCRIPTIONS = {
    400: "The body is not JSON, or is nested too deeply.",
    401: "No valid API token (Authorization: Bearer <token>).",
    403: "The token's role may not use this operation.",
    404: "Nothing with this id or number (or not visible to this token).",
    409: "The current state does not allow this (or the Idempotency-Key was used with another "
    "request).",
    413: "The upload is larger than allowed.",
    422: "The request does not fit: the detail names the first problem.",
    429: "Too many requests from this address; wait Retry-After seconds.",
    503: "The database, archive or converter is unavailable for a moment; try again after "
    "Retry-After seconds.",
}
_METHODS = ("get", "put", "post", "delete", "patch")
_CHANGES = ("put", "post", "delete", "patch")


def _operations(item: PathItem) -> Iterable[tuple[str, Operation]]:
    for method in _METHODS:
        operation = getattr(item, method, None)
        if operation is not None:
            yield method, operation


def _statuses(
    path: str, method: str, operation: Operation, public: bool, limited: bool
) -> set[int]:
    statuses = {503}
    if not public:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    has_body = operation.request_body is not None
    has_query = any(
        not isinstance(p, Reference) and p.param_in == "query" for p in operation.parameters or []
    )
    if has_body or has_query or "{" in path:
        statuses.add(422)
    if has_body:
        statuses.add(400)
        body = operation.request_body
        content = getattr(body, "content", None) or {}
        if "multipart/form-data" in content:
            statuses.add(413)
    if method in _CHANGES:
        statuses.add(409)
    if limited:
        statuses.add(429)
    return statuses


def complete_openapi(
    schema: OpenAPI, *, public_paths: Iterable[str], limited_prefixes: Iterable[str]
) -> OpenAPI:
    """Add the error answers and the public operations' `security: []` to `schema` (in place)."""
    public = [re.compile(p) for p in public_paths]
    limited = tuple(limited_prefixes)
    components = schema.components
    if components is not None:
        components.schemas = {**(components.schemas or {}), "Problem": PROBLEM}
    problem = Reference(ref="#/components/schemas/Problem")
    for path, item in (schema.paths or {}).items():
        is_public = any(p.match(path) for p in public)
        for method, operation in _operations(item):
            if is_public:
                operation.security = []
            responses: dict[str, Any] = dict(operation.responses or {})
            for status in sorted(
                _statuses(path, method, operation, is_public, path.startswith(limited))
            ):
                if str(status) in responses and status != 400:
                    continue
                responses[str(status)] = OpenAPIResponse(
                    description=_DESCRIPTIONS[status],
                    content={"application/json": OpenAPIMediaType(schema=problem)},
                    headers=_RETRY_AFTER if status in (429, 503) else None,
                )
            operation.responses = responses
    return schema
