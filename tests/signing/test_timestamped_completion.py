"""With DPA_TSA_URL the completed agreement's seal carries an RFC 3161 timestamp (PAdES B-T)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, make_api
from tests.signing.helpers import issue, sign, version_state
from tests.signing.tsa import LoopbackTSA


@pytest.fixture
def tsa() -> Iterator[LoopbackTSA]:
    with LoopbackTSA() as server:
        yield server


def test_a_completed_agreement_is_timestamped(
    tsa: LoopbackTSA, pool: ConverterPool, tmp_path: Path
) -> None:
    roots = tmp_path / "tsa-roots.pem"
    roots.write_bytes(tsa.ca_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path / 'data' / 'tsa.sqlite3'}"
    for api in make_api("sqlite", url, tmp_path, pool, tsa_url=tsa.url, tsa_ca_pem=roots):
        assert isinstance(api, Api)
        issued = issue(api, "tsa-ws")
        assert sign(api, issued).status_code == 303
        state = version_state(api, issued)
        assert state["state"] == "completed"
        assert tsa.requests, "the TSA was never asked"
        pdf = api.client.get(state["completed_download_url"], headers=api.headers()).content
        verdict = api.client.post(
            "/api/v1/verify", files={"file": ("dpa.pdf", pdf, "application/pdf")}
        ).json()
        assert verdict["status"] == "completed"
        assert verdict["seal"]["timestamped"] is True
        stamped = datetime.fromisoformat(verdict["seal"]["timestamp_at"])
        assert abs(stamped - datetime.now(UTC)) < timedelta(minutes=5)
