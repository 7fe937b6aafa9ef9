"""E-mailed one-time codes, rate limits and the security headers of the signing pages."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path

from litestar.testing import TestClient

from dpa_service.app import create_app
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import WORKSPACE, Api
from tests.signing.helpers import CSRF, issue, sign, version_state


def _latest_code(mail_dir: Path, to: str, timeout: float = 15) -> str:
    """The code in the newest e-mail to `to`; the outbox delivers in the background, so wait."""
    deadline = time.monotonic() + timeout
    while True:
        messages = sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)
        for path in reversed(messages):
            msg = email.message_from_bytes(path.read_bytes())
            if msg["To"] == to:
                return re.search(r"\b(\d{6})\b", msg.get_payload(decode=True).decode()).group(1)  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError("no code e-mail")
        time.sleep(0.05)


def test_one_time_code_before_signing(api: Api, workspace_id: str) -> None:
    to = f"{workspace_id}@example.lv"
    data = dict(WORKSPACE)
    data["signatory"] = {**data["signatory"], "email": to}
    issued = issue(api, workspace_id, data, require_code=True)
    page = api.client.get(issued.path)
    assert page.status_code == 200 and "Confirm it is you" in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    # signing straight away, without the code, is refused
    assert sign(api, issued, csrf).status_code == 403
    assert (
        api.client.post(f"{issued.path}/code/send", data={"_csrf_token": csrf}).status_code == 200
    )
    code = _latest_code(api.settings.mail_dir, to)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = api.client.post(
        f"{issued.path}/code", data={"_csrf_token": csrf, "code": wrong}, follow_redirects=False
    )
    assert r.status_code == 422
    r = api.client.post(
        f"{issued.path}/code", data={"_csrf_token": csrf, "code": code}, follow_redirects=False
    )
    assert r.status_code == 303
    page = api.client.get(issued.path)
    assert "Sign the agreement" in page.text
    assert sign(api, issued, csrf).status_code == 303
    assert version_state(api, issued)["state"] == "completed"


def test_code_allows_five_attempts(api: Api, workspace_id: str) -> None:
    to = f"{workspace_id}@example.lv"
    data = dict(WORKSPACE)
    data["signatory"] = {**data["signatory"], "email": to}
    issued = issue(api, workspace_id, data, require_code=True)
    csrf = CSRF.search(api.client.get(issued.path).text).group(1)  # type: ignore[union-attr]
    api.client.post(f"{issued.path}/code/send", data={"_csrf_token": csrf})
    code = _latest_code(api.settings.mail_dir, to)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for _ in range(5):
        assert (
            api.client.post(
                f"{issued.path}/code", data={"_csrf_token": csrf, "code": wrong}
            ).status_code
            == 422
        )
    # the sixth try fails even with the right code: a new code must be sent
    r = api.client.post(
        f"{issued.path}/code", data={"_csrf_token": csrf, "code": code}, follow_redirects=False
    )
    assert r.status_code == 422


def test_rate_limit_on_signing_and_verify(api: Api, pool: ConverterPool) -> None:
    settings = api.settings.with_(rate_limit_per_minute=3)
    app = create_app(settings, pool=pool, archive=api.archive, engine=api.engine)
    with TestClient(app, base_url=settings.public_url) as client:
        codes = [client.get("/sign/not-a-real-token").status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        # the API itself is not throttled by this limit
        assert client.get("/health").status_code == 200
    app = create_app(settings, pool=pool, archive=api.archive, engine=api.engine)
    with TestClient(app, base_url=settings.public_url) as client:
        files = {"file": ("x.pdf", b"%PDF-1.4 nothing", "application/pdf")}
        codes = [client.post("/api/v1/verify", files=files).status_code for _ in range(4)]
        assert codes[-1] == 429


def test_security_headers(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    page = api.client.get(issued.path)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'self' https://app.klusaro.com" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # no inline script anywhere on the page
    verify = api.client.get("/verify")
    assert "frame-ancestors 'self'" in verify.headers["content-security-policy"]
    assert "klusaro.com" not in verify.headers["content-security-policy"]


def test_a_code_link_cannot_be_declined_or_downloaded_without_the_code(
    api: Api, workspace_id: str
) -> None:
    data = dict(WORKSPACE)
    data["signatory"] = {**data["signatory"], "email": f"{workspace_id}@example.lv"}
    issued = issue(api, workspace_id, data, require_code=True)
    csrf = CSRF.search(api.client.get(issued.path).text).group(1)  # type: ignore[union-attr]
    r = api.client.post(f"{issued.path}/decline", data={"_csrf_token": csrf, "reason": "not us"})
    assert r.status_code == 403 and "Confirm it is you" in r.text
    assert api.client.get(f"{issued.path}/document.pdf").status_code == 403
    assert version_state(api, issued)["state"] == "sent"


def test_a_code_link_shows_nothing_of_the_document_before_the_code(
    api: Api, workspace_id: str
) -> None:
    data = dict(WORKSPACE)
    data["signatory"] = {**data["signatory"], "email": f"{workspace_id}@example.lv"}
    issued = issue(api, workspace_id, data, require_code=True)
    page = api.client.get(issued.path)
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    # The signing form posted without a code (and without any field): the code page again.
    r = api.client.post(issued.path, data={"_csrf_token": csrf})
    for answer in (page, r):
        assert "Confirm it is you" in answer.text
        assert data["legal_name"] not in answer.text
        assert issued.sha256 not in answer.text
        assert "pages" not in answer.text.lower()
    assert r.status_code == 403
    assert version_state(api, issued)["state"] == "sent"


def test_codes_per_link_are_capped(api: Api, workspace_id: str) -> None:
    data = dict(WORKSPACE)
    data["signatory"] = {**data["signatory"], "email": f"{workspace_id}@example.lv"}
    issued = issue(api, workspace_id, data, require_code=True)
    csrf = CSRF.search(api.client.get(issued.path).text).group(1)  # type: ignore[union-attr]
    codes = [
        api.client.post(f"{issued.path}/code/send", data={"_csrf_token": csrf}).status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]


def test_the_confirmation_page_of_a_code_link_needs_the_code_before_signing(
    api: Api, workspace_id: str
) -> None:
    data = dict(WORKSPACE)
    data["signatory"] = {**data["signatory"], "email": f"{workspace_id}@example.lv"}
    issued = issue(api, workspace_id, data, require_code=True)
    done = api.client.get(f"{issued.path}/done")
    assert done.status_code == 403 and "Confirm it is you" in done.text
