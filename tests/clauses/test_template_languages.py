"""Templates are versioned per language under the same four-eyes review: a Latvian upload is
checked with the Latvian context, a Latvian DPA uses the approved Latvian set, and a change in
one language marks the same template in the other out of date until it is updated there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dpa_service.rendering.converter import ConverterPool
from tests.clauses import docx_files as f
from tests.conftest import Api, own_api, workspace
from tests.pdf_text import pdf_text
from tests.staff import make_user, person_token, staff_client

LV_MASTER = (f.TEMPLATES / "lv" / "master.docx").read_bytes()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gov(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    for api in own_api(request.param, pool, tmp_path_factory.mktemp(f"lang-{request.param}")):
        api.tokens["legal2"] = person_token(api, "legal", name="Otra Juriste")
        yield api


def _upload(api: Api, key: str, data: bytes, language: str | None, note: str) -> Any:
    query = f"?language={language}" if language else ""
    return api.client.post(
        f"/api/v1/templates/{key}/versions{query}",
        files={"file": (f"{key}.docx", data, "application/octet-stream")},
        data={"change_note": note},
        headers=api.headers("legal"),
    )


def _approve(api: Api, key: str, number: int, language: str) -> dict[str, Any]:
    base = f"/api/v1/templates/{key}/versions/{number}?language={language}"
    for action, role in (("submit", "legal"), ("approve", "legal2")):
        path = base.replace("?", f"/{action}?")
        r = api.client.post(path, headers=api.headers(role))
        assert r.status_code == 200, (action, r.text)
    return dict(r.json())


def _listing(api: Api) -> dict[tuple[str, str], dict[str, Any]]:
    r = api.client.get("/api/v1/templates", headers=api.headers("legal"))
    return {(t["language"], t["template_key"]): t for t in r.json()}


def test_a_latvian_upload_is_checked_with_the_latvian_context(gov: Api) -> None:
    wrong = f.add_paragraph(LV_MASTER, "{{ controller.nosaukums }}", after="1. Puses")
    r = _upload(gov, "master", wrong, "lv", "Nepareizs mainīgais")
    assert r.status_code == 422 and "controller.nosaukums" in r.json()["detail"]
    assert gov.client.post(
        "/api/v1/templates/master/versions?language=de",
        files={"file": ("master.docx", LV_MASTER, "application/octet-stream")},
        data={"change_note": "x"},
        headers=gov.headers("legal"),
    ).status_code in (400, 422)


def test_a_latvian_change_reaches_latvian_dpas_and_marks_english_out_of_date(gov: Api) -> None:
    before = _listing(gov)
    assert not any(t["out_of_date"] for t in before.values())
    english_master = before[("en", "master")]["current"]["version"]

    changed = f.add_paragraph(LV_MASTER, "Šī rindkopa ir jauna.", after="1. Puses")
    r = _upload(gov, "master", changed, "lv", "Jauna rindkopa")
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["language"] == "lv" and draft["version"] == 2
    assert draft["url"].endswith("/templates/master/versions/2?language=lv")
    # the English master has no version 2: the versions are counted per language
    assert english_master == 1
    assert (
        gov.client.get("/api/v1/templates/master/versions/2", headers=gov.headers("legal"))
    ).status_code == 404
    diff = gov.client.get(draft["diff_url"], headers=gov.headers("legal")).json()
    assert diff["base_version"] == 1 and diff["summary"]["insert"] == 1

    approved = _approve(gov, "master", 2, "lv")
    assert approved["state"] == "approved" and approved["language"] == "lv"
    listing = _listing(gov)
    assert listing[("en", "master")]["out_of_date"] is True
    assert listing[("en", "master")]["current"]["out_of_date_since"] == "lv master v2"
    assert listing[("lv", "master")]["out_of_date"] is False
    assert listing[("en", "security")]["out_of_date"] is False

    # the templates page marks it too
    legal = staff_client(gov, *make_user(gov, "legal"))
    page = legal.get("/staff/templates")
    assert 'id="outdated-master"' in page.text and 'id="outdated-lv-master"' not in page.text

    assert gov.put_workspace("ws-lv-words", workspace(language="lv")).status_code == 201
    latvian = gov.request_dpa("ws-lv-words").json()
    assert latvian["template_versions"]["lv/master"]["version"] == 2
    text = pdf_text(gov.client.get(latvian["download_url"], headers=gov.headers()).content)
    assert "Šī rindkopa ir jauna." in text
    assert gov.put_workspace("ws-en-words", workspace()).status_code == 201
    english = gov.request_dpa("ws-en-words").json()
    assert english["template_versions"]["master"]["version"] == english_master
    assert "lv/master" not in english["template_versions"]

    # updating the English master brings it up to date, without marking the Latvian one
    english_changed = f.add_paragraph(
        f.builtin("master"), "This paragraph is new.", after="1. Parties"
    )
    r = _upload(gov, "master", english_changed, None, "The same new paragraph")
    assert r.status_code == 201, r.text
    _approve(gov, "master", r.json()["version"], "en")
    listing = _listing(gov)
    assert listing[("en", "master")]["out_of_date"] is False
    assert listing[("lv", "master")]["out_of_date"] is False
