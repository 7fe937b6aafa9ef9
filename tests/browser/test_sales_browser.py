"""Sales in a real Chromium: a sales user creates a prospect and sends its DPA; the e-mail caught
by a loopback SMTP server carries a link that opens the signing page; after signing, the status
board says completed and both sides have received the completed copy. And the Klusaro app's
signatory, whose embedded link lives minutes, keeps the completed copy through the e-mail."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from dpa_service.agreements.models import AgreementVersion
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing.models import SigningLink
from tests.browser.helpers import BrowserLog, into_view, wait_for_pdf_viewer
from tests.conftest import LiveServer, own_api, serve, workspace
from tests.pdf_text import pdf_text
from tests.sales.conftest import link_in, parts
from tests.signing.helpers import Issued, issue
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
        "#signatory_name": "Ilze Ozola",
        "#signatory_title": "Valdes priekšsēdētāja",
        "#signatory_email": signatory,
    }.items():
        seller.locator(field).fill(value)
    # The country is chosen by its name; "La" for Latvia can no longer become Laos.
    country = seller.locator("select#country")
    assert country.locator("option[value=LA]").inner_text() == "Laos"
    country.select_option(label="Latvia")
    for key in ("leads", "booking_forms", "invoices_quotes"):
        seller.locator(f"#data-categories input[value={key}]").check()
    seller.locator("#data-subjects input[value=customers]").check()
    seller.locator("#create").click()
    expect(seller.locator("#company")).to_have_text("SIA Ozolu Dārzs")
    expect(seller.locator("#state")).to_have_text("new")
    expect(seller.locator("#details")).to_contain_text("Jelgava, Latvia (LV)")

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
    assert "Country: Latvia" in pdf_text(saved.read_bytes())  # the country chosen by name
    browser_log.assert_clean()


def test_an_embedded_signer_gets_the_completed_copy_by_email_after_the_link_expired(
    sales_server: LiveServer,
    smtp: LoopbackSMTP,
    open_page: Callable[[], Page],
    browser_log: BrowserLog,
    tmp_path: Path,
) -> None:
    api = sales_server.api
    signatory = f"embedded.{uuid.uuid4().hex[:8]}@example.lv"
    details = workspace(signatory={"name": "Ēriks Kalniņš", "title": "CEO", "email": signatory})
    issued = issue(api, f"ws-{uuid.uuid4().hex[:10]}", details)  # the Klusaro app's link

    signer = open_page()
    signer.goto(issued.path)
    wait_for_pdf_viewer(signer)
    into_view(signer.locator("#consent")).check()
    into_view(signer.locator("#sign")).click()
    signer.wait_for_url("**/done", timeout=COUNTERSIGN_TIMEOUT_MS)
    expect(signer.locator("#signed-by")).to_contain_text(signatory)  # told where the copy goes
    expect(signer.locator("h1")).to_contain_text(
        "signed by both parties", timeout=COUNTERSIGN_TIMEOUT_MS
    )

    # The embedded link's minutes pass (the clock moved on, as a later visit finds it) …
    with api.session() as s:
        s.execute(
            update(SigningLink)
            .where(SigningLink.version_id == select_version_id(api, issued))
            .where(SigningLink.kind == "embedded")
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        s.commit()
    later = open_page()
    response = later.goto(f"{issued.path}/done")
    assert response is not None and response.status == 410

    # … but the completed copy came by e-mail, with a link of its own that still works.
    [copy] = smtp.wait_for(
        lambda msgs: [
            m for m in msgs if signatory in m.rcpt_tos and m["Subject"].startswith("Signed:")
        ],
        timeout=30,
    )
    text, _ = parts(copy)
    assert f"{sales_server.url}/verify" in text
    reader = open_page()
    response = reader.goto(link_in(copy))
    assert response is not None and response.status == 200
    expect(reader.locator("h1")).to_contain_text("signed by both parties")
    expect(reader.locator("#signed-by")).to_contain_text("You signed on")
    with reader.expect_download() as download_info:
        into_view(reader.locator("#download-signed")).click()
    saved = tmp_path / "signed.pdf"
    download_info.value.save_as(saved)
    assert (
        hashlib.sha256(saved.read_bytes()).hexdigest() == reader.locator("main code").inner_text()
    )
    browser_log.allow("410")  # the expired link's page
    browser_log.assert_clean()


def select_version_id(api: Any, issued: Issued) -> str:
    with api.session() as s:
        return str(
            s.scalars(
                select(AgreementVersion.id).where(
                    AgreementVersion.agreement_id == issued.agreement_id,
                    AgreementVersion.number == issued.version,
                )
            ).one()
        )
