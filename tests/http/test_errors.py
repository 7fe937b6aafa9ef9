"""Errors a client should never see as a 500, and the 500s nobody expected: logged with their
traceback, answered with a page for people and JSON on the API."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.signing.helpers import issue, open_page, sign
from tests.staff import csrf_of, make_user, staff_client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/webhooks",
        "/api/v1/templates",
        "/staff/templates/",
        "/staff/prospects/",
        "/staff/webhooks/",
        "/staff/subprocessors/",
    ],
)
def test_options_without_credentials_is_no_500(api: Api, path: str) -> None:
    answer = api.client.options(path)
    assert answer.status_code < 500, answer.text
    assert "OPTIONS" in answer.headers.get("allow", "")


def test_nul_characters_get_422_not_500(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    _, csrf = open_page(api, issued)
    assert sign(api, issued, csrf, title="Chief\x00Executive").status_code == 422
    declined = api.client.post(
        f"{issued.path}/decline", data={"_csrf_token": csrf, "reason": "no\x00thanks"}
    )
    assert declined.status_code == 422
    voided = api.client.post(
        f"{issued.version_path}/void", json={"reason": "oops\x00"}, headers=api.headers()
    )
    assert voided.status_code == 422, voided.text
    note = api.client.post(
        "/api/v1/subprocessors/versions",
        json={"change_note": "a\x00b"},
        headers=api.headers("legal"),
    )
    assert note.status_code == 422, note.text
    admin = staff_client(api, *make_user(api, "admin"))
    page = admin.get("/staff/users")
    made = admin.post(
        "/staff/users",
        data={
            "_csrf_token": csrf_of(page.text),
            "email": f"x-{uuid.uuid4().hex[:6]}@klusaro.com",
            "name": "Nul\x00Name",
            "role": "sales",
            "password": "correct horse battery staple",
        },
    )
    assert made.status_code == 422
    legal = staff_client(api, *make_user(api, "legal"))
    assert legal.get("/staff/subprocessors/changes/%00").status_code == 404


def test_an_unexpected_error_is_logged_and_answered_as_a_page_or_json(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from dpa_service.subprocessors import service

    def broken(**_: Any) -> Any:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(service, "list_versions", broken)
    caplog.set_level(logging.ERROR)
    legal = staff_client(api, *make_user(api, "legal"))
    page = legal.get("/staff/subprocessors/")
    assert page.status_code == 500 and "<html" in page.text and "fire" not in page.text
    api_answer = api.client.get("/api/v1/subprocessors/versions", headers=api.headers("legal"))
    assert api_answer.status_code == 500 and api_answer.json()["status_code"] == 500
    assert "fire" not in api_answer.text
    logged = [r for r in caplog.records if r.exc_info and "fire" in str(r.exc_info[1])]
    assert len(logged) == 2
