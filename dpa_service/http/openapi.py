"""The OpenAPI document says every answer an operation can give, not only its success.

Litestar documents the success and, for operations with parameters, a 400. The error answers
come from our own layers, so they are added here from what those layers do, once, when the app
is made (`complete_openapi`):

- authentication (http/auth.py): 401 without a valid token, 403 when the token's role may not
  use the operation; operations on PUBLIC_PATHS need no token (`security: []`);
- a path naming something that does not exist: 404;
- a body or query that does not fit (http/errors.on_validation_error, and the domain's own
  checks): 422 — and 400 for a body that is no JSON at all or nested too deeply;
- a state change the current state does not allow, or a request racing another one with the same
  Idempotency-Key: 409 (an Idempotency-Key reused for a different request: 422);
- an upload over the size limit: 413;
- the rate limit on the public routes: 429 with Retry-After;
- the database, archive or converter unavailable for a moment: 503 with Retry-After.

Every error body is a `Problem`: `{"status_code": …, "detail": …}` (and `extra` with the
validation errors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import pycountry
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    Schema,
)

from dpa_service.counterparties.schemas import COUNTRY_CODE, LINE
from dpa_service.idempotency.service import KEY_SHAPE as IDEMPOTENCY_KEY_SHAPE
from dpa_service.subprocessors.schemas import PLACE
from dpa_service.text import END, SAID, printable_class

IDEMPOTENCY_HEADER = "Idempotency-Key"

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
    409: "The current state does not allow this (or another request with this Idempotency-Key "
    "finished first: send it again for its answer).",
    413: "The upload is larger than allowed.",
    422: "The request does not fit: the detail names the first problem (or its Idempotency-Key "
    "was used for a different request).",
    429: "Too many requests from this address; wait Retry-After seconds.",
    503: "The database, archive or converter is unavailable for a moment; try again after "
    "Retry-After seconds.",
}
_METHODS = ("get", "head", "put", "post", "delete", "patch")
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


def _structs(base: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _structs(cls)


def _component_names(cls: type[msgspec.Struct]) -> tuple[str, str]:
    """The names Litestar may give `cls`'s component: its own, or, when two share it, the
    module path joined by underscores (`agreements_schemas_VersionOut`)."""
    module = cls.__module__.removeprefix("dpa_service.").replace(".", "_")
    return cls.__name__, f"{module}_{cls.__name__}"


def _closed_objects(schemas: dict[str, Schema]) -> None:
    """A body struct that refuses unknown fields (422) says so: `additionalProperties: false`."""
    for cls in _structs(msgspec.Struct):
        if not cls.__module__.startswith("dpa_service.") or not getattr(
            cls.__struct_config__, "forbid_unknown_fields", False
        ):
            continue
        for name in _component_names(cls):
            component = schemas.get(name)
            if isinstance(component, Schema):
                component.additional_properties = False


def _shaped_parameters(operation: Operation) -> None:
    """Parameters whose shape our own code checks (not Litestar) get it in the schema too."""
    for parameter in operation.parameters or []:
        if isinstance(parameter, Reference) or not isinstance(parameter.schema, Schema):
            continue
        if parameter.param_in == "header" and parameter.name == IDEMPOTENCY_HEADER:
            parameter.schema.pattern = IDEMPOTENCY_KEY_SHAPE.pattern


def _schemas_within(value: Any) -> Iterator[Schema]:
    """Every Schema object in `value` (a Schema, or lists and dicts of them), depth first."""
    if isinstance(value, Schema):
        yield value
        for name in ("properties", "items", "all_of", "any_of", "one_of", "additional_properties"):
            yield from _schemas_within(getattr(value, name, None))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _schemas_within(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _schemas_within(item)


def _exact_text_rules(schemas: dict[str, Schema]) -> None:
    """Say in the schema what the details' own checks refuse beyond their field patterns.

    A line of text (`counterparties.schemas.LINE`) is also checked character by character
    (`dpa_service.text`: no invisible, reordering or emoji characters): the schema gets the
    exact class of allowed characters, once, as the `PrintableLine` component. A country code
    must be one ISO 3166-1 knows (`Country`)."""
    schemas["PrintableLine"] = Schema(
        type=OpenAPIType.STRING,
        pattern=r"^(?=.*\S)" + printable_class() + "+" + END,
        description="One line of printable text: letters, marks, digits, punctuation, symbols "
        "and spaces in any script, not only spaces; no control, invisible, bidirectional, "
        "private-use or emoji characters.",
    )
    codes = sorted(country.alpha_2 for country in pycountry.countries)
    schemas["Country"] = Schema(
        type=OpenAPIType.STRING, enum=codes, description="An ISO 3166-1 alpha-2 country code."
    )
    link = schemas.get("LinkRequest")
    if isinstance(link, Schema):
        # signing/service.create_link: an embedded link is bound to a workspace
        link.any_of = [
            Schema(
                type=OpenAPIType.OBJECT,
                properties={"embedded": Schema(const=False)},
            ),
            Schema(
                type=OpenAPIType.OBJECT,
                required=["workspace_id"],
                properties={"workspace_id": Schema(type=OpenAPIType.STRING)},
            ),
        ]
        link.description = (
            "An embedded link (`embedded: true`) needs the workspace_id it is bound to."
        )
    upload = schemas.get("TemplateUpload")
    if isinstance(upload, Schema) and upload.properties:
        # clauses/routes refuses an upload without a change note (with its own message, so the
        # form's field keeps its empty default)
        upload.required = sorted({*(upload.required or []), "change_note"})
        note = upload.properties.get("change_note")
        if isinstance(note, Schema):
            note.pattern = SAID
    line = Reference(ref="#/components/schemas/PrintableLine")
    country = Reference(ref="#/components/schemas/Country")
    for name, component in list(schemas.items()):
        if name in ("PrintableLine", "Country"):
            continue
        for schema in _schemas_within(component):
            if schema.pattern == LINE:
                schema.pattern = None
                schema.all_of = [line]
            elif schema.pattern == COUNTRY_CODE:
                schema.pattern = None
                schema.all_of = [country]
            elif schema.pattern == PLACE:
                schema.pattern = None
                schema.any_of = [country, Schema(type=OpenAPIType.STRING, enum=["EU", "GLOBAL"])]


# Multipart bodies read by hand (`data.get(...)`, so that a missing part gets our own 422
# message) are documented here: path → (the field, what it must hold).
_UPLOADS = {"/api/v1/verify": ("file", "The PDF to check (at most 25 MB).")}


def _upload_body(path: str, operation: Operation) -> None:
    if path not in _UPLOADS or operation.request_body is None:
        return
    field, description = _UPLOADS[path]
    content = getattr(operation.request_body, "content", None) or {}
    if "multipart/form-data" in content:
        content["multipart/form-data"].schema = Schema(
            type=OpenAPIType.OBJECT,
            required=[field],
            properties={
                field: Schema(
                    type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description
                )
            },
            additional_properties=False,
        )


def complete_openapi(
    schema: OpenAPI, *, public_paths: Iterable[str], limited_prefixes: Iterable[str]
) -> OpenAPI:
    """Add the error answers and the public operations' `security: []` to `schema` (in place)."""
    public = [re.compile(p) for p in public_paths]
    limited = tuple(limited_prefixes)
    components = schema.components
    if components is not None:
        components.schemas = {**(components.schemas or {}), "Problem": PROBLEM}
        _closed_objects(components.schemas)
        _exact_text_rules(components.schemas)
    problem = Reference(ref="#/components/schemas/Problem")
    for path, item in (schema.paths or {}).items():
        is_public = any(p.match(path) for p in public)
        for method, operation in _operations(item):
            if is_public:
                operation.security = []
            _shaped_parameters(operation)
            _upload_body(path, operation)
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
