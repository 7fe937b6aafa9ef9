"""Subprocessor list versions: four-eyes approval, strict validation, and what generation uses."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from dpa_service.subprocessors.models import SubprocessorListVersion
from dpa_service.webhooks.models import WebhookEvent
from tests.conftest import twin_keeps_the_key_first
from tests.pdf_text import pdf_text
from tests.staff import make_user, post_form, staff_client
from tests.subprocessors.conftest import Governance, new_entry, unique


def _count_versions(g: Governance) -> int:
    with g.api.session() as s:
        return int(s.scalar(select(func.count()).select_from(SubprocessorListVersion)) or 0)


def _dpa(g: Governance, workspace_id: str) -> tuple[dict[str, Any], str]:
    assert g.api.put_workspace(workspace_id).status_code in (200, 201)
    r = g.api.request_dpa(workspace_id, new_version=True)
    assert r.status_code == 201, r.text
    pdf = g.api.client.get(r.json()["download_url"], headers=g.api.headers())
    assert pdf.status_code == 200
    return r.json(), pdf_text(pdf.content)


def test_the_author_cannot_approve_their_own_version_and_sales_cannot_approve(
    governance: Governance,
) -> None:
    g = governance
    number = g.propose(add=[new_entry(unique("Four Eyes Ltd"))])

    own = g.post(f"/versions/{number}/approve", role="legal")
    assert own.status_code == 403
    assert "another legal user" in own.json()["detail"]
    for role in ("sales", "admin", "app"):
        assert g.post(f"/versions/{number}/approve", role=role).status_code == 403, role
    assert g.get(f"/versions/{number}").json()["state"] == "in_review"

    before = g.current()["version"]
    done = g.approve(number)
    assert done["version"]["state"] == "approved"
    assert g.current()["version"] == number
    # the list it replaced is retired, and approving twice is refused
    assert g.get(f"/versions/{before}").json()["state"] == "retired"
    assert g.post(f"/versions/{number}/approve", role="legal2").status_code == 409


def test_sales_cannot_propose_edit_or_reject(governance: Governance) -> None:
    g = governance
    before = _count_versions(g)
    assert g.post("/versions", role="sales", json={}).status_code == 403
    assert g.post("/versions", role="app", json={}).status_code == 403
    number = g.propose(add=[new_entry(unique("Sales Cannot Ltd"))])
    r = g.post(f"/versions/{number}/reject", role="sales", json={"comment": "no"})
    assert r.status_code == 403
    assert _count_versions(g) == before + 1
    # a rejection needs a comment; with one, the version is rejected for good
    assert (
        g.post(f"/versions/{number}/reject", role="legal2", json={"comment": " "}).status_code
        == 422
    )
    r = g.post(f"/versions/{number}/reject", role="legal2", json={"comment": "Not this vendor."})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert r.json()["review_comment"] == "Not this vendor."
    assert g.post(f"/versions/{number}/approve", role="legal2").status_code == 409


BAD_ENTRIES: list[tuple[str, Any]] = [
    ("empty list", []),
    ("empty name", [new_entry("")]),
    ("blank name", [new_entry("   ")]),
    ("unknown location", [new_entry("Acme", location="Mars")]),
    ("unknown code", [new_entry("Acme", location="XX")]),
    ("duplicate names", [new_entry("Acme GmbH"), new_entry("ACME  gmbh")]),
    ("unknown field", [{**new_entry("Acme"), "in_eea": True}]),
    ("missing field", [{"name": "Acme", "purpose": "x", "location": "DE"}]),
    ("long purpose", [new_entry("Acme", purpose="p" * 501)]),
    ("long name", [new_entry("A" * 201)]),
    ("control characters", [new_entry("Acme\x00Evil")]),
    ("newline in name", [new_entry("Acme\nBcc: x@example.com")]),
    ("not a list", {"name": "Acme"}),
    ("number as name", [{**new_entry("x"), "name": 42}]),
]


@pytest.mark.parametrize("case,entries", BAD_ENTRIES, ids=[c for c, _ in BAD_ENTRIES])
def test_bad_entries_are_refused_with_422_and_nothing_is_stored(
    governance: Governance, case: str, entries: Any
) -> None:
    g = governance
    before = _count_versions(g)
    r = g.post("/versions", json={"entries": entries, "change_note": case})
    assert r.status_code == 422, (case, r.text)
    assert r.json()["detail"]
    assert _count_versions(g) == before


def test_a_draft_edited_with_bad_entries_keeps_its_entries(governance: Governance) -> None:
    g = governance
    r = g.post("/versions", json={})
    assert r.status_code == 201
    number, sha = r.json()["version"], r.json()["sha256"]
    r = g.api.client.put(
        f"/api/v1/subprocessors/versions/{number}",
        json={"entries": [new_entry("Acme", location="Atlantis")]},
        headers=g.headers("legal"),
    )
    assert r.status_code == 422 and "Atlantis" in r.json()["detail"]
    assert g.get(f"/versions/{number}").json()["sha256"] == sha
    # only its author may change a draft
    r = g.api.client.put(
        f"/api/v1/subprocessors/versions/{number}",
        json={"entries": [new_entry("Acme")]},
        headers=g.headers("legal2"),
    )
    assert r.status_code == 403
    # a draft that changes nothing cannot be submitted
    assert g.post(f"/versions/{number}/submit").status_code == 422


def test_approval_changes_the_next_dpa_and_it_records_the_list_version(
    governance: Governance, workspace_id: str
) -> None:
    g = governance
    old = unique("Oldvendor")
    g.approve(g.propose(add=[new_entry(old, location="EU", transfer_safeguard="EEA")]))
    _, text = _dpa(g, workspace_id)
    assert old in text

    name = unique("Zendesk Ireland Test")
    added = new_entry(name, purpose="Help desk: support tickets from the controller's users")
    draft = g.propose(add=[added], remove=(old,))
    # a draft (not approved) is never used for generation
    version, text = _dpa(g, workspace_id)
    assert version["subprocessor_list_version"] == g.current()["version"] != draft
    assert old in text and name not in text

    approved = g.approve(draft)
    stored = [
        {k: v for k, v in e.items() if k != "location_name"} for e in approved["version"]["entries"]
    ]
    canonical = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert approved["version"]["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()

    version, text = _dpa(g, workspace_id)
    assert version["subprocessor_list_version"] == draft
    assert f"list version {draft}" in text
    assert name in text and "Help desk: support tickets" in text
    assert old not in text
    # outside the EEA, so named among the transfers (with its country spelled out)
    assert f"{name} (United States)" in text
    # the version records the list it was made from
    r = g.api.client.get(f"/api/v1/agreements/{version['agreement_id']}", headers=g.api.headers())
    assert r.json()["versions"][-1]["subprocessor_list_version"] == draft


def test_approved_versions_are_immutable(governance: Governance) -> None:
    g = governance
    number = g.current()["version"]
    with g.api.session() as s:
        row = s.scalar(
            select(SubprocessorListVersion).where(SubprocessorListVersion.version == number)
        )
        assert row is not None
        row.entries = [*row.entries, new_entry("Sneaky Ltd")]
        with pytest.raises(ValueError, match="immutable"):
            s.flush()
        s.rollback()
    assert g.current()["version"] == number
    assert all(e["name"] != "Sneaky Ltd" for e in g.current()["entries"])


def test_a_draft_started_before_another_approval_cannot_be_approved(
    governance: Governance,
) -> None:
    g = governance
    stale = g.propose(add=[new_entry(unique("Stale Draft Ltd"))])
    g.approve(g.propose(add=[new_entry(unique("Faster Ltd"))]))
    r = g.post(f"/versions/{stale}/approve", role="legal2")
    assert r.status_code == 409 and "start a new draft" in r.json()["detail"]


def test_approval_records_the_webhook_event(governance: Governance) -> None:
    g = governance
    name = unique("Webhook Event Ltd")
    number = g.propose(add=[new_entry(name)])
    g.approve(number)
    with g.api.session() as s:
        events = s.scalars(
            select(WebhookEvent).where(WebhookEvent.type == "subprocessors.changed")
        ).all()
    data = next(e.data for e in events if e.data["version"] == number)
    assert data["added"] == [name] and data["removed"] == [] and data["objection_deadline"]


def test_staff_pages_propose_review_and_approve(governance: Governance) -> None:
    g = governance
    author = staff_client(g.api, *make_user(g.api, "legal", name="Lena Legal"))
    reviewer = staff_client(g.api, *make_user(g.api, "legal", name="Rita Reviewer"))
    sales = staff_client(g.api, *make_user(g.api, "sales"))
    assert sales.get("/staff/subprocessors").status_code == 403

    r = post_form(author, "/staff/subprocessors", "/staff/subprocessors/drafts", {})
    assert r.status_code == 303
    edit = r.headers["location"]
    number = int(edit.split("/versions/")[1].split("/")[0])
    page = author.get(edit)
    assert page.status_code == 200
    rows = page.text.count('name="name_')
    current = g.current()["entries"]
    assert rows == len(current) + 3
    blank = len(current)  # the first empty row
    name = unique("Staff Form Vendor")

    # a row without a location is refused and nothing is stored
    form = {f"name_{blank}": name, f"purpose_{blank}": "Surveys", f"safeguard_{blank}": "EEA"}
    r = post_form(author, edit, edit, {**_rows(current), **form, "action": "submit"})
    assert r.status_code == 422 and "location missing" in r.text
    assert g.get(f"/versions/{number}").json()["state"] == "draft"

    form[f"location_{blank}"] = "DE"
    # the contracting entity's country is a select of names too; a code that is no country
    # (typed into an older form, or posted by hand) is refused, kept and named
    select = page.text.split(f'<select name="entity_country_{blank}"', 1)[1].split("</select>")[0]
    assert '<option value="" selected>—</option>' in select
    assert '<option value="IE">Ireland</option>' in select
    entity = {f"entity_name_{blank}": "Survey Vendor Ltd", f"entity_country_{blank}": "XX"}
    r = post_form(author, edit, edit, {**_rows(current), **form, **entity, "action": "submit"})
    assert r.status_code == 422 and "the contracting entity&#39;s country &#39;XX&#39;" in r.text
    assert '<option value="XX" selected>XX (not a known country code)</option>' in r.text
    assert g.get(f"/versions/{number}").json()["state"] == "draft"

    r = post_form(
        author,
        edit,
        edit,
        {**_rows(current), **form, "change_note": "Add surveys", "action": "submit"},
    )
    assert r.status_code == 303
    review = f"/staff/subprocessors/versions/{number}"
    page = author.get(review)
    assert "another legal user must approve" in page.text
    assert 'id="approve"' not in page.text
    assert 'id="reject-form"' not in page.text  # the service refuses the author's rejection too
    r = post_form(author, review, f"{review}/approve", {})
    assert r.status_code == 303 and r.headers["location"].startswith(f"{review}?error=")
    refused = author.get(r.headers["location"])
    assert "another legal user must approve it" in refused.text
    assert g.get(f"/versions/{number}").json()["state"] == "in_review"

    page = reviewer.get(review)
    assert name in page.text and 'id="added"' in page.text and "Add surveys" in page.text
    r = post_form(reviewer, review, f"{review}/approve", {})
    assert r.status_code == 303, r.text
    assert g.current()["version"] == number
    assert name in reviewer.get("/staff/subprocessors").text
    # the entries saved through the form kept their contracting entity, transfers, features …
    assert [e for e in g.current()["entries"] if e["name"] != name] == current


def _rows(entries: list[dict[str, Any]]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for i, e in enumerate(entries):
        form.update(
            {
                f"name_{i}": e["name"],
                f"purpose_{i}": e["purpose"],
                f"location_{i}": e["location"],
                f"safeguard_{i}": e["transfer_safeguard"],
            }
        )
        if "processing_locations" in e:  # the structured fields, as the form shows them
            entity = e["contracting_entity"]
            form.update(
                {
                    f"entity_name_{i}": entity["name"],
                    f"entity_country_{i}": entity["country"],
                    f"places_{i}": ", ".join(e["processing_locations"]),
                    f"transfers_{i}": "\n".join(
                        f"{t['importer']} | {t['country']} | {t['by']} | "
                        + ", ".join(t["mechanisms"])
                        for t in e["transfers"]
                    ),
                    f"measures_{i}": "\n".join(
                        f"{m['en']} | {m['lv']}" for m in e["supplementary_measures"]
                    ),
                    f"categories_{i}": e["categories"],
                    f"purpose_lv_{i}": e["translations"]["lv"]["purpose"],
                }
            )
            if e.get("sms"):
                form[f"sms_{i}"] = "yes"
    return form


def test_staff_pages_for_unknown_versions_are_404_pages(governance: Governance) -> None:
    legal = staff_client(governance.api, *make_user(governance.api, "legal"))
    for path in ("/staff/subprocessors/versions/99999", "/staff/subprocessors/changes/nope"):
        r = legal.get(path)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"], path


def test_a_draft_whose_request_fails_afterwards_is_not_kept(
    governance: Governance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two requests with one Idempotency-Key at once: the twin keeps the key first, so this one
    # is refused with 409 when it keeps its own answer, after its draft was added. A key has its
    # answer and its effect or neither: the refused request leaves no draft behind (on SQLite
    # the draft's savepoint, taken before the request's first write, had been the transaction
    # itself, and releasing it committed the draft).
    g = governance
    twin_keeps_the_key_first(monkeypatch, g.api.session)
    before = _count_versions(g)
    r = g.api.client.post(
        "/api/v1/subprocessors/versions",
        json={"change_note": "the twin was first"},
        headers={**g.headers("legal"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 409, r.text
    assert "Idempotency-Key" in r.json()["detail"]
    assert _count_versions(g) == before


def test_the_staff_page_keeps_a_change_note_whole_or_refuses_it(governance: Governance) -> None:
    # The API refuses a change note over 2,000 characters; the edit page cut it to 2,000 and
    # saved the rest of it silently. A browser's textarea counts a line break once
    # (maxlength="2000") but sends it as CRLF: such a note is kept whole, with its line breaks.
    g = governance
    author = staff_client(g.api, *make_user(g.api, "legal", name="Long Note"))
    r = post_form(author, "/staff/subprocessors", "/staff/subprocessors/drafts", {})
    edit = r.headers["location"]
    number = int(edit.split("/versions/")[1].split("/")[0])
    form = {**_rows(g.current()["entries"]), "action": "save"}

    long = "Why: " + "x" * 4996
    r = post_form(author, edit, edit, {**form, "change_note": long})
    assert r.status_code == 422 and "5001 characters; at most 2000" in r.text, r.text[:500]
    assert long in r.text  # shown again as typed
    assert g.get(f"/versions/{number}").json()["change_note"] == ""

    lines = "\r\n".join(["y" * 99] * 20)  # 20 lines: 1,999 characters as the textarea counts
    r = post_form(author, edit, edit, {**form, "change_note": lines})
    assert r.status_code == 303, r.text[:500]
    assert g.get(f"/versions/{number}").json()["change_note"] == lines.replace("\r\n", "\n")
