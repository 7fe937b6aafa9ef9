"""Staff users for tests: create one, and a client logged in as them with its own cookies."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from dpa_service.accounts.users import create_user
from tests.signing.helpers import CSRF

PASSWORD = "correct horse battery staple"


def make_user(api: Any, role: str, *, name: str | None = None) -> tuple[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@klusaro.com"
    with api.session() as s:
        create_user(
            session=s,
            email=email,
            name=name or f"Test {role.title()}",
            role=role,
            password=PASSWORD,
        )
        s.commit()
    return email, PASSWORD


def person_token(api: Any, role: str, *, name: str | None = None) -> str:
    """An API token made for a new staff user: the API then acts as that person."""
    from dpa_service.accounts.service import create_token
    from dpa_service.accounts.users import find_user

    email, _ = make_user(api, role, name=name)
    with api.session() as s:
        user = find_user(session=s, email=email)
        secret = create_token(session=s, role=role, name=f"{role} token", user=user)[1]
        s.commit()
    return secret


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, email: str, password: str, next_path: str = "/staff/") -> Any:  # type: ignore[type-arg]
    page = client.get(f"/staff/login?next={next_path}")
    return client.post(
        "/staff/login",
        data={
            "email": email,
            "password": password,
            "next": next_path,
            "_csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )


def staff_client(api: Any, email: str, password: str) -> TestClient:  # type: ignore[type-arg]
    """A client of the same app with its own cookie jar, logged in (no lifespan of its own)."""
    client: TestClient = TestClient(api.app, base_url=api.settings.public_url)  # type: ignore[type-arg]
    response = login(client, email, password)
    assert response.status_code == 303, response.text
    return client


def post_form(client: TestClient, page_path: str, action: str, data: dict[str, str]) -> Any:  # type: ignore[type-arg]
    """Open a page, take its CSRF token, and submit a form to `action` as a browser would."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(
        action, data={**data, "_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
