"""The DPA applies from the start of the main agreement: the date is printed apart from the issue
date, stored on the version and printed again in the completed copy."""

from __future__ import annotations

import re
import uuid

import pytest

from dpa_service.clock import utcnow
from dpa_service.rendering.context import format_date
from tests.conftest import Api, workspace
from tests.pdf_text import pdf_text
from tests.signing.helpers import issue, sign, version_state


def test_the_main_agreements_start_given_by_the_app_is_the_effective_date(
    api: Api, workspace_id: str
) -> None:
    data = workspace(main_agreement_start="2025-03-01")
    issued = issue(api, workspace_id, data)
    state = version_state(api, issued)
    assert state["effective_on"] == "2025-03-01"
    draft = pdf_text(api.client.get(f"{issued.path}/document.pdf").content)
    assert "Effective date: 1 March 2025, the date on which the main agreement took effect" in draft
    issued_on = re.search(r"Issued on: (\d{1,2} [A-Z][a-z]+ \d{4})", draft)
    assert issued_on and issued_on.group(1) == format_date(utcnow().date())
    stored = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers()).json()
    assert stored["details"]["main_agreement_start"] == "2025-03-01"

    assert sign(api, issued).status_code == 303  # countersigned automatically
    completed = pdf_text(api.client.get(f"{issued.path}/signed.pdf").content)
    assert "Effective date: 1 March 2025, the date on which the main agreement took effect" in (
        completed
    )


def test_without_a_start_date_a_workspace_applies_from_when_it_was_first_pushed(
    api: Api, workspace_id: str
) -> None:
    assert api.put_workspace(workspace_id).status_code == 201
    first_pushed = utcnow().date()
    dpa = api.request_dpa(workspace_id).json()
    assert dpa["effective_on"] == first_pushed.isoformat()
    stored = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers()).json()
    assert "main_agreement_start" not in stored["details"]  # its hash is what it was before


def test_a_prospects_dpa_states_the_rule_without_a_date(api: Api) -> None:
    prospect = api.client.post(
        "/api/v1/prospects",
        json=workspace(legal_name=f"SIA Prospekts {uuid.uuid4().hex[:6]}"),
        headers=api.headers("sales"),
    )
    assert prospect.status_code == 201, prospect.text
    sent = api.client.post(
        f"/api/v1/prospects/{prospect.json()['id']}/send", headers=api.headers("sales")
    )
    assert sent.status_code == 201, sent.text
    agreement = api.client.get(
        f"/api/v1/agreements/{sent.json()['agreement_id']}", headers=api.headers("sales")
    ).json()
    version = agreement["versions"][-1]
    assert version["effective_on"] is None
    text = pdf_text(api.client.get(version["download_url"], headers=api.headers("sales")).content)
    assert "Effective date: the date on which the main agreement took effect" in text


@pytest.mark.parametrize("value", ["2025-02-30", "1999-12-31", "tomorrow", "2025-3-1"])
def test_a_start_date_that_is_no_date_is_refused(api: Api, workspace_id: str, value: str) -> None:
    r = api.put_workspace(workspace_id, workspace(main_agreement_start=value))
    assert r.status_code == 422, r.text
    assert (
        api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers()).status_code
        == 404
    )
