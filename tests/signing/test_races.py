"""Ten browsers pressing Sign at once on one version: exactly one signature and one completion."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import func, select

from dpa_service.audit.models import AuditEvent
from dpa_service.signing.models import Signature
from tests.conftest import LiveServer, wait_archived
from tests.signing.helpers import CSRF, issue, png_data_url, version_state


def test_ten_concurrent_sign_requests_make_one_signature(
    live_server: LiveServer, workspace_id: str
) -> None:
    api = live_server.api
    issued = issue(api, workspace_id)
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        page = client.get(issued.path)
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        form = {
            "_csrf_token": csrf,
            "shown_sha256": issued.sha256,
            "typed_name": "Ēriks Kalniņš",
            "title": "Chief Executive",
            "consent": "yes",
            "drawn_signature": png_data_url(),
        }
        barrier = threading.Barrier(10)
        statuses: list[int] = []

        def press_sign() -> None:
            barrier.wait()
            r = client.post(issued.path, data=form, follow_redirects=False)
            statuses.append(r.status_code)

        threads = [threading.Thread(target=press_sign) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

    assert sorted(statuses) == [303] + [409] * 9, statuses
    # Countersigned automatically after the winner's answer was sent.
    deadline = time.monotonic() + 60
    while version_state(api, issued)["state"] != "completed":
        assert time.monotonic() < deadline, version_state(api, issued)
        time.sleep(0.1)
    with api.session() as s:
        version_id_signatures = s.scalars(
            select(Signature.party).where(Signature.document_sha256 == issued.sha256)
        ).all()
        assert version_id_signatures == ["controller"]

        def events(kind: str) -> int:
            return s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.agreement_id == issued.agreement_id, AuditEvent.type == kind)
            )

        assert events("version.signed") == 1
        assert events("consented") == 1
        assert events("countersigned") == 1
        assert events("version.completed") == 1
    completed = issued.agreement_id
    wait_archived(api, completed, issued.version)
    files = list((api.archive.root / "agreements" / completed / f"v{issued.version}").iterdir())
    assert sorted(f.name for f in files) == ["completed.pdf", "draft.pdf", "manifest.json"]
