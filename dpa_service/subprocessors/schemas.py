"""Subprocessor API bodies: list entries validated strictly, versions, changes and objections."""

from __future__ import annotations

from typing import Annotated

import msgspec

from dpa_service.counterparties.schemas import _LINE, Strict
from dpa_service.text import check_printable

MAX_ENTRIES = 200

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_LINE)]
Purpose = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=_LINE)]
# A country code or "EU" for a new or edited entry (checked in the service, which also lets an
# entry carried over unchanged from the approved list keep the wording it was approved with).
Location = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_LINE)]
Safeguard = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=_LINE)]
ChangeNote = Annotated[str, msgspec.Meta(max_length=2000)]
Comment = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class EntryIn(Strict):
    name: Name
    purpose: Purpose
    location: Location
    transfer_safeguard: Safeguard

    def __post_init__(self) -> None:
        check_printable(msgspec.to_builtins(self))  # it is printed in every DPA


Entries = Annotated[list[EntryIn], msgspec.Meta(min_length=1, max_length=MAX_ENTRIES)]


class DraftCreate(Strict):
    """A new draft. Without `entries` it starts as a copy of the current approved list."""

    entries: Entries | None = None
    change_note: ChangeNote = ""


class DraftUpdate(Strict):
    entries: Entries
    change_note: ChangeNote = ""


class RejectRequest(Strict):
    comment: Comment


class EntryOut(msgspec.Struct):
    name: str
    purpose: str
    location: str
    location_name: str
    transfer_safeguard: str
    in_eea: bool


class FieldChange(msgspec.Struct):
    field: str
    before: str
    after: str


class ChangedEntry(msgspec.Struct):
    name: str
    fields: list[FieldChange]


class DiffOut(msgspec.Struct):
    added: list[EntryOut]
    removed: list[EntryOut]
    changed: list[ChangedEntry]


class VersionOut(msgspec.Struct):
    version: int
    state: str
    entries: list[EntryOut]
    sha256: str
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
    diff: DiffOut | None = None  # against the current approved list (drafts and reviews)


class ChangeOut(msgspec.Struct):
    change_id: str
    version: int
    previous_version: int | None
    approved_at: str
    objection_deadline: str
    notices: int
    objections: int
    diff: DiffOut


class ObjectionOut(msgspec.Struct):
    objection_id: str
    change_id: str
    version: int
    workspace_id: str
    counterparty: str
    reason: str
    ip: str | None
    at: str
