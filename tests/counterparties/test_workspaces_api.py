"""PUT /api/v1/workspaces/{id}: strict validation, tokens and roles."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select

from dpa_service.counterparties.models import Counterparty
from dpa_service.counterparties.schemas import WorkspaceId
from tests.conftest import WORKSPACE, Api, workspace


def _count(api: Api) -> int:
    with api.session() as s:
        return s.scalar(select(func.count()).select_from(Counterparty))


def test_put_creates_then_updates(api: Api, workspace_id: str) -> None:
    r = api.put_workspace(workspace_id)
    assert r.status_code == 201, r.text
    assert r.json()["details"]["legal_name"] == WORKSPACE["legal_name"]
    first_hash = r.json()["details_sha256"]

    r = api.put_workspace(workspace_id, workspace(legal_name="SIA Ziemeļu Logi Grupa"))
    assert r.status_code == 200
    assert r.json()["details"]["legal_name"] == "SIA Ziemeļu Logi Grupa"
    assert r.json()["details_sha256"] != first_hash

    r = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers("sales"))
    assert r.json()["details"]["legal_name"] == "SIA Ziemeļu Logi Grupa"


def _nested(path: str, value: Any) -> dict[str, Any]:
    data = workspace()
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


INVALID = {
    "missing legal_name": _nested("legal_name", KeyError),
    "missing address.city": _nested("address.city", KeyError),
    "unknown top-level field": {**workspace(), "is_admin": True},
    "unknown nested field": _nested("signatory.phone", "+371 2000000"),
    "overlong name (301 chars)": _nested("legal_name", "x" * 301),
    "bad e-mail": _nested("signatory.email", "not-an-email"),
    "bad DPO e-mail": _nested("dpo.email", "dpo@"),
    "unknown country": _nested("address.country", "XX"),
    "lower-case country": _nested("address.country", "lv"),
    "unknown data category": _nested("data_categories", ["leads", "genomes"]),
    "duplicate data category": _nested("data_categories", ["leads", "leads"]),
    "empty data subjects": _nested("data_subjects", []),
    "unknown data subject": _nested("data_subjects", ["patients"]),
    "unsupported language": _nested("language", "de"),
    "language not a code": _nested("language", "Latvian"),
    "start date not a date": _nested("main_agreement_start", "2025-13-01"),
    "bilingual not a flag": _nested("bilingual", "yes"),
    "wrong type": _nested("registration_number", 40103999888),
    "blank name": _nested("legal_name", "   "),
    "control character": _nested("legal_name", "SIA \x00 Null"),
    "XML-illegal character": _nested("address.street", "Iela \x0b 1"),
    "newline in a name": _nested("signatory.name", "Anna\nBērziņa"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_input_is_422_and_stores_nothing(api: Api, workspace_id: str, case: str) -> None:
    before = _count(api)
    r = api.put_workspace(workspace_id, INVALID[case])
    assert r.status_code == 422, f"{case}: {r.status_code} {r.text}"
    assert r.json()["detail"]
    assert _count(api) == before
    r = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers())
    assert r.status_code == 404


def test_invalid_update_keeps_previous_details(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    r = api.put_workspace(workspace_id, INVALID["bad e-mail"])
    assert r.status_code == 422
    r = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers())
    assert r.json()["details"]["signatory"]["email"] == WORKSPACE["signatory"]["email"]


def test_malformed_json_is_refused(api: Api, workspace_id: str) -> None:
    r = api.client.put(
        f"/api/v1/workspaces/{workspace_id}",
        content=b'{"legal_name": ',
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422)


def test_no_token_or_wrong_token_is_401(api: Api, workspace_id: str) -> None:
    r = api.client.put(f"/api/v1/workspaces/{workspace_id}", json=WORKSPACE)
    assert r.status_code == 401
    for header in (
        "Bearer dpa_forged-token-0000000000000000000000000",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ):
        r = api.client.put(
            f"/api/v1/workspaces/{workspace_id}", json=WORKSPACE, headers={"Authorization": header}
        )
        assert r.status_code == 401, header
    r = api.client.get(f"/api/v1/workspaces/{workspace_id}")
    assert r.status_code == 401


def test_role_without_permission_is_403(api: Api, workspace_id: str) -> None:
    for role in ("legal", "sales"):
        r = api.client.put(
            f"/api/v1/workspaces/{workspace_id}", json=WORKSPACE, headers=api.headers(role)
        )
        assert r.status_code == 403, role
    assert (
        api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers()).status_code
        == 404
    )


def test_revoked_token_is_401(api: Api, workspace_id: str) -> None:
    from dpa_service.accounts.service import create_token, revoke_token

    with api.session() as s:
        token, secret = create_token(session=s, role="app", name="short-lived")
        s.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert (
        api.client.put(
            f"/api/v1/workspaces/{workspace_id}", json=WORKSPACE, headers=headers
        ).status_code
        == 201
    )
    with api.session() as s:
        revoke_token(session=s, token_id=token.id)
        s.commit()
    assert api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=headers).status_code == 401


def test_invalid_workspace_id_in_path(api: Api) -> None:
    r = api.put_workspace("bad id with spaces")
    assert r.status_code in (404, 422)


def test_a_workspace_id_with_a_final_line_break_is_refused(api: Api, workspace_id: str) -> None:
    # Python's `$` matches before a final line break: "ws-…\n" passed the id's pattern and
    # became a second workspace beside "ws-…" (the schema, read as ECMA-262, refused it).
    before = _count(api)
    r = api.put_workspace(f"{workspace_id}%0A")
    assert r.status_code in (400, 404, 422), r.text
    assert _count(api) == before
    # the same id in a body (a prospect converted to a workspace, an embedded link)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(f"{workspace_id}\n", WorkspaceId)
    assert msgspec.convert(workspace_id, WorkspaceId) == workspace_id
