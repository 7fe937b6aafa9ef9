import time
import pytest
from tests.signing.helpers import issue

def viewer(page, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in page.frames:
            p = f.parent_frame
            if p is not None and p.url.startswith("chrome-extension://") and f.url.endswith("/document.pdf"):
                f.wait_for_load_state()
                return f
        page.wait_for_timeout(50)
    raise AssertionError("no viewer")

@pytest.mark.parametrize("n", range(6))
def test_debug(live_server, workspace_id, page, browser_log, n):
    issued = issue(live_server.api, workspace_id)
    t = time.monotonic()
    page.goto(issued.path)
    viewer(page)
    print("viewer", round(time.monotonic()-t,2))
    page.locator("#consent").check()
    page.locator("#pad").scroll_into_view_if_needed()
    browser_log.checked = True
