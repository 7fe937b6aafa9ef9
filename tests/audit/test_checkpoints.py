"""The audit chain anchored outside the database: signed checkpoints in the write-once archive
(at every completion and at an interval), and `verify --audit` finding what someone who can
write the database did to the events they cover — or to what the sealed certificates print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from dpa_service import audit, migrations
from dpa_service.agreements.models import Agreement
from dpa_service.archive.local import LocalArchive
from dpa_service.archive.models import ArchiveObject
from dpa_service.archive.service import CHECKPOINT_PREFIX
from dpa_service.audit.checkpoints import checkpoint_due, write_due_checkpoint
from dpa_service.audit.models import AuditCheckpoint, AuditEvent
from dpa_service.audit.service import _digest
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import make_engine, make_session_factory
from dpa_service.jobs.context import JobContext
from dpa_service.jobs.periodic import archive_pending
from dpa_service.rendering.converter import ConverterPool
from dpa_service.runtime import make_sealer
from dpa_service.signing.seal_check import inspect_detached
from tests.conftest import Api, _postgres_database, own_api
from tests.signing.helpers import Issued, issue, sign, version_state


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def anchored(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The service on a database of its own (its chains get rewritten here), checkpointing at
    completions only, so what a test sees anchored is what its completion anchored."""
    tmp = tmp_path_factory.mktemp(f"anchored-{request.param}")
    yield from own_api(request.param, pool, tmp, audit_checkpoint_minutes=0)


def _verify_audit(api: Api) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DPA_DATABASE_URL": api.settings.database_url,
        "DPA_DATA_DIR": str(api.settings.data_dir),
        "DPA_ARCHIVE_DIR": str(api.settings.archive_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", "verify", "--audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _events(api: Api, agreement_id: str) -> list[AuditEvent]:
    with api.session() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.agreement_id == agreement_id)
                .order_by(AuditEvent.seq)
            )
        )


def _completed_and_anchored(api: Api, workspace_id: str) -> Issued:
    """A completed agreement, once a checkpoint covering its completion is in the archive."""
    issued = issue(api, workspace_id)
    assert sign(api, issued).status_code == 303
    assert version_state(api, issued)["state"] == "completed"
    completed = next(
        e.seq for e in _events(api, issued.agreement_id) if e.type == "version.completed"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with api.session() as s:
            anchored_seq = s.scalar(
                select(Agreement.anchored_seq).where(Agreement.id == issued.agreement_id)
            )
            waiting = s.scalar(
                select(ArchiveObject.id).where(
                    ArchiveObject.key.startswith(CHECKPOINT_PREFIX),
                    ArchiveObject.state != "stored",
                )
            )
        if anchored_seq is not None and anchored_seq >= completed and waiting is None:
            return issued
        time.sleep(0.1)
    raise AssertionError("no checkpoint anchored the completion")


def _mentions(result: subprocess.CompletedProcess[str], agreement_id: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if agreement_id in line]


def _rehash_from(api: Api, agreement_id: str, seq: int) -> None:
    """What someone with database access does to hide an edit: recompute every hash from
    `seq` on, and the head."""
    with api.session() as s:
        events = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.agreement_id == agreement_id)
            .order_by(AuditEvent.seq)
        ).all()
        prev = events[seq - 2].hash if seq > 1 else audit.service.GENESIS
        for event in events[seq - 1 :]:
            event.prev_hash = prev
            event.hash = prev = _digest(event)
        s.execute(
            update(Agreement)
            .where(Agreement.id == agreement_id)
            .values(audit_head=prev, audit_seq=events[-1].seq, anchored_seq=events[-1].seq)
        )
        s.commit()


def test_a_completion_is_anchored_by_a_signed_checkpoint_in_the_archive(anchored: Api) -> None:
    issued = _completed_and_anchored(anchored, "anchored-ws")
    result = _verify_audit(anchored)
    assert not _mentions(result, issued.agreement_id), result.stdout
    assert "0 problems" in result.stdout.splitlines()[-1]

    archive = LocalArchive(anchored.settings.archive_dir)
    keys = archive.list_keys(CHECKPOINT_PREFIX)
    latest = max(k for k in keys if k.endswith(".json"))
    body = archive.get(latest)
    content = json.loads(body)
    head = content["heads"][issued.agreement_id]
    events = _events(anchored, issued.agreement_id)
    anchored_event = next(e for e in events if e.seq == head["seq"])
    assert head["head"] == anchored_event.hash and head["events"] == head["seq"]
    assert content["reason"] == "completion" and content["created_at"].endswith("Z")
    sealer = make_sealer(anchored.settings, with_timestamps=False)
    check = inspect_detached(body, archive.get(latest + ".p7s"), sealer.trust_roots)
    assert check.ok and check.signer == sealer.signer_name
    assert not inspect_detached(body + b" ", archive.get(latest + ".p7s"), sealer.trust_roots).ok


def test_an_edited_event_with_the_rest_rehashed_is_reported(anchored: Api) -> None:
    issued = _completed_and_anchored(anchored, "rehashed-ws")
    events = _events(anchored, issued.agreement_id)
    viewed = next(e for e in events if e.type == "version.viewed")
    with anchored.session() as s:
        s.execute(
            update(AuditEvent)
            .where(AuditEvent.id == viewed.id)
            .values(data={**viewed.data, "ip": "10.9.9.9"})
        )
        s.commit()
    _rehash_from(anchored, issued.agreement_id, viewed.seq)

    result = _verify_audit(anchored)

    assert result.returncode == 1
    lines = _mentions(result, issued.agreement_id)
    # the rehashed chain itself is consistent: only the anchors can tell
    assert not any(
        "altered after it was written" in line or "does not follow" in line for line in lines
    )
    assert any("no longer has the hash checkpoint" in line for line in lines), result.stdout
    # the sealed certificate printed the event as it was
    assert any(
        "sealed certificate (version.viewed" in line and "not in the database" in line
        for line in lines
    ), result.stdout


def test_deleted_last_events_and_a_head_moved_back_are_reported(anchored: Api) -> None:
    issued = _completed_and_anchored(anchored, "cut-ws")
    events = _events(anchored, issued.agreement_id)
    kept = events[:-2]
    with anchored.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in events[-2:]])))
        s.execute(
            update(Agreement)
            .where(Agreement.id == issued.agreement_id)
            .values(audit_seq=kept[-1].seq, audit_head=kept[-1].hash, anchored_seq=kept[-1].seq)
        )
        s.commit()

    result = _verify_audit(anchored)

    assert result.returncode == 1
    lines = _mentions(result, issued.agreement_id)
    # the chain itself is consistent: only the checkpoint can tell
    assert not any(": does not follow" in line or "recorded head" in line for line in lines)
    assert any(
        f"the chain ends at event {kept[-1].seq}" in line and "head moved back" in line
        for line in lines
    ), result.stdout


def test_a_forged_checkpoint_is_refused(anchored: Api, tmp_path: Path) -> None:
    issued = _completed_and_anchored(anchored, "forged-ws")
    archive_dir = anchored.settings.archive_dir
    key = max(LocalArchive(archive_dir).list_keys(CHECKPOINT_PREFIX))
    key = key.removesuffix(".p7s")
    path = Path(archive_dir, *key.split("/"))
    original = path.read_bytes()
    content = json.loads(original)
    content["heads"][issued.agreement_id]["seq"] -= 1
    path.chmod(0o644)
    path.write_bytes(json.dumps(content).encode())
    try:
        result = _verify_audit(anchored)
        assert result.returncode == 1
        assert f"checkpoint {key} is not validly signed" in result.stdout
    finally:
        path.write_bytes(original)


# -- writing them: due, once, by one worker -----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def jobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobContext]:
    """A job context on a database with one agreement and its chain, and no app running."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'jobs.sqlite3'}"])
    else:
        urls = _postgres_database()
    for url in urls:
        settings = Settings.from_env(
            data_dir=tmp_path / "data", database_url=url, archive_dir=tmp_path / "signed"
        )
        engine = make_engine(settings.database_url)
        migrations.upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as s:
            party = Counterparty(
                kind="workspace", external_id="ws-jobs", details={}, details_sha256="0" * 64
            )
            s.add(party)
            s.flush()
            s.add(Agreement(id="a" * 36, counterparty_id=party.id))
            s.flush()
            for n in range(3):
                audit.record(
                    session=s, agreement_id="a" * 36, type=f"step.{n}", actor="test", data={}
                )
            s.commit()
        sealer = make_sealer(settings)
        yield JobContext(factory, LocalArchive(settings.archive_dir), settings, None, sealer)
        engine.dispose()


def _checkpoints(ctx: JobContext) -> list[AuditCheckpoint]:
    with ctx.session_factory() as s:
        return list(s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.number)))


def _append(ctx: JobContext, kind: str) -> None:
    with ctx.session_factory() as s:
        audit.record(session=s, agreement_id="a" * 36, type=kind, actor="test", data={})
        s.commit()


def test_two_workers_at_once_write_one_checkpoint_and_then_none_until_chains_grow(
    jobs: JobContext,
) -> None:
    results: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        results.append(write_due_checkpoint(jobs))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(results) == [0, 1]
    (first,) = _checkpoints(jobs)
    assert first.number == 1 and first.reason == "interval" and first.agreements == 1
    assert write_due_checkpoint(jobs) == 0  # nothing grew
    archive_pending(jobs)
    assert sorted(LocalArchive(jobs.settings.archive_dir).list_keys(CHECKPOINT_PREFIX)) == [
        first.key,
        first.key + ".p7s",
    ]

    _append(jobs, "step.more")
    now = utcnow()
    with jobs.session_factory() as s:
        interval = timedelta(minutes=jobs.settings.audit_checkpoint_minutes)
        assert checkpoint_due(session=s, interval=interval, now=now) is None  # not yet
        assert checkpoint_due(session=s, interval=interval, now=now + interval) == "interval"
    _append(jobs, "version.completed")  # a completion does not wait for the interval
    assert write_due_checkpoint(jobs, now=now) == 1
    second = _checkpoints(jobs)[-1]
    assert (second.number, second.reason) == (2, "completion")
    with jobs.session_factory() as s:
        obj = s.scalars(select(ArchiveObject).where(ArchiveObject.key == second.key)).one()
        content: dict[str, Any] = json.loads(obj.content or b"{}")
    assert content["previous"] == {"number": 1, "key": first.key, "sha256": first.sha256}
    assert content["heads"]["a" * 36]["seq"] == 5


def test_an_event_committed_while_a_checkpoint_is_written_is_not_counted_in_it(
    anchored: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the topology run: on PostgreSQL another request committed an event between the
    checkpoint reading the chain heads and counting the events, so the checkpoint counted one
    more event than it anchored, and `verify --audit` reported the chain BROKEN."""
    from dpa_service.audit import checkpoints

    issued = _completed_and_anchored(anchored, "raced-ws")
    with anchored.session() as s:
        seq, head = audit.service.head(session=s, agreement_id=issued.agreement_id)
    read_heads = checkpoints._unanchored

    def heads_then_an_event_elsewhere(session: Any) -> list[tuple[str, int, str]]:
        heads = read_heads(session)
        with anchored.session() as other:  # another request, committing meanwhile
            audit.service.record(
                session=other,
                agreement_id=issued.agreement_id,
                type="version.viewed",
                actor="test:race",
                version=1,
            )
            other.commit()
        return [*heads, (issued.agreement_id, seq, head)]

    monkeypatch.setattr(checkpoints, "_unanchored", heads_then_an_event_elsewhere)
    sealer = make_sealer(anchored.settings, with_timestamps=False)
    with anchored.session() as s:
        written = checkpoints.write_checkpoint(session=s, sealer=sealer, reason="interval")
        assert written is not None
        s.commit()
    monkeypatch.undo()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with anchored.session() as s:
            state = s.scalar(select(ArchiveObject.state).where(ArchiveObject.key == written.key))
        if state == "stored":
            break
        time.sleep(0.1)
    body = json.loads(LocalArchive(anchored.settings.archive_dir).get(written.key))
    assert body["heads"][issued.agreement_id] == {"seq": seq, "head": head, "events": seq}
    result = _verify_audit(anchored)
    assert not _mentions(result, issued.agreement_id), result.stdout
