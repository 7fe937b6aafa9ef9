"""Staff log-in: Argon2 passwords, sessions in a cookie, CSRF, lock-out, roles, the users CLI."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import select

from dpa_service.accounts.models import StaffSession, User
from dpa_service.cli import main
from tests.conftest import Api
from tests.staff import PASSWORD, csrf_of, login, make_user, post_form, staff_client


def _fresh(api: Api) -> TestClient:  # type: ignore[type-arg]
    return TestClient(api.app, base_url=api.settings.public_url)


def test_a_user_logs_in_and_out_and_the_session_cookie_is_guarded(api: Api) -> None:
    email, password = make_user(api, "legal", name="Līga Bērziņa")
    client = _fresh(api)
    assert client.get("/staff/", follow_redirects=False).headers["location"] == (
        "/staff/login?next=/staff"
    )
    response = login(client, email, password, next_path="/staff/users")
    assert response.status_code == 303 and response.headers["location"] == "/staff/users"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/staff" in cookie
    home = client.get("/staff/")
    assert home.status_code == 200 and "Līga Bērziņa" in home.text and "legal" in home.text

    with api.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        stored = s.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).all()
    secret = client.cookies.get("dpa_staff")
    assert secret and all(secret not in row.secret_hash for row in stored)

    out = post_form(client, "/staff/", "/staff/logout", {})
    assert out.status_code == 303
    # the old cookie is dead on the server too, not just deleted in this browser
    replay = _fresh(api)
    replay.cookies.set("dpa_staff", secret, path="/staff")
    assert replay.get("/staff/", follow_redirects=False).status_code == 303


def test_wrong_password_unknown_user_and_missing_csrf_are_refused(api: Api) -> None:
    email, _ = make_user(api, "sales")
    client = _fresh(api)
    wrong = login(client, email, "not the password at all")
    assert wrong.status_code == 401 and "e-mail address or the password is wrong" in wrong.text
    unknown = login(client, "nobody@klusaro.com", PASSWORD)
    assert unknown.status_code == 401 and unknown.text.count("is wrong") == 1
    no_csrf = client.post(
        "/staff/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert no_csrf.status_code == 403
    assert client.get("/staff/", follow_redirects=False).status_code == 303  # still logged out


def test_unknown_wrong_and_slowed_down_get_the_same_answer_after_the_same_work(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outsider cannot tell a staff address from any other: the same status, the same page
    and one Argon2 verification each time, whether the address is unknown, the password wrong,
    or the address slowed down after failures."""
    from dpa_service.accounts import users

    verified: list[int] = []
    real = users._hasher

    class Counting:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(1)
            return real.verify(hash_, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(users, "_hasher", Counting())
    email, password = make_user(api, "legal")
    answers = []
    for typed, secret in (
        (f"nobody-{uuid.uuid4().hex[:6]}@klusaro.com", "wrong password 123"),
        (email, "wrong password 123"),
    ):
        client = _fresh(api)
        for _ in range(api.settings.login_max_failures + 1):  # the last ones are slowed down
            verified.clear()
            answer = login(client, typed, secret)
            assert answer.status_code == 401
            assert len(verified) == 1  # one Argon2 verification, whatever the case
            answers.append(_message(answer.text))
    assert len(set(answers)) == 1, set(answers)


def _message(page: str) -> str:
    return page.split('id="error">', 1)[1].split("<", 1)[0]


def test_failures_slow_down_one_address_not_the_account(api: Api) -> None:
    """Many failures from one client address make that address wait (a growing wait); the
    staff member logs in from their own address at once, and an admin sees and lifts it."""
    from datetime import timedelta

    from dpa_service.accounts.users import LoginRefused
    from dpa_service.accounts.users import login as do_login
    from dpa_service.clock import utcnow

    email, password = make_user(api, "legal")
    settings = api.settings
    attempt = {
        "max_failures": settings.login_max_failures,
        "lockout": timedelta(minutes=settings.login_lockout_minutes),
        "lifetime": timedelta(hours=1),
    }
    now = utcnow()
    with api.session() as s:
        for _ in range(settings.login_max_failures + 3):  # an attacker at 203.0.113.9
            with pytest.raises(LoginRefused):
                do_login(
                    session=s,
                    email=email,
                    password="guess guess guess",
                    ip="203.0.113.9",
                    now=now,
                    **attempt,
                )
        s.commit()
        # the right password from the attacker's address is refused while it waits …
        with pytest.raises(LoginRefused):
            do_login(
                session=s, email=email, password=password, ip="203.0.113.9", now=now, **attempt
            )
        # … but the staff member, at their own address, logs in at once
        done = do_login(
            session=s, email=email, password=password, ip="198.51.100.7", now=now, **attempt
        )
        assert done.user.email == email
        s.commit()
        # the wait ends by itself (at most DPA_LOGIN_LOCKOUT_MINUTES)
        later = now + timedelta(minutes=settings.login_lockout_minutes, seconds=1)
        do_login(session=s, email=email, password=password, ip="203.0.113.9", now=later, **attempt)
        s.rollback()

    # an admin sees the slow-down on the users page and lifts it
    client = _fresh(api)
    for _ in range(settings.login_max_failures):
        login(client, email, "wrong password 123")
    assert login(client, email, password).status_code == 401  # slowed down here
    admin = staff_client(api, *make_user(api, "admin"))
    page = admin.get("/staff/users")
    assert "slowed down after failed log-ins" in page.text
    with api.session() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
    lifted = admin.post(
        f"/staff/users/{user_id}/unlock",
        data={"_csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert lifted.status_code == 303
    assert login(client, email, password).status_code == 303


def test_roles_limit_pages_and_the_login_never_redirects_off_site(api: Api) -> None:
    email, password = make_user(api, "sales")
    client = staff_client(api, email, password)
    denied = client.get("/staff/users")
    assert denied.status_code == 403 and "needs: admin" in denied.text
    # a sales user cannot create users by posting the form either
    created = client.post(
        "/staff/users",
        data={
            "email": "x@klusaro.com",
            "name": "X",
            "role": "admin",
            "password": PASSWORD,
            "_csrf_token": csrf_of(client.get("/staff/").text),
        },
        follow_redirects=False,
    )
    assert created.status_code == 403
    with api.session() as s:
        assert s.scalar(select(User).where(User.email == "x@klusaro.com")) is None

    other = _fresh(api)
    page = other.get("/staff/login?next=https://evil.example/")
    assert 'value="/staff/"' in page.text
    response = login(other, email, password, next_path="//evil.example/")
    assert response.headers["location"] == "/staff/"


def test_an_admin_adds_a_user_in_the_web_ui_and_bad_input_changes_nothing(api: Api) -> None:
    admin_email, admin_password = make_user(api, "admin")
    admin = staff_client(api, admin_email, admin_password)
    short = post_form(
        admin,
        "/staff/users",
        "/staff/users",
        {"email": "new-legal@klusaro.com", "name": "New", "role": "legal", "password": "short"},
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text
    bad_role = post_form(
        admin,
        "/staff/users",
        "/staff/users",
        {"email": "new-legal@klusaro.com", "name": "New", "role": "app", "password": PASSWORD},
    )
    assert bad_role.status_code == 422 and "role must be one of" in bad_role.text
    with api.session() as s:
        assert s.scalar(select(User).where(User.email == "new-legal@klusaro.com")) is None
    ok = post_form(
        admin,
        "/staff/users",
        "/staff/users",
        {"email": "New-Legal@Klusaro.com", "name": "New", "role": "legal", "password": PASSWORD},
    )
    assert ok.status_code == 303, ok.text[-3000:]
    assert login(_fresh(api), "new-legal@klusaro.com", PASSWORD).status_code == 303


def test_users_cli_creates_the_first_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPA_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"]).exit_code == 0
    args = ["users", "create", "--email", "root@klusaro.com", "--name", "Root", "--role", "admin"]
    weak = runner.invoke(main, [*args, "--password-stdin"], input="short\n")
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    made = runner.invoke(main, [*args, "--password-stdin"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    again = runner.invoke(main, [*args, "--password-stdin"], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "exists already" in again.output
    listed = runner.invoke(main, ["users", "list"])
    assert "root@klusaro.com" in listed.output and "admin" in listed.output
