"""What is printed is exactly what was stored: invisible, reordering and emoji characters are
refused with 422 naming the field and the character, wherever details enter; every script's
letters are not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WORKSPACE, Api, workspace
from tests.staff import csrf_of, make_user, staff_client

REFUSED = {
    "right-to-left override": ("\u202eevil\u202c name", "U+202E"),
    "left-to-right isolate": ("Rīga\u2066", "U+2066"),
    "zero width space": ("SIA\u200bLogi", "U+200B"),
    "zero width joiner": ("SIA\u200dLogi", "U+200D"),
    "line separator": ("SIA\u2028Logi", "U+2028"),
    "paragraph separator": ("SIA\u2029Logi", "U+2029"),
    "C1 control": ("SIA \x85Logi", "U+0085"),
    "soft hyphen": ("Ziemeļu\u00adLogi", "U+00AD"),
    "emoji": ("SIA Logi \U0001f600", "U+1F600"),
    "emoji presentation selector": ("SIA \u2764\ufe0f", "U+2764"),
    "byte order mark": ("\ufeffSIA Logi", "U+FEFF"),
}
ALLOWED = [
    "SIA Ziemeļu Logi",
    "Łódź Sp. z o.o.",
    "Müller & Söhne GmbH",
    "株式会社テスト",
    "ООО «Ромашка»",
    'שלום בע"מ',
    "Café “Nord” — 50 %",
]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_api_refuses_the_character_by_field_and_code_point(
    api: Api, workspace_id: str, case: str
) -> None:
    text, point = REFUSED[case]
    field, body = ("address.city", workspace(address={**WORKSPACE["address"], "city": text}))
    if "isolate" not in case:
        field, body = ("legal_name", workspace(legal_name=text))
    answer = api.put_workspace(workspace_id, body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert field in detail and point in detail, detail
    shown = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers())
    assert shown.status_code == 404  # nothing stored


@pytest.mark.parametrize("name", ALLOWED)
def test_letters_of_every_script_are_accepted(api: Api, workspace_id: str, name: str) -> None:
    answer = api.put_workspace(workspace_id, workspace(legal_name=name))
    assert answer.status_code == 201, answer.text
    assert answer.json()["details"]["legal_name"] == name


def test_the_staff_prospect_form_refuses_it_by_label_and_code_point(api: Api) -> None:
    sales = staff_client(api, *make_user(api, "sales"))
    form = sales.get("/staff/prospects/new")
    data: dict[str, Any] = {
        "_csrf_token": csrf_of(form.text),
        "legal_name": "SIA \u202eevil\u202c",
        "registration_number": "40103999888",
        "street": "Brīvības iela 1",
        "city": "Rīga",
        "postal_code": "LV-1001",
        "country": "LV",
        "signatory_name": "Līga Bērziņa",
        "signatory_title": "Valdes locekle",
        "signatory_email": "liga@example.lv",
        "data_categories": "contacts",
        "data_subjects": "customers",
    }
    answer = sales.post("/staff/prospects/", data=data, follow_redirects=False)
    assert answer.status_code == 422
    assert "Legal name" in answer.text and "U+202E" in answer.text


def test_the_cli_refuses_it_too(tmp_path: Path) -> None:
    source = tmp_path / "workspace.json"
    source.write_text(json.dumps(workspace(legal_name="SIA \u2067Logi")))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dpa_service.cli",
            "generate",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "dpa.pdf"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "legal_name" in result.stderr and "U+2067" in result.stderr
    assert not (tmp_path / "dpa.pdf").exists()


def test_the_signers_typed_name_is_held_to_the_same_rule(api: Api, workspace_id: str) -> None:
    from tests.signing.helpers import issue, sign, version_state

    issued = issue(api, workspace_id)
    answer = sign(api, issued, typed_name="Ēriks \u202eKalniņš")
    assert answer.status_code == 422 and "U+202E" in answer.text
    assert version_state(api, issued)["state"] in ("sent", "viewed")
