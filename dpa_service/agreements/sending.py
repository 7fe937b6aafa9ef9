"""Sales flows: e-mail a prospect's DPA for signing, resend, remind (by hand and on a schedule),
void; e-mail the completed copy to both sides; the status board.

Every e-mail to the signatory carries a link of its own (tokens are stored only as hashes, so
an old link cannot be mailed again). A resend withdraws the earlier links; a reminder adds one
beside them. Each invitation is a `SigningInvitation` row, written with its link, its outbox
message and its audit event in one transaction.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service import audit
from dpa_service.agreements import service as agreements
from dpa_service.agreements.lifecycle import OPEN_FOR_SIGNING, lock_agreement
from dpa_service.agreements.models import VERSION_STATES, Agreement, AgreementVersion
from dpa_service.audit.models import AuditEvent
from dpa_service.clock import utc_label, utcnow
from dpa_service.config import Settings
from dpa_service.counterparties import service as counterparties
from dpa_service.counterparties.models import Counterparty, SigningInvitation
from dpa_service.errors import Conflict, NotFound, Unprocessable
from dpa_service.notify import outbox
from dpa_service.notify.models import OutboundEmail
from dpa_service.rendering.context import PROCESSOR
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing import service as signing
from dpa_service.signing.links import issue_link, revoke_links
from dpa_service.signing.models import SigningLink

if TYPE_CHECKING:
    from dpa_service.jobs.context import JobContext

log = logging.getLogger(__name__)

SEND, RESEND, REMINDER, REISSUE = "send", "resend", "reminder", "reissue"
# The invitations that open a version for signing by e-mail (reminders and the copy follow).
FIRST_INVITATIONS = (SEND, REISSUE)
# A completed copy's download link lasts this long (the verification page has no limit).
COPY_LINK_DAYS = 90
# "Remind now" right after another e-mail (a double click, two colleagues) is refused.
REMIND_GAP = timedelta(minutes=5)
SYSTEM = "system (reminder schedule)"
BOARD_STATES = ("new", *VERSION_STATES)  # "new": no DPA made yet


@dataclass(frozen=True)
class Invitation:
    version: AgreementVersion
    link: SigningLink
    email: OutboundEmail
    row: SigningInvitation


def latest_version(session: Session, counterparty_id: str) -> AgreementVersion | None:
    return session.scalars(
        select(AgreementVersion)
        .join(Agreement, Agreement.id == AgreementVersion.agreement_id)
        .where(Agreement.counterparty_id == counterparty_id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).first()


def _lock(session: Session, version: AgreementVersion) -> None:
    """E-mails about one agreement are decided one at a time (see lifecycle.lock_agreement)."""
    lock_agreement(session, version.agreement_id)


def _open_version(session: Session, prospect: Counterparty) -> AgreementVersion:
    version = latest_version(session, prospect.id)
    if version is None:
        raise Conflict("this prospect's DPA has not been sent yet; send it first")
    if version.state not in OPEN_FOR_SIGNING:
        raise Conflict(
            f"version {version.number} is {version.state}; only a sent, unsigned DPA can be "
            "resent or reminded of"
        )
    return version


def send(
    *,
    session: Session,
    pool: ConverterPool,
    settings: Settings,
    prospect_id: str,
    actor: str,
    now: datetime | None = None,
) -> Invitation:
    """Make the DPA (or take the current draft), create a signer link and e-mail it.

    A DPA that is out for signature is resent or reminded of instead (409); one that was
    declined, expired or voided is replaced by a new version. Like `request_dpa_for`, this ends
    the read transaction before rendering; the caller commits.
    """
    prospect = counterparties.get_open_prospect(session=session, prospect_id=prospect_id)
    current = latest_version(session, prospect.id)
    if current is not None and current.state in ("sent", "viewed", "signed", "completed"):
        hint = "resend it or send a reminder" if current.state in OPEN_FOR_SIGNING else ""
        raise Conflict(
            f"version {current.number} is already {current.state}"
            + (f"; {hint}" if hint else "; there is nothing to send")
        )
    outcome = agreements.request_dpa_for(
        session=session,
        pool=pool,
        settings=settings,
        counterparty=prospect,
        new_version=False,
        actor=actor,
    )
    if outcome.version.state != "draft":  # another request sent it meanwhile
        raise Conflict(f"version {outcome.version.number} is {outcome.version.state} already")
    return _invite(session, settings, outcome.version, SEND, actor, now or utcnow())


def resend(
    *,
    session: Session,
    settings: Settings,
    prospect_id: str,
    actor: str,
    now: datetime | None = None,
) -> Invitation:
    """A new link by e-mail; the links sent before stop working."""
    now = now or utcnow()
    prospect = counterparties.get_open_prospect(session=session, prospect_id=prospect_id)
    version = _open_version(session, prospect)
    _lock(session, version)
    revoke_links(session, version.id, now)
    return _invite(session, settings, version, RESEND, actor, now)


def remind(
    *,
    session: Session,
    settings: Settings,
    prospect_id: str,
    actor: str,
    now: datetime | None = None,
) -> Invitation:
    """Remind the signatory now, by hand; the scheduled reminders still follow."""
    now = now or utcnow()
    prospect = counterparties.get_open_prospect(session=session, prospect_id=prospect_id)
    version = _open_version(session, prospect)
    _lock(session, version)  # two clicks at once: the second waits, then sees the first
    last = session.scalar(
        select(func.max(SigningInvitation.created_at)).where(
            SigningInvitation.version_id == version.id
        )
    )
    if last is not None and now - last < REMIND_GAP:
        minutes = max(1, int((now - last).total_seconds() // 60))
        raise Conflict(
            f"the signatory was e-mailed {minutes} minute(s) ago; wait a few minutes before "
            "reminding them again"
        )
    return _invite(session, settings, version, REMINDER, actor, now)


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)


def void(*, session: Session, prospect_id: str, reason: str, actor: str) -> AgreementVersion:
    """Withdraw the prospect's newest unsigned DPA; its links stop working, reminders stop."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > 1000:
        raise Unprocessable("give a reason for voiding (1-1000 characters)")
    if _has_control_characters(reason):
        raise Unprocessable("the reason may not contain control characters")
    prospect = counterparties.get_open_prospect(session=session, prospect_id=prospect_id)
    version = latest_version(session, prospect.id)
    if version is None:
        raise Conflict("this prospect has no DPA to void")
    return signing.void(
        session=session,
        agreement_id=version.agreement_id,
        number=version.number,
        reason=reason,
        actor=actor,
    )


def _invite(
    session: Session,
    settings: Settings,
    version: AgreementVersion,
    kind: str,
    actor: str,
    now: datetime,
    reminder_number: int | None = None,
) -> Invitation:
    to = version.counterparty_snapshot["signatory"]["email"]
    row = SigningInvitation(
        agreement_id=version.agreement_id,
        version_id=version.id,
        kind=kind,
        reminder_number=reminder_number,
        to_addr=to,
        actor=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()  # a scheduled reminder claims its number here (unique per version)
    link, secret = signing.create_link(
        session=session,
        agreement_id=version.agreement_id,
        number=version.number,
        embedded=False,
        require_code=False,
        actor=actor,
        # A prospect's DPA stays open for DPA_PROSPECT_EXPIRY_DAYS from the first send.
        settings=settings.with_(signing_expiry_days=_expiry_days(session, settings, version)),
        now=now,
    )
    url = f"{settings.public_url.rstrip('/')}/sign/{secret}"
    if not settings.smtp_host:
        # The embedded default has no mail server: the .eml lands in DPA_MAIL_DIR, and the
        # link is logged too so that a local user can open it at once.
        log.info("no SMTP configured: the signing link for %s is %s", version.agreement_id, url)
    subject, text, body = invitation_message(version, kind, url, link.expires_at)
    email = outbox.enqueue(
        session=session,
        to=to,
        subject=subject,
        text=text,
        html=body,
        kind=f"dpa.{kind}",
        ref=version.agreement_id,
    )
    row.link_id = link.id
    row.email_id = email.id
    session.flush()
    audit.record(
        session=session,
        agreement_id=version.agreement_id,
        version=version.number,
        type="reminder.sent" if kind == REMINDER else "invitation.sent",
        actor=actor,
        data={
            "kind": kind,
            "to": to,
            "link_id": link.id,
            "message_id": email.message_id,
            **({"number": reminder_number} if reminder_number else {}),
            **({"manual": True} if kind == REMINDER and reminder_number is None else {}),
        },
    )
    log.info(
        "%s of %s v%d to %s queued (link %s)",
        kind,
        version.agreement_id,
        version.number,
        to,
        link.id[:8],
    )
    return Invitation(version, link, email, row)


def _expiry_days(session: Session, settings: Settings, version: AgreementVersion) -> int:
    agreement = session.get(Agreement, version.agreement_id)
    party = session.get(Counterparty, agreement.counterparty_id) if agreement else None
    if party is not None and party.kind == "prospect":
        return settings.prospect_expiry_days
    return settings.signing_expiry_days


def invite_to_sign_new_version(
    *, session: Session, settings: Settings, version: AgreementVersion, actor: str
) -> Invitation:
    """E-mail the signatory a link to a re-issued version (workspace or prospect); reminders
    and the completed copy follow as for any DPA sent by e-mail."""
    return _invite(session, settings, version, REISSUE, actor, utcnow())


def invitation_message(
    version: AgreementVersion, kind: str, url: str, expires_at: datetime
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the e-mail that asks the signatory to sign."""
    details = version.counterparty_snapshot
    company, name = details["legal_name"], details["signatory"]["name"]
    processor = f"{PROCESSOR['legal_name']} ({PROCESSOR['trade_name']})"
    lead = {
        SEND: "please review and sign the Data Processing Agreement between",
        RESEND: "here is a new link to review and sign the Data Processing Agreement between",
        REMINDER: "a reminder: the Data Processing Agreement is still waiting for your signature,"
        " between",
        REISSUE: "Klusaro has updated the words of its Data Processing Agreement (for example its"
        " security measures or its list of subprocessors). Please review and sign the new"
        " version of the agreement between",
    }[kind]
    extra = (
        "Links sent to you earlier no longer work."
        if kind == RESEND
        else "Until you sign, the agreement you signed before stays in force."
        if kind == REISSUE
        else "The link in our latest e-mail keeps working too."
        if kind == REMINDER
        else ""
    )
    subject = (
        f"{'Reminder: p' if kind == REMINDER else 'P'}lease sign the "
        f"{'updated ' if kind == REISSUE else ''}Data Processing Agreement for {company}"
    )
    text = (
        f"Dear {name},\n\n"
        f"{lead} {company} (controller) and {processor} (processor), "
        f"version {version.number}.\n\n"
        f"Open this link to read the agreement and sign it:\n{url}\n\n"
        f"The link is personal to you and works until {utc_label(expires_at)}."
        + (f" {extra}" if extra else "")
        + "\n\nIf you did not expect this e-mail, you can ignore it; nothing is signed unless "
        "you sign.\n\n— Klusaro\n"
    )
    e = html.escape
    body = (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        f"<p>Dear {e(name)},</p>"
        f"<p>{e(lead)} <strong>{e(company)}</strong> (controller) and {e(processor)} "
        f"(processor), version {version.number}.</p>"
        f'<p><a href="{e(url)}" style="display: inline-block; padding: .6em 1.1em; '
        f'background: #1f5fbf; color: #fff; text-decoration: none; border-radius: 4px">'
        "Review and sign the agreement</a></p>"
        f"<p>Or copy this address into your browser:<br><code>{e(url)}</code></p>"
        f"<p>The link is personal to you and works until {e(utc_label(expires_at))}."
        + (f" {e(extra)}" if extra else "")
        + '</p><p style="color: #5b6573">If you did not expect this e-mail, you can ignore it;'
        " nothing is signed unless you sign.</p><p>— Klusaro</p></body></html>"
    )
    return subject, text, body


# -- scheduled reminders ------------------------------------------------------------------------


def send_reminders(ctx: JobContext, *, now: datetime | None = None) -> int:
    """Send each reminder that is due, once. Returns how many went out.

    A reminder is due `days` after the version was first sent, while it is still unsigned and
    unexpired. A pass that finds several due (the service was down) sends only the latest step.
    Two workers may find the same one: the (version, number) key lets one of them insert it.
    """
    schedule = ctx.settings.reminder_schedule
    if not schedule:
        return 0
    now = now or utcnow()
    with ctx.session_factory() as session:
        sent_by_email = exists().where(
            SigningInvitation.version_id == AgreementVersion.id,
            SigningInvitation.kind.in_(FIRST_INVITATIONS),
        )
        candidates = session.execute(
            select(AgreementVersion.id, AgreementVersion.sent_at).where(
                AgreementVersion.state.in_(OPEN_FOR_SIGNING),
                AgreementVersion.sent_at <= now - timedelta(days=schedule[0]),
                AgreementVersion.expires_at > now,
                sent_by_email,
            )
        ).all()
        if not candidates:
            return 0
        done = dict(
            session.execute(
                select(SigningInvitation.version_id, func.max(SigningInvitation.reminder_number))
                .where(SigningInvitation.version_id.in_([c.id for c in candidates]))
                .group_by(SigningInvitation.version_id)
            ).all()
        )
    sent = 0
    for version_id, sent_at in candidates:
        due = max(n for n, days in enumerate(schedule, 1) if sent_at + timedelta(days=days) <= now)
        if (done.get(version_id) or 0) >= due:
            continue
        if _send_reminder(ctx, version_id, due, now):
            sent += 1
    return sent


def _send_reminder(ctx: JobContext, version_id: str, number: int, now: datetime) -> bool:
    with ctx.session_factory() as session:
        try:
            version = session.get(AgreementVersion, version_id)
            if version is None:
                return False
            _invite(session, ctx.settings, version, REMINDER, SYSTEM, now, number)
            # Signed, declined or voided since the candidates were read: no reminder after all.
            # The row lock makes a signature committing now wait until the reminder is out (the
            # agreement row, locked by the audit event, comes first, as in every state change).
            state = session.scalar(
                select(AgreementVersion.state)
                .where(AgreementVersion.id == version_id)
                .with_for_update()
            )
            if state not in OPEN_FOR_SIGNING:
                session.rollback()
                return False
            session.commit()
        except IntegrityError:
            session.rollback()  # another worker sent this reminder
            return False
        except Conflict as exc:
            session.rollback()  # the version moved meanwhile; the next pass looks again
            log.info("reminder %d for version %s not sent: %s", number, version_id, exc.detail)
            return False
    log.info("reminder %d for version %s sent", number, version_id)
    return True


# -- the completed copy -------------------------------------------------------------------------


def email_completed_copy(
    *,
    session: Session,
    version: AgreementVersion,
    settings: Settings,
    processor_email: str,
    now: datetime | None = None,
) -> list[OutboundEmail]:
    """E-mail both sides a link to the sealed copy, for a version that was sent by e-mail.

    Each recipient gets a link of their own that opens the completion page and its download
    (already used, so it cannot sign anything) for COPY_LINK_DAYS. The processor side is the
    prospect's owner when they have an e-mail address, else the countersigner. Called by
    completion in its transaction.
    """
    emailed = session.scalar(
        select(SigningInvitation.id)
        .where(
            SigningInvitation.version_id == version.id,
            SigningInvitation.kind.in_(FIRST_INVITATIONS),
        )
        .limit(1)
    )
    if emailed is None:
        return []  # handed out through the Klusaro app: it hears of completion by webhook
    now = now or utcnow()
    agreement = session.get(Agreement, version.agreement_id)
    assert agreement is not None
    counterparty = session.get(Counterparty, agreement.counterparty_id)
    assert counterparty is not None
    details = version.counterparty_snapshot
    recipients = [
        (details["signatory"]["email"], details["signatory"]["name"], "controller"),
        (counterparty.owner_email or processor_email, counterparty.owner_name or "", "processor"),
    ]
    messages: list[OutboundEmail] = []
    seen: set[str] = set()
    for address, name, side in recipients:
        if not address or address.lower() in seen:
            continue
        seen.add(address.lower())
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:  # the API's countersigner e-mail is free text
            log.warning(
                "completed copy of %s not e-mailed to %r: %s", version.agreement_id, address, exc
            )
            continue
        link, secret = issue_link(
            session=session,
            version=version,
            counterparty_id=counterparty.id,
            kind="copy",
            created_by="system",
            expires_at=now + timedelta(days=COPY_LINK_DAYS),
            used_at=now,
        )
        url = f"{settings.public_url.rstrip('/')}/sign/{secret}/done"
        subject, text, body = completed_message(version, name, url, link.expires_at)
        messages.append(
            outbox.enqueue(
                session=session,
                to=address,
                subject=subject,
                text=text,
                html=body,
                kind=f"dpa.completed.{side}",
                ref=version.agreement_id,
            )
        )
    if messages:
        audit.record(
            session=session,
            agreement_id=version.agreement_id,
            version=version.number,
            type="copy.sent",
            actor="system",
            data={
                "to": [m.to_addr for m in messages],
                "message_ids": [m.message_id for m in messages],
            },
        )
    return messages


def completed_message(
    version: AgreementVersion, name: str, url: str, expires_at: datetime
) -> tuple[str, str, str]:
    company = version.counterparty_snapshot["legal_name"]
    sha = version.final_pdf_sha256 or ""
    greeting = f"Dear {name}," if name else "Hello,"
    subject = f"Signed: the Data Processing Agreement for {company}"
    text = (
        f"{greeting}\n\n"
        f"The Data Processing Agreement for {company} (version {version.number}) is signed by "
        f"both parties and sealed.\n\nDownload the signed copy here (until {utc_label(expires_at)}):\n"
        f"{url}\n\nSHA-256 of the signed PDF: {sha}\n"
        "Anyone can check a copy on the verification page.\n\n— Klusaro\n"
    )
    e = html.escape
    body = (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        f"<p>{e(greeting)}</p>"
        f"<p>The Data Processing Agreement for <strong>{e(company)}</strong> (version "
        f"{version.number}) is signed by both parties and sealed.</p>"
        f'<p><a href="{e(url)}">Download the signed copy</a> (until {e(utc_label(expires_at))})</p>'
        f"<p>SHA-256 of the signed PDF:<br><code>{e(sha)}</code></p>"
        "<p>— Klusaro</p></body></html>"
    )
    return subject, text, body


# -- the status board ---------------------------------------------------------------------------


@dataclass
class ProspectStatus:
    prospect: Counterparty
    version: AgreementVersion | None = None
    actors: dict[str, str] = field(default_factory=dict)  # state -> who moved the version there
    reminders_sent: int = 0
    last_emailed_at: datetime | None = None

    @property
    def state(self) -> str:
        return self.version.state if self.version else "new"


def board(
    *,
    session: Session,
    state: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    limit: int = 200,
) -> list[ProspectStatus]:
    """Every prospect (newest first) with its newest version, who acted and the reminders.

    `state` is a version state or "new"; `owner` a subject ("user:<id>") or an e-mail; `q`
    matches the company, registration number and signatory, ignoring case.
    """
    if state and state not in BOARD_STATES:
        raise Unprocessable(f"state must be one of {', '.join(BOARD_STATES)}")
    if _has_control_characters(owner or "") or _has_control_characters(q or ""):
        raise Unprocessable("owner and q may not contain control characters")
    query = select(Counterparty).where(
        (Counterparty.kind == counterparties.PROSPECT) | Counterparty.converted_at.is_not(None)
    )
    if owner:
        query = query.where(
            (Counterparty.owner_subject == owner) | (Counterparty.owner_email == owner.lower())
        )
    prospects = list(session.scalars(query.order_by(Counterparty.created_at.desc())))
    needle = " ".join((q or "").split()).casefold()
    if needle:
        prospects = [p for p in prospects if needle in _haystack(p.details)]
    if not prospects:
        return []
    agreements_of = dict(
        session.execute(
            select(Agreement.counterparty_id, Agreement.id).where(
                Agreement.counterparty_id.in_([p.id for p in prospects])
            )
        ).all()
    )
    newest = (
        select(AgreementVersion.agreement_id, func.max(AgreementVersion.number).label("number"))
        .where(AgreementVersion.agreement_id.in_(list(agreements_of.values())))
        .group_by(AgreementVersion.agreement_id)
        .subquery()
    )
    versions = {
        v.agreement_id: v
        for v in session.scalars(
            select(AgreementVersion).join(
                newest,
                and_(
                    AgreementVersion.agreement_id == newest.c.agreement_id,
                    AgreementVersion.number == newest.c.number,
                ),
            )
        )
    }
    rows = []
    for prospect in prospects:
        version = versions.get(agreements_of.get(prospect.id, ""))
        row = ProspectStatus(prospect, version)
        if not state or row.state == state:
            rows.append(row)
    rows = rows[:limit]
    _fill_history(session, [r for r in rows if r.version])
    return rows


def _haystack(details: dict[str, Any]) -> str:
    signatory = details.get("signatory", {})
    parts = [
        details.get("legal_name", ""),
        details.get("registration_number", ""),
        signatory.get("name", ""),
        signatory.get("email", ""),
    ]
    return " ".join(" ".join(str(p).split()) for p in parts).casefold()


def _fill_history(session: Session, rows: list[ProspectStatus]) -> None:
    """Who moved each version to each state, from the audit trail; reminders and e-mails."""
    if not rows:
        return
    by_key = {(r.version.agreement_id, r.version.number): r for r in rows if r.version}
    events = session.execute(
        select(
            AuditEvent.agreement_id,
            AuditEvent.version,
            AuditEvent.type,
            AuditEvent.actor,
            AuditEvent.data,
            AuditEvent.created_at,
        )
        .where(
            AuditEvent.agreement_id.in_({a for a, _ in by_key}),
            AuditEvent.type.like("version.%") | AuditEvent.type.in_(("reminder.sent",)),
        )
        .order_by(AuditEvent.agreement_id, AuditEvent.seq)
    ).all()
    for agreement_id, number, type_, actor, data, _ in events:
        row = by_key.get((agreement_id, number))
        if row is None:
            continue
        if type_ == "reminder.sent":
            row.reminders_sent += 1
        else:
            state = type_.removeprefix("version.")
            who = actor
            if state == "signed" and (data or {}).get("name"):
                who = f"{data['name']} ({actor})"
            row.actors[state] = who
    emailed = session.execute(
        select(SigningInvitation.version_id, func.max(SigningInvitation.created_at))
        .where(SigningInvitation.version_id.in_([r.version.id for r in rows if r.version]))
        .group_by(SigningInvitation.version_id)
    ).all()
    last = dict(emailed)
    for row in rows:
        if row.version:
            row.last_emailed_at = last.get(row.version.id)


def get_status(*, session: Session, prospect_id: str) -> ProspectStatus:
    prospect = counterparties.get_prospect(session=session, prospect_id=prospect_id)
    row = ProspectStatus(prospect, latest_version(session, prospect.id))
    _fill_history(session, [row] if row.version else [])
    return row


def history(*, session: Session, prospect_id: str) -> list[AuditEvent]:
    """The prospect's whole audit trail, oldest first (for its page)."""
    prospect = counterparties.get_prospect(session=session, prospect_id=prospect_id)
    agreement_id = session.scalar(
        select(Agreement.id).where(Agreement.counterparty_id == prospect.id)
    )
    if agreement_id is None:
        return []
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
            .order_by(AuditEvent.seq)
        )
    )


def require_version(session: Session, prospect_id: str) -> AgreementVersion:
    prospect = counterparties.get_prospect(session=session, prospect_id=prospect_id)
    version = latest_version(session, prospect.id)
    if version is None:
        raise NotFound("this prospect has no DPA yet")
    return version
