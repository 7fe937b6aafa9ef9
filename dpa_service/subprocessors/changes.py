"""The subprocessor list changes: approving a new list and telling every counterparty that
holds a completed DPA (a notice with its own objection link, by e-mail) and the Klusaro app
(the `subprocessors.changed` webhook), all in the approval's transaction."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.config import Settings
from dpa_service.counterparties.models import Counterparty
from dpa_service.i18n import language_of
from dpa_service.notify import outbox
from dpa_service.subprocessors import notice_text
from dpa_service.subprocessors.models import (
    SubprocessorChange,
    SubprocessorListVersion,
    SubprocessorNotice,
)
from dpa_service.subprocessors.service import Approval, approve, hash_token
from dpa_service.webhooks.events import emit as emit_webhook

log = logging.getLogger(__name__)

NOTICE_BATCH = 500


def approve_and_notify(
    *,
    session: Session,
    number: int,
    reviewer: Principal,
    settings: Settings,
    now: datetime | None = None,
) -> Approval:
    """Approve list version `number` (four eyes), notify the counterparties, emit the event."""
    done = approve(
        session=session,
        number=number,
        reviewer=reviewer,
        notice_days=settings.subprocessor_notice_days,
        now=now,
    )
    version, previous, change = done.version, done.previous, done.change
    change.notices = send_notices(session, change, version, settings)
    emit_webhook(
        session=session,
        event="subprocessors.changed",
        data={
            "version": version.version,
            "previous_version": previous.version,
            "sha256": version.sha256,
            "approved_at": change.approved_at,
            "objection_deadline": change.objection_deadline,
            "added": [e["name"] for e in change.diff["added"]],
            "removed": [e["name"] for e in change.diff["removed"]],
            "changed": [c["name"] for c in change.diff["changed"]],
            "notices": change.notices,
            "public_url": f"{settings.public_url.rstrip('/')}/subprocessors",
        },
        now=change.approved_at,
    )
    session.flush()
    log.info(
        "subprocessor list version %d approved by %s: %d notice(s)",
        number,
        reviewer.actor,
        change.notices,
    )
    return done


def send_notices(
    session: Session,
    change: SubprocessorChange,
    version: SubprocessorListVersion,
    settings: Settings,
) -> int:
    """One notice and e-mail per counterparty with a completed DPA, in batches of ids."""
    completed = (
        select(Agreement.counterparty_id)
        .join(AgreementVersion, AgreementVersion.agreement_id == Agreement.id)
        .where(AgreementVersion.state == "completed")
    )
    base_url = settings.public_url.rstrip("/")
    sent, after = 0, ""
    while True:
        batch = list(
            session.scalars(
                select(Counterparty)
                .where(Counterparty.id.in_(completed), Counterparty.id > after)
                .order_by(Counterparty.id)
                .limit(NOTICE_BATCH)
            )
        )
        if not batch:
            return sent
        after = batch[-1].id
        for counterparty in batch:
            email = str(counterparty.details.get("signatory", {}).get("email", ""))
            token = secrets.token_urlsafe(32)
            message = notice_text.compose(
                controller=str(counterparty.details.get("legal_name", "")),
                version=version.version,
                change=change.diff,
                deadline=change.objection_deadline,
                link=f"{base_url}/objections/{token}",
                public_page=f"{base_url}/subprocessors?lang={language_of(counterparty.details)}",
                language=language_of(counterparty.details),
            )
            try:
                mail = outbox.enqueue(
                    session=session,
                    to=email,
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    kind="subprocessors.changed",
                    ref=change.id,
                )
            except outbox.InvalidEmail as exc:
                # Validated when the details arrived; never let one address stop the approval.
                log.error("no subprocessor notice for counterparty %s: %s", counterparty.id, exc)
                continue
            session.add(
                SubprocessorNotice(
                    change_id=change.id,
                    counterparty_id=counterparty.id,
                    email=mail.to_addr,
                    email_id=mail.id,
                    token_hash=hash_token(token),
                    expires_at=change.objection_deadline,
                )
            )
            sent += 1
        session.flush()
