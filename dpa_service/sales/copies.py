"""The completed copy: the signatory of every DPA (e-mailed or embedded in the Klusaro app), and
the processor side of one that sales e-mailed, get a link to the sealed PDF, in the completion's
transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service import audit
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.counterparties.models import FIRST_INVITATIONS, Counterparty, SigningInvitation
from dpa_service.i18n import language_of
from dpa_service.notify import outbox
from dpa_service.notify.models import OutboundEmail
from dpa_service.sales.messages import completed_message
from dpa_service.signing.links import issue_link

log = logging.getLogger(__name__)

# A completed copy's download link lasts this long (the verification page has no limit).
COPY_LINK_DAYS = 90
COPY = "copy"  # the signatory's copy link
STAFF_COPY = "staff_copy"  # the processor side's: its page says who signed, not "you"


def email_completed_copy(
    *,
    session: Session,
    version: AgreementVersion,
    settings: Settings,
    processor_email: str,
    now: datetime | None = None,
) -> list[OutboundEmail]:
    """E-mail the sealed copy: to the signatory always, and to the processor side too when the
    version was sent by e-mail.

    Each recipient gets a link of their own that opens the completion page and its download
    (already used, so it cannot sign anything) for COPY_LINK_DAYS: the signatory's says "you
    signed", the processor side's says who signed (kind STAFF_COPY). An embedded link lives
    minutes, so this e-mail is how the app's signatory keeps the copy. The processor side is
    the prospect's owner when they have an e-mail address, else the countersigner; a version
    handed out through the Klusaro app has none (the app hears of completion by webhook).
    Called by completion in its transaction.
    """
    emailed = session.scalar(
        select(SigningInvitation.id)
        .where(
            SigningInvitation.version_id == version.id,
            SigningInvitation.kind.in_(FIRST_INVITATIONS),
        )
        .limit(1)
    )
    now = now or utcnow()
    agreement = session.get(Agreement, version.agreement_id)
    assert agreement is not None
    counterparty = session.get(Counterparty, agreement.counterparty_id)
    assert counterparty is not None
    details = version.counterparty_snapshot
    # The signatory reads the agreement's language; Klusaro's own people read English.
    recipients = [
        (
            details["signatory"]["email"],
            details["signatory"]["name"],
            "controller",
            language_of(details),
        )
    ]
    if emailed is not None:
        recipients.append(
            (
                counterparty.owner_email or processor_email,
                counterparty.owner_name or "",
                "processor",
                "en",
            )
        )
    messages: list[OutboundEmail] = []
    seen: set[str] = set()
    for address, name, side, language in recipients:
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
            kind=COPY if side == "controller" else STAFF_COPY,
            created_by="system",
            expires_at=now + timedelta(days=COPY_LINK_DAYS),
            used_at=now,
        )
        base = settings.public_url.rstrip("/")
        subject, text, body = completed_message(
            version,
            name,
            f"{base}/sign/{secret}/done",
            link.expires_at,
            language,
            f"{base}/verify?lang={language}",  # the page in the recipient's language
        )
        messages.append(
            outbox.enqueue(
                session=session,
                to=address,
                subject=subject,
                text=text,
                html=body,
                kind=f"dpa.completed.{side}",
                ref=version.agreement_id,
                # the signatory's questions go to the salesperson of a prospect's DPA
                reply_to=counterparty.owner_email if side == "controller" else None,
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
