"""Idempotency-Key on the POST routes that create things: a client retrying after a lost answer
gets the first answer back, and nothing is made twice — also when the retries race."""

from __future__ import annotations

import threading
import uuid

import httpx
from sqlalchemy import func, select

from dpa_service.agreements.models import AgreementVersion
from tests.conftest import Api, LiveServer


def _versions(api: Api, agreement_id: str) -> int:
    with api.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(AgreementVersion)
                .where(AgreementVersion.agreement_id == agreement_id)
            )
            or 0
        )


def test_a_retried_new_version_request_makes_one_version(api: Api, workspace_id: str) -> None:
    assert api.put_workspace(workspace_id).status_code == 201
    first_dpa = api.request_dpa(workspace_id).json()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    url = f"/api/v1/workspaces/{workspace_id}/agreements"
    headers = {**api.headers(), **key}
    first = api.client.post(url, json={"new_version": True}, headers=headers)
    assert first.status_code == 201, first.text
    again = api.client.post(url, json={"new_version": True}, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["version"] == first_dpa["version"] + 1
    assert _versions(api, first_dpa["agreement_id"]) == 2

    # the same key for another request is refused, and changes nothing
    other = api.client.post(url, json={"new_version": False}, headers=headers)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    # keys belong to their caller: the admin's same key is a key of its own
    admin = api.client.post(
        url, json={"new_version": True}, headers={**api.headers("admin"), **key}
    )
    assert admin.status_code == 201 and admin.json()["version"] == first_dpa["version"] + 2
    assert _versions(api, first_dpa["agreement_id"]) == 3
    # a key that is not a key
    bad = api.client.post(
        url, json={"new_version": True}, headers={**api.headers(), "Idempotency-Key": "a b"}
    )
    assert bad.status_code == 422
    assert _versions(api, first_dpa["agreement_id"]) == 3


def test_racing_retries_with_one_key_make_one_version(live_server: LiveServer) -> None:
    api = live_server.api
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    assert api.put_workspace(workspace_id).status_code == 201
    agreement_id = api.request_dpa(workspace_id).json()["agreement_id"]
    headers = {**api.headers(), "Idempotency-Key": str(uuid.uuid4())}
    url = f"{live_server.url}/api/v1/workspaces/{workspace_id}/agreements"
    barrier = threading.Barrier(5)
    answers: list[httpx.Response] = []

    def retry() -> None:
        barrier.wait()
        answers.append(httpx.post(url, json={"new_version": True}, headers=headers, timeout=120))

    threads = [threading.Thread(target=retry) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert len(answers) == 5
    made = [a for a in answers if a.status_code == 201]
    assert made and all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
    assert len({a.json()["version"] for a in made}) == 1  # every success names one version
    assert _versions(api, agreement_id) == 2
    # a caller that got 409 retries and gets the first answer
    final = httpx.post(url, json={"new_version": True}, headers=headers, timeout=60)
    assert final.status_code == 201 and final.json() == made[0].json()
    assert _versions(api, agreement_id) == 2


def test_a_retried_template_upload_makes_one_version(api: Api) -> None:
    """Multipart bodies count too (their files by name and SHA-256)."""
    from tests.clauses import docx_files as f
    from tests.staff import person_token

    token = person_token(api, "legal")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}

    def upload(note: str) -> httpx.Response:
        return api.client.post(  # type: ignore[no-any-return]
            "/api/v1/templates/confidentiality/versions",
            files={"file": ("confidentiality.docx", f.builtin("confidentiality"))},
            data={"change_note": note},
            headers=headers,
        )

    first = upload("Clarify 9.2")
    assert first.status_code == 201, first.text
    again = upload("Clarify 9.2")
    assert again.status_code == 201 and again.json()["version"] == first.json()["version"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = upload("Something else")
    assert other.status_code == 422


def test_a_key_reused_with_another_query_is_another_request(api: Api) -> None:
    """The query string is part of the request: a template upload for Latvian with the key of
    the English one is refused, not answered with the English version."""
    from tests.clauses import docx_files as f
    from tests.staff import person_token

    token = person_token(api, "legal")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}

    def upload(language: str) -> httpx.Response:
        return api.client.post(  # type: ignore[no-any-return]
            f"/api/v1/templates/confidentiality/versions?language={language}",
            files={"file": ("confidentiality.docx", f.builtin("confidentiality"))},
            data={"change_note": "Clarify 9.2"},
            headers=headers,
        )

    first = upload("en")
    assert first.status_code == 201, first.text
    other = upload("lv")
    assert other.status_code == 422, other.text
    assert "different request" in other.json()["detail"]
    assert "Idempotent-Replayed" not in other.headers
