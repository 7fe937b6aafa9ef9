"""HTTP API: the processor profile new DPAs print; drafts, review and approval (legal)."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.http.auth import roles
from dpa_service.http.params import VersionNumber
from dpa_service.profile import service
from dpa_service.profile.schemas import (
    ProfileDraftCreate,
    ProfileDraftUpdate,
    ProfileReject,
    ProfileReview,
    ProfileVersionOut,
    version_out,
)

READERS = ("app", "admin", "legal", "sales")
GOVERNANCE = ("legal", "admin")  # admins may look; only legal changes the profile


class ProcessorProfileApi(Controller):
    path = "/api/v1/processor-profile"
    tags = ["processor profile"]

    @get("/", guards=[roles(*READERS)], sync_to_thread=True)
    def current(self, db: NamedDependency[Session]) -> ProfileVersionOut:
        """The approved profile new DPAs are made from, with the values not yet confirmed."""
        return version_out(service.current_approved(session=db))

    @get("/versions", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def versions(self, db: NamedDependency[Session]) -> list[ProfileVersionOut]:
        """Every version, newest first."""
        return [version_out(v) for v in service.list_versions(session=db)]

    @post("/versions", guards=[roles("legal")], sync_to_thread=True, status_code=201)
    def create_draft(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: JSONBody[ProfileDraftCreate | None] = None,
    ) -> ProfileVersionOut:
        """A new draft: a copy of the approved profile, or the `profile` given (the shape of
        templates/processor_profile.json; 422 naming the first problem)."""
        body = data or ProfileDraftCreate()
        row = service.create_draft(
            session=db, author=user, profile=body.profile, change_note=body.change_note
        )
        return version_out(row, service.diff_against_current(session=db, version=row))

    @get("/versions/{number:int}", guards=[roles(*GOVERNANCE)], sync_to_thread=True)
    def show(self, number: VersionNumber, db: NamedDependency[Session]) -> ProfileVersionOut:
        """One version; a draft or one in review with what it changes."""
        row = service.get_version(session=db, number=number)
        return version_out(row, service.diff_against_current(session=db, version=row))

    @put("/versions/{number:int}", guards=[roles("legal")], sync_to_thread=True)
    def update_draft(
        self,
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: JSONBody[ProfileDraftUpdate],
    ) -> ProfileVersionOut:
        """Replace a draft's profile and change note (its author only)."""
        row = service.update_draft(
            session=db,
            number=number,
            actor=user,
            profile=data.profile,
            change_note=data.change_note,
        )
        return version_out(row, service.diff_against_current(session=db, version=row))

    @post(
        "/versions/{number:int}/submit",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=200,
    )
    def submit(
        self, number: VersionNumber, db: NamedDependency[Session], user: NamedDependency[Principal]
    ) -> ProfileVersionOut:
        """Draft → in review."""
        row = service.submit(session=db, number=number, actor=user)
        return version_out(row, service.diff_against_current(session=db, version=row))

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
        user: NamedDependency[Principal],
        data: JSONBody[ProfileReview | None] = None,
    ) -> ProfileVersionOut:
        """In review → approved, by a legal user other than the author (403 for the author).
        New DPAs print this profile; the one it replaces retires."""
        done = service.approve(
            session=db, number=number, reviewer=user, comment=data.comment if data else ""
        )
        return version_out(done.version)

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
        data: JSONBody[ProfileReject],
    ) -> ProfileVersionOut:
        """In review → rejected, with a comment."""
        row = service.reject(session=db, number=number, reviewer=user, comment=data.comment)
        return version_out(row)
