"""The completed copy: both sides of a DPA that was e-mailed for signing get a link to the sealed
PDF, in the completion's transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    pass


# A completed copy's download link lasts this long (the verification page has no limit).
COPY_LINK_DAYS = 90


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
    # The signatory reads the agreement's language; Klusaro's own people read English.
    recipients = [
        (
            details["signatory"]["email"],
            details["signatory"]["name"],
            "controller",
            language_of(details),
        ),
        (
            counterparty.owner_email or processor_email,
            counterparty.owner_name or "",
            "processor",
            "en",
        ),
    ]
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
            kind="copy",
            created_by="system",
            expires_at=now + timedelta(days=COPY_LINK_DAYS),
            used_at=now,
        )
        url = f"{settings.public_url.rstrip('/')}/sign/{secret}/done"
        subject, text, body = completed_message(version, name, url, link.expires_at, language)
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
