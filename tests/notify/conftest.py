"""A migrated database per backend (shared by the module, emptied for each test) and helpers
to put messages in the outbox and read back what happened to them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from dpa_service import migrations
from dpa_service.archive.local import LocalArchive
from dpa_service.config import Settings
from dpa_service.db import make_engine, make_session_factory
from dpa_service.jobs.context import JobContext
from dpa_service.notify import outbox
from dpa_service.notify.models import EmailAttempt, OutboundEmail
from tests.conftest import _postgres_database


@dataclass
class Mailroom:
    backend: str
    engine: Engine
    settings: Settings

    def ctx(self, **changes: Any) -> JobContext:
        settings = self.settings.with_(**changes)
        return JobContext(
            make_session_factory(self.engine), LocalArchive(settings.archive_dir), settings
        )

    def smtp(self, server: Any, **changes: Any) -> JobContext:
        """Deliver to the loopback server `server`, in clear text (it has no STARTTLS)."""
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_starttls": False,
        }
        return self.ctx(**{**values, **changes})

    def enqueue(self, **fields: Any) -> OutboundEmail:
        values: dict[str, Any] = {
            "to": "eriks@example.lv",
            "subject": "Your Data Processing Agreement",
            "text": "Please sign.\n",
            "kind": "test",
        }
        values.update(fields)
        with make_session_factory(self.engine)() as session:
            row = outbox.enqueue(session=session, **values)
            session.commit()
        return row

    def row(self, email_id: str) -> OutboundEmail:
        with make_session_factory(self.engine)() as session:
            return session.get_one(OutboundEmail, email_id)

    def attempts(self, email_id: str) -> list[EmailAttempt]:
        with make_session_factory(self.engine)() as session:
            return list(
                session.scalars(
                    select(EmailAttempt)
                    .where(EmailAttempt.email_id == email_id)
                    .order_by(EmailAttempt.at)
                )
            )


def _database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'mail.sqlite3'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mailroom_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Engine, Path]]:
    tmp = tmp_path_factory.mktemp(f"mail-{request.param}")
    for url in _database(request.param, tmp):
        engine = make_engine(Settings(database_url=url).database_url)
        migrations.upgrade(engine)
        yield request.param, engine, tmp
        engine.dispose()


@pytest.fixture
def mailroom(mailroom_db: tuple[str, Engine, Path], tmp_path: Path) -> Mailroom:
    backend, engine, _ = mailroom_db
    with make_session_factory(engine)() as session:
        session.execute(delete(EmailAttempt))
        session.execute(delete(OutboundEmail))
        session.commit()
    settings = Settings.from_env(
        data_dir=tmp_path / "data",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        archive_dir=tmp_path / "signed",
        mail_from="Klusaro DPA <dpa@klusaro.com>",
        mail_return_path="",
        smtp_host="",
        smtp_timeout_s=5.0,
        mail_max_attempts=12,
    )
    return Mailroom(backend, engine, settings)
