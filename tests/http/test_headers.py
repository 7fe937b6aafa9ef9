"""Security headers on every answer: pages, the API, the router's own 404s; HSTS under https;
staff pages never cached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, own_api
from tests.staff import make_user, staff_client

BASIC = ("content-security-policy", "referrer-policy", "x-content-type-options")


def test_the_routers_own_404_and_405_carry_the_security_headers(api: Api) -> None:
    for answer in (
        api.client.get("/no/such/page"),
        api.client.get("/api/v1/nothing-here", headers=api.headers()),
        api.client.delete("/health"),
    ):
        assert answer.status_code in (404, 405), answer.text
        for name in BASIC:
            assert name in answer.headers, (answer.status_code, name)
    assert "strict-transport-security" not in api.client.get("/health").headers  # plain http


def test_staff_pages_are_never_cached(api: Api) -> None:
    legal = staff_client(api, *make_user(api, "legal"))
    for path in ("/staff/", "/staff/templates/", "/staff/subprocessors/"):
        answer = legal.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store", path
    assert api.client.get("/staff/login").headers["cache-control"] == "no-store"


@pytest.fixture(scope="module")
def https_api(pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from own_api(
        "sqlite", pool, tmp_path_factory.mktemp("https"), public_url="https://dpa.klusaro.com"
    )


def test_https_answers_carry_hsts(https_api: Api) -> None:
    client: TestClient = TestClient(https_api.app, base_url="https://dpa.klusaro.com")  # type: ignore[type-arg]
    for path in ("/health", "/verify", "/no/such/page"):
        hsts = client.get(path).headers.get("strict-transport-security", "")
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000
