"""Helpers for driving the signing pages in Chromium."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from playwright.sync_api import Frame, Locator, Page


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


def wait_for_pdf_viewer(page: Page, timeout_s: float = 20, pdf: str = "/document.pdf") -> Frame:
    """Wait until Chromium's built-in viewer shows the PDF of `iframe.doc` (its URL ends with
    `pdf`); return its frame.

    The viewer is an extension frame inside the iframe that loads the PDF once more. Until it is
    up, the page's input routing is still settling (see `into_view`).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            parent = frame.parent_frame
            if (
                parent is not None
                and parent.url.startswith("chrome-extension://")
                and frame.url.split("?")[0].endswith(pdf)
            ):
                frame.wait_for_load_state()
                return frame
        page.wait_for_timeout(50)
    urls = [frame.url for frame in page.frames]
    raise AssertionError(f"the PDF viewer did not show the document; frames: {urls}")


def into_view(locator: Locator) -> Locator:
    """Scroll `locator` into view and let the compositor draw a frame before pointer input.

    Chromium routes a pointer event by the hit-test data of the last frame drawn. Playwright
    scrolls and clicks at once, so right after a scroll its click can land on whatever was at
    that spot before — on the sign page, the PDF viewer's out-of-process frame, which then takes
    focus and swallows the click ("Clicking the checkbox did not change its state"). Waiting two
    animation frames makes the routing match the page again.
    """
    locator.scroll_into_view_if_needed()
    locator.page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    return locator
