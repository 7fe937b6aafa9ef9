"""Agreements: make a new version of a workspace's DPA when needed, render and archive it."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

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
from dpa_service.errors import Conflict, NotFound, Unprocessable
from dpa_service.ids import new_id
from dpa_service.metrics import GENERATION_SECONDS
from dpa_service.profile import service as profiles
from dpa_service.rendering.context import AgreementMeta, build_contexts, languages_of
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.document import TemplateRenderError
from dpa_service.rendering.pipeline import RenderedDPA, render_pdf
from dpa_service.signing.links import revoke_links
from dpa_service.subprocessors import service as subprocessors

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class ApprovedWords:
    """Which template versions (of every language), subprocessor list and processor profile
    new DPAs are made from now."""

    template_ids: dict[str, str]  # by recorded name: "master", "lv/master" …
    subprocessor_list_id: str
    profile_id: str

    @classmethod
    def now(cls, session: Session) -> ApprovedWords:
        return cls(
            clauses.approved_ids(session=session),
            subprocessors.current_approved(session=session).id,
            profiles.current_approved(session=session).id,
        )

    def outdate(self, version: AgreementVersion) -> bool:
        """Made from anything other than these words (in the version's own languages)."""
        made_from = {k: v.get("id") for k, v in version.template_versions.items()}
        return (
            made_from != {k: self.template_ids.get(k) for k in made_from}
            or version.subprocessor_list_version_id != self.subprocessor_list_id
            or version.processor_profile_version_id != self.profile_id
        )


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
    version, when asked for, or when the latest is a draft (never sent) made from words that
    are no longer approved: an older template, subprocessor list or processor profile. That
    draft is voided as replaced, so nobody is handed a DPA that prints a superseded list. A
    version out for signature (sent, viewed) is kept: re-issue replaces it and tells the
    signatory. The read transaction ends before the conversion so the database is not
    held while LibreOffice works; the caller commits the writes.
    """
    workspace = counterparty
    agreement = session.scalar(select(Agreement).where(Agreement.counterparty_id == workspace.id))
    latest = _latest(session, agreement.id) if agreement else None
    profile = profiles.current_approved(session=session)
    if (
        latest
        and not new_version
        and latest.counterparty_sha256 == workspace.details_sha256
        and latest.state not in CLOSED
        and not (latest.state == "draft" and ApprovedWords.now(session).outdate(latest))
    ):
        return Outcome(latest, created=False)

    started = time.monotonic()
    languages = languages_of(workspace.details)
    sets = clauses.current_sets(session=session, languages=languages)
    sp_list = subprocessors.current_approved(session=session)
    agreement_id = agreement.id if agreement else new_id()
    number = latest.number + 1 if latest else 1
    details, details_sha = dict(workspace.details), workspace.details_sha256
    effective = effective_on(workspace)
    end_read_transaction(session)  # the database is not held while LibreOffice works

    terms = terms_from(settings)
    contexts = build_contexts(
        details=details,
        agreement=AgreementMeta(
            id=agreement_id, version=number, issued_at=utcnow(), effective_on=effective
        ),
        subprocessor_entries=sp_list.entries,
        subprocessor_list_version=sp_list.version,
        subprocessor_list_approved_on=sp_list.approved_at or sp_list.created_at,
        terms=terms,
        # The processor's signatory is the profile's (governed, in each language's words); the
        # one who actually countersigns is printed in the completed copy.
        processor_profile=profile.profile,
    )
    rendered = render_languages(pool, sets, contexts)
    first = contexts[languages[0]]
    record: dict[str, Any] = {}
    for template_set in sets.values():
        record.update(template_set.record())

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
            template_versions=record,
            terms=dataclasses.asdict(terms),
            subprocessor_list_version_id=sp_list.id,
            subprocessor_list_version=sp_list.version,
            processor_profile_version_id=profile.id,
            processor_profile_version=profile.version,
            unconfirmed=list(first["processor"]["unconfirmed"]),
            effective_on=effective,
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
            "template_versions": {k: v["version"] for k, v in record.items()},
            "subprocessor_list_version": sp_list.version,
            "processor_profile_version": profile.version,
            "languages": languages,
            "effective_on": effective.isoformat() if effective else None,
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
    GENERATION_SECONDS.observe(time.monotonic() - started)
    return Outcome(version, created=True, rendered=rendered)


def effective_on(counterparty: Counterparty) -> date | None:
    """The day the DPA applies from: the start of the main agreement (clause 14.1).

    The Klusaro app may say it (`main_agreement_start` in the details). Otherwise a workspace's
    main agreement is taken to have started the day the workspace was first recorded here (or
    the day its prospect became a workspace), because the app pushes a workspace when the
    business signs up; a prospect has no main agreement yet, so its DPA states the rule
    without a date.
    """
    given = counterparty.details.get("main_agreement_start")
    if given:
        return date.fromisoformat(str(given))
    if counterparty.kind == "workspace":
        return (counterparty.converted_at or counterparty.created_at).date()
    return None


def render_languages(
    pool: ConverterPool,
    sets: dict[str, clauses.TemplateSet],
    contexts: dict[str, dict[str, Any]],
    drawings: dict[str, bytes] | None = None,
    state: str = "draft",
) -> RenderedDPA:
    """One PDF of every language version, the prevailing one (the first) first."""
    languages = list(contexts)
    numbers: dict[str, int] = {}
    for template_set in sets.values():
        numbers.update(template_set.numbers)
    try:
        return render_pdf(
            pool,
            sets[languages[0]].contents,
            contexts[languages[0]],
            numbers,
            drawings=drawings,
            state=state,
            other_languages=[(sets[lang].contents, contexts[lang]) for lang in languages[1:]],
        )
    except TemplateRenderError as exc:
        # The approved templates passed their trial renders; these details still broke the
        # document (rendering/check.py). Nothing is converted or stored; the legal team must
        # look at the template, so the reason is logged as an error too.
        log.error("the approved templates %s could not fill a DPA: %s", numbers, exc)
        raise Unprocessable(
            "Klusaro's approved template cannot produce a complete DPA for these details "
            f"({exc}); nothing was stored, and the template needs correcting."
        ) from None


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
