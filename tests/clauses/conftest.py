"""An app of its own for template governance (approvals change what every later DPA says, so
they must not touch the shared `api`), with a second legal token for four-eyes checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from dpa_service.clauses.models import TemplateEvent, TemplateVersion
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, _postgres_database, make_api
from tests.staff import person_token


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def gov(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp(f"templates-{request.param}")

    def with_second_legal(api: Api) -> Api:
        api.tokens["legal2"] = person_token(api, "legal", name="Second Legal")
        return api

    if request.param == "sqlite":
        tmp.joinpath("data").mkdir()
        for api in make_api("sqlite", f"sqlite:///{tmp / 'data' / 'dpa.sqlite3'}", tmp, pool):
            yield with_second_legal(api)
    else:
        for url in _postgres_database():
            for api in make_api("postgresql", url, tmp, pool):
                yield with_second_legal(api)


def upload(
    api: Api,
    key: str,
    data: bytes,
    *,
    role: str = "legal",
    filename: str | None = None,
    note: str = "Test change",
) -> Any:
    return api.client.post(
        f"/api/v1/templates/{key}/versions",
        files={"file": (filename or f"{key}.docx", data, "application/octet-stream")},
        data={"change_note": note},
        headers=api.headers(role),
    )


def act(api: Api, key: str, number: int, action: str, role: str, **body: Any) -> Any:
    return api.client.post(
        f"/api/v1/templates/{key}/versions/{number}/{action}",
        json=body or None,
        headers=api.headers(role),
    )


def counts(api: Api) -> tuple[int, int]:
    with api.session() as s:
        return (
            s.scalar(select(func.count()).select_from(TemplateVersion)) or 0,
            s.scalar(select(func.count()).select_from(TemplateEvent)) or 0,
        )


def current(api: Api, key: str) -> dict[str, Any]:
    r = api.client.get("/api/v1/templates", headers=api.headers("legal"))
    assert r.status_code == 200, r.text
    return next(t for t in r.json() if t["template_key"] == key)["current"]
