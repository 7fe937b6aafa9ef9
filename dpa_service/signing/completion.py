"""Countersignature and completion: the signed PDF, its certificate of completion, the seal."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from dpa_service import audit
from dpa_service.agreements import lifecycle
from dpa_service.agreements.models import AgreementVersion
from dpa_service.agreements.service import render_languages
from dpa_service.agreements.terms import frozen_terms, terms_from
from dpa_service.archive import service as archive_service
from dpa_service.archive.base import version_key
from dpa_service.audit.models import AuditEvent
from dpa_service.audit.service import NewEvent, chained
from dpa_service.audit.service import head as chain_head
from dpa_service.clauses.models import TemplateVersion
from dpa_service.clauses.service import TemplateSet, sets_of
from dpa_service.clock import iso_or_none, utc_label, utcnow
from dpa_service.config import Settings
from dpa_service.db import end_read_transaction
from dpa_service.errors import Conflict
from dpa_service.i18n import N_, gettext_for
from dpa_service.ids import new_id
from dpa_service.jobs.context import JobContext
from dpa_service.metrics import SIGNING_SECONDS
from dpa_service.profile.models import ProcessorProfileVersion
from dpa_service.rendering.context import (
    AgreementMeta,
    Terms,
    build_contexts,
    format_timestamp,
    languages_of,
)
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.facts import builtin_processor_profile
from dpa_service.rendering.legacy import build_legacy_context
from dpa_service.rendering.pdf import sha256_hex
from dpa_service.rendering.pipeline import RenderedDPA, render_pdf
from dpa_service.sales.copies import email_completed_copy
from dpa_service.signing.certificate import (
    CompletionCertificate,
    EventRecord,
    PartyRecord,
    describe_device,
    render_certificate,
)
from dpa_service.signing.disclosure import disclosure_sha256
from dpa_service.signing.models import Signature
from dpa_service.signing.seal import Sealer
from dpa_service.subprocessors.models import SubprocessorListVersion

log = logging.getLogger(__name__)


AUTOMATIC = N_("Authorised signatory (automatic)")


@dataclass(frozen=True)
class Countersigner:
    name: str
    title: str
    email: str
    method: str  # "Legal user (API)" or AUTOMATIC
    actor: str


def _signing_statement(sig: Signature, _: Callable[[str], str]) -> str:
    if sig.party == "controller":
        if sig.drawn_png:
            return _(
                "Signed electronically by the signatory: typed name and a drawn signature, after "
                "consenting"
            )
        return _("Signed electronically by the signatory: typed name, after consenting")
    if sig.auth_method == AUTOMATIC:
        return _(
            "Applied automatically on behalf of the processor by the service (dpa-service), "
            "under the authority of the configured authorised signatory named above; no person "
            "signed at that moment"
        )
    return _("Countersigned electronically for the processor by {name} ({actor})").format(
        name=sig.name, actor=sig.actor
    )


def _party(
    sig: Signature, role: str, version: AgreementVersion, sent: bool, language: str
) -> PartyRecord:
    _ = gettext_for(language)
    return PartyRecord(
        role=role,
        organisation=sig.organisation,
        name=sig.name,
        title=sig.title,
        email=sig.email,
        # Recorded in English as evidence; shown in the certificate's language.
        auth_method=" + ".join(_(part) for part in sig.auth_method.split(" + ")),
        ip=sig.ip,
        user_agent=sig.user_agent,
        device=describe_device(sig.user_agent) if sig.user_agent else None,
        sent_at=version.sent_at if sent else None,
        viewed_at=version.viewed_at if sent else None,
        consented_at=sig.consented_at,
        signed_at=sig.signed_at,
        consent_text_version=sig.consent_text_version,
        drawn_signature_png=sig.drawn_png,
        signature_id=sig.id,
        consent_text_sha256=disclosure_sha256(sig.consent_text_version),
        signing_statement=_signing_statement(sig, _),
    )


def _event_detail(event: AuditEvent) -> str:
    data = event.data or {}
    parts = []
    for key in (
        "from",
        "reason",
        "kind",
        "requested_by",
        "name",
        "auth_method",
        "signature_id",
        "ip",
        "document_sha256",
        "signed_body_sha256",
    ):
        if data.get(key):
            parts.append(f"{key.replace('_', ' ')}: {data[key]}")
    return "; ".join(parts)


@dataclass(frozen=True)
class _Inputs:
    """What the completed document is made from, read before the long work."""

    controller: Signature
    templates: dict[str, TemplateSet]  # by language, as the version recorded them
    subprocessor_list: SubprocessorListVersion
    profile: ProcessorProfileVersion | None  # None: made before the profile was governed
    events: list[AuditEvent]  # the version's events so far
    head: tuple[int, str]  # the agreement's audit chain head, where completion's events go


def _check_can_complete(session: Session, version: AgreementVersion) -> None:
    newer = session.scalar(
        select(AgreementVersion.number).where(
            AgreementVersion.agreement_id == version.agreement_id,
            AgreementVersion.number > version.number,
            AgreementVersion.state.in_(("completed", "superseded")),
        )
    )
    if newer is not None:
        raise Conflict(f"version {newer} is already completed; version {version.number} cannot be")
    if version.state != "signed":
        raise Conflict(
            f"version {version.number} is {version.state}; only a signed version can be countersigned"
        )


def _read_inputs(session: Session, version: AgreementVersion) -> _Inputs:
    controller = session.scalars(
        select(Signature)
        .where(Signature.version_id == version.id, Signature.party == "controller")
        .options(undefer(Signature.drawn_png))
    ).one()
    template_ids = [t["id"] for t in version.template_versions.values()]
    templates = sets_of(
        list(
            session.scalars(
                select(TemplateVersion)
                .where(TemplateVersion.id.in_(template_ids))
                .options(undefer(TemplateVersion.content))
            )
        )
    )
    sp_list = session.get(SubprocessorListVersion, version.subprocessor_list_version_id)
    assert sp_list is not None
    profile = (
        session.get(ProcessorProfileVersion, version.processor_profile_version_id)
        if version.processor_profile_version_id
        else None
    )
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.agreement_id == version.agreement_id, AuditEvent.version == version.number
        )
        .order_by(AuditEvent.seq)
    ).all()
    head = chain_head(session=session, agreement_id=version.agreement_id)
    return _Inputs(controller, templates, sp_list, profile, list(events), head)


def _render_signed_body(
    version: AgreementVersion,
    inputs: _Inputs,
    countersigner: Countersigner,
    pool: ConverterPool,
    settings: Settings,
    now: datetime,
) -> RenderedDPA:
    """The same words, list, profile, figures and dates the signer saw, now with both
    signature blocks filled (signed at times written the way the document's language writes
    them)."""
    controller, sp_list = inputs.controller, inputs.subprocessor_list
    details = version.counterparty_snapshot
    # As signed: the frozen figures are not checked against today's bounds again.
    terms = frozen_terms(version.terms) if version.terms else terms_from(settings)
    drawings = {"controller": controller.drawn_png} if controller.drawn_png else None
    if inputs.profile is None:
        return _render_made_before_profiles(version, inputs, countersigner, pool, terms, now)
    language = languages_of(details)[0]  # the parties sign in the prevailing language
    profile = inputs.profile.profile
    # The profile's signatory countersigning is printed with the profile's title in the
    # document's language; anyone else with the title they gave.
    same_person = countersigner.name == profile["signatory"]["name"]["value"]
    title = (
        str(profile["signatory"]["title"]["value"][language])
        if same_person and isinstance(profile["signatory"]["title"]["value"], dict)
        else countersigner.title
    )
    contexts = build_contexts(
        details=details,
        agreement=AgreementMeta(
            id=version.agreement_id,
            version=version.number,
            issued_at=version.created_at,
            effective_on=version.effective_on,
        ),
        subprocessor_entries=sp_list.entries,
        subprocessor_list_version=sp_list.version,
        subprocessor_list_approved_on=sp_list.approved_at or sp_list.created_at,
        terms=terms,
        processor_signatory=(countersigner.name, title),
        processor_profile=profile,
        signatures={
            "controller": {
                "name": controller.name,
                "title": controller.title,
                "signed_at": format_timestamp(controller.signed_at, language),
            },
            "processor": {
                "name": countersigner.name,
                "title": title,
                "signed_at": format_timestamp(now, language),
            },
        },
    )
    return render_languages(pool, inputs.templates, contexts, drawings, state="completed")


def _render_made_before_profiles(
    version: AgreementVersion,
    inputs: _Inputs,
    countersigner: Countersigner,
    pool: ConverterPool,
    terms: Terms,
    now: datetime,
) -> RenderedDPA:
    """A version made before issue 13 (English templates, no processor profile): filled with
    the context it was made with, so the completed copy says what the signer saw."""
    controller, sp_list = inputs.controller, inputs.subprocessor_list
    templates = inputs.templates["en"]
    context = build_legacy_context(
        details=version.counterparty_snapshot,
        agreement_id=version.agreement_id,
        version=version.number,
        issued_at=version.created_at,
        subprocessor_entries=sp_list.entries,
        subprocessor_list_version=sp_list.version,
        subprocessor_list_approved_on=sp_list.approved_at or sp_list.created_at,
        terms=terms,
        processor_signatory=(countersigner.name, countersigner.title),
        signatures={
            "controller": {
                "name": controller.name,
                "title": controller.title,
                "signed_at": utc_label(controller.signed_at),
            },
            "processor": {
                "name": countersigner.name,
                "title": countersigner.title,
                "signed_at": utc_label(now),
            },
        },
    )
    return render_pdf(
        pool,
        templates.contents,
        context,
        templates.numbers,
        drawings={"controller": controller.drawn_png} if controller.drawn_png else None,
        state="completed",
    )


def _processor_name(inputs: _Inputs) -> tuple[str, str]:
    """The processor's legal and trade name as the version's profile states them."""
    profile = inputs.profile.profile if inputs.profile else builtin_processor_profile()
    identity = profile["identity"]
    return str(identity["legal_name"]["value"]), str(identity["trade_name"]["value"])


def _processor_signature(
    version: AgreementVersion,
    inputs: _Inputs,
    countersigner: Countersigner,
    body: RenderedDPA,
    now: datetime,
) -> Signature:
    legal_name, trade_name = _processor_name(inputs)
    return Signature(
        id=new_id(),  # printed in the certificate before the row is written
        version_id=version.id,
        party="processor",
        name=countersigner.name,
        title=countersigner.title,
        email=countersigner.email,
        organisation=f"{legal_name} ({trade_name})",
        auth_method=countersigner.method,
        actor=countersigner.actor,
        signed_at=now,
        document_sha256=body.sha256,
    )


def _completion_events(
    version: AgreementVersion,
    inputs: _Inputs,
    processor: Signature,
    countersigner: Countersigner,
    body: RenderedDPA,
    sealed_by: str,
    now: datetime,
) -> list[AuditEvent]:
    """The countersignature and completion events as they will be chained (hashes included),
    decided before the certificate that prints them and the seal that states their time."""
    return chained(
        agreement_id=version.agreement_id,
        after=inputs.head,
        events=[
            NewEvent(
                "countersigned",
                countersigner.actor,
                {
                    "name": countersigner.name,
                    "title": countersigner.title,
                    "auth_method": countersigner.method,
                    "signature_id": processor.id,
                },
                version.number,
            ),
            NewEvent(
                "version.completed",
                countersigner.actor,
                {"from": "signed", "signed_body_sha256": body.sha256, "sealed_by": sealed_by},
                version.number,
            ),
        ],
        at=now,
    )


def _requested_by(events: list[AuditEvent]) -> str | None:
    """Who sent the signing request: the first link's creator (the API caller or the seller,
    with the app user the Klusaro app named)."""
    for event in events:
        if event.type == "link.created":
            named = (event.data or {}).get("requested_by")
            return f"{named}, through {event.actor}" if named else event.actor
    return None


def _certificate(
    version: AgreementVersion,
    inputs: _Inputs,
    processor: Signature,
    body: RenderedDPA,
    completion: list[AuditEvent],
    settings: Settings,
    now: datetime,
) -> bytes:
    """The certificate of completion in the agreement's (prevailing) language."""
    language = languages_of(version.counterparty_snapshot)[0]
    _ = gettext_for(language)
    legal_name, trade_name = _processor_name(inputs)
    company = version.counterparty_snapshot["legal_name"]
    events = [*inputs.events, *completion]
    return render_certificate(
        CompletionCertificate(
            agreement_id=version.agreement_id,
            version=version.number,
            title=_("Data Processing Agreement — {company}").format(company=company),
            original_sha256=version.draft_pdf_sha256,
            final_sha256=body.sha256,
            completed_at=now,
            parties=[
                _party(inputs.controller, _("Controller (signer)"), version, True, language),
                _party(processor, _("Processor (countersigner)"), version, False, language),
            ],
            events=[
                EventRecord(
                    at=e.created_at,
                    type=e.type,
                    actor=e.actor,
                    detail=_event_detail(e),
                    hash=e.hash,
                )
                for e in events
            ],
            issuer=_("dpa-service for {processor}").format(
                processor=f"{legal_name} ({trade_name})"
            ),
            language=language,
            requested_by=_requested_by(events),
            verification_url=f"{settings.public_url.rstrip('/')}/verify",
        )
    )


def _record_completion(
    session: Session,
    version: AgreementVersion,
    processor: Signature,
    countersigner: Countersigner,
    body: RenderedDPA,
    sealed: bytes,
    sealed_by: str,
    completion: list[AuditEvent],
    now: datetime,
) -> None:
    """The countersignature, the move to completed and the older completed versions
    superseded, with their audit events: exactly the events the sealed certificate prints."""
    final_sha = sha256_hex(sealed)
    session.add(processor)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("this version has already been countersigned") from None
    countersigned, completed = completion
    audit.record(
        session=session,
        agreement_id=version.agreement_id,
        version=version.number,
        type=countersigned.type,
        actor=countersigned.actor,
        data=countersigned.data,
        at=now,
    )
    lifecycle.transition(
        session=session,
        version=version,
        to="completed",
        actor=countersigner.actor,
        data={k: v for k, v in completed.data.items() if k != "from"},
        extra={
            "final_pdf_key": version_key(version.agreement_id, version.number, "completed.pdf"),
            "final_pdf_sha256": final_sha,
            "signed_body_sha256": body.sha256,
        },
        now=now,
        event_at=now,
    )
    if chain_head(session=session, agreement_id=version.agreement_id) != (
        completed.seq,
        completed.hash,
    ):
        # Another event joined the chain while this version was being sealed: the certificate
        # would not match the audit log. Nothing is kept; the next attempt draws it again.
        raise Conflict("the agreement's audit trail changed during completion; try again")
    audit.record(
        session=session,
        agreement_id=version.agreement_id,
        version=version.number,
        type="sealed",
        actor="system",
        data={"final_pdf_sha256": final_sha, "sealed_by": sealed_by},
    )
    older = session.scalars(
        select(AgreementVersion).where(
            AgreementVersion.agreement_id == version.agreement_id,
            AgreementVersion.state == "completed",
            AgreementVersion.number < version.number,
        )
    ).all()
    for old in older:
        lifecycle.transition(
            session=session,
            version=old,
            to="superseded",
            actor="system",
            data={"by_version": version.number},
            now=now,
        )


def _stage_for_archive(
    session: Session,
    version: AgreementVersion,
    sealed: bytes,
    signatures: list[Signature],
    sealed_by: str,
) -> None:
    archive_service.stage(
        session=session,
        agreement_id=version.agreement_id,
        version=version.number,
        artifact="completed.pdf",
        data=sealed,
    )
    archive_service.stage(
        session=session,
        agreement_id=version.agreement_id,
        version=version.number,
        artifact="manifest.json",
        data=_manifest(version, signatures, sealed_by),
        content_type="application/json",
    )


def complete(
    *,
    session: Session,
    version: AgreementVersion,
    countersigner: Countersigner,
    pool: ConverterPool,
    sealer: Sealer,
    settings: Settings,
    now: datetime | None = None,
) -> AgreementVersion:
    """Countersign a signed version, seal the completed PDF, stage it for the archive, and
    e-mail the copies; in the caller's unit of work (which commits)."""
    with SIGNING_SECONDS.labels("complete").time():
        return _complete(session, version, countersigner, pool, sealer, settings, now or utcnow())


def _complete(
    session: Session,
    version: AgreementVersion,
    countersigner: Countersigner,
    pool: ConverterPool,
    sealer: Sealer,
    settings: Settings,
    now: datetime,
) -> AgreementVersion:
    _check_can_complete(session, version)
    inputs = _read_inputs(session, version)
    end_read_transaction(session)  # the database is not held while LibreOffice and the seal work
    body = _render_signed_body(version, inputs, countersigner, pool, settings, now)
    processor = _processor_signature(version, inputs, countersigner, body, now)
    # Decided before the certificate is drawn: the events it lists and the time it states are
    # those of the audit log and of the seal.
    completion = _completion_events(
        version, inputs, processor, countersigner, body, sealer.signer_name, now
    )
    sealed = sealer.seal(
        body.pdf,
        appendix=_certificate(version, inputs, processor, body, completion, settings, now),
        reason=f"Completed Data Processing Agreement {version.agreement_id} version {version.number}",
        signed_at=now,
    )
    _record_completion(
        session,
        version,
        processor,
        countersigner,
        body,
        sealed,
        sealer.signer_name,
        completion,
        now,
    )
    _stage_for_archive(session, version, sealed, [inputs.controller, processor], sealer.signer_name)
    # A DPA that was e-mailed for signing comes back by e-mail: a copy link to both sides.
    email_completed_copy(
        session=session,
        version=version,
        settings=settings,
        processor_email=countersigner.email,
        now=now,
    )
    return version


def _manifest(version: AgreementVersion, signatures: list[Signature], sealed_by: str) -> bytes:
    """What the archive keeps beside the PDF, so it can be understood without our database."""

    body = {
        "agreement_id": version.agreement_id,
        "version": version.number,
        "state": version.state,
        "controller": {
            "legal_name": version.counterparty_snapshot["legal_name"],
            "registration_number": version.counterparty_snapshot["registration_number"],
            "details_sha256": version.counterparty_sha256,
        },
        "documents": {
            "draft.pdf": {"sha256": version.draft_pdf_sha256, "pages": version.pages},
            "signed_body_sha256": version.signed_body_sha256,
            "completed.pdf": {"sha256": version.final_pdf_sha256, "sealed_by": sealed_by},
        },
        "template_versions": version.template_versions,
        "subprocessor_list_version": version.subprocessor_list_version,
        "processor_profile_version": version.processor_profile_version,
        "languages": languages_of(version.counterparty_snapshot),
        "effective_on": version.effective_on.isoformat() if version.effective_on else None,
        "signers": [
            {
                "party": s.party,
                "name": s.name,
                "title": s.title,
                "email": s.email,
                "organisation": s.organisation,
                "auth_method": s.auth_method,
                "ip": s.ip,
                "user_agent": s.user_agent,
                "consent_text_version": s.consent_text_version,
                "consented_at": iso_or_none(s.consented_at),
                "signed_at": iso_or_none(s.signed_at),
                "document_sha256": s.document_sha256,
            }
            for s in signatures
        ],
        "timestamps": {
            "created_at": iso_or_none(version.created_at),
            "sent_at": iso_or_none(version.sent_at),
            "viewed_at": iso_or_none(version.viewed_at),
            "signed_at": iso_or_none(version.signed_at),
            "completed_at": iso_or_none(version.completed_at),
        },
    }
    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True).encode()


def authorised_signatory(settings: Settings) -> Countersigner:
    """Klusaro's configured signatory, countersigning automatically."""
    return Countersigner(
        name=settings.processor_signatory_name,
        title=settings.processor_signatory_title,
        email="info@klusaro.com",
        method=AUTOMATIC,
        actor=f"authorised signatory {settings.processor_signatory_name}",
    )


def countersign_automatically(ctx: JobContext, version_id: str) -> bool | None:
    """Complete a signed version as Klusaro's configured signatory, in a transaction of its own,
    when automatic countersigning is on. True when it completed it; None when there was nothing
    to do (switched off, or the version is no longer signed); False when it failed (the converter
    saturated, say) — logged, and the version stays signed for `complete_stuck`."""
    settings = ctx.settings
    if not (settings.auto_countersign and settings.processor_signatory_name):
        return None
    if ctx.pool is None or ctx.sealer is None:
        return None  # a process without a converter or a seal cannot countersign
    with ctx.session_factory() as session:
        version = session.get(AgreementVersion, version_id)
        if version is None or version.state != "signed":
            return None
        try:
            complete(
                session=session,
                version=version,
                countersigner=authorised_signatory(settings),
                pool=ctx.pool,
                sealer=ctx.sealer,
                settings=settings,
            )
            session.commit()
        except Exception:
            session.rollback()
            log.exception("automatic countersignature of version %s failed", version_id)
            return False
    return True


def countersign_and_wake(ctx: JobContext, version_id: str, wake: Callable[[], None]) -> None:
    """The sign answer's background task: the automatic countersignature, then a wake-up for
    the job engine, which has the completion's archive objects, e-mails and webhooks to do."""
    if countersign_automatically(ctx, version_id):
        wake()


def complete_stuck(ctx: JobContext, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Periodic task: countersign versions left `signed` when the automatic countersignature
    failed, so no agreement stays stuck. Stops at the first failure (the converter or the seal
    is not working: the rest waits for the next sweep, and other work is not held up). Returns
    how many were completed."""
    if not (ctx.settings.auto_countersign and ctx.settings.processor_signatory_name):
        return 0
    with ctx.session_factory() as session:
        ids = session.scalars(
            select(AgreementVersion.id).where(
                AgreementVersion.state == "signed",
                AgreementVersion.signed_at < utcnow() - older_than,
            )
        ).all()
    done = 0
    for version_id in ids:
        outcome = countersign_automatically(ctx, version_id)
        if outcome is False:
            break
        done += bool(outcome)
    return done
