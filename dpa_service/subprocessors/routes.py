"""HTTP API: the current subprocessor list; drafts, review and approval (legal); changes and the
objections received."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clock import iso, iso_or_none
from dpa_service.config import Settings
from dpa_service.http.auth import roles
from dpa_service.http.idempotency import Idempotency
from dpa_service.http.params import VersionNumber
from dpa_service.subprocessors import changes, service
from dpa_service.subprocessors.entries import location_name
from dpa_service.subprocessors.models import SubprocessorChange, SubprocessorListVersion
from dpa_service.subprocessors.schemas import (
    ChangedEntry,
    ChangeOut,
    DiffOut,
    DraftCreate,
    DraftUpdate,
    EntryOut,
    FieldChange,
    ObjectionOut,
    RejectRequest,
    VersionOut,
)

READERS = ("app", "admin", "legal", "sales")
GOVERNANCE = ("legal", "admin")  # admins may look; only legal changes the list


def entry_out(entry: dict[str, Any]) -> EntryOut:
    """The entry as stored (so its canonical JSON hashes to the version's SHA-256), with the
    location's name added."""
    return msgspec.convert(
        {
            **entry,
            "in_eea": bool(entry.get("in_eea")),
            "location_name": location_name(entry["location"]),
        },
        EntryOut,
    )


def diff_out(diff: dict[str, Any]) -> DiffOut:
    return DiffOut(
        added=[entry_out(e) for e in diff["added"]],
        removed=[entry_out(e) for e in diff["removed"]],
        changed=[
            ChangedEntry(name=c["name"], fields=[FieldChange(**f) for f in c["fields"]])
            for c in diff["changed"]
        ],
    )


def version_out(version: SubprocessorListVersion, diff: dict[str, Any] | None = None) -> VersionOut:
    return VersionOut(
        version=version.version,
        state=version.state,
        entries=[entry_out(e) for e in version.entries],
        sha256=version.sha256,
        change_note=version.change_note,
        author=version.author,
        based_on=version.based_on,
        created_at=iso(version.created_at),
        submitted_at=iso_or_none(version.submitted_at),
        reviewer=version.reviewer,
        reviewed_at=iso_or_none(version.reviewed_at),
        review_comment=version.review_comment,
        approved_at=iso_or_none(version.approved_at),
        retired_at=iso_or_none(version.retired_at),
        diff=diff_out(diff) if diff is not None else None,
    )


def change_out(change: SubprocessorChange, objections: int) -> ChangeOut:
    return ChangeOut(
        change_id=change.id,
        version=change.version,
        previous_version=change.previous_version,
        approved_at=iso(change.approved_at),
        objection_deadline=iso(change.objection_deadline),
        notices=change.notices,
        objections=objections,
        diff=diff_out(change.diff),
    )


class ApprovalOut(msgspec.Struct):
    version: VersionOut
    change: ChangeOut


class SubprocessorApi(Controller):
    path = "/api/v1/subprocessors"
    tags = ["subprocessors"]

    @get("/", guards=[roles(*READERS)], sync_to_thread=True)
    def current(self, db: NamedDependency[Session]) -> VersionOut:
        """The approved list new agreements are made with."""
        return version_out(service.current_approved(session=db))

    @get("/versions", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def versions(self, db: NamedDependency[Session]) -> list[VersionOut]:
        """Every version, newest first: drafts, in review, approved, rejected, retired."""
        return [version_out(v) for v in service.list_versions(session=db)]

    @post("/versions", guards=[roles("legal")], sync_to_thread=True, status_code=201)
    def create_draft(
        self,
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        user: NamedDependency[Principal],
        data: JSONBody[DraftCreate | None] = None,
    ) -> Response[VersionOut]:
        """A new draft: a copy of the current list, or the `entries` given (each with name,
        purpose, location — a country code or EU — and transfer_safeguard; and optionally
        contracting_entity, processing_locations, transfers with their mechanisms in order,
        supplementary_measures, categories, sms and translations; see docs/templates.md)."""
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        body = data or DraftCreate()
        version = service.create_draft(
            session=db, author=user, entries=body.entries, change_note=body.change_note
        )
        diff = service.diff_against_current(session=db, version=version)
        return idempotency.remember(version_out(version, diff), 201)

    @get("/versions/{number:int}", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def show(self, number: VersionNumber, db: NamedDependency[Session]) -> VersionOut:
        """One version; a draft or one in review with its diff against the approved list."""
        version = service.get_version(session=db, number=number)
        return version_out(version, service.diff_against_current(session=db, version=version))

    @put("/versions/{number:int}", guards=[roles("legal")], sync_to_thread=True)
    def update_draft(
        self,
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: JSONBody[DraftUpdate],
    ) -> VersionOut:
        """Replace a draft's entries and change note (its author only)."""
        version = service.update_draft(
            session=db,
            number=number,
            actor=user,
            entries=data.entries,
            change_note=data.change_note,
        )
        diff = service.diff_against_current(session=db, version=version)
        return version_out(version, diff)

    @post(
        "/versions/{number:int}/submit",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=200,
    )
    def submit(
        self,
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
    ) -> VersionOut:
        """Draft → in review."""
        version = service.submit(session=db, number=number, actor=user)
        diff = service.diff_against_current(session=db, version=version)
        return version_out(version, diff)

    @post(
        "/versions/{number:int}/approve",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=200,
    )
    def approve(
        self,
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
    ) -> ApprovalOut:
        """In review → approved, by a legal user other than the author (403 for the author).
        Every counterparty with a completed DPA is e-mailed a notice with an objection link."""
        done = changes.approve_and_notify(
            session=db, number=number, reviewer=user, settings=settings
        )
        return ApprovalOut(version_out(done.version), change_out(done.change, 0))

    @post(
        "/versions/{number:int}/reject",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=200,
    )
    def reject(
        self,
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: JSONBody[RejectRequest],
    ) -> VersionOut:
        """In review → rejected, with a comment."""
        version = service.reject(session=db, number=number, reviewer=user, comment=data.comment)
        return version_out(version)

    @get("/changes", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def changes(self, db: NamedDependency[Session]) -> list[ChangeOut]:
        """Every approved change, newest first, with its deadline, notices and objections."""
        return [change_out(c, n) for c, n in service.list_changes(session=db)]

    @get("/changes/{change_id:uuid}/objections", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def change_objections(
        self, change_id: FromPath[UUID], db: NamedDependency[Session]
    ) -> list[ObjectionOut]:
        """The objections counterparties made to one change."""
        return _objections(db, str(change_id))

    @get("/objections", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def all_objections(self, db: NamedDependency[Session]) -> list[ObjectionOut]:
        """Every objection received, newest first."""
        return _objections(db, None)


def _objections(db: Session, change_id: str | None) -> list[ObjectionOut]:
    return [
        ObjectionOut(
            objection_id=o.id,
            change_id=ch.id,
            version=ch.version,
            workspace_id=cp.external_id,
            counterparty=str(cp.details.get("legal_name", "")),
            reason=o.reason,
            ip=o.ip,
            at=iso(o.created_at),
        )
        for o, ch, cp in service.objections(session=db, change_id=change_id)
    ]
