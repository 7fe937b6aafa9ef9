"""The signing ceremony through its pages and API: sign, decline, countersign, void, expire."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from dpa_service.app import create_app
from dpa_service.audit.models import AuditEvent
from dpa_service.clock import utcnow
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing.models import Signature
from dpa_service.signing.service import expire_due
from tests.conftest import WORKSPACE, Api, workspace
from tests.pdf_text import pdf_text
from tests.signing.helpers import issue, open_page, sign, version_state


@pytest.fixture(scope="module")
def manual(api: Api, pool: ConverterPool) -> Iterator[Api]:
    """The same service with automatic countersignature off: legal countersigns by API."""
    settings = api.settings.with_(auto_countersign=False)
    app = create_app(settings, pool=pool, archive=api.archive, engine=api.engine)
    with TestClient(app, base_url=settings.public_url) as client:
        yield dataclasses.replace(api, settings=settings, client=client, app=app)


def audit_count(api: Api, agreement_id: str) -> int:
    with api.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
        )


def test_sign_with_auto_countersign_completes_and_seals(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    assert version_state(api, issued)["state"] == "sent"
    page, csrf = open_page(api, issued)
    assert page.status_code == 200
    assert issued.sha256 in page.text and "agree to sign electronically" in page.text
    assert 'value="Ēriks Kalniņš"' in page.text  # prefilled from the signatory
    assert version_state(api, issued)["state"] == "viewed"

    r = sign(api, issued, csrf)
    assert r.status_code == 303 and r.headers["location"].endswith("/done")
    done = api.client.get(r.headers["location"])
    assert "signed by both parties" in done.text
    state = version_state(api, issued)
    assert state["state"] == "completed"
    signed = api.client.get(f"{issued.path}/signed.pdf")
    assert signed.status_code == 200
    assert hashlib.sha256(signed.content).hexdigest() == state["completed_sha256"]
    api_copy = api.client.get(state["completed_download_url"], headers=api.headers("legal"))
    assert api_copy.content == signed.content
    text = pdf_text(signed.content)
    assert "Name: Ēriks Kalniņš" in text and "Name: Anna Ūdre" in text  # both signature blocks
    assert "Certificate of completion" in text


def test_form_post_without_csrf_token_is_refused_and_changes_nothing(
    api: Api, workspace_id: str
) -> None:
    issued = issue(api, workspace_id)
    open_page(api, issued)
    before = audit_count(api, issued.agreement_id)
    r = sign(api, issued, csrf="")
    assert r.status_code == 403 and "This page has expired" in r.text  # a page, not JSON
    # no CSRF cookie at all; not entered as a context manager, which would run (and at its
    # end stop) the shared app's lifespan and with it the background jobs of later tests
    fresh = TestClient(api.app, base_url=api.settings.public_url)
    r = fresh.post(
        issued.path, data={"consent": "yes", "typed_name": "X", "shown_sha256": issued.sha256}
    )
    assert r.status_code == 403
    assert audit_count(api, issued.agreement_id) == before
    assert version_state(api, issued)["state"] == "viewed"


def test_signing_needs_consent_and_a_name(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    r = sign(api, issued, consent="")
    assert r.status_code == 422 and "agree to sign electronically" in r.text
    r = sign(api, issued, typed_name="   ", title="Owner")
    assert r.status_code == 422 and "type your full name" in r.text
    # what the signer entered is kept, not silently replaced by the stored details
    assert 'value="Owner"' in r.text and 'value="Chief Executive"' not in r.text
    assert "checked" in r.text and "draw your signature again" in r.text
    r = sign(api, issued, drawn_signature="data:image/svg+xml;base64,PHN2Zy8+")
    assert r.status_code == 422 and "PNG" in r.text
    assert version_state(api, issued)["state"] == "viewed"


def test_the_signer_signs_exactly_the_bytes_shown(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    r = sign(api, issued, shown_sha256="0" * 64)
    assert r.status_code == 409 and "changed since it was shown" in r.text
    # the workspace's details change after the link was made: this version can't be signed
    assert (
        api.put_workspace(workspace_id, workspace(legal_name="SIA Cits Nosaukums")).status_code
        == 200
    )
    r = sign(api, issued)
    assert r.status_code == 409 and "company details changed" in r.text
    assert version_state(api, issued)["state"] == "viewed"
    with api.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Signature)
                .where(Signature.document_sha256 == issued.sha256)
            )
            == 0
        )


def test_decline_with_a_reason(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    _, csrf = open_page(api, issued)
    r = api.client.post(
        f"{issued.path}/decline",
        data={"_csrf_token": csrf, "reason": "Our lawyer wants clause 13 changed"},
    )
    assert r.status_code == 200 and "You declined" in r.text
    state = version_state(api, issued)
    assert (
        state["state"] == "declined"
        and state["state_reason"] == "Our lawyer wants clause 13 changed"
    )
    again = api.client.get(issued.path, follow_redirects=True)
    assert "declined" in again.text


def test_a_reason_that_would_show_reordered_is_refused_and_changes_nothing(
    api: Api, workspace_id: str
) -> None:
    # U+202E makes "we agree to clause 13" show as something else on the staff agreement page.
    spoof = "We object \u202e31 esualc ot eerga ew"
    issued = issue(api, workspace_id)
    _, csrf = open_page(api, issued)
    declined = api.client.post(
        f"{issued.path}/decline", data={"_csrf_token": csrf, "reason": spoof}
    )
    assert declined.status_code == 422 and "text-direction marks" in declined.text
    voided = api.client.post(
        f"{issued.version_path}/void", json={"reason": "duplicate\u2067"}, headers=api.headers()
    )
    assert voided.status_code == 422 and "text-direction" in voided.text, voided.text
    note = api.client.post(
        "/api/v1/subprocessors/versions",
        json={"change_note": "adds \u202dAWS"},
        headers=api.headers("legal"),
    )
    assert note.status_code == 422 and "text-direction" in note.text, note.text
    assert version_state(api, issued)["state"] == "viewed"  # neither declined nor void
    assert sign(api, issued, csrf).status_code == 303  # the link still works


def test_a_void_reason_of_only_spaces_is_refused_as_the_schema_says(
    api: Api, workspace_id: str
) -> None:
    # VoidRequest's pattern (SAID) and the staff page refuse a reason that says nothing; the
    # API voided the version with "   " as its reason.
    issued = issue(api, workspace_id)
    for reason in ("   ", "\n\t "):
        voided = api.client.post(
            f"{issued.version_path}/void", json={"reason": reason}, headers=api.headers()
        )
        assert voided.status_code == 422, (reason, voided.text)
    assert version_state(api, issued)["state"] == "sent"
    voided = api.client.post(
        f"{issued.version_path}/void", json={"reason": "  sent too early \n"}, headers=api.headers()
    )
    assert voided.status_code == 200, voided.text
    state = version_state(api, issued)
    assert state["state"] == "voided" and state["state_reason"] == "sent too early"


def test_used_expired_revoked_and_forged_links_get_a_clear_page(
    api: Api, workspace_id: str
) -> None:
    forged = api.client.get("/sign/thisisnotarealtoken0000000000000000000000000")
    assert forged.status_code == 404 and "not valid" in forged.text

    used = issue(api, workspace_id)
    _, csrf = open_page(api, used)
    assert sign(api, used, csrf).status_code == 303
    before = audit_count(api, used.agreement_id)
    r = sign(api, used, csrf)  # the same form sent again
    assert r.status_code == 409 and "already been signed" in r.text
    assert audit_count(api, used.agreement_id) == before

    revoked = issue(api, f"{workspace_id}-r")
    assert (
        api.client.post(
            f"{revoked.version_path}/void",
            json={"reason": "wrong company"},
            headers=api.headers("sales"),
        ).status_code
        == 200
    )
    before = audit_count(api, revoked.agreement_id)
    page = api.client.get(revoked.path)
    assert page.status_code == 410 and "withdrawn" in page.text
    assert sign(api, revoked, csrf="x").status_code in (403, 410)
    assert audit_count(api, revoked.agreement_id) == before

    expired = issue(api, f"{workspace_id}-e")
    with api.session() as s:
        assert expire_due(session=s, now=utcnow() + timedelta(days=31))
        s.commit()
    assert version_state(api, expired)["state"] == "expired"
    before = audit_count(api, expired.agreement_id)
    page = api.client.get(expired.path)
    assert page.status_code == 410 and "expired" in page.text
    assert audit_count(api, expired.agreement_id) == before


def test_an_embedded_link_is_bound_to_its_workspace(api: Api, workspace_id: str) -> None:
    mine = issue(api, workspace_id)
    api.put_workspace(f"{workspace_id}-other")
    r = api.client.post(
        f"{mine.version_path}/signing-links",
        json={"embedded": True, "workspace_id": f"{workspace_id}-other"},
        headers=api.headers(),
    )
    assert r.status_code == 404
    r = api.client.post(
        f"{mine.version_path}/signing-links", json={"embedded": True}, headers=api.headers()
    )
    assert r.status_code == 422
    r = api.client.post(f"{mine.version_path}/signing-links", json={}, headers=api.headers("legal"))
    assert r.status_code == 403


def test_legal_countersigns_by_api(manual: Api, workspace_id: str) -> None:
    issued = issue(manual, workspace_id)
    assert sign(manual, issued).status_code == 303
    assert version_state(manual, issued)["state"] == "signed"
    done = manual.client.get(f"{issued.path}/done")
    assert "Klusaro will countersign" in done.text
    body = {"name": "Marta Zariņa", "title": "Head of Legal"}
    url = f"{issued.version_path}/countersign"
    assert manual.client.post(url, json=body, headers=manual.headers("sales")).status_code == 403
    r = manual.client.post(url, json=body, headers=manual.headers("legal"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "completed"
    assert manual.client.post(url, json=body, headers=manual.headers("legal")).status_code == 409
    pdf = manual.client.get(f"{issued.path}/signed.pdf").content
    text = pdf_text(pdf)
    assert "Name: Marta Zariņa" in text and "Legal user (API token)" in text


def test_illegal_transitions_are_409(manual: Api, workspace_id: str) -> None:
    manual.put_workspace(workspace_id)
    dpa = manual.request_dpa(workspace_id).json()
    base = f"/api/v1/agreements/{dpa['agreement_id']}/versions/1"
    body = {"name": "Marta Zariņa", "title": "Head of Legal"}
    assert (
        manual.client.post(
            f"{base}/countersign", json=body, headers=manual.headers("legal")
        ).status_code
        == 409
    )
    assert (
        manual.client.post(
            f"{base}/void", json={"reason": "test"}, headers=manual.headers()
        ).status_code
        == 200
    )
    assert (
        manual.client.post(
            f"{base}/void", json={"reason": "again"}, headers=manual.headers()
        ).status_code
        == 409
    )
    r = manual.client.post(f"{base}/signing-links", json={}, headers=manual.headers())
    assert r.status_code == 409


def test_a_newer_completed_version_supersedes_the_older(api: Api, workspace_id: str) -> None:
    first = issue(api, workspace_id)
    assert sign(api, first).status_code == 303
    changed = workspace(signatory={**WORKSPACE["signatory"], "title": "Owner"})
    second = issue(api, workspace_id, changed)
    assert second.version == 2
    assert sign(api, second, title="Owner").status_code == 303
    assert version_state(api, first)["state"] == "superseded"
    assert version_state(api, second)["state"] == "completed"


def test_a_damaged_png_drawing_is_refused(api: Api, workspace_id: str) -> None:
    import base64

    issued = issue(api, workspace_id)
    broken = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"A" * 40).decode()
    r = sign(api, issued, drawn_signature=broken)
    assert r.status_code == 422 and "not a readable PNG" in r.text
    assert version_state(api, issued)["state"] == "viewed"


def test_the_completed_pdf_keeps_the_terms_that_were_signed(
    manual: Api, pool: ConverterPool, workspace_id: str
) -> None:
    issued = issue(manual, workspace_id)
    assert sign(manual, issued).status_code == 303
    # the breach-notice figure is reconfigured before Klusaro countersigns
    settings = manual.settings.with_(breach_notice_hours=72)
    app = create_app(settings, pool=pool, archive=manual.archive, engine=manual.engine)
    with TestClient(app, base_url=settings.public_url) as client:
        r = client.post(
            f"{issued.version_path}/countersign",
            json={"name": "Marta Zariņa", "title": "Head of Legal"},
            headers=manual.headers("legal"),
        )
        assert r.status_code == 200, r.text
    text = pdf_text(manual.client.get(f"{issued.path}/signed.pdf").content)
    assert "within 48 hours" in text and "within 72 hours" not in text


def test_a_new_version_voids_the_older_unsigned_one(api: Api, workspace_id: str) -> None:
    first = issue(api, workspace_id)
    api.put_workspace(workspace_id, workspace(legal_name="SIA Jauns Nosaukums"))
    second = api.request_dpa(workspace_id).json()
    assert second["version"] == 2
    state = version_state(api, first)
    assert state["state"] == "voided" and state["state_reason"] == "replaced by version 2"
    page = api.client.get(first.path)
    assert page.status_code == 410  # its link no longer opens


def test_a_closed_version_is_replaced_on_request(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    api.client.post(
        f"{issued.version_path}/void", json={"reason": "sent too early"}, headers=api.headers()
    )
    again = api.request_dpa(workspace_id)
    assert again.status_code == 201 and again.json()["version"] == 2
