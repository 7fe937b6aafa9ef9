"""Re-issue: after an approval every affected agreement gets one new version to sign, resumably.

These tests approve a new subprocessor list, which changes what every later DPA contains, so
they run on their own database rather than the shared `api` one.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from dpa_service.accounts.service import Principal
from dpa_service.agreements.models import Agreement, AgreementVersion, ReissueItem
from dpa_service.archive.base import version_key
from dpa_service.clauses import service as clauses
from dpa_service.clock import utcnow
from dpa_service.counterparties.models import Counterparty
from dpa_service.counterparties.service import details_sha256
from dpa_service.db import make_engine, make_session_factory
from dpa_service.ids import new_id
from dpa_service.notify.models import OutboundEmail
from dpa_service.reissue import service as reissue
from dpa_service.subprocessors import changes
from dpa_service.subprocessors import service as subprocessors
from dpa_service.subprocessors.models import SubprocessorListVersion
from dpa_service.subprocessors.schemas import EntryIn
from tests.conftest import (
    WORKSPACE,
    Api,
    _free_port,
    _postgres_database,
    make_api,
    own_api,
    workspace,
)
from tests.pdf_text import pdf_text
from tests.signing.helpers import issue, sign, version_state
from tests.staff import make_user, staff_client

NEW_ENTRY = EntryIn(
    name="Mailgun Technologies, Inc.",
    purpose="Transactional e-mail delivery",
    location="US",
    transfer_safeguard="SCCs (Module 3)",
)
AUTHOR = Principal(subject="user:author", name="Legal Author", role="legal")
REVIEWER = Principal(subject="user:reviewer", name="Legal Reviewer", role="legal")


def approve_new_subprocessor_list(
    session: Any, settings: Any, entry: EntryIn = NEW_ENTRY
) -> SubprocessorListVersion:
    """Legal adds Mailgun (or `entry`) to the list: draft, review, four-eyes approval."""
    current = subprocessors.current_approved(session=session)
    # every field an entry has (structured ones too), as the API would send them back
    entries = [
        msgspec.convert({k: v for k, v in e.items() if k != "in_eea"}, EntryIn)
        for e in current.entries
    ]
    draft = subprocessors.create_draft(
        session=session, author=AUTHOR, entries=[*entries, entry], change_note=entry.name
    )
    subprocessors.submit(session=session, number=draft.version, actor=AUTHOR)
    changes.approve_and_notify(
        session=session, number=draft.version, reviewer=REVIEWER, settings=settings
    )
    return draft


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fresh_api(
    request: pytest.FixtureRequest, pool: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    yield from own_api(request.param, pool, tmp_path_factory.mktemp(f"reissue-{request.param}"))


def _wait_finished(api: Api, reissue_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = api.client.get(f"/api/v1/reissues/{reissue_id}", headers=api.headers("legal")).json()
        if body["finished_at"]:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_reissue_makes_one_new_version_per_affected_agreement(fresh_api: Api) -> None:
    api = fresh_api
    completed = issue(api, "ws-reissue-done")
    assert sign(api, completed).status_code in (200, 303)
    sent = issue(api, "ws-reissue-sent", workspace(legal_name="SIA Otrā Firma"))
    assert version_state(api, completed)["state"] == "completed"

    # nothing is outdated yet: re-issue refuses and changes nothing
    refused = api.client.post(
        "/api/v1/reissues/", json={"reason": "x"}, headers=api.headers("legal")
    )
    assert refused.status_code == 409
    for role in ("sales", "app"):
        denied = api.client.post(
            "/api/v1/reissues/", json={"reason": "x"}, headers=api.headers(role)
        )
        assert denied.status_code == 403

    with api.session() as s:
        new_list = approve_new_subprocessor_list(s, api.settings)
        s.commit()
    affected = api.client.get("/api/v1/reissues/affected", headers=api.headers("legal")).json()
    assert set(affected["agreement_ids"]) == {completed.agreement_id, sent.agreement_id}
    assert (
        api.client.post(
            "/api/v1/reissues/", json={"reason": " "}, headers=api.headers("legal")
        ).status_code
        == 422
    )

    started = api.client.post(
        "/api/v1/reissues/",
        json={"reason": "Mailgun added as a subprocessor"},
        headers=api.headers("legal"),
    )
    assert started.status_code == 201, started.text
    body = _wait_finished(api, started.json()["id"])
    assert body["total"] == 2 and body["counts"]["done"] == 2

    with api.session() as s:
        for issued in (completed, sent):
            versions = s.scalars(
                select(AgreementVersion)
                .where(AgreementVersion.agreement_id == issued.agreement_id)
                .order_by(AgreementVersion.number)
            ).all()
            assert [v.number for v in versions] == [1, 2]
            newest = versions[-1]
            assert newest.state == "sent" and newest.subprocessor_list_version_id == new_list.id
        old = s.scalar(
            select(AgreementVersion).where(AgreementVersion.agreement_id == completed.agreement_id)
        )
        assert old is not None and old.state == "completed"  # in force until the new one is signed
        mails = s.scalars(select(OutboundEmail).where(OutboundEmail.kind == "dpa.reissue")).all()
    assert sorted(m.to_addr for m in mails) == sorted([WORKSPACE["signatory"]["email"]] * 2)
    assert all("/sign/" in m.text and "stays in force" in m.text for m in mails)

    # the mailed link opens the new version's signing page
    link = next(line for line in mails[0].text.splitlines() if "/sign/" in line).strip()
    page = api.client.get(link.replace(api.settings.public_url, ""))
    assert page.status_code == 200 and "Version 2" in page.text

    # a second re-issue finds nothing left to do
    again = api.client.post(
        "/api/v1/reissues/", json={"reason": "again"}, headers=api.headers("legal")
    )
    assert again.status_code == 409


# -- 200 agreements, a restart in the middle --------------------------------------------------


def _seed(session: Any, n: int) -> list[str]:
    """n agreements, each with a completed version made from the current approved words."""
    templates = clauses.current_approved(session=session).record()
    sp_list = subprocessors.current_approved(session=session)
    ids = []
    for i in range(n):
        details = workspace(legal_name=f"SIA Klients {i:03d}")
        party = Counterparty(
            kind="workspace",
            external_id=f"ws-bulk-{i:03d}",
            details=details,
            details_sha256=details_sha256(details),
        )
        session.add(party)
        session.flush()
        agreement = Agreement(counterparty_id=party.id)
        session.add(agreement)
        session.flush()
        now = utcnow()
        session.add(
            AgreementVersion(
                agreement_id=agreement.id,
                number=1,
                state="completed",
                counterparty_snapshot=details,
                counterparty_sha256=details_sha256(details),
                template_versions=templates,
                terms=None,
                subprocessor_list_version_id=sp_list.id,
                subprocessor_list_version=sp_list.version,
                draft_pdf_key=version_key(agreement.id, 1, "draft.pdf"),
                draft_pdf_sha256=hashlib.sha256(new_id().encode()).hexdigest(),
                pages=10,
                sent_at=now,
                signed_at=now,
                completed_at=now,
            )
        )
        ids.append(agreement.id)
    session.flush()
    return ids


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "dpa-service"), "serve"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _done(engine: Any) -> int:
    with make_session_factory(engine)() as s:
        return (
            s.scalar(
                select(func.count()).select_from(ReissueItem).where(ReissueItem.state == "done")
            )
            or 0
        )


def _backend_for_the_bulk_test() -> str:
    """PostgreSQL (production's database) when reachable, else SQLite: the bulk run is long, so
    it runs once; the behaviour on both databases is covered by the test above."""
    import psycopg

    from tests.conftest import PG_URL, REQUIRE_PG

    if REQUIRE_PG:
        return "postgresql"
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError:
        return "sqlite"
    return "postgresql"


@pytest.mark.slow
def test_reissue_of_200_agreements_survives_a_restart(tmp_path: Path, pool: Any) -> None:
    n = 200
    backend = _backend_for_the_bulk_test()
    url_source: Iterator[str] = (
        iter([f"sqlite:///{tmp_path / 'dpa.sqlite3'}"])
        if backend == "sqlite"
        else _postgres_database()
    )
    for url in url_source:
        # no job thread sweeping here: only the server started below does the work
        for api in make_api(backend, url, tmp_path, pool, sweep_seconds=3600):
            with api.session() as s:
                agreement_ids = _seed(s, n)
                approve_new_subprocessor_list(s, api.settings)
                s.flush()
                reissue_id = reissue.start_reissue(
                    session=s, actor="test", reason="Mailgun added"
                ).id
                s.commit()
            legal_token = api.tokens["legal"]
        engine = make_engine(url)
        port = _free_port()
        env = {
            **os.environ,
            "DPA_DATABASE_URL": url,
            "DPA_DATA_DIR": str(tmp_path / "data"),
            "DPA_ARCHIVE_DIR": str(tmp_path / "signed"),
            "DPA_PORT": str(port),
            "DPA_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "DPA_SWEEP_SECONDS": "0.2",
            # items the killed server had claimed are handed out again after this
            "DPA_JOB_TIMEOUT_SECONDS": "20",
            "DPA_CONVERTER_WORKERS": "2",
        }
        log = tmp_path / "serve.log"
        began = time.monotonic()
        server = _serve(env, log)
        deadline = time.monotonic() + 300
        while _done(engine) < n // 4:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        os.killpg(server.pid, signal.SIGKILL)  # no clean shutdown: mid-render, mid-transaction
        server.wait(10)
        interrupted_at = _done(engine)
        assert interrupted_at < n

        server = _serve(env, log)
        try:
            while True:
                with make_session_factory(engine)() as s:
                    left = s.scalar(
                        select(func.count())
                        .select_from(ReissueItem)
                        .where(ReissueItem.state.in_(("pending", "working")))
                    )
                if not left:
                    break
                assert server.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline + 300, log.read_text()[-3000:]
                time.sleep(0.5)
            elapsed = time.monotonic() - began
            progress = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/reissues/{reissue_id}",
                headers={"Authorization": f"Bearer {legal_token}"},
            ).json()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)

        with make_session_factory(engine)() as s:
            versions = s.execute(
                select(
                    AgreementVersion.agreement_id, AgreementVersion.number, AgreementVersion.state
                )
            ).all()
            mails = s.scalar(
                select(func.count())
                .select_from(OutboundEmail)
                .where(OutboundEmail.kind == "dpa.reissue")
            )
        by_agreement: dict[str, list[tuple[int, str]]] = {}
        for agreement_id, number, state in versions:
            by_agreement.setdefault(agreement_id, []).append((number, state))
        assert set(by_agreement) == set(agreement_ids)
        # each agreement: its completed version 1 untouched, exactly one new version 2 sent
        assert all(sorted(v) == [(1, "completed"), (2, "sent")] for v in by_agreement.values())
        assert mails == n
        assert progress["counts"]["done"] == n and progress["finished_at"]
        print(  # noqa: T201 - the figure for the closing note
            f"\nre-issue of {n} agreements on {backend}: {elapsed:.1f} s "
            f"(killed after {interrupted_at} done, resumed)"
        )
        engine.dispose()


def test_an_unsent_draft_from_an_older_list_is_replaced_on_the_next_request(
    fresh_api: Api,
) -> None:
    """The README promises that the next DPA uses the newly approved list: a draft nobody was
    sent yet is not handed out again once its list is superseded, even with the same details."""
    api = fresh_api
    workspace_id = f"ws-stale-{new_id()[:8]}"
    assert api.put_workspace(workspace_id, workspace()).status_code == 201
    first = api.request_dpa(workspace_id).json()
    assert api.request_dpa(workspace_id).status_code == 200  # unchanged: the same draft
    sent_id = f"ws-stale-sent-{new_id()[:8]}"
    sent = issue(api, sent_id)  # another workspace's DPA, out for signature

    added = msgspec.structs.replace(NEW_ENTRY, name=f"Stale Check Mail {new_id()[:6]}")
    with api.session() as s:
        new_list = approve_new_subprocessor_list(s, api.settings, added)
        s.commit()

    again = api.request_dpa(workspace_id)
    assert again.status_code == 201, again.text  # a new version, not the stale draft
    body = again.json()
    assert body["version"] == first["version"] + 1
    assert body["subprocessor_list_version"] == new_list.version
    pdf = api.client.get(body["download_url"], headers=api.headers()).content
    assert added.name in pdf_text(pdf)
    with api.session() as s:
        replaced = s.scalars(
            select(AgreementVersion).where(
                AgreementVersion.agreement_id == first["agreement_id"],
                AgreementVersion.number == first["version"],
            )
        ).one()
        assert (replaced.state, replaced.state_reason) == (
            "voided",
            f"replaced by version {body['version']}",
        )
    assert api.request_dpa(workspace_id).status_code == 200  # the new one holds

    # A version out for signature is not swapped under its signatory (re-issue does that, and
    # tells them): the same request answers with it.
    kept = api.request_dpa(sent_id)
    assert kept.status_code == 200
    assert (kept.json()["version"], kept.json()["state"]) == (sent.version, "sent")


def test_a_draft_from_an_older_list_gets_no_signing_link(fresh_api: Api) -> None:
    """A signing link (the app's, or the staff page's "New signing link") would hand out the
    stale draft the next request replaces: it is refused until the DPA is requested again."""
    api = fresh_api
    workspace_id = f"ws-stale-link-{new_id()[:8]}"
    assert api.put_workspace(workspace_id, workspace()).status_code in (200, 201)
    first = api.request_dpa(workspace_id).json()
    added = msgspec.structs.replace(NEW_ENTRY, name=f"Stale Link Mail {new_id()[:6]}")
    with api.session() as s:
        approve_new_subprocessor_list(s, api.settings, added)
        s.commit()

    def link(version: int) -> Any:
        return api.client.post(
            f"/api/v1/agreements/{first['agreement_id']}/versions/{version}/signing-links",
            json={"embedded": True, "workspace_id": workspace_id},
            headers=api.headers(),
        )

    sales = staff_client(api, *make_user(api, "sales"))
    page = sales.get(f"/staff/agreements/{first['agreement_id']}").text
    assert 'id="outdated"' in page and 'id="new-link-button"' not in page
    refused = link(first["version"])
    assert refused.status_code == 409, refused.text
    assert "request the DPA again" in refused.json()["detail"]
    with api.session() as s:
        assert (
            s.scalar(
                select(AgreementVersion.state).where(
                    AgreementVersion.agreement_id == first["agreement_id"],
                    AgreementVersion.number == first["version"],
                )
            )
            == "draft"
        )
    again = api.request_dpa(workspace_id)
    assert again.status_code == 201, again.text
    assert link(again.json()["version"]).status_code == 201
