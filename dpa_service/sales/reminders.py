"""Scheduled reminders (DPA_REMINDER_DAYS after sending), each sent once even with several
workers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from dpa_service.agreements.lifecycle import OPEN_FOR_SIGNING
from dpa_service.agreements.models import AgreementVersion
from dpa_service.clock import utcnow
from dpa_service.counterparties.models import FIRST_INVITATIONS, REMINDER, SigningInvitation
from dpa_service.errors import Conflict
from dpa_service.sales.flows import invite

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from dpa_service.jobs.context import JobContext


SYSTEM = "system (reminder schedule)"


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
            invite(session, ctx.settings, version, REMINDER, SYSTEM, now, number)
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
