"""HTTP API for sales: prospects, their DPA by e-mail (send, resend, remind, void), conversion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clock import iso, iso_or_none
from dpa_service.config import Settings
from dpa_service.counterparties import service
from dpa_service.counterparties.schemas import CounterpartyDetails
from dpa_service.http.auth import roles
from dpa_service.http.idempotency import Idempotency
from dpa_service.rendering.converter import ConverterPool
from dpa_service.sales import flows, status
from dpa_service.sales.schemas import (
    ConvertRequest,
    InvitationOut,
    ProspectCreated,
    ProspectList,
    ProspectOut,
    ProspectOwner,
    ProspectVersion,
)
from dpa_service.signing.schemas import VoidRequest
from dpa_service.text import NO_CONTROLS

SALES = ("sales", "admin")


def prospect_out(board_row: status.ProspectStatus) -> ProspectOut:
    row, version = board_row.prospect, board_row.version
    latest = None
    if version is not None:
        latest = ProspectVersion(
            agreement_id=version.agreement_id,
            version=version.number,
            state=version.state,
            created_at=iso(version.created_at),
            sent_at=iso_or_none(version.sent_at),
            viewed_at=iso_or_none(version.viewed_at),
            signed_at=iso_or_none(version.signed_at),
            completed_at=iso_or_none(version.completed_at),
            closed_at=iso_or_none(version.closed_at),
            expires_at=iso_or_none(version.expires_at),
            state_reason=version.state_reason,
            reminders_sent=board_row.reminders_sent,
            last_emailed_at=iso_or_none(board_row.last_emailed_at),
            actors=board_row.actors,
        )
    return ProspectOut(
        id=row.id,
        kind=row.kind,
        workspace_id=row.external_id if row.kind == service.WORKSPACE else None,
        details=row.details,
        owner=ProspectOwner(row.owner_subject, row.owner_name or "", row.owner_email)
        if row.owner_subject
        else None,
        created_at=iso(row.created_at),
        updated_at=iso(row.updated_at),
        converted_at=iso_or_none(row.converted_at),
        latest=latest,
    )


def invitation_out(prospect_id: str, done: flows.Invitation) -> InvitationOut:
    return InvitationOut(
        prospect_id=prospect_id,
        agreement_id=done.version.agreement_id,
        version=done.version.number,
        state=done.version.state,
        sha256=done.version.draft_pdf_sha256,
        kind=done.row.kind,
        to=done.email.to_addr,
        link_id=done.link.id,
        link_expires_at=iso(done.link.expires_at),
        email_id=done.email.id,
        message_id=done.email.message_id,
    )


class ProspectController(Controller):
    """Companies that are not customers yet: sales e-mails them the DPA and follows it up."""

    path = "/api/v1/prospects"
    tags = ["prospects"]

    @post("/", guards=[roles(*SALES)], sync_to_thread=True, status_code=201)
    def create(
        self,
        data: JSONBody[CounterpartyDetails],
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        user: NamedDependency[Principal],
    ) -> Response[ProspectCreated]:
        """A new prospect with company details in the same shape as a workspace's, owned by
        the caller."""
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        row = service.create_prospect(session=db, details=data, owner=user)
        return idempotency.remember(
            ProspectCreated(
                id=row.id,
                details=row.details,
                details_sha256=row.details_sha256,
                owner=ProspectOwner(row.owner_subject or "", row.owner_name or "", row.owner_email),
                created_at=iso(row.created_at),
            ),
            201,
        )

    @get("/", guards=[roles(*SALES)], sync_to_thread=True)
    def index(
        self,
        db: NamedDependency[Session],
        version_state: Annotated[
            str | None,
            QueryParameter(
                name="state", max_length=20, schema_extra={"enum": list(status.BOARD_STATES)}
            ),
        ] = None,
        owner: Annotated[
            str | None, QueryParameter(max_length=320, schema_extra={"pattern": NO_CONTROLS})
        ] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=200, schema_extra={"pattern": NO_CONTROLS})
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
    ) -> ProspectList:
        """Prospects, newest first, each with its newest DPA version's state and dates.

        `state`: new (no DPA yet) or a version state; `owner`: the owner's subject or e-mail;
        `q`: part of the company name, registration number or signatory.
        """
        rows = status.board(session=db, state=version_state, owner=owner, q=q, limit=limit)
        return ProspectList(count=len(rows), prospects=[prospect_out(r) for r in rows])

    @get("/{prospect_id:uuid}", guards=[roles(*SALES)], sync_to_thread=True)
    def show(self, prospect_id: FromPath[UUID], db: NamedDependency[Session]) -> ProspectOut:
        return prospect_out(status.get_status(session=db, prospect_id=str(prospect_id)))

    @post("/{prospect_id:uuid}/send", guards=[roles(*SALES)], sync_to_thread=True, status_code=201)
    def send(
        self,
        prospect_id: FromPath[UUID],
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        pool: NamedDependency[ConverterPool],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
    ) -> Response[InvitationOut]:
        """Make the DPA (or take the current draft) and e-mail the signatory a signing link.

        409 when it is already out for signature (resend or remind instead) or signed.
        """
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        done = flows.send(
            session=db,
            pool=pool,
            settings=settings,
            prospect_id=str(prospect_id),
            actor=user.actor,
        )
        return idempotency.remember(invitation_out(str(prospect_id), done), 201)

    @post(
        "/{prospect_id:uuid}/resend", guards=[roles(*SALES)], sync_to_thread=True, status_code=201
    )
    def resend(
        self,
        prospect_id: FromPath[UUID],
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
    ) -> Response[InvitationOut]:
        """A new signing link by e-mail; the links sent before stop working."""
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        return idempotency.remember(
            _mail_again(db, settings, user, str(prospect_id), flows.resend), 201
        )

    @post(
        "/{prospect_id:uuid}/remind", guards=[roles(*SALES)], sync_to_thread=True, status_code=201
    )
    def remind(
        self,
        prospect_id: FromPath[UUID],
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
    ) -> Response[InvitationOut]:
        """Remind the signatory now (409 within five minutes of the last e-mail)."""
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        return idempotency.remember(
            _mail_again(db, settings, user, str(prospect_id), flows.remind), 201
        )

    @post("/{prospect_id:uuid}/void", guards=[roles(*SALES)], sync_to_thread=True, status_code=200)
    def void(
        self,
        prospect_id: FromPath[UUID],
        data: JSONBody[VoidRequest],
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
    ) -> ProspectOut:
        """Void the newest unsigned DPA: its links stop working and no reminder follows."""
        flows.void(session=db, prospect_id=str(prospect_id), reason=data.reason, actor=user.actor)
        return prospect_out(status.get_status(session=db, prospect_id=str(prospect_id)))

    @post(
        "/{prospect_id:uuid}/convert", guards=[roles(*SALES)], sync_to_thread=True, status_code=200
    )
    def convert(
        self,
        prospect_id: FromPath[UUID],
        data: JSONBody[ConvertRequest],
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
    ) -> ProspectOut:
        """The prospect becomes the Klusaro workspace `workspace_id`, keeping its agreement and
        history (409 if that workspace exists)."""
        service.convert_prospect(
            session=db,
            prospect_id=str(prospect_id),
            workspace_id=data.workspace_id,
            actor=user.actor,
        )
        return prospect_out(status.get_status(session=db, prospect_id=str(prospect_id)))


def _mail_again(
    db: Session,
    settings: Settings,
    user: Principal,
    prospect_id: str,
    flow: Callable[..., flows.Invitation],
) -> InvitationOut:
    """Resend or remind: a new link to the signatory by e-mail."""
    done = flow(session=db, settings=settings, prospect_id=prospect_id, actor=user.actor)
    return invitation_out(prospect_id, done)
