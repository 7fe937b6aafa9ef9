"""The figures a DPA prints (DPA_BREACH_NOTICE_HOURS …) are checked when the service starts; the
figures frozen on a version are what it is countersigned with, even outside today's bounds."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import update

from dpa_service.agreements.models import AgreementVersion
from dpa_service.app import create_app
from dpa_service.config import Settings, SettingsError
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api
from tests.pdf_text import pdf_text
from tests.signing.helpers import issue, sign, version_state

OUT_OF_BOUNDS = [
    ("DPA_BREACH_NOTICE_HOURS", "-5", "1–72"),
    ("DPA_BREACH_NOTICE_HOURS", "96", "1–72"),
    ("DPA_SUBPROCESSOR_NOTICE_DAYS", "7", "at least 14"),
    ("DPA_RETURN_DELETION_DAYS", "365", "1–90"),
    ("DPA_AUDIT_NOTICE_DAYS", "5", "14–60"),
    ("DPA_AUDIT_NOTICE_DAYS", "90", "14–60"),
]


@pytest.mark.parametrize("variable,value,allowed", OUT_OF_BOUNDS)
def test_the_service_does_not_start_with_a_figure_out_of_bounds(
    tmp_path: Path, variable: str, value: str, allowed: str
) -> None:
    env = {
        **os.environ,
        "DPA_DATA_DIR": str(tmp_path / "data"),
        "DPA_ARCHIVE_DIR": str(tmp_path / "signed"),
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert variable in result.stderr and value in result.stderr and allowed in result.stderr


def test_the_app_refuses_a_figure_out_of_bounds_before_anything_else(
    api: Api, pool: ConverterPool
) -> None:
    settings = api.settings.with_(return_deletion_days=120)
    with pytest.raises(SettingsError, match=r"DPA_RETURN_DELETION_DAYS: .*120.*1–90"):
        create_app(settings, pool=pool, archive=api.archive, engine=api.engine)


def test_the_bounds_themselves_are_accepted() -> None:
    from dpa_service.agreements.terms import terms_from

    for values in (
        {"breach_notice_hours": 1, "subprocessor_notice_days": 14, "return_deletion_days": 1},
        {"breach_notice_hours": 72, "return_deletion_days": 90, "audit_notice_days": 60},
        {"audit_notice_days": 14, "subprocessor_notice_days": 3650},
    ):
        terms = terms_from(Settings.from_env(**values))
        assert all(getattr(terms, k) == v for k, v in values.items())


@pytest.fixture(scope="module")
def manual(api: Api, pool: ConverterPool) -> Iterator[Api]:
    settings = api.settings.with_(auto_countersign=False)
    app = create_app(settings, pool=pool, archive=api.archive, engine=api.engine)
    with TestClient(app, base_url=settings.public_url) as client:
        yield dataclasses.replace(api, settings=settings, client=client, app=app)


def test_a_version_frozen_with_figures_outside_todays_bounds_is_still_countersigned(
    manual: Api, workspace_id: str
) -> None:
    """A version made before the bounds existed (here: its frozen 96 hours) was signed as it
    was; the countersignature completes it with the same figures, never refusing them."""
    issued = issue(manual, workspace_id)
    with manual.session() as s:
        version = s.scalar(
            update(AgreementVersion)
            .where(AgreementVersion.agreement_id == issued.agreement_id)
            .values(
                terms={
                    "breach_notice_hours": 96,
                    "subprocessor_notice_days": 30,
                    "return_deletion_days": 365,
                    "audit_notice_days": 30,
                    "governing_law": "Latvia",
                    "courts": "Riga, Latvia",
                }
            )
            .returning(AgreementVersion.id)
        )
        assert version is not None
        s.commit()
    assert sign(manual, issued).status_code == 303
    r = manual.client.post(
        f"{issued.version_path}/countersign",
        json={"name": "Marta Zariņa", "title": "Head of Legal"},
        headers=manual.headers("legal"),
    )
    assert r.status_code == 200, r.text
    assert version_state(manual, issued)["state"] == "completed"
    text = pdf_text(manual.client.get(f"{issued.path}/signed.pdf").content)
    assert "within 96 hours" in text
