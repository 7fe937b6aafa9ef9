"""Staff pages (legal): start a re-issue of every affected agreement and follow its progress."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.http.auth import roles
from dpa_service.reissue import service as reissue


@dataclass
class ReissueForm:
    reason: str = ""


class ReissuePages(Controller):
    path = "/staff/reissues"
    include_in_schema = False
    guards = [roles("legal", "admin")]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        return Template(
            "staff/reissues.html",
            context={
                "affected": len(reissue.affected_agreements(session=db)),
                "reissues": [p.as_dict() for p in reissue.list_reissues(session=db)],
            },
        )

    @post(
        "/",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": "/staff/reissues/"},
    )
    def start(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: URLEncodedBody[ReissueForm],
    ) -> Redirect:
        made = reissue.start_reissue(session=db, actor=user.actor, reason=data.reason)
        return Redirect(f"/staff/reissues/{made.id}", status_code=303)

    @get("/{reissue_id:uuid}", sync_to_thread=True)
    def show(self, db: NamedDependency[Session], reissue_id: FromPath[UUID]) -> Template:
        progress = reissue.progress(session=db, reissue_id=str(reissue_id))
        return Template(
            "staff/reissue.html", context={"p": progress.as_dict(), "finished": progress.finished}
        )
