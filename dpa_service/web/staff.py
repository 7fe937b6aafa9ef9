"""Staff web UI: log in and out, who may see which page, and the admin's user list."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts import users
from dpa_service.accounts.models import STAFF_ROLES, User
from dpa_service.accounts.service import Principal
from dpa_service.web.signing import client_of

log = logging.getLogger(__name__)

COOKIE = "dpa_staff"
HOME = "/staff/"


class LoginRequired(Exception):
    """No valid staff session: the browser is sent to the login page, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def on_login_required(_: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    return Redirect(f"/staff/login?next={quote(exc.next_path, safe='/')}", status_code=303)


def staff(request: Request[Any, Any, Any], db: Session, *roles: str) -> Principal:
    """The logged-in staff member, if their role is one of `roles` (any role when none given)."""
    secret = request.cookies.get(COOKIE, "")
    user = users.user_for_session(session=db, secret=secret) if secret else None
    if user is None:
        path = request.url.path
        raise LoginRequired(path if request.method == "GET" else HOME)
    if roles and user.role not in roles:
        raise PermissionDeniedException(
            f"Your role ({user.role}) may not do this; it needs: {', '.join(roles)}."
        )
    return users.principal_of(user)


def _safe_next(value: str) -> str:
    # Only paths inside the staff UI: never an open redirect to another site.
    if (value == "/staff" or value.startswith("/staff/")) and "\\" not in value:
        return value
    return HOME


def _cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    state: State = request.app.state
    return Cookie(
        key=COOKIE,
        value=value,
        path="/staff",
        max_age=max_age,
        httponly=True,
        secure=state.settings.public_url.startswith("https"),
        samesite="strict",
    )


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: str = HOME


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
    async def login_form(self, next: FromQuery[str] = HOME) -> Template:  # noqa: A002
        return Template("staff/login.html", context={"next": _safe_next(next), "error": None})

    @post("/login", status_code=303, sync_to_thread=True)
    def login(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        data: URLEncodedBody[LoginForm],
    ) -> Response[Any]:
        settings = request.app.state.settings
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
            db.commit()  # the failure counts towards the lock-out
            log.info("staff login refused for %r from %s", data.email[:320], ip)
            return Template(
                "staff/login.html",
                context={"next": _safe_next(data.next), "error": exc.message, "email": data.email},
                status_code=401,
            )  # type: ignore[return-value]
        db.commit()
        log.info("staff login: %s (%s) from %s", done.user.email, done.user.role, ip)
        response: Response[Any] = Redirect(_safe_next(data.next), status_code=303)
        response.set_cookie(_cookie(request, done.secret, settings.staff_session_hours * 3600))
        return response

    @post("/logout", status_code=303, sync_to_thread=True)
    def logout(
        self, request: Request[Any, Any, Any], db: NamedDependency[Session]
    ) -> Response[Any]:
        secret = request.cookies.get(COOKIE, "")
        if secret:
            users.logout(session=db, secret=secret)
            db.commit()
        response: Response[Any] = Redirect("/staff/login", status_code=303)
        response.set_cookie(_cookie(request, "", 0))
        return response

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], db: NamedDependency[Session]) -> Template:
        user = staff(request, db)
        return Template("staff/home.html", context={"user": user})

    @get("/users", sync_to_thread=True)
    def user_list(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        error: FromQuery[str] = "",
        done: FromQuery[str] = "",
    ) -> Template:
        user = staff(request, db, "admin")
        return _users_page(db, user, error=error or None, done=done or None)

    @post("/users", status_code=303, sync_to_thread=True)
    def create_user(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        data: URLEncodedBody[NewUserForm],
    ) -> Response[Any]:
        admin = staff(request, db, "admin")
        try:
            created = users.create_user(
                session=db, email=data.email, name=data.name, role=data.role, password=data.password
            )
        except users.UserError as exc:
            return _users_page(db, admin, error=str(exc), status=422)  # type: ignore[return-value]
        db.commit()
        log.info("user %s (%s) created by %s", created.email, created.role, admin.actor)
        return Redirect(f"/staff/users?done={quote('Created ' + created.email)}", status_code=303)

    @post("/users/{user_id:str}/unlock", status_code=303, sync_to_thread=True)
    def unlock_user(
        self, request: Request[Any, Any, Any], db: NamedDependency[Session], user_id: FromPath[str]
    ) -> Response[Any]:
        staff(request, db, "admin")
        target = db.get(User, user_id)
        if target is None:
            return Redirect("/staff/users?error=No+such+user", status_code=303)
        users.unlock(user=target)
        db.commit()
        return Redirect(f"/staff/users?done={quote('Unlocked ' + target.email)}", status_code=303)


def _users_page(
    db: Session, user: Principal, *, error: str | None, done: str | None = None, status: int = 200
) -> Template:
    return Template(
        "staff/users.html",
        context={
            "user": user,
            "users": users.list_users(session=db),
            "roles": STAFF_ROLES,
            "error": error,
            "done": done,
        },
        status_code=status,
    )
