"""The signing pages: review, consent, typed and drawn signature, decline, confirmation.

They speak the counterparty's language (the agreement's prevailing language) through the
message catalogue; a link nobody knows gets the visitor's Accept-Language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.archive.base import Archive
from dpa_service.config import Settings
from dpa_service.errors import DomainError
from dpa_service.http.client import client_of
from dpa_service.http.downloads import archived_pdf
from dpa_service.http.errors import PageAnswer, message_page
from dpa_service.i18n import N_, gettext_for, language_of, negotiate, template_words
from dpa_service.jobs.context import JobContext
from dpa_service.rendering.context import format_timestamp
from dpa_service.sales.copies import STAFF_COPY
from dpa_service.signing import service
from dpa_service.signing.completion import countersign_and_wake
from dpa_service.signing.disclosure import disclosure_text, disclosure_version
from dpa_service.signing.service import LinkAccess, LinkRefused, SigningRefused
from dpa_service.web.forms import FORM

log = logging.getLogger(__name__)

# The states a signer may find a version in (done.html names them in the signer's language).
PDF_METHODS = [HttpMethod.GET, HttpMethod.HEAD]  # HEAD: the headers alone
STATES = (
    N_("draft"),
    N_("sent"),
    N_("viewed"),
    N_("declined"),
    N_("expired"),
    N_("voided"),
    N_("superseded"),
)

HEADINGS = {
    "unknown": N_("This link is not valid"),
    "expired": N_("This link has expired"),
    "revoked": N_("This link was withdrawn"),
    "used": N_("This link has already been used"),
    "closed": N_("This agreement can no longer be signed"),
}


@dataclass
class SignForm:
    shown_sha256: str = ""
    typed_name: str = ""
    title: str = ""
    consent: str = ""
    drawn_signature: str = ""
    disclosure_version: str = ""


@dataclass
class DeclineForm:
    reason: str = ""


@dataclass
class CodeForm:
    code: str = ""


def _language(access: LinkAccess) -> str:
    return language_of(access.version.counterparty_snapshot)


def visitor_language(request: Request[Any, Any, Any]) -> str:
    """The language of someone we know nothing about (no link, or not yet a valid one): ?lang=,
    else Accept-Language. The verification page uses it too."""
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def _message(heading: str, message: str, status: int, language: str) -> Template:
    """A message page in `language`; `heading` and `message` are catalogue message ids."""
    _ = gettext_for(language)
    return message_page(_(heading), _(message), status, language=language)


def _refused(exc: LinkRefused, request: Request[Any, Any, Any]) -> Template:
    language = exc.language or visitor_language(request)
    heading = HEADINGS.get(exc.reason, N_("This link cannot be used"))
    return _message(heading, exc.detail, exc.status_code, language)


def _code_ok(request: Request[Any, Any, Any], access: LinkAccess, settings: Settings) -> bool:
    if not access.link.require_code:
        return True
    expected = service.code_cookie_value(access, settings.resolved_secret_key())
    return request.cookies.get(f"dpa_code_{access.link.id[:12]}") == expected


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(1, len(local) - 1)}@{domain}"


def _sign_page(
    access: LinkAccess,
    token: str,
    error: str | None = None,
    status: int = 200,
    form: SignForm | None = None,
) -> Template:
    """The signing page; after a refused submission it shows what the signer had entered.
    `error` is a catalogue message id."""
    details = access.version.counterparty_snapshot
    language = _language(access)
    _ = gettext_for(language)
    return Template(
        "sign.html",
        context={
            **template_words(language),
            "token": token,
            "controller_name": details["legal_name"],
            "version": access.version.number,
            "pages": access.version.pages,
            "sha256": access.version.draft_pdf_sha256,
            "disclosure": disclosure_text(language),
            "disclosure_version": disclosure_version(language),
            "signatory_name": form.typed_name if form else details["signatory"]["name"],
            "signatory_title": form.title if form else details["signatory"]["title"],
            "consented": bool(form and form.consent == "yes"),
            "drawing_lost": bool(form and form.drawn_signature),
            "error": _(error) if error else None,
        },
        status_code=status,
    )


def _code_page(
    access: LinkAccess, token: str, sent: bool = False, error: str | None = None, status: int = 200
) -> Template:
    language = _language(access)
    return Template(
        "code.html",
        context={
            **template_words(language),
            "token": token,
            "masked_email": _mask(access.counterparty.details["signatory"]["email"]),
            "sent": sent,
            "error": gettext_for(language)(error) if error else None,
        },
        status_code=status,
    )


def _open_verified(
    db: Session,
    token: str,
    request: Request[Any, Any, Any],
    settings: Settings,
    *,
    for_action: bool,
) -> LinkAccess | Template:
    """The link's access, or the page to show instead: why it is refused, or the code form."""
    try:
        access = service.open_link(session=db, secret=token, for_action=for_action)
    except LinkRefused as exc:
        return _refused(exc, request)
    if not _code_ok(request, access, settings):
        return _code_page(access, token, status=403)
    return access


class SigningPages(Controller):
    path = "/sign"
    include_in_schema = False

    @get("/{token:str}", sync_to_thread=True)
    def show(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            if exc.reason in ("used", "closed"):
                return Redirect(f"/sign/{token}/done", status_code=303)
            return _refused(exc, request)
        if not _code_ok(request, access, settings):
            return _code_page(access, token)
        ip, ua = client_of(request)
        service.record_view(session=db, access=access, ip=ip, user_agent=ua)
        return _sign_page(access, token)

    @route("/{token:str}/document.pdf", http_method=PDF_METHODS, sync_to_thread=True)
    def document(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        archive: NamedDependency[Archive],
        download: FromQuery[bool] = False,
    ) -> Response[Any]:
        access = _open_verified(db, token, request, settings, for_action=False)
        if isinstance(access, Template):
            return access
        version = access.version
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=version.draft_pdf_key,
            sha256=version.draft_pdf_sha256,
            filename=f"dpa-{version.agreement_id}-v{version.number}.pdf",
            read_by="signing page",
            disposition="attachment" if download else "inline",
        )

    @post("/{token:str}", sync_to_thread=True, status_code=303)
    def sign(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        job_context: NamedDependency[JobContext],
        data: Annotated[SignForm, FORM],
    ) -> Template | Redirect:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            if exc.reason in ("used", "closed"):
                # Another submission got there first (or the version moved on): a conflict.
                return _message(
                    N_("Already signed"),
                    N_("This agreement has already been signed or closed."),
                    409,
                    exc.language or visitor_language(request),
                )
            return _refused(exc, request)
        if not _code_ok(request, access, settings):
            return _code_page(access, token, status=403)  # nothing of the document before it
        ip, ua = client_of(request)
        try:
            drawing = service.decode_drawing(data.drawn_signature)
            signature = service.sign(
                session=db,
                access=access,
                typed_name=data.typed_name,
                title=data.title,
                drawing=drawing,
                consented=data.consent == "yes",
                shown_sha256=data.shown_sha256,
                code_verified=_code_ok(request, access, settings),
                shown_disclosure=data.disclosure_version or None,
                ip=ip,
                user_agent=ua,
            )
        except SigningRefused as exc:
            if exc.status_code == 409:
                page = _message(
                    N_("The agreement cannot be signed"), exc.detail, 409, _language(access)
                )
            else:
                page = _sign_page(
                    access, token, error=exc.detail, status=exc.status_code, form=data
                )
            raise PageAnswer(page) from exc
        except DomainError as exc:
            page = _message(
                N_("The agreement cannot be signed"),
                exc.detail,
                exc.status_code,
                _language(access),
            )
            raise PageAnswer(page) from exc
        log.info(
            "version %s of %s signed (signature %s)",
            access.version.number,
            access.agreement.id,
            signature.id,
        )
        # Klusaro's automatic countersignature (when configured) after the answer is sent, so
        # the signer never waits for LibreOffice and the seal; the unit of work has committed
        # the signature by then. If it fails, the signature stands and the periodic sweep
        # completes the version later.
        return Redirect(
            f"/sign/{token}/done",
            status_code=303,
            background=BackgroundTask(
                countersign_and_wake, job_context, access.version.id, request.app.state.jobs.kick
            ),
        )

    @post("/{token:str}/decline", sync_to_thread=True, status_code=200)
    def decline(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        data: Annotated[DeclineForm, FORM],
    ) -> Template:
        access = _open_verified(db, token, request, settings, for_action=True)
        if isinstance(access, Template):
            return access
        ip, ua = client_of(request)
        try:
            service.decline(session=db, access=access, reason=data.reason, ip=ip, user_agent=ua)
        except SigningRefused as exc:
            page = _sign_page(access, token, error=exc.detail, status=exc.status_code)
            raise PageAnswer(page) from exc
        except DomainError as exc:
            page = _message(
                N_("The agreement cannot be declined"),
                exc.detail,
                exc.status_code,
                _language(access),
            )
            raise PageAnswer(page) from exc
        return _message(
            N_("You declined to sign"),
            N_("We recorded your reason and told Klusaro. Nothing was signed."),
            200,
            _language(access),
        )

    @get("/{token:str}/done", sync_to_thread=True)
    def done(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
    ) -> Template:
        try:
            access = service.open_link(session=db, secret=token, for_action=False)
        except LinkRefused as exc:
            return _refused(exc, request)
        if access.link.used_at is None and not _code_ok(request, access, settings):
            return _code_page(access, token, status=403)  # nothing of it before the code
        version = access.version
        # The processor side's copy link (a salesperson, the countersigner) reads English and is
        # told who signed; everyone else holding a link is the signatory.
        staff = access.link.kind == STAFF_COPY
        language = "en" if staff else _language(access)
        details = version.counterparty_snapshot
        return Template(
            "done.html",
            context={
                **template_words(language),
                "token": token,
                "state": version.state,
                "staff": staff,
                "signer": details["signatory"]["name"],
                "company": details["legal_name"],
                "email": details["signatory"]["email"],
                "signed_at": format_timestamp(version.signed_at, language)
                if version.signed_at
                else "",
                "completed_at": format_timestamp(version.completed_at, language)
                if version.completed_at
                else "",
                "final_sha256": version.final_pdf_sha256,
                # Countersigned automatically, shortly: the page looks again by itself.
                "countersigning": version.state == "signed"
                and settings.auto_countersign
                and bool(settings.processor_signatory_name),
            },
        )

    @route("/{token:str}/signed.pdf", http_method=PDF_METHODS, sync_to_thread=True)
    def signed_copy(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        archive: NamedDependency[Archive],
    ) -> Response[Any]:
        access = _open_verified(db, token, request, settings, for_action=False)
        if isinstance(access, Template):
            return access
        version = access.version
        if version.state not in ("completed", "superseded") or not version.final_pdf_key:
            return _message(
                N_("Not countersigned yet"),
                N_("The signed copy is ready once Klusaro has countersigned."),
                404,
                _language(access),
            )
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=version.final_pdf_key,
            sha256=version.final_pdf_sha256 or "",
            filename=f"dpa-{version.agreement_id}-v{version.number}-signed.pdf",
            read_by="signed copy link",
        )

    @post("/{token:str}/code/send", sync_to_thread=True, status_code=200)
    def send_code(
        self, token: FromPath[str], request: Request[Any, Any, Any], db: NamedDependency[Session]
    ) -> Template:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            return _refused(exc, request)
        try:
            service.send_code(session=db, access=access)
        except SigningRefused as exc:
            page = _code_page(access, token, sent=True, error=exc.detail, status=exc.status_code)
            raise PageAnswer(page) from exc
        return _code_page(access, token, sent=True)

    @post("/{token:str}/code", sync_to_thread=True, status_code=303)
    def check_code(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        data: Annotated[CodeForm, FORM],
    ) -> Template | Redirect:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            return _refused(exc, request)
        # A wrong code is answered, not raised: the try it used up must be committed.
        if not service.check_code(session=db, access=access, code=data.code):
            return _code_page(
                access,
                token,
                sent=True,
                error=N_("That code is not right, or it expired. Try again or ask for a new one."),
                status=422,
            )
        https = settings.public_url.startswith("https")
        response: Redirect = Redirect(f"/sign/{token}", status_code=303)
        response.set_cookie(
            f"dpa_code_{access.link.id[:12]}",
            service.code_cookie_value(access, settings.resolved_secret_key()),
            path=f"/sign/{token}",
            httponly=True,
            samesite="none" if https else "lax",
            secure=https,
            max_age=3600,
        )
        return response
