"""Legal's template pages: upload a version, review its diff and preview, approve, history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import anyio.to_thread
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, MultipartBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clauses import service
from dpa_service.clauses.diff import summary
from dpa_service.clauses.models import TEMPLATE_KEYS, TEMPLATE_LANGUAGES, TemplateVersion
from dpa_service.clauses.package import MAX_UPLOAD_BYTES
from dpa_service.config import Settings
from dpa_service.errors import DomainError
from dpa_service.http.auth import roles
from dpa_service.http.errors import PageAnswer
from dpa_service.http.params import VersionNumber
from dpa_service.rendering.converter import ConverterPool

LEGAL = ("legal", "admin")
TITLES = {
    "master": "Master agreement",
    "security": "Security measures (annex)",
    "confidentiality": "Confidentiality clause",
    "subprocessors": "Subprocessors clause",
}


LANGUAGE_NAMES = {"en": "English", "lv": "Latvian"}
Language = Annotated[Literal["en", "lv"], QueryParameter(description="The template set")]


def _lq(language: str) -> str:
    """The query that keeps a page on the language's template set ("" for English)."""
    return "" if language == "en" else f"?language={language}"


@dataclass
class UploadForm:
    file: UploadFile | None = None
    change_note: str = ""


@dataclass
class CommentForm:
    comment: str = ""


def _version_path(row: TemplateVersion) -> str:
    return f"/staff/templates/{row.template_key}/v/{row.version}{_lq(row.language)}"


class TemplatePages(Controller):
    path = "/staff/templates"
    include_in_schema = False
    guards = [roles(*LEGAL)]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        return _index(db)

    @post(
        "/{template_key:str}/upload",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        request_max_body_size=MAX_UPLOAD_BYTES * 2,
    )
    def upload(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        template_key: FromPath[str],
        data: MultipartBody[UploadForm],
        language: Language = "en",
    ) -> Redirect:
        content = data.file.file.read() if data.file is not None else b""
        if not content or data.file is None:
            raise PageAnswer(_index(db, error="Choose a .docx file to upload.", status=422))
        try:
            row = service.upload_version(
                session=db,
                template_key=template_key,
                data=content,
                filename=data.file.filename or "",
                change_note=data.change_note,
                author=user,
                language=language,
            )
        except DomainError as exc:
            page = _index(db, error=f"{data.file.filename}: {exc.detail}", status=exc.status_code)
            raise PageAnswer(page) from exc
        return Redirect(_version_path(row), status_code=303)

    @get("/{template_key:str}", sync_to_thread=True)
    def history(
        self, db: NamedDependency[Session], template_key: FromPath[str], language: Language = "en"
    ) -> Template:
        versions = service.list_versions(session=db, template_key=template_key, language=language)
        return Template(
            "staff/template_history.html",
            context={
                "key": template_key,
                "title": TITLES[template_key],
                "versions": versions,
                "events": service.history(session=db, template_key=template_key, language=language),
                "language": language,
                "language_names": LANGUAGE_NAMES,
                "lq": _lq(language),
            },
        )

    @get("/{template_key:str}/v/{number:int}", sync_to_thread=True)
    def review(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        template_key: FromPath[str],
        number: VersionNumber,
        language: Language = "en",
    ) -> Template:
        return _review(db, user, template_key, number, language)

    @get("/{template_key:str}/v/{number:int}/preview.pdf")
    async def preview(
        self,
        db: NamedDependency[Session],
        pool: NamedDependency[ConverterPool],
        settings: NamedDependency[Settings],
        template_key: FromPath[str],
        number: VersionNumber,
        language: Language = "en",
    ) -> Response[bytes]:
        """The DPA for the sample workspace, made with this version in place of its template."""

        def render() -> bytes:
            row = service.find_version(
                session=db, template_key=template_key, number=number, language=language
            )
            return service.preview_pdf(session=db, version_id=row.id, pool=pool, settings=settings)

        pdf = await anyio.to_thread.run_sync(render)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="preview-{template_key}-v{number}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    @get("/{template_key:str}/v/{number:int}/file.docx", sync_to_thread=True)
    def download(
        self,
        db: NamedDependency[Session],
        template_key: FromPath[str],
        number: VersionNumber,
        language: Language = "en",
    ) -> Response[bytes]:
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        return Response(
            service.version_content(session=db, version_id=row.id),
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            headers={
                "Content-Disposition": f'attachment; filename="{template_key}-v{number}.docx"',
                "X-Content-SHA256": row.sha256,
            },
        )

    @post("/{template_key:str}/v/{number:int}/{action:str}", sync_to_thread=True, status_code=303)
    def act(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        template_key: FromPath[str],
        number: VersionNumber,
        action: FromPath[str],
        data: URLEncodedBody[CommentForm],
        language: Language = "en",
    ) -> Redirect:
        """Submit for review, approve, reject (with a comment) or retire a version."""
        row = service.find_version(
            session=db, template_key=template_key, number=number, language=language
        )
        try:
            if action == "submit":
                service.submit_for_review(session=db, version_id=row.id, actor=user)
            elif action == "approve":
                service.approve(session=db, version_id=row.id, reviewer=user, comment=data.comment)
            elif action == "reject":
                service.reject(session=db, version_id=row.id, reviewer=user, comment=data.comment)
            elif action == "retire":
                service.retire(session=db, version_id=row.id, actor=user, comment=data.comment)
        except DomainError as exc:
            page = _review(
                db, user, template_key, number, language, error=exc.detail, status=exc.status_code
            )
            raise PageAnswer(page) from exc
        return Redirect(_version_path(row), status_code=303)


def _index(db: Session, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "staff/templates.html",
        context={
            "templates": service.list_templates(session=db),
            "titles": TITLES,
            "keys": TEMPLATE_KEYS,
            "languages": TEMPLATE_LANGUAGES,
            "language_names": LANGUAGE_NAMES,
            "error": error,
            "max_mb": MAX_UPLOAD_BYTES // 1_000_000,
        },
        status_code=status,
    )


def _review(
    db: Session,
    user: Principal,
    template_key: str,
    number: int,
    language: str = "en",
    error: str | None = None,
    status: int = 200,
) -> Template:
    row = service.find_version(
        session=db, template_key=template_key, number=number, language=language
    )
    diff = service.diff_version(session=db, version_id=row.id)
    return Template(
        "staff/template_review.html",
        context={
            "row": row,
            "title": TITLES[template_key],
            "base": diff.base,
            "ops": diff.ops,
            "summary": summary(diff.ops),
            "is_author": user.subject == row.author_subject,
            # only what the service allows: never the one approved version new DPAs use
            "can_retire": service.can_retire(session=db, row=row),
            "events": service.history(
                session=db, template_key=template_key, version_id=row.id, language=language
            ),
            "language_names": LANGUAGE_NAMES,
            "lq": _lq(language),
            "error": error,
        },
        status_code=status,
    )
