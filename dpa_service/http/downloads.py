"""The one way an archived PDF leaves the service: the exact bytes recorded, checked against
their SHA-256 before the first byte is sent, with that SHA-256."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.response import Redirect
from sqlalchemy.orm import Session

from dpa_service.archive import service as archive_service
from dpa_service.archive.base import Archive
from dpa_service.config import Settings


def archived_pdf(
    *,
    session: Session,
    archive: Archive,
    settings: Settings,
    key: str,
    sha256: str,
    filename: str,
    read_by: str,
    disposition: str = "attachment",
) -> Response[Any]:
    """The archived bytes (SHA-256 in ETag and X-Content-SHA256), or with
    DPA_S3_PRESIGNED_DOWNLOADS a 307 to a short-lived S3 URL to the recorded version once it
    is archived. Bytes that do not match the record are never sent (503, reported)."""
    if settings.s3_presigned_downloads:
        url = archive_service.presigned_url(
            session=session, archive=archive, key=key, sha256=sha256, read_by=read_by
        )
        if url:
            return Redirect(url, status_code=307, media_type="text/plain")
    data = archive_service.open_object(
        session=session, archive=archive, key=key, sha256=sha256, read_by=read_by
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "ETag": f'"{sha256}"',
            "X-Content-SHA256": sha256,
            "Cache-Control": "private, no-store",
        },
    )
