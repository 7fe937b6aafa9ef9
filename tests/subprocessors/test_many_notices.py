"""Approval with many counterparties: one notice and one e-mail each, made in batches inside the
approval's transaction (service level, on a database of its own, so no mail is sent)."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
from sqlalchemy import func, select

from dpa_service import migrations
from dpa_service.accounts.service import Principal
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.config import Settings
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import make_engine, make_session_factory
from dpa_service.notify.models import OutboundEmail
from dpa_service.subprocessors import changes, service
from dpa_service.subprocessors.models import SubprocessorNotice
from dpa_service.subprocessors.schemas import EntryIn
from tests.conftest import workspace

AUTHOR = Principal(subject="user:author", name="Lena Legal", role="legal")
REVIEWER = Principal(subject="user:reviewer", name="Rita Reviewer", role="legal")
COUNT = 1201  # more than two batches


def test_every_completed_counterparty_gets_exactly_one_notice(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'many.sqlite3'}")
    migrations.upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as s:
        current = service.current_approved(session=s)
        for i in range(COUNT + 10):
            details = workspace(
                signatory={"name": "S", "title": "CEO", "email": f"ws{i}@example.lv"}
            )
            cp = Counterparty(
                kind="workspace", external_id=f"ws{i}", details=details, details_sha256="0" * 64
            )
            s.add(cp)
            s.flush()
            agreement = Agreement(counterparty_id=cp.id)
            s.add(agreement)
            s.flush()
            # the last ten only have a draft
            s.add(
                AgreementVersion(
                    agreement_id=agreement.id,
                    number=1,
                    state="completed" if i < COUNT else "draft",
                    counterparty_snapshot=details,
                    counterparty_sha256="0" * 64,
                    template_versions={},
                    subprocessor_list_version_id=current.id,
                    subprocessor_list_version=current.version,
                    draft_pdf_key=f"k{i}",
                    draft_pdf_sha256="0" * 64,
                    pages=1,
                )
            )
        s.commit()

        entries = [
            msgspec.convert({k: v for k, v in e.items() if k != "in_eea"}, EntryIn)
            for e in current.entries
        ]
        entries.append(
            EntryIn(name="New Vendor", purpose="Surveys", location="IE", transfer_safeguard="EEA")
        )
        draft = service.create_draft(session=s, author=AUTHOR, entries=entries)
        service.submit(session=s, number=draft.version, actor=AUTHOR)
        s.commit()

        started = time.monotonic()
        done = changes.approve_and_notify(
            session=s, number=draft.version, reviewer=REVIEWER, settings=Settings()
        )
        s.commit()
        elapsed = time.monotonic() - started
        print(f"approval with {COUNT} notices: {elapsed:.2f}s")

        assert done.change.notices == COUNT
        notices = s.scalar(
            select(func.count(func.distinct(SubprocessorNotice.counterparty_id))).where(
                SubprocessorNotice.change_id == done.change.id
            )
        )
        mails = s.scalars(
            select(OutboundEmail.to_addr).where(OutboundEmail.ref == done.change.id)
        ).all()
        assert notices == COUNT == len(mails) == len(set(mails))
        assert f"ws{COUNT}@example.lv" not in mails  # a draft only: no notice
    engine.dispose()
