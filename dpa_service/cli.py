"""The `dpa-service` command."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
import msgspec

from dpa_service.archive.base import ArchiveError
from dpa_service.config import REPO_ROOT, Settings, SettingsError

DEMO_WORKSPACE_ID = "demo-workspace"


def _settings() -> Settings:
    from dpa_service.agreements.terms import terms_from

    try:
        settings = Settings.from_env()
        terms_from(settings)  # a DPA figure out of its bounds stops every command here
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from dpa_service.db import make_engine

    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


@click.group()
def main() -> None:
    """dpa-service: GDPR Data Processing Agreements for Klusaro."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (and register the built-in templates)."""
    from dpa_service import migrations

    settings = _settings()
    engine = _engine(settings)
    migrations.upgrade(engine)
    click.echo(f"database at revision {migrations.current(engine)}")


def _demo(settings: Settings) -> None:
    from dpa_service.accounts.service import create_token
    from dpa_service.counterparties.schemas import parse_details
    from dpa_service.counterparties.service import upsert_workspace
    from dpa_service.db import make_session_factory

    engine = _engine(settings)
    details = parse_details((REPO_ROOT / "examples" / "workspace.json").read_bytes())
    with make_session_factory(engine)() as session:
        upsert_workspace(session=session, workspace_id=DEMO_WORKSPACE_ID, details=details)
        _, secret = create_token(session=session, role="app", name="demo")
        staff = _demo_staff(session)
        session.commit()
    base = settings.public_url.rstrip("/")
    if staff:
        logins = "\n".join(
            f"    {email:32} {password}  ({role})" for email, password, role in staff
        )
        click.echo(f"\nDemo staff users for {base}/staff/ (passwords shown once):\n{logins}")
    else:
        click.echo(
            "\nThe demo staff users exist already; `dpa-service users set-password` resets one."
        )
    click.echo(
        f"""
Demo workspace {DEMO_WORKSPACE_ID!r} is ready. An `app` API token was made for it:

    export DPA_TOKEN={secret}

Get its DPA (the first call renders version 1) and download the PDF:

    curl -s -X POST -H "Authorization: Bearer $DPA_TOKEN" {base}/api/v1/workspaces/{DEMO_WORKSPACE_ID}/agreements
    curl -s -H "Authorization: Bearer $DPA_TOKEN" -o dpa.pdf "<download_url from the answer>"

Until legal confirms the processor profile ({base}/staff/processor-profile, two legal users),
the DPA prints its assumptions as "[to be confirmed: …]" and cannot be sent for signature.

API reference: {base}/schema/openapi.json
"""
    )


DEMO_STAFF = (
    ("demo-admin@klusaro.com", "Demo Admin", "admin"),
    ("demo-legal@klusaro.com", "Demo Legal", "legal"),
    ("demo-legal2@klusaro.com", "Demo Reviewer", "legal"),  # four eyes need a second one
    ("demo-sales@klusaro.com", "Demo Sales", "sales"),
)


def _demo_staff(session: Any) -> list[tuple[str, str, str]]:
    """One staff user per role (two for legal), made once, with random passwords."""
    import secrets

    from dpa_service.accounts.users import create_user, find_user

    made = []
    for email, name, role in DEMO_STAFF:
        if find_user(session=session, email=email) is None:
            password = secrets.token_urlsafe(12)
            create_user(session=session, email=email, name=name, role=role, password=password)
            made.append((email, password, role))
    return made


@main.command()
@click.option("--host", default=None, help="Default DPA_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="Default DPA_PORT (8000).")
@click.option("--demo", is_flag=True, help="Migrate, add a demo workspace and print a token first.")
def serve(host: str | None, port: int | None, demo: bool) -> None:
    """Run the HTTP service."""
    import uvicorn

    from dpa_service import migrations
    from dpa_service.app import create_app
    from dpa_service.runtime import configure_logging

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    if "DPA_PUBLIC_URL" not in os.environ:
        # the links the service prints and answers point where it listens (not the default
        # port when --port or DPA_PORT says another)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        settings = settings.with_(public_url=f"http://{shown}:{port}")
    if demo:
        migrations.upgrade(_engine(settings))
        _demo(settings)
    configure_logging(settings)
    try:
        app = create_app(settings)
    except (migrations.NotMigrated, ArchiveError) as exc:
        raise click.ClickException(str(exc)) from None
    # One JSON line per request comes from the app (request id, masked signer tokens), so
    # uvicorn's own access log is off. On SIGTERM uvicorn stops accepting connections, lets the
    # requests in flight finish within DPA_SHUTDOWN_GRACE_SECONDS, then runs the app's shutdown
    # (job engine stopped, converter pool closed and its work files removed).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
        # Behind the TLS proxy the client's address (rate limits, the signer's recorded IP)
        # comes from X-Forwarded-For, trusted only from the proxy's own address.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


@main.command()
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
)
@click.option(
    "--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), required=True
)
def generate(input_path: Path, output_path: Path) -> None:
    """One DPA from a workspace JSON file to a PDF, with the built-in templates; no server or database.

    The built-in processor profile (templates/processor_profile.json) is printed as it is, its
    unconfirmed values marked; the workspace's language (and `bilingual`) pick the template sets.
    """
    from dpa_service.agreements.terms import terms_from
    from dpa_service.clauses.builtin import load_subprocessors, load_templates
    from dpa_service.clauses.models import record_key
    from dpa_service.clock import utcnow
    from dpa_service.counterparties.schemas import parse_details
    from dpa_service.ids import new_id
    from dpa_service.rendering.context import AgreementMeta, build_contexts
    from dpa_service.rendering.converter import ConverterPool
    from dpa_service.rendering.facts import load_processor_profile
    from dpa_service.rendering.pipeline import render_pdf
    from dpa_service.runtime import pool_settings

    settings = _settings()
    try:
        details = parse_details(input_path.read_bytes())
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise click.ClickException(f"{input_path}: {exc}") from None
    now = utcnow()
    data = details.to_dict()
    start = data.get("main_agreement_start")
    contexts = build_contexts(
        details=data,
        agreement=AgreementMeta(
            id=new_id(),
            version=1,
            issued_at=now,
            effective_on=date.fromisoformat(start) if start else None,
        ),
        subprocessor_entries=load_subprocessors(settings.templates_dir),
        subprocessor_list_version=1,
        subprocessor_list_approved_on=now,
        terms=terms_from(settings),
        processor_profile=load_processor_profile(settings.templates_dir / "processor_profile.json"),
    )
    sets = {
        lang: load_templates(
            settings.templates_dir if lang == "en" else settings.templates_dir / lang
        )
        for lang in contexts
    }
    languages = list(contexts)
    # no data folder for a one-off: the work files go to a private folder under the temp dir
    one_off = dataclasses.replace(pool_settings(settings.with_(converter_workers=1)), work_dir=None)
    with ConverterPool(one_off) as pool:
        rendered = render_pdf(
            pool,
            sets[languages[0]],
            contexts[languages[0]],
            {record_key(lang, k): 1 for lang in languages for k in sets[lang]},
            other_languages=[(sets[lang], contexts[lang]) for lang in languages[1:]],
        )
    output_path.write_bytes(rendered.pdf)
    click.echo(
        json.dumps(
            {
                "output": str(output_path),
                "sha256": rendered.sha256,
                "pages": rendered.pages,
                "languages": languages,
                "unconfirmed": contexts[languages[0]]["processor"]["unconfirmed"],
            }
        )
    )


@main.group()
def tokens() -> None:
    """API tokens (admin)."""


@tokens.command("create")
@click.option("--role", type=click.Choice(["app", "legal", "sales", "admin"]), required=True)
@click.option("--name", required=True)
@click.option(
    "--user",
    "user_email",
    default=None,
    help="A staff user's own token (same role): the API then acts as that person, which "
    "uploading, approving and rejecting templates and subprocessor lists require.",
)
def tokens_create(role: str, name: str, user_email: str | None) -> None:
    """Create a token; the secret is printed once and never stored."""
    from dpa_service import migrations
    from dpa_service.accounts.service import create_token
    from dpa_service.db import make_session_factory

    settings = _settings()
    engine = _engine(settings)
    try:
        migrations.ensure_migrated(engine)
        with make_session_factory(engine)() as session:
            user = None
            if user_email is not None:
                from dpa_service.accounts.users import find_user

                user = find_user(session=session, email=user_email)
                if user is None:
                    raise ValueError(f"no user {user_email}; make one with `users create`")
            token, secret = create_token(session=session, role=role, name=name, user=user)
            session.commit()
    except (migrations.NotMigrated, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"# token {token.id} (role {role}); store it now, it is not shown again", err=True)
    click.echo(secret)


@tokens.command("list")
def tokens_list() -> None:
    from dpa_service.accounts.service import list_tokens
    from dpa_service.db import make_session_factory

    with make_session_factory(_engine(_settings()))() as session:
        for t in list_tokens(session=session):
            state = "revoked" if t.revoked_at else "active"
            click.echo(f"{t.id}  {t.role:6}  {state:8}  {t.prefix}…  {t.name}")


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    from dpa_service.accounts.service import revoke_token
    from dpa_service.db import make_session_factory

    with make_session_factory(_engine(_settings()))() as session:
        if not revoke_token(session=session, token_id=token_id):
            raise click.ClickException(f"no token {token_id}")
        session.commit()
    click.echo(f"revoked {token_id}")


@main.group()
def users() -> None:
    """Staff users of the web UI (admin): create, list, unlock, set a password."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "legal", "sales"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a staff user (the first one: --role admin). The password is asked for."""
    from dpa_service import migrations
    from dpa_service.accounts.users import UserError, create_user
    from dpa_service.db import make_session_factory

    engine = _engine(_settings())
    try:
        migrations.ensure_migrated(engine)
        password = _read_password(password_stdin)
        with make_session_factory(engine)() as session:
            user = create_user(
                session=session, email=email, name=name, role=role, password=password
            )
            session.commit()
    except (migrations.NotMigrated, UserError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.email} ({user.role}); log in at /staff/login")


@users.command("list")
def users_list() -> None:
    from dpa_service.accounts.users import list_users, slowdowns
    from dpa_service.db import make_session_factory

    with make_session_factory(_engine(_settings()))() as session:
        slow = slowdowns(session=session)
        for u in list_users(session=session):
            state = "disabled" if u.disabled_at else ("slowed" if u.email in slow else "active")
            click.echo(f"{u.email}  {u.role:6}  {state:8}  {u.name}")


@users.command("unlock")
@click.argument("email")
def users_unlock(email: str) -> None:
    """Lift the slow-down after repeated failed log-ins, from every client address."""
    from dpa_service.accounts.users import find_user, unlock
    from dpa_service.db import make_session_factory

    with make_session_factory(_engine(_settings()))() as session:
        user = find_user(session=session, email=email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        unlock(session=session, user=user)
        session.commit()
    click.echo(f"lifted the slow-down of {email}")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set a new password; the user's open sessions end."""
    from dpa_service.accounts.users import UserError, find_user, set_password
    from dpa_service.db import make_session_factory

    with make_session_factory(_engine(_settings()))() as session:
        user = find_user(session=session, email=email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        try:
            set_password(session=session, user=user, password=_read_password(password_stdin))
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"password set for {email}")


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs run at once (default DPA_WORKER_CONCURRENCY, 4).",
)
def worker(concurrency: int | None) -> None:
    """Run background jobs from the queue (DPA_QUEUE_URL); start as many as you like, anywhere."""
    import asyncio

    from dpa_service.runtime import configure_logging
    from dpa_service.worker import make_worker

    settings = _settings()
    if not settings.queue_url:
        raise click.ClickException(
            "DPA_QUEUE_URL is not set: without a queue the service runs its jobs itself"
        )
    configure_logging(settings)
    saq_worker = make_worker(settings, concurrency=concurrency)
    click.echo(
        f"worker on {settings.queue_url} (archive: {settings.archive}, "
        f"concurrency: {saq_worker.concurrency})",
        err=True,
    )
    asyncio.run(saq_worker.start())


@main.group()
def archive() -> None:
    """The archive (admin)."""


@archive.command("sync")
@click.option(
    "--from-dir",
    "from_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The local archive to copy (default DPA_ARCHIVE_DIR).",
)
def archive_sync(from_dir: Path | None) -> None:
    """Copy the local archive into S3 (DPA_ARCHIVE=s3), checking every object's SHA-256."""
    from dpa_service.archive.local import LocalArchive
    from dpa_service.archive.service import copy_archive
    from dpa_service.db import make_session_factory
    from dpa_service.runtime import make_archive

    settings = _settings()
    if settings.archive != "s3":
        raise click.ClickException("set DPA_ARCHIVE=s3 and the DPA_S3_* variables of the target")
    target = make_archive(settings)
    try:
        target.check()
        with make_session_factory(_engine(settings))() as session:
            copied, present = copy_archive(
                session=session,
                source=LocalArchive(from_dir or settings.archive_dir),
                target=target,
            )
            session.commit()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{copied} objects copied, {present} already there")


def _trust_roots(path: Path | None) -> list[Any]:
    if path is None:
        return []
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(path.read_bytes()))
    except ValueError as exc:
        raise click.ClickException(f"{path}: not PEM certificates ({exc})") from None


@main.command()
@click.argument("pdf", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audit", "check_audit", is_flag=True, help="Walk every audit hash chain.")
@click.option("--archive", "check_archive", is_flag=True, help="Check every archived object.")
@click.option(
    "--trust-roots",
    "trust_roots",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM file of root certificates to trust besides the configured seal's own (e.g. the "
    "development CA's dev-ca.pem).",
)
def verify(
    pdf: Path | None, check_audit: bool, check_archive: bool, trust_roots: Path | None
) -> None:
    """Check a PDF against the seal and the archive, and/or every audit chain.

    Exit code 0 when everything is genuine, sealed by a trusted certificate and intact; 1
    otherwise (also for our archive's bytes sealed by a certificate not trusted here).
    """
    from dpa_service.audit import verify_chains
    from dpa_service.db import make_session_factory

    if pdf is None and not check_audit and not check_archive:
        raise click.UsageError("say what to verify: a PDF file, --audit and/or --archive")
    settings = _settings()
    failed = False
    with make_session_factory(_engine(settings))() as session:
        if pdf is not None:
            from dpa_service.runtime import make_sealer
            from dpa_service.signing.untrusted_pdf import parser_warnings_contained
            from dpa_service.signing.verification import verify_pdf

            sealer = make_sealer(settings, with_timestamps=False)
            with parser_warnings_contained(str(pdf)):
                verdict = verify_pdf(
                    session=session,
                    pdf=pdf.read_bytes(),
                    sealer=sealer,
                    extra_roots=_trust_roots(trust_roots),
                )
            click.echo(f"{verdict.status.upper()}: {verdict.message}")
            if verdict.status == "untrusted":
                click.echo("Pass --trust-roots with the root certificate you trust for it.")
            click.echo(json.dumps(verdict.as_dict(), indent=2))
            failed |= verdict.status != "completed"
        if check_audit:
            from dpa_service.audit.checkpoints import verify_anchoring
            from dpa_service.runtime import make_archive, make_sealer

            checked, breaks = verify_chains(session=session)
            for b in breaks:
                click.echo(f"BROKEN agreement {b.agreement_id} event {b.seq}: {b.reason}")
            anchoring = verify_anchoring(
                session=session,
                archive=make_archive(settings),
                sealer=make_sealer(settings, with_timestamps=False),
            )
            for agreement_id, problem in anchoring.problems:
                click.echo(
                    f"BROKEN agreement {agreement_id}: {problem}"
                    if agreement_id
                    else f"BROKEN audit checkpoints: {problem}"
                )
            problems = len(breaks) + len(anchoring.problems)
            click.echo(
                f"{checked} audit events checked against {anchoring.checkpoints} checkpoints and "
                f"{anchoring.certificates} sealed certificates, {problems} problems"
            )
            failed |= bool(problems)
        if check_archive:
            from dpa_service.archive.service import verify_archive
            from dpa_service.runtime import make_archive

            report = verify_archive(session=session, archive=make_archive(settings))
            for problem in report.problems:
                click.echo(problem)
            for key in report.extra:
                click.echo(f"EXTRA {key}: in the archive but not in the database")
            click.echo(
                f"{report.checked} archive objects checked, {len(report.problems)} problems, "
                f"{len(report.extra)} extra"
            )
            failed |= not report.ok
    if failed:
        sys.exit(1)


@main.command()
@click.option("--n", "n", type=int, default=40, show_default=True, help="Generations to time.")
@click.option("--concurrency", type=int, default=2, show_default=True)
@click.option("--baseline-n", type=int, default=5, show_default=True, help="Cold soffice runs.")
@click.option(
    "--memory-n", type=int, default=0, help="Also generate this many more and report RSS growth."
)
@click.option("--sign-n", type=int, default=10, show_default=True, help="Sign-to-sealed runs.")
@click.option(
    "--language",
    type=click.Choice(["en", "lv"]),
    default="en",
    show_default=True,
    help="The sample workspace's language.",
)
@click.option("--bilingual", is_flag=True, help="Both languages in one DPA.")
def bench(
    n: int,
    concurrency: int,
    baseline_n: int,
    memory_n: int,
    sign_n: int,
    language: str,
    bilingual: bool,
) -> None:
    """Print JSON figures: warm pool vs a cold `soffice --convert-to pdf` per document."""
    from dpa_service.bench import run_bench

    figures = run_bench(
        _settings(),
        n=n,
        concurrency=concurrency,
        baseline_n=baseline_n,
        memory_n=memory_n,
        sign_n=sign_n,
        language=language,
        bilingual=bilingual,
    )
    click.echo(json.dumps(figures, indent=2))


@main.command("bench-list")
@click.option(
    "--n", "n", type=int, default=100_000, show_default=True, help="Agreements to seed first."
)
@click.option("--runs", type=int, default=5, show_default=True, help="Requests per figure.")
@click.option("--no-seed", is_flag=True, help="Time the agreements already there.")
def bench_list(n: int, runs: int, no_seed: bool) -> None:
    """Seed N agreements into DPA_DATABASE_URL and time GET /api/v1/agreements (JSON figures,
    with PostgreSQL's query plan). The seeded rows stay: use a scratch database."""
    from dpa_service.list_bench import run_list_bench

    settings = _settings()
    figures = run_list_bench(settings, _engine(settings), n=n, runs=runs, seed_rows=not no_seed)
    click.echo(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
