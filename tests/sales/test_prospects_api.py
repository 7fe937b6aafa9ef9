"""The prospects API: who may use it, bad input changes nothing, the list and its filters,
converting a prospect into a workspace keeps its agreement and history."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from dpa_service.audit.models import AuditEvent
from dpa_service.audit.service import verify_chains
from dpa_service.counterparties.models import Counterparty
from tests.sales.conftest import Sales, link_in, path_of, prospect_details


def _count(sales: Sales) -> int:
    with sales.api.session() as s:
        return int(s.scalar(select(func.count()).select_from(Counterparty)) or 0)


@pytest.mark.parametrize("role", ["app", "legal"])
def test_only_sales_and_admin_may_use_prospects(sales: Sales, role: str) -> None:
    before = _count(sales)
    r = sales.client.post(
        "/api/v1/prospects", json=prospect_details(), headers=sales.api.headers(role)
    )
    assert r.status_code == 403
    assert sales.client.get("/api/v1/prospects", headers=sales.api.headers(role)).status_code == 403
    assert _count(sales) == before
    prospect = sales.create()
    for action in ("send", "resend", "remind", "convert"):
        assert sales.act(prospect["id"], action, role=role).status_code == 403
    assert sales.client.post("/api/v1/prospects", json=prospect_details()).status_code == 401


def test_admin_may_create_and_owns_what_they_create(sales: Sales) -> None:
    created = sales.create(role="admin")
    assert created["owner"]["name"] == "Test Admin"
    assert created["owner"]["subject"].startswith("user:")


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    inner = data
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return data


BAD: list[tuple[str, Any]] = [
    ("missing legal name", _without(prospect_details(), "legal_name")),
    ("missing signatory e-mail", _without(prospect_details(), "signatory", "email")),
    (
        "invalid e-mail",
        prospect_details(signatory={"name": "A", "title": "B", "email": "not-an-address"}),
    ),
    (
        "header injection in the e-mail",
        prospect_details(signatory={"name": "A", "title": "B", "email": "a@b.lv\r\nBcc: x@y.z"}),
    ),
    (
        "unknown country",
        prospect_details(address={**prospect_details()["address"], "country": "XX"}),
    ),
    ("overlong name", prospect_details(legal_name="Ā" * 301)),
    ("control characters", prospect_details(legal_name="SIA\x00Null")),
    ("unknown field", {**prospect_details(), "owner": "someone-else"}),
    ("wrong type", prospect_details(data_categories="leads")),
    ("unknown data category", prospect_details(data_categories=["secrets"])),
    ("not an object", ["SIA"]),
]


@pytest.mark.parametrize(("case", "body"), BAD, ids=[c for c, _ in BAD])
def test_bad_details_get_422_and_change_nothing(sales: Sales, case: str, body: Any) -> None:
    before = _count(sales)
    r = sales.client.post("/api/v1/prospects", json=body, headers=sales.api.headers("sales"))
    assert r.status_code == 422, (case, r.text)
    assert _count(sales) == before


def test_bad_requests_on_a_prospect_change_nothing(sales: Sales) -> None:
    prospect = sales.create()
    unknown = str(uuid.uuid4())
    assert sales.act(unknown, "send").status_code == 404
    assert (
        sales.client.get(
            f"/api/v1/prospects/{unknown}", headers=sales.api.headers("sales")
        ).status_code
        == 404
    )
    assert sales.client.get(
        "/api/v1/prospects/not-a-uuid", headers=sales.api.headers("sales")
    ).status_code in (404, 422)
    assert sales.act(prospect["id"], "resend").status_code == 409  # nothing sent yet
    assert sales.act(prospect["id"], "remind").status_code == 409
    assert sales.act(prospect["id"], "void", {"reason": "x"}).status_code == 409
    assert sales.act(prospect["id"], "void", {"reason": "x", "extra": 1}).status_code == 422
    assert sales.act(prospect["id"], "convert", {"workspace_id": "../etc"}).status_code == 422
    assert sales.act(prospect["id"], "convert", {}).status_code == 422
    r = sales.client.get("/api/v1/prospects?state=lost", headers=sales.api.headers("sales"))
    assert r.status_code == 422 and "state must be one of" in r.json()["detail"], r.text
    assert sales.show(prospect["id"])["latest"] is None
    assert sales.show(prospect["id"])["kind"] == "prospect"


def test_the_list_shows_each_prospects_state_and_filters(sales: Sales) -> None:
    marker = uuid.uuid4().hex[:8]
    fresh = sales.create(prospect_details(legal_name=f"SIA Jaunais {marker}"))
    out = sales.create(prospect_details(legal_name=f"SIA Izsūtītais {marker}"))
    sent = sales.send(out["id"])
    mine = sales.create(prospect_details(legal_name=f"SIA Admina {marker}"), role="admin")

    def listed(**params: str) -> list[dict[str, Any]]:
        r = sales.client.get("/api/v1/prospects", params=params, headers=sales.api.headers("sales"))
        assert r.status_code == 200, r.text
        assert r.json()["count"] == len(r.json()["prospects"])
        return list(r.json()["prospects"])

    found = {p["id"]: p for p in listed(q=marker.upper())}  # case does not matter
    assert set(found) == {fresh["id"], out["id"], mine["id"]}
    assert found[fresh["id"]]["latest"] is None
    latest = found[out["id"]]["latest"]
    assert latest["state"] == "sent" and latest["version"] == sent["version"]
    assert latest["sent_at"] and latest["expires_at"] and latest["viewed_at"] is None
    assert latest["actors"]["sent"].startswith("user:token-sales@klusaro.com")
    assert [p["id"] for p in listed(q=marker, state="sent")] == [out["id"]]
    assert [p["id"] for p in listed(q=marker, state="new")] == [mine["id"], fresh["id"]]
    admin_subject = found[mine["id"]]["owner"]["subject"]
    assert [p["id"] for p in listed(q=marker, owner=admin_subject)] == [mine["id"]]
    assert listed(q=f"{marker}-nothing") == []
    # The signatory's address finds it too.
    assert [p["id"] for p in listed(q=out["details"]["signatory"]["email"])] == [out["id"]]


def test_convert_into_a_workspace_keeps_the_agreement_and_its_history(sales: Sales) -> None:
    prospect = sales.create()
    to = prospect["details"]["signatory"]["email"]
    sent = sales.send(prospect["id"])
    url = link_in(sales.mail_to(to)[0])
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    assert sales.api.put_workspace(f"{workspace_id}-taken").status_code == 201

    taken = sales.act(prospect["id"], "convert", {"workspace_id": f"{workspace_id}-taken"})
    assert taken.status_code == 409
    assert sales.show(prospect["id"])["kind"] == "prospect"  # nothing changed

    converted = sales.act(prospect["id"], "convert", {"workspace_id": workspace_id})
    assert converted.status_code == 200, converted.text
    body = converted.json()
    assert (body["kind"], body["workspace_id"]) == ("workspace", workspace_id)
    assert body["converted_at"] and body["latest"]["state"] == "sent"

    # The Klusaro app now sees it as its workspace, with the same agreement and version.
    ws = sales.client.get(f"/api/v1/workspaces/{workspace_id}", headers=sales.api.headers("app"))
    assert ws.status_code == 200 and ws.json()["details"] == prospect["details"]
    agreement = sales.client.get(
        f"/api/v1/agreements/{sent['agreement_id']}", headers=sales.api.headers("app")
    ).json()
    assert agreement["workspace_id"] == workspace_id
    assert [v["version"] for v in agreement["versions"]] == [sent["version"]]
    again = sales.api.request_dpa(workspace_id)
    assert again.status_code == 200 and again.json()["agreement_id"] == sent["agreement_id"]
    # The link already e-mailed still works; the history is whole and gained the conversion.
    assert sales.client.get(path_of(url)).status_code == 200
    with sales.api.session() as s:
        types = s.scalars(
            select(AuditEvent.type)
            .where(AuditEvent.agreement_id == sent["agreement_id"])
            .order_by(AuditEvent.seq)
        ).all()
        _, breaks = verify_chains(session=s)
    assert [b for b in breaks if b.agreement_id == sent["agreement_id"]] == []
    assert types[:4] == ["version.created", "version.sent", "link.created", "invitation.sent"]
    assert types[4:] == ["prospect.converted", "version.viewed"]

    # A mistyped workspace id: another company's details pushed to it are refused.
    other = {**prospect["details"], "registration_number": "99999999999"}
    refused = sales.api.put_workspace(workspace_id, other)
    assert refused.status_code == 409 and "made from the prospect" in refused.text
    ws = sales.client.get(f"/api/v1/workspaces/{workspace_id}", headers=sales.api.headers("app"))
    assert ws.json()["details"] == prospect["details"]
    # The same company's details, updated, are taken.
    moved = {**prospect["details"], "vat_number": "LV40203111222"}
    assert sales.api.put_workspace(workspace_id, moved).status_code == 200

    # Sales can still read it, but acts on it through the workspace now.
    assert sales.show(prospect["id"])["workspace_id"] == workspace_id
    assert sales.act(prospect["id"], "resend").status_code == 409
    assert sales.act(prospect["id"], "convert", {"workspace_id": "ws-other"}).status_code == 409


def test_the_prospect_routes_are_in_the_api_schema_and_the_pages_are_not(sales: Sales) -> None:
    paths = sales.client.get("/schema/openapi.json").json()["paths"]
    assert set(paths["/api/v1/prospects"]) >= {"get", "post"}
    assert "get" in paths["/api/v1/prospects/{prospect_id}"]
    for action in ("send", "resend", "remind", "void", "convert"):
        assert "post" in paths[f"/api/v1/prospects/{{prospect_id}}/{action}"], action
    assert not [p for p in paths if p.startswith("/staff")]


def test_a_prospects_agreement_does_not_exist_for_the_app_token(sales: Sales) -> None:
    """A prospect's DPA belongs to sales: the Klusaro app's token can neither read nor void it."""
    prospect = sales.create()
    sent = sales.send(prospect["id"])
    agreement = f"/api/v1/agreements/{sent['agreement_id']}"
    version = f"{agreement}/versions/{sent['version']}"
    app = sales.api.headers("app")
    assert sales.client.get(agreement, headers=app).status_code == 404
    assert sales.client.get(f"{version}/pdf", headers=app).status_code == 404
    assert sales.client.get(f"{version}/completed.pdf", headers=app).status_code == 404
    voided = sales.client.post(f"{version}/void", json={"reason": "mine now"}, headers=app)
    assert voided.status_code == 404
    link = sales.client.post(f"{version}/signing-links", json={"embedded": False}, headers=app)
    assert link.status_code == 404
    assert sales.show(prospect["id"])["latest"]["state"] == "sent"  # nothing changed
    # sales still reads it
    assert sales.client.get(agreement, headers=sales.api.headers("sales")).status_code == 200
