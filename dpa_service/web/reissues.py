"""Staff pages (legal): start a re-issue of every affected agreement and follow its progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.errors import DomainError
from dpa_service.reissue import service as reissue
from dpa_service.web.staff import staff


@dataclass
class ReissueForm:
    reason: str = ""


class ReissuePages(Controller):
    path = "/staff/reissues"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: NamedDependency[Session]) -> Template:
        user = staff(request, db, "legal", "admin")
        return _index(db, user)

    @post("/", sync_to_thread=True, status_code=303)
    def start(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        data: URLEncodedBody[ReissueForm],
    ) -> Response[Any]:
        user = staff(request, db, "legal")
        try:
            made = reissue.start_reissue(session=db, actor=user.actor, reason=data.reason)
        except DomainError as exc:
            db.rollback()
            return _index(db, user, error=exc.detail, status=exc.status_code)  # type: ignore[return-value]
        db.commit()
        request.app.state.jobs.kick()
        return Redirect(f"/staff/reissues/{made.id}", status_code=303)

    @get("/{reissue_id:uuid}", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        reissue_id: FromPath[UUID],
    ) -> Template:
        user = staff(request, db, "legal", "admin")
        progress = reissue.progress(session=db, reissue_id=str(reissue_id))
        return Template(
            "staff/reissue.html",
            context={"user": user, "p": progress.as_dict(), "finished": progress.finished},
        )


def _index(db: Session, user: Principal, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "staff/reissues.html",
        context={
            "user": user,
            "affected": len(reissue.affected_agreements(session=db)),
            "reissues": [p.as_dict() for p in reissue.list_reissues(session=db)],
            "error": error,
        },
        status_code=status,
    )
