"""Sales flows: e-mail a prospect's DPA for signing, resend, remind now, void.

Every e-mail to the signatory carries a link of its own (tokens are stored only as hashes, so
an old link cannot be mailed again). A resend withdraws the earlier links; a reminder adds one
beside them. Each invitation is a `SigningInvitation` row, written with its link, its outbox
message and its audit event in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dpa_service import audit
from dpa_service.agreements import service as agreements
from dpa_service.agreements.lifecycle import OPEN_FOR_SIGNING, lock_agreement
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.agreements.service import latest_version
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.counterparties import service as counterparties
from dpa_service.counterparties.models import (
    REISSUE,
    REMINDER,
    RESEND,
    SEND,
    Counterparty,
    SigningInvitation,
)
from dpa_service.errors import Conflict, Unprocessable
from dpa_service.notify import outbox
from dpa_service.notify.models import OutboundEmail
from dpa_service.rendering.converter import ConverterPool
from dpa_service.sales.messages import invitation_message
from dpa_service.signing import service as signing
from dpa_service.signing.links import revoke_links
from dpa_service.signing.models import SigningLink
from dpa_service.text import has_control_characters

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

# "Remind now" right after another e-mail (a double click, two colleagues) is refused.
REMIND_GAP = timedelta(minutes=5)
RESEND_GAP = timedelta(minutes=1)  # between two resends; a resend may follow a send at once


@dataclass(frozen=True)
class Invitation:
    version: AgreementVersion
    link: SigningLink
    email: OutboundEmail
    row: SigningInvitation


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
    return invite(session, settings, outcome.version, SEND, actor, now or utcnow())


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
    _lock(session, version)  # two clicks at once: the second waits, then sees the first
    _not_just_emailed(session, version, now, RESEND_GAP, "sending a new link", RESEND)
    revoke_links(session, version.id, now)
    return invite(session, settings, version, RESEND, actor, now)


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
    _not_just_emailed(session, version, now, REMIND_GAP, "reminding them again")
    return invite(session, settings, version, REMINDER, actor, now)


def _not_just_emailed(
    session: Session,
    version: AgreementVersion,
    now: datetime,
    gap: timedelta,
    doing: str,
    kind: str | None = None,
) -> None:
    """A double click, or two colleagues at once: the second e-mail (of `kind`, or of any
    kind) is refused."""
    query = select(func.max(SigningInvitation.created_at)).where(
        SigningInvitation.version_id == version.id
    )
    if kind is not None:
        query = query.where(SigningInvitation.kind == kind)
    last = session.scalar(query)
    if last is not None and now - last < gap:
        raise Conflict(
            f"the signatory was e-mailed {_span(now - last)} ago; wait {_span(gap - (now - last))} "
            f"more before {doing}"
        )


def _span(delta: timedelta) -> str:
    seconds = max(1, round(delta.total_seconds()))
    return f"{seconds} seconds" if seconds < 90 else f"{round(seconds / 60)} minutes"


def void(*, session: Session, prospect_id: str, reason: str, actor: str) -> AgreementVersion:
    """Withdraw the prospect's newest unsigned DPA; its links stop working, reminders stop."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > 1000:
        raise Unprocessable("give a reason for voiding (1-1000 characters)")
    if has_control_characters(reason):
        raise Unprocessable("the reason may not contain control characters or text-direction marks")
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


def salesperson(session: Session, version: AgreementVersion) -> str | None:
    """The e-mail address of the sales user who owns the version's prospect: a signatory's
    answer to a sales e-mail goes to them (Reply-To), not to the no-reply sender. None for a
    workspace that was never a prospect."""
    agreement = session.get(Agreement, version.agreement_id)
    counterparty = session.get(Counterparty, agreement.counterparty_id) if agreement else None
    return counterparty.owner_email if counterparty is not None else None


def invite(
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
        reply_to=salesperson(session, version),
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
    return invite(session, settings, version, REISSUE, actor, utcnow())


# -- scheduled reminders ------------------------------------------------------------------------


# -- the completed copy -------------------------------------------------------------------------


# -- the status board ---------------------------------------------------------------------------
