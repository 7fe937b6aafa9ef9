"""Sales in a real Chromium: a sales user creates a prospect and sends its DPA; the e-mail caught
by a loopback SMTP server carries a link that opens the signing page; after signing, the status
board says completed and both sides have received the completed copy."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dpa_service.rendering.converter import ConverterPool
from tests.browser.helpers import BrowserLog, into_view, wait_for_pdf_viewer
from tests.conftest import LiveServer, own_api, serve
from tests.sales.conftest import link_in, parts
from tests.smtp import LoopbackSMTP
from tests.staff import make_user

COUNTERSIGN_TIMEOUT_MS = 90_000  # signing seals the PDF with LibreOffice before redirecting


@pytest.fixture(scope="module")
def sales_server(
    pool: ConverterPool, smtp: LoopbackSMTP, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The service on a loopback port, mailing through the loopback SMTP server (SQLite)."""
    overrides: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_starttls": False,
    }
    for api in own_api("sqlite", pool, tmp_path_factory.mktemp("sales-browser"), **overrides):
        yield from serve(api, pool)


@pytest.fixture
def open_page(page_on: Callable[..., Page], sales_server: LiveServer) -> Callable[[], Page]:
    """A page on the sales server in a fresh context (its own cookies: one person)."""
    return lambda: page_on(sales_server.url)


def test_a_prospect_receives_signs_and_both_sides_get_the_completed_copy(
    sales_server: LiveServer,
    smtp: LoopbackSMTP,
    open_page: Callable[[], Page],
    browser_log: BrowserLog,
    tmp_path: Path,
) -> None:
    api = sales_server.api
    email, password = make_user(api, "sales", name="Sanita Pārdevēja")

    # The sales user logs in and lands on the prospects page they asked for.
    seller = open_page()
    seller.goto("/staff/prospects")
    expect(seller.locator("h1")).to_have_text("Staff log in")
    seller.locator("#email").fill(email)
    seller.locator("#password").fill(password)
    seller.locator("#login").click()
    expect(seller.locator("h1")).to_have_text("Prospects")

    # … creates a prospect with the form …
    seller.locator("#new-prospect").click()
    expect(seller.locator("h1")).to_have_text("New prospect")
    signatory = "ilze.ozola@example.lv"
    for field, value in {
        "#legal_name": "SIA Ozolu Dārzs",
        "#registration_number": "40203111222",
        "#street": "Ozolu iela 7",
        "#city": "Jelgava",
        "#postal_code": "LV-3001",
        "#country": "LV",
        "#signatory_name": "Ilze Ozola",
        "#signatory_title": "Valdes priekšsēdētāja",
        "#signatory_email": signatory,
    }.items():
        seller.locator(field).fill(value)
    for key in ("leads", "booking_forms", "invoices_quotes"):
        seller.locator(f"#data-categories input[value={key}]").check()
    seller.locator("#data-subjects input[value=customers]").check()
    seller.locator("#create").click()
    expect(seller.locator("#company")).to_have_text("SIA Ozolu Dārzs")
    expect(seller.locator("#state")).to_have_text("new")

    # … and sends its DPA.
    seller.locator("#send").click()
    expect(seller.locator("#done")).to_contain_text(f"sent to {signatory}")
    expect(seller.locator("#state")).to_have_text("sent")
    expect(seller.locator("#resend")).to_be_visible()
    expect(seller.locator("#remind")).to_be_visible()

    # The e-mail arrives over SMTP, in text and HTML, and its link opens the signing page.
    invite = smtp.wait_for(lambda _: smtp.to(signatory), timeout=20)[0]
    text, html = parts(invite)
    assert "Ilze Ozola" in text and "SIA Ozolu Dārzs" in html
    link = link_in(invite)
    assert link.startswith(sales_server.url + "/sign/")

    signer = open_page()
    response = signer.goto(link)
    assert response is not None and response.status == 200
    wait_for_pdf_viewer(signer)
    expect(signer.locator("#typed_name")).to_have_value("Ilze Ozola")
    into_view(signer.locator("#consent")).check()
    into_view(signer.locator("#sign")).click()
    signer.wait_for_url("**/done", timeout=COUNTERSIGN_TIMEOUT_MS)
    expect(signer.locator("h1")).to_contain_text(
        "signed by both parties", timeout=COUNTERSIGN_TIMEOUT_MS
    )

    # The status board shows it completed, with who signed.
    seller.goto("/staff/prospects")
    row = seller.locator("#board tbody tr", has_text="SIA Ozolu Dārzs")
    expect(row.locator("td.state")).to_contain_text("completed")
    expect(row.locator("td.actors")).to_contain_text("signed: Ilze Ozola")
    expect(row.locator("td.actors")).to_contain_text(f"sent: user:{email} (sales)")

    # Both sides received the completed copy; the signatory's link downloads the sealed PDF.
    def copies(msgs: list[Any]) -> list[Any]:
        found = [m for m in msgs if m["Subject"].startswith("Signed:")]
        return found if {a for m in found for a in m.rcpt_tos} >= {signatory, email} else []

    received = smtp.wait_for(copies, timeout=30)
    mine = next(m for m in received if signatory in m.rcpt_tos)
    theirs = next(m for m in received if email in m.rcpt_tos)
    assert link_in(mine) != link_in(theirs)
    reader = open_page()
    reader.goto(link_in(mine))
    expect(reader.locator("h1")).to_contain_text("signed by both parties")
    with reader.expect_download() as download_info:
        into_view(reader.locator("#download-signed")).click()
    saved = tmp_path / "signed.pdf"
    download_info.value.save_as(saved)
    expected = reader.locator("main code").inner_text()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == expected
    browser_log.assert_clean()
