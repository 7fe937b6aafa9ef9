"""HTTP: legal re-issues affected agreements and watches the progress."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.http.auth import roles
from dpa_service.http.idempotency import Idempotency
from dpa_service.reissue import service as reissue
from dpa_service.text import SAID


class ReissueRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[
        str, msgspec.Meta(max_length=1000, extra_json_schema={"extra": {"pattern": SAID}})
    ]


class ReissueApi(Controller):
    path = "/api/v1/reissues"
    tags = ["governance"]

    @get("/affected", guards=[roles("legal", "admin")], sync_to_thread=True)
    def affected(self, db: NamedDependency[Session]) -> dict[str, Any]:
        """Agreements whose current version was made from words that are no longer approved."""
        ids = reissue.affected_agreements(session=db)
        return {"count": len(ids), "agreement_ids": ids}

    @post("/", guards=[roles("legal")], sync_to_thread=True, status_code=201)
    def start(
        self,
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        user: NamedDependency[Principal],
        data: JSONBody[ReissueRequest],
    ) -> Response[dict[str, Any]]:
        """Re-issue every affected agreement as a new version; runs in the background.

        Each counterparty is e-mailed a link to sign the new version; the completed version
        they signed before stays in force until then. Interrupted work resumes by itself.
        """
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        made = reissue.start_reissue(session=db, actor=user.actor, reason=data.reason)
        return idempotency.remember(reissue.progress(session=db, reissue_id=made.id).as_dict(), 201)

    @get("/", guards=[roles("legal", "admin")], sync_to_thread=True)
    def list_all(self, db: NamedDependency[Session]) -> list[dict[str, Any]]:
        return [p.as_dict() for p in reissue.list_reissues(session=db)]

    @get("/{reissue_id:uuid}", guards=[roles("legal", "admin")], sync_to_thread=True)
    def show(self, db: NamedDependency[Session], reissue_id: FromPath[UUID]) -> dict[str, Any]:
        """Progress: how many agreements are pending, working, done, skipped or failed."""
        return reissue.progress(session=db, reissue_id=str(reissue_id)).as_dict()
