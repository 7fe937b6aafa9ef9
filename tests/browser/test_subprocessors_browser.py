"""A subprocessor change in a real Chromium: one legal user proposes it, another approves it, and
the notice e-mail's objection link records an objection."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from dpa_service.rendering.converter import ConverterPool
from tests.browser.conftest import log_in
from tests.browser.helpers import BrowserLog
from tests.conftest import LiveServer, own_api, serve, workspace
from tests.pdf_text import pdf_text
from tests.signing.helpers import issue, sign
from tests.smtp import LoopbackSMTP, ReceivedMessage
from tests.staff import make_user

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/objections/[A-Za-z0-9_-]{43})")


@pytest.fixture(scope="module")
def live_server(
    pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory, smtp: LoopbackSMTP
) -> Iterator[LiveServer]:
    """This module's own app (its mail goes to the loopback SMTP server) served by uvicorn; it
    replaces the session-wide live server, whose subprocessor list other tests rely on."""
    tmp = tmp_path_factory.mktemp("subprocessors-browser")
    overrides = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}
    for api in own_api("sqlite", pool, tmp, **overrides):
        yield from serve(api, pool)


def test_a_change_is_proposed_approved_and_objected_to_through_the_e_mailed_link(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    smtp: LoopbackSMTP,
    browser_log: BrowserLog,
) -> None:
    api = live_server.api
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    signatory = f"{workspace_id}@example.lv"
    issued = issue(
        api,
        workspace_id,
        workspace(signatory={"name": "Ēriks Kalniņš", "title": "CEO", "email": signatory}),
    )
    assert sign(api, issued).status_code == 303  # completed: countersigned automatically
    author_login = make_user(api, "legal", name="Lena Legal")
    reviewer_login = make_user(api, "legal", name="Rita Reviewer")
    vendor = f"Helpdesk Vendor {uuid.uuid4().hex[:6].upper()} Inc."

    # the author proposes: a draft from the current list, one row added, submitted
    author = new_page()
    log_in(author, *author_login, "/staff/subprocessors")
    author.click("#new-draft")
    expect(author.locator("#draft-form")).to_be_visible()
    blank = author.locator("input[name^='name_']").count() - 3
    author.fill(f"#name_{blank}", vendor)
    author.fill(f"#purpose_{blank}", "Customer support: help-desk tickets")
    author.select_option(f"#location_{blank}", "US")
    author.fill(f"#safeguard_{blank}", "SCCs (Module 3)")
    author.fill("#change_note", "Support moves to a new help desk")
    author.click("#submit")
    expect(author.locator("#state")).to_have_text("(in_review)")
    expect(author.locator("#own-version")).to_contain_text("another legal user must approve")
    expect(author.locator("#approve")).to_have_count(0)
    review_path = author.url.split(live_server.url, 1)[1].split("?")[0]

    # a second legal user sees the diff and approves
    reviewer = new_page()
    log_in(reviewer, *reviewer_login, review_path)
    expect(reviewer.locator("#added")).to_contain_text(vendor)
    expect(reviewer.locator("#added")).to_contain_text("United States")
    expect(reviewer.locator("#change-note")).to_have_text("Support moves to a new help desk")
    reviewer.click("#approve")
    expect(reviewer.locator("#done")).to_contain_text(
        "Approved. 1 counterparty with a completed DPA is being notified"
    )
    expect(reviewer.locator("#state")).to_have_text("(approved)")

    # the next DPA names the added subprocessor's country, in each language (clause 8.3, Annex III)
    for language, country in (("en", "United States"), ("lv", "Amerikas Savienotās Valstis")):
        other = f"ws-{uuid.uuid4().hex[:10]}"
        assert api.put_workspace(other, workspace(language=language)).status_code == 201
        dpa = api.request_dpa(other).json()
        text = pdf_text(api.client.get(dpa["download_url"], headers=api.headers()).content)
        assert f"{vendor} ({country})" in text, language
        assert f"{vendor} (US)" not in text

    # the notice reaches the counterparty's signatory through SMTP
    def notice(messages: list[ReceivedMessage]) -> ReceivedMessage | None:
        # (the signatory also has the completed copy of the DPA the test signed)
        return next(
            (
                m
                for m in messages
                if signatory in m.rcpt_tos and "Subprocessor" in str(m["Subject"])
            ),
            None,
        )

    message: ReceivedMessage = smtp.wait_for(notice, timeout=30)
    assert "Subprocessor change" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"Added: {vendor} — Customer support: help-desk tickets" in text
    match = LINK.search(text)
    assert match, text
    link = match.group(1)
    assert link.startswith(live_server.url)

    # the link opens in a browser and records the objection, once
    controller = new_page()
    controller.goto(link)
    expect(controller.locator("#changes")).to_contain_text(vendor)
    expect(controller.locator("#deadline")).to_contain_text("UTC")
    controller.fill("#reason", "Our customers' data must stay in the EU.")
    controller.click("#object")
    expect(controller.locator("#recorded")).to_contain_text("Your objection was recorded")
    expect(controller.locator("#objection-form")).to_have_count(0)
    controller.reload()
    expect(controller.locator("#recorded-reason")).to_have_text(
        "Our customers' data must stay in the EU."
    )

    # legal sees it on the change's page
    reviewer.goto("/staff/subprocessors")
    expect(reviewer.locator("#changes .objection-count").first).to_have_text("1")
    reviewer.locator("#changes a").first.click()
    expect(reviewer.locator("#objections")).to_contain_text(
        "Our customers' data must stay in the EU."
    )
    expect(reviewer.locator("#objections")).to_contain_text("SIA Ziemeļu Logi")

    # and the public page shows the new list without a login
    public = new_page()
    public.goto("/subprocessors")
    expect(public.locator("#current")).to_contain_text(vendor)
    expect(public.locator("#history li").first).to_contain_text(f"Added: {vendor}")
    # the window is open: objections can (not "could") be made until the deadline
    expect(public.locator("#history li").first).to_contain_text("Customers can object until")
    browser_log.assert_clean()
