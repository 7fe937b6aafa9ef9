"""The signer's answer does not wait for Klusaro's countersignature: it follows in the
background, and the confirmation page shows the completed copy once it is there."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import LiveServer
from tests.signing.helpers import CSRF, issue, png_data_url, version_state


def test_the_signer_is_answered_while_the_countersignature_is_still_working(
    live_server: LiveServer, workspace_id: str, pool: ConverterPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = live_server.api
    issued = issue(api, workspace_id)
    release = threading.Event()
    converting = threading.Event()
    real_convert = pool.convert

    def held(docx: bytes) -> bytes:
        converting.set()
        release.wait(60)  # LibreOffice is slow today
        return real_convert(docx)

    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        page = client.get(issued.path)
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        monkeypatch.setattr(pool, "convert", held)
        try:
            answer = client.post(
                issued.path,
                data={
                    "_csrf_token": csrf,
                    "shown_sha256": issued.sha256,
                    "typed_name": "Ēriks Kalniņš",
                    "title": "Chief Executive",
                    "consent": "yes",
                    "drawn_signature": png_data_url(),
                },
                follow_redirects=False,
            )
            assert answer.status_code == 303  # answered …
            assert converting.wait(30)  # … while the countersignature waits for the converter
            done = client.get(f"{issued.path}/done")
            assert "Klusaro is countersigning now" in done.text
            assert '<meta http-equiv="refresh"' in done.text
            assert version_state(api, issued)["state"] == "signed"
        finally:
            release.set()
        deadline = time.monotonic() + 60
        while version_state(api, issued)["state"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        done = client.get(f"{issued.path}/done")
        assert "signed by both parties" in done.text and "refresh" not in done.text
