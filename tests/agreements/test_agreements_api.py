"""POST a workspace's DPA, read the agreement, download the exact archived PDF."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import func, select

from dpa_service.agreements.models import AgreementVersion
from dpa_service.rendering.pdf import metadata
from tests.conftest import Api, wait_archived, workspace


def test_first_request_makes_version_1_and_the_pdf_downloads_byte_exact(
    api: Api, workspace_id: str
) -> None:
    api.put_workspace(workspace_id)
    r = api.request_dpa(workspace_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (
        body["version"] == 1 and body["state"] == "draft" and body["workspace_id"] == workspace_id
    )
    assert set(body["template_versions"]) == {
        "master",
        "security",
        "confidentiality",
        "subprocessors",
    }
    assert all(
        t["version"] == 1 and len(t["sha256"]) == 64 for t in body["template_versions"].values()
    )
    assert body["subprocessor_list_version"] == 1

    dl = api.client.get(body["download_url"], headers=api.headers("legal"))
    assert dl.status_code == 200
    assert dl.headers["content-type"] == "application/pdf"
    assert dl.content.startswith(b"%PDF-")
    assert (
        hashlib.sha256(dl.content).hexdigest() == body["sha256"] == dl.headers["x-content-sha256"]
    )
    meta = metadata(dl.content)
    assert meta["/DPAAgreementId"] == body["agreement_id"]
    assert meta["/DPAAgreementVersion"] == "1"
    assert "master=1" in meta["/DPATemplateVersions"]
    assert "Ziemeļu Logi" in meta["/Title"]
    # what it is about, not the tools that made it (Info and the PDF/A XMP alike)
    assert meta["/Keywords"] == "GDPR, Art.28, DPA, Klusaro"
    xmp = PdfReader(io.BytesIO(dl.content)).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdf:Keywords>GDPR, Art.28, DPA, Klusaro</pdf:Keywords>" in xmp
    assert b"docxtpl" not in xmp

    # the archive holds the same bytes under a write-once key
    wait_archived(api, body["agreement_id"], 1)
    stored = api.archive.get(f"agreements/{body['agreement_id']}/v1/draft.pdf")
    assert stored == dl.content


def test_same_details_return_the_current_version(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    first = api.request_dpa(workspace_id).json()
    again = api.request_dpa(workspace_id)
    assert again.status_code == 200
    assert again.json()["version"] == 1 and again.json()["sha256"] == first["sha256"]


def test_changed_details_or_explicit_request_make_a_new_version(
    api: Api, workspace_id: str
) -> None:
    api.put_workspace(workspace_id)
    v1 = api.request_dpa(workspace_id).json()
    api.put_workspace(workspace_id, workspace(legal_name="SIA Ziemeļu Logi un Durvis"))
    v2 = api.request_dpa(workspace_id)
    assert v2.status_code == 201 and v2.json()["version"] == 2
    assert v2.json()["agreement_id"] == v1["agreement_id"]
    v3 = api.request_dpa(workspace_id, new_version=True)
    assert v3.status_code == 201 and v3.json()["version"] == 3

    agreement = api.client.get(
        f"/api/v1/agreements/{v1['agreement_id']}", headers=api.headers()
    ).json()
    assert [v["version"] for v in agreement["versions"]] == [1, 2, 3]
    assert agreement["current_version"] == 3
    # every version keeps its own snapshot and bytes
    old = api.client.get(v1["download_url"], headers=api.headers())
    assert hashlib.sha256(old.content).hexdigest() == v1["sha256"]
    with api.session() as s:
        snapshot = s.scalar(
            select(AgreementVersion.counterparty_snapshot).where(
                AgreementVersion.agreement_id == v1["agreement_id"], AgreementVersion.number == 1
            )
        )
    assert snapshot["legal_name"] == "SIA Ziemeļu Logi"


def test_unknown_workspace_is_404_and_makes_nothing(api: Api, workspace_id: str) -> None:
    with api.session() as s:
        before = s.scalar(select(func.count()).select_from(AgreementVersion))
    r = api.request_dpa(workspace_id)
    assert r.status_code == 404
    assert "PUT its details first" in r.json()["detail"]
    with api.session() as s:
        assert s.scalar(select(func.count()).select_from(AgreementVersion)) == before


def test_unknown_agreement_and_version_are_404(api: Api, workspace_id: str) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert api.client.get(f"/api/v1/agreements/{missing}", headers=api.headers()).status_code == 404
    api.put_workspace(workspace_id)
    body = api.request_dpa(workspace_id).json()
    r = api.client.get(
        f"/api/v1/agreements/{body['agreement_id']}/versions/9/pdf", headers=api.headers()
    )
    assert r.status_code == 404
    r = api.client.get("/api/v1/agreements/not-a-uuid", headers=api.headers())
    assert r.status_code in (404, 422)


def test_unknown_field_in_request_body_is_422(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    r = api.request_dpa(workspace_id, new_versoin=True)
    assert r.status_code == 422


def test_tokens_and_roles_on_agreements(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    url = f"/api/v1/workspaces/{workspace_id}/agreements"
    assert api.client.post(url).status_code == 401
    assert api.client.post(url, headers={"Authorization": "Bearer dpa_forged"}).status_code == 401
    assert api.client.post(url, headers=api.headers("legal")).status_code == 403
    assert api.client.post(url, headers=api.headers("sales")).status_code == 403
    body = api.request_dpa(workspace_id).json()
    assert api.client.get(body["download_url"]).status_code == 401
    assert api.client.get(f"/api/v1/agreements/{body['agreement_id']}").status_code == 401
