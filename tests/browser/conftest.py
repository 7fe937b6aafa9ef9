"""A real Chromium for the signing pages: one browser per session, a fresh context per test.

Playwright cannot download its own browser here, so the tests drive Debian's Chromium. Every
page records console errors, uncaught exceptions and Content-Security-Policy violations; a test
fails if any occurred that it did not expect (the pages must work under `script-src 'self'`).
Requests to anything but 127.0.0.1 are aborted and recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer

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


@dataclass
class BrowserLog:
    """What the browser complained about during one test."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    checked: bool = False

    def allow(self, pattern: str) -> None:
        """Expect errors matching `pattern` (e.g. the console line of an intended 403)."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def assert_clean(self) -> None:
        self.checked = True
        problems = self.problems()
        assert not problems, "the browser reported errors:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def new_page(
    chromium: Any, live_server: LiveServer, browser_log: BrowserLog
) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (`accept_downloads`, base URL = the live server)."""
    contexts: list[Any] = []

    def open_page(**context_options: Any) -> Any:
        context = chromium.new_context(
            accept_downloads=True, base_url=live_server.url, **context_options
        )
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_CSP)

        def refuse(route: Any) -> None:
            browser_log.errors.append(f"request outside 127.0.0.1 refused: {route.request.url}")
            route.abort()

        context.route(NOT_LOOPBACK, refuse)
        page = context.new_page()

        def on_console(msg: Any) -> None:
            if msg.type == "error" or "Content Security Policy" in msg.text:
                where = msg.location.get("url", "") if msg.location else ""
                browser_log.errors.append(f"console.{msg.type}: {msg.text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: browser_log.errors.append(f"uncaught: {exc}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    if not browser_log.checked:  # a test that stopped early has already failed
        browser_log.assert_clean()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()
