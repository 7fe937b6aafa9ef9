"""Settings: one frozen dataclass, read from DPA_* environment variables, with embedded defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A DPA_* variable holds a value the service cannot use."""


def _cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file in data_dir
    archive_dir: Path = Path("signed")
    mail_dir: Path = Path()  # empty: data_dir/outbox
    templates_dir: Path = REPO_ROOT / "templates"
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: str = "json"  # json: one JSON object a line (request id, job, …); text: plain
    forwarded_allow_ips: str = ""  # the TLS proxy's address(es): then X-Forwarded-For is trusted

    converter_workers: int = field(default_factory=_cpu_count)
    converter_timeout_s: float = 30.0
    converter_max_conversions: int = 200
    converter_queue: int = 16
    uno_python: str = "/usr/bin/python3"
    soffice: str = "soffice"

    breach_notice_hours: int = 48
    subprocessor_notice_days: int = 30
    return_deletion_days: int = 30
    audit_notice_days: int = 30
    processor_signatory_name: str = ""
    processor_signatory_title: str = "Authorised signatory"

    secret_key: str = ""  # empty: generated once and kept in data_dir/secret_key
    seal_p12: Path | None = None  # empty: a development CA and seal in data_dir/seal/
    seal_p12_password: str = ""
    tsa_url: str = ""  # RFC 3161 timestamp server; empty: no timestamp
    tsa_ca_pem: Path | None = None  # PEM of the TSA's root certificate(s); required with a TSA
    seal_crl_files: str = ""  # CRL files (DER/PEM) for the seal's and TSA's chains, kept current
    seal_fetch_revocation: bool = False  # fetch CRLs/OCSP online while sealing
    auto_countersign: bool = False  # countersign as processor_signatory_* right after signing
    audit_checkpoint_minutes: int = 60  # anchor grown audit chains this often (and at completions)
    signing_expiry_days: int = 30
    embedded_link_minutes: int = 15
    signing_code_required: bool = False  # e-mail one-time code before signing, for every link
    frame_ancestors: str = ""  # Klusaro origins allowed to embed the signing page
    rate_limit_per_minute: int = 30  # per client, on signing, code and verify endpoints

    archive: str = "local"  # local | s3
    s3_bucket: str = ""
    s3_region: str = "eu-central-1"
    s3_endpoint_url: str = ""  # empty: AWS itself
    s3_sse: str = "AES256"  # none | AES256 | aws:kms
    s3_kms_key_id: str = ""
    s3_object_lock_mode: str = "COMPLIANCE"  # GOVERNANCE | COMPLIANCE | none
    s3_retention_days: int = 3650
    s3_presigned_downloads: bool = False  # redirect downloads to a short-lived presigned URL
    queue_url: str = ""  # redis://… : jobs go to SAQ workers; empty: a thread in the service
    queue_name: str = "dpa"
    sweep_seconds: float = 5.0  # how often pending work (mail, webhooks, archive) is looked for
    job_timeout_seconds: int = 120  # a queued job running longer (or whose worker died) is redone
    redis_url: str = ""  # Redis shared by the replicas (rate limits); empty: DPA_QUEUE_URL's
    worker_concurrency: int = 4  # jobs one `dpa-service worker` runs at once
    shutdown_grace_seconds: float = 30.0  # on SIGTERM: in-flight requests and jobs finish first
    metrics_port: int = 0  # a worker serves /metrics on DPA_HOST:this port; 0: none

    # staff accounts (web UI)
    login_max_failures: int = 5  # failed logins in a row before the account is locked
    login_lockout_minutes: int = 15
    staff_session_hours: int = 12

    # e-mail: SMTP when DPA_SMTP_HOST is set, otherwise .eml files in mail_dir
    mail_from: str = "Klusaro DPA <dpa@klusaro.com>"
    mail_return_path: str = ""  # bounce address (SMTP MAIL FROM); empty: mail_from's address
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True  # upgrade with STARTTLS (required when on)
    smtp_ssl: bool = False  # implicit TLS (port 465)
    smtp_timeout_s: float = 15.0
    mail_max_attempts: int = 12  # with exponential backoff (1 min … 6 h), about 24 h in all

    # sales: reminders and expiry of DPAs sent by e-mail
    prospect_expiry_days: int = 30  # a DPA e-mailed to a prospect expires after this
    reminder_days: str = "3,7"  # days after sending; empty: no reminders

    # webhooks to the Klusaro app
    webhook_timeout_s: float = 10.0
    webhook_retry_hours: int = 30  # retried with exponential backoff for at least this long
    webhook_allow_private: bool = False  # endpoints on loopback/private addresses (dev, tests)

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite:///{(self.data_dir / 'dpa.sqlite3').resolve()}"
            object.__setattr__(self, "database_url", url)
        if self.database_url.startswith(("postgresql://", "postgres://")):
            rest = self.database_url.split("://", 1)[1]
            object.__setattr__(self, "database_url", f"postgresql+psycopg://{rest}")
        if self.mail_dir == Path():
            object.__setattr__(self, "mail_dir", self.data_dir / "outbox")
        if self.converter_workers < 1:
            raise SettingsError("DPA_CONVERTER_WORKERS must be at least 1")
        if self.converter_timeout_s <= 0:
            raise SettingsError("DPA_CONVERTER_TIMEOUT_S must be positive")
        if self.audit_checkpoint_minutes < 0:
            raise SettingsError("DPA_AUDIT_CHECKPOINT_MINUTES must be 0 (completions only) or more")
        if self.archive not in ("local", "s3"):
            raise SettingsError("DPA_ARCHIVE must be local or s3")
        if self.archive == "s3" and not self.s3_bucket:
            raise SettingsError("DPA_ARCHIVE=s3 needs DPA_S3_BUCKET")
        if self.s3_sse not in ("none", "AES256", "aws:kms"):
            raise SettingsError("DPA_S3_SSE must be none, AES256 or aws:kms")
        if self.s3_object_lock_mode not in ("GOVERNANCE", "COMPLIANCE", "none"):
            raise SettingsError("DPA_S3_OBJECT_LOCK_MODE must be GOVERNANCE, COMPLIANCE or none")
        if self.log_format not in ("json", "text"):
            raise SettingsError("DPA_LOG_FORMAT must be json or text")
        if self.worker_concurrency < 1:
            raise SettingsError("DPA_WORKER_CONCURRENCY must be at least 1")
        self.reminder_schedule  # noqa: B018 - refuse a bad DPA_REMINDER_DAYS at start

    @property
    def reminder_schedule(self) -> tuple[int, ...]:
        """DPA_REMINDER_DAYS ("3,7": days after sending) as sorted day counts; empty: none."""
        days: set[int] = set()
        for part in self.reminder_days.split(","):
            if not part.strip():
                continue
            try:
                day = int(part)
            except ValueError:
                raise SettingsError(
                    f"DPA_REMINDER_DAYS={self.reminder_days!r}: whole days separated by commas"
                ) from None
            if not 1 <= day <= 365:
                raise SettingsError(f"DPA_REMINDER_DAYS: {day} is not between 1 and 365")
            days.add(day)
        return tuple(sorted(days))

    def resolved_secret_key(self) -> str:
        """DPA_SECRET_KEY, or one generated on first use and kept (0600) in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        elif path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
            path.chmod(0o600)  # a key readable by others is not a secret
        return path.read_text().strip()

    @property
    def shared_redis_url(self) -> str:
        """Redis that every replica shares (rate limits), if any: DPA_REDIS_URL or the queue's."""
        return self.redis_url or self.queue_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"DPA_{f.name.upper()}")
            if raw is None:
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            try:
                if kind == "bool":
                    if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
                        raise ValueError
                    values[f.name] = raw.lower() in ("1", "true", "yes", "on")
                elif kind == "int":
                    values[f.name] = int(raw)
                elif kind == "float":
                    values[f.name] = float(raw)
                elif kind in ("Path", "Path | None"):
                    values[f.name] = Path(raw) if raw else None
                else:
                    values[f.name] = raw
            except ValueError:
                raise SettingsError(f"DPA_{f.name.upper()}={raw!r} is not a valid {kind}") from None
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def documented_variables() -> list[str]:
    """Every DPA_* variable the service reads (the README lists the same)."""
    return [f"DPA_{f.name.upper()}" for f in fields(Settings)]
