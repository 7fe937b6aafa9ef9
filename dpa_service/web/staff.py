"""Staff web UI: log in and out, the home page, and the admin's user list."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts import users
from dpa_service.accounts.models import STAFF_ROLES, User
from dpa_service.accounts.service import Principal
from dpa_service.agreements import listing
from dpa_service.config import Settings
from dpa_service.errors import NotFound
from dpa_service.http.auth import STAFF_COOKIE, STAFF_HOME, roles
from dpa_service.http.client import client_of
from dpa_service.http.errors import PageAnswer, back_with

log = logging.getLogger(__name__)


def _safe_next(value: str) -> str:
    # Only paths inside the staff UI: never an open redirect to another site.
    if (value == "/staff" or value.startswith("/staff/")) and "\\" not in value:
        return value
    return STAFF_HOME


def _cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=STAFF_COOKIE,
        value=value,
        path="/staff",
        max_age=max_age,
        httponly=True,
        secure=settings.public_url.startswith("https"),
        samesite="strict",
    )


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: str = STAFF_HOME


@dataclass
class NewUserForm:
    email: str = ""
    name: str = ""
    role: str = ""
    password: str = ""


class StaffPages(Controller):
    path = "/staff"
    include_in_schema = False

    @get("/login")
    async def login_form(self, next: FromQuery[str] = STAFF_HOME) -> Template:  # noqa: A002
        return Template("staff/login.html", context={"next": _safe_next(next), "error": None})

    @post("/login", status_code=303, sync_to_thread=True)
    def login(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[LoginForm],
    ) -> Response[Any]:
        ip, agent = client_of(request)
        try:
            done = users.login(
                session=db,
                email=data.email,
                password=data.password,
                max_failures=settings.login_max_failures,
                lockout=timedelta(minutes=settings.login_lockout_minutes),
                lifetime=timedelta(hours=settings.staff_session_hours),
                ip=ip,
                user_agent=agent,
            )
        except users.LoginRefused as exc:
            # Answered, not raised: the unit of work commits the failure towards the lock-out.
            log.info("staff login refused for %r from %s", data.email[:320], ip)
            return Template(
                "staff/login.html",
                context={"next": _safe_next(data.next), "error": exc.message, "email": data.email},
                status_code=401,
            )  # type: ignore[return-value]
        log.info("staff login: %s (%s) from %s", done.user.email, done.user.role, ip)
        response: Response[Any] = Redirect(_safe_next(data.next), status_code=303)
        response.set_cookie(_cookie(settings, done.secret, settings.staff_session_hours * 3600))
        return response

    @post("/logout", status_code=303, sync_to_thread=True)
    def logout(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        users.logout(session=db, secret=request.cookies.get(STAFF_COOKIE, ""))
        response: Response[Any] = Redirect("/staff/login", status_code=303)
        response.set_cookie(_cookie(settings, "", 0))
        return response

    @get("/", sync_to_thread=True)
    def home(self, db: NamedDependency[Session]) -> Template:
        """The work: agreements by state, what waits for Klusaro, what expires, how fast."""
        figures = listing.overview(session=db)
        return Template(
            "staff/home.html",
            context={"o": figures, "chart": _chart(figures.completions_per_week)},
        )

    @get("/users", guards=[roles("admin")], sync_to_thread=True)
    def user_list(self, db: NamedDependency[Session]) -> Template:
        return _users_page(db)

    @post("/users", guards=[roles("admin")], status_code=303, sync_to_thread=True)
    def create_user(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: URLEncodedBody[NewUserForm],
    ) -> Response[Any]:
        try:
            created = users.create_user(
                session=db, email=data.email, name=data.name, role=data.role, password=data.password
            )
        except users.UserError as exc:
            raise PageAnswer(_users_page(db, error=str(exc), status=422)) from None
        log.info("user %s (%s) created by %s", created.email, created.role, user.actor)
        return back_with("/staff/users", done=f"Created {created.email}")

    @post(
        "/users/{user_id:str}/unlock",
        guards=[roles("admin")],
        status_code=303,
        sync_to_thread=True,
        opt={"back": "/staff/users"},
    )
    def unlock_user(self, db: NamedDependency[Session], user_id: FromPath[str]) -> Response[Any]:
        target = db.get(User, user_id)
        if target is None:
            raise NotFound("No such user")
        users.unlock(session=db, user=target)
        return back_with("/staff/users", done=f"Lifted the slow-down of {target.email}")


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    count: int
    label: str  # the week's Monday, "12-01"


def _chart(weeks: list[tuple[date, int]], height: int = 100, width: int = 36) -> dict[str, Any]:
    """Bars for a server-drawn SVG of completions per week (the template writes the SVG)."""
    top = max((count for _, count in weeks), default=0) or 1
    bars = []
    for i, (monday, count) in enumerate(weeks):
        h = round(count / top * height)
        bars.append(Bar(i * width + 4, height - h + 14, h, count, monday.strftime("%m-%d")))
    return {"bars": bars, "width": len(weeks) * width + 8, "height": height + 30, "top": top}


def _users_page(db: Session, *, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "staff/users.html",
        context={
            "users": users.list_users(session=db),
            "slowdowns": users.slowdowns(session=db),
            "roles": STAFF_ROLES,
            "error": error,
        },
        status_code=status,
    )
