"""Subprocessor API bodies: list entries validated strictly, versions, changes and objections."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from dpa_service.counterparties.schemas import COUNTRY_CODE, LINE, DataCategory, Strict
from dpa_service.text import MULTILINE, SAID, check_printable

MAX_ENTRIES = 200

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=LINE)]
Purpose = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=LINE)]
# A country code or "EU" for a new or edited entry (checked in the service, which also lets an
# entry carried over unchanged from the approved list keep the wording it was approved with).
Location = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=LINE)]
Safeguard = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=LINE)]
ChangeNote = Annotated[
    str, msgspec.Meta(max_length=2000, extra_json_schema={"extra": {"pattern": MULTILINE}})
]
# A rejection says why: not only spaces (governance.review.clean_comment refuses it too).
Comment = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2000, extra_json_schema={"extra": {"pattern": SAID}})
]


Country = Annotated[str, msgspec.Meta(pattern=COUNTRY_CODE)]
# Where the data is processed: a country code, "EU" or "GLOBAL" (data centres worldwide).
PLACE = r"^([A-Z]{2}|EU|GLOBAL)$"
Place = Annotated[str, msgspec.Meta(pattern=PLACE)]
Mechanism = Literal["dpf", "adequacy", "scc_module_3"]
Measure = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=LINE)]


class ContractingEntity(Strict):
    """Whom the processor contracts with (Stripe's Irish entity, not Stripe, Inc.)."""

    name: Name
    country: Country


class Transfer(Strict):
    """A transfer outside the EEA: to whom, where, made by the processor or onward by the
    subprocessor, and its mechanisms in the order of clause 8.2 (the first that applies
    governs)."""

    importer: Name
    country: Country
    by: Literal["processor", "subprocessor"]
    mechanisms: Annotated[list[Mechanism], msgspec.Meta(min_length=1, max_length=3)]


class Wording(Strict):
    """A text in every language the DPA is made in."""

    en: Measure
    lv: Measure


class LatvianTexts(Strict):
    purpose: Purpose


class Translations(Strict):
    lv: LatvianTexts


class EntryIn(Strict):
    """A subprocessor. The fields after `transfer_safeguard` are optional; an entry without
    them is printed with its location and safeguard as written (as in lists before issue 13)."""

    name: Name
    purpose: Purpose
    location: Location
    transfer_safeguard: Safeguard
    contracting_entity: ContractingEntity | msgspec.UnsetType = msgspec.UNSET
    processing_locations: (
        Annotated[list[Place], msgspec.Meta(min_length=1, max_length=30)] | msgspec.UnsetType
    ) = msgspec.UNSET
    transfers: Annotated[list[Transfer], msgspec.Meta(max_length=10)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    supplementary_measures: (
        Annotated[list[Wording], msgspec.Meta(max_length=20)] | msgspec.UnsetType
    ) = msgspec.UNSET
    # ["general"] (every workspace: hosting, backups …) or the data categories it serves.
    categories: (
        Annotated[
            list[DataCategory | Literal["general"]], msgspec.Meta(min_length=1, max_length=10)
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    sms: bool | msgspec.UnsetType = msgspec.UNSET  # it sends text messages
    translations: Translations | msgspec.UnsetType = msgspec.UNSET

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


class EntryOut(msgspec.Struct, omit_defaults=True):
    """An entry as stored (fields it does not have are left out), with the location's name."""

    name: str
    purpose: str
    location: str
    location_name: str
    transfer_safeguard: str
    in_eea: bool
    contracting_entity: ContractingEntity | msgspec.UnsetType = msgspec.UNSET
    processing_locations: list[str] | msgspec.UnsetType = msgspec.UNSET
    transfers: list[Transfer] | msgspec.UnsetType = msgspec.UNSET
    supplementary_measures: list[Wording] | msgspec.UnsetType = msgspec.UNSET
    categories: list[str] | msgspec.UnsetType = msgspec.UNSET
    sms: bool | msgspec.UnsetType = msgspec.UNSET
    translations: Translations | msgspec.UnsetType = msgspec.UNSET


class FieldChange(msgspec.Struct):
    """A field of an entry before and after, as stored: text for the text fields, the
    structured value (object, list, true/false) for the others; null where it had none."""

    field: str
    before: Any
    after: Any


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
