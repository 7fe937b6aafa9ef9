"""HTTP: request a workspace's DPA, read an agreement, download a version's PDF."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.agreements import service
from dpa_service.agreements.schemas import AgreementOut, AgreementRequest, VersionOut, version_out
from dpa_service.archive import service as archive_service
from dpa_service.archive.base import Archive
from dpa_service.clock import iso
from dpa_service.config import Settings
from dpa_service.errors import NotFound
from dpa_service.http.auth import roles
from dpa_service.http.downloads import archived_pdf
from dpa_service.http.idempotency import Idempotency
from dpa_service.http.params import VersionNumber, WorkspaceIdParam
from dpa_service.rendering.converter import ConverterPool

READERS = ("app", "admin", "legal", "sales")


class AgreementController(Controller):
    tags = ["agreements"]

    @post(
        "/api/v1/workspaces/{workspace_id:str}/agreements",
        guards=[roles("app", "admin")],
        sync_to_thread=True,
    )
    def request_dpa(
        self,
        workspace_id: WorkspaceIdParam,
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        pool: NamedDependency[ConverterPool],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[AgreementRequest | None] = None,
    ) -> Response[VersionOut]:
        """The workspace's DPA: its current version, or a new one if details changed or asked for.

        201 when a new version was made, 200 when the current one still holds. 503 with
        Retry-After when the converter is saturated. With an `Idempotency-Key` header, a retry
        of the same request gets the first answer back and makes nothing new.
        """
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        outcome = service.request_dpa(
            session=db,
            pool=pool,
            settings=settings,
            workspace_id=workspace_id,
            new_version=bool(data and data.new_version),
            actor=user.actor,
        )
        body = version_out(outcome.version, workspace_id, settings.public_url)
        return idempotency.remember(body, 201 if outcome.created else 200)

    @get("/api/v1/agreements/{agreement_id:uuid}", guards=[roles(*READERS)], sync_to_thread=True)
    def show(
        self,
        agreement_id: FromPath[UUID],
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
    ) -> AgreementOut:
        agreement, counterparty = service.get_agreement(
            session=db, agreement_id=str(agreement_id), for_role=user.role
        )
        versions = [
            version_out(
                v,
                counterparty.external_id,
                settings.public_url,
                archive_service.state_of(session=db, agreement_id=agreement.id, version=v.number),
            )
            for v in agreement.versions
        ]
        return AgreementOut(
            agreement_id=agreement.id,
            workspace_id=counterparty.external_id,
            created_at=iso(agreement.created_at),
            current_version=versions[-1].version,
            versions=versions,
        )

    @get(
        "/api/v1/agreements/{agreement_id:uuid}/versions/{number:int}/pdf",
        guards=[roles(*READERS)],
        sync_to_thread=True,
        media_type="application/pdf",
    )
    def download(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        archive: NamedDependency[Archive],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """The exact archived PDF bytes; its SHA-256 is in the ETag and X-Content-SHA256.

        With DPA_S3_PRESIGNED_DOWNLOADS a 307 to a short-lived S3 URL instead.
        """
        service.get_agreement(session=db, agreement_id=str(agreement_id), for_role=user.role)
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        filename = f"dpa-{version.agreement_id}-v{number}.pdf"
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=version.draft_pdf_key,
            sha256=version.draft_pdf_sha256,
            filename=filename,
            read_by="API download",
        )

    @get(
        "/api/v1/agreements/{agreement_id:uuid}/versions/{number:int}/completed.pdf",
        guards=[roles(*READERS)],
        sync_to_thread=True,
        media_type="application/pdf",
    )
    def download_completed(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        archive: NamedDependency[Archive],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """The sealed, countersigned PDF with its certificate of completion (404 until then)."""
        service.get_agreement(session=db, agreement_id=str(agreement_id), for_role=user.role)
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        if not version.final_pdf_key or not version.final_pdf_sha256:
            raise NotFound(f"version {number} is {version.state}; it has no completed PDF")
        filename = f"dpa-{version.agreement_id}-v{number}-signed.pdf"
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=version.final_pdf_key,
            sha256=version.final_pdf_sha256,
            filename=filename,
            read_by="API download",
        )
