"""Composition: the parts a service process or a worker runs on, built from Settings."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from dpa_service.archive.base import Archive
from dpa_service.archive.local import LocalArchive
from dpa_service.clock import iso
from dpa_service.config import Settings
from dpa_service.jobs.context import JobContext
from dpa_service.jobs.engines import InProcessJobs, Jobs, QueueJobs
from dpa_service.jobs.periodic import sweep_once
from dpa_service.log_context import current_request_id
from dpa_service.models import ArchiveObject, OutboundEmail, ReissueItem, WebhookDelivery
from dpa_service.rendering.converter import PoolSettings
from dpa_service.signing.revocation import parse_paths
from dpa_service.signing.seal import Sealer, SealSettings

log = logging.getLogger(__name__)


def pool_settings(settings: Settings) -> PoolSettings:
    return PoolSettings(
        size=settings.converter_workers,
        timeout_s=settings.converter_timeout_s,
        max_conversions=settings.converter_max_conversions,
        queue_limit=settings.converter_queue,
        python=settings.uno_python,
        soffice=settings.soffice,
        work_dir=settings.data_dir / "converter",
    )


def make_archive(settings: Settings) -> Archive:
    if settings.archive == "s3":
        from dpa_service.archive.s3 import S3Archive, S3Settings  # boto3 only where it is used

        return S3Archive(
            S3Settings(
                bucket=settings.s3_bucket,
                region=settings.s3_region,
                endpoint_url=settings.s3_endpoint_url or None,
                sse=settings.s3_sse,
                kms_key_id=settings.s3_kms_key_id or None,
                object_lock_mode=settings.s3_object_lock_mode,
                retention_days=settings.s3_retention_days,
            )
        )
    return LocalArchive(settings.archive_dir)


def make_sealer(settings: Settings, *, with_timestamps: bool = True) -> Sealer:
    """The seal from DPA_SEAL_P12 (or the development one), with DPA_TSA_URL's timestamps."""
    return Sealer.from_settings(
        SealSettings(
            p12_path=settings.seal_p12,
            p12_password=settings.seal_p12_password,
            data_dir=settings.data_dir,
            tsa_url=(settings.tsa_url or None) if with_timestamps else None,
            tsa_ca_pem=settings.tsa_ca_pem,
            public_url=settings.public_url,
            crl_files=parse_paths(settings.seal_crl_files),
            fetch_revocation=settings.seal_fetch_revocation,
        )
    )


def make_jobs(ctx: JobContext) -> Jobs:
    """SAQ workers when DPA_QUEUE_URL is set (this process only enqueues), else a thread here."""
    settings = ctx.settings
    if settings.queue_url:
        return QueueJobs(settings.queue_url, settings.queue_name)
    return InProcessJobs(lambda: sweep_once(ctx), settings.sweep_seconds)


# -- logs ----------------------------------------------------------------------------------

_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request id in force
    (a request's, or the one a job works for) and whatever `extra=` the call added."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": iso(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """The process's log format (DPA_LOG_FORMAT) and level (DPA_LOG_LEVEL), for every logger."""
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "saq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)


# -- metrics read when scraped -------------------------------------------------------------


class MetricsCollector(Collector):
    """Figures read at scrape time: the converter pool's load, the work waiting per task, the
    archive objects not yet stored. Registered in a registry of the process's own (an app or a
    worker), so several apps in one process (tests) never clash."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        pool = self._ctx.pool
        if pool is not None:
            busy, queued = pool.load()
            yield GaugeMetricFamily(
                "dpa_converter_busy", "LibreOffice workers converting now", value=busy
            )
            yield GaugeMetricFamily(
                "dpa_converter_queued", "Conversions waiting for a LibreOffice worker", value=queued
            )
            yield GaugeMetricFamily(
                "dpa_converter_workers", "LibreOffice workers alive", value=len(pool.worker_pids())
            )
        try:
            depths, archive_pending = self._depths()
        except Exception as exc:  # the database is down: the other figures still count
            log.warning("metrics: cannot read queue depths: %s", exc)
            return
        depth = GaugeMetricFamily(
            "dpa_queue_depth", "Background work waiting in the database, by task", labels=["task"]
        )
        for task, count in depths.items():
            depth.add_metric([task], count)
        yield depth
        yield GaugeMetricFamily(
            "dpa_archive_pending", "Archive objects not stored yet", value=archive_pending
        )

    def _depths(self) -> tuple[dict[str, int], int]:
        def count(column: Any, *where: Any) -> int:
            return int(session.scalar(select(func.count(column)).where(*where)) or 0)

        with self._ctx.session_factory() as session:
            archive = count(ArchiveObject.id, ArchiveObject.state == "pending")
            depths = {
                "archive": archive,
                "mail": count(OutboundEmail.id, OutboundEmail.state.in_(("pending", "sending"))),
                "webhooks": count(
                    WebhookDelivery.id, WebhookDelivery.state.in_(("pending", "delivering"))
                ),
                "reissue": count(ReissueItem.id, ReissueItem.state.in_(("pending", "working"))),
            }
        return depths, archive


def metrics_registry(ctx: JobContext) -> CollectorRegistry:
    """This process's scrape-time figures; `metrics_text` adds the counters and histograms."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MetricsCollector(ctx))
    return registry


def serve_worker_metrics(ctx: JobContext, host: str, port: int) -> None:
    """A worker's /metrics (it serves no HTTP otherwise): the process-wide series and its own."""
    from prometheus_client import REGISTRY, start_http_server

    class Both(Collector):
        def __init__(self, registries: list[CollectorRegistry]) -> None:
            self._registries = registries

        def collect(self) -> Iterator[Metric]:
            for registry in self._registries:
                yield from registry.collect()

    combined = CollectorRegistry(auto_describe=False)
    combined.register(Both([REGISTRY, metrics_registry(ctx)]))
    start_http_server(port, addr=host, registry=combined)
    log.info("worker metrics on http://%s:%d/metrics", host, port)
