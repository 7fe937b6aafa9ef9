"""Migrations: `dpa-service migrate` builds the schema; the app will not start without it."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from dpa_service import migrations
from dpa_service.app import create_app
from dpa_service.clauses.models import TemplateVersion
from dpa_service.cli import main
from dpa_service.config import Settings
from dpa_service.db import make_engine, make_session_factory
from dpa_service.profile.models import ProcessorProfileVersion
from dpa_service.subprocessors.models import SubprocessorListVersion
from tests.conftest import Api

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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
        profiles = s.scalars(select(ProcessorProfileVersion)).all()
    for language in ("en", "lv"):
        builtin = {
            r.template_key: r for r in rows if r.author == "built-in" and r.language == language
        }
        assert set(builtin) == {"master", "security", "confidentiality", "subprocessors"}
        assert all(
            r.version == 1 and r.state == "approved" and len(r.sha256) == 64
            for r in builtin.values()
        )
    assert lists[0].version == 1 and lists[0].state == "approved" and len(lists[0].entries) >= 6
    first = min(profiles, key=lambda p: p.version)
    assert first.version == 1 and first.author == "built-in"
    assert first.profile["identity"]["legal_name"]["value"] == 'SIA "A.U. Holding"'


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrations.upgrade(engine)
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    with make_session_factory(engine)() as s:
        rows = s.scalars(select(TemplateVersion)).all()
        assert sorted((r.language, r.template_key, r.version) for r in rows) == sorted(
            (lang, key, 1)
            for lang in ("en", "lv")
            for key in ("master", "security", "confidentiality", "subprocessors")
        )
        assert len(s.scalars(select(ProcessorProfileVersion)).all()) == 1
        assert len(s.scalars(select(SubprocessorListVersion)).all()) == 1


def test_a_database_made_before_issue_13_gets_the_new_texts_and_keeps_what_was_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database migrated with the earlier built-in set (other English bytes, a list without
    the structured fields) gets the shipped English texts and list as approved next versions,
    the Latvian set as version 1, and the profile as version 1; the earlier versions stay,
    retired, for the agreements that recorded them."""
    old = tmp_path / "old-templates"
    shutil.copytree(TEMPLATES, old, ignore=shutil.ignore_patterns("lv"))
    (old / "master.docx").write_bytes((TEMPLATES / "lv" / "master.docx").read_bytes())
    entries = json.loads((TEMPLATES / "subprocessors.json").read_text())["entries"]
    plain = ("name", "purpose", "location", "in_eea", "transfer_safeguard")
    old_entries = [{k: e[k] for k in plain} for e in entries]
    (old / "subprocessors.json").write_text(json.dumps({"entries": old_entries}))

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    monkeypatch.setenv("DPA_TEMPLATES_DIR", str(old))
    migrations.upgrade(engine, "0011")
    monkeypatch.delenv("DPA_TEMPLATES_DIR")
    migrations.upgrade(engine)

    with make_session_factory(engine)() as s:
        rows = s.scalars(select(TemplateVersion)).all()
        master = {(r.language, r.version): r for r in rows if r.template_key == "master"}
        assert master[("en", 1)].state == "retired"
        assert master[("en", 2)].state == "approved" and master[("en", 2)].author == "built-in"
        assert (
            master[("en", 2)].sha256
            == hashlib.sha256((TEMPLATES / "master.docx").read_bytes()).hexdigest()
        )
        assert master[("lv", 1)].state == "approved"
        # the clauses whose bytes did not change keep version 1
        security = [r for r in rows if r.template_key == "security" and r.language == "en"]
        assert [(r.version, r.state) for r in security] == [(1, "approved")]
        lists = {v.version: v for v in s.scalars(select(SubprocessorListVersion))}
        assert lists[1].state == "retired" and lists[1].entries == old_entries
        assert lists[2].state == "approved" and lists[2].entries == entries
        assert lists[2].based_on == 1
        (profile,) = s.scalars(select(ProcessorProfileVersion)).all()
        assert profile.version == 1 and profile.state == "approved"


def test_a_list_legal_changed_is_not_replaced_by_the_built_in_one_without_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old-templates"
    shutil.copytree(TEMPLATES, old, ignore=shutil.ignore_patterns("lv"))
    entries = json.loads((TEMPLATES / "subprocessors.json").read_text())["entries"]
    (old / "subprocessors.json").write_text(json.dumps({"entries": entries[:3]}))
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    monkeypatch.setenv("DPA_TEMPLATES_DIR", str(old))
    migrations.upgrade(engine, "0011")
    with engine.begin() as conn:  # legal approved a list of their own meanwhile
        conn.execute(
            text(
                "UPDATE subprocessor_list_versions SET author = 'Lee Legal', "
                "author_subject = 'user:1' WHERE version = 1"
            )
        )
    monkeypatch.delenv("DPA_TEMPLATES_DIR")
    migrations.upgrade(engine)
    with make_session_factory(engine)() as s:
        lists = {v.version: v for v in s.scalars(select(SubprocessorListVersion))}
    assert lists[1].state == "approved"
    assert lists[2].state == "in_review" and lists[2].author == "built-in"


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


def test_0016_fills_in_the_search_text_of_the_counterparties_already_there(
    tmp_path: Path,
) -> None:
    """The agreements list searches and sorts by columns kept from the details: a database
    made before them gets them filled in for every existing company."""
    engine = make_engine(f"sqlite:///{tmp_path / 'before-0016.sqlite3'}")
    migrations.upgrade(engine, "0015")
    details = {
        "legal_name": "SIA Ļoti Vecā Firma",
        "registration_number": "40003123456",
        "signatory": {"name": "Ē K", "title": "CEO", "email": "Eriks@Example.LV"},
    }
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO counterparties (id, kind, external_id, details, details_sha256,"
                " created_at, updated_at) VALUES ('c1', 'workspace', 'ws-old', :d, 'x',"
                " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            ),
            {"d": json.dumps(details)},
        )
    migrations.upgrade(engine)
    with engine.connect() as conn:
        name_key, search_text = conn.execute(
            text("SELECT name_key, search_text FROM counterparties WHERE id = 'c1'")
        ).one()
    assert name_key == "sia ļoti vecā firma"
    assert search_text.split("\n") == ["sia ļoti vecā firma", "40003123456", "eriks@example.lv"]
