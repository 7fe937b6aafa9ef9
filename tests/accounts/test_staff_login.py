"""Staff log-in: Argon2 passwords, sessions in a cookie, CSRF, lock-out, roles, the users CLI."""

from __future__ import annotations

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


def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(api: Api) -> None:
    email, password = make_user(api, "legal")
    client = _fresh(api)
    for _ in range(api.settings.login_max_failures - 1):
        assert login(client, email, "wrong password 123").status_code == 401
    locked = login(client, email, "wrong password 123")
    assert locked.status_code == 401 and "locked" in locked.text
    # even the right password is refused while locked
    refused = login(client, email, password)
    assert refused.status_code == 401 and "locked" in refused.text

    admin_email, admin_password = make_user(api, "admin")
    admin = staff_client(api, admin_email, admin_password)
    with api.session() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
    page = admin.get("/staff/users")
    assert "locked until" in page.text
    unlocked = admin.post(
        f"/staff/users/{user_id}/unlock",
        data={"_csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert unlocked.status_code == 303
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
