"""A real Chromium for the signing pages: one browser per session, a fresh context per test.

Playwright cannot download its own browser here, so the tests drive Debian's Chromium. Every
page records console errors, uncaught exceptions and Content-Security-Policy violations; a test
fails if any occurred that it did not expect (the pages must work under `script-src 'self'`).
Requests to anything but 127.0.0.1 are aborted and recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Route,
    sync_playwright,
)

from tests.browser.helpers import BrowserLog
from tests.conftest import LiveServer
from tests.smtp import LoopbackSMTP

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Web requests only: the built-in PDF viewer loads its own chrome:// resources.
NOT_LOOPBACK = re.compile(r"^(?!http://127\.0\.0\.1[:/])(https?|wss?)://")

# Runs before any page script and is not subject to the page's CSP; Chromium also logs each
# violation as a console error, this makes the directive and the blocked resource explicit.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="module")  # Playwright runs an event loop in this thread while open
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def smtp() -> Iterator[LoopbackSMTP]:
    """A loopback SMTP server for a module's own app (see tests/smtp.py)."""
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page_on(chromium: Browser, browser_log: BrowserLog) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context whose base URL is `base_url` (`accept_downloads`)."""
    contexts: list[BrowserContext] = []

    def open_page(base_url: str, **context_options: Any) -> Page:
        context = chromium.new_context(accept_downloads=True, base_url=base_url, **context_options)
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_CSP)

        def refuse(route: Route) -> None:
            browser_log.errors.append(f"request outside 127.0.0.1 refused: {route.request.url}")
            route.abort()

        context.route(NOT_LOOPBACK, refuse)
        page = context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" or "Content Security Policy" in msg.text:
                where = msg.location.get("url", "") if msg.location else ""
                browser_log.errors.append(f"console.{msg.type}: {msg.text} ({where})")

        page.on("console", on_console)

        def on_page_error(exc: Error) -> None:
            browser_log.errors.append(f"uncaught: {exc}")

        page.on("pageerror", on_page_error)
        return page

    yield open_page
    for context in contexts:
        context.close()
    if not browser_log.checked:  # a test that stopped early has already failed
        browser_log.assert_clean()


@pytest.fixture
def new_page(page_on: Callable[..., Page], live_server: LiveServer) -> Callable[..., Page]:
    """Open a page on the shared live server in a fresh context."""
    return lambda **context_options: page_on(live_server.url, **context_options)


def log_in(page: Page, email: str, password: str, next_path: str = "/staff/") -> None:
    """The staff log-in form, as a person fills it in."""
    page.goto(f"/staff/login?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_url(f"**{next_path}*")


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()
