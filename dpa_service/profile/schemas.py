"""Processor profile API bodies."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from dpa_service.clock import iso, iso_or_none
from dpa_service.profile.models import ProcessorProfileVersion
from dpa_service.rendering.facts import unconfirmed_fields
from dpa_service.text import MULTILINE, SAID

ChangeNote = Annotated[
    str, msgspec.Meta(max_length=2000, extra_json_schema={"extra": {"pattern": MULTILINE}})
]


class ProfileDraftCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new draft. Without `profile` it starts as a copy of the approved profile."""

    profile: dict[str, Any] | None = None
    change_note: ChangeNote = ""


class ProfileDraftUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    profile: dict[str, Any]
    change_note: ChangeNote = ""


class ProfileReview(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    comment: Annotated[
        str, msgspec.Meta(max_length=5000, extra_json_schema={"extra": {"pattern": MULTILINE}})
    ] = ""


class ProfileReject(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A rejection says why (not only spaces)."""

    comment: Annotated[
        str, msgspec.Meta(max_length=5000, extra_json_schema={"extra": {"pattern": SAID}})
    ]


class ProfileChange(msgspec.Struct):
    path: str
    before: str
    after: str


class ProfileVersionOut(msgspec.Struct, kw_only=True):
    version: int
    state: str
    profile: dict[str, Any]
    sha256: str
    # Values legal has not confirmed: a DPA made from this profile prints them as such and
    # cannot be sent (a configured DPA_PROCESSOR_SIGNATORY_NAME stands in for signatory.*).
    unconfirmed: list[str]
    change_note: str
    author: str
    based_on: int | None
    created_at: str
    submitted_at: str | None
    reviewer: str | None
    reviewed_at: str | None
    review_comment: str | None
    approved_at: str | None
    retired_at: str | None
    changes: list[ProfileChange] | None = None  # against the approved profile (open versions)


def version_out(
    row: ProcessorProfileVersion, changes: list[dict[str, str]] | None = None
) -> ProfileVersionOut:
    return ProfileVersionOut(
        version=row.version,
        state=row.state,
        profile=row.profile,
        sha256=row.sha256,
        unconfirmed=unconfirmed_fields(row.profile),
        change_note=row.change_note,
        author=row.author,
        based_on=row.based_on,
        created_at=iso(row.created_at),
        submitted_at=iso_or_none(row.submitted_at),
        reviewer=row.reviewer,
        reviewed_at=iso_or_none(row.reviewed_at),
        review_comment=row.review_comment,
        approved_at=iso_or_none(row.approved_at),
        retired_at=iso_or_none(row.retired_at),
        changes=[ProfileChange(**c) for c in changes] if changes is not None else None,
    )
