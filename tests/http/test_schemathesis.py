"""The API keeps to its OpenAPI schema: schemathesis, bounded, for every role.

Every check schemathesis has runs (no server error; status codes, content types, headers and
bodies as documented; a request the schema allows is accepted and one it forbids is refused;
authentication not ignored …) with a fixed seed and a few examples per operation, on an app and
database of its own (the run approves nothing anyone else relies on), PostgreSQL where it is
reachable. tests/http/schemathesis.toml says what is left out and why (the coverage phase runs in
`scripts/schemathesis`). Each run's figures (cases generated, passed, failed) are printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, own_api, postgres_reachable, serve

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def target(
    pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Api]]:
    # One backend (the run takes a minute a role): PostgreSQL where it is reachable, as in CI.
    backend = "postgresql" if postgres_reachable() else "sqlite"
    for api in own_api(backend, pool, tmp_path_factory.mktemp("schemathesis")):
        for live in serve(api, pool):
            yield live.url, live.api


@pytest.mark.parametrize("role", ["app", "admin", "legal", "sales"])
def test_the_api_answers_as_its_schema_says(
    target: tuple[str, Api], role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url, api = target
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--no-color",
            f"--config-file={CONFIG}",
            "run",
            f"{url}/schema/openapi.json",
            "--header",
            f"Authorization: Bearer {api.tokens[role]}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        # A fresh Idempotency-Key for each request, as a client sends (schemathesis_hooks.py).
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.http.schemathesis_hooks",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        },
    )
    summary = re.findall(r"^\s+(\d+ generated.*)$", run.stdout, re.MULTILINE)
    with capsys.disabled():  # the figures, on the terminal in every run
        print(f"\nschemathesis as {role}: {', '.join(summary) or 'no summary'}")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
    assert summary and "failure" not in summary[-1], run.stdout[-20000:]
