"""Numbered versions of one whole document that legal edits as drafts and a second legal user
approves: the subprocessor list and the processor profile.

One approved version at a time is current. A draft starts from it (its `based_on`), only its
author changes or submits it, and it can be approved only while what it started from is still
current, so two drafts never overwrite each other's work. Approving retires the version it
replaces; both moves are compare-and-sets (governance.review), so of two approvals at once one
wins. What differs between documents (their values, their diff, what an approval sets off) stays
in their own service; the life of a draft is here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clock import utcnow
from dpa_service.db import MAX_INTEGER, changed_rows, savepoint
from dpa_service.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from dpa_service.governance import review


class Drafted(review.Reviewed, Protocol):
    version: Any
    author: Any
    based_on: Any


V = TypeVar("V", bound=Drafted)


@dataclass(frozen=True)
class Versions(Generic[V]):
    """The drafts and reviews of one kind of document, stored in `table`."""

    table: type[V]
    noun: str  # "subprocessor list": "subprocessor list version 3"
    short: str  # "list": "the approved list is now version 4"
    reviewers: tuple[str, ...] = ("legal",)

    @property
    def _t(self) -> Any:  # the mapped class, for column expressions
        return self.table

    def what(self, row: V) -> str:
        return f"{self.noun} version {row.version}"

    # -- reading -----------------------------------------------------------------------------

    def current(self, session: Session) -> V:
        """The approved version (503 if there is none: the database was never seeded)."""
        row = session.scalars(
            select(self._t).where(self._t.state == "approved").order_by(self._t.version.desc())
        ).first()
        if row is None:
            raise ServiceUnavailable(f"no approved {self.noun}")
        return row  # type: ignore[no-any-return]

    def get(self, session: Session, number: int) -> V:
        row = (
            session.scalar(select(self._t).where(self._t.version == number))
            if 1 <= number <= MAX_INTEGER
            else None
        )
        if row is None:
            raise NotFound(f"{self.noun} version {number} not found")
        return row  # type: ignore[no-any-return]

    def all(self, session: Session) -> list[V]:
        """Every version, newest first."""
        return list(session.scalars(select(self._t).order_by(self._t.version.desc())))

    # -- drafts ------------------------------------------------------------------------------

    def next_number(self, session: Session) -> int:
        return int(session.scalar(select(func.max(self._t.version))) or 0) + 1

    def add(self, session: Session, row: V) -> V:
        """Store a new draft; 409 when another draft took its number at the same moment (in a
        savepoint, so the rest of the request's unit of work stands)."""
        try:
            with savepoint(session):
                session.add(row)
                session.flush()
        except IntegrityError:
            raise Conflict("another draft was started at the same moment; try again") from None
        return row

    def own_draft(self, session: Session, number: int, actor: Principal) -> V:
        """Version `number`, which must be a draft `actor` wrote."""
        row = self.get(session, number)
        if row.state != "draft":
            raise Conflict(f"version {number} is {row.state}; only a draft can be changed")
        if row.author_subject != actor.subject:
            raise Forbidden(f"version {number} is {row.author}'s draft; only they can change it")
        return row

    def save(self, session: Session, row: V, actor: Principal, values: dict[str, Any]) -> V:
        """Write `values` over a draft: a compare-and-set, so a draft submitted meanwhile is
        never written over."""
        saved = changed_rows(
            session,
            update(self._t)
            .where(
                self._t.id == row.id,
                self._t.state == "draft",
                self._t.author_subject == actor.subject,
            )
            .values(**values),
        )
        if saved != 1:
            raise Conflict(f"version {row.version} is no longer a draft; start a new draft")
        session.refresh(row)
        return row

    def require_based_on_current(self, session: Session, row: V) -> V:
        """The approved version `row` started from is still current; returns that version."""
        current = self.current(session)
        if row.based_on != current.version:
            raise Conflict(
                f"the approved {self.short} is now version {current.version}, but version "
                f"{row.version} was started from version {row.based_on}; start a new draft from "
                f"the current {self.short}"
            )
        return current

    def submit(self, session: Session, row: V) -> V:
        """Draft → in review (the caller has checked that it changes something)."""
        review.move(session, row, "in_review", self.what(row), {"submitted_at": utcnow()})
        return row

    # -- review ------------------------------------------------------------------------------

    def in_review(self, session: Session, number: int, reviewer: Principal, doing: str) -> V:
        """Version `number`, in review and written by someone other than `reviewer`."""
        review.require_role(reviewer, self.reviewers, f"{doing} a {self.noun}")
        row = self.get(session, number)
        if row.state != "in_review":
            done = "approved" if doing == "approve" else "rejected"
            raise Conflict(
                f"version {number} is {row.state}; only a version in review can be {done}"
            )
        review.require_other_person(row, reviewer, self.what(row), doing)
        return row

    def approve(
        self,
        session: Session,
        row: V,
        reviewer: Principal,
        *,
        now: datetime,
        comment: str | None,
        values: dict[str, Any] | None = None,
    ) -> V:
        """In review → approved, retiring the current version; returns the one retired."""
        previous = self.require_based_on_current(session, row)
        # Compare-and-set on both rows: of two approvals at once, one wins.
        review.move(session, previous, "retired", self.what(previous), {"retired_at": now})
        review.move(
            session,
            row,
            "approved",
            self.what(row),
            {**(values or {}), **review.approval(reviewer, now, comment)},
        )
        return previous

    def reject(self, session: Session, row: V, reviewer: Principal, comment: str) -> V:
        """In review → rejected, with the (already checked) comment."""
        review.move(
            session,
            row,
            "rejected",
            self.what(row),
            review.verdict(reviewer, utcnow(), comment),
        )
        return row
