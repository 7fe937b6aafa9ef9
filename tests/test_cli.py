"""The `dpa-service` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from dpa_service.audit.models import AuditEvent
from tests.conftest import WORKSPACE, Api, workspace
from tests.pdf_text import pdf_text

CLI = [sys.executable, "-m", "dpa_service.cli"]


def run(
    args: list[str], env: dict[str, str], timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CLI + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DPA_DATA_DIR": str(tmp_path / "data"), "DPA_ARCHIVE_DIR": str(tmp_path / "signed")}


def test_generate_writes_a_pdf_without_server_or_database(
    tmp_path: Path, env: dict[str, str]
) -> None:
    source = tmp_path / "workspace.json"
    data = workspace(language="lv", bilingual=True, main_agreement_start="2025-03-01")
    source.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "dpa.pdf"
    result = run(["generate", "--input", str(source), "--output", str(out)], env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["pages"] >= 5 and summary["languages"] == ["lv", "en"]
    # the built-in profile, its assumptions marked
    assert "identity.registration_number" in summary["unconfirmed"]
    text = pdf_text(out.read_bytes())
    assert WORKSPACE["legal_name"] in text and WORKSPACE["signatory"]["email"] in text
    assert text.index("Personas datu apstrādes līgums") < text.index("Data Processing Agreement")
    assert "Spēkā stāšanās datums: 2025. gada 1. marts" in text
    assert "[to be confirmed" in text
    assert not (tmp_path / "data").exists()  # no database was made


def test_generate_refuses_invalid_input_with_a_clear_message(
    tmp_path: Path, env: dict[str, str]
) -> None:
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(workspace(address={**WORKSPACE["address"], "country": "ZZ"})))
    out = tmp_path / "dpa.pdf"
    result = run(["generate", "--input", str(source), "--output", str(out)], env)
    assert result.returncode != 0
    assert "ISO 3166-1" in result.stderr
    assert not out.exists()


def test_tokens_create_prints_a_token_once_and_it_works(env: dict[str, str], pool) -> None:  # type: ignore[no-untyped-def]
    assert run(["migrate"], env).returncode == 0
    result = run(["tokens", "create", "--role", "legal", "--name", "Legal team"], env)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("dpa_") and len(secret) >= 40
    listing = run(["tokens", "list"], env).stdout
    assert "legal" in listing and "Legal team" in listing and secret not in listing

    from litestar.testing import TestClient

    from dpa_service.app import create_app
    from dpa_service.config import Settings

    settings = Settings.from_env({k: v for k, v in env.items()})
    with TestClient(create_app(settings, pool=pool)) as client:
        assert (
            client.get(
                "/api/v1/workspaces/x", headers={"Authorization": f"Bearer {secret}"}
            ).status_code
            == 404
        )
        assert (
            client.put(
                "/api/v1/workspaces/x",
                json=WORKSPACE,
                headers={"Authorization": f"Bearer {secret}"},
            ).status_code
            == 403
        )


def test_tokens_create_refuses_an_unknown_role(env: dict[str, str]) -> None:
    run(["migrate"], env)
    result = run(["tokens", "create", "--role", "root", "--name", "x"], env)
    assert result.returncode == 2 and "root" in result.stderr


def test_tokens_create_refuses_a_name_that_prints_differently(env: dict[str, str]) -> None:
    """A bare token's name is its audit actor, printed in the certificate of completion: the
    characters refused in every other name are refused here too."""
    run(["migrate"], env)
    result = run(["tokens", "create", "--role", "app", "--name", "app\u202eevil"], env)
    assert result.returncode == 1 and "U+202E" in result.stderr, result.stderr
    assert not result.stdout.strip()  # no secret printed
    listed = run(["tokens", "list"], env)
    assert "evil" not in listed.stdout


def test_verify_audit_names_an_agreement_whose_chain_was_edited(
    api: Api, workspace_id: str
) -> None:
    api.put_workspace(workspace_id)
    agreement_id = api.request_dpa(workspace_id).json()["agreement_id"]
    api.request_dpa(workspace_id, new_version=True)
    env = {
        "DPA_DATABASE_URL": api.settings.database_url,
        "DPA_DATA_DIR": str(api.settings.data_dir),  # its seal and archive hold the anchors
        "DPA_ARCHIVE_DIR": str(api.settings.archive_dir),
    }
    ok = run(["verify", "--audit"], env)
    # other tests break chains on purpose in the same database; this agreement's is whole
    assert agreement_id not in ok.stdout and "audit events checked" in ok.stdout, ok.stderr
    with api.session() as s:
        s.execute(
            update(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id, AuditEvent.seq == 1)
            .values(actor="someone else")
        )
        s.commit()
    broken = run(["verify", "--audit"], env)
    assert broken.returncode == 1
    assert f"BROKEN agreement {agreement_id} event 1" in broken.stdout
