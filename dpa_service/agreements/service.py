"""Agreements: make a new version of a workspace's DPA when needed, render and archive it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service import audit
from dpa_service.agreements import lifecycle
from dpa_service.agreements.lifecycle import CLOSED
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.agreements.terms import terms_from
from dpa_service.archive import service as archive_service
from dpa_service.archive.base import version_key
from dpa_service.clauses import service as clauses
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.counterparties import service as counterparties
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import end_read_transaction
from dpa_service.errors import Conflict, NotFound
from dpa_service.ids import new_id
from dpa_service.rendering.context import AgreementMeta, build_context
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.pipeline import RenderedDPA, render_pdf
from dpa_service.signing.links import revoke_links
from dpa_service.subprocessors import service as subprocessors


@dataclass(frozen=True)
class Outcome:
    version: AgreementVersion
    created: bool
    rendered: RenderedDPA | None = None


def _latest(session: Session, agreement_id: str) -> AgreementVersion | None:
    return session.scalars(
        select(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement_id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).first()


def request_dpa(
    *,
    session: Session,
    pool: ConverterPool,
    settings: Settings,
    workspace_id: str,
    new_version: bool,
    actor: str,
) -> Outcome:
    """Return the workspace's current DPA version, or make the next one."""
    workspace = counterparties.get_workspace(session=session, workspace_id=workspace_id)
    return request_dpa_for(
        session=session,
        pool=pool,
        settings=settings,
        counterparty=workspace,
        new_version=new_version,
        actor=actor,
    )


def request_dpa_for(
    *,
    session: Session,
    pool: ConverterPool,
    settings: Settings,
    counterparty: Counterparty,
    new_version: bool,
    actor: str,
) -> Outcome:
    """Return the counterparty's current DPA version (workspace or prospect), or make the next.

    A new version is made when there is none, when the details changed since the latest
    version, or when asked for. The read transaction ends before the conversion so the
    database is not held while LibreOffice works; the caller commits the writes.
    """
    workspace = counterparty
    agreement = session.scalar(select(Agreement).where(Agreement.counterparty_id == workspace.id))
    latest = _latest(session, agreement.id) if agreement else None
    if (
        latest
        and not new_version
        and latest.counterparty_sha256 == workspace.details_sha256
        and latest.state not in CLOSED
    ):
        return Outcome(latest, created=False)

    templates = clauses.current_approved(session=session)
    sp_list = subprocessors.current_approved(session=session)
    agreement_id = agreement.id if agreement else new_id()
    number = latest.number + 1 if latest else 1
    details, details_sha = dict(workspace.details), workspace.details_sha256
    end_read_transaction(session)  # the database is not held while LibreOffice works

    terms = terms_from(settings)
    context = build_context(
        details=details,
        agreement=AgreementMeta(id=agreement_id, version=number, issued_at=utcnow()),
        subprocessor_entries=sp_list.entries,
        subprocessor_list_version=sp_list.version,
        subprocessor_list_approved_on=sp_list.approved_at or sp_list.created_at,
        terms=terms,
        processor_signatory=(settings.processor_signatory_name, settings.processor_signatory_title),
    )
    rendered = render_pdf(pool, templates.contents, context, templates.numbers)

    key = version_key(agreement_id, number, "draft.pdf")
    try:
        if agreement is None:
            session.add(Agreement(id=agreement_id, counterparty_id=workspace.id))
            session.flush()
        version = AgreementVersion(
            agreement_id=agreement_id,
            number=number,
            state="draft",
            counterparty_snapshot=details,
            counterparty_sha256=details_sha,
            template_versions=templates.record(),
            terms=dataclasses.asdict(terms),
            subprocessor_list_version_id=sp_list.id,
            subprocessor_list_version=sp_list.version,
            draft_pdf_key=key,
            draft_pdf_sha256=rendered.sha256,
            pages=rendered.pages,
        )
        session.add(version)
        session.flush()
        if agreement is not None:
            session.expire(agreement, ["versions"])  # the loaded list lacks the new version
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "another request made this agreement version at the same time; retry"
        ) from None
    audit.record(
        session=session,
        agreement_id=agreement_id,
        version=number,
        type="version.created",
        actor=actor,
        data={
            "state": "draft",
            "pdf_sha256": rendered.sha256,
            "counterparty_sha256": details_sha,
            "template_versions": templates.numbers,
            "subprocessor_list_version": sp_list.version,
        },
    )
    archive_service.stage(
        session=session,
        agreement_id=agreement_id,
        version=number,
        artifact="draft.pdf",
        data=rendered.pdf,
    )
    _void_older_unsigned(session, agreement_id, number, actor)
    return Outcome(version, created=True, rendered=rendered)


def _void_older_unsigned(session: Session, agreement_id: str, number: int, actor: str) -> None:
    """Only the newest version may be signed: older unsigned ones are voided, links withdrawn."""
    older = session.scalars(
        select(AgreementVersion).where(
            AgreementVersion.agreement_id == agreement_id,
            AgreementVersion.number < number,
            AgreementVersion.state.in_(("draft", "sent", "viewed")),
        )
    ).all()
    now = utcnow()
    for version in older:
        lifecycle.transition(
            session=session,
            version=version,
            to="voided",
            actor=actor,
            reason=f"replaced by version {number}",
            now=now,
        )
        revoke_links(session, version.id, now)


def get_agreement(
    *, session: Session, agreement_id: str, for_role: str | None = None
) -> tuple[Agreement, Counterparty]:
    """The agreement and its counterparty. `for_role` scopes it to what that role may see: a
    prospect's agreements belong to sales, so for the Klusaro app they do not exist."""
    agreement = session.get(Agreement, agreement_id)
    counterparty = session.get(Counterparty, agreement.counterparty_id) if agreement else None
    if (
        agreement is None
        or counterparty is None
        or (for_role == "app" and counterparty.kind == counterparties.PROSPECT)
    ):
        raise NotFound(f"agreement {agreement_id!r} not found")
    return agreement, counterparty


def get_version(*, session: Session, agreement_id: str, number: int) -> AgreementVersion:
    version = session.scalar(
        select(AgreementVersion).where(
            AgreementVersion.agreement_id == agreement_id, AgreementVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"agreement {agreement_id!r} has no version {number}")
    return version


def count_versions(*, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AgreementVersion)) or 0


def latest_version(session: Session, counterparty_id: str) -> AgreementVersion | None:
    return session.scalars(
        select(AgreementVersion)
        .join(Agreement, Agreement.id == AgreementVersion.agreement_id)
        .where(Agreement.counterparty_id == counterparty_id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).first()
