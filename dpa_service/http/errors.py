"""How errors reach people: JSON problem replies on the API, pages in the browser.

A handler that raises has its unit of work rolled back (see `unit_of_work`). A staff page whose
handler names where to go `back` (`opt={"back": "/staff/prospects/{prospect_id}"}`) answers a
refused action by sending the browser back there with the reason; other pages answer with a
message page; the API with `{"status_code": …, "detail": …}`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.response import Redirect, Template
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from dpa_service.archive.base import ArchiveError
from dpa_service.errors import DomainError
from dpa_service.http.auth import LoginRequired
from dpa_service.i18n import template_words
from dpa_service.rendering.converter import ConverterBusy, ConverterError, ConverterUnavailable

log = logging.getLogger(__name__)

PAGE_HEADINGS = {
    403: "Not allowed",
    404: "Not found",
    409: "That is not possible now",
    410: "No longer available",
    422: "This cannot be done",
}
NOT_PAGES = ("/api/", "/schema", "/health", "/ready", "/metrics")


class PageAnswer(Exception):
    """Show this page instead of the handler's result; what the handler wrote is rolled back.

    For forms that are shown again with what was entered and the reason it was refused. The
    unit of work renders the page after the rollback, while the session can still load what
    the page shows (see `unit_of_work.provide_db`).
    """

    def __init__(self, response: Response[Any]) -> None:
        super().__init__(getattr(response, "status_code", 400))
        self.response = response

    def render(self, request: Request[Any, Any, Any]) -> None:
        """Turn a template into its HTML now, with the session still open."""
        page = self.response
        if not isinstance(page, Template):
            return
        engine = request.app.template_engine
        assert engine is not None
        html = engine.get_template(page.template_name or "").render(
            **page.create_template_context(request)
        )
        self.response = Response(
            html,
            status_code=page.status_code,
            media_type=MediaType.HTML,
            headers=dict(page.headers),
            cookies=list(page.cookies),
        )


def problem(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[Any]:
    return Response(
        {"status_code": status, "detail": detail, **extra},
        status_code=status,
        headers=headers,
        media_type=MediaType.JSON,
    )


def message_page(
    heading: str,
    message: str,
    status: int,
    headers: dict[str, str] | None = None,
    language: str = "en",
) -> Template:
    """A page with one message; `heading` and `message` already in `language`."""
    return Template(
        "message.html",
        context={**template_words(language), "heading": heading, "message": message},
        status_code=status,
        headers=headers,
    )


def back_with(path: str, *, done: str | None = None, error: str | None = None) -> Redirect:
    """Back to a staff page with a note it shows (`done`) or a reason (`error`)."""
    note = f"done={quote(done[:300])}" if done else f"error={quote((error or '')[:300])}"
    return Redirect(f"{path}?{note}", status_code=303)


def _is_page(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def _back(request: Request[Any, Any, Any]) -> str | None:
    """Where a staff form sends the browser after a refusal, if its handler says (a page read
    with GET only when it says `back_on_get`, and once: a page sent back that fails again is an
    error page, never a redirect loop)."""
    if not request.url.path.startswith("/staff"):
        return None
    try:
        opt = request.route_handler.opt
    except Exception:  # no route matched
        return None
    if request.method != "POST" and (
        not opt.get("back_on_get") or "error" in request.query_params  # sent back already
    ):
        return None
    back = opt.get("back")
    return str(back).format(**request.path_params) if back else None


def _as_page(
    request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None
) -> Response[Any]:
    back = _back(request)
    if back:
        return back_with(back, error=detail)
    heading = PAGE_HEADINGS.get(status, "This cannot be done")
    return message_page(heading, detail, status, headers)  # type: ignore[return-value]


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _is_page(request):
        return _as_page(request, exc.status_code, exc.detail, exc.headers or None)
    return problem(exc.status_code, exc.detail, exc.headers)


def on_page_answer(_: Request[Any, Any, Any], exc: PageAnswer) -> Response[Any]:
    return exc.response


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    if any(isinstance(e, dict) and e.get("source") == "path" for e in errors):
        # A path that names something impossible (version 2**63, say) names nothing.
        if _is_page(request):
            return message_page("Not found", "There is no such page.", 404)  # type: ignore[return-value]
        return problem(404, "not found")
    # Litestar says 400 for a body that does not fit the schema; we say 422 Unprocessable Content,
    # and name the first problem in the detail.
    first = next((e.get("message") for e in errors if isinstance(e, dict)), None)
    if first == "'data'":  # Litestar's word for a required body that is missing
        first = "this operation needs a JSON body"
    detail = "the request does not match the schema" + (f": {first}" if first else "")
    return problem(422, detail, extra=exc.extra)


def on_too_deep(_: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    return problem(400, "the request body is nested too deeply")


def on_permission_denied(
    request: Request[Any, Any, Any], exc: PermissionDeniedException
) -> Response[Any]:
    if not _is_page(request):
        return problem(403, exc.detail)
    if "CSRF" in exc.detail:
        # A person at a form, most likely with an expired page: tell them what to do.
        return message_page(
            "This page has expired",
            "For your security the form could not be accepted. Reload the page and try again.",
            403,
        )  # type: ignore[return-value]
    return message_page("Not allowed", exc.detail, 403)  # type: ignore[return-value]


def on_converter_error(request: Request[Any, Any, Any], exc: ConverterError) -> Response[Any]:
    busy = isinstance(exc, ConverterBusy | ConverterUnavailable)
    if not busy:
        log.error("conversion failed: %s", exc)
    if _is_page(request):
        return _as_page(
            request,
            503 if busy else 500,
            "The document could not be made just now; try again in a minute.",
            {"Retry-After": str(getattr(exc, "retry_after", 2))} if busy else None,
        )
    if busy:
        return problem(503, str(exc), {"Retry-After": str(getattr(exc, "retry_after", 2))})
    return problem(500, "the document could not be converted to PDF")


def on_archive_error(request: Request[Any, Any, Any], exc: ArchiveError) -> Response[Any]:
    log.error("archive: %s", exc)  # the details (bucket, endpoint) stay in the log
    detail = "the archive is not available; try again shortly"
    if _is_page(request):
        return _as_page(request, 503, detail.capitalize() + ".", {"Retry-After": "5"})
    return problem(503, detail, {"Retry-After": "5"})


def on_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database did not answer (restarting, failing over, connections dropped): nothing
    was committed, so the client may simply try again. The pool's pre-ping replaces the dropped
    connections, so the service recovers by itself once the database is back."""
    log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
    detail = "the database is not available; try again shortly"
    if _is_page(request):
        return _as_page(request, 503, detail.capitalize() + ".", {"Retry-After": "2"})
    return problem(503, detail, {"Retry-After": "2"})


def on_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return on_database_unavailable(request, exc)
    log.error("database error", exc_info=exc)
    if _is_page(request):
        return _as_page(request, 500, "Something went wrong; try again.", None)
    return problem(500, "Internal Server Error")


def on_login_required(_: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    return Redirect(f"/staff/login?next={quote(exc.next_path, safe='/')}", status_code=303)


def _nul_in_text(exc: BaseException) -> bool:
    """PostgreSQL cannot store U+0000; psycopg refuses it while sending the statement."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ValueError) and "NUL" in str(cause):
            return True
        cause = cause.__cause__ or getattr(cause, "orig", None)
    return False


def on_anything_else(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar's own HTTP errors keep their status; anything unexpected is logged with its
    traceback and answered 500 (a page for people, JSON on the API)."""
    if isinstance(exc, HTTPException):
        status, detail, headers = exc.status_code, exc.detail, exc.headers or None
        if status >= 500:
            log.error("%s %s answered %d: %s", request.method, request.url.path, status, detail)
    elif _nul_in_text(exc):
        status, detail, headers = 422, "text may not contain the character U+0000 (NUL)", None
    else:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        status, detail, headers = 500, "something went wrong on our side; try again later", None
    if _is_page(request):
        heading = PAGE_HEADINGS.get(status, "Something went wrong" if status >= 500 else "Error")
        return message_page(heading, detail, status, headers)  # type: ignore[return-value]
    return problem(status, detail, headers)


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    Exception: on_anything_else,
    DomainError: on_domain_error,
    PageAnswer: on_page_answer,
    ValidationException: on_validation_error,
    RecursionError: on_too_deep,
    PermissionDeniedException: on_permission_denied,
    ConverterError: on_converter_error,
    ArchiveError: on_archive_error,
    LoginRequired: on_login_required,
    DBAPIError: on_database_error,
    SQLAlchemyTimeoutError: on_database_unavailable,  # no free connection in the pool
}
