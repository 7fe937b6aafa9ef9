"""Drive the signing pages without a browser: the same GETs and form posts a browser makes."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from tests.conftest import Api

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def tiny_png(width: int = 40, height: int = 12) -> bytes:
    """A real PNG (a dark stroke on white), made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(
        b"\x00"
        + b"".join(
            b"\x10\x20\x60" if abs(y - height // 2) < 2 else b"\xff\xff\xff" for _ in range(width)
        )
        for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def png_data_url(png: bytes | None = None) -> str:
    return "data:image/png;base64," + base64.b64encode(png or tiny_png()).decode()


@dataclass
class Issued:
    agreement_id: str
    version: int
    sha256: str
    url: str

    @property
    def path(self) -> str:
        return "/sign/" + self.url.rsplit("/sign/", 1)[1]

    @property
    def version_path(self) -> str:
        return f"/api/v1/agreements/{self.agreement_id}/versions/{self.version}"


def issue(api: Api, workspace_id: str, data: dict[str, Any] | None = None, **link: Any) -> Issued:
    """Workspace → DPA → signing link, as the Klusaro app does it."""
    assert api.put_workspace(workspace_id, data).status_code in (200, 201)
    dpa = api.request_dpa(workspace_id).json()
    body = {"embedded": True, "workspace_id": workspace_id, **link}
    r = api.client.post(
        f"/api/v1/agreements/{dpa['agreement_id']}/versions/{dpa['version']}/signing-links",
        json=body,
        headers=api.headers(),
    )
    assert r.status_code == 201, r.text
    return Issued(dpa["agreement_id"], dpa["version"], dpa["sha256"], r.json()["url"])


def open_page(api: Api, issued: Issued) -> tuple[Any, str]:
    page = api.client.get(issued.path)
    match = CSRF.search(page.text)
    return page, match.group(1) if match else ""


def sign(api: Api, issued: Issued, csrf: str | None = None, **fields: Any) -> Any:
    if csrf is None:
        _, csrf = open_page(api, issued)
    form = {
        "_csrf_token": csrf,
        "shown_sha256": issued.sha256,
        "typed_name": "Ēriks Kalniņš",
        "title": "Chief Executive",
        "consent": "yes",
        "drawn_signature": png_data_url(),
        **fields,
    }
    return api.client.post(issued.path, data=form, follow_redirects=False)


def version_state(api: Api, issued: Issued) -> dict[str, Any]:
    agreement = api.client.get(
        f"/api/v1/agreements/{issued.agreement_id}", headers=api.headers()
    ).json()
    return next(v for v in agreement["versions"] if v["version"] == issued.version)
