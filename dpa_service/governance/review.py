"""The four-eyes review shared by template versions and subprocessor lists.

A version goes draft → in_review → approved | rejected; a draft or a version in review may be
withdrawn, and an approved one retires when its successor is approved. Every move is a
compare-and-set on the current state, so of two reviewers acting at once exactly one wins; and
no one reviews their own work: the rule compares `Principal.subject` (a person), never names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dpa_service.accounts.service import Principal, require_person
from dpa_service.db import changed_rows
from dpa_service.errors import Conflict, Forbidden, Unprocessable
from dpa_service.text import has_control_characters

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"in_review", "retired"}),
    "in_review": frozenset({"approved", "rejected", "retired"}),
    "approved": frozenset({"retired"}),
    "rejected": frozenset(),
    "retired": frozenset(),
}
MAX_COMMENT = 5000


class Reviewed(Protocol):
    """A reviewed row (governance.models.Reviewed gives a table these columns)."""

    id: Any
    state: Any
    author_subject: Any


def require_role(principal: Principal, allowed: tuple[str, ...], doing: str) -> None:
    """The caller's role allows `doing`, and the caller is a person (four eyes compare people)."""
    if principal.role not in allowed:
        raise Forbidden(f"role {principal.role!r} may not {doing}; allowed: {', '.join(allowed)}")
    require_person(principal, doing)


def require_other_person(row: Reviewed, reviewer: Principal, what: str, doing: str) -> None:
    """Four eyes: the reviewer is not the author of `what`."""
    if reviewer.subject == row.author_subject:
        raise Forbidden(f"four-eyes rule: you wrote {what}, so another legal user must {doing} it")


def clean_comment(
    text: str | None, what: str = "comment", *, limit: int = MAX_COMMENT, required: str = ""
) -> str:
    """A note or comment, stripped; `required` is the message when it may not be empty."""
    text = (text or "").strip()
    if required and not text:
        raise Unprocessable(required)
    if len(text) > limit:
        raise Unprocessable(f"the {what} is {len(text)} characters; at most {limit}")
    if has_control_characters(text, multiline=True):
        raise Unprocessable(f"the {what} contains control characters or text-direction marks")
    return text


def move(
    session: Session,
    row: Reviewed,
    to: str,
    what: str,
    values: Mapping[str, Any] | None = None,
) -> str:
    """Compare-and-set `row` from its current state to `to`; 409 if that is not allowed or
    someone else moved it first. Returns the state it was in."""
    current = row.state
    if to not in TRANSITIONS[current]:
        raise Conflict(f"{what} is {current}; it cannot become {to}")
    changes = {"state": to, **(values or {})}
    table = type(row)
    moved = changed_rows(
        session,
        update(table)
        .where(table.id == row.id, table.state == current)  # type: ignore[attr-defined]
        .values(**changes),
    )
    if moved != 1:
        raise Conflict(f"{what} changed at the same time; it is no longer {current}")
    for key, value in changes.items():
        set_committed_value(row, key, value)
    return current


def verdict(reviewer: Principal, now: datetime, comment: str | None) -> dict[str, Any]:
    """The columns an approval or a rejection sets on the reviewed row."""
    return {
        "reviewer": reviewer.name[:200],
        "reviewer_subject": reviewer.subject[:100],
        "reviewed_at": now,
        "review_comment": comment or None,
    }


def approval(reviewer: Principal, now: datetime, comment: str | None) -> dict[str, Any]:
    return {
        **verdict(reviewer, now, comment),
        "approved_by": reviewer.name[:200],
        "approved_at": now,
    }
