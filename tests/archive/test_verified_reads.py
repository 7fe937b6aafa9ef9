"""Every download of an archived PDF is the recorded bytes, or nothing: a replaced file in the
local archive, or a version written over an S3 object, is refused with a 503, logged with both
hashes, and reported as an `archive.integrity_failed` audit event and webhook; where a copy
that matches is still at hand (the recorded S3 version, the staged bytes), it is served."""

from __future__ import annotations

import hashlib
import logging
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dpa_service.agreements.models import AgreementVersion
from dpa_service.archive.models import ArchiveObject
from dpa_service.audit.models import AuditEvent
from dpa_service.clock import utcnow
from dpa_service.signing.links import issue_link
from dpa_service.webhooks.models import WebhookEvent
from tests.archive.conftest import MotoS3, cli
from tests.conftest import Api, wait_archived
from tests.signing.helpers import Issued, issue, sign, version_state

INTEGRITY = "archive.integrity_failed"


@dataclass
class Routes:
    """Every way a completed agreement's PDFs are downloaded, by path and the headers to send."""

    api_draft: str
    api_completed: str
    signing_document: str
    signed_copy: str
    emailed_copy: str

    def all(self) -> dict[str, str]:
        return dict(vars(self))


def _completed(api: Api, workspace_id: str) -> tuple[Issued, dict[str, Any]]:
    issued = issue(api, workspace_id)
    assert sign(api, issued).status_code == 303
    state = version_state(api, issued)
    assert state["state"] == "completed"
    wait_archived(api, issued.agreement_id, issued.version)
    return issued, state


def _routes(api: Api, issued: Issued) -> Routes:
    """The API downloads, the signing page's document and signed copy, and an e-mailed copy
    link (a `copy` link, as completion e-mails to both sides of a DPA sent by e-mail)."""
    with api.session() as s:
        version = s.scalars(
            select(AgreementVersion).where(
                AgreementVersion.agreement_id == issued.agreement_id,
                AgreementVersion.number == issued.version,
            )
        ).one()
        agreement_counterparty = version.agreement.counterparty_id
        _, secret = issue_link(
            session=s,
            version=version,
            counterparty_id=agreement_counterparty,
            kind="copy",
            created_by="system",
            expires_at=utcnow() + timedelta(days=1),
            used_at=utcnow(),
        )
        s.commit()
    return Routes(
        api_draft=f"{issued.version_path}/pdf",
        api_completed=f"{issued.version_path}/completed.pdf",
        signing_document=f"{issued.path}/document.pdf",
        signed_copy=f"{issued.path}/signed.pdf",
        emailed_copy=f"/sign/{secret}/signed.pdf",
    )


def _get(api: Api, path: str) -> Any:
    headers = api.headers() if path.startswith("/api/") else {}
    return api.client.get(path, headers=headers, follow_redirects=False)


def _reports(api: Api, agreement_id: str) -> tuple[list[AuditEvent], list[WebhookEvent]]:
    with api.session() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.agreement_id == agreement_id, AuditEvent.type == INTEGRITY
            )
        ).all()
        hooks = [
            w
            for w in s.scalars(select(WebhookEvent).where(WebhookEvent.type == INTEGRITY)).all()
            if w.data["agreement_id"] == agreement_id
        ]
    return list(events), hooks


def _replace_file(api: Api, key: str, data: bytes) -> None:
    path = Path(api.settings.archive_dir, *key.split("/"))
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)  # the archive leaves its files read-only
    path.write_bytes(data)


class _Lines(logging.Handler):
    """Error lines of the archive service, collected on its own logger (an app made inside a
    test reconfigures the root logger, taking pytest's capture with it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def error_log() -> Iterator[list[str]]:
    handler = _Lines()
    logger = logging.getLogger("dpa_service.archive.service")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def _expect_refused(response: Any) -> None:
    assert response.status_code == 503, response.text[:300]
    assert not response.content.startswith(b"%PDF")
    assert "being checked" in response.text


def test_a_replaced_local_file_is_refused_logged_and_reported_on_every_route(
    api: Api, workspace_id: str, error_log: list[str]
) -> None:
    issued, state = _completed(api, workspace_id)
    routes = _routes(api, issued)
    for name, path in routes.all().items():
        response = _get(api, path)
        assert response.status_code == 200, (name, response.text[:200])
        assert response.content.startswith(b"%PDF")
    bogus = b"%PDF-1.7\n% not the agreement that was signed\n"
    prefix = f"agreements/{issued.agreement_id}/v{issued.version}"
    _replace_file(api, f"{prefix}/draft.pdf", bogus)
    _replace_file(api, f"{prefix}/completed.pdf", bogus)

    for path in routes.all().values():
        _expect_refused(_get(api, path))

    found = hashlib.sha256(bogus).hexdigest()
    logged = [line for line in error_log if "integrity failed" in line]
    for artifact, recorded in (
        ("draft.pdf", issued.sha256),
        ("completed.pdf", state["completed_sha256"]),
    ):
        line = next(m for m in logged if f"{prefix}/{artifact}" in m)
        assert recorded in line and found in line
    events, hooks = _reports(api, issued.agreement_id)
    # one report per object and finding, however often it is downloaded
    assert sorted(e.data["artifact"] for e in events) == ["completed.pdf", "draft.pdf"]
    assert all(e.data["found_sha256"] == found and e.data["problem"] == "altered" for e in events)
    assert sorted(h.data["artifact"] for h in hooks) == ["completed.pdf", "draft.pdf"]

    result = cli(["verify", "--archive"], api)
    assert result.returncode == 1
    assert f"ALTERED {prefix}/completed.pdf: sha256 {found} != recorded" in result.stdout


def test_other_bytes_found_under_the_key_leave_the_staged_copy_served(
    api: Api, workspace_id: str
) -> None:
    issued = issue(api, workspace_id)
    wait_archived(api, issued.agreement_id, issued.version)
    # something wrote the completed PDF's key before the service could
    key = f"agreements/{issued.agreement_id}/v{issued.version}/completed.pdf"
    squatter = Path(api.settings.archive_dir, *key.split("/"))
    squatter.write_bytes(b"%PDF-1.7\n% written by someone else\n")
    assert sign(api, issued).status_code == 303
    state = version_state(api, issued)

    deadline = time.monotonic() + 30
    while True:  # until the archive job finds the key taken
        with api.session() as s:
            row = s.scalars(select(ArchiveObject).where(ArchiveObject.key == key)).one()
        if row.state == "failed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert row.state == "failed", row.last_error
    response = _get(api, f"{issued.version_path}/completed.pdf")
    assert response.status_code == 200  # the genuine bytes, from staging
    assert hashlib.sha256(response.content).hexdigest() == state["completed_sha256"]
    events, hooks = _reports(api, issued.agreement_id)
    assert [e.data["problem"] for e in events] == ["other bytes under the key"]
    assert len(hooks) == 1


# --- S3 ----------------------------------------------------------------------------------------


def test_a_version_written_over_an_s3_object_is_reported_and_the_recorded_one_served(
    s3: MotoS3,
    s3_app: Any,
) -> None:
    for api in s3_app():  # Object Lock: the recorded version cannot be deleted
        issued, state = _completed(api, "s3-replaced-ws")
        key = f"agreements/{issued.agreement_id}/v{issued.version}/completed.pdf"
        forged = b"%PDF-1.7\n% a forged agreement\n"
        s3.client().put_object(Bucket=s3_app.bucket, Key=key, Body=forged)

        for path in (f"{issued.version_path}/completed.pdf", f"{issued.path}/signed.pdf"):
            response = _get(api, path)
            assert response.status_code == 200
            assert hashlib.sha256(response.content).hexdigest() == state["completed_sha256"]
        events, hooks = _reports(api, issued.agreement_id)
        assert [e.data["problem"] for e in events] == ["replaced"]
        assert len(hooks) == 1

        result = cli(["verify", "--archive"], api)
        assert result.returncode == 1
        forged_sha = hashlib.sha256(forged).hexdigest()
        assert f"REPLACED {key}: version" in result.stdout
        assert f"with sha256 {forged_sha} written over the recorded version" in result.stdout


def test_an_s3_object_whose_recorded_version_is_gone_is_refused_on_every_route(
    s3: MotoS3, s3_app: Any, error_log: list[str]
) -> None:
    # Without Object Lock the recorded version can be removed and another written in its place.
    for api in s3_app(s3_object_lock_mode="none"):
        issued, state = _completed(api, "s3-gone-ws")
        routes = _routes(api, issued)
        client, bucket = s3.client(), s3_app.bucket
        with api.session() as s:
            recorded = {
                o.artifact: o.version_id
                for o in s.scalars(
                    select(ArchiveObject).where(ArchiveObject.agreement_id == issued.agreement_id)
                )
            }
        prefix = f"agreements/{issued.agreement_id}/v{issued.version}"
        for artifact in ("draft.pdf", "completed.pdf"):
            client.delete_object(
                Bucket=bucket, Key=f"{prefix}/{artifact}", VersionId=recorded[artifact]
            )
            client.put_object(Bucket=bucket, Key=f"{prefix}/{artifact}", Body=b"%PDF-1.7 forged")

        for path in routes.all().values():
            _expect_refused(_get(api, path))
        assert any(
            f"{prefix}/completed.pdf" in line and state["completed_sha256"] in line
            for line in error_log
        )
        events, hooks = _reports(api, issued.agreement_id)
        assert {e.data["problem"] for e in events} == {"missing"}
        assert sorted(h.data["artifact"] for h in hooks) == ["completed.pdf", "draft.pdf"]


def test_presigned_redirects_name_the_recorded_version_and_check_it_first(
    s3: MotoS3,
    s3_app: Any,
) -> None:
    for api in s3_app(s3_object_lock_mode="none", s3_presigned_downloads=True):
        issued, state = _completed(api, "s3-presigned-ws")
        path = f"{issued.version_path}/completed.pdf"
        key = f"agreements/{issued.agreement_id}/v{issued.version}/completed.pdf"
        s3.client().put_object(Bucket=s3_app.bucket, Key=key, Body=b"%PDF-1.7 forged")

        redirect = _get(api, path)
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert "versionId=" in location
        served = httpx.get(location, trust_env=False, timeout=10).content
        assert hashlib.sha256(served).hexdigest() == state["completed_sha256"]

        with api.session() as s:
            version_id = s.scalars(
                select(ArchiveObject.version_id).where(ArchiveObject.key == key)
            ).one()
        s3.client().delete_object(Bucket=s3_app.bucket, Key=key, VersionId=version_id)
        _expect_refused(_get(api, path))  # nothing to redirect to, nothing to send
        events, _ = _reports(api, issued.agreement_id)
        assert {e.data["problem"] for e in events} == {"replaced", "missing"}
