"""One app per backend for the subprocessor tests, its mail going to a loopback SMTP server.

The list is global state (every approval changes what the next DPA prints and who is told), so
these tests get an app and database of their own instead of the session-wide `api`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, _postgres_database, make_api, workspace
from tests.signing.helpers import issue, sign
from tests.smtp import LoopbackSMTP
from tests.staff import person_token

NOTICE_LINK = re.compile(r"(https?://[^\s]+)/objections/([A-Za-z0-9_-]{43})")


@pytest.fixture(scope="package")
def smtp() -> Iterator[LoopbackSMTP]:
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@dataclass
class Governance:
    """The app, a second legal token (four eyes) and helpers to walk a change through."""

    api: Api
    smtp: LoopbackSMTP
    second_legal: str

    def headers(self, role: str) -> dict[str, str]:
        if role == "legal2":
            return {"Authorization": f"Bearer {self.second_legal}"}
        return self.api.headers(role)

    def post(self, path: str, role: str = "legal", json: Any = None) -> Any:
        return self.api.client.post(
            f"/api/v1/subprocessors{path}", json=json, headers=self.headers(role)
        )

    def get(self, path: str, role: str = "legal") -> Any:
        return self.api.client.get(f"/api/v1/subprocessors{path}", headers=self.headers(role))

    def current(self) -> dict[str, Any]:
        r = self.get("/", role="app")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def propose(self, add: list[dict[str, str]] | None = None, remove: tuple[str, ...] = ()) -> int:
        """A draft of the current list with `add` appended and `remove` left out, submitted."""
        entries = [
            {k: v for k, v in e.items() if k not in ("location_name", "in_eea")}
            for e in self.current()["entries"]
            if e["name"] not in remove
        ] + (add or [])
        r = self.post("/versions", json={"entries": entries, "change_note": "test change"})
        assert r.status_code == 201, r.text
        number = int(r.json()["version"])
        r = self.post(f"/versions/{number}/submit")
        assert r.status_code == 200, r.text
        return number

    def approve(self, number: int) -> dict[str, Any]:
        r = self.post(f"/versions/{number}/approve", role="legal2")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def completed_workspace(self, email: str | None = None) -> tuple[str, str]:
        """A workspace whose DPA is signed and countersigned; returns (id, signatory e-mail)."""
        workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
        email = email or f"{workspace_id}@example.lv"
        data = workspace(
            signatory={"name": "Ēriks Kalniņš", "title": "Chief Executive", "email": email}
        )
        issued = issue(self.api, workspace_id, data)
        assert sign(self.api, issued).status_code == 303
        return workspace_id, email


def new_entry(name: str, **fields: str) -> dict[str, str]:
    return {
        "name": name,
        "purpose": "Customer support: help-desk tickets and chat transcripts",
        "location": "US",
        "transfer_safeguard": "SCCs (Module 3) and EU-U.S. Data Privacy Framework",
        **fields,
    }


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6].upper()}"


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def governance(
    request: pytest.FixtureRequest,
    pool: ConverterPool,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: LoopbackSMTP,
) -> Iterator[Governance]:
    tmp = tmp_path_factory.mktemp(f"subprocessors-{request.param}")
    overrides = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}
    if request.param == "sqlite":
        tmp.joinpath("data").mkdir()
        urls: Iterator[str] = iter([f"sqlite:///{tmp / 'data' / 'dpa.sqlite3'}"])
    else:
        urls = _postgres_database()
    for url in urls:
        for api in make_api(request.param, url, tmp, pool, **overrides):
            yield Governance(api, smtp, person_token(api, "legal", name="Second Legal"))
