"""HTTP: template versions — list, upload, submit, approve or reject, retire, diff, preview."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, MultipartBody, QueryParameter
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clauses import service
from dpa_service.clauses.models import TemplateVersion
from dpa_service.clauses.package import MAX_UPLOAD_BYTES, TemplateRejected
from dpa_service.clauses.schemas import (
    DiffOut,
    RejectRequest,
    ReviewRequest,
    TemplateEventOut,
    TemplateOut,
    TemplateUpload,
    TemplateVersionDetail,
    TemplateVersionOut,
    detail_out,
    diff_out,
    event_out,
    version_out,
)
from dpa_service.config import Settings
from dpa_service.http.auth import roles
from dpa_service.http.idempotency import Idempotency
from dpa_service.http.params import VersionNumber
from dpa_service.rendering.converter import ConverterPool

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
VERSION = "/{template_key:str}/versions/{number:int}"
READERS = ("legal", "admin")
# Which language's template set (each has its own versions); English when not given.
Language = Annotated[
    Literal["en", "lv"],
    QueryParameter(description="The template set's language (each has its own versions)"),
]


def _file(row: TemplateVersion) -> str:
    prefix = "" if row.language == "en" else f"{row.language}-"
    return f"{prefix}{row.template_key}-v{row.version}"


class TemplateController(Controller):
    path = "/api/v1/templates"
    tags = ["templates"]
    guards = [roles(*READERS)]

    @get("/", sync_to_thread=True)
    def index(
        self, db: NamedDependency[Session], settings: NamedDependency[Settings]
    ) -> list[TemplateOut]:
        """Every template (master and clauses) of every language: the approved version in use
        (`out_of_date` when the same template changed in another language since), and all
        versions."""
        return [
            TemplateOut(
                template_key=o.template_key,
                language=o.language,
                current=(
                    version_out(o.current, settings.public_url, o.outdated_by)
                    if o.current
                    else None
                ),
                out_of_date=o.outdated_by is not None,
                versions=[version_out(v, settings.public_url) for v in o.versions],
            )
            for o in service.list_templates(session=db)
        ]

    @get("/{template_key:str}/history", sync_to_thread=True)
    def history(
        self, template_key: FromPath[str], db: NamedDependency[Session], language: Language = "en"
    ) -> list[TemplateEventOut]:
        """Who uploaded, submitted, approved, rejected and retired which version, and when."""
        events = service.history(session=db, template_key=template_key, language=language)
        return [event_out(e) for e in events]

    @post(
        "/{template_key:str}/versions",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=201,
        request_max_body_size=MAX_UPLOAD_BYTES * 2,
    )
    def upload(
        self,
        template_key: FromPath[str],
        data: MultipartBody[TemplateUpload],
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        language: Language = "en",
    ) -> Response[TemplateVersionOut]:
        """Upload a new draft version (multipart: `file` the .docx, `change_note`) of the
        template in `language`.

        422 with the reason when the file is refused: not a real DOCX, macro-enabled, too big,
        a ZIP bomb, broken Jinja, unknown variables, or a failed trial render in the sandbox
        (with the sample workspace in that language).
        """
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        content = data.file.file.read()  # at most request_max_body_size; validation says if too big
        if not isinstance(content, bytes):
            raise TemplateRejected("send the .docx as the multipart field 'file'")
        row = service.upload_version(
            session=db,
            template_key=template_key,
            data=content,
            filename=data.file.filename or "",
            change_note=data.change_note,
            author=user,
            language=language,
        )
        return idempotency.remember(version_out(row, settings.public_url), 201)

    @get(VERSION, sync_to_thread=True)
    def show(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        language: Language = "en",
    ) -> TemplateVersionDetail:
        """A version's metadata: state, hash, author, reviewer, and its history."""
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        events = service.history(
            session=db, template_key=template_key, version_id=row.id, language=language
        )
        return detail_out(row, events, settings.public_url)

    @get(f"{VERSION}/docx", sync_to_thread=True, media_type=DOCX)
    def download(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        language: Language = "en",
    ) -> Response[bytes]:
        """The exact bytes uploaded; the SHA-256 is in the ETag and X-Content-SHA256."""
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        content = service.version_content(session=db, version_id=row.id)
        return Response(
            content,
            media_type=DOCX,
            headers={
                "Content-Disposition": f'attachment; filename="{_file(row)}.docx"',
                "ETag": f'"{row.sha256}"',
                "X-Content-SHA256": row.sha256,
                "Cache-Control": "private, no-store",
            },
        )

    @get(f"{VERSION}/diff", sync_to_thread=True)
    def diff(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        against: Annotated[
            int | None, QueryParameter(ge=1, description="Compare with this version number")
        ] = None,
        context: Annotated[
            int,
            QueryParameter(ge=0, le=50, description="Unchanged paragraphs shown around changes"),
        ] = 2,
        language: Language = "en",
    ) -> DiffOut:
        """Paragraph diff against the approved version in use (or `against`, of the same
        language), words marked."""
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        against_id = None
        if against is not None:
            against_id = service.find_version(
                session=db, template_key=template_key, number=against, language=language
            ).id
        result = service.diff_version(
            session=db, version_id=row.id, against_id=against_id, context=context
        )
        return diff_out(
            row.template_key,
            row.version,
            result.base.version if result.base is not None else None,
            result.ops,
        )

    @get(f"{VERSION}/preview.pdf", sync_to_thread=True, media_type="application/pdf")
    def preview(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        pool: NamedDependency[ConverterPool],
        settings: NamedDependency[Settings],
        language: Language = "en",
    ) -> Response[bytes]:
        """The DPA for the sample workspace (in the version's language) with this version in
        place of its template; processor profile values not yet confirmed show as such."""
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        pdf = service.preview_pdf(session=db, version_id=row.id, pool=pool, settings=settings)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="preview-{_file(row)}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    def _transition(
        self,
        db: Session,
        settings: NamedDependency[Settings],
        template_key: str,
        number: int,
        language: str,
        move: Any,
        **kwargs: Any,
    ) -> TemplateVersionOut:
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        row = move(session=db, version_id=row.id, **kwargs)
        return version_out(row, settings.public_url)

    @post(f"{VERSION}/submit", guards=[roles("legal")], sync_to_thread=True, status_code=200)
    def submit(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        language: Language = "en",
    ) -> TemplateVersionOut:
        """draft → in_review."""
        return self._transition(
            db, settings, template_key, number, language, service.submit_for_review, actor=user
        )

    @post(f"{VERSION}/approve", guards=[roles("legal")], sync_to_thread=True, status_code=200)
    def approve(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[ReviewRequest | None] = None,
        language: Language = "en",
    ) -> TemplateVersionOut:
        """in_review → approved, by a legal user other than the author (403 otherwise).

        The previously approved version is retired; new DPAs use this one. The same template
        in the other language is marked out of date until a new version of it is approved.
        """
        return self._transition(
            db,
            settings,
            template_key,
            number,
            language,
            service.approve,
            reviewer=user,
            comment=data.comment if data else "",
        )

    @post(f"{VERSION}/reject", guards=[roles("legal")], sync_to_thread=True, status_code=200)
    def reject(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[RejectRequest],
        language: Language = "en",
    ) -> TemplateVersionOut:
        """in_review → rejected, with a comment (required), by a legal user other than the author."""
        return self._transition(
            db,
            settings,
            template_key,
            number,
            language,
            service.reject,
            reviewer=user,
            comment=data.comment,
        )

    @post(f"{VERSION}/retire", sync_to_thread=True, status_code=200)
    def retire(
        self,
        template_key: FromPath[str],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[ReviewRequest | None] = None,
        language: Language = "en",
    ) -> TemplateVersionOut:
        """Withdraw a draft or a version in review, or retire an approved version that has a
        replacement (legal or admin). The approved version in use cannot be retired (409)."""
        return self._transition(
            db,
            settings,
            template_key,
            number,
            language,
            service.retire,
            actor=user,
            comment=data.comment if data else "",
        )
