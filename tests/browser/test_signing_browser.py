"""The signing ceremony in a real Chromium: review, consent, drawn signature, decline, CSRF."""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from dpa_service.signing.disclosure import DISCLOSURE_VERSION
from dpa_service.signing.models import Signature
from tests.browser.helpers import BrowserLog, into_view, wait_for_pdf_viewer
from tests.conftest import LiveServer
from tests.signing.helpers import Issued, issue, version_state

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COUNTERSIGN_TIMEOUT_MS = 90_000  # signing seals the PDF with LibreOffice before redirecting


def controller_signatures(live_server: LiveServer, issued: Issued) -> list[Signature]:
    with live_server.api.session() as s:
        return list(
            s.scalars(
                select(Signature)
                .options(undefer(Signature.drawn_png))
                .where(Signature.document_sha256 == issued.sha256, Signature.party == "controller")
            )
        )


def draw_stroke(page: Page, selector: str = "#pad") -> None:
    """Press, drag across the canvas in a zig-zag, release: what a signer does with a mouse."""
    box = into_view(page.locator(selector)).bounding_box()
    assert box is not None
    x0, y = box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.6
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, 9):
        x = x0 + box["width"] * 0.1 * i
        page.mouse.move(x, y - (box["height"] * 0.3 if i % 2 else 0), steps=4)
    page.mouse.up()


def inked_pixels(page: Page) -> int:
    return int(
        page.evaluate(
            """() => {
              const pad = document.getElementById("pad");
              const data = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
              let n = 0;
              for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) n++; }
              return n;
            }"""
        )
    )


def test_sign_with_a_drawn_signature_and_download_the_sealed_copy(
    live_server: LiveServer, workspace_id: str, page: Page, browser_log: BrowserLog, tmp_path: Path
) -> None:
    api = live_server.api
    issued = issue(api, workspace_id)

    with page.expect_response(lambda r: r.url.endswith(f"{issued.path}/document.pdf")) as pdf:
        response = page.goto(issued.path)
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp  # the policy under test
    assert pdf.value.status == 200
    assert pdf.value.headers["x-content-sha256"] == issued.sha256
    expect(page.locator("#doc-sha256")).to_have_text(issued.sha256)
    assert page.locator("#doc-sha256").inner_text() == issued.sha256
    expect(page.locator("iframe.doc")).to_be_visible()
    viewer = wait_for_pdf_viewer(page)  # shown inline, not offered as a download
    assert viewer.url == f"{live_server.url}{issued.path}/document.pdf"
    expect(page.locator("#typed_name")).to_have_value("Ēriks Kalniņš")  # from the signatory
    assert version_state(api, issued)["state"] == "viewed"

    into_view(page.locator("#consent")).check()
    page.locator("#typed_name").fill("Ēriks Kalniņš")
    page.locator("#title").fill("Chief Executive")
    assert inked_pixels(page) == 0
    draw_stroke(page)
    assert inked_pixels(page) > 100

    into_view(page.locator("#sign")).click()
    page.wait_for_url(f"**{issued.path}/done", timeout=COUNTERSIGN_TIMEOUT_MS)
    # countersigned in the background; the page looks again by itself
    expect(page.locator("h1")).to_contain_text(
        "signed by both parties", timeout=COUNTERSIGN_TIMEOUT_MS
    )

    with page.expect_download() as download_info:
        into_view(page.locator("#download-signed")).click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == (
        f"dpa-{issued.agreement_id}-v{issued.version}-signed.pdf"
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    signed = saved.read_bytes()
    assert signed.startswith(b"%PDF")

    state = version_state(api, issued)
    assert state["state"] == "completed"
    assert hashlib.sha256(signed).hexdigest() == state["completed_sha256"]
    assert state["completed_sha256"] in page.locator("main").inner_text()

    (signature,) = controller_signatures(live_server, issued)
    assert signature.name == "Ēriks Kalniņš" and signature.title == "Chief Executive"
    png = signature.drawn_png
    assert png is not None and png.startswith(PNG_MAGIC)
    assert struct.unpack(">II", png[16:24]) == (600, 160)  # the canvas, at its own resolution
    assert signature.user_agent and (
        "HeadlessChrome" in signature.user_agent or "Chrome" in signature.user_agent
    )
    browser_log.assert_clean()


def test_decline_with_a_reason(
    live_server: LiveServer, workspace_id: str, page: Page, browser_log: BrowserLog
) -> None:
    api = live_server.api
    issued = issue(api, workspace_id)
    reason = "Mūsu jurists vēlas mainīt 13. punktu — please change clause 13"

    page.goto(issued.path)
    wait_for_pdf_viewer(page)
    expect(page.locator("#reason")).to_be_hidden()  # tucked away in <details>
    into_view(page.locator("details.decline summary")).click()
    page.locator("#reason").fill(reason)
    into_view(page.locator("#decline")).click()
    expect(page.locator("h1")).to_have_text("You declined to sign")
    expect(page.locator("main")).to_contain_text("You declined")

    state = version_state(api, issued)
    assert state["state"] == "declined"
    assert state["state_reason"] == reason
    assert controller_signatures(live_server, issued) == []

    page.goto(issued.path)  # the link no longer offers signing
    expect(page.locator("h1")).to_contain_text("declined")
    assert page.locator("#sign").count() == 0
    browser_log.assert_clean()


def test_the_sign_page_works_on_a_phone(
    live_server: LiveServer,
    workspace_id: str,
    new_page: Callable[..., Page],
    browser_log: BrowserLog,
) -> None:
    issued = issue(live_server.api, workspace_id)
    page = new_page(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    page.goto(issued.path)
    wait_for_pdf_viewer(page)

    def no_horizontal_scroll() -> None:
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[1] == 390, widths  # not zoomed out to fit something too wide
        assert widths[0] <= widths[1], f"page is {widths[0]}px wide on a {widths[1]}px screen"

    no_horizontal_scroll()
    for selector in ("#consent", "#sign", "#typed_name", "#pad"):
        control = into_view(page.locator(selector))
        expect(control).to_be_visible()
        expect(control).to_be_in_viewport()
        box = control.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (selector, box)

    into_view(page.locator("details.decline summary")).tap()
    expect(page.locator("#reason")).to_be_visible()
    no_horizontal_scroll()

    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll("input:not([type=hidden]), textarea"))
              .filter((el) => el.labels === null || el.labels.length === 0)
              .map((el) => el.outerHTML)"""
    )
    controls = page.locator("input:not([type=hidden]), textarea").count()
    assert controls >= 4  # consent, name, title, reason
    assert unlabelled == []
    browser_log.assert_clean()


def test_a_sign_form_without_its_csrf_token_is_refused(
    live_server: LiveServer, workspace_id: str, page: Page, browser_log: BrowserLog
) -> None:
    api = live_server.api
    issued = issue(api, workspace_id)
    page.goto(issued.path)
    wait_for_pdf_viewer(page)
    assert version_state(api, issued)["state"] == "viewed"

    into_view(page.locator("#consent")).check()
    removed = page.evaluate(
        """() => {
             const token = document.querySelector("#sign-form input[name=_csrf_token]");
             if (token) { token.remove(); }
             return token !== null;
           }"""
    )
    assert removed
    assert page.locator("#sign-form input[name=_csrf_token]").count() == 0

    browser_log.allow(rf"status of 403 .*{re.escape(issued.path)}\)")  # the refused POST
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == live_server.url + issued.path
    ) as refused:
        into_view(page.locator("#sign")).click()
    assert refused.value.status == 403

    assert version_state(api, issued)["state"] == "viewed"
    with live_server.api.session() as s:
        count = s.scalar(
            select(func.count())
            .select_from(Signature)
            .where(Signature.document_sha256 == issued.sha256)
        )
    assert count == 0
    browser_log.assert_clean()


def test_a_latvian_signatory_signs_in_latvian_with_an_emailed_code(
    live_server: LiveServer, workspace_id: str, page: Page, browser_log: BrowserLog, tmp_path: Path
) -> None:
    """The code page, the code e-mail, the signing page and the completed copy's certificate of
    completion, all in Latvian, for a workspace whose language is lv."""
    from tests.agreements.test_languages import _mail_to
    from tests.conftest import workspace
    from tests.pdf_text import pdf_text

    api = live_server.api
    to = f"{workspace_id}@example.lv"
    data = workspace(language="lv")
    data["signatory"] = {**data["signatory"], "email": to}
    issued = issue(api, workspace_id, data, require_code=True)

    response = page.goto(issued.path)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "lv"
    expect(page.locator("h1")).to_have_text("Apstipriniet, ka tas esat jūs")
    page.click("#send-code")
    expect(page.locator("p.ok")).to_contain_text("Kods ir nosūtīts")
    mail = _mail_to(api.settings.mail_dir, to, "Jūsu kods Klusaro personas datu apstrādes")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    code = re.search(r"Jūsu vienreizējais kods ir (\d{6})\.", body)
    assert code is not None, body
    page.fill("#code", code.group(1))
    page.click("#check-code")
    page.wait_for_url(f"**{issued.path}")

    expect(page.locator("h1")).to_have_text("Personas datu apstrādes līgums")
    expect(page.locator("#consent-h")).to_have_text("2. Piekrītiet parakstīt elektroniski")
    expect(page.locator("#disclosure")).to_contain_text("Jūs gatavojaties parakstīt")
    expect(page.locator("#sign")).to_have_text("Parakstīt līgumu")
    wait_for_pdf_viewer(page)
    into_view(page.locator("#consent")).check()
    page.locator("#title").fill("Valdes loceklis")
    into_view(page.locator("#sign")).click()
    page.wait_for_url(f"**{issued.path}/done", timeout=COUNTERSIGN_TIMEOUT_MS)
    expect(page.locator("h1")).to_have_text("Līgumu ir parakstījušas abas puses")

    with page.expect_download() as download_info:
        into_view(page.locator("#download-signed")).click()
    saved = tmp_path / "signed.pdf"
    download_info.value.save_as(saved)
    text = pdf_text(saved.read_bytes())
    certificate = text[text.index("Pabeigšanas apliecinājums") :]
    for words in (
        "Pārzinis (parakstītājs)",
        "Valdes loceklis",
        f"{DISCLOSURE_VERSION}-lv",
        "pa e-pastu nosūtīts vienreizējais kods",
        "apliecinājuma 1. lapa no",
    ):
        assert words in certificate, words
    assert "Certificate of completion" not in text
    assert version_state(api, issued)["state"] == "completed"
    browser_log.assert_clean()
