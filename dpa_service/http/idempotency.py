"""The `idempotency` dependency of the POST routes that create something (see
`dpa_service.idempotency.service`): a handler answers `idem.earlier()` when there is one, and
returns `idem.remember(...)` of its own answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import HeaderParameter
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.idempotency import service

HEADER = "Idempotency-Key"


@dataclass
class Idempotency:
    session: Session
    subject: str
    key: str | None
    fingerprint: str

    def earlier(self) -> Response[Any] | None:
        """The first answer to this key, replayed; None without a key or a first answer."""
        if self.key is None:
            return None
        row = service.earlier(
            session=self.session,
            subject=self.subject,
            key=self.key,
            request_fingerprint=self.fingerprint,
        )
        if row is None:
            return None
        return Response(
            row.body,
            status_code=row.status_code,
            media_type=row.media_type,
            headers={"Idempotent-Replayed": "true"},
        )

    def remember(self, content: Any, status_code: int) -> Response[Any]:
        """Keep this answer with the key (in the request's transaction) and give it."""
        if self.key is not None:
            service.remember(
                session=self.session,
                subject=self.subject,
                key=self.key,
                request_fingerprint=self.fingerprint,
                status_code=status_code,
                media_type=MediaType.JSON,
                body=msgspec.json.encode(content),
            )
        return Response(content, status_code=status_code)


async def _content(request: Request[Any, Any, Any]) -> bytes:
    """What the request carries, for its fingerprint. A JSON body is kept by Litestar, so the
    handler's `data` still parses; a multipart body was consumed into the form (its files are
    counted by name and SHA-256)."""
    if request.content_type[0] != "multipart/form-data":
        return await request.body()
    parts = []
    form = await request.form()
    for key, value in sorted(form.multi_items(), key=lambda item: item[0]):
        if isinstance(value, UploadFile):
            await value.seek(0)
            digest = hashlib.sha256(await value.read()).hexdigest()
            await value.seek(0)
            parts.append(f"{key}={value.filename}:{digest}")
        else:
            parts.append(f"{key}={value}")
    return "\n".join(parts).encode()


async def provide_idempotency(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    user: NamedDependency[Principal],
    key: Annotated[
        str | None,
        HeaderParameter(
            name=HEADER,
            required=False,
            description="Any unique string (a UUID): a retry with the same key gets the first "
            "answer back and makes nothing new (kept for 24 hours).",
        ),
    ] = None,
) -> Idempotency:
    body = await _content(request)
    return Idempotency(
        session=db,
        subject=user.subject,
        key=service.check_key(key) if key is not None else None,
        # the query is part of the request (a template upload's `language`, for one)
        fingerprint=service.fingerprint(
            request.method, request.url.path, body, query=request.url.query
        ),
    )
