"""Re-issue: after legal approves new words, every affected agreement gets a new version to sign.

One action creates an item per affected agreement. Workers then claim items one at a time and
make the new version, ask the counterparty to sign it, and mark the item done in the SAME
transaction, so a worker killed at any point leaves the item pending (made again later) or done
(never made twice). The completed version in force stays in force until the new one completes.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dpa_service.agreements.models import Agreement, AgreementVersion, Reissue, ReissueItem
from dpa_service.agreements.service import ApprovedWords
from dpa_service.clock import iso, iso_or_none, utcnow
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import changed_rows
from dpa_service.errors import Conflict, NotFound, Unprocessable
from dpa_service.profile import service as profiles
from dpa_service.rendering.facts import unconfirmed_fields

if TYPE_CHECKING:
    from dpa_service.jobs.context import JobContext

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SWEEP_BUDGET_S = 10.0  # per sweep; the next sweep carries on
# A version in one of these states is what the counterparty has or is about to have.
CURRENT_STATES = ("draft", "sent", "viewed", "signed", "completed")


@dataclass(frozen=True)
class Progress:
    reissue: Reissue
    counts: dict[str, int]

    @property
    def finished(self) -> bool:
        return self.reissue.finished_at is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.reissue.id,
            "reason": self.reissue.reason,
            "created_by": self.reissue.created_by,
            "created_at": iso(self.reissue.created_at),
            "total": self.reissue.total,
            "counts": {
                s: self.counts.get(s, 0)
                for s in ("pending", "working", "done", "skipped", "failed")
            },
            "finished_at": iso_or_none(self.reissue.finished_at),
        }


def _current_version(session: Session, agreement_id: str) -> AgreementVersion | None:
    return session.scalars(
        select(AgreementVersion)
        .where(
            AgreementVersion.agreement_id == agreement_id,
            AgreementVersion.state.in_(CURRENT_STATES),
        )
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).first()


def affected_agreements(*, session: Session) -> list[str]:
    """Agreements whose current version was made from words that are no longer approved."""
    approved = ApprovedWords.now(session)
    affected = []
    for agreement_id in session.scalars(select(Agreement.id).order_by(Agreement.created_at)):
        version = _current_version(session, agreement_id)
        # A signed version is about to be countersigned: re-issue it once it is completed.
        if version is not None and version.state != "signed" and approved.outdate(version):
            affected.append(agreement_id)
    return affected


def start_reissue(*, session: Session, actor: str, reason: str) -> Reissue:
    """Queue a new version for every affected agreement; refused (409) while the approved
    processor profile has values legal has not confirmed (no new version could be sent)."""
    reason = reason.strip()
    if not reason or len(reason) > 1000:
        raise Unprocessable("say why the agreements are re-issued (1-1000 characters)")
    profile = profiles.current_approved(session=session)
    blocking = unconfirmed_fields(profile.profile)
    if blocking:
        # Every new version would print them and could not be sent for signature.
        raise Conflict(profiles.refusal(blocking, profile.version))
    ids = affected_agreements(session=session)
    if not ids:
        raise Conflict("no agreement is affected: every one already uses the approved words")
    reissue = Reissue(reason=reason, created_by=actor, total=len(ids))
    session.add(reissue)
    session.flush()
    session.add_all(ReissueItem(reissue_id=reissue.id, agreement_id=a) for a in ids)
    session.flush()
    return reissue


def progress(*, session: Session, reissue_id: str) -> Progress:
    reissue = session.get(Reissue, reissue_id)
    if reissue is None:
        raise NotFound(f"re-issue {reissue_id!r} not found")
    rows = session.execute(
        select(ReissueItem.state, func.count())
        .where(ReissueItem.reissue_id == reissue_id)
        .group_by(ReissueItem.state)
    ).all()
    return Progress(reissue, {state: int(n) for state, n in rows})


def list_reissues(*, session: Session, limit: int = 20) -> list[Progress]:
    ids = session.scalars(select(Reissue.id).order_by(Reissue.created_at.desc()).limit(limit))
    return [progress(session=session, reissue_id=i) for i in ids]


def _claim(session: Session, now: datetime, lease: timedelta) -> tuple[str, str] | None:
    """Claim one due item with a compare-and-set; commits, so other workers see the claim."""
    candidates = session.scalars(
        select(ReissueItem.id)
        .where(
            or_(
                ReissueItem.state == "pending",
                (ReissueItem.state == "working") & (ReissueItem.claimed_until < now),
            )
        )
        .order_by(ReissueItem.id)
        .limit(5)
    ).all()
    for item_id in candidates:
        claim = str(uuid.uuid4())
        won = changed_rows(
            session,
            update(ReissueItem)
            .where(
                ReissueItem.id == item_id,
                or_(
                    ReissueItem.state == "pending",
                    (ReissueItem.state == "working") & (ReissueItem.claimed_until < now),
                ),
            )
            .values(
                state="working",
                claim=claim,
                claimed_until=now + lease,
                attempts=ReissueItem.attempts + 1,
            ),
        )
        session.commit()
        if won:
            return item_id, claim
    return None


def _finish(session: Session, item_id: str, claim: str, state: str, **values: object) -> bool:
    """Mark the item finished if this worker still holds it; False means someone else does."""
    return bool(
        changed_rows(
            session,
            update(ReissueItem)
            .where(
                ReissueItem.id == item_id,
                ReissueItem.claim == claim,
                ReissueItem.state == "working",
            )
            .values(state=state, done_at=utcnow(), **values),
        )
    )


def _close_finished(session: Session) -> None:
    open_ids = session.scalars(select(Reissue.id).where(Reissue.finished_at.is_(None))).all()
    for reissue_id in open_ids:
        left = session.scalar(
            select(func.count())
            .select_from(ReissueItem)
            .where(
                ReissueItem.reissue_id == reissue_id, ReissueItem.state.in_(("pending", "working"))
            )
        )
        if not left:
            session.execute(
                update(Reissue)
                .where(Reissue.id == reissue_id, Reissue.finished_at.is_(None))
                .values(finished_at=utcnow())
            )
    session.commit()


def process_one(ctx: JobContext) -> bool:
    """Re-issue one claimed agreement; False when nothing was due."""
    from dpa_service.agreements.service import request_dpa_for
    from dpa_service.sales.flows import invite_to_sign_new_version

    if ctx.pool is None:
        return False
    with ctx.session_factory() as session:
        # A claimed item whose worker died is handed out again after DPA_JOB_TIMEOUT_SECONDS.
        claimed = _claim(session, utcnow(), timedelta(seconds=ctx.settings.job_timeout_seconds))
        if claimed is None:
            return False
        item_id, claim = claimed
        item = session.get(ReissueItem, item_id)
        assert item is not None
        reissue_id, agreement_id = item.reissue_id, item.agreement_id
        try:
            current = _current_version(session, agreement_id)
            if current is None or not ApprovedWords.now(session).outdate(current):
                # Already on the approved words (re-issued by hand, or by an earlier action).
                _finish(session, item_id, claim, "skipped")
                session.commit()
                return True
            agreement = session.get(Agreement, agreement_id)
            assert agreement is not None
            counterparty = session.get(Counterparty, agreement.counterparty_id)
            assert counterparty is not None
            actor = f"reissue:{reissue_id}"
            outcome = request_dpa_for(
                session=session,
                pool=ctx.pool,
                settings=ctx.settings,
                counterparty=counterparty,
                new_version=True,
                actor=actor,
            )
            invite_to_sign_new_version(
                session=session, settings=ctx.settings, version=outcome.version, actor=actor
            )
            if not _finish(session, item_id, claim, "done", new_version=outcome.version.number):
                session.rollback()  # our lease ran out and another worker took the item over
                return True
            session.commit()
        except Exception as exc:
            session.rollback()
            log.exception("re-issue of agreement %s failed", agreement_id)
            item = session.get(ReissueItem, item_id)
            assert item is not None
            final = item.attempts >= MAX_ATTEMPTS
            # Not at once again: the converter or database may need a while to come back.
            retry_at = utcnow() + timedelta(minutes=min(2 ** (item.attempts - 1), 60))
            session.execute(
                update(ReissueItem)
                .where(ReissueItem.id == item_id, ReissueItem.claim == claim)
                .values(
                    state="failed" if final else "working",
                    claim=None,
                    claimed_until=retry_at,
                    error=str(exc)[:1000],
                )
            )
            session.commit()
        return True


def run_reissues(ctx: JobContext, budget_s: float = SWEEP_BUDGET_S) -> int:
    """Periodic task: work through due items, for at most `budget_s` so other work keeps going."""
    if ctx.pool is None:
        return 0
    deadline = time.monotonic() + budget_s

    def drain() -> int:
        n = 0
        while time.monotonic() < deadline and process_one(ctx):
            n += 1
        return n

    # As many at once as the converter has workers: the conversion is the slow part.
    with ThreadPoolExecutor(max_workers=ctx.pool.settings.size) as workers:
        done = sum(workers.map(lambda _: drain(), range(ctx.pool.settings.size)))
    if done:
        with ctx.session_factory() as session:
            _close_finished(session)
    return done
