"""HTTP: PUT and GET a workspace's details."""

from __future__ import annotations

from litestar import Controller, Response, get, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from sqlalchemy.orm import Session

from dpa_service.clock import iso
from dpa_service.counterparties import service
from dpa_service.counterparties.models import Counterparty
from dpa_service.counterparties.schemas import (
    CounterpartyDetails,
    WorkspaceOut,
)
from dpa_service.http.auth import roles
from dpa_service.http.params import WorkspaceIdParam


def _out(row: Counterparty, created: bool) -> WorkspaceOut:
    return WorkspaceOut(
        workspace_id=row.external_id,
        details=row.details,
        details_sha256=row.details_sha256,
        created_at=iso(row.created_at),
        updated_at=iso(row.updated_at),
        created=created,
    )


class WorkspaceController(Controller):
    path = "/api/v1/workspaces"
    tags = ["workspaces"]

    @put(
        "/{workspace_id:str}",
        guards=[roles("app", "admin")],
        sync_to_thread=True,
        responses={
            201: ResponseSpec(data_container=WorkspaceOut, description="A new workspace"),
        },
    )
    def upsert(
        self,
        workspace_id: WorkspaceIdParam,
        data: JSONBody[CounterpartyDetails],
        db: NamedDependency[Session],
    ) -> Response[WorkspaceOut]:
        """Create or update a workspace's details (the controller party of its DPA)."""
        row, created = service.upsert_workspace(session=db, workspace_id=workspace_id, details=data)
        return Response(_out(row, created), status_code=201 if created else 200)

    @get(
        "/{workspace_id:str}", guards=[roles("app", "admin", "legal", "sales")], sync_to_thread=True
    )
    def show(self, workspace_id: WorkspaceIdParam, db: NamedDependency[Session]) -> WorkspaceOut:
        row = service.get_workspace(session=db, workspace_id=workspace_id)
        return _out(row, False)


# -- prospects (sales) --------------------------------------------------------------------------
