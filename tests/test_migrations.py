"""Migrations: `dpa-service migrate` builds the schema; the app will not start without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dpa_service import migrations
from dpa_service.app import create_app
from dpa_service.clauses.models import TemplateVersion
from dpa_service.cli import main
from dpa_service.config import Settings
from dpa_service.db import make_engine, make_session_factory
from dpa_service.subprocessors.models import SubprocessorListVersion
from tests.conftest import Api


def test_the_app_refuses_to_start_on_an_unmigrated_database(tmp_path: Path, pool) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_env(data_dir=tmp_path, archive_dir=tmp_path / "signed")
    with pytest.raises(migrations.NotMigrated, match="Run `dpa-service migrate` first"):
        create_app(settings, pool=pool)


def test_serve_on_an_unmigrated_database_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPA_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "dpa-service migrate" in result.output


def test_first_migration_registers_the_builtin_set_as_approved_v1(api: Api) -> None:
    with api.session() as s:
        rows = s.scalars(select(TemplateVersion)).all()
        lists = s.scalars(select(SubprocessorListVersion)).all()
    builtin = {r.template_key: r for r in rows if r.author == "built-in"}
    assert set(builtin) == {"master", "security", "confidentiality", "subprocessors"}
    assert all(
        r.version == 1 and r.state == "approved" and len(r.sha256) == 64 for r in builtin.values()
    )
    assert lists[0].version == 1 and lists[0].state == "approved" and len(lists[0].entries) >= 6


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrations.upgrade(engine)
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    with make_session_factory(engine)() as s:
        assert len(s.scalars(select(TemplateVersion)).all()) == 4


def test_the_migrations_build_exactly_the_tables_the_models_describe(api: Api) -> None:
    """A model changed without a migration (or the reverse) would fail on a real database."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from dpa_service.models import Base

    with api.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
