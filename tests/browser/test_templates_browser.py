"""A template change in a real Chromium: a legal user uploads a changed security clause; a
second legal user reads the diff and the preview and approves it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.helpers import BrowserLog, wait_for_pdf_viewer
from tests.clauses import docx_files as f
from tests.conftest import LiveServer, own_api, serve
from tests.pdf_text import pdf_text
from tests.staff import make_user

NEW_TEXT = "Independent penetration tests take place at least twice a year."


@pytest.fixture(scope="module")
def gov_server(pool: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An app of its own: approving a clause changes every later DPA of its database."""
    for api in own_api("sqlite", pool, tmp_path_factory.mktemp("templates-browser")):
        yield from serve(api, pool)


def test_a_clause_change_is_uploaded_reviewed_and_approved_by_a_second_legal_user(
    gov_server: LiveServer,
    page_on: Callable[..., Page],
    browser_log: BrowserLog,
    tmp_path: Path,
) -> None:
    api = gov_server.api
    author_email, password = make_user(api, "legal", name="Inese Autore")
    reviewer_email, _ = make_user(api, "legal", name="Rūta Recenzente")
    changed = tmp_path / "security-v2.docx"
    changed.write_bytes(f.add_paragraph(f.builtin("security"), NEW_TEXT, after="II.1 Encryption"))

    # the author uploads the changed clause and submits it for review
    author = page_on(gov_server.url)
    log_in(author, author_email, password, "/staff/templates")
    author.set_input_files("#file-security", str(changed))
    author.fill("#note-security", "Penetration tests twice a year")
    author.locator("#upload-security button[type=submit]").click()
    author.wait_for_url("**/staff/templates/security/v/2")
    expect(author.locator("#state")).to_have_text("draft")
    author.click("#submit-review")
    expect(author.locator("#state")).to_have_text("in review")
    expect(author.locator("#four-eyes")).to_be_visible()
    expect(author.locator("#approve")).to_have_count(0)

    # a second legal user sees the diff, the note and the preview, and approves
    reviewer = page_on(gov_server.url)
    log_in(reviewer, reviewer_email, password, "/staff/templates")
    reviewer.click("text=version 2")
    reviewer.wait_for_url("**/staff/templates/security/v/2")
    # the preview frame shows the PDF at once, without opening it on its own first
    wait_for_pdf_viewer(reviewer, timeout_s=60, pdf="/preview.pdf")
    expect(reviewer.locator("#change-note")).to_have_text("Penetration tests twice a year")
    expect(reviewer.locator("#diff ins")).to_have_text(NEW_TEXT)
    expect(reviewer.locator("#diff-summary")).to_contain_text("1 added")
    with reviewer.expect_response("**/preview.pdf") as preview:
        reviewer.reload()
    assert preview.value.status == 200
    assert preview.value.header_value("content-type") == "application/pdf"
    # the same PDF, fetched with the reviewer's session, holds the new words
    pdf = reviewer.request.get("/staff/templates/security/v/2/preview.pdf").body()
    assert "twice a year" in pdf_text(pdf)
    reviewer.click("#approve")
    expect(reviewer.locator("#state")).to_have_text("approved")
    expect(reviewer.locator("#reviewed")).to_contain_text("Rūta Recenzente")

    # the next DPA is made from the approved words, and records the version
    assert api.put_workspace("ws-after-approval").status_code in (200, 201)
    made = api.request_dpa("ws-after-approval").json()
    assert made["template_versions"]["security"]["version"] == 2
    browser_log.assert_clean()
