"""languages, processor profile, effective date: template versions per language with the Latvian
set, the governed processor profile, what each agreement version was made from, and the
built-in texts and subprocessor list of issue 13 for databases made before it

Revision ID: 0013
Revises: 0012

Built-in registrations (author "built-in"), in databases old and new alike:
- the English templates and the subprocessor list shipped now become the next approved version
  where the approved one is still the built-in one (a database made before issue 13); where
  legal approved their own version since, the shipped one waits in review for a legal user
  instead (never approved over their choice without four eyes); where the approved one already
  has the shipped bytes (a database made now, by 0002), nothing is added;
- the Latvian templates (templates/lv) become approved version 1 of language "lv";
- templates/processor_profile.json becomes approved processor profile version 1.
Agreement versions made before keep what they recorded (templates, list version 1, no profile).
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from dpa_service.clauses.builtin import load_subprocessors, load_templates
from dpa_service.config import Settings
from dpa_service.rendering.facts import load_processor_profile

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BUILT_IN = "built-in"

template_versions = sa.table(
    "template_versions",
    sa.column("id", sa.String),
    sa.column("language", sa.String),
    sa.column("template_key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("state", sa.String),
    sa.column("sha256", sa.String),
    sa.column("size", sa.Integer),
    sa.column("content", sa.LargeBinary),
    sa.column("filename", sa.String),
    sa.column("change_note", sa.Text),
    sa.column("author", sa.String),
    sa.column("author_subject", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("reviewer", sa.String),
    sa.column("reviewer_subject", sa.String),
    sa.column("reviewed_at", sa.DateTime(timezone=True)),
    sa.column("approved_by", sa.String),
    sa.column("approved_at", sa.DateTime(timezone=True)),
    sa.column("retired_at", sa.DateTime(timezone=True)),
)
template_events = sa.table(
    "template_events",
    sa.column("version_id", sa.String),
    sa.column("language", sa.String),
    sa.column("template_key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("type", sa.String),
    sa.column("from_state", sa.String),
    sa.column("to_state", sa.String),
    sa.column("actor", sa.String),
    sa.column("actor_subject", sa.String),
    sa.column("actor_role", sa.String),
    sa.column("comment", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
lists = sa.table(
    "subprocessor_list_versions",
    sa.column("id", sa.String),
    sa.column("version", sa.Integer),
    sa.column("state", sa.String),
    sa.column("entries", sa.JSON),
    sa.column("sha256", sa.String),
    sa.column("change_note", sa.Text),
    sa.column("author", sa.String),
    sa.column("author_subject", sa.String),
    sa.column("based_on", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("reviewer", sa.String),
    sa.column("reviewer_subject", sa.String),
    sa.column("reviewed_at", sa.DateTime(timezone=True)),
    sa.column("approved_by", sa.String),
    sa.column("approved_at", sa.DateTime(timezone=True)),
    sa.column("retired_at", sa.DateTime(timezone=True)),
)
profiles = sa.table(
    "processor_profile_versions",
    sa.column("id", sa.String),
    sa.column("version", sa.Integer),
    sa.column("state", sa.String),
    sa.column("profile", sa.JSON),
    sa.column("sha256", sa.String),
    sa.column("change_note", sa.Text),
    sa.column("author", sa.String),
    sa.column("author_subject", sa.String),
    sa.column("based_on", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("reviewer", sa.String),
    sa.column("reviewer_subject", sa.String),
    sa.column("reviewed_at", sa.DateTime(timezone=True)),
    sa.column("approved_by", sa.String),
    sa.column("approved_at", sa.DateTime(timezone=True)),
)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _approved_by_built_in(now: datetime, state: str) -> dict[str, object]:
    """The review columns of a built-in registration: approved by "built-in", or waiting in
    review for a legal user (who is never its author, so four eyes hold)."""
    if state == "approved":
        return {
            "submitted_at": now,
            "reviewer": BUILT_IN,
            "reviewer_subject": BUILT_IN,
            "reviewed_at": now,
            "approved_by": BUILT_IN,
            "approved_at": now,
        }
    return {"submitted_at": now}


EVENTS_FK = "fk_template_events_version_id_template_versions"


def _schema() -> None:
    # SQLite rebuilds a table to change a unique constraint, and cannot drop a table another
    # one references while foreign keys are on: the events' reference is taken off meanwhile.
    with op.batch_alter_table("template_events", schema=None) as batch_op:
        batch_op.drop_constraint(EVENTS_FK, type_="foreignkey")
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), nullable=False, server_default="en")
        )
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("outdated_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("outdated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_template_versions_template_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_template_versions_language", ["language", "template_key", "version"]
        )
    with op.batch_alter_table("template_events", schema=None) as batch_op:
        batch_op.create_foreign_key(EVENTS_FK, "template_versions", ["version_id"], ["id"])

    op.create_table(
        "processor_profile_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_subject", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=True),
        sa.Column("reviewer_subject", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_profile_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_processor_profile_versions_version")),
    )

    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("processor_profile_version_id", sa.String(length=36), nullable=True)
        )
        batch_op.add_column(sa.Column("processor_profile_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("unconfirmed", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(
                "fk_agreement_versions_processor_profile_version_id_processor_profile_versions"
            ),
            "processor_profile_versions",
            ["processor_profile_version_id"],
            ["id"],
        )


def _register_templates(conn: sa.Connection, language: str, shipped: dict[str, bytes]) -> None:
    now = datetime.now(UTC)
    for key, content in shipped.items():
        sha = hashlib.sha256(content).hexdigest()
        rows = conn.execute(
            sa.select(
                template_versions.c.id,
                template_versions.c.version,
                template_versions.c.state,
                template_versions.c.sha256,
                template_versions.c.author_subject,
            )
            .where(
                template_versions.c.language == language, template_versions.c.template_key == key
            )
            .order_by(template_versions.c.version.desc())
        ).all()
        approved = next((r for r in rows if r.state == "approved"), None)
        if approved is not None and approved.sha256 == sha:
            continue  # already the shipped text
        if any(r.sha256 == sha and r.state == "in_review" for r in rows):
            continue
        replaces_built_in = approved is None or approved.author_subject == BUILT_IN
        state = "approved" if replaces_built_in else "in_review"
        number = (rows[0].version if rows else 0) + 1
        note = (
            "Built-in Latvian template set"
            if language != "en"
            else "Built-in text corrected after the legal review (issue 13)"
        )
        version_id = str(uuid.uuid4())
        conn.execute(
            template_versions.insert().values(
                id=version_id,
                language=language,
                template_key=key,
                version=number,
                state=state,
                sha256=sha,
                size=len(content),
                content=content,
                filename=f"{key}.docx",
                change_note=note,
                author=BUILT_IN,
                author_subject=BUILT_IN,
                created_at=now,
                **_approved_by_built_in(now, state),
            )
        )
        conn.execute(
            template_events.insert().values(
                version_id=version_id,
                language=language,
                template_key=key,
                version=number,
                type="registered",
                from_state=None,
                to_state=state,
                actor=BUILT_IN,
                actor_subject=BUILT_IN,
                actor_role="system",
                comment=note,
                created_at=now,
            )
        )
        if state == "approved" and approved is not None:
            conn.execute(
                template_versions.update()
                .where(template_versions.c.id == approved.id)
                .values(state="retired", retired_at=now)
            )
            conn.execute(
                template_events.insert().values(
                    version_id=approved.id,
                    language=language,
                    template_key=key,
                    version=approved.version,
                    type="retired",
                    from_state="approved",
                    to_state="retired",
                    actor=BUILT_IN,
                    actor_subject=BUILT_IN,
                    actor_role="system",
                    comment=f"replaced by v{number}",
                    created_at=now,
                )
            )


def _register_list(conn: sa.Connection, entries: list[dict[str, object]]) -> None:
    now = datetime.now(UTC)
    sha = hashlib.sha256(_canonical(entries).encode()).hexdigest()
    rows = conn.execute(
        sa.select(lists.c.id, lists.c.version, lists.c.state, lists.c.sha256, lists.c.author_subject)
        .order_by(lists.c.version.desc())
    ).all()
    approved = next((r for r in rows if r.state == "approved"), None)
    if approved is None or approved.sha256 == sha:
        return
    replaces_built_in = approved.author_subject == BUILT_IN
    state = "approved" if replaces_built_in else "in_review"
    conn.execute(
        lists.insert().values(
            id=str(uuid.uuid4()),
            version=rows[0].version + 1,
            state=state,
            entries=entries,
            sha256=sha,
            change_note=(
                "Built-in list with each subprocessor's contracting entity, processing locations, "
                "transfer mechanisms in order, supplementary measures, the features it serves and "
                "the Latvian purpose (issue 13); no subprocessor added or removed"
            ),
            author=BUILT_IN,
            author_subject=BUILT_IN,
            based_on=approved.version,
            created_at=now,
            **_approved_by_built_in(now, state),
        )
    )
    if state == "approved":
        conn.execute(
            lists.update().where(lists.c.id == approved.id).values(state="retired", retired_at=now)
        )


def _register_profile(conn: sa.Connection, profile: dict[str, object]) -> None:
    now = datetime.now(UTC)
    profile = {**profile, "version": 1}
    conn.execute(
        profiles.insert().values(
            id=str(uuid.uuid4()),
            version=1,
            state="approved",
            profile=profile,
            sha256=hashlib.sha256(_canonical(profile).encode()).hexdigest(),
            change_note="Built-in processor profile; values marked unconfirmed await legal",
            author=BUILT_IN,
            author_subject=BUILT_IN,
            based_on=None,
            created_at=now,
            **_approved_by_built_in(now, "approved"),
        )
    )


def upgrade() -> None:
    _schema()
    templates_dir = Settings.from_env().templates_dir
    conn = op.get_bind()
    _register_templates(conn, "en", load_templates(templates_dir))
    _register_templates(conn, "lv", load_templates(templates_dir / "lv"))
    _register_list(conn, load_subprocessors(templates_dir))
    _register_profile(conn, load_processor_profile(templates_dir / "processor_profile.json"))


def downgrade() -> None:
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f(
                "fk_agreement_versions_processor_profile_version_id_processor_profile_versions"
            ),
            type_="foreignkey",
        )
        batch_op.drop_column("unconfirmed")
        batch_op.drop_column("effective_on")
        batch_op.drop_column("processor_profile_version")
        batch_op.drop_column("processor_profile_version_id")
    op.drop_table("processor_profile_versions")
    op.execute("DELETE FROM template_events WHERE language <> 'en'")
    op.execute("DELETE FROM template_versions WHERE language <> 'en'")
    with op.batch_alter_table("template_events", schema=None) as batch_op:
        batch_op.drop_constraint(EVENTS_FK, type_="foreignkey")
        batch_op.drop_column("language")
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_template_versions_language", type_="unique")
        batch_op.create_unique_constraint(
            "uq_template_versions_template_key", ["template_key", "version"]
        )
        batch_op.drop_column("outdated_at")
        batch_op.drop_column("outdated_by")
        batch_op.drop_column("language")
    with op.batch_alter_table("template_events", schema=None) as batch_op:
        batch_op.create_foreign_key(EVENTS_FK, "template_versions", ["version_id"], ["id"])
