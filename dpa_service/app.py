"""create_app(settings) -> Litestar: routes, middleware, dependencies, lifespan. Nothing else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from sqlalchemy import Engine

from dpa_service import migrations
from dpa_service.agreements.routes import AgreementController
from dpa_service.agreements.terms import terms_from
from dpa_service.archive.base import Archive, ArchiveUnreachable
from dpa_service.clauses.routes import TemplateController
from dpa_service.config import Settings
from dpa_service.counterparties.routes import WorkspaceController
from dpa_service.db import make_engine, make_session_factory
from dpa_service.http.auth import PUBLIC_PATHS, Authentication, current_user
from dpa_service.http.errors import EXCEPTION_HANDLERS
from dpa_service.http.idempotency import provide_idempotency
from dpa_service.http.observe import metrics, request_ids
from dpa_service.http.openapi import complete_openapi
from dpa_service.http.rate_limit import SharedRateLimitMiddleware
from dpa_service.http.unit_of_work import provide_db
from dpa_service.jobs.context import JobContext
from dpa_service.profile.routes import ProcessorProfileApi
from dpa_service.reissue.routes import ReissueApi
from dpa_service.rendering.converter import ConverterPool
from dpa_service.runtime import (
    make_archive,
    make_jobs,
    make_sealer,
    metrics_registry,
    pool_settings,
)
from dpa_service.sales.routes import ProspectController
from dpa_service.signing.routes import SigningController
from dpa_service.signing.seal import Sealer
from dpa_service.subprocessors.routes import SubprocessorApi
from dpa_service.system.routes import ReadinessChecks, health, ready
from dpa_service.web.agreements import AgreementPages
from dpa_service.web.headers import no_body_for_head, security_headers
from dpa_service.web.pki import dev_ca_crl
from dpa_service.web.profile import ProcessorProfilePages
from dpa_service.web.reissues import ReissuePages
from dpa_service.web.sales import SalesPages
from dpa_service.web.signing import SigningPages
from dpa_service.web.staff import StaffPages
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
THROTTLED = ("/sign/", "/verify", "/api/v1/verify", "/staff/login", "/objections/")
ROUTES: list[Any] = [
    health,
    ready,
    dev_ca_crl,
    metrics,
    WorkspaceController,
    ProspectController,
    AgreementController,
    SigningController,
    TemplateController,
    SubprocessorApi,
    ProcessorProfileApi,
    ReissueApi,
    WebhookController,
    VerifyApi,
    SigningPages,
    VerifyPage,
    StaffPages,
    AgreementPages,
    TemplatePages,
    SalesPages,
    ReissuePages,
    WebhookPages,
    PublicSubprocessorPages,
    ObjectionPages,
    StaffSubprocessorPages,
    ProcessorProfilePages,
    create_static_files_router(path="/static", directories=[WEB / "static"]),
]


def _with_i18n(engine: JinjaTemplateEngine) -> None:
    """`{% trans %}` in the page templates: a page passes the words of its reader's language
    (i18n.template_words); a page that passes none is in English."""
    engine.engine.add_extension("jinja2.ext.i18n")
    engine.engine.install_null_translations()  # type: ignore[attr-defined]


def _is_throttled(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(THROTTLED)


def _shared_stores(settings: Settings) -> tuple[dict[str, Store], Any]:
    """With Redis shared by the replicas: the rate-limit store there, and a client for /ready."""
    url = settings.shared_redis_url
    if not url:
        return {}, None
    import redis
    import redis.asyncio

    store = RedisStore(
        redis=redis.asyncio.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1),
        # every replica of one deployment counts under the same keys
        namespace=f"dpa-rate-limit-{settings.queue_name}",
        handle_client_shutdown=True,
    )
    return {"rate_limit": store}, redis.Redis.from_url(
        url, socket_timeout=1, socket_connect_timeout=1
    )


def _value(value: Any) -> Provide:
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


def create_app(
    settings: Settings,
    *,
    pool: ConverterPool | None = None,
    archive: Archive | None = None,
    engine: Engine | None = None,
    sealer: Sealer | None = None,
) -> Litestar:
    """Build the app. A pool passed in is shared and left running; otherwise the app owns one.

    Refuses (SettingsError) DPA_* figures outside the bounds a DPA may print."""
    terms_from(settings)
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
    job_context = JobContext(session_factory, archive, settings, pool, sealer)
    jobs = make_jobs(job_context)
    stores, redis_client = _shared_stores(settings)
    readiness = ReadinessChecks()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if owns_pool:
            await anyio.to_thread.run_sync(pool.start)
        await anyio.to_thread.run_sync(jobs.start)
        try:
            yield
        finally:
            job_context.stopping.set()  # a sweep in hand takes no new rows
            await anyio.to_thread.run_sync(jobs.stop)
            readiness.close()
            if owns_pool:
                pool.close()  # removes its work files too
            if redis_client is not None:
                redis_client.close()

    https = settings.public_url.startswith("https")
    app = Litestar(
        route_handlers=ROUTES,
        dependencies={
            "db": Provide(provide_db),
            "user": Provide(current_user, sync_to_thread=False),
            "idempotency": Provide(provide_idempotency),
            "settings": _value(settings),
            "pool": _value(pool),
            "archive": _value(archive),
            "sealer": _value(sealer),
            "job_context": _value(job_context),
        },
        before_send=[security_headers(settings.frame_ancestors, https=https), no_body_for_head],
        middleware=[
            request_ids,
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_per_minute),
                check_throttle_handler=_is_throttled,
                middleware_class=SharedRateLimitMiddleware,
            ).middleware,
            DefineMiddleware(
                Authentication, exclude=PUBLIC_PATHS, exclude_from_auth_key="exclude_from_auth"
            ),
        ],
        csrf_config=CSRFConfig(
            secret=settings.resolved_secret_key(),
            cookie_name="dpa_csrf",
            cookie_secure=https,
            # Embedded signing runs in the Klusaro app's iframe, a third-party context where only
            # SameSite=None cookies are kept (and those need https); the token still protects.
            cookie_samesite="none" if https else "lax",
            exclude=["^/api/", "^/health", "^/ready", "^/metrics", "^/schema"],
        ),
        template_config=TemplateConfig(
            directory=WEB / "templates", engine=JinjaTemplateEngine, engine_callback=_with_i18n
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "session_factory": session_factory,
                "archive": archive,
                "pool": pool,
                "sealer": sealer,
                "jobs": jobs,
                "redis": redis_client,
                "readiness": readiness,
                "metrics_registry": metrics_registry(job_context),
            }
        ),
        stores=stores,
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
        # The process configures logging (`runtime.configure_logging`: JSON lines, written at
        # once, so the last lines before an exit are never lost in a queue)
        logging_config=None,
    )
    complete_openapi(app.openapi_schema, public_paths=PUBLIC_PATHS, limited_prefixes=THROTTLED)
    return app
