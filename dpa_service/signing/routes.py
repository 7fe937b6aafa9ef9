"""HTTP API: signer links, Klusaro's countersignature, void."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.agreements.schemas import VersionOut, version_out
from dpa_service.agreements.service import get_agreement, get_version
from dpa_service.clock import iso
from dpa_service.config import Settings
from dpa_service.errors import Conflict, Unprocessable
from dpa_service.http.auth import roles
from dpa_service.http.params import VersionNumber
from dpa_service.i18n import N_
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing import service
from dpa_service.signing.completion import Countersigner, complete
from dpa_service.signing.schemas import CountersignRequest, LinkOut, LinkRequest, VoidRequest
from dpa_service.signing.seal import Sealer

VERSION_PATH = "/api/v1/agreements/{agreement_id:uuid}/versions/{number:int}"


class SigningController(Controller):
    tags = ["signing"]

    @post(
        f"{VERSION_PATH}/signing-links",
        guards=[roles("app", "sales", "admin")],
        sync_to_thread=True,
        status_code=201,
    )
    def create_link(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[LinkRequest | None] = None,
    ) -> LinkOut:
        """A signing link for the controller's signatory (a draft version becomes sent).

        `embedded: true` gives a 15-minute link for the Klusaro app, bound to `workspace_id`.
        """
        body = data or LinkRequest()
        if body.embedded and not body.workspace_id:
            raise Unprocessable("an embedded link needs the workspace_id it is bound to")
        agreement, counterparty = get_agreement(
            session=db, agreement_id=str(agreement_id), for_role=user.role
        )
        if counterparty.kind == "prospect":
            # A prospect's DPA goes out by e-mail, with its reminders, expiry and copy.
            raise Conflict(
                f"agreement {agreement.id} belongs to a prospect: send it with "
                f"POST /api/v1/prospects/{counterparty.id}/send"
            )
        link, secret = service.create_link(
            session=db,
            agreement_id=str(agreement_id),
            number=number,
            embedded=body.embedded,
            require_code=body.require_code,
            actor=user.actor,
            settings=settings,
            workspace_id=body.workspace_id,
            requested_by=body.requested_by,
        )
        return LinkOut(
            link_id=link.id,
            url=f"{settings.public_url.rstrip('/')}/sign/{secret}",
            kind=link.kind,
            expires_at=iso(link.expires_at),
            require_code=link.require_code,
        )

    @post(
        f"{VERSION_PATH}/countersign", guards=[roles("legal")], sync_to_thread=True, status_code=200
    )
    def countersign(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        pool: NamedDependency[ConverterPool],
        sealer: NamedDependency[Sealer],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[CountersignRequest],
    ) -> VersionOut:
        """Klusaro's countersignature by a legal user: seals, archives and completes the version."""
        version = get_version(session=db, agreement_id=str(agreement_id), number=number)
        _, counterparty = get_agreement(session=db, agreement_id=str(agreement_id))
        complete(
            session=db,
            version=version,
            countersigner=Countersigner(
                name=data.name,
                title=data.title,
                email=data.email,
                method=N_("Legal user (API token)"),
                actor=user.actor,
            ),
            pool=pool,
            sealer=sealer,
            settings=settings,
        )
        return version_out(version, counterparty.external_id, settings.public_url)

    @post(
        f"{VERSION_PATH}/void",
        guards=[roles("app", "sales", "admin")],
        sync_to_thread=True,
        status_code=200,
    )
    def void(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[VoidRequest],
    ) -> VersionOut:
        """Void an unsigned (or signed but not countersigned) version; its links stop working."""
        _, counterparty = get_agreement(
            session=db, agreement_id=str(agreement_id), for_role=user.role
        )
        version = service.void(
            session=db,
            agreement_id=str(agreement_id),
            number=number,
            reason=data.reason,
            actor=user.actor,
        )
        return version_out(version, counterparty.external_id, settings.public_url)
