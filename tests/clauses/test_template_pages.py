"""Legal's template pages without a browser: upload, four eyes, diff, preview, history."""

from __future__ import annotations

from sqlalchemy import func, select

from dpa_service.clauses.models import TemplateVersion
from tests.clauses import docx_files as f
from tests.conftest import Api
from tests.pdf_text import pdf_text
from tests.staff import csrf_of, make_user, staff_client

NEW_TEXT = "Penetration tests by an independent firm take place at least twice a year."


def _upload(client, data: bytes, filename: str = "security.docx", note: str = "Twice-yearly tests"):  # type: ignore[no-untyped-def]
    page = client.get("/staff/templates")
    return client.post(
        "/staff/templates/security/upload",
        files={"file": (filename, data, "application/octet-stream")},
        data={"change_note": note, "_csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def _act(client, path: str, action: str, **form: str):  # type: ignore[no-untyped-def]
    page = client.get(path)
    return client.post(
        f"{path}/{action}", data={**form, "_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )


def _versions(api: Api) -> int:
    with api.session() as s:
        return s.scalar(select(func.count()).select_from(TemplateVersion)) or 0


def test_a_change_goes_from_upload_to_approval_with_four_eyes(gov: Api) -> None:
    author = staff_client(gov, *make_user(gov, "legal", name="Inese Author"))
    reviewer = staff_client(gov, *make_user(gov, "legal", name="Rūta Reviewer"))
    changed = f.add_paragraph(f.builtin("security"), NEW_TEXT, after="II.1 Encryption")

    uploaded = _upload(author, changed)
    assert uploaded.status_code == 303, uploaded.text
    path = uploaded.headers["location"]
    assert path.startswith("/staff/templates/security/v/")
    page = author.get(path)
    assert 'id="state">draft' in page.text and "Twice-yearly tests" in page.text
    assert "Withdraw this version" in page.text  # a draft can be withdrawn
    assert _act(author, path, "submit").status_code == 303

    # the author sees why they cannot decide, and a forged approve is refused
    page = author.get(path)
    assert 'id="four-eyes"' in page.text and 'id="approve"' not in page.text
    assert 'id="reject-form"' not in page.text  # nor a Reject the service would refuse
    forged = _act(author, path, "approve")
    assert forged.status_code == 403 and "four-eyes" in forged.text
    assert 'id="state">in review' in author.get(path).text

    # the reviewer sees the diff: the new paragraph, marked as inserted
    page = reviewer.get(path)
    assert f"<ins>{NEW_TEXT}</ins>" in page.text and 'id="approve"' in page.text
    preview = reviewer.get(f"{path}/preview.pdf")
    assert preview.headers["content-type"] == "application/pdf"
    assert "twice a year" in pdf_text(preview.content)
    # a rejection needs a reason
    empty = _act(reviewer, path, "reject", comment="  ")
    assert empty.status_code == 422 and "needs a comment" in empty.text
    # the approve form takes a comment, as the API does, and the record shows it
    assert 'id="approve-comment" name="comment"' in page.text
    approved = _act(reviewer, path, "approve", comment="Checked against the pen-test contract")
    assert approved.status_code == 303
    page = reviewer.get(path)
    assert 'id="state">approved' in page.text and "Rūta Reviewer" in page.text
    assert "“Checked against the pen-test contract”" in page.text
    # the approved version every new DPA uses cannot be retired: no form offers it
    assert 'id="retire"' not in page.text and "Retire or withdraw" not in page.text
    assert _act(reviewer, path, "retire").status_code == 409

    history = reviewer.get("/staff/templates/security")
    assert "Inese Author" in history.text and "approved" in history.text
    assert "submitted" in history.text


def test_hostile_uploads_in_the_page_are_refused_with_the_message(gov: Api) -> None:
    author = staff_client(gov, *make_user(gov, "legal"))
    before = _versions(gov)
    cases = {
        "a PDF renamed": (f.pdf_file(), "looks like a PDF"),
        "macros": (f.macro_enabled(f.builtin("security")), "macro"),
        "internals": (f.with_jinja("{{ ''.__class__.__mro__ }}"), "__class__"),
    }
    for data, message in cases.values():
        refused = _upload(author, data)
        assert refused.status_code == 422, refused.text[:500]
        assert message in refused.text
    assert _versions(gov) == before


def test_only_legal_staff_see_and_only_legal_users_upload(gov: Api) -> None:
    sales = staff_client(gov, *make_user(gov, "sales"))
    assert sales.get("/staff/templates").status_code == 403
    admin = staff_client(gov, *make_user(gov, "admin"))
    assert admin.get("/staff/templates").status_code == 200
    before = _versions(gov)
    assert _upload(admin, f.builtin("security")).status_code == 403
    assert _versions(gov) == before
    anonymous = gov.client.get("/staff/templates", follow_redirects=False)
    assert anonymous.status_code == 303 and "/staff/login" in anonymous.headers["location"]


def test_four_eyes_compares_people_across_tokens_and_logins(gov: Api) -> None:
    from dpa_service.accounts.service import create_token
    from dpa_service.accounts.users import find_user

    # a bare token is no person: it may read, but not take part in a review
    with gov.session() as s:
        bare = create_token(session=s, role="legal", name="shared legal token")[1]
        s.commit()
    refused = gov.client.post(
        "/api/v1/templates/security/versions",
        files={"file": ("security.docx", f.builtin("security"), "application/octet-stream")},
        data={"change_note": "x"},
        headers={"Authorization": f"Bearer {bare}"},
    )
    assert refused.status_code == 403 and "act as a person" in refused.text

    # one person uploads with their own token, then logs in to the web UI: still the author
    email, password = make_user(gov, "legal", name="Anna Divas Lomas")
    with gov.session() as s:
        token = create_token(
            session=s, role="legal", name="anna", user=find_user(session=s, email=email)
        )[1]
        s.commit()
    changed = f.add_paragraph(f.builtin("confidentiality"), "Staff confidentiality lasts 5 years.")
    up = gov.client.post(
        "/api/v1/templates/confidentiality/versions",
        files={"file": ("confidentiality.docx", changed, "application/octet-stream")},
        data={"change_note": "five years"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert up.status_code == 201, up.text
    number = up.json()["version"]
    submitted = gov.client.post(
        f"/api/v1/templates/confidentiality/versions/{number}/submit",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert submitted.status_code == 200, submitted.text
    browser = staff_client(gov, email, password)
    path = f"/staff/templates/confidentiality/v/{number}"
    assert 'id="four-eyes"' in browser.get(path).text
    forged = _act(browser, path, "approve")
    assert forged.status_code == 403 and "four-eyes" in forged.text
    # a sales user's form post is refused too
    sales = staff_client(gov, *make_user(gov, "sales"))
    denied = sales.post(
        f"{path}/approve",
        data={"_csrf_token": csrf_of(sales.get("/staff/").text)},
        follow_redirects=False,
    )
    assert denied.status_code == 403 and "needs: legal" in denied.text
    assert 'id="state">in review' in browser.get(path).text


def test_unknown_templates_and_huge_version_numbers_are_not_found(gov: Api) -> None:
    legal = staff_client(gov, *make_user(gov, "legal"))
    huge = "99999999999999999999"
    for path in ("/staff/templates/annex", f"/staff/templates/security/v/{huge}"):
        page = legal.get(path)
        assert page.status_code == 404 and "Not found" in page.text, path
    api = gov.client.get(
        f"/api/v1/templates/security/versions/{huge}", headers=gov.headers("legal")
    )
    assert api.status_code == 404
    listed = gov.client.get(f"/api/v1/subprocessors/versions/{huge}", headers=gov.headers("legal"))
    assert listed.status_code == 404
