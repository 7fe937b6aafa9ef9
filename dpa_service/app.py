"""create_app(settings) -> Litestar: plugins, routes, lifespan. Nothing else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar, MediaType, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException, ValidationException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dpa_service import migrations
from dpa_service.accounts.guards import TokenAuthentication
from dpa_service.agreements.routes import AgreementController
from dpa_service.archive.base import Archive, ArchiveError, ArchiveUnreachable
from dpa_service.clauses.routes import TemplateController
from dpa_service.config import Settings
from dpa_service.counterparties.routes import WorkspaceController
from dpa_service.db import make_engine, make_session_factory
from dpa_service.errors import DomainError
from dpa_service.jobs.context import JobContext
from dpa_service.reissue.routes import ReissueApi
from dpa_service.rendering.converter import (
    ConverterBusy,
    ConverterError,
    ConverterPool,
    ConverterUnavailable,
)
from dpa_service.runtime import make_archive, make_jobs, make_sealer, pool_settings
from dpa_service.sales.routes import ProspectController
from dpa_service.signing.routes import SigningController
from dpa_service.signing.seal import Sealer
from dpa_service.subprocessors.routes import SubprocessorApi
from dpa_service.system.routes import health, ready
from dpa_service.web.headers import security_headers
from dpa_service.web.reissues import ReissuePages
from dpa_service.web.sales import SalesPages
from dpa_service.web.signing import SigningPages
from dpa_service.web.staff import LoginRequired, StaffPages, on_login_required
from dpa_service.web.subprocessors import (
    ObjectionPages,
    PublicSubprocessorPages,
    StaffSubprocessorPages,
)
from dpa_service.web.templates_pages import TemplatePages
from dpa_service.web.verify import VerifyApi, VerifyPage
from dpa_service.web.webhooks import WebhookPages
from dpa_service.webhooks.routes import WebhookController

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent / "web"
# No API token on these: liveness, the schema, signer links (their own token), verification.
PUBLIC_PATHS = [
    "^/health",
    "^/ready",
    "^/schema",
    "^/sign/",
    "^/verify",
    "^/static/",
    "^/api/v1/verify",
    "^/staff",  # staff pages check their own session cookie (dpa_service.web.staff)
    "^/subprocessors",  # the public list and its feed
    "^/objections/",  # a notice's objection link (its own token)
]
THROTTLED = ("/sign/", "/verify", "/api/v1/verify", "/staff/login", "/objections/")


def _is_throttled(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(THROTTLED)


def _problem(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[Any]:
    return Response(
        {"status_code": status, "detail": detail, **extra},
        status_code=status,
        headers=headers,
        media_type=MediaType.JSON,
    )


PAGE_HEADINGS = {404: "Not found", 409: "That is not possible now", 410: "No longer available"}


def _on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if request.url.path.startswith("/staff"):  # a person at a page: answer with a page
        return Template(
            "message.html",
            context={
                "heading": PAGE_HEADINGS.get(exc.status_code, "This cannot be done"),
                "message": exc.detail,
            },
            status_code=exc.status_code,
        )  # type: ignore[return-value]
    return _problem(exc.status_code, exc.detail, exc.headers)


def _on_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    # Litestar says 400 for a body that does not fit the schema; we say 422 Unprocessable Content.
    return _problem(422, "the request does not match the schema", extra=exc.extra)


def _on_permission_denied(
    request: Request[Any, Any, Any], exc: PermissionDeniedException
) -> Response[Any]:
    if request.url.path.startswith("/staff") and "CSRF" not in exc.detail:
        return Template(
            "message.html",
            context={"heading": "Not allowed", "message": exc.detail},
            status_code=403,
        )  # type: ignore[return-value]
    if request.url.path.startswith(("/sign/", "/verify", "/staff")):
        # A person at a form, most likely with an expired page: tell them what to do.
        return Template(
            "message.html",
            context={
                "heading": "This page has expired",
                "message": "For your security the form could not be accepted. Reload the page and try again.",
            },
            status_code=403,
        )  # type: ignore[return-value]
    return _problem(403, exc.detail)


def _on_converter_error(_: Request[Any, Any, Any], exc: ConverterError) -> Response[Any]:
    if isinstance(exc, ConverterBusy | ConverterUnavailable):
        return _problem(503, str(exc), {"Retry-After": str(exc.retry_after)})
    log.error("conversion failed: %s", exc)
    return _problem(500, "the document could not be converted to PDF")


def _on_archive_error(_: Request[Any, Any, Any], exc: ArchiveError) -> Response[Any]:
    log.error("archive: %s", exc)  # the details (bucket, endpoint) stay in the log
    return _problem(503, "the archive is not available; try again shortly", {"Retry-After": "5"})


def create_app(
    settings: Settings,
    *,
    pool: ConverterPool | None = None,
    archive: Archive | None = None,
    engine: Engine | None = None,
    sealer: Sealer | None = None,
) -> Litestar:
    """Build the app. A pool passed in is shared and left running; otherwise the app owns one."""
    engine = engine or make_engine(settings.database_url)
    migrations.ensure_migrated(engine)  # refuse to start on an unmigrated database
    session_factory = make_session_factory(engine)
    archive = archive or make_archive(settings)
    try:
        archive.check()  # e.g. an S3 bucket without versioning: refuse to start
    except ArchiveUnreachable as exc:
        # Not a misconfiguration: start, keep work pending, and say so on /ready.
        log.warning("archive not reachable at start: %s", exc)
    owns_pool = pool is None
    pool = pool or ConverterPool(pool_settings(settings))
    sealer = sealer or make_sealer(settings)
    secret_key = settings.resolved_secret_key()
    jobs = make_jobs(JobContext(session_factory, archive, settings, pool, sealer))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if owns_pool:
            await anyio.to_thread.run_sync(pool.start)
        await anyio.to_thread.run_sync(jobs.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(jobs.stop)
            if owns_pool:
                pool.close()

    def provide_db(state: State) -> Iterator[Session]:
        session: Session = state.session_factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    return Litestar(
        route_handlers=[
            health,
            ready,
            WorkspaceController,
            ProspectController,
            AgreementController,
            SigningController,
            TemplateController,
            VerifyApi,
            SigningPages,
            VerifyPage,
            StaffPages,
            TemplatePages,
            SalesPages,
            ReissueApi,
            ReissuePages,
            WebhookController,
            WebhookPages,
            SubprocessorApi,
            PublicSubprocessorPages,
            ObjectionPages,
            StaffSubprocessorPages,
            create_static_files_router(path="/static", directories=[WEB / "static"]),
        ],
        dependencies={"db": Provide(provide_db)},
        middleware=[
            security_headers(settings.frame_ancestors),
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_per_minute),
                check_throttle_handler=_is_throttled,
            ).middleware,
            DefineMiddleware(
                TokenAuthentication,
                exclude=PUBLIC_PATHS,
                exclude_from_auth_key="exclude_from_auth",
            ),
        ],
        csrf_config=CSRFConfig(
            secret=secret_key,
            cookie_name="dpa_csrf",
            cookie_secure=settings.public_url.startswith("https"),
            # Embedded signing runs in the Klusaro app's iframe, a third-party context where only
            # SameSite=None cookies are kept (and those need https); the token still protects.
            cookie_samesite="none" if settings.public_url.startswith("https") else "lax",
            exclude=["^/api/", "^/health", "^/ready", "^/schema"],
        ),
        template_config=TemplateConfig(directory=WEB / "templates", engine=JinjaTemplateEngine),
        exception_handlers={
            DomainError: _on_domain_error,
            ValidationException: _on_validation_error,
            PermissionDeniedException: _on_permission_denied,
            ConverterError: _on_converter_error,
            ArchiveError: _on_archive_error,
            LoginRequired: on_login_required,
        },
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "session_factory": session_factory,
                "archive": archive,
                "pool": pool,
                "sealer": sealer,
                "jobs": jobs,
            }
        ),
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="dpa-service",
            version="1",
            description="GDPR Data Processing Agreements for Klusaro workspaces.",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="API token"
                    )
                }
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
    )
