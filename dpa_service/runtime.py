"""Composition: the parts a service process or a worker runs on, built from Settings."""

from __future__ import annotations

from dpa_service.archive.base import Archive
from dpa_service.archive.local import LocalArchive
from dpa_service.config import Settings
from dpa_service.jobs.context import JobContext
from dpa_service.jobs.engines import InProcessJobs, Jobs, QueueJobs
from dpa_service.jobs.periodic import sweep_once
from dpa_service.rendering.converter import PoolSettings
from dpa_service.signing.revocation import parse_paths
from dpa_service.signing.seal import Sealer, SealSettings


def pool_settings(settings: Settings) -> PoolSettings:
    return PoolSettings(
        size=settings.converter_workers,
        timeout_s=settings.converter_timeout_s,
        max_conversions=settings.converter_max_conversions,
        queue_limit=settings.converter_queue,
        python=settings.uno_python,
        soffice=settings.soffice,
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
