"""Verification for anyone holding a PDF: a web page and the JSON API, no token needed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.orm import Session

from dpa_service.errors import DomainError
from dpa_service.i18n import N_, gettext_for, template_words
from dpa_service.rendering.context import format_timestamp
from dpa_service.signing.seal import Sealer
from dpa_service.signing.untrusted_pdf import (
    UntrustedPdfError,
    check_structure,
    parser_warnings_contained,
)
from dpa_service.signing.verification import MAX_PDF_BYTES, Verdict, verify_pdf
from dpa_service.web.signing import visitor_language

MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


class UnprocessableUpload(DomainError):
    """`detail` for the API; `page` (a catalogue message id) for people on the page."""

    status_code = 422

    def __init__(self, detail: str, page: str) -> None:
        super().__init__(detail)
        self.page = page


async def _read_pdf(upload: Any) -> bytes:
    if not isinstance(upload, UploadFile):
        raise UnprocessableUpload(
            "send the PDF as the multipart field 'file'", N_("Choose a PDF file to check.")
        )
    data = await upload.read(MAX_PDF_BYTES + 1)
    if len(data) > MAX_PDF_BYTES:
        raise UnprocessableUpload(
            "the file is larger than 25 MB", N_("The file is larger than 25 MB.")
        )
    if not data.startswith(b"%PDF-"):
        raise UnprocessableUpload("the file is not a PDF", N_("The file is not a PDF."))
    try:
        check_structure(data)
    except UntrustedPdfError as exc:
        raise UnprocessableUpload(
            f"the file is not an agreement of ours: {exc}",
            N_("The file is not an agreement issued by Klusaro."),
        ) from None
    return data


def _page(language: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        "verify.html",
        context={"verdict": None, **context, **template_words(language)},
        status_code=status_code,
    )


class VerifyPage(Controller):
    path = "/verify"
    include_in_schema = False

    @get("/")
    async def form(self, request: Request[Any, Any, Any]) -> Template:
        return _page(visitor_language(request))

    @post("/", status_code=200)
    async def check(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        sealer: NamedDependency[Sealer],
        data: Annotated[dict[str, Any], MULTIPART],
    ) -> Template:
        language = visitor_language(request)
        try:
            pdf = await _read_pdf(data.get("file"))
        except UnprocessableUpload as exc:
            return _page(language, 422, error=gettext_for(language)(exc.page))
        verdict = await _verify(db, sealer, pdf)
        return _page(language, verdict=readable(verdict.as_dict(), language))


def readable(verdict: dict[str, Any], language: str = "en") -> dict[str, Any]:
    """The verdict as the page shows it: its times written for people in the page's language
    ("2 December 2026, 13:45 UTC"), where the API keeps RFC 3339."""
    shown = {**verdict, "seal": dict(verdict["seal"]) if verdict.get("seal") else None}

    def when(value: str | None) -> str | None:
        return format_timestamp(datetime.fromisoformat(value), language) if value else None

    shown["completed_at"] = when(verdict.get("completed_at"))
    if shown["seal"]:
        for key in ("signed_at", "timestamp_at", "evidence_valid_until"):
            shown["seal"][key] = when(shown["seal"].get(key))
    shown["summary"] = _summary(shown, language)
    return shown


def _summary(shown: dict[str, Any], language: str) -> str:
    """The verdict in one sentence in the page's language (the API's `message` is English and
    names the technical reason, which the page shows under it where there is one)."""
    _ = gettext_for(language)
    seal = shown.get("seal") or {}
    values = {
        "agreement": shown.get("agreement_id") or "",
        "version": shown.get("version") or "",
        "completed": shown.get("completed_at") or "",
        "signer": seal.get("signer") or "",
    }
    sentences = {
        "completed": N_(
            "Genuine: agreement {agreement}, version {version}, completed {completed}, sealed "
            "by {signer} with a trusted Klusaro certificate, and not modified."
        ),
        "untrusted": N_(
            "These are the bytes of agreement {agreement}, version {version}, completed "
            "{completed}, as archived; but the certificate that sealed it ({signer}) is not "
            "trusted here."
        ),
        "draft": N_(
            "An unsigned draft of agreement {agreement}, version {version}: it is not a signed "
            "agreement."
        ),
        "modified": N_("This file is not the agreement Klusaro issued: it has been changed."),
        "unknown": N_("This file was not issued by Klusaro's agreement service."),
    }
    return _(sentences.get(shown.get("status") or "", sentences["unknown"])).format(**values)


async def _verify(db: Session, sealer: Sealer, pdf: bytes) -> Verdict:
    def run() -> Verdict:
        with parser_warnings_contained("verification of an uploaded PDF"):
            return verify_pdf(session=db, pdf=pdf, sealer=sealer)

    return await anyio.to_thread.run_sync(run)


class VerifyApi(Controller):
    path = "/api/v1/verify"
    tags = ["verification"]
    security = [{}]

    @post("/", status_code=200, exclude_from_auth=True)
    async def verify(
        self,
        db: NamedDependency[Session],
        sealer: NamedDependency[Sealer],
        data: Annotated[dict[str, Any], MULTIPART],
    ) -> dict[str, Any]:
        """Check a PDF (multipart field `file`): status completed, draft, modified or unknown.

        No token is needed; calls are rate-limited per client.
        """
        pdf = await _read_pdf(data.get("file"))
        return (await _verify(db, sealer, pdf)).as_dict()
