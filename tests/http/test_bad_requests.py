"""Requests no client should send get a clear 4xx, never a 500: impossible path numbers, JSON
nested beyond reason."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.conftest import Api
from tests.staff import csrf_of, make_user, staff_client

HUGE = 2**63
PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _with_params(path: str) -> str | None:
    """The path with every parameter filled, ints out of range; None if it has no int."""
    if ":int}" not in path:
        return None

    def fill(match: re.Match[str]) -> str:
        kind = match.group(2)
        return {"int": str(HUGE), "uuid": str(uuid.uuid4())}.get(kind, "master")

    return PARAM.sub(fill, path)


def _routes(api: Api) -> list[tuple[str, str]]:
    found = []
    for route in api.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        url = _with_params(route.path)
        if url is None:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_route_with_an_impossible_version_number_answers_404(api: Api) -> None:
    routes = _routes(api)
    assert len(routes) >= 20  # agreements, signing, templates, subprocessors, their pages
    legal = staff_client(api, *make_user(api, "legal"))
    csrf = csrf_of(legal.get("/staff/templates/").text)
    for method, url in routes:
        if url.startswith("/staff"):
            answer: Any = legal.request(
                method, url, data={"_csrf_token": csrf}, follow_redirects=False
            )
        else:  # as the first role the route lets through
            for role in ("legal", "admin", "app", "sales"):
                answer = api.client.request(method, url, json={}, headers=api.headers(role))
                if answer.status_code != 403:
                    break
        assert answer.status_code == 404, (method, url, answer.status_code, answer.text[:300])


ROLE_OF = {
    "/api/v1/workspaces/deep-1": "app",
    "/api/v1/webhooks": "admin",
    "/api/v1/subprocessors/versions": "legal",
}


@pytest.mark.parametrize(
    "path", ["/api/v1/workspaces/deep-1", "/api/v1/webhooks", "/api/v1/subprocessors/versions"]
)
def test_json_nested_a_thousand_levels_deep_is_a_400(api: Api, path: str) -> None:
    deep = '{"a": ' + "[" * 1000 + "]" * 1000 + "}"
    method = "PUT" if "workspaces" in path else "POST"
    answer = api.client.request(
        method,
        path,
        content=deep,
        headers={**api.headers(ROLE_OF[path]), "Content-Type": "application/json"},
    )
    assert answer.status_code in (400, 422), answer.text
    assert answer.status_code != 500
