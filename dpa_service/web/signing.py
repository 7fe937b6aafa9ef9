"""The signing pages: review, consent, typed and drawn signature, decline, confirmation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from dpa_service.archive import service as archive_service
from dpa_service.clock import utc_label
from dpa_service.errors import DomainError
from dpa_service.signing import service
from dpa_service.signing.completion import authorised_signatory, complete
from dpa_service.signing.disclosure import DISCLOSURE_TEXT, DISCLOSURE_VERSION
from dpa_service.signing.service import LinkAccess, LinkRefused, SigningRefused

log = logging.getLogger(__name__)

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
HEADINGS = {
    "unknown": "This link is not valid",
    "expired": "This link has expired",
    "revoked": "This link was withdrawn",
    "used": "This link has already been used",
    "closed": "This agreement can no longer be signed",
}


@dataclass
class SignForm:
    shown_sha256: str = ""
    typed_name: str = ""
    title: str = ""
    consent: str = ""
    drawn_signature: str = ""


@dataclass
class DeclineForm:
    reason: str = ""


@dataclass
class CodeForm:
    code: str = ""


def client_of(request: Request[Any, Any, Any]) -> tuple[str | None, str | None]:
    """The client's address and user agent, as recorded with a signature or a log-in."""
    ip = request.client.host if request.client else None
    return ip, request.headers.get("user-agent")


def _message(heading: str, message: str, status: int) -> Template:
    return Template(
        "message.html", context={"heading": heading, "message": message}, status_code=status
    )


def _refused(exc: LinkRefused) -> Template:
    return _message(
        HEADINGS.get(exc.reason, "This link cannot be used"), exc.detail, exc.status_code
    )


def _code_ok(request: Request[Any, Any, Any], access: LinkAccess, state: State) -> bool:
    if not access.link.require_code:
        return True
    expected = service.code_cookie_value(access, state.settings.resolved_secret_key())
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
    """The signing page; after a refused submission it shows what the signer had entered."""
    details = access.version.counterparty_snapshot
    return Template(
        "sign.html",
        context={
            "token": token,
            "controller_name": details["legal_name"],
            "version": access.version.number,
            "pages": access.version.pages,
            "sha256": access.version.draft_pdf_sha256,
            "disclosure": DISCLOSURE_TEXT,
            "disclosure_version": DISCLOSURE_VERSION,
            "signatory_name": form.typed_name if form else details["signatory"]["name"],
            "signatory_title": form.title if form else details["signatory"]["title"],
            "consented": bool(form and form.consent == "yes"),
            "drawing_lost": bool(form and form.drawn_signature),
            "error": error,
        },
        status_code=status,
    )


def _code_page(
    access: LinkAccess, token: str, sent: bool = False, error: str | None = None, status: int = 200
) -> Template:
    return Template(
        "code.html",
        context={
            "token": token,
            "controller_name": access.version.counterparty_snapshot["legal_name"],
            "masked_email": _mask(access.counterparty.details["signatory"]["email"]),
            "sent": sent,
            "error": error,
        },
        status_code=status,
    )


def _open_verified(
    db: Session, token: str, request: Request[Any, Any, Any], state: State, *, for_action: bool
) -> LinkAccess | Template:
    """The link's access, or the page to show instead: why it is refused, or the code form."""
    try:
        access = service.open_link(session=db, secret=token, for_action=for_action)
    except LinkRefused as exc:
        return _refused(exc)
    if not _code_ok(request, access, state):
        return _code_page(access, token, status=403)
    return access


def _pdf(
    db: Session, state: State, key: str, sha256: str, disposition: str, filename: str
) -> Stream:
    return Stream(
        archive_service.open_object(session=db, archive=state.archive, key=key),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "X-Content-SHA256": sha256,
        },
    )


class SigningPages(Controller):
    path = "/sign"
    include_in_schema = False

    @get("/{token:str}", sync_to_thread=True)
    def show(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        state: State,
    ) -> Template | Redirect:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            if exc.reason in ("used", "closed"):
                return Redirect(f"/sign/{token}/done", status_code=303)
            return _refused(exc)
        if not _code_ok(request, access, state):
            return _code_page(access, token)
        ip, ua = client_of(request)
        service.record_view(session=db, access=access, ip=ip, user_agent=ua)
        db.commit()
        return _sign_page(access, token)

    @get("/{token:str}/document.pdf", sync_to_thread=True)
    def document(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        state: State,
        download: FromQuery[bool] = False,
    ) -> Stream | Template:
        access = _open_verified(db, token, request, state, for_action=False)
        if isinstance(access, Template):
            return access
        version = access.version
        return _pdf(
            db,
            state,
            version.draft_pdf_key,
            version.draft_pdf_sha256,
            "attachment" if download else "inline",
            f"dpa-{version.agreement_id}-v{version.number}.pdf",
        )

    @post("/{token:str}", sync_to_thread=True, status_code=303)
    def sign(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        state: State,
        data: Annotated[SignForm, FORM],
    ) -> Template | Redirect:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            if exc.reason in ("used", "closed"):
                # Another submission got there first (or the version moved on): a conflict.
                return _message(
                    "Already signed", "This agreement has already been signed or closed.", 409
                )
            return _refused(exc)
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
                code_verified=_code_ok(request, access, state),
                ip=ip,
                user_agent=ua,
            )
            db.commit()
        except SigningRefused as exc:
            db.rollback()
            if exc.status_code == 409:
                return _message("The agreement cannot be signed", exc.detail, 409)
            return _sign_page(access, token, error=exc.detail, status=exc.status_code, form=data)
        except DomainError as exc:
            db.rollback()
            return _message("The agreement cannot be signed", exc.detail, exc.status_code)
        log.info(
            "version %s of %s signed (signature %s)",
            access.version.number,
            access.agreement.id,
            signature.id,
        )
        settings = state.settings
        if settings.auto_countersign and settings.processor_signatory_name:
            try:
                complete(
                    session=db,
                    version=access.version,
                    countersigner=authorised_signatory(settings),
                    pool=state.pool,
                    sealer=state.sealer,
                    settings=settings,
                )
                db.commit()
                state.jobs.kick()
            except Exception:
                # The controller's signature stands; legal can countersign by hand.
                db.rollback()
                log.exception("automatic countersignature failed for %s", access.agreement.id)
        return Redirect(f"/sign/{token}/done", status_code=303)

    @post("/{token:str}/decline", sync_to_thread=True, status_code=200)
    def decline(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        state: State,
        data: Annotated[DeclineForm, FORM],
    ) -> Template:
        access = _open_verified(db, token, request, state, for_action=True)
        if isinstance(access, Template):
            return access
        ip, ua = client_of(request)
        try:
            service.decline(session=db, access=access, reason=data.reason, ip=ip, user_agent=ua)
            db.commit()
        except SigningRefused as exc:
            db.rollback()
            return _sign_page(access, token, error=exc.detail, status=exc.status_code)
        except DomainError as exc:
            db.rollback()
            return _message("The agreement cannot be declined", exc.detail, exc.status_code)
        return _message(
            "You declined to sign",
            "We recorded your reason and told Klusaro. Nothing was signed.",
            200,
        )

    @get("/{token:str}/done", sync_to_thread=True)
    def done(self, token: FromPath[str], db: NamedDependency[Session]) -> Template:
        try:
            access = service.open_link(session=db, secret=token, for_action=False)
        except LinkRefused as exc:
            return _refused(exc)
        version = access.version
        return Template(
            "done.html",
            context={
                "token": token,
                "state": version.state,
                "signed_at": utc_label(version.signed_at) if version.signed_at else "",
                "completed_at": utc_label(version.completed_at) if version.completed_at else "",
                "final_sha256": version.final_pdf_sha256,
            },
        )

    @get("/{token:str}/signed.pdf", sync_to_thread=True)
    def signed_copy(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        state: State,
    ) -> Stream | Template:
        access = _open_verified(db, token, request, state, for_action=False)
        if isinstance(access, Template):
            return access
        version = access.version
        if version.state not in ("completed", "superseded") or not version.final_pdf_key:
            return _message(
                "Not countersigned yet",
                "The signed copy is ready once Klusaro has countersigned.",
                404,
            )
        return _pdf(
            db,
            state,
            version.final_pdf_key,
            version.final_pdf_sha256 or "",
            "attachment",
            f"dpa-{version.agreement_id}-v{version.number}-signed.pdf",
        )

    @post("/{token:str}/code/send", sync_to_thread=True, status_code=200)
    def send_code(
        self, token: FromPath[str], db: NamedDependency[Session], state: State
    ) -> Template:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            return _refused(exc)
        try:
            service.send_code(session=db, access=access)
        except SigningRefused as exc:
            db.rollback()
            return _code_page(access, token, sent=True, error=exc.detail, status=exc.status_code)
        db.commit()
        state.jobs.kick()  # deliver the code now rather than at the next sweep
        return _code_page(access, token, sent=True)

    @post("/{token:str}/code", sync_to_thread=True, status_code=303)
    def check_code(
        self,
        token: FromPath[str],
        db: NamedDependency[Session],
        state: State,
        data: Annotated[CodeForm, FORM],
    ) -> Template | Redirect:
        try:
            access = service.open_link(session=db, secret=token)
        except LinkRefused as exc:
            return _refused(exc)
        ok = service.check_code(session=db, access=access, code=data.code)
        db.commit()
        if not ok:
            return _code_page(
                access,
                token,
                sent=True,
                error="That code is not right, or it expired. Try again or ask for a new one.",
                status=422,
            )
        response: Redirect = Redirect(f"/sign/{token}", status_code=303)
        response.set_cookie(
            f"dpa_code_{access.link.id[:12]}",
            service.code_cookie_value(access, state.settings.resolved_secret_key()),
            path=f"/sign/{token}",
            httponly=True,
            samesite="none" if state.settings.public_url.startswith("https") else "lax",
            secure=state.settings.public_url.startswith("https"),
            max_age=3600,
        )
        return response
