"""Template governance over the API: hostile uploads, roles, four eyes, states, and what
generation uses before and after an approval."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from dpa_service.agreements.models import AgreementVersion
from dpa_service.clauses.models import TemplateVersion
from tests.clauses import docx_files as f
from tests.clauses.conftest import act, counts, current, upload
from tests.conftest import Api, twin_keeps_the_key_first
from tests.pdf_text import pdf_text

HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "macro-enabled docm": (
        lambda: f.macro_enabled(f.builtin("security")),
        "a macro-enabled Word file (.docm) is not accepted",
    ),
    "zip bomb": (lambda: f.zip_bomb(f.builtin("security")), "looks like a ZIP bomb"),
    "pdf renamed .docx": (f.pdf_file, "not a DOCX: looks like a PDF"),
    "__mro__": (
        lambda: f.with_jinja("{{ ''.__class__.__mro__ }}"),
        "reaches for Python internals (__class__, __mro__)",
    ),
    "cycler globals": (
        lambda: f.with_jinja("{{ cycler.__init__.__globals__ }}"),
        "reaches for Python internals (__globals__, __init__)",
    ),
    "unknown variable": (
        lambda: f.with_jinja("Dear {{ customer.first_name }}"),
        "the rendering context does not provide: customer",
    ),
    "broken jinja": (
        lambda: f.with_jinja("{% if controller.dpo %}no end"),
        "Jinja syntax error in the document body",
    ),
    "too big": (lambda: f.too_big(f.builtin("security")), "at most 5.0 MB is accepted"),
    "too many entries": (
        lambda: f.many_entries(f.builtin("security")),
        "at most 1000 are accepted",
    ),
}


def new_workspace_dpa(api: Api) -> tuple[dict[str, Any], str]:
    """A DPA for a fresh workspace: the response and the text of its PDF."""
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    assert api.put_workspace(workspace_id).status_code == 201
    r = api.request_dpa(workspace_id)
    assert r.status_code == 201, r.text
    pdf = api.client.get(r.json()["download_url"], headers=api.headers())
    assert pdf.status_code == 200
    return r.json(), pdf_text(pdf.content)


def uploaded(api: Api, key: str, data: bytes, **kw: Any) -> dict[str, Any]:
    r = upload(api, key, data, **kw)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_uploads_are_refused_with_a_message_and_store_nothing(gov: Api, case: str) -> None:
    make, message = HOSTILE[case]
    before = counts(gov)
    r = upload(gov, "security", make())
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"]
    assert counts(gov) == before


def test_bad_form_fields_are_refused_and_store_nothing(gov: Api) -> None:
    before = counts(gov)
    r = upload(gov, "security", f.builtin("security"), note="  ")
    assert r.status_code == 422 and "a change note is required" in r.json()["detail"]
    r = upload(gov, "security", f.builtin("security"), filename="security.docm")
    assert r.status_code == 422 and "macro-enabled" in r.json()["detail"]
    r = upload(gov, "annex", f.builtin("security"))
    assert r.status_code == 404 and "no template 'annex'" in r.json()["detail"]
    r = gov.client.post(
        "/api/v1/templates/security/versions",
        data={"change_note": "no file"},
        headers=gov.headers("legal"),
    )
    assert r.status_code in (400, 422)
    r = upload(gov, "security", f.too_big(f.builtin("security"), megabytes=11))
    assert r.status_code == 413  # over the request limit: not even read into validation
    assert counts(gov) == before


def test_roles(gov: Api) -> None:
    data = f.builtin("confidentiality")
    for role in ("sales", "app", "admin"):
        r = upload(gov, "confidentiality", data, role=role)
        assert r.status_code == 403, role
    for role in ("sales", "app"):
        assert gov.client.get("/api/v1/templates", headers=gov.headers(role)).status_code == 403
    assert gov.client.get("/api/v1/templates", headers=gov.headers("admin")).status_code == 200
    assert gov.client.get("/api/v1/templates").status_code == 401

    draft = uploaded(gov, "confidentiality", f.with_jinja("Roles test.", "confidentiality"))
    n = draft["version"]
    assert act(gov, "confidentiality", n, "submit", "sales").status_code == 403
    assert act(gov, "confidentiality", n, "submit", "legal").status_code == 200
    for role in ("sales", "admin", "app"):
        r = act(gov, "confidentiality", n, "approve", role)
        assert r.status_code == 403, role
        r = act(gov, "confidentiality", n, "reject", role, comment="no")
        assert r.status_code == 403, role
    assert act(gov, "confidentiality", n, "retire", "sales").status_code == 403
    r = act(gov, "confidentiality", n, "retire", "admin", comment="not needed")
    assert r.status_code == 200 and r.json()["state"] == "retired"


def test_four_eyes_reject_with_comment_and_states(gov: Api) -> None:
    draft = uploaded(gov, "confidentiality", f.with_jinja("Four eyes test.", "confidentiality"))
    n = draft["version"]
    assert draft["state"] == "draft" and draft["author"] == "Test Legal"
    assert (
        draft["sha256"]
        == hashlib.sha256(
            gov.client.get(draft["docx_url"], headers=gov.headers("legal")).content
        ).hexdigest()
    )

    # The author may not approve or reject their own version, whatever its state.
    r = act(gov, "confidentiality", n, "approve", "legal")
    assert r.status_code == 403
    assert "four-eyes rule: you wrote confidentiality" in r.json()["detail"]
    assert act(gov, "confidentiality", n, "approve", "legal2").status_code == 409  # a draft

    assert act(gov, "confidentiality", n, "submit", "legal").json()["state"] == "in_review"
    assert act(gov, "confidentiality", n, "submit", "legal").status_code == 409
    r = act(gov, "confidentiality", n, "approve", "legal")
    assert r.status_code == 403 and "another legal user must approve it" in r.json()["detail"]
    assert act(gov, "confidentiality", n, "reject", "legal", comment="mine").status_code == 403

    r = act(gov, "confidentiality", n, "reject", "legal2")
    assert r.status_code == 422 and "needs a JSON body" in r.json()["detail"]
    r = act(gov, "confidentiality", n, "reject", "legal2", comment="   ")
    assert r.status_code == 422
    r = act(gov, "confidentiality", n, "reject", "legal2", comment="Clause 9.2 is too broad.")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "rejected" and body["reviewer"] == "Second Legal"
    assert body["review_comment"] == "Clause 9.2 is too broad." and body["reviewed_at"]
    assert body["reviewer_subject"] != draft["author_subject"]

    # Rejected is final: a new upload is the way forward.
    for action in ("submit", "approve", "retire"):
        assert act(gov, "confidentiality", n, action, "legal2").status_code == 409, action

    detail = gov.client.get(draft["url"], headers=gov.headers("admin")).json()
    assert [(e["type"], e["from_state"], e["to_state"], e["actor"]) for e in detail["history"]] == [
        ("uploaded", None, "draft", "Test Legal"),
        ("submitted", "draft", "in_review", "Test Legal"),
        ("rejected", "in_review", "rejected", "Second Legal"),
    ]
    assert detail["history"][-1]["comment"] == "Clause 9.2 is too broad."


def test_drafts_and_rejected_versions_are_never_used_and_approval_is(gov: Api) -> None:
    before = current(gov, "security")
    draft = uploaded(
        gov,
        "security",
        f.add_paragraph(
            f.builtin("security"),
            "Quokka keys are rotated every ninety days.",
            after="10.4 ",
        ),
        note="Key rotation",
    )
    n = draft["version"]

    # A draft: generation keeps using the approved version.
    dpa, text = new_workspace_dpa(gov)
    assert dpa["template_versions"]["security"] == {
        "version": before["version"],
        "sha256": before["sha256"],
    }
    assert "Quokka" not in text

    # Its preview shows the new words; rendering it leaks nothing into the next DPA.
    r = gov.client.get(draft["preview_url"], headers=gov.headers("legal2"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "Quokka keys are rotated every ninety days." in pdf_text(r.content)
    dpa, text = new_workspace_dpa(gov)
    assert dpa["template_versions"]["security"]["version"] == before["version"]
    assert "Quokka" not in text

    # In review: still not used.
    assert act(gov, "security", n, "submit", "legal").status_code == 200
    dpa, text = new_workspace_dpa(gov)
    assert dpa["template_versions"]["security"]["version"] == before["version"]
    assert "Quokka" not in text

    # A rejected version beside it is never used either.
    other = uploaded(gov, "security", f.with_jinja("Wombat wording."), note="Alternative")
    assert act(gov, "security", other["version"], "submit", "legal").status_code == 200
    r = act(gov, "security", other["version"], "reject", "legal2", comment="No.")
    assert r.status_code == 200

    r = act(gov, "security", n, "approve", "legal2", comment="Fine.")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["current"] is True
    now = current(gov, "security")
    assert now["version"] == n and now["sha256"] == draft["sha256"]
    old = gov.client.get(before["url"], headers=gov.headers("legal")).json()
    assert old["state"] == "retired" and old["retired_at"]

    dpa, text = new_workspace_dpa(gov)
    assert dpa["template_versions"]["security"] == {"version": n, "sha256": draft["sha256"]}
    assert "Quokka keys are rotated every ninety days." in text
    assert "Wombat" not in text
    with gov.session() as s:
        recorded = s.scalar(
            select(AgreementVersion.template_versions).where(
                AgreementVersion.agreement_id == dpa["agreement_id"]
            )
        )
    assert recorded["security"] == {"id": draft["id"], "version": n, "sha256": draft["sha256"]}

    # An existing workspace gets it with a new version too.
    r = gov.request_dpa(dpa["workspace_id"], new_version=True)
    assert r.status_code == 201 and r.json()["template_versions"]["security"]["version"] == n

    # The approved bytes are the ones stored, and approval cannot be undone by retiring.
    r = gov.client.get(f"{now['url']}/docx", headers=gov.headers("legal"))
    assert hashlib.sha256(r.content).hexdigest() == draft["sha256"] == r.headers["x-content-sha256"]
    r = act(gov, "security", n, "retire", "admin")
    assert r.status_code == 409 and "approve a replacement instead" in r.json()["detail"]
    with gov.session() as s:
        approved = s.scalars(
            select(TemplateVersion).where(
                TemplateVersion.template_key == "security",
                TemplateVersion.language == "en",
                TemplateVersion.state == "approved",
            )
        ).all()
    assert [v.version for v in approved] == [n]


def test_an_outdated_version_cannot_be_approved_after_a_newer_one(gov: Api) -> None:
    a = uploaded(gov, "subprocessors", f.with_jinja("Older wording.", "subprocessors"))
    b = uploaded(gov, "subprocessors", f.with_jinja("Newer wording.", "subprocessors"))
    for v in (a, b):
        assert act(gov, "subprocessors", v["version"], "submit", "legal").status_code == 200
    assert act(gov, "subprocessors", b["version"], "approve", "legal2").status_code == 200
    r = act(gov, "subprocessors", a["version"], "approve", "legal2")
    assert r.status_code == 409 and "is outdated" in r.json()["detail"]
    assert current(gov, "subprocessors")["version"] == b["version"]
    r = act(gov, "subprocessors", a["version"], "retire", "legal", comment="superseded")
    assert r.status_code == 200 and r.json()["state"] == "retired"


def test_diff_against_the_approved_version(gov: Api) -> None:
    base = current(gov, "confidentiality")
    source = gov.client.get(base["docx_url"], headers=gov.headers("legal")).content
    changed = f.replace_text(source, "9. Confidentiality", "9. Confidentiality and secrecy")
    draft = uploaded(gov, "confidentiality", f.add_paragraph(changed, "A brand new sentence."))
    r = gov.client.get(draft["diff_url"], headers=gov.headers("legal2"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["base_version"] == base["version"] and body["version"] == draft["version"]
    assert body["summary"]["replace"] == 1 and body["summary"]["insert"] == 1
    replaced = next(op for op in body["ops"] if op["op"] == "replace")
    assert replaced["old"].startswith("9. Confidentiality")
    assert {"op": "insert", "text": " and secrecy"} in replaced["segments"]
    inserted = next(op for op in body["ops"] if op["op"] == "insert")
    assert inserted["new"] == "A brand new sentence."
    assert any(op["op"] == "collapsed" and op["count"] > 0 for op in body["ops"])

    r = gov.client.get(f"{draft['diff_url']}?against=1", headers=gov.headers("legal"))
    assert r.status_code == 200 and r.json()["base_version"] == 1
    assert gov.client.get(draft["diff_url"], headers=gov.headers("sales")).status_code == 403


def test_listing_history_and_missing_versions(gov: Api) -> None:
    r = gov.client.get("/api/v1/templates", headers=gov.headers("legal"))
    keys = [(t["language"], t["template_key"]) for t in r.json()]
    assert keys == [
        (language, key)
        for language in ("en", "lv")
        for key in ("master", "security", "confidentiality", "subprocessors")
    ]
    for t in r.json():
        assert t["current"] is not None and t["current"]["state"] == "approved"
        assert [v["version"] for v in t["versions"]] == sorted(
            (v["version"] for v in t["versions"]), reverse=True
        )
    history = gov.client.get("/api/v1/templates/master/history", headers=gov.headers("legal"))
    assert history.json()[0]["type"] == "registered"
    assert history.json()[0]["actor"] == "built-in"
    assert (
        gov.client.get(
            "/api/v1/templates/master/versions/999", headers=gov.headers("legal")
        ).status_code
        == 404
    )
    assert (
        gov.client.get("/api/v1/templates/nope/history", headers=gov.headers("legal")).status_code
        == 404
    )


def test_routes_are_in_the_openapi_schema(gov: Api) -> None:
    paths = gov.client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/api/v1/templates",
        "/api/v1/templates/{template_key}/versions",
        "/api/v1/templates/{template_key}/versions/{number}/approve",
        "/api/v1/templates/{template_key}/versions/{number}/preview.pdf",
    ):
        assert path in paths, path


def test_an_upload_refused_after_its_version_was_added_leaves_nothing(
    gov: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A twin with the same Idempotency-Key keeps its answer first: this upload is refused with
    # 409 after its version was added, and must leave neither the version nor its event (on
    # SQLite the savepoint, taken before the request's first write, was the transaction and
    # its release committed the version).
    twin_keeps_the_key_first(monkeypatch, gov.session)
    before = counts(gov)
    r = gov.client.post(
        "/api/v1/templates/security/versions",
        files={
            "file": ("security.docx", f.with_jinja("Twin wording."), "application/octet-stream")
        },
        data={"change_note": "the twin was first"},
        headers={**gov.headers("legal"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["detail"], r.text
    assert counts(gov) == before
